"""Decomposition (目标分解) of the kinds of targets other than intensity reductions, with the
aggregate-consistency check of each kind.

Intensity *reductions* are decomposed by :mod:`dualcontrol.core.decomposition`; this module covers
the other kinds of a province's (or city's) targets, decomposed to its sub-regions ``i``.  Notation:
``P`` the parent target, ``R`` the reserve, ``b_i`` the region's ``base``, ``t_i`` its target.

Kinds (:class:`Kind`) and methods (:data:`METHODS`):

- ``cap`` (总量上限) — an upper bound on an additive quantity: total energy (tce), total CO2
  (tCO2), coal (t), electricity, pollutant totals (t), an increment cap, a period budget (e.g. a
  carbon budget summed over five years), or an end-year level of any additive quantity.  ``R`` is
  the part the parent keeps back (e.g. 能耗单列 for major projects).

  * ``proportional``: ``t_i = (P − R) · b_i / Σ b`` (``b`` = e.g. base-year CO2).
  * ``weighted``: with the base share ``w_i = b_i / Σ b`` and a composite score ``s_i`` (0…1, see
    below), ``a_i = w_i · (1 + spread · (2 s_i − 1))`` and ``t_i = (P − R) · a_i / Σ a``.
    Before rescaling a region's share lies between ``w_i (1 − spread)`` and ``w_i (1 + spread)``;
    after rescaling the regions sum exactly to ``P − R``.
  * ``manual``: the officer's numbers.

  Check: ``implied = Σ t_i``; ``slack = P − R − Σ t_i``; consistent ⇔ ``Σ t_i + R ≤ P`` (slack ≥ 0;
  a positive slack is room left under the cap).  Slack is in the unit of the cap.

- ``amount`` (目标量) — a lower bound on an additive amount (energy saving tce, project-based
  pollutant reductions t).  ``R`` is the part delivered outside the regions (e.g. by projects the
  parent manages itself), so the regions together owe ``P − R``.  Methods as for ``cap``, with the
  same formulas.  Check: ``implied = Σ t_i``; ``slack = Σ t_i + R − P``; consistent ⇔
  ``Σ t_i + R ≥ P`` (a positive slack means the regions over-deliver).  With ``R = 0``:
  ``slack = Σ t_i − P``.

- ``share`` (比重) — a share target, e.g. non-fossil share of energy ≥ s (higher is better) or
  coal share ≤ s (lower is better).  ``b_i = D_i`` is the region's projected denominator at the end
  year (e.g. energy consumption, tce); ``t_i = s_i`` its target share (fraction 0…1).

  * ``uniform``: ``s_i = P``;  ``manual``: the officer's shares.

  Check: ``implied = Σ(s_i · D_i) / Σ D_i`` (the parent's share if every region exactly meets its
  target); higher is better: ``slack = implied − P``; lower is better: ``slack = P − implied``;
  consistent ⇔ slack ≥ 0.  Slack is in share points as a fraction (×100 = percentage points).

- ``level`` (强度水平) — an intensity *level* at the end year, e.g. tce per 10 000 yuan (lower is
  better).  ``b_i = G_i`` is the region's projected GDP at the end year; ``t_i = L_i``.

  * ``uniform``: ``L_i = P``;  ``manual``: the officer's levels.

  Check: ``implied = Σ(L_i · G_i) / Σ G_i``; lower is better: ``slack = P − implied``; higher is
  better: ``slack = implied − P``; consistent ⇔ slack ≥ 0 (slack in the unit of the level).

- ``peak_year`` (达峰年份) — declared peak years (whole years).

  * ``uniform``: ``y_i = P``;  ``manual``: the officer's years.

  Check: ``implied = max y_i``; ``slack = P − max y_i`` (years); consistent ⇔ every ``y_i ≤ P`` (a
  region peaking later than the parent is inconsistent).

``direction`` only matters for ``share`` and ``level``: caps and peak years are always lower-is-
better and amounts higher-is-better.  ``reserve`` only applies to ``cap`` and ``amount``.  In every
check a positive slack means the regional targets over-deliver (leave room), and
``consistent ⇔ slack ≥ 0``.

Composite score of the weighted method (as :func:`dualcontrol.core.decomposition.composite_scores`):
each factor's values are min–max normalised over the regions, ``n_i = (v_i − min) / (max − min)``
(½ for everyone when all regions are equal), flipped to ``1 − n_i`` for a
:attr:`Direction.LOWER_IS_BETTER` factor, and ``s_i = Σ_f weight_f · n_fi / Σ_f weight_f``.  A
higher score gives a larger share of what is allocated (a larger allowance under a cap, a larger
amount to deliver).  Factor values may be negative (e.g. a growth rate); every other input must be
≥ 0.

All arithmetic is exact (:class:`fractions.Fraction`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from types import MappingProxyType

from dualcontrol.core.decomposition import minmax_scores


class AllocationError(ValueError):
    """Inputs or settings that cannot produce an allocation (the message names the problem)."""


class Kind(Enum):
    CAP = "cap"
    AMOUNT = "amount"
    SHARE = "share"
    LEVEL = "level"
    PEAK_YEAR = "peak_year"


class Direction(Enum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


#: The methods each kind supports.
METHODS: Mapping[Kind, tuple[str, ...]] = MappingProxyType(
    {
        Kind.CAP: ("proportional", "weighted", "manual"),
        Kind.AMOUNT: ("proportional", "weighted", "manual"),
        Kind.SHARE: ("uniform", "manual"),
        Kind.LEVEL: ("uniform", "manual"),
        Kind.PEAK_YEAR: ("uniform", "manual"),
    }
)

_CAP_FORMULA = "slack = parent − reserve − Σ target_i; consistent ⇔ Σ target_i + reserve ≤ parent"
_AMOUNT_FORMULA = (
    "slack = Σ target_i + reserve − parent; consistent ⇔ Σ target_i + reserve ≥ parent"
)
_PEAK_FORMULA = "implied = max year_i; slack = parent − implied; consistent ⇔ every year_i ≤ parent"
_SHARE_MEAN = "implied = Σ(s_i × D_i) / Σ D_i; "
_LEVEL_MEAN = "implied = Σ(L_i × G_i) / Σ G_i; "
_HIGHER = "slack = implied − parent; consistent ⇔ implied ≥ parent"
_LOWER = "slack = parent − implied; consistent ⇔ implied ≤ parent"

#: The formula of each check (for display next to the numbers).
FORMULAS: Mapping[tuple[Kind, Direction], str] = MappingProxyType(
    {
        **{(Kind.CAP, d): _CAP_FORMULA for d in Direction},
        **{(Kind.AMOUNT, d): _AMOUNT_FORMULA for d in Direction},
        **{(Kind.PEAK_YEAR, d): _PEAK_FORMULA for d in Direction},
        (Kind.SHARE, Direction.HIGHER_IS_BETTER): _SHARE_MEAN + _HIGHER,
        (Kind.SHARE, Direction.LOWER_IS_BETTER): _SHARE_MEAN + _LOWER,
        (Kind.LEVEL, Direction.HIGHER_IS_BETTER): _LEVEL_MEAN + _HIGHER,
        (Kind.LEVEL, Direction.LOWER_IS_BETTER): _LEVEL_MEAN + _LOWER,
    }
)

_BASE_MEANING = {
    Kind.CAP: "base (share basis)",
    Kind.AMOUNT: "base (share basis)",
    Kind.SHARE: "base (projected denominator at the end year)",
    Kind.LEVEL: "base (projected GDP at the end year)",
    Kind.PEAK_YEAR: "base",
}


@dataclass(frozen=True)
class AllocationRegion:
    """One sub-region's inputs.

    ``base``: the share basis (cap/amount: e.g. base-year CO2), the projected end-year denominator
    (share: e.g. energy, tce) or the projected end-year GDP (level); unused for peak years.
    ``factors``: indicator values for the weighted method.  ``manual``: the officer's target.
    """

    region: str
    base: Fraction | None = None
    factors: Mapping[str, Fraction] = field(default_factory=dict)
    manual: Fraction | None = None

    def __post_init__(self) -> None:
        if not self.region:
            raise AllocationError("a region has no name")
        if self.base is not None and self.base < 0:
            raise AllocationError(f"region {self.region}: base must be ≥ 0 (got {self.base})")
        if self.manual is not None and self.manual < 0:
            raise AllocationError(
                f"region {self.region}: manual target must be ≥ 0 (got {self.manual})"
            )


@dataclass(frozen=True)
class WeightedFactor:
    """One indicator of the weighted method; a higher score → a larger share (see module doc)."""

    column: str
    direction: Direction
    weight: Fraction


@dataclass(frozen=True)
class AggregateCheck:
    """Aggregate consistency of the regional targets with the parent's (see module doc)."""

    kind: Kind
    parent: Fraction
    implied: Fraction  # cap/amount: Σ t_i; share/level: weighted mean; peak_year: latest year
    reserve: Fraction
    slack: Fraction  # ≥ 0 = consistent; positive = the regions over-deliver / leave room
    consistent: bool
    formula: str


