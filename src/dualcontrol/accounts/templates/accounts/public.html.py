BBBBBBB BBBBBBBBBBBBBBB BBBB
BBBBB BBBBBBB
XXXXXXXXX
XXXX XXXXXXXXXXXXX
  XXX gettext(u'本平台用于落实节能减排和低碳发展目标责任制：目标分解、数据填报、能耗与碳排放核算、进度预警、年度考核和结果公告。') XXXX
  XX XXXXXXXXXXXXXX gettext(u'公众可查看已公开发布的考核结果和公报；单位填报数据不对公众开放。') XXXX
XXXXXX
BBBBBBBB
