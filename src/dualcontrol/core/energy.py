"""Unit-level energy and CO2 accounting of a 205-1 report (能源购进、消费与库存).

Per energy product (all quantities in the product's 205-1 unit):

* standard coal (折标准煤): quantity × coefficient, where the coefficient is the unit's own
  采用折标系数 (col 10) when filled and inside the catalogue's plausible range, else the
  reference coefficient (参考折标系数) — every line says which and why;
* two electricity conventions (shared/reference/06): 当量值 (calorific, 0.1229 kgce/kWh, the
  catalogue coefficient) and 等价值 (coal-equivalent, per year, ``electricity_equivalent.csv``);
  fuels have one coefficient, used in both totals;
* 综合能源消费量 (NBS): consumption less energy-conversion output and recovered energy (205-2,
  where reported), base column per ``accounting_rules.yaml``;
* CO2: fuel combustion (consumption less raw-material use) × fuel factor, plus net purchased
  electricity × grid factor and net purchased heat × heat factor;
* energy per unit of product where the output is reported.

Everything is exact :class:`~decimal.Decimal`; :func:`account_lines_frame` is the vectorised
float twin used for nation-size batches (the two agree — tests/core/test_energy.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dualcontrol.core.carbon import CarbonFactors
from dualcontrol.core.provenance import Provenance
from dualcontrol.core.report205 import Row205
from dualcontrol.core.units import conversion_factor

ZERO = Decimal(0)
ELECTRICITY = "electricity"
HEAT = "heat"


class AccountingError(ValueError):
    """The input cannot be accounted (unknown product, negative 205-2 figure …)."""


class CoefficientSource(StrEnum):
    """折标系数来源."""

    UNIT = "unit"  # 采用折标系数 filled by the unit and plausible
    REFERENCE = "reference"  # 参考折标系数 of the catalogue


class Convention(StrEnum):
    """电力折标口径: 当量值 (calorific) or 等价值 (coal-equivalent)."""

    CALORIFIC = "calorific"
    EQUIVALENT = "equivalent"


@dataclass(frozen=True)
class ProductCoefficient:
    """能源品种 — a catalogue row as the accounting needs it (tce per 205-1 unit)."""

    code: str
    name_zh: str
    unit: str
    kind: str
    coefficient_tce_per_unit: Decimal
    plausible_low: Decimal
    plausible_high: Decimal
    source: str
    version: str = ""


@dataclass(frozen=True)
class ElectricityEquivalent:
    """电力等价值 — kgce of coal per kWh supplied, for an activity year."""

    coefficient_kgce_per_kwh: Decimal
    year: int | None
    source: str
    caveat: str = ""
    version: str = ""
    note: str = ""

    def tce_per(self, unit: str) -> Decimal:
        """tce per ``unit`` of electricity (万千瓦时 → 4.04 for 0.404 kgce/kWh)."""
        return self.coefficient_kgce_per_kwh * conversion_factor("kgce/kWh", f"tce/({unit})")


def select_electricity_equivalent(
    rows: Sequence[ElectricityEquivalent], year: int | None
) -> ElectricityEquivalent:
    """The 等价值 row of ``year``, else the default row (year empty), saying so in ``note``."""
    if year is not None:
        for r in rows:
            if r.year == year:
                return r
    defaults = [r for r in rows if r.year is None]
    if not defaults:
        raise AccountingError(f"no electricity 等价值 for {year} and no default row")
    chosen = defaults[0]
    why = f"no 等价值 row for {year}" if year is not None else "no activity year given"
    return ElectricityEquivalent(
        coefficient_kgce_per_kwh=chosen.coefficient_kgce_per_kwh,
        year=None,
        source=chosen.source,
        caveat=chosen.caveat,
        version=chosen.version,
        note=f"{why}: default row used",
    )


@dataclass(frozen=True)
class AccountingRules:
    """Rules of the unit accounting (``accounting_rules.yaml``)."""

    version: str
    comprehensive_base_field: str = "consumption_total"
    comprehensive_source: str = ""
    exclude_raw_material_from_combustion: bool = True
    combustion_source: str = ""
    net_purchase_source: str = ""
    heat_equivalent_caveat: str = ""
    rounding: Mapping[str, int] = field(default_factory=dict)

    def round(self, value: Decimal, kind: str) -> Decimal:
        """Printed precision of a figure kind (tce, co2_t, pct …), half away from zero."""
        places = self.rounding.get(kind, 4)
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ProductOutput:
    """产品产量 — output of a product; ``energy_share_frac`` of the unit's energy is attributed to it."""

    name: str
    quantity: Decimal
    unit: str
    energy_share_frac: Decimal = Decimal(1)


