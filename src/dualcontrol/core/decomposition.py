"""Target decomposition (目标分解): allocate a provincial intensity-reduction target to regions.

Methods:

- :func:`allocate_tiered` — 分档: the officer puts regions into tiers, each with one reduction
  (like the national 12th-FYP tiers 18/17/16/15/10 %).
- :func:`allocate_weighted` — 因素加权: normalised indicator scores (economic development,
  industrial structure, energy-saving potential, environmental capacity …, with configurable
  direction and weight) spread the targets around the provincial one; the targets are then scaled
  so that the regions together deliver the provincial target exactly.
- :func:`allocate_efficiency` — 效率优先: a linear programme (``scipy.optimize.linprog``, HiGHS)
  that gives more of the reduction to regions with more potential, within per-region bounds, so
  that the provincial target (and the total-consumption cap, when given) is delivered.
- :func:`allocate_manual` — 手工: the officer types each region's target.

Every allocation carries an aggregate-consistency check (:class:`IntensityCheck`): with each
region's base-year energy (tce), base-year GDP and projected real GDP growth over the period, the
energy the regions may use at the end of the period if each exactly meets its target is
``E1_i = E0_i (1 + g_i)(1 − r_i)``; the province's implied reduction is
``1 − (ΣE1 / ΣG1) / (ΣE0 / ΣG0)`` with ``G1_i = G0_i (1 + g_i)``.  The slack is the implied
reduction minus the provincial target (fraction points; ×100 = pp) and, in tce, the energy the
provincial target allows ``(ΣE0/ΣG0)(1 − R) ΣG1`` minus ``ΣE1``.  A positive slack means the
regional targets over-deliver.  :class:`TotalCheck` does the same for total-consumption increments:
Σ increments + reserve for separately accounted major projects (能耗单列) ≤ the province's cap.

All arithmetic is exact (:class:`fractions.Fraction`) except inside the LP, whose solution is
snapped back onto its bounds and its binding constraint exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from fractions import Fraction

import numpy as np
from scipy.optimize import linprog

Number = Fraction | Decimal | int

#: Factors computed from the base columns, usable as weighted factors or as the LP's potential.
DERIVED_FACTORS = ("base_intensity_tce_per_10k_yuan", "intensity_vs_province_ratio")


class DecompositionError(ValueError):
    """Inputs or settings that cannot produce an allocation (the message names the region)."""


class Method(Enum):
    TIERED = "tiered"
    WEIGHTED = "weighted"
    EFFICIENCY = "efficiency"
    MANUAL = "manual"


@dataclass(frozen=True)
class RegionInput:
    """One region's base year and projection (values in core units: tce, 10k yuan, fractions)."""

    region: str
    base_energy_tce: Fraction
    base_gdp_10k_yuan: Fraction
    gdp_growth_frac: Fraction  # projected real GDP growth over the whole period (0.45 = +45 %)
    factors: Mapping[str, Fraction] = field(default_factory=dict)
    tier: str | None = None
    manual_target_frac: Fraction | None = None
    min_target_frac: Fraction | None = None
    max_target_frac: Fraction | None = None
    increment_tce: Fraction | None = None  # allocated total-consumption increment, if set

    def __post_init__(self) -> None:
        if self.base_energy_tce <= 0:
            raise DecompositionError(f"region {self.region}: base_energy_tce must be > 0")
        if self.base_gdp_10k_yuan <= 0:
            raise DecompositionError(f"region {self.region}: base_gdp_10k_yuan must be > 0")
        if self.gdp_growth_frac <= -1:
            raise DecompositionError(f"region {self.region}: gdp growth must be > -100 %")

    @property
    def base_intensity_tce_per_10k_yuan(self) -> Fraction:
        return self.base_energy_tce / self.base_gdp_10k_yuan

    @property
    def end_gdp_10k_yuan(self) -> Fraction:
        """Projected end-of-period GDP at base-year comparable prices."""
        return self.base_gdp_10k_yuan * (1 + self.gdp_growth_frac)

    @property
    def frozen_intensity_energy_tce(self) -> Fraction:
        """End-of-period energy if intensity stayed at its base level: E0 (1 + g)."""
        return self.base_energy_tce * (1 + self.gdp_growth_frac)

    def end_energy_tce(self, target_frac: Fraction) -> Fraction:
        """Energy allowed at the end of the period if the region exactly meets ``target_frac``."""
        return self.frozen_intensity_energy_tce * (1 - target_frac)


