"""Project pages: list, project page (schedule, evidence, verification), registration, the ledger and
its region drill-down (“which projects make up our reduction, and which are late”), alerts.

Thin: queries in :mod:`.queries` and :mod:`.ledger`, writes in :mod:`.services`, access through
:mod:`dualcontrol.access.scope`.  Lists filter and paginate on the server and export to Excel;
htmx swaps the list table when the filters change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import allows, rule_required
from dualcontrol.access.scope import visible_divisions, visible_entities
from dualcontrol.audit.models import AuditEntry
from dualcontrol.exports import XLSX, xlsx_response
from dualcontrol.projects import ledger as ledger_mod
from dualcontrol.projects import queries, services
from dualcontrol.projects.forms import (
    DateForm,
    EvidenceForm,
    MilestoneForm,
    NoteForm,
    ProjectForm,
    ReasonForm,
    VerifyForm,
    type_choices,
)
from dualcontrol.projects.models import (
    Evidence,
    Kind,
    Milestone,
    Project,
    ProjectAlert,
    Status,
)
from dualcontrol.projects.rules import Measure, project_rules
from dualcontrol.redirects import redirect_next
from dualcontrol.uploads import download

PAGE_SIZE = 50


def _filters(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in names}


def _num(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _common(request: HttpRequest) -> dict[str, Any]:
    """Context every project page shares: the rules and the user's unread alerts."""
    user = request.user
    return {
        "rules": project_rules(),
        "unread_alerts": ProjectAlert.objects.filter(recipient=user, read_at__isnull=True).count()
        if user.is_authenticated
        else 0,
        "is_staff_user": allows(user, "projects.manage"),
    }


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _figure_map(project: Project) -> dict[str, tuple[Decimal, Decimal | None]]:
    return {f.measure: (f.planned_amount, f.verified_amount) for f in project.figures.all()}


def _figure_text(project: Project, which: int) -> str:
    rules = project_rules()
    parts = []
    for code, amounts in sorted(_figure_map(project).items()):
        value = amounts[which]
        if value:
            m = rules.measures.get(code)
            parts.append(f"{m.label if m else code} {_num(value)} {m.unit if m else ''}".strip())
    return "；".join(parts)


# --------------------------------------------------------------------------------------------
# List
# --------------------------------------------------------------------------------------------


@rule_required("projects.view")
def project_list(request: HttpRequest) -> HttpResponse:
    f = _filters(request, queries.FILTERS)
    today = timezone.localdate()
    qs = queries.filtered(project_access.visible_projects(request.user), f, today).prefetch_related(
        "figures", "milestones"
    )
    rules = project_rules()
    if request.GET.get("export") == "xlsx":
        measures = list(rules.measures.values())
        headers = [
            _("项目编号"),
            _("项目名称"),
            _("项目类别"),
            _("项目类型"),
            _("项目单位"),
            _("所在区划代码"),
            _("所在区划"),
            _("状态"),
            _("建设滞后"),
            _("滞后事项"),
            _("计划开工日期"),
            _("计划完成日期"),
            _("实际开工日期"),
            _("实际完成（验收）日期"),
            _("核算年度"),
            *[_("计划%(m)s（%(u)s）") % {"m": m.label, "u": m.unit} for m in measures],
            *[_("核定%(m)s（%(u)s）") % {"m": m.label, "u": m.unit} for m in measures],
            _("不予认可理由"),
            _("演示数据"),
        ]

        def row(p: Project) -> list[Any]:
            figs = _figure_map(p)
            why = queries.lateness(p, today)
            return [
                p.pk,
                p.name,
                p.get_kind_display(),
                rules.type_label(p.type_code),
                p.owner_label,
                p.division.code,
                p.division.name,
                p.get_status_display(),
                _("是") if why else "",
                f"{why.what}（{why.due.isoformat()}）" if why else "",
                p.planned_start.isoformat(),
                p.planned_completion.isoformat(),
                p.actual_start.isoformat() if p.actual_start else "",
                p.actual_completion.isoformat() if p.actual_completion else "",
                p.accounting_year,
                *[float(figs[m.code][0]) if m.code in figs else None for m in measures],
                *[
                    float(v) if m.code in figs and (v := figs[m.code][1]) is not None else None
                    for m in measures
                ],
                p.rejection_reason,
                _("是") if p.is_synthetic else "",
            ]

        return xlsx_response(
            "projects.xlsx", "projects", headers, (row(p) for p in qs), user=request.user
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "project": p,
            "type": rules.type_label(p.type_code),
            "planned": _figure_text(p, 0),
            "verified": _figure_text(p, 1),
            "late": queries.lateness(p, today),
        }
        for p in page.object_list
    ]
    context = {
        **_common(request),
        "page": page,
        "rows": rows,
        "filters": f,
        "kinds": Kind.choices,
        "types": type_choices(),
        "statuses": Status.choices,
        "measures": list(rules.measures.values()),
        "divisions": visible_divisions(request.user).exclude(level="county"),
        "can_add": allows(request.user, "projects.manage"),
    }
    template = (
        "projects/_list_table.html" if request.headers.get("HX-Request") else "projects/list.html"
    )
    return render(request, template, context)