@dataclass(frozen=True)
class KindAllocation:
    """目标分解结果: the regional targets (in region order) and the consistency check."""

    kind: Kind
    method: str
    targets: Mapping[str, Fraction]
    check: AggregateCheck
    notes: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# validation


def _check_regions(regions: Sequence[AllocationRegion]) -> None:
    if not regions:
        raise AllocationError("no regions")
    names = [r.region for r in regions]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise AllocationError(f"region(s) listed twice: {', '.join(dup)}")


def _is_whole(x: Fraction) -> bool:
    return Fraction(x).denominator == 1


def _check_parent(kind: Kind, parent: Fraction, reserve: Fraction) -> None:
    if parent < 0:
        raise AllocationError(f"the parent target must be ≥ 0 (got {parent})")
    if reserve < 0:
        raise AllocationError(f"the reserve must be ≥ 0 (got {reserve})")
    if kind in (Kind.CAP, Kind.AMOUNT):
        if reserve > parent:
            raise AllocationError(
                f"the reserve ({reserve}) exceeds the parent {kind.value} target ({parent})"
            )
        return
    if reserve != 0:
        raise AllocationError(f"a reserve applies only to cap and amount targets, not {kind.value}")
    if kind is Kind.SHARE and parent > 1:
        raise AllocationError(f"the parent share must be between 0 and 1 (got {parent})")
    if kind is Kind.PEAK_YEAR and (parent <= 0 or not _is_whole(parent)):
        raise AllocationError(f"the parent peak year must be a whole year (got {parent})")


