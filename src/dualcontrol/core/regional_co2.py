"""Regional CO2 (地区二氧化碳排放) from energy statistics by fuel (NBS 能源平衡表(实物量) layout).

One region-year at a time (:func:`regional_co2`) or a whole frame (:func:`regional_co2_frame`,
vectorised, same figures). Inputs are physical quantities in the units of the balance sheet
(万吨, 亿立方米, 亿千瓦时, 万百万千焦 = 10⁴ GJ); every column name carries its unit.

    combustion CO2 = Σ_fuel (consumption − feedstock) × tCO2 per unit
                     (tCO2 per unit = NCV × carbon content × oxidation × 44/12, computed by the loader)
    electricity CO2 = net import (调入 − 调出, 亿kWh) × 100 000 MWh/亿kWh × grid factor (tCO2/MWh)
    heat CO2        = net heat import (10⁴ GJ) × tCO2 per 10⁴ GJ
    process CO2     = process_co2_t, only when the rules include process emissions
    CO2             = combustion + electricity + heat + process

The official NBS method for provincial CO2 was NOT FOUND (shared/reference/13 §1.1, §4): the
treatment of feedstock, process emissions, electricity and heat is data
(``reference/data/regional_co2_rules.yaml``), each switch labelled with its source or
"platform rule". This module computes and says what it used; it reads no files.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from dualcontrol.core.carbon import GridFactor
from dualcontrol.core.provenance import Provenance
from dualcontrol.core.units import conversion_factor

# Column names of the accounting inputs that are not fuels (fuels and heat come from the factor table).
ELECTRICITY_NET_IMPORT_COLUMN = "electricity_net_import_100m_kwh"  # 调入 − 调出, may be negative
ELECTRICITY_INFLOW_COLUMN = "electricity_inflow_100m_kwh"  # 外省(区、市)调入量
ELECTRICITY_OUTFLOW_COLUMN = "electricity_outflow_100m_kwh"  # 本省(区、市)调出量
PROCESS_COLUMN = "process_co2_t"  # industrial-process CO2 (e.g. cement clinker), tCO2
FEEDSTOCK_PREFIX = "feedstock_"  # feedstock_<fuel column>: 用作原材料, same unit as the fuel

ELECTRICITY_METHODS = ("net_import_grid_factor", "none")
HEAT_METHODS = ("net_import_heat_factor", "none")
GRID_SERIES = ("national", "regional_grid", "province")
BEFORE_FIRST_YEAR = ("earliest_later", "error")
FACTOR_KINDS = ("fuel", "heat")

# 1 亿千瓦时 = 10⁸ kWh = 100 000 MWh (exact, from the unit registry)
MWH_PER_100M_KWH = float(conversion_factor("亿千瓦时", "MWh"))

FORMULA = (
    "co2_t = Σ_fuel (consumption − feedstock) × co2_t_per_unit"
    " + electricity_net_import_100m_kwh × 100000 MWh/亿kWh × grid_factor_t_per_mwh"
    " + heat_net_import × co2_t_per_unit + process_co2_t (when the rules include it)"
)


class RegionalCo2Error(ValueError):
    """Input that cannot be accounted; the message names the column (and the row of a frame)."""


@dataclass(frozen=True)
class FuelFactor:
    """CO2 factor of one input column (a fuel of the balance sheet, or net heat imports)."""

    column: str
    name_zh: str
    unit: str
    co2_t_per_unit: float
    source: str
    kind: str = "fuel"  # fuel (feedstock can be subtracted; never negative) | heat (net import)
    derivation: str = ""  # e.g. "NCV 20.908 GJ/t × 26.37 tC/TJ × 0.94 × 44/12 (table A 原煤)"
    caveat: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FACTOR_KINDS:
            raise RegionalCo2Error(f"{self.column}: unknown factor kind {self.kind!r}")
        if not math.isfinite(self.co2_t_per_unit) or self.co2_t_per_unit < 0:
            raise RegionalCo2Error(f"{self.column}: the factor must be a non-negative number")

    @property
    def feedstock_column(self) -> str | None:
        """``feedstock_<column>`` for fuels; heat has no feedstock."""
        return f"{FEEDSTOCK_PREFIX}{self.column}" if self.kind == "fuel" else None

    def label(self) -> str:
        text = (
            f"{self.column} ({self.name_zh}, {self.unit}): {self.co2_t_per_unit!r} tCO2/{self.unit}"
        )
        if self.derivation:
            text += f" = {self.derivation}"
        text += f"; source: {self.source}"
        if self.caveat:
            text += f"; caveat: {self.caveat}"
        return text


@dataclass(frozen=True)
class RegionalCo2Rules:
    """The switches of the accounting (``regional_co2_rules.yaml``); ``sources`` per switch."""

    version: str
    include_process: bool = False
    electricity: str = "net_import_grid_factor"
    grid_series: str = "national"
    feedstock_excluded: bool = True
    heat: str = "net_import_heat_factor"
    grid_factor_series: str = "mee_nbs"
    grid_before_first_year: str = "earliest_later"
    name: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = (
            ("electricity", self.electricity, ELECTRICITY_METHODS),
            ("heat", self.heat, HEAT_METHODS),
            ("grid_series", self.grid_series, GRID_SERIES),
            ("grid_before_first_year", self.grid_before_first_year, BEFORE_FIRST_YEAR),
        )
        for name, value, allowed in checks:
            if value not in allowed:
                raise RegionalCo2Error(f"rule {name}: {value!r} is not one of {', '.join(allowed)}")

    def describe(self) -> str:
        label = f"{self.name} " if self.name else ""
        return (
            f"{label}({self.version}): feedstock_excluded={self.feedstock_excluded}, "
            f"include_process={self.include_process}, electricity={self.electricity}, "
            f"grid_series={self.grid_series} ({self.grid_factor_series}), heat={self.heat}"
        )

    def platform_rule_notes(self, relevant: Collection[str] | None = None) -> list[str]:
        """ "<switch>: <source>" of the switches that are platform rules (of ``relevant`` ones)."""
        return [
            f"{switch}: {text}"
            for switch, text in self.sources.items()
            if "platform rule" in text.lower()
            and (relevant is None or switch.split(".")[0] in relevant)
        ]


@dataclass(frozen=True)
class RegionalCo2:
    """二氧化碳排放 of one region-year (tCO2), by part and by input column."""

    co2_t: float
    combustion_co2_t: float
    electricity_co2_t: float
    process_co2_t: float
    by_column: Mapping[str, float]
    provenance: Provenance
    heat_co2_t: float = 0.0
    electricity_net_import_100m_kwh: float = 0.0
    grid_factor_t_per_mwh: float | None = None


def input_columns(factors: Sequence[FuelFactor]) -> tuple[str, ...]:
    """Every column the accounting reads: fuels, heat, feedstock, electricity, process."""
    fuels = [f.column for f in factors]
    feedstock = [c for f in factors if (c := f.feedstock_column) is not None]
    return (
        *fuels,
        *feedstock,
        ELECTRICITY_NET_IMPORT_COLUMN,
        ELECTRICITY_INFLOW_COLUMN,
        ELECTRICITY_OUTFLOW_COLUMN,
        PROCESS_COLUMN,
    )


def _check_factors(factors: Sequence[FuelFactor]) -> None:
    seen: set[str] = set()
    for f in factors:
        if f.column in seen:
            raise RegionalCo2Error(f"{f.column}: two factors for one column")
        seen.add(f.column)


def pick_grid_factor(
    factors: Sequence[GridFactor],
    *,
    year: int,
    series: str,
    region: str | None = None,
    before_first_year: str = "earliest_later",
) -> GridFactor:
    """The grid factor of ``year`` (national, or of ``region``: a province or grid-region name or code).

    Platform rule: a year without its own factor takes the latest earlier year's factor; a year
    before the first published one takes the earliest published factor (``earliest_later``) or is
    refused (``error``). The choice is written in the factor's ``note``.
    """
    if region:
        wanted = region.strip()
        candidates = [
            f for f in factors if f.series == series and wanted in (f.region_zh, f.region_code)
        ]
        where = f"region {region!r}"
    else:
        candidates = [f for f in factors if f.series == series and f.scope == "national"]
        where = "the nation"
    if not candidates:
        raise RegionalCo2Error(f"no grid factor of series {series!r} for {where}")
    exact = [f for f in candidates if f.year == year]
    if exact:
        return exact[0]
    earlier = [f for f in candidates if f.year < year]
    if earlier:
        best = max(earlier, key=lambda f: f.year)
        return replace(
            best,
            note=f"no {series} grid factor published for {year} ({where}): the factor of "
            f"{best.year}, the latest earlier year, is used (platform rule)",
        )
    first = min(candidates, key=lambda f: f.year)
    if before_first_year == "error":
        raise RegionalCo2Error(
            f"no {series} grid factor for {year} or any earlier year ({where}); "
            f"the first published year is {first.year}"
        )
    return replace(
        first,
        note=f"no {series} grid factor published for {year} or any earlier year ({where}): the "
        f"factor of {first.year}, the earliest published year, is used (platform rule)",
    )


def _number(values: Mapping[str, Any], column: str) -> float | None:
    value = values.get(column)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real | Decimal | np.number):
        raise RegionalCo2Error(f"{column}: not a number: {value!r}")
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise RegionalCo2Error(f"{column}: not a finite number: {value!r}")
    return number


def _non_negative(column: str, value: float | None) -> float:
    if value is None:
        return 0.0
    if value < 0:
        raise RegionalCo2Error(f"{column} must not be negative, got {value!r}")
    return value


def _net_import(
    net: float | None, inflow: float | None, outflow: float | None
) -> tuple[float | None, str]:
    """Net electricity import (亿kWh) from the net column or 调入 − 调出, and how it was found."""
    _non_negative(ELECTRICITY_INFLOW_COLUMN, inflow)
    _non_negative(ELECTRICITY_OUTFLOW_COLUMN, outflow)
    pair_given = inflow is not None or outflow is not None
    from_pair = (inflow or 0.0) - (outflow or 0.0)
    if net is not None:
        if pair_given and abs(net - from_pair) > 1e-9 * max(1.0, abs(net)):
            raise RegionalCo2Error(
                f"{ELECTRICITY_NET_IMPORT_COLUMN} ({net!r}) disagrees with "
                f"{ELECTRICITY_INFLOW_COLUMN} − {ELECTRICITY_OUTFLOW_COLUMN} ({from_pair!r})"
            )
        return net, ELECTRICITY_NET_IMPORT_COLUMN
    if pair_given:
        return from_pair, f"{ELECTRICITY_INFLOW_COLUMN} − {ELECTRICITY_OUTFLOW_COLUMN}"
    return None, ""


def regional_co2(
    values: Mapping[str, float | None],
    *,
    year: int,
    factors: Sequence[FuelFactor],
    grid_factor_t_per_mwh: float | None,
    rules: RegionalCo2Rules,
    grid_factor_source: str = "",
    grid_factor_notes: Sequence[str] = (),
    versions: Sequence[str] = (),
) -> RegionalCo2:
    """二氧化碳排放 of one region-year from its energy statistics by fuel (tCO2).

    ``values`` maps input columns to quantities (None / NaN = not reported; keys the accounting
    does not read are ignored). ``grid_factor_t_per_mwh`` is the factor of ``year`` (None: no
    factor, then a non-zero net electricity import is an error); ``grid_factor_source`` and
    ``grid_factor_notes`` (e.g. "the 2023 factor is used") go into the provenance.
    """
    _check_factors(factors)
    inputs: list[tuple[str, object]] = []
    notes: list[str] = []
    by_column: dict[str, float] = {}
    given_any = False

    combustion = 0.0
    heat = 0.0
    for f in factors:
        amount = _number(values, f.column)
        feed_col = f.feedstock_column
        feedstock = _number(values, feed_col) if feed_col else None
        if amount is None and feedstock is None:
            continue
        given_any = given_any or amount is not None
        if f.kind == "heat":
            if amount is None:
                continue
            inputs.append((f.column, amount))
            if rules.heat == "none":
                notes.append(f"{f.column} given but not counted (rule heat: none)")
                continue
            co2 = amount * f.co2_t_per_unit
            heat += co2
            by_column[f.column] = co2
            notes.append(f.label())
            continue
        q = _non_negative(f.column, amount)
        fq = _non_negative(feed_col or "", feedstock)
        inputs.append((f.column, q))
        burnt = q
        if feed_col and feedstock is not None:
            inputs.append((feed_col, fq))
            if rules.feedstock_excluded:
                if fq > q:
                    raise RegionalCo2Error(
                        f"{feed_col} ({fq!r}) exceeds {f.column} ({q!r}): feedstock is part of "
                        "the consumption"
                    )
                burnt = q - fq
                if fq:
                    notes.append(f"{feed_col} (用作原材料) subtracted from {f.column}")
            elif fq:
                notes.append(
                    f"{feed_col} given but not subtracted (rule feedstock_excluded: false)"
                )
        co2 = burnt * f.co2_t_per_unit
        combustion += co2
        by_column[f.column] = co2
        notes.append(f.label())

    net, net_from = _net_import(
        _number(values, ELECTRICITY_NET_IMPORT_COLUMN),
        _number(values, ELECTRICITY_INFLOW_COLUMN),
        _number(values, ELECTRICITY_OUTFLOW_COLUMN),
    )
    electricity = 0.0
    if net is not None:
        given_any = True
        inputs.append((ELECTRICITY_NET_IMPORT_COLUMN, net))
        if rules.electricity == "none":
            notes.append("net electricity import given but not counted (rule electricity: none)")
        elif net != 0:
            if grid_factor_t_per_mwh is None:
                why = "; ".join(grid_factor_notes)
                raise RegionalCo2Error(
                    f"{ELECTRICITY_NET_IMPORT_COLUMN}: a net import of {net!r} 亿kWh needs a grid "
                    f"factor for {year}, none given" + (f" ({why})" if why else "")
                )
            electricity = net * MWH_PER_100M_KWH * grid_factor_t_per_mwh
            by_column[ELECTRICITY_NET_IMPORT_COLUMN] = electricity
            inputs.append(("grid_factor_t_per_mwh", grid_factor_t_per_mwh))
            direction = "net import" if net > 0 else "net export (negative CO2)"
            notes.append(
                f"electricity {direction} from {net_from}: {net!r} 亿kWh × 100000 MWh/亿kWh × "
                f"{grid_factor_t_per_mwh!r} tCO2/MWh ({year}); "
                f"source: {grid_factor_source or 'given by the caller'}"
            )
            notes.extend(grid_factor_notes)

    if not given_any:
        raise RegionalCo2Error(
            "no fuel or electricity column given (expected one of "
            + ", ".join(f.column for f in factors)
            + f", {ELECTRICITY_NET_IMPORT_COLUMN})"
        )

    process_given = _number(values, PROCESS_COLUMN)
    process = 0.0
    if process_given is not None:
        inputs.append((PROCESS_COLUMN, _non_negative(PROCESS_COLUMN, process_given)))
        if rules.include_process:
            process = process_given
            by_column[PROCESS_COLUMN] = process
            notes.append(f"{PROCESS_COLUMN} counted (rule include_process: true)")
        elif process_given:
            notes.append(f"{PROCESS_COLUMN} given but not counted (rule include_process: false)")

    total = combustion + electricity + heat + process
    relevant = {"consumption_basis", "feedstock"}
    relevant |= {"electricity"} if net is not None else set()
    relevant |= {"process"} if process_given is not None else set()
    relevant |= (
        {"heat"} if any(f.kind == "heat" and f.column in by_column for f in factors) else set()
    )
    notes.extend(rules.platform_rule_notes(relevant))
    provenance = Provenance.of(
        f"co2_t ({year})",
        FORMULA,
        inputs,
        [rules.version, *(f.version for f in factors), *versions],
        rules.describe(),
        notes,
    )
    return RegionalCo2(
        co2_t=total,
        combustion_co2_t=combustion,
        electricity_co2_t=electricity,
        process_co2_t=process,
        by_column=by_column,
        provenance=provenance,
        heat_co2_t=heat,
        electricity_net_import_100m_kwh=net if net is not None else 0.0,
        grid_factor_t_per_mwh=grid_factor_t_per_mwh,
    )


# --- the same accounting over a frame --------------------------------------------------------


def _where(df: pd.DataFrame, label: Any) -> str:
    row = df.loc[label]
    return f"row {label} (region {row['region']}, year {row['year']})"


def _column(df: pd.DataFrame, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A column as floats (NaN = not reported); raises naming the first row that is not a number."""
    if column not in df.columns:
        return np.full(len(df), np.nan)
    raw = df[column]
    text = raw.astype(str).str.strip()
    blank = raw.isna() | (text == "")
    numbers = pd.to_numeric(raw.where(~blank), errors="coerce")
    bad = numbers.isna() & ~blank
    if bad.any():
        label = df.index[bad.to_numpy()][0]
        raise RegionalCo2Error(f"{_where(df, label)}: {column}: not a number: {raw[label]!r}")
    values = numbers.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        label = df.index[np.isinf(values)][0]
        raise RegionalCo2Error(f"{_where(df, label)}: {column}: not a finite number")
    return values


