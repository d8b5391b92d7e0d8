"""Allocation of national carbon-market allowances (配额分配).

* **Power** (benchmark method): per generating unit ``A = Qe × Be × Ff + Qh × Bh`` for coal units
  and ``A = Qe × Be + Qh × Bh`` for gas units (Qe supplied electricity MWh, Qh supplied heat GJ,
  Be/Bh the year's benchmarks by unit category, Ff the load correction factor).  Gas units whose
  allocation is below their verified emissions are topped up to them; an emitter whose
  allocation is below ``(1 − gap cap)`` of its verified emissions is topped up to that share
  (缺口率 20 % 上限豁免).
* **Steel, cement, aluminium**: ``A = E`` (2024), or ``A = E × (1 + α)`` with
  ``X = (BP − I) / BP`` and α = slope × X strictly inside (lower, upper), the caps at or beyond.
* **Pre-allocation**: a share of the previous year's verified emissions.

Every result carries the lines it was built from and the rule version.  Allocations are whole
tonnes, rounded down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal


class AllocationError(ValueError):
    """Inputs the allocation rules cannot use (message names the unit and the field)."""


@dataclass(frozen=True)
class PowerBenchmarks:
    year: int
    supply_tco2_per_mwh: Mapping[str, Decimal]
    heat_tco2_per_gj: Mapping[str, Decimal]
    status: str  # final | draft
    source: str


@dataclass(frozen=True)
class PowerRules:
    years: tuple[int, ...]
    pre_allocation_frac: Decimal
    gap_cap_frac: Decimal
    gas_top_up: bool
    source: str


@dataclass(frozen=True)
class IndustryRules:
    years: tuple[int, ...]
    method: str  # equal_verified | intensity
    lower_bound: Decimal = Decimal("-0.20")
    upper_bound: Decimal = Decimal("0.20")
    slope: Decimal = Decimal("0.15")
    alpha_at_or_above_upper: Decimal = Decimal("0.03")
    alpha_at_or_below_lower: Decimal = Decimal("-0.03")
    source: str = ""


@dataclass(frozen=True)
class GeneratingUnit:
    """One generating unit's year: category I–IV, supplied electricity and heat, Ff."""

    name: str
    category: str
    supply_mwh: Decimal
    heat_gj: Decimal = Decimal(0)
    ff: Decimal | None = None  # 调峰修正系数; required for coal units
    verified_co2_t: Decimal | None = None  # for the gas top-up


@dataclass(frozen=True)
class AllocationLine:
    name: str
    formula: str
    amount_t: Decimal
    inputs: Mapping[str, str]


@dataclass(frozen=True)
class Allocation:
    amount_t: int
    computed_t: Decimal
    lines: tuple[AllocationLine, ...]
    adjustments: tuple[str, ...] = ()
    rule_version: str = ""
    benchmark_status: str = "final"
    sources: tuple[str, ...] = field(default_factory=tuple)