def _check_target(kind: Kind, region: str, value: Fraction) -> None:
    if value < 0:
        raise AllocationError(f"region {region}: target must be ≥ 0 (got {value})")
    if kind is Kind.SHARE and value > 1:
        raise AllocationError(f"region {region}: share must be between 0 and 1 (got {value})")
    if kind is Kind.PEAK_YEAR and (value <= 0 or not _is_whole(value)):
        raise AllocationError(f"region {region}: peak year must be a whole year (got {value})")


def _bases(kind: Kind, regions: Sequence[AllocationRegion]) -> list[Fraction]:
    out = []
    for r in regions:
        if r.base is None:
            raise AllocationError(f"region {r.region}: no {_BASE_MEANING[kind]} given")
        out.append(r.base)
    if sum(out, Fraction(0)) == 0:
        raise AllocationError(f"the regions' total {_BASE_MEANING[kind]} is zero")
    return out


def _ordered_targets(
    kind: Kind, regions: Sequence[AllocationRegion], targets: Mapping[str, Fraction]
) -> list[Fraction]:
    names = {r.region for r in regions}
    extra = sorted(k for k in targets if k not in names)
    if extra:
        raise AllocationError(f"target(s) for unknown region(s): {', '.join(extra)}")
    out = []
    for r in regions:
        if r.region not in targets:
            raise AllocationError(f"region {r.region}: no target given")
        value = targets[r.region]
        _check_target(kind, r.region, value)
        out.append(value)
    return out


