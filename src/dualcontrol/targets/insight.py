"""Read-side figures for the pages and the API: the dashboard, a region's progress and the
drill-down from a region to its units and sectors.  Loads through the scoped queries, computes
with :mod:`dualcontrol.targets.analysis` and :mod:`dualcontrol.core.progress`; writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import FloatField
from django.db.models.functions import Cast
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dualcontrol.access.scope import visible_entities
from dualcontrol.access.targets import root_division, visible_targets, visible_warnings
from dualcontrol.core import tracking
from dualcontrol.core.progress import PACE_FORMULAS as CORE_PACE_FORMULAS
from dualcontrol.core.progress import (
    PaceDefinition,
    ProgressDefinition,
    ProgressError,
    progress_frac,
    required_reduction_frac,
    time_pace_frac,
)
from dualcontrol.regions.models import Division
from dualcontrol.rollups.models import UnitMonth
from dualcontrol.targets import analysis
from dualcontrol.targets import indicators as catalogue_view
from dualcontrol.targets.models import (
    PeriodKind,
    Target,
    WarningRecord,
    WarningRuleSet,
    cumulative_period_label,
)
from dualcontrol.targets.services import default_rule_set, observe
from dualcontrol.targets.warnings import (
    observe_actuals,
    rule_set_for,
    series_for,
    target_progress,
)

#: CSS colours of the level colour names rule sets use
PALETTE = {
    "red": "#c0392b",
    "orange": "#e67e22",
    "yellow": "#e0b000",
    "green": "#2e8b57",
    "blue": "#2f6fbf",
}
NO_DATA = "#c9ced6"
PROGRESS_LABELS = {
    ProgressDefinition.LOG.value: gettext_lazy("对数口径"),
    ProgressDefinition.LINEAR.value: gettext_lazy("线性口径"),
    "path": gettext_lazy("路径口径"),
    "used": gettext_lazy("使用口径"),
    "delivered": gettext_lazy("完成口径"),
    "peak": gettext_lazy("达峰口径"),
}
PACE_LABELS = {
    PaceDefinition.LINEAR.value: gettext_lazy("线性"),
    PaceDefinition.COMPOUND.value: gettext_lazy("复合"),
    "linear_path": gettext_lazy("直线路径"),
    "time": gettext_lazy("时间进度"),
    "peak": gettext_lazy("达峰年"),
}
PACE_FORMULAS = {
    **{k.value: v for k, v in CORE_PACE_FORMULAS.items()},
    "linear_path": "required = V_base + (T − V_base) × k / n",
    "time": "required = T × k / n",
    "peak": "required = A_peak_year (after the declared year)",
}


UNITS = catalogue_view.catalogue().units


def colour(name: str | None) -> str:
    return PALETTE.get(name or "", NO_DATA)


def _pct(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x * 100, places)


# ---------------------------------------------------------------------------------------------
# dashboard


@dataclass
class Tile:
    division: Division
    row: int
    col: int
    warning: WarningRecord | None
    target: Target | None

    @property
    def fill(self) -> str:
        return colour(self.warning.colour if self.warning else None)


def plans_for(user: Any) -> list[tuple[int, int]]:
    qs = visible_targets(user).filter(
        period_kind=PeriodKind.FIVE_YEAR,
        barometer=True,
    )
    return sorted(set(qs.values_list("base_year", "end_year")), reverse=True)


def _progress_pct(w: WarningRecord | None, t: Target | None) -> float | None:
    if w is None or t is None:
        return None
    stored = (w.figures or {}).get("progress")
    if stored is not None:
        value = stored.get("value_frac")
        return None if value is None else _pct(value, 1)
    if w.unit != "frac":
        return None
    if w.figures.get("requirement", {}).get("basis") != "pace":
        return None
    try:
        return _pct(progress_frac(w.achieved, t.target_frac, ProgressDefinition(t.progress)), 1)
    except ProgressError:
        return None


def legend(shown: list[WarningRecord]) -> list[dict[str, Any]]:
    """The map's legend: the levels of the rule sets the shown warnings were computed with (the
    default rule set when none is shown), most severe first, one entry per colour, in the
    rule set's own words — never a colour the rule sets do not have."""
    ids = {w.rule_set_id for w in shown if w.rule_set_id}
    sets = {rs.pk: rs for rs in WarningRuleSet.objects.filter(pk__in=ids)}
    if not sets:
        default = default_rule_set()
        sets = {default.pk: default}
    levels: dict[str, Any] = {}
    for rs in sets.values():
        for level in rs.to_core().levels:
            if level.colour in PALETTE and level.colour not in levels:
                levels[level.colour] = level
    english = (translation.get_language() or settings.LANGUAGE_CODE).startswith("en")
    return [
        {
            "colour": colour,
            "hex": PALETTE[colour],
            "name": level.name_en if english and level.name_en else level.name_zh,
        }
        for colour, level in sorted(levels.items(), key=lambda kv: -kv[1].severity)
    ]


