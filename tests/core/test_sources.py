"""What officers see as a source (issue 14): official titles, document numbers and the quotation;
never a research path, a document-sharing address, an English working note or "NOT FOUND"."""

from __future__ import annotations

import pytest

from dualcontrol.core.sources import PLATFORM_RULE, KnownDocument, cite, official_hosts_only

DOCS = (
    KnownDocument(
        "shared/plans/qinghai_plan.txt", "青海省“十三五”节能减排综合工作方案", "青政〔2017〕53号"
    ),
    KnownDocument("04_assessment_scoring.md", "单位GDP能耗考核体系实施方案", "国发〔2007〕36号"),
)


def test_a_research_path_becomes_the_official_title_and_number():
    c = cite('shared/plans/qinghai_plan.txt (四十三): "实行高耗能项目缓批限批"', DOCS)
    assert (
        c.text()
        == "《青海省“十三五”节能减排综合工作方案》（青政〔2017〕53号）：“实行高耗能项目缓批限批”"
    )


def test_a_path_folded_over_two_lines_is_still_recognised():
    assert cite("shared/plans/qinghai_ plan.txt (四十三)", DOCS).documents == (
        "《青海省“十三五”节能减排综合工作方案》（青政〔2017〕53号）",
    )


def test_a_title_keeps_the_number_printed_beside_it():
    before = cite(
        "国办发〔2024〕39号《加快构建碳排放双控制度体系工作方案》(reprint http://x.cn/?p=1)", ()
    )
    assert before.text() == "《加快构建碳排放双控制度体系工作方案》（国办发〔2024〕39号）"
    after = cite("《碳排放权交易管理办法（试行）》（生态环境部令第19号）第八条", ())
    assert after.text() == "《碳排放权交易管理办法（试行）》（生态环境部令第19号）"


def test_numbers_and_standards_without_a_title():
    c = cite(
        "S10 发改能源〔2023〕1044号；S11 发改环资 〔2024〕 113号; GB/T 2589-2020 appendix A", ()
    )
    assert c.documents == ("发改能源〔2023〕1044号", "发改环资〔2024〕113号", "GB/T 2589-2020")
    assert not c.platform_rule


@pytest.mark.parametrize(
    "text",
    [
        "platform rule (no official definition found)",
        "NOT FOUND",
        "S4 (DataTime 按站点发送的本地时间保存)",
        "http://max.book118.com/html/2019/x.shtm",
        "",
        None,
    ],
)
def test_nothing_official_reads_as_a_platform_rule(text):
    assert cite(text, DOCS).text() == PLATFORM_RULE


def test_a_partly_official_source_says_so():
    c = cite(
        '发改产业〔2021〕1609号 "改造升级和淘汰时限（一般不超过3年）" (platform rule: the upper bound)',
        (),
    )
    assert c.text() == (
        "发改产业〔2021〕1609号：“改造升级和淘汰时限（一般不超过3年）”（部分取值为平台规则，未找到官方来源）"
    )


def test_an_english_working_note_in_quotes_is_not_a_quotation():
    c = cite('04_assessment_scoring.md (Guangdong): "base target + incentive target; 基准"', DOCS)
    assert c.quote == ""
    assert c.documents == ("《单位GDP能耗考核体系实施方案》（国发〔2007〕36号）",)


def test_a_quotation_with_inner_quotes_is_kept_whole():
    c = cite('[31] (2008): "对没有完成任务的省， 实行“区域限批”政策，暂停环评审批"; other', ())
    assert c.quote == "对没有完成任务的省，实行“区域限批”政策，暂停环评审批"  # folded line joined


def test_only_official_hosts_are_kept():
    text = "see http://www.gov.cn/zhengce/a.htm and https://max.book118.com/x and http://sthjj.baoji.gov.cn/y"
    assert official_hosts_only(text, [".gov.cn"]) == [
        "http://www.gov.cn/zhengce/a.htm",
        "http://sthjj.baoji.gov.cn/y",
    ]


def test_a_provenance_text_is_kept_whole_without_paths_and_unofficial_addresses():
    from dualcontrol.core.sources import scrub

    text = (
        "0.5568 tCO2/MWh: 《关于发布2021年电力二氧化碳排放因子的公告》 (2024-04-12), as reported "
        "https://daydaynews.cc/x.html and http://www.mee.gov.cn/a.html; official method NOT FOUND "
        "(shared/reference/13_regional_co2_accounting.md §2); 04_assessment_scoring.md P5"
    )
    out = scrub(text, DOCS, [".gov.cn"])
    assert "0.5568 tCO2/MWh: 《关于发布2021年电力二氧化碳排放因子的公告》 (2024-04-12)" in out
    assert "http://www.mee.gov.cn/a.html" in out
    assert "daydaynews" not in out and "shared/" not in out and ".md" not in out
    assert "未找到官方来源" in out and "NOT FOUND" not in out
    assert "《单位GDP能耗考核体系实施方案》（国发〔2007〕36号）" in out