# ---------------------------------------------------------------------------------------------
# the consistency check


def check(
    kind: Kind,
    regions: Sequence[AllocationRegion],
    targets: Mapping[str, Fraction],
    parent: Fraction,
    *,
    direction: Direction = Direction.LOWER_IS_BETTER,
    reserve: Fraction = Fraction(0),
) -> AggregateCheck:
    """Are the regional ``targets`` (e.g. an officer's figures or stored child targets) consistent
    with the ``parent`` target, and by how much slack?  Formulas in the module docstring."""
    _check_regions(regions)
    _check_parent(kind, parent, reserve)
    values = _ordered_targets(kind, regions, targets)
    return _aggregate(kind, regions, values, parent, direction, reserve)


def _aggregate(
    kind: Kind,
    regions: Sequence[AllocationRegion],
    values: Sequence[Fraction],
    parent: Fraction,
    direction: Direction,
    reserve: Fraction,
) -> AggregateCheck:
    if kind in (Kind.SHARE, Kind.LEVEL):
        bases = _bases(kind, regions)
        implied = sum((v * b for v, b in zip(values, bases, strict=True)), Fraction(0)) / sum(
            bases, Fraction(0)
        )
        slack = implied - parent if direction is Direction.HIGHER_IS_BETTER else parent - implied
    elif kind is Kind.PEAK_YEAR:
        implied = max(values)
        slack = parent - implied
    else:
        implied = sum(values, Fraction(0))
        slack = parent - reserve - implied if kind is Kind.CAP else implied + reserve - parent
    return AggregateCheck(
        kind=kind,
        parent=parent,
        implied=implied,
        reserve=reserve,
        slack=slack,
        consistent=slack >= 0,
        formula=FORMULAS[(kind, direction)],
    )


def late_peak_regions(targets: Mapping[str, Fraction], parent: Fraction) -> tuple[str, ...]:
    """The regions whose declared peak year is later than the parent's."""
    return tuple(name for name, year in targets.items() if year > parent)


# ---------------------------------------------------------------------------------------------
# methods


def factor_values(regions: Sequence[AllocationRegion], column: str) -> list[Fraction]:
    """A factor's value per region (the message names a region without it)."""
    out = []
    for r in regions:
        if column not in r.factors:
            raise AllocationError(f"region {r.region}: no value for factor {column!r}")
        out.append(r.factors[column])
    return out


def composite_scores(
    regions: Sequence[AllocationRegion], factors: Sequence[WeightedFactor]
) -> list[Fraction]:
    """Weighted mean of min–max normalised factor values (0…1; 1 = the largest share).

    A factor on which all regions are equal scores ½ for everyone.
    """
    if not factors:
        raise AllocationError("the weighted method needs at least one factor")
    for f in factors:
        if f.weight < 0:
            raise AllocationError(f"factor {f.column!r}: weight must be ≥ 0 (got {f.weight})")
    total_w = sum((f.weight for f in factors), Fraction(0))
    if total_w <= 0:
        raise AllocationError("the factor weights must sum to more than 0")
    return minmax_scores(
        [
            (factor_values(regions, f.column), f.weight, f.direction is Direction.LOWER_IS_BETTER)
            for f in factors
        ],
        len(regions),
    )


def proportional_targets(
    regions: Sequence[AllocationRegion], to_allocate: Fraction, kind: Kind = Kind.CAP
) -> list[Fraction]:
    """``t_i = to_allocate · b_i / Σ b`` — sums exactly to ``to_allocate``."""
    bases = _bases(kind, regions)
    total = sum(bases, Fraction(0))
    return [to_allocate * b / total for b in bases]


