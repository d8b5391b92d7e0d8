"""REST endpoints of pollution-source online monitoring (scoped like the pages).

Reads: outlets, values, rates, alarms, shutdown reports.  Writes: alarm handling (explain, close)
through the same services as the pages (permission and validation there, audited).
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from dualcontrol.monitoring import queries, services
from dualcontrol.monitoring.models import AlarmKind, AlarmStatus, Shutdown, ShutdownStatus
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["monitoring"])


class OutletOut(Schema):
    id: int
    mn: str
    name: str
    kind: str
    unit_uscc: str
    unit_name: str
    division_code: str
    permit_number: str
    active: bool
    status: str
    last_data_time: dt.datetime | None
    is_synthetic: bool


class LimitOut(Schema):
    code: str
    cn: str
    field: str
    limit_value: float
    unit: str
    standard: str
    valid_from: dt.date
    valid_to: dt.date | None


class RateOut(Schema):
    day: dt.date
    expected: int
    received: int
    valid: int
    excused_by_shutdowns: int  # item records not expected: accepted, timely shutdown reports
    transmission_pct: float | None
    validity_pct: float | None
    effective_pct: float | None


class OutletDetailOut(OutletOut):
    limits: list[LimitOut]
    effective_line_pct: float
    rates: list[RateOut]


class ValueOut(Schema):
    code: str
    data_time: dt.datetime
    value: float | None
    flag: str


class AlarmOut(Schema):
    id: int
    outlet_id: int
    mn: str
    kind: str
    code: str
    cn: str
    field: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    ongoing: bool
    records: int
    peak_value: float | None
    limit_value: float | None
    unit: str
    rules_version: str
    status: str
    explanation: str
    explained_at: dt.datetime | None
    close_note: str
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_mn(obj: Any) -> str:
        return str(obj.outlet.mn)


class ExplainIn(Schema):
    text: str


class NoteIn(Schema):
    note: str


class ErrorOut(Schema):
    detail: str


class ShutdownOut(Schema):
    id: int
    outlet_id: int
    mn: str
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime
    reason: str
    document_name: str
    status: str
    filed_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_note: str

    @staticmethod
    def resolve_mn(obj: Any) -> str:
        return str(obj.outlet.mn)


def _outlet_out(outlet: Any, status: Any) -> dict[str, Any]:
    return {
        "id": outlet.pk,
        "mn": outlet.mn,
        "name": outlet.name,
        "kind": outlet.kind,
        "unit_uscc": outlet.entity.uscc,
        "unit_name": outlet.entity.name,
        "division_code": outlet.entity.division.code,
        "permit_number": outlet.permit_number,
        "active": outlet.active,
        "status": status.state,
        "last_data_time": status.last_data_time,
        "is_synthetic": outlet.is_synthetic,
    }


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 2)


@router.get("/outlets", response=list[OutletOut])
@paginate(PageNumberPagination, page_size=100)
def list_outlets(
    request: HttpRequest, kind: str | None = None, division: str | None = None, q: str | None = None
) -> Any:
    qs = queries.visible_outlets(request.user).order_by("mn")
    if kind:
        qs = qs.filter(kind=kind)
    if division:
        qs = qs.filter(entity__division__path__contains=f"{division}/")
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(mn__icontains=q)
    return Mapped(qs, per_page=_outlets_out)


def _outlets_out(outlets: list[Any]) -> list[dict[str, Any]]:
    status = queries.statuses([o.mn for o in outlets])
    return [_outlet_out(o, status[o.mn]) for o in outlets]


def _outlet(request: HttpRequest, outlet_id: int) -> Any:
    outlet = (
        queries.visible_outlets(request.user)
        .prefetch_related("limits")
        .filter(pk=outlet_id)
        .first()
    )
    if outlet is None:
        raise Http404
    return outlet


@router.get("/outlets/{outlet_id}", response=OutletDetailOut)
def outlet_detail(request: HttpRequest, outlet_id: int, month: str | None = None) -> Any:
    """An outlet with its limits and the effective-transmission rate per day of ``month``."""
    outlet = _outlet(request, outlet_id)
    today = timezone.localdate()
    try:
        year, mon = (int(x) for x in (month or f"{today:%Y-%m}").split("-"))
        first, last = queries.month_bounds(year, mon)
    except ValueError as exc:
        raise Http404 from exc
    rates = queries.daily_rates([outlet], first, last)[outlet.pk]
    status = queries.statuses([outlet.mn])[outlet.mn]
    return {
        **_outlet_out(outlet, status),
        "limits": [
            {
                "code": lim.code,
                "cn": lim.cn,
                "field": lim.field,
                "limit_value": float(lim.limit_value),
                "unit": lim.unit,
                "standard": lim.standard,
                "valid_from": lim.valid_from,
                "valid_to": lim.valid_to,
            }
            for lim in outlet.limits.all()
        ],
        "effective_line_pct": queries.monitoring_rules().effective_min_frac * 100,
        "rates": [
            {
                "day": day,
                "expected": r.expected,
                "received": r.received,
                "valid": r.valid,
                "excused_by_shutdowns": r.excused,
                "transmission_pct": _pct(r.transmission_frac),
                "validity_pct": _pct(r.validity_frac),
                "effective_pct": _pct(r.effective_frac),
            }
            for day, r in rates.items()
        ],
    }


@router.get("/outlets/{outlet_id}/hourly", response=list[ValueOut])
def outlet_hourly(
    request: HttpRequest, outlet_id: int, start: dt.date, end: dt.date | None = None
) -> Any:
    """Hourly values (CN 2061) from ``start`` to ``end`` (inclusive, at most 62 days)."""
    outlet = _outlet(request, outlet_id)
    end = end or start
    if end < start or (end - start).days > 62:
        raise Http404
    series = queries.hourly_series(outlet, queries.day_start(start), queries.day_end(end))
    return [
        {"code": code, "data_time": t, "value": v, "flag": flag}
        for code, points in sorted(series.items())
        for t, v, flag in points
    ]


@router.get("/alarms", response=list[AlarmOut])
@paginate(PageNumberPagination, page_size=100)
def list_alarms(
    request: HttpRequest,
    kind: str | None = None,
    mn: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    status: str | None = None,
) -> Any:
    qs = queries.visible_alarms(request.user).order_by("-started_at", "id")
    if status in AlarmStatus.values:
        qs = qs.filter(status=status)
    if kind in queries.ALARM_KIND_GROUPS:
        qs = qs.filter(kind__in=queries.ALARM_KIND_GROUPS[kind])
    elif kind in AlarmKind.values:
        qs = qs.filter(kind=kind)
    if mn:
        qs = qs.filter(outlet__mn=mn)
    if start:
        qs = qs.filter(started_at__gte=queries.day_start(start))
    if end:
        qs = qs.filter(started_at__lt=queries.day_end(end))
    return qs


def _handling(request: HttpRequest, alarm_id: int, act: Any) -> Any:
    alarm = queries.visible_alarms(request.user).filter(pk=alarm_id).first()
    if alarm is None:
        raise Http404
    try:
        return act(alarm)
    except PermissionDenied:
        return HttpStatus(403, {"detail": "not allowed to handle this alarm"})
    except ValidationError as exc:
        return HttpStatus(422, {"detail": "; ".join(exc.messages)})


@router.post("/alarms/{alarm_id}/explain", response={200: AlarmOut, 403: ErrorOut, 422: ErrorOut})
def explain_alarm(request: HttpRequest, alarm_id: int, payload: ExplainIn) -> Any:
    """The unit (or an officer in scope) states the cause and what was done."""
    return _handling(
        request,
        alarm_id,
        lambda a: services.explain_alarm(user=request.user, alarm=a, text=payload.text),
    )


@router.post("/alarms/{alarm_id}/close", response={200: AlarmOut, 403: ErrorOut, 422: ErrorOut})
def close_alarm(request: HttpRequest, alarm_id: int, payload: NoteIn) -> Any:
    """An officer in scope verifies and closes the alarm."""
    return _handling(
        request,
        alarm_id,
        lambda a: services.close_alarm(user=request.user, alarm=a, note=payload.note),
    )


@router.get("/shutdowns", response=list[ShutdownOut])
@paginate(PageNumberPagination, page_size=100)
def list_shutdowns(request: HttpRequest, mn: str | None = None, status: str | None = None) -> Any:
    """停运报备 of the outlets in scope (documents: the page's download link)."""
    qs = Shutdown.objects.select_related("outlet").filter(
        outlet__in=queries.visible_outlets(request.user).values("pk")
    )
    if mn:
        qs = qs.filter(outlet__mn=mn)
    if status in ShutdownStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-pk")
