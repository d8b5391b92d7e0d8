"""Monitoring pages: outlet (station) list, outlet page with charts, alarm list, configuration.

Thin: queries in :mod:`.queries`, writes in :mod:`.services`, access via accounts.scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from dualcontrol.access.rules import allows, rule_required
from dualcontrol.access.scope import is_province, visible_divisions
from dualcontrol.audit.models import AuditEntry
from dualcontrol.exports import xlsx_response
from dualcontrol.monitoring import queries, services
from dualcontrol.monitoring.forms import (
    ExplainForm,
    LimitForm,
    NoteForm,
    OutletForm,
    RangeForm,
    ShutdownForm,
)
from dualcontrol.monitoring.models import (
    AlarmKind,
    AlarmStatus,
    DataType,
    Outlet,
    OutletKind,
    Shutdown,
    ShutdownStatus,
    Station,
)
from dualcontrol.monitoring.rules import monitoring_rules
from dualcontrol.redirects import redirect_next
from dualcontrol.uploads import download

PAGE_SIZE = 50


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 1)


def _filters(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in names}


def _date(text: str) -> dt.date | None:
    """A date from a query string; None when it is not one, or so far out that a day before or
    after it leaves the calendar (years 1 and 9999)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if queries.FIRST_DAY <= day <= queries.LAST_DAY else None


# --------------------------------------------------------------------------------------------
# Outlet (station) list
# --------------------------------------------------------------------------------------------


def _outlets(request: HttpRequest, f: dict[str, str], now: dt.datetime) -> QuerySet[Outlet]:
    rules = monitoring_rules()
    qs = queries.visible_outlets(request.user).annotate(
        last_data_time=Subquery(
            Station.objects.filter(mn=OuterRef("mn")).values("last_data_time")[:1]
        )
    )
    if f["division"].isdigit():
        qs = qs.filter(entity__division__path__contains=f"{f['division']}/")
    if f["kind"] in OutletKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["q"]:
        q = f["q"]
        qs = qs.filter(Q(name__icontains=q) | Q(mn__icontains=q) | Q(entity__name__icontains=q))
    limit = now - dt.timedelta(minutes=rules.offline_after_minutes)
    if f["status"] == "online":
        qs = qs.filter(last_data_time__gte=limit)
    elif f["status"] == "offline":
        qs = qs.filter(last_data_time__lt=limit)
    elif f["status"] == "never":
        qs = qs.filter(last_data_time__isnull=True)
    if f["active"] != "all":
        qs = qs.filter(active=True)
    return qs.prefetch_related("limits").order_by("entity__division__code", "entity__name", "name")


def _rows(outlets: list[Outlet], now: dt.datetime) -> list[dict[str, Any]]:
    """Status, yesterday's effective-transmission rate and recent alarms of each outlet."""
    yesterday = timezone.localdate(now) - dt.timedelta(days=1)
    rates = queries.daily_rates(outlets, yesterday, yesterday, now=now)
    status = queries.statuses([o.mn for o in outlets], now=now)
    alarms = queries.open_alarm_counts([o.pk for o in outlets], now - dt.timedelta(days=7))
    line = monitoring_rules().effective_min_frac
    out = []
    for o in outlets:
        rate = rates[o.pk][yesterday]
        eff = rate.effective_frac
        out.append(
            {
                "outlet": o,
                "status": status[o.mn],
                "effective_pct": _pct(eff),
                "below_line": eff is not None and eff < line,
                "alarms": alarms.get(o.pk, 0),
            }
        )
    return out


