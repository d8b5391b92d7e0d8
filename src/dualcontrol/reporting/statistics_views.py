"""Pages of self-reported statistics: the filings in scope (filters, Excel), a form per table
(generated from ``statistics_tables.yaml``), the filing with its history and the review."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access import statistics as stats_access
from dualcontrol.access.rules import rule_required
from dualcontrol.exports import xlsx_response
from dualcontrol.regions.models import Division
from dualcontrol.reporting import statistics_services as services
from dualcontrol.reporting.forms import ReturnForm
from dualcontrol.reporting.statistics_models import StatisticsReport, StatisticsStatus
from dualcontrol.reporting.statistics_tables import (
    StatisticsTable,
    statistics_table,
    statistics_tables,
    tables_for_indicator,
)
from dualcontrol.targets.indicators import by_code
from dualcontrol.targets.indicators import name as indicator_name

PAGE_SIZE = 50
FILTERS = ("table", "year", "status", "division", "indicator")


def _filtered(request: HttpRequest, qs: Any) -> tuple[Any, dict[str, str]]:
    f = {k: request.GET.get(k, "").strip() for k in FILTERS}
    if f["table"] in statistics_tables():
        qs = qs.filter(table=f["table"])
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["status"] in StatisticsStatus.values:
        qs = qs.filter(status=f["status"])
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    if f["indicator"]:
        qs = qs.filter(table__in=[t.code for t in tables_for_indicator(f["indicator"])])
    return qs, f


def _export(filename: str, qs: Any) -> HttpResponse:
    rows = list(qs)
    codes: list[str] = []
    labels: list[str] = []
    for spec in statistics_tables().values():
        if any(r.table == spec.code for r in rows):
            for col in spec.columns:
                if col.code not in codes:
                    codes.append(col.code)
                    labels.append(col.label)
    headers = [
        _("地区"),
        _("区划代码"),
        _("统计报表"),
        _("年份"),
        _("状态"),
        _("当前版本"),
        _("已通过版本"),
        _("已并入统计"),
        _("提交人"),
        _("提交时间"),
        *labels,
        _("演示数据"),
    ]
    out = []
    for r in rows:
        values = r.values or {}
        out.append(
            [
                r.division.name,
                r.division.code,
                r.table_name,
                r.year,
                r.get_status_display(),
                r.revision,
                r.accepted_revision,
                (_("是") if not r.held else _("暂存待并入")) if r.accepted_revision else "",
                r.submitted_by.username if r.submitted_by else "",
                timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M")
                if r.submitted_at
                else "",
                *[float(values[c]) if values.get(c) not in (None, "") else None for c in codes],
                _("是") if r.is_synthetic else "",
            ]
        )
    return xlsx_response(filename, "statistics", headers, out)


def _new_links(request: HttpRequest) -> list[dict[str, Any]]:
    """For each table: the divisions the user files it for (the form opens at last year)."""
    last = timezone.localdate().year - 1
    return [
        {"table": spec, "division": division, "year": last}
        for spec in statistics_tables().values()
        for division in stats_access.filing_divisions(request.user, spec)
    ]


def _list(request: HttpRequest, qs: Any, *, queue: bool) -> HttpResponse:
    qs, filters = _filtered(request, qs.order_by("-year", "division__code", "table"))
    if request.GET.get("export") == "xlsx":
        return _export("statistics-review.xlsx" if queue else "statistics-filings.xlsx", qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    indicator = by_code().get(filters["indicator"])
    return render(
        request,
        "reporting/statistics_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": StatisticsStatus.choices,
            "tables": list(statistics_tables().values()),
            "new_links": [] if queue else _new_links(request),
            "queue": queue,
            "indicator": indicator_name(indicator) if indicator else "",
            "title": _("待审核的统计自报") if queue else _("统计自报"),
        },
    )


@rule_required("statistics.file")
def filing_list(request: HttpRequest) -> HttpResponse:
    return _list(request, stats_access.visible_filings(request.user), queue=False)


@rule_required("statistics.file")
def review_list(request: HttpRequest) -> HttpResponse:
    return _list(request, stats_access.review_queue(request.user), queue=True)


def _filing(request: HttpRequest, pk: int) -> StatisticsReport:
    return get_object_or_404(stats_access.visible_filings(request.user), pk=pk)


def _rows(spec: StatisticsTable, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"column": c, "value": values.get(c.code, "")} for c in spec.columns]


def _form_page(
    request: HttpRequest,
    *,
    spec: StatisticsTable,
    division: Division,
    year: Any,
    values: dict[str, Any],
    report: StatisticsReport | None,
    problems: list[Any],
) -> HttpResponse:
    return render(
        request,
        "reporting/statistics_form.html",
        {
            "spec": spec,
            "division": division,
            "year": year,
            "rows": _rows(spec, values),
            "report": report,
            "problems": problems,
            "last_year": timezone.localdate().year - 1,
            "first_year": services.FIRST_YEAR,
            "indicators": _indicators(spec),
            "title": _("%(t)s 在线填报") % {"t": spec.name},
        },
    )


def _indicators(spec: StatisticsTable) -> list[dict[str, str]]:
    known = by_code()
    return [
        {"code": code, "name": indicator_name(known[code])}
        for code in spec.indicators()
        if code in known
    ]


def _year(text: str) -> int | str:
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


def _post(
    request: HttpRequest,
    spec: StatisticsTable,
    division: Division,
    year: Any,
    report: StatisticsReport | None,
) -> HttpResponse:
    values = {c.code: request.POST.get(c.code, "").strip() for c in spec.columns}
    try:
        saved = services.save_filing(
            user=request.user,
            division=division,
            table=spec.code,
            year=year,
            values=values,
            submit="submit" in request.POST,
        )
    except services.ReportRejected as exc:
        return _form_page(
            request,
            spec=spec,
            division=division,
            year=year,
            values=values,
            report=report,
            problems=exc.problems,
        )
    except services.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return _form_page(
            request,
            spec=spec,
            division=division,
            year=year,
            values=values,
            report=report,
            problems=[],
        )
    if saved.status == StatisticsStatus.SUBMITTED:
        messages.success(request, _("已提交审核。"))
    else:
        messages.success(request, _("草稿已保存。"))
    for f in services.findings(spec, saved.values):
        messages.warning(request, str(f))
    return redirect("reporting:statistics_detail", pk=saved.pk)


@rule_required("statistics.file")
def filing_new(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    spec = statistics_table(source.get("table", ""))
    division = (
        Division.objects.filter(code=source.get("division", "")).order_by("-valid_from").first()
    )
    if spec is None or division is None:
        messages.error(request, _("请选择统计报表和填报地区。"))
        return redirect("reporting:statistics")
    if not stats_access.can_file(request.user, division, spec):
        raise PermissionDenied(_("无权为该地区填报该报表"))
    year = _year(source.get("year", ""))
    existing = (
        StatisticsReport.objects.filter(division=division, table=spec.code, year=year).first()
        if isinstance(year, int) and year < 10_000
        else None
    )
    if existing is not None and request.method != "POST":
        return HttpResponseRedirect(reverse("reporting:statistics_edit", args=[existing.pk]))
    if request.method == "POST":
        return _post(request, spec, division, year, existing)
    return _form_page(
        request, spec=spec, division=division, year=year, values={}, report=None, problems=[]
    )


@rule_required("statistics.file")
def filing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = _filing(request, pk)
    spec = statistics_table(report.table)
    if spec is None:
        raise PermissionDenied(_("该报表的定义已不存在"))
    if not stats_access.can_file(request.user, report.division, spec):
        raise PermissionDenied(_("只有填报地区的填报人员可以修改"))
    if request.method == "POST":
        return _post(request, spec, report.division, report.year, report)
    return _form_page(
        request,
        spec=spec,
        division=report.division,
        year=report.year,
        values=dict(report.values or {}),
        report=report,
        problems=[],
    )


@rule_required("statistics.file")
def filing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _filing(request, pk)
    spec = statistics_table(report.table)
    rows = []
    if spec is not None:
        for c in spec.columns:
            rows.append(
                {
                    "column": c,
                    "value": (report.values or {}).get(c.code, ""),
                    "accepted": (report.accepted_values or {}).get(c.code, ""),
                }
            )
    return render(
        request,
        "reporting/statistics_detail.html",
        {
            "report": report,
            "spec": spec,
            "rows": rows,
            "findings": services.findings(spec, report.values or {}) if spec else [],
            "indicators": _indicators(spec) if spec else [],
            "events": report.events.select_related("actor"),
            "can_file": spec is not None
            and stats_access.can_file(request.user, report.division, spec),
            "can_review": stats_access.can_review(request.user, report),
            "can_merge": stats_access.can_merge(request.user, report),
            "source": services.source_of(report, report.accepted_revision)
            if report.accepted_revision
            else "",
            "return_form": ReturnForm(),
        },
    )


@require_POST
@rule_required("statistics.file")
def filing_action(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    report = _filing(request, pk)
    try:
        if verb == "submit":
            services.submit_filing(report=report, user=request.user)
            messages.success(request, _("已提交审核。"))
        elif verb == "accept":
            accepted = services.accept_filing(report=report, user=request.user)
            if accepted.held:
                messages.warning(
                    request,
                    _("已审核通过。该地区该年度尚无地区统计数据，数据暂存，待统计数据导入后并入。"),
                )
            else:
                messages.success(request, _("已审核通过，数据已并入地区统计数据。"))
        elif verb == "return":
            form = ReturnForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("退回必须填写原因。"))
                return redirect("reporting:statistics_detail", pk=pk)
            services.return_filing(
                report=report, user=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("已退回。"))
        elif verb == "merge":
            services.merge_held(report=report, user=request.user)
            messages.success(request, _("数据已并入地区统计数据。"))
        else:
            raise PermissionDenied
    except services.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.ReportRejected as exc:
        for p in exc.problems:
            messages.error(request, p.reason)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect("reporting:statistics_detail", pk=pk)
