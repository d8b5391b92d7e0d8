"""205-1 cross-checks (shared/reference/formats.md §1.2: 4 = 5 + 7, 9 = 1 + 2 − 4, 6 ≤ 5, 8 ≤ 4)."""

from decimal import Decimal

import pytest

from dualcontrol.core.report205 import validate_report
from dualcontrol.reference.energy_products import product_specs, rules_205
from tests.factories import coal_row, power_row

SPECS = product_specs()
RULES = rules_205()


def codes(rows):
    return [(i.row, i.field, i.code) for i in validate_report(rows, SPECS, RULES)]


def test_balanced_report_passes():
    assert codes([coal_row(), power_row()]) == []


def test_empty_report_is_refused():
    assert codes([]) == [(-1, "product_code", "empty_report")]


def test_unknown_product_and_wrong_unit():
    bad = coal_row(product_code="99")
    assert (0, "product_code", "unknown_product") in codes([bad])
    assert codes([coal_row(unit="千克")]) == [(0, "unit", "wrong_unit")]


def test_duplicate_product():
    assert codes([coal_row(), coal_row()]) == [(1, "product_code", "duplicate_product")]


def test_negative_quantity():
    assert codes([coal_row(purchases_value_kyuan=Decimal(-1))]) == [
        (0, "purchases_value_kyuan", "negative")
    ]


def test_a_negative_value_does_not_hide_the_other_checks_of_its_row():
    # issue 14: the negative opening stock also unbalances the stock, and the coefficient is
    # implausible — all three are listed at once
    row = coal_row(opening_stock=Decimal(-1), coefficient_used=Decimal("2.5"))
    assert codes([row]) == [
        (0, "opening_stock", "negative"),
        (0, "closing_stock", "stock_balance"),
        (0, "coefficient_used", "coefficient_implausible"),
    ]


def test_checks_needing_an_unreadable_cell_are_skipped_the_others_run():
    # consumption_total could not be read (text in the file): 4 = 5 + 7 and the stock balance
    # need it and are skipped; the negative raw_material and 6 <= 5 still run
    row = coal_row(consumption_total=Decimal(0), raw_material=Decimal(-5))
    issues = validate_report([row], SPECS, RULES, {0: {"consumption_total"}})
    assert [(i.field, i.code) for i in issues] == [("raw_material", "negative")]
    assert [(i.field, i.code) for i in validate_report([row], SPECS, RULES)] == [
        ("raw_material", "negative"),
        ("consumption_total", "consumption_sum"),
        ("closing_stock", "stock_balance"),
    ]


def test_stock_balance_tolerance_boundary():
    # rule file: |gap| <= max(0.5, 1 % of opening + purchases) = max(0.5, 12) = 12 for this row
    assert codes([coal_row(closing_stock=Decimal(212))]) == []
    assert codes([coal_row(closing_stock=Decimal("212.01"))]) == [
        (0, "closing_stock", "stock_balance")
    ]


def test_consumption_total_is_industrial_plus_non_industrial():
    assert codes([coal_row(non_industrial=Decimal(20))]) == [
        (0, "consumption_total", "consumption_sum")
    ]


def test_parts_cannot_exceed_wholes():
    assert codes([coal_row(raw_material=Decimal(991))]) == [(0, "raw_material", "part_exceeds")]
    assert codes([coal_row(transport=Decimal(1001))]) == [(0, "transport", "part_exceeds")]


@pytest.mark.parametrize(
    ("coef", "ok"), [("0.4286", True), ("1.0000", True), ("0.4285", False), ("1.2", False)]
)
def test_coefficient_used_must_be_plausible(coef, ok):
    assert (codes([coal_row(coefficient_used=Decimal(coef))]) == []) is ok


def test_messages_in_both_languages():
    issue = validate_report([coal_row(unit="千克")], SPECS, RULES)[0]
    assert issue.message() == "计量单位应为 吨，填报为 千克"
    assert issue.message("en") == "unit must be 吨, got 千克"
    assert issue.column == "乙"
