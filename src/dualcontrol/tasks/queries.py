"""Read-side queries of plan-task tracking: effective status, warnings, the matrix."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When

from dualcontrol.regions.models import Department
from dualcontrol.tasks.models import (
    AssignmentRole,
    Effective,
    PlanTask,
    TaskAssignment,
    TaskStatus,
)

WARNING_KINDS = (Effective.OVERDUE, Effective.STALLED)


def with_effective(qs: QuerySet[PlanTask], today: dt.date, stalled_after_days: int) -> QuerySet:
    """Annotate ``effective``: completed > overdue > stalled > the stored status (same rule as
    :func:`dualcontrol.tasks.models.effective_status`)."""
    stale_before = today - dt.timedelta(days=stalled_after_days)
    return qs.annotate(
        effective=Case(
            When(status=TaskStatus.COMPLETED, then=Value(Effective.COMPLETED.value)),
            When(deadline__lt=today, then=Value(Effective.OVERDUE.value)),
            When(
                Q(status=TaskStatus.STALLED) | Q(last_activity_on__lt=stale_before),
                then=Value(Effective.STALLED.value),
            ),
            default=F("status"),
            output_field=CharField(),
        )
    )


def filter_tasks(qs: QuerySet, f: dict[str, str]) -> QuerySet:
    """Filters shared by the task lists: plan, section, department, role, status, q."""
    if f.get("plan", "").isdigit():
        qs = qs.filter(plan_id=int(f["plan"]))
    if f.get("section"):
        prefix = f["section"].rstrip("/")
        qs = qs.filter(Q(key__startswith=prefix + "/") | Q(key=prefix))
    if f.get("department", "").isdigit():
        cond = Q(assignments__department_id=int(f["department"]))
        if f.get("role") in AssignmentRole.values:
            cond &= Q(assignments__role=f["role"])
        qs = qs.filter(cond)
    if f.get("status") in Effective.values:
        qs = qs.filter(effective=f["status"])
    if f.get("q"):
        qs = qs.filter(Q(title__icontains=f["q"]) | Q(text__icontains=f["q"]) | Q(key=f["q"]))
    return qs.distinct()


def status_counts(qs: QuerySet) -> dict[str, int]:
    rows = qs.order_by().values("effective").annotate(n=Count("pk", distinct=True))
    counts = {k: 0 for k in Effective.values}
    for r in rows:
        counts[r["effective"]] = r["n"]
    return counts


def sections_of(plan_id: int) -> list[tuple[str, str]]:
    """Top-level sections of a plan as (key prefix, heading), in document order."""
    out: dict[str, str] = {}
    for key, section in PlanTask.objects.filter(plan_id=plan_id).values_list("key", "section"):
        top = key.split("/")[0]
        if top not in out and "/" in key:
            out[top] = section[0] if section else top
    return list(out.items())


def departments_of(plan_id: int | None = None) -> QuerySet[Department]:
    """Departments named in a plan (or any plan), most lead roles first."""
    qs = Department.objects.filter(plan_assignments__isnull=False)
    if plan_id is not None:
        qs = Department.objects.filter(plan_assignments__task__plan_id=plan_id)
    return qs.annotate(
        leads=Count("plan_assignments", filter=Q(plan_assignments__role=AssignmentRole.LEAD)),
        named=Count("plan_assignments"),
    ).order_by("-leads", "-named", "name")


@dataclass
class Cell:
    mark: str  # 牵 / 参
    role: str
    name: str  # the department's name
    status: str  # effective status of this department's part
    percent: int


def cell_status(a: TaskAssignment, task: PlanTask, today: dt.date, stalled_after_days: int) -> str:
    """A department's part of a task: 已完成 at 100 %, else the task's overdue, else 停滞 when
    this department has not reported for N days (since the tracking start), else 推进中 /
    未启动 by its own reports."""
    if a.percent_complete >= 100 or task.status == TaskStatus.COMPLETED:
        return Effective.COMPLETED
    if task.deadline is not None and task.deadline < today:
        return Effective.OVERDUE
    last = a.last_report_at.date() if a.last_report_at else task.plan.tracking_start
    if task.status == TaskStatus.STALLED or (today - last).days > stalled_after_days:
        return Effective.STALLED
    return Effective.IN_PROGRESS if a.last_report_at else Effective.NOT_STARTED


def matrix_rows(
    tasks: list[PlanTask], departments: list[Department], today: dt.date, stalled_after_days: int
) -> list[tuple[PlanTask, list[Cell | None]]]:
    index = {d.pk: i for i, d in enumerate(departments)}
    rows = []
    for task in tasks:
        cells: list[Cell | None] = [None] * len(departments)
        for a in task.assignments.all():
            i = index.get(a.department_id)
            if i is not None:
                cells[i] = Cell(
                    a.mark,
                    a.role,
                    departments[i].name,
                    cell_status(a, task, today, stalled_after_days),
                    a.percent_complete,
                )
        rows.append((task, cells))
    return rows


def warning_reason(task: Any, today: dt.date) -> str:
    """Why a task is on the warning list, in words (for pages, exports and the command)."""
    from django.utils.translation import gettext as _

    if task.effective == Effective.OVERDUE:
        return _("已逾期 %(n)s 天") % {"n": (today - task.deadline).days}
    if task.status == TaskStatus.STALLED:
        return _("报送单位标记推进受阻")
    return _("%(n)s 天未报送进展（最近：%(d)s）") % {
        "n": (today - task.last_activity_on).days,
        "d": task.last_activity_on.isoformat(),
    }


_PREFIX = re.compile(r"^(?:云南|[\u4e00-\u9fff]{2,3}?)?(?:省|市|州|县|区)")
_SUFFIX = re.compile(r"(?:委员会|领导小组|办公室|管理局|厅|局|委|办|室|部门|公司|中心)$")


def _core(name: str) -> str:
    """A department name without its level prefix and body suffix: 省工业和信息化委 → 工业和信息化."""
    core = _SUFFIX.sub("", _PREFIX.sub("", name, count=1))
    return core.replace("和", "").replace("与", "")


def similar_departments(name: str, candidates: list[str], n: int = 3) -> list[tuple[str, float]]:
    """Existing department names that may be the same department (for merging), best first,
    with a similarity in [0, 1] of their cores (省工业信息化委 ~ 省工业和信息化委 = 1.0)."""
    from difflib import SequenceMatcher

    mine = _core(name)
    scored = []
    for other in candidates:
        theirs = _core(other)
        if not mine or not theirs:
            continue
        score = SequenceMatcher(None, mine, theirs).ratio()
        if mine in theirs or theirs in mine:
            score = max(score, 0.8)
        if score >= 0.6:
            scored.append((other, round(score, 2)))
    return sorted(scored, key=lambda x: (-x[1], x[0]))[:n]