@dataclass(frozen=True)
class Tier:
    """分档: one group of regions with one reduction target."""

    id: str
    name_zh: str
    reduction_frac: Fraction
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class TierScheme:
    name: str
    version: str
    source: str
    tiers: tuple[Tier, ...]

    def tier_of(self, region: RegionInput) -> Tier:
        if region.tier is not None:
            for t in self.tiers:
                if t.id == region.tier:
                    return t
            raise DecompositionError(
                f"region {region.region}: unknown tier {region.tier!r}; "
                f"scheme {self.name} has {', '.join(t.id for t in self.tiers)}"
            )
        for t in self.tiers:
            if region.region in t.members:
                return t
        raise DecompositionError(
            f"region {region.region}: no tier given and not a member of any tier of {self.name}"
        )


class FactorDirection(Enum):
    HIGHER_MORE = "higher_more"  # a higher value → a larger reduction target
    HIGHER_LESS = "higher_less"  # a higher value → a smaller reduction target


@dataclass(frozen=True)
class Factor:
    """One indicator of the weighted method (e.g. GDP per capita, secondary-industry share)."""

    column: str
    name_zh: str
    direction: FactorDirection
    weight: Fraction


@dataclass(frozen=True)
class WeightScheme:
    """因素加权法 settings: factors and the spread of targets around the provincial one.

    Before scaling, a region with composite score ``s`` (0…1) gets ``R · (1 + spread (2s − 1))``,
    i.e. between ``R (1 − spread)`` and ``R (1 + spread)``.
    """

    name: str
    version: str
    source: str
    factors: tuple[Factor, ...]
    spread_frac: Fraction

    def __post_init__(self) -> None:
        if not self.factors:
            raise DecompositionError(f"weight scheme {self.name}: no factors")
        if any(f.weight < 0 for f in self.factors) or sum(f.weight for f in self.factors) <= 0:
            raise DecompositionError(f"weight scheme {self.name}: weights must be ≥ 0, sum > 0")
        if not 0 <= self.spread_frac < 1:
            raise DecompositionError(f"weight scheme {self.name}: spread must be in [0, 1)")


@dataclass(frozen=True)
class EfficiencyScheme:
    """效率优先 (LP) settings: the potential indicator and default bounds per region.

    Bounds are fractions *of the provincial target* (0.5 → a region's target is at least half the
    provincial one) unless a region has its own ``min_target_frac`` / ``max_target_frac``.
    """

    name: str
    version: str
    source: str
    potential: str
    min_frac_of_province_target: Fraction
    max_frac_of_province_target: Fraction

    def __post_init__(self) -> None:
        if not 0 <= self.min_frac_of_province_target <= self.max_frac_of_province_target:
            raise DecompositionError(f"efficiency scheme {self.name}: need 0 ≤ min ≤ max")


@dataclass(frozen=True)
class TotalCap:
    """The province's cap on the total-consumption increment over the period, and the reserve
    kept for separately accounted major projects (能耗单列)."""

    increment_cap_tce: Fraction
    reserve_tce: Fraction = Fraction(0)


@dataclass(frozen=True)
class RegionTarget:
    """One region's allocated target and what it implies."""

    region: str
    target_frac: Fraction
    base_energy_tce: Fraction
    base_gdp_10k_yuan: Fraction
    gdp_growth_frac: Fraction
    base_intensity_tce_per_10k_yuan: Fraction
    end_gdp_10k_yuan: Fraction
    end_energy_tce: Fraction  # allowed if the target is exactly met
    increment_tce: Fraction  # allocated increment (input) or implied: end − base
    increment_source: str  # "allocated" | "implied"
    tier: str | None = None
    score: Fraction | None = None  # weighted: composite score 0…1
    potential: Fraction | None = None  # efficiency: potential used by the LP
    min_target_frac: Fraction | None = None
    max_target_frac: Fraction | None = None


