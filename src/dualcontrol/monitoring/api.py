"""REST endpoints of pollution-source online monitoring (scoped like the pages).

Reads: outlets, values, rates, alarms, shutdown reports.  Writes: alarm handling (explain, close)
and the registry (outlets, limits, analyser ranges) through the same services as the pages
(permission and validation there, audited).
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.api_problems import WRITE_ERRORS, refusal
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


@router.post("/alarms/{alarm_id}/reopen", response={200: AlarmOut, 403: ErrorOut, 422: ErrorOut})
def reopen_alarm(request: HttpRequest, alarm_id: int, payload: NoteIn) -> Any:
    """An officer in scope reopens a closed alarm (the alarm page's 重新打开)."""
    return _handling(
        request,
        alarm_id,
        lambda a: services.reopen_alarm(user=request.user, alarm=a, note=payload.note),
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


# --------------------------------------------------------------------------------------------
# the registry (outlets, limits, analyser ranges): the pages' services, rule ``monitoring.manage``
# and audit; docs/api.md lists each page write's operation


def _registry_refused(exc: Exception) -> Any:
    if isinstance(exc, PermissionDenied):
        return refusal(403, "not allowed for this unit's outlets")
    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        return refusal(
            422,
            "未保存",
            fields={k: " ".join(v) for k, v in exc.message_dict.items()},
        )
    return refusal(422, "; ".join(exc.messages))


class OutletIn(Schema):
    """An outlet (排放口) as on the page 登记排放口: ``unit`` is the unit's USCC (create only)."""

    unit: str | None = None
    mn: str | None = None
    name: str | None = None
    kind: str | None = None
    permit_number: str | None = None
    connected_on: dt.date | None = None
    active: bool | None = None
    note: str | None = None
    station_password: str | None = None


def _outlet_values(payload: OutletIn) -> dict[str, Any]:
    """The fields given (blank text for a null text field; a null ``active`` is left out)."""
    values = payload.dict(exclude_unset=True, exclude={"unit"})
    if values.get("active", True) is None:
        del values["active"]
    return {k: ("" if v is None and k != "connected_on" else v) for k, v in values.items()}


def _managed_outlet(request: HttpRequest, outlet_id: int) -> Any:
    require(request.user, "monitoring.manage")
    outlet = queries.visible_outlets(request.user).filter(pk=outlet_id).first()
    if outlet is None:
        raise Http404
    return outlet


def _outlet_saved(outlet: Any) -> dict[str, Any]:
    return _outlet_out(outlet, queries.statuses([outlet.mn])[outlet.mn])


@router.post("/outlets", response={201: OutletOut, **WRITE_ERRORS})
def create_outlet(request: HttpRequest, payload: OutletIn) -> Any:
    """登记排放口: ``services.create_outlet`` (the unit must be in the user's scope)."""
    require(request.user, "monitoring.manage")
    entity = queries.manageable_entities(request.user).filter(uscc=payload.unit or "").first()
    if entity is None:
        return refusal(422, "未保存", fields={"unit": "未知单位或不在管辖范围内"})
    values = _outlet_values(payload)
    try:
        outlet = services.create_outlet(
            user=request.user,
            entity=entity,
            mn=values.pop("mn", ""),
            name=values.pop("name", ""),
            kind=values.pop("kind", ""),
            **values,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return HttpStatus(201, _outlet_saved(outlet))


@router.patch("/outlets/{outlet_id}", response={200: OutletOut, **WRITE_ERRORS})
def update_outlet(request: HttpRequest, outlet_id: int, payload: OutletIn) -> Any:
    """修改排放口 (only the fields given): ``services.update_outlet``."""
    outlet = _managed_outlet(request, outlet_id)
    changes = _outlet_values(payload)
    if "unit" in payload.dict(exclude_unset=True):
        return refusal(422, "未保存", fields={"unit": "排放口的单位不能修改"})
    try:
        outlet = services.update_outlet(user=request.user, outlet=outlet, **changes)
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return _outlet_saved(outlet)


class LimitIn(Schema):
    code: str
    limit_value: float | str
    unit: str
    standard: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    cn: str = "2061"
    field: str = "Avg"


@router.post("/outlets/{outlet_id}/limits", response={201: LimitOut, **WRITE_ERRORS})
def add_limit(request: HttpRequest, outlet_id: int, payload: LimitIn) -> Any:
    """新增排放限值 (a new version; the open one before it ends the day before):
    ``services.set_limit``."""
    outlet = _managed_outlet(request, outlet_id)
    try:
        lim = services.set_limit(user=request.user, outlet=outlet, **payload.dict())
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return HttpStatus(
        201,
        {
            "code": lim.code,
            "cn": lim.cn,
            "field": lim.field,
            "limit_value": float(lim.limit_value),
            "unit": lim.unit,
            "standard": lim.standard,
            "valid_from": lim.valid_from,
            "valid_to": lim.valid_to,
        },
    )


class RangeIn(Schema):
    code: str
    low: float | str
    high: float | str
    unit: str


class RangeOut(Schema):
    code: str
    low: float
    high: float
    unit: str


@router.put("/outlets/{outlet_id}/ranges", response={200: RangeOut, **WRITE_ERRORS})
def set_range(request: HttpRequest, outlet_id: int, payload: RangeIn) -> Any:
    """设置仪器量程 (replaces the item's previous range): ``services.set_analyser_range``."""
    outlet = _managed_outlet(request, outlet_id)
    try:
        rng = services.set_analyser_range(user=request.user, outlet=outlet, **payload.dict())
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return {"code": rng.code, "low": float(rng.low), "high": float(rng.high), "unit": rng.unit}


class ShutdownIn(Schema):
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime
    reason: str


@router.post("/outlets/{outlet_id}/shutdowns", response={201: ShutdownOut, **WRITE_ERRORS})
def file_shutdown(
    request: HttpRequest,
    outlet_id: int,
    payload: Form[ShutdownIn],
    document: File[UploadedFile],
) -> Any:
    """停运报备 with its document (multipart; the page 停运报备): ``services.file_shutdown``."""
    outlet = queries.visible_outlets(request.user).filter(pk=outlet_id).first()
    if outlet is None:
        raise Http404
    try:
        shutdown = services.file_shutdown(
            user=request.user, outlet=outlet, document=document, **payload.dict()
        )
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return HttpStatus(201, shutdown)


class ReviewIn(Schema):
    """``accept`` true: 确认 (the alarms of the days covered are evaluated again); false: 退回
    (``note`` required)."""

    accept: bool
    note: str = ""


@router.post("/shutdowns/{shutdown_id}/review", response={200: ShutdownOut, **WRITE_ERRORS})
def review_shutdown(request: HttpRequest, shutdown_id: int, payload: ReviewIn) -> Any:
    """停运报备审核 (the shutdowns page's 确认 / 退回): ``services.review_shutdown``."""
    require(request.user, "monitoring.manage")
    shutdown = (
        Shutdown.objects.select_related("outlet")
        .filter(outlet__in=queries.visible_outlets(request.user).values("pk"), pk=shutdown_id)
        .first()
    )
    if shutdown is None:
        raise Http404
    try:
        shutdown = services.review_shutdown(
            user=request.user, shutdown=shutdown, accept=payload.accept, note=payload.note
        )
    except (PermissionDenied, ValidationError) as exc:
        return _registry_refused(exc)
    return shutdown
