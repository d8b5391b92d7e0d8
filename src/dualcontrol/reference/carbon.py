"""CO2 factor sets (A verified, B guideline variant), product links, grid and heat factors."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from dualcontrol.core.carbon import (
    CarbonFactors,
    FuelFactor,
    FuelLink,
    GridFactor,
    HeatFactor,
    resolve_fuel_factors,
    select_grid_factor,
)
from dualcontrol.reference import ReferenceDataError, load_csv

FUEL_FACTOR_FILES = {"A": "co2_fuel_factors_a.csv", "B": "co2_fuel_factors_b.csv"}
FUEL_LINKS_FILE = "co2_fuel_links.csv"
GRID_FACTORS_FILE = "grid_factors.csv"
HEAT_FACTORS_FILE = "heat_factors.csv"
FACTOR_SET_LABELS = {
    "A": "set A — NCV × carbon content × oxidation (verified, shared/reference/07 table A)",
    "B": "set B — enterprise-guideline variant (NOT authoritative, shared/reference/07 table B)",
}


def _dec(value: str, where: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def fuel_factors(factor_set: str) -> list[FuelFactor]:
    """The rows of factor set ``A`` or ``B``."""
    key = factor_set.upper()
    if key not in FUEL_FACTOR_FILES:
        raise ReferenceDataError(f"unknown CO2 factor set {factor_set!r} (A or B)")
    name = FUEL_FACTOR_FILES[key]
    table = load_csv(name)
    out = []
    for i, r in enumerate(table.rows, start=1):
        where = f"{name} row {i}"
        out.append(
            FuelFactor(
                factor_set=key,
                fuel_zh=r["fuel_zh"],
                ncv=_dec(r["ncv"], where),
                ncv_unit=r["ncv_unit"],
                carbon_content=_dec(r["carbon_content"], where),
                carbon_content_unit=r["carbon_content_unit"],
                oxidation_frac=_dec(r["oxidation_frac"], where),
                published_co2_factor=_dec(r["published_co2_factor"], where)
                if r["published_co2_factor"]
                else None,
                published_unit=r["published_unit"],
                source=r["source"],
                caveat=r.get("caveat", ""),
                version=table.version,
            )
        )
    return out


def fuel_links() -> list[FuelLink]:
    table = load_csv(FUEL_LINKS_FILE)
    return [
        FuelLink(
            factor_set=r["factor_set"].upper(),
            product_code=r["product_code"],
            fuel_zh=r["fuel_zh"],
            match=r["match"],
            note=r.get("note", ""),
            version=table.version,
        )
        for r in table.rows
    ]


def grid_factors() -> list[GridFactor]:
    table = load_csv(GRID_FACTORS_FILE)
    out = []
    for i, r in enumerate(table.rows, start=1):
        where = f"{GRID_FACTORS_FILE} row {i}"
        try:
            year = int(r["year"])
        except ValueError as exc:
            raise ReferenceDataError(f"{where}: year {r['year']!r} is not a year") from exc
        out.append(
            GridFactor(
                scope=r["scope"],
                region_zh=r["region_zh"],
                region_code=r["region_code"],
                year=year,
                factor_t_co2_per_mwh=_dec(r["factor_t_co2_per_mwh"], where),
                series=r["series"],
                source=r["source"],
                caveat=r.get("caveat", ""),
                version=table.version,
            )
        )
    return out


def heat_factor(name: str = "purchased_heat_default") -> HeatFactor:
    table = load_csv(HEAT_FACTORS_FILE)
    for i, r in enumerate(table.rows, start=1):
        if r["name"] == name:
            return HeatFactor(
                name=name,
                factor_t_co2_per_gj=_dec(r["factor_t_co2_per_gj"], f"{HEAT_FACTORS_FILE} row {i}"),
                source=r["source"],
                caveat=r.get("caveat", ""),
                version=table.version,
            )
    raise ReferenceDataError(f"{HEAT_FACTORS_FILE}: no heat factor named {name!r}")


def carbon_factors(
    *,
    factor_sets: Sequence[str] = ("A",),
    year: int | None = None,
    region: str | None = None,
    grid_series: str | None = None,
) -> CarbonFactors:
    """The factors for one accounting: fuel sets in priority order, grid factor, heat factor.

    Without ``region`` the national factor of the reporting series (0.5703 tCO2/MWh for 2022)
    is used; with a province or grid region, the MEE/NBS series unless ``grid_series`` says.
    """
    sets = tuple(s.upper() for s in factor_sets)
    factors = [f for s in sets for f in fuel_factors(s)]
    if region and grid_series is None:
        grid_series = "mee_nbs"
    return CarbonFactors(
        fuel=resolve_fuel_factors(sets, factors, fuel_links()),
        electricity=select_grid_factor(
            grid_factors(), year=year, region=region, series=grid_series
        ),
        heat=heat_factor(),
        factor_sets=sets,
    )