def dashboard(
    user: Any,
    *,
    plan: tuple[int, int] | None = None,
    indicator: str = "intensity_reduction",
    year: int | None = None,
    month: int | None = None,
) -> dict[str, Any]:
    """Tiles, ranking, colour counts, trend and the barometer timeline for one plan period."""
    root = root_division(user)
    plans = plans_for(user)
    # every tile, cell and trend point is a warning record: without its rule set's definition
    # (decoded once per row otherwise) and the consequences text, which the map does not show
    warnings = visible_warnings(user).defer("consequences", "rule_set__definition")
    if plan is None or plan not in plans:
        latest = (
            warnings.filter(target__period_kind=PeriodKind.FIVE_YEAR)
            .order_by("-year", "-month")
            .values("target__base_year", "target__end_year")
            .first()
        )
        plan = (
            (latest["target__base_year"], latest["target__end_year"])
            if latest
            else (plans[0] if plans else None)
        )
    out: dict[str, Any] = {
        "root": root,
        "plans": plans,
        "plan": plan,
        "indicator": indicator,
        "tiles": [],
        "rows": 0,
        "cols": 0,
        "months": [],
        "period": None,
        "ranking": [],
        "counts": {},
        "root_warning": None,
        "indicators": [],
        "trend": {},
        "timeline": {"months": [], "rows": []},
        "palette": PALETTE,
        "legend": legend([]),
    }
    if root is None or plan is None:
        return out
    plan_w = warnings.filter(
        target__period_kind=PeriodKind.FIVE_YEAR,
        target__base_year=plan[0],
        target__end_year=plan[1],
    )
    out["indicators"] = list(
        plan_w.order_by("indicator").values_list("indicator", flat=True).distinct()
    )
    if indicator not in out["indicators"] and out["indicators"]:
        indicator = (
            "intensity_reduction"
            if "intensity_reduction" in out["indicators"]
            else out["indicators"][0]
        )
        out["indicator"] = indicator
    ind_w = plan_w.filter(indicator=indicator)
    months = list(ind_w.order_by("year", "month").values_list("year", "month").distinct())
    out["months"] = months
    if not months:
        return out
    period = (year, month) if (year, month) in months else months[-1]
    out["period"] = period
    children = list(
        Division.objects.filter(parent=root).filter(pk__in=visible_targets(user).values("division"))
    ) or list(Division.objects.filter(parent=root))
    layout, rows, cols = analysis.tile_grid([(d.pk, d.longitude, d.latitude) for d in children])
    out["rows"], out["cols"] = rows, cols
    now_w = {
        w.division_id: w
        for w in ind_w.filter(year=period[0], month=period[1]).select_related("target")
    }
    target_of = {
        t.division_id: t
        for t in visible_targets(user).filter(
            period_kind=PeriodKind.FIVE_YEAR,
            base_year=plan[0],
            end_year=plan[1],
            indicator=catalogue_view.indicator_of_barometer(indicator) or "",
            division__in=[*children, root],
            industry__isnull=True,
        )
    }
    tiles = []
    for d in children:
        r, c = layout[d.pk]
        tiles.append(Tile(d, r, c, now_w.get(d.pk), target_of.get(d.pk)))
    out["tiles"] = sorted(tiles, key=lambda t: (t.row, t.col))
    out["legend"] = legend([*now_w.values()])
    out["root_warning"] = now_w.get(root.pk)
    out["root_target"] = target_of.get(root.pk)
    out["counts"] = Counter(t.warning.colour for t in tiles if t.warning)
    ranking = [
        {
            "division": t.division,
            "target": t.target,
            "warning": t.warning,
            "progress_pct": _progress_pct(t.warning, t.target),
        }
        for t in tiles
        if t.warning
    ]
    ranking.sort(
        key=lambda r: (
            -r["warning"].severity,
            -(r["warning"].gap_frac_of_required or r["warning"].gap),
            r["division"].code,
        )
    )
    out["ranking"] = ranking
    # trend: the root region and the three worst regions over the plan's months
    labels = [f"{y}-{m:02d}" for y, m in months]
    series_w: dict[int, dict[tuple[int, int], WarningRecord]] = {}
    focus = [root.pk] + [r["division"].pk for r in ranking[:3]]
    # the trend needs four numbers a point: no related objects, no JSON (issue 18)
    for w in (
        ind_w.filter(division_id__in=focus)
        .select_related(None)
        .only("division_id", "year", "month", "achieved", "required")
    ):
        series_w.setdefault(w.division_id, {})[(w.year, w.month)] = w
    unit = ind_w.values_list("unit", flat=True).first() or "frac"
    scale = 1 / (catalogue_view.catalogue().units[unit].scale if unit in UNITS else 1)
    names = {d.pk: d.name for d in [*children, root]}

    def line(div_id: int, attr: str) -> list[float | None]:
        vals = series_w.get(div_id, {})
        return [round(getattr(vals[k], attr) * scale, 3) if k in vals else None for k in months]

    out["trend"] = {
        "labels": labels,
        "unit": "%" if unit == "frac" else catalogue_view.unit_label(unit),
        "series": [
            {"name": _("%(r)s 实际") % {"r": names.get(pk, "")}, "data": line(pk, "achieved")}
            for pk in focus
        ]
        + [
            {
                "name": _("%(r)s 要求") % {"r": root.name},
                "data": line(root.pk, "required"),
                "dashed": True,
            }
        ],
    }
    # barometer timeline: regions × the last 12 months of the plan
    recent = months[-12:]
    grid: dict[tuple[int, tuple[int, int]], WarningRecord] = {
        (w.division_id, (w.year, w.month)): w
        for w in ind_w.filter(division__in=children, year__gte=recent[0][0]).select_related(None)
    }
    out["timeline"] = {
        "months": recent,
        "rows": [
            {"division": d, "cells": [grid.get((d.pk, k)) for k in recent]}
            for d in sorted(children, key=lambda d: d.code)
        ],
    }
    return out


