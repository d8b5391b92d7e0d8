"""CO2 from fuel combustion, purchased electricity and purchased heat (shared/reference/07).

Fuel factor (燃料排放因子), the guideline formula:
    tCO2 per unit of fuel = NCV × carbon content per unit of heat × oxidation rate × 44/12
Electricity: tCO2 = net purchased MWh × grid factor (tCO2/MWh) of the year and region.
Heat: tCO2 = net purchased GJ × heat factor (tCO2/GJ).

Factor sets are data (``reference/data/co2_fuel_factors_{a,b}.csv``, ``grid_factors.csv``,
``heat_factors.csv``); this module only computes and chooses, and says what it chose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from dualcontrol.core.units import magnitude_in, quantity

# Mass ratio CO2/C of the guideline formula ("× 44/12"): molar masses 44 and 12 as the formula states them.
CO2_PER_C = Decimal(44) / Decimal(12)
CO2_FORMULA = "tCO2/unit = NCV × carbon_content × oxidation_frac × 44/12"


class CarbonDataError(ValueError):
    """No factor for the requested year / region / fuel, or an inconsistent factor row."""


@dataclass(frozen=True)
class FuelFactor:
    """燃料二氧化碳排放因子 — one row of a factor set (NCV, carbon content, oxidation rate)."""

    factor_set: str
    fuel_zh: str
    ncv: Decimal
    ncv_unit: str
    carbon_content: Decimal
    carbon_content_unit: str
    oxidation_frac: Decimal
    published_co2_factor: Decimal | None
    published_unit: str
    source: str
    caveat: str = ""
    version: str = ""

    def co2_factor(self, per_unit: str = "t") -> Decimal:
        """tCO2 per ``per_unit`` of fuel (e.g. ``吨``, ``万立方米``) by the guideline formula."""
        carbon = (
            quantity(self.ncv, self.ncv_unit)
            * quantity(self.carbon_content, self.carbon_content_unit)
            * self.oxidation_frac
        )
        return magnitude_in(carbon, f"tC/({per_unit})") * CO2_PER_C

    def published_in(self, unit: str) -> Decimal | None:
        """The published factor expressed in ``unit`` (e.g. ``tCO2/万立方米``), if any."""
        if self.published_co2_factor is None:
            return None
        return magnitude_in(quantity(self.published_co2_factor, self.published_unit), unit)


@dataclass(frozen=True)
class FuelLink:
    """Which factor row of a set applies to a 205-1 product (``co2_fuel_links.csv``)."""

    factor_set: str
    product_code: str
    fuel_zh: str
    match: str
    note: str = ""
    version: str = ""


@dataclass(frozen=True)
class ProductFuelFactor:
    """A fuel factor resolved for one energy product, with the link that chose it."""

    product_code: str
    factor: FuelFactor
    link: FuelLink

    def label(self) -> str:
        text = f"set {self.factor.factor_set}: {self.factor.fuel_zh}"
        if self.link.match != "same":
            text += f" ({self.link.match}: {self.link.note})" if self.link.note else " (proxy)"
        return text


@dataclass(frozen=True)
class GridFactor:
    """电网排放因子 of one activity year and region (tCO2/MWh)."""

    scope: str
    region_zh: str
    region_code: str
    year: int
    factor_t_co2_per_mwh: Decimal
    series: str
    source: str
    caveat: str = ""
    version: str = ""
    note: str = ""

    def per_unit(self, unit: str) -> Decimal:
        """tCO2 per ``unit`` of electricity (e.g. ``万千瓦时``)."""
        return magnitude_in(quantity(self.factor_t_co2_per_mwh, "tCO2/MWh"), f"tCO2/({unit})")

    def label(self) -> str:
        return f"{self.region_zh} {self.year} ({self.series}) {self.factor_t_co2_per_mwh} tCO2/MWh"


@dataclass(frozen=True)
class HeatFactor:
    """热力排放因子 (tCO2/GJ)."""

    name: str
    factor_t_co2_per_gj: Decimal
    source: str
    caveat: str = ""
    version: str = ""

    def per_unit(self, unit: str) -> Decimal:
        """tCO2 per ``unit`` of heat (e.g. ``百万千焦``)."""
        return magnitude_in(quantity(self.factor_t_co2_per_gj, "tCO2/GJ"), f"tCO2/({unit})")


@dataclass(frozen=True)
class CarbonFactors:
    """The factors one accounting uses: fuels by product code, grid and heat."""

    fuel: Mapping[str, ProductFuelFactor]
    electricity: GridFactor | None
    heat: HeatFactor | None
    factor_sets: tuple[str, ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        found: list[str] = []
        for f in self.fuel.values():
            found += [f.factor.version, f.link.version]
        if self.electricity is not None:
            found.append(self.electricity.version)
        if self.heat is not None:
            found.append(self.heat.version)
        return tuple(dict.fromkeys(v for v in found if v))


def resolve_fuel_factors(
    factor_sets: Sequence[str],
    factors: Sequence[FuelFactor],
    links: Sequence[FuelLink],
) -> dict[str, ProductFuelFactor]:
    """Product code → factor, taking the sets in the given priority order (e.g. ``("A", "B")``)."""
    by_key = {(f.factor_set, f.fuel_zh): f for f in factors}
    chosen: dict[str, ProductFuelFactor] = {}
    for wanted in factor_sets:
        for link in links:
            if link.factor_set != wanted or link.product_code in chosen:
                continue
            factor = by_key.get((link.factor_set, link.fuel_zh))
            if factor is None:
                raise CarbonDataError(
                    f"link {link.factor_set}/{link.product_code} names fuel {link.fuel_zh!r}, "
                    f"which set {link.factor_set} does not contain"
                )
            chosen[link.product_code] = ProductFuelFactor(link.product_code, factor, link)
    return chosen


def select_grid_factor(
    factors: Sequence[GridFactor],
    *,
    year: int | None,
    region: str | None = None,
    series: str | None = None,
) -> GridFactor:
    """The grid factor for an activity year and region, saying so when another year stands in.

    ``region`` is a province name (广东), a GB/T 2260 code (440000) or a grid region (南方);
    without it the national factor of the reporting series is used. A missing year is replaced by
    the nearest published year (earlier preferred) and the choice is written in ``note``.
    """
    if region:
        wanted = region.strip()
        candidates = [
            f
            for f in factors
            if wanted in (f.region_zh, f.region_code) and (series is None or f.series == series)
        ]
        if not candidates:
            raise CarbonDataError(f"no grid factor for region {region!r}")
    else:
        candidates = [
            f for f in factors if f.scope == "national" and (series is None or f.series == series)
        ]
        if not candidates:
            raise CarbonDataError("no national grid factor")
    if year is None:
        latest = max(candidates, key=lambda f: f.year)
        return replace(latest, note=f"no activity year given: latest published year {latest.year}")
    exact = [f for f in candidates if f.year == year]
    if exact:
        return exact[0]
    best = min(candidates, key=lambda f: (abs(f.year - year), f.year > year))
    return replace(
        best,
        note=f"no factor published for {year}: the {best.year} factor is used instead",
    )
