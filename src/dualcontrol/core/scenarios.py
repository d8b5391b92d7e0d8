"""What projects do to a region's gap (项目对目标缺口的影响), and the gating rules of investment projects.

Pure: plain values in, plain values out (rules arrive as dataclasses built by
:mod:`dualcontrol.reference.project_gating` from ``project_gating.yaml``).  Fractions are ``_frac``.

**Scenario formula** (documented on the pages and in ``docs/projects.md``).  From a base year ``b`` with
energy ``E_b`` (tce), CO2 ``C_b`` (t) and GDP ``G_b`` (10 000 yuan, comparable prices of the base year), and
annual growth ``g_G, g_E, g_C`` of the region *without* the projects, for every year ``y`` up to the period end::

    E_y = E_b·(1+g_E)^(y−b) + Σ_p s_p(y)·e_p        (e_p: annual energy of project p; negative = elimination)
    C_y = C_b·(1+g_C)^(y−b) + Σ_p s_p(y)·c_p
    G_y = G_b·(1+g_G)^(y−b) + Σ_p s_p(y)·v_p        (v_p: value added at comparable prices)
    s_p(y) = 0 before the start year, ramp-up share r in the start year, 1 afterwards
    intensity I_y = E_y / G_y;  reduction a_y = 1 − I_y / I_b
    progress  = progress_frac(a_y, target, definition)   (core.progress: log or linear)
    required  = required_reduction_frac(target, y − b, end − b, pace)   (序时进度)

The ramp-up share ``r`` is data (``ramp_up`` in ``project_gating.yaml``, a platform rule).  Attainment at the
period end: intensity reduction ≥ target; totals ≤ cap; the period's cumulative totals (b+1 … end) ≤ budget.
Comparisons allow ``TOLERANCE`` for floating-point noise only.

**Gating rules**: 两高 classification by GB/T 4754 code prefix (:func:`classify_two_high`), the capacity
replacement ratio in force (:func:`replacement_ratio`), the review authority and exemption
(:func:`review_authority`), and the re-review trigger on actual vs approved figures (:func:`overrun`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dualcontrol.core.progress import (
    PaceDefinition,
    ProgressDefinition,
    ProgressError,
    progress_frac,
    required_reduction_frac,
)

#: floating-point noise allowed when comparing a result with a target, cap or threshold
TOLERANCE = 1e-9


class ScenarioError(ValueError):
    """Inputs outside the domain of the scenario formula or of a gating rule."""


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionBase:
    """基期 figures of a region (GDP at the comparable prices of the base year)."""

    year: int
    energy_tce: float
    co2_t: float
    gdp_10k_yuan: float


@dataclass(frozen=True)
class Growth:
    """Annual growth of the region without the projects (fractions: 0.05 = 5 % a year)."""

    gdp_frac: float
    energy_frac: float
    co2_frac: float


@dataclass(frozen=True)
class ScenarioTargets:
    """The region's targets for the period ``base year → end_year`` (None = no such target)."""

    end_year: int
    energy_intensity_reduction_frac: float | None = None
    co2_intensity_reduction_frac: float | None = None
    energy_total_cap_tce: float | None = None
    co2_total_cap_t: float | None = None
    energy_budget_tce: float | None = None
    co2_budget_t: float | None = None
    progress_definition: ProgressDefinition = ProgressDefinition.LOG
    pace_definition: PaceDefinition = PaceDefinition.LINEAR


@dataclass(frozen=True)
class RampUp:
    """投产当年的计入比例 (a platform rule, with its source)."""

    first_year_share_frac: float
    source: str = ""


@dataclass(frozen=True)
class ScenarioProject:
    """A project's annual figures at full operation (negative for capacity taken out)."""

    name: str
    start_year: int
    energy_tce: float
    co2_t: float
    value_added_10k_yuan: float = 0.0
    #: this project's own first-year share (e.g. from its operation month); None = the ramp-up rule
    first_year_share_frac: float | None = None


def first_year_share_from_month(month: int) -> float:
    """First-year share of a project operating from ``month``: the months left in the year / 12."""
    if not 1 <= month <= 12:
        raise ScenarioError(f"a month is 1–12, got {month!r}")
    return (13 - month) / 12


