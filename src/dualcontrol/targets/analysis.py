"""Barometer observations, forecasts, drill-down and the tile-grid layout (pure functions).

No database and no I/O here (Django only for the translatable labels):
:mod:`dualcontrol.targets.services` loads the statistics bureau's regional series and the units'
accepted 205-1 reports into these dataclasses, calls the functions below and writes the results.
Rates are fractions (0.032 = 3.2 %), energy in tce.

Regional statistics (统计部门数据, never sums of key units):

* an annual row holds the whole year; a month row holds the cumulative figures of January to
  that month (1–M月累计) and a quarter row those of the first q quarters (stored at month 3q);
* ``growth_frac`` is the real GDP growth against the same period of the previous year
  (可比价同比增长).

Definitions (shared/reference/02 and 05):

* intensity change against the same period of the previous year (单位GDP能耗同比变化):
  ``(E_t / E_{t−1}) / (1 + g_t) − 1`` — energy over GDP at comparable prices;
* the reduction achieved since the base year b, estimated through year Y from the months so far:
  ``1 − Π_{s=b+1..Y−1}(1 − r_s) · (1 − r_Y,YTD)`` (completed years from the annual rows, the
  current year from the cumulative months against the same months of the previous year);
* energy of year Y estimated from the months so far: ``E_{Y−1} · E_{Y,1..M} / E_{Y−1,1..M}``;
* the pace (序时进度) at the end of year Y is compared with that estimate: linear ``R·k/n`` or
  compounded ``1 − (1 − R)^{k/n}`` with k = Y − b, n = the plan's years
  (:func:`dualcontrol.core.progress.required_reduction_frac`); rule sets that compare with the
  *annual* target (e.g. local-l1, local-l2) get this year's reduction against the annual target
  (for a five-year target its implied annual average ``1 − (1 − R)^{1/n}``);
* increments: ``E_Y − E_b`` against the cap × k/n (time pace); totals: ``E_Y`` against
  ``E_b + (C − E_b)·k/n``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from dualcontrol.core import tracking
from dualcontrol.core.catalogue import IndicatorDef
from dualcontrol.core.progress import PaceDefinition

#: z of the two-sided 90 % normal interval used by the forecasts
Z90 = 1.6449
#: per-year standard deviation of a rate assumed while fewer than three years are observed
PRIOR_SD_FRAC = 0.01


ObservationError = tracking.ObservationError
NotDue = tracking.NotDue
StatFigure = tracking.StatFigure
StatSeries = tracking.StatSeries
Actuals = tracking.Actuals


def _energy_intensity() -> IndicatorDef:
    from dualcontrol.reference.catalogue import indicator

    return indicator("energy_intensity_reduction")


def yoy_intensity_change_frac(current: StatFigure, previous: StatFigure) -> float:
    """单位GDP能耗同比变化: (E_t / E_{t−1}) / (1 + g_t) − 1 (same period, comparable prices)."""
    return tracking.yoy_change_frac(_energy_intensity().metric, current, previous, "period")


def actuals(series: StatSeries, *, base_year: int, year: int, month: int) -> Actuals:
    """The region's energy-intensity reductions and energy at (year, month) from ``base_year``."""
    return tracking.actuals(
        series, _energy_intensity().metric, base_year=base_year, year=year, month=month
    )


@dataclass(frozen=True)
class Requirement:
    """The pair the barometer rates: what was required and what was achieved."""

    indicator: str  # rating class of core/warning.py (intensity_reduction, energy_total …)
    required: float
    achieved: float
    basis: str  # pace | annual | cap
    required_means: str  # :func:`required_means_label` of ``means`` in the active language
    formula: str
    means: dict[str, Any] = field(default_factory=dict)  # what ``required`` is, as data

    @classmethod
    def of(cls, req: tracking.Requirement) -> Requirement:
        return cls(
            req.indicator,
            req.required,
            req.achieved,
            req.basis,
            required_means_label(req.means),
            req.formula,
            dict(req.means),
        )


FIVE_YEAR = "five_year"


