"""The annual bulletin (公报) of a province: figures from the accounted statistics, official layout.

Layout (shared/reference/formats.md §6.2, 2020 edition; printing rules in
:mod:`dualcontrol.core.bulletin`): rows 全国, the province, its prefectures (code order);
columns 万元地区生产总值能耗上升或下降(±%), 能源消费总量增速(%), 万元地区生产总值电耗上升或下降(±%);
附注 on the indicators, the method and the price base.  A figure the platform does not have is
printed blank and a footnote names what is missing ("数据暂缺") — never estimated.

Figures (fractions, computed by :func:`dualcontrol.core.regional.regional_indicators` from the
statistics bureau's annual rows, :class:`~dualcontrol.targets.models.RegionalStatistic`):

- intensity change = intensity[t] / intensity[t−1] − 1, GDP at comparable prices;
- energy growth = energy[t] / energy[t−1] − 1;
- electricity intensity change = (electricity[t] / GDP_c[t]) / (electricity[t−1] / GDP_c[t−1]) − 1
  with the same comparable GDP (electricity from :class:`RegionalElectricity`).

Floats from the engine are rounded to 12 decimals before the Decimal printing rules apply, so
binary noise never decides a 四舍五入 tie.

**CO2 table** (``content["co2"]``, only when a region has ``co2_t`` in its statistics for the
year — without CO2 data the content is exactly the energy bulletin): beside the energy table,
单位地区生产总值二氧化碳排放上升或下降(±%) and its cumulative change since the price base year of
the plan period, for the same rows (全国, the province, its prefectures), printed by
:func:`dualcontrol.core.bulletin.co2_bulletin_rows` (two decimals; 全国 one decimal, from
:class:`NationalFigure`).  A platform layout: no official per-region CO2 table was found.  CO2
intensity = co2_t / GDP at the comparable prices of the plan period's base year, rates from the
intensities rounded to 4 decimals — the figures the carbon assessment uses
(:mod:`dualcontrol.assessment.sources`), so the published and the assessed rates agree.  Both
columns need the region's annual rows from the base year on (the comparable-price chain); a
figure that cannot be computed is blank and a footnote says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from dualcontrol.core.bulletin import (
    EDITION_2020,
    BulletinEdition,
    Co2BulletinFigures,
    co2_bulletin_rows,
    co2_edition,
    column_places,
    format_pct,
    region_label,
)
from dualcontrol.core.regional import RegionalDataError, regional_indicators
from dualcontrol.publishing.models import NationalFigure, RegionalElectricity
from dualcontrol.reference.accounting import regional_rules
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import RegionalStatistic

ENGINE = "dualcontrol.core.regional.regional_indicators"


class BulletinError(ValueError):
    """The bulletin cannot be produced (no province, no statistics for the year)."""


def price_base_year(year: int) -> int:
    """The comparable-price base of a five-year plan period: 2011–2015 → 2010, 2016–2020 → 2015 …"""
    return (year - 1 - 2010) // 5 * 5 + 2010


def _dec(x: Any) -> Decimal | None:
    if x is None or pd.isna(x):
        return None
    return Decimal(repr(round(float(x), 12)))


def default_province() -> Division:
    province = (
        Division.objects.filter(parent__isnull=True, level="province").order_by("code").first()
    )
    if province is None:
        raise BulletinError("没有省级区划")
    return province


def available_years(province: Division | None = None) -> list[int]:
    """Years whose annual statistics (and the year before) exist for the province's regions."""
    province = province or default_province()
    years = set(
        RegionalStatistic.objects.filter(
            division__path__startswith=province.path,
            division__level__in=("province", "prefecture"),
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        ).values_list("year", flat=True)
    )
    return sorted((y for y in years if y - 1 in years), reverse=True)


