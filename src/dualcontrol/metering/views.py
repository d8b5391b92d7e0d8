"""Pages of energy online monitoring: the provincial ranking, a unit's overview, registry,
reconciliation with the 205-1 report, alerts and 报备. Access through accounts.scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import can_file_for, can_review, visible_divisions
from dualcontrol.core import metering as core
from dualcontrol.entities.models import Entity
from dualcontrol.exports import xlsx_response
from dualcontrol.metering import forms, queries, services
from dualcontrol.metering.models import (
    Alert,
    AlertKind,
    DataItem,
    FaultReport,
    IngestBatch,
    MeteringInstrument,
)
from dualcontrol.reference.metering import data_type_names, metering_rules, use_names
from dualcontrol.reference.workcalendar import calendar_info, work_calendar

PAGE_SIZE = 50


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 1)


def _unit(request: HttpRequest, uscc: str) -> Entity:
    return get_object_or_404(services.monitored_entities(request.user), uscc=uscc.upper())


def _month(request: HttpRequest) -> dt.date:
    return queries.parse_month(request.GET.get("month"), queries.default_month())


@rule_required("metering.view")
def unit_list(request: HttpRequest) -> HttpResponse:
    """省级：在线监测单位按完整率、按与 205-1 月报的差异排名."""
    month = _month(request)
    f = {
        "month": f"{month:%Y-%m}",
        "division": request.GET.get("division", "").strip(),
        "q": request.GET.get("q", "").strip(),
        "sort": request.GET.get("sort", "completeness"),
        "connected": request.GET.get("connected", "1"),
    }
    every = queries.sort_rows(
        queries.ranking(request.user, month, division=f["division"], q=f["q"]), f["sort"]
    )
    rows = [r for r in every if r.items] if f["connected"] == "1" else every
    rules = metering_rules()
    if request.GET.get("export") == "xlsx":
        headers = [
            _("排名"),
            _("单位名称"),
            _("统一社会信用代码"),
            _("所在区划"),
            _("数据项数"),
            _("应采集个数"),
            _("实采集个数"),
            _("完整率（%）"),
            _("是否达标"),
            _("计量折标（吨标准煤）"),
            _("205-1 月报（吨标准煤）"),
            _("差异（%）"),
            _("本月预警数"),
            _("演示数据"),
        ]
        data = (
            [
                n,
                r.entity.name,
                r.entity.uscc,
                r.entity.division.name,
                r.items,
                r.expected,
                r.received,
                _pct(r.completeness),
                {True: _("是"), False: _("否"), None: ""}[r.passes],
                r.meter_tce,
                r.report_tce,
                _pct(r.gap_frac),
                r.alerts,
                _("是") if r.entity.is_synthetic else "",
            ]
            for n, r in enumerate(rows, start=1)
        )
        return xlsx_response(
            f"metering-{f['month']}.xlsx", "metering", headers, data, user=request.user
        )
    page = Paginator(
        [{"r": r, "pct": _pct(r.completeness), "gap_pct": _pct(r.gap_frac)} for r in rows],
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    connected = [r for r in every if r.items]
    chart = [
        {"name": r.entity.name, "pct": _pct(r.completeness)}
        for r in sorted(connected, key=lambda r: r.completeness or 0)[:30]
    ]
    context = {
        "page": page,
        "filters": f,
        "offset": page.start_index() - 1 if rows else 0,
        "divisions": visible_divisions(request.user).exclude(level="county"),
        "month": month,
        "rules": rules,
        "min_pct": rules.completeness_min_frac * 100,
        "summary": {
            "units": len(every),
            "connected": len(connected),
            "passing": sum(1 for r in connected if r.passes),
            "alerts": sum(r.alerts for r in every),
        },
        "chart": chart,
    }
    return render(request, "metering/list.html", context)


def _item_rows(um: queries.UnitMonth) -> list[dict[str, Any]]:
    dtypes, uses = data_type_names(), use_names()
    return [
        {
            "m": im,
            "pct": _pct(im.completeness),
            "dtype": dtypes.get(im.item.data_type, im.item.data_type),
            "use": uses.get(im.item.use_code, im.item.use_code),
        }
        for im in um.items
    ]


@rule_required("metering.view")
def unit_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    """A unit's monitoring overview: load curves, daily totals, completeness, alerts."""
    entity = _unit(request, uscc)
    month = _month(request)
    um = queries.unit_month(entity, month)
    rules = metering_rules()
    days_in = [d.day for d in um.days]
    latest = queries.latest_day(entity)
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = latest if latest and latest in days_in else (days_in[-1] if days_in else month)
    realtime = [i for i in um.items if i.item.frequency == core.Frequency.REALTIME]
    chosen_ids = [int(x) for x in request.GET.getlist("item") if x.isdigit()]
    curve_items = [i.item for i in realtime if i.item.pk in chosen_ids] or [
        i.item for i in realtime if i.item.boundary
    ][:6]
    curves = queries.load_curve(curve_items, day)
    products = sorted({p for d in um.days for p in d.tce_by_product})
    info = queries.product_info()
    chart = {
        "curves": [
            {"name": _("%(a)s（%(b)s）") % {"a": i.name, "b": i.unit}, "points": pts}
            for i, pts in curves
        ],
        "days": [f"{d.day:%m-%d}" for d in um.days],
        "completeness": [_pct(d.completeness) for d in um.days],
        "excused": [d.excused for d in um.days],
        "series": [
            {
                "name": info.get(p, (p,))[0],
                "data": [
                    round(d.tce_by_product.get(p, 0.0), 3) if d.tce_by_product else None
                    for d in um.days
                ],
            }
            for p in products
        ],
        "min_pct": rules.completeness_min_frac * 100,
    }
    overdue_instruments = MeteringInstrument.objects.filter(
        entity=entity, next_calibration__lt=timezone.localdate()
    ).count()
    return render(
        request,
        "metering/unit.html",
        {
            "entity": entity,
            "um": um,
            "month": month,
            "day": day,
            "rules": rules,
            "items": _item_rows(um),
            "realtime": [i.item for i in realtime],
            "curve_ids": [i.pk for i in curve_items],
            "chart": chart,
            "completeness_pct": _pct(um.completeness),
            "min_pct": rules.completeness_min_frac * 100,
            "max_dev_pct": rules.consistency_max_dev_frac * 100,
            "consistency": [
                {
                    "c": c,
                    "dev_pct": _pct(c.result.deviation_frac) if c.result else None,
                }
                for c in um.consistency
            ],
            "overdue_instruments": overdue_instruments,
            "can_file": can_file_for(request.user, entity),
            "prev_month": core.month_start(month - dt.timedelta(days=1)),
            "next_month": core.next_month(month),
        },
    )


