"""Accounting rules (``accounting_rules.yaml``) and the catalogue as the accounting core needs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from dualcontrol.core.energy import (
    AccountingRules,
    ProductCoefficient,
    ProductOutput,
    UnitAccount,
    account_report,
)
from dualcontrol.core.regional import RateBasis, RegionalAdjustment, RegionalRules
from dualcontrol.core.report205 import Row205
from dualcontrol.reference import ReferenceDataError, load_yaml
from dualcontrol.reference.carbon import carbon_factors
from dualcontrol.reference.electricity import electricity_equivalent
from dualcontrol.reference.energy_products import energy_products

ACCOUNTING_RULES_FILE = "accounting_rules.yaml"


def _rules_data() -> tuple[str, dict[str, Any]]:
    version, data = load_yaml(ACCOUNTING_RULES_FILE)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{ACCOUNTING_RULES_FILE}: expected a mapping")
    return version, data


def accounting_rules() -> AccountingRules:
    version, data = _rules_data()
    try:
        comprehensive = data["comprehensive_consumption"]
        combustion = data["combustion_co2"]
        return AccountingRules(
            version=version,
            comprehensive_base_field=str(comprehensive["base_field"]),
            comprehensive_source=str(comprehensive.get("source", "")),
            exclude_raw_material_from_combustion=bool(combustion["exclude_raw_material"]),
            combustion_source=str(combustion.get("source", "")),
            net_purchase_source=str(data["net_purchase"].get("source", "")),
            heat_equivalent_caveat=str(data["heat_equivalent"].get("caveat", "")),
            rounding={str(k): int(v) for k, v in data["rounding"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{ACCOUNTING_RULES_FILE}: {exc!r}") from exc


def regional_rules() -> RegionalRules:
    version, data = _rules_data()
    try:
        adjustments = tuple(
            RegionalAdjustment(
                column=str(a["column"]),
                name_zh=str(a["name_zh"]),
                excluded_from=tuple(str(x) for x in a["excluded_from"]),
                source=str(a.get("source", "")),
            )
            for a in data["regional_adjustments"]
        )
        basis = data["rate_basis"]
        return RegionalRules(
            version=version,
            adjustments=adjustments,
            rounding={str(k): int(v) for k, v in data["rounding"].items()},
            rate_basis=RateBasis(
                rule=str(basis["rule"]),
                intensity_places=int(basis["intensity_places"]),
                source=str(basis.get("source", "")).strip(),
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{ACCOUNTING_RULES_FILE}: {exc!r}") from exc


def product_coefficients(on: dt.date | None = None) -> dict[str, ProductCoefficient]:
    """The 205-1 catalogue (``energy_products.csv``) keyed by product code."""
    return {
        p.code: ProductCoefficient(
            code=p.code,
            name_zh=p.name_zh,
            unit=p.unit,
            kind=p.kind,
            coefficient_tce_per_unit=p.coefficient_tce_per_unit,
            plausible_low=p.plausible_low,
            plausible_high=p.plausible_high,
            source=p.source,
            version=p.version,
        )
        for p in energy_products(on)
    }


def account_205_1(
    rows: Sequence[Row205],
    *,
    year: int | None,
    region: str | None = None,
    factor_sets: Sequence[str] = ("A",),
    grid_series: str | None = None,
    conversion_output: Mapping[str, Decimal] | None = None,
    recovered: Mapping[str, Decimal] | None = None,
    supplied_out: Mapping[str, Decimal] | None = None,
    outputs: Sequence[ProductOutput] = (),
) -> UnitAccount:
    """Account a 205-1 report with the reference data in force (the web platform's entry point).

    Loads the catalogue, the 等价值 of ``year``, the CO2 factor sets (priority order), the grid
    factor of ``region`` (national reporting factor without it) and the accounting rules, then
    calls :func:`dualcontrol.core.energy.account_report`.
    """
    return account_report(
        rows,
        product_coefficients(),
        electricity_equivalent(year),
        carbon_factors(factor_sets=factor_sets, year=year, region=region, grid_series=grid_series),
        accounting_rules(),
        conversion_output=conversion_output,
        recovered=recovered,
        supplied_out=supplied_out,
        outputs=outputs,
    )
