"""What the worker runs: the periodic jobs (django-q2 schedules, timetable in
``jobs_policy.yaml``) and the jobs started from pages (:data:`JOB_KINDS`).

Each job calls the same service as its command line: ``dualcontrol warn-run`` →
``targets.services.compute_warnings``, ``dualcontrol metering rollup|check`` →
``metering.services.rollup_all|run_checks``, ``dualcontrol monitoring alarms`` →
``monitoring.services.evaluate_alarms``, ``dualcontrol projects late --alert`` →
``projects.services.warn_late_projects``.  The apps are imported inside the functions: the
apps import the outbox from :mod:`dualcontrol.jobs.services`, never this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dualcontrol.jobs import services
from dualcontrol.jobs.models import Job


def _scheduled(scheduled_for: str | None) -> dt.datetime:
    """The time the schedule was due (django-q2 passes it), else now."""
    if scheduled_for:
        try:
            when = dt.datetime.fromisoformat(scheduled_for)
        except ValueError:
            return timezone.now()
        return when if timezone.is_aware(when) else timezone.make_aware(when, dt.UTC)
    return timezone.now()


def _yesterday(scheduled_for: str | None) -> dt.date:
    return timezone.localtime(_scheduled(scheduled_for)).date() - dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# periodic jobs


def deliver_outbox(scheduled_for: str | None = None) -> dict[str, Any]:
    """Send the due mails of the outbox (every minute)."""
    return services.deliver_due().as_dict()


def refresh_rollups(scheduled_for: str | None = None) -> dict[str, Any]:
    """报表汇总 of the years whose reports changed (``dualcontrol rollups refresh``)."""
    from dualcontrol.rollups.services import refresh_marked

    result = refresh_marked()
    return result.as_dict() if result else {"years": []}


def timeseries_maintain(scheduled_for: str | None = None) -> dict[str, Any]:
    """时序数据汇总与保留 (``dualcontrol timeseries maintain``): roll-ups, expired partitions."""
    from dualcontrol.timeseries.services import maintain

    report = maintain(now=_scheduled(scheduled_for))
    return {
        t.table: {
            "mode": t.mode,
            "dropped": [p.name for p in t.drop],
            "rows_deleted": t.rows_deleted,
            "hour_rows": t.hour_rows,
            "day_rows": t.day_rows,
        }
        for t in report.tables
    }


def keyunit_reminders(scheduled_for: str | None = None) -> dict[str, Any]:
    """能源利用状况报告催报 on the rule days around the deadline (once per unit and day)."""
    from dualcontrol.keyunits.services import send_status_reminders

    day = timezone.localtime(_scheduled(scheduled_for)).date()
    result = send_status_reminders(today=day)
    return {
        "day": day.isoformat(),
        "units": result.units,
        "mails": result.mails,
        "offsets": result.offsets,
    }


def metering_rollup(scheduled_for: str | None = None) -> dict[str, Any]:
    """能耗在线监测日汇总 of the day before the scheduled time (``dualcontrol metering rollup``)."""
    from dualcontrol.metering.services import rollup_all

    day = _yesterday(scheduled_for)
    return {"day": day.isoformat(), "rows": rollup_all(day=day)}


def metering_checks(scheduled_for: str | None = None) -> dict[str, Any]:
    """The metering quality checks at the current time (``dualcontrol metering check``)."""
    from dualcontrol.metering.services import run_checks

    summary = run_checks(now=timezone.now())
    return {"units": summary.units, "raised": dict(summary.raised), "resolved": summary.resolved}


def monitoring_alarms(scheduled_for: str | None = None) -> dict[str, Any]:
    """污染源监控报警 of the previous day (``dualcontrol monitoring alarms --date yesterday``)."""
    from dualcontrol.monitoring.services import evaluate_alarms

    day = _yesterday(scheduled_for)
    summary = evaluate_alarms(day=day)
    return {
        "day": day.isoformat(),
        "outlets": summary.outlets,
        "created": summary.created,
        "updated": summary.updated,
        "removed": summary.removed,
    }


def projects_late(scheduled_for: str | None = None) -> dict[str, Any]:
    """建设滞后提醒 (``dualcontrol projects late --alert``)."""
    from dualcontrol.projects.services import warn_late_projects

    today = timezone.localtime(_scheduled(scheduled_for)).date()
    summary = warn_late_projects(today=today)
    return {"today": today.isoformat(), "late": summary.late, "alerts": summary.alerts}


def prune_exports(scheduled_for: str | None = None) -> dict[str, Any]:
    """Delete the export files of jobs finished more than ``exports.keep_days`` days ago."""
    from django.core.files.storage import default_storage

    from dualcontrol.jobs.models import JobStatus
    from dualcontrol.jobs.policy import jobs_policy

    cutoff = _scheduled(scheduled_for) - dt.timedelta(days=jobs_policy().exports.keep_days)
    removed = 0
    for job in Job.objects.filter(status=JobStatus.DONE, finished_at__lt=cutoff):
        path = job.result.get("file") if isinstance(job.result, dict) else None
        if path and default_storage.exists(path):
            default_storage.delete(path)
            removed += 1
    return {"removed": removed, "before": cutoff.isoformat()}


def monthly_warning_run(scheduled_for: str | None = None) -> dict[str, Any]:
    """The month's warning run (``dualcontrol warn-run``) for the latest month with regional
    statistics; a re-run replaces that month's warnings and alerts nobody twice."""
    from dualcontrol.targets import services as targets

    latest = targets.latest_statistics_month()
    if latest is None:
        return {"skipped": "no monthly regional statistics"}
    year, month = latest
    return targets.compute_warnings(year=year, month=month, system=True).as_dict()