@rule_required("metering.view")
def registry(request: HttpRequest, uscc: str) -> HttpResponse:
    """The unit's data items (code decomposed) and metering instruments; editable by the unit."""
    entity = _unit(request, uscc)
    items = list(DataItem.objects.filter(entity=entity).select_related("instrument"))
    instruments = list(MeteringInstrument.objects.filter(entity=entity))
    export = request.GET.get("export")
    if export == "items":
        headers = [
            _("采集数据项编码"),
            _("指标名称"),
            _("生产工序"),
            _("工序单元"),
            _("设备类型"),
            _("设备编号"),
            _("采集数据类型"),
            _("能源品种/数据分类"),
            _("用途"),
            _("采集频率"),
            _("实时间隔（分钟）"),
            _("数据采集来源"),
            _("能源单位"),
            _("最小值"),
            _("最大值"),
            _("是否上报"),
            _("平衡角色"),
            _("205-1 品种"),
            _("计量器具编号"),
            _("启用"),
        ]
        rows = (
            [
                i.code,
                i.name,
                i.process_code,
                i.process_unit_code,
                i.equipment_type_code,
                i.equipment_code,
                i.data_type,
                i.energy_code,
                i.use_code,
                i.get_frequency_display(),
                i.interval_minutes,
                i.get_source_display(),
                i.unit,
                i.min_value,
                i.max_value,
                i.is_reported,
                i.get_boundary_display(),
                i.product_code,
                i.instrument.number if i.instrument else "",
                i.active,
            ]
            for i in items
        )
        return xlsx_response(f"items-{entity.uscc}.xlsx", "items", headers, rows, user=request.user)
    if export == "instruments":
        headers = [
            _("计量器具编号"),
            _("名称"),
            _("类型"),
            _("器具等级"),
            _("准确度等级"),
            _("检定/校准状态"),
            _("最近检定"),
            _("下次检定"),
            _("安装地点"),
            _("目前状态"),
        ]
        rows = (
            [
                i.number,
                i.name,
                i.kind,
                i.get_grade_display(),
                i.accuracy_class,
                i.get_calibration_status_display(),
                i.last_calibration,
                i.next_calibration,
                i.location,
                i.get_status_display(),
            ]
            for i in instruments
        )
        return xlsx_response(
            f"instruments-{entity.uscc}.xlsx", "instruments", headers, rows, user=request.user
        )
    can_edit = services.can_configure(request.user, entity)
    item_form = forms.ItemForm(prefix="item")
    inst_form = forms.InstrumentForm(prefix="inst")
    problems: list[services.Problem] = []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        try:
            if "save_item" in request.POST:
                item_form = forms.ItemForm(request.POST, prefix="item")
                if item_form.is_valid():
                    services.save_items(
                        entity=entity, items=[item_form.to_input()], user=request.user
                    )
                    messages.success(request, _("数据项已保存。"))
                    return redirect("metering:registry", uscc=entity.uscc)
            elif "save_instrument" in request.POST:
                inst_form = forms.InstrumentForm(request.POST, prefix="inst")
                if inst_form.is_valid():
                    existing = MeteringInstrument.objects.filter(
                        entity=entity, number=inst_form.cleaned_data["number"]
                    ).first()
                    services.save_instruments(
                        entity=entity, instruments=[inst_form.to_input(existing)], user=request.user
                    )
                    messages.success(request, _("计量器具已保存。"))
                    return redirect("metering:registry", uscc=entity.uscc)
        except services.RegistryRejected as exc:
            problems = exc.problems
    elif request.GET.get("edit"):
        item = next((i for i in items if str(i.pk) == request.GET["edit"]), None)
        if item is not None:
            item_form = forms.ItemForm(prefix="item", initial=forms.ItemForm.initial_of(item))
    today = timezone.localdate()
    warn = today + dt.timedelta(days=metering_rules().calibration_warn_days)
    return render(
        request,
        "metering/registry.html",
        {
            "entity": entity,
            "items": items,
            "dtypes": data_type_names(),
            "uses": use_names(),
            "instruments": [
                {
                    "i": i,
                    "overdue": bool(i.next_calibration and i.next_calibration < today),
                    "soon": bool(i.next_calibration and today <= i.next_calibration <= warn),
                }
                for i in instruments
            ],
            "can_edit": can_edit,
            "item_form": item_form,
            "inst_form": inst_form,
            "problems": problems,
        },
    )


