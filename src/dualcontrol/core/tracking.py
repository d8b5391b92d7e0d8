"""Tracking any catalogue indicator against its target: actuals, pace requirement, progress.

Pure functions over a region's (or a sector's) statistics series.  The statistics bureau's rows
are used as published (never sums of key units):

* an annual row holds the whole year; a month row January to that month (1–M月累计), a quarter
  row the first q quarters (stored at month 3q);
* ``growth_frac`` is the real GDP (or value-added) growth against the same period of the previous
  year (可比价同比增长).

Metrics (:class:`dualcontrol.core.catalogue.Metric`), for one row F:

* column    ``A(F) = F[column] − deductions``;
* intensity numerator ``N(F) = F[numerator] − deductions`` over its denominator D at comparable
  prices (GDP, or the value the metric names, e.g. industrial value added); the change against the
  same period of the previous year is ``(N_t / N_{t−1}) / (1 + g_t) − 1`` with ``g_t`` the real
  growth of D (``gdp_real_growth_pct``, or ``X_real_growth_pct`` for a denominator ``X_10k_yuan``);
* share     ``S(F) = F[numerator] / F[denominator]``.

Deductions (14th-FYP rules, ``accounting_rules.yaml``): each adjustment column is subtracted from
the figures of the controls it is excluded from (``total`` for column metrics flagged so,
``intensity`` for intensity numerators flagged so); one rule set, applied to every figure.

Estimates for an incomplete year Y at month M (same as the energy barometer, shared/reference/05):
an additive amount ``A_Y ≈ A_{Y−1} · A_{Y,1..M} / A_{Y−1,1..M}``; a share ``S_Y ≈ S_{Y,1..M}``; an
intensity's reduction this year is that of January…M against the same months.

Kinds (requirement at the end of year Y, k = Y − b of n years):

* reduction  — achieved ``1 − Π(1 − r_s)``; required: compounded ``1 − (1 − R)^{k/n}`` (consistent
  with logarithmic progress) or linear ``R·k/n``; rule sets that compare with the annual target get
  this year's reduction against ``1 − (1 − R)^{1/n}`` (five-year) or R (annual target);
* level, total, share — achieved: the (estimated) value of year Y; required along the straight
  path ``V_b + (T − V_b)·k/n``;
* increment  — achieved ``A_Y − A_b``; required ``C·k/n``;
* period_cap — achieved ``Σ_{s=b+1..Y} A_s`` (this year estimated); required ``C·k/n``; the
  remaining budget is ``C − Σ``;
* amount     — achieved ``Σ_{s=b+1..Y} A_s``; required ``T·k/n`` (higher is better);
* peak_year  — after the declared year D: achieved ``A_Y``, required ``A_D`` (not above the peak);
  up to D not rated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dualcontrol.core.catalogue import (
    GDP_GROWTH_COLUMN,
    Direction,
    IndicatorDef,
    Kind,
    Metric,
    MetricKind,
)
from dualcontrol.core.progress import (
    PaceDefinition,
    ProgressDefinition,
    ProgressError,
    annual_rate_frac,
    cumulative_reduction_frac,
    progress_frac,
    required_reduction_frac,
)


class ObservationError(ValueError):
    """The statistics needed for an observation are missing (the message says which)."""


class NotDue(ObservationError):
    """The target is not rated at this point (e.g. a peak year still ahead)."""


@dataclass(frozen=True)
class Deduction:
    """A 14th-FYP deduction column and the controls it is excluded from."""

    column: str
    excluded_from: tuple[str, ...]


@dataclass(frozen=True)
class StatFigure:
    """One row of a region's statistics (a year, or January to a month)."""

    energy_tce: float
    gdp_10k_yuan: float
    growth_frac: float | None
    values: Mapping[str, float] = field(default_factory=dict)

    def get(self, column: str) -> float | None:
        if column == "energy_tce":
            return self.energy_tce
        if column == "gdp_10k_yuan":
            return self.gdp_10k_yuan
        return self.values.get(column)


