"""Designations and the province's lists through the REST API: the registry pages' services,
rule ``keyunits.designate`` and audit."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.keyunits.models import Designation, PublishedList
from tests.auth import api_client

pytestmark = pytest.mark.django_db
YEAR = 2025


_client = api_client


def _post(c: Client, path: str, body: dict):
    return c.post(path, json.dumps(body), content_type="application/json")


def test_propose_decide_and_publish(world):
    world.unit.annual_energy_tce = Decimal("6000")
    world.unit.save()
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    city = _client(world.users[Role.CITY_OFFICER])
    assert _post(city, "/api/key-units/designations/propose", {"year": YEAR}).status_code == 403
    r = _post(officer, "/api/key-units/designations/propose", {"year": YEAR})
    assert r.status_code == 200, r.content
    assert r.json()["proposed"] == 1
    assert AuditEntry.objects.filter(action="keyunits.propose").count() == 1
    d = Designation.objects.get(entity=world.unit, year=YEAR)
    path = f"/api/key-units/designations/{d.pk}/decide"
    assert _post(city, path, {"action": "confirm"}).status_code == 403
    bad = _post(officer, path, {"action": "remove", "reason": " "})
    assert bad.status_code == 422 and bad.json()["problems"]
    assert _post(officer, path, {"action": "nope"}).status_code == 422
    r = _post(officer, path, {"action": "confirm"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert AuditEntry.objects.filter(action="keyunits.confirm", object_id=str(d.pk)).exists()
    r = _post(officer, "/api/key-units/lists/designations/publish", {"year": YEAR})
    assert r.status_code == 201, r.content
    assert r.json()["rows"] == 1
    assert PublishedList.objects.filter(kind="designations", year=YEAR).exists()
    assert AuditEntry.objects.filter(action="keyunits.publish").count() == 1
    assert (
        _post(city, "/api/key-units/lists/designations/publish", {"year": YEAR}).status_code == 403
    )
    assert _post(officer, "/api/key-units/lists/nope/publish", {"year": YEAR}).status_code == 404


def test_compute(world):
    officer = _client(world.users[Role.PROVINCE_OFFICER])
    r = _post(officer, "/api/key-units/compute", {"what": "grades", "year": YEAR})
    assert r.status_code == 200 and r.json()["count"] == 0
    bad = _post(officer, "/api/key-units/compute", {"what": "nope", "year": YEAR})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "what"
    city = _client(world.users[Role.CITY_OFFICER])
    assert (
        _post(city, "/api/key-units/compute", {"what": "grades", "year": YEAR}).status_code == 403
    )
