"""One pint unit registry for every quantity of the platform (tce, kgce, GJ, kWh, 万m³, tCO2 …).

The registry works in :class:`~decimal.Decimal` so conversions of reported figures are exact
(1 万立方米 is exactly 10 000 m³). Vectorised code asks for a conversion factor once and
multiplies its arrays by ``float(factor)``.

Unit definitions (metrology, not policy):

* 1 kgce (千克标准煤) = 7 000 kcal(IT) = 29 307.6 kJ — GB/T 2589 definition as reproduced in
  shared/reference/06 ("低位发热量等于 29 307 千焦的燃料，称为 1 千克标准煤").
* ``cal`` / ``kcal`` / ``calorie`` are the **International Table calorie** (4.1868 J), the calorie
  of GB/T 2589 and of Chinese calorific values (7 000 kcal = 1 kgce exactly). pint's default
  ``calorie`` is the thermochemical one (4.184 J), which would make 7 000 kcal 0.99933 kgce; the
  registry is therefore built from pint's default definitions with the two calorie lines swapped
  (:data:`CALORIE_OVERRIDES`). The thermochemical calorie stays available as
  ``thermochemical_calorie`` / ``cal_th``, and pint units defined on it (Btu_th, ton of TNT,
  clausius, entropy unit) keep their values.
* tCO2 and tC are their own dimensions, so a mass of fuel can never be mistaken for a mass of CO2;
  the CO2/C mass ratio of the guideline formula lives in :mod:`dualcontrol.core.carbon`.
* 万 (10⁴) and 亿 (10⁸) multiples of the units printed on NBS forms.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import Any

import pint

# name = definition = symbol; read by pint's definition parser.
UNIT_DEFINITIONS: tuple[str, ...] = (
    "kilogram_coal_equivalent = 29.3076 * megajoule = kgce",
    "tonne_coal_equivalent = 1000 * kilogram_coal_equivalent = tce",
    "ten_thousand_tce = 10000 * tonne_coal_equivalent = wan_tce",
    "hundred_million_tce = 100000000 * tonne_coal_equivalent = yi_tce",
    "tonne_co2 = [co2_mass] = tCO2",
    "kilogram_co2 = tonne_co2 / 1000 = kgCO2",
    "ten_thousand_tco2 = 10000 * tonne_co2 = wan_tCO2",
    "tonne_carbon = [carbon_mass] = tC",
    "cubic_metre = meter ** 3 = m3",
    "normal_cubic_metre = meter ** 3 = Nm3",  # gas volumes of the factor tables are at standard conditions
    "ten_thousand_cubic_metre = 10000 * meter ** 3 = wan_m3",
    "ten_thousand_normal_cubic_metre = 10000 * meter ** 3 = wan_Nm3",
    "hundred_million_cubic_metre = 100000000 * meter ** 3 = yi_m3",
    "ten_thousand_kwh = 10000 * kilowatt_hour = wan_kWh",
    "hundred_million_kwh = 100000000 * kilowatt_hour = yi_kWh",
    "million_kilojoule = 1000000 * kilojoule = million_kJ",
    "ten_thousand_tonne = 10000 * metric_ton = wan_t",
    "yuan = [currency]",
    "ten_thousand_yuan = 10000 * yuan = wan_yuan",
    "thousand_yuan = 1000 * yuan = k_yuan",
)

# pint default_en.txt line → replacement: ``calorie`` (and so ``cal``, ``kcal``) becomes the
# International Table calorie; the thermochemical calorie keeps its own name, and the pint units
# defined on it are re-pointed to that name so their values do not change.
CALORIE_OVERRIDES: tuple[tuple[str, str], ...] = (
    (
        "calorie = 4.184 * joule = cal = thermochemical_calorie = cal_th",
        "thermochemical_calorie = 4.184 * joule = cal_th",
    ),
    (
        "international_calorie = 4.1868 * joule = cal_it = international_steam_table_calorie",
        "calorie = 4.1868 * joule = cal = international_calorie = cal_it"
        " = international_steam_table_calorie",
    ),
    (
        "kelvin * calorie = Btu_th",
        "kelvin * thermochemical_calorie = Btu_th",
    ),
    ("ton_TNT = 1e9 * calorie = tTNT", "ton_TNT = 1e9 * thermochemical_calorie = tTNT"),
    ("clausius = calorie / kelvin = Cl", "clausius = thermochemical_calorie / kelvin = Cl"),
    (
        "entropy_unit = calorie / kelvin / mole = eu",
        "entropy_unit = thermochemical_calorie / kelvin / mole = eu",
    ),
)

# Unit labels as printed on NBS forms and bulletins → pint expressions.
LABELS_ZH: dict[str, str] = {
    "吨": "metric_ton",
    "万吨": "wan_t",
    "千克": "kilogram",
    "立方米": "m3",
    "万立方米": "wan_m3",
    "亿立方米": "yi_m3",
    "千瓦时": "kilowatt_hour",
    "万千瓦时": "wan_kWh",
    "亿千瓦时": "yi_kWh",
    "百万千焦": "million_kJ",
    "吉焦": "gigajoule",
    "千克标准煤": "kgce",
    "吨标准煤": "tce",
    "万吨标准煤": "wan_tce",
    "亿吨标准煤": "yi_tce",
    "吨二氧化碳": "tCO2",
    "万吨二氧化碳": "wan_tCO2",
    "元": "yuan",
    "千元": "k_yuan",
    "万元": "wan_yuan",
}
_LABELS_LONGEST_FIRST = sorted(LABELS_ZH, key=len, reverse=True)


class UnitError(ValueError):
    """A unit label or conversion is not known or not dimensionally possible."""


def _default_definitions() -> list[str]:
    """pint's default definition lines with the calorie overrides applied (fails loudly when a
    pint release changes one of the replaced lines)."""
    package = resources.files("pint")
    text = package.joinpath("default_en.txt").read_text(encoding="utf-8")
    constants = package.joinpath("constants_en.txt").read_text(encoding="utf-8")
    if text.count("@import constants_en.txt") != 1:
        raise UnitError("pint default_en.txt no longer imports constants_en.txt")
    text = text.replace("@import constants_en.txt", constants)
    for old, new in CALORIE_OVERRIDES:
        if text.count(old) != 1:
            raise UnitError(f"pint default_en.txt changed: cannot apply calorie override {old!r}")
        text = text.replace(old, new)
    return text.splitlines()


class _PlatformRegistry(pint.UnitRegistry[Decimal]):
    """pint's UnitRegistry loading its default definitions with :data:`CALORIE_OVERRIDES` applied.

    Only the default file is swapped: pint's own initialisation (default group and system, cache)
    runs unchanged on it.
    """

    def load_definitions(self, file: Any, is_resource: bool = False) -> Any:
        if is_resource and PurePath(str(file)).name == "default_en.txt":
            return super().load_definitions(_default_definitions())
        return super().load_definitions(file, is_resource)


@cache
def registry() -> Any:
    """The platform's single unit registry (built once; calorie = International Table calorie)."""
    ureg: Any = _PlatformRegistry(non_int_type=Decimal, cache_folder=None, on_redefinition="raise")
    for definition in UNIT_DEFINITIONS:
        ureg.define(definition)
    return ureg


