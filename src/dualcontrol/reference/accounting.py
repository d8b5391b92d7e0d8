"""Accounting rules (``accounting_rules.yaml``) and the catalogue as the accounting core needs it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dualcontrol.core.energy import AccountingRules, ProductCoefficient
from dualcontrol.core.regional import RegionalAdjustment, RegionalRules
from dualcontrol.reference import ReferenceDataError, load_yaml
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
        return RegionalRules(
            version=version,
            adjustments=adjustments,
            rounding={str(k): int(v) for k, v in data["rounding"].items()},
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
