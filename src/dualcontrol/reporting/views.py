"""Pages of 205-1 reporting: list, review queue, detail with history, web form, upload."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol import uploads_annotate
from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import can_file_for, can_review
from dualcontrol.exports import xlsx_response
from dualcontrol.formats.report205 import TemplateProduct, write_workbook
from dualcontrol.formats.upload_tables import TableRefused, read_limited
from dualcontrol.pagination import Counted
from dualcontrol.reporting import queries, report_export, services
from dualcontrol.reporting.forms import LineForm, PeriodForm, ReturnForm, UploadForm
from dualcontrol.reporting.models import EnergyProduct, EnergyReport, PeriodType, Status
from dualcontrol.reporting.queries import known_report_count, review_queue, visible_reports

PAGE_SIZE = 50


def _filtered(request: HttpRequest, qs: Any) -> tuple[Any, dict[str, str]]:
    f = report_export.clean_filters(request.GET)
    return report_export.filtered(qs, f), f


def _export(filename: str, qs: Any) -> HttpResponse:
    return xlsx_response(filename, "reports", report_export.headers(), report_export.rows(qs))


def _export_or_job(request: HttpRequest, filename: str, qs: Any, f: dict[str, str]) -> HttpResponse:
    """At once up to the policy's row count; a larger export is built by the worker."""
    from dualcontrol.jobs.policy import jobs_policy
    from dualcontrol.jobs.services import start_job

    if qs.count() <= jobs_policy().exports.inline_max_rows:
        return _export(filename, qs)
    job = start_job(kind="reports.export", params={"filters": f}, user=request.user)
    return redirect("jobs:detail", pk=job.pk)


@rule_required("reports.view")
def report_list(request: HttpRequest) -> HttpResponse:
    qs = (
        visible_reports(request.user)
        .select_related("entity", "entity__division")
        .order_by("-year", "-month", "entity__name")
    )
    qs, filters = _filtered(request, qs)
    if request.GET.get("export") == "xlsx":
        return _export_or_job(request, "reports.xlsx", qs, filters)
    counted = Counted(qs, known_report_count(request.user, filters))
    page = Paginator(counted, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/list.html",
        {"page": page, "filters": filters, "statuses": Status.choices, "title": _("能源报表")},
    )


@rule_required("reports.review")
def review(request: HttpRequest) -> HttpResponse:
    qs, filters = _filtered(request, review_queue(request.user))
    if request.GET.get("export") == "xlsx":
        return _export("review-queue.xlsx", qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "title": _("待审核报表"),
            "queue": True,
        },
    )


def _report(request: HttpRequest, pk: int) -> EnergyReport:
    return get_object_or_404(
        visible_reports(request.user).select_related("entity", "entity__division"), pk=pk
    )