def compute(
    year: int,
    *,
    province: Division | None = None,
    edition: BulletinEdition = EDITION_2020,
    issuers: str = "",
) -> dict[str, Any]:
    """The bulletin's content (header, rows with printed cells, footnotes, provenance)."""
    if edition.key != "2020":
        raise BulletinError("only the 2020 edition's columns are produced")
    province = province or default_province()
    regions = [province, *Division.objects.filter(parent=province).order_by("code")]
    stats = {
        (s.division_id, s.year): s
        for s in RegionalStatistic.objects.filter(
            division__in=regions,
            year__in=(year - 1, year),
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,  # the whole region's rows, not its sector rows
        )
    }
    if not any(y == year for (_, y) in stats):
        raise BulletinError(f"{year} 年没有地区统计数据")
    electricity = {
        (e.division_id, e.year): e
        for e in RegionalElectricity.objects.filter(division__in=regions, year__in=(year - 1, year))
    }
    base = price_base_year(year)
    complete = [
        d
        for d in regions
        if (d.pk, year - 1) in stats
        and (d.pk, year) in stats
        and stats[(d.pk, year)].gdp_real_growth_pct is not None
    ]
    figures: dict[int, dict[str, Decimal | None]] = {d.pk: {} for d in regions}
    provenance: dict[str, Any] = {}
    synthetic = False
    if complete:
        frame = pd.DataFrame(
            [
                {
                    "region": d.code,
                    "year": y,
                    "energy_tce": float(stats[(d.pk, y)].energy_tce),
                    "gdp_10k_yuan": float(stats[(d.pk, y)].gdp_10k_yuan),
                    "gdp_real_growth_frac": None
                    if y == year - 1
                    else float(stats[(d.pk, y)].gdp_real_growth_pct) / 100,  # type: ignore[arg-type]
                }
                for d in complete
                for y in (year - 1, year)
            ]
        )
        try:
            result = regional_indicators(frame, base_year=year - 1, rules=regional_rules())
        except RegionalDataError as exc:
            raise BulletinError(str(exc)) from exc
        out = result.frame.set_index(["region", "year"])
        for d in complete:
            now, before = out.loc[(d.code, year)], out.loc[(d.code, year - 1)]
            figures[d.pk]["intensity_change"] = _dec(now["intensity_change_frac"])
            figures[d.pk]["energy_total_growth"] = _dec(now["energy_growth_frac"])
            e_now, e_before = electricity.get((d.pk, year)), electricity.get((d.pk, year - 1))
            if e_now and e_before and e_before.electricity_10k_kwh > 0:
                ratio = (float(e_now.electricity_10k_kwh) / now["gdp_comparable_10k_yuan"]) / (
                    float(e_before.electricity_10k_kwh) / before["gdp_comparable_10k_yuan"]
                )
                figures[d.pk]["electricity_intensity_change"] = _dec(ratio - 1)
                synthetic = synthetic or e_now.is_synthetic or e_before.is_synthetic
            rows = [stats[(d.pk, y)] for y in (year - 1, year)]
            synthetic = synthetic or any(r.is_synthetic for r in rows)
            provenance[d.code] = {
                "statistics": [
                    {
                        "year": r.year,
                        "energy_tce": str(r.energy_tce),
                        "gdp_10k_yuan": str(r.gdp_10k_yuan),
                        "gdp_real_growth_pct": None
                        if r.gdp_real_growth_pct is None
                        else str(r.gdp_real_growth_pct),
                        "source": r.source,
                    }
                    for r in rows
                ],
                "electricity_10k_kwh": {
                    str(e.year): str(e.electricity_10k_kwh)
                    for e in (e_before, e_now)
                    if e is not None
                },
            }
        provenance["formulas"] = {
            "intensity_change": result.provenance["intensity_change_frac"].formula,
            "energy_total_growth": result.provenance["energy_growth_frac"].formula,
            "electricity_intensity_change": "(electricity[t] / gdp_comparable[t]) / "
            "(electricity[t−1] / gdp_comparable[t−1]) − 1",
        }
        provenance["engine"] = ENGINE
    national = NationalFigure.objects.filter(year=year).first()
    nat_values: dict[str, Decimal | None] = {}
    if national is not None:
        for key, value in (
            ("intensity_change", national.intensity_change_pct),
            ("energy_total_growth", national.energy_growth_pct),
            ("electricity_intensity_change", national.electricity_intensity_change_pct),
        ):
            nat_values[key] = None if value is None else value / 100

    def row(
        label: str, name: str, code: str, level: str, values: Mapping[str, Decimal | None]
    ) -> dict[str, Any]:
        national = level == "national"  # 全国 prints as NBS publishes it: one decimal
        printed = [
            format_pct(values.get(c.key), column_places(c, national=national))
            for c in edition.columns
        ]
        return {
            "label": label,
            "name": name,
            "code": code,
            "level": level,
            "cells": [label, *printed],
            "values_pct": [
                None if values.get(c.key) is None else cell
                for c, cell in zip(edition.columns, printed, strict=True)
            ],
        }

    rows = [row("全 国", "全国", "", "national", nat_values)]
    for d in regions:
        rows.append(row(region_label(d.name), d.name, d.code, d.level, figures[d.pk]))

    footnotes = _footnotes(year, base, edition, rows, regions, national, synthetic)
    title = f"{province.name}{year}年各州（市）万元地区生产总值能耗降低率等指标公报"
    co2 = co2_table(year, province=province, regions=regions, national=national)
    content = {
        "edition": edition.key,
        "edition_source": edition.source,
        "year": year,
        "province": province.name,
        "province_code": province.code,
        "title": title,
        "issuers": issuers,
        "header": ["地 区", *(c.header_zh for c in edition.columns)],
        "columns": [
            {"key": c.key, "header": c.header_zh, "places": c.places} for c in edition.columns
        ],
        "rows": rows,
        "footnotes": footnotes,
        "price_base_year": base,
        "synthetic": synthetic,
        "provenance": provenance,
    }
    if co2 is not None:  # added only with CO2 data: the energy bulletin is unchanged without
        content["co2"] = co2
        content["synthetic"] = synthetic or bool(co2["synthetic"])
    pollutants = pollutant_table(year, province=province, regions=regions)
    if pollutants is not None:  # likewise only with pollutant data
        content["pollutants"] = pollutants
        content["synthetic"] = bool(content["synthetic"]) or bool(pollutants["synthetic"])
    return content


