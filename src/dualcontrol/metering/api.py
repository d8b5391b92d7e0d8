"""REST endpoints of energy online monitoring (/api/metering/…).

The ingest endpoint (POST /readings) takes the body as bytes and hands it to a codec
(:mod:`dualcontrol.metering.codecs`); everything else is plain JSON. Every endpoint goes through
:mod:`dualcontrol.access.scope` (via ``services.monitored_entities``): a unit the caller may not
see answers 404, an action the caller may not take answers 403.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.access.scope import can_file_for
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.entities.models import Entity
from dualcontrol.metering import codecs, queries, services
from dualcontrol.metering.models import (
    Alert,
    DataItem,
    FaultReport,
    Frequency,
    MeteringInstrument,
)
from dualcontrol.pagination import Mapped, PageNumberPagination, Ranked
from dualcontrol.reference.metering import metering_rules
from dualcontrol.reference.workcalendar import work_calendar

router = Router(tags=["metering"])

READINGS_BODY = {
    "requestBody": {
        "required": True,
        "description": "dualcontrol-json-v1 (default codec); see docs/metering.md",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["readings"],
                    "properties": {
                        "unit": {"type": "string", "description": "USCC; default: own unit"},
                        "readings": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["item", "value"],
                                "properties": {
                                    "item": {"type": "string", "minLength": 16, "maxLength": 16},
                                    "ts": {"type": "string", "format": "date-time"},
                                    "month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
                                    "value": {"type": "number"},
                                    "frequency": {"type": "integer", "enum": [0, 1, 2]},
                                    "source": {"type": "integer", "enum": [4, 5]},
                                },
                            },
                        },
                    },
                }
            }
        },
    }
}


class DuplicateOut(Schema):
    index: int
    stored_value: float | None


class RejectedOut(Schema):
    index: int
    item: str
    ts: str
    reason: str
    message: str


class AckOut(Schema):
    batch: int
    received: int
    stored: int
    queued: int = Field(
        0, description="accepted into the stream, stored by the writers (a configured stream)"
    )
    duplicates: list[DuplicateOut]
    rejected: list[RejectedOut]


class ErrorOut(Schema):
    detail: str


class CodecOut(Schema):
    name: str
    description: str
    content_type: str
    default: bool


class ProblemOut(Schema):
    row: int
    field: str
    reason: str


class RegistryRejectedOut(Schema):
    detail: str
    problems: list[ProblemOut]


class ItemIn(Schema):
    code: str = Field(..., description="16-character 采集数据项编码")
    frequency: int = Field(..., description="0 实时, 1 日, 2 月")
    name: str
    interval_minutes: int | None = None
    interval_grant: str = ""
    source: int = 4
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    is_reported: bool = True
    boundary: str = Field("", description="'' internal, 'in' entering, 'out' leaving the unit")
    instrument_number: str = ""
    system_name: str = ""
    active: bool = True
    active_from: dt.date | None = None


class ItemOut(Schema):
    id: int
    code: str
    name: str
    frequency: int
    interval_minutes: int
    source: int
    unit: str
    min_value: float | None
    max_value: float | None
    is_reported: bool
    boundary: str
    process_code: str
    process_unit_code: str
    equipment_type_code: str
    equipment_code: str
    data_type: str
    energy_code: str
    use_code: str
    product_code: str
    instrument_number: str | None
    active: bool
    last_ts: dt.datetime | None


class InstrumentIn(Schema):
    number: str
    name: str
    grade: int = Field(..., description="1 进出用能单位, 2 主要次级用能单位, 3 主要用能设备")
    kind: str = ""
    manufacturer: str = ""
    model_spec: str = ""
    accuracy_class: str = ""
    measuring_range: str = ""
    management_no: str = ""
    calibration_status: str = ""
    calibration_cycle_months: int | None = None
    last_calibration: dt.date | None = None
    next_calibration: dt.date | None = None
    calibration_body: str = ""
    not_calibrated_reason: str = ""
    location: str = ""
    installer: int | None = None
    installed: dt.date | None = None
    access_system: int | None = None
    status: int = 1
    status_since: dt.date | None = None
    multiplier: Decimal = Decimal(1)


class InstrumentOut(InstrumentIn):
    id: int


class UnitOut(Schema):
    uscc: str
    name: str
    division: str
    items: int
    expected: int
    received: int
    completeness_pct: float | None
    meets_minimum: bool | None
    meter_tce: float | None
    report_tce: float | None
    gap_pct: float | None
    alerts: int


class ItemQualityOut(Schema):
    code: str
    name: str
    frequency: int
    expected: int
    received: int
    completeness_pct: float | None
    days_below_minimum: int
    out_of_range: int
    stuck_days: int
    total: float | None
    monthly_value: float | None


class DayOut(Schema):
    day: dt.date
    expected: int
    received: int
    completeness_pct: float | None
    excused: bool


class ConsistencyOut(Schema):
    code: str
    daily_total: float | None
    monthly: float | None
    deviation_pct: float | None
    ok: bool | None


class QualityOut(Schema):
    uscc: str
    month: str
    expected: int
    received: int
    completeness_pct: float | None
    minimum_pct: float
    rules_version: str
    items: list[ItemQualityOut]
    days: list[DayOut]
    consistency: list[ConsistencyOut]


class GapOut(Schema):
    product_code: str
    name: str
    unit: str
    meter_qty: Decimal | None
    report_consumption: Decimal | None
    report_purchases: Decimal | None
    gap: Decimal | None
    gap_pct: float | None
    completeness_pct: float | None
    reasons: list[str]
    explanation: str | None


class ReconciliationOut(Schema):
    uscc: str
    month: str
    report_id: int | None
    lines: list[GapOut]
    meter_comprehensive_calorific_tce: Decimal | None
    meter_comprehensive_equivalent_tce: Decimal | None
    report_comprehensive_calorific_tce: Decimal | None
    report_comprehensive_equivalent_tce: Decimal | None
    versions: list[str]


class ReadingOut(Schema):
    item: str
    frequency: int
    ts: dt.datetime
    value: float
    source: int


class AlertOut(Schema):
    id: int
    uscc: str
    unit: str
    kind: str
    kind_label: str
    day: dt.date
    item: str | None
    message: str
    created: dt.datetime
    resolved_at: dt.datetime | None
    recipients: list[str]


class FaultIn(Schema):
    started: dt.datetime
    expected_repair: dt.date
    reason: str
    items: list[str] = Field(
        default_factory=list, description="data-item codes; empty = whole access system"
    )
    manual_filing: bool = True


class FaultOut(Schema):
    id: int
    uscc: str
    unit: str
    status: str
    started: dt.datetime
    expected_repair: dt.date
    repair_deadline: dt.date = Field(
        description="start + the repair rule's working days (China's holidays and 调休 counted)"
    )
    repair_deadline_estimated: bool = Field(
        description="true when a year of the span has no holiday notice: Monday–Friday assumed"
    )
    reason: str
    items: list[str]
    review_note: str
    repaired_at: dt.datetime | None


class ReviewIn(Schema):
    note: str = ""


class CloseIn(Schema):
    repaired_at: dt.datetime


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 2)


def _unit(request: HttpRequest, uscc: str) -> Entity:
    return get_object_or_404(services.monitored_entities(request.user), uscc=uscc.upper())


def _month(text: str | None) -> dt.date:
    return queries.parse_month(text, queries.default_month())


@router.get("/codecs", response=list[CodecOut])
def list_codecs(request: HttpRequest) -> Any:
    return [
        {
            "name": c.name,
            "description": c.description,
            "content_type": c.content_type,
            "default": c.name == codecs.DEFAULT,
        }
        for c in codecs.available()
    ]


@router.post(
    "/readings",
    response={
        200: AckOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: AckOut,
        503: ErrorOut,
    },
    openapi_extra=READINGS_BODY,
)
def post_readings(request: HttpRequest, codec: str | None = None) -> Any:
    """Ingest a batch of readings (and manual monthly entries) of the caller's own unit.

    Valid readings are stored and acknowledged even when others are refused; a reading already
    stored (same item and time) is acknowledged as a duplicate with the stored value. 200 when at
    least one reading was stored or found stored, 422 when every reading was refused.  With a
    stream configured (issue 22) the accepted readings are ``queued``: answered once the stream
    holds them, stored by the writers; 503 when the stream did not take them (nothing accepted:
    send again).
    """
    try:
        wire = codecs.get(codec)
        decoded = wire.decode(request.body)
    except codecs.CodecError as exc:
        return HttpStatus(400, {"detail": str(exc)})
    limit = metering_rules().max_readings_per_batch
    if len(decoded.readings) > limit:
        return HttpStatus(413, {"detail": f"at most {limit} readings per batch"})
    if decoded.unit:
        entity = services.monitored_entities(request.user).filter(uscc=decoded.unit).first()
    else:
        own = getattr(request.user, "entity", None)
        entity = (
            services.monitored_entities(request.user).filter(pk=getattr(own, "pk", None)).first()
        )
    if entity is None:
        return HttpStatus(404, {"detail": "unit not found or not under online monitoring"})
    try:
        result = services.ingest(
            entity=entity,
            readings=decoded.readings,
            user=request.user,
            codec=wire.name,
            lang=get_language() or "zh-hans",
        )
    except services.PermissionDenied as exc:
        return HttpStatus(403, {"detail": str(exc)})
    except services.StreamUnavailable as exc:
        return HttpStatus(503, {"detail": f"stream unavailable, nothing accepted: {exc}"})
    body = wire.encode(result)
    ok = result.stored or result.queued or result.duplicates or not decoded.readings
    return HttpStatus(200 if ok else 422, body)


def _item_out(i: DataItem) -> dict[str, Any]:
    return {
        **{
            f: getattr(i, f)
            for f in (
                "id",
                "code",
                "name",
                "frequency",
                "interval_minutes",
                "source",
                "unit",
                "min_value",
                "max_value",
                "is_reported",
                "boundary",
                "process_code",
                "process_unit_code",
                "equipment_type_code",
                "equipment_code",
                "data_type",
                "energy_code",
                "use_code",
                "product_code",
                "active",
                "last_ts",
            )
        },
        "instrument_number": i.instrument.number if i.instrument else None,
    }


@router.get("/units", response=list[UnitOut])
@paginate(PageNumberPagination, page_size=100)
def list_units(
    request: HttpRequest,
    month: str | None = None,
    sort: str = "completeness",
    division: str = "",
    q: str = "",
) -> Any:
    """Monitored units the caller sees, ranked by completeness (lowest first) or by |gap|."""
    rows = queries.sort_rows(
        queries.ranking(request.user, _month(month), division=division, q=q), sort
    )
    return Ranked(rows, _unit_out)


def _unit_out(r: Any) -> dict[str, Any]:
    return {
        "uscc": r.entity.uscc,
        "name": r.entity.name,
        "division": r.entity.division.name,
        "items": r.items,
        "expected": r.expected,
        "received": r.received,
        "completeness_pct": _pct(r.completeness),
        "meets_minimum": r.passes,
        "meter_tce": r.meter_tce,
        "report_tce": r.report_tce,
        "gap_pct": _pct(r.gap_frac),
        "alerts": r.alerts,
    }


@router.get("/units/{uscc}/items", response=list[ItemOut])
def list_items(request: HttpRequest, uscc: str) -> Any:
    entity = _unit(request, uscc)
    return [
        _item_out(i) for i in DataItem.objects.filter(entity=entity).select_related("instrument")
    ]


@router.post(
    "/units/{uscc}/items",
    response={200: list[ItemOut], 403: ErrorOut, 422: RegistryRejectedOut},
)
def save_items(request: HttpRequest, uscc: str, payload: list[ItemIn]) -> Any:
    """Register or update data items (by code and frequency); all or nothing."""
    entity = _unit(request, uscc)
    return _registry_call(
        lambda: services.save_items(
            entity=entity,
            items=[services.ItemInput(**p.dict()) for p in payload],
            user=request.user,
        ),
        _item_out,
    )


def _registry_call(save: Any, out: Any) -> Any:
    """Run an all-or-nothing registry write; map refusals to 403 / 422 with every problem."""
    try:
        saved = save()
    except services.PermissionDenied as exc:
        return HttpStatus(403, {"detail": str(exc)})
    except services.RegistryRejected as exc:
        return HttpStatus(
            422,
            {
                "detail": "registry rejected; nothing was stored",
                "problems": [vars(p) for p in exc.problems],
            },
        )
    return [out(i) for i in saved]


def _instrument_out(i: MeteringInstrument) -> dict[str, Any]:
    return {f: getattr(i, f) for f in InstrumentOut.model_fields}


@router.get("/units/{uscc}/instruments", response=list[InstrumentOut])
def list_instruments(request: HttpRequest, uscc: str) -> Any:
    entity = _unit(request, uscc)
    return [_instrument_out(i) for i in MeteringInstrument.objects.filter(entity=entity)]


@router.post(
    "/units/{uscc}/instruments",
    response={200: list[InstrumentOut], 403: ErrorOut, 422: RegistryRejectedOut},
)
def save_instruments(request: HttpRequest, uscc: str, payload: list[InstrumentIn]) -> Any:
    entity = _unit(request, uscc)
    return _registry_call(
        lambda: services.save_instruments(
            entity=entity,
            instruments=[services.InstrumentInput(**p.dict()) for p in payload],
            user=request.user,
        ),
        _instrument_out,
    )


@router.get("/units/{uscc}/quality", response=QualityOut)
def quality(request: HttpRequest, uscc: str, month: str | None = None) -> Any:
    """数据完整性 per item and day, and 数据一致性 of the monthly items, for one month."""
    entity = _unit(request, uscc)
    m = _month(month)
    um = queries.unit_month(entity, m)
    rules = metering_rules()
    return {
        "uscc": entity.uscc,
        "month": f"{m:%Y-%m}",
        "expected": um.expected,
        "received": um.received,
        "completeness_pct": _pct(um.completeness),
        "minimum_pct": rules.completeness_min_frac * 100,
        "rules_version": rules.version,
        "items": [
            {
                "code": i.item.code,
                "name": i.item.name,
                "frequency": i.item.frequency,
                "expected": i.expected,
                "received": i.received,
                "completeness_pct": _pct(i.completeness),
                "days_below_minimum": i.days_below,
                "out_of_range": i.out_of_range,
                "stuck_days": i.stuck_days,
                "total": i.total,
                "monthly_value": i.monthly_value,
            }
            for i in um.items
        ],
        "days": [
            {
                "day": d.day,
                "expected": d.expected,
                "received": d.received,
                "completeness_pct": _pct(d.completeness),
                "excused": d.excused,
            }
            for d in um.days
        ],
        "consistency": [
            {
                "code": c.monthly_item.code,
                "daily_total": c.result.daily_total if c.result else None,
                "monthly": c.result.monthly if c.result else None,
                "deviation_pct": _pct(c.result.deviation_frac) if c.result else None,
                "ok": c.result.ok if c.result else None,
            }
            for c in um.consistency
        ],
    }


@router.get("/units/{uscc}/reconciliation", response=ReconciliationOut)
def reconciliation(request: HttpRequest, uscc: str, month: str | None = None) -> Any:
    """Meter month totals against the 205-1 monthly report, and both through the accounting engine."""
    entity = _unit(request, uscc)
    m = _month(month)
    rec = queries.reconciliation(entity, m)
    ma, ra = rec.meter_account, rec.report_account
    return {
        "uscc": entity.uscc,
        "month": f"{m:%Y-%m}",
        "report_id": rec.report.pk if rec.report else None,
        "lines": [
            {
                "product_code": r.line.product_code,
                "name": r.name,
                "unit": r.unit,
                "meter_qty": r.line.meter_qty,
                "report_consumption": r.line.report_consumption,
                "report_purchases": r.line.report_purchases,
                "gap": r.line.gap,
                "gap_pct": _pct(r.line.gap_frac),
                "completeness_pct": _pct(r.line.completeness_frac),
                "reasons": r.reasons,
                "explanation": r.explanation.text if r.explanation else None,
            }
            for r in rec.rows
        ],
        "meter_comprehensive_calorific_tce": ma.comprehensive_calorific_tce if ma else None,
        "meter_comprehensive_equivalent_tce": ma.comprehensive_equivalent_tce if ma else None,
        "report_comprehensive_calorific_tce": ra.comprehensive_calorific_tce if ra else None,
        "report_comprehensive_equivalent_tce": ra.comprehensive_equivalent_tce if ra else None,
        "versions": list(dict.fromkeys([*(ma.versions if ma else ()), rec.rules.version])),
    }


@router.get("/units/{uscc}/readings", response=list[ReadingOut])
def readings(
    request: HttpRequest,
    uscc: str,
    start: dt.datetime,
    end: dt.datetime,
    item: str | None = None,
    limit: int = 10000,
) -> Any:
    """Stored readings of the unit in [start, end) (at most ``limit``, ≤ 50 000)."""
    from dualcontrol.metering import storage

    entity = _unit(request, uscc)
    items = DataItem.objects.filter(entity=entity)
    if item:
        items = items.filter(code=item.upper())
    by_id = {i.pk: i for i in items}
    if end <= start:
        raise HttpError(422, "end must be after start")
    rows = storage.series(
        list(by_id),
        services.aware(services.to_local(start)),
        services.aware(services.to_local(end)),
        limit=max(1, min(limit, 50000)),
    )
    return [
        {"item": by_id[i].code, "frequency": by_id[i].frequency, "ts": ts, "value": v, "source": s}
        for i, ts, v, s in rows
    ]


class SeriesPointOut(Schema):
    item: str
    start: dt.datetime
    n: int
    total: float | None
    mean: float | None
    min_value: float | None
    max_value: float | None


class SeriesOut(Schema):
    resolution: str
    points: list[SeriesPointOut]


@router.get("/units/{uscc}/series", response=SeriesOut)
def series(
    request: HttpRequest,
    uscc: str,
    start: dt.datetime,
    end: dt.datetime,
    item: str | None = None,
    resolution: str = "auto",
    limit: int = 10000,
) -> Any:
    """Readings of the unit in [start, end) at any span: raw while kept and the span is short,
    else the hourly or daily roll-ups (``resolution`` auto | raw | hour | day; issue 22); at most
    ``limit`` points (≤ 50 000)."""
    from dualcontrol.timeseries.queries import RESOLUTIONS, metering_series

    entity = _unit(request, uscc)
    items = DataItem.objects.filter(entity=entity)
    if item:
        items = items.filter(code=item.upper())
    by_id = {i.pk: i for i in items}
    if end <= start:
        raise HttpError(422, "end must be after start")
    if resolution not in RESOLUTIONS:
        raise HttpError(422, f"resolution: one of {', '.join(RESOLUTIONS)}")
    data = metering_series(
        list(by_id),
        services.aware(services.to_local(start)),
        services.aware(services.to_local(end)),
        resolution=resolution,
        limit=max(1, min(limit, 50000)),
    )
    return {
        "resolution": data.resolution,
        "points": [
            {
                "item": by_id[int(p.key)].code,
                "start": p.start,
                "n": p.n,
                "total": p.total,
                "mean": p.mean,
                "min_value": p.min_value,
                "max_value": p.max_value,
            }
            for p in data.points
        ],
    }


def _alert_out(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "uscc": a.entity.uscc,
        "unit": a.entity.name,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "day": a.day,
        "item": a.item.code if a.item else None,
        "message": a.message,
        "created": a.created,
        "resolved_at": a.resolved_at,
        "recipients": a.recipients,
    }


@router.get("/alerts", response=list[AlertOut])
@paginate(PageNumberPagination, page_size=100)
def alerts(request: HttpRequest, month: str | None = None, kind: str | None = None) -> Any:
    qs = Alert.objects.filter(entity__in=services.monitored_entities(request.user)).select_related(
        "entity", "item"
    )
    if month:
        start, end = queries.month_bounds(_month(month))
        qs = qs.filter(day__gte=start.date(), day__lt=end.date())
    if kind:
        qs = qs.filter(kind=kind)
    return Mapped(qs.order_by("-day", "-created", "-id"), _alert_out)


def _fault_out(f: FaultReport) -> dict[str, Any]:
    rules = metering_rules()
    deadline = work_calendar().deadline(
        services.to_local(f.started).date(), rules.fault_repair_working_days
    )
    return {
        "id": f.pk,
        "uscc": f.entity.uscc,
        "unit": f.entity.name,
        "status": f.status,
        "started": f.started,
        "expected_repair": f.expected_repair,
        "repair_deadline": deadline.day,
        "repair_deadline_estimated": deadline.estimated,
        "reason": f.reason,
        "items": [i.code for i in f.items.all()],
        "review_note": f.review_note,
        "repaired_at": f.repaired_at,
    }


@router.get("/faults", response=list[FaultOut])
@paginate(PageNumberPagination, page_size=100)
def faults(request: HttpRequest, status: str | None = None) -> Any:
    qs = FaultReport.objects.filter(
        entity__in=services.monitored_entities(request.user)
    ).select_related("entity")
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs.prefetch_related("items").order_by("-filed_at", "-id"), _fault_out)


def _fault_call(fn: Any, **kwargs: Any) -> FaultReport:
    try:
        return fn(**kwargs)  # type: ignore[no-any-return]
    except services.PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except services.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc


@router.post("/units/{uscc}/faults", response={201: FaultOut})
def file_fault(request: HttpRequest, uscc: str, payload: FaultIn) -> Any:
    """故障报备 by the unit's reporter."""
    entity = _unit(request, uscc)
    items = list(
        DataItem.objects.filter(entity=entity, code__in=[c.upper() for c in payload.items])
    )
    missing = {c.upper() for c in payload.items} - {i.code for i in items}
    if missing:
        raise HttpError(422, f"unknown data item(s): {', '.join(sorted(missing))}")
    fault = _fault_call(
        services.file_fault,
        entity=entity,
        user=request.user,
        started=payload.started,
        expected_repair=payload.expected_repair,
        reason=payload.reason,
        items=items,
        manual_filing=payload.manual_filing,
    )
    return HttpStatus(201, _fault_out(fault))