@rule_required("metering.view")
def reconciliation(request: HttpRequest, uscc: str) -> HttpResponse:
    """Meters vs the 205-1 monthly report per product, explained; comprehensive consumption."""
    entity = _unit(request, uscc)
    month = _month(request)
    can_explain = can_file_for(request.user, entity)
    if request.method == "POST":
        if not can_explain:
            raise PermissionDenied
        form = forms.ExplanationForm(request.POST)
        if form.is_valid():
            try:
                services.explain_gap(
                    entity=entity,
                    year=month.year,
                    month=month.month,
                    product_code=form.cleaned_data["product_code"],
                    text=form.cleaned_data["text"],
                    user=request.user,
                )
                messages.success(request, _("差异说明已保存。"))
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
        return redirect(f"{request.path}?month={month:%Y-%m}")
    rec = queries.reconciliation(entity, month)
    rows = [
        {
            "r": r,
            "gap_pct": _pct(r.line.gap_frac),
            "pgap_pct": _pct(r.line.purchases_gap_frac),
            "comp_pct": _pct(r.line.completeness_frac),
            "needs": "unexplained" in r.line.reasons,
        }
        for r in rec.rows
    ]
    return render(
        request,
        "metering/reconciliation.html",
        {
            "entity": entity,
            "month": month,
            "rec": rec,
            "rows": rows,
            "gap_pct": _pct(rec.gap_frac),
            "gap_flag": ""
            if rec.gap_frac is None
            else ("ok" if abs(rec.gap_frac) <= rec.rules.reconciliation_tolerance_frac else "bad"),
            "completeness_pct": _pct(rec.completeness),
            "can_explain": can_explain,
            "tol_pct": rec.rules.reconciliation_tolerance_frac * 100,
            "prev_month": core.month_start(month - dt.timedelta(days=1)),
            "next_month": core.next_month(month),
        },
    )


