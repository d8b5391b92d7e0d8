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
from collections.abc import Callable
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


def _province(user: Any) -> bool:
    from dualcontrol.targets.queries import is_province

    return bool(getattr(user, "is_authenticated", False)) and is_province(user)


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


JOB_KINDS: dict[str, JobKind] = {
    "warnings.run": JobKind(
        title=gettext_lazy("预警计算"),
        allowed=_province,
        check=_check_month,
        run=_run_warnings,
        describe=_describe_warnings,
        link=_warnings_link,
    ),
}


def run_job(job_id: int) -> dict[str, Any]:
    """The worker's entry for a job started from a page."""
    return services.execute_job(job_id)
