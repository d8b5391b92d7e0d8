"""The carbon-market pages' writes through the REST API: the same services (access checks, audit
entries), the same rules and the same per-province scoping as the pages; refusals 403 (rule or
service), 404 (outside the scope), 409 (the object's state), 422 (every problem, nothing written)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.carbonmarket import services
from dualcontrol.carbonmarket.models import (
    Account,
    AllocationProposal,
    ComplianceAction,
    EmissionReport,
    Emitter,
    LedgerTransaction,
    Obligation,
    PendingRequest,
    ReportStatus,
)
from tests.auth import api_client, login
from tests.carbonmarket.helpers import market, report, verified
from tests.factories import division, user, world

pytestmark = pytest.mark.django_db
BASE = "/api/carbon-market"
YEAR = 2025


def _post(c: Client, path: str, body: dict | None = None):
    return c.post(BASE + path, json.dumps(body or {}), content_type="application/json")


def _fields(r) -> set[str]:
    return {p["field"] for p in r.json()["problems"]}


def _audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


# ----------------------------------------------------------------------------- the list


def test_propose_and_publish_the_list():
    w = world()
    verified(w, report(w, w.unit, YEAR, "30000"), "30000")
    officer = api_client(w.users[Role.PROVINCE_OFFICER])
    city = api_client(w.users[Role.CITY_OFFICER])
    listing_year = YEAR + services.market_rules().listing_basis_lag_years

    assert _post(city, "/emitters/propose", {"year": listing_year}).status_code == 403
    bad = _post(officer, "/emitters/propose", {"year": 1999})
    assert bad.status_code == 422 and _fields(bad) == {"year"}
    assert not Emitter.objects.exists() and _audits("carbon.emitters.propose") == 0

    r = _post(officer, "/emitters/propose", {"year": listing_year})
    assert r.status_code == 200, r.content
    assert r.json() == {"year": listing_year, "count": 1}
    assert Emitter.objects.get(entity=w.unit, year=listing_year).status == "proposed"
    assert _audits("carbon.emitters.propose") == 1

    assert _post(city, "/emitters/publish", {"year": listing_year}).status_code == 403
    r = _post(officer, "/emitters/publish", {"year": listing_year})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert Emitter.objects.get(entity=w.unit, year=listing_year).status == "listed"
    assert Account.objects.filter(entity=w.unit, kind="holding").exists()
    assert _audits("carbon.emitters.publish") == 1


# ----------------------------------------------------------------------------- reports


def test_a_unit_files_and_submits_its_report():
    w = world()
    owner = api_client(w.users[Role.ENTERPRISE])
    city = api_client(w.users[Role.CITY_OFFICER])
    body = {"year": YEAR, "sector": "cement", "method": "指南", "fuel_co2_t": "30000"}

    assert _post(city, "/reports", body).status_code == 403
    bad = _post(
        owner, "/reports", {"year": 1999, "sector": "nope", "method": "", "fuel_co2_t": "-1"}
    )
    assert bad.status_code == 422
    assert {"year", "sector", "method", "fuel_co2_t"} <= _fields(bad)
    power = _post(owner, "/reports", {**body, "sector": "power"})  # the service's own check
    assert power.status_code == 422 and "supply_mwh" in power.content.decode()
    assert not EmissionReport.objects.exists() and _audits("carbon.report.save") == 0

    r = _post(owner, "/reports", body)
    assert r.status_code == 200, r.content
    report_id = r.json()["id"]
    saved = EmissionReport.objects.get(pk=report_id)
    assert (saved.entity, saved.status, saved.fuel_co2_t) == (w.unit, "draft", Decimal(30000))
    assert _audits("carbon.report.save") == 1

    r = _post(owner, "/reports", {**body, "fuel_co2_t": "31000", "submit": True})
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert r.json()["id"] == report_id and r.json()["fuel_co2_t"] == 31000
    assert _audits("carbon.report.submit") == 1

    again = _post(owner, "/reports", body)  # submitted: no more changes
    assert again.status_code == 409 and again.json()["problems"]
    assert EmissionReport.objects.get(pk=report_id).fuel_co2_t == Decimal(31000)


def test_report_submit_assign_verify_return_and_accept():
    w = world()
    owner = api_client(w.users[Role.ENTERPRISE])
    officer = api_client(w.users[Role.PROVINCE_OFFICER])
    verifier = api_client(w.users[Role.VERIFIER])
    city = api_client(w.users[Role.CITY_OFFICER])
    other = api_client(w.users["other_enterprise"])
    r = _post(owner, "/reports", {"year": YEAR, "sector": "cement", "method": "m", "fuel_co2_t": 1})
    rid = r.json()["id"]

    # submit: the unit's own reporter
    assert _post(other, f"/reports/{rid}/submit").status_code == 404  # not its unit's
    assert _post(city, f"/reports/{rid}/submit").status_code == 403  # sees it, may not file
    r = _post(owner, f"/reports/{rid}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert _audits("carbon.report.submit") == 1
    assert _post(owner, f"/reports/{rid}/submit").status_code == 409

    # assign: the province
    assert _post(city, f"/reports/{rid}/assign", {"verifier": "ver1"}).status_code == 403
    bad = _post(officer, f"/reports/{rid}/assign", {"verifier": "city1"})
    assert bad.status_code == 422 and bad.json()["problems"]
    r = _post(officer, f"/reports/{rid}/assign", {"verifier": "ver1"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["verifier"]) == (
        "verifying",
        "ver1",
    )
    assert _audits("carbon.report.assign") == 1

    # verify: the assigned verifier
    body = {"verified_co2e_t": "30000", "findings": "无问题"}
    assert _post(officer, f"/reports/{rid}/verify", body).status_code == 403
    bad = _post(verifier, f"/reports/{rid}/verify", {"verified_co2e_t": "-1", "findings": ""})
    assert bad.status_code == 422 and _fields(bad) == {"verified_co2e_t", "findings"}
    assert EmissionReport.objects.get(pk=rid).status == ReportStatus.VERIFYING

    # return: a reason is required; then the unit revises and submits again
    bad = _post(officer, f"/reports/{rid}/return", {"reason": " "})
    assert bad.status_code == 422
    assert _post(owner, f"/reports/{rid}/return", {"reason": "x"}).status_code == 403
    r = _post(verifier, f"/reports/{rid}/return", {"reason": "缺检测报告"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert _audits("carbon.report.return") == 1
    assert _post(officer, f"/reports/{rid}/return", {"reason": "again"}).status_code == 409
    assert _post(owner, f"/reports/{rid}/submit").status_code == 200
    assert _post(officer, f"/reports/{rid}/assign", {"verifier": "ver1"}).status_code == 200

    # accept: only a verified report
    assert _post(officer, f"/reports/{rid}/accept").status_code == 409
    r = _post(verifier, f"/reports/{rid}/verify", body)
    assert r.status_code == 200 and r.json()["verified_co2e_t"] == 30000
    assert _audits("carbon.report.verify") == 1
    assert _post(owner, f"/reports/{rid}/accept").status_code == 403
    r = _post(officer, f"/reports/{rid}/accept")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert _audits("carbon.report.accept") == 1
    assert Obligation.objects.get(account__entity=w.unit, year=YEAR).amount == 30000
    assert _post(officer, f"/reports/{rid}/accept").status_code == 409
    assert _post(officer, f"/reports/{rid}/assign", {"verifier": "ver1"}).status_code == 409


# ----------------------------------------------------------------------------- allocation


def test_issue_to_province_approve_and_issue_an_allocation():
    w = world()
    admin = w.users[Role.PROVINCE_ADMIN]
    officer = api_client(w.users[Role.PROVINCE_OFFICER])
    city = api_client(w.users[Role.CITY_OFFICER])
    verified(w, report(w, w.unit, YEAR, "30000"), "30000")
    proposal = services.propose_allocation(
        entity=w.unit,
        year=YEAR,
        sector="cement",
        inputs={"verified_co2_t": "29000", "intensity": "0.86", "balance_value": "0.86"},
        user=admin,
    )

    body = {"year": YEAR, "amount": 100_000, "note": "生态环境部签发批次 1"}
    assert _post(city, "/allocations/issue-to-province", body).status_code == 403
    bad = _post(officer, "/allocations/issue-to-province", {"year": YEAR, "amount": 0, "note": ""})
    assert bad.status_code == 422 and _fields(bad) == {"amount", "note"}
    assert not LedgerTransaction.objects.filter(type="issue").exists()

    # not approved yet: nothing to issue
    assert _post(officer, f"/allocations/{proposal.pk}/issue").status_code == 409
    assert _post(city, f"/allocations/{proposal.pk}/approve").status_code == 403
    r = _post(officer, f"/allocations/{proposal.pk}/approve")
    assert r.status_code == 200 and (r.json()["id"], r.json()["status"]) == (
        proposal.pk,
        "approved",
    )
    assert _audits("carbon.allocation.approve") == 1
    assert _post(officer, f"/allocations/{proposal.pk}/approve").status_code == 409

    refused = _post(officer, f"/allocations/{proposal.pk}/issue")  # the province holds nothing
    assert refused.status_code == 422 and refused.json()["problems"]
    assert AllocationProposal.objects.get(pk=proposal.pk).status == "approved"

    r = _post(officer, "/allocations/issue-to-province", body)
    assert r.status_code == 201, r.content
    assert r.json()["type"] == "issue"
    entries = {e["account"]: e["amount"] for e in r.json()["entries"]}
    assert entries[services.PROVINCE_ACCOUNT] == 100_000
    assert LedgerTransaction.objects.get(seq=r.json()["seq"]).note == body["note"]
    assert _audits("carbon.ledger.issue") == 1

    r = _post(officer, f"/allocations/{proposal.pk}/issue")
    assert r.status_code == 200 and r.json()["status"] == "issued"
    tx = LedgerTransaction.objects.get(seq=r.json()["transaction"])
    assert tx.type == "allocate"
    assert _audits("carbon.allocation.issue") == 1
    assert _post(officer, f"/allocations/{proposal.pk}/issue").status_code == 409
    assert _post(officer, "/allocations/999999/approve").status_code == 404


# ----------------------------------------------------------------------------- compliance


def test_record_a_compliance_action():
    m = market()
    officer = api_client(m.w.users[Role.PROVINCE_OFFICER])
    city = api_client(m.w.users[Role.CITY_OFFICER])
    path = f"/compliance/{YEAR}/units/{m.w.other_unit.uscc}/actions"
    body = {"kind": "notice", "text": "责令限期清缴 50000 吨", "basis": "管理办法第二十七条"}

    assert _post(city, path, body).status_code == 403
    bad = _post(officer, path, {"kind": "refused", "text": ""})
    assert bad.status_code == 422 and _fields(bad) == {"kind", "text"}
    assert not ComplianceAction.objects.filter(kind="notice").exists()
    missing = f"/compliance/{YEAR}/units/91000000000000000X/actions"
    assert _post(officer, missing, body).status_code == 404

    r = _post(officer, path, body)
    assert r.status_code == 201, r.content
    action = ComplianceAction.objects.get(pk=r.json()["id"])
    assert (action.entity, action.year, action.kind, action.basis) == (
        m.w.other_unit,
        YEAR,
        "notice",
        body["basis"],
    )
    assert r.json()["decided_by"] == "officer1"
    assert AuditEntry.objects.filter(
        action="carbon.action.record", object_id=str(action.pk)
    ).exists()


# ----------------------------------------------------------------------------- corrections


def test_a_correction_waits_for_a_second_person():
    m = market()
    admin = api_client(m.w.users[Role.PROVINCE_ADMIN])
    officer = api_client(m.w.users[Role.PROVINCE_OFFICER])
    city = api_client(m.w.users[Role.CITY_OFFICER])
    tx = AllocationProposal.objects.get(entity=m.w.other_unit).transaction
    path = f"/ledger/transactions/{tx.seq}/correct"

    assert _post(city, path, {"reason": "发放对象有误"}).status_code == 403
    bad = _post(admin, path, {"reason": " "})
    assert bad.status_code == 422 and bad.json()["problems"]
    assert not PendingRequest.objects.filter(type="correct").exists()
    assert _post(admin, "/ledger/transactions/999999/correct", {"reason": "x"}).status_code == 404

    r = _post(admin, path, {"reason": "发放对象有误"})
    assert r.status_code == 201, r.content
    assert (r.json()["type"], r.json()["status"], r.json()["corrects"]) == (
        "correct",
        "pending",
        tx.seq,
    )
    pending = PendingRequest.objects.get(pk=r.json()["id"])
    assert pending.corrects == tx and pending.requested_by.username == "admin1"
    assert AuditEntry.objects.filter(
        action="carbon.correct.request", object_id=str(pending.pk)
    ).exists()
    assert not LedgerTransaction.objects.filter(corrects=tx).exists()  # four-eyes: not yet

    assert _post(admin, f"/pending/{pending.pk}", {"approve": True}).status_code == 403
    done = _post(officer, f"/pending/{pending.pk}", {"approve": True})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert LedgerTransaction.objects.filter(corrects=tx).count() == 1

    again = _post(admin, path, {"reason": "再次更正"})
    assert again.status_code == 409 and again.json()["problems"]


# ----------------------------------------------------------------------------- per province


def test_a_second_province_reaches_none_of_the_first_ones_rows():
    m = market()
    admin_a = m.w.users[Role.PROVINCE_ADMIN]
    admin_a.division = m.w.province
    admin_a.save(update_fields=["division"])
    other = division("630000", "乙测试省", "province")
    b = api_client(user("b_admin", Role.PROVINCE_ADMIN, division=other))
    a = api_client(admin_a)
    services.add_emitter(
        entity=m.w.unit,
        year=YEAR + 1,
        sector="cement",
        basis_co2e_t=Decimal(30000),
        basis="测试",
        user=admin_a,
    )
    tx = AllocationProposal.objects.get(entity=m.w.unit).transaction
    proposal = AllocationProposal.objects.get(entity=m.w.unit)

    assert _post(b, f"/ledger/transactions/{tx.seq}/correct", {"reason": "x"}).status_code == 404
    assert _post(b, f"/allocations/{proposal.pk}/approve").status_code == 404
    action = f"/compliance/{YEAR}/units/{m.w.unit.uscc}/actions"
    assert _post(b, action, {"kind": "notice", "text": "x"}).status_code == 404
    assert _post(b, f"/reports/{m.report.pk}/accept").status_code == 404
    assert b.get(BASE + "/ledger/transactions").json()["count"] == 0
    assert b.get(BASE + "/allocations").json()["count"] == 0
    assert not PendingRequest.objects.exists() and not ComplianceAction.objects.exists()

    r = _post(b, "/emitters/publish", {"year": YEAR + 1})
    assert r.status_code == 200 and r.json()["count"] == 0
    assert Emitter.objects.get(entity=m.w.unit, year=YEAR + 1).status == "proposed"
    r = _post(a, "/emitters/publish", {"year": YEAR + 1})
    assert r.status_code == 200 and r.json()["count"] == 1
    seen = {t["seq"] for t in a.get(BASE + "/ledger/transactions").json()["items"]}
    assert tx.seq in seen


def test_the_pages_refuse_the_same_rows_to_a_second_province():
    m = market()
    admin_a = m.w.users[Role.PROVINCE_ADMIN]
    admin_a.division = m.w.province
    admin_a.save(update_fields=["division"])
    other = division("630000", "乙测试省", "province")
    c = login(Client(), user("b_admin", Role.PROVINCE_ADMIN, division=other))
    tx = AllocationProposal.objects.get(entity=m.w.unit).transaction
    proposal = AllocationProposal.objects.get(entity=m.w.unit)
    r = c.post(f"/carbon-market/ledger/{tx.seq}/correct/", {"reason": "x"})
    assert r.status_code == 404
    r = c.post(f"/carbon-market/allocation/?year={YEAR}", {"action": "approve", "pk": proposal.pk})
    assert r.status_code == 404
    r = c.post(
        f"/carbon-market/compliance/{YEAR}/", {"entity": m.w.unit.pk, "kind": "notice", "text": "x"}
    )
    assert r.status_code == 404
    assert not PendingRequest.objects.exists() and not ComplianceAction.objects.exists()
    a = login(Client(), admin_a)
    r = a.post(f"/carbon-market/ledger/{tx.seq}/correct/", {"reason": "发放对象有误"})
    assert r.status_code == 302 and PendingRequest.objects.get().corrects == tx