@rule_required("metering.view")
def alerts(request: HttpRequest) -> HttpResponse:
    qs = Alert.objects.filter(entity__in=services.monitored_entities(request.user)).select_related(
        "entity", "entity__division", "item"
    )
    f = {k: request.GET.get(k, "").strip() for k in ("kind", "month", "q", "open")}
    if f["kind"] in AlertKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["month"]:
        start, end = queries.month_bounds(queries.parse_month(f["month"], timezone.localdate()))
        qs = qs.filter(day__gte=start.date(), day__lt=end.date())
    if f["q"]:
        qs = qs.filter(entity__name__icontains=f["q"]) | qs.filter(entity__uscc=f["q"].upper())
    if f["open"] == "1":
        qs = qs.filter(resolved_at__isnull=True, kind__in=Alert.ONGOING)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("日期"),
            _("单位名称"),
            _("统一社会信用代码"),
            _("类型"),
            _("数据项"),
            _("说明"),
            _("通知对象"),
            _("解除时间"),
        ]
        rows = (
            [
                a.day,
                a.entity.name,
                a.entity.uscc,
                a.get_kind_display(),
                a.item.code if a.item else "",
                a.text,
                " ".join(a.recipients),
                a.resolved_at,
            ]
            for a in qs
        )
        return xlsx_response("metering-alerts.xlsx", "alerts", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "metering/alerts.html", {"page": page, "filters": f, "kinds": AlertKind.choices}
    )


@rule_required("metering.view")
def faults(request: HttpRequest) -> HttpResponse:
    """报备 list: the unit's own, or those of the region to review."""
    qs = FaultReport.objects.filter(
        entity__in=services.monitored_entities(request.user)
    ).select_related("entity", "filed_by", "reviewed_by")
    f = {"status": request.GET.get("status", "")}
    if f["status"] in FaultReport.Status.values:
        qs = qs.filter(status=f["status"])
    rules = metering_rules()
    if request.GET.get("export") == "xlsx":
        headers = [
            _("单位名称"),
            _("故障开始时间"),
            _("预计修复日期"),
            _("状态"),
            _("原因"),
            _("审核意见"),
            _("修复时间"),
        ]
        rows = (
            [
                x.entity.name,
                x.started,
                x.expected_repair,
                x.get_status_display(),
                x.reason,
                x.review_note,
                x.repaired_at,
            ]
            for x in qs
        )
        return xlsx_response("metering-faults.xlsx", "faults", headers, rows, user=request.user)
    page = Paginator(qs.prefetch_related("items"), PAGE_SIZE).get_page(request.GET.get("page"))
    calendar = work_calendar()
    rows = [
        {
            "f": x,
            "deadline": calendar.deadline(
                services.to_local(x.started).date(), rules.fault_repair_working_days
            ),
            "can_review": can_review(request.user, x.entity)
            and x.status == FaultReport.Status.FILED,
            "can_close": (
                can_file_for(request.user, x.entity) or can_review(request.user, x.entity)
            )
            and x.status in (FaultReport.Status.FILED, FaultReport.Status.ACCEPTED),
        }
        for x in page
    ]
    return render(
        request,
        "metering/faults.html",
        {
            "page": page,
            "rows": rows,
            "filters": f,
            "statuses": FaultReport.Status.choices,
            "rules": rules,
            "calendar": calendar_info(),
            "calendar_version": calendar.version,
            "review_form": forms.ReviewForm(),
            "close_form": forms.CloseForm(
                initial={"repaired_at": timezone.localtime().replace(second=0, microsecond=0)}
            ),
        },
    )


