"""Evidence, verification and investment projects through the REST API: the pages' services
(上传佐证, 核查, 新建投资项目, 投资项目审核), the same rules, scope and audit entries."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.assessment.models import Consequence
from dualcontrol.audit.models import AuditEntry
from dualcontrol.projects.models import (
    Evidence,
    InvestmentProject,
    Project,
    ReviewRecord,
    ReviewStatus,
    Status,
    Verification,
)
from tests.auth import api_client
from tests.projects.helpers import PDF, completed, division, project

pytestmark = pytest.mark.django_db

_client = api_client


def _post(c: Client, path: str, body: dict):
    return c.post(path, json.dumps(body), content_type="application/json")


def _fields(r) -> set[str]:
    return {p["field"] for p in r.json()["problems"]}


# ------------------------------------------------------------------------------ 上传佐证


def test_upload_evidence(world):
    p = project(entity=world.unit)
    path = f"/api/projects/{p.pk}/evidence"
    ent = _client(world.users[Role.ENTERPRISE])
    doc = SimpleUploadedFile("acceptance.pdf", PDF, content_type="application/pdf")
    r = ent.post(path, {"kind": "acceptance", "note": "竣工验收", "file": doc})
    assert r.status_code == 201, r.content
    e = Evidence.objects.get(pk=r.json()["id"])
    assert (e.project_id, e.kind, e.note, e.document_name) == (
        p.pk,
        "acceptance",
        "竣工验收",
        "acceptance.pdf",
    )
    assert r.json()["size_bytes"] == len(PDF)
    audit = AuditEntry.objects.get(action="projects.evidence.upload")
    assert audit.object_id == str(p.pk) and audit.actor_id == world.users[Role.ENTERPRISE].pk


def test_upload_evidence_refusals(world):
    p = project(entity=world.unit)
    path = f"/api/projects/{p.pk}/evidence"

    def doc(name: str = "a.pdf", data: bytes = PDF) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, data, content_type="application/octet-stream")

    # every problem listed: the kind and the file
    ent = _client(world.users[Role.ENTERPRISE])
    bad = ent.post(path, {"kind": "nope", "file": doc("x.exe", b"MZ")})
    assert bad.status_code == 422, bad.content
    assert {"kind", "document"} <= _fields(bad)
    # the verifier sees the project but does not report for it
    ver = _client(world.users[Role.VERIFIER])
    assert ver.post(path, {"kind": "acceptance", "file": doc()}).status_code == 403
    # another unit, another city: outside the scope
    other = _client(world.users["other_enterprise"])
    assert other.post(path, {"kind": "acceptance", "file": doc()}).status_code == 404
    assert not Evidence.objects.exists()
    assert not AuditEntry.objects.filter(action="projects.evidence.upload").exists()


# ------------------------------------------------------------------------------ 核查


def test_verify_and_the_state_check(world):
    p = completed()
    path = f"/api/projects/{p.pk}/verify"
    city = _client(world.users[Role.CITY_OFFICER])
    r = _post(city, path, {"figures": {"cod": "90", "nh3n": "8.5"}, "note": "现场核查"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["decision"] == "verified" and body["accounting_year"] == 2025
    assert body["project"]["status"] == "verified"
    p.refresh_from_db()
    assert p.status == Status.VERIFIED
    assert {f.measure: str(f.verified_amount) for f in p.figures.all()} == {
        "cod": "90.000",
        "nh3n": "8.500",
    }
    assert (
        AuditEntry.objects.filter(action="projects.project.verify", object_id=str(p.pk)).count()
        == 1
    )
    # verified already: the state refuses a second verification
    again = _post(city, path, {"figures": {"cod": "1"}})
    assert again.status_code == 409, again.content
    assert again.json()["problems"][0]["reason"]
    assert Verification.objects.filter(project=p).count() == 1


def test_verify_without_evidence_is_recorded_as_rejected(world):
    p = completed(evidence=("acceptance",))
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    r = _post(officer, f"/api/projects/{p.pk}/verify", {"figures": {"cod": "90"}})
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "rejected" and r.json()["automatic"] is True
    assert r.json()["missing_evidence"] == ["accounting_statement"]
    p.refresh_from_db()
    assert p.status == Status.REJECTED
    assert AuditEntry.objects.filter(action="projects.project.reject").count() == 1


def test_verify_refusals(world):
    p = completed()
    path = f"/api/projects/{p.pk}/verify"
    city = _client(world.users[Role.CITY_OFFICER])
    bad = _post(city, path, {"figures": {"nox": "5", "cod": "x"}, "accounting_year": 2020})
    assert bad.status_code == 422, bad.content
    assert {"verified_nox", "verified_cod", "accounting_year"} <= _fields(bad)
    # the page's rule: projects.manage (the unit and the verifier read only)
    for role in (Role.ENTERPRISE, Role.VERIFIER):
        assert _post(_client(world.users[role]), path, {"figures": {"cod": "1"}}).status_code == 403
    assert _post(_client(world.users["other_city"]), path, {"figures": {}}).status_code == 404
    assert not Verification.objects.exists()
    p.refresh_from_db()
    assert p.status == Status.COMPLETED


def test_reject(world):
    p = completed()
    path = f"/api/projects/{p.pk}/reject"
    city = _client(world.users[Role.CITY_OFFICER])
    blank = _post(city, path, {"reason": " "})
    assert blank.status_code == 422 and _fields(blank) == {"reason"}
    assert _post(_client(world.users[Role.ENTERPRISE]), path, {"reason": "x"}).status_code == 403
    r = _post(city, path, {"reason": "应急管理减排项目不纳入核算范围"})
    assert r.status_code == 200, r.content
    assert r.json()["decision"] == "rejected" and r.json()["automatic"] is False
    p.refresh_from_db()
    assert (p.status, p.rejection_reason) == (Status.REJECTED, "应急管理减排项目不纳入核算范围")
    assert (
        AuditEntry.objects.filter(action="projects.project.reject", object_id=str(p.pk)).count()
        == 1
    )
    # a planned project has nothing to decide on
    planned = project()
    r = _post(city, f"/api/projects/{planned.pk}/reject", {"reason": "x"})
    assert r.status_code == 409, r.content
    planned.refresh_from_db()
    assert planned.status == Status.PLANNED


# ------------------------------------------------------------------------------ 新建投资项目

INVESTMENT = {
    "name": "水泥熟料项目",
    "division": "530102",
    "owner_name": "测试建材",
    "industry": "30",
    "stage": "proposed",
    "planned_start": "2027-06-01",
    "planned_completion": "2028-06-30",
    "energy_equivalent_tce": "20000",
    "electricity_kwh": "9000000",
    "co2_t": "50000",
    "value_added_10k_yuan": "10000",
}


def test_register_investment(world):
    city = _client(world.users[Role.CITY_OFFICER])
    r = _post(city, "/api/projects/investments", INVESTMENT)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["two_high"] is True and body["stage"] == "proposed"
    inv = InvestmentProject.objects.get(project_id=body["id"])
    assert inv.project.division.code == "530102" and inv.project.kind == "investment"
    assert inv.energy_equivalent_tce == Decimal("20000") and inv.co2_t == Decimal("50000")
    assert AuditEntry.objects.filter(
        action="projects.investment.register", object_id=str(inv.project_id)
    ).exists()


def test_register_investment_refusals(world):
    city = _client(world.users[Role.CITY_OFFICER])
    bad = _post(
        city,
        "/api/projects/investments",
        {**INVESTMENT, "energy_equivalent_tce": "x", "separately_accounted": True, "name": " "},
    )
    assert bad.status_code == 422, bad.content
    assert {"energy_equivalent_tce", "separate_list_ref", "name"} <= _fields(bad)
    unknown = _post(city, "/api/projects/investments", {**INVESTMENT, "division": "999999"})
    assert unknown.status_code == 422 and _fields(unknown) == {"division"}
    # a city officer registers in its own region only; an enterprise not at all
    other = _post(city, "/api/projects/investments", {**INVESTMENT, "division": "530302"})
    assert other.status_code == 403
    ent = _client(world.users[Role.ENTERPRISE])
    assert _post(ent, "/api/projects/investments", INVESTMENT).status_code == 403
    assert not Project.objects.exists()
    assert not AuditEntry.objects.filter(action="projects.investment.register").exists()


# ------------------------------------------------------------------------------ 投资项目审核


def _registered(world) -> int:
    r = _post(_client(world.users[Role.PROVINCE_OFFICER]), "/api/projects/investments", INVESTMENT)
    assert r.status_code == 201, r.content
    return r.json()["id"]


def test_submit_and_decide_review(world):
    pk = _registered(world)
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    # the page's rule for its actions: projects.review (an enterprise reads only)
    ent = _client(world.users[Role.ENTERPRISE])
    assert _post(ent, f"/api/projects/investments/{pk}/submit", {}).status_code == 403
    r = _post(officer, f"/api/projects/investments/{pk}/submit", {})
    assert r.status_code == 200, r.content
    assert r.json()["review_status"] == ReviewStatus.SUBMITTED
    assert AuditEntry.objects.filter(action="projects.investment.submit_review").count() == 1
    again = _post(officer, f"/api/projects/investments/{pk}/submit", {})
    assert again.status_code == 409, again.content
    assert AuditEntry.objects.filter(action="projects.investment.submit_review").count() == 1

    path = f"/api/projects/investments/{pk}/decide"
    bad = _post(officer, path, {"decision": "rejected"})
    assert bad.status_code == 422 and {"conclusion", "carbon_conclusion"} <= _fields(bad)
    assert _post(officer, path, {"decision": "nope"}).status_code == 422
    # the review belongs to the province (authority not established): not the city officer
    city = _client(world.users[Role.CITY_OFFICER])
    body = {"decision": "rejected", "conclusion": "不同意", "carbon_conclusion": "排放量过高"}
    assert _post(city, path, body).status_code == 403
    assert not ReviewRecord.objects.exists()
    r = _post(officer, path, body)
    assert r.status_code == 200, r.content
    assert r.json()["review_status"] == ReviewStatus.REJECTED
    inv = InvestmentProject.objects.get(project_id=pk)
    assert (inv.review_status, inv.review_conclusion) == (ReviewStatus.REJECTED, "不同意")
    assert AuditEntry.objects.filter(action="projects.investment.review_rejected").count() == 1
    # decided: a second decision is refused by the state
    assert _post(officer, path, body).status_code == 409
    assert ReviewRecord.objects.count() == 1


def test_decide_held_at_the_gate_and_the_override(world):
    pk = _registered(world)
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    assert _post(officer, f"/api/projects/investments/{pk}/submit", {}).status_code == 200
    Consequence.objects.create(
        division=division("530100"),
        year=2025,
        kind="restrict",
        title_zh="区域限批",
        issued_on=dt.date(2026, 1, 1),
        restricts_approvals=True,
    )
    path = f"/api/projects/investments/{pk}/decide"
    body = {"decision": "approved", "conclusion": "同意", "carbon_conclusion": "已评价"}
    held = _post(officer, path, body)
    assert held.status_code == 409, held.content
    assert ReviewRecord.objects.get().decision == "held"
    assert AuditEntry.objects.filter(action="projects.investment.review_held").count() == 1
    assert InvestmentProject.objects.get(project_id=pk).review_status == ReviewStatus.SUBMITTED
    r = _post(officer, path, {**body, "override": True, "override_reason": "省重点项目"})
    assert r.status_code == 200, r.content
    assert r.json()["review_status"] == ReviewStatus.APPROVED
    assert AuditEntry.objects.filter(action="projects.investment.review_override").count() == 1


def test_review_outside_the_scope_or_not_an_investment(world):
    pk = _registered(world)
    other = _client(world.users["other_city"])
    assert _post(other, f"/api/projects/investments/{pk}/submit", {}).status_code == 404
    plain = project()
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    assert _post(officer, f"/api/projects/investments/{plain.pk}/submit", {}).status_code == 404