def weighted_targets(
    regions: Sequence[AllocationRegion],
    to_allocate: Fraction,
    factors: Sequence[WeightedFactor],
    spread: Fraction,
    kind: Kind = Kind.CAP,
) -> tuple[list[Fraction], list[Fraction], list[Fraction]]:
    """``a_i = w_i (1 + spread (2 s_i − 1))``, ``t_i = to_allocate · a_i / Σ a``.

    Returns the targets, the composite scores ``s_i`` and the base shares ``w_i``.
    """
    if not 0 <= spread < 1:
        raise AllocationError(f"the spread must be in [0, 1) (got {spread})")
    bases = _bases(kind, regions)
    total = sum(bases, Fraction(0))
    shares = [b / total for b in bases]
    scores = composite_scores(regions, factors)
    adjusted = [w * (1 + spread * (2 * s - 1)) for w, s in zip(shares, scores, strict=True)]
    total_adj = sum(adjusted, Fraction(0))  # > 0: some w_i > 0 and every factor (1 ± …) > 0
    return [to_allocate * a / total_adj for a in adjusted], scores, shares


def _manual_targets(kind: Kind, regions: Sequence[AllocationRegion]) -> list[Fraction]:
    out = []
    for r in regions:
        if r.manual is None:
            raise AllocationError(f"region {r.region}: no manual target given")
        _check_target(kind, r.region, r.manual)
        out.append(r.manual)
    return out


def _pct(x: Fraction) -> str:
    return f"{float(x) * 100:.4g} %"


def allocate(
    kind: Kind,
    method: str,
    regions: Sequence[AllocationRegion],
    parent: Fraction,
    *,
    direction: Direction = Direction.LOWER_IS_BETTER,
    reserve: Fraction = Fraction(0),
    factors: Sequence[WeightedFactor] = (),
    spread: Fraction = Fraction(1, 5),
) -> KindAllocation:
    """Decompose the ``parent`` target of ``kind`` to ``regions`` by ``method`` (see
    :data:`METHODS` and the module docstring) and check the result.

    ``factors`` and ``spread`` are used by the weighted method only; ``direction`` by the check of
    share and level targets only; ``reserve`` by caps and amounts only.
    """
    if method not in METHODS[kind]:
        raise AllocationError(
            f"unknown method {method!r} for {kind.value} targets; "
            f"supported: {', '.join(METHODS[kind])}"
        )
    _check_regions(regions)
    _check_parent(kind, parent, reserve)
    notes: list[str] = []
    if method == "manual":
        values = _manual_targets(kind, regions)
        notes.append("manual: each region's target as given")
    elif method == "uniform":
        if kind in (Kind.SHARE, Kind.LEVEL):
            _bases(kind, regions)  # the check needs them; fail before building anything
        values = [parent] * len(regions)
        notes.append(f"uniform: every region gets the parent's {kind.value} target")
    elif method == "proportional":
        to_allocate = parent - reserve
        values = proportional_targets(regions, to_allocate, kind)
        notes.append("proportional: target_i = (parent − reserve) × base_i / Σ base")
        notes.append(f"to allocate: parent − reserve = {parent} − {reserve} = {to_allocate}")
    else:  # weighted
        to_allocate = parent - reserve
        values, scores, shares = weighted_targets(regions, to_allocate, factors, spread, kind)
        notes.append(
            "weighted: a_i = base share_i × (1 + spread × (2 score_i − 1)); "
            "target_i = (parent − reserve) × a_i / Σ a"
        )
        notes.append(
            f"to allocate: parent − reserve = {parent} − {reserve} = {to_allocate}; spread {spread}"
        )
        for r, s, w, v in zip(regions, scores, shares, values, strict=True):
            final = v / to_allocate if to_allocate else w
            notes.append(
                f"region {r.region}: score {float(s):.4f}, base share {_pct(w)}, "
                f"allocated share {_pct(final)}"
            )
    targets = dict(zip((r.region for r in regions), values, strict=True))
    result = _aggregate(kind, regions, values, parent, direction, reserve)
    if kind is Kind.PEAK_YEAR:
        for name in late_peak_regions(targets, parent):
            notes.append(f"region {name}: peak year {targets[name]} is later than {parent}")
    if not result.consistent:
        notes.append(f"inconsistent with the parent target: slack {result.slack}")
    return KindAllocation(
        kind=kind,
        method=method,
        targets=MappingProxyType(targets),
        check=result,
        notes=tuple(notes),
    )
