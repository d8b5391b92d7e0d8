"""Specifications of the pure rules (rights/rules.py) and the rule file (rights_rules.yaml)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.reference.rights import rights_rules
from dualcontrol.rights import rules


def test_the_rule_file_keeps_not_found_values_unset():
    r = rights_rules()
    # price of paid energy-use rights and the province's emission-right fees: NOT FOUND → None
    assert r.eur_price_yuan_per_tce is None
    assert all(p.fee_yuan_per_t is None for p in r.pollutants.values())
    assert r.eur_deadline(2025) is None  # pilots' deadlines NOT FOUND
    # 发改能源〔2023〕1044号: 1 certificate = 1000 kWh
    assert r.mwh_per_certificate == 1
    # 发改环资〔2024〕113号: ≤ 50 % of the savings needed (regional)
    assert r.gec_regional_cap_frac == Decimal("0.5")
    assert {p.hj212_code for p in r.pollutants.values()} == {"w01018", "w21003", "a21026", "a21002"}
    assert "PHP" not in r.tradable


def test_fee_is_none_without_a_price_and_rounded_to_the_fen():
    assert rules.fee_yuan(Decimal("10"), None) is None
    assert rules.fee_yuan(Decimal("1.005"), Decimal("1")) == Decimal("1.01")  # half up


def test_certificate_adjustment_uses_the_electricity_equivalent_and_never_goes_negative():
    # 0.1229 tce/MWh (GB/T 2589 当量值, energy_products.csv product 23)
    a = rules.certificate_adjustment(
        Decimal("1000"), Decimal("400"), tce_per_mwh=Decimal("0.1229"), deduct=True
    )
    assert a.deduction_tce == Decimal("49.16")
    assert a.adjusted_tce == Decimal("950.84")
    off = rules.certificate_adjustment(
        Decimal("1000"), Decimal("400"), tce_per_mwh=Decimal("0.1229"), deduct=False
    )
    assert off.deduction_tce == 0 and off.adjusted_tce == Decimal("1000")
    big = rules.certificate_adjustment(
        Decimal("10"), Decimal("1000"), tce_per_mwh=Decimal("0.1229"), deduct=True
    )
    assert big.adjusted_tce == 0


def test_emissions_from_cou_in_kg():
    assert rules.emissions_t([1000.0, None, 500.5], Decimal(1000)) == Decimal("1.5005")


@pytest.mark.parametrize(
    ("issued", "asked", "ok"),
    [("9999.99", "0.00", True), ("9999.99", "0.01", True), ("9999.99", "0.02", False)],
)
def test_budget_headroom_boundary(issued, asked, ok):
    assert rules.budget_headroom(Decimal("10000"), Decimal(issued), Decimal(asked)) is ok
    assert rules.budget_headroom(None, Decimal(issued), Decimal(asked)) is True


@pytest.mark.parametrize(("quantity", "points"), [("0.99", 0), ("1", 1), ("1.5", 1), ("2", 2)])
def test_points_round_down(quantity, points):
    assert rules.points(Decimal(quantity), Decimal(1)) == points


def test_price_statistics_weight_by_volume():
    rows = rules.price_statistics(
        [
            ("EUR", dt.date(2025, 5, 1), Decimal(100), Decimal(150)),
            ("EUR", dt.date(2025, 5, 9), Decimal(300), Decimal(170)),
            ("EUR", dt.date(2025, 6, 1), Decimal(10), Decimal(200)),
        ]
    )
    may = rows[0]
    assert (may.month, may.trades, may.volume, may.average) == (
        "2025-05",
        2,
        400,
        Decimal("165.00"),
    )
    assert (may.minimum, may.maximum) == (150, 170)
    assert rows[1].month == "2025-06"


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10_000), st.integers(min_value=1, max_value=100_000)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_average_price_lies_between_min_and_max(pairs):
    rows = rules.price_statistics(
        [("GEC", dt.date(2025, 1, 1), Decimal(q), Decimal(p)) for q, p in pairs]
    )
    assert rows[0].minimum <= rows[0].average <= rows[0].maximum
