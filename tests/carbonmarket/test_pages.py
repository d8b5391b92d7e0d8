"""Every carbon-market page, export and API endpoint × every role: allowed, refused and scoped.

Province staff see and manage everything; a city officer reads its region's units; an enterprise
its own unit (and files, surrenders, asks transfers); a verifier its assignments; the public only
the published compliance table.
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.carbonmarket.models import EmissionReport, LedgerTransaction, PendingRequest
from tests.auth import login
from tests.carbonmarket.helpers import market
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
L = 302  # anon → login
VIEW = [L, 403, 200, 200, 200, 200, 200, 200, 200]
HOME = [L, 403, 200, 200, 200, 302, 302, 200, 302]
OWN_UNIT = [L, 403, 200, 200, 200, 200, 200, 404, 404]
OWN_REPORT = [L, 403, 200, 200, 200, 200, 200, 404, 404]
FILE = [L, 403, 403, 403, 403, 200, 403, 403, 200]
MANAGE = [L, 403, 200, 200, 403, 403, 403, 403, 403]
LATEST = [L, 403, 302, 302, 302, 302, 302, 302, 302]
PUBLIC = [200] * 9
PAGES = {
    "/carbon-market/": HOME,
    "/carbon-market/?year=2025": HOME,
    "/carbon-market/emitters/?year=2025": VIEW,
    "/carbon-market/emitters/?year=2025&sector=steel&export=xlsx": VIEW,
    "/carbon-market/units/{unit}/": OWN_UNIT,
    "/carbon-market/units/{unit}/?export=xlsx": OWN_UNIT,
    "/carbon-market/reports/": VIEW,
    "/carbon-market/reports/?year=2025&status=accepted&export=xlsx": VIEW,
    "/carbon-market/reports/{report}/": OWN_REPORT,
    "/carbon-market/reports/edit/?year=2026": FILE,
    "/carbon-market/allocation/?year=2025": MANAGE,
    "/carbon-market/allocation/?year=2025&export=xlsx": MANAGE,
    "/carbon-market/compliance/": LATEST,
    "/carbon-market/compliance/2025/": VIEW,
    "/carbon-market/compliance/2025/?export=xlsx": VIEW,
    "/carbon-market/ledger/": MANAGE,
    "/carbon-market/ledger/?verify=1&type=allocate&page=2": MANAGE,
    "/carbon-market/ledger/?export=xlsx": MANAGE,
    "/carbon-market/ledger/{seq}/correct/": MANAGE,
    "/carbon-market/public/": PUBLIC,
    "/carbon-market/public/2025/": PUBLIC,
    "/carbon-market/public/2025/?export=xlsx": PUBLIC,
    # API
    "/api/carbon-market/emitters?year=2025": VIEW,
    "/api/carbon-market/reports": VIEW,
    "/api/carbon-market/reports/{report}": OWN_REPORT,
    "/api/carbon-market/accounts": VIEW,
    "/api/carbon-market/compliance/2025": VIEW,
    "/api/carbon-market/ledger/transactions": MANAGE,
    "/api/carbon-market/ledger/verify": MANAGE,
    "/api/carbon-market/allocations?year=2025": MANAGE,
}
API_ANON = 401


@pytest.fixture
def m():
    mk = market()
    mk.w.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    return mk


def client_for(m, role):
    c = Client()
    if role != "anon":
        login(c, m.w.users[role])
    return c


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_every_page_for_every_role(m, role_index):
    role = ROLES[role_index]
    c = client_for(m, role)
    seq = LedgerTransaction.objects.order_by("seq").first().seq
    wrong = []
    for path, expected in PAGES.items():
        url = (
            path.replace("{unit}", str(m.w.unit.pk))
            .replace("{report}", str(m.report.pk))
            .replace("{seq}", str(seq))
        )
        want = expected[role_index]
        if url.startswith("/api/") and role == "anon":
            want = API_ANON
        r = c.get(url)
        if r.status_code != want:
            wrong.append((url, r.status_code, want))
        elif want == 200 and "export=xlsx" in url:
            load_workbook(io.BytesIO(r.content))  # a real workbook
    assert not wrong, (role, wrong)


def test_scoping_of_lists(m):
    city = client_for(m, "other_city")  # 曲靖: sees the steel unit only
    data = city.get("/api/carbon-market/emitters?year=2025").json()
    assert [i["unit_name"] for i in data["items"]] == [m.w.other_unit.name]
    ent = client_for(m, Role.ENTERPRISE)
    accounts = ent.get("/api/carbon-market/accounts").json()
    assert [a["code"] for a in accounts["items"]] == [m.account.code]
    assert accounts["items"][0]["balances"] == {"CEA": 29000, "CCER": 5000}
    page = ent.get(f"/carbon-market/units/{m.w.other_unit.pk}/")
    assert page.status_code == 404
    verifier = client_for(m, Role.VERIFIER)
    reports = verifier.get("/api/carbon-market/reports").json()
    assert {r["id"] for r in reports["items"]} == set(
        EmissionReport.objects.values_list("pk", flat=True)
    )  # assigned to both in the helper


def test_surrender_and_transfer_through_the_pages_and_the_api(m):
    ent = client_for(m, Role.ENTERPRISE)
    url = f"/carbon-market/units/{m.w.unit.pk}/"
    r = ent.post(
        url,
        {
            "action": "surrender",
            "s-year": 2025,
            "s-unit_type": "CCER",
            "s-vintage": 2025,
            "s-amount": 1501,
        },
        follow=True,
    )
    assert "超过抵销上限" in r.content.decode()
    r = ent.post(
        "/api/carbon-market/surrender",
        json.dumps({"year": 2025, "unit_type": "CEA", "vintage": 2025, "amount": 100}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "applied"
    r = ent.post(
        "/api/carbon-market/transfers",
        json.dumps(
            {"to_account": m.other_account.code, "unit_type": "CEA", "vintage": 2025, "amount": 10}
        ),
        content_type="application/json",
    )
    assert r.json()["status"] == "pending"
    pending = PendingRequest.objects.get()
    officer = client_for(m, Role.PROVINCE_OFFICER)
    r = officer.post(
        f"/api/carbon-market/pending/{pending.pk}",
        json.dumps({"approve": True}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    # the wrong roles cannot post
    admin = client_for(m, Role.PROVINCE_ADMIN)
    r = admin.post(
        url,
        {
            "action": "surrender",
            "s-year": 2025,
            "s-unit_type": "CEA",
            "s-vintage": 2025,
            "s-amount": 1,
        },
    )
    assert r.status_code == 403
    city = client_for(m, Role.CITY_OFFICER)
    assert city.post("/carbon-market/emitters/?year=2025", {"action": "publish"}).status_code == 403
    r = city.post(
        f"/api/carbon-market/pending/{pending.pk}",
        json.dumps({"approve": True}),
        content_type="application/json",
    )
    assert r.status_code == 403


def test_public_table_lists_only_published_emitters_and_no_login(m):
    r = Client().get("/carbon-market/public/2025/")
    text = r.content.decode()
    assert m.w.unit.name in text and m.w.other_unit.name in text
    assert "未足额清缴" in text or "未完成" in text
    assert Client().get("/carbon-market/public/2031/").status_code == 404
