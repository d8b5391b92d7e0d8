"""REST endpoints of plan tasks: plans, their tasks, a department's tasks, warnings, progress.

The same scope (``access/tasks.py``) and services as the pages; evidence files are uploaded
through the page (multipart), progress without evidence can be filed here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import tasks as access
from dualcontrol.access.rules import allows, require
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.pagination import PageNumberPagination
from dualcontrol.regions.models import Department
from dualcontrol.tasks import queries, services
from dualcontrol.tasks.models import Plan, PlanTask, TaskAssignment, TaskStatus
from dualcontrol.tasks.rules import load_rules

router = Router(tags=["tasks"])


def _require_staff(request: HttpRequest) -> None:
    require(request.user, "tasks.view")


class PlanOut(Schema):
    id: int
    title: str
    filename: str
    issuing_body: str
    division_code: str = Field(..., alias="division.code")
    period_start: int | None
    period_end: int | None
    imported_at: dt.datetime
    is_demo: bool


class AssignmentOut(Schema):
    department: str = Field(..., alias="department.name")
    department_id: int
    role: str
    name_as_written: str
    percent_complete: int


class TaskOut(Schema):
    id: int
    plan_id: int
    key: str
    number: str
    section: list[str]
    title: str
    text: str
    deadline: dt.date | None
    status: str
    effective: str
    percent_complete: int
    last_activity_on: dt.date
    targets: list[dict]
    assignments: list[AssignmentOut]


class ProgressIn(Schema):
    department_id: int | None = Field(None, description="default: the user's own department")
    period: str = Field(..., description="2026Q1 | 2026H1 | 2026-03 | 2026")
    narrative: str
    percent_complete: int
    blocked: bool = False


class ProgressOut(Schema):
    id: int
    task_id: int
    department: str = Field(..., alias="department.name")
    period: str
    percent_complete: int
    blocked: bool
    submitted_at: dt.datetime
    evidence_name: str


def _tasks(request: HttpRequest):  # type: ignore[no-untyped-def]
    rules = load_rules()
    return (
        queries.with_effective(
            access.visible_tasks(request.user), timezone.localdate(), rules.stalled_after_days
        )
        .select_related("plan")
        .prefetch_related("assignments__department")
    )


@router.get("/plans", response=list[PlanOut])
@paginate(PageNumberPagination, page_size=50)
def list_plans(request: HttpRequest):  # type: ignore[no-untyped-def]
    if not allows(request.user, "tasks.view"):
        return Plan.objects.none()
    return access.visible_plans(request.user).order_by("-imported_at", "-pk")


@router.get("/plans/{plan_id}/tasks", response=list[TaskOut])
@paginate(PageNumberPagination, page_size=200)
def plan_tasks(request: HttpRequest, plan_id: int, status: str = "", department_id: int = 0):  # type: ignore[no-untyped-def]
    _require_staff(request)
    plan = get_object_or_404(access.visible_plans(request.user), pk=plan_id)
    f = {"status": status, "department": str(department_id) if department_id else ""}
    return queries.filter_tasks(_tasks(request).filter(plan=plan), f).order_by("position")


@router.get("/department/{department_id}/tasks", response=list[TaskOut])
@paginate(PageNumberPagination, page_size=200)
def department_tasks(request: HttpRequest, department_id: int):  # type: ignore[no-untyped-def]
    _require_staff(request)
    department = get_object_or_404(access.viewable_departments(request.user), pk=department_id)
    return (
        _tasks(request)
        .filter(assignments__department=department)
        .distinct()
        .order_by("plan_id", "position")
    )


@router.get("/warnings", response=list[TaskOut])
@paginate(PageNumberPagination, page_size=200)
def warnings(request: HttpRequest, kind: str = ""):  # type: ignore[no-untyped-def]
    if not allows(request.user, "tasks.view"):
        return PlanTask.objects.none()
    kinds = [kind] if kind in queries.WARNING_KINDS else list(queries.WARNING_KINDS)
    return (
        access.warning_scope(request.user, _tasks(request))
        .filter(effective__in=kinds)
        .order_by("effective", "deadline", "last_activity_on", "plan_id", "position")
    )


class DeadlinesIn(Schema):
    """One deadline (null clears it) for the plan's tasks: all, or ``task_ids``; ``only_missing``:
    only tasks without a deadline."""

    deadline: dt.date | None = None
    task_ids: list[int] | None = None
    only_missing: bool = False


class ChangedOut(Schema):
    changed: int


@router.post("/plans/{plan_id}/deadlines", response={200: ChangedOut, **WRITE_ERRORS})
def set_deadlines(request: HttpRequest, plan_id: int, body: DeadlinesIn) -> Any:
    """批量设定期限 (the plan page's form): ``services.set_deadlines``, rule ``tasks.manage``."""
    require(request.user, "tasks.manage")
    plan = get_object_or_404(access.visible_plans(request.user), pk=plan_id)
    try:
        n = services.set_deadlines(
            plan=plan,
            user=request.user,
            deadline=body.deadline,
            task_ids=body.task_ids,
            only_missing=body.only_missing,
        )
    except services.TaskPermissionDenied as exc:
        return refusal(403, str(exc))
    return {"changed": n}


class TaskEditIn(Schema):
    """The plan office's edit (the task page's form): deadline (null clears it), stored status,
    a note."""

    deadline: dt.date | None = None
    status: str
    note: str = ""


@router.get("/{task_id}", response=TaskOut)
def task_detail(request: HttpRequest, task_id: int):  # type: ignore[no-untyped-def]
    _require_staff(request)
    return get_object_or_404(_tasks(request), pk=task_id)


@router.post("/{task_id}/progress", response={201: ProgressOut})
def file_progress(request: HttpRequest, task_id: int, body: ProgressIn):  # type: ignore[no-untyped-def]
    _require_staff(request)
    task = get_object_or_404(access.visible_tasks(request.user), pk=task_id)
    department_id = body.department_id or request.user.department_id
    department = Department.objects.filter(pk=department_id).first()
    if (
        department is None
        or not TaskAssignment.objects.filter(task=task, department=department).exists()
    ):
        raise HttpError(422, "the department is not named on this task")
    try:
        report = services.file_progress(
            task=task,
            department=department,
            user=request.user,
            period=body.period,
            narrative=body.narrative,
            percent_complete=body.percent_complete,
            blocked=body.blocked,
        )
    except services.TaskPermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except services.ProgressRejected as exc:
        raise HttpError(422, str(exc)) from exc
    return HttpStatus(201, report)


@router.patch("/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def edit_task(request: HttpRequest, task_id: int, body: TaskEditIn) -> Any:
    """修改期限和状态: ``services.set_task``, rule ``tasks.manage``."""
    require(request.user, "tasks.manage")
    task = get_object_or_404(_tasks(request), pk=task_id)
    if body.status not in TaskStatus.values:
        return refusal(422, "未保存", fields={"status": ", ".join(TaskStatus.values)})
    try:
        services.set_task(
            task=task, user=request.user, deadline=body.deadline, status=body.status, note=body.note
        )
    except services.TaskPermissionDenied as exc:
        return refusal(403, str(exc))
    return get_object_or_404(_tasks(request), pk=task_id)