@rule_required("monitoring.view")
def outlet_list(request: HttpRequest) -> HttpResponse:
    f = _filters(request, ("division", "kind", "q", "status", "active"))
    now = timezone.now()
    qs = _outlets(request, f, now)
    if request.GET.get("export") == "xlsx":
        outlets = list(qs)
        headers = [
            _("数采仪编码（MN）"),
            _("排放口名称"),
            _("排污单位"),
            _("所在区划"),
            _("类型"),
            _("排污许可证编号"),
            _("在用"),
            _("最新数据时间"),
            _("在线状态"),
            _("昨日数据传输有效率（%）"),
            _("近7日报警数"),
            _("演示数据"),
        ]
        rows = (
            [
                r["outlet"].mn,
                r["outlet"].name,
                r["outlet"].entity.name,
                r["outlet"].entity.division.name,
                r["outlet"].get_kind_display(),
                r["outlet"].permit_number,
                r["outlet"].active,
                timezone.localtime(r["status"].last_data_time).strftime("%Y-%m-%d %H:%M")
                if r["status"].last_data_time
                else "",
                r["status"].label,
                r["effective_pct"],
                r["alarms"],
                r["outlet"].is_synthetic,
            ]
            for r in _rows(outlets, now)
        )
        return xlsx_response("outlets.xlsx", "outlets", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(list(page.object_list), now)
    province = is_province(request.user)
    unregistered = queries.unregistered_stations() if province else (0, [])
    return render(
        request,
        "monitoring/outlet_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": f,
            "divisions": visible_divisions(request.user).exclude(level="county"),
            "kinds": OutletKind.choices,
            "can_add": allows(request.user, "monitoring.manage"),
            "unregistered_count": unregistered[0],
            "unregistered": unregistered[1],
            "rules": monitoring_rules(),
            "line_pct": monitoring_rules().effective_min_frac * 100,
        },
    )


# --------------------------------------------------------------------------------------------
# Outlet page
# --------------------------------------------------------------------------------------------


def _visible_outlet(request: HttpRequest, pk: int) -> Outlet:
    return get_object_or_404(
        queries.visible_outlets(request.user).prefetch_related("limits", "ranges"), pk=pk
    )


CHART_DAYS = (1, 3, 7, 14, 31)


def _chart_context(outlet: Outlet, request: HttpRequest, default_end: dt.date) -> dict[str, Any]:
    rules = monitoring_rules()
    end = _date(request.GET.get("end", "")) or default_end
    try:
        days = int(request.GET.get("days", "3"))
    except ValueError:
        days = 3
    if days not in CHART_DAYS:
        days = 3
    first = end - dt.timedelta(days=days - 1)
    start = queries.day_start(first, rules)
    stop = queries.day_end(end, rules)
    series = queries.hourly_series(outlet, start, stop)
    limits = {lim.code: lim for lim in queries.limits_on(outlet, end) if lim.cn == DataType.HOUR}
    hours = int((stop - start) / dt.timedelta(hours=1))
    axis = [start + dt.timedelta(hours=h) for h in range(hours)]
    labels = [timezone.localtime(t).strftime("%m-%d %H:%M") for t in axis]
    charts = []
    for code in sorted(set(series) | set(limits)):
        by_time = {t: v for t, v, _flag in series.get(code, [])}
        lim = limits.get(code)
        charts.append(
            {
                "id": f"chart-{outlet.pk}-{code}",
                "title": f"{code} {queries.pollutant_name(code)}",
                "unit": lim.unit if lim else "",
                "field": lim.field if lim else "Avg",
                "limit": float(lim.limit_value) if lim else None,
                "x": labels,
                "series": [
                    {"name": queries.pollutant_name(code), "data": [by_time.get(t) for t in axis]}
                ],
            }
        )
    return {
        "outlet": outlet,
        "charts": charts,
        "end": end,
        "days": days,
        "day_choices": CHART_DAYS,
        "prev_end": end - dt.timedelta(days=days),
        "next_end": end + dt.timedelta(days=days),
        "limit_label": _("限值"),
    }


