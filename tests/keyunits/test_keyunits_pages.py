"""Every key-unit page and API operation as every role: allowed (never 403/500) and refused
(403; anonymous → login), objects outside the scope → 404; exports open with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.urls import get_resolver
from openpyxl import load_workbook

from dualcontrol.access.rules import allows
from dualcontrol.accounts.models import Role, User
from dualcontrol.keyunits import services
from dualcontrol.keyunits.models import AuditOrder, StatusReport
from tests.auth import api_token, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
YEAR = 2025
ROLES = [
    "anon",
    Role.PUBLIC,
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
]


def _content(value: str) -> services.StatusContent:
    return services.StatusContent(
        energy_uses=[services.EnergyUseRow("原煤", "吨", "10000", "12000")],
        product_lines=[
            services.ProductRow("cement_clinker", "comprehensive_energy", "100000", value)
        ],
    )


@pytest.fixture
def data(world):
    users = dict(world.users)
    users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    officer = users[Role.PROVINCE_OFFICER]
    reports = []
    for unit, key in ((world.unit, Role.ENTERPRISE), (world.other_unit, "other_enterprise")):
        unit.annual_energy_tce = 12000
        unit.save()
        r = services.save_status_report(
            entity=unit,
            year=YEAR,
            content=_content("120"),
            user=users[key],
            submit=True,
            today=dt.date(2026, 5, 1),
        )
        reports.append(services.accept_status_report(report=r, user=officer))
    services.propose_designations(year=YEAR, user=officer)
    services.compute_grades(year=YEAR, user=officer)
    audits = services.order_audits_for_over_limit(year=YEAR, user=officer)
    return users, reports, sorted(audits, key=lambda a: a.entity_id != world.unit.pk)


def _client(users, role) -> Client:
    c = Client()
    if role != "anon":
        login(c, users[role])
    return c


def _pages():
    out = []
    for p in get_resolver().url_patterns:
        if getattr(p, "namespace", None) == "keyunits":
            for q in p.url_patterns:
                view = q.callback
                rule = getattr(view, "access_rule", None)
                post = getattr(view, "access_post_rule", None)
                out.append(("key-units/" + str(q.pattern), q.name, rule, post))
    return out


def test_every_keyunits_page_has_a_rule():
    pages = _pages()
    assert len(pages) >= 15
    assert all(rule and rule.startswith("keyunits.") for _, _, rule, _ in pages), pages


@pytest.mark.parametrize("role", ROLES)
def test_every_page_as_every_role(data, world, role):
    users, reports, audits = data
    c = _client(users, role)
    user = users.get(role)
    wrong = []
    for route, name, rule, post in _pages():
        pk = {"report": reports[0].pk, "report-submit": reports[0].pk, "audit": audits[0].pk}.get(
            name, world.unit.pk
        )
        path = "/" + route.replace("<str:kind>", "over_limit").replace("<int:pk>", str(pk))
        for method in ("get", "post"):
            r = getattr(c, method)(path)
            need = post if method == "post" else rule
            if role == "anon":
                ok = r.status_code == 302 and "/login" in r.url
            elif r.status_code == 405 and method == "get":
                ok = True
            elif not allows(user, need):
                ok = r.status_code == 403
            else:
                ok = r.status_code not in (403, 500)
            if not ok:
                wrong.append((method, path, r.status_code))
    assert not wrong, wrong


def test_objects_outside_the_scope_are_not_found(data, world):
    users, reports, audits = data
    for role, other_report, other_audit in (
        (Role.CITY_OFFICER, reports[1], audits[1]),
        (Role.ENTERPRISE, reports[1], audits[1]),
    ):
        c = _client(users, role)
        assert c.get(f"/key-units/reports/{other_report.pk}/").status_code == 404
        assert c.get(f"/key-units/audits/{other_audit.pk}/").status_code == 404
        assert c.get(f"/key-units/units/{world.other_unit.pk}/").status_code == 404
        assert c.get(f"/key-units/reports/{reports[0].pk}/").status_code == 200
        assert c.get(f"/key-units/units/{world.unit.pk}/").status_code in (200, 302)


def test_review_and_audit_pages_act(data, world):
    users, _reports, audits = data
    c = _client(users, Role.CITY_OFFICER)
    r = c.post(f"/key-units/audits/{audits[0].pk}/", {"action": "report", "reference": "R-1"})
    assert r.status_code == 302
    assert AuditOrder.objects.get(pk=audits[0].pk).status == "report_received"
    c2 = _client(users, Role.ENTERPRISE)
    assert c2.post(f"/key-units/audits/{audits[0].pk}/", {"action": "close"}).status_code == 403


def test_the_enterprise_files_and_uploads(data, world):
    users, reports, _ = data
    StatusReport.objects.filter(pk=reports[0].pk).update(status="returned")
    c = _client(users, Role.ENTERPRISE)
    r = c.post(
        "/key-units/file/",
        {
            "year": YEAR,
            "e0-kind": "原煤",
            "e0-unit": "吨",
            "e0-quantity": "100",
            "e0-tce": "71.43",
            "p0-product": "水泥熟料",
            "p0-indicator": "综合能耗",
            "p0-output": "1000",
            "p0-value": "101",
            "submit": "1",
        },
    )
    assert r.status_code == 302
    report = StatusReport.objects.get(pk=reports[0].pk)
    assert (report.status, report.revision) == ("submitted", 2)
    t = c.get(f"/key-units/template.xlsx?year={YEAR}")
    wb = load_workbook(io.BytesIO(t.content))
    assert wb.sheetnames == ["基本情况", "能源消费", "产品能耗"]
    bad = c.post("/key-units/upload/", {"year": YEAR, "file": io.BytesIO(b"x")})
    assert bad.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/key-units/lists/over_limit/?year=2025&export=xlsx",
        "/key-units/lists/designations/?year=2025&export=xlsx",
        "/key-units/lists/surcharges/?year=2025&export=xlsx",
        "/key-units/shares/?year=2025&export=xlsx",
        "/key-units/audits/?export=xlsx",
        "/key-units/reports/?year=2025&export=xlsx",
        "/key-units/?year=2025&export=xlsx",
    ],
)
def test_exports_open_with_openpyxl(data, url):
    users, _, _ = data
    r = _client(users, Role.PROVINCE_OFFICER).get(url)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.active.max_row >= 1


def test_surcharge_csv_for_the_grid_company(data):
    users, _, _ = data
    r = _client(users, Role.PROVINCE_OFFICER).get(
        "/key-units/lists/surcharges/?year=2025&export=csv"
    )
    assert r.status_code == 200
    header = r.content.decode("utf-8-sig").splitlines()[0]
    assert "加价（元/千瓦时）" in header and "surcharge_yuan_per_kwh" not in header


# --------------------------------------------------------------------------------------------
# API


def _api(users, role) -> Client:
    c = Client()
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token(c, users[role], PASSWORD)}"
    return c


def test_api_lists_are_scoped(data, world):
    users, reports, _ = data
    prov = _api(users, Role.PROVINCE_OFFICER)
    city = _api(users, Role.CITY_OFFICER)
    for path in ("grades", "status-reports", "designations", "audits", "lists?kind=over_limit"):
        sep = "&" if "?" in path else "?"
        a = prov.get(f"/api/key-units/{path}{sep}year={YEAR}").json()
        b = city.get(f"/api/key-units/{path}{sep}year={YEAR}").json()
        assert a["count"] == 2 and b["count"] == 1, (path, a, b)
    g = prov.get(f"/api/key-units/grades?year={YEAR}").json()["items"][0]
    assert (g["grade"], g["standard"], g["benchmark_position"]) == (
        "over",
        "GB 16780-2021",
        "below_baseline",
    )
    assert city.get(f"/api/key-units/status-reports/{reports[1].pk}").status_code == 404
    shares = prov.get(f"/api/key-units/shares?year={YEAR}&by=region").json()
    assert {r["key"] for r in shares["rows"]} == {"530100", "530300"}


def test_api_filing_and_review(data, world):
    users, reports, _ = data
    StatusReport.objects.filter(pk=reports[0].pk).update(status="returned")
    ent = _api(users, Role.ENTERPRISE)
    body = {
        "year": YEAR,
        "energy_uses": [{"kind": "原煤", "unit": "吨", "quantity": "1", "energy_tce": "0.7"}],
        "product_lines": [
            {
                "product": "cement_clinker",
                "indicator": "comprehensive_energy",
                "output": "-1",
                "value": "x",
            }
        ],
    }
    r = ent.post("/api/key-units/status-reports", json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    body["product_lines"][0].update(output="10", value="100")
    body["submit"] = True
    r = ent.post("/api/key-units/status-reports", json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    city = _api(users, Role.CITY_OFFICER)
    assert ent.post(f"/api/key-units/status-reports/{reports[0].pk}/accept").status_code == 403
    r = city.post(f"/api/key-units/status-reports/{reports[0].pk}/accept")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert city.post(f"/api/key-units/status-reports/{reports[0].pk}/accept").status_code == 409
