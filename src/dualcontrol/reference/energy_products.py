"""Energy-product catalogue of the 205-1 report (``energy_products.csv``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dualcontrol.core.report205 import ProductSpec, Rules205, Tolerance
from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml, parse_date

PRODUCTS_FILE = "energy_products.csv"
RULES_205_FILE = "report_205_1_rules.yaml"


@dataclass(frozen=True)
class EnergyProduct:
    """A catalogue row: code, names, 205-1 unit, reference coefficient and plausible range."""

    code: str
    code_source: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    coefficient_tce_per_unit: Decimal
    plausible_low: Decimal
    plausible_high: Decimal
    plausible_source: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    version: str

    def spec(self) -> ProductSpec:
        return ProductSpec(
            code=self.code,
            name_zh=self.name_zh,
            unit=self.unit,
            coefficient_tce_per_unit=self.coefficient_tce_per_unit,
            plausible_low=self.plausible_low,
            plausible_high=self.plausible_high,
        )


def _dec(value: str, where: str) -> Decimal:
    try:
        return Decimal(value)
    except ArithmeticError as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def energy_products(on: dt.date | None = None) -> list[EnergyProduct]:
    """The catalogue (rows valid on ``on`` when given), in file order."""
    table = load_csv(PRODUCTS_FILE)
    rows = table.valid_on(on) if on else table.rows
    out = []
    for i, r in enumerate(rows, start=1):
        where = f"{PRODUCTS_FILE} row {i}"
        out.append(
            EnergyProduct(
                code=r["code"],
                code_source=r["code_source"],
                name_zh=r["name_zh"],
                name_en=r["name_en"],
                unit=r["unit"],
                kind=r["kind"],
                coefficient_tce_per_unit=_dec(r["coefficient_tce_per_unit"], where),
                plausible_low=_dec(r["plausible_low"], where),
                plausible_high=_dec(r["plausible_high"], where),
                plausible_source=r["plausible_source"],
                source=r["source"],
                valid_from=parse_date(r["valid_from"], where=where),
                valid_to=parse_date(r["valid_to"], where=where),
                version=table.version,
            )
        )
    return out


def product_specs(on: dt.date | None = None) -> dict[str, ProductSpec]:
    return {p.code: p.spec() for p in energy_products(on)}


def rules_205() -> Rules205:
    version, data = load_yaml(RULES_205_FILE)

    def tol(key: str) -> Tolerance:
        d = data[key]
        return Tolerance(
            abs_tolerance=Decimal(str(d["abs_tolerance"])),
            rel_tolerance_frac=Decimal(str(d["rel_tolerance_frac"])),
        )

    return Rules205(
        version=version, stock_balance=tol("stock_balance"), consumption_sum=tol("consumption_sum")
    )
