"""Allocation of national carbon-market allowances.

Power: 《2023、2024年度全国碳排放权交易发电行业配额总量和分配方案》 A = Qe × Be × Ff + Qh × Bh (coal),
Qe × Be + Qh × Bh (gas), 附2 benchmarks, gas top-up, 缺口率 20 % cap; 2025–2026 consultation draft
表1 and rounding down.  Steel/cement/aluminium: A = E (2024); A = E × (1 + α), X = (BP − I)/BP (draft).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dualcontrol.core.ets import (
    AllocationError,
    GeneratingUnit,
    alpha,
    industry_allocation,
    power_allocation,
    pre_allocation,
)
from dualcontrol.reference.ets import allocation_rules

R = allocation_rules()


def power(units, year=2024, verified=None):
    return power_allocation(
        units,
        benchmarks=R.power_benchmarks(year),
        rules=R.power_rules(year),
        coal_categories=R.coal_categories,
        verified_co2_t=verified,
        rule_version=R.version,
    )


def test_benchmarks_as_printed():
    b24 = R.power_benchmarks(2024)
    assert b24.supply_tco2_per_mwh == {
        "I": D("0.7910"),
        "II": D("0.8049"),
        "III": D("0.8244"),
        "IV": D("0.3288"),
    }
    assert b24.heat_tco2_per_gj["I"] == D("0.1033")
    assert b24.heat_tco2_per_gj["IV"] == D("0.0533")
    assert R.power_benchmarks(2023).supply_tco2_per_mwh["I"] == D("0.7950")
    assert R.power_benchmarks(2026).status == "draft"
    assert R.power_benchmarks(2022) is None  # 2019–2022 benchmarks NOT FOUND: none invented
    assert R.coal_categories == frozenset({"I", "II", "III"})


def test_coal_unit_formula_exactly():
    # 1 000 000 MWh × 0.7910 × 1.015 + 500 000 GJ × 0.1033 = 802 865 + 51 650 = 854 515
    a = power([GeneratingUnit("#1", "I", D(1_000_000), D(500_000), ff=D("1.015"))])
    assert a.computed_t == D("854515.0000000")
    assert a.amount_t == 854_515
    assert a.lines[0].inputs["Ff"] == "1.015"


def test_rounding_down_to_whole_tonnes():
    a = power([GeneratingUnit("#1", "II", D("1000.5"), ff=D(1))])  # 805.30245
    assert a.amount_t == 805


def test_a_coal_unit_without_ff_is_refused_not_guessed():
    with pytest.raises(AllocationError, match="Ff"):
        power([GeneratingUnit("#1", "I", D(1000))])


def test_unknown_category_and_year_without_benchmarks():
    with pytest.raises(AllocationError, match="category 'V'"):
        power([GeneratingUnit("#1", "V", D(1000), ff=D(1))])


def test_gas_unit_is_topped_up_to_its_verified_emissions():
    gas = GeneratingUnit("G1", "IV", D(100_000), D(0), verified_co2_t=D(40_000))
    a = power([gas])  # 100 000 × 0.3288 = 32 880 < 40 000
    assert a.amount_t == 40_000
    assert "topped up" in a.adjustments[0]


def test_gap_cap_twenty_percent_boundary():
    unit = GeneratingUnit("#1", "I", D(100_000), ff=D(1))  # 79 100 t
    exactly = power([unit], verified=D("98875"))  # 79 100 / 98 875 = 0.8 exactly: no top-up
    assert exactly.amount_t == 79_100
    assert exactly.adjustments == ()
    over = power([unit], verified=D(100_000))  # 79.1 % < 80 %: topped up to 80 000
    assert over.amount_t == 80_000
    assert "topped up" in over.adjustments[-1]


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (D("0.20"), D("0.03")),
        (D("0.25"), D("0.03")),
        (D("0.1999"), D("0.029985")),
        (D("0"), D("0")),
        (D("-0.1999"), D("-0.029985")),
        (D("-0.20"), D("-0.03")),
        (D("-0.5"), D("-0.03")),
    ],
)
def test_alpha_at_every_boundary(x, expected):
    assert alpha(x, R.industry_rules(2025)) == expected


def test_industry_allocation_2024_equals_verified_and_2025_uses_alpha():
    a24 = industry_allocation(verified_co2_t=D("1234567.8"), rules=R.industry_rules(2024))
    assert a24.amount_t == 1_234_567
    # BP 0.86, I 0.80 → X = 0.0697674… → α = 0.0104651… → 1 000 000 × 1.0104651 = 1 010 465
    a25 = industry_allocation(
        verified_co2_t=D(1_000_000),
        rules=R.industry_rules(2025),
        intensity=D("0.80"),
        balance_value=D("0.86"),
    )
    assert a25.amount_t == 1_010_465
    with pytest.raises(AllocationError, match="BP"):
        industry_allocation(verified_co2_t=D(1), rules=R.industry_rules(2025))


def test_pre_allocation_share_by_year():
    assert R.power_rules(2024).pre_allocation_frac == D("0.70")
    assert R.power_rules(2025).pre_allocation_frac == D("0.50")
    assert pre_allocation(D("2557.1"), D("0.70")) == 1789  # 1789.97 → 1789