def _fault(request: HttpRequest, fault_id: int) -> FaultReport:
    return get_object_or_404(
        FaultReport.objects.filter(
            entity__in=services.monitored_entities(request.user)
        ).select_related("entity"),
        pk=fault_id,
    )


@router.post("/faults/{fault_id}/accept", response=FaultOut)
def accept_fault(request: HttpRequest, fault_id: int, payload: ReviewIn) -> Any:
    return _fault_out(
        _fault_call(
            services.review_fault,
            fault=_fault(request, fault_id),
            user=request.user,
            accept=True,
            note=payload.note,
        )
    )


@router.post("/faults/{fault_id}/return", response=FaultOut)
def return_fault(request: HttpRequest, fault_id: int, payload: ReviewIn) -> Any:
    return _fault_out(
        _fault_call(
            services.review_fault,
            fault=_fault(request, fault_id),
            user=request.user,
            accept=False,
            note=payload.note,
        )
    )


@router.post("/faults/{fault_id}/close", response=FaultOut)
def close_fault(request: HttpRequest, fault_id: int, payload: CloseIn) -> Any:
    return _fault_out(
        _fault_call(
            services.close_fault,
            fault=_fault(request, fault_id),
            user=request.user,
            repaired_at=payload.repaired_at,
        )
    )