#: the pollutants of the pollutant table: (statistics column, name, cap indicator)
POLLUTANTS = (
    ("cod_t", "化学需氧量", "cod_total"),
    ("nh3n_t", "氨氮", "nh3n_total"),
    ("so2_t", "二氧化硫", "so2_total"),
    ("nox_t", "氮氧化物", "nox_total"),
    ("vocs_t", "挥发性有机物", "vocs_total"),
)
AMOUNT_PLACES = 0
PCT_PLACES = 2


def _cap_for(division: Division, indicator: str, year: int) -> Any:
    """The region's cap of ``indicator`` in force for ``year`` (annual, else five-year; issued or
    not, the latest), with the value it sets for the year: (target, cap t, basis)."""
    from dualcontrol.targets.models import PeriodKind, Target

    qs = Target.objects.filter(division=division, indicator=indicator, industry__isnull=True)
    annual = qs.filter(period_kind=PeriodKind.YEAR, end_year=year).order_by("-id").first()
    if annual is not None:
        return annual, Decimal(annual.base_value), "annual"
    five = (
        qs.filter(period_kind=PeriodKind.FIVE_YEAR, base_year__lt=year, end_year__gte=year)
        .order_by("-end_year", "-id")
        .first()
    )
    if five is None:
        return None
    return five, Decimal(five.base_value), "period_end"