def required_means_label(means: dict[str, Any]) -> str:
    """What the required figure is (e.g. 序时进度（线性，2/5年）) in the active language.

    ``means`` is :attr:`Requirement.means`: ``kind`` (pace, annual_of_five_year, annual,
    increment_pace, increment_annual, total_pace, total_annual, path_pace, path_annual,
    budget_pace, budget_annual, amount_pace, amount_annual, peak) with ``pace``, ``k``, ``n``.
    """
    kind = means.get("kind", "")
    k, n = means.get("k"), means.get("n")
    if kind == "pace":
        if means.get("pace") == PaceDefinition.LINEAR.value:
            return _("序时进度（线性，%(k)s/%(n)s年）") % {"k": k, "n": n}
        return _("序时进度（复合，%(k)s/%(n)s年）") % {"k": k, "n": n}
    if kind == "annual_of_five_year":
        return _("年度目标（五年目标折算年均降低率，%(n)s年）") % {"n": n}
    if kind == "increment_pace":
        return _("增量控制进度（时间进度 %(k)s/%(n)s）") % {"k": k, "n": n}
    if kind == "increment_annual":
        return _("年度增量控制目标")
    if kind == "total_pace":
        return _("总量控制进度（时间进度 %(k)s/%(n)s）") % {"k": k, "n": n}
    if kind == "total_annual":
        return _("年度总量控制目标")
    if kind == "path_pace":
        return _("目标路径进度（基期值→目标值，%(k)s/%(n)s）") % {"k": k, "n": n}
    if kind == "path_annual":
        return _("年度目标值")
    if kind == "budget_pace":
        return _("预算使用进度（时间进度 %(k)s/%(n)s）") % {"k": k, "n": n}
    if kind == "budget_annual":
        return _("年度预算")
    if kind == "amount_pace":
        return _("累计完成进度（时间进度 %(k)s/%(n)s）") % {"k": k, "n": n}
    if kind == "amount_annual":
        return _("年度目标量")
    if kind == "peak":
        return _("达峰年（%(y)s年）排放水平") % {"y": means.get("peak_year")}
    return _("年度目标")


def intensity_requirement(
    *,
    target_frac: float,
    period_kind: str,
    base_year: int,
    end_year: int,
    act: Actuals,
    compares_with: str,
    pace: PaceDefinition,
) -> Requirement:
    """强度降低: the required and achieved reduction the rule set compares."""
    return Requirement.of(
        tracking.requirement(
            _energy_intensity(),
            act,
            target=target_frac,
            period_kind=period_kind,
            base_year=base_year,
            end_year=end_year,
            compares_with=compares_with,
            pace=pace.value,
        )
    )


def energy_requirement(
    *,
    indicator: str,
    cap_tce: float,
    period_kind: str,
    base_year: int,
    end_year: int,
    act: Actuals,
) -> Requirement:
    """总量 / 增量: the allowed and the (estimated) actual figure for this year."""
    from dualcontrol.reference.catalogue import indicator as catalogue_entry

    return Requirement.of(
        tracking.requirement(
            catalogue_entry(indicator),
            act,
            target=cap_tce,
            period_kind=period_kind,
            base_year=base_year,
            end_year=end_year,
        )
    )


def required_year_reduction_frac(req: Requirement, act: Actuals) -> float:
    """The reduction this year needs (vs last year) to be on the rule set's requirement."""
    return tracking.required_year_reduction_frac(
        tracking.Requirement(
            req.indicator, req.required, req.achieved, req.basis, req.formula, req.means
        ),
        act,
    )


# ---------------------------------------------------------------------------------------------
# forecast


@dataclass(frozen=True)
class Forecast:
    """预测: the figure at the end of the plan period with a 90 % interval."""

    end_year: int
    central: float
    low: float
    high: float
    assumed_rate: float  # per year, for the remaining years
    rate_sd: float
    years_left: int
    observed_years: int
    method: str


def _log_path(
    steps: Sequence[float], years_left: int, month: int, prior_sd: float
) -> tuple[float, float, float]:
    """Mean step, its sd per year and the sd of the sum of the remaining steps (log units).

    Remaining years each draw a step with the observed mean and sd; the mean itself is uncertain
    (sd/√k); the unobserved months of the current year add (12 − month)/12 of a year's sd.
    """
    k = len(steps)
    mean = statistics.fmean(steps)
    sd = statistics.stdev(steps) if k >= 3 else prior_sd
    sd = max(sd, prior_sd / 2)
    f = (12 - month) / 12
    total_sd = sd * math.sqrt(years_left + years_left**2 / k + f**2)
    return mean, sd, total_sd