def operating_share(project: ScenarioProject, year: int, ramp: RampUp) -> float:
    """s_p(y): 0 before the start year, the ramp-up share in it, 1 after it."""
    if year < project.start_year:
        return 0.0
    if year == project.start_year:
        share = project.first_year_share_frac
        return ramp.first_year_share_frac if share is None else share
    return 1.0


@dataclass(frozen=True)
class YearFigures:
    year: int
    energy_tce: float
    co2_t: float
    gdp_10k_yuan: float
    energy_intensity_tce_per_10k_yuan: float
    co2_intensity_t_per_10k_yuan: float
    energy_intensity_reduction_frac: float
    co2_intensity_reduction_frac: float
    energy_progress_frac: float | None
    co2_progress_frac: float | None
    energy_required_frac: float | None
    co2_required_frac: float | None
    cumulative_energy_tce: float
    cumulative_co2_t: float


@dataclass(frozen=True)
class Attainment:
    """目标完成情况 at the period end (None = the region has no such target)."""

    energy_intensity: bool | None
    co2_intensity: bool | None
    energy_total: bool | None
    co2_total: bool | None
    energy_budget: bool | None
    co2_budget: bool | None

    @property
    def over_budget(self) -> bool:
        """A total cap or a period budget (energy or CO2) is exceeded."""
        return any(
            v is False
            for v in (self.energy_total, self.co2_total, self.energy_budget, self.co2_budget)
        )

    @property
    def all_met(self) -> bool:
        return not any(
            v is False
            for v in (
                self.energy_intensity,
                self.co2_intensity,
                self.energy_total,
                self.co2_total,
                self.energy_budget,
                self.co2_budget,
            )
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    base: RegionBase
    targets: ScenarioTargets
    years: tuple[YearFigures, ...]
    attainment: Attainment
    projects: tuple[ScenarioProject, ...] = ()

    @property
    def end(self) -> YearFigures:
        return self.years[-1]


def _check(base: RegionBase, growth: Growth, targets: ScenarioTargets) -> None:
    if targets.end_year <= base.year:
        raise ScenarioError("the period end must be after the base year")
    for name, value in (
        ("base energy", base.energy_tce),
        ("base CO2", base.co2_t),
        ("base GDP", base.gdp_10k_yuan),
    ):
        if not (math.isfinite(value) and value > 0):
            raise ScenarioError(f"{name} must be a positive number, got {value!r}")
    for name, rate in (
        ("GDP growth", growth.gdp_frac),
        ("energy growth", growth.energy_frac),
        ("CO2 growth", growth.co2_frac),
    ):
        if not (math.isfinite(rate) and rate > -1):
            raise ScenarioError(f"{name} must be above −100 %, got {rate!r}")
    for name, target in (
        ("energy intensity target", targets.energy_intensity_reduction_frac),
        ("CO2 intensity target", targets.co2_intensity_reduction_frac),
    ):
        if target is not None and not 0 < target < 1:
            raise ScenarioError(f"{name} must be between 0 and 1, got {target!r}")


def _progress(
    achieved: float, target: float | None, definition: ProgressDefinition
) -> float | None:
    if target is None:
        return None
    try:
        return progress_frac(achieved, target, definition)
    except ProgressError:
        return None


def _at_most(value: float, cap: float | None) -> bool | None:
    return None if cap is None else value <= cap + TOLERANCE * max(1.0, abs(cap))


def _at_least(value: float, target: float | None) -> bool | None:
    return None if target is None else value >= target - TOLERANCE


def run_scenario(
    *,
    name: str,
    base: RegionBase,
    growth: Growth,
    targets: ScenarioTargets,
    projects: Iterable[ScenarioProject] = (),
    ramp: RampUp,
) -> Scenario:
    """The region year by year from ``base.year`` to ``targets.end_year`` with ``projects``."""
    _check(base, growth, targets)
    if not 0 <= ramp.first_year_share_frac <= 1:
        raise ScenarioError("the ramp-up share must be between 0 and 1")
    plist = tuple(projects)
    for p in plist:
        if p.first_year_share_frac is not None and not 0 <= p.first_year_share_frac <= 1:
            raise ScenarioError(f"{p.name}: the first-year share must be between 0 and 1")
    n = targets.end_year - base.year
    i_e0 = base.energy_tce / base.gdp_10k_yuan
    i_c0 = base.co2_t / base.gdp_10k_yuan
    out: list[YearFigures] = []
    cum_e = cum_c = 0.0
    for k in range(n + 1):
        y = base.year + k
        e = base.energy_tce * (1 + growth.energy_frac) ** k
        c = base.co2_t * (1 + growth.co2_frac) ** k
        g = base.gdp_10k_yuan * (1 + growth.gdp_frac) ** k
        for p in plist:
            s = operating_share(p, y, ramp)
            e += s * p.energy_tce
            c += s * p.co2_t
            g += s * p.value_added_10k_yuan
        if g <= 0 or e < 0 or c < 0:
            raise ScenarioError(f"{y}: the projects leave a negative total or no GDP")
        if k > 0:
            cum_e += e
            cum_c += c
        a_e = 1 - (e / g) / i_e0
        a_c = 1 - (c / g) / i_c0
        t_e, t_c = targets.energy_intensity_reduction_frac, targets.co2_intensity_reduction_frac
        out.append(
            YearFigures(
                year=y,
                energy_tce=e,
                co2_t=c,
                gdp_10k_yuan=g,
                energy_intensity_tce_per_10k_yuan=e / g,
                co2_intensity_t_per_10k_yuan=c / g,
                energy_intensity_reduction_frac=a_e,
                co2_intensity_reduction_frac=a_c,
                energy_progress_frac=_progress(a_e, t_e, targets.progress_definition),
                co2_progress_frac=_progress(a_c, t_c, targets.progress_definition),
                energy_required_frac=None
                if t_e is None
                else float(required_reduction_frac(t_e, k, n, targets.pace_definition)),
                co2_required_frac=None
                if t_c is None
                else float(required_reduction_frac(t_c, k, n, targets.pace_definition)),
                cumulative_energy_tce=cum_e,
                cumulative_co2_t=cum_c,
            )
        )
    end = out[-1]
    attainment = Attainment(
        energy_intensity=_at_least(
            end.energy_intensity_reduction_frac, targets.energy_intensity_reduction_frac
        ),
        co2_intensity=_at_least(
            end.co2_intensity_reduction_frac, targets.co2_intensity_reduction_frac
        ),
        energy_total=_at_most(end.energy_tce, targets.energy_total_cap_tce),
        co2_total=_at_most(end.co2_t, targets.co2_total_cap_t),
        energy_budget=_at_most(end.cumulative_energy_tce, targets.energy_budget_tce),
        co2_budget=_at_most(end.cumulative_co2_t, targets.co2_budget_t),
    )
    return Scenario(
        name=name,
        base=base,
        targets=targets,
        years=tuple(out),
        attainment=attainment,
        projects=plist,
    )


@dataclass(frozen=True)
class Comparison:
    """The same region with and without a set of projects (side by side, year by year)."""

    without: Scenario
    with_projects: Scenario

    def rows(self) -> list[tuple[YearFigures, YearFigures]]:
        return list(zip(self.without.years, self.with_projects.years, strict=True))

    @property
    def end_delta_energy_tce(self) -> float:
        return self.with_projects.end.energy_tce - self.without.end.energy_tce

    @property
    def end_delta_co2_t(self) -> float:
        return self.with_projects.end.co2_t - self.without.end.co2_t

    @property
    def end_delta_co2_intensity_reduction_frac(self) -> float:
        return (
            self.with_projects.end.co2_intensity_reduction_frac
            - self.without.end.co2_intensity_reduction_frac
        )

    @property
    def end_delta_energy_intensity_reduction_frac(self) -> float:
        return (
            self.with_projects.end.energy_intensity_reduction_frac
            - self.without.end.energy_intensity_reduction_frac
        )


def compare(
    *,
    base: RegionBase,
    growth: Growth,
    targets: ScenarioTargets,
    projects: Iterable[ScenarioProject],
    ramp: RampUp,
    name_without: str = "without",
    name_with: str = "with",
) -> Comparison:
    """Run the region without and with ``projects`` under the same growth and targets."""
    plist = tuple(projects)
    return Comparison(
        without=run_scenario(
            name=name_without, base=base, growth=growth, targets=targets, ramp=ramp
        ),
        with_projects=run_scenario(
            name=name_with, base=base, growth=growth, targets=targets, projects=plist, ramp=ramp
        ),
    )


# --------------------------------------------------------------------------------------------
# 两高 classification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndustryClass:
    code: str
    name_zh: str
    industries: tuple[str, ...]


@dataclass(frozen=True)
class ClassRuleSet:
    """A 两高 definition (MEE 2021 six categories, NDRC 2021 six industries …) with its validity."""

    code: str
    title_zh: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    classes: tuple[IndustryClass, ...]

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class ClassMatch:
    rule_set: str
    class_code: str
    class_name_zh: str
    #: False: the industry is coded more coarsely than the class — confirm by the main product
    certain: bool


@dataclass(frozen=True)
class TwoHighResult:
    """两高 or not, with every class that matched (a project is 两高 when one rule set says so)."""

    industry_code: str
    matches: tuple[ClassMatch, ...]

    @property
    def is_two_high(self) -> bool:
        return any(m.certain for m in self.matches)

    @property
    def possible(self) -> bool:
        """Not certainly 两高, but a class lies inside the industry (认定以主产品为准)."""
        return not self.is_two_high and bool(self.matches)


def classify_two_high(
    industry_code: str, rule_sets: Sequence[ClassRuleSet], day: dt.date
) -> TwoHighResult:
    """两高 classification of a GB/T 4754 industry code under the rule sets in force on ``day``."""
    code = (industry_code or "").strip()
    matches: list[ClassMatch] = []
    if code:
        for rs in rule_sets:
            if not rs.valid_on(day):
                continue
            for c in rs.classes:
                if any(code.startswith(prefix) for prefix in c.industries):
                    matches.append(ClassMatch(rs.code, c.code, c.name_zh, True))
                elif any(prefix.startswith(code) for prefix in c.industries):
                    matches.append(ClassMatch(rs.code, c.code, c.name_zh, False))
    return TwoHighResult(industry_code=code, matches=tuple(matches))


# --------------------------------------------------------------------------------------------
# Capacity replacement (产能置换)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplacementRatio:
    sector: str
    zone: str
    case: str
    ratio: float
    valid_from: dt.date | None
    valid_to: dt.date | None
    source: str
    quote: str = ""

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def replacement_ratio(
    ratios: Sequence[ReplacementRatio], *, sector: str, zone: str, case: str, day: dt.date
) -> ReplacementRatio:
    """The minimum replacement ratio in force for (sector, zone, case) on ``day``; a ratio that
    applies to every zone (``any``) answers when the zone has none.  ScenarioError when none is
    known (e.g. flat glass: NOT FOUND) — never a guessed ratio."""
    valid = [r for r in ratios if r.sector == sector and r.case == case and r.valid_on(day)]
    for wanted in (zone, "any"):
        found = [r for r in valid if r.zone == wanted]
        if found:
            return max(found, key=lambda r: r.valid_from or dt.date.min)
    raise ScenarioError(f"no replacement ratio for {sector}/{zone}/{case} on {day.isoformat()}")


def required_replacement(new_capacity: float, ratio: ReplacementRatio) -> float:
    """Capacity to be taken out for ``new_capacity`` (new × ratio)."""
    if new_capacity < 0:
        raise ScenarioError("new capacity cannot be negative")
    return new_capacity * ratio.ratio


def replacement_sufficient(
    new_capacity: float, replaced_capacity: float, ratio: ReplacementRatio
) -> bool:
    """置换比例“不低于” the ratio: replaced ≥ new × ratio."""
    need = required_replacement(new_capacity, ratio)
    return replaced_capacity >= need - TOLERANCE * max(1.0, need)


# --------------------------------------------------------------------------------------------
# Review authority and exemption (节能审查权限)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewThresholds:
    code: str
    title_zh: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    provincial_min_tce: float | None
    exempt_below_tce: float | None
    exempt_below_electricity_kwh: float | None
    exempt_below_coal_t: float | None
    source: str
    conflict: str = ""

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class Authority(StrEnum):
    EXEMPT = "exempt"  # 不再单独进行节能审查
    PROVINCIAL = "provincial"  # 省级节能审查机关
    LOCAL = "local"  # below the provincial threshold: the province's own split
    UNKNOWN = "unknown"  # the rule in force gives no threshold (NOT FOUND) and none is configured


@dataclass(frozen=True)
class ReviewAuthority:
    authority: Authority
    rule: ReviewThresholds
    threshold_tce: float | None
    threshold_is_platform_rule: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


def thresholds_on(rules: Sequence[ReviewThresholds], day: dt.date) -> ReviewThresholds:
    found = [r for r in rules if r.valid_on(day)]
    if not found:
        raise ScenarioError(f"no review rule in force on {day.isoformat()}")
    return max(found, key=lambda r: r.valid_from or dt.date.min)


def review_authority(
    *,
    energy_tce: float,
    day: dt.date,
    rules: Sequence[ReviewThresholds],
    electricity_kwh: float | None = None,
    coal_t: float | None = None,
    platform_provincial_min_tce: float | None = None,
) -> ReviewAuthority:
    """Who reviews a project of ``energy_tce`` (当量值; a rebuilt project: its increment) on ``day``.

    Exempt when *every* criterion of the rule is below its limit (“不满”, strict); a criterion whose
    figure is not given cannot prove the exemption.  Provincial from the threshold up (“以上”,
    inclusive).  A rule without a threshold (31号令: NOT FOUND) uses the platform rule if set, else
    answers UNKNOWN."""
    if not math.isfinite(energy_tce) or energy_tce < 0:
        raise ScenarioError("annual energy must be a non-negative number")
    rule = thresholds_on(rules, day)
    reasons: list[str] = []
    limits = (
        (energy_tce, rule.exempt_below_tce, "energy_tce"),
        (electricity_kwh, rule.exempt_below_electricity_kwh, "electricity_kwh"),
        (coal_t, rule.exempt_below_coal_t, "coal_t"),
    )
    used = [(v, lim, name) for v, lim, name in limits if lim is not None]
    if used and all(v is not None and v < lim for v, lim, _n in used):
        return ReviewAuthority(Authority.EXEMPT, rule, rule.provincial_min_tce, False, ("exempt",))
    for v, _lim, name in used:
        if v is None:
            reasons.append(f"{name} not given: the exemption cannot be established")
    threshold = rule.provincial_min_tce
    platform = False
    if threshold is None and platform_provincial_min_tce is not None:
        threshold, platform = platform_provincial_min_tce, True
    if threshold is None:
        reasons.append("provincial threshold NOT FOUND for this rule and not configured")
        return ReviewAuthority(Authority.UNKNOWN, rule, None, False, tuple(reasons))
    authority = Authority.PROVINCIAL if energy_tce >= threshold else Authority.LOCAL
    return ReviewAuthority(authority, rule, threshold, platform, tuple(reasons))


# --------------------------------------------------------------------------------------------
# Monitoring: actual vs approved (re-review trigger)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overrun:
    measure: str
    approved: float
    actual: float
    overrun_frac: float
    trigger_frac: float | None
    #: None when no trigger is configured (national trigger: NOT FOUND)
    triggered: bool | None


def overrun(
    *,
    measure: str,
    approved: float,
    actual: float,
    trigger_frac: float | None,
    inclusive: bool = True,
) -> Overrun:
    """超出批复水平的比例 actual / approved − 1, and whether it reaches the trigger (“10%及以上”:
    inclusive)."""
    if not (math.isfinite(approved) and approved > 0):
        raise ScenarioError("the approved figure must be positive")
    if not math.isfinite(actual) or actual < 0:
        raise ScenarioError("the actual figure must be a non-negative number")
    frac = actual / approved - 1
    hit: bool | None = None
    if trigger_frac is not None:
        hit = frac >= trigger_frac - TOLERANCE if inclusive else frac > trigger_frac + TOLERANCE
    return Overrun(measure, approved, actual, frac, trigger_frac, hit)
