"""The unit's manual monthly entries and gap explanations through the REST API: the pages'
services (``enter_manual``, ``explain_gap``), their rules and audit."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from metering_world import build

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.metering.models import GapExplanation, Reading
from tests.auth import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def mw(world):
    return build(world)


_client = api_client


def _post(c: Client, path: str, body: dict):
    return c.post(path, json.dumps(body), content_type="application/json")


def test_manual_entry(mw):
    ent = _client(mw.user(Role.ENTERPRISE))
    path = f"/api/metering/units/{mw.unit.uscc}/manual"
    item = mw.items["elec_month"].code
    r = _post(ent, path, {"item": item, "month": "2026-04", "value": 2880.0})
    assert r.status_code == 201, r.content
    assert Reading.objects.filter(item=mw.items["elec_month"]).count() == 1
    assert AuditEntry.objects.filter(action="metering.ingest").exists()
    bad = _post(ent, path, {"item": "nope", "month": "04/2026", "value": 1.0})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {"item", "month"}
    city = _client(mw.user(Role.CITY_OFFICER))
    assert _post(city, path, {"item": item, "month": "2026-03", "value": 1.0}).status_code == 403
    assert Reading.objects.filter(item=mw.items["elec_month"]).count() == 1


def test_gap_explanation(mw):
    ent = _client(mw.user(Role.ENTERPRISE))
    path = f"/api/metering/units/{mw.unit.uscc}/reconciliation/explanations"
    body = {"month": "2026-04", "product_code": "01", "text": "月末进厂煤尚在料场"}
    r = _post(ent, path, body)
    assert r.status_code == 200, r.content
    assert GapExplanation.objects.get(entity=mw.unit).text == "月末进厂煤尚在料场"
    assert AuditEntry.objects.filter(action="metering.gap.explain").count() == 1
    assert _post(ent, path, {**body, "text": " "}).status_code == 422
    assert _post(ent, path, {**body, "month": "x"}).status_code == 422
    city = _client(mw.user(Role.CITY_OFFICER))
    assert _post(city, path, body).status_code == 403
