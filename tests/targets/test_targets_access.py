"""Every targets page, action and API endpoint × every role: allowed, refused, scoped."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.targets import services
from dualcontrol.targets.models import (
    RegionalStatistic,
    ResponsibilityLetter,
    Target,
    WarningRecord,
)
from tests.auth import api_token, login
from tests.factories import PASSWORD

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
NONE = {A: 302, P: 403, E: 403, V: 403, OE: 403}
STAFF = {**NONE, PA: 200, PO: 200, C: 200, OC: 200}
PROVINCE_ONLY = {**NONE, PA: 200, PO: 200, C: 404, OC: 404}
KUNMING = {**NONE, PA: 200, PO: 200, C: 200, OC: 404}

PAGES = {
    "/targets/": STAFF,
    "/targets/?export=xlsx": STAFF,
    "/targets/list/": STAFF,
    "/targets/list/?export=xlsx": STAFF,
    "/targets/new/": STAFF,
    "/targets/{province}/": PROVINCE_ONLY,
    "/targets/{province}/?export=xlsx": PROVINCE_ONLY,
    "/targets/{province}/edit/": PROVINCE_ONLY,
    "/targets/{province}/decompose/": PROVINCE_ONLY,
    "/targets/{province}/decompose/?export=xlsx": PROVINCE_ONLY,
    "/targets/{province}/progress/": PROVINCE_ONLY,
    "/targets/{city}/": KUNMING,
    "/targets/{city}/edit/": {**KUNMING, C: 403},  # the province's target is read-only for the city
    "/targets/{city}/decompose/": KUNMING,  # its own city's target: to counties
    "/targets/{city}/progress/": KUNMING,
    "/targets/{city}/progress/?granularity=quarter&export=xlsx": KUNMING,
    "/targets/{city}/drilldown/": KUNMING,
    "/targets/{city}/drilldown/?year=2026&month=6&export=units": KUNMING,
    "/targets/warnings/": STAFF,
    "/targets/warnings/?export=xlsx": STAFF,
    "/targets/alerts/": STAFF,
    "/targets/alerts/?export=xlsx": STAFF,
    "/targets/letters/": STAFF,
    "/targets/letters/?export=xlsx": STAFF,
    "/targets/letters/{letter}/": KUNMING,
    "/targets/statistics/": STAFF,
    "/targets/statistics/?export=xlsx": STAFF,
}


@pytest.fixture
def setup(tw):
    w = tw.world
    w.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    services.compute_warnings(year=2026, month=6, system=True)
    letter = services.generate_letter(target=tw.city_target, user=w.users[Role.PROVINCE_ADMIN])
    ids = {"province": tw.province_target.pk, "city": tw.city_target.pk, "letter": letter.pk}
    return tw, ids


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


def fill(path, ids):
    for k, v in ids.items():
        path = path.replace("{" + k + "}", str(v))
    return path


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(setup, path, role_index):
    tw, ids = setup
    response = client_for(tw.world, ROLES[role_index]).get(fill(path, ids))
    assert response.status_code == PAGES[path][role_index], (path, ROLES[role_index])
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    if response.status_code == 200 and "export" in path:
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_exports_are_scoped(setup):
    tw, _ = setup

    def names(role, path):
        wb = load_workbook(io.BytesIO(client_for(tw.world, role).get(path).content))
        return sorted({row[0] for row in wb.active.iter_rows(min_row=3, values_only=True)})

    assert names(Role.PROVINCE_OFFICER, "/targets/warnings/?export=xlsx") == [
        "云南省",
        "昆明市",
        "曲靖市",
    ]
    assert names(Role.CITY_OFFICER, "/targets/warnings/?export=xlsx") == ["昆明市"]
    assert names("other_city", "/targets/warnings/?export=xlsx") == ["曲靖市"]
    assert names(Role.CITY_OFFICER, "/targets/?export=xlsx") == []  # no county targets yet
    assert names(Role.PROVINCE_ADMIN, "/targets/?export=xlsx") == ["昆明市", "曲靖市"]
    city_html = client_for(tw.world, Role.CITY_OFFICER).get("/targets/list/").content.decode()
    assert "昆明市" in city_html and "曲靖市" not in city_html


ACTIONS = {
    # method, path, data, expected per role
    "run": (
        "post",
        "/targets/warnings/run/",
        {"year": 2026, "month": 6},
        {**NONE, PA: 302, PO: 302, C: 403, OC: 403},
    ),
    "letter": ("post", "/targets/{city}/letter/", {}, {**NONE, PA: 302, PO: 302, C: 403, OC: 404}),
    "sign": (
        "post",
        "/targets/letters/{letter}/sign/",
        {"signed_on": "2026-01-05", "issuer_signatory": "甲", "party_signatory": "乙"},
        {**NONE, PA: 302, PO: 302, C: 403, OC: 404},
    ),
    "import": ("post", "/targets/statistics/", {}, {**NONE, PA: 200, PO: 200, C: 403, OC: 403}),
    "adopt": (
        "post",
        "/targets/{province}/decompose/",
        {"adopt": "b"},
        {**NONE, PA: 302, PO: 302, C: 404, OC: 404},
    ),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_actions(setup, action, role_index):
    tw, ids = setup
    method, path, data, expected = ACTIONS[action]
    if action == "adopt":
        data = {**workbench_data(tw), **data}
    response = getattr(client_for(tw.world, ROLES[role_index]), method)(fill(path, ids), data)
    assert response.status_code == expected[role_index], (action, ROLES[role_index])


def workbench_data(tw):
    from dualcontrol.targets.forms import WorkbenchForm
    from dualcontrol.targets.views import _initial_data

    rows = services.sub_regions(tw.province_target)
    form = WorkbenchForm(rows=rows, defaults=services.default_params(tw.province_target, rows))
    return {k: v for k, v in _initial_data(form).items()}


def test_workbench_compares_and_adopts(setup):
    tw, _ = setup
    c = client_for(tw.world, Role.PROVINCE_ADMIN)
    url = f"/targets/{tw.province_target.pk}/decompose/"
    page = c.get(url).content.decode()
    assert "分档法" in page and "因素加权法" in page and "余量" in page
    data = {**workbench_data(tw), "method_a": "efficiency", "method_b": "manual", "compare": "1"}
    partial = c.post(url, data, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert "效率优先法" in html and "手工分解" in html
    r = c.post(url, {**data, "adopt": "a"})
    assert r.status_code == 302
    assert (
        Target.objects.filter(parent=tw.province_target, decomposition__method="efficiency").count()
        == 2
    )
    xlsx = c.get(url + "?" + "&".join(f"{k}={v}" for k, v in data.items()) + "&export=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_workbench_offers_only_the_methods_it_runs(setup):
    """Issue 14: choosing 按基期量比例 or 统一目标值 on the workbench answered 500."""
    tw, _ = setup
    c = client_for(tw.world, Role.PROVINCE_ADMIN)
    url = f"/targets/{tw.province_target.pk}/decompose/"
    page = c.get(url).content.decode()
    assert 'value="uniform"' not in page and 'value="proportional"' not in page
    for method in ("uniform", "proportional"):
        data = {**workbench_data(tw), "method_a": method, "method_b": "manual", "compare": "1"}
        r = c.post(url, data, HTTP_HX_REQUEST="true")
        assert r.status_code == 200, (method, r.status_code)


def test_statistics_upload_page_shows_every_problem(setup):
    tw, _ = setup
    c = client_for(tw.world, Role.PROVINCE_ADMIN)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile(
        "bad.csv", b"region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct\nxx,2026,a,1,1\n"
    )
    n = RegionalStatistic.objects.count()
    html = c.post("/targets/statistics/", {"file": bad}).content.decode()
    assert "未知地区" in html and "能源消费量" in html and RegionalStatistic.objects.count() == n
    good = SimpleUploadedFile(
        "good.csv",
        "region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,source\n530100,2024,1,1,5,省统计局\n".encode(),
    )
    assert c.post("/targets/statistics/", {"file": good}).status_code == 302
    assert RegionalStatistic.objects.count() == n + 1


def test_alert_read_only_by_its_recipient(setup):
    tw, _ = setup
    alert = tw.world.users[Role.CITY_OFFICER].target_alerts.first()
    assert alert is not None
    assert (
        client_for(tw.world, "other_city").post(f"/targets/alerts/{alert.pk}/read/").status_code
        == 404
    )
    assert (
        client_for(tw.world, Role.CITY_OFFICER)
        .post(f"/targets/alerts/{alert.pk}/read/")
        .status_code
        == 302
    )
    alert.refresh_from_db()
    assert alert.read_at is not None


def test_letter_printable_and_signing_through_the_page(setup):
    tw, ids = setup
    c = client_for(tw.world, Role.PROVINCE_OFFICER)
    html = c.get(f"/targets/letters/{ids['letter']}/").content.decode()
    assert "目标责任书" in html and "登记签订" in html and "data-print" in html  # platform.js
    c.post(
        f"/targets/letters/{ids['letter']}/sign/",
        {"signed_on": "2026-01-05", "issuer_signatory": "甲", "party_signatory": "乙"},
    )
    assert ResponsibilityLetter.objects.get(pk=ids["letter"]).status == "signed"


def token(client, username):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    from dualcontrol.accounts.models import User

    return api_token(client, User.objects.get(username=username), PASSWORD)


API = {
    "/api/targets/": {P: 403, PA: 3, PO: 3, C: 1, E: 403, V: 403, OC: 1, OE: 403},
    "/api/targets/warnings": {P: 403, PA: 3, PO: 3, C: 1, E: 403, V: 403, OC: 1, OE: 403},
    "/api/targets/alerts": {P: 403, PA: 3, PO: 3, C: 1, E: 403, V: 403, OC: 1, OE: 403},
}


@pytest.mark.parametrize("path", list(API))
@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_lists_are_scoped(setup, path, role_index):
    tw, _ = setup
    c = Client()
    t = token(c, tw.world.users[ROLES[role_index]].username)
    r = c.get(path, HTTP_AUTHORIZATION=f"Bearer {t}")
    expected = API[path][role_index]
    if expected == 403:
        assert r.status_code == 403
    else:
        assert r.status_code == 200 and r.json()["count"] == expected, (path, ROLES[role_index])


def test_api_detail_barometer_and_run(setup):
    tw, ids = setup
    c = Client()
    assert c.get("/api/targets/").status_code == 401
    city = token(c, "city1")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {city}"}
    assert c.get(f"/api/targets/{ids['province']}", **auth).status_code == 404
    detail = c.get(f"/api/targets/{ids['city']}", **auth).json()
    assert detail["base_value"] == 15.0 and detail["division_code"] == "530100"
    assert (
        c.post(
            "/api/targets/warnings/run",
            json.dumps({"year": 2026, "month": 6}),
            content_type="application/json",
            **auth,
        ).status_code
        == 403
    )
    admin = {"HTTP_AUTHORIZATION": f"Bearer {token(c, 'admin1')}"}
    b = c.get("/api/targets/barometer", **admin).json()
    assert b["plan"] == [2025, 2030] and b["period"] == [2026, 6]
    assert {r["code"]: r["warning"]["colour"] for r in b["regions"]} == {
        "530100": "yellow",
        "530300": "red",
    }
    run = c.post(
        "/api/targets/warnings/run",
        json.dumps({"year": 2026, "month": 6}),
        content_type="application/json",
        **admin,
    )
    assert run.status_code == 200 and run.json()["updated"] == 3
    bad = c.post(
        "/api/targets/warnings/run",
        json.dumps({"year": 2026, "month": 13}),
        content_type="application/json",
        **admin,
    )
    assert bad.status_code == 422
    assert WarningRecord.objects.count() == 3
    alert = tw.world.users[Role.PROVINCE_ADMIN].target_alerts.first()
    r = c.post(f"/api/targets/alerts/{alert.pk}/read", **admin)
    assert r.status_code == 200 and r.json()["read_at"] is not None