@dataclass
class StatSeries:
    """A region's statistics: annual rows and cumulative (year-to-date) rows."""

    annual: dict[int, StatFigure] = field(default_factory=dict)
    ytd: dict[tuple[int, int], StatFigure] = field(default_factory=dict)

    def at(self, year: int, month: int) -> StatFigure | None:
        """January…``month`` of ``year``; for December the annual row wins when present."""
        if month == 12 and year in self.annual:
            return self.annual[year]
        return self.ytd.get((year, month))

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) with figures, in order (annual rows count as December)."""
        keys = set(self.ytd) | {(y, 12) for y in self.annual}
        return sorted(keys)


def _needed(fig: StatFigure, column: str, where: str) -> float:
    value = fig.get(column)
    if value is None:
        raise ObservationError(f"{column} missing for {where}")
    return float(value)


def amount(
    metric: Metric, fig: StatFigure, where: str, deductions: Sequence[Deduction] = ()
) -> float:
    """The additive amount behind ``metric`` in one row (numerator, less the deductions)."""
    value = _needed(fig, metric.amount_column, where)
    if metric.deductions and metric.amount_column == "energy_tce":
        for d in deductions:
            if metric.deductions in d.excluded_from:
                value -= float(fig.get(d.column) or 0.0)
    return value


def share(metric: Metric, fig: StatFigure, where: str) -> float:
    num = _needed(fig, metric.numerator, where)
    den = _needed(fig, metric.denominator, where)
    if den <= 0:
        raise ObservationError(f"{metric.denominator} must be positive for {where}")
    return num / den


def yoy_change_frac(
    metric: Metric,
    current: StatFigure,
    previous: StatFigure,
    where: str,
    deductions: Sequence[Deduction] = (),
) -> float:
    """The metric's change against the same period of the previous year."""
    if metric.kind is MetricKind.SHARE:
        prev = share(metric, previous, where)
        if prev <= 0:
            raise ObservationError(f"share of the previous period must be positive ({where})")
        return share(metric, current, where) / prev - 1
    a_now = amount(metric, current, where, deductions)
    a_prev = amount(metric, previous, where, deductions)
    if a_prev <= 0:
        raise ObservationError(
            f"{metric.amount_column} of the previous period must be positive ({where})"
        )
    if metric.kind is MetricKind.INTENSITY:
        growth = denominator_growth_frac(metric, current)
        if growth is None:
            column = metric.denominator_growth
            what = "real GDP growth" if column == GDP_GROWTH_COLUMN else "real growth"
            raise ObservationError(f"{what} ({column}) is missing ({where})")
        return (a_now / a_prev) / (1 + growth) - 1
    return a_now / a_prev - 1


def denominator_growth_frac(metric: Metric, fig: StatFigure) -> float | None:
    """The real growth of an intensity's denominator in one row (GDP: the row's growth)."""
    column = metric.denominator_growth
    if column == GDP_GROWTH_COLUMN:
        return fig.growth_frac
    value = fig.get(column)
    return None if value is None else value / 100


def denominator(metric: Metric, fig: StatFigure, where: str) -> float:
    """An intensity's denominator in one row (current prices; positive)."""
    column = metric.intensity_denominator
    value = _needed(fig, column, where)
    if value <= 0:
        raise ObservationError(f"{column} must be positive for {where}")
    return value


def _label(year: int, month: int) -> str:
    return f"{year}" if month == 12 else f"{year}-{month:02d}"


@dataclass(frozen=True)
class Actuals:
    """What the statistics say about one region's metric at (year, month)."""

    metric: str
    base_year: int
    year: int
    month: int
    annual_reductions: tuple[tuple[int, float], ...]  # completed years after the base
    current_reduction_frac: float  # this year, January…month vs the same months last year
    cumulative_reduction_frac: float  # since the base year, estimated through this year
    base_value: float  # the metric (level) in the base year
    value: float  # the metric (level) this year, estimated from the months so far
    base_amount: float  # the additive amount behind the metric in the base year
    previous_amount: float
    amount_estimate: float  # this year's amount, estimated from the months so far
    ytd_amount: float
    ytd_amount_previous: float
    period_sum: float  # Σ amounts of the years after the base through this year (estimated)
    annual_amounts: tuple[tuple[int, float], ...]  # base year … last complete year
    annual_values: tuple[tuple[int, float], ...]  # base year … last complete year
    ytd_growth_frac: float
    estimated: bool

    # names of the energy barometer (the energy metrics' amount is energy in tce)
    @property
    def base_energy_tce(self) -> float:
        return self.base_amount

    @property
    def previous_year_energy_tce(self) -> float:
        return self.previous_amount

    @property
    def energy_estimate_tce(self) -> float:
        return self.amount_estimate

    @property
    def ytd_energy_tce(self) -> float:
        return self.ytd_amount

    @property
    def ytd_energy_previous_tce(self) -> float:
        return self.ytd_amount_previous

    @property
    def cumulative_before_frac(self) -> float:
        """Reduction achieved through the end of the previous year."""
        return cumulative_reduction_frac(r for _, r in self.annual_reductions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "base_year": self.base_year,
            "year": self.year,
            "month": self.month,
            "annual_reductions": [[y, r] for y, r in self.annual_reductions],
            "current_reduction_frac": self.current_reduction_frac,
            "cumulative_reduction_frac": self.cumulative_reduction_frac,
            "base_value": self.base_value,
            "value": self.value,
            "base_energy_tce": self.base_amount,
            "previous_year_energy_tce": self.previous_amount,
            "energy_estimate_tce": self.amount_estimate,
            "ytd_energy_tce": self.ytd_amount,
            "ytd_energy_previous_tce": self.ytd_amount_previous,
            "period_sum": self.period_sum,
            "ytd_growth_frac": self.ytd_growth_frac,
            "estimated": self.estimated,
        }