def geojson_path(division: Division | None) -> Path | None:
    """An operator-installed boundary file (approved map) for the division, if any."""
    if division is None:
        return None
    path = Path(settings.DATA_DIR) / "geo" / f"{division.code}.json"
    return path if path.is_file() else None


# ---------------------------------------------------------------------------------------------
# region progress


def _rule_set_of(target: Target) -> Any:
    return target.rule_set if target.rule_set_id else default_rule_set()


STAT_UNIT_DISPLAY = {"tce": "tce", "tCO2": "tco2", "t": "t", "10k kWh": "kwh10k"}


def _amount_unit(ind: Any) -> str:
    """The display unit of the additive amount behind an indicator (energy, CO2, tonnes …):
    a column metric's own unit, else its numerator's (the statistic's unit as printed when no
    display unit matches)."""
    if ind.metric.kind == "column":
        return str(ind.metric.unit)
    stat = catalogue_view.catalogue().statistics.get(ind.metric.amount_column)
    unit = stat.unit if stat else ""
    return STAT_UNIT_DISPLAY.get(unit, unit)


def _display(value: float | None, unit: str) -> float | None:
    """A core figure in the unit the chart shows (% for fractions, 万 for tce/tCO2 …)."""
    return catalogue_view.scaled(value, unit)


