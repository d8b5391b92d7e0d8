"""Key projects through the REST API: register, edit and report progress with the pages' services,
rules (``projects.manage`` and the services' region checks) and audit."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.projects.models import Project
from tests.auth import api_client
from tests.projects.helpers import RURAL

pytestmark = pytest.mark.django_db


_client = api_client


def _send(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


NEW = {
    "kind": "key_reduction",
    "type_code": RURAL,
    "name": "五华区农村生活污水治理",
    "division": "530102",
    "owner_name": "五华区住建局",
    "planned_start": "2026-01-01",
    "planned_completion": "2026-10-31",
    "planned": {"cod": "100", "nh3n": "10"},
}


def test_register_edit_and_progress(world):
    city = _client(world.users[Role.CITY_OFFICER])
    r = _send(city, "/api/projects/", NEW)
    assert r.status_code == 201, r.content
    p = Project.objects.get(pk=r.json()["id"])
    assert p.division.code == "530102"
    assert AuditEntry.objects.filter(action="projects.project.register").count() == 1
    r = _send(city, f"/api/projects/{p.pk}", {"name": "五华区农村污水治理（一期）"}, "patch")
    assert r.status_code == 200, r.content
    p.refresh_from_db()
    assert p.name == "五华区农村污水治理（一期）"
    assert AuditEntry.objects.filter(action="projects.project.update").count() == 1
    r = _send(city, f"/api/projects/{p.pk}/progress", {"action": "start", "day": "2026-02-01"})
    assert r.status_code == 200, r.content
    assert AuditEntry.objects.filter(action="projects.project.start").count() == 1
    # the same again: the state refuses it, with the reason
    again = _send(city, f"/api/projects/{p.pk}/progress", {"action": "start", "day": "2026-02-01"})
    assert again.status_code == 422 and again.json()["problems"]
    assert _send(city, f"/api/projects/{p.pk}/progress", {"action": "x"}).status_code == 422
    # another city: outside the scope
    other = _client(world.users["other_city"])
    assert _send(other, f"/api/projects/{p.pk}", {"name": "x"}, "patch").status_code == 404


def test_register_refusals(world):
    city = _client(world.users[Role.CITY_OFFICER])
    bad = _send(
        city,
        "/api/projects/",
        {**NEW, "type_code": "nope", "name": " ", "planned_completion": "2025-01-01"},
    )
    assert bad.status_code == 422
    assert {"type_code", "name", "planned_completion"} <= {
        p["field"] for p in bad.json()["problems"]
    }
    assert _send(city, "/api/projects/", {**NEW, "division": "999999"}).status_code == 422
    # a city officer registers in its own region only; an enterprise not at all
    assert _send(city, "/api/projects/", {**NEW, "division": "530302"}).status_code == 403
    assert _send(_client(world.users[Role.ENTERPRISE]), "/api/projects/", NEW).status_code == 403
    assert not Project.objects.exists()
