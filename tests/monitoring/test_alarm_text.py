"""Issue 14: an out-of-range alarm raised by the station's flag T no longer reads as if the value
exceeded the range ("超出仪器量程 (最大 48.74, 上限 400)")."""

from __future__ import annotations

from types import SimpleNamespace

from dualcontrol.monitoring.models import AlarmKind
from dualcontrol.monitoring.views import alarm_text


def _alarm(peak: float | None, limit: float | None) -> SimpleNamespace:
    return SimpleNamespace(
        kind=AlarmKind.OUT_OF_RANGE, code="a21026", peak_value=peak, limit_value=limit, unit=""
    )


def test_a_value_beyond_the_range_says_so():
    text = alarm_text(_alarm(512.3, 400))
    assert "超出仪器量程" in text and "512.3" in text and "400" in text


def test_a_flagged_value_inside_the_range_says_it_was_the_flag():
    text = alarm_text(_alarm(48.74, 400))
    assert "标记为超测上限" in text and "未超过量程" in text
    assert "超出仪器量程" not in text