@dataclass(frozen=True)
class OutputIntensity:
    """单位产品综合能耗 in both conventions (tce and kgce per unit of output)."""

    name: str
    unit: str
    quantity: Decimal
    energy_share_frac: Decimal
    calorific_tce_per_unit: Decimal
    equivalent_tce_per_unit: Decimal
    calorific_kgce_per_unit: Decimal
    equivalent_kgce_per_unit: Decimal
    provenance: Provenance


@dataclass(frozen=True)
class ProductLine:
    """One energy product of the unit, accounted."""

    product_code: str
    product_name: str
    unit: str
    kind: str
    quantity: Decimal  # 消费量合计 (col 4)
    coefficient_tce_per_unit: Decimal  # used for the 当量值 total
    coefficient_source: CoefficientSource
    coefficient_note: str
    coefficient_reference_source: str
    coefficient_filled: Decimal | None
    equivalent_coefficient_tce_per_unit: Decimal  # used for the 等价值 total
    equivalent_coefficient_note: str
    energy_calorific_tce: Decimal
    energy_equivalent_tce: Decimal
    comprehensive_quantity: Decimal
    comprehensive_calorific_tce: Decimal
    comprehensive_equivalent_tce: Decimal
    feedstock_calorific_tce: Decimal
    feedstock_equivalent_tce: Decimal
    co2_quantity: Decimal
    co2_factor_t_per_unit: Decimal | None
    co2_factor_label: str
    co2_factor_source: str
    co2_t: Decimal | None
    co2_basis: str
    provenance: Provenance


@dataclass(frozen=True)
class UnitAccount:
    """能源消费与碳排放核算结果 of one 205-1 report."""

    lines: tuple[ProductLine, ...]
    energy_calorific_tce: Decimal
    energy_equivalent_tce: Decimal
    comprehensive_calorific_tce: Decimal
    comprehensive_equivalent_tce: Decimal
    feedstock_calorific_tce: Decimal
    feedstock_equivalent_tce: Decimal
    co2_combustion_t: Decimal
    co2_electricity_t: Decimal
    co2_heat_t: Decimal
    co2_t: Decimal
    co2_missing_products: tuple[str, ...]
    outputs: tuple[OutputIntensity, ...]
    electricity_equivalent: ElectricityEquivalent
    versions: tuple[str, ...]
    provenance: Mapping[str, Provenance]

    @property
    def co2_complete(self) -> bool:
        """False when a consumed product had no CO2 factor in the chosen set(s)."""
        return not self.co2_missing_products


def choose_coefficient(
    filled: Decimal | None, product: ProductCoefficient
) -> tuple[Decimal, CoefficientSource, str]:
    """采用折标系数 when filled and within [plausible_low, plausible_high], else the reference."""
    if product.kind in (ELECTRICITY, HEAT):
        note = "当量值 fixed by definition (GB/T 2589)"
        if filled is not None and filled != product.coefficient_tce_per_unit:
            note += f"; the unit's own coefficient {filled} is shown, not used"
        return product.coefficient_tce_per_unit, CoefficientSource.REFERENCE, note
    if filled is None:
        return product.coefficient_tce_per_unit, CoefficientSource.REFERENCE, "not filled"
    if product.plausible_low <= filled <= product.plausible_high:
        return filled, CoefficientSource.UNIT, "filled by the unit, within the plausible range"
    return (
        product.coefficient_tce_per_unit,
        CoefficientSource.REFERENCE,
        f"filled {filled} is outside the plausible range "
        f"[{product.plausible_low}, {product.plausible_high}]",
    )


def _nonneg(mapping: Mapping[str, Decimal], what: str) -> None:
    for code, value in mapping.items():
        if value < 0:
            raise AccountingError(f"{what} of product {code} must not be negative: {value}")


