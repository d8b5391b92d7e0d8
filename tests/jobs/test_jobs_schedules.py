"""The periodic jobs: django-q2 schedules created from jobs_policy.yaml after migrate (idempotent),
each job calling the same service as its command line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.jobs import services, tasks
from dualcontrol.jobs.models import OutboxMessage
from dualcontrol.jobs.policy import jobs_policy

pytestmark = pytest.mark.django_db

EXPECTED = {
    # name: (function, django-q2 type, local phase)
    "outbox.deliver": ("deliver_outbox", Schedule.MINUTES, None),
    "metering.rollup": ("metering_rollup", Schedule.DAILY, "01:30"),
    "metering.checks": ("metering_checks", Schedule.HOURLY, ":10"),
    "monitoring.alarms": ("monitoring_alarms", Schedule.DAILY, "01:15"),
    "projects.late": ("projects_late", Schedule.DAILY, "07:30"),
    "keyunits.reminders": ("keyunit_reminders", Schedule.DAILY, "07:45"),
    "exports.prune": ("prune_exports", Schedule.DAILY, "03:00"),
    "rollups.refresh": ("refresh_rollups", Schedule.MINUTES, None),
    "warnings.monthly": ("monthly_warning_run", Schedule.MONTHLY, "20 06:00"),
    "timeseries.maintain": ("timeseries_maintain", Schedule.DAILY, "02:30"),
}


def test_the_schedules_exist_after_migrate():
    stored = {s.name: s for s in Schedule.objects.all()}
    assert set(stored) == set(EXPECTED)
    for name, (func, kind, phase) in EXPECTED.items():
        s = stored[name]
        assert s.func == f"dualcontrol.jobs.tasks.{func}" and callable(getattr(tasks, func))
        assert (s.schedule_type, s.repeats, s.intended_date_kwarg) == (kind, -1, "scheduled_for")
        local = timezone.localtime(s.next_run)
        if phase in ("01:30", "01:15", "07:30", "07:45", "03:00", "02:30"):
            assert local.strftime("%H:%M") == phase
        elif phase == ":10":
            assert local.minute == 10
        elif phase:
            assert local.strftime("%d %H:%M") == phase
        else:
            assert s.minutes == 1
    assert services.sync_schedules() == {"created": [], "updated": [], "deleted": []}


def test_sync_corrects_changed_and_removes_stale_schedules():
    Schedule.objects.filter(name="projects.late").update(
        next_run=timezone.now() + dt.timedelta(minutes=3)
    )
    Schedule.objects.create(name="old.job", func="dualcontrol.jobs.tasks.gone", schedule_type="D")
    Schedule.objects.filter(name="outbox.deliver").delete()
    other = Schedule.objects.create(name="someone.else", func="math.floor", schedule_type="D")
    out = services.sync_schedules()
    assert out == {
        "created": ["outbox.deliver"],
        "updated": ["projects.late"],
        "deleted": ["old.job"],
    }
    assert (
        timezone.localtime(Schedule.objects.get(name="projects.late").next_run).strftime("%H:%M")
        == "07:30"
    )
    assert Schedule.objects.filter(pk=other.pk).exists()  # not ours: left alone
    entry = AuditEntry.objects.get(action="jobs.schedules.sync")
    assert entry.after == out and entry.object_repr == jobs_policy().version


def test_next_runs_are_in_the_platform_time_zone():
    policy = {s.name: s for s in jobs_policy().schedules}
    now = dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)  # 2027-01-01 07:00 in Shanghai
    nxt = {
        name: timezone.localtime(services._local_next(spec, now)) for name, spec in policy.items()
    }
    assert nxt["projects.late"].isoformat() == "2027-01-01T07:30:00+08:00"
    assert nxt["metering.rollup"].isoformat() == "2027-01-02T01:30:00+08:00"
    assert nxt["metering.checks"].isoformat() == "2027-01-01T07:10:00+08:00"
    assert nxt["warnings.monthly"].isoformat() == "2027-01-20T06:00:00+08:00"
    assert nxt["outbox.deliver"].isoformat() == "2027-01-01T07:01:00+08:00"
    late = dt.datetime(2027, 1, 20, 0, 0, tzinfo=dt.UTC)  # 08:00 on the 20th: next month
    assert timezone.localtime(
        services._local_next(policy["warnings.monthly"], late)
    ).date() == dt.date(2027, 2, 20)


def test_monthly_warning_run_rates_the_latest_statistics_month(world, smtp_up):
    from tests.targets.targets_world import build

    assert tasks.monthly_warning_run() == {"skipped": "no monthly regional statistics"}
    build(world)  # statistics up to June 2026
    out = tasks.monthly_warning_run(scheduled_for="2026-07-19T22:00:00+00:00")
    assert (out["year"], out["month"], out["rated"]) == (2026, 6, 3)
    assert AuditEntry.objects.filter(action="warnings.run", actor_name="system").count() == 1


def test_periodic_jobs_call_the_services(world):
    assert tasks.metering_rollup(scheduled_for="2026-05-19T17:30:00+00:00") == {
        "day": "2026-05-19",
        "rows": 0,
    }
    assert AuditEntry.objects.filter(action="metering.rollup", object_repr="2026-05-19").exists()
    assert tasks.metering_checks()["units"] == 0
    assert AuditEntry.objects.filter(action="metering.check").exists()
    out = tasks.projects_late(scheduled_for="2026-05-19T23:30:00+00:00")
    assert out == {"today": "2026-05-20", "late": 0, "alerts": 0}
    assert AuditEntry.objects.filter(action="projects.alerts.late").exists()
    assert tasks.monitoring_alarms(scheduled_for="2026-05-19T17:15:00+00:00")["day"] == "2026-05-19"


def test_deliver_outbox_job_and_the_command_line(smtp_up, capsys):
    services.enqueue_mail(to=["a@example.org"], subject="甲", body="b")
    assert tasks.deliver_outbox(scheduled_for=timezone.now().isoformat())["sent"] == 1
    assert [m.subject for m in mail.outbox] == ["甲"]
    services.enqueue_mail(to=["b@example.org"], subject="乙", body="b")
    assert main(["jobs", "deliver"]) == 0
    assert "1 sent" in capsys.readouterr().out
    OutboxMessage.objects.filter(subject="乙").update(status="dead", last_error="boom")
    assert main(["jobs", "outbox", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["dead"] == 1 and data["failed"][0]["last_error"] == "boom"
    assert main(["jobs", "schedules"]) == 0
    assert "warnings.monthly" in capsys.readouterr().out


def test_keyunit_reminders_task_runs_for_the_scheduled_local_day(db):
    out = tasks.keyunit_reminders(scheduled_for="2026-03-30T23:45:00+00:00")
    assert out["day"] == "2026-03-31"  # 07:45 in Shanghai
    assert out["units"] == 0 and out["mails"] == 0
