"""The outlet registry (outlets, limits, analyser ranges) through the REST API: the pages'
services, rule ``monitoring.manage`` and audit; every problem of a refused request listed (422)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.monitoring.models import AnalyserRange, Outlet, PollutantLimit
from tests.auth import api_client
from tests.monitoring.helpers import make_outlet

pytestmark = pytest.mark.django_db


_client = api_client


def _send(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


NEW = {"mn": "API000001", "name": "1号废水排放口", "kind": "water", "station_password": "123456"}


def test_register_an_outlet(world):
    city = _client(world.users[Role.CITY_OFFICER])
    r = _send(city, "/api/monitoring/outlets", {**NEW, "unit": world.unit.uscc})
    assert r.status_code == 201, r.content
    outlet = Outlet.objects.get(mn="API000001")
    assert outlet.entity == world.unit and outlet.station_password == "123456"
    assert AuditEntry.objects.filter(
        action="monitoring.outlet.create", object_id=str(outlet.pk)
    ).exists()


def test_register_refused_by_rule_and_scope(world):
    r = _send(
        _client(world.users[Role.ENTERPRISE]),
        "/api/monitoring/outlets",
        {**NEW, "unit": world.unit.uscc},
    )
    assert r.status_code == 403
    # another city's officer: the unit is outside its scope
    r = _send(
        _client(world.users["other_city"]),
        "/api/monitoring/outlets",
        {**NEW, "unit": world.unit.uscc},
    )
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "unit"
    assert not Outlet.objects.exists()


def test_register_lists_every_bad_field(world):
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    r = _send(
        admin,
        "/api/monitoring/outlets",
        {
            "unit": world.unit.uscc,
            "mn": "bad mn!",
            "name": " ",
            "kind": "air?",
            "station_password": "a;b",
            "permit_number": "x",
        },
    )
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {
        "mn",
        "name",
        "kind",
        "station_password",
        "permit_number",
    }
    assert not Outlet.objects.exists()


def test_edit_outlet_limits_and_ranges(world):
    outlet = make_outlet(world.unit, mn="API000002")
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    r = _send(
        admin, f"/api/monitoring/outlets/{outlet.pk}", {"name": "总排口", "active": False}, "patch"
    )
    assert r.status_code == 200, r.content
    outlet.refresh_from_db()
    assert outlet.name == "总排口" and not outlet.active
    assert AuditEntry.objects.filter(action="monitoring.outlet.update").count() == 1
    assert (
        _send(admin, f"/api/monitoring/outlets/{outlet.pk}", {"kind": "x"}, "patch").status_code
        == 422
    )

    limit = {
        "code": "w01018",
        "limit_value": "50",
        "unit": "mg/L",
        "standard": "GB 8978-1996",
        "valid_from": "2026-01-01",
    }
    r = _send(admin, f"/api/monitoring/outlets/{outlet.pk}/limits", limit)
    assert r.status_code == 201, r.content
    assert PollutantLimit.objects.filter(outlet=outlet, code="w01018").count() == 1
    assert AuditEntry.objects.filter(action="monitoring.limit.set").count() == 1
    bad = _send(
        admin,
        f"/api/monitoring/outlets/{outlet.pk}/limits",
        {**limit, "limit_value": "-1", "unit": "", "standard": "", "valid_to": "2025-01-01"},
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == {
        "limit_value",
        "unit",
        "standard",
        "valid_to",
    }

    rng = {"code": "w01018", "low": 0, "high": 400, "unit": "mg/L"}
    r = _send(admin, f"/api/monitoring/outlets/{outlet.pk}/ranges", rng, "put")
    assert r.status_code == 200, r.content
    assert AnalyserRange.objects.get(outlet=outlet).high == 400
    assert AuditEntry.objects.filter(action="monitoring.range.set").count() == 1
    assert (
        _send(
            admin, f"/api/monitoring/outlets/{outlet.pk}/ranges", {**rng, "high": -5}, "put"
        ).status_code
        == 422
    )

    # refused: the enterprise (rule), another city (outside the scope: 404)
    ent = _client(world.users[Role.ENTERPRISE])
    assert _send(ent, f"/api/monitoring/outlets/{outlet.pk}/ranges", rng, "put").status_code == 403
    other = _client(world.users["other_city"])
    assert _send(other, f"/api/monitoring/outlets/{outlet.pk}/limits", limit).status_code == 404
    assert PollutantLimit.objects.filter(outlet=outlet).count() == 1


def test_file_and_review_a_shutdown(world):
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from dualcontrol.monitoring.models import Shutdown

    outlet = make_outlet(world.unit, mn="API000003", station_password="123456")
    start = timezone.now() - dt.timedelta(hours=3)
    form = {
        "kind": "production",
        "started_at": start.isoformat(),
        "ended_at": (start + dt.timedelta(hours=2)).isoformat(),
        "reason": "停产检修",
    }
    ent = _client(world.users[Role.ENTERPRISE])
    doc = SimpleUploadedFile("statement.pdf", b"%PDF-1.4\n% test document\n")
    r = ent.post(f"/api/monitoring/outlets/{outlet.pk}/shutdowns", {**form, "document": doc})
    assert r.status_code == 201, r.content
    shutdown = Shutdown.objects.get(pk=r.json()["id"])
    assert AuditEntry.objects.filter(action="monitoring.shutdown.file").count() == 1
    # bad input: the end before the start, every problem listed; nothing stored
    bad = ent.post(
        f"/api/monitoring/outlets/{outlet.pk}/shutdowns",
        {**form, "ended_at": (start - dt.timedelta(hours=1)).isoformat(), "document": doc},
    )
    assert bad.status_code == 422 and bad.json()["problems"]
    assert Shutdown.objects.count() == 1
    # another unit's enterprise cannot see the outlet
    other = _client(world.users["other_enterprise"])
    r = other.post(f"/api/monitoring/outlets/{outlet.pk}/shutdowns", {**form, "document": doc})
    assert r.status_code == 404

    path = f"/api/monitoring/shutdowns/{shutdown.pk}/review"
    assert _send(ent, path, {"accept": True}).status_code == 403
    city = _client(world.users[Role.CITY_OFFICER])
    bad = _send(city, path, {"accept": False, "note": ""})
    assert bad.status_code == 422 and bad.json()["problems"][0]["reason"]
    r = _send(city, path, {"accept": True})
    assert r.status_code == 200, r.content
    shutdown.refresh_from_db()
    assert shutdown.status == "accepted"
    assert AuditEntry.objects.filter(action="monitoring.shutdown.accept").count() == 1