def pollutant_table(
    year: int, *, province: Division, regions: list[Division]
) -> dict[str, Any] | None:
    """主要污染物排放 table of the bulletin (platform layout), or None when no region has any
    pollutant emissions for ``year`` in its annual statistics.

    Columns, for each pollutant some region has for the year (the order of ``POLLUTANTS``):
    排放量(吨) and 排放量上升或下降(±%) (vs the previous year's annual row); for a pollutant that
    has a cap (…_total target) covering the year for some region, 排放总量控制目标使用(%) = the
    year's emissions ÷ the cap (the cap of an annual target, else the five-year target's cap for
    its end year).  Missing figures are blank and a footnote says why."""
    stats = {
        (s.division_id, s.year): s
        for s in RegionalStatistic.objects.filter(
            division__in=regions,
            year__in=(year - 1, year),
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        )
    }

    def value(d: Division, y: int, column: str) -> Decimal | None:
        row = stats.get((d.pk, y))
        if row is None or row.value(column) is None:
            return None
        return Decimal(str((row.factors or {})[column]))

    present = [p for p in POLLUTANTS if any(value(d, year, p[0]) is not None for d in regions)]
    if not present:
        return None
    caps = {
        (d.pk, p[2]): c
        for p in present
        for d in regions
        if (c := _cap_for(d, p[2], year)) is not None
    }
    capped = [p for p in present if any((d.pk, p[2]) in caps for d in regions)]
    columns: list[dict[str, Any]] = []
    for column, name, cap in present:
        columns.append({"key": f"{column}", "header": f"{name}排放量(吨)", "places": AMOUNT_PLACES})
        columns.append(
            {
                "key": f"{column}_change",
                "header": f"{name}排放量上升或下降(±%)",
                "places": PCT_PLACES,
            }
        )
        if (column, name, cap) in capped:
            columns.append(
                {
                    "key": f"{cap}_used",
                    "header": f"{name}排放总量控制目标使用(%)",
                    "places": PCT_PLACES,
                }
            )
    rows = []
    provenance: dict[str, Any] = {}
    synthetic = False
    missing: dict[str, set[str]] = {}
    for d in regions:
        cells = [region_label(d.name)]
        values: list[str | None] = []
        used_rows = [stats[(d.pk, y)] for y in (year - 1, year) if (d.pk, y) in stats]
        prov: dict[str, Any] = {}
        for column, name, cap in present:
            now, before = value(d, year, column), value(d, year - 1, column)
            amount = "" if now is None else f"{round_half(now, AMOUNT_PLACES)}"
            change = None
            if now is not None and before is not None and before > 0:
                change = now / before - 1
            change_text = format_pct(change, PCT_PLACES)
            cells += [amount, change_text]
            values += [amount or None, change_text or None]
            if now is None:
                missing.setdefault(f"{name}排放量", set()).add(d.name)
            elif change is None:
                missing.setdefault(f"{name}排放量上升或下降", set()).add(d.name)
            prov[column] = {
                str(year - 1): None if before is None else str(before),
                str(year): None if now is None else str(now),
            }
            if (column, name, cap) in capped:
                c = caps.get((d.pk, cap))
                used = None
                if c is not None and now is not None and c[1] > 0:
                    used = now / c[1]
                    prov[f"{cap}_used"] = {
                        "target_id": c[0].pk,
                        "target": str(c[0]),
                        "cap_t": str(c[1]),
                        "cap_of": c[2],
                        "formula": "used = emissions[year] / cap",
                    }
                used_text = format_pct(used, PCT_PLACES)
                cells.append(used_text)
                values.append(used_text or None)
        if any(r.is_synthetic for r in used_rows):
            synthetic = True
        prov["sources"] = sorted({r.source for r in used_rows})
        provenance[d.code] = prov
        rows.append(
            {
                "label": cells[0],
                "name": d.name,
                "code": d.code,
                "level": d.level,
                "cells": cells,
                "values_pct": values,
            }
        )
    notes = [
        "指标解释：排放量为地区统计数据所载年度排放量（吨）；上升或下降(±%)为与上年相比的变化，“-”表示下降；"
        "排放总量控制目标使用(%) = 本年排放量 ÷ 覆盖本年的排放总量控制目标（年度目标；否则为五年目标的期末总量），"
        "仅列示有排放总量控制目标的污染物。",
        "数字修约：排放量取整（吨），百分数保留两位小数，四舍五入。",
    ]
    for what, names in missing.items():
        who = (
            "各地区"
            if len(names) == len(regions)
            else "、".join(d.name for d in regions if d.name in names)
        )
        reason = "缺少本年数据" if what.endswith("排放量") else f"缺少{year - 1}年排放量"
        notes.append(f"{who}{what}数据暂缺（{reason}）。")
    no_cap = [
        f"{name}：" + "、".join(d.name for d in regions if (d.pk, cap) not in caps)
        for _c, name, cap in capped
        if any((d.pk, cap) not in caps for d in regions)
    ]
    if no_cap:
        notes.append("未设排放总量控制目标的地区，目标使用栏空缺（" + "；".join(no_cap) + "）。")
    notes.append(
        "版式说明：未找到官方分地区主要污染物排放公报表式，本表为平台版式（排放量与上升或下降并列，"
        "参照能耗公报的“指标值、上升或下降(±%)”列示）。"
    )
    if synthetic:
        notes.append("本表为平台演示，所用统计数据为合成数据，非官方发布，不代表真实情况。")
    return {
        "edition": "platform-pollutants-1",
        "edition_source": "platform layout (no official per-region pollutant bulletin found: "
        "shared/reference/formats.md §6.2, 15_pollutant_reductions.md)",
        "title": f"{province.name}{year}年各州（市）主要污染物排放情况",
        "header": ["地 区", *(c["header"] for c in columns)],
        "columns": columns,
        "rows": rows,
        "footnotes": [f"{i}. {n}" for i, n in enumerate(notes, 1)],
        "synthetic": synthetic,
        "provenance": provenance,
    }