def account_report(
    rows: Sequence[Row205],
    products: Mapping[str, ProductCoefficient],
    electricity_equivalent: ElectricityEquivalent,
    carbon: CarbonFactors,
    rules: AccountingRules,
    *,
    conversion_output: Mapping[str, Decimal] | None = None,
    recovered: Mapping[str, Decimal] | None = None,
    supplied_out: Mapping[str, Decimal] | None = None,
    outputs: Sequence[ProductOutput] = (),
) -> UnitAccount:
    """Account a 205-1 report: per-product lines, totals in both conventions, CO2, provenance.

    ``conversion_output`` (能源加工转换产出) and ``recovered`` (回收利用) are 205-2 quantities
    per product code, deducted from the comprehensive consumption; ``supplied_out`` (外供) are
    quantities of electricity / heat supplied to others, deducted from purchases for the CO2 of
    net purchases. ``outputs`` give the energy per unit of product.
    """
    conversion_output = dict(conversion_output or {})
    recovered = dict(recovered or {})
    supplied_out = dict(supplied_out or {})
    for mapping, what in (
        (conversion_output, "energy-conversion output"),
        (recovered, "recovered energy"),
        (supplied_out, "energy supplied to others"),
    ):
        _nonneg(mapping, what)
        unknown = sorted(set(mapping) - set(products))
        if unknown:
            raise AccountingError(f"{what}: unknown product code(s) {', '.join(unknown)}")
    base_field = rules.comprehensive_base_field
    if base_field not in ("consumption_total", "industrial_production"):
        raise AccountingError(
            f"comprehensive consumption base {base_field!r} is not a 205-1 column"
        )

    seen: set[str] = set()
    source_rows: list[Row205] = []
    for i, row in enumerate(rows, start=1):
        if row.product_code not in products:
            raise AccountingError(f"row {i}: unknown energy product code {row.product_code!r}")
        if row.product_code in seen:
            raise AccountingError(f"row {i}: energy product {row.product_code} appears twice")
        seen.add(row.product_code)
        source_rows.append(row)
    for code in list(conversion_output) + list(recovered):
        if code not in seen:
            p = products[code]
            source_rows.append(Row205(product_code=code, unit=p.unit, product_name=p.name_zh))
            seen.add(code)

    versions: list[str] = [rules.version, electricity_equivalent.version]
    lines = tuple(
        _account_line(
            row,
            products[row.product_code],
            electricity_equivalent,
            carbon,
            rules,
            conversion_output.get(row.product_code, ZERO),
            recovered.get(row.product_code, ZERO),
            supplied_out.get(row.product_code, ZERO),
        )
        for row in source_rows
    )
    for line in lines:
        versions += list(line.provenance.versions)

    def total(attr: str) -> Decimal:
        return sum((getattr(line, attr) for line in lines), ZERO)

    def co2_of(kinds: set[str] | None) -> Decimal:
        return sum(
            (
                line.co2_t
                for line in lines
                if line.co2_t is not None
                and (
                    (kinds is None and line.kind not in (ELECTRICITY, HEAT))
                    or (kinds is not None and line.kind in kinds)
                )
            ),
            ZERO,
        )

    co2_combustion = co2_of(None)
    co2_electricity = co2_of({ELECTRICITY})
    co2_heat = co2_of({HEAT})
    missing = tuple(
        line.product_code for line in lines if line.co2_t is None and line.co2_quantity != 0
    )
    comprehensive_cal = total("comprehensive_calorific_tce")
    comprehensive_eq = total("comprehensive_equivalent_tce")
    all_versions = tuple(dict.fromkeys(v for v in versions if v))
    share = sum((o.energy_share_frac for o in outputs), ZERO)
    if share > 1:
        raise AccountingError(f"energy shares of the outputs add up to {share} > 1")
    intensities = tuple(
        _output_intensity(o, comprehensive_cal, comprehensive_eq, all_versions) for o in outputs
    )

    def prov(figure: str, attr: str, formula: str, rule: str = "") -> Provenance:
        return Provenance.of(
            figure,
            formula,
            [(line.product_code, getattr(line, attr)) for line in lines],
            all_versions,
            rule,
        )

    eq_note = _equivalent_note(electricity_equivalent)
    provenance = {
        "energy_calorific_tce": prov(
            "energy_calorific_tce",
            "energy_calorific_tce",
            "Σ consumption_total × coefficient (electricity and heat at 当量值)",
            "能源消费量 (当量值)",
        ),
        "energy_equivalent_tce": prov(
            "energy_equivalent_tce",
            "energy_equivalent_tce",
            "Σ consumption_total × coefficient (electricity at 等价值, heat at 当量值)",
            f"能源消费量 (等价值); {eq_note}",
        ),
        "comprehensive_calorific_tce": prov(
            "comprehensive_calorific_tce",
            "comprehensive_calorific_tce",
            f"Σ ({base_field} − conversion_output − recovered) × coefficient",
            f"综合能源消费量 (当量值): {rules.comprehensive_source}",
        ),
        "comprehensive_equivalent_tce": prov(
            "comprehensive_equivalent_tce",
            "comprehensive_equivalent_tce",
            f"Σ ({base_field} − conversion_output − recovered) × equivalent coefficient",
            f"综合能源消费量 (等价值): {rules.comprehensive_source}; {eq_note}",
        ),
        "co2_t": Provenance.of(
            "co2_t",
            "co2_combustion_t + co2_electricity_t + co2_heat_t",
            {
                "co2_combustion_t": co2_combustion,
                "co2_electricity_t": co2_electricity,
                "co2_heat_t": co2_heat,
                "factor_sets": "+".join(carbon.factor_sets),
                "missing_factor_products": " ".join(missing),
            },
            all_versions,
            f"combustion: {rules.combustion_source}; net purchases: {rules.net_purchase_source}",
            [f"no CO2 factor for product(s) {', '.join(missing)}: CO2 incomplete"]
            if missing
            else [],
        ),
    }
    return UnitAccount(
        lines=lines,
        energy_calorific_tce=total("energy_calorific_tce"),
        energy_equivalent_tce=total("energy_equivalent_tce"),
        comprehensive_calorific_tce=comprehensive_cal,
        comprehensive_equivalent_tce=comprehensive_eq,
        feedstock_calorific_tce=total("feedstock_calorific_tce"),
        feedstock_equivalent_tce=total("feedstock_equivalent_tce"),
        co2_combustion_t=co2_combustion,
        co2_electricity_t=co2_electricity,
        co2_heat_t=co2_heat,
        co2_t=co2_combustion + co2_electricity + co2_heat,
        co2_missing_products=missing,
        outputs=intensities,
        electricity_equivalent=electricity_equivalent,
        versions=all_versions,
        provenance=provenance,
    )