# --------------------------------------------------------------------------------------------
# Project page
# --------------------------------------------------------------------------------------------


def _visible(request: HttpRequest, pk: int) -> Project:
    return get_object_or_404(
        project_access.visible_projects(request.user).prefetch_related("figures", "milestones"),
        pk=pk,
    )


ACTION_LABELS = {
    "projects.project.register": "登记",
    "projects.project.update": "修改",
    "projects.project.start": "开工",
    "projects.project.complete": "完工，提交核查",
    "projects.project.verify": "认可",
    "projects.project.reject": "不予认可",
    "projects.project.resubmit": "重新提交核查",
    "projects.milestone.add": "新增节点",
    "projects.milestone.done": "节点完成",
    "projects.evidence.upload": "上传材料",
}


@rule_required("projects.view")
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _visible(request, pk)
    user = request.user
    rules = project_rules()
    today = timezone.localdate()
    ptype = rules.types.get(project.type_code)
    figs = _figure_map(project)
    figure_rows = [
        (rules.measures[code], figs.get(code, (Decimal(0), None)))
        for code in (ptype.measures if ptype else sorted(figs))
        if code in rules.measures
    ]
    evidence = list(project.evidence.select_related("uploaded_by").order_by("uploaded_at", "pk"))
    on_file = {e.kind for e in evidence}
    required = [
        (rules.evidence[k], k in on_file)
        for k in (ptype.evidence if ptype else ())
        if k in rules.evidence
    ]
    history = AuditEntry.objects.filter(
        object_type="projects.project", object_id=str(project.pk)
    ).order_by("at", "pk")
    can_report = project_access.can_report(user, project)
    can_verify = project_access.can_verify(user, project)
    context = {
        **_common(request),
        "project": project,
        "ptype": ptype,
        "type_label": rules.type_label(project.type_code),
        "kind_label": rules.kind_label(project.kind),
        "figure_rows": figure_rows,
        "milestones": [
            (m, m.done_on is None and m.due_date < today) for m in project.milestones.all()
        ],
        "evidence": [
            (e, rules.evidence[e.kind].label if e.kind in rules.evidence else e.kind)
            for e in evidence
        ],
        "required": required,
        "missing": [e for e, ok in required if not ok],
        "verifications": [
            (
                v,
                [
                    (
                        rules.measures[c].label if c in rules.measures else c,
                        a,
                        rules.measures[c].unit if c in rules.measures else "",
                    )
                    for c, a in sorted((v.figures or {}).items())
                ],
                [rules.evidence[k].label if k in rules.evidence else k for k in v.missing_evidence],
            )
            for v in project.verifications.select_related("decided_by").all()
        ],
        "late": queries.lateness(project, today),
        "history": [(e, ACTION_LABELS.get(e.action, e.action)) for e in history],
        "can_manage": project_access.can_manage(user, project),
        "can_report": can_report,
        "can_verify": can_verify and project.status in (Status.COMPLETED, Status.VERIFIED),
        "can_resubmit": can_report and project.status == Status.REJECTED,
        "evidence_form": EvidenceForm(),
        "milestone_form": MilestoneForm(),
        "date_form": DateForm(initial={"day": today}),
        "note_form": NoteForm(),
        "today": today,
    }
    return render(request, "projects/detail.html", context)


