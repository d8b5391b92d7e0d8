"""Carbon-market use cases: the list, MRV, allocation, surrender, four-eyes, compliance; each write
audited, refused transitions refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.models import (
    ActionKind,
    AllocationProposal,
    ComplianceAction,
    Emitter,
    LedgerTransaction,
    Obligation,
    PendingStatus,
    ReportStatus,
)
from tests.carbonmarket.helpers import market, report, verified
from tests.factories import world

pytestmark = pytest.mark.django_db


def test_the_list_is_proposed_at_the_threshold_from_verified_emissions_two_years_before():
    w = world()
    admin = w.users[Role.PROVINCE_ADMIN]
    verified(w, report(w, w.unit, 2025, "26000"), "26000")  # exactly 2.6万 t: “达到” → listed
    verified(w, report(w, w.other_unit, 2025, "25999.99", "steel"), "25999.99")  # below
    made = services.propose_emitters(year=2027, user=admin)
    assert [(e.entity, e.sector, e.basis_co2e_t) for e in made] == [
        (w.unit, "cement", Decimal("26000.00"))
    ]
    assert Emitter.objects.get(entity=w.unit, year=2027).status == "proposed"
    assert services.publish_emitters(year=2027, user=admin) == 1
    assert w.unit.carbon_accounts.get().code == f"CEA-{w.unit.uscc}"
    with pytest.raises(PermissionDenied):
        services.propose_emitters(year=2027, user=w.users[Role.CITY_OFFICER])


def test_report_workflow_and_refused_transitions():
    w = world()
    owner = w.users[Role.ENTERPRISE]
    admin = w.users[Role.PROVINCE_ADMIN]
    with pytest.raises(ValidationError) as exc:
        services.save_report(
            entity=w.unit, year=2025, data={"sector": "power", "fuel_co2_t": "-1"}, user=owner
        )
    assert len(exc.value.messages) >= 3  # every problem at once: method, negative, supply
    with pytest.raises(PermissionDenied):
        services.save_report(
            entity=w.unit,
            year=2025,
            data={"sector": "cement", "method": "m", "fuel_co2_t": "1"},
            user=w.users["other_enterprise"],
        )
    r = report(w, w.unit, 2025, "30000")
    assert r.deadline == dt.date(2026, 3, 31)
    assert r.status == ReportStatus.SUBMITTED
    with pytest.raises(ValidationError):
        services.accept_report(report=r, user=admin)  # not verified yet
    with pytest.raises(ValidationError):
        services.assign_verifier(report=r, verifier=w.users[Role.CITY_OFFICER], user=admin)
    services.assign_verifier(report=r, verifier=w.users[Role.VERIFIER], user=admin)
    assert r.verification_deadline == dt.date(2026, 6, 30)
    with pytest.raises(PermissionDenied):  # only the assigned verifier
        services.record_verification(report=r, verified_co2e_t=Decimal(1), findings="x", user=admin)
    services.return_report(report=r, reason="燃料低位发热量缺检测报告", user=w.users[Role.VERIFIER])
    assert r.status == ReportStatus.RETURNED
    services.save_report(
        entity=w.unit,
        year=2025,
        data={"sector": "cement", "method": "m", "fuel_co2_t": "29999.5"},
        user=owner,
    )
    r.refresh_from_db()
    verified(w, services.submit_report(report=r, user=owner), "29999.5")
    ob = Obligation.objects.get(account__entity=w.unit, year=2025)
    assert (ob.amount, ob.deadline) == (30000, dt.date(2026, 12, 31))  # half up (platform rule)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "carbon.report.save",
        "carbon.report.submit",
        "carbon.report.assign",
        "carbon.report.return",
        "carbon.report.verify",
        "carbon.report.accept",
        "carbon.obligation.record",
    } <= actions


def test_allocation_is_computed_approved_and_issued_through_the_ledger():
    m = market()
    p = AllocationProposal.objects.get(entity=m.w.unit, year=2025)
    assert p.status == "issued"
    assert p.amount_t == 29_000  # BP = I → X = 0 → α = 0
    assert p.transaction.type == "allocate"
    assert ledger.balances_of([m.account])[m.account.code] == {"CEA": 29_000, "CCER": 5000}
    with pytest.raises(ValidationError, match=r"须先核定|不能核定"):
        services.issue_allocation(proposal=p, user=m.w.users[Role.PROVINCE_ADMIN])
    power = services.propose_allocation(
        entity=m.w.unit,
        year=2026,
        sector="power",
        inputs={"units": [{"name": "#1", "category": "I", "supply_mwh": "1000", "ff": "1"}]},
        user=m.w.users[Role.PROVINCE_ADMIN],
    )
    assert power.amount_t == 789  # 1000 × 0.7894 (draft 2026) = 789.4 → 789
    assert power.benchmark_status == "draft"
    with pytest.raises(ValidationError, match="Ff"):
        services.propose_allocation(
            entity=m.w.unit,
            year=2026,
            sector="power",
            inputs={"units": [{"name": "#1", "category": "I", "supply_mwh": "1000"}]},
            user=m.w.users[Role.PROVINCE_ADMIN],
        )


def test_surrender_ccer_cap_is_refused_and_recorded_then_compliance():
    m = market()
    owner = m.w.users[Role.ENTERPRISE]
    # 5 % of 30 000 = 1 500: 1 501 refused and recorded, 1 500 accepted
    with pytest.raises(ValidationError, match="超过抵销上限：已用 0 \\+ 本次 1501 > 上限 1500"):
        services.surrender(
            entity=m.w.unit, year=2025, unit_type="CCER", vintage=2025, amount=1501, user=owner
        )
    refused = ComplianceAction.objects.get(entity=m.w.unit, kind=ActionKind.REFUSED)
    assert "CCER" in refused.text
    services.surrender(
        entity=m.w.unit,
        year=2025,
        unit_type="CCER",
        vintage=2025,
        amount=1500,
        user=owner,
        when=dt.date(2026, 11, 1),
    )
    services.surrender(
        entity=m.w.unit,
        year=2025,
        unit_type="CEA",
        vintage=2025,
        amount=28_500,
        user=owner,
        when=dt.date(2026, 11, 2),
    )
    rows = {
        r["entity"].pk: r["row"] for r in services.compliance_table(2025, today=dt.date(2027, 1, 2))
    }
    mine = rows[m.w.unit.pk]
    assert (mine.obligation, mine.surrendered, mine.offsets_surrendered, mine.status) == (
        30_000,
        30_000,
        1500,
        "compliant",
    )
    other = rows[m.w.other_unit.pk]
    assert (other.shortfall, other.status) == (50_000, "short")
    before = services.compliance_table(2025, today=dt.date(2026, 12, 31))
    assert {r["row"].status for r in before if r["entity"] == m.w.other_unit} == {"open"}
    with pytest.raises(PermissionDenied):
        services.surrender(
            entity=m.w.unit,
            year=2025,
            unit_type="CEA",
            vintage=2025,
            amount=1,
            user=m.w.users["other_enterprise"],
        )


def test_a_transfer_waits_for_a_second_person_and_the_requester_cannot_approve():
    m = market()
    owner = m.w.users[Role.ENTERPRISE]
    pending = services.request_transfer(
        from_account=m.account,
        to_account=m.other_account,
        unit_type="CEA",
        vintage=2025,
        amount=1000,
        user=owner,
    )
    assert LedgerTransaction.objects.filter(type="transfer").count() == 0
    with pytest.raises(PermissionDenied):  # an enterprise user is not a second person here
        services.decide(pending=pending, approve=True, user=owner)
    done = services.decide(pending=pending, approve=True, user=m.w.users[Role.PROVINCE_OFFICER])
    assert done.status == PendingStatus.APPROVED
    tx = done.transaction
    assert (tx.requested_by, tx.approved_by) == ("ent1", "officer1")
    assert ledger.balances_of([m.other_account])[m.other_account.code]["CEA"] == 53_000
    with pytest.raises(ValidationError):
        services.request_transfer(
            from_account=m.account,
            to_account=m.other_account,
            unit_type="CEA",
            vintage=2025,
            amount=10**9,
            user=owner,
        )


def test_the_requester_of_a_correction_cannot_approve_it_and_it_reverses():
    m = market()
    admin, officer = m.w.users[Role.PROVINCE_ADMIN], m.w.users[Role.PROVINCE_OFFICER]
    tx = AllocationProposal.objects.get(entity=m.w.other_unit).transaction
    pending = services.request_correction(tx=tx, reason="发放对象有误", user=admin)
    with pytest.raises(PermissionDenied):
        services.decide(pending=pending, approve=True, user=admin)
    done = services.decide(pending=pending, approve=True, user=officer)
    assert done.transaction.corrects == tx
    assert ledger.balances_of([m.other_account])[m.other_account.code]["CEA"] == 0
    with pytest.raises(ValidationError):
        services.request_correction(tx=tx, reason="again", user=admin)


def test_monthly_evidence_deadline_is_forty_days_after_the_month():
    w = world()
    row = services.file_month(
        entity=w.unit,
        year=2026,
        month=2,
        fuel_co2_t=Decimal("100"),
        user=w.users[Role.ENTERPRISE],
    )
    assert row.deadline == dt.date(2026, 4, 9)  # 28 Feb + 40 days
    dec = services.file_month(
        entity=w.unit, year=2026, month=12, fuel_co2_t=Decimal("1"), user=w.users[Role.ENTERPRISE]
    )
    assert dec.deadline == dt.date(2027, 2, 9)
    with pytest.raises(PermissionDenied):
        services.file_month(
            entity=w.unit,
            year=2026,
            month=3,
            fuel_co2_t=Decimal("1"),
            user=w.users["other_enterprise"],
        )
