"""Pages of plan-task tracking: plans and import, plan tree, matrix, a department's tasks,
task detail with progress filing, warnings, departments created by an import.

Every list filters and paginates on the server and exports to Excel (``?export=xlsx``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access import tasks as access
from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import visible_divisions
from dualcontrol.exports import xlsx_response
from dualcontrol.regions.models import Department, Division
from dualcontrol.tasks import queries, services
from dualcontrol.tasks.forms import (
    ConfirmForm,
    DeadlinesForm,
    MergeForm,
    ProgressForm,
    TaskEditForm,
    UploadForm,
)
from dualcontrol.tasks.models import (
    AssignmentRole,
    Effective,
    ImportedDepartment,
    Plan,
    PlanTask,
    ProgressReport,
    TaskAssignment,
)
from dualcontrol.tasks.rules import load_rules
from dualcontrol.uploads import download

PAGE_SIZE = 50


def _today() -> dt.date:
    return timezone.localdate()


def _filters(request: Any, keys: tuple[str, ...]) -> dict[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    return {k: source.get(k, "").strip() for k in keys}


def _page(request: HttpRequest, qs: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _names(task: PlanTask, role: str) -> list[str]:
    return [a.department.name for a in task.assignments.all() if a.role == role]


def _targets_text(task: PlanTask) -> str:
    out = []
    for t in task.targets:
        upper = f"–{t['value_max']}" if t.get("value_max") is not None else ""
        out.append(f"{t['value']}{upper}{t['unit']}（{t.get('year') or '—'}）")
    return "；".join(out)


def _assignments_prefetch() -> Prefetch:
    return Prefetch(
        "assignments",
        queryset=TaskAssignment.objects.select_related("department").order_by("position"),
    )


# --------------------------------------------------------------------------------------------
# Plans


@rule_required("tasks.view")
def plan_list(request: HttpRequest) -> HttpResponse:
    today, rules = _today(), load_rules()
    f = _filters(request, ("division", "year", "q"))
    qs = access.visible_plans(request.user)
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    if f["year"].isdigit():
        year = int(f["year"])
        qs = qs.filter(
            Q(period_start__lte=year, period_end__gte=year)
            | Q(period_start__isnull=True, period_end=year)
        )
    if f["q"]:
        qs = qs.filter(
            Q(title__icontains=f["q"]) | Q(issuing_body__icontains=f["q"]) | Q(filename=f["q"])
        )
    stale_before = today - dt.timedelta(days=rules.stalled_after_days)
    open_ = ~Q(tasks__status="completed")
    qs = qs.annotate(
        n_tasks=Count("tasks", distinct=True),
        n_completed=Count("tasks", filter=Q(tasks__status="completed"), distinct=True),
        n_overdue=Count("tasks", filter=open_ & Q(tasks__deadline__lt=today), distinct=True),
        n_stalled=Count(
            "tasks",
            filter=open_
            & (Q(tasks__deadline__gte=today) | Q(tasks__deadline__isnull=True))
            & (Q(tasks__status="stalled") | Q(tasks__last_activity_on__lt=stale_before)),
            distinct=True,
        ),
    ).order_by("-imported_at", "-pk")
    if request.GET.get("export") == "xlsx":
        headers = [
            _("方案名称"),
            _("所属政府"),
            _("印发机关"),
            _("规划期"),
            _("文件名"),
            _("任务数"),
            _("已完成"),
            _("逾期"),
            _("停滞"),
            _("方案办公室"),
            _("导入时间"),
            _("演示数据"),
        ]
        rows = (
            [
                p.title,
                p.division.name,
                p.issuing_body,
                p.period_label,
                p.filename,
                p.n_tasks,
                p.n_completed,
                p.n_overdue,
                p.n_stalled,
                p.office.name if p.office else "",
                f"{timezone.localtime(p.imported_at):%Y-%m-%d %H:%M}",
                _("是") if p.is_demo else "",
            ]
            for p in qs
        )
        return xlsx_response("plans.xlsx", "plans", headers, rows, user=request.user)
    return render(
        request,
        "tasks/plan_list.html",
        {
            "page": _page(request, qs),
            "filters": f,
            "divisions": visible_divisions(request.user).exclude(level="county"),
            "can_import": access.can_import(request.user),
            "rules": rules,
        },
    )


def _render_preview(
    request: HttpRequest,
    preview: services.Preview,
    form: ConfirmForm,
    decisions: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    from dualcontrol.targets.models import Target

    rows = decisions if decisions is not None else preview.targets
    return render(
        request,
        "tasks/plan_preview.html",
        {
            "preview": preview,
            "form": form,
            "task_count": len(preview.rows),
            "targets": rows,
            "indicator_choices": Target._meta.get_field("indicator").choices,
            "target_divisions": visible_divisions(request.user)
            .filter(pk__in=Division.objects.within(preview.division).values("pk"))
            .exclude(level="county")
            .order_by("code"),
        },
    )


@rule_required("tasks.manage")
def plan_import(request: HttpRequest) -> HttpResponse:
    divisions = visible_divisions(request.user).exclude(level="county")
    rules = load_rules()
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        divisions=divisions,
        initial={"division": divisions.filter(level="province").first()},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        division = form.cleaned_data["division"]
        if upload.size > rules.import_max_bytes:
            form.add_error(
                "file", _("文件超过 %(mb)s MB。") % {"mb": rules.import_max_bytes // (1024 * 1024)}
            )
        else:
            try:
                token, preview = services.stage_plan(
                    data=upload.read(), filename=upload.name, division=division, user=request.user
                )
            except services.ImportRejected as exc:
                for problem in exc.problems:
                    form.add_error("file", problem)
            else:
                office = access.own_department(request.user)
                confirm = ConfirmForm(
                    initial={
                        "token": token,
                        "title": preview.title,
                        "issuing_body": preview.issuing_body,
                        "period_start": preview.period_start,
                        "period_end": preview.period_end,
                        "tracking_start": _today(),
                        "default_deadline": dt.date(preview.period_end, 12, 31)
                        if preview.period_end
                        else None,
                        "deadlines_from_text": True,
                        "office": office.pk if office else None,
                    },
                    offices=services.plan_offices(request.user, division),
                )
                return _render_preview(request, preview, confirm)
    return render(request, "tasks/plan_import.html", {"form": form, "rules": rules})


@require_POST
@rule_required("tasks.manage")
def plan_import_confirm(request: HttpRequest) -> HttpResponse:
    staged = services.staged_plan(token=request.POST.get("token", ""), user=request.user)
    if staged is None:
        messages.error(request, _("预览已过期或不存在，请重新上传方案文件。"))
        return redirect("tasks:import")
    division = get_object_or_404(visible_divisions(request.user), pk=staged.division_id)
    form = ConfirmForm(request.POST, offices=services.plan_offices(request.user, division))
    if not form.is_valid():
        try:
            preview = services.preview_plan(
                data=staged.data, filename=staged.filename, division=division
            )
        except services.ImportRejected as exc:  # pragma: no cover - it parsed a moment ago
            messages.error(request, str(exc))
            return redirect("tasks:import")
        return _render_preview(request, preview, form)
    c = form.cleaned_data
    try:
        plan = services.import_staged_plan(
            staged=staged,
            division=division,
            user=request.user,
            target_fields=request.POST,
            title=c["title"],
            issuing_body=c["issuing_body"],
            period_start=c["period_start"],
            period_end=c["period_end"],
            office=c.get("office"),
            tracking_start=c["tracking_start"],
            default_deadline=c["default_deadline"],
            deadlines_from_text=c["deadlines_from_text"],
        )
    except services.TargetsRejected as exc:
        for problem in exc.problems:
            form.add_error(None, problem)
        return _render_preview(request, exc.preview, form, exc.decisions)
    except services.ImportRejected as exc:
        for problem in exc.problems:
            messages.error(request, problem)
        messages.error(request, _("方案未导入，没有保存任何内容。"))
        return redirect("tasks:import")
    created = ImportedDepartment.objects.filter(plan=plan).count()
    messages.success(
        request,
        _("已导入“%(title)s”：%(n)s 项任务，%(a)s 条责任分工。")
        % {
            "title": plan.title,
            "n": plan.tasks.count(),
            "a": TaskAssignment.objects.filter(task__plan=plan).count(),
        },
    )
    if created:
        messages.info(
            request,
            _(
                "%(n)s 个部门名称没有匹配到现有部门，已新建并标记，请在“导入新建的部门”中确认或合并。"
            )
            % {"n": created},
        )
    return redirect("tasks:plan", pk=plan.pk)


def _plan(request: HttpRequest, pk: int) -> Plan:
    return get_object_or_404(access.visible_plans(request.user), pk=pk)


TASK_FILTERS = ("section", "department", "role", "status", "q")


def _task_export(filename: str, tasks: Any, today: dt.date, extra: Any = None) -> HttpResponse:
    headers = [
        _("方案"),
        _("编号路径"),
        _("编号"),
        _("所在章节"),
        _("任务"),
        _("牵头单位"),
        _("参加单位"),
        _("候选指标"),
        _("完成期限"),
        _("状态"),
        _("完成进度（%）"),
        _("最近进展日期"),
        _("任务原文"),
    ]
    labels = dict(Effective.choices)

    def rows() -> Any:
        for t in tasks:
            yield [
                t.plan.title,
                t.key,
                t.number,
                " › ".join(t.section),
                t.title,
                "、".join(_names(t, AssignmentRole.LEAD)),
                "、".join(_names(t, AssignmentRole.PARTICIPATING)),
                _targets_text(t),
                t.deadline.isoformat() if t.deadline else "",
                str(labels.get(t.effective, t.effective)),
                t.percent_complete,
                t.last_activity_on.isoformat(),
                t.text,
            ]

    return xlsx_response(filename, "tasks", headers, rows())


def _plan_tasks(request: HttpRequest, plan: Plan, f: dict[str, str]) -> Any:
    rules = load_rules()
    qs = queries.with_effective(
        PlanTask.objects.filter(plan=plan), _today(), rules.stalled_after_days
    )
    return queries.filter_tasks(qs, f).order_by("position")


def _mark_headings(tasks: list[PlanTask]) -> None:
    previous: list[str] = []
    for t in tasks:
        section = list(t.section)
        t.new_headings = [  # type: ignore[attr-defined]
            (level, heading)
            for level, heading in enumerate(section)
            if previous[: level + 1] != section[: level + 1]
        ]
        previous = section


@rule_required("tasks.view")
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    today, rules = _today(), load_rules()
    f = _filters(request, TASK_FILTERS)
    qs = (
        _plan_tasks(request, plan, f)
        .select_related("plan")
        .prefetch_related(_assignments_prefetch())
    )
    if request.GET.get("export") == "xlsx":
        return _task_export(f"plan-{plan.pk}-tasks.xlsx", qs, today)
    page = _page(request, qs)
    _mark_headings(list(page))
    all_tasks = queries.with_effective(
        PlanTask.objects.filter(plan=plan), today, rules.stalled_after_days
    )
    return render(
        request,
        "tasks/plan_detail.html",
        {
            "plan": plan,
            "page": page,
            "filters": f,
            "sections": queries.sections_of(plan.pk),
            "departments": queries.departments_of(plan.pk),
            "statuses": Effective.choices,
            "roles": AssignmentRole.choices,
            "counts": queries.status_counts(all_tasks),
            "total": plan.tasks.count(),
            "can_manage": access.can_manage(request.user, plan),
            "can_oversee": access.can_oversee(request.user, plan),
            "deadlines_form": DeadlinesForm(),
            "matched": page.paginator.count,
            "imported": ImportedDepartment.objects.filter(plan=plan).count(),
        },
    )


@require_POST
@rule_required("tasks.manage")
def plan_deadlines(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not access.can_manage(request.user, plan):
        raise PermissionDenied
    f = _filters(request, TASK_FILTERS)
    form = DeadlinesForm(request.POST)
    if form.is_valid():
        ids = list(_plan_tasks(request, plan, f).values_list("pk", flat=True))
        n = services.set_deadlines(
            plan=plan,
            user=request.user,
            deadline=form.cleaned_data["deadline"],
            task_ids=ids,
            only_missing=form.cleaned_data["only_missing"],
        )
        messages.success(request, _("已为 %(n)s 项任务设定期限。") % {"n": n})
    else:
        messages.error(request, _("期限格式不正确。"))
    query = urlencode({k: v for k, v in f.items() if v})
    return redirect(reverse("tasks:plan", args=[plan.pk]) + (f"?{query}" if query else ""))


@rule_required("tasks.view")
def plan_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not access.can_oversee(request.user, plan):
        raise PermissionDenied
    today, rules = _today(), load_rules()
    f = _filters(request, TASK_FILTERS)
    qs = (
        _plan_tasks(request, plan, f)
        .select_related("plan")
        .prefetch_related(_assignments_prefetch())
    )
    departments = list(queries.departments_of(plan.pk))
    labels = dict(Effective.choices)
    if request.GET.get("export") == "xlsx":
        headers = [_("编号路径"), _("任务"), _("完成期限"), _("状态")] + [
            d.name for d in departments
        ]

        def rows() -> Any:
            for task, cells in queries.matrix_rows(
                list(qs), departments, today, rules.stalled_after_days
            ):
                yield [
                    task.key,
                    task.title,
                    task.deadline.isoformat() if task.deadline else "",
                    str(labels[task.effective]),
                ] + [f"{c.mark}·{labels[c.status]}" if c else "" for c in cells]

        return xlsx_response(
            f"plan-{plan.pk}-matrix.xlsx", "matrix", headers, rows(), user=request.user
        )
    page = _page(request, qs)
    return render(
        request,
        "tasks/plan_matrix.html",
        {
            "plan": plan,
            "page": page,
            "rows": queries.matrix_rows(list(page), departments, today, rules.stalled_after_days),
            "departments": departments,
            "filters": f,
            "sections": queries.sections_of(plan.pk),
            "statuses": Effective.choices,
            "roles": AssignmentRole.choices,
        },
    )


# --------------------------------------------------------------------------------------------
# A department's tasks


def _department_page(request: HttpRequest, department: Department) -> HttpResponse:
    today, rules = _today(), load_rules()
    f = _filters(request, ("plan", "role", "status", "q"))
    qs = queries.with_effective(
        access.visible_tasks(request.user).filter(assignments__department=department),
        today,
        rules.stalled_after_days,
    )
    if f["role"] in AssignmentRole.values:
        qs = qs.filter(assignments__department=department, assignments__role=f["role"])
    qs = (
        queries.filter_tasks(qs, {k: f[k] for k in ("plan", "status", "q")})
        .select_related("plan")
        .prefetch_related(_assignments_prefetch())
        .order_by("plan_id", "position")
    )
    labels = dict(Effective.choices)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("方案"),
            _("编号路径"),
            _("任务"),
            _("本部门分工"),
            _("牵头单位"),
            _("完成期限"),
            _("任务状态"),
            _("本部门状态"),
            _("本部门进度（%）"),
            _("本部门最近报送"),
        ]

        def rows() -> Any:
            for t in qs:
                mine = next(a for a in t.assignments.all() if a.department_id == department.pk)
                yield [
                    t.plan.title,
                    t.key,
                    t.title,
                    mine.get_role_display(),
                    "、".join(_names(t, AssignmentRole.LEAD)),
                    t.deadline.isoformat() if t.deadline else "",
                    str(labels[t.effective]),
                    str(labels[queries.cell_status(mine, t, today, rules.stalled_after_days)]),
                    mine.percent_complete,
                    f"{timezone.localtime(mine.last_report_at):%Y-%m-%d}"
                    if mine.last_report_at
                    else "",
                ]

        return xlsx_response(
            f"department-{department.pk}-tasks.xlsx", "tasks", headers, rows(), user=request.user
        )
    page = _page(request, qs)
    for t in page:
        mine = next(a for a in t.assignments.all() if a.department_id == department.pk)
        t.mine = mine  # type: ignore[attr-defined]
        t.mine_status = queries.cell_status(mine, t, today, rules.stalled_after_days)  # type: ignore[attr-defined]
    own = access.own_department(request.user)
    may_file = (own is not None and own.pk == department.pk) or access.is_plan_administrator(
        request.user
    )
    all_mine = queries.with_effective(
        access.visible_tasks(request.user).filter(assignments__department=department),
        today,
        rules.stalled_after_days,
    )
    return render(
        request,
        "tasks/department_tasks.html",
        {
            "department": department,
            "page": page,
            "filters": f,
            "plans": access.visible_plans(request.user)
            .filter(tasks__assignments__department=department)
            .distinct(),
            "statuses": Effective.choices,
            "roles": AssignmentRole.choices,
            "counts": queries.status_counts(all_mine),
            "may_file": may_file,
            "is_own": own is not None and own.pk == department.pk,
            "other_departments": access.viewable_departments(request.user)
            .filter(plan_assignments__isnull=False)
            .distinct()
            .order_by("division__code", "name"),
        },
    )


@rule_required("tasks.view")
def my_department(request: HttpRequest) -> HttpResponse:
    own = access.own_department(request.user)
    if own is not None:
        return _department_page(request, own)
    departments = (
        access.viewable_departments(request.user)
        .filter(plan_assignments__isnull=False)
        .annotate(n=Count("plan_assignments", distinct=True))
        .order_by("division__code", "name")
    )
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            "departments.xlsx",
            "departments",
            [_("部门"), _("所属政府"), _("责任分工数")],
            ([d.name, d.division.name, d.n] for d in departments),
            user=request.user,
        )
    return render(
        request,
        "tasks/department_pick.html",
        {"page": _page(request, departments), "filters": {}},
    )


@rule_required("tasks.view")
def department_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(access.viewable_departments(request.user), pk=pk)
    return _department_page(request, department)


# --------------------------------------------------------------------------------------------
# A task


def _task(request: HttpRequest, pk: int) -> PlanTask:
    return get_object_or_404(
        access.visible_tasks(request.user).select_related("plan", "plan__division"), pk=pk
    )


@rule_required("tasks.view")
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    return _task_page(request, task)


def _task_page(
    request: HttpRequest,
    task: PlanTask,
    progress_form: ProgressForm | None = None,
    edit_form: TaskEditForm | None = None,
) -> HttpResponse:
    today, rules = _today(), load_rules()
    filing = access.filing_departments(request.user, task)
    can_manage = access.can_manage(request.user, task.plan)
    assignments = list(task.assignments.select_related("department"))
    for a in assignments:
        a.cell = queries.cell_status(a, task, today, rules.stalled_after_days)  # type: ignore[attr-defined]
    reports = task.reports.select_related("department", "submitted_by")
    if request.GET.get("export") == "xlsx":
        headers = [
            _("报送时间"),
            _("报送部门"),
            _("报送期"),
            _("完成进度（%）"),
            _("推进受阻"),
            _("进展情况"),
            _("佐证材料"),
            _("报送人"),
            _("演示数据"),
        ]
        rows = (
            [
                f"{timezone.localtime(r.submitted_at):%Y-%m-%d %H:%M}",
                r.department.name,
                r.period,
                r.percent_complete,
                _("是") if r.blocked else "",
                r.narrative,
                r.evidence_name,
                r.submitted_by.username if r.submitted_by else "",
                _("是") if r.is_demo else "",
            ]
            for r in reports
        )
        return xlsx_response(
            f"task-{task.pk}-progress.xlsx", "progress", headers, rows, user=request.user
        )
    if progress_form is None and filing:
        progress_form = ProgressForm(departments=filing)
    if edit_form is None and can_manage:
        edit_form = TaskEditForm(initial={"deadline": task.deadline, "status": task.status})
    effective = task.effective_status(today, rules.stalled_after_days)
    return render(
        request,
        "tasks/task_detail.html",
        {
            "task": task,
            "plan": task.plan,
            "effective": effective,
            "effective_label": dict(Effective.choices)[effective],
            "assignments": assignments,
            "page": _page(request, reports, 20),
            "filters": {},
            "progress_form": progress_form,
            "edit_form": edit_form,
            "can_manage": can_manage,
            "rules": rules,
            "days_quiet": (today - task.last_activity_on).days,
            "overdue_days": (today - task.deadline).days
            if task.deadline and task.deadline < today
            else 0,
        },
    )


@rule_required("tasks.view")
def task_progress(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    filing = access.filing_departments(request.user, task)
    if not filing:
        raise PermissionDenied
    if request.method != "POST":
        return redirect("tasks:task", pk=task.pk)
    form = ProgressForm(request.POST, request.FILES, departments=filing)
    if form.is_valid():
        c = form.cleaned_data
        try:
            services.file_progress(
                task=task,
                department=c["department"],
                user=request.user,
                period=c["period"],
                narrative=c["narrative"],
                percent_complete=c["percent_complete"],
                blocked=c["blocked"],
                evidence=c["evidence"],
            )
        except services.ProgressRejected as exc:
            for name, reason in exc.problems.items():
                form.add_error(name if name in form.fields else None, reason)
        except services.TaskPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("进展已报送。"))
            return redirect("tasks:task", pk=task.pk)
    return _task_page(request, task, progress_form=form)


@require_POST
@rule_required("tasks.manage")
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    if not access.can_manage(request.user, task.plan):
        raise PermissionDenied
    form = TaskEditForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, edit_form=form)
    c = form.cleaned_data
    services.set_task(
        task=task, user=request.user, deadline=c["deadline"], status=c["status"], note=c["note"]
    )
    messages.success(request, _("已更新期限和状态。"))
    return redirect("tasks:task", pk=task.pk)


@rule_required("tasks.view")
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        ProgressReport.objects.filter(task__in=access.visible_tasks(request.user)), pk=pk
    )
    if not report.evidence:
        raise Http404
    return download(report.evidence, report.evidence_name or "evidence")


# --------------------------------------------------------------------------------------------
# Warnings


@rule_required("tasks.view")
def warnings(request: HttpRequest) -> HttpResponse:
    today, rules = _today(), load_rules()
    f = _filters(request, ("plan", "kind", "department", "q"))
    qs = queries.with_effective(PlanTask.objects.all(), today, rules.stalled_after_days)
    qs = access.warning_scope(request.user, qs)
    kinds = [f["kind"]] if f["kind"] in queries.WARNING_KINDS else list(queries.WARNING_KINDS)
    qs = queries.filter_tasks(
        qs.filter(effective__in=kinds),
        {"plan": f["plan"], "department": f["department"], "q": f["q"]},
    )
    qs = (
        qs.select_related("plan")
        .prefetch_related(_assignments_prefetch())
        .order_by("effective", "deadline", "last_activity_on", "plan_id", "position")
    )
    labels = dict(Effective.choices)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("预警"),
            _("方案"),
            _("编号路径"),
            _("任务"),
            _("牵头单位"),
            _("参加单位"),
            _("完成期限"),
            _("最近进展日期"),
            _("完成进度（%）"),
            _("原因"),
        ]
        rows = (
            [
                str(labels[t.effective]),
                t.plan.title,
                t.key,
                t.title,
                "、".join(_names(t, AssignmentRole.LEAD)),
                "、".join(_names(t, AssignmentRole.PARTICIPATING)),
                t.deadline.isoformat() if t.deadline else "",
                t.last_activity_on.isoformat(),
                t.percent_complete,
                queries.warning_reason(t, today),
            ]
            for t in qs
        )
        return xlsx_response("task-warnings.xlsx", "warnings", headers, rows, user=request.user)
    page = _page(request, qs)
    for t in page:
        t.reason = queries.warning_reason(t, today)  # type: ignore[attr-defined]
    plans = access.visible_plans(request.user)
    return render(
        request,
        "tasks/warnings.html",
        {
            "page": page,
            "filters": f,
            "plans": plans,
            "departments": queries.departments_of().filter(plan_assignments__task__plan__in=plans),
            "kinds": [(k, labels[k]) for k in queries.WARNING_KINDS],
            "rules": rules,
            "today": today,
        },
    )


# --------------------------------------------------------------------------------------------
# Departments created by an import


def _resolvable(request: HttpRequest) -> Any:
    return services.resolvable_departments(request.user)


@rule_required("tasks.manage")
def imported_departments(request: HttpRequest) -> HttpResponse:
    f = _filters(request, ("q",))
    qs = _resolvable(request).annotate(n=Count("department__plan_assignments", distinct=True))
    if f["q"]:
        qs = qs.filter(department__name__icontains=f["q"])
    qs = qs.order_by("department__division__code", "-n", "department__name")
    if request.GET.get("export") == "xlsx":
        rows = (
            [i.department.name, i.department.division.name, i.plan.title if i.plan else "", i.n]
            for i in qs
        )
        return xlsx_response(
            "imported-departments.xlsx",
            "departments",
            [_("部门名称（原文）"), _("所属政府"), _("来源方案"), _("责任分工数")],
            rows,
            user=request.user,
        )
    page = _page(request, qs)
    for item in page:
        others = dict(
            Department.objects.filter(division_id=item.department.division_id)
            .exclude(pk=item.department.pk)
            .filter(created_by_import__isnull=True)
            .values_list("name", "pk")
        )
        similar = queries.similar_departments(item.department.name, list(others))
        item.suggestions = [name for name, _score in similar]  # type: ignore[attr-defined]
        item.form = MergeForm(source=item.department)  # type: ignore[attr-defined]
        if similar and similar[0][1] >= 0.75:  # preselect only a close match
            item.form.fields["into"].initial = others[similar[0][0]]  # type: ignore[attr-defined]
    return render(request, "tasks/imported_departments.html", {"page": page, "filters": f})


@require_POST
@rule_required("tasks.manage")
def resolve_department(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(_resolvable(request), department_id=pk)
    source = item.department
    try:
        if request.POST.get("action") == "confirm":
            services.confirm_department(department=source, user=request.user)
            messages.success(request, _("已确认“%(name)s”为独立部门。") % {"name": source.name})
        else:
            form = MergeForm(request.POST, source=source)
            if not form.is_valid():
                messages.error(request, _("请选择要合并到的部门。"))
                return redirect("tasks:imported-departments")
            into = form.cleaned_data["into"]
            n = services.merge_department(source=source, into=into, user=request.user)
            messages.success(
                request,
                _("已将“%(a)s”合并到“%(b)s”（%(n)s 条责任分工），以后导入时自动匹配。")
                % {"a": source.name, "b": into.name, "n": n},
            )
    except services.MergeRefused as exc:
        messages.error(request, str(exc))
    except services.TaskPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("tasks:imported-departments")