def region_progress(target: Target, *, granularity: str = "month") -> dict[str, Any]:
    """Actuals against the pace month by month (or by quarter / year), progress under the
    target's definition, and the forecast to the end of the period with its interval — for a
    target of any catalogue indicator (a sector target with its sector's statistics)."""
    holder = target.holder_division
    ind = target.definition
    series = series_for(target)
    rs = rule_set_for(target)
    is_intensity = ind.kind == "reduction"
    pace = target.pace
    definition = target.progress
    unit = ind.warning_unit
    amount_unit = _amount_unit(ind)
    n = target.end_year - target.base_year
    warnings = {(w.year, w.month): w for w in WarningRecord.objects.filter(target=target)}
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    if not series.annual and not series.ytd:
        sector = f" · {target.industry}" if target.industry_id else ""
        errors.append(
            _("没有%(h)s%(s)s的统计数据（%(cols)s）")
            % {"h": holder.name, "s": sector, "cols": ", ".join(ind.metric.inputs)}
        )
    for y, m in series.months():
        if not (target.base_year < y <= target.end_year):
            continue
        if target.period_kind != PeriodKind.FIVE_YEAR and y != target.end_year:
            continue
        if granularity == "quarter" and m % 3:
            continue
        if granularity == "year" and m != 12:
            continue
        req: Any = None
        try:
            act, req = observe(target, series, year=y, month=m, compares_with="pace")
            prog = target_progress(target, act)
        except tracking.NotDue:
            act = observe_actuals(target, series, year=y, month=m)
            prog = target_progress(target, act)
        except tracking.ObservationError as exc:
            errors.append(f"{y}-{m:02d}: {exc}")
            continue
        k = y - target.base_year
        row: dict[str, Any] = {
            "year": y,
            "month": m,
            "label": cumulative_period_label(y, m if m < 12 or act.estimated else None),
            "quarter_end": m % 3 == 0,
            "year_end": m == 12,
            "ytd_energy_tce": act.ytd_amount,
            "ytd_amount": act.ytd_amount,
            "ytd_growth_pct": _pct(act.ytd_growth_frac),
            "current_reduction_pct": _pct(act.current_reduction_frac),
            "cumulative_reduction_pct": _pct(act.cumulative_reduction_frac),
            "energy_estimate_tce": act.amount_estimate,
            "increment_tce": act.amount_estimate - act.base_amount,
            "time_pace_pct": _pct(time_pace_frac(k, n))
            if target.period_kind == PeriodKind.FIVE_YEAR
            else None,
            "required_pct": _pct(req.required) if is_intensity and req else None,
            "required_tce": None if is_intensity or req is None else req.required,
            "required": req.required if req else None,
            "achieved": req.achieved if req else act.amount_estimate,
            "required_means": req.required_means if req else _("达峰年前不评级"),
            "warning": warnings.get((y, m)),
            "estimated": act.estimated,
            "actuals": act,
            "requirement": req,
            "progress_pct": _pct(prog.value_frac, 1),
            "remaining": prog.remaining,
            "status": prog.status,
            "observed_peak_year": prog.observed_peak_year,
        }
        if is_intensity and target.period_kind != PeriodKind.FIVE_YEAR:
            row["progress_pct"] = None
        rows.append(row)
    latest = rows[-1] if rows else None
    forecast = _forecast(target, latest, series) if latest else None
    chart = _progress_chart(target, rows, forecast, granularity, is_intensity, unit)
    return {
        "target": target,
        "indicator": ind,
        "indicator_name": catalogue_view.name(ind),
        "holder": holder,
        "rows": rows,
        "latest": latest,
        "forecast": forecast,
        "chart": chart,
        "errors": errors,
        "granularity": granularity,
        "rule_set": rs,
        "unit": unit,
        "amount_unit": amount_unit,
        "amount_label": catalogue_view.unit_label(amount_unit),
        "pace_label": PACE_LABELS.get(pace, pace),
        "pace_formula": PACE_FORMULAS.get(pace, ""),
        "progress_label": PROGRESS_LABELS.get(definition, definition),
        "progress_formula": tracking.PROGRESS_FORMULAS.get(definition, ""),
        "is_intensity": is_intensity,
        "kind": ind.kind.value,
        "warnings": WarningRecord.objects.filter(target=target).order_by("-year", "-month"),
    }