def _equivalent_note(eq: ElectricityEquivalent) -> str:
    parts = [f"电力等价值 {eq.coefficient_kgce_per_kwh} kgce/kWh ({eq.source})"]
    if eq.note:
        parts.append(eq.note)
    if eq.caveat:
        parts.append(f"caveat: {eq.caveat}")
    return "; ".join(parts)


def _account_line(
    row: Row205,
    product: ProductCoefficient,
    eq: ElectricityEquivalent,
    carbon: CarbonFactors,
    rules: AccountingRules,
    conversion_output: Decimal,
    recovered: Decimal,
    supplied_out: Decimal,
) -> ProductLine:
    coef, coef_source, coef_note = choose_coefficient(row.coefficient_used, product)
    if product.kind == ELECTRICITY:
        eq_coef = eq.tce_per(product.unit)
        eq_note = _equivalent_note(eq)
    elif product.kind == HEAT:
        eq_coef = coef
        eq_note = rules.heat_equivalent_caveat
    else:
        eq_coef = coef
        eq_note = "same coefficient in both conventions"
    qty = row.consumption_total
    base: Decimal = getattr(row, rules.comprehensive_base_field)
    comprehensive_qty = base - conversion_output - recovered

    factor: Decimal | None = None
    label = source = ""
    versions = [product.version]
    if product.kind == ELECTRICITY:
        co2_qty = row.purchases_qty - supplied_out
        basis = "net purchased electricity: purchases_qty − supplied_out"
        if carbon.electricity is not None:
            factor = carbon.electricity.per_unit(product.unit)
            label = carbon.electricity.label()
            source = "; ".join(s for s in (carbon.electricity.source, carbon.electricity.note) if s)
            versions.append(carbon.electricity.version)
    elif product.kind == HEAT:
        co2_qty = row.purchases_qty - supplied_out
        basis = "net purchased heat: purchases_qty − supplied_out"
        if carbon.heat is not None:
            factor = carbon.heat.per_unit(product.unit)
            label = f"{carbon.heat.name} {carbon.heat.factor_t_co2_per_gj} tCO2/GJ"
            source = carbon.heat.source
            versions.append(carbon.heat.version)
    else:
        if rules.exclude_raw_material_from_combustion:
            co2_qty = qty - row.raw_material
            basis = "combustion: consumption_total − raw_material"
        else:
            co2_qty = qty
            basis = "combustion: consumption_total"
        linked = carbon.fuel.get(product.code)
        if linked is not None:
            factor = linked.factor.co2_factor(product.unit)
            label = linked.label()
            source = linked.factor.source
            versions += [linked.factor.version, linked.link.version]
    co2 = co2_qty * factor if factor is not None else None
    if product.kind == ELECTRICITY:
        versions.append(eq.version)
    energy_cal = qty * coef
    energy_eq = qty * eq_coef
    provenance = Provenance.of(
        f"line {product.code}",
        "energy_calorific_tce = quantity × coefficient; energy_equivalent_tce = quantity × "
        "equivalent coefficient; comprehensive = (base − conversion_output − recovered) × "
        "coefficient; co2_t = co2_quantity × co2_factor",
        {
            "quantity": qty,
            "coefficient_tce_per_unit": coef,
            "coefficient_source": f"{coef_source.value}: {coef_note}",
            "equivalent_coefficient_tce_per_unit": eq_coef,
            f"base ({rules.comprehensive_base_field})": base,
            "conversion_output": conversion_output,
            "recovered": recovered,
            "raw_material": row.raw_material,
            "co2_quantity": co2_qty,
            "co2_factor_t_per_unit": factor if factor is not None else "none",
            "co2_factor": label or "none",
        },
        versions,
        f"{product.source}; {basis}",
    )
    return ProductLine(
        product_code=product.code,
        product_name=row.product_name or product.name_zh,
        unit=product.unit,
        kind=product.kind,
        quantity=qty,
        coefficient_tce_per_unit=coef,
        coefficient_source=coef_source,
        coefficient_note=coef_note,
        coefficient_reference_source=product.source,
        coefficient_filled=row.coefficient_used,
        equivalent_coefficient_tce_per_unit=eq_coef,
        equivalent_coefficient_note=eq_note,
        energy_calorific_tce=energy_cal,
        energy_equivalent_tce=energy_eq,
        comprehensive_quantity=comprehensive_qty,
        comprehensive_calorific_tce=comprehensive_qty * coef,
        comprehensive_equivalent_tce=comprehensive_qty * eq_coef,
        feedstock_calorific_tce=row.raw_material * coef,
        feedstock_equivalent_tce=row.raw_material * eq_coef,
        co2_quantity=co2_qty,
        co2_factor_t_per_unit=factor,
        co2_factor_label=label,
        co2_factor_source=source,
        co2_t=co2,
        co2_basis=basis,
        provenance=provenance,
    )


