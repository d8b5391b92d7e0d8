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
    Co2BulletinFigures,
    bulletin_header,
    bulletin_row,
    bulletin_table,
    co2_bulletin_rows,
    co2_edition,
    column_places,
    format_change,
    format_growth,
    format_pct,
    national_row,
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


# --- the national row (全国): one decimal, as NBS publishes it ------------------------------------
# 2020 bulletin, 附注 3: "初步核算，2020年全国万元国内生产总值能耗比上年下降0.1%，能源消费总量增长2.2%。"
# (https://qiongling.com/2021/08/23/24019.html); 2015: "2015年全国万元GDP能耗降低5.6%".


def test_national_row_prints_the_published_one_decimal() -> None:
    figures = {"intensity_change": frac("-0.1"), "energy_total_growth": frac("2.2")}
    assert national_row(EDITION_2020, figures) == ["全 国", "-0.1", "2.2", ""]
    # a figure stored with two decimals (the admin field) prints as published, not "-5.60"
    assert national_row(EDITION_2020, {"intensity_change": frac("-5.60")})[1] == "-5.6"
    assert national_row(EDITION_2020, {}) == ["全 国", "", "", ""]
    with pytest.raises(KeyError, match="energy_total_growth"):
        national_row(EDITION_2008, {"energy_total_growth": D("0.01")})


def test_column_places_of_the_national_row() -> None:
    assert [column_places(c) for c in EDITION_2020.columns] == [2, 1, 2]
    assert [column_places(c, national=True) for c in EDITION_2020.columns] == [1, 1, 1]


def test_bulletin_table_regions_keep_two_decimals() -> None:
    table = bulletin_table(
        EDITION_2020,
        [
            ("北京", {"intensity_change": frac("-9.18"), "energy_total_growth": frac("-8.1")}),
            ("西藏", {}),
        ],
        national={"intensity_change": frac("-0.1"), "energy_total_growth": frac("2.2")},
    )
    assert table == [
        list(bulletin_header(EDITION_2020)),
        ["全 国", "-0.1", "2.2", ""],
        ["北 京", "-9.18", "-8.1", ""],
        ["西 藏", "", "", ""],
    ]
    assert bulletin_table(EDITION_2020, [("北京", {})])[1:] == [["北 京", "", "", ""]]


# --- the CO2 bulletin (platform layout, formatted like the energy bulletin) ----------------------


def test_co2_header_annual_and_cumulative() -> None:
    assert bulletin_header(co2_edition()) == ["地 区", "单位地区生产总值二氧化碳排放上升或下降(±%)"]
    assert bulletin_header(co2_edition(2020)) == [
        "地 区",
        "单位地区生产总值二氧化碳排放上升或下降(±%)",
        "单位地区生产总值二氧化碳排放比2020年累计上升或下降(±%)",
    ]
    assert "platform layout" in co2_edition().source
    assert co2_edition(2020).missing_note_zh == "数据暂缺"


def test_co2_rows_from_fractions() -> None:
    # national: 2021 −3.8 %, 2022 −0.8 % (12_national_co2_intensity.csv), one decimal
    rows = co2_bulletin_rows(
        [
            Co2BulletinFigures("北京", frac("-5.134"), frac("-9.876")),
            Co2BulletinFigures("内蒙古", frac("2.005"), frac("0.3")),
            Co2BulletinFigures("西藏", None, None),
            Co2BulletinFigures("河北", frac("-0.00004"), None),
        ],
        cumulative_base_year=2020,
        national=Co2BulletinFigures("全国", frac("-0.8"), frac("-4.6")),
    )
    assert rows == [
        ["全 国", "-0.8", "-4.6"],
        ["北 京", "-5.13", "-9.88"],
        ["内蒙古", "2.01", "0.30"],  # half up on the magnitude; trailing zero kept
        ["西 藏", "", ""],
        ["河 北", "0.00", ""],  # rounds to zero: no sign
    ]


def test_co2_rows_annual_only() -> None:
    rows = co2_bulletin_rows([Co2BulletinFigures("山西", frac("-3.8"))])
    assert rows == [["山 西", "-3.80"]]
    with pytest.raises(ValueError, match="base year"):
        co2_bulletin_rows([Co2BulletinFigures("山西", frac("-3.8"), frac("-7.0"))])


def test_co2_rows_refuse_floats() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        co2_bulletin_rows([Co2BulletinFigures("山西", -0.038)])  # type: ignore[arg-type]


def test_energy_rows_unchanged_by_the_national_rule() -> None:
    """Regions keep two decimals for ±% (the national precision applies to 全国 only)."""
    row = bulletin_row(EDITION_2020, "甘肃", {"intensity_change": frac("-0.20")})
    assert row == ["甘 肃", "-0.20", "", ""]