def _progress_chart(
    target: Target,
    rows: list[dict[str, Any]],
    forecast: dict[str, Any] | None,
    granularity: str,
    is_intensity: bool,
    unit: str,
) -> dict[str, Any]:
    """The whole plan period on the x axis: actuals so far, the required path, the forecast."""
    steps = {"month": range(1, 13), "quarter": (3, 6, 9, 12), "year": (12,)}[granularity]
    first = target.base_year + 1 if target.period_kind == PeriodKind.FIVE_YEAR else target.end_year
    horizon = [(y, m) for y in range(first, target.end_year + 1) for m in steps]
    by = {(r["year"], r["month"]): r for r in rows}
    n = target.end_year - target.base_year
    achieved: list[float | None] = []
    required: list[float | None] = []
    ind = target.definition
    for y, m in horizon:
        r = by.get((y, m))
        k = y - target.base_year
        if is_intensity:
            achieved.append(r["cumulative_reduction_pct"] if r else None)
            if target.period_kind == PeriodKind.FIVE_YEAR:
                req = required_reduction_frac(target.target_frac, k, n, PaceDefinition(target.pace))
            else:
                req = target.target_frac
            required.append(round(req * 100, 3))
        else:
            achieved.append(_display(r["achieved"], unit) if r else None)
            if r is not None and r["required"] is not None:
                required.append(_display(r["required"], unit))
            elif ind.kind in ("increment", "period_cap", "amount") and n:
                required.append(_display(target.target_core * k / n, unit))
            else:
                required.append(None)
    chart: dict[str, Any] = {
        "labels": [f"{y}-{m:02d}" for y, m in horizon],
        "achieved": achieved,
        "required": required,
        "unit": "%" if unit == "frac" else catalogue_view.unit_label(unit),
    }
    if forecast and rows:
        last = (rows[-1]["year"], rows[-1]["month"])
        chart["forecast"] = {
            "from_label": f"{last[0]}-{last[1]:02d}",
            "from_value": achieved[horizon.index(last)] if last in horizon else None,
            "label": chart["labels"][-1],
            "central": forecast["central_display"],
            "low": forecast["low_display"],
            "high": forecast["high_display"],
            "target": forecast["target_display"],
        }
    return chart