@dataclass(frozen=True)
class IntensityCheck:
    """Aggregate consistency of regional intensity targets with the provincial one."""

    province_target_frac: Fraction
    base_energy_tce: Fraction
    base_gdp_10k_yuan: Fraction
    end_gdp_10k_yuan: Fraction
    base_intensity_tce_per_10k_yuan: Fraction
    allowed_end_energy_tce: Fraction  # what the provincial target allows
    regional_end_energy_tce: Fraction  # Σ what the regional targets allow
    implied_reduction_frac: Fraction
    slack_frac: Fraction  # implied − target (×100 = pp); ≥ 0 = consistent
    slack_tce: Fraction  # allowed − regional; ≥ 0 = consistent

    @property
    def consistent(self) -> bool:
        return self.slack_tce >= 0


@dataclass(frozen=True)
class TotalCheck:
    """Σ regional increments + reserve ≤ the province's increment cap."""

    increment_cap_tce: Fraction
    reserve_tce: Fraction
    increments_tce: Fraction
    slack_tce: Fraction  # cap − reserve − Σ increments; ≥ 0 = consistent

    @property
    def consistent(self) -> bool:
        return self.slack_tce >= 0


@dataclass(frozen=True)
class Allocation:
    """目标分解结果: the regional targets and the consistency checks."""

    method: Method
    province_target_frac: Fraction
    targets: tuple[RegionTarget, ...]
    intensity_check: IntensityCheck
    total_check: TotalCheck | None
    scheme_name: str | None = None
    scheme_version: str | None = None


# ---------------------------------------------------------------------------------------------
# consistency checks


def check_intensity(
    regions: Sequence[RegionInput], targets_frac: Sequence[Fraction], province_target_frac: Fraction
) -> IntensityCheck:
    """Do the regional intensity targets deliver the provincial one, and by how much slack?"""
    e0 = sum((r.base_energy_tce for r in regions), Fraction(0))
    g0 = sum((r.base_gdp_10k_yuan for r in regions), Fraction(0))
    g1 = sum((r.end_gdp_10k_yuan for r in regions), Fraction(0))
    e1 = sum((r.end_energy_tce(t) for r, t in zip(regions, targets_frac, strict=True)), Fraction(0))
    i0 = e0 / g0
    allowed = i0 * (1 - province_target_frac) * g1
    implied = 1 - (e1 / g1) / i0
    return IntensityCheck(
        province_target_frac=province_target_frac,
        base_energy_tce=e0,
        base_gdp_10k_yuan=g0,
        end_gdp_10k_yuan=g1,
        base_intensity_tce_per_10k_yuan=i0,
        allowed_end_energy_tce=allowed,
        regional_end_energy_tce=e1,
        implied_reduction_frac=implied,
        slack_frac=implied - province_target_frac,
        slack_tce=allowed - e1,
    )


def increments_of(
    regions: Sequence[RegionInput], targets_frac: Sequence[Fraction]
) -> list[tuple[Fraction, str]]:
    """Each region's increment: the allocated one if given, else implied by its target."""
    out = []
    for r, t in zip(regions, targets_frac, strict=True):
        if r.increment_tce is not None:
            out.append((r.increment_tce, "allocated"))
        else:
            out.append((r.end_energy_tce(t) - r.base_energy_tce, "implied"))
    return out


def check_total(
    regions: Sequence[RegionInput], targets_frac: Sequence[Fraction], cap: TotalCap
) -> TotalCheck:
    """能耗增量: Σ regional increments + reserve must not exceed the province's increment cap."""
    inc = sum((i for i, _ in increments_of(regions, targets_frac)), Fraction(0))
    return TotalCheck(
        increment_cap_tce=cap.increment_cap_tce,
        reserve_tce=cap.reserve_tce,
        increments_tce=inc,
        slack_tce=cap.increment_cap_tce - cap.reserve_tce - inc,
    )


def required_weighted_reduction(
    regions: Sequence[RegionInput], province_target_frac: Fraction
) -> Fraction:
    """Σ E0_i (1+g_i) r_i that the regions must deliver for the provincial target (tce).

    From Σ E0_i (1+g_i)(1 − r_i) = (ΣE0/ΣG0)(1 − R) ΣG1.
    """
    w = sum((r.frozen_intensity_energy_tce for r in regions), Fraction(0))
    e0 = sum((r.base_energy_tce for r in regions), Fraction(0))
    g0 = sum((r.base_gdp_10k_yuan for r in regions), Fraction(0))
    g1 = sum((r.end_gdp_10k_yuan for r in regions), Fraction(0))
    return w - e0 / g0 * (1 - province_target_frac) * g1


