"""REST endpoints of plan tasks: plans, their tasks, a department's tasks, warnings, progress;
the plan office's writes (deadlines, a task's status, importing a plan in two steps, resolving the
departments an import created).

The same scope (``access/tasks.py``) and services as the pages; evidence files are uploaded
through the page (multipart), progress without evidence can be filed here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access import tasks as access
from dualcontrol.access.rules import allows, require
from dualcontrol.access.scope import visible_divisions
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


# --------------------------------------------------------------------------------------------
# importing a plan in the page's two steps (上传规划文件 → 确认导入): the file is parsed and staged
# for the user (``services.stage_plan``), then imported with the office's choices
# (``services.import_staged_plan``, audited ``tasks.plan.import``); rule ``tasks.manage``


class PlanImportIn(Schema):
    """``division``: GB/T 2260 code of the government whose departments the plan names."""

    division: str


class PreviewTaskOut(Schema):
    key: str
    number: str
    section: list[str]
    title: str
    lead: list[str]
    participating: list[str]
    targets: int
    deadline: dt.date | None


class DepartmentMatchOut(Schema):
    name: str
    department_id: int | None
    how: str = Field(..., description="exact | short_name | alias | new (created on import)")


class ProposedTargetOut(Schema):
    index: int
    indicator: str
    value: float | None
    unit: str
    base_year: int | None
    year: int | None
    division_id: int
    division_name: str
    region: str
    sector: str
    sentence: str
    accept: bool


class PlanPreviewOut(Schema):
    token: str = Field(..., description="names the staged file for the confirmation (one day)")
    filename: str
    division_code: str
    title: str
    issuing_body: str
    period_start: int | None
    period_end: int | None
    duplicate_of: int | None
    tasks: list[PreviewTaskOut]
    departments: list[DepartmentMatchOut]
    targets: list[ProposedTargetOut]


def _problems(detail: str, reasons: list[str], field: str = "") -> Any:
    return HttpStatus(
        422, {"detail": detail, "problems": [{"field": field, "reason": r} for r in reasons]}
    )


@router.post("/plans/import", response={200: PlanPreviewOut, **WRITE_ERRORS})
def preview_plan_import(
    request: HttpRequest, payload: Form[PlanImportIn], file: File[UploadedFile]
) -> Any:
    """上传规划文件（预览） (multipart: ``division``, ``file`` .txt/.md/.html/.docx/.pdf):
    ``services.stage_plan`` parses it and stages it for the confirmation — nothing is imported.
    Refused with every reason (422)."""
    require(request.user, "tasks.manage")
    division = (
        visible_divisions(request.user)
        .exclude(level="county")
        .filter(code=payload.division)
        .valid_on(timezone.localdate())
        .first()
    )
    if division is None:
        return refusal(422, _("未保存"), fields={"division": _("不在管辖范围内的区划代码")})
    data = file.read(load_rules().import_max_bytes + 1)  # the service refuses a larger file
    try:
        token, preview = services.stage_plan(
            data=data, filename=file.name or "", division=division, user=request.user
        )
    except services.ImportRejected as exc:
        return _problems(_("方案未导入，没有保存任何内容。"), exc.problems, "file")
    return {
        "token": token,
        "filename": preview.parsed.filename,
        "division_code": division.code,
        "title": preview.title,
        "issuing_body": preview.issuing_body,
        "period_start": preview.period_start,
        "period_end": preview.period_end,
        "duplicate_of": preview.duplicate_of.pk if preview.duplicate_of else None,
        "tasks": preview.rows,
        "departments": [
            {
                "name": m.name,
                "department_id": m.department.pk if m.department else None,
                "how": m.how,
            }
            for m in preview.matches
        ],
        "targets": [{**t, "division_id": t["division"]} for t in preview.targets],
    }


class TargetDecisionIn(Schema):
    """The decision on one proposed target (``index`` of the preview); fields left out keep
    the proposal's values."""

    index: int
    accept: bool
    indicator: str | None = None
    value: float | str | None = None
    unit: str | None = None
    base_year: int | None = None
    year: int | None = None
    division_id: int | None = None


class PlanConfirmIn(Schema):
    """The confirmation's fields (the preview page's form).  ``office_id``: only the province
    administrator picks the plan office (else the user's own department is the office).
    ``targets``: the decisions on the proposed targets — left out, the proposals are taken as
    previewed; given, exactly those with ``accept`` are adopted."""

    title: str
    issuing_body: str = ""
    period_start: int | None = None
    period_end: int | None = None
    tracking_start: dt.date
    default_deadline: dt.date | None = None
    deadlines_from_text: bool = True
    office_id: int | None = None
    targets: list[TargetDecisionIn] | None = None