def actuals(
    series: StatSeries,
    metric: Metric,
    *,
    base_year: int,
    year: int,
    month: int,
    deductions: Sequence[Deduction] = (),
) -> Actuals:
    """The region's ``metric`` at (year, month) measured from ``base_year``."""
    if year <= base_year:
        raise ObservationError(f"{year} is not after the base year {base_year}")
    missing = [str(y) for y in range(base_year, year) if y not in series.annual]
    current = series.at(year, month)
    previous = series.at(year - 1, month)
    if current is None:
        missing.append(f"{year}-{month:02d}")
    if previous is None:
        missing.append(f"{year - 1}-{month:02d}")
    if missing:
        raise ObservationError("statistics missing for " + ", ".join(missing))
    assert current is not None and previous is not None
    reductions = []
    for s in range(base_year + 1, year):
        change = yoy_change_frac(metric, series.annual[s], series.annual[s - 1], str(s), deductions)
        reductions.append((s, -change))
    where = _label(year, month)
    r_now = -yoy_change_frac(metric, current, previous, where, deductions)
    cumulative = cumulative_reduction_frac([r for _, r in reductions] + [r_now])
    complete = month == 12 and year in series.annual

    def amt(fig: StatFigure, w: str) -> float:
        if metric.kind is MetricKind.SHARE:
            return _needed(fig, metric.numerator, w)
        return amount(metric, fig, w, deductions)

    def level(fig: StatFigure, w: str) -> float:
        if metric.kind is MetricKind.SHARE:
            return share(metric, fig, w)
        if metric.kind is MetricKind.INTENSITY:
            return amt(fig, w) / denominator(metric, fig, w)
        return amt(fig, w)

    annual_amounts = tuple((y, amt(series.annual[y], str(y))) for y in range(base_year, year))
    prev_amount = annual_amounts[-1][1]
    ytd_now, ytd_prev = amt(current, where), amt(previous, where)
    if complete:
        estimate = amt(series.annual[year], str(year))
    elif ytd_prev == 0:
        raise ObservationError(f"{metric.amount_column} of {_label(year - 1, month)} is zero")
    else:
        estimate = prev_amount * ytd_now / ytd_prev
    base_value = level(series.annual[base_year], str(base_year))
    if metric.kind is MetricKind.INTENSITY:
        # levels at the base year's comparable prices: I_b · Π(1 − r)
        values = [(base_year, base_value)]
        for y, r in reductions:
            values.append((y, values[-1][1] * (1 - r)))
        value = base_value * (1 - cumulative)
    elif metric.kind is MetricKind.SHARE:
        values = [(y, share(metric, series.annual[y], str(y))) for y in range(base_year, year)]
        value = share(metric, series.annual[year] if complete else current, where)
    else:
        values = list(annual_amounts)
        value = estimate
    return Actuals(
        metric=metric.code,
        base_year=base_year,
        year=year,
        month=month,
        annual_reductions=tuple(reductions),
        current_reduction_frac=r_now,
        cumulative_reduction_frac=cumulative,
        base_value=base_value,
        value=value,
        base_amount=annual_amounts[0][1],
        previous_amount=prev_amount,
        amount_estimate=estimate,
        ytd_amount=ytd_now,
        ytd_amount_previous=ytd_prev,
        period_sum=sum(a for _, a in annual_amounts[1:]) + estimate,
        annual_amounts=annual_amounts,
        annual_values=tuple(values),
        ytd_growth_frac=(
            denominator_growth_frac(metric, current)
            if metric.kind is MetricKind.INTENSITY
            else current.growth_frac
        )
        or 0.0,
        estimated=not complete,
    )