def unit_expression(label: str) -> str:
    """Pint expression for a unit label: Chinese form labels (万立方米, 吨/万元) or pint syntax."""
    text = label.strip()
    if text in LABELS_ZH:
        return LABELS_ZH[text]
    for zh in _LABELS_LONGEST_FIRST:
        if zh in text:
            text = text.replace(zh, f"({LABELS_ZH[zh]})")
    return text.replace("10^4Nm3", "wan_Nm3").replace("10^4m3", "wan_m3")


def quantity(value: Decimal | int | str, unit: str) -> Any:
    """A pint Quantity with a Decimal magnitude in ``unit`` (Chinese labels accepted)."""
    ureg = registry()
    try:
        return ureg.Quantity(Decimal(value), unit_expression(unit))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"unknown unit {unit!r}") from exc


@cache
def conversion_factor(source: str, target: str) -> Decimal:
    """The exact multiplier taking a magnitude in ``source`` units to ``target`` units."""
    try:
        q = quantity(Decimal(1), source).to(unit_expression(target))
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"cannot convert {source!r} to {target!r}: {exc}") from exc
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"unknown unit in {source!r} → {target!r}") from exc
    magnitude = q.magnitude
    return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))


def convert(value: Decimal, source: str, target: str) -> Decimal:
    """``value`` in ``source`` units expressed in ``target`` units (exact, Decimal)."""
    return value * conversion_factor(source, target)


def magnitude_in(q: Any, target: str) -> Decimal:
    """The Decimal magnitude of pint quantity ``q`` in ``target`` units."""
    try:
        magnitude = q.to(unit_expression(target)).magnitude
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"cannot express {q} in {target!r}: {exc}") from exc
    return magnitude if isinstance(magnitude, Decimal) else Decimal(str(magnitude))