def _target_fields(decisions: list[TargetDecisionIn]) -> dict[str, str]:
    """The decisions as the confirmation form posts them (what ``target_decisions`` reads)."""
    out: dict[str, str] = {}
    for d in decisions:
        if d.accept:
            out[f"tp-{d.index}-accept"] = "on"
        edited = d.model_dump(exclude={"index", "accept"}, exclude_none=True)
        for name, value in edited.items():
            out[f"tp-{d.index}-{name.removesuffix('_id')}"] = str(value)
    return out


@router.post("/plans/import/{token}/confirm", response={201: PlanOut, **WRITE_ERRORS})
def confirm_plan_import(request: HttpRequest, token: str, body: PlanConfirmIn) -> Any:
    """确认导入规划: ``services.import_staged_plan`` — the staged file with every task and its
    departments, all or nothing (audited ``tasks.plan.import``).  404: the token is unknown,
    expired or another user's; 409: the same file was already imported; 422: every problem."""
    require(request.user, "tasks.manage")
    staged = services.staged_plan(token=token, user=request.user)
    if staged is None:
        raise HttpError(404, _("预览已过期或不存在，请重新上传方案文件。"))
    division = get_object_or_404(visible_divisions(request.user), pk=staged.division_id)
    fields: dict[str, str] = {}
    if not body.title.strip():
        fields["title"] = _("方案名称不能为空。")
    office = None
    if body.office_id is not None:
        offices = services.plan_offices(request.user, division)
        office = offices.filter(pk=body.office_id).first() if offices is not None else None
        if office is None:
            fields["office_id"] = _("不能选择此部门为方案办公室")
    if fields:
        return refusal(422, _("方案未导入，没有保存任何内容。"), fields=fields)
    try:
        plan = services.import_staged_plan(
            staged=staged,
            division=division,
            user=request.user,
            target_fields=None if body.targets is None else _target_fields(body.targets),
            title=body.title,
            issuing_body=body.issuing_body,
            period_start=body.period_start,
            period_end=body.period_end,
            office=office,
            tracking_start=body.tracking_start,
            default_deadline=body.default_deadline,
            deadlines_from_text=body.deadlines_from_text,
        )
    except services.TaskPermissionDenied as exc:
        return refusal(403, str(exc))
    except services.PlanAlreadyImported as exc:
        return refusal(409, str(exc))
    except services.ImportRejected as exc:
        return _problems(_("方案未导入，没有保存任何内容。"), exc.problems)
    return HttpStatus(201, plan)


class ResolveIn(Schema):
    """``confirm`` (keep the department) or ``merge`` (into ``into_id``, a department of the
    same government)."""

    action: str
    into_id: int | None = None


class ResolvedOut(Schema):
    department_id: int
    name: str
    action: str
    into_id: int | None
    assignments_moved: int


@router.post(
    "/departments/imported/{department_id}/resolve", response={200: ResolvedOut, **WRITE_ERRORS}
)
def resolve_department(request: HttpRequest, department_id: int, body: ResolveIn) -> Any:
    """认定导入的部门: ``services.confirm_department`` or ``services.merge_department`` (the
    page 导入新建的部门); only the departments the user may resolve (404 otherwise)."""
    require(request.user, "tasks.manage")
    item = get_object_or_404(
        services.resolvable_departments(request.user), department_id=department_id
    )
    source = item.department
    if body.action not in ("confirm", "merge"):
        return refusal(422, _("未保存"), fields={"action": "confirm, merge"})
    into = None
    if body.action == "merge":
        into = (
            Department.objects.filter(division_id=source.division_id)
            .exclude(pk=source.pk)
            .filter(pk=body.into_id or 0)
            .first()
        )
        if into is None:
            return refusal(422, _("未保存"), fields={"into_id": _("请选择要合并到的部门。")})
    moved = 0
    try:
        if into is None:
            services.confirm_department(department=source, user=request.user)
        else:
            moved = services.merge_department(source=source, into=into, user=request.user)
    except services.TaskPermissionDenied as exc:
        return refusal(403, str(exc))
    except services.MergeRefused as exc:
        return refusal(409, str(exc))
    return {
        "department_id": department_id,
        "name": source.name,
        "action": body.action,
        "into_id": into.pk if into else None,
        "assignments_moved": moved,
    }


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
