"""The rights pages' writes through the REST API (持有人 清缴 / 注销 / 兑换; 用能权 预算 / 分配 / 抵扣 /
履约; 排污权 许可 / 分配 / 履约; 碳普惠 个人 / 行为 / 签发): the same services, rules, scope and audit
entries; refusals 403 / 404 / 409 / 422 with every problem listed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.rights import services
from dualcontrol.rights.models import (
    Behaviour,
    CertificateCancellation,
    CreditProject,
    EmissionRight,
    EnergyBudget,
    EnergyRight,
    Holder,
    Permit,
    ProjectCover,
    Redemption,
    RightsObligation,
)
from tests.auth import api_client
from tests.rights.helpers import YEAR, balance, rights

pytestmark = pytest.mark.django_db


@pytest.fixture
def r():
    return rights()


def _post(c: Client, path: str, body: dict):
    return c.post(path, json.dumps(body), content_type="application/json")


def _reasons(resp) -> list[str]:
    return [p["reason"] for p in resp.json()["problems"]]


def _audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


# ----------------------------------------------------------------------------- 持有人


def test_emission_obligation_and_surrender(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    ob = _post(
        admin,
        "/api/rights/emissions/obligations",
        {"entity": r.w.unit.uscc, "unit_type": "EMR-SO2", "year": YEAR, "reported_t": "90.1234"},
    )
    assert ob.status_code == 201, ob.content
    assert ob.json()["amount"] == 90.123 and ob.json()["account"] == r.unit.account.code
    assert RightsObligation.objects.get(pk=ob.json()["id"]).obligation.amount == Decimal("90.123")
    assert _audits("rights.obligation.emr-so2") == 1

    path = f"/api/rights/holders/{r.unit.pk}/surrender"
    ent = api_client(r.w.users[Role.ENTERPRISE])
    body = {"unit_type": "EMR-SO2", "vintage": YEAR, "year": YEAR, "amount": "90.123"}
    bad = _post(ent, path, {**body, "amount": "x"})
    assert bad.status_code == 422 and "清缴数量不是数字" in _reasons(bad)[0]
    none_due = _post(ent, path, {**body, "unit_type": "EMR-NOX", "amount": "1"})
    assert none_due.status_code == 422 and none_due.json()["problems"]
    # the city officer sees the account but does not act for it; another unit does not see it
    assert _post(api_client(r.w.users[Role.CITY_OFFICER]), path, body).status_code == 403
    assert _post(api_client(r.w.users["other_enterprise"]), path, body).status_code == 404
    assert balance(r.unit, "EMR-SO2") == Decimal("100")
    done = _post(ent, path, body)
    assert done.status_code == 200, done.content
    assert done.json()["transaction"] is not None
    assert balance(r.unit, "EMR-SO2") == Decimal("9.877")
    assert _audits("rights.surrender.emr-so2") == 1


def test_cancel_certificates(r):
    path = f"/api/rights/holders/{r.unit.pk}/cancel-certificates"
    ent = api_client(r.w.users[Role.ENTERPRISE])
    bad = _post(ent, path, {"vintage": YEAR, "year": YEAR, "amount_mwh": "-1"})
    assert bad.status_code == 422 and "注销数量必须是正数" in _reasons(bad)[0]
    city = api_client(r.w.users[Role.CITY_OFFICER])
    assert _post(city, path, {"vintage": YEAR, "year": YEAR, "amount_mwh": 1}).status_code == 403
    assert not CertificateCancellation.objects.exists()
    done = _post(ent, path, {"vintage": YEAR, "year": YEAR, "amount_mwh": 400})
    assert done.status_code == 201, done.content
    row = CertificateCancellation.objects.get(pk=done.json()["id"])
    assert (row.holder_id, row.amount_mwh, row.year) == (r.unit.pk, Decimal("400"), YEAR)
    assert balance(r.unit, "GEC") == Decimal("600")
    assert _audits("rights.gec.cancellation") == 1


def test_redeem(r):
    path = f"/api/rights/holders/{r.person.pk}/redeem"
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    bad = _post(admin, path, {"amount": "x", "purpose": " "})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    # the person's account: the province acts for it; a unit does not see it
    assert (
        _post(
            api_client(r.w.users[Role.CITY_OFFICER]), path, {"amount": 1, "purpose": "x"}
        ).status_code
        == 403
    )
    assert (
        _post(
            api_client(r.w.users[Role.ENTERPRISE]), path, {"amount": 1, "purpose": "x"}
        ).status_code
        == 404
    )
    done = _post(admin, path, {"amount": 40, "purpose": "兑换公交卡"})
    assert done.status_code == 201, done.content
    row = Redemption.objects.get(pk=done.json()["id"])
    assert (row.unit_type, row.amount, row.purpose) == ("PHP", Decimal("40"), "兑换公交卡")
    assert balance(r.person, "PHP", None) == 0
    assert _audits("rights.redemption") == 1


# ----------------------------------------------------------------------------- 用能权


def test_energy_budget(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    body = {"division": "530300", "year": YEAR, "budget_tce": "8000", "basis": "省发展改革委文件"}
    city = api_client(r.w.users[Role.CITY_OFFICER])
    assert _post(city, "/api/rights/energy/budgets", body).status_code == 403
    bad = _post(admin, "/api/rights/energy/budgets", {**body, "budget_tce": "x", "basis": " "})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    unknown = _post(admin, "/api/rights/energy/budgets", {**body, "division": "999999"})
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "division"
    done = _post(admin, "/api/rights/energy/budgets", body)
    assert done.status_code == 201, done.content
    row = EnergyBudget.objects.get(pk=done.json()["id"])
    assert (row.division.code, row.budget_tce) == ("530300", Decimal("8000"))
    assert _audits("rights.budget.set") == 2  # the helper's and this one
    again = _post(admin, "/api/rights/energy/budgets", body)
    assert again.status_code == 409 and "已登记" in _reasons(again)[0]
    assert EnergyBudget.objects.filter(division__code="530300").count() == 1


def test_grant_energy_rights(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    body = {
        "entity": r.w.other_unit.uscc,
        "year": YEAR,
        "kind": "increment",
        "amount_tce": "120",
        "basis": "节能审查意见",
    }
    assert (
        _post(api_client(r.w.users[Role.ENTERPRISE]), "/api/rights/energy/rights", body).status_code
        == 403
    )
    bad = _post(admin, "/api/rights/energy/rights", {**body, "kind": "x", "basis": ""})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    unknown = _post(admin, "/api/rights/energy/rights", {**body, "entity": "nope"})
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "entity"
    before = _audits("rights.eur.right")
    done = _post(admin, "/api/rights/energy/rights", body)
    assert done.status_code == 201, done.content
    right = EnergyRight.objects.get(pk=done.json()["id"])
    assert (right.kind, right.amount_tce) == ("increment", Decimal("120"))
    assert balance(r.other, "EUR") == Decimal("3120")
    assert _audits("rights.eur.right") == before + 1


def test_cover_project(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    body = {
        "entity": r.w.other_unit.uscc,
        "project_ref": "云发改审〔2025〕1号",
        "project_name": "扩建项目",
        "year": YEAR,
        "energy_tce": "50",
    }
    assert (
        _post(
            api_client(r.w.users[Role.CITY_OFFICER]), "/api/rights/energy/covers", body
        ).status_code
        == 403
    )
    bad = _post(admin, "/api/rights/energy/covers", {**body, "project_ref": "", "project_name": ""})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    done = _post(admin, "/api/rights/energy/covers", body)
    assert done.status_code == 201, done.content
    cover = ProjectCover.objects.get(pk=done.json()["id"])
    assert (cover.method, cover.energy_tce, cover.right.kind) == (
        "purchase",
        Decimal("50"),
        "increment",
    )
    assert balance(r.other, "EUR") == Decimal("3050")
    assert _audits("rights.eur.cover") == 1


def test_energy_obligation(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    path = "/api/rights/energy/obligations"
    body = {"entity": r.w.other_unit.uscc, "year": YEAR}
    assert _post(api_client(r.w.users[Role.CITY_OFFICER]), path, body).status_code == 403
    needs = _post(admin, path, body)  # no accepted 205-1 year and no figure
    assert needs.status_code == 422 and "核定用能量" in _reasons(needs)[0]
    assert _post(admin, path, {**body, "year": 1900}).status_code == 422
    done = _post(admin, path, {**body, "reported_tce": "2999.5"})
    assert done.status_code == 201, done.content
    row = RightsObligation.objects.get(pk=done.json()["id"])
    assert (row.obligation.unit_type, row.obligation.amount) == ("EUR", Decimal("2999.5"))
    assert _audits("rights.obligation.eur") == 1


# ----------------------------------------------------------------------------- 排污权


def test_permit_and_allocation(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    body = {
        "entity": r.w.other_unit.uscc,
        "permit_number": "PW-2",
        "unit_type": "EMR-NOX",
        "permitted_t_per_year": "40",
        "valid_from": "2024-01-01",
        "valid_to": "2028-12-31",
    }
    city = api_client(r.w.users[Role.CITY_OFFICER])
    assert _post(city, "/api/rights/emissions/permits", body).status_code == 403
    bad = _post(
        admin,
        "/api/rights/emissions/permits",
        {**body, "unit_type": "X", "valid_to": "2023-01-01", "permit_number": " "},
    )
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 3
    done = _post(admin, "/api/rights/emissions/permits", body)
    assert done.status_code == 201, done.content
    permit = Permit.objects.get(pk=done.json()["id"])
    assert (permit.permit_number, permit.permitted_t_per_year) == ("PW-2", Decimal("40"))
    assert _audits("rights.permit.record") == 2  # the helper's and this one

    path = f"/api/rights/emissions/permits/{permit.pk}/allocate"
    assert _post(city, path, {"year": YEAR}).status_code == 403
    outside = _post(admin, path, {"year": 2029})
    assert outside.status_code == 422 and "有效期" in _reasons(outside)[0]
    assert (
        _post(admin, "/api/rights/emissions/permits/999999/allocate", {"year": YEAR}).status_code
        == 404
    )
    alloc = _post(admin, path, {"year": YEAR})
    assert alloc.status_code == 201, alloc.content
    row = EmissionRight.objects.get(pk=alloc.json()["id"])
    assert (row.permit_id, row.amount_t) == (permit.pk, Decimal("40"))
    assert balance(r.other, "EMR-NOX") == Decimal("40")
    assert _audits("rights.emr.right") == 2
    again = _post(admin, path, {"year": YEAR})
    assert again.status_code == 409 and "已分配" in _reasons(again)[0]
    assert EmissionRight.objects.filter(permit=permit).count() == 1


def test_emission_obligation_refusals(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    path = "/api/rights/emissions/obligations"
    body = {"entity": r.w.unit.uscc, "unit_type": "EMR-SO2", "year": YEAR}
    assert _post(api_client(r.w.users[Role.ENTERPRISE]), path, body).status_code == 403
    assert _post(admin, path, {**body, "unit_type": "X"}).status_code == 422
    needs = _post(admin, path, body)  # no monitoring data, no reported figure
    assert needs.status_code == 422 and "报告排放量" in _reasons(needs)[0]
    assert not RightsObligation.objects.exists()


# ----------------------------------------------------------------------------- 碳普惠


def test_open_person_and_behaviour(r):
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    body = {"name": "市民乙", "person_ref": "P0002", "division": "530100"}
    city = api_client(r.w.users[Role.CITY_OFFICER])
    assert _post(city, "/api/rights/credits/accounts", body).status_code == 403
    bad = _post(admin, "/api/rights/credits/accounts", {**body, "name": " ", "person_ref": "!!"})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    unknown = _post(admin, "/api/rights/credits/accounts", {**body, "division": "999999"})
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "division"
    done = _post(admin, "/api/rights/credits/accounts", body)
    assert done.status_code == 201, done.content
    assert done.json()["account"] == "PH-P0002" and done.json()["kind"] == "person"
    person = Holder.objects.get(account__code="PH-P0002")
    assert AuditEntry.objects.filter(action="rights.holder.open", object_id=str(person.pk)).exists()

    path = "/api/rights/credits/behaviours"
    b = {"account": "PH-P0002", "code": "bus", "quantity": "12", "day": f"{YEAR}-05-01"}
    assert _post(city, path, b).status_code == 403
    bad = _post(admin, path, {**b, "code": "x", "quantity": "x"})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    unit = _post(admin, path, {**b, "account": r.unit.account.code})
    assert unit.status_code == 422 and "个人或机构账户" in _reasons(unit)[0]
    unknown = _post(admin, path, {**b, "account": "PH-NOPE"})
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "account"
    done = _post(admin, path, b)
    assert done.status_code == 201, done.content
    row = Behaviour.objects.get(pk=done.json()["id"])
    assert (row.holder_id, row.points) == (person.pk, 12)
    assert balance(person, "PHP", None) == 12
    assert _audits("rights.php.behaviour") == 2  # the helper's and this one


def test_issue_credits(r):
    project = services.register_project(
        holder=r.person, methodology="P-FOREST", name="造林", user=r.w.users[Role.PROVINCE_ADMIN]
    )
    admin = api_client(r.w.users[Role.PROVINCE_ADMIN])
    path = f"/api/rights/credits/projects/{project.pk}/issue"
    body = {"vintage": YEAR, "verified_t": "300", "verifier": "核证机构"}
    assert _post(api_client(r.w.users[Role.CITY_OFFICER]), path, body).status_code == 403
    bad = _post(admin, path, {**body, "verified_t": "0", "verifier": " "})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    assert _post(admin, "/api/rights/credits/projects/999999/issue", body).status_code == 404
    done = _post(admin, path, body)
    assert done.status_code == 200, done.content
    assert done.json()["unit_type"] == "CSC" and done.json()["amount"] == 300
    project.refresh_from_db()
    assert (project.status, project.verified_t) == ("issued", Decimal("300"))
    assert balance(r.person, "CSC") == Decimal("300")
    assert _audits("rights.project.issue") == 1
    again = _post(admin, path, body)
    assert again.status_code == 409 and "已签发" in _reasons(again)[0]
    assert CreditProject.objects.get(pk=project.pk).verified_t == Decimal("300")
