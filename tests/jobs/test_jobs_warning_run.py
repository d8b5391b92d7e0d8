"""Issue 23, done when: "a warning run with the mail server down answers at once and the mails
go out when it comes back" — through the page (a queued job), the API and the service."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.jobs import services, tasks
from dualcontrol.jobs.models import Job, OutboxMessage
from dualcontrol.targets import services as targets
from dualcontrol.targets.models import Alert, WarningRecord
from tests.auth import api_token, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def tw(world):
    from tests.targets.targets_world import build

    tw = build(world)
    city = world.users[Role.CITY_OFFICER]
    city.email = "km@example.gov.cn"
    city.save()
    return tw


def officer(tw):
    return login(Client(), tw.world.users[Role.PROVINCE_OFFICER])


def test_the_page_answers_at_once_with_a_queued_job(tw, settings):
    from django_q.models import OrmQ

    settings.EMAIL_BACKEND = "tests.jobs.backends.Tripwire"
    c = officer(tw)
    r = c.post("/targets/warnings/run/", {"year": 2026, "month": 5})
    job = Job.objects.get()
    assert r.status_code == 302 and r.url == f"/jobs/{job.pk}/"
    assert (job.kind, job.params, job.status) == (
        "warnings.run",
        {"year": 2026, "month": 5},
        "queued",
    )
    assert job.requested_by == tw.world.users[Role.PROVINCE_OFFICER]
    # nothing ran inside the request: the run waits in django-q2's queue for the worker
    assert WarningRecord.objects.count() == 0
    (queued,) = OrmQ.objects.all()
    assert queued.task["func"] == "dualcontrol.jobs.tasks.run_job"
    assert queued.task["args"] == (job.pk,) and queued.task_id() == job.task_id
    assert AuditEntry.objects.filter(action="job.start", object_id=str(job.pk)).exists()
    page = c.get(r.url).content.decode()
    assert "排队中" in page and 'hx-trigger="every 2s"' in page
    # the worker runs it (as django-q2 calls it) and the status page shows the result
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.result["rated"] == 3 and job.finished_at is not None
    fragment = c.get(r.url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "hx-trigger" not in fragment
    assert (
        "已计算 2026年1–5月预警：3 条" in fragment
        and "/targets/warnings/?year=2026&amp;month=5" in fragment
    )
    # a second delivery of the same queue entry does not run it again
    assert tasks.run_job(job.pk) == {"skipped": f"job {job.pk} is not queued"}


def test_mail_server_down_then_back(tw, smtp_down, q_sync, settings):
    c = officer(tw)
    r = c.post("/targets/warnings/run/", {"year": 2026, "month": 5})  # runs at once (q_sync)
    assert r.status_code == 302
    job = Job.objects.get()
    assert job.status == "done", job.error
    assert WarningRecord.objects.filter(year=2026, month=5).count() == 3
    city_alert = Alert.objects.get(recipient__username="city1")
    (message,) = OutboxMessage.objects.all()
    assert message.origin == f"targets.alert:{city_alert.pk}" and message.to == [
        "km@example.gov.cn"
    ]
    assert message.status == "pending"
    # the worker's delivery run: the server refuses, the message waits with the error
    before = timezone.now()
    s = services.deliver_due()
    message.refresh_from_db()
    assert s.failed == 1 and message.status == "retrying" and message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at >= before + services.jobs_policy().outbox.delay_after(1)
    city_alert.refresh_from_db()
    assert city_alert.emailed_at is None
    # the mail server is back: the next run at the message's time sends it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert services.deliver_due(now=message.next_attempt_at).sent == 1
    (sent,) = mail.outbox
    assert (
        sent.to == ["km@example.gov.cn"] and "昆明市" in sent.subject and "ndrc-2021" in sent.body
    )
    message.refresh_from_db()
    city_alert.refresh_from_db()
    assert message.status == "sent" and city_alert.emailed_at == message.sent_at


def test_the_api_run_answers_with_the_mail_server_down(tw, smtp_down):
    c = Client()
    token = api_token(c, tw.world.users[Role.PROVINCE_ADMIN], PASSWORD)
    r = c.post(
        "/api/targets/warnings/run",
        json.dumps({"year": 2026, "month": 5}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200, r.content
    assert r.json()["emails"] == 1
    assert OutboxMessage.objects.get().status == "pending"


def test_a_rerun_alerts_nobody_twice(tw, smtp_up):
    first = targets.compute_warnings(year=2026, month=5, system=True)
    again = targets.compute_warnings(year=2026, month=5, system=True)
    assert first.alerts == 8 and first.emails == 1
    assert (again.alerts, again.emails) == (0, 0)
    assert Alert.objects.count() == 8 and OutboxMessage.objects.count() == 1


def test_a_refused_job_fails_with_its_reason(tw, q_sync):
    # the requester lost the province role between the click and the run
    user = tw.world.users[Role.PROVINCE_OFFICER]
    job = Job.objects.create(
        kind="warnings.run", params={"year": 2026, "month": 5}, requested_by=user
    )
    user.role = Role.CITY_OFFICER
    user.save()
    assert "refused" in tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "省级" in job.error
    assert WarningRecord.objects.count() == 0


def test_start_job_refuses_other_roles_and_bad_parameters(tw):
    from django.core.exceptions import PermissionDenied, ValidationError

    for role in (Role.CITY_OFFICER, Role.ENTERPRISE, Role.SYSTEM_ADMIN):
        with pytest.raises(PermissionDenied):
            services.start_job(
                kind="warnings.run", params={"year": 2026, "month": 5}, user=tw.world.users[role]
            )
    with pytest.raises(ValidationError) as exc:
        services.start_job(
            kind="warnings.run",
            params={"year": 1999, "month": 13},
            user=tw.world.users[Role.PROVINCE_ADMIN],
        )
    assert len(exc.value.messages) == 2
    with pytest.raises(ValidationError):
        services.start_job(kind="nope", params={}, user=tw.world.users[Role.PROVINCE_ADMIN])
    assert Job.objects.count() == 0


def test_an_unexpected_error_fails_the_job_and_reaches_django_q(tw, monkeypatch):
    from dataclasses import replace

    def broken(job):
        raise RuntimeError("database went away: secret detail")

    kinds = dict(tasks.JOB_KINDS)
    kinds["warnings.run"] = replace(kinds["warnings.run"], run=broken)
    monkeypatch.setattr(tasks, "JOB_KINDS", kinds)
    job = Job.objects.create(
        kind="warnings.run",
        params={"year": 2026, "month": 5},
        requested_by=tw.world.users[Role.PROVINCE_OFFICER],
    )
    with pytest.raises(RuntimeError):  # re-raised: django-q2 keeps it as a failed task
        tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" in job.error
    assert "secret detail" not in job.error  # the requester sees no internals


def test_a_failed_task_is_kept_and_shown_to_the_system_administrator(tw, worker_pass, monkeypatch):
    from dataclasses import replace

    from django_q.models import Failure, OrmQ

    def broken(job):
        raise RuntimeError("statistics table locked")

    kinds = dict(tasks.JOB_KINDS)
    kinds["warnings.run"] = replace(kinds["warnings.run"], run=broken)
    monkeypatch.setattr(tasks, "JOB_KINDS", kinds)
    job = services.start_job(
        kind="warnings.run",
        params={"year": 2026, "month": 5},
        user=tw.world.users[Role.PROVINCE_ADMIN],
    )
    assert worker_pass() == 1
    job.refresh_from_db()
    assert job.status == "failed"
    (failure,) = Failure.objects.all()
    assert failure.name == f"warnings.run#{job.pk}" and "statistics table locked" in str(
        failure.result
    )
    assert OrmQ.objects.count() == 0  # acknowledged: a failure is kept, not retried
    html = login(Client(), tw.world.users[Role.SYSTEM_ADMIN]).get("/jobs/").content.decode()
    assert f"warnings.run#{job.pk}" in html and "statistics table locked" in html


def test_the_worker_runs_the_queued_page_job(tw, worker_pass, smtp_up):
    from django_q.models import Success

    c = officer(tw)
    r = c.post("/targets/warnings/run/", {"year": 2026, "month": 6})
    assert worker_pass() == 1
    job = Job.objects.get()
    assert job.status == "done" and job.result["rated"] == 3
    assert Success.objects.get().name == f"warnings.run#{job.pk}"
    assert "已计算 2026年1–6月预警" in c.get(r.url).content.decode()
