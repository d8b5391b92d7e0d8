"""Figures of the annual bulletin (公报) printed exactly as the official tables print them.

Source: shared/reference/formats.md §6.2 and the 2020 bulletin as reprinted
(《2020年分省（区、市）万元地区生产总值能耗降低率等指标公报》, NBS / NDRC / NEA, 2021-08-23,
https://qiongling.com/2021/08/23/24019.html):

    地 区 | 万元地区生产总值能耗上升或下降(±%) | 能源消费总量增速(%) | 万元地区生产总值电耗上升或下降(±%)
    北 京 | -9.18 | -8.1 | -3.39
    内蒙古 | 6.89 | 7.1 | 6.61
    西 藏 | (blank: 数据暂缺)

So: changes (上升或下降, ±%) with two decimals, growth (增速, %) with one decimal (2020 edition);
a decrease carries an ASCII minus ("-3.80"), an increase no sign ("6.89"); trailing zeros are kept;
missing data is a blank cell.  Two-character region names are printed with a space between the
characters ("北 京"), three-character names as they are ("内蒙古").

Rounding is half up on the magnitude (四舍五入: -3.805 → "-3.81"), as the brief for these
figures asks; pass ``rounding=decimal.ROUND_HALF_EVEN`` for GB/T 8170 修约.  A value that rounds to
zero prints without a sign ("0.00") — our choice; no printed zero was seen.

Inputs are fractions (core convention: -0.0918 = -9.18 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def round_half_up(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to ``places`` decimals, ties away from zero (四舍五入) by default."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def format_pct(value_frac: Decimal | None, places: int, *, rounding: str = ROUND_HALF_UP) -> str:
    """A fraction printed as a bulletin percentage: -0.038 → "-3.80" (places=2); None → ""."""
    if value_frac is None:
        return ""
    if not isinstance(value_frac, Decimal | int) or isinstance(value_frac, bool):
        raise TypeError(f"bulletin figures must be Decimal, not {type(value_frac).__name__}")
    value = round_half_up(Decimal(value_frac) * HUNDRED, places, rounding)
    if value.is_zero():
        value = abs(value)  # "-0.00" → "0.00"
    return f"{value:.{places}f}"


def format_change(change_frac: Decimal | None) -> str:
    """上升或下降(±%): two decimals, e.g. -0.0918 → "-9.18", 0.0076 → "0.76"."""
    return format_pct(change_frac, 2)


def format_growth(growth_frac: Decimal | None) -> str:
    """能源消费总量增速(%), 2020 edition: one decimal, e.g. 0.007 → "0.7", -0.081 → "-8.1"."""
    return format_pct(growth_frac, 1)


def region_label(name: str) -> str:
    """地区 column: "北京" → "北 京"; names of three or more characters unchanged."""
    name = name.strip()
    return f"{name[0]} {name[1]}" if len(name) == 2 else name


@dataclass(frozen=True)
class BulletinColumn:
    """One figure column of a bulletin edition: its printed header and decimals."""

    key: str
    header_zh: str
    places: int


@dataclass(frozen=True)
class BulletinEdition:
    key: str
    title_zh: str
    source: str
    columns: tuple[BulletinColumn, ...]
    missing_note_zh: str = ""


EDITION_2020 = BulletinEdition(
    key="2020",
    title_zh="分省（区、市）万元地区生产总值能耗降低率等指标公报",
    source="NBS/NDRC/NEA 2021-08-23, https://qiongling.com/2021/08/23/24019.html (formats.md §6.2)",
    columns=(
        BulletinColumn("intensity_change", "万元地区生产总值能耗上升或下降(±%)", 2),
        BulletinColumn("energy_total_growth", "能源消费总量增速(%)", 1),
        BulletinColumn("electricity_intensity_change", "万元地区生产总值电耗上升或下降(±%)", 2),
    ),
    missing_note_zh="数据暂缺",
)

# 2008 edition: each indicator has 指标值 and 上升或下降(±%); only the ±% columns' decimals are
# confirmed (formats.md §6.2: "two decimals for ±%"), so the 指标值 columns are not listed here.
EDITION_2008 = BulletinEdition(
    key="2008",
    title_zh="各省、自治区、直辖市单位GDP能耗等指标公报",
    source=(
        "NBS/NDRC/NEA 2009-06-30, "
        "https://dizaynex.com/oANvqsStPD/economics/2009-07/01/content_18045595.htm (formats.md §6.2)"
    ),
    columns=(
        BulletinColumn("intensity_change", "单位GDP能耗上升或下降(±%)", 2),
        BulletinColumn("industrial_intensity_change", "单位工业增加值能耗上升或下降(±%)", 2),
        BulletinColumn("electricity_intensity_change", "单位GDP电耗上升或下降(±%)", 2),
    ),
)

EDITIONS: Mapping[str, BulletinEdition] = {e.key: e for e in (EDITION_2008, EDITION_2020)}


def bulletin_row(
    edition: BulletinEdition, region: str, figures_frac: Mapping[str, Decimal | None]
) -> list[str]:
    """One printed row: the region label, then each column of the edition (blank when missing)."""
    unknown = set(figures_frac) - {c.key for c in edition.columns}
    if unknown:
        raise KeyError(f"edition {edition.key} has no column {', '.join(sorted(unknown))}")
    return [region_label(region)] + [
        format_pct(figures_frac.get(c.key), c.places) for c in edition.columns
    ]


def bulletin_header(edition: BulletinEdition) -> Sequence[str]:
    return ["地 区", *(c.header_zh for c in edition.columns)]
