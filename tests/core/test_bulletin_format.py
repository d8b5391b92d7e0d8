"""Bulletin (公报) figures print exactly as the official tables.

Source: shared/reference/formats.md §6.2 ("two decimals for ±%, one decimal for growth in 2020") and
《2020年分省（区、市）万元地区生产总值能耗降低率等指标公报》 (NBS/NDRC/NEA 2021-08-23), reprinted at
https://qiongling.com/2021/08/23/24019.html — rows quoted below as printed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest

from dualcontrol.core.bulletin import (
    EDITION_2008,
    EDITION_2020,
    bulletin_header,
    bulletin_row,
    format_change,
    format_growth,
    format_pct,
    region_label,
)


def frac(pct: str) -> D:
    return D(pct).scaleb(-2)


@pytest.mark.parametrize(
    ("region", "intensity", "growth", "electricity", "printed"),
    [
        ("北京", "-9.18", "-8.1", "-3.39", ["北 京", "-9.18", "-8.1", "-3.39"]),
        ("河北", "-3.01", "0.7", "-1.77", ["河 北", "-3.01", "0.7", "-1.77"]),
        ("山西", "-2.88", "0.6", "-0.03", ["山 西", "-2.88", "0.6", "-0.03"]),
        ("内蒙古", "6.89", "7.1", "6.61", ["内蒙古", "6.89", "7.1", "6.61"]),
        ("黑龙江", "-1.70", "-0.8", "0.92", ["黑龙江", "-1.70", "-0.8", "0.92"]),
        ("浙江", "6.34", "10.1", "-0.90", ["浙 江", "6.34", "10.1", "-0.90"]),
        ("甘肃", "-0.20", "3.7", "2.81", ["甘 肃", "-0.20", "3.7", "2.81"]),
    ],
)
def test_2020_rows_as_printed(
    region: str, intensity: str, growth: str, electricity: str, printed: list[str]
) -> None:
    figures = {
        "intensity_change": frac(intensity),
        "energy_total_growth": frac(growth),
        "electricity_intensity_change": frac(electricity),
    }
    assert bulletin_row(EDITION_2020, region, figures) == printed


def test_2020_missing_region_prints_blank_cells() -> None:
    # "4.西藏自治区数据暂缺。" — the 西 藏 row has no figures.
    assert bulletin_row(EDITION_2020, "西藏", {}) == ["西 藏", "", "", ""]
    assert EDITION_2020.missing_note_zh == "数据暂缺"


def test_2020_header() -> None:
    assert bulletin_header(EDITION_2020) == [
        "地 区",
        "万元地区生产总值能耗上升或下降(±%)",
        "能源消费总量增速(%)",
        "万元地区生产总值电耗上升或下降(±%)",
    ]


def test_change_keeps_two_decimals_and_the_minus_sign() -> None:
    assert format_change(D("-0.038")) == "-3.80"
    assert format_change(D("0.0076")) == "0.76"
    assert format_change(D("0.02")) == "2.00"
    assert format_change(None) == ""


def test_growth_has_one_decimal_in_2020() -> None:
    assert format_growth(D("0.022")) == "2.2"
    assert format_growth(D("-0.061")) == "-6.1"
    assert format_growth(D("0.1")) == "10.0"


def test_rounding_is_half_up_on_the_magnitude() -> None:
    assert format_change(D("-0.03805")) == "-3.81"
    assert format_change(D("0.03805")) == "3.81"
    assert format_change(D("0.0380499")) == "3.80"
    assert format_growth(D("0.0125")) == "1.3"  # half-even (GB/T 8170) would give 1.2
    assert format_pct(D("0.0125"), 1, rounding=ROUND_HALF_EVEN) == "1.2"


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    assert format_change(D("-0.00004")) == "0.00"
    assert format_growth(D("-0.0004")) == "0.0"


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        format_change(0.0125)  # type: ignore[arg-type]


def test_region_labels() -> None:
    assert [region_label(n) for n in ("北京", "内蒙古", "黑龙江", " 上海 ")] == [
        "北 京",
        "内蒙古",
        "黑龙江",
        "上 海",
    ]


def test_2008_edition_changes_with_two_decimals() -> None:
    # 2008: "单位GDP能耗下降最多的前三位是山西、北京和天津，分别下降了7.39%、7.36%和6.85%"
    # (人民日报 2009-07-02, http://www.eedu.org.cn/news/Print.asp?ArticleID=37175).
    row = bulletin_row(EDITION_2008, "山西", {"intensity_change": D("-0.0739")})
    assert row == ["山 西", "-7.39", "", ""]
    with pytest.raises(KeyError, match="energy_total_growth"):
        bulletin_row(EDITION_2008, "山西", {"energy_total_growth": D("0.01")})
