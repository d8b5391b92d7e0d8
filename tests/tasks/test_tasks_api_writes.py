"""The plan office's writes through the REST API: task deadline/status and the plan's deadlines,
through the pages' services, rule ``tasks.manage`` and audit."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from tests.auth import api_client

pytestmark = pytest.mark.django_db


_client = api_client


def _send(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


def test_edit_a_task(tracked):
    task = tracked.tasks["一/（一）"]
    office = _client(tracked.world.users[Role.PROVINCE_OFFICER])  # 省发展改革委, the plan office
    path = f"/api/tasks/{task.pk}"
    r = _send(
        office, path, {"deadline": "2026-12-31", "status": "in_progress", "note": "API"}, "patch"
    )
    assert r.status_code == 200, r.content
    task.refresh_from_db()
    assert str(task.deadline) == "2026-12-31" and task.status == "in_progress"
    assert AuditEntry.objects.filter(action="tasks.task.set", object_id=str(task.pk)).exists()
    before = AuditEntry.objects.filter(action="tasks.task.set").count()
    bad = _send(office, path, {"status": "done?"}, "patch")
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "status"
    # a department named on the task but not the plan office: refused by the service
    finance = _client(tracked.world.users["finance"])
    assert _send(finance, path, {"status": "completed"}, "patch").status_code == 403
    # a city officer: no tasks.manage
    city = _client(tracked.world.users[Role.CITY_OFFICER])
    assert _send(city, path, {"status": "completed"}, "patch").status_code == 403
    task.refresh_from_db()
    assert task.status == "in_progress"
    assert AuditEntry.objects.filter(action="tasks.task.set").count() == before


def test_plan_deadlines(tracked):
    office = _client(tracked.world.users[Role.PROVINCE_OFFICER])
    path = f"/api/tasks/plans/{tracked.plan.pk}/deadlines"
    r = _send(office, path, {"deadline": "2027-06-30"})
    assert r.status_code == 200, r.content
    assert r.json()["changed"] == len(tracked.tasks)
    assert all(
        str(t.deadline) == "2027-06-30" for t in tracked.plan.tasks.all() if t.key in tracked.tasks
    )
    assert AuditEntry.objects.filter(action="tasks.plan.deadlines").count() == 1
    assert _send(office, path, {"deadline": "30/06/2027"}).status_code == 422
    finance = _client(tracked.world.users["finance"])
    assert _send(finance, path, {"deadline": "2027-01-01"}).status_code == 403
