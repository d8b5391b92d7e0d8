"""Unit-level accounting of a 205-1 report (dualcontrol.core.energy)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.core.carbon import CarbonFactors
from dualcontrol.core.energy import (
    AccountingError,
    CoefficientSource,
    ElectricityEquivalent,
    ProductOutput,
    account_lines_frame,
    account_report,
    coefficient_table,
    select_electricity_equivalent,
)
from dualcontrol.core.report205 import Row205
from dualcontrol.reference.accounting import accounting_rules, product_coefficients
from dualcontrol.reference.carbon import carbon_factors
from dualcontrol.reference.electricity import electricity_equivalent, electricity_equivalents

D = Decimal
PRODUCTS = product_coefficients()
RULES = accounting_rules()
EQ = electricity_equivalent(2022)
CARBON = carbon_factors(factor_sets=("A",), year=2022)


def row(code: str, consumption: str, **kw: str) -> Row205:
    p = PRODUCTS[code]
    values = {k: D(v) for k, v in kw.items() if k != "coefficient_used"}
    coef = kw.get("coefficient_used")
    return Row205(
        product_code=code,
        unit=p.unit,
        product_name=p.name_zh,
        consumption_total=D(consumption),
        industrial_production=values.pop("industrial_production", D(consumption)),
        coefficient_used=D(coef) if coef is not None else None,
        **values,
    )


def account(rows, **kw):
    return account_report(rows, PRODUCTS, EQ, CARBON, RULES, **kw)


def test_reference_coefficient_when_not_filled():
    """No 采用折标系数 → 参考折标系数 (原煤 0.7143 tce/t, NBS list) and the line says so."""
    line = account([row("01", "1000")]).lines[0]
    assert line.coefficient_source is CoefficientSource.REFERENCE
    assert line.coefficient_note == "not filled"
    assert line.energy_calorific_tce == D("714.3000")
    assert "NBS statistical-report coefficient list" in line.coefficient_reference_source


def test_unit_coefficient_when_plausible():
    """采用折标系数 0.7000 for 原煤 lies in [0.4286, 1.0000] → the unit's own coefficient is used."""
    line = account([row("01", "1000", coefficient_used="0.7000")]).lines[0]
    assert line.coefficient_source is CoefficientSource.UNIT
    assert line.energy_calorific_tce == D("700.0000")


def test_implausible_unit_coefficient_falls_back_and_says_why():
    """洗精煤 filled 2.0 is outside [0.7650, 1.0350] → reference 0.9000, note names the range."""
    line = account([row("02", "10", coefficient_used="2.0")]).lines[0]
    assert line.coefficient_source is CoefficientSource.REFERENCE
    assert line.coefficient_tce_per_unit == D("0.9000")
    assert "[0.7650, 1.0350]" in line.coefficient_note
    assert line.coefficient_filled == D("2.0")


def test_catalogue_electricity_is_the_calorific_value():
    """energy_products.csv 电力 1.2290 tce/万kWh = 0.1229 kgce/kWh × 10 000 / 1000 (当量值, 06)."""
    assert PRODUCTS["23"].coefficient_tce_per_unit == D("0.1229") * 10


def test_electricity_in_both_conventions():
    """500 万kWh: 当量值 × 1.229 = 614.5 tce; 等价值 × 4.04 (NBS list 0.404 kgce/kWh) = 2020 tce."""
    acc = account([row("23", "500", purchases_qty="500")])
    line = acc.lines[0]
    assert line.energy_calorific_tce == D("614.5")
    assert line.energy_equivalent_tce == D("2020")
    assert acc.energy_calorific_tce == D("614.5") and acc.energy_equivalent_tce == D("2020")
    assert "year not stated" in line.equivalent_coefficient_note
    assert "no 等价值 row for 2022" in line.equivalent_coefficient_note


def test_electricity_own_coefficient_is_shown_not_used():
    """A unit writing 4.04 in col 10 for electricity does not change the 当量值 line."""
    line = account([row("23", "100", purchases_qty="100", coefficient_used="4.04")]).lines[0]
    assert line.coefficient_tce_per_unit == D("1.2290")
    assert "not used" in line.coefficient_note


def test_equivalent_value_per_year_takes_precedence():
    """A year's 等价值 row (editable data) replaces the default row for that year only."""
    rows = [*electricity_equivalents(), ElectricityEquivalent(D("0.3000"), 2030, "test row")]
    assert select_electricity_equivalent(rows, 2030).coefficient_kgce_per_kwh == D("0.3000")
    assert select_electricity_equivalent(rows, 2029).coefficient_kgce_per_kwh == D("0.4040")
    acc = account_report(
        [row("23", "1", purchases_qty="1")],
        PRODUCTS,
        select_electricity_equivalent(rows, 2030),
        CARBON,
        RULES,
    )
    assert acc.energy_equivalent_tce == D("3.0000")


