"""The jobs pages × every role: /jobs/ (system administrator only), a job's status page (its
requester and the system administrator), "send again" (system administrator, audited)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.models import AuditEntry
from dualcontrol.jobs import services
from dualcontrol.jobs.models import Job, OutboxMessage
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
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
]
REFUSED = {r: 403 for r in ROLES} | {"anon": 302}
ADMIN_ONLY = REFUSED | {Role.SYSTEM_ADMIN: 200}
# the job below was started by the province officer
# officers see their own jobs (others' answer 404); the public, the security administrator and
# the auditor start no jobs (rule jobs.view: 403)
OWN_JOB = {r: 404 for r in ROLES} | {
    "anon": 302,
    Role.PUBLIC: 403,
    Role.SECURITY_ADMIN: 403,
    Role.AUDITOR: 403,
    Role.PROVINCE_OFFICER: 200,
    Role.SYSTEM_ADMIN: 200,
}


@pytest.fixture
def setup(world):
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    job = Job.objects.create(
        kind="warnings.run",
        params={"year": 2026, "month": 5},
        requested_by=world.users[Role.PROVINCE_OFFICER],
        requested_by_name="officer1",
    )
    dead = services.enqueue_mail(
        to=["a@example.org"], subject="预警 甲", body="b", origin="targets.alert:1"
    )
    OutboxMessage.objects.filter(pk=dead.pk).update(
        status="dead",
        attempts=12,
        next_attempt_at=None,
        last_error="ConnectionRefusedError: [Errno 111]",
    )
    sent = services.enqueue_mail(to=["b@example.org"], subject="预警 乙", body="b")
    OutboxMessage.objects.filter(pk=sent.pk).update(status="sent")
    return world, job, dead


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


@pytest.mark.parametrize("role", ROLES)
def test_pages(setup, role):
    world, job, _dead = setup
    c = client_for(world, role)
    for path, expected in (
        ("/jobs/", ADMIN_ONLY),
        ("/jobs/?status=failed", ADMIN_ONLY),
        ("/jobs/?export=xlsx", ADMIN_ONLY),
        (f"/jobs/{job.pk}/", OWN_JOB),
    ):
        r = c.get(path)
        assert r.status_code == expected[role], (path, role)
        if r.status_code == 302:
            assert r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ROLES)
def test_send_again(setup, role):
    world, _job, dead = setup
    r = client_for(world, role).post(f"/jobs/outbox/{dead.pk}/retry/", {"status": "failed"})
    dead.refresh_from_db()
    if role == Role.SYSTEM_ADMIN:
        assert r.status_code == 302 and r["Location"] == "/jobs/?status=failed"
        assert dead.status == "pending" and dead.attempts == 0
        assert AuditEntry.objects.filter(action="outbox.retry", object_id=str(dead.pk)).count() == 1
    else:
        assert r.status_code == (302 if role == "anon" else 403)
        assert dead.status == "dead"
        assert not AuditEntry.objects.filter(action="outbox.retry").exists()


def test_the_overview_shows_failures_the_timetable_and_the_queue(setup):
    world, job, _dead = setup
    c = client_for(world, Role.SYSTEM_ADMIN)
    html = c.get("/jobs/?status=failed").content.decode()
    assert "预警 甲" in html and "预警 乙" not in html  # filtered to failed messages
    assert "ConnectionRefusedError" in html and "立即重发" in html
    for name in (
        "outbox.deliver",
        "warnings.monthly",
        "metering.rollup",
        "metering.checks",
        "projects.late",
    ):
        assert name in html
    assert "未建立" not in html  # the schedules exist after migrate
    assert f'href="/jobs/{job.pk}/"' in html
    wb = load_workbook(io.BytesIO(c.get("/jobs/?export=xlsx&status=dead").content))
    rows = list(wb.active.iter_rows(min_row=3, values_only=True))
    assert [r[2] for r in rows] == ["预警 甲"]
    # sent messages cannot be "sent again"
    sent = OutboxMessage.objects.get(subject="预警 乙")
    r = c.post(f"/jobs/outbox/{sent.pk}/retry/", follow=True)
    assert "只有发送失败的邮件可以重新发送" in r.content.decode()


def test_navigation_shows_the_jobs_page_to_the_system_administrator_only(setup):
    world, _job, _dead = setup
    assert 'href="/jobs/"' in client_for(world, Role.SYSTEM_ADMIN).get("/jobs/").content.decode()
    for role in (Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR):
        assert 'href="/jobs/"' not in client_for(world, role).get("/").content.decode(), role


def test_django_admin_lists_the_outbox_and_django_q_for_the_system_administrator(setup):
    world, _job, dead = setup
    c = client_for(world, Role.SYSTEM_ADMIN)
    for path in (
        "/admin/jobs/outboxmessage/",
        "/admin/jobs/job/",
        "/admin/django_q/schedule/",
        "/admin/django_q/failure/",
        "/admin/django_q/ormq/",
    ):
        assert c.get(path).status_code == 200, path
    r = c.post(
        "/admin/jobs/outboxmessage/",
        {"action": "retry_messages", "_selected_action": [dead.pk]},
    )
    assert r.status_code == 302
    dead.refresh_from_db()
    assert dead.status == "pending"
    assert AuditEntry.objects.filter(action="outbox.retry", actor_name="sys1").exists()