def _fail_where(df: pd.DataFrame, mask: np.ndarray[Any, Any], message: str) -> None:
    if mask.any():
        label = df.index[np.flatnonzero(mask)[0]]
        raise RegionalCo2Error(f"{_where(df, label)}: {message}")


def regional_co2_frame(
    df: pd.DataFrame,
    *,
    factors: Sequence[FuelFactor],
    rules: RegionalCo2Rules,
    grid_factor_t_per_mwh: Mapping[int, float | None] | float | None = None,
) -> pd.DataFrame:
    """:func:`regional_co2` for every row of ``df`` (columns ``region``, ``year`` + input columns).

    The grid factor of a row is its ``grid_factor_t_per_mwh`` column when ``df`` has one (and the
    cell is filled), else ``grid_factor_t_per_mwh[year]`` (a mapping) or the one value given.
    Returns one row per input row (same index): ``region``, ``year``, ``co2_t``,
    ``combustion_co2_t``, ``electricity_co2_t``, ``heat_co2_t``, ``process_co2_t``,
    ``electricity_net_import_100m_kwh``, ``grid_factor_t_per_mwh`` and ``co2_t_from_<column>``
    for every column with a factor. ``attrs["provenance"]`` describes the whole frame.
    """
    _check_factors(factors)
    missing = [c for c in ("region", "year") if c not in df.columns]
    if missing:
        raise RegionalCo2Error(f"missing column(s): {', '.join(missing)}")
    n = len(df)
    years = _column(df, "year")
    _fail_where(df, np.isnan(years) | (years != np.round(years)), "year is not a year")
    year_int = years.astype(np.int64)

    given_any = np.zeros(n, dtype=bool)
    combustion = np.zeros(n)
    heat = np.zeros(n)
    out = pd.DataFrame({"region": df["region"].to_numpy(), "year": year_int}, index=df.index)
    by_column: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for f in factors:
        amount = _column(df, f.column)
        given = ~np.isnan(amount)
        given_any |= given
        if f.kind == "heat":
            co2 = np.where(given, amount * f.co2_t_per_unit, 0.0)
            if rules.heat != "none":
                heat = heat + co2
                by_column[f.column] = co2
            continue
        _fail_where(df, amount < 0, f"{f.column} must not be negative")
        q = np.nan_to_num(amount, nan=0.0)
        burnt = q
        feed_col = f.feedstock_column
        if feed_col and feed_col in df.columns:
            feedstock = _column(df, feed_col)
            _fail_where(df, feedstock < 0, f"{feed_col} must not be negative")
            fq = np.nan_to_num(feedstock, nan=0.0)
            if rules.feedstock_excluded:
                _fail_where(df, fq > q, f"{feed_col} exceeds {f.column}")
                burnt = q - fq
        co2 = burnt * f.co2_t_per_unit
        combustion = combustion + co2
        by_column[f.column] = co2

    net_col = _column(df, ELECTRICITY_NET_IMPORT_COLUMN)
    inflow = _column(df, ELECTRICITY_INFLOW_COLUMN)
    outflow = _column(df, ELECTRICITY_OUTFLOW_COLUMN)
    _fail_where(df, inflow < 0, f"{ELECTRICITY_INFLOW_COLUMN} must not be negative")
    _fail_where(df, outflow < 0, f"{ELECTRICITY_OUTFLOW_COLUMN} must not be negative")
    pair_given = ~np.isnan(inflow) | ~np.isnan(outflow)
    from_pair = np.nan_to_num(inflow, nan=0.0) - np.nan_to_num(outflow, nan=0.0)
    net_given = ~np.isnan(net_col)
    disagree = (
        net_given
        & pair_given
        & (np.abs(np.nan_to_num(net_col) - from_pair) > 1e-9 * np.maximum(1.0, np.abs(net_col)))
    )
    _fail_where(
        df,
        disagree,
        f"{ELECTRICITY_NET_IMPORT_COLUMN} disagrees with "
        f"{ELECTRICITY_INFLOW_COLUMN} − {ELECTRICITY_OUTFLOW_COLUMN}",
    )
    net = np.where(net_given, net_col, np.where(pair_given, from_pair, np.nan))
    given_any |= ~np.isnan(net)
    _fail_where(df, ~given_any, "no fuel or electricity column given")

    grid = np.full(n, np.nan)
    if isinstance(grid_factor_t_per_mwh, Mapping):
        grid = np.array(
            [
                np.nan if (v := grid_factor_t_per_mwh.get(int(y))) is None else float(v)
                for y in year_int
            ],
            dtype=np.float64,
        )
    elif grid_factor_t_per_mwh is not None:
        grid = np.full(n, float(grid_factor_t_per_mwh))
    if "grid_factor_t_per_mwh" in df.columns:
        per_row = _column(df, "grid_factor_t_per_mwh")
        grid = np.where(np.isnan(per_row), grid, per_row)
    net0 = np.nan_to_num(net, nan=0.0)
    electricity = np.zeros(n)
    if rules.electricity != "none":
        _fail_where(
            df,
            (net0 != 0) & np.isnan(grid),
            f"{ELECTRICITY_NET_IMPORT_COLUMN}: a net import needs a grid factor, none given",
        )
        electricity = np.where(net0 != 0, net0 * MWH_PER_100M_KWH * grid, 0.0)
        by_column[ELECTRICITY_NET_IMPORT_COLUMN] = electricity

    process_given = _column(df, PROCESS_COLUMN)
    _fail_where(df, process_given < 0, f"{PROCESS_COLUMN} must not be negative")
    process = np.zeros(n)
    if rules.include_process:
        process = np.nan_to_num(process_given, nan=0.0)
        by_column[PROCESS_COLUMN] = process

    out["co2_t"] = combustion + electricity + heat + process
    out["combustion_co2_t"] = combustion
    out["electricity_co2_t"] = electricity
    out["heat_co2_t"] = heat
    out["process_co2_t"] = process
    out["electricity_net_import_100m_kwh"] = net0
    out["grid_factor_t_per_mwh"] = grid
    for column, values in by_column.items():
        out[f"co2_t_from_{column}"] = values
    notes = [f.label() for f in factors]
    notes += rules.platform_rule_notes()
    out.attrs["provenance"] = Provenance.of(
        "co2_t",
        FORMULA,
        [(c, "column") for c in input_columns(factors) if c in df.columns],
        [rules.version, *(f.version for f in factors)],
        rules.describe(),
        notes,
    )
    return out
