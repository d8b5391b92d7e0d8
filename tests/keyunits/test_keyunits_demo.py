"""The demo province has key units in tiers with status reports for the last year, product grades
computed from the reports, a published over-limit list and frontrunners, surcharges for the
aluminium smelters, and audits ordered and tracked (issue 16, "Done when")."""

from __future__ import annotations

import datetime as dt

import pytest

from dualcontrol.keyunits.models import (
    AuditOrder,
    Designation,
    EnergyManager,
    ListKind,
    ProductGrade,
    PublishedList,
    StatusReport,
    Surcharge,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def demo(db):
    from dualcontrol.demo.builder import build

    build(TODAY, units=40, months_limit=3)


def test_the_demo_has_key_units_reports_grades_lists_surcharges_and_audits(demo):
    year = 2025
    tiers = set(
        Designation.objects.filter(year=year, status="confirmed").values_list("tier", flat=True)
    )
    assert tiers == {"national", "provincial"}
    assert Designation.objects.filter(year=year, status="proposed").exists()
    assert Designation.objects.filter(year=year, status="removed").exclude(reason="").exists()
    assert Designation.objects.filter(year=year - 1).exists()  # history over two years
    assert EnergyManager.objects.exists()
    statuses = set(StatusReport.objects.filter(year=year).values_list("status", flat=True))
    assert {"accepted", "submitted", "returned", "draft"} <= statuses
    grades = ProductGrade.objects.filter(year=year)
    assert grades.exists()
    assert grades.filter(grade="over").exists()
    assert grades.filter(benchmark_position="benchmark").exists()
    assert grades.filter(product="electrolytic_aluminium").exists()
    published = set(PublishedList.objects.filter(year=year).values_list("kind", flat=True))
    assert {ListKind.OVER_LIMIT, ListKind.FRONTRUNNERS, ListKind.DESIGNATIONS} <= published
    smelter_charges = Surcharge.objects.filter(year=year, product="electrolytic_aluminium")
    assert smelter_charges.count() >= 3
    assert all(s.rule == "al_tiered_2022" for s in smelter_charges)
    assert smelter_charges.filter(surcharge_yuan_per_kwh__gt=0, amount_yuan__gt=0).exists()
    audit_states = set(AuditOrder.objects.values_list("status", flat=True))
    assert {"closed", "report_received"} <= audit_states
