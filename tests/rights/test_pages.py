"""Every rights page, export and API list × every role: allowed, refused and scoped."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.rights import services
from dualcontrol.rights.views import _places
from tests.auth import login
from tests.factories import PASSWORD
from tests.rights.helpers import YEAR, balance, rights

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
L = 302
VIEW = [L, 403, 200, 200, 200, 200, 200, 200, 200]
OWN = [L, 403, 200, 200, 200, 200, 200, 404, 404]  # the unit's account (verifier: assigned)
PERSON = [L, 403, 200, 200, 200, 404, 404, 404, 404]
PUBLIC = [200] * 9
PAGES = {
    "/rights/": VIEW,
    "/rights/?kind=unit&export=xlsx": VIEW,
    "/rights/holders/{unit}/": OWN,
    "/rights/holders/{person}/": PERSON,
    f"/rights/energy/?year={YEAR}": VIEW,
    f"/rights/energy/?year={YEAR}&export=xlsx": VIEW,
    f"/rights/emissions/?year={YEAR}": VIEW,
    f"/rights/emissions/?year={YEAR}&export=xlsx": VIEW,
    f"/rights/certificates/?year={YEAR}": VIEW,
    f"/rights/certificates/?year={YEAR}&export=xlsx": VIEW,
    "/rights/credits/": VIEW,
    "/rights/credits/?export=xlsx": VIEW,
    "/rights/market/": VIEW,
    "/rights/market/?unit_type=EUR&export=xlsx": VIEW,
    "/rights/public/": PUBLIC,
    "/rights/public/?export=xlsx": PUBLIC,
    "/api/rights/holders": VIEW,
    "/api/rights/listings": VIEW,
    "/api/rights/trades": VIEW,
    "/api/rights/permits": VIEW,
    "/api/rights/prices": VIEW,
}


@pytest.fixture
def r():
    made = rights()
    made.w.users[Role.PUBLIC] = User.objects.create_user(
        "pub1", password=PASSWORD, role=Role.PUBLIC
    )
    return made


def client_for(r, role):
    c = Client()
    if role != "anon":
        login(c, r.w.users[role])
    return c


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_every_page_for_every_role(r, role_index):
    role = ROLES[role_index]
    c = client_for(r, role)
    wrong = []
    for path, expected in PAGES.items():
        url = path.replace("{unit}", str(r.unit.pk)).replace("{person}", str(r.person.pk))
        want = expected[role_index]
        if url.startswith("/api/") and role == "anon":
            want = 401
        got = c.get(url)
        if got.status_code != want:
            wrong.append((url, got.status_code, want))
        elif want == 200 and "export=xlsx" in url:
            load_workbook(io.BytesIO(got.content))
    assert not wrong, (role, wrong)


def test_scoping_of_the_api(r):
    ent = client_for(r, Role.ENTERPRISE)
    items = ent.get("/api/rights/holders").json()["items"]
    assert [i["account"] for i in items] == [r.unit.account.code]
    assert items[0]["balances"]["EUR"] == 5000
    city2 = client_for(r, "other_city")
    # its region's government account and its units, nothing of 昆明
    assert [i["account"] for i in city2.get("/api/rights/holders").json()["items"]] == [
        "GOV-RT-530300",
        r.other.account.code,
    ]
    assert city2.get("/api/rights/permits").json()["items"] == []
    province = client_for(r, Role.PROVINCE_ADMIN).get("/api/rights/holders").json()
    assert province["count"] >= 4  # units, person, region accounts, certificate registry


def test_writes_are_refused_for_the_wrong_roles(r):
    city = client_for(r, Role.CITY_OFFICER)
    assert city.post(f"/rights/energy/?year={YEAR}", {"action": "budget"}).status_code == 403
    ent2 = client_for(r, "other_enterprise")
    assert ent2.post(f"/rights/holders/{r.unit.pk}/", {"action": "cancel"}).status_code == 404
    pub = client_for(r, Role.PUBLIC)
    assert pub.post("/rights/market/", {"action": "post"}).status_code == 403


def test_the_board_through_the_pages_and_the_api(r):
    ent, ent2 = client_for(r, Role.ENTERPRISE), client_for(r, "other_enterprise")
    officer = client_for(r, Role.PROVINCE_OFFICER)
    services.unit_holder(r.w.other_unit)
    resp = ent.post(
        "/rights/market/",
        {
            "action": "trade",
            "listing": r.offer.pk,
            "counterparty": r.other.account.code,
            "quantity": "50",
        },
        follow=True,
    )
    assert "已提交成交申请" in resp.content.decode()
    trade = r.offer.trades.get()
    resp = ent2.post(f"/api/rights/trades/{trade.pk}/accept")
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"
    officer.post("/rights/market/", {"action": "approve", "trade": trade.pk})
    trade.refresh_from_db()
    assert trade.status == "executed"
    assert balance(r.other, "EUR") == 3050
    prices = ent.get("/api/rights/prices").json()["rows"]
    assert prices[0]["unit_type"] == "EUR" and prices[0]["average"] == 150
    public = Client().get("/rights/public/").content.decode()
    assert "150" in public
    bad = ent.post(
        "/api/rights/listings",
        json.dumps({"side": "offer", "unit_type": "PHP", "quantity": 1, "price_yuan": 1}),
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_certificate_cancellation_on_the_unit_page(r):
    ent = client_for(r, Role.ENTERPRISE)
    resp = ent.post(
        f"/rights/holders/{r.unit.pk}/",
        {"action": "cancel", "vintage": YEAR, "year": YEAR, "amount": "100"},
        follow=True,
    )
    assert "绿证已注销" in resp.content.decode()
    assert balance(r.unit, "GEC") == 900
    page = ent.get(f"/rights/certificates/?year={YEAR}").content.decode()
    assert r.w.unit.name in page


def test_credits_export_is_an_excel_file(r):
    resp = client_for(r, Role.PROVINCE_OFFICER).get("/rights/credits/?export=xlsx")
    assert resp.status_code == 200
    assert "spreadsheetml" in resp["Content-Type"]
    sheet = load_workbook(io.BytesIO(resp.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "账户")
    assert rows[header][:5] == ("账户", "名称", "类型", "地区", "积分余额（分）")


def test_unit_types_named_in_chinese_with_their_own_decimals(r):
    import re

    c = client_for(r, Role.PROVINCE_OFFICER)
    home = c.get("/rights/").content.decode()
    for name in ("EUR 用能权（tce）", "EMR-SO2 排污权（二氧化硫）（t）", "PHP 碳普惠积分（分）"):
        assert name in home
    # each unit type with its own decimals (EUR 2, EMR 3): a balance of 1000.5 EUR reads 1000.50
    assert _places("EUR") == "2g" and _places("EMR-SO2") == "3g" and _places("PHP") == "0g"
    credits = c.get("/rights/credits/").content.decode()
    assert "carbon_market.yaml counts_toward" not in re.sub(r'title="[^"]*"', "", credits)
    assert "现行不可用于抵销清缴义务" in credits
    market = c.get("/rights/market/").content.decode()
    assert "EUR 用能权" in market
    holder = c.get(f"/rights/holders/{r.unit.pk}/").content.decode()
    assert '<option value="EUR">EUR 用能权</option>' in holder
