"""Every monitoring page and endpoint × every role: allowed, refused, and scoped.

Province staff see every outlet, a city officer its region's, an enterprise its own unit's, a
verifier its assigned units'; the public nothing.  Configuration: province and city staff, in
scope.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.monitoring import services
from dualcontrol.monitoring.models import Alarm, Outlet, PollutantLimit
from dualcontrol.monitoring.sink import DatabaseSink
from tests.auth import api_token, login
from tests.factories import PASSWORD
from tests.monitoring.helpers import hour_record, make_outlet

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
VIEW = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 200, OE: 200}
OWN = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 200, OC: 404, OE: 404}
CONFIG_NEW = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 200, OE: 403}
CONFIG = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 404, OE: 403}
FILE_SHUTDOWN = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 403, OC: 404, OE: 404}
PAGES = {
    "/monitoring/": VIEW,
    "/monitoring/?export=xlsx": VIEW,
    "/monitoring/?status=offline&kind=water&q=排放口&division=530100&page=2": VIEW,
    "/monitoring/alarms/": VIEW,
    "/monitoring/alarms/?export=xlsx": VIEW,
    "/monitoring/alarms/?kind=abnormal&from=2026-03-01&to=2026-03-31&ongoing=1": VIEW,
    "/monitoring/outlets/{id}/": OWN,
    "/monitoring/outlets/{id}/?month=2026-03&end=2026-03-10&days=7": OWN,
    "/monitoring/outlets/{id}/chart/?end=2026-03-10&days=1": OWN,
    "/monitoring/outlets/new/": CONFIG_NEW,
    "/monitoring/outlets/{id}/edit/": CONFIG,
    "/monitoring/outlets/{id}/limits/new/": CONFIG,
    "/monitoring/outlets/{id}/ranges/new/": CONFIG,
    "/monitoring/alarms/{alarm}/": OWN,
    "/monitoring/alarms/?status=open": VIEW,
    "/monitoring/shutdowns/": VIEW,
    "/monitoring/shutdowns/?export=xlsx": VIEW,
    "/monitoring/shutdowns/?status=filed&q=KM&from=2026-03-01&to=2026-03-31&division=530100": VIEW,
    "/monitoring/outlets/{id}/shutdowns/new/": FILE_SHUTDOWN,
}
DAY = dt.date(2026, 3, 10)
BJ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def setup(world):
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    own = make_outlet(world.unit, mn="KM0001", name="昆明排放口")
    other = make_outlet(world.other_unit, mn="QJ0001", name="曲靖排放口", kind="gas")
    for outlet, code in ((own, "w01018"), (other, "a21026")):
        services.set_limit(
            user=None,
            outlet=outlet,
            code=code,
            limit_value=100,
            unit="mg/L",
            standard="test",
            valid_from=dt.date(2026, 1, 1),
        )
        DatabaseSink().store(
            [
                hour_record(
                    outlet.mn,
                    dt.datetime(2026, 3, 10, h),
                    {code: ("150" if h in (9, 10) else f"{40 + h}", "N")},
                )
                for h in range(20)
            ]
        )
    services.evaluate_alarms(day=DAY, now=dt.datetime(2026, 3, 12, tzinfo=BJ))
    return world, own, other


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(setup, path, role_index):
    world, own, _ = setup
    template = path
    alarm = Alarm.objects.filter(outlet=own).first()
    assert alarm is not None
    path = path.replace("{id}", str(own.pk)).replace("{alarm}", str(alarm.pk))
    response = client_for(world, ROLES[role_index]).get(path)
    assert response.status_code == PAGES[template][role_index], (path, ROLES[role_index])
    if ROLES[role_index] == "anon":
        assert response["Location"].startswith("/accounts/login/")


def _names(response, column):
    wb = load_workbook(io.BytesIO(response.content))
    return sorted(row[column] for row in wb.active.iter_rows(min_row=3, values_only=True))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.PROVINCE_OFFICER, ["KM0001", "QJ0001"]),
        (Role.CITY_OFFICER, ["KM0001"]),
        (Role.ENTERPRISE, ["KM0001"]),
        (Role.VERIFIER, ["KM0001"]),
        ("other_city", ["QJ0001"]),
        ("other_enterprise", ["QJ0001"]),
    ],
)
def test_lists_and_exports_are_scoped(setup, role, expected):
    world, _, _ = setup
    c = client_for(world, role)
    html = c.get("/monitoring/").content.decode()
    for mn in ("KM0001", "QJ0001"):
        assert (mn in html) == (mn in expected)
    assert _names(c.get("/monitoring/?export=xlsx"), 0) == expected
    alarm_mns = sorted(set(_names(c.get("/monitoring/alarms/?export=xlsx"), 4)))
    assert alarm_mns == expected
    alarms_html = c.get("/monitoring/alarms/").content.decode()
    assert all((mn in alarms_html) == (mn in expected) for mn in ("KM0001", "QJ0001"))


def test_outlet_page_shows_data_chart_rates_and_alarms(setup):
    world, own, _ = setup
    c = client_for(world, Role.ENTERPRISE)
    html = c.get(
        f"/monitoring/outlets/{own.pk}/?end=2026-03-10&days=1&month=2026-03"
    ).content.decode()
    assert "KM0001" in html and "vendor/echarts.min.js" in html
    assert 'class="mon-chart"' in html and '"limit": 100.0' in html
    assert "超标" in html and "数据传输有效率" in html
    assert "修改排放口" not in html  # an enterprise does not configure
    fragment = c.get(f"/monitoring/outlets/{own.pk}/chart/?end=2026-03-10&days=1").content.decode()
    assert fragment.startswith('<div id="hourly-charts">') and "<html" not in fragment
    assert (
        "修改排放口"
        in client_for(world, Role.CITY_OFFICER)
        .get(f"/monitoring/outlets/{own.pk}/")
        .content.decode()
    )


def test_unregistered_stations_are_listed_for_the_province_only(setup):
    world, _, _ = setup
    DatabaseSink().store(
        [hour_record("STRAY0001", dt.datetime(2026, 3, 10, 1), {"w01018": ("1", "N")})]
    )
    assert (
        "STRAY0001" in client_for(world, Role.PROVINCE_OFFICER).get("/monitoring/").content.decode()
    )
    for role in (Role.CITY_OFFICER, Role.ENTERPRISE):
        assert "STRAY0001" not in client_for(world, role).get("/monitoring/").content.decode()


def test_configuration_through_the_pages(setup):
    world, own, _ = setup
    city = client_for(world, Role.CITY_OFFICER)
    form = {
        "entity": world.unit.pk,
        "mn": "KM0002",
        "name": "2号排放口",
        "kind": "gas",
        "permit_number": "",
        "active": "on",
        "station_password": "km0002",
    }
    # the station password (PW) is required when registering: without it no data is accepted
    r = city.post("/monitoring/outlets/new/", {**form, "station_password": ""})
    assert r.status_code == 200 and not Outlet.objects.filter(mn="KM0002").exists()
    r = city.post("/monitoring/outlets/new/", form)
    assert r.status_code == 302
    new = Outlet.objects.get(mn="KM0002")
    assert new.station_password == "km0002"
    assert r["Location"] == f"/monitoring/outlets/{new.pk}/"
    empty = city.get(r["Location"]).content.decode()  # no data, no limits yet
    assert "尚未收到该排放口的数据" in empty and "未收到数据" in empty
    # a unit outside the city's region is not a choice; a taken MN is refused with a message
    r = city.post("/monitoring/outlets/new/", {**form, "entity": world.other_unit.pk, "mn": "X9"})
    assert r.status_code == 200 and not Outlet.objects.filter(mn="X9").exists()
    r = city.post("/monitoring/outlets/new/", {**form, "mn": "KM0001"})
    assert r.status_code == 200 and "已登记" in r.content.decode()
    r = city.post(
        f"/monitoring/outlets/{own.pk}/limits/new/",
        {
            "code": "w21003",
            "cn": "2061",
            "field": "Avg",
            "limit_value": "15",
            "unit": "mg/L",
            "standard": "GB 8978-1996",
            "valid_from": "2026-01-01",
        },
    )
    assert (
        r.status_code == 302 and PollutantLimit.objects.filter(outlet=own, code="w21003").exists()
    )
    r = city.post(
        f"/monitoring/outlets/{own.pk}/ranges/new/",
        {"code": "w21003", "low": "0", "high": "5", "unit": "mg/L"},
    )
    assert r.status_code == 302 and own.ranges.get(code="w21003").high == 5
    r = city.post(f"/monitoring/outlets/{own.pk}/edit/", {**form, "mn": "KM0001", "name": "改名"})
    assert r.status_code == 302
    own.refresh_from_db()
    assert own.name == "改名" and own.kind == "gas"
    # refused roles change nothing
    for role in (Role.ENTERPRISE, Role.VERIFIER, "other_enterprise"):
        r = client_for(world, role).post(
            f"/monitoring/outlets/{own.pk}/edit/", {**form, "name": "x"}
        )
        assert r.status_code == 403
    assert (
        client_for(world, "other_city")
        .post(f"/monitoring/outlets/{own.pk}/limits/new/", {})
        .status_code
        == 404
    )


def token(client, username):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    from dualcontrol.accounts.models import User

    return api_token(client, User.objects.get(username=username), PASSWORD)


API_COUNTS = {
    "/api/monitoring/outlets": {P: 0, PA: 2, PO: 2, C: 1, E: 1, V: 1, OC: 1, OE: 1},
    "/api/monitoring/alarms?kind=exceedance": {P: 0, PA: 2, PO: 2, C: 1, E: 1, V: 1, OC: 1, OE: 1},
}


@pytest.mark.parametrize("path", list(API_COUNTS))
@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_lists_are_scoped(setup, path, role_index):
    world, _, _ = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    r = c.get(path, HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == 200
    assert r.json()["count"] == API_COUNTS[path][role_index]


@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_outlet_detail_and_values_are_scoped(setup, role_index):
    world, own, _ = setup
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token(c, world.users[ROLES[role_index]].username)}"}
    expected = OWN[role_index] if role_index != P else 404
    r = c.get(f"/api/monitoring/outlets/{own.pk}?month=2026-03", **auth)
    assert r.status_code == expected
    values = c.get(f"/api/monitoring/outlets/{own.pk}/hourly?start=2026-03-10", **auth)
    assert values.status_code == expected
    if expected == 200:
        body = r.json()
        assert body["mn"] == "KM0001" and body["limits"][0]["code"] == "w01018"
        assert body["effective_line_pct"] == 90.0
        day = next(d for d in body["rates"] if d["day"] == "2026-03-10")
        assert (day["expected"], day["received"]) == (24, 20)
        assert len(values.json()) == 20


def test_api_needs_authentication(setup):
    assert Client().get("/api/monitoring/outlets").status_code == 401
    assert Alarm.objects.count() >= 2


def test_admin_pages_show_monitoring_tables(setup):
    world, own, _ = setup
    c = client_for(world, Role.SYSTEM_ADMIN)
    for path in (
        "/admin/monitoring/outlet/",
        f"/admin/monitoring/outlet/{own.pk}/change/",
        "/admin/monitoring/pollutantlimit/",
        "/admin/monitoring/analyserrange/",
        "/admin/monitoring/alarm/",
        "/admin/monitoring/station/",
    ):
        assert c.get(path).status_code == 200, path
    assert c.get("/admin/monitoring/outlet/add/").status_code == 403
    assert client_for(world, Role.CITY_OFFICER).get("/admin/monitoring/outlet/").status_code == 302
