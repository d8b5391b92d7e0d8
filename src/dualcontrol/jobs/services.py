"""Use cases of background work: the mail outbox, jobs started from pages, the job timetable.

* :func:`enqueue_mail` writes a mail to the outbox in the caller's transaction (a rolled-back
  request sends nothing) and never talks to a mail server;
* :func:`deliver_due` (every minute, from the worker) sends the due messages one by one with the
  configured ``EMAIL_BACKEND``; a failure records the error and waits with exponential back-off
  (``jobs_policy.yaml``), after the last attempt the message is *dead* and shown on ``/jobs/``;
  :func:`retry_message` lets the system administrator send a message again (audited);
* :func:`start_job` queues a long page action (e.g. the warning run) and answers at once;
  :func:`execute_job` runs it in the worker; the requester follows it on ``/jobs/<id>/``;
* :func:`sync_schedules` creates or corrects the periodic jobs (django-q2 schedules).

Two workers never send the same message: a worker *claims* a message (``claimed_until``) before
sending it — on PostgreSQL it picks the row with ``SELECT … FOR UPDATE SKIP LOCKED`` (another
worker skips it instead of waiting), on SQLite with a conditional ``UPDATE`` (compare and set:
only one writer sees its row count be 1).  The mail itself is sent outside any transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from dualcontrol.access.rules import allows
from dualcontrol.audit.services import record, snapshot
from dualcontrol.jobs.models import (
    DUE_STATUSES,
    Job,
    JobStatus,
    OutboxMessage,
    OutboxStatus,
)
from dualcontrol.jobs.policy import JobsPolicy, OutboxPolicy, ScheduleSpec, jobs_policy
from dualcontrol.jobs.signals import message_sent

log = logging.getLogger(__name__)

SCHEDULE_DATE_KWARG = "scheduled_for"


def is_jobs_admin(user: Any) -> bool:
    """The system administrator (系统管理员) runs the jobs and the outbox."""
    return allows(user, "jobs.manage")


# ---------------------------------------------------------------------------------------------
# the outbox


def enqueue_mail(
    *,
    to: str | Sequence[str],
    subject: str,
    body: str,
    origin: str = "",
    on_sent: str = "",
    from_email: str = "",
) -> OutboxMessage:
    """Put one mail in the outbox (in the caller's transaction); the worker sends it.

    ``origin`` names the caller's row (``"targets.alert:123"``); ``on_sent`` is an optional
    callback (dotted path inside :mod:`dualcontrol`) called with the message once it is sent —
    listeners of :data:`dualcontrol.jobs.signals.message_sent` hear about every sent message."""
    addresses = [to] if isinstance(to, str) else [str(a) for a in to]
    problems: list[str] = []
    if not addresses:
        problems.append(_("邮件没有收件人"))
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(_("收件人地址无效：%(address)s") % {"address": address})
    subject = " ".join(str(subject).split())  # one header line
    if not subject:
        problems.append(_("邮件主题不能为空"))
    if on_sent and not on_sent.startswith("dualcontrol."):
        problems.append(_("回调只能是本平台的函数：%(path)s") % {"path": on_sent})
    if len(origin) > 100:
        problems.append(_("来源标识过长（最多 100 个字符）"))
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    return OutboxMessage.objects.create(
        to=addresses,
        subject=subject[:255],
        body=body,
        from_email=from_email,
        origin=origin,
        on_sent=on_sent,
        created=now,
        next_attempt_at=now,
    )


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    messages: list[int] = field(default_factory=list)
    server_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "server_error": self.server_error,
        }


def _due(now: dt.datetime) -> Any:
    return OutboxMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def claim_next(*, now: dt.datetime, claimer: str, policy: OutboxPolicy) -> OutboxMessage | None:
    """Claim the next due message for ``claimer`` (None when nothing is due or all are claimed)."""
    until = now + dt.timedelta(seconds=policy.claim_seconds)
    due = _due(now).order_by("next_attempt_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            message = due.select_for_update(skip_locked=True).first()
            if message is None:
                return None
            OutboxMessage.objects.filter(pk=message.pk).update(
                claimed_until=until, claimed_by=claimer
            )
            message.claimed_until, message.claimed_by = until, claimer
            return message
    # SQLite (no row locks): compare and set — the UPDATE repeats the "due and unclaimed"
    # condition, so of two claimers of one row only one updates it
    for pk in list(due.values_list("pk", flat=True)[:20]):
        if _due(now).filter(pk=pk).update(claimed_until=until, claimed_by=claimer) == 1:
            return OutboxMessage.objects.get(pk=pk)
    return None


def _server_down(exc: BaseException) -> bool:
    """The mail server cannot be reached at all (every other message would fail the same way)."""
    return isinstance(
        exc,
        ConnectionError
        | TimeoutError
        | socket.gaierror
        | smtplib.SMTPConnectError
        | smtplib.SMTPServerDisconnected
        | smtplib.SMTPAuthenticationError,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _send(message: OutboxMessage, backend: Any) -> None:
    email = EmailMessage(
        message.subject,
        message.body,
        message.from_email or settings.DEFAULT_FROM_EMAIL,
        list(message.to),
    )
    if backend.send_messages([email]) != 1:
        raise RuntimeError("the mail backend reported the message as not sent")


def _record_failure(
    message: OutboxMessage, error: str, *, now: dt.datetime, policy: OutboxPolicy
) -> bool:
    """Count a failed attempt; returns True when the message is now dead."""
    attempts = message.attempts + 1
    dead = attempts >= policy.max_attempts
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=attempts,
            last_error=error,
            status=OutboxStatus.DEAD if dead else OutboxStatus.RETRYING,
            next_attempt_at=None if dead else now + policy.delay_after(attempts),
            claimed_until=None,
            claimed_by="",
        )
        message.refresh_from_db()
        if dead:
            record(
                actor=None,
                action="outbox.dead",
                obj=message,
                after={"attempts": attempts, "last_error": error, "origin": message.origin},
            )
    return dead


def _record_sent(message: OutboxMessage, *, now: dt.datetime) -> None:
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.SENT,
            sent_at=now,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            claimed_until=None,
            claimed_by="",
        )
        message.refresh_from_db()
        if message.on_sent.startswith("dualcontrol."):
            try:
                with transaction.atomic():  # a failing callback never un-sends the mail
                    callback = import_string(message.on_sent)
                    callback(message)
            except Exception:
                log.exception("outbox %s: callback %s failed", message.pk, message.on_sent)
    message_sent.send(sender=OutboxMessage, message=message)


def deliver_due(
    *, now: dt.datetime | None = None, limit: int | None = None, policy: OutboxPolicy | None = None
) -> DeliverySummary:
    """Send the due messages, one by one, with ``settings.EMAIL_BACKEND``.

    A message that fails waits ``policy.delay_after(attempts)``; when the server itself is
    unreachable the remaining due messages of this run get the same error (and back-off)
    without another connection attempt each."""
    policy = policy or jobs_policy().outbox
    fixed = now

    def clock() -> dt.datetime:  # the real clock per message: a long run's claims stay fresh
        return fixed if fixed is not None else timezone.now()

    limit = policy.batch if limit is None else limit
    claimer = uuid.uuid4().hex
    summary = DeliverySummary()
    backend = get_connection()
    while len(summary.messages) < limit:
        message = claim_next(now=clock(), claimer=claimer, policy=policy)
        if message is None:
            break
        summary.messages.append(message.pk)
        if summary.server_error:
            error = summary.server_error
        else:
            try:
                _send(message, backend)
            except Exception as exc:  # any failure of any backend is recorded, never lost
                error = _describe(exc)
                if _server_down(exc):
                    summary.server_error = error
            else:
                _record_sent(message, now=clock())
                summary.sent += 1
                continue
        summary.failed += 1
        if _record_failure(message, error, now=clock(), policy=policy):
            summary.dead += 1
    return summary


def retry_message(*, message: OutboxMessage, user: Any, now: dt.datetime | None = None) -> None:
    """Send a failed or dead message again at the next delivery run (system administrator).

    A dead message starts a new round of attempts; a waiting one just stops waiting."""
    if not is_jobs_admin(user):
        raise PermissionDenied
    if message.status not in (OutboxStatus.DEAD, OutboxStatus.RETRYING):
        raise ValidationError(_("只有发送失败的邮件可以重新发送"))
    now = now or timezone.now()
    fields = ["status", "attempts", "next_attempt_at"]
    with transaction.atomic():
        before = snapshot(message, fields)
        if message.status == OutboxStatus.DEAD:
            message.attempts = 0
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now
        message.claimed_until, message.claimed_by = None, ""
        message.save(update_fields=[*fields, "claimed_until", "claimed_by"])
        record(
            actor=user,
            action="outbox.retry",
            obj=message,
            before=before,
            after=snapshot(message, fields),
        )


def outbox_counts() -> dict[str, int]:
    counts = {s: 0 for s in OutboxStatus.values}
    for row in OutboxMessage.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


# ---------------------------------------------------------------------------------------------
# jobs started from pages


class JobRefused(Exception):
    """A job that cannot be done for a reason meant for its requester (not a platform fault)."""


def start_job(*, kind: str, params: dict[str, Any], user: Any) -> Job:
    """Queue the job ``kind`` for ``user`` (refused when the user may not start it) and return at
    once; the queue entry is written in the same transaction as the job."""
    from django_q.tasks import async_task

    from dualcontrol.jobs.tasks import JOB_KINDS

    spec = JOB_KINDS.get(kind)
    if spec is None:
        raise ValidationError(_("未知的任务类型：%(kind)s") % {"kind": kind})
    if not spec.allowed(user):
        raise PermissionDenied
    problems = spec.check(params)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            params=params,
            requested_by=user,
            requested_by_name=getattr(user, "username", ""),
        )
        record(actor=user, action="job.start", obj=job, after={"kind": kind, "params": params})
        job.task_id = str(
            async_task(
                "dualcontrol.jobs.tasks.run_job",
                job.pk,
                task_name=f"{kind}#{job.pk}",
                group=kind,
            )
        )
        Job.objects.filter(pk=job.pk).update(task_id=job.task_id)
    job.refresh_from_db()
    return job


def execute_job(job_id: int) -> dict[str, Any]:
    """Run a queued job (in the worker).  A job runs once: a second delivery of the same queue
    entry finds it no longer queued.  Refusals (:class:`JobRefused`) fail the job with their
    message; any other error fails it and is re-raised so django-q2 keeps the failure."""
    from dualcontrol.jobs.tasks import JOB_KINDS

    now = timezone.now()
    if not Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now
    ):
        return {"skipped": f"job {job_id} is not queued"}
    job = Job.objects.select_related("requested_by").get(pk=job_id)
    spec = JOB_KINDS[job.kind]
    try:
        with translation.override(settings.LANGUAGE_CODE):
            result = spec.run(job)
    except JobRefused as exc:
        _finish(job, JobStatus.FAILED, error=str(exc))
        return {"refused": str(exc)}
    except Exception as exc:
        # the details (traceback) go to django-q2's failed tasks, for the system administrator
        _finish(
            job,
            JobStatus.FAILED,
            error=_("任务出错（%(error)s），系统管理员可在“后台任务”页查看详情。")
            % {"error": type(exc).__name__},
        )
        raise
    _finish(job, JobStatus.DONE, result=result)
    return result


def _finish(job: Job, status: str, *, result: Any = None, error: str = "") -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status, result=result, error=error, finished_at=timezone.now()
    )


def visible_jobs(user: Any) -> Any:
    """Jobs ``user`` may follow: their own; every job for the system administrator."""
    if is_jobs_admin(user):
        return Job.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    return Job.objects.filter(requested_by=user)


# ---------------------------------------------------------------------------------------------
# the timetable


def _local_next(spec: ScheduleSpec, now: dt.datetime) -> dt.datetime:
    """The next time (aware, > now) the schedule ``spec`` is due, in the platform's time zone."""
    local = timezone.localtime(now)
    if spec.every == "minute":
        return (local + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    if spec.every == "hour":
        candidate = local.replace(minute=spec.minute, second=0, microsecond=0)
        return candidate if candidate > local else candidate + dt.timedelta(hours=1)
    if spec.every == "day":
        candidate = local.replace(hour=spec.at.hour, minute=spec.at.minute, second=0, microsecond=0)
        return candidate if candidate > local else candidate + dt.timedelta(days=1)
    year, month = local.year, local.month
    for _i in range(2):
        candidate = local.replace(
            year=year,
            month=month,
            day=spec.day,
            hour=spec.at.hour,
            minute=spec.at.minute,
            second=0,
            microsecond=0,
        )
        if candidate > local:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable")  # pragma: no cover


def _schedule_type(spec: ScheduleSpec) -> str:
    from django_q.models import Schedule

    return {
        "minute": Schedule.MINUTES,
        "hour": Schedule.HOURLY,
        "day": Schedule.DAILY,
        "month": Schedule.MONTHLY,
    }[spec.every]


def _matches(schedule: Any, spec: ScheduleSpec) -> bool:
    """Does the stored schedule still say what ``spec`` says (function, rhythm and phase)?"""
    if (
        schedule.func != spec.func
        or schedule.schedule_type != _schedule_type(spec)
        or schedule.repeats != -1
        or schedule.intended_date_kwarg != SCHEDULE_DATE_KWARG
        or schedule.next_run is None
    ):
        return False
    local = timezone.localtime(schedule.next_run)
    if spec.every == "minute":
        return schedule.minutes == spec.minutes
    if spec.every == "hour":
        return local.minute == spec.minute and local.second == 0
    if spec.every == "day":
        return local.time() == spec.at
    return local.day == spec.day and local.time() == spec.at


def sync_schedules(
    *,
    policy: JobsPolicy | None = None,
    now: dt.datetime | None = None,
    user: Any = None,
    audit: bool = True,
) -> dict[str, list[str]]:
    """Create the schedules of ``jobs_policy.yaml`` that are missing, correct those that differ,
    delete ours the file no longer lists (idempotent; the file is the truth, not the admin).

    ``audit=False`` only for the seeding after ``migrate`` (like Django's content types)."""
    from django_q.models import Schedule

    policy = policy or jobs_policy()
    now = now or timezone.now()
    out: dict[str, list[str]] = {"created": [], "updated": [], "deleted": []}
    names = {s.name for s in policy.schedules}
    with transaction.atomic():
        for spec in policy.schedules:
            existing = Schedule.objects.filter(name=spec.name).order_by("pk")
            current = existing.first()
            if current is not None and _matches(current, spec):
                existing.exclude(pk=current.pk).delete()
                continue
            values = {
                "func": spec.func,
                "schedule_type": _schedule_type(spec),
                "minutes": spec.minutes if spec.every == "minute" else None,
                "repeats": -1,
                "next_run": _local_next(spec, now),
                "intended_date_kwarg": SCHEDULE_DATE_KWARG,
                "args": None,
                "kwargs": None,
            }
            if current is None:
                Schedule.objects.create(name=spec.name, **values)
                out["created"].append(spec.name)
            else:
                existing.exclude(pk=current.pk).delete()
                Schedule.objects.filter(pk=current.pk).update(**values)
                out["updated"].append(spec.name)
        stale = Schedule.objects.filter(func__startswith="dualcontrol.jobs.tasks.").exclude(
            name__in=names
        )
        out["deleted"] = sorted(str(n) for n in stale.values_list("name", flat=True))
        stale.delete()
        if audit and any(out.values()):
            record(
                actor=user,
                action="jobs.schedules.sync",
                object_type="django_q.schedule",
                object_repr=policy.version,
                after=out,
            )
    return out


def schedule_rows(policy: JobsPolicy | None = None) -> list[dict[str, Any]]:
    """The timetable for the jobs page: each schedule of the policy with its stored state."""
    from django_q.models import Schedule, Task

    policy = policy or jobs_policy()
    stored = {
        s.name: s for s in Schedule.objects.filter(name__in=[p.name for p in policy.schedules])
    }
    last_ids = [s.task for s in stored.values() if s.task]
    last = {t.id: t for t in Task.objects.filter(id__in=last_ids)}
    rows = []
    for spec in policy.schedules:
        s = stored.get(spec.name)
        task = last.get(s.task) if s is not None and s.task else None
        rows.append(
            {
                "spec": spec,
                "schedule": s,
                "next_run": s.next_run if s is not None else None,
                "last_task": task,
                "in_sync": s is not None and _matches(s, spec),
            }
        )
    return rows