def test_heat_counted_at_calorific_value_in_both_totals():
    line = account([row("22", "2000", purchases_qty="2000")]).lines[0]
    assert line.energy_calorific_tce == line.energy_equivalent_tce == D("68.2000")
    assert "NOT FOUND" in line.equivalent_coefficient_note


def test_comprehensive_consumption_deducts_conversion_output_and_recovered():
    """综合能源消费量 = consumption − 能源加工转换产出 − 回收利用 (205-2), each at its coefficient.
    A unit burning 1000 t 原煤 that produces 20 万m³ 焦炉煤气 and recovers 500 GJ of heat:
    714.3 − 20 × 6.143 − 500 × 0.0341 = 714.3 − 122.86 − 17.05 = 574.39 tce."""
    acc = account(
        [row("01", "1000")],
        conversion_output={"07": D("20")},
        recovered={"22": D("500")},
    )
    assert acc.energy_calorific_tce == D("714.3000")
    assert acc.comprehensive_calorific_tce == D("574.39")
    assert [line.product_code for line in acc.lines] == ["01", "07", "22"]


def test_comprehensive_base_field_is_a_rule():
    """With base_field industrial_production, non-industrial use (col 7) is left out."""
    r = row("01", "1000", industrial_production="900", non_industrial="100")
    assert account([r]).comprehensive_calorific_tce == D("714.3000")
    industrial = replace(RULES, comprehensive_base_field="industrial_production")
    acc = account_report([r], PRODUCTS, EQ, CARBON, industrial)
    assert acc.comprehensive_calorific_tce == D("642.8700")


def test_co2_from_combustion_excludes_raw_material():
    """Fuel used as raw material (col 6) is not burnt: (1000 − 200) t × 1.90030 = 1520.24 tCO2."""
    acc = account([row("01", "1000", raw_material="200")])
    factor = CARBON.fuel["01"].factor.co2_factor("吨")
    assert acc.co2_combustion_t == D(800) * factor
    assert round(acc.co2_t, 2) == D("1520.24")
    assert acc.feedstock_calorific_tce == D("142.8600")


def test_co2_of_net_purchased_electricity_and_heat():
    """Electricity: (purchases − supplied out) × grid factor: (500 − 100) 万kWh × 5.703 = 2281.2 t;
    heat: 2000 GJ × 0.11 = 220 t (07)."""
    acc = account(
        [row("23", "500", purchases_qty="500"), row("22", "2000", purchases_qty="2000")],
        supplied_out={"23": D("100")},
    )
    assert acc.co2_electricity_t == D("2281.2")
    assert acc.co2_heat_t == D("220")
    assert acc.co2_t == D("2501.2")


def test_missing_fuel_factor_is_reported():
    """洗精煤 has no factor in set A: CO2 is incomplete and says which product."""
    acc = account([row("01", "10"), row("02", "10")])
    assert not acc.co2_complete
    assert acc.co2_missing_products == ("02",)
    assert acc.lines[1].co2_t is None
    assert "CO2 incomplete" in acc.provenance["co2_t"].notes[0]
    with_b = carbon_factors(factor_sets=("A", "B"), year=2022)
    assert account_report([row("02", "10")], PRODUCTS, EQ, with_b, RULES).co2_complete


def test_energy_per_unit_of_product():
    """单位产品综合能耗: 574.39 tce over 1000 t of product = 0.57439 tce/t = 574.39 kgce/t."""
    acc = account(
        [row("01", "1000")],
        conversion_output={"07": D("20")},
        recovered={"22": D("500")},
        outputs=[ProductOutput("焦炭", D("1000"), "吨")],
    )
    out = acc.outputs[0]
    assert out.calorific_tce_per_unit == D("0.57439")
    assert out.calorific_kgce_per_unit == D("574.39")


def test_output_shares_cannot_exceed_one():
    with pytest.raises(AccountingError):
        account(
            [row("01", "1")],
            outputs=[
                ProductOutput("a", D(1), "吨", D("0.6")),
                ProductOutput("b", D(1), "吨", D("0.6")),
            ],
        )


def test_errors():
    with pytest.raises(AccountingError, match="unknown energy product"):
        account([Row205(product_code="99", unit="吨")])
    with pytest.raises(AccountingError, match="appears twice"):
        account([row("01", "1"), row("01", "2")])
    with pytest.raises(AccountingError, match="must not be negative"):
        account([row("01", "1")], recovered={"22": D("-1")})


def test_provenance_lists_inputs_versions_rule_and_formula():
    acc = account([row("01", "1000"), row("23", "500", purchases_qty="500")])
    prov = acc.provenance["energy_equivalent_tce"]
    assert dict(prov.inputs) == {"01": "714.3", "23": "2020"}
    names = {v.split("@")[0] for v in prov.versions}
    assert {"energy_products.csv", "electricity_equivalent.csv", "accounting_rules.yaml"} <= names
    assert "等价值" in prov.rule and "Σ" in prov.formula
    line = acc.lines[1].provenance.as_dict()
    assert line["inputs"]["co2_factor"].startswith("全国 2022 (reporting) 0.5703")
    assert "grid_factors.csv" in {v.split("@")[0] for v in line["versions"]}