@rule_required("monitoring.view")
def outlet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outlet = _visible_outlet(request, pk)
    rules = monitoring_rules()
    now = timezone.now()
    today = timezone.localdate(now)
    status = queries.statuses([outlet.mn], now=now)[outlet.mn]
    last_day = queries.local_day(status.last_data_time, rules) if status.last_data_time else today
    latest_rows, latest_times = queries.latest_values(outlet, today=today)
    shown = (DataType.REALTIME, DataType.MINUTE, DataType.HOUR)
    latest = [
        {
            "row": row,
            "cells": [
                (
                    *row.values.get(cn, (None, "")),
                    cn == DataType.HOUR and row.exceeded,
                )
                for cn in shown
            ],
        }
        for row in latest_rows
    ]
    # 数据传输有效率 per day of the month (?month=YYYY-MM; default: the month of the newest data)
    month = request.GET.get("month", "")
    try:
        year, mon = (int(x) for x in month.split("-"))
        first, last = queries.month_bounds(year, mon)
    except ValueError:
        first, last = queries.month_bounds(last_day.year, last_day.month)
    rates = queries.daily_rates([outlet], first, last, now=now)[outlet.pk]
    line = rules.effective_min_frac
    rate_rows = [
        {
            "day": day,
            "rate": rate,
            "t": _pct(rate.transmission_frac),
            "v": _pct(rate.validity_frac),
            "e": _pct(rate.effective_frac),
            "ok": None if rate.effective_frac is None else rate.effective_frac >= line,
        }
        for day, rate in rates.items()
    ]
    month_rate = queries.total(rates)
    rate_chart = {
        "id": f"rates-{outlet.pk}",
        "kind": "bar",
        "title": _("数据传输有效率（%）"),
        "unit": "%",
        "limit": line * 100,
        "x": [r["day"].strftime("%m-%d") for r in rate_rows],
        "series": [{"name": _("数据传输有效率"), "data": [r["e"] for r in rate_rows]}],
    }
    prev_month = first - dt.timedelta(days=1)
    next_month = last + dt.timedelta(days=1)
    context = {
        "outlet": outlet,
        "status": status,
        "latest": latest,
        "latest_times": [(DataType(cn).label, latest_times.get(cn)) for cn in shown],
        "limits": sorted(outlet.limits.all(), key=lambda x: (x.code, x.valid_from)),
        "ranges": list(outlet.ranges.all()),
        "rate_rows": rate_rows,
        "month_rate": month_rate,
        "month_pct": {
            "t": _pct(month_rate.transmission_frac),
            "v": _pct(month_rate.validity_frac),
            "e": _pct(month_rate.effective_frac),
            "ok": None if month_rate.effective_frac is None else month_rate.effective_frac >= line,
        },
        "month_first": first,
        "prev_month": f"{prev_month:%Y-%m}",
        "next_month": f"{next_month:%Y-%m}",
        "rate_chart": rate_chart,
        "rate_chart_id": rate_chart["id"],
        "line_pct": line * 100,
        "items": [(c, queries.pollutant_name(c)) for c in queries.assessed_items(outlet, rules)],
        "alarms": list(outlet.alarms.order_by("-started_at")[:20]),
        "can_manage": queries.can_manage(request.user, outlet.entity),
        "can_file_shutdown": services.can_file_shutdown(request.user, outlet),
        "shutdowns": list(outlet.shutdowns.order_by("-started_at")[:10]),
        "rules": rules,
        "today": today,
        **_chart_context(outlet, request, last_day),
    }
    return render(request, "monitoring/outlet_detail.html", context)


@rule_required("monitoring.view")
def outlet_chart(request: HttpRequest, pk: int) -> HttpResponse:
    """The hourly charts alone (htmx: the period controls swap this fragment)."""
    outlet = _visible_outlet(request, pk)
    status = queries.statuses([outlet.mn])[outlet.mn]
    default_end = (
        queries.local_day(status.last_data_time) if status.last_data_time else timezone.localdate()
    )
    return render(request, "monitoring/_charts.html", _chart_context(outlet, request, default_end))