def _build(
    method: Method,
    regions: Sequence[RegionInput],
    province_target_frac: Fraction,
    targets_frac: Sequence[Fraction],
    total: TotalCap | None,
    *,
    tiers: Sequence[str | None] | None = None,
    scores: Sequence[Fraction | None] | None = None,
    potentials: Sequence[Fraction | None] | None = None,
    bounds: Sequence[tuple[Fraction | None, Fraction | None]] | None = None,
    scheme: tuple[str, str] | None = None,
) -> Allocation:
    for r, t in zip(regions, targets_frac, strict=True):
        if t >= 1:
            raise DecompositionError(f"region {r.region}: target {float(t) * 100:.4g} % ≥ 100 %")
    n = len(regions)
    incs = increments_of(regions, targets_frac)
    out = []
    for k, (r, t) in enumerate(zip(regions, targets_frac, strict=True)):
        lo, hi = bounds[k] if bounds else (None, None)
        out.append(
            RegionTarget(
                region=r.region,
                target_frac=t,
                base_energy_tce=r.base_energy_tce,
                base_gdp_10k_yuan=r.base_gdp_10k_yuan,
                gdp_growth_frac=r.gdp_growth_frac,
                base_intensity_tce_per_10k_yuan=r.base_intensity_tce_per_10k_yuan,
                end_gdp_10k_yuan=r.end_gdp_10k_yuan,
                end_energy_tce=r.end_energy_tce(t),
                increment_tce=incs[k][0],
                increment_source=incs[k][1],
                tier=(tiers or [None] * n)[k],
                score=(scores or [None] * n)[k],
                potential=(potentials or [None] * n)[k],
                min_target_frac=lo,
                max_target_frac=hi,
            )
        )
    return Allocation(
        method=method,
        province_target_frac=province_target_frac,
        targets=tuple(out),
        intensity_check=check_intensity(regions, targets_frac, province_target_frac),
        total_check=None if total is None else check_total(regions, targets_frac, total),
        scheme_name=scheme[0] if scheme else None,
        scheme_version=scheme[1] if scheme else None,
    )


def _check_inputs(regions: Sequence[RegionInput], province_target_frac: Fraction) -> None:
    if not regions:
        raise DecompositionError("no regions")
    names = [r.region for r in regions]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DecompositionError(f"region(s) listed twice: {', '.join(dup)}")
    if not 0 < province_target_frac < 1:
        raise DecompositionError("the provincial target must be between 0 and 100 %")


# ---------------------------------------------------------------------------------------------
# methods


def allocate_manual(
    regions: Sequence[RegionInput], province_target_frac: Fraction, total: TotalCap | None = None
) -> Allocation:
    """手工分解: each region's target as typed (``manual_target_frac``)."""
    _check_inputs(regions, province_target_frac)
    targets = []
    for r in regions:
        if r.manual_target_frac is None:
            raise DecompositionError(f"region {r.region}: no target given (target_pct)")
        targets.append(r.manual_target_frac)
    return _build(Method.MANUAL, regions, province_target_frac, targets, total)


def allocate_tiered(
    regions: Sequence[RegionInput],
    province_target_frac: Fraction,
    scheme: TierScheme,
    total: TotalCap | None = None,
) -> Allocation:
    """分档分解: each region gets its tier's reduction (from ``region.tier`` or tier members)."""
    _check_inputs(regions, province_target_frac)
    tiers = [scheme.tier_of(r) for r in regions]
    return _build(
        Method.TIERED,
        regions,
        province_target_frac,
        [t.reduction_frac for t in tiers],
        total,
        tiers=[t.id for t in tiers],
        scheme=(scheme.name, scheme.version),
    )


def factor_values(regions: Sequence[RegionInput], column: str) -> list[Fraction]:
    """A factor's value per region (an input column, or one of :data:`DERIVED_FACTORS`)."""
    if column == "base_intensity_tce_per_10k_yuan":
        return [r.base_intensity_tce_per_10k_yuan for r in regions]
    if column == "intensity_vs_province_ratio":
        e0 = sum((r.base_energy_tce for r in regions), Fraction(0))
        g0 = sum((r.base_gdp_10k_yuan for r in regions), Fraction(0))
        return [r.base_intensity_tce_per_10k_yuan / (e0 / g0) for r in regions]
    out = []
    for r in regions:
        if column not in r.factors:
            raise DecompositionError(f"region {r.region}: no value for factor {column!r}")
        out.append(r.factors[column])
    return out


