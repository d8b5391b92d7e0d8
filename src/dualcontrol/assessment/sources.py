"""Where the target part's figures come from (目标完成情况 — computed, never typed).

A sheet's target items are mapped by key to an accounted source:

- ``intensity`` (万元GDP能耗降低率, rates): the region's intensity-reduction target covering the
  year (an annual target for the year, else the five-year target) and the statistics bureau's
  regional energy and GDP (:class:`~dualcontrol.targets.models.RegionalStatistic`) through
  :func:`dualcontrol.core.regional.regional_indicators` — intensity at the comparable prices of
  the target's base year.  In the five-year target's last year the target is the five-year
  reduction and the actual the cumulative reduction since the base year; in an earlier year
  the target is the pace required by then (the target's 序时进度 definition, linear R·k/n or
  compound) and the actual again the cumulative reduction.
- ``total`` (能源消费总量 / 增量, tce, lower is better): an annual total target for the year
  (actual = that year's consumption), or a five-year increment cap in its last year (actual =
  consumption of the year − consumption of the base year).
- ``energy_saving`` (企业节能量, tce): the unit's annual energy-saving target and the saving
  certified for the year (核定节能量, recorded on the assessment record by the province or the
  unit's verifier).

The carbon sheets (co2-2014, co2-13th-fyp, co2-15th-fyp) read the same statistics rows, with the
CO2 kept per row (``co2_t``, computed from energy by fuel at import; its provenance is carried
into the basis).  CO2 intensity = co2_t / GDP at the comparable prices of the price base year
(the base year of the region's five-year CO2-intensity target; without one, the base year of
the five-year plan period the year falls in), and every rate comes from intensities rounded to 4
decimals (``accounting_rules.yaml`` ``rate_basis``, through
:func:`dualcontrol.core.regional.regional_indicators`):

- ``annual`` (单位地区生产总值二氧化碳排放年度降低目标, rate): target = the region's annual
  CO2-intensity target for the year when one exists, else the annual rate its five-year target
  implies, 1 − (1 − R)^(1/n) (the rate the barometer compares with, core/tracking.py); actual =
  1 − I_t / I_{t−1}.
- ``cumulative`` (累计进度目标, rate): target = the reduction the five-year target's pace requires
  by the year (compound 1 − (1 − R)^(k/n) or linear R·k/n; in the last year R itself); actual =
  1 − (1 − D_cum_prev)(1 − D_year) when the region's cumulative reduction of the previous year
  is on record in a signed-off (已审定) carbon assessment of the same period, else 1 − I_t / I_base
  from the statistics (the product of the annual changes, which telescopes to it) — the basis
  says which (``cumulative_method``).
- ``total`` with unit tCO2 (二氧化碳排放总量, lower is better): target = an annual co2_total target
  for the year, else the five-year cap along its pace (linear path E_base + (C − E_base)·k/n, the
  cap itself in the last year — as the barometer rates it); actual = co2_t of the year.
- ``budget`` (碳排放预算, tCO2): target = the carbon_budget × k/n (an annual budget: itself);
  actual = Σ co2_t of the period's years so far (base + 1 … year).

Any other item key has no accounted source: a round with such a sheet is refused.  Missing
statistics (a year's row, its GDP growth or its co2_t) are reported, never estimated.  Fractions
are carried as Decimals with 8 decimals (0.0001 percentage point), the resolution at which the
veto compares the actual with the target; tonnes of CO2 with 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from dualcontrol.core.assessment import (
    AssessmentError,
    ScoringSheet,
    TargetFigures,
    TargetItem,
    cumulative_rate_frac,
)
from dualcontrol.core.progress import (
    PaceDefinition,
    ProgressDefinition,
    annual_rate_frac,
    required_reduction_frac,
)
from dualcontrol.core.regional import (
    ReductionTarget,
    RegionalDataError,
    RegionalIndicators,
    regional_indicators,
)
from dualcontrol.entities.models import Entity
from dualcontrol.reference.accounting import regional_rules
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, Target

FRAC_PLACES = Decimal("0.00000001")
TCE_PLACES = Decimal("0.01")
TCO2_PLACES = Decimal("0.01")
#: region items with an accounted source: key → unit (the unit tells the energy total, in tce,
#: from the CO2 total, in tCO2, which share the key ``total``)
ENERGY_ITEMS = {"intensity": "frac", "total": "tce"}
CO2_ITEMS = {"annual": "frac", "cumulative": "frac", "total": "tco2", "budget": "tco2"}
#: pollutant items (sheets pollutants-*): keyed by their catalogue indicator code — caps and
#: key-project reductions in tonnes, reduction rates as fractions
POLLUTANT_ITEMS = {
    **{f"{p}_total": "t" for p in ("cod", "nh3n", "so2", "nox", "vocs")},
    **{f"{p}_reduction": "frac" for p in ("cod", "nh3n", "so2", "nox", "vocs")},
    **{f"{p}_project_reduction": "t" for p in ("cod", "nh3n", "nox", "vocs")},
}
REGION_ITEMS = tuple(dict.fromkeys((*ENERGY_ITEMS, *CO2_ITEMS, *POLLUTANT_ITEMS)))
ENTERPRISE_ITEMS = ("energy_saving",)
CO2_ENGINE = "dualcontrol.core.regional.regional_indicators (co2_t)"
POLLUTANT_ENGINE = "dualcontrol.targets.warnings.observe (core.tracking: actuals, requirement)"
T_PLACES = Decimal("0.01")


class SourceError(ValueError):
    """The accounted figures for an item are missing or inconsistent (message for the officer)."""


def means_text(means: Mapping[str, Any]) -> str:
    """What a target or actual figure is (``basis["required_means_of"]`` /
    ``basis["actual_means_of"]``), in the active language."""
    kind = means.get("kind")
    if kind == "intensity_pace":
        text = (
            _("%(period)s 目标 %(value)s%% 的 %(year)s 年序时进度（线性口径）")
            if means.get("pace") == PaceDefinition.LINEAR.value
            else _("%(period)s 目标 %(value)s%% 的 %(year)s 年序时进度（复合口径）")
        )
        return text % {"period": means["period"], "value": means["value"], "year": means["year"]}
    if kind == "period_target":
        return _("%(period)s 目标") % {"period": means["period"]}
    if kind == "cumulative_reduction":
        return _("%(base)s–%(year)s 年累计降低率（%(base)s 年可比价）") % {
            "base": means["base"],
            "year": means["year"],
        }
    if kind == "cap":
        return _("%(period)s %(indicator)s目标（上限）") % {
            "period": means["period"],
            "indicator": Indicator(means["indicator"]).label,
        }
    if kind == "increment":
        return _("%(base)s–%(year)s 年能源消费增量") % {
            "base": means["base"],
            "year": means["year"],
        }
    if kind == "total":
        return _("%(year)s 年能源消费总量") % {"year": means["year"]}
    if kind == "saving_target":
        return _("%(year)s 年节能量目标") % {"year": means["year"]}
    if kind == "certified_saving":
        return _("%(year)s 年核定节能量（%(source)s）") % {
            "year": means["year"],
            "source": means.get("source") or _("未注明依据"),
        }
    if kind == "annual_of_five_year":
        return _("%(period)s 目标 %(value)s%% 隐含的年均降低率 1−(1−R)^(1/%(n)s)") % {
            "period": means["period"],
            "value": means["value"],
            "n": means["n"],
        }
    if kind == "annual_reduction":
        return _("%(year)s 年比 %(prev)s 年降低率（%(base)s 年可比价）") % {
            "year": means["year"],
            "prev": int(means["year"]) - 1,
            "base": means["base"],
        }
    if kind == "chained_cumulative_reduction":
        return _(
            "%(base)s–%(year)s 年累计降低率（%(prev)s 年已审定累计降低率与 %(year)s 年降低率连乘）"
        ) % {"base": means["base"], "year": means["year"], "prev": int(means["year"]) - 1}
    if kind == "total_path":
        return _(
            "%(period)s %(indicator)s目标的 %(year)s 年路径值（基期排放 + (目标 − 基期排放) × %(k)s/%(n)s）"
        ) % {
            "period": means["period"],
            "indicator": Indicator(means["indicator"]).label,
            "year": means["year"],
            "k": means["k"],
            "n": means["n"],
        }
    if kind == "budget_pace":
        return _("%(period)s 碳排放预算的 %(year)s 年时间进度（预算 × %(k)s/%(n)s）") % {
            "period": means["period"],
            "year": means["year"],
            "k": means["k"],
            "n": means["n"],
        }
    if kind == "co2_emissions":
        return _("%(year)s 年二氧化碳排放量") % {"year": means["year"]}
    if kind == "co2_sum":
        return _("%(first)s–%(year)s 年二氧化碳排放量合计") % {
            "first": means["first"],
            "year": means["year"],
        }
    if kind in POLLUTANT_MEANS:
        return _pollutant_means_text(means)
    raise ValueError(f"unknown kind of figure {kind!r}")


def stored_means(basis: Mapping[str, Any], which: str) -> dict[str, Any] | None:
    """``basis[f"{which}_means_of"]``, or for figures computed before the basis kept it the
    reading of the stored text (``basis[f"{which}_means"]``) its other fields give; None when
    no reading gives exactly that text."""
    of = basis.get(f"{which}_means_of")
    if isinstance(of, Mapping):
        return dict(of)
    text = str(basis.get(f"{which}_means") or "")
    period = str(basis.get("period") or "")
    years = [r.get("year") for r in basis.get("statistics") or [] if isinstance(r, Mapping)]
    year = years[-1] if years else (int(period) if period.isdigit() else None)
    base = basis.get("price_base_year") or (years[0] if years else None)
    candidates: list[dict[str, Any]] = [
        {"kind": "period_target", "period": period},
        {"kind": "saving_target", "year": year},
        {"kind": "cumulative_reduction", "base": base, "year": year},
        {"kind": "increment", "base": base, "year": year},
        {"kind": "total", "year": year},
    ]
    candidates += [
        {
            "kind": "intensity_pace",
            "period": period,
            "value": basis.get("base_value"),
            "year": year,
            "pace": pace.value,
        }
        for pace in PaceDefinition
    ]
    candidates += [
        {"kind": "cap", "period": period, "indicator": i.value}
        for i in (Indicator.ENERGY_TOTAL, Indicator.ENERGY_INCREMENT)
    ]
    with translation.override(settings.LANGUAGE_CODE):
        saving = {"kind": "certified_saving", "year": year}
        prefix = means_text({**saving, "source": "|"}).split("|")[0]
        if text.startswith(prefix) and text.endswith("）"):
            source = text[len(prefix) : -1]
            candidates.append({**saving, "source": "" if source == _("未注明依据") else source})
        for means in candidates:
            if means_text(means) == text:
                return means
    return None


def _means(prefix: str, **means: Any) -> dict[str, Any]:
    """``{prefix}_means`` written in the platform's language (the record keeps it) and
    ``{prefix}_means_of`` to show it in another language."""
    with translation.override(settings.LANGUAGE_CODE):
        text = means_text(means)
    return {f"{prefix}_means": text, f"{prefix}_means_of": means}


@dataclass(frozen=True)
class ItemFigures:
    key: str
    unit: str  # frac | tce
    target: Decimal
    actual: Decimal
    incentive_target: Decimal | None = None
    basis: Mapping[str, Any] = field(default_factory=dict)

    def to_core(self) -> TargetFigures:
        return TargetFigures(
            target=self.target, actual=self.actual, incentive_target=self.incentive_target
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "unit": self.unit,
            "target": str(self.target),
            "actual": str(self.actual),
            "incentive_target": None
            if self.incentive_target is None
            else str(self.incentive_target),
            "basis": dict(self.basis),
        }


def figures_from_json(data: Mapping[str, Any]) -> dict[str, TargetFigures]:
    """The core figures stored by :meth:`ItemFigures.as_json` (one entry per item)."""
    out = {}
    for key, item in data.items():
        incentive = item.get("incentive_target")
        out[key] = TargetFigures(
            target=Decimal(item["target"]),
            actual=Decimal(item["actual"]),
            incentive_target=None if incentive is None else Decimal(incentive),
        )
    return out


def _source_of(item: TargetItem, subject: str) -> str | None:
    """Which accounted source feeds ``item``: "energy", "co2", "pollutant", "enterprise", or
    None."""
    if subject != "region":
        return "enterprise" if item.key in ENTERPRISE_ITEMS else None
    if POLLUTANT_ITEMS.get(item.key) == item.unit:
        return "pollutant"
    if ENERGY_ITEMS.get(item.key) == item.unit:
        return "energy"
    if CO2_ITEMS.get(item.key) == item.unit:
        return "co2"
    return None


def unsupported_items(sheet: ScoringSheet) -> list[str]:
    """Target items of ``sheet`` that have no accounted source for its subject kind."""
    return [
        _("%(a)s（%(b)s）") % {"a": t.key, "b": t.title_zh}
        for t in sheet.target_items
        if _source_of(t, sheet.subject) is None
    ]


def is_carbon_sheet(sheet: ScoringSheet) -> bool:
    """Whether the sheet's target items are the CO2 ones (a carbon assessment)."""
    return any(_source_of(t, sheet.subject) == "co2" for t in sheet.target_items)


