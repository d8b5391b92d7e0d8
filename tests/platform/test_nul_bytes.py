"""A NUL character in a query, a form or a JSON body is refused with 400 on every database."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.reporting import services
from tests.auth import api_token, login
from tests.factories import PASSWORD, coal_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(world):
    return services.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=world.users[Role.ENTERPRISE],
        submit=True,
    )


def test_query_and_form_values(world, report):
    c = login(Client(), world.users[Role.CITY_OFFICER])
    assert c.get("/reports/", {"q": "水泥\x00"}).status_code == 400
    r = c.post(f"/reports/{report.pk}/return/", {"reason": "请核实\x00"})
    assert r.status_code == 400 and "U+0000" in r.content.decode()
    report.refresh_from_db()
    assert report.status == "submitted"  # nothing written
    assert c.get("/reports/", {"q": "水泥"}).status_code == 200


def test_json_bodies(world, report):
    c = Client()
    token = api_token(c, world.users[Role.CITY_OFFICER], PASSWORD)
    r = c.post(
        f"/api/reports/{report.pk}/return",
        json.dumps({"reason": "请核实\u0000"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 400 and "U+0000" in r.json()["detail"]
    report.refresh_from_db()
    assert report.status == "submitted"
