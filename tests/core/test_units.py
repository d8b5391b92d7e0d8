"""Units: one pint registry for tce, kgce, GJ, kWh, 万m³, tCO2 (dualcontrol.core.units)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.units import UnitError, conversion_factor, convert, quantity, registry


def q4(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))


def test_kgce_is_7000_kcal_it_gb_t_2589():
    """GB/T 2589 (shared/reference/06): 1 kgce = 7000 kcal = 29 307.6 kJ (IT calorie 4.1868 J)."""
    assert conversion_factor("kgce", "kJ") == Decimal("29307.6")
    assert q4(conversion_factor("kgce", "international_calorie") / 1000) == Decimal("7000.0000")
    assert conversion_factor("tce", "GJ") == Decimal("29.3076")


def test_kcal_is_the_international_table_calorie():
    """GB/T 2589 uses the IT calorie (4.1868 J): 7 000 kcal is exactly 1 kgce, not 0.99933 kgce
    as with pint's default thermochemical calorie (4.184 J)."""
    assert convert(Decimal(7000), "kcal", "kgce") == Decimal(1)
    assert convert(Decimal("29307.6"), "kJ", "kgce") == Decimal(1)
    assert conversion_factor("cal", "J") == Decimal("4.1868")
    assert conversion_factor("kcal", "kJ") == Decimal("4.1868")
    assert conversion_factor("calorie", "international_calorie") == Decimal(1)
    assert q4(conversion_factor("kgce", "kcal")) == Decimal("7000.0000")
    # GB/T 2589 appendix NCVs ÷ 7000 (shared/reference/06): 原煤 5000 kcal/kg → 0.7143 kgce/kg
    assert q4(convert(Decimal(5000), "kcal/kg", "kgce/kg")) == Decimal("0.7143")
    assert q4(convert(Decimal(860), "kcal/kWh", "kgce/kWh")) == Decimal("0.1229")


def test_thermochemical_calorie_keeps_its_value():
    """The thermochemical calorie stays available under its own name, and pint units defined on it
    (ton of TNT, Btu_th) keep their values."""
    assert conversion_factor("thermochemical_calorie", "J") == Decimal("4.184")
    assert conversion_factor("cal_th", "J") == Decimal("4.184")
    assert conversion_factor("ton_TNT", "GJ") == Decimal("4.184")
    assert q4(conversion_factor("Btu_th", "J")) == Decimal("1054.3503")


def test_electricity_calorific_value_is_a_convention_not_the_si_ratio():
    """当量值 0.1229 kgce/kWh comes from 860 kcal/kWh ÷ 7000 (shared/reference/06); the SI ratio
    3.6 MJ / 29.3076 MJ is 0.12284 — so the 0.1229 coefficient is reference data, not derived."""
    assert round(Decimal(860) / Decimal(7000), 4) == Decimal("0.1229")
    assert q4(conversion_factor("kWh", "kgce")) == Decimal("0.1228")


@pytest.mark.parametrize(
    ("label", "target", "factor"),
    [
        ("万立方米", "m3", Decimal(10000)),
        ("亿立方米", "万立方米", Decimal(10000)),
        ("万千瓦时", "kWh", Decimal(10000)),
        ("亿千瓦时", "万千瓦时", Decimal(10000)),
        ("百万千焦", "GJ", Decimal(1)),
        ("吨标准煤", "千克标准煤", Decimal(1000)),
        ("万吨标准煤", "吨标准煤", Decimal(10000)),
        ("万元", "元", Decimal(10000)),
        ("千元", "元", Decimal(1000)),
        ("吨", "千克", Decimal(1000)),
    ],
)
def test_chinese_form_units(label, target, factor):
    """Units as printed on NBS forms (205-1, P303, bulletins) convert exactly."""
    assert conversion_factor(label, target) == factor


def test_grid_factor_units():
    """0.5703 tCO2/MWh (2022 national reporting factor) = 0.5703 kgCO2/kWh = 5.703 tCO2/万kWh."""
    assert convert(Decimal("0.5703"), "tCO2/MWh", "kgCO2/kWh") == Decimal("0.5703")
    assert convert(Decimal("0.5703"), "tCO2/MWh", "tCO2/万千瓦时") == Decimal("5.703")


def test_gas_volume_units_of_the_factor_tables():
    """Table A gives NCV in MJ/m³, table B in GJ/10^4Nm3; both convert to GJ per 万立方米."""
    assert convert(Decimal("38.931"), "MJ/m3", "GJ/万立方米") == Decimal("389.31")
    assert convert(Decimal("389.31"), "GJ/10^4Nm3", "GJ/万立方米") == Decimal("389.31")


def test_mass_of_co2_is_not_mass_of_fuel():
    """tCO2 is its own dimension: a tonne of coal never converts to a tonne of CO2."""
    with pytest.raises(UnitError):
        conversion_factor("t", "tCO2")
    with pytest.raises(UnitError):
        conversion_factor("tC", "tCO2")


def test_unknown_unit():
    with pytest.raises(UnitError):
        quantity(Decimal(1), "斤标准煤")


def test_single_registry():
    assert registry() is registry()


PAIRS = [
    ("tce", "GJ"),
    ("kgce", "kWh"),
    ("万立方米", "m3"),
    ("万千瓦时", "MWh"),
    ("百万千焦", "tce"),
    ("tCO2/MWh", "kgCO2/万千瓦时"),
    ("万吨标准煤", "kgce"),
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(PAIRS),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3),
)
def test_conversion_round_trip(pair, value):
    """Converting there and back returns the value (28-digit Decimal context)."""
    source, target = pair
    back = convert(convert(value, source, target), target, source)
    assert abs(back - value) <= value * Decimal("1e-20")