def _forecast(
    target: Target, latest: dict[str, Any], series: tracking.StatSeries
) -> dict[str, Any] | None:
    act: tracking.Actuals = latest["actuals"]
    if target.period_kind != PeriodKind.FIVE_YEAR:
        return None
    ind = target.definition
    goal = target.target_core
    if ind.kind == "reduction":
        rates = [r for _, r in act.annual_reductions] + [act.current_reduction_frac]
        f = analysis.forecast_reduction(
            rates,
            act.cumulative_reduction_frac,
            end_year=target.end_year,
            year=act.year,
            month=act.month,
        )
        definition = ProgressDefinition(target.progress)
        incentive = float(target.incentive_value) / 100 if target.incentive_value else None

        def prog(x: float) -> float | None:
            try:
                return _pct(progress_frac(x, target.target_frac, definition), 1)
            except ProgressError:
                return None

        return {
            "forecast": f,
            "central_pct": _pct(f.central),
            "low_pct": _pct(f.low),
            "high_pct": _pct(f.high),
            "central_display": _pct(f.central),
            "low_display": _pct(f.low),
            "high_display": _pct(f.high),
            "target_display": float(target.base_value),
            "progress_central": prog(f.central),
            "progress_low": prog(f.low),
            "progress_high": prog(f.high),
            "meets": f.central >= target.target_frac,
            "meets_low": f.low >= target.target_frac,
            "meets_incentive": None if incentive is None else f.central >= incentive,
            "assumed_rate_pct": _pct(f.assumed_rate),
            "rate_sd_pp": _pct(f.rate_sd),
            "required_end_pct": _pct(
                required_reduction_frac(target.target_frac, 1, 1, PaceDefinition(target.pace))
            ),
        }
    if ind.kind == "peak_year":
        return None
    # the figure the kind is rated on, continued at the observed yearly growth
    values = [v for _, v in act.annual_values] + [act.value]
    amounts = [v for _, v in act.annual_amounts] + [act.amount_estimate]
    path = amounts if ind.kind in ("total", "increment", "period_cap", "amount") else values
    if len(path) < 2 or any(v <= 0 for v in path):
        return None
    f = analysis.forecast_energy(path, end_year=target.end_year, year=act.year, month=act.month)
    central, low, high = f.central, f.low, f.high
    if ind.kind == "increment":
        central, low, high = (
            central - act.base_amount,
            low - act.base_amount,
            high - act.base_amount,
        )
    elif ind.kind in ("period_cap", "amount"):
        # Σ of the remaining years along the forecast path (geometric in the central growth)
        years_left = target.end_year - act.year

        def total(end_value: float) -> float:
            if years_left <= 0:
                return act.period_sum
            g = (end_value / act.amount_estimate) ** (1 / years_left)
            return act.period_sum + sum(
                act.amount_estimate * g**j for j in range(1, years_left + 1)
            )

        central, low, high = total(f.central), total(f.low), total(f.high)
    lower_better = ind.direction == "lower_is_better"
    unit = ind.warning_unit
    return {
        "forecast": f,
        "central_tce": central,
        "low_tce": low,
        "high_tce": high,
        "central": central,
        "low": low,
        "high": high,
        "central_display": _display(central, unit),
        "low_display": _display(low, unit),
        "high_display": _display(high, unit),
        "target_display": _display(goal, unit),
        "meets": central <= goal if lower_better else central >= goal,
        "meets_low": high <= goal if lower_better else low >= goal,
        "assumed_rate_pct": _pct(f.assumed_rate),
        "rate_sd_pp": _pct(f.rate_sd),
    }


# ---------------------------------------------------------------------------------------------
# drill-down


#: the additive statistic → the accepted 205-1 report field the key units' part is taken from
UNIT_REPORT_FIELDS = {"energy_tce": "energy_tce", "co2_t": "co2_t"}


def _intensity_target(target: Target) -> Target | None:
    """The region's reduction target over the same amount (energy or CO2) and period."""
    ind = target.definition
    if ind.kind == "reduction" and ind.metric.kind == "intensity":
        return target
    column = ind.metric.amount_column
    codes = [
        i.code
        for i in catalogue_view.indicators()
        if i.kind == "reduction" and i.metric.kind == "intensity" and i.metric.numerator == column
    ]
    return (
        Target.objects.filter(
            division=target.division,
            indicator__in=codes,
            base_year=target.base_year,
            end_year=target.end_year,
            industry__isnull=True,
        )
        .select_related("division", "rule_set")
        .first()
    )