@rule_required("reports.view")
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    number = request.GET.get("revision")
    revision_no = int(number) if number and number.isdigit() else report.current_revision
    revision = report.revisions.filter(number=revision_no).first()
    lines = revision.lines.select_related("product") if revision else []
    if request.GET.get("export") == "xlsx" and revision is not None:
        products = [
            TemplateProduct(p.code, p.name_zh, p.unit, p.coefficient_tce_per_unit)
            for p in EnergyProduct.objects.all()
        ]
        data = write_workbook(
            products,
            unit_name=report.entity.name,
            uscc=report.entity.uscc,
            period=report.period_label,
            rows={r.product_code: r for r in services.rows_of(report, revision_no)},
        )
        resp = HttpResponse(
            data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        resp["Content-Disposition"] = (
            f'attachment; filename="205-1-{report.entity.uscc}-{report.period_label}-r{revision_no}.xlsx"'
        )
        return resp
    return render(
        request,
        "reporting/detail.html",
        {
            "report": report,
            "revision": revision,
            "lines": lines,
            "revisions": report.revisions.all(),
            "events": report.events.select_related("actor"),
            "can_file": can_file_for(request.user, report.entity),
            "can_review": can_review(request.user, report.entity),
            "return_form": ReturnForm(),
            # the reviewer's comparison with the previous month and year (issue 14)
            "compare": queries.comparisons(report)
            if revision is not None and revision_no == report.current_revision
            else None,
        },
    )


@rule_required("reports.file")
def report_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    entity = request.user.entity
    report = _report(request, pk) if pk else None
    if report is not None and not can_file_for(request.user, report.entity):
        raise PermissionDenied
    products = list(EnergyProduct.objects.all())
    existing = (
        {r.product_code: r for r in services.rows_of(report)}
        if report and report.current_revision
        else {}
    )
    problems: list[services.Problem] = []
    if request.method == "POST":
        period = PeriodForm(request.POST)
        lines = [LineForm(p, request.POST) for p in products]
        if period.is_valid() and all(f.is_valid() for f in lines):
            rows = [f.to_row() for f in lines if not f.is_blank()]
            p = period.cleaned_data
            try:
                saved = services.save_report(
                    entity=entity,
                    period_type=p["period_type"],
                    year=p["year"],
                    month=p["month"] if p["period_type"] == PeriodType.MONTHLY else None,
                    rows=rows,
                    user=request.user,
                    submit="submit" in request.POST,
                )
            except services.ReportRejected as exc:
                code_of = [r.product_code for r in rows]
                problems = [
                    services.Problem(
                        "",
                        0,
                        "",
                        pr.field,
                        pr.reason
                        if pr.row < 1
                        else _("%(a)s：%(b)s")
                        % {"a": _row_name(products, code_of[pr.row - 1]), "b": pr.reason},
                    )
                    for pr in exc.problems
                ]
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("报表已提交审核。")
                    if saved.status == Status.SUBMITTED
                    else _("草稿已保存。"),
                )
                return redirect("reporting:detail", pk=saved.pk)
    else:
        initial = (
            {"period_type": report.period_type, "year": report.year, "month": report.month}
            if report
            else None
        )
        period = PeriodForm(initial=initial)
        lines = [
            LineForm(
                p,
                initial={f: getattr(existing[p.code], f) for f in LineForm(p).fields}
                if p.code in existing
                else None,
            )
            for p in products
        ]
    return render(
        request,
        "reporting/form.html",
        {
            "period": period,
            "lines": lines,
            "problems": problems,
            "report": report,
            "entity": entity,
        },
    )


def _row_name(products: list[EnergyProduct], code: str) -> str:
    """The product's name in the active language (its code when unknown)."""
    english = (get_language() or "").startswith("en")
    return next(
        ((p.name_en or p.name_zh) if english else p.name_zh for p in products if p.code == code),
        code,
    )


@rule_required("reports.file")
def upload(request: HttpRequest) -> HttpResponse:
    refused: uploads_annotate.Refusal | None = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            p = form.cleaned_data
            f = p["file"]
            data: bytes | None = None
            problems: list[Any] = []
            try:
                # the size is checked before the file is read (the limit is reference data)
                data = read_limited(f, "report205")
                saved = services.upload_report(
                    entity=request.user.entity,
                    period_type=p["period_type"],
                    year=p["year"],
                    month=p["month"] if p["period_type"] == PeriodType.MONTHLY else None,
                    data=data,
                    filename=f.name,
                    user=request.user,
                    submit=p["submit_now"],
                )
            except TableRefused as exc:
                problems = [
                    services.Problem(e.sheet, e.row, e.column, "", e.reason) for e in exc.errors
                ]
            except services.ReportRejected as exc:
                problems = exc.problems
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("文件已导入。"))
                return redirect("reporting:detail", pk=saved.pk)
            if problems:
                # every problem, capped on the page, all of them in the annotated copy
                refused = uploads_annotate.refusal(
                    problems, data=data, filename=f.name, kind="report205", user=request.user
                )
    else:
        form = UploadForm()
    return render(request, "reporting/upload.html", {"form": form, "refusal": refused})


@rule_required("reports.view")
def template_xlsx(request: HttpRequest) -> HttpResponse:
    entity = getattr(request.user, "entity", None)
    products = [
        TemplateProduct(p.code, p.name_zh, p.unit, p.coefficient_tce_per_unit)
        for p in EnergyProduct.objects.all()
    ]
    data = write_workbook(
        products, unit_name=entity.name if entity else "", uscc=entity.uscc if entity else ""
    )
    resp = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = 'attachment; filename="205-1-template.xlsx"'
    return resp


@require_POST
@rule_required("reports.view")
def action(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    report = _report(request, pk)
    try:
        if verb == "submit":
            services.submit_report(report=report, user=request.user)
            messages.success(request, _("报表已提交审核。"))
        elif verb == "accept":
            services.accept_report(report=report, user=request.user)
            messages.success(request, _("报表已审核通过。"))
        elif verb == "return":
            form = ReturnForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("退回必须填写原因。"))
                return redirect("reporting:detail", pk=pk)
            services.return_report(
                report=report, user=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("报表已退回。"))
        else:
            raise PermissionDenied
    except services.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect("reporting:detail", pk=pk)
