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

Any other item key has no accounted source: a round with such a sheet is refused.  Fractions
are carried as Decimals with 8 decimals (0.0001 percentage point), the resolution at which the
veto compares the actual with the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from dualcontrol.core.assessment import ScoringSheet, TargetFigures
from dualcontrol.core.progress import PaceDefinition, ProgressDefinition
from dualcontrol.core.regional import (
    ReductionTarget,
    RegionalDataError,
    regional_indicators,
)
from dualcontrol.entities.models import Entity
from dualcontrol.reference.accounting import regional_rules
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, Target

FRAC_PLACES = Decimal("0.00000001")
TCE_PLACES = Decimal("0.01")
REGION_ITEMS = ("intensity", "total")
ENTERPRISE_ITEMS = ("energy_saving",)


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


def unsupported_items(sheet: ScoringSheet) -> list[str]:
    """Target items of ``sheet`` that have no accounted source for its subject kind."""
    allowed = REGION_ITEMS if sheet.subject == "region" else ENTERPRISE_ITEMS
    return [
        _("%(a)s（%(b)s）") % {"a": t.key, "b": t.title_zh}
        for t in sheet.target_items
        if t.key not in allowed
    ]


def _frac(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(FRAC_PLACES)


def _pct_text(x: Decimal) -> str:
    return f"{x * 100:.4f}"


def _covering_target(indicators: tuple[str, ...], year: int, **holder: Any) -> Target | None:
    qs = Target.objects.filter(indicator__in=indicators, industry__isnull=True, **holder)
    annual = qs.filter(period_kind=PeriodKind.YEAR, end_year=year).order_by("-id").first()
    if annual is not None:
        return annual
    return (
        qs.filter(period_kind=PeriodKind.FIVE_YEAR, base_year__lt=year, end_year__gte=year)
        .order_by("-end_year", "-id")
        .first()
    )


def _annual_rows(division: Division, first: int, last: int) -> list[RegionalStatistic]:
    return list(
        RegionalStatistic.objects.filter(
            division=division,
            year__gte=first,
            year__lte=last,
            month__isnull=True,
            quarter__isnull=True,
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
    for item in sheet.target_items:
        if item.key == "intensity":
            assert division is not None
            figures = intensity_figures(division, year)
        elif item.key == "total":
            assert division is not None
            figures = total_figures(division, year)
        else:
            assert entity is not None
            figures = saving_figures(entity, year, certified_saving_tce, certified_source)
        out[item.key] = replace(figures, basis={"title_zh": item.title_zh, **figures.basis})
    return out