def _sub_warnings(user: Any, target: Target, year: int, month: int) -> Any:
    return (
        visible_warnings(user)
        .filter(
            target__parent__division=target.division,
            target__indicator=target.indicator,
            year=year,
            month=month,
        )
        .order_by("-severity", "division__code")
    )


def _regions_only(target: Target, user: Any, *, year: int, month: int) -> dict[str, Any]:
    """Drill-down of an indicator the key units do not report: the region's figures and its
    sub-regions' warnings for the same indicator."""
    out: dict[str, Any] = {"target": target, "year": year, "month": month, "error": None}
    out["regions_only"] = True
    rs = rule_set_for(target)
    try:
        act, req = observe(
            target, series_for(target), year=year, month=month, compares_with=rs.compares_with
        )
    except tracking.ObservationError as exc:
        out["error"] = str(exc)
        return out
    out.update(
        {
            "holder": target.holder_division,
            "actuals": act,
            "requirement": req,
            "unit": target.definition.warning_unit,
            "warning": WarningRecord.objects.filter(target=target, year=year, month=month).first(),
            "rule_set": rs,
            "sub_warnings": _sub_warnings(user, target, year, month),
            "units": [],
        }
    )
    return out


@dataclass(frozen=True)
class DrillUnit:
    """What the drill-down needs of a key unit."""

    name: str
    division_name: str
    industry_code: str
    industry_name: str
    annual_energy_tce: Any
    is_synthetic: bool