# ---------------------------------------------------------------------------------------------
# jobs started from pages


@dataclass(frozen=True)
class JobKind:
    title: Any
    allowed: Callable[[Any], bool]
    check: Callable[[dict[str, Any]], list[str]]
    run: Callable[[Job], dict[str, Any]]
    describe: Callable[[dict[str, Any]], str]
    link: Callable[[Job], str]


def _rule(name: str) -> Callable[[Any], bool]:
    """Who may start a kind of job: a rule of :mod:`dualcontrol.access.rules`."""
    from dualcontrol.access.rules import allows

    return lambda user: allows(user, name)


def _check_month(params: dict[str, Any]) -> list[str]:
    problems = []
    year, month = params.get("year"), params.get("month")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        problems.append(_("年份应为 2000–2100 的整数"))
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        problems.append(_("月份应为 1–12"))
    return problems


def _run_warnings(job: Job) -> dict[str, Any]:
    from dualcontrol.targets import services as targets

    try:
        summary = targets.compute_warnings(
            year=job.params["year"], month=job.params["month"], user=job.requested_by
        )
    except targets.TargetError as exc:
        raise services.JobRefused(str(exc)) from exc
    out = summary.as_dict()
    out["skipped_targets"] = [{"target": t, "reason": r} for t, r in summary.skipped[:100]]
    return out


def _describe_warnings(r: dict[str, Any]) -> str:
    return _(
        "已计算 %(y)s年1–%(m)s月预警：%(n)s 条（新增 %(c)s，更新 %(u)s），提醒 %(a)s 条，跳过 %(s)s 个目标。"
    ) % {
        "y": r["year"],
        "m": r["month"],
        "n": r["rated"],
        "c": r["created"],
        "u": r["updated"],
        "a": r["alerts"],
        "s": r["skipped"],
    }


def _warnings_link(job: Job) -> str:
    p = job.params
    return reverse("targets:warnings") + f"?year={p.get('year', '')}&month={p.get('month', '')}"


EXPORT_DIR = "exports"


def _check_filters(params: dict[str, Any]) -> list[str]:
    f = params.get("filters")
    if not isinstance(f, dict) or not all(isinstance(v, str) for v in f.values()):
        return [_("导出条件应为文字筛选条件")]
    return []


def _run_reports_export(job: Job) -> dict[str, Any]:
    """The requester's reports, filtered as on the list page, as an Excel file in the media
    storage (``exports/``); the requester downloads it from the job's page."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from dualcontrol.exports import xlsx_bytes
    from dualcontrol.reporting import report_export

    f = report_export.clean_filters(job.params["filters"])
    qs = report_export.report_queryset(job.requested_by, f)
    count = qs.count()
    data = xlsx_bytes(
        "reports", report_export.headers(), counted(job, report_export.rows(qs), count)
    )
    path = default_storage.save(f"{EXPORT_DIR}/job-{job.pk}-reports.xlsx", ContentFile(data))
    return {"rows": count, "file": path, "filename": "reports.xlsx", "bytes": len(data)}


def counted(job: Job, rows: Iterable[Any], total: int, steps: int = 50) -> Iterator[Any]:
    """``rows`` passed through, the job's progress written about ``steps`` times on the way (the
    job page's progress bar reads it)."""
    every = max(1, total // steps)
    Job.objects.filter(pk=job.pk).update(progress_done=0, progress_total=total)
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % every == 0:
            Job.objects.filter(pk=job.pk).update(progress_done=done)
    Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=max(total, done))


def _describe_export(r: dict[str, Any]) -> str:
    return _("已导出 %(n)s 份报表（%(kb)s KB）。") % {
        "n": r["rows"],
        "kb": max(1, round(r["bytes"] / 1024)),
    }


def _download_link(job: Job) -> str:
    return reverse("jobs:download", args=[job.pk])


JOB_KINDS: dict[str, JobKind] = {
    "reports.export": JobKind(
        title=gettext_lazy("能源报表导出"),
        allowed=_rule("reports.view"),
        check=_check_filters,
        run=_run_reports_export,
        describe=_describe_export,
        link=_download_link,
    ),
    "warnings.run": JobKind(
        title=gettext_lazy("预警计算"),
        allowed=_rule("targets.run_warnings"),
        check=_check_month,
        run=_run_warnings,
        describe=_describe_warnings,
        link=_warnings_link,
    ),
}


def run_job(job_id: int) -> dict[str, Any]:
    """The worker's entry for a job started from a page."""
    return services.execute_job(job_id)