# --------------------------------------------------------------------------------------------
# the unit's manual entries and gap explanations: the pages' services, rules and audit
# (docs/api.md lists each page write's operation)


class ManualIn(Schema):
    """手工填报 of a monthly item: its code, the month (``YYYY-MM``) and the value."""

    item: str
    month: str
    value: float


class ManualOut(Schema):
    batch: int
    stored: int


@router.post("/units/{uscc}/manual", response={201: ManualOut, **WRITE_ERRORS})
def enter_manual(request: HttpRequest, uscc: str, payload: ManualIn) -> Any:
    """手工填报 (the unit's page 手工填报): ``services.enter_manual`` — the same checks as a meter
    reading; a refused value lists every reason."""
    require(request.user, "metering.file")
    entity = _unit(request, uscc)
    if not can_file_for(request.user, entity):
        return refusal(403, "only the unit's own reporter enters its readings")
    problems: dict[str, str] = {}
    item = DataItem.objects.filter(
        entity=entity, code=payload.item, frequency=Frequency.MONTHLY, active=True
    ).first()
    if item is None:
        problems["item"] = "不是本单位启用的月数据项"
    try:
        y, m = (int(x) for x in payload.month.split("-"))
        month = dt.date(y, m, 1)
    except ValueError:
        problems["month"] = "月份格式应为 YYYY-MM"
    if problems:
        return refusal(422, "未保存", fields=problems)
    try:
        result = services.enter_manual(
            entity=entity, item=item, month=month, value=payload.value, user=request.user
        )
    except services.PermissionDenied as exc:
        return refusal(403, str(exc))
    if not result.stored:
        return refusal(
            422,
            "未保存",
            fields={"value": "; ".join(e.message for e in result.errors) or "duplicate"},
        )
    return HttpStatus(201, {"batch": result.batch.pk, "stored": result.stored})