def floor_t(value: Decimal) -> int:
    """Whole tonnes, rounded down (“1789.70 吨向下取整为1789 吨”)."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f")


def power_allocation(
    units: Sequence[GeneratingUnit],
    *,
    benchmarks: PowerBenchmarks,
    rules: PowerRules,
    coal_categories: frozenset[str],
    verified_co2_t: Decimal | None = None,
    rule_version: str = "",
) -> Allocation:
    """配额 of one power emitter for ``benchmarks.year`` (sum over its generating units)."""
    if not units:
        raise AllocationError("an emitter needs at least one generating unit")
    lines: list[AllocationLine] = []
    adjustments: list[str] = []
    total = Decimal(0)
    for u in units:
        be = benchmarks.supply_tco2_per_mwh.get(u.category)
        bh = benchmarks.heat_tco2_per_gj.get(u.category)
        if be is None or bh is None:
            raise AllocationError(
                f"{u.name}: no {benchmarks.year} benchmark for category {u.category!r}"
            )
        if u.supply_mwh < 0 or u.heat_gj < 0:
            raise AllocationError(f"{u.name}: supplied electricity and heat cannot be negative")
        coal = u.category in coal_categories
        inputs = {
            "category": u.category,
            "supply_mwh": _s(u.supply_mwh),
            "heat_gj": _s(u.heat_gj),
            "Be": _s(be),
            "Bh": _s(bh),
        }
        if coal:
            if u.ff is None:
                raise AllocationError(
                    f"{u.name}: a coal unit needs its load correction factor Ff (GB 21258)"
                )
            if u.ff <= 0:
                raise AllocationError(f"{u.name}: Ff must be positive")
            ff = u.ff.quantize(Decimal("0.000001"))
            inputs["Ff"] = _s(ff)
            amount = u.supply_mwh * be * ff + u.heat_gj * bh
            formula = "Qe × Be × Ff + Qh × Bh"
        else:
            amount = u.supply_mwh * be + u.heat_gj * bh
            formula = "Qe × Be + Qh × Bh"
            if rules.gas_top_up and u.verified_co2_t is not None and amount < u.verified_co2_t:
                adjustments.append(
                    f"{u.name}: gas unit topped up from {_s(amount)} to its verified "
                    f"{_s(u.verified_co2_t)} t"
                )
                amount = u.verified_co2_t
        lines.append(AllocationLine(u.name, formula, amount, inputs))
        total += amount
    computed = total
    if verified_co2_t is not None and verified_co2_t > 0:
        floor_share = verified_co2_t * (1 - rules.gap_cap_frac)
        gap = ((verified_co2_t - total) / verified_co2_t).quantize(Decimal("0.01"))
        if total < floor_share:
            adjustments.append(
                f"gap {gap * 100}% over the {_s(rules.gap_cap_frac * 100)}% cap: topped up to "
                f"{_s(floor_share)} t"
            )
            total = floor_share
    return Allocation(
        amount_t=floor_t(total),
        computed_t=computed,
        lines=tuple(lines),
        adjustments=tuple(adjustments),
        rule_version=rule_version,
        benchmark_status=benchmarks.status,
        sources=(benchmarks.source, rules.source),
    )


def alpha(x: Decimal, rules: IndustryRules) -> Decimal:
    """α from the deviation X = (BP − I)/BP: slope × X strictly inside the bounds, caps at them."""
    if x >= rules.upper_bound:
        return rules.alpha_at_or_above_upper
    if x <= rules.lower_bound:
        return rules.alpha_at_or_below_lower
    return rules.slope * x


def industry_allocation(
    *,
    verified_co2_t: Decimal,
    rules: IndustryRules,
    intensity: Decimal | None = None,
    balance_value: Decimal | None = None,
    rule_version: str = "",
) -> Allocation:
    """配额 of a steel, cement or aluminium emitter."""
    if verified_co2_t < 0:
        raise AllocationError("verified emissions cannot be negative")
    if rules.method == "equal_verified":
        line = AllocationLine("E", "A = E", verified_co2_t, {"E": _s(verified_co2_t)})
        return Allocation(
            floor_t(verified_co2_t),
            verified_co2_t,
            (line,),
            (),
            rule_version,
            "final",
            (rules.source,),
        )
    if rules.method != "intensity":
        raise AllocationError(f"unknown method {rules.method!r}")
    if intensity is None or balance_value is None:
        raise AllocationError("the intensity method needs the emitter's intensity I and the BP")
    if balance_value <= 0 or intensity < 0:
        raise AllocationError("BP must be positive and I not negative")
    x = (balance_value - intensity) / balance_value
    a = alpha(x, rules)
    amount = verified_co2_t * (1 + a)
    line = AllocationLine(
        "E",
        "A = E × (1 + α), X = (BP − I) / BP",
        amount,
        {
            "E": _s(verified_co2_t),
            "I": _s(intensity),
            "BP": _s(balance_value),
            "X": str(x.quantize(Decimal("0.0001"))),
            "alpha": str(a.quantize(Decimal("0.0001"))),
        },
    )
    return Allocation(floor_t(amount), amount, (line,), (), rule_version, "final", (rules.source,))


def pre_allocation(previous_verified_co2_t: Decimal, share: Decimal) -> int:
    """预分配: ``share`` of the previous year's verified emissions, whole tonnes down."""
    if previous_verified_co2_t < 0:
        raise AllocationError("verified emissions cannot be negative")
    return floor_t(previous_verified_co2_t * share)