def composite_scores(regions: Sequence[RegionInput], factors: Sequence[Factor]) -> list[Fraction]:
    """Weighted mean of min–max normalised factor values (0…1; 1 = the most reduction).

    A factor on which all regions are equal scores ½ for everyone.
    """
    return minmax_scores(
        [
            (factor_values(regions, f.column), f.weight, f.direction is FactorDirection.HIGHER_LESS)
            for f in factors
        ],
        len(regions),
    )


def minmax_scores(
    factors: Sequence[tuple[Sequence[Fraction], Fraction, bool]], n: int
) -> list[Fraction]:
    """Weighted mean over ``factors`` (values per region, weight, flipped?) of the min–max
    normalised values: 0…1, a factor on which all regions are equal scores ½ for everyone,
    a flipped factor scores 1 − normalised."""
    total_w = sum((w for _, w, _ in factors), Fraction(0))
    scores = [Fraction(0)] * n
    for values, weight, flipped in factors:
        lo, hi = min(values), max(values)
        for k, v in enumerate(values):
            norm = Fraction(1, 2) if hi == lo else (v - lo) / (hi - lo)
            if flipped:
                norm = 1 - norm
            scores[k] += weight * norm
    return [s / total_w for s in scores]


def allocate_weighted(
    regions: Sequence[RegionInput],
    province_target_frac: Fraction,
    scheme: WeightScheme,
    total: TotalCap | None = None,
) -> Allocation:
    """因素加权分解: score → a target around the provincial one, scaled to deliver it exactly."""
    _check_inputs(regions, province_target_frac)
    scores = composite_scores(regions, scheme.factors)
    base = [province_target_frac * (1 + scheme.spread_frac * (2 * s - 1)) for s in scores]
    need = required_weighted_reduction(regions, province_target_frac)
    have = sum(
        (r.frozen_intensity_energy_tce * b for r, b in zip(regions, base, strict=True)),
        Fraction(0),
    )
    if have <= 0 or need <= 0:
        raise DecompositionError("the provincial target needs no reduction from the regions")
    k = need / have
    return _build(
        Method.WEIGHTED,
        regions,
        province_target_frac,
        [k * b for b in base],
        total,
        scores=scores,
        scheme=(scheme.name, scheme.version),
    )