# --------------------------------------------------------------------------------------------
# Configuration (province and city staff, in scope)
# --------------------------------------------------------------------------------------------


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _saved(
    request: HttpRequest, form: Any, save: Callable[[dict[str, Any]], object], success: str
) -> bool:
    """Run ``save`` with a valid POSTed form's data: True (and ``success`` said) when it was
    saved; False when the form is not posted, not valid, or the service refused it (its
    reasons are on the form)."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ValidationError as exc:
        _apply_errors(form, exc)
        return False
    messages.success(request, success)
    return True


@rule_required("monitoring.manage")
def outlet_create(request: HttpRequest) -> HttpResponse:
    entities = queries.manageable_entities(request.user)
    form = OutletForm(request.POST or None, entities=entities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outlet = services.create_outlet(
                user=request.user,
                entity=data["entity"],
                mn=data["mn"],
                name=data["name"],
                kind=data["kind"],
                permit_number=data["permit_number"],
                connected_on=data["connected_on"],
                active=data["active"],
                note=data["note"],
                station_password=data["station_password"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("排放口已登记。"))
            return redirect("monitoring:outlet", pk=outlet.pk)
    return render(
        request,
        "monitoring/outlet_form.html",
        {"form": form, "outlet": None, "title": _("登记排放口")},
    )


def _configure(
    request: HttpRequest,
    pk: int,
    make_form: Callable[[Outlet], Any],
    save: Callable[[Outlet, dict[str, Any]], object],
    success: str,
    title: str,
) -> HttpResponse:
    """An outlet configuration page (staff who manage the outlet): form, service, outlet page."""
    outlet = _visible_outlet(request, pk)
    if not queries.can_manage(request.user, outlet.entity):
        raise PermissionDenied
    form = make_form(outlet)
    if _saved(request, form, lambda data: save(outlet, data), success):
        return redirect("monitoring:outlet", pk=outlet.pk)
    return render(
        request, "monitoring/outlet_form.html", {"form": form, "outlet": outlet, "title": title}
    )


@rule_required("monitoring.manage")
def outlet_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _configure(
        request,
        pk,
        lambda outlet: OutletForm(
            request.POST or None,
            initial={
                f: getattr(outlet, f) for f in services.OUTLET_FIELDS if f != "station_password"
            },
            editing=True,
        ),
        lambda outlet, data: services.update_outlet(user=request.user, outlet=outlet, **data),
        _("排放口信息已保存。"),
        _("修改排放口"),
    )


@rule_required("monitoring.manage")
def limit_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _configure(
        request,
        pk,
        lambda _outlet: LimitForm(
            request.POST or None, initial={"valid_from": timezone.localdate()}
        ),
        lambda outlet, data: services.set_limit(user=request.user, outlet=outlet, **data),
        _("排放限值已保存。"),
        _("新增排放限值"),
    )


@rule_required("monitoring.manage")
def range_set(request: HttpRequest, pk: int) -> HttpResponse:
    return _configure(
        request,
        pk,
        lambda _outlet: RangeForm(request.POST or None),
        lambda outlet, data: services.set_analyser_range(user=request.user, outlet=outlet, **data),
        _("仪器量程已保存。"),
        _("设置仪器量程"),
    )


# --------------------------------------------------------------------------------------------
# Alarms
# --------------------------------------------------------------------------------------------


def _alarms(request: HttpRequest, f: dict[str, str]) -> QuerySet[Any]:
    rules = monitoring_rules()
    qs = queries.visible_alarms(request.user)
    if f["kind"] in queries.ALARM_KIND_GROUPS:
        qs = qs.filter(kind__in=queries.ALARM_KIND_GROUPS[f["kind"]])
    elif f["kind"] in AlarmKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["division"].isdigit():
        qs = qs.filter(outlet__entity__division__path__contains=f"{f['division']}/")
    if f["q"]:
        q = f["q"]
        qs = qs.filter(
            Q(outlet__mn__icontains=q)
            | Q(outlet__name__icontains=q)
            | Q(outlet__entity__name__icontains=q)
            | Q(code=q)
        )
    start, end = _date(f["from"]), _date(f["to"])
    if start:
        qs = qs.filter(started_at__gte=queries.day_start(start, rules))
    if end:
        qs = qs.filter(started_at__lt=queries.day_end(end, rules))
    if f["ongoing"]:
        qs = qs.filter(ongoing=True)
    if f["status"] in AlarmStatus.values:
        qs = qs.filter(status=f["status"])
    return qs.order_by("-started_at", "outlet__mn", "kind")


def alarm_text(alarm: Any) -> str:
    """One line that says what the alarm is about."""
    if alarm.kind == AlarmKind.OFFLINE:
        return _("无数据超过 %(m)d 分钟") % {"m": int(alarm.limit_value or 0)}
    name = queries.pollutant_name(alarm.code)
    if alarm.kind == AlarmKind.EXCEEDANCE:
        return _("%(name)s %(field)s 最大 %(peak)s，限值 %(limit)s %(unit)s") % {
            "name": name,
            "field": alarm.field,
            "peak": _num(alarm.peak_value),
            "limit": _num(alarm.limit_value),
            "unit": alarm.unit,
        }
    if alarm.kind == AlarmKind.NEGATIVE:
        return _("%(name)s 出现负值（最小 %(peak)s）") % {
            "name": name,
            "peak": _num(alarm.peak_value),
        }
    if alarm.kind == AlarmKind.OUT_OF_RANGE:
        values = {"name": name, "peak": _num(alarm.peak_value), "limit": _num(alarm.limit_value)}
        beyond = (
            alarm.peak_value is not None
            and alarm.limit_value is not None
            and alarm.peak_value > alarm.limit_value
        )
        if beyond or alarm.limit_value is None:
            return _("%(name)s 超出仪器量程（最大 %(peak)s，量程上限 %(limit)s）") % values
        # raised by the station's flag T, not by the value: say so instead of contradicting it
        return (
            _(
                "%(name)s 数据被标记为超测上限（T），数值未超过量程（最大 %(peak)s，量程上限 %(limit)s）"
            )
            % values
        )
    return _("%(name)s 连续 %(n)d 条数据恒为 %(v)s") % {
        "name": name,
        "n": alarm.records,
        "v": _num(alarm.peak_value),
    }


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}"


@rule_required("monitoring.view")
def alarm_list(request: HttpRequest) -> HttpResponse:
    f = _filters(request, ("kind", "division", "q", "from", "to", "ongoing", "status"))
    qs = _alarms(request, f)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("开始时间"),
            _("结束时间"),
            _("持续中"),
            _("报警类型"),
            _("数采仪编码（MN）"),
            _("排放口名称"),
            _("排污单位"),
            _("所在区划"),
            _("污染物编码"),
            _("数据类型"),
            _("字段"),
            _("涉及记录数"),
            _("最大（异常）值"),
            _("限值/阈值"),
            _("单位"),
            _("说明"),
            _("规则版本"),
            _("处置状态"),
            _("原因及处理情况"),
            _("说明时间"),
            _("核实意见"),
            _("办结时间"),
        ]

        def fmt(t: dt.datetime | None) -> str:
            return timezone.localtime(t).strftime("%Y-%m-%d %H:%M") if t else ""

        rows = (
            [
                fmt(a.started_at),
                fmt(a.ended_at),
                a.ongoing,
                a.get_kind_display(),
                a.outlet.mn,
                a.outlet.name,
                a.outlet.entity.name,
                a.outlet.entity.division.name,
                a.code,
                a.cn,
                a.field,
                a.records,
                a.peak_value,
                a.limit_value,
                a.unit,
                alarm_text(a),
                a.rules_version,
                a.get_status_display(),
                a.explanation,
                fmt(a.explained_at),
                a.close_note,
                fmt(a.closed_at),
            ]
            for a in qs.iterator(chunk_size=2000)
        )
        return xlsx_response("alarms.xlsx", "alarms", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/alarm_list.html",
        {
            "page": page,
            "rows": [(a, alarm_text(a)) for a in page.object_list],
            "filters": f,
            "divisions": visible_divisions(request.user).exclude(level="county"),
            "kinds": [
                ("exceedance", _("超标")),
                ("offline", _("断线")),
                ("abnormal", _("异常值（全部）")),
                *[
                    (k, label)
                    for k, label in AlarmKind.choices
                    if k not in ("exceedance", "offline")
                ],
            ],
            "statuses": AlarmStatus.choices,
            "rules": monitoring_rules(),
        },
    )


# --------------------------------------------------------------------------------------------
# Alarm handling (报警处置)
# --------------------------------------------------------------------------------------------


HANDLING_ACTIONS = {
    "monitoring.alarm.explain": _lazy("说明原因"),
    "monitoring.alarm.close": _lazy("核实办结"),
    "monitoring.alarm.reopen": _lazy("重新打开"),
}


@rule_required("monitoring.view")
def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One alarm: what happened, the unit's explanation, the officer's verification."""
    alarm = get_object_or_404(queries.visible_alarms(request.user), pk=pk)
    user = request.user
    can_explain = services.can_explain(user, alarm) and alarm.status in (
        AlarmStatus.OPEN,
        AlarmStatus.EXPLAINED,
    )
    can_close = services.can_close(user, alarm)
    explain_form = ExplainForm(initial={"text": alarm.explanation})
    note_form = NoteForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "explain":
                explain_form = ExplainForm(request.POST)
                if explain_form.is_valid():
                    services.explain_alarm(
                        user=user, alarm=alarm, text=explain_form.cleaned_data["text"]
                    )
                    messages.success(request, _("说明已提交。"))
                    return redirect("monitoring:alarm", pk=alarm.pk)
            elif action in ("close", "reopen"):
                note_form = NoteForm(request.POST)
                if note_form.is_valid():
                    note = note_form.cleaned_data["note"]
                    if action == "close":
                        services.close_alarm(user=user, alarm=alarm, note=note)
                        messages.success(request, _("报警已办结。"))
                    else:
                        services.reopen_alarm(user=user, alarm=alarm, note=note)
                        messages.success(request, _("报警已重新打开。"))
                    return redirect("monitoring:alarm", pk=alarm.pk)
            else:
                return HttpResponse(status=400)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("monitoring:alarm", pk=alarm.pk)
    history = AuditEntry.objects.filter(
        object_type="monitoring.alarm", object_id=str(alarm.pk)
    ).order_by("at")
    return render(
        request,
        "monitoring/alarm_detail.html",
        {
            "alarm": alarm,
            "text": alarm_text(alarm),
            "explain_form": explain_form,
            "note_form": note_form,
            "can_explain": can_explain,
            "can_close": can_close and alarm.status in (AlarmStatus.OPEN, AlarmStatus.EXPLAINED),
            "can_reopen": can_close and alarm.status == AlarmStatus.CLOSED,
            "history": [(e, HANDLING_ACTIONS.get(e.action, e.action)) for e in history],
            "shutdowns": alarm.outlet.shutdowns.filter(
                started_at__lt=alarm.ended_at or timezone.now(),
                ended_at__gt=alarm.started_at,
            ),
        },
    )


