"""Issue 14: a warning's band is shown in words, not as code ("0.1 < gap_frac_of_required")."""

from __future__ import annotations

from dualcontrol.targets.templatetags.targets_extras import band_label


def test_the_band_reads_as_words_and_percentages():
    assert band_label("0 < gap_frac_of_required <= 1/10") == "0% < 差距/目标值 ≤ 10%"
    assert band_label("1/10 < gap_frac_of_required") == "10% < 差距/目标值"
    assert band_label("0.95 <= completion_frac") == "95% ≤ 完成进度"
    assert band_label("0 < gap_pp <= 0.5") == "0 < 差距（百分点） ≤ 0.5"
    assert "gap" not in band_label("0 < gap <= 2")


def test_an_unknown_text_is_left_as_it_is():
    assert band_label("") == ""
    assert band_label("自定义区间") == "自定义区间"
