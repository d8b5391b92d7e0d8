"""Adapter from stored 205-1 reports to the accounting engine (core.energy): totals + provenance.

The catalogue comes from the database (seeded from ``energy_products.csv`` and editable in the
admin, each row keeping its data version); the 等价值 of electricity, the CO2 factors (set A,
then the labelled guideline set B) and the accounting rules come from reference data in force.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualcontrol.core.energy import ProductCoefficient, account_report
from dualcontrol.core.report205 import Row205
from dualcontrol.reference.accounting import accounting_rules
from dualcontrol.reference.carbon import carbon_factors
from dualcontrol.reference.electricity import electricity_equivalent
from dualcontrol.reference.energy_products import energy_products

FACTOR_SETS = ("A", "B")
Q4 = Decimal("0.0001")


@dataclass(frozen=True)
class Totals:
    energy_tce: Decimal  # 综合能源消费量, 当量值
    energy_equiv_tce: Decimal  # 综合能源消费量, 等价值
    co2_t: Decimal
    provenance: dict[str, Any]


def coefficients(products: Mapping[str, Any]) -> dict[str, ProductCoefficient]:
    kinds = {p.code: p.kind for p in energy_products()}
    return {
        code: ProductCoefficient(
            code=code,
            name_zh=p.name_zh,
            unit=p.unit,
            kind=getattr(p, "kind", "") or kinds.get(code, ""),
            coefficient_tce_per_unit=p.coefficient_tce_per_unit,
            plausible_low=p.plausible_low,
            plausible_high=p.plausible_high,
            source=p.source,
            version=getattr(p, "data_version", "") or getattr(p, "version", ""),
        )
        for code, p in products.items()
    }


def account_rows(
    rows: Sequence[Row205], products: Mapping[str, Any], year: int, region_code: str | None = None
) -> Totals:
    """Comprehensive energy consumption (当量值, 等价值) and CO2 of a 205-1 report."""
    account = account_report(
        rows,
        coefficients(products),
        electricity_equivalent(year),
        carbon_factors(factor_sets=FACTOR_SETS, year=year, region=region_code),
        accounting_rules(),
    )
    # compact: the inputs are the stored lines; the figures' formulas, rules and data versions here
    provenance: dict[str, Any] = {
        "engine": "dualcontrol.core.energy.account_report",
        "versions": list(account.versions),
        "figures": {
            k: {"formula": v.formula, "rule": v.rule, "notes": list(v.notes)}
            for k, v in account.provenance.items()
        },
        "lines": {
            line.product_code: {
                "coefficient": str(line.coefficient_tce_per_unit),
                "coefficient_source": str(line.coefficient_source),
                "co2_factor": line.co2_factor_label,
            }
            for line in account.lines
        },
    }
    return Totals(
        energy_tce=account.comprehensive_calorific_tce.quantize(Q4),
        energy_equiv_tce=account.comprehensive_equivalent_tce.quantize(Q4),
        co2_t=account.co2_t.quantize(Q4),
        provenance=provenance,
    )


def account_many(
    reports: Sequence[tuple[int, Sequence[Row205]]],
    products: Mapping[str, Any],
    year: int,
    region_code: str | None,
) -> dict[int, Totals]:
    """Totals of many reports of one year at once (the vectorised twin of :func:`account_rows`).

    Used for bulk loads (the demo province); figures are rounded to 4 decimals like
    :func:`account_rows` and the provenance names the vectorised engine.
    """
    import pandas as pd

    from dualcontrol.core.energy import account_lines_frame, coefficient_table

    coefs = coefficients(products)
    eq = electricity_equivalent(year)
    carbon = carbon_factors(factor_sets=FACTOR_SETS, year=year, region=region_code)
    rules = accounting_rules()
    table = coefficient_table(coefs, eq, carbon)
    records = [
        {
            "key": key,
            "product_code": r.product_code,
            "consumption_total": float(r.consumption_total),
            "industrial_production": float(r.industrial_production),
            "purchases_qty": float(r.purchases_qty),
            "raw_material": float(r.raw_material),
            "coefficient_used": float(r.coefficient_used)
            if r.coefficient_used is not None
            else float("nan"),
        }
        for key, rows in reports
        for r in rows
    ]
    lines = pd.DataFrame.from_records(records)
    out = account_lines_frame(lines, table, rules)
    out["key"] = lines["key"]
    out["co2_t"] = out["co2_t"].fillna(0.0)
    sums = out.groupby("key")[
        ["comprehensive_calorific_tce", "comprehensive_equivalent_tce", "co2_t"]
    ].sum()
    versions = sorted({c.version for c in coefs.values()} | {rules.version, eq.version})
    provenance = {
        "engine": "dualcontrol.core.energy.account_lines_frame (bulk)",
        "versions": versions,
    }
    return {
        int(key): Totals(
            energy_tce=Decimal(str(float(row.comprehensive_calorific_tce))).quantize(Q4),
            energy_equiv_tce=Decimal(str(float(row.comprehensive_equivalent_tce))).quantize(Q4),
            co2_t=Decimal(str(float(row.co2_t))).quantize(Q4),
            provenance=provenance,
        )
        for key, row in sums.iterrows()
    }