def _output_intensity(
    output: ProductOutput,
    comprehensive_cal: Decimal,
    comprehensive_eq: Decimal,
    versions: tuple[str, ...],
) -> OutputIntensity:
    if output.quantity <= 0:
        raise AccountingError(f"output {output.name!r}: quantity must be positive")
    if not 0 < output.energy_share_frac <= 1:
        raise AccountingError(f"output {output.name!r}: energy share must be in (0, 1]")
    cal = comprehensive_cal * output.energy_share_frac / output.quantity
    eq = comprehensive_eq * output.energy_share_frac / output.quantity
    to_kgce = conversion_factor("tce", "kgce")
    return OutputIntensity(
        name=output.name,
        unit=output.unit,
        quantity=output.quantity,
        energy_share_frac=output.energy_share_frac,
        calorific_tce_per_unit=cal,
        equivalent_tce_per_unit=eq,
        calorific_kgce_per_unit=cal * to_kgce,
        equivalent_kgce_per_unit=eq * to_kgce,
        provenance=Provenance.of(
            f"output {output.name}",
            "comprehensive_tce × energy_share_frac / output_quantity",
            {
                "comprehensive_calorific_tce": comprehensive_cal,
                "comprehensive_equivalent_tce": comprehensive_eq,
                "energy_share_frac": output.energy_share_frac,
                "output_quantity": output.quantity,
                "output_unit": output.unit,
            },
            versions,
            "单位产品综合能耗",
        ),
    )


# ---------------------------------------------------------------------------------------------
# Vectorised twin for batches (benchmarks, regional roll-ups): floats, same rules.

TABLE_COLUMNS: tuple[str, ...] = (
    "coefficient_tce_per_unit",
    "plausible_low",
    "plausible_high",
    "equivalent_tce_per_unit",
    "fixed_coefficient",
    "net_purchase_co2",
    "co2_factor_t_per_unit",
)