def forecast_reduction(
    rates: Sequence[float],
    achieved_frac: float,
    *,
    end_year: int,
    year: int,
    month: int,
    prior_sd_frac: float = PRIOR_SD_FRAC,
) -> Forecast:
    """End-of-period cumulative intensity reduction from the yearly reductions observed so far.

    ``rates`` are the reductions of each year since the base (the current year's from its
    months so far); the remaining years are assumed to continue at their mean, in log space:
    ``ln(1 − A_end) = ln(1 − a) + m·ln(1 − r̄) ± z·sd`` (normal approximation, 90 %).
    """
    if not rates:
        raise ObservationError("no observed year to forecast from")
    years_left = max(end_year - year, 0)
    steps = [math.log1p(-r) for r in rates]
    mean, sd, total_sd = _log_path(steps, years_left, month, prior_sd_frac)
    centre = math.log1p(-achieved_frac) + years_left * mean

    def to_reduction(x: float) -> float:
        return 1 - math.exp(x)

    return Forecast(
        end_year=end_year,
        central=to_reduction(centre),
        low=to_reduction(centre + Z90 * total_sd),
        high=to_reduction(centre - Z90 * total_sd),
        assumed_rate=-math.expm1(mean),
        rate_sd=sd,
        years_left=years_left,
        observed_years=len(rates),
        method="log-linear continuation of the observed yearly reductions; 90 % normal interval",
    )


def forecast_energy(
    energies: Sequence[float],
    *,
    end_year: int,
    year: int,
    month: int,
    prior_sd_frac: float = PRIOR_SD_FRAC,
) -> Forecast:
    """End-of-period energy (tce) continuing the observed yearly growth (``energies`` = the
    base year … this year, the last one estimated from the months so far)."""
    if len(energies) < 2:
        raise ObservationError("need the base year and at least one more year")
    steps = [math.log(b / a) for a, b in itertools.pairwise(energies)]
    years_left = max(end_year - year, 0)
    mean, sd, total_sd = _log_path(steps, years_left, month, prior_sd_frac)
    centre = math.log(energies[-1]) + years_left * mean
    return Forecast(
        end_year=end_year,
        central=math.exp(centre),
        low=math.exp(centre - Z90 * total_sd),
        high=math.exp(centre + Z90 * total_sd),
        assumed_rate=math.expm1(mean),
        rate_sd=sd,
        years_left=years_left,
        observed_years=len(steps),
        method="log-linear continuation of the observed yearly energy growth; 90 % normal interval",
    )


# ---------------------------------------------------------------------------------------------
# drill-down


@dataclass(frozen=True)
class UnitEnergy:
    """A key unit's energy for January…month of this year and the same months of last year."""

    key: Hashable
    name: str
    division: str
    sector: str
    current_tce: float
    previous_tce: float | None
    previous_estimated: bool = False  # previous year from the unit's annual total, not reports


@dataclass(frozen=True)
class Contribution:
    """A unit's (or a group's) part in the region's gap: energy above what the pace allows."""

    key: Hashable
    name: str
    current_tce: float
    allowed_tce: float
    excess_tce: float  # > 0 drives the gap
    growth_frac: float | None
    share_of_gap_frac: float | None
    units: int = 1
    previous_estimated: bool = False


def region_excess_tce(
    ytd_tce: float, ytd_previous_tce: float, growth_frac: float, year_reduction_frac: float
) -> float:
    """Energy used above what this year's required reduction allows, January…month (tce)."""
    return ytd_tce - ytd_previous_tce * (1 + growth_frac) * (1 - year_reduction_frac)


