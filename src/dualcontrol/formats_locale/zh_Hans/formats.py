"""简体中文 input formats: ISO dates first.

Django's zh_Hans formats put ``%Y/%m/%d`` first, and a form widget renders a date in the first
input format.  ``<input type="date">`` accepts only ISO ``2026-11-29``: it showed ``2026/11/29``
as empty, so saving a form without touching it wiped the date.  ISO first fixes every date
widget at once; the other Chinese spellings are still accepted when typed.  Display formats
(``DATE_FORMAT`` …) stay Django's (``2026年11月29日``).
"""

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-11-29' (what <input type="date"> sends and shows)
    "%Y/%m/%d",  # '2026/11/29'
    "%Y年%m月%d日",  # '2026年11月29日'
]

DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # '2026-11-29 20:45:29'
    "%Y-%m-%dT%H:%M",  # '2026-11-29T20:45' (<input type="datetime-local">)
    "%Y-%m-%dT%H:%M:%S",  # '2026-11-29T20:45:29'
    "%Y-%m-%d %H:%M",  # '2026-11-29 20:45'
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
]
