"""Pure rules of the rights app (no Django): rounding, fees, the certificate adjustment of accounted
energy, emissions from HJ 212 cumulative values, carbon-inclusive points and price statistics.

The figures they use come from ``reference/data/rights_rules.yaml`` (loader
:mod:`dualcontrol.reference.rights`); callers pass them in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

ROUNDING = {"half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING, "floor": ROUND_FLOOR}


def rounded(value: Decimal, decimals: int, rounding: str = "half_up") -> Decimal:
    """``value`` to ``decimals`` places by the rule's rounding (half_up, ceiling, floor)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUNDING[rounding])


def fee_yuan(amount: Decimal, price_yuan_per_unit: Decimal | None) -> Decimal | None:
    """有偿使用费 = amount × price, to the fen; None when no price is configured (platform rule)."""
    if price_yuan_per_unit is None:
        return None
    return rounded(Decimal(amount) * price_yuan_per_unit, 2)


@dataclass(frozen=True)
class EnergyAdjustment:
    """The 205-1 figure beside the certificate deduction (发改环资〔2024〕113号)."""

    official_tce: Decimal
    certificates_mwh: Decimal
    tce_per_mwh: Decimal
    deduction_tce: Decimal
    adjusted_tce: Decimal
    applied: bool


def certificate_adjustment(
    official_tce: Decimal,
    certificates_mwh: Decimal,
    *,
    tce_per_mwh: Decimal,
    deduct: bool,
) -> EnergyAdjustment:
    """Renewable electricity evidenced by cancelled certificates, deducted from the official
    energy at the catalogue coefficient; never below zero; none when the rule is off.  The
    deduction is rounded half up to 0.01 tce (the unit of energy-use rights)."""
    official = Decimal(official_tce)
    mwh = Decimal(certificates_mwh)
    deduction = rounded(mwh * tce_per_mwh, 2) if deduct else Decimal(0)
    deduction = min(deduction, max(official, Decimal(0)))
    return EnergyAdjustment(
        official_tce=official,
        certificates_mwh=mwh,
        tce_per_mwh=tce_per_mwh,
        deduction_tce=deduction,
        adjusted_tce=official - deduction,
        applied=deduct,
    )


def emissions_t(cou_kg: Iterable[float | Decimal | None], kg_per_t: Decimal) -> Decimal:
    """Annual emissions in t from daily HJ 212 ``Cou`` values in kg (missing days add nothing)."""
    total = sum((Decimal(str(v)) for v in cou_kg if v is not None), Decimal(0))
    return total / kg_per_t


def points(quantity: Decimal, points_per_unit: Decimal) -> int:
    """Carbon-inclusive points for a behaviour: quantity × factor, rounded down to whole points."""
    if quantity < 0:
        raise ValueError("a behaviour's quantity cannot be negative")
    return int((Decimal(quantity) * points_per_unit).to_integral_value(rounding=ROUND_FLOOR))


def budget_headroom(budget_tce: Decimal | None, issued_tce: Decimal, asked_tce: Decimal) -> bool:
    """Whether issuing ``asked_tce`` more keeps the region within its energy budget (no budget:
    no limit)."""
    if budget_tce is None:
        return True
    return Decimal(issued_tce) + Decimal(asked_tce) <= Decimal(budget_tce)


@dataclass(frozen=True)
class PriceRow:
    unit_type: str
    month: str  # YYYY-MM
    trades: int
    volume: Decimal
    value_yuan: Decimal
    average: Decimal  # volume-weighted
    minimum: Decimal
    maximum: Decimal


def price_statistics(
    trades: Iterable[tuple[str, dt.date, Decimal, Decimal]], price_decimals: int = 2
) -> list[PriceRow]:
    """Per unit type and month: count, volume, value, volume-weighted average, min and max price
    of executed trades given as (unit type, date, quantity, price per unit)."""
    groups: dict[tuple[str, str], list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for unit_type, day, quantity, price in trades:
        groups[(unit_type, f"{day.year:04d}-{day.month:02d}")].append(
            (Decimal(quantity), Decimal(price))
        )
    out = []
    for (unit_type, month), rows in sorted(groups.items()):
        volume = sum((q for q, _p in rows), Decimal(0))
        value = sum((q * p for q, p in rows), Decimal(0))
        prices = [p for _q, p in rows]
        average = rounded(value / volume, price_decimals) if volume else Decimal(0)
        out.append(
            PriceRow(
                unit_type,
                month,
                len(rows),
                volume,
                rounded(value, 2),
                average,
                min(prices),
                max(prices),
            )
        )
    return out