@dataclass(frozen=True)
class Requirement:
    """The pair the barometer rates: what was required and what was achieved."""

    indicator: str  # the rating class (core/warning.py)
    required: float
    achieved: float
    basis: str  # pace | annual | cap
    formula: str
    means: dict[str, Any] = field(default_factory=dict)  # what ``required`` is, as data


FIVE_YEAR = "five_year"


def target_value(ind: IndicatorDef, value: float) -> float:
    """A target as stored (3.2 for 3.2 %) in core units (0.032)."""
    return value / 100 if ind.is_percent else value


def requirement(
    ind: IndicatorDef,
    act: Actuals,
    *,
    target: float,
    period_kind: str,
    base_year: int,
    end_year: int,
    compares_with: str = "pace",
    pace: str | None = None,
) -> Requirement:
    """What the rule set compares for a target of ``ind`` (``target`` in core units)."""
    n = end_year - base_year
    k = act.year - base_year
    five = period_kind == FIVE_YEAR
    cls = ind.rate_as
    if ind.kind is Kind.REDUCTION:
        pace_def = PaceDefinition(pace or ind.pace_default)
        if five and compares_with == "pace":
            required = required_reduction_frac(target, k, n, pace_def)
            formula = (
                "required = R·k/n"
                if pace_def is PaceDefinition.LINEAR
                else "required = 1 − (1 − R)^(k/n)"
            ) + "; achieved = 1 − Π(1 − r_year) through this year (YTD for the current year)"
            return Requirement(
                cls,
                required,
                act.cumulative_reduction_frac,
                "pace",
                formula,
                {"kind": "pace", "pace": pace_def.value, "k": k, "n": n},
            )
        if five:
            return Requirement(
                cls,
                annual_rate_frac(target, n),
                act.current_reduction_frac,
                "annual",
                "required = 1 − (1 − R)^(1/n); achieved = this year's reduction (YTD, 同比)",
                {"kind": "annual_of_five_year", "n": n},
            )
        return Requirement(
            cls,
            target,
            act.current_reduction_frac,
            "annual",
            "required = R; achieved = this year's reduction (YTD, 同比)",
            {"kind": "annual"},
        )
    if ind.kind is Kind.INCREMENT:
        if five:
            return Requirement(
                cls,
                target * k / n,
                act.amount_estimate - act.base_amount,
                "cap",
                "required = cap·k/n; achieved = A_year(estimated) − A_base",
                {"kind": "increment_pace", "k": k, "n": n},
            )
        return Requirement(
            cls,
            target,
            act.amount_estimate - act.previous_amount,
            "cap",
            "required = cap; achieved = A_year(estimated) − A_previous_year",
            {"kind": "increment_annual"},
        )
    if ind.kind in (Kind.PERIOD_CAP, Kind.AMOUNT):
        word = "budget" if ind.kind is Kind.PERIOD_CAP else "amount"
        if five:
            return Requirement(
                cls,
                target * k / n,
                act.period_sum,
                "cap" if ind.kind is Kind.PERIOD_CAP else "pace",
                f"required = {word}·k/n; achieved = Σ A_year from base+1 through this year "
                "(this year estimated)",
                {"kind": f"{word}_pace", "k": k, "n": n},
            )
        return Requirement(
            cls,
            target,
            act.amount_estimate,
            "cap" if ind.kind is Kind.PERIOD_CAP else "annual",
            f"required = {word}; achieved = A_year(estimated)",
            {"kind": f"{word}_annual"},
        )
    if ind.kind is Kind.PEAK_YEAR:
        declared = int(target)
        if act.year <= declared:
            raise NotDue(f"peak declared for {declared}: not rated before {declared + 1}")
        at_peak = dict(act.annual_amounts).get(declared)
        if at_peak is None:
            raise ObservationError(
                f"statistics of the declared peak year {declared} are needed (base year "
                f"{act.base_year})"
            )
        return Requirement(
            cls,
            at_peak,
            act.amount_estimate,
            "cap",
            "required = A_peak_year; achieved = A_year(estimated) (must not exceed the peak)",
            {"kind": "peak", "peak_year": declared},
        )
    # level, total, share: along the straight path from the base year's value (a total's value
    # is its additive amount)
    base_v, now_v = (
        (act.base_amount, act.amount_estimate)
        if ind.kind is Kind.TOTAL
        else (act.base_value, act.value)
    )
    if five:
        return Requirement(
            cls,
            base_v + (target - base_v) * k / n,
            now_v,
            "cap" if ind.direction is Direction.LOWER_IS_BETTER else "pace",
            "required = V_base + (T − V_base)·k/n; achieved = V_year(estimated)",
            {"kind": "total_pace" if ind.kind is Kind.TOTAL else "path_pace", "k": k, "n": n},
        )
    return Requirement(
        cls,
        target,
        now_v,
        "cap" if ind.direction is Direction.LOWER_IS_BETTER else "annual",
        "required = T; achieved = V_year(estimated)",
        {"kind": "total_annual" if ind.kind is Kind.TOTAL else "path_annual"},
    )


