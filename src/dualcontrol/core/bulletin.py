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

The national row (全国) prints the national figures as NBS publishes them: **one decimal**
(:data:`NATIONAL_PLACES`).  The 2020 bulletin has no 全国 line in its table; it gives the national
figure in 附注 3, "初步核算，2020年全国万元国内生产总值能耗比上年下降0.1%，能源消费总量增长2.2%" (and
for 2015 "全国万元GDP能耗降低5.6%"), so a national row printed "-0.10" would claim a precision the
source does not have — it prints "-0.1" (:func:`column_places`, :func:`national_row`).

The CO2 bulletin (:func:`co2_edition`, :func:`co2_bulletin_rows`) is a **platform layout**: no
official per-province table of 单位地区生产总值二氧化碳排放 changes was found, so it follows the energy
bulletin — same region labels, ±% with two decimals, blanks for missing data, the national row
with one decimal (national CO2-intensity changes are published with one decimal: "下降3.8%",
shared/reference/12_national_co2_intensity.csv).

Inputs are fractions (core convention: -0.0918 = -9.18 %).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dualcontrol.core.numbers import round_half_up  # the platform's one rounding (issue 14)

HUNDRED = Decimal(100)
NATIONAL_LABEL = "全 国"
NATIONAL_PLACES = 1  # NBS publishes national changes and growth with one decimal (see above)


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


def column_places(column: BulletinColumn, *, national: bool = False) -> int:
    """Decimals a column prints with: its own, or for the national row (全国) at most
    :data:`NATIONAL_PLACES` — the national figure as NBS publishes it ("-0.1", not "-0.10")."""
    return min(column.places, NATIONAL_PLACES) if national else column.places


def national_row(edition: BulletinEdition, figures_frac: Mapping[str, Decimal | None]) -> list[str]:
    """The 全国 row: "全 国", then each column at the national precision (blank when missing)."""
    unknown = set(figures_frac) - {c.key for c in edition.columns}
    if unknown:
        raise KeyError(f"edition {edition.key} has no column {', '.join(sorted(unknown))}")
    return [NATIONAL_LABEL] + [
        format_pct(figures_frac.get(c.key), column_places(c, national=True))
        for c in edition.columns
    ]


def bulletin_table(
    edition: BulletinEdition,
    regions: Sequence[tuple[str, Mapping[str, Decimal | None]]],
    *,
    national: Mapping[str, Decimal | None] | None = None,
) -> list[list[str]]:
    """The printed table: header, the 全国 row when ``national`` is given, then one row per
    (region name, figures) in the order given."""
    rows = [list(bulletin_header(edition))]
    if national is not None:
        rows.append(national_row(edition, national))
    rows += [bulletin_row(edition, name, figures) for name, figures in regions]
    return rows


# ---------------------------------------------------------------------------------------------
# CO2 bulletin (platform layout)
# ---------------------------------------------------------------------------------------------

CO2_CHANGE = "co2_intensity_change"
CO2_CUMULATIVE_CHANGE = "co2_intensity_cumulative_change"
CO2_CHANGE_HEADER = "单位地区生产总值二氧化碳排放上升或下降(±%)"


def co2_edition(cumulative_base_year: int | None = None) -> BulletinEdition:
    """The CO2 bulletin layout: 单位地区生产总值二氧化碳排放上升或下降(±%) on the year before, and
    with ``cumulative_base_year`` a second column, the cumulative change since that year
    (单位地区生产总值二氧化碳排放比2020年累计上升或下降(±%)).  Both two decimals, like the energy
    bulletin's ±% columns.  Platform layout — no official table was found."""
    columns = [BulletinColumn(CO2_CHANGE, CO2_CHANGE_HEADER, 2)]
    if cumulative_base_year is not None:
        columns.append(
            BulletinColumn(
                CO2_CUMULATIVE_CHANGE,
                f"单位地区生产总值二氧化碳排放比{cumulative_base_year}年累计上升或下降(±%)",
                2,
            )
        )
    return BulletinEdition(
        key="co2" if cumulative_base_year is None else f"co2-since-{cumulative_base_year}",
        title_zh="分地区单位地区生产总值二氧化碳排放降低率公报（平台版式）",
        source=(
            "platform layout: no official per-region CO2-intensity bulletin table was found; "
            "columns and printing rules follow the 2020 energy bulletin (NBS/NDRC/NEA "
            "2021-08-23, https://qiongling.com/2021/08/23/24019.html, formats.md §6.2)"
        ),
        columns=tuple(columns),
        missing_note_zh="数据暂缺",
    )


@dataclass(frozen=True)
class Co2BulletinFigures:
    """One region's CO2-intensity changes as fractions (a fall is negative: −0.038 = −3.80 %;
    a reduction rate r prints as the change −r).  ``None`` = data missing (blank cell)."""

    region: str
    change_frac: Decimal | None
    cumulative_change_frac: Decimal | None = None


def co2_bulletin_rows(
    figures: Sequence[Co2BulletinFigures],
    *,
    cumulative_base_year: int | None = None,
    national: Co2BulletinFigures | None = None,
) -> list[list[str]]:
    """The printed rows of the CO2 bulletin (header not included: ``bulletin_header(
    co2_edition(cumulative_base_year))``): the 全国 row first when ``national`` is given (one
    decimal), then each region in the order given.  A cumulative figure needs
    ``cumulative_base_year`` (the column's header names it)."""
    edition = co2_edition(cumulative_base_year)

    def values(f: Co2BulletinFigures) -> dict[str, Decimal | None]:
        if cumulative_base_year is None:
            if f.cumulative_change_frac is not None:
                raise ValueError(f"{f.region}: a cumulative change needs the cumulative base year")
            return {CO2_CHANGE: f.change_frac}
        return {CO2_CHANGE: f.change_frac, CO2_CUMULATIVE_CHANGE: f.cumulative_change_frac}

    rows = [] if national is None else [national_row(edition, values(national))]
    return rows + [bulletin_row(edition, f.region, values(f)) for f in figures]