# --- vectorised twin -------------------------------------------------------------------------

CODES = sorted(PRODUCTS)
amount = st.decimals(min_value=0, max_value=100000, places=2)


@st.composite
def reports(draw):
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=8, unique=True))
    rows = []
    for code in codes:
        p = PRODUCTS[code]
        consumption = draw(amount)
        raw = draw(st.decimals(min_value=0, max_value=consumption, places=2))
        coef = draw(
            st.one_of(
                st.none(),
                st.decimals(min_value=0, max_value=p.plausible_high * 2, places=4),
            )
        )
        rows.append(
            Row205(
                product_code=code,
                unit=p.unit,
                consumption_total=consumption,
                industrial_production=consumption,
                raw_material=raw,
                purchases_qty=draw(amount),
                coefficient_used=coef,
            )
        )
    return rows


def frame_of(rows):
    return pd.DataFrame(
        {
            "product_code": [r.product_code for r in rows],
            "consumption_total": [float(r.consumption_total) for r in rows],
            "industrial_production": [float(r.industrial_production) for r in rows],
            "raw_material": [float(r.raw_material) for r in rows],
            "purchases_qty": [float(r.purchases_qty) for r in rows],
            "coefficient_used": [
                float(r.coefficient_used) if r.coefficient_used is not None else np.nan
                for r in rows
            ],
        }
    )


TABLE = coefficient_table(PRODUCTS, EQ, carbon_factors(factor_sets=("A", "B"), year=2022))
CARBON_AB = carbon_factors(factor_sets=("A", "B"), year=2022)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_vectorised_twin_agrees_with_exact_accounting(rows):
    exact = account_report(rows, PRODUCTS, EQ, CARBON_AB, RULES)
    fast = account_lines_frame(frame_of(rows), TABLE, RULES)
    for line, (_, f) in zip(exact.lines, fast.iterrows(), strict=True):
        assert f["coefficient_from_unit"] == (line.coefficient_source is CoefficientSource.UNIT)
        assert f["energy_calorific_tce"] == pytest.approx(
            float(line.energy_calorific_tce), rel=1e-12, abs=1e-9
        )
        assert f["energy_equivalent_tce"] == pytest.approx(
            float(line.energy_equivalent_tce), rel=1e-12, abs=1e-9
        )
        assert f["comprehensive_calorific_tce"] == pytest.approx(
            float(line.comprehensive_calorific_tce), rel=1e-12, abs=1e-9
        )
        if line.co2_t is None:
            assert np.isnan(f["co2_t"])
        else:
            assert f["co2_t"] == pytest.approx(float(line.co2_t), rel=1e-12, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_totals_are_the_sum_of_the_lines(rows):
    acc = account_report(rows, PRODUCTS, EQ, CARBON_AB, RULES)
    assert acc.energy_calorific_tce == sum((x.energy_calorific_tce for x in acc.lines), D(0))
    lines_co2 = sum((x.co2_t for x in acc.lines if x.co2_t is not None), D(0))
    assert abs(acc.co2_t - lines_co2) <= D("1e-18")  # 28-digit context; 44/12 does not terminate
    assert acc.energy_equivalent_tce >= acc.energy_calorific_tce  # 等价值 ≥ 当量值 (0.404 > 0.1229)


def test_frame_rejects_unknown_codes():
    with pytest.raises(AccountingError, match="99"):
        account_lines_frame(
            pd.DataFrame({"product_code": ["99"], "consumption_total": [1.0]}), TABLE, RULES
        )


def test_frame_with_categorical_codes():
    frame = frame_of([row("01", "1000"), row("23", "10", purchases_qty="10")])
    frame["product_code"] = frame["product_code"].astype("category")
    out = account_lines_frame(frame, TABLE, RULES)
    assert out["energy_calorific_tce"].tolist() == pytest.approx([714.3, 12.29])


def test_carbon_factors_without_grid():
    acc = account_report(
        [row("23", "1", purchases_qty="1")],
        PRODUCTS,
        EQ,
        CarbonFactors(fuel={}, electricity=None, heat=None),
        RULES,
    )
    assert acc.co2_missing_products == ("23",)


def test_platform_entry_point_loads_the_reference_data():
    from dualcontrol.reference.accounting import account_205_1

    acc = account_205_1([row("23", "500", purchases_qty="500")], year=2022, region="广东")
    assert acc.energy_calorific_tce == D("614.5")
    assert acc.co2_electricity_t == D("500") * D("4.403")  # 广东 2022 0.4403 tCO2/MWh