def required_year_reduction_frac(req: Requirement, act: Actuals) -> float:
    """The reduction this year needs (vs last year) to be on the rule set's requirement."""
    if req.basis == "pace" and req.means.get("kind", "pace") == "pace":
        return 1 - (1 - req.required) / (1 - act.cumulative_before_frac)
    return req.required


@dataclass(frozen=True)
class ProgressFigure:
    """完成进度 of a target with the definition that produced it."""

    value_frac: float | None
    definition: str
    formula: str
    remaining: float | None = None  # period caps: what is left of the budget
    status: str = ""  # peak years: not_due / held / exceeded / unknown
    observed_peak_year: int | None = None  # peak years: the highest year in the data so far,
    # None while the latest year is the highest (still rising)


PROGRESS_FORMULAS: dict[str, str] = {
    "log": "progress = ln(1 − achieved_reduction) / ln(1 − target_reduction)",
    "linear": "progress = achieved_reduction / target_reduction",
    "path": "progress = (V_year − V_base) / (T − V_base)",
    "used": "progress = used / cap (increment A_year − A_base; budget Σ A_year)",
    "delivered": "progress = Σ A_year / target",
    "peak": "peak: after the declared year, A_year ≤ A_declared_year",
}


def progress(
    ind: IndicatorDef,
    act: Actuals,
    *,
    target: float,
    definition: str | None = None,
) -> ProgressFigure:
    """完成进度 of ``act`` toward ``target`` (core units) under ``definition``."""
    d = definition or ind.progress_default
    formula = PROGRESS_FORMULAS.get(d, "")
    if ind.kind is Kind.REDUCTION:
        try:
            v: float | None = progress_frac(
                act.cumulative_reduction_frac, target, ProgressDefinition(d)
            )
        except ProgressError:
            v = None
        return ProgressFigure(v, d, formula)
    if ind.kind is Kind.INCREMENT:
        used = act.amount_estimate - act.base_amount
        return ProgressFigure(used / target if target > 0 else None, d, formula, target - used)
    if ind.kind is Kind.PERIOD_CAP:
        return ProgressFigure(
            act.period_sum / target if target > 0 else None, d, formula, target - act.period_sum
        )
    if ind.kind is Kind.AMOUNT:
        return ProgressFigure(act.period_sum / target if target > 0 else None, d, formula)
    if ind.kind is Kind.PEAK_YEAR:
        declared = int(target)
        amounts = dict(act.annual_amounts)
        if act.year <= declared:
            status = "not_due"
        elif declared not in amounts:
            status = "unknown"
        else:
            status = "held" if act.amount_estimate <= amounts[declared] else "exceeded"
        seen = {**amounts, act.year: act.amount_estimate}
        top = max(seen, key=lambda y: seen[y])
        return ProgressFigure(
            None,
            d,
            formula,
            status=status,
            observed_peak_year=None if top == act.year else top,
        )
    base_v, now_v = (
        (act.base_amount, act.amount_estimate)
        if ind.kind is Kind.TOTAL
        else (act.base_value, act.value)
    )
    span = target - base_v
    return ProgressFigure((now_v - base_v) / span if span else None, d, formula)


def series_values(
    series: StatSeries, metric: Metric, years: Iterable[int], deductions: Sequence[Deduction] = ()
) -> dict[int, float]:
    """The additive amount (or share) of ``metric`` in each annual row that has it."""
    out: dict[int, float] = {}
    for y in years:
        fig = series.annual.get(y)
        if fig is None:
            continue
        try:
            out[y] = (
                share(metric, fig, str(y))
                if metric.kind is MetricKind.SHARE
                else amount(metric, fig, str(y), deductions)
            )
        except ObservationError:
            continue
    return out
