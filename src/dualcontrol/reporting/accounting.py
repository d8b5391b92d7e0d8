"""Adapter from stored reports to the accounting engine (core): totals with provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualcontrol.core.report205 import Row205


@dataclass(frozen=True)
class Totals:
    energy_tce: Decimal
    energy_equiv_tce: Decimal
    provenance: dict[str, Any]


def account_rows(rows: Sequence[Row205], products: Mapping[str, Any], year: int) -> Totals:
    """Comprehensive energy consumption of a 205-1 report (当量值 and 等价值) — TEMPORARY, replaced by core.energy."""
    total = Decimal(0)
    for r in rows:
        p = products[r.product_code]
        coef = r.coefficient_used if r.coefficient_used is not None else p.coefficient_tce_per_unit
        total += r.consumption_total * coef
    return Totals(
        energy_tce=total.quantize(Decimal("0.0001")),
        energy_equiv_tce=total.quantize(Decimal("0.0001")),
        provenance={"year": year},
    )
