"""CO2 factors: fuel sets A and B, product links, grid and heat factors (shared/reference/07)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from dualcontrol.core.carbon import (
    CO2_PER_C,
    CarbonDataError,
    resolve_fuel_factors,
    select_grid_factor,
)
from dualcontrol.reference.accounting import product_coefficients
from dualcontrol.reference.carbon import (
    carbon_factors,
    fuel_factors,
    fuel_links,
    grid_factors,
    heat_factor,
)


def q4(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# Table A of shared/reference/07 (F1, book118 reprint of 各种能源折标准煤与碳排放参考系数): published kgCO2/kg (m³).
TABLE_A = {
    "原煤": "1.9003",
    "焦炭": "2.8604",
    "原油": "3.0202",
    "燃料油": "3.1705",
    "汽油": "2.9251",
    "煤油": "3.0179",
    "柴油": "3.0959",
    "液化石油气": "3.1013",
    "炼厂干气": "3.0119",
    "油田天然气": "2.1622",
}


@pytest.mark.parametrize(("fuel", "published"), sorted(TABLE_A.items()))
def test_table_a_factors_reproduced_to_4_decimals(fuel, published):
    """CO2 = NCV × carbon content × oxidation × 44/12 reproduces every published factor of table A."""
    factor = {f.fuel_zh: f for f in fuel_factors("A")}[fuel]
    per = "m3" if fuel == "油田天然气" else "kg"
    computed_t = factor.co2_factor(per)  # tCO2 per kg (or m³) …
    assert q4(computed_t * 1000) == Decimal(published)  # … in kgCO2 per kg (m³)
    assert factor.published_co2_factor == Decimal(published)


def test_coal_factor_worked_example():
    """原煤: 20.908 GJ/t × 26.37 tC/TJ × 0.94 × 44/12 = 1.90030 tCO2/t."""
    coal = {f.fuel_zh: f for f in fuel_factors("A")}["原煤"]
    expected = Decimal("20.908") * Decimal("26.37") / 1000 * Decimal("0.94") * CO2_PER_C
    assert coal.co2_factor("吨") == expected
    assert q4(coal.co2_factor("吨")) == Decimal("1.9003")


def test_natural_gas_per_205_1_unit():
    """Table A 油田天然气 2.1622 kgCO2/m³ = 21.622 tCO2 per 万立方米 (the 205-1 unit)."""
    gas = {f.fuel_zh: f for f in fuel_factors("A")}["油田天然气"]
    assert q4(gas.co2_factor("万立方米")) == Decimal("21.6219")
    assert gas.published_in("tCO2/万立方米") == Decimal("21.622")


def test_table_b_is_a_separate_labelled_set():
    """Table B (guideline variant, NOT authoritative) reproduces its own derived column and is
    labelled; it disagrees with table A (焦炭 2.8518 vs 2.8604), so the sets are never mixed silently."""
    b = {f.fuel_zh: f for f in fuel_factors("B")}
    assert len(b) == 27
    for factor in b.values():
        assert factor.caveat and "NOT authoritative" in factor.caveat
        per = "10^4Nm3" if factor.ncv_unit.endswith("Nm3") else "t"
        assert q4(factor.co2_factor(per)) == factor.published_co2_factor, factor.fuel_zh
    a_coke = {f.fuel_zh: f for f in fuel_factors("A")}["焦炭"].co2_factor("t")
    assert q4(b["焦炭"].co2_factor("t")) == Decimal("2.8518") != q4(a_coke)


def test_links_point_to_existing_rows_and_products():
    catalogue = product_coefficients()
    rows = {(f.factor_set, f.fuel_zh) for s in ("A", "B") for f in fuel_factors(s)}
    for link in fuel_links():
        assert (link.factor_set, link.fuel_zh) in rows
        assert link.product_code in catalogue
        assert catalogue[link.product_code].kind not in ("electricity", "heat")
        assert link.match in ("same", "proxy")
        if link.match == "proxy":
            assert link.note


def test_priority_of_factor_sets():
    """A first then B: 原煤 from A, 洗精煤 only in B; with A alone 洗精煤 has no factor."""
    factors = [f for s in ("A", "B") for f in fuel_factors(s)]
    both = resolve_fuel_factors(("A", "B"), factors, fuel_links())
    assert both["01"].factor.factor_set == "A"
    assert both["05"].factor.factor_set == "A"
    assert both["02"].factor.factor_set == "B"
    only_a = resolve_fuel_factors(("A",), factors, fuel_links())
    assert "02" not in only_a
    assert "01" not in resolve_fuel_factors(("B",), factors, fuel_links())  # B has no 原煤 row


def test_national_reporting_grid_factor_2022():
    """2022 全国电网平均排放因子 0.5703 tCO2/MWh (MEE 2023 reporting notice, 07)."""
    grid = select_grid_factor(grid_factors(), year=2022)
    assert grid.factor_t_co2_per_mwh == Decimal("0.5703")
    assert grid.series == "reporting"
    assert grid.per_unit("万千瓦时") == Decimal("5.703")
    assert grid.note == ""


def test_provincial_grid_factors_by_name_and_code():
    """MEE/NBS 2022 provincial factors (07 G1): 广东 0.4403, 山东 0.641; 2021 河北 0.7901."""
    factors = grid_factors()
    assert select_grid_factor(factors, year=2022, region="广东").factor_t_co2_per_mwh == Decimal(
        "0.4403"
    )
    assert select_grid_factor(factors, year=2022, region="370000").factor_t_co2_per_mwh == Decimal(
        "0.641"
    )
    assert select_grid_factor(factors, year=2021, region="河北").factor_t_co2_per_mwh == Decimal(
        "0.7901"
    )
    assert select_grid_factor(factors, year=2022, region="南方").factor_t_co2_per_mwh == Decimal(
        "0.3869"
    )


def test_grid_factor_of_an_unpublished_year_says_so():
    grid = select_grid_factor(grid_factors(), year=2024, region="广东")
    assert grid.year == 2022
    assert "2024" in grid.note and "2022" in grid.note


def test_grid_factor_unknown_region():
    with pytest.raises(CarbonDataError):
        select_grid_factor(grid_factors(), year=2022, region="火星")


def test_grid_file_coverage():
    """30 provinces (西藏 NOT FOUND) and 7 regional grids for 2021 and 2022, plus the national factor."""
    factors = grid_factors()
    provinces = {f.region_zh for f in factors if f.scope == "province"}
    assert len(provinces) == 30 and "西藏" not in provinces
    assert {f.year for f in factors if f.scope == "grid_region"} == {2021, 2022}
    assert len([f for f in factors if f.scope == "grid_region"]) == 14
    assert all(f.region_code.endswith("0000") for f in factors if f.scope == "province")


def test_purchased_heat_default():
    """0.11 tCO2/GJ (07 G1, secondary, caveat carried); 1 百万千焦 = 1 GJ."""
    heat = heat_factor()
    assert heat.factor_t_co2_per_gj == Decimal("0.11")
    assert heat.per_unit("百万千焦") == Decimal("0.11")
    assert heat.caveat


def test_carbon_factors_bundle_versions():
    factors = carbon_factors(factor_sets=("A", "B"), year=2022, region="广东")
    names = {v.split("@")[0] for v in factors.versions}
    assert {
        "co2_fuel_factors_a.csv",
        "co2_fuel_factors_b.csv",
        "co2_fuel_links.csv",
        "grid_factors.csv",
        "heat_factors.csv",
    } <= names
    assert factors.electricity is not None and factors.electricity.series == "mee_nbs"