@rule_required("metering.file")
def fault_new(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _unit(request, uscc)
    if not can_file_for(request.user, entity):
        raise PermissionDenied
    rules = metering_rules()
    if request.method == "POST":
        form = forms.FaultForm(request.POST, entity=entity)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.file_fault(
                    entity=entity,
                    user=request.user,
                    started=d["started"],
                    expected_repair=d["expected_repair"],
                    reason=d["reason"],
                    items=list(d["items"]),
                    manual_filing=d["manual_filing"],
                )
            except services.WorkflowError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("故障已报备，等待州（市）审核。"))
                return redirect("metering:faults")
    else:
        form = forms.FaultForm(entity=entity)
    return render(
        request, "metering/fault_form.html", {"entity": entity, "form": form, "rules": rules}
    )


@require_POST
@rule_required("metering.view")
def fault_action(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    fault = get_object_or_404(
        FaultReport.objects.filter(entity__in=services.monitored_entities(request.user)), pk=pk
    )
    try:
        if verb in ("accept", "return"):
            form = forms.ReviewForm(request.POST)
            form.is_valid()
            services.review_fault(
                fault=fault,
                user=request.user,
                accept=verb == "accept",
                note=form.cleaned_data.get("note", ""),
            )
            messages.success(request, _("已确认报备。") if verb == "accept" else _("报备已退回。"))
        elif verb == "close":
            form2 = forms.CloseForm(request.POST)
            if not form2.is_valid():
                messages.error(request, _("请填写修复时间。"))
                return redirect("metering:faults")
            services.close_fault(
                fault=fault, user=request.user, repaired_at=form2.cleaned_data["repaired_at"]
            )
            messages.success(request, _("已记录修复。"))
        else:
            raise PermissionDenied
    except services.PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect("metering:faults")


@rule_required("metering.file")
def manual(request: HttpRequest, uscc: str) -> HttpResponse:
    """手工填报 of monthly items (also the filing during an accepted 报备)."""
    entity = _unit(request, uscc)
    if not can_file_for(request.user, entity):
        raise PermissionDenied
    result = None
    if request.method == "POST":
        form = forms.ManualForm(request.POST, entity=entity)
        if form.is_valid():
            d = form.cleaned_data
            result = services.enter_manual(
                entity=entity, item=d["item"], month=d["month"], value=d["value"], user=request.user
            )
            if result.stored:
                messages.success(request, _("已填报。"))
                return redirect("metering:unit", uscc=entity.uscc)
    else:
        form = forms.ManualForm(
            entity=entity, initial={"month": f"{queries.default_month():%Y-%m}"}
        )
    return render(
        request, "metering/manual.html", {"entity": entity, "form": form, "result": result}
    )


@rule_required("metering.view")
def batches(request: HttpRequest, uscc: str) -> HttpResponse:
    """The unit's upload log (接收记录) with refused readings."""
    entity = _unit(request, uscc)
    qs = IngestBatch.objects.filter(entity=entity).select_related("user")
    if request.GET.get("export") == "xlsx":
        headers = [
            _("批次"),
            _("接收时间"),
            _("渠道"),
            _("报文格式"),
            _("条数"),
            _("新存"),
            _("重复"),
            _("拒收"),
            _("数据起始时间"),
            _("数据截止时间"),
        ]
        rows = (
            [
                b.pk,
                timezone.localtime(b.received_at).replace(tzinfo=None),
                b.channel,
                b.codec,
                b.n_readings,
                b.n_stored,
                b.n_duplicates,
                b.n_rejected,
                timezone.localtime(b.first_ts).replace(tzinfo=None) if b.first_ts else None,
                timezone.localtime(b.last_ts).replace(tzinfo=None) if b.last_ts else None,
            ]
            for b in qs
        )
        return xlsx_response(
            f"batches-{entity.uscc}.xlsx", "batches", headers, rows, user=request.user
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "metering/batches.html", {"entity": entity, "page": page, "filters": {}})