class GapIn(Schema):
    """The unit's explanation of the meters-vs-205-1 gap of a product in a month (``YYYY-MM``)."""

    month: str
    product_code: str
    text: str


class ExplanationOut(Schema):
    product_code: str
    year: int
    month: int
    text: str


@router.post(
    "/units/{uscc}/reconciliation/explanations", response={200: ExplanationOut, **WRITE_ERRORS}
)
def explain_gap(request: HttpRequest, uscc: str, payload: GapIn) -> Any:
    """差异说明 (the reconciliation page's form): ``services.explain_gap``."""
    entity = _unit(request, uscc)
    try:
        y, m = (int(x) for x in payload.month.split("-"))
        dt.date(y, m, 1)
    except ValueError:
        return refusal(422, "未保存", fields={"month": "月份格式应为 YYYY-MM"})
    try:
        obj = services.explain_gap(
            entity=entity,
            year=y,
            month=m,
            product_code=payload.product_code,
            text=payload.text,
            user=request.user,
        )
    except services.PermissionDenied as exc:
        return refusal(403, str(exc))
    except services.WorkflowError as exc:
        return refusal(422, "未保存", fields={"text": str(exc)})
    return {
        "product_code": obj.product_code,
        "year": obj.year,
        "month": obj.month,
        "text": obj.text,
    }
