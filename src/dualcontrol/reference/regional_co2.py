"""Regional CO2 accounting data: factors by input column, rules, grid factors (the platform's entry point).

``regional_co2_fuels.csv`` gives one factor per column of the NBS 能源平衡表(实物量);
``regional_co2_rules.yaml`` the switches (each with its source or "platform rule") and the MEE/NBS
grid factors ``grid_factors.csv`` does not hold yet, merged with that file's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.core.carbon import FuelFactor as CarbonFuelFactor
from dualcontrol.core.carbon import GridFactor
from dualcontrol.core.regional_co2 import (
    FuelFactor,
    RegionalCo2,
    RegionalCo2Error,
    RegionalCo2Rules,
    input_columns,
    pick_grid_factor,
    regional_co2,
)
from dualcontrol.core.units import UnitError
from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml, row_valid_on
from dualcontrol.reference.carbon import grid_factors

FUELS_FILE = "regional_co2_fuels.csv"
RULES_FILE = "regional_co2_rules.yaml"


def _dec(value: str, where: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def _factor_row(row: dict[str, str], where: str, version: str) -> FuelFactor:
    kind = row.get("kind", "fuel")
    per_unit = row.get("co2_t_per_unit", "")
    has_ncv = bool(row.get("ncv"))
    if bool(per_unit) == has_ncv:
        raise ReferenceDataError(
            f"{where}: give either ncv (with carbon content) or co2_t_per_unit"
        )
    if has_ncv:
        computed = CarbonFuelFactor(
            factor_set=row["factor_set"],
            fuel_zh=row["factor_fuel_zh"],
            ncv=_dec(row["ncv"], where),
            ncv_unit=row["ncv_unit"],
            carbon_content=_dec(row["carbon_content"], where),
            carbon_content_unit=row["carbon_content_unit"],
            oxidation_frac=_dec(row["oxidation_frac"], where),
            published_co2_factor=None,
            published_unit="",
            source=row["source"],
        )
        try:
            value = computed.co2_factor(row["unit"])
        except UnitError as exc:
            raise ReferenceDataError(f"{where}: {exc}") from exc
        derivation = (
            f"NCV {row['ncv']} {row['ncv_unit']} × {row['carbon_content']} "
            f"{row['carbon_content_unit']} × oxidation {row['oxidation_frac']} × 44/12 "
            f"(table {row['factor_set']} {row['factor_fuel_zh']}"
            f"{', proxy' if row.get('match') == 'proxy' else ''})"
        )
    else:
        value = _dec(per_unit, where)
        derivation = f"per-unit factor ({row['factor_set']} {row['factor_fuel_zh']})"
    try:
        return FuelFactor(
            column=row["column"],
            name_zh=row["name_zh"],
            unit=row["unit"],
            co2_t_per_unit=float(value),
            source=row["source"],
            kind=kind,
            derivation=derivation,
            caveat=row.get("caveat", ""),
            version=version,
        )
    except RegionalCo2Error as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc


@cache
def _fuel_factor_rows() -> tuple[tuple[FuelFactor, dict[str, str]], ...]:
    table = load_csv(FUELS_FILE)
    out = []
    seen: set[str] = set()
    for i, row in enumerate(table.rows, start=1):
        where = f"{FUELS_FILE} row {i} ({row.get('column', '')})"
        if not row.get("column"):
            raise ReferenceDataError(f"{where}: no column name")
        if row["column"] in seen:
            raise ReferenceDataError(f"{where}: column {row['column']} appears twice")
        seen.add(row["column"])
        out.append((_factor_row(row, where, table.version), row))
    return tuple(out)


def _fuel_factors(year: int | None = None) -> tuple[FuelFactor, ...]:
    """The factor of every column; with ``year``, only rows valid at the end of that year."""
    if year is None:
        return tuple(f for f, _ in _fuel_factor_rows())
    day = dt.date(year, 12, 31)
    return tuple(f for f, row in _fuel_factor_rows() if row_valid_on(row, day))


def fuel_columns() -> tuple[str, ...]:
    """Every input column the accounting reads (fuels, heat, feedstock, electricity, process)."""
    return input_columns(_fuel_factors())


def _rules_data() -> tuple[str, dict[str, Any]]:
    version, data = load_yaml(RULES_FILE)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{RULES_FILE}: expected a mapping")
    return version, data


def regional_co2_rules() -> RegionalCo2Rules:
    """The switches of ``regional_co2_rules.yaml`` (version = file name and content hash)."""
    version, data = _rules_data()
    try:
        electricity = data["electricity"]
        if electricity.get("missing_year", "latest_earlier") != "latest_earlier":
            raise ValueError("electricity.missing_year: only latest_earlier is implemented")
        sources = {
            "consumption_basis": str(data["consumption_basis"]["source"]),
            "feedstock": str(data["feedstock"]["source"]),
            "process": str(data["process"]["source"]),
            "electricity": str(electricity["source"]),
            "electricity.missing_year": str(electricity.get("missing_year_source", "")),
            "electricity.before_first_year": str(electricity.get("before_first_year_source", "")),
            "heat": str(data["heat"]["source"]),
        }
        return RegionalCo2Rules(
            version=version,
            include_process=bool(data["process"]["include"]),
            electricity=str(electricity["method"]),
            grid_series=str(electricity["grid_series"]),
            feedstock_excluded=bool(data["feedstock"]["excluded"]),
            heat=str(data["heat"]["method"]),
            grid_factor_series=str(electricity["factor_series"]),
            grid_before_first_year=str(electricity["before_first_year"]),
            name=f"{data['name']} {data['version']}",
            sources={k: v for k, v in sources.items() if v},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}: {exc!r}") from exc


@cache
def _grid_factors() -> tuple[GridFactor, ...]:
    """grid_factors.csv plus the supplement of the rules file (grid_factors.csv wins on a tie)."""
    version, data = _rules_data()
    base = grid_factors()
    keys = {(f.scope, f.region_zh, f.year, f.series) for f in base}
    extra = []
    for i, r in enumerate(data.get("grid_factor_supplement") or (), start=1):
        where = f"{RULES_FILE} grid_factor_supplement row {i}"
        try:
            factor = GridFactor(
                scope=str(r["scope"]),
                region_zh=str(r["region_zh"]),
                region_code=str(r.get("region_code") or ""),
                year=int(r["year"]),
                factor_t_co2_per_mwh=_dec(str(r["factor_t_co2_per_mwh"]), where),
                series=str(r["series"]),
                source=str(r["source"]),
                caveat=str(r.get("caveat") or ""),
                version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReferenceDataError(f"{where}: {exc!r}") from exc
        if not factor.source.strip():
            raise ReferenceDataError(f"{where}: every row needs a source")
        if (factor.scope, factor.region_zh, factor.year, factor.series) not in keys:
            extra.append(factor)
    return (*base, *extra)


def co2_from_columns(
    values: Mapping[str, float | None], *, year: int, grid_region: str | None = None
) -> RegionalCo2:
    """CO2 of one region-year from its energy statistics by fuel, with the reference data in force.

    The grid factor is the national one of the rules' factor series unless ``grid_region`` (a
    province or grid region, name or GB/T 2260 code) is given; a year without its own factor
    takes the latest earlier year's (platform rule, said in the provenance).
    """
    rules = regional_co2_rules()
    factors = _fuel_factors(year)
    valid = {f.column for f in factors}
    for f in _fuel_factors():
        value = values.get(f.column)
        if f.column not in valid and value is not None and value == value and value != 0:
            raise RegionalCo2Error(f"{f.column}: no factor valid in {year} ({FUELS_FILE})")
    grid_value: float | None = None
    grid_source = ""
    grid_notes: list[str] = []
    versions: list[str] = []
    if rules.electricity != "none":
        try:
            if grid_region is None and rules.grid_series != "national":
                raise RegionalCo2Error(
                    f"the rules' grid_series is {rules.grid_series}: name the grid_region"
                )
            grid = pick_grid_factor(
                _grid_factors(),
                year=year,
                series=rules.grid_factor_series,
                region=grid_region,
                before_first_year=rules.grid_before_first_year,
            )
        except RegionalCo2Error as exc:
            grid_notes.append(str(exc))
        else:
            grid_value = float(grid.factor_t_co2_per_mwh)
            grid_source = f"{grid.label()}, {grid.scope}: {grid.source}"
            grid_notes += [n for n in (grid.note, grid.caveat and f"caveat: {grid.caveat}") if n]
            versions.append(grid.version)
    return regional_co2(
        values,
        year=year,
        factors=factors,
        grid_factor_t_per_mwh=grid_value,
        rules=rules,
        grid_factor_source=grid_source,
        grid_factor_notes=grid_notes,
        versions=versions,
    )


__all__ = ["co2_from_columns", "fuel_columns", "regional_co2_rules"]