def drilldown(target: Target, user: Any, *, year: int, month: int) -> dict[str, Any]:
    """From a region's gap to the key units, sectors and sub-regions that drive it.

    The region must cut its intensity by r* this year to be on its requirement; each unit is
    held to the same cut at the region's GDP growth, so its excess is ``E_now − E_prev (1 + g)
    (1 − r*)`` (January…month, accepted 205-1 reports; energy or CO2 as the indicator's amount).
    Units are the key units the user may see; their excess is compared with the region's excess
    from the statistics.  Indicators the units do not report drill down to sub-regions only.
    """
    column = target.definition.metric.amount_column
    it = _intensity_target(target) if column in UNIT_REPORT_FIELDS else None
    if it is None or it.division_id is None or it.industry_id:
        return _regions_only(target, user, year=year, month=month)
    report_field = UNIT_REPORT_FIELDS[column]
    out: dict[str, Any] = {"target": target, "year": year, "month": month, "error": None}
    holder = it.division
    series = series_for(it)
    rs = rule_set_for(it)
    try:
        act, req = observe(it, series, year=year, month=month, compares_with=rs.compares_with)
    except tracking.ObservationError as exc:
        out["error"] = str(exc)
        return out
    r_star = analysis.required_year_reduction_frac(req, act)
    excess = analysis.region_excess_tce(
        act.ytd_energy_tce, act.ytd_energy_previous_tce, act.ytd_growth_frac, r_star
    )
    units = visible_entities(user).filter(
        division__path__startswith=holder.path, is_key_energy_unit=True
    )
    # the few columns the drill-down shows, not every unit as a model with its relations
    # (issue 18: thousands of objects per request at 10x the demo's units)
    unit_map = {
        row[0]: DrillUnit(*row[1:])
        for row in units.order_by().values_list(
            "pk",
            "name",
            "division__name",
            "industry__code",
            "industry__name",
            "annual_energy_tce",
            "is_synthetic",
        )
    }
    # January…month of this year and last from the units' roll-ups (rollups.UnitMonth): two rows
    # per unit instead of every monthly report (issue 18)
    cur: dict[int, tuple[float, int, float]] = {}
    prev: dict[int, tuple[float, int]] = {}
    # sums as floats from the database (the analysis is in floats): no Decimal per value
    for eid, y, amount, mask, energy in (
        UnitMonth.objects.filter(entity__in=units, year__in=(year, year - 1), month=month)
        .annotate(
            amount_f=Cast(f"ytd_{report_field}", FloatField()),
            energy_f=Cast("ytd_energy_tce", FloatField()),
        )
        .values_list("entity_id", "year", "amount_f", "ytd_months", "energy_f")
    ):
        if y == year:
            cur[eid] = (float(amount or 0), mask, float(energy or 0))
        else:
            prev[eid] = (float(amount or 0), mask)
    # last year had more months than this year: the same months only, from the month rows
    subset = {
        eid: months
        for eid, (_, months, _) in cur.items()
        if eid in prev and months & prev[eid][1] == months != prev[eid][1]
    }
    same_months: dict[int, float] = {}
    if subset:
        for eid, m, amount in UnitMonth.objects.filter(
            entity_id__in=subset, year=year - 1, month__lte=month
        ).values_list("entity_id", "month", report_field):
            if subset[eid] & (1 << (m - 1)):
                same_months[eid] = same_months.get(eid, 0.0) + float(amount or 0)
    inputs = []
    for eid, (current, months, cur_energy) in cur.items():
        ent = unit_map[eid]
        p_amount, p_months = prev.get(eid, (0.0, 0))
        # an estimate of last year's same months from the unit's annual energy (and, for CO2,
        # this year's CO2 per tce of the unit): 上年综合能源消费量 × months / 12 [× CO2/tce]
        per_tce = (
            1.0 if report_field == "energy_tce" else (current / cur_energy if cur_energy else None)
        )
        previous: float | None
        if months & p_months == months:  # last year has every month this year has
            previous = p_amount if months == p_months else same_months.get(eid, 0.0)
            estimated = False
        elif ent.annual_energy_tce and per_tce is not None:
            previous = float(ent.annual_energy_tce) * months.bit_count() / 12 * per_tce
            estimated = True
        else:
            previous, estimated = None, False
        inputs.append(
            analysis.UnitEnergy(
                key=eid,
                name=ent.name,
                division=ent.division_name,
                sector=f"{ent.industry_code} {ent.industry_name}",
                current_tce=current,
                previous_tce=previous,
                previous_estimated=estimated,
            )
        )
    contribs = analysis.unit_contributions(
        inputs, growth_frac=act.ytd_growth_frac, year_reduction_frac=r_star, region_excess=excess
    )
    by_key = {u.key: u for u in inputs}
    sectors = analysis.group_contributions(
        contribs, lambda c: (by_key[c.key].sector, by_key[c.key].sector), region_excess=excess
    )
    counties = analysis.group_contributions(
        contribs, lambda c: (by_key[c.key].division, by_key[c.key].division), region_excess=excess
    )
    positive = sum(c.excess_tce for c in contribs if c.excess_tce > 0)
    sub_warnings = _sub_warnings(user, it, year, month)
    warning = WarningRecord.objects.filter(target=it, year=year, month=month).first()
    out.update(
        {
            "intensity_target": it,
            "holder": holder,
            "actuals": act,
            "requirement": req,
            "warning": warning,
            "rule_set": rs,
            "year_reduction_pct": _pct(r_star),
            "current_reduction_pct": _pct(act.current_reduction_frac),
            "region_excess_tce": excess,
            "units": contribs,
            "unit_info": by_key,
            "entities": unit_map,
            "sectors": sectors,
            "counties": counties,
            "units_excess_tce": positive,
            "units_share_pct": _pct(positive / excess) if excess > 0 else None,
            "missing_previous": sum(1 for u in inputs if u.previous_tce is None),
            "estimated_previous": sum(1 for u in inputs if u.previous_estimated),
            "sub_warnings": sub_warnings,
            "amount_unit": _amount_unit(it.definition),
            "is_co2": report_field == "co2_t",
        }
    )
    return out