def round_half(value: Decimal, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals (排放量 取整)."""
    from decimal import ROUND_HALF_UP

    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _co2(row: RegionalStatistic) -> float | None:
    return row.value("co2_t")


def co2_table(
    year: int,
    *,
    province: Division,
    regions: list[Division],
    national: NationalFigure | None,
) -> dict[str, Any] | None:
    """The CO2 table of the bulletin (see the module doc), or None when no region has CO2
    statistics for ``year``."""
    base = price_base_year(year)
    stats = {
        (s.division_id, s.year): s
        for s in RegionalStatistic.objects.filter(
            division__in=regions,
            year__gte=base,
            year__lte=year,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        )
    }
    if not any((d.pk, year) in stats and _co2(stats[(d.pk, year)]) is not None for d in regions):
        return None
    years = range(base, year + 1)
    chained = [
        d
        for d in regions
        if all((d.pk, y) in stats for y in years)
        and all(stats[(d.pk, y)].gdp_real_growth_pct is not None for y in years[1:])
    ]
    figures: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    provenance: dict[str, Any] = {}
    synthetic = False
    if chained:
        frame = pd.DataFrame(
            [
                {
                    "region": d.code,
                    "year": y,
                    "energy_tce": float(stats[(d.pk, y)].energy_tce),
                    "gdp_10k_yuan": float(stats[(d.pk, y)].gdp_10k_yuan),
                    "gdp_real_growth_frac": None
                    if y == base
                    else float(stats[(d.pk, y)].gdp_real_growth_pct) / 100,  # type: ignore[arg-type]
                    "co2_t": _co2(stats[(d.pk, y)]),
                }
                for d in chained
                for y in years
            ]
        )
        try:
            result = regional_indicators(frame, base_year=base, rules=regional_rules())
        except RegionalDataError as exc:
            raise BulletinError(str(exc)) from exc
        out = result.frame.set_index(["region", "year"])
        for d in chained:
            now = out.loc[(d.code, year)]
            figures[d.pk] = (
                _dec(now["co2_intensity_change_frac"]),
                _dec(now["cumulative_co2_intensity_change_frac"]),
            )
            used = [stats[(d.pk, y)] for y in years]
            synthetic = synthetic or any(r.is_synthetic for r in used)
            provenance[d.code] = {
                "statistics": [
                    {
                        "year": r.year,
                        "co2_t": None if _co2(r) is None else str(r.factors["co2_t"]),
                        "co2_t_from": {
                            "kind": "computed_from_energy_by_fuel",
                            "provenance": r.derived["co2_t"],
                        }
                        if (r.derived or {}).get("co2_t")
                        else {"kind": "as_imported"},
                        "gdp_10k_yuan": str(r.gdp_10k_yuan),
                        "gdp_real_growth_pct": None
                        if r.gdp_real_growth_pct is None
                        else str(r.gdp_real_growth_pct),
                        "source": r.source,
                    }
                    for r in used
                ],
                "co2_intensity_t_per_10k_yuan": {
                    str(y): None
                    if pd.isna(out.loc[(d.code, y), "co2_intensity_t_per_10k_yuan"])
                    else round(float(out.loc[(d.code, y), "co2_intensity_t_per_10k_yuan"]), 6)
                    for y in (base, year - 1, year)
                },
            }
        provenance["formulas"] = {
            name: result.provenance[name].formula
            for name in (
                "gdp_comparable_10k_yuan",
                "co2_intensity_t_per_10k_yuan",
                "co2_intensity_change_frac",
                "cumulative_co2_intensity_change_frac",
            )
        }
        provenance["rate_basis"] = {
            "rule": result.rate_basis.rule,
            "intensity_places": result.rate_basis.intensity_places,
            "rules_version": result.rules_version,
        }
        provenance["engine"] = ENGINE
    provenance["price_base_year"] = base

    def pct(value: Decimal | None) -> Decimal | None:
        return None if value is None else value / 100

    nat = Co2BulletinFigures(
        "全国",
        pct(national.co2_intensity_change_pct) if national else None,
        pct(national.co2_intensity_cumulative_change_pct) if national else None,
    )
    printed = co2_bulletin_rows(
        [Co2BulletinFigures(d.name, *figures.get(d.pk, (None, None))) for d in regions],
        cumulative_base_year=base,
        national=nat,
    )
    edition = co2_edition(base)
    rows = []
    for (name, code, level), cells in zip(
        [("全国", "", "national"), *((d.name, d.code, d.level) for d in regions)],
        printed,
        strict=True,
    ):
        rows.append(
            {
                "label": cells[0],
                "name": name,
                "code": code,
                "level": level,
                "cells": cells,
                "values_pct": [cell if cell != "" else None for cell in cells[1:]],
            }
        )
    has_national = national is not None and (
        national.co2_intensity_change_pct is not None
        or national.co2_intensity_cumulative_change_pct is not None
    )
    return {
        "edition": edition.key,
        "edition_source": edition.source,
        "title": f"{province.name}{year}年各州（市）单位地区生产总值二氧化碳排放降低率",
        "header": ["地 区", *(c.header_zh for c in edition.columns)],
        "columns": [
            {"key": c.key, "header": c.header_zh, "places": c.places} for c in edition.columns
        ],
        "rows": rows,
        "footnotes": _co2_footnotes(
            year,
            base,
            edition,
            rows,
            stats,
            regions,
            national if has_national else None,
            synthetic,
        ),
        "price_base_year": base,
        "cumulative_base_year": base,
        "synthetic": synthetic,
        "provenance": provenance,
    }


def _co2_footnotes(
    year: int,
    base: int,
    edition: BulletinEdition,
    rows: list[dict[str, Any]],
    stats: Mapping[tuple[int, int], RegionalStatistic],
    regions: list[Division],
    national: NationalFigure | None,
    synthetic: bool,
) -> list[str]:
    notes = [
        "指标解释：单位地区生产总值二氧化碳排放 = 二氧化碳排放量 ÷ 地区生产总值。上升或下降(±%)为"
        f"与上年相比的变化，累计上升或下降为与{base}年相比的变化，“-”表示下降。",
        f"计算方法：地区生产总值按{base}年价格（可比价）计算；二氧化碳排放量为地区统计数据所载排放量"
        "（由分品种能源消费量按平台区域碳排放核算规则计算，或按导入数据）；变化率由保留四位小数的"
        "单位地区生产总值二氧化碳排放计算，与碳排放目标责任考核的口径一致。",
        "数字修约：上升或下降(±%)保留两位小数，四舍五入；全国数据按国家统计局公布的一位小数列示。",
    ]
    if national is not None:
        notes.append(f"全国数据来源：{national.source}。")
    else:
        notes.append(
            "全国数据暂缺：本平台尚未录入国家统计局公布的全国二氧化碳排放强度变化，故空缺。"
        )
    by_name = {d.name: d for d in regions}
    for i, column in enumerate(edition.columns):
        missing = [r["name"] for r in rows[1:] if r["cells"][i + 1] == ""]
        if not missing:
            continue
        who = "各地区" if len(missing) == len(rows) - 1 else "、".join(missing)
        needed = (year - 1, year) if i == 0 else (base, year)
        reasons = set()
        for name in missing:
            d = by_name[name]
            absent = [y for y in range(base, year + 1) if (d.pk, y) not in stats]
            if absent:
                reasons.add(f"缺少{base}–{year}年逐年统计数据")
            elif any(_co2(stats[(d.pk, y)]) is None for y in needed):
                reasons.add(f"缺少{needed[0]}年或{needed[1]}年二氧化碳排放量")
            else:
                reasons.add("缺少地区生产总值实际增速")
        header = column.header_zh.split("(")[0]
        notes.append(f"{who}{header}数据暂缺（{'；'.join(sorted(reasons))}）。")
    notes.append(
        "版式说明：未找到官方分地区单位地区生产总值二氧化碳排放公报表式，本表为平台版式，"
        "列示与修约规则参照能耗公报。"
    )
    if synthetic:
        notes.append("本表为平台演示，所用统计数据为合成数据，非官方发布，不代表真实情况。")
    return [f"{i}. {n}" for i, n in enumerate(notes, 1)]


def _footnotes(
    year: int,
    base: int,
    edition: BulletinEdition,
    rows: list[dict[str, Any]],
    regions: list[Division],
    national: NationalFigure | None,
    synthetic: bool,
) -> list[str]:
    notes = [
        "指标解释：万元地区生产总值能耗 = 能源消费总量 ÷ 地区生产总值；万元地区生产总值电耗 = "
        "全社会用电量 ÷ 地区生产总值。上升或下降(±%)为与上年相比的变化，“-”表示下降；"
        "能源消费总量增速为与上年相比的增长速度。",
        f"计算方法：地区生产总值按{base}年价格（可比价）计算；能源消费总量为统计部门核算的"
        "地区能源消费量；全省和各州（市）数据分别核算。与上年相比的变化率按可比价计算，不受价格基期选择的影响。",
        "数字修约：上升或下降(±%)保留两位小数，能源消费总量增速保留一位小数，四舍五入；"
        "全国数据按国家统计局公布的一位小数列示。",
    ]
    if national is not None:
        notes.append(f"全国数据来源：{national.source}。")
    else:
        notes.append("全国数据暂缺：本平台尚未录入国家统计局公布的全国数字，故空缺。")
    for i, column in enumerate(edition.columns):
        missing = [r["name"] for r in rows[1:] if r["cells"][i + 1] == ""]
        if missing:
            who = "各地区" if len(missing) == len(rows) - 1 else "、".join(missing)
            reason = (
                "（未录入全社会用电量）"
                if column.key == "electricity_intensity_change"
                else "（缺少本年或上年统计数据）"
            )
            notes.append(f"{who}{column.header_zh.split('(')[0]}数据暂缺{reason}。")
    if synthetic:
        notes.append("本公报为平台演示，所用统计数据为合成数据，非官方发布，不代表真实情况。")
    return [f"{i}. {n}" for i, n in enumerate(notes, 1)]
