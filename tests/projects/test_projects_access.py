"""Every project page and endpoint × every role: allowed, refused, and scoped.

Province staff see every project, a city officer its region's, an enterprise its own unit's, a
verifier its assigned units'; the public nothing.  Registration, editing and verification: province
and city staff in scope; progress and evidence: those and the project's unit.  The ledger: staff.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.projects.models import Status
from tests.auth import api_token, login
from tests.factories import PASSWORD
from tests.projects.helpers import annual_rows, completed, pdf, project, verified

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
MANAGE = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 404, OE: 403}
REPORT = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 200, V: 403, OC: 404, OE: 404}
NEW = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 200, OE: 403}
STAFF = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 200, OE: 403}
KUNMING_LEDGER = {A: 302, P: 403, PA: 200, PO: 200, C: 200, E: 403, V: 403, OC: 404, OE: 403}
PAGES = {
    "/projects/": VIEW,
    "/projects/?export=xlsx": VIEW,
    "/projects/?q=测试&kind=key_reduction&type=water_rural_sewage&status=verified&division=530100&pollutant=cod&year=2025&late=1&page=2": VIEW,
    "/projects/{id}/": OWN,
    "/projects/{id}/edit/": MANAGE,
    "/projects/{id}/verify/": MANAGE,
    "/projects/{id}/evidence/new/": REPORT,
    "/projects/evidence/{evidence}/": OWN,
    "/projects/new/": NEW,
    "/projects/ledger/": STAFF,
    "/projects/ledger/?export=xlsx": STAFF,
    "/projects/ledger/?pollutant=NH3-N&year=2025": STAFF,
    "/projects/ledger/?region=530100&pollutant=nox&year=2024": KUNMING_LEDGER,
    "/projects/ledger/530100/": KUNMING_LEDGER,
    "/projects/ledger/530100/?pollutant=vocs&year=2025&export=xlsx": KUNMING_LEDGER,
    "/projects/alerts/": VIEW,
    "/projects/alerts/?unread=1&export=xlsx": VIEW,
}


@pytest.fixture
def setup(world):
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    annual_rows()
    own = verified(figures={"cod": "100"}, entity=world.unit, name="昆明测试项目")
    waiting = completed(entity=world.unit, name="昆明待核查项目")
    planned = project(
        entity=world.unit,
        name="昆明计划项目",
        start=dt.date(2026, 1, 1),
        finish=dt.date(2026, 12, 1),
    )
    other = verified(
        figures={"cod": "50"}, entity=world.other_unit, division_code="530302", name="曲靖测试项目"
    )
    return world, own, waiting, planned, other


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(setup, path, role_index):
    world, own, *_ = setup
    evidence = own.evidence.first()
    url = path.replace("{id}", str(own.pk)).replace("{evidence}", str(evidence.pk))
    response = client_for(world, ROLES[role_index]).get(url)
    response.close()  # a file download is streamed from an open file
    assert response.status_code == PAGES[path][role_index], (url, ROLES[role_index])
    if ROLES[role_index] == "anon":
        assert response["Location"].startswith("/accounts/login/")


VERIFY_POST = {A: 302, P: 403, PA: 302, PO: 302, C: 302, E: 403, V: 403, OC: 404, OE: 403}
START_POST = {A: 302, P: 403, PA: 302, PO: 302, C: 302, E: 302, V: 403, OC: 404, OE: 404}


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_verify_action(setup, role_index):
    world, _own, waiting, _planned, _other = setup
    role = ROLES[role_index]
    response = client_for(world, role).post(
        f"/projects/{waiting.pk}/verify/",
        {"action": "verify", "verified_cod": "90", "verified_nh3n": "9", "accounting_year": ""},
    )
    assert response.status_code == VERIFY_POST[role_index], role
    waiting.refresh_from_db()
    allowed = role in {Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER}
    assert (waiting.status == Status.VERIFIED) is allowed


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_start_action(setup, role_index):
    world, _own, _waiting, planned, _other = setup
    role = ROLES[role_index]
    response = client_for(world, role).post(
        f"/projects/{planned.pk}/progress/", {"action": "start", "day": "2026-01-05"}
    )
    assert response.status_code == START_POST[role_index], role
    planned.refresh_from_db()
    allowed = role in {
        Role.PROVINCE_ADMIN,
        Role.PROVINCE_OFFICER,
        Role.CITY_OFFICER,
        Role.ENTERPRISE,
    }
    assert (planned.status == Status.CONSTRUCTION) is allowed


def test_list_and_export_are_scoped(setup):
    world, *_ = setup
    names = {
        role: [
            r[1]
            for r in load_workbook(
                io.BytesIO(client_for(world, role).get("/projects/?export=xlsx").content)
            ).active.iter_rows(min_row=3, values_only=True)
        ]
        for role in (
            Role.PROVINCE_OFFICER,
            Role.CITY_OFFICER,
            Role.ENTERPRISE,
            "other_city",
            Role.VERIFIER,
        )
    }
    assert sorted(names[Role.PROVINCE_OFFICER]) == sorted(
        ["昆明测试项目", "昆明待核查项目", "昆明计划项目", "曲靖测试项目"]
    )
    assert sorted(names[Role.CITY_OFFICER]) == sorted(
        ["昆明测试项目", "昆明待核查项目", "昆明计划项目"]
    )
    assert names[Role.ENTERPRISE] == names[Role.VERIFIER] == names[Role.CITY_OFFICER]
    assert names["other_city"] == ["曲靖测试项目"]
    # htmx swaps only the table
    c = client_for(world, Role.CITY_OFFICER)
    part = c.get("/projects/?status=verified", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and "昆明测试项目" in part and "昆明计划项目" not in part


def test_two_clicks_from_the_ledger(setup):
    """Province officer: menu → ledger; region → its COD projects and the late ones."""
    world, own, *_ = setup
    late = project(
        entity=world.unit,
        name="昆明滞后项目",
        start=dt.date(2025, 1, 1),
        finish=dt.date(2025, 6, 1),
    )
    c = client_for(world, Role.PROVINCE_OFFICER)
    home = c.get("/").content.decode()
    assert 'href="/projects/ledger/"' in home
    ledger = c.get("/projects/ledger/").content.decode()
    link = "/projects/ledger/530100/?pollutant=cod&year=2025"
    assert link in ledger
    page = c.get(link).content.decode()
    assert "昆明测试项目" in page and "昆明滞后项目" in page and "曲靖测试项目" not in page
    assert f'href="/projects/{late.pk}/"' in page and f'href="/projects/{own.pk}/"' in page


def test_evidence_upload_page(setup):
    world, _own, _waiting, planned, _other = setup
    c = client_for(world, Role.ENTERPRISE)
    r = c.post(
        f"/projects/{planned.pk}/evidence/new/",
        {"kind": "acceptance", "document": pdf("验收报告.pdf"), "note": "验收"},
    )
    assert r.status_code == 302
    assert planned.evidence.get().document_name == "验收报告.pdf"
    bad = c.post(
        f"/projects/{planned.pk}/evidence/new/",
        {"kind": "acceptance", "document": pdf("x.exe")},
    )
    assert bad.status_code == 200 and "不接受" in bad.content.decode()


def token(client, username):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    from dualcontrol.accounts.models import User

    return api_token(client, User.objects.get(username=username), PASSWORD)


API_COUNT = {P: 0, PA: 4, PO: 4, C: 3, E: 3, V: 3, OC: 1, OE: 1}


@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_list_is_scoped(setup, role_index):
    world, *_ = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    r = c.get("/api/projects/", HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == 200
    assert r.json()["count"] == API_COUNT[role_index]
    late = c.get("/api/projects/?late=true&pollutant=COD", HTTP_AUTHORIZATION=f"Bearer {t}")
    assert late.status_code == 200


@pytest.mark.parametrize(
    ("role_index", "status"),
    [(P, 404), (PA, 200), (PO, 200), (C, 200), (E, 200), (V, 200), (OC, 404), (OE, 404)],
)
def test_api_detail_is_scoped(setup, role_index, status):
    world, own, *_ = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    r = c.get(f"/api/projects/{own.pk}", HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == status
    if status == 200:
        data = r.json()
        assert data["status"] == "verified" and data["accounting_year"] == 2025
        assert {f["measure"]: f["verified"] for f in data["figures"]}["cod"] == 100.0
        assert data["missing_evidence"] == [] and len(data["verifications"]) == 1


@pytest.mark.parametrize(
    ("role_index", "status", "total"),
    [
        (P, 403, None),
        (PA, 200, 150.0),
        (PO, 200, 150.0),
        (C, 200, 100.0),
        (E, 403, None),
        (V, 403, None),
        (OC, 200, 50.0),
        (OE, 403, None),
    ],
)
def test_api_ledger_is_scoped(setup, role_index, status, total):
    world, *_ = setup
    c = Client()
    t = token(c, world.users[ROLES[role_index]].username)
    r = c.get("/api/projects/ledger?pollutant=COD&year=2025", HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == status
    if total is not None:
        assert r.json()["total"] == total
    if ROLES[role_index] == Role.CITY_OFFICER:
        other = c.get("/api/projects/ledger?region=530300", HTTP_AUTHORIZATION=f"Bearer {t}")
        assert other.status_code == 404
        bad = c.get("/api/projects/ledger?pollutant=SO3", HTTP_AUTHORIZATION=f"Bearer {t}")
        assert bad.status_code == 422


def test_openapi_lists_the_endpoints(setup):
    spec = Client().get("/api/openapi.json").json()
    assert {"/api/projects/", "/api/projects/ledger", "/api/projects/{project_id}"} <= set(
        spec["paths"]
    )