# --------------------------------------------------------------------------------------------
# Shutdown reports (停运报备)
# --------------------------------------------------------------------------------------------


def _shutdowns(request: HttpRequest, f: dict[str, str]) -> QuerySet[Shutdown]:
    qs = Shutdown.objects.select_related(
        "outlet", "outlet__entity", "outlet__entity__division", "filed_by", "reviewed_by"
    ).filter(outlet__in=queries.visible_outlets(request.user).values("pk"))
    if f["status"] in ShutdownStatus.values:
        qs = qs.filter(status=f["status"])
    if f["division"].isdigit():
        qs = qs.filter(outlet__entity__division__path__contains=f"{f['division']}/")
    if f["q"]:
        q = f["q"]
        qs = qs.filter(
            Q(outlet__mn__icontains=q)
            | Q(outlet__name__icontains=q)
            | Q(outlet__entity__name__icontains=q)
        )
    rules = monitoring_rules()
    start, end = _date(f["from"]), _date(f["to"])
    if start:
        qs = qs.filter(ended_at__gt=queries.day_start(start, rules))
    if end:
        qs = qs.filter(started_at__lt=queries.day_end(end, rules))
    return qs.order_by("-started_at", "-pk")


def shutdown_timeliness(shutdown: Shutdown) -> str:
    """Which months' hours the report can excuse (filed by the deadline of their month)."""
    rules = monitoring_rules()
    tz = rules.tz
    first = shutdown.started_at.astimezone(tz)
    last = (shutdown.ended_at - dt.timedelta(microseconds=1)).astimezone(tz)
    late = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        if shutdown.filed_at >= rules.shutdown_deadline(year, month):
            late.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not late:
        return ""
    return _("逾期报备（%(months)s 的时段不核减）") % {"months": "、".join(late)}


