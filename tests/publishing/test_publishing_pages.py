"""Public pages and open data (no login) × every role; the province's publishing desk."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.publishing import services
from dualcontrol.publishing.models import Publication, PublicationKind
from tests.assessment.assessment_builders import run_region_round
from tests.auth import login
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
EVERYONE = dict.fromkeys(range(9), 200)
NOBODY = dict.fromkeys(range(9), 404)
PROVINCE_ONLY = {A: 302, P: 403, PA: 200, PO: 200, C: 403, E: 403, V: 403, OC: 403, OE: 403}


@pytest.fixture
def setup(regional):
    world, _ = regional
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = run_region_round(world)
    pubs = services.publish_results(user=admin, round=rnd, published_on=dt.date(2016, 6, 15))
    services.publish_bulletin(user=admin, year=2015, published_on=dt.date(2016, 8, 18))
    # a round that is not signed off (2014) has nothing public
    return world, {p.kind: p.pk for p in pubs}, rnd


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


PAGES = {
    "/public/": EVERYONE,
    "/public/bulletins/": EVERYONE,
    "/public/bulletins/2015/": EVERYONE,
    "/public/bulletins/2015/bulletin.pdf": EVERYONE,
    "/public/bulletins/2015/bulletin.xlsx": EVERYONE,
    "/public/bulletins/2015/bulletin.csv": EVERYONE,
    "/public/bulletins/2014/": NOBODY,
    "/public/bulletins/2014/bulletin.pdf": NOBODY,
    "/public/results/": EVERYONE,
    "/public/results/{grades}/": EVERYONE,
    "/public/results/{grades}/?export=xlsx": EVERYONE,
    "/public/results/{restricted}/?export=pdf": EVERYONE,
    "/public/results/{restricted}/?export=csv": EVERYONE,
    "/public/manage/": PROVINCE_ONLY,
    "/public/manage/preview/2014/": PROVINCE_ONLY,
    "/public/manage/preview/2014/?format=pdf": PROVINCE_ONLY,
    "/api/public/publications": EVERYONE,
    "/api/public/publications?kind=grades&year=2015": EVERYONE,
    "/api/public/publications/{grades}": EVERYONE,
    "/api/public/publications/{grades}/csv": EVERYONE,
    "/api/public/bulletins/2015": EVERYONE,
    "/api/public/bulletins/2015/csv": EVERYONE,
    "/api/public/bulletins/2014": NOBODY,
}


@pytest.mark.parametrize("path", list(PAGES))
def test_pages(setup, path):
    """Each page for each role (one setup per page; the roles in turn)."""
    world, ids, _ = setup
    url = path.format(**ids)
    got = [client_for(world, role).get(url).status_code for role in ROLES]
    assert dict(zip(ROLES, got, strict=True)) == dict(
        zip(ROLES, [PAGES[path][i] for i in range(9)], strict=True)
    )


PUBLISH = {A: 302, P: 403, PA: 302, PO: 302, C: 403, E: 403, V: 403, OC: 403, OE: 403}


def test_publish_action(setup):
    """Publishing for each role, every role on the same starting state (rolled back)."""
    world, _, _rnd = setup
    got, published = [], []
    for role in ROLES:
        with transaction.atomic():
            r = client_for(world, role).post(
                "/public/manage/bulletins/2014/publish/",
                {"published_on": "2015-08-01", "issuers": ""},
            )
            got.append(r.status_code)
            published.append(
                Publication.objects.filter(kind=PublicationKind.BULLETIN, year=2014).exists()
            )
            transaction.set_rollback(True)
    assert got == [PUBLISH[i] for i in range(9)]
    assert published == [role in (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER) for role in ROLES]


def test_public_bulletin_page_shows_the_official_table(setup):
    _world, _, _ = setup
    html = Client().get("/public/bulletins/2015/").content.decode()
    assert "云南省2015年各州（市）万元地区生产总值能耗降低率等指标公报" in html
    assert "全 国" in html and "-3.00" in html and "附注" in html and "全国数据暂缺" in html
    pdf = Client().get("/public/bulletins/2015/bulletin.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    wb = load_workbook(io.BytesIO(Client().get("/public/bulletins/2015/bulletin.xlsx").content))
    assert wb.active["A1"].value.endswith("指标公报")


def test_open_data_serves_only_published_lists(setup):
    world, ids, _rnd = setup
    data = Client().get("/api/public/publications").json()["items"]
    assert {d["kind"] for d in data} == {"bulletin", "grades", "restricted"}
    grades = Client().get(f"/api/public/publications/{ids['grades']}").json()
    rows = [r["cells"] for r in grades["content"]["rows"]]
    assert rows == [["曲靖市", "超额完成"], ["昆明市", "未完成"]]
    csv_text = (
        Client()
        .get(f"/api/public/publications/{ids['restricted']}/csv")
        .content.decode("utf-8-sig")
    )
    assert csv_text.splitlines()[1].startswith("昆明市,暂停对该地区新建高耗能项目的核准和审批")
    assert Client().get("/api/public/publications?kind=nonsense").status_code == 400
    # withdrawn documents disappear from the public pages and the API
    services.withdraw(
        publication=Publication.objects.get(pk=ids["grades"]),
        user=world.users[Role.PROVINCE_ADMIN],
        note="更正",
    )
    assert Client().get(f"/api/public/publications/{ids['grades']}").status_code == 404
    assert Client().get(f"/public/results/{ids['grades']}/").status_code == 404


def test_results_cannot_be_published_before_sign_off(setup):
    world, _, _ = setup
    from dualcontrol.assessment import services as assessment
    from dualcontrol.assessment.models import ScoringSheet

    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = assessment.create_round(
        user=admin, year=2014, sheet=ScoringSheet.objects.get(name="gf-2007-36")
    )
    with pytest.raises(services.PublishError):
        services.publish_results(user=admin, round=rnd, published_on=dt.date(2015, 6, 1))
    r = client_for(world, Role.PROVINCE_ADMIN).post(f"/public/manage/rounds/{rnd.pk}/publish/")
    assert r.status_code == 302 and not Publication.objects.filter(round=rnd).exists()
