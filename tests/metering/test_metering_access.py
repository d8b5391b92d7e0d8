"""Every monitoring page and endpoint × every role: allowed, refused, scoped to the role's units."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.utils import timezone
from metering_world import ELEC, build
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.metering import services
from dualcontrol.metering.models import FaultReport, GapExplanation
from tests.auth import api_token, login

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
A, P, PA, PO, C, E, V, OC, OE = range(9)


@pytest.fixture
def setup(world):
    mw = build(world)
    fault = services.file_fault(
        entity=mw.unit,
        user=mw.user(Role.ENTERPRISE),
        started=timezone.now() - dt.timedelta(hours=5),
        expected_repair=timezone.localdate() + dt.timedelta(days=2),
        reason="网关故障",
    )
    return mw, fault


def client_for(mw, role):
    c = Client()
    if role != "anon":
        login(c, mw.user(role))
    return c


ALL = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200}
UNIT = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404}
OWN = {A: 302, P: 403, PA: 403, PO: 403, C: 403, E: 200, V: 403, OC: 403, OE: 404}
PAGES = {
    "/metering/": ALL,
    "/metering/?sort=gap&connected=0&month=2026-04": ALL,
    "/metering/?export=xlsx": ALL,
    "/metering/alerts/": ALL,
    "/metering/alerts/?export=xlsx": ALL,
    "/metering/faults/": ALL,
    "/metering/faults/?export=xlsx": ALL,
    "/metering/units/{u}/": UNIT,
    "/metering/units/{u}/?month=2026-04&day=2026-04-02": UNIT,
    "/metering/units/{u}/registry/": UNIT,
    "/metering/units/{u}/registry/?export=items": UNIT,
    "/metering/units/{u}/registry/?export=instruments": UNIT,
    "/metering/units/{u}/reconciliation/": UNIT,
    "/metering/units/{u}/batches/": UNIT,
    "/metering/units/{u}/batches/?export=xlsx": UNIT,
    "/metering/units/{u}/manual/": OWN,
    "/metering/units/{u}/faults/new/": OWN,
}


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(setup, path, role_index):
    mw, _ = setup
    response = client_for(mw, ROLES[role_index]).get(path.replace("{u}", mw.unit.uscc))
    assert response.status_code == PAGES[path][role_index], (path, ROLES[role_index])
    if ROLES[role_index] == "anon":
        assert response["Location"].startswith("/accounts/login/")


def test_ranking_and_exports_show_only_visible_units(setup):
    mw, _ = setup

    def names(role, path="/metering/?export=xlsx"):
        wb = load_workbook(io.BytesIO(client_for(mw, role).get(path).content))
        return sorted(row[1] for row in wb.active.iter_rows(min_row=3, values_only=True))

    both = sorted([mw.unit.name, mw.w.other_unit.name])
    assert names(Role.PROVINCE_OFFICER) == both
    assert names(Role.CITY_OFFICER) == [mw.unit.name]
    assert names("other_city") == [mw.w.other_unit.name]
    assert names(Role.ENTERPRISE) == [mw.unit.name]
    assert names(Role.VERIFIER) == [mw.unit.name]
    html = client_for(mw, Role.ENTERPRISE).get("/metering/").content.decode()
    assert mw.unit.name in html and mw.w.other_unit.name not in html
    faults = load_workbook(
        io.BytesIO(client_for(mw, "other_city").get("/metering/faults/?export=xlsx").content)
    )
    assert faults.active.max_row == 2  # title and header: the other city sees no 报备 of this unit


FAULT_ACCEPT = {A: 302, P: 403, PA: 302, PO: 302, C: 302, E: 403, V: 403, OC: 404, OE: 404}


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_fault_review_page_action(setup, role_index):
    mw, fault = setup
    r = client_for(mw, ROLES[role_index]).post(
        f"/metering/faults/{fault.pk}/accept/", {"note": "ok"}
    )
    assert r.status_code == FAULT_ACCEPT[role_index]
    fault.refresh_from_db()
    accepted = FAULT_ACCEPT[role_index] == 302 and ROLES[role_index] != "anon"
    assert (fault.status == FaultReport.Status.ACCEPTED) is accepted


REGISTRY_POST = {A: 302, P: 403, PA: 302, PO: 403, C: 403, E: 302, V: 403, OC: 404, OE: 404}


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_registry_form_post(setup, role_index):
    mw, _ = setup
    data = {
        "item-code": "0201030102223002",
        "item-frequency": "0",
        "item-name": "2号线用电量",
        "item-interval_minutes": "15",
        "item-source": "4",
        "item-is_reported": "on",
        "item-active": "on",
        "save_item": "1",
    }
    r = client_for(mw, ROLES[role_index]).post(f"/metering/units/{mw.unit.uscc}/registry/", data)
    assert r.status_code == REGISTRY_POST[role_index]
    saved = mw.unit.metering_items.filter(code="0201030102223002").exists()
    assert saved is (ROLES[role_index] in (Role.PROVINCE_ADMIN, Role.ENTERPRISE))


def test_registry_form_shows_problems_and_saves_nothing(setup):
    mw, _ = setup
    data = {
        "item-code": "0201030199999902",
        "item-frequency": "0",
        "item-name": "x",
        "item-source": "4",
        "save_item": "1",
    }
    r = client_for(mw, Role.ENTERPRISE).post(f"/metering/units/{mw.unit.uscc}/registry/", data)
    assert r.status_code == 200 and "9999" in r.content.decode()
    assert not mw.unit.metering_items.filter(code="0201030199999902").exists()


EXPLAIN = {A: 302, P: 403, PA: 403, PO: 403, C: 403, E: 302, V: 403, OC: 404, OE: 404}


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_gap_explanation_post(setup, role_index):
    mw, _ = setup
    r = client_for(mw, ROLES[role_index]).post(
        f"/metering/units/{mw.unit.uscc}/reconciliation/?month=2026-04",
        {"product_code": "23", "text": "计量表更换"},
    )
    assert r.status_code == EXPLAIN[role_index]
    assert GapExplanation.objects.exists() is (ROLES[role_index] == Role.ENTERPRISE)


def test_enterprise_files_a_fault_and_a_manual_entry_through_the_pages(setup):
    mw, _ = setup
    c = client_for(mw, Role.ENTERPRISE)
    r = c.post(
        f"/metering/units/{mw.unit.uscc}/faults/new/",
        {
            "started": (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
            "expected_repair": timezone.localdate().isoformat(),
            "reason": "电能表通讯中断",
            "items": [mw.items["elec"].pk],
            "manual_filing": "on",
        },
    )
    assert r.status_code == 302 and FaultReport.objects.count() == 2
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    r = c.post(
        f"/metering/units/{mw.unit.uscc}/manual/",
        {"item": mw.items["elec_month"].pk, "month": month, "value": "1234.5"},
    )
    assert r.status_code == 302
    page = c.get(f"/metering/units/{mw.unit.uscc}/?month={month}").content.decode()
    assert "1234.50" in page


# ---- API ------------------------------------------------------------------------------------


def token(mw, role):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    return api_token(Client(), mw.user(role), "test-pass-123")


def api(mw, role, method, path, body=None):
    headers = {} if role == "anon" else {"HTTP_AUTHORIZATION": f"Bearer {token(mw, role)}"}
    c = Client()
    if method == "get":
        return c.get(path, **headers)
    return c.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def now_slot() -> str:
    t = timezone.localtime() - dt.timedelta(hours=1)
    return t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0).isoformat()


API = {
    ("get", "/api/metering/codecs"): {P: 200, PA: 200, E: 200, OC: 200},
    ("get", "/api/metering/units"): {P: 200, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    ("get", "/api/metering/units/{u}/items"): {P: 404, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/units/{u}/instruments"): {P: 404, PA: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/units/{u}/quality?month=2026-04"): {P: 404, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/units/{u}/reconciliation?month=2026-04"): {P: 404, PA: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/units/{u}/readings?start=2026-04-01T00:00:00&end=2026-04-02T00:00:00"): {P: 404, PA: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/units/{u}/series?start=2026-04-01T00:00:00&end=2026-04-02T00:00:00"): {P: 404, PA: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404},
    ("get", "/api/metering/alerts"): {P: 200, PA: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    ("get", "/api/metering/faults"): {P: 200, PA: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200},
    ("post", "/api/metering/readings"): {P: 404, PA: 403, PO: 403, C: 403, E: 200, V: 403, OC: 404, OE: 404},
    ("post", "/api/metering/units/{u}/items"): {P: 404, PA: 200, PO: 403, C: 403, E: 200, V: 403, OC: 404, OE: 404},
    ("post", "/api/metering/units/{u}/instruments"): {P: 404, PA: 200, PO: 403, C: 403, E: 200, V: 403, OC: 404, OE: 404},
    ("post", "/api/metering/units/{u}/faults"): {P: 404, PA: 403, PO: 403, C: 403, E: 201, V: 403, OC: 404, OE: 404},
    ("post", "/api/metering/faults/{f}/accept"): {P: 404, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 404, OE: 404},
    ("post", "/api/metering/faults/{f}/close"): {P: 404, PA: 200, C: 200, E: 200, V: 403, OC: 404, OE: 404},
}  # fmt: skip


def _body(mw, path):
    if path.endswith("/readings"):
        return {"unit": mw.unit.uscc, "readings": [{"item": ELEC, "ts": now_slot(), "value": 12.5}]}
    if path.endswith("/items"):
        return [{"code": "0201030102223002", "frequency": 0, "name": "2号线用电量"}]
    if path.endswith("/instruments"):
        return [{"number": "E9", "name": "2号线电能表", "grade": 3}]
    if path.endswith("/faults"):
        return {
            "started": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "expected_repair": timezone.localdate().isoformat(),
            "reason": "通讯中断",
            "items": [ELEC],
        }
    if path.endswith("/close"):
        return {"repaired_at": timezone.now().isoformat()}
    return {"note": "ok"}


@pytest.mark.parametrize("endpoint", list(API), ids=[f"{m} {p}" for m, p in API])
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_api(setup, endpoint, role_index):
    mw, fault = setup
    method, path = endpoint
    path = path.replace("{u}", mw.unit.uscc).replace("{f}", str(fault.pk))
    role = ROLES[role_index]
    r = api(mw, role, method, path, _body(mw, path))
    if role == "anon":
        assert r.status_code == 401
        return
    expected = API[endpoint].get(role_index)
    if expected is not None:
        assert r.status_code == expected, (role, path, r.content[:300])


UNITS_SEEN = {P: 0, PA: 2, PO: 2, C: 1, E: 1, V: 1, OC: 1, OE: 1}


@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_unit_list_is_scoped(setup, role_index):
    mw, _ = setup
    r = api(mw, ROLES[role_index], "get", "/api/metering/units?month=2026-04")
    assert r.status_code == 200
    assert len(r.json()["items"]) == r.json()["count"] == UNITS_SEEN[role_index]
    faults = api(mw, ROLES[role_index], "get", "/api/metering/faults").json()["items"]
    assert len(faults) == (1 if role_index in (PA, PO, C, E, V) else 0)


def test_admin_registers_items_through_the_same_validation(setup):
    mw, _ = setup
    c = client_for(mw, Role.SYSTEM_ADMIN)
    assert c.get("/admin/metering/dataitem/add/").status_code == 200
    assert c.get("/admin/metering/meteringinstrument/").status_code == 200
    assert c.get("/admin/metering/ingestbatch/").status_code == 200
    base = {
        "entity": mw.unit.pk,
        "name": "2号线用电量",
        "frequency": 0,
        "interval_minutes": 15,
        "interval_grant": "",
        "source": 4,
        "unit": "",
        "boundary": "",
        "is_reported": "on",
        "active": "on",
    }
    bad = c.post("/admin/metering/dataitem/add/", {**base, "code": "0201030199999902"})
    assert bad.status_code == 200 and not mw.unit.metering_items.filter(name="2号线用电量").exists()
    ok = c.post("/admin/metering/dataitem/add/", {**base, "code": "0201030102223002"})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    item = mw.unit.metering_items.get(code="0201030102223002")
    assert (item.process_code, item.energy_code, item.product_code, item.unit) == (
        "02",
        "2230",
        "23",
        "千瓦时",
    )
    assert c.get(f"/admin/metering/dataitem/{item.pk}/delete/").status_code == 403