@rule_required("monitoring.view")
def shutdown_list(request: HttpRequest) -> HttpResponse:
    f = _filters(request, ("status", "division", "q", "from", "to"))
    qs = _shutdowns(request, f)

    def fmt(t: dt.datetime | None) -> str:
        return timezone.localtime(t).strftime("%Y-%m-%d %H:%M") if t else ""

    if request.GET.get("export") == "xlsx":
        headers = [
            _("数采仪编码（MN）"),
            _("排放口名称"),
            _("排污单位"),
            _("所在区划"),
            _("停运类型"),
            _("停运开始时间"),
            _("停运结束时间"),
            _("停运原因"),
            _("证明材料文件名"),
            _("状态"),
            _("报备时间"),
            _("报备人"),
            _("审核时间"),
            _("审核人"),
            _("审核意见"),
            _("是否按期报备"),
        ]
        rows = (
            [
                s.outlet.mn,
                s.outlet.name,
                s.outlet.entity.name,
                s.outlet.entity.division.name,
                s.get_kind_display(),
                fmt(s.started_at),
                fmt(s.ended_at),
                s.reason,
                s.document_name,
                s.get_status_display(),
                fmt(s.filed_at),
                s.filed_by.username if s.filed_by else "",
                fmt(s.reviewed_at),
                s.reviewed_by.username if s.reviewed_by else "",
                s.review_note,
                shutdown_timeliness(s) or _("按期"),
            ]
            for s in qs.iterator(chunk_size=2000)
        )
        return xlsx_response("shutdowns.xlsx", "shutdowns", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    return render(
        request,
        "monitoring/shutdown_list.html",
        {
            "page": page,
            "rows": [
                (s, shutdown_timeliness(s), services.can_review_shutdown(user, s))
                for s in page.object_list
            ],
            "filters": f,
            "statuses": ShutdownStatus.choices,
            "divisions": visible_divisions(user).exclude(level="county"),
            "note_form": NoteForm(),
            "rules": monitoring_rules(),
        },
    )


@rule_required("monitoring.view")
def shutdown_new(request: HttpRequest, pk: int) -> HttpResponse:
    outlet = _visible_outlet(request, pk)
    if not services.can_file_shutdown(request.user, outlet):
        raise PermissionDenied
    form = ShutdownForm(request.POST or None, request.FILES or None)
    if _saved(
        request,
        form,
        lambda data: services.file_shutdown(user=request.user, outlet=outlet, **data),
        _("停运报备已提交，待生态环境部门审核。"),
    ):
        return redirect("monitoring:outlet", pk=outlet.pk)
    return render(
        request,
        "monitoring/shutdown_form.html",
        {"form": form, "outlet": outlet, "rules": monitoring_rules()},
    )


@rule_required("monitoring.manage")
def shutdown_review(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("monitoring:shutdowns")
    shutdown = get_object_or_404(
        Shutdown.objects.filter(outlet__in=queries.visible_outlets(request.user).values("pk")),
        pk=pk,
    )
    accept = request.POST.get("action") == "accept"
    try:
        services.review_shutdown(
            user=request.user,
            shutdown=shutdown,
            accept=accept,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("停运报备已确认，相关日期的报警已重新评估。") if accept else _("停运报备已退回。"),
        )
    return redirect_next(request, "monitoring:shutdowns")


@rule_required("monitoring.view")
def shutdown_document(request: HttpRequest, pk: int) -> HttpResponse:
    shutdown = get_object_or_404(
        Shutdown.objects.filter(outlet__in=queries.visible_outlets(request.user).values("pk")),
        pk=pk,
    )
    return download(shutdown.document, shutdown.document_name or "document")
