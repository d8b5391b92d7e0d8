"""Regional CO2 from energy statistics by fuel (dualcontrol.core.regional_co2; shared/reference/13, 07).

Factors: table A (《各种能源折标准煤与碳排放参考系数》: NCV from GB/T 2589, carbon content and oxidation as
省级温室气体清单编制指南) for 原煤 and 天然气 (油田天然气); grid factors: MEE/NBS 全国电力平均二氧化碳排放因子
2021 0.5568, 2022 0.5366, 2023 0.5306 tCO2/MWh. The official NBS method is NOT FOUND (13 §1.1): feedstock,
process, electricity and heat treatment are platform rules (regional_co2_rules.yaml).
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.carbon import GridFactor
from dualcontrol.core.regional_co2 import (
    FuelFactor,
    RegionalCo2Error,
    RegionalCo2Rules,
    pick_grid_factor,
    regional_co2,
    regional_co2_frame,
)
from dualcontrol.reference import load_csv
from dualcontrol.reference import regional_co2 as loader
from dualcontrol.reference.carbon import fuel_factors, heat_factor
from dualcontrol.reference.regional_co2 import co2_from_columns, fuel_columns, regional_co2_rules

# hand computation: tCO2 per 万吨 / 亿立方米 = NCV × C × oxidation × 44/12 × 10⁴ (table A)
COAL_T_PER_10K_T = 20.908 * 26.37 / 1000 * 0.94 * 44 / 12 * 1e4  # 19 002.988 488
GAS_T_PER_100M_M3 = 38.931e-6 * 15.3 * 0.99 * 44 / 12 * 1e8  # 216 218.880 9: MJ/m³ → TJ, × 10⁸ m³
MWH_PER_100M_KWH = 100_000

COAL = FuelFactor("raw_coal_10k_t", "原煤", "万吨", COAL_T_PER_10K_T, "table A (test)")
GAS = FuelFactor("natural_gas_100m_m3", "天然气", "亿立方米", GAS_T_PER_100M_M3, "table A (test)")
HEAT = FuelFactor("heat_net_import_10k_gj", "热力", "万百万千焦", 1100.0, "test", kind="heat")
FACTORS = (COAL, GAS, HEAT)
RULES = RegionalCo2Rules(version="test")


def test_a_region_burning_only_raw_coal():
    """100 万吨 原煤 × 19 002.988 488 tCO2/万吨 = 1 900 298.848 8 tCO2."""
    result = co2_from_columns({"raw_coal_10k_t": 100.0}, year=2022)
    assert result.co2_t == pytest.approx(1_900_298.8488, rel=1e-12)
    assert result.combustion_co2_t == result.co2_t
    assert result.electricity_co2_t == result.process_co2_t == 0
    assert dict(result.by_column) == {"raw_coal_10k_t": pytest.approx(1_900_298.8488, rel=1e-12)}
    notes = " ".join(result.provenance.notes)
    assert "table A 原煤" in notes and "max.book118.com" in notes
    assert any(v.startswith("regional_co2_fuels.csv@") for v in result.provenance.versions)
    assert any(v.startswith("regional_co2_rules.yaml@") for v in result.provenance.versions)


def test_coal_gas_and_net_electricity_import():
    """2022: coal 1 900 298.8488 + gas 10 亿m³ × 216 218.8809 + 50 亿kWh × 100 000 MWh × 0.5366
    (national MEE/NBS factor of 2022) = 1 900 298.8488 + 2 162 188.809 + 2 683 000 t."""
    values = {
        "raw_coal_10k_t": 100.0,
        "natural_gas_100m_m3": 10.0,
        "electricity_net_import_100m_kwh": 50.0,
    }
    result = co2_from_columns(values, year=2022)
    assert result.combustion_co2_t == pytest.approx(1_900_298.8488 + 2_162_188.809, rel=1e-12)
    assert result.electricity_co2_t == pytest.approx(50 * MWH_PER_100M_KWH * 0.5366)
    assert result.co2_t == pytest.approx(6_745_487.6578, rel=1e-12)
    assert result.grid_factor_t_per_mwh == 0.5366
    assert dict(result.provenance.inputs)["grid_factor_t_per_mwh"] == "0.5366"
    assert any("2022年电力二氧化碳排放因子" in n for n in result.provenance.notes)


def test_net_export_gives_negative_electricity_co2():
    """调出 > 调入: −30 亿kWh × 100 000 × 0.5366 = −1 609 800 tCO2 (net or as the in/out pair)."""
    net = co2_from_columns(
        {"raw_coal_10k_t": 100.0, "electricity_net_import_100m_kwh": -30.0}, year=2022
    )
    pair = co2_from_columns(
        {
            "raw_coal_10k_t": 100.0,
            "electricity_inflow_100m_kwh": 20.0,
            "electricity_outflow_100m_kwh": 50.0,
        },
        year=2022,
    )
    for result in (net, pair):
        assert result.electricity_co2_t == pytest.approx(-1_609_800.0)
        assert result.co2_t == pytest.approx(1_900_298.8488 - 1_609_800.0)
        assert result.electricity_net_import_100m_kwh == -30.0
        assert any("net export" in n for n in result.provenance.notes)


def test_feedstock_is_excluded_before_combustion():
    """100 万吨 原煤, 40 万吨 用作原材料 → (100 − 40) × 19 002.988 488 = 1 140 179.309 28 t."""
    values = {"raw_coal_10k_t": 100.0, "feedstock_raw_coal_10k_t": 40.0}
    result = co2_from_columns(values, year=2022)
    assert result.co2_t == pytest.approx(1_140_179.30928, rel=1e-12)
    assert any(
        "feedstock_raw_coal_10k_t (用作原材料) subtracted" in n for n in result.provenance.notes
    )
    assert any(n.startswith("feedstock: platform rule") for n in result.provenance.notes)
    kept = regional_co2(
        values,
        year=2022,
        factors=FACTORS,
        grid_factor_t_per_mwh=None,
        rules=replace(RULES, feedstock_excluded=False),
    )
    assert kept.co2_t == pytest.approx(100 * COAL_T_PER_10K_T)
    assert any("not subtracted" in n for n in kept.provenance.notes)


def test_process_emissions_only_when_the_rule_says_so():
    values = {"raw_coal_10k_t": 100.0, "process_co2_t": 500_000.0}
    off = co2_from_columns(values, year=2022)  # default rules: energy-activity CO2 only
    assert regional_co2_rules().include_process is False
    assert off.process_co2_t == 0 and off.co2_t == pytest.approx(1_900_298.8488, rel=1e-12)
    assert any("process_co2_t given but not counted" in n for n in off.provenance.notes)
    on = regional_co2(
        values,
        year=2022,
        factors=FACTORS,
        grid_factor_t_per_mwh=None,
        rules=replace(RULES, include_process=True),
    )
    assert on.process_co2_t == 500_000.0
    assert on.co2_t == pytest.approx(100 * COAL_T_PER_10K_T + 500_000.0)
    assert on.by_column["process_co2_t"] == 500_000.0


def test_a_year_without_its_own_grid_factor_uses_the_latest_earlier_one():
    """Platform rule: 2024 has no MEE/NBS factor → the 2023 factor (0.5306), and the provenance says so."""
    values = {"raw_coal_10k_t": 1.0, "electricity_net_import_100m_kwh": 10.0}
    result = co2_from_columns(values, year=2024)
    assert result.grid_factor_t_per_mwh == 0.5306
    assert result.electricity_co2_t == pytest.approx(10 * MWH_PER_100M_KWH * 0.5306)
    assert any(
        "no mee_nbs grid factor published for 2024" in n
        and "2023, the latest earlier year" in n
        and "platform rule" in n
        for n in result.provenance.notes
    )
    # before the first published year (the 14th-FYP base year 2020): the earliest factor, said so
    base = co2_from_columns(values, year=2020)
    assert base.grid_factor_t_per_mwh == 0.5568
    assert any("2021, the earliest published year" in n for n in base.provenance.notes)


def test_latest_earlier_is_not_the_nearest_year():
    """With factors for 2019 and 2023, 2022 takes 2019 (latest earlier), not the nearer 2023."""

    def factor(year: int) -> GridFactor:
        return GridFactor("national", "全国", "", year, Decimal("0.5"), "s", "test")

    factors = [factor(2019), factor(2023)]
    chosen = pick_grid_factor(factors, year=2022, series="s")
    assert chosen.year == 2019 and "latest earlier" in chosen.note
    assert pick_grid_factor(factors, year=2023, series="s").note == ""
    with pytest.raises(RegionalCo2Error, match="first published year is 2019"):
        pick_grid_factor(factors, year=2018, series="s", before_first_year="error")


def test_provincial_and_regional_grid_factors_by_region():
    values = {"raw_coal_10k_t": 1.0, "electricity_net_import_100m_kwh": 1.0}
    assert co2_from_columns(values, year=2022, grid_region="云南").grid_factor_t_per_mwh == 0.1073
    assert co2_from_columns(values, year=2022, grid_region="530000").grid_factor_t_per_mwh == 0.1073
    # 2023 regional-grid factor from the rules file's supplement (光明日报 report of the 2023 announcement)
    assert co2_from_columns(values, year=2023, grid_region="南方").grid_factor_t_per_mwh == 0.4042
    later = co2_from_columns(values, year=2023, grid_region="云南")  # no 2023 provincial factor
    assert later.grid_factor_t_per_mwh == 0.1073
    assert any("latest earlier year" in n for n in later.provenance.notes)


def test_rules_naming_a_regional_series_need_a_region(monkeypatch):
    province_rules = replace(regional_co2_rules(), grid_series="province")
    monkeypatch.setattr(loader, "regional_co2_rules", lambda: province_rules)
    values = {"raw_coal_10k_t": 1.0, "electricity_net_import_100m_kwh": 1.0}
    with pytest.raises(RegionalCo2Error, match="grid_series is province: name the grid_region"):
        co2_from_columns(values, year=2022)
    assert co2_from_columns(values, year=2022, grid_region="云南").grid_factor_t_per_mwh == 0.1073


def test_heat_net_import_and_switches():
    values = {"raw_coal_10k_t": 1.0, "heat_net_import_10k_gj": 2.0}
    result = co2_from_columns(values, year=2022)
    assert result.heat_co2_t == pytest.approx(2 * 1100.0)  # 2 万百万千焦 × 10⁴ GJ × 0.11 tCO2/GJ
    assert result.co2_t == pytest.approx(COAL_T_PER_10K_T + 2200.0)
    off = regional_co2(
        values,
        year=2022,
        factors=FACTORS,
        grid_factor_t_per_mwh=None,
        rules=replace(RULES, heat="none"),
    )
    assert off.heat_co2_t == 0
    no_electricity = regional_co2(
        {"raw_coal_10k_t": 1.0, "electricity_net_import_100m_kwh": 5.0},
        year=2022,
        factors=FACTORS,
        grid_factor_t_per_mwh=None,
        rules=replace(RULES, electricity="none"),
    )
    assert no_electricity.electricity_co2_t == 0
    assert any("not counted (rule electricity: none)" in n for n in no_electricity.provenance.notes)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"raw_coal_10k_t": -1.0}, "raw_coal_10k_t must not be negative"),
        ({"raw_coal_10k_t": "lots"}, "raw_coal_10k_t: not a number"),
        ({"raw_coal_10k_t": math.inf}, "raw_coal_10k_t: not a finite number"),
        (
            {"raw_coal_10k_t": 10.0, "feedstock_raw_coal_10k_t": 11.0},
            r"feedstock_raw_coal_10k_t \(11.0\) exceeds raw_coal_10k_t \(10.0\)",
        ),
        ({"energy_tce": 5.0}, "no fuel or electricity column given"),
        (
            {
                "raw_coal_10k_t": 1.0,
                "electricity_net_import_100m_kwh": 5.0,
                "electricity_inflow_100m_kwh": 1.0,
            },
            "electricity_net_import_100m_kwh .* disagrees with electricity_inflow_100m_kwh",
        ),
        (
            {"raw_coal_10k_t": 1.0, "electricity_outflow_100m_kwh": -1.0},
            "outflow_100m_kwh must not",
        ),
        (
            {"raw_coal_10k_t": 1.0, "electricity_net_import_100m_kwh": 5.0},
            "electricity_net_import_100m_kwh: a net import of 5.0 亿kWh needs a grid factor for 2022",
        ),
        ({"raw_coal_10k_t": 1.0, "process_co2_t": -3.0}, "process_co2_t must not be negative"),
    ],
)
def test_errors_name_the_column(values, message):
    with pytest.raises(RegionalCo2Error, match=message):
        regional_co2(values, year=2022, factors=FACTORS, grid_factor_t_per_mwh=None, rules=RULES)


def test_frame_errors_name_the_row_and_the_column():
    frame = pd.DataFrame(
        {"region": ["甲", "乙"], "year": [2022, 2022], "raw_coal_10k_t": [1.0, -2.0]}
    )
    with pytest.raises(RegionalCo2Error, match=r"row 1 \(region 乙, year 2022\): raw_coal_10k_t"):
        regional_co2_frame(frame, factors=FACTORS, rules=RULES)
    frame["raw_coal_10k_t"] = ["1", "x"]
    with pytest.raises(RegionalCo2Error, match=r"row 1 .*raw_coal_10k_t: not a number: 'x'"):
        regional_co2_frame(frame, factors=FACTORS, rules=RULES)
    with pytest.raises(RegionalCo2Error, match=r"missing column.*year"):
        regional_co2_frame(frame.drop(columns="year"), factors=FACTORS, rules=RULES)


FRAME = pd.DataFrame(
    {
        "region": ["甲", "甲", "乙", "乙"],
        "year": [2021, 2022, 2021, 2022],
        "raw_coal_10k_t": [100.0, 90.0, np.nan, 10.0],
        "feedstock_raw_coal_10k_t": [10.0, np.nan, np.nan, 10.0],
        "natural_gas_100m_m3": [np.nan, 5.0, 2.5, np.nan],
        "electricity_net_import_100m_kwh": [30.0, -12.5, np.nan, 0.0],
        "heat_net_import_10k_gj": [np.nan, 1.5, -0.5, np.nan],
        "process_co2_t": [1000.0, np.nan, 20.0, 0.0],
    }
)
GRID = {2021: 0.5568, 2022: 0.5366}


def scalar_of(frame: pd.DataFrame, rules: RegionalCo2Rules):
    for label, row in frame.iterrows():
        values = {k: v for k, v in row.items() if k not in ("region", "year")}
        yield (
            label,
            regional_co2(
                values,
                year=int(row["year"]),
                factors=FACTORS,
                grid_factor_t_per_mwh=GRID[int(row["year"])],
                rules=rules,
            ),
        )


@pytest.mark.parametrize(
    "rules", [RULES, replace(RULES, include_process=True, feedstock_excluded=False)]
)
def test_frame_and_scalar_agree(rules):
    out = regional_co2_frame(FRAME, factors=FACTORS, rules=rules, grid_factor_t_per_mwh=GRID)
    assert list(out.index) == list(FRAME.index)
    for label, one in scalar_of(FRAME, rules):
        row = out.loc[label]
        assert row["co2_t"] == pytest.approx(one.co2_t, rel=1e-12, abs=1e-9)
        assert row["combustion_co2_t"] == pytest.approx(one.combustion_co2_t, rel=1e-12, abs=1e-9)
        assert row["electricity_co2_t"] == pytest.approx(one.electricity_co2_t, abs=1e-9)
        assert row["heat_co2_t"] == pytest.approx(one.heat_co2_t, abs=1e-9)
        assert row["process_co2_t"] == one.process_co2_t
        for column, value in one.by_column.items():
            assert row[f"co2_t_from_{column}"] == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert out.attrs["provenance"].figure == "co2_t"


def test_frame_takes_a_per_row_grid_factor_column():
    frame = FRAME.assign(grid_factor_t_per_mwh=[0.1, np.nan, np.nan, np.nan])
    out = regional_co2_frame(frame, factors=FACTORS, rules=RULES, grid_factor_t_per_mwh=GRID)
    assert out.loc[0, "electricity_co2_t"] == pytest.approx(30 * MWH_PER_100M_KWH * 0.1)
    assert out.loc[1, "electricity_co2_t"] == pytest.approx(-12.5 * MWH_PER_100M_KWH * 0.5366)


amounts = st.one_of(st.none(), st.floats(0, 1e4, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(amounts, amounts, st.one_of(st.none(), st.floats(-1e3, 1e3)), amounts),
        min_size=1,
        max_size=8,
    )
)
def test_frame_equals_scalar_for_any_input(rows):
    rows = [r for r in rows if r[0] is not None or r[1] is not None]
    if not rows:
        return
    frame = pd.DataFrame(
        {
            "region": [f"r{i}" for i in range(len(rows))],
            "year": 2022,
            "raw_coal_10k_t": [r[0] for r in rows],
            "natural_gas_100m_m3": [r[1] for r in rows],
            "electricity_net_import_100m_kwh": [r[2] for r in rows],
            "process_co2_t": [r[3] for r in rows],
        }
    ).astype({"raw_coal_10k_t": float, "natural_gas_100m_m3": float})
    out = regional_co2_frame(frame, factors=FACTORS, rules=RULES, grid_factor_t_per_mwh=GRID)
    for label, one in scalar_of(frame, RULES):
        assert out.loc[label, "co2_t"] == pytest.approx(one.co2_t, rel=1e-12, abs=1e-6)


# --- the data files ------------------------------------------------------------------------------


def test_fuel_columns_cover_the_balance_sheet():
    columns = fuel_columns()
    for name in (
        "raw_coal_10k_t",
        "cleaned_coal_10k_t",
        "other_washed_coal_10k_t",
        "coal_products_10k_t",
        "coke_10k_t",
        "coke_oven_gas_100m_m3",
        "other_gas_100m_m3",
        "crude_oil_10k_t",
        "gasoline_10k_t",
        "kerosene_10k_t",
        "diesel_10k_t",
        "fuel_oil_10k_t",
        "lpg_10k_t",
        "refinery_gas_10k_t",
        "natural_gas_100m_m3",
        "other_petroleum_products_10k_t",
        "other_coking_products_10k_t",
        "heat_net_import_10k_gj",
        "feedstock_raw_coal_10k_t",
        "electricity_net_import_100m_kwh",
        "electricity_inflow_100m_kwh",
        "electricity_outflow_100m_kwh",
        "process_co2_t",
    ):
        assert name in columns
    assert "feedstock_heat_net_import_10k_gj" not in columns
    assert len(columns) == len(set(columns))


def test_every_factor_row_has_a_source_and_matches_the_factor_sets():
    table = load_csv("regional_co2_fuels.csv")
    sets = {
        "A": {f.fuel_zh: f for f in fuel_factors("A")},
        "B": {f.fuel_zh: f for f in fuel_factors("B")},
    }
    assert len(table.rows) == 18
    for row in table.rows:
        assert row["source"].strip(), row["column"]
        if row["factor_set"] == "B":
            assert "NOT authoritative" in row["caveat"], row["column"]
        if row["match"] == "proxy":
            assert "proxy" in row["caveat"], row["column"]
        if row["factor_set"] in sets:
            factor = sets[row["factor_set"]][row["factor_fuel_zh"]]
            assert Decimal(row["ncv"]) == factor.ncv, row["column"]
            assert Decimal(row["carbon_content"]) == factor.carbon_content, row["column"]
            assert row["carbon_content_unit"] == factor.carbon_content_unit, row["column"]
            assert Decimal(row["oxidation_frac"]) == factor.oxidation_frac, row["column"]
        else:  # heat: 0.11 tCO2/GJ × 10⁴ GJ per 万百万千焦
            assert row["column"] == "heat_net_import_10k_gj"
            assert Decimal(row["co2_t_per_unit"]) == heat_factor().factor_t_co2_per_gj * 10_000


def test_table_a_factors_per_balance_sheet_unit():
    """Table A published 1.9003 kgCO2/kg (原煤) and 2.1622 kgCO2/m³ (油田天然气) × 10⁴ / 10⁸."""
    coal = co2_from_columns({"raw_coal_10k_t": 1.0}, year=2022).co2_t
    gas = co2_from_columns({"natural_gas_100m_m3": 1.0}, year=2022).co2_t
    assert round(coal / 1e4, 4) == 1.9003
    assert round(gas / 1e8 * 1000, 4) == 2.1622
    assert coal == pytest.approx(COAL_T_PER_10K_T, rel=1e-12)
    assert gas == pytest.approx(GAS_T_PER_100M_M3, rel=1e-12)


def test_rules_load_with_a_source_for_every_switch():
    rules = regional_co2_rules()
    assert rules.version.startswith("regional_co2_rules.yaml@")
    assert rules.name == "regional-co2 2026.1"
    assert (rules.electricity, rules.grid_series, rules.grid_factor_series) == (
        "net_import_grid_factor",
        "national",
        "mee_nbs",
    )
    assert rules.feedstock_excluded is True and rules.include_process is False
    for switch in ("consumption_basis", "feedstock", "process", "electricity", "heat"):
        assert rules.sources[switch].strip(), switch
    # the official method is NOT FOUND: these are labelled platform rules
    assert all("platform rule" in rules.sources[s] for s in ("feedstock", "process", "electricity"))


def test_bad_rules_are_refused():
    with pytest.raises(RegionalCo2Error, match="grid_series"):
        RegionalCo2Rules(version="x", grid_series="county")
    with pytest.raises(RegionalCo2Error, match="kind"):
        FuelFactor("x", "x", "t", 1.0, "s", kind="steam")
    with pytest.raises(RegionalCo2Error, match="two factors"):
        regional_co2(
            {"raw_coal_10k_t": 1.0},
            year=2022,
            factors=(COAL, COAL),
            grid_factor_t_per_mwh=None,
            rules=RULES,
        )
