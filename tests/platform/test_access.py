"""Every page and endpoint × every role: allowed, refused, and scoped to the role's units."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.reporting import services
from tests.auth import api_token, login
from tests.factories import PASSWORD, coal_row

pytestmark = pytest.mark.django_db

ROLES = [
    "anon",
    Role.PUBLIC,
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
    "other_city",
    "other_enterprise",
]


@pytest.fixture
def setup(world):
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    report = services.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=world.users[Role.ENTERPRISE],
        submit=True,
    )
    return world, report


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


# expected status per role, in ROLES order
A, P, PA, PO, C, E, V, OC, OE = range(9)
PAGES = {
    "/": {A: 302, P: 302, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    "/public/": dict.fromkeys(range(9), 200),
    "/reports/": {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    "/reports/review/": {
        A: 302,
        P: 403,
        PA: 200,
        PO: 200,
        C: 200,
        E: 403,
        V: 403,
        OC: 200,
        OE: 403,
    },
    "/reports/new/": {A: 302, P: 403, PA: 403, PO: 403, C: 403, E: 200, V: 403, OC: 403, OE: 200},
    "/reports/upload/": {
        A: 302,
        P: 403,
        PA: 403,
        PO: 403,
        C: 403,
        E: 200,
        V: 403,
        OC: 403,
        OE: 200,
    },
    "/reports/template.xlsx": {
        A: 302,
        P: 403,
        PA: 200,
        PO: 200,
        C: 200,
        E: 200,
        V: 200,
        OC: 200,
        OE: 200,
    },
    "/reports/{id}/": {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    "/reports/{id}/?export=xlsx": {
        A: 302,
        P: 403,
        PA: 200,
        PO: 200,
        C: 200,
        E: 200,
        V: 200,
        OC: 404,
        OE: 404,
    },
    "/reports/{id}/edit/": {
        A: 302,
        P: 403,
        PA: 403,
        PO: 403,
        C: 403,
        E: 200,
        V: 403,
        OC: 403,
        OE: 404,
    },
    "/entities/": {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    "/audit/": {A: 302, P: 403, PA: 403, PO: 403, C: 403, E: 403, V: 403, OC: 403, OE: 403},
    "/admin/": {A: 302, P: 302, PA: 302, PO: 302, C: 302, E: 302, V: 302, OC: 302, OE: 302},
}


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(setup, path, role_index):
    world, report = setup
    response = client_for(world, ROLES[role_index]).get(path.replace("{id}", str(report.pk)))
    assert response.status_code == PAGES[path][role_index], (path, ROLES[role_index])


ACTIONS = {
    # POST /reports/{id}/accept/: reviewers in scope redirect (302 after success), others refused
    "accept": {A: 302, P: 403, PA: 302, PO: 302, C: 302, E: 403, V: 403, OC: 404, OE: 404},
}


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_accept_action(setup, role_index):
    world, report = setup
    response = client_for(world, ROLES[role_index]).post(f"/reports/{report.pk}/accept/")
    assert response.status_code == ACTIONS["accept"][role_index]
    report.refresh_from_db()
    accepted = ROLES[role_index] in {Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER}
    assert (report.status == "accepted") is accepted
    if ROLES[role_index] == "anon":
        assert response["Location"].startswith("/accounts/login/")


def test_report_list_and_export_show_only_own_unit(setup):
    world, _ = setup
    services.save_report(
        entity=world.other_unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=world.users["other_enterprise"],
    )
    c = client_for(world, Role.ENTERPRISE)
    html = c.get("/reports/").content.decode()
    assert world.unit.name in html and world.other_unit.name not in html
    wb = load_workbook(io.BytesIO(c.get("/reports/?export=xlsx").content))
    names = [row[0] for row in wb.active.iter_rows(min_row=3, values_only=True)]
    assert names == [world.unit.name]
    city_names = [
        r[0]
        for r in load_workbook(
            io.BytesIO(client_for(world, "other_city").get("/reports/?export=xlsx").content)
        ).active.iter_rows(min_row=3, values_only=True)
    ]
    assert city_names == [world.other_unit.name]
    province = [
        r[0]
        for r in load_workbook(
            io.BytesIO(
                client_for(world, Role.PROVINCE_OFFICER).get("/reports/?export=xlsx").content
            )
        ).active.iter_rows(min_row=3, values_only=True)
    ]
    assert sorted(province) == sorted([world.unit.name, world.other_unit.name])


def token(client, username):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    from dualcontrol.accounts.models import User

    return api_token(client, User.objects.get(username=username), PASSWORD)


def test_token_auth(setup):
    _world, _ = setup
    c = Client()
    bad = c.post(
        "/api/auth/token",
        json.dumps({"username": "ent1", "password": "wrong"}),
        content_type="application/json",
    )
    assert bad.status_code == 401
    assert c.get("/api/reports/").status_code == 401
    assert c.get("/api/reports/", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    t = token(c, "ent1")
    assert c.get("/api/reports/", HTTP_AUTHORIZATION=f"Bearer {t}").status_code == 200


API_GET = {
    "/api/reports/": {P: 0, PA: 1, PO: 1, C: 1, E: 1, V: 1, OC: 0, OE: 0},
    "/api/entities/": {P: 0, PA: 2, PO: 2, C: 1, E: 1, V: 1, OC: 1, OE: 1},
}


@pytest.mark.parametrize("path", list(API_GET))
@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_lists_are_scoped(setup, path, role_index):
    world, _ = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    r = c.get(path, HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == 200
    assert r.json()["count"] == API_GET[path][role_index]


@pytest.mark.parametrize(
    ("role_index", "status"),
    [(P, 404), (PA, 200), (C, 200), (E, 200), (V, 200), (OC, 404), (OE, 404)],
)
def test_api_detail_is_scoped(setup, role_index, status):
    world, report = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    assert (
        c.get(f"/api/reports/{report.pk}", HTTP_AUTHORIZATION=f"Bearer {t}").status_code == status
    )


def test_api_filing_review_and_rejection(setup):
    world, report = setup
    c = Client()
    ent = token(c, "ent1")
    body = {
        "period_type": "monthly",
        "year": 2026,
        "month": 9,
        "submit": True,
        "rows": [
            {
                "product_code": "01",
                "unit": "吨",
                "opening_stock": "200",
                "purchases_qty": "1000",
                "consumption_total": "1000",
                "industrial_production": "990",
                "non_industrial": "10",
                "closing_stock": "200",
            }
        ],
    }
    r = c.post(
        "/api/reports/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ent}",
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "submitted" and r.json()["energy_tce"] == "714.3000"
    bad = dict(body, month=8)
    bad["rows"] = [dict(body["rows"][0], unit="千克", closing_stock="-1")]
    r = c.post(
        "/api/reports/",
        json.dumps(bad),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ent}",
    )
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"unit", "closing_stock"}
    # an enterprise cannot file for another unit
    other = dict(body, month=7, entity_uscc=world.other_unit.uscc)
    r = c.post(
        "/api/reports/",
        json.dumps(other),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ent}",
    )
    assert r.status_code == 404
    # a city officer cannot file, can return with a reason
    city = token(c, "city1")
    r = c.post(
        "/api/reports/",
        json.dumps(dict(body, entity_uscc=world.unit.uscc)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {city}",
    )
    assert r.status_code == 403
    r = c.post(
        f"/api/reports/{report.pk}/return",
        json.dumps({"reason": "请核实"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {city}",
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"
    r = c.post(f"/api/reports/{report.pk}/accept", HTTP_AUTHORIZATION=f"Bearer {city}")
    assert r.status_code == 409
    # the enterprise cannot accept its own report
    r = c.post(f"/api/reports/{report.pk}/submit", HTTP_AUTHORIZATION=f"Bearer {ent}")
    assert r.status_code == 200
    r = c.post(f"/api/reports/{report.pk}/accept", HTTP_AUTHORIZATION=f"Bearer {ent}")
    assert r.status_code == 403


def test_openapi_and_docs(setup):
    c = Client()
    spec = c.get("/api/openapi.json")
    assert spec.status_code == 200
    assert "/api/auth/token" in spec.json()["paths"]
    assert c.get("/api/docs").status_code == 200