def coefficient_table(
    products: Mapping[str, ProductCoefficient],
    electricity_equivalent: ElectricityEquivalent,
    carbon: CarbonFactors,
) -> pd.DataFrame:
    """One float row per product code: coefficients, plausible range, CO2 factor (NaN = none)."""
    records = []
    for code, p in products.items():
        fixed = p.kind in (ELECTRICITY, HEAT)
        eq = (
            electricity_equivalent.tce_per(p.unit)
            if p.kind == ELECTRICITY
            else p.coefficient_tce_per_unit
        )
        factor: Decimal | None = None
        if p.kind == ELECTRICITY and carbon.electricity is not None:
            factor = carbon.electricity.per_unit(p.unit)
        elif p.kind == HEAT and carbon.heat is not None:
            factor = carbon.heat.per_unit(p.unit)
        elif not fixed and code in carbon.fuel:
            factor = carbon.fuel[code].factor.co2_factor(p.unit)
        records.append(
            {
                "product_code": code,
                "coefficient_tce_per_unit": float(p.coefficient_tce_per_unit),
                "plausible_low": float(p.plausible_low),
                "plausible_high": float(p.plausible_high),
                "equivalent_tce_per_unit": float(eq),
                "fixed_coefficient": fixed,
                "net_purchase_co2": fixed,
                "co2_factor_t_per_unit": float(factor) if factor is not None else np.nan,
            }
        )
    return pd.DataFrame.from_records(records).set_index("product_code")


def account_lines_frame(
    lines: pd.DataFrame,
    table: pd.DataFrame,
    rules: AccountingRules,
) -> pd.DataFrame:
    """Vectorised :func:`account_report` over many report lines (one row per product line).

    ``lines`` needs ``product_code``, ``consumption_total``, ``purchases_qty``, ``raw_material``
    and ``coefficient_used`` (NaN = not filled); optional ``industrial_production``,
    ``conversion_output``, ``recovered``, ``supplied_out``. Returns a new frame with
    ``coefficient_tce_per_unit``, ``coefficient_from_unit``, ``energy_calorific_tce``,
    ``energy_equivalent_tce``, ``comprehensive_calorific_tce``, ``comprehensive_equivalent_tce``,
    ``feedstock_calorific_tce`` and ``co2_t`` (NaN where the product has no factor).
    """
    codes = lines["product_code"]
    if isinstance(codes.dtype, pd.CategoricalDtype):
        cat_index = table.index.get_indexer(codes.cat.categories)
        codes_arr = codes.cat.codes.to_numpy()
        idx = np.where(codes_arr >= 0, cat_index[codes_arr], -1)
    else:
        idx = table.index.get_indexer(pd.Index(codes))
    if (idx < 0).any():
        bad = sorted(set(codes[idx < 0].astype(str)))
        raise AccountingError(f"unknown energy product code(s) {', '.join(bad[:10])}")

    def col(name: str) -> npt.NDArray[Any]:
        return np.take(table[name].to_numpy(), idx)

    def num(name: str) -> npt.NDArray[np.float64] | float:
        if name in lines:
            return lines[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return 0.0

    fixed = col("fixed_coefficient").astype(bool)
    filled = np.asarray(num("coefficient_used"), dtype=np.float64)
    if filled.ndim == 0:
        filled = np.full(len(lines), np.nan)
    plausible = filled >= col("plausible_low")  # False where not filled (NaN)
    plausible &= filled <= col("plausible_high")
    plausible &= ~fixed
    coef = col("coefficient_tce_per_unit")
    np.copyto(coef, filled, where=plausible)
    eq_coef = col("equivalent_tce_per_unit")
    np.copyto(eq_coef, coef, where=~fixed)
    qty = num("consumption_total")
    base = num(rules.comprehensive_base_field)
    comprehensive_qty = base - num("conversion_output") - num("recovered")
    raw = num("raw_material")
    net_purchase = col("net_purchase_co2").astype(bool)
    co2_qty = np.asarray(
        qty - raw if rules.exclude_raw_material_from_combustion else qty, dtype=np.float64
    ).copy()
    np.copyto(co2_qty, num("purchases_qty") - num("supplied_out"), where=net_purchase)
    co2 = col("co2_factor_t_per_unit")
    co2 *= co2_qty
    columns: dict[str, npt.NDArray[Any]] = {
        "coefficient_tce_per_unit": coef,
        "coefficient_from_unit": plausible,
        "energy_calorific_tce": np.multiply(qty, coef),
        "energy_equivalent_tce": np.multiply(qty, eq_coef),
        "comprehensive_calorific_tce": np.multiply(comprehensive_qty, coef),
        "comprehensive_equivalent_tce": np.multiply(comprehensive_qty, eq_coef),
        "feedstock_calorific_tce": np.multiply(raw, coef),
        "co2_t": co2,
    }
    return pd.DataFrame(columns, index=lines.index, copy=False)