def allocate_efficiency(
    regions: Sequence[RegionInput],
    province_target_frac: Fraction,
    scheme: EfficiencyScheme,
    total: TotalCap | None = None,
    *,
    snap_tolerance: float = 1e-9,
) -> Allocation:
    """效率优先分解 (LP): minimise Σ (E0_i(1+g_i) r_i) / potential_i subject to delivering the
    provincial target (and, when given and no region has an allocated increment, the
    total-consumption cap), with ``lo_i ≤ r_i ≤ hi_i``.

    Cost per tce saved is 1 / potential, so regions with more potential are filled first.
    """
    _check_inputs(regions, province_target_frac)
    potentials = factor_values(regions, scheme.potential)
    for r, p in zip(regions, potentials, strict=True):
        if p <= 0:
            raise DecompositionError(
                f"region {r.region}: potential {scheme.potential} must be > 0 (got {float(p)})"
            )
    bounds: list[tuple[Fraction, Fraction]] = []
    for r in regions:
        lo = (
            r.min_target_frac
            if r.min_target_frac is not None
            else scheme.min_frac_of_province_target * province_target_frac
        )
        hi = (
            r.max_target_frac
            if r.max_target_frac is not None
            else scheme.max_frac_of_province_target * province_target_frac
        )
        if not lo <= hi < 1:
            raise DecompositionError(f"region {r.region}: bounds need min ≤ max < 100 %")
        bounds.append((lo, hi))
    w = [r.frozen_intensity_energy_tce for r in regions]
    w_total = sum(w, Fraction(0))
    most = sum((wi * hi for wi, (_, hi) in zip(w, bounds, strict=True)), Fraction(0))
    need = required_weighted_reduction(regions, province_target_frac)
    if need > most:
        best = check_intensity(regions, [hi for _, hi in bounds], province_target_frac)
        raise DecompositionError(
            "infeasible: even with every region at its upper bound the province reduces its "
            f"intensity by only {float(best.implied_reduction_frac) * 100:.2f} %"
        )
    if total is not None and all(r.increment_tce is None for r in regions):
        # Σ (w_i (1 − r_i) − E0_i) + reserve ≤ cap  ⇔  Σ w_i r_i ≥ W − ΣE0 − cap + reserve
        e0 = sum((r.base_energy_tce for r in regions), Fraction(0))
        need_total = w_total - e0 - total.increment_cap_tce + total.reserve_tce
        if need_total > most:
            least = check_total(regions, [hi for _, hi in bounds], total)
            raise DecompositionError(
                "infeasible: even with every region at its upper bound the increments "
                f"({float(least.increments_tce):.0f} tce) plus the reserve "
                f"({float(total.reserve_tce):.0f} tce) exceed the increment cap "
                f"({float(total.increment_cap_tce):.0f} tce)"
            )
        need = max(need, need_total)
    scale = float(w_total)
    c = np.array([float(wi) / scale / float(p) for wi, p in zip(w, potentials, strict=True)])
    a_ub = np.array([[-float(wi) / scale for wi in w]])
    b_ub = np.array([-float(need) / scale])
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=[(float(lo), float(hi)) for lo, hi in bounds],
        method="highs",
    )
    if res.status != 0 or res.x is None:  # pragma: no cover - feasibility is checked above
        raise DecompositionError(f"the LP failed: {res.message}")
    targets = _snap([float(x) for x in res.x], bounds, w, need, snap_tolerance)
    return _build(
        Method.EFFICIENCY,
        regions,
        province_target_frac,
        targets,
        total,
        potentials=potentials,
        bounds=bounds,
        scheme=(scheme.name, scheme.version),
    )


def _snap(
    x: Sequence[float],
    bounds: Sequence[tuple[Fraction, Fraction]],
    w: Sequence[Fraction],
    need: Fraction,
    tol: float,
) -> list[Fraction]:
    """Exact targets from the LP's floats: values within ``tol`` of a bound become the bound, and
    the remaining (basic) region absorbs the residual so the binding constraint holds exactly."""
    out: list[Fraction] = []
    free: list[int] = []
    for k, (xk, (lo, hi)) in enumerate(zip(x, bounds, strict=True)):
        if abs(xk - float(lo)) <= tol:
            out.append(lo)
        elif abs(xk - float(hi)) <= tol:
            out.append(hi)
        else:
            out.append(Fraction(xk))
            free.append(k)
    residual = need - sum((wi * r for wi, r in zip(w, out, strict=True)), Fraction(0))
    if free:
        j = max(free, key=lambda k: w[k])
        lo, hi = bounds[j]
        out[j] = min(max(out[j] + residual / w[j], lo), hi)
    elif residual > 0:
        # degenerate: all at bounds but short by rounding; lift the largest regions with room
        for j in sorted(range(len(out)), key=lambda k: -float(w[k])):
            lo, hi = bounds[j]
            room = (hi - out[j]) * w[j]
            step = min(room, residual)
            out[j] += step / w[j]
            residual -= step
            if residual <= 0:
                break
    return out


def decompose(
    method: Method,
    regions: Sequence[RegionInput],
    province_target_frac: Fraction,
    *,
    tiers: TierScheme | None = None,
    weights: WeightScheme | None = None,
    efficiency: EfficiencyScheme | None = None,
    total: TotalCap | None = None,
) -> Allocation:
    """Dispatch to the method; the scheme the method needs must be given."""
    if method is Method.MANUAL:
        return allocate_manual(regions, province_target_frac, total)
    if method is Method.TIERED:
        if tiers is None:
            raise DecompositionError("the tiered method needs a tier scheme")
        return allocate_tiered(regions, province_target_frac, tiers, total)
    if method is Method.WEIGHTED:
        if weights is None:
            raise DecompositionError("the weighted method needs a weight scheme")
        return allocate_weighted(regions, province_target_frac, weights, total)
    if efficiency is None:
        raise DecompositionError("the efficiency method needs an efficiency scheme")
    return allocate_efficiency(regions, province_target_frac, efficiency, total)