def unit_contributions(
    units: Iterable[UnitEnergy],
    *,
    growth_frac: float,
    year_reduction_frac: float,
    region_excess: float | None,
) -> list[Contribution]:
    """Each unit's energy against what it may use if it cut its intensity like the region must
    (same GDP growth): ``allowed = E_prev · (1 + g) · (1 − r*)``; ranked by excess, largest first.
    Units without a previous-year figure are left out (they cannot be compared)."""
    out = []
    for u in units:
        if u.previous_tce is None or u.previous_tce <= 0:
            continue
        allowed = u.previous_tce * (1 + growth_frac) * (1 - year_reduction_frac)
        excess = u.current_tce - allowed
        out.append(
            Contribution(
                key=u.key,
                name=u.name,
                current_tce=u.current_tce,
                allowed_tce=allowed,
                excess_tce=excess,
                growth_frac=u.current_tce / u.previous_tce - 1,
                share_of_gap_frac=excess / region_excess
                if region_excess and region_excess > 0
                else None,
                previous_estimated=u.previous_estimated,
            )
        )
    return sorted(out, key=lambda c: (-c.excess_tce, str(c.name)))


def group_contributions(
    contributions: Iterable[Contribution],
    key: Callable[[Contribution], tuple[Hashable, str]],
    *,
    region_excess: float | None,
) -> list[Contribution]:
    """Contributions summed by a key (sector, county …), ranked by excess."""
    groups: dict[Hashable, list[Contribution]] = {}
    names: dict[Hashable, str] = {}
    for c in contributions:
        k, name = key(c)
        groups.setdefault(k, []).append(c)
        names[k] = name
    out = []
    for k, items in groups.items():
        current = sum(c.current_tce for c in items)
        allowed = sum(c.allowed_tce for c in items)
        excess = current - allowed
        previous = sum(c.current_tce / (1 + (c.growth_frac or 0)) for c in items)
        out.append(
            Contribution(
                key=k,
                name=names[k],
                current_tce=current,
                allowed_tce=allowed,
                excess_tce=excess,
                growth_frac=current / previous - 1 if previous else None,
                share_of_gap_frac=excess / region_excess
                if region_excess and region_excess > 0
                else None,
                units=len(items),
                previous_estimated=any(c.previous_estimated for c in items),
            )
        )
    return sorted(out, key=lambda c: (-c.excess_tce, str(c.name)))


# ---------------------------------------------------------------------------------------------
# tile-grid map


def tile_grid(
    points: Sequence[tuple[Hashable, float | None, float | None]],
    *,
    cols: int | None = None,
    rows: int | None = None,
) -> tuple[dict[Hashable, tuple[int, int]], int, int]:
    """Place each region on a square of a grid, roughly where it lies (north up).

    Longitude/latitude are scaled onto the grid and squares assigned by minimum total squared
    distance (``scipy.optimize.linear_sum_assignment``), so no two regions share a square;
    regions without coordinates take the free squares left over.  Returns
    ``({key: (row, col)}, rows, cols)`` with row 0 at the top.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    n = len(points)
    if n == 0:
        return {}, 0, 0
    side = math.ceil(math.sqrt(n)) + (1 if n > 3 else 0)
    cols = cols or side
    rows = rows or max(math.ceil(n / cols), side + (1 if n > 8 else 0))
    if rows * cols < n:
        raise ValueError(f"a {rows}×{cols} grid cannot hold {n} regions")
    located = [(k, lon, lat) for k, lon, lat in points if lon is not None and lat is not None]
    others = [k for k, lon, lat in points if lon is None or lat is None]
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    placed: dict[Hashable, tuple[int, int]] = {}
    if located:
        lons = [float(p[1]) for p in located]  # type: ignore[arg-type]
        lats = [float(p[2]) for p in located]  # type: ignore[arg-type]
        lo_x, hi_x, lo_y, hi_y = min(lons), max(lons), min(lats), max(lats)
        span_x = (hi_x - lo_x) or 1.0
        span_y = (hi_y - lo_y) or 1.0
        ideal = [
            ((hi_y - lat) / span_y * (rows - 1), (lon - lo_x) / span_x * (cols - 1))
            for lon, lat in zip(lons, lats, strict=True)
        ]
        cost = np.array([[(r - y) ** 2 + (c - x) ** 2 for r, c in cells] for y, x in ideal])
        point_idx, cell_idx = linear_sum_assignment(cost)
        for p, c in zip(point_idx, cell_idx, strict=True):
            placed[located[p][0]] = cells[c]
    free = [c for c in cells if c not in set(placed.values())]
    for k, cell in zip(others, free, strict=False):
        placed[k] = cell
    return placed, rows, cols
