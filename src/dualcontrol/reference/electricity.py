"""Electricity 等价值 by year (``electricity_equivalent.csv``); the 当量值 is the catalogue's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from dualcontrol.core.energy import ElectricityEquivalent, select_electricity_equivalent
from dualcontrol.reference import ReferenceDataError, load_csv

ELECTRICITY_EQUIVALENT_FILE = "electricity_equivalent.csv"


def electricity_equivalents() -> list[ElectricityEquivalent]:
    """Every 等价值 row (the default row has ``year=None``)."""
    table = load_csv(ELECTRICITY_EQUIVALENT_FILE)
    out = []
    for i, r in enumerate(table.rows, start=1):
        where = f"{ELECTRICITY_EQUIVALENT_FILE} row {i}"
        try:
            coefficient = Decimal(r["coefficient_kgce_per_kwh"])
            year = int(r["year"]) if r["year"] else None
        except (InvalidOperation, ValueError) as exc:
            raise ReferenceDataError(f"{where}: {exc}") from exc
        if not coefficient > 0:
            raise ReferenceDataError(f"{where}: the coefficient must be positive")
        out.append(
            ElectricityEquivalent(
                coefficient_kgce_per_kwh=coefficient,
                year=year,
                source=r["source"],
                caveat=r.get("caveat", ""),
                version=table.version,
            )
        )
    years = [e.year for e in out]
    if len(years) != len(set(years)):
        raise ReferenceDataError(f"{ELECTRICITY_EQUIVALENT_FILE}: a year appears twice")
    return out


def electricity_equivalent(year: int | None) -> ElectricityEquivalent:
    """The 等价值 for an activity year (the default row, with a note, when the year has none)."""
    return select_electricity_equivalent(electricity_equivalents(), year)