def is_pollutant_sheet(sheet: ScoringSheet) -> bool:
    """Whether the sheet's target items are pollutant ones (a total-reduction assessment)."""
    return any(_source_of(t, sheet.subject) == "pollutant" for t in sheet.target_items)


def _frac(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(FRAC_PLACES)


def _pct_text(x: Decimal) -> str:
    return f"{x * 100:.4f}"


def _annual_target(indicators: tuple[str, ...], year: int, **holder: Any) -> Target | None:
    """The holder's annual target of ``year`` (whole region or unit, not a sector)."""
    qs = Target.objects.filter(indicator__in=indicators, industry__isnull=True, **holder)
    return qs.filter(period_kind=PeriodKind.YEAR, end_year=year).order_by("-id").first()


def _five_year_target(indicators: tuple[str, ...], year: int, **holder: Any) -> Target | None:
    """The holder's five-year target whose period (base year + 1 … end year) holds ``year``."""
    qs = Target.objects.filter(indicator__in=indicators, industry__isnull=True, **holder)
    return (
        qs.filter(period_kind=PeriodKind.FIVE_YEAR, base_year__lt=year, end_year__gte=year)
        .order_by("-end_year", "-id")
        .first()
    )


def _covering_target(indicators: tuple[str, ...], year: int, **holder: Any) -> Target | None:
    return _annual_target(indicators, year, **holder) or _five_year_target(
        indicators, year, **holder
    )


def plan_base_year(year: int) -> int:
    """The base year of the five-year plan period holding ``year`` (2011–2015 → 2010,
    2026–2030 → 2025): the comparable-price base when the region has no five-year target."""
    return (year - 1 - 2010) // 5 * 5 + 2010


def _annual_rows(division: Division, first: int, last: int) -> list[RegionalStatistic]:
    """The region's annual rows (whole region: no sector, month or quarter rows)."""
    return list(
        RegionalStatistic.objects.filter(
            division=division,
            year__gte=first,
            year__lte=last,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        ).order_by("year")
    )


def _frame(
    division: Division, rows: list[RegionalStatistic], first: int, last: int
) -> pd.DataFrame:
    years = [r.year for r in rows]
    missing = [y for y in range(first, last + 1) if y not in years]
    if missing:
        raise SourceError(
            _("%(region)s：缺少 %(years)s 年的地区统计数据（能源消费量、GDP）")
            % {"region": division.name, "years": _("、").join(map(str, missing))}
        )
    for r in rows[1:]:
        if r.gdp_real_growth_pct is None:
            raise SourceError(
                _("%(region)s：%(year)s 年缺少 GDP 实际增长率（可比价）")
                % {"region": division.name, "year": r.year}
            )
    return pd.DataFrame(
        {
            "region": division.code,
            "year": [r.year for r in rows],
            "energy_tce": [float(r.energy_tce) for r in rows],
            "gdp_10k_yuan": [float(r.gdp_10k_yuan) for r in rows],
            "gdp_real_growth_frac": [
                None if r.gdp_real_growth_pct is None else float(r.gdp_real_growth_pct) / 100
                for r in rows
            ],
        }
    )


def _stat_rows(rows: list[RegionalStatistic]) -> list[dict[str, Any]]:
    return [
        {
            "year": r.year,
            "energy_tce": str(r.energy_tce),
            "gdp_10k_yuan": str(r.gdp_10k_yuan),
            "gdp_real_growth_pct": None
            if r.gdp_real_growth_pct is None
            else str(r.gdp_real_growth_pct),
            "source": r.source,
            "synthetic": r.is_synthetic,
        }
        for r in rows
    ]


def _target_ref(t: Target) -> dict[str, Any]:
    return {
        "target_id": t.pk,
        "target": str(t),
        "period": t.period_label,
        "period_kind": t.period_kind,
        "base_value": str(t.base_value),
        "incentive_value": None if t.incentive_value is None else str(t.incentive_value),
        "unit": t.unit,
        "source_document": t.source_document,
    }


def intensity_figures(division: Division, year: int) -> ItemFigures:
    """万元GDP能耗降低率 of ``division`` in ``year`` against its target (see the module doc)."""
    t = _covering_target((Indicator.ENERGY_INTENSITY_REDUCTION,), year, division=division)
    if t is None:
        raise SourceError(
            _("%(region)s：没有覆盖 %(year)s 年的能耗强度降低目标")
            % {"region": division.name, "year": year}
        )
    rows = _annual_rows(division, t.base_year, year)
    df = _frame(division, rows, t.base_year, year)
    reduction = float(t.base_value) / 100
    five_year = t.period_kind == PeriodKind.FIVE_YEAR
    try:
        result = regional_indicators(
            df,
            base_year=t.base_year,
            target=ReductionTarget(reduction, t.base_year, t.end_year) if five_year else None,
            progress_definition=ProgressDefinition(t.progress),
            rules=regional_rules(),
        )
    except RegionalDataError as exc:
        raise SourceError(
            _("%(region)s：%(error)s") % {"region": division.name, "error": exc}
        ) from exc
    row = result.frame[result.frame["year"] == year].iloc[0]
    actual = _frac(row["achieved_reduction_frac"])
    incentive = None
    if five_year and year < t.end_year:
        pace = PaceDefinition(t.pace)
        column = f"required_reduction_{pace.value}_frac"
        required = _frac(row[column])
        means = _means(
            "required",
            kind="intensity_pace",
            period=t.period_label,
            value=str(t.base_value),
            year=year,
            pace=pace.value,
        )
    else:
        required = Decimal(t.base_value / 100).quantize(FRAC_PLACES)
        means = _means("required", kind="period_target", period=t.period_label)
        if t.incentive_value is not None:
            incentive = Decimal(t.incentive_value / 100).quantize(FRAC_PLACES)
    start = result.frame[result.frame["year"] == t.base_year].iloc[0]
    basis = {
        **_target_ref(t),
        **means,
        "target_pct": _pct_text(required),
        "actual_pct": _pct_text(actual),
        **_means("actual", kind="cumulative_reduction", base=t.base_year, year=year),
        "price_base_year": t.base_year,
        "intensity_base_tce_per_10k_yuan": round(float(start["intensity_tce_per_10k_yuan"]), 6),
        "intensity_year_tce_per_10k_yuan": round(float(row["intensity_tce_per_10k_yuan"]), 6),
        "progress_frac": None
        if pd.isna(row.get("progress_frac"))
        else round(float(row["progress_frac"]), 6),
        "progress_definition": t.progress,
        "pace_definition": t.pace,
        "rate_basis": {
            "rule": result.rate_basis.rule,
            "intensity_places": result.rate_basis.intensity_places,
            "rules_version": result.rules_version,
        },
        "formulas": {
            name: result.provenance[name].formula
            for name in (
                "gdp_comparable_10k_yuan",
                "intensity_tce_per_10k_yuan",
                "cumulative_intensity_change_frac",
                "achieved_reduction_frac",
            )
        },
        "statistics": _stat_rows(rows),
        "engine": "dualcontrol.core.regional.regional_indicators",
    }
    return ItemFigures("intensity", "frac", required, actual, incentive, basis)


def total_figures(division: Division, year: int) -> ItemFigures:
    """能源消费总量 (annual target) or 增量 (five-year cap, in its last year)."""
    t = _covering_target(
        (Indicator.ENERGY_TOTAL, Indicator.ENERGY_INCREMENT), year, division=division
    )
    if t is None:
        raise SourceError(
            _("%(region)s：没有覆盖 %(year)s 年的能源消费总量（增量）目标")
            % {"region": division.name, "year": year}
        )
    if t.period_kind == PeriodKind.FIVE_YEAR and (
        t.indicator != Indicator.ENERGY_INCREMENT or year != t.end_year
    ):
        raise SourceError(
            _("%(region)s：%(year)s 年没有年度能源消费总量目标（五年增量目标只在 %(end)s 年考核）")
            % {"region": division.name, "year": year, "end": t.end_year}
        )
    first = t.base_year if t.indicator == Indicator.ENERGY_INCREMENT else year
    rows = _annual_rows(division, first, year)
    _frame(division, rows, first, year)  # checks the years are there
    energy = {r.year: r.energy_tce for r in rows}
    if t.indicator == Indicator.ENERGY_INCREMENT:
        actual = (energy[year] - energy[t.base_year]).quantize(TCE_PLACES)
        means = _means("actual", kind="increment", base=t.base_year, year=year)
    else:
        actual = energy[year].quantize(TCE_PLACES)
        means = _means("actual", kind="total", year=year)
    basis = {
        **_target_ref(t),
        **_means("required", kind="cap", period=t.period_label, indicator=t.indicator),
        **means,
        "statistics": _stat_rows(rows),
    }
    return ItemFigures(
        "total", "tce", Decimal(t.base_value).quantize(TCE_PLACES), actual, None, basis
    )


# ---------------------------------------------------------------------------------------------
# Carbon sheets (co2-2014, co2-13th-fyp, co2-15th-fyp)


def _co2_of(row: RegionalStatistic) -> Decimal | None:
    value = (row.factors or {}).get("co2_t")
    return None if value is None else Decimal(str(value))


def _require_co2(division: Division, by_year: Mapping[int, RegionalStatistic], years: Any) -> None:
    """Every year of ``years`` has an annual row with its CO2 (else :class:`SourceError`)."""
    wanted = sorted(set(years))
    absent = [y for y in wanted if y not in by_year]
    if absent:
        raise SourceError(
            _("%(region)s：缺少 %(years)s 年的地区统计数据（二氧化碳排放量、GDP）")
            % {"region": division.name, "years": _("、").join(map(str, absent))}
        )
    no_co2 = [y for y in wanted if _co2_of(by_year[y]) is None]
    if no_co2:
        raise SourceError(
            _("%(region)s：%(years)s 年的地区统计数据没有二氧化碳排放量（co2_t）")
            % {"region": division.name, "years": _("、").join(map(str, no_co2))}
        )


def _co2_stat_rows(rows: list[RegionalStatistic]) -> list[dict[str, Any]]:
    """The statistics rows a CO2 figure used, with the CO2 and how it was obtained (the
    accounting from energy by fuel at import, or the figure as imported)."""
    out = []
    for base, r in zip(_stat_rows(rows), rows, strict=True):
        co2 = _co2_of(r)
        derived = (r.derived or {}).get("co2_t")
        base["co2_t"] = None if co2 is None else str(co2)
        base["co2_t_from"] = (
            {"kind": "computed_from_energy_by_fuel", "provenance": derived}
            if derived
            else {"kind": "as_imported"}
            if co2 is not None
            else None
        )
        out.append(base)
    return out


def _co2_target_ref(t: Target) -> dict[str, Any]:
    return {**_target_ref(t), "indicator": t.indicator, "base_year": t.base_year}


def _co2_intensities(
    division: Division, year: int, price_base: int, co2_years: Any
) -> tuple[list[RegionalStatistic], RegionalIndicators]:
    """CO2 intensities and their changes from ``price_base`` to ``year`` (comparable prices of
    ``price_base``, rounded-intensity rule); ``co2_years`` must have their CO2."""
    rows = _annual_rows(division, price_base, year)
    by_year = {r.year: r for r in rows}
    _require_co2(division, by_year, co2_years)
    df = _frame(division, rows, price_base, year)  # every year there, with its GDP growth
    co2 = [_co2_of(r) for r in rows]
    df["co2_t"] = [None if c is None else float(c) for c in co2]
    try:
        result = regional_indicators(df, base_year=price_base, rules=regional_rules())
    except RegionalDataError as exc:
        raise SourceError(
            _("%(region)s：%(error)s") % {"region": division.name, "error": exc}
        ) from exc
    return rows, result


def _co2_row(result: RegionalIndicators, year: int) -> pd.Series:
    return result.frame[result.frame["year"] == year].iloc[0]


def _rate_basis(result: RegionalIndicators) -> dict[str, Any]:
    return {
        "rule": result.rate_basis.rule,
        "intensity_places": result.rate_basis.intensity_places,
        "rules_version": result.rules_version,
    }


def _intensity_of(row: pd.Series) -> float | None:
    value = row["co2_intensity_t_per_10k_yuan"]
    return None if pd.isna(value) else round(float(value), 6)


def _no_co2_target(division: Division, year: int, what: str) -> SourceError:
    return SourceError(
        _("%(region)s：没有覆盖 %(year)s 年的%(what)s")
        % {"region": division.name, "year": year, "what": what}
    )


def co2_annual_figures(division: Division, year: int) -> ItemFigures:
    """单位地区生产总值二氧化碳排放年度降低目标 of ``division`` in ``year`` (see the module doc)."""
    indicator = (Indicator.CO2_INTENSITY_REDUCTION,)
    annual = _annual_target(indicator, year, division=division)
    five = _five_year_target(indicator, year, division=division)
    t = annual or five
    if t is None:
        raise _no_co2_target(division, year, _("碳排放强度降低目标"))
    price_base = five.base_year if five is not None else plan_base_year(year)
    rows, result = _co2_intensities(division, year, price_base, (year - 1, year))
    row, before = _co2_row(result, year), _co2_row(result, year - 1)
    actual = _frac(-row["co2_intensity_change_frac"])
    incentive = None
    if annual is not None:
        required = Decimal(annual.base_value / 100).quantize(FRAC_PLACES)
        means = _means("required", kind="period_target", period=annual.period_label)
        required_formula = "required = R (the region's annual target)"
        if annual.incentive_value is not None:
            incentive = Decimal(annual.incentive_value / 100).quantize(FRAC_PLACES)
    else:
        assert five is not None
        n = five.end_year - five.base_year
        required = _frac(annual_rate_frac(float(five.base_value) / 100, n))
        means = _means(
            "required",
            kind="annual_of_five_year",
            period=five.period_label,
            value=str(five.base_value),
            n=n,
        )
        required_formula = "required = 1 − (1 − R)^(1/n) (annual rate the five-year target implies)"
    basis = {
        **_co2_target_ref(t),
        **means,
        "metric": "co2_intensity",
        "target_pct": _pct_text(required),
        "actual_pct": _pct_text(actual),
        **_means("actual", kind="annual_reduction", base=price_base, year=year),
        "price_base_year": price_base,
        "price_base_from": "five_year_target" if five is not None else "plan_period",
        "co2_intensity_from_year": year - 1,
        "co2_intensity_from_t_per_10k_yuan": _intensity_of(before),
        "co2_intensity_year_t_per_10k_yuan": _intensity_of(row),
        "rate_basis": _rate_basis(result),
        "formulas": {
            "required": required_formula,
            "actual": "actual = −co2_intensity_change_frac",
            **{
                name: result.provenance[name].formula
                for name in (
                    "gdp_comparable_10k_yuan",
                    "co2_intensity_t_per_10k_yuan",
                    "co2_intensity_change_frac",
                )
            },
        },
        "statistics": _co2_stat_rows(rows),
        "engine": CO2_ENGINE,
    }
    if annual is not None and five is not None:
        basis["five_year_target"] = _target_ref(five)
    return ItemFigures("annual", "frac", required, actual, incentive, basis)


def _verified_cumulative(
    division: Division, year: int, target: Target
) -> tuple[Any, Decimal] | None:
    """The region's cumulative CO2-intensity reduction of ``year`` as signed off (已审定) in a
    carbon assessment of the same target period, latest first; None when none is on record."""
    from dualcontrol.assessment.models import AssessmentRecord, RecordStatus

    records = AssessmentRecord.objects.filter(
        division=division, round__year=year, status=RecordStatus.SIGNED_OFF
    ).order_by("-signed_off_at", "-pk")
    for rec in records.select_related("round"):
        fig = (rec.target_figures or {}).get("cumulative")
        if not isinstance(fig, Mapping) or fig.get("unit") != "frac":
            continue
        basis = fig.get("basis") or {}
        if basis.get("metric") == "co2_intensity" and basis.get("base_year") == target.base_year:
            return rec, Decimal(str(fig["actual"]))
    return None


def co2_cumulative_figures(division: Division, year: int) -> ItemFigures:
    """单位地区生产总值二氧化碳排放累计进度目标 of ``division`` in ``year`` (see the module doc)."""
    t = _five_year_target((Indicator.CO2_INTENSITY_REDUCTION,), year, division=division)
    if t is None:
        raise _no_co2_target(division, year, _("五年碳排放强度降低目标（累计进度目标）"))
    k, n = year - t.base_year, t.end_year - t.base_year
    reduction = float(t.base_value) / 100
    incentive = None
    if year < t.end_year:
        pace = PaceDefinition(t.pace)
        required = _frac(required_reduction_frac(reduction, k, n, pace))
        means = _means(
            "required",
            kind="intensity_pace",
            period=t.period_label,
            value=str(t.base_value),
            year=year,
            pace=pace.value,
        )
        required_formula = (
            "required = R·k/n" if pace is PaceDefinition.LINEAR else "required = 1 − (1 − R)^(k/n)"
        )
    else:
        required = Decimal(t.base_value / 100).quantize(FRAC_PLACES)
        means = _means("required", kind="period_target", period=t.period_label)
        required_formula = "required = R (the period's target, in its last year)"
        if t.incentive_value is not None:
            incentive = Decimal(t.incentive_value / 100).quantize(FRAC_PLACES)
    previous = _verified_cumulative(division, year - 1, t) if year - 1 > t.base_year else None
    cumulative: dict[str, Any]
    if previous is not None:
        record, prev_frac = previous
        rows, result = _co2_intensities(division, year, t.base_year, (year - 1, year))
        row = _co2_row(result, year)
        year_frac = _frac(-row["co2_intensity_change_frac"])
        try:
            actual = cumulative_rate_frac(prev_frac, year_frac).quantize(FRAC_PLACES)
        except AssessmentError as exc:
            raise SourceError(
                _("%(region)s：%(error)s") % {"region": division.name, "error": exc}
            ) from exc
        actual_means = _means(
            "actual", kind="chained_cumulative_reduction", base=t.base_year, year=year
        )
        cumulative = {
            "cumulative_method": "chained_verified",
            "cumulative_formula": "1 − (1 − D_cum_prev) × (1 − D_year)",
            "cumulative_rule": (
                "《二氧化碳排放核算方法及数据核查表》 (国家发改委 2015): 年度累计下降率 = "
                "1 − (1 − D上年累计) × (1 − D本年度) (dualcontrol.core.assessment."
                "cumulative_rate_frac); the previous year's cumulative is the one signed off"
            ),
            "previous_cumulative": {
                "year": year - 1,
                "frac": str(prev_frac),
                "record_id": record.pk,
                "round_id": record.round_id,
                "round": record.round.title,
                "sheet": record.round.sheet_name,
                "signed_off_at": None
                if record.signed_off_at is None
                else record.signed_off_at.isoformat(),
            },
            "year_reduction_frac": str(year_frac),
        }
    else:
        rows, result = _co2_intensities(division, year, t.base_year, (t.base_year, year))
        row = _co2_row(result, year)
        actual = _frac(row["co2_achieved_reduction_frac"])
        actual_means = _means("actual", kind="cumulative_reduction", base=t.base_year, year=year)
        cumulative = {
            "cumulative_method": "statistics",
            "cumulative_formula": "1 − I_year / I_base (= 1 − Π(1 − D_s), s = base + 1 … year)",
            "cumulative_reason": "first year of the period (the previous year is the base year)"
            if year - 1 == t.base_year
            else f"no signed-off cumulative of {year - 1} on record for this target period",
        }
    start = _co2_row(result, result.frame["year"].min())
    basis = {
        **_co2_target_ref(t),
        **means,
        "metric": "co2_intensity",
        "target_pct": _pct_text(required),
        "actual_pct": _pct_text(actual),
        **actual_means,
        **cumulative,
        "price_base_year": t.base_year,
        "co2_intensity_from_year": t.base_year,
        "co2_intensity_from_t_per_10k_yuan": _intensity_of(start),
        "co2_intensity_year_t_per_10k_yuan": _intensity_of(row),
        "pace_definition": t.pace,
        "progress_definition": t.progress,
        "rate_basis": _rate_basis(result),
        "formulas": {
            "required": required_formula,
            **{
                name: result.provenance[name].formula
                for name in (
                    "gdp_comparable_10k_yuan",
                    "co2_intensity_t_per_10k_yuan",
                    "co2_intensity_change_frac",
                    "cumulative_co2_intensity_change_frac",
                )
            },
        },
        "statistics": _co2_stat_rows(rows),
        "engine": CO2_ENGINE,
    }
    return ItemFigures("cumulative", "frac", required, actual, incentive, basis)


def _tco2(value: Decimal) -> Decimal:
    return value.quantize(TCO2_PLACES, rounding=ROUND_HALF_UP)


def co2_total_figures(division: Division, year: int) -> ItemFigures:
    """二氧化碳排放总量 of ``division`` in ``year`` against its co2_total target (tCO2)."""
    indicator = (Indicator.CO2_TOTAL,)
    t = _annual_target(indicator, year, division=division) or _five_year_target(
        indicator, year, division=division
    )
    if t is None:
        raise _no_co2_target(division, year, _("二氧化碳排放总量目标"))
    cap = Decimal(t.base_value)
    path = t.period_kind == PeriodKind.FIVE_YEAR and year < t.end_year
    years = (t.base_year, year) if path else (year,)
    rows = [r for r in _annual_rows(division, min(years), year) if r.year in years]
    by_year = {r.year: r for r in rows}
    _require_co2(division, by_year, years)
    actual = _tco2(_co2_of(by_year[year]) or Decimal(0))
    extra: dict[str, Any] = {}
    if path:
        k, n = year - t.base_year, t.end_year - t.base_year
        base_co2 = _co2_of(by_year[t.base_year]) or Decimal(0)
        required = _tco2(base_co2 + (cap - base_co2) * k / n)
        means = _means(
            "required",
            kind="total_path",
            period=t.period_label,
            indicator=t.indicator,
            year=year,
            k=k,
            n=n,
        )
        extra = {
            "pace_definition": t.pace,
            "base_co2_t": str(base_co2),
            "formula": "required = E_base + (C − E_base)·k/n; actual = co2_t[year]",
            "pace_rule": "the co2_total target's pace (linear path, indicators.yaml): the cap "
            "is the end year's; earlier years are held to the straight path from the base "
            "year's emissions, as the barometer rates them (core/tracking.py)",
        }
    else:
        required = _tco2(cap)
        means = _means("required", kind="cap", period=t.period_label, indicator=t.indicator)
        extra = {"formula": "required = C; actual = co2_t[year]"}
    basis = {
        **_co2_target_ref(t),
        **means,
        **_means("actual", kind="co2_emissions", year=year),
        "metric": "co2_t",
        **extra,
        "statistics": _co2_stat_rows(rows),
    }
    return ItemFigures("total", "tco2", required, actual, None, basis)


def co2_budget_figures(division: Division, year: int) -> ItemFigures:
    """碳排放预算执行情况 of ``division`` in ``year``: the budget × k/n against the emissions of
    the period's years so far (an annual budget: itself against the year's emissions)."""
    indicator = (Indicator.CARBON_BUDGET,)
    t = _annual_target(indicator, year, division=division) or _five_year_target(
        indicator, year, division=division
    )
    if t is None:
        raise _no_co2_target(division, year, _("碳排放预算"))
    budget = Decimal(t.base_value)
    five = t.period_kind == PeriodKind.FIVE_YEAR
    first = t.base_year + 1 if five else year
    rows = _annual_rows(division, first, year)
    by_year = {r.year: r for r in rows}
    _require_co2(division, by_year, range(first, year + 1))
    actual = _tco2(
        sum((_co2_of(by_year[y]) or Decimal(0) for y in range(first, year + 1)), Decimal(0))
    )
    if five:
        k, n = year - t.base_year, t.end_year - t.base_year
        required = _tco2(budget * k / n)
        means = _means("required", kind="budget_pace", period=t.period_label, year=year, k=k, n=n)
        formula = "required = budget·k/n; actual = Σ co2_t[s], s = base + 1 … year"
    else:
        required = _tco2(budget)
        means = _means("required", kind="cap", period=t.period_label, indicator=t.indicator)
        formula = "required = budget; actual = co2_t[year]"
    basis = {
        **_co2_target_ref(t),
        **means,
        **(
            _means("actual", kind="co2_sum", first=first, year=year)
            if five
            else _means("actual", kind="co2_emissions", year=year)
        ),
        "metric": "co2_t",
        "formula": formula,
        "remaining_budget_t": str(_tco2(budget - actual)) if five else None,
        "statistics": _co2_stat_rows(rows),
    }
    return ItemFigures("budget", "tco2", required, actual, None, basis)


CO2_SOURCES = {
    "annual": co2_annual_figures,
    "cumulative": co2_cumulative_figures,
    "total": co2_total_figures,
    "budget": co2_budget_figures,
}

# ---------------------------------------------------------------------------------------------
# Pollutant sheets (pollutants-total, pollutants-key-projects)

POLLUTANT_MEANS = frozenset(
    {
        "pollutant_cap",
        "pollutant_cap_path",
        "pollutant_amount",
        "pollutant_amount_pace",
        "pollutant_emissions",
        "pollutant_cumulative_reduction",
        "pollutant_annual_reduction",
        "pollutant_verified_sum",
    }
)


def _indicator_name(code: str) -> str:
    from dualcontrol.targets.models import indicator_def

    return _(indicator_def(code).name_zh)


def _metric_name(code: str) -> str:
    from dualcontrol.targets.models import indicator_def

    return _(indicator_def(code).metric.name_zh)


def _pollutant_means_text(means: Mapping[str, Any]) -> str:
    kind, code = means["kind"], means["indicator"]
    values = {
        **means,
        "indicator": _indicator_name(code),
        "metric": _metric_name(code),
        "prev": int(means.get("year") or 0) - 1,
    }
    texts = {
        "pollutant_cap": _("%(period)s %(indicator)s目标（上限）"),
        "pollutant_cap_path": _(
            "%(period)s %(indicator)s目标的 %(year)s 年路径值（基期排放 + (目标 − 基期排放) × %(k)s/%(n)s）"
        ),
        "pollutant_amount": _("%(period)s %(indicator)s目标"),
        "pollutant_amount_pace": _(
            "%(period)s %(indicator)s目标的 %(year)s 年时间进度（目标 × %(k)s/%(n)s）"
        ),
        "pollutant_emissions": _("%(year)s 年%(metric)s"),
        "pollutant_cumulative_reduction": _(
            "%(base)s–%(year)s 年%(metric)s累计减少率（1 − 排放量%(year)s / 排放量%(base)s）"
        ),
        "pollutant_annual_reduction": _("%(year)s 年比 %(prev)s 年%(metric)s减少率"),
        "pollutant_verified_sum": _(
            "%(first)s–%(year)s 年%(metric)s合计（统计数据所载核定减排量）"
        ),
    }
    return texts[kind] % values


def _tonnes(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(T_PLACES, rounding=ROUND_HALF_UP)


def _pollutant_rows(rows: list[RegionalStatistic], column: str) -> list[dict[str, Any]]:
    return [
        {
            "year": r.year,
            column: None if r.value(column) is None else str((r.factors or {}).get(column)),
            "source": r.source,
            "synthetic": r.is_synthetic,
        }
        for r in rows
    ]


def pollutant_figures(division: Division, year: int, code: str) -> ItemFigures:
    """A pollutant item of ``division`` in ``year`` against the region's target of the catalogue
    indicator ``code`` (an annual target for the year, else the five-year target holding it),
    from the statistics through the barometer's own observation (``targets.warnings.observe``,
    pace ``compares_with="pace"``), so the assessed and the tracked figures agree:

    - caps (``…_total``, t, lower is better): required = the cap in its last year (an annual
      target: itself), earlier the straight path E_base + (C − E_base)·k/n; actual = the year's
      emissions;
    - reduction rates (``…_reduction``, frac): required = the pace R·k/n or 1 − (1 − R)^(k/n) (R
      in the last year; an annual target: R); actual = 1 − E_year / E_base (an annual target:
      1 − E_year / E_year−1);
    - key-project reductions (``…_project_reduction``, t): required = target × k/n (an annual
      target: itself); actual = Σ of the verified reductions in the statistics, base + 1 … year.
    """
    from dualcontrol.core import tracking
    from dualcontrol.targets import warnings

    unit = POLLUTANT_ITEMS[code]
    t = _covering_target((code,), year, division=division)
    if t is None:
        raise SourceError(
            _("%(region)s：没有覆盖 %(year)s 年的%(indicator)s目标")
            % {"region": division.name, "year": year, "indicator": _indicator_name(code)}
        )
    ind = t.definition
    column = ind.metric.column
    five = t.period_kind == PeriodKind.FIVE_YEAR
    base = t.base_year if five else year - 1
    rows = _annual_rows(division, base, year)
    have = {r.year for r in rows if r.value(column) is not None}
    absent = [y for y in range(base, year + 1) if y not in have]
    # an amount's base year is not counted, but the barometer's observation reads it (its
    # year-on-year change): it is needed like the others
    if absent:
        raise SourceError(
            _("%(region)s：缺少 %(years)s 年的年度%(metric)s（%(column)s）")
            % {
                "region": division.name,
                "years": _("、").join(map(str, absent)),
                "metric": _metric_name(code),
                "column": column,
            }
        )
    series = warnings.series_for(t, (base, year))
    try:
        act, req = warnings.observe(t, series, year=year, month=12, compares_with="pace")
    except tracking.ObservationError as exc:
        raise SourceError(
            _("%(region)s：%(error)s") % {"region": division.name, "error": exc}
        ) from exc
    k, n = year - t.base_year, t.end_year - t.base_year
    last = not five or year == t.end_year
    common = {"period": t.period_label, "indicator": code, "year": year}
    extra: dict[str, Any] = {}
    if ind.kind == "total":
        required, actual = _tonnes(req.required), _tonnes(req.achieved)
        means = (
            _means("required", kind="pollutant_cap", **common)
            if last
            else _means("required", kind="pollutant_cap_path", k=k, n=n, **common)
        )
        actual_means = _means("actual", kind="pollutant_emissions", **common)
        extra = {"base_emissions_t": str(_tonnes(act.base_amount))}
    elif ind.kind == "reduction":
        required, actual = _frac(req.required), _frac(req.achieved)
        if last:
            means = _means("required", kind="period_target", period=t.period_label)
        else:
            means = _means(
                "required",
                kind="intensity_pace",
                period=t.period_label,
                value=str(t.base_value),
                year=year,
                pace=t.pace,
            )
        actual_means = (
            _means("actual", kind="pollutant_cumulative_reduction", base=base, **common)
            if five
            else _means("actual", kind="pollutant_annual_reduction", **common)
        )
        extra = {
            "target_pct": _pct_text(required),
            "actual_pct": _pct_text(actual),
            "base_emissions_t": str(_tonnes(act.base_amount)),
            "year_emissions_t": str(_tonnes(act.amount_estimate)),
        }
    else:  # amount: key-project reductions
        required, actual = _tonnes(req.required), _tonnes(req.achieved)
        means = (
            _means("required", kind="pollutant_amount", **common)
            if last
            else _means("required", kind="pollutant_amount_pace", k=k, n=n, **common)
        )
        actual_means = _means(
            "actual", kind="pollutant_verified_sum", first=base + 1 if five else year, **common
        )
        extra = {
            "amounts_t": {str(y): str(_tonnes(a)) for y, a in act.annual_amounts[1:]}
            | {str(year): str(_tonnes(act.amount_estimate))},
        }
    progress = warnings.target_progress(t, act)
    basis = {
        **_target_ref(t),
        "indicator": code,
        "base_year": t.base_year,
        **means,
        **actual_means,
        "metric": column,
        **extra,
        "k": k,
        "n": n,
        "pace_definition": t.pace,
        "progress_definition": progress.definition,
        "progress_frac": None if progress.value_frac is None else round(progress.value_frac, 6),
        "formula": req.formula.replace(" (estimated)", "").replace("(estimated)", ""),
        "requirement": req.means,
        "statistics": _pollutant_rows(rows, column),
        "engine": POLLUTANT_ENGINE,
    }
    return ItemFigures(code, unit, required, actual, None, basis)


def saving_figures(
    entity: Entity, year: int, certified: Decimal | None, source: str
) -> ItemFigures:
    """企业年度节能量: the unit's target for the year and the certified saving."""
    t = _covering_target((Indicator.ENERGY_SAVING,), year, entity=entity)
    if t is None or t.period_kind != PeriodKind.YEAR:
        raise SourceError(
            _("%(unit)s：没有 %(year)s 年的年度节能量目标") % {"unit": entity.name, "year": year}
        )
    if certified is None:
        raise SourceError(
            _("%(unit)s：尚未录入 %(year)s 年核定节能量") % {"unit": entity.name, "year": year}
        )
    basis = {
        **_target_ref(t),
        **_means("required", kind="saving_target", year=year),
        **_means("actual", kind="certified_saving", year=year, source=source),
    }
    return ItemFigures(
        "energy_saving", "tce", Decimal(t.base_value).quantize(TCE_PLACES), certified, None, basis
    )


def target_part(
    sheet: ScoringSheet,
    *,
    year: int,
    division: Division | None = None,
    entity: Entity | None = None,
    certified_saving_tce: Decimal | None = None,
    certified_source: str = "",
) -> dict[str, ItemFigures]:
    """Figures for every target item of ``sheet`` (raises :class:`SourceError`)."""
    bad = unsupported_items(sheet)
    if bad:
        raise SourceError(
            _("计分表 %(sheet)s 的目标项 %(items)s 没有可自动核算的数据来源")
            % {"sheet": sheet.name, "items": _("、").join(bad)}
        )
    out: dict[str, ItemFigures] = {}
    problems: list[str] = []
    for item in sheet.target_items:
        source = _source_of(item, sheet.subject)
        try:
            if source == "co2":
                assert division is not None
                figures = CO2_SOURCES[item.key](division, year)
            elif source == "pollutant":
                assert division is not None
                figures = pollutant_figures(division, year, item.key)
            elif item.key == "intensity":
                assert division is not None
                figures = intensity_figures(division, year)
            elif item.key == "total":
                assert division is not None
                figures = total_figures(division, year)
            else:
                assert entity is not None
                figures = saving_figures(entity, year, certified_saving_tce, certified_source)
        except SourceError as exc:
            if source not in ("co2", "pollutant"):
                raise
            problems.append(str(exc))  # every missing figure is named, not only the first
            continue
        out[item.key] = replace(figures, basis={"title_zh": item.title_zh, **figures.basis})
    if problems:
        raise SourceError(_("；").join(dict.fromkeys(problems)))
    return out