def _post_action(
    request: HttpRequest, project: Project, act: Callable[[], object], success: str
) -> HttpResponse:
    try:
        act()
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("projects:detail", pk=project.pk)


@rule_required("projects.view")
def project_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: 开工, 完工, 新增节点, 节点完成, 重新提交 (services check who may)."""
    project = _visible(request, pk)  # outside the scope: 404 before anything else
    if request.method != "POST":
        return redirect("projects:detail", pk=pk)
    user = request.user
    action = request.POST.get("action", "")
    if action in ("start", "complete"):
        form = DateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写有效日期。"))
            return redirect("projects:detail", pk=pk)
        day = form.cleaned_data["day"]
        if action == "start":
            return _post_action(
                request,
                project,
                lambda: services.start_construction(user=user, project=project, started_on=day),
                _("已登记开工。"),
            )
        return _post_action(
            request,
            project,
            lambda: services.complete_project(user=user, project=project, completed_on=day),
            _("已登记完工，等待核查。"),
        )
    if action == "milestone":
        mform = MilestoneForm(request.POST)
        if not mform.is_valid():
            messages.error(request, _("请填写节点名称和计划日期。"))
            return redirect("projects:detail", pk=pk)
        return _post_action(
            request,
            project,
            lambda: services.add_milestone(user=user, project=project, **mform.cleaned_data),
            _("节点已添加。"),
        )
    if action == "milestone_done":
        milestone = get_object_or_404(Milestone, pk=request.POST.get("milestone"), project=project)
        form = DateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写有效日期。"))
            return redirect("projects:detail", pk=pk)
        return _post_action(
            request,
            project,
            lambda: services.complete_milestone(
                user=user, milestone=milestone, done_on=form.cleaned_data["day"]
            ),
            _("节点已完成。"),
        )
    if action == "resubmit":
        return _post_action(
            request,
            project,
            lambda: services.resubmit_project(
                user=user, project=project, note=request.POST.get("note", "")
            ),
            _("已重新提交核查。"),
        )
    return HttpResponse(status=400)


@rule_required("projects.view")
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = _visible(request, pk)
    if not project_access.can_report(request.user, project):
        raise PermissionDenied
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.upload_evidence(
                user=request.user,
                project=project,
                kind=form.cleaned_data["kind"],
                document=form.cleaned_data["document"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("证明材料已上传。"))
            return redirect("projects:detail", pk=project.pk)
    return render(
        request,
        "projects/evidence_form.html",
        {**_common(request), "project": project, "form": form},
    )


@rule_required("projects.view")
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        Evidence.objects.filter(
            project__in=project_access.visible_projects(request.user).values("pk")
        ),
        pk=pk,
    )
    return download(evidence.document, evidence.document_name or "document")


@rule_required("projects.manage")
def project_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """核查: 认可 with the verified figures, or 不予认可 with a reason."""
    project = _visible(request, pk)
    if not project_access.can_verify(request.user, project):
        raise PermissionDenied
    rules = project_rules()
    ptype = rules.types.get(project.type_code)
    measures = ptype.measures if ptype else ()
    figs = _figure_map(project)
    initial = {f"verified_{code}": figs[code][0] for code in measures if code in figs}
    verify_form = VerifyForm(measures=measures, initial=initial)
    reason_form = ReasonForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "verify":
                verify_form = VerifyForm(request.POST, measures=measures)
                if verify_form.is_valid():
                    outcome = services.verify_project(
                        user=request.user,
                        project=project,
                        figures=verify_form.figures(),
                        accounting_year=verify_form.cleaned_data["accounting_year"],
                        note=verify_form.cleaned_data["note"],
                    )
                    v = outcome.verification
                    if v.decision == "verified":
                        messages.success(
                            request, _("已认可，核算年度 %(y)s。") % {"y": v.accounting_year}
                        )
                        if outcome.sync is not None:
                            messages.info(
                                request,
                                _("已写入地区统计数据（%(n)s 个地区）。")
                                % {"n": outcome.sync.written}
                                + (
                                    _("缺少 %(y)s 年度统计数据、未写入的地区：%(r)s。")
                                    % {
                                        "y": outcome.sync.year,
                                        "r": "、".join(n for _c, n in outcome.sync.skipped),
                                    }
                                    if outcome.sync.skipped
                                    else ""
                                ),
                            )
                        if outcome.sync_error:
                            messages.error(request, outcome.sync_error)
                    else:
                        messages.error(request, _("不予认可：%(r)s") % {"r": v.reason})
                    return redirect("projects:detail", pk=project.pk)
            elif action == "reject":
                reason_form = ReasonForm(request.POST)
                if reason_form.is_valid():
                    services.reject_project(
                        user=request.user,
                        project=project,
                        reason=reason_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("已记录为不予认可。"))
                    return redirect("projects:detail", pk=project.pk)
            else:
                return HttpResponse(status=400)
        except ValidationError as exc:
            _apply_errors(verify_form if action == "verify" else reason_form, exc)
    return render(
        request,
        "projects/verify.html",
        {
            **_common(request),
            "project": project,
            "type_label": rules.type_label(project.type_code),
            "verify_form": verify_form,
            "reason_form": reason_form,
            "missing": [rules.evidence[k] for k in services.missing_evidence(project, rules)],
            "can_verify_now": project.status == Status.COMPLETED,
            "ptype": ptype,
        },
    )


# --------------------------------------------------------------------------------------------
# Registration and editing (province and city staff, in scope)
# --------------------------------------------------------------------------------------------


def _project_form(request: HttpRequest, initial: dict[str, Any] | None = None) -> ProjectForm:
    return ProjectForm(
        request.POST or None,
        initial=initial,
        divisions=project_access.registrable_divisions(request.user),
        entities=visible_entities(request.user).order_by("division__code", "name"),
    )


@rule_required("projects.manage")
def project_create(request: HttpRequest) -> HttpResponse:
    form = _project_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.register_project(
                user=request.user, planned=form.planned(), **form.values()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("项目已登记。"))
            return redirect("projects:detail", pk=project.pk)
    return render(
        request, "projects/form.html", {**_common(request), "form": form, "project": None}
    )


@rule_required("projects.manage")
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _visible(request, pk)
    if not project_access.can_manage(request.user, project):
        raise PermissionDenied
    initial: dict[str, Any] = {k: getattr(project, k) for k in services.EDITABLE}
    initial.update({f"planned_{f.measure}": f.planned_amount for f in project.figures.all()})
    form = _project_form(request, initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(
                user=request.user, project=project, planned=form.planned(), **form.values()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("项目已保存。"))
            return redirect("projects:detail", pk=project.pk)
    return render(
        request, "projects/form.html", {**_common(request), "form": form, "project": project}
    )


# --------------------------------------------------------------------------------------------
# Ledger (台账) and region drill-down
# --------------------------------------------------------------------------------------------


def _measure(request: HttpRequest) -> Measure:
    rules = project_rules()
    return rules.measure(request.GET.get("pollutant", "")) or rules.measures["cod"]


def _year(request: HttpRequest, top: Any, today: dt.date) -> int:
    text = request.GET.get("year", "").strip()
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return ledger_mod.default_year(top, today)


@rule_required("projects.manage")
def ledger_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    top = project_access.ledger_top(request.user, request.GET.get("region", "").strip() or None)
    if top is None:
        raise Http404
    measure = _measure(request)
    year = _year(request, top, today)
    ledger = ledger_mod.build_ledger(top=top, measure=measure, year=year, today=today)
    if request.GET.get("export") == "xlsx":
        response = HttpResponse(ledger_mod.workbook_bytes(ledger), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            True, f"ledger-{measure.code}-{year}-{top.code}.xlsx"
        )
        return response
    filters = {
        "pollutant": measure.code,
        "year": str(year),
        "region": request.GET.get("region", ""),
    }
    return render(
        request,
        "projects/ledger.html",
        {
            **_common(request),
            "ledger": ledger,
            "title": ledger_mod.title(ledger),
            "filters": filters,
            "measures": list(project_rules().measures.values()),
            "years": list(range(today.year, 2020, -1)),
            "regions": visible_divisions(request.user).exclude(level="county"),
        },
    )


@rule_required("projects.manage")
def region_page(request: HttpRequest, code: str) -> HttpResponse:
    """One region: the projects making up its reduction, the late ones, the rejected ones."""
    today = timezone.localdate()
    division = project_access.ledger_top(request.user, code)
    if division is None:
        raise Http404
    measure = _measure(request)
    year = _year(request, division, today)
    detail = ledger_mod.region_detail(division=division, measure=measure, year=year, today=today)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("类别"),
            _("项目编号"),
            _("项目名称"),
            _("所在区划"),
            _("项目单位"),
            _("状态"),
            _("核定%(m)s（%(u)s）") % {"m": measure.label, "u": measure.unit},
            _("计划%(m)s（%(u)s）") % {"m": measure.label, "u": measure.unit},
            _("说明"),
        ]
        rows: list[list[Any]] = []
        for line in detail.ledger.lines:
            rows.append(
                [
                    _("已认可（计入）"),
                    line.project_id,
                    line.name,
                    line.division_name,
                    line.owner,
                    _("已认可"),
                    float(line.amount),
                    None,
                    "",
                ]
            )
        for p, why, planned in detail.late:
            rows.append(
                [
                    _("建设滞后"),
                    p.pk,
                    p.name,
                    p.division.name,
                    p.owner_label,
                    p.get_status_display(),
                    None,
                    float(planned),
                    f"{why.what}（{why.due.isoformat()}，{why.days}天）",
                ]
            )
        for p, planned in detail.rejected:
            rows.append(
                [
                    _("不予认可（不计入）"),
                    p.pk,
                    p.name,
                    p.division.name,
                    p.owner_label,
                    p.get_status_display(),
                    None,
                    float(planned),
                    p.rejection_reason,
                ]
            )
        return xlsx_response(
            f"ledger-{measure.code}-{year}-{division.code}-projects.xlsx",
            "projects",
            headers,
            rows,
            user=request.user,
        )
    return render(
        request,
        "projects/region.html",
        {
            **_common(request),
            "division": division,
            "detail": detail,
            "ledger": detail.ledger,
            "measure": measure,
            "year": year,
            "filters": {"pollutant": measure.code, "year": str(year)},
            "measures": list(project_rules().measures.values()),
            "years": list(range(today.year, 2020, -1)),
            # the region above, when the user may open it (a city officer's own region is its top)
            "parent_code": division.parent.code
            if division.parent_id
            and division.parent
            and project_access.ledger_top(request.user, division.parent.code) is not None
            else "",
        },
    )


# --------------------------------------------------------------------------------------------
# Alerts (滞后提醒)
# --------------------------------------------------------------------------------------------


@rule_required("projects.view")
def alert_list(request: HttpRequest) -> HttpResponse:
    qs = ProjectAlert.objects.filter(recipient=request.user).select_related(
        "project", "project__division"
    )
    f = _filters(request, ("unread",))
    if f["unread"]:
        qs = qs.filter(read_at__isnull=True)
    if request.GET.get("export") == "xlsx":
        headers = [_("时间"), _("主题"), _("项目"), _("内容"), _("已读时间")]
        rows = (
            [
                timezone.localtime(a.created).strftime("%Y-%m-%d %H:%M"),
                a.subject,
                a.project.name,
                a.body,
                timezone.localtime(a.read_at).strftime("%Y-%m-%d %H:%M") if a.read_at else "",
            ]
            for a in qs
        )
        return xlsx_response("project-alerts.xlsx", "alerts", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/alerts.html",
        {**_common(request), "page": page, "filters": f},
    )


@rule_required("projects.view")
def alert_read(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("projects:alerts")
    alert = get_object_or_404(ProjectAlert, pk=pk, recipient=request.user)
    services.mark_alert_read(alert=alert, user=request.user)
    return redirect_next(request, "projects:alerts")
