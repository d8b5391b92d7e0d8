"""REST endpoints for 205-1 reports; the same services as the web form and the upload."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.core.report205 import Row205
from dualcontrol.formats.upload_tables import TableRefused, read_limited
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.reporting import services
from dualcontrol.reporting.models import EnergyProduct, EnergyReport, PeriodType, Source
from dualcontrol.reporting.queries import known_report_count, visible_reports

router = Router(tags=["reports"])


class LineSchema(Schema):
    product_code: str
    unit: str
    opening_stock: Decimal = Decimal(0)
    purchases_qty: Decimal = Decimal(0)
    purchases_value_kyuan: Decimal = Decimal(0)
    consumption_total: Decimal = Decimal(0)
    industrial_production: Decimal = Decimal(0)
    raw_material: Decimal = Decimal(0)
    non_industrial: Decimal = Decimal(0)
    transport: Decimal = Decimal(0)
    closing_stock: Decimal = Decimal(0)
    coefficient_used: Decimal | None = None


class ReportIn(Schema):
    entity_uscc: str | None = Field(None, description="defaults to the reporter's own unit")
    period_type: str = Field(..., description="monthly | annual")
    year: int
    month: int | None = None
    rows: list[LineSchema]
    submit: bool = False


class ReportOut(Schema):
    id: int
    entity_uscc: str
    entity_name: str
    period_type: str
    year: int
    month: int | None
    status: str
    revision: int
    energy_tce: Decimal | None
    energy_equiv_tce: Decimal | None


class EventOut(Schema):
    revision: int
    action: str
    actor: str | None
    at: dt.datetime
    reason: str


class ReportDetail(ReportOut):
    rows: list[LineSchema]
    history: list[EventOut]


class ReturnIn(Schema):
    reason: str


class ProductOut(Schema):
    code: str
    name_zh: str
    unit: str
    coefficient_tce_per_unit: Decimal
    plausible_low: Decimal
    plausible_high: Decimal
    source: str


def _out(r: EnergyReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "entity_uscc": r.entity.uscc,
        "entity_name": r.entity.name,
        "period_type": r.period_type,
        "year": r.year,
        "month": r.month,
        "status": r.status,
        "revision": r.current_revision,
        "energy_tce": r.energy_tce,
        "energy_equiv_tce": r.energy_equiv_tce,
    }


def _detail(r: EnergyReport) -> dict[str, Any]:
    data = _out(r)
    data["rows"] = [vars(row) for row in services.rows_of(r)] if r.current_revision else []
    data["history"] = [
        {
            "revision": e.revision,
            "action": e.action,
            "actor": e.actor.username if e.actor else None,
            "at": e.at,
            "reason": e.reason,
        }
        for e in r.events.select_related("actor")
    ]
    return data


def _get(request: HttpRequest, report_id: int) -> EnergyReport:
    return get_object_or_404(visible_reports(request.user).select_related("entity"), pk=report_id)


def _call(fn: Any, **kwargs: Any) -> EnergyReport:
    try:
        return fn(**kwargs)  # type: ignore[no-any-return]
    except services.PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except services.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc


class ProblemOut(Schema):
    sheet: str
    row: int
    column: str
    field: str
    reason: str


class RejectedOut(Schema):
    detail: str
    problems: list[ProblemOut]


@router.get("/products", response=list[ProductOut])
def products(request: HttpRequest) -> Any:
    return EnergyProduct.objects.all()


@router.get("/", response=list[ReportOut])
@paginate(PageNumberPagination, page_size=50)
def list_reports(
    request: HttpRequest,
    year: int | None = None,
    month: int | None = None,
    status: str | None = None,
    entity_uscc: str | None = None,
) -> Any:
    # newest period first; (year, month) is indexed, the unit id breaks ties without a join
    qs = (
        visible_reports(request.user)
        .select_related("entity")
        .order_by("-year", "-month", "entity_id", "id")
    )
    if year:
        qs = qs.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    if status:
        qs = qs.filter(status=status)
    if entity_uscc:
        qs = qs.filter(entity__uscc=entity_uscc)
    known = known_report_count(
        request.user,
        {
            "year": str(year) if year else "",
            "month": str(month) if month else "",
            "status": status or "",
            "q": entity_uscc or "",
        },
    )
    return Mapped(qs, _out, count=known)


@router.post("/", response={201: ReportDetail, 422: RejectedOut})
def create_report(request: HttpRequest, payload: ReportIn) -> Any:
    user = request.user
    from dualcontrol.access.scope import visible_entities

    entities = visible_entities(user)
    entity = (
        entities.filter(uscc=payload.entity_uscc).first()
        if payload.entity_uscc
        else getattr(user, "entity", None)
    )
    if entity is None:
        raise HttpError(404, "unit not found")
    rows = [Row205(**line.dict()) for line in payload.rows]
    try:
        report = _call(
            services.save_report,
            entity=entity,
            period_type=payload.period_type,
            year=payload.year,
            month=payload.month,
            rows=rows,
            user=user,
            source=Source.API,
            submit=payload.submit,
        )
    except services.ReportRejected as exc:
        return HttpStatus(
            422,
            {
                "detail": "report rejected; nothing was stored",
                "problems": [vars(p) for p in exc.problems],
            },
        )
    return HttpStatus(201, _detail(report))


class UploadIn(Schema):
    """The period of an uploaded 205-1 file (the upload page's fields)."""

    period_type: str
    year: int
    month: int | None = None
    submit: bool = False


@router.post("/upload", response={201: ReportDetail, **WRITE_ERRORS})
def upload_report(request: HttpRequest, payload: Form[UploadIn], file: File[UploadedFile]) -> Any:
    """Upload the unit's 205-1 file (multipart, .xlsx or .csv; the page 上传 205-1):
    ``services.upload_report`` — refused whole with every problem (sheet, row, column)."""
    require(request.user, "reports.file")
    entity = getattr(request.user, "entity", None)
    if entity is None:
        return refusal(403, "no unit on this account")
    if payload.period_type not in PeriodType.values:
        return refusal(422, "未保存", fields={"period_type": ", ".join(PeriodType.values)})
    try:
        report = services.upload_report(
            entity=entity,
            period_type=payload.period_type,
            year=payload.year,
            month=payload.month if payload.period_type == PeriodType.MONTHLY else None,
            data=read_limited(file, "report205"),
            filename=file.name or "",
            user=request.user,
            submit=payload.submit,
        )
    except TableRefused as exc:
        return refusal(422, "report rejected; nothing was stored", cells=exc.errors)
    except services.ReportRejected as exc:
        return refusal(422, "report rejected; nothing was stored", cells=exc.problems)
    except services.PermissionDenied as exc:
        return refusal(403, str(exc))
    except services.WorkflowError as exc:
        return refusal(409, str(exc))
    return HttpStatus(201, _detail(report))


@router.get("/{report_id}", response=ReportDetail)
def get_report(request: HttpRequest, report_id: int) -> Any:
    return _detail(_get(request, report_id))


@router.post("/{report_id}/submit", response=ReportOut)
def submit(request: HttpRequest, report_id: int) -> Any:
    return _out(_call(services.submit_report, report=_get(request, report_id), user=request.user))


@router.post("/{report_id}/return", response=ReportOut)
def return_(request: HttpRequest, report_id: int, payload: ReturnIn) -> Any:
    return _out(
        _call(
            services.return_report,
            report=_get(request, report_id),
            user=request.user,
            reason=payload.reason,
        )
    )


@router.post("/{report_id}/accept", response=ReportOut)
def accept(request: HttpRequest, report_id: int) -> Any:
    return _out(_call(services.accept_report, report=_get(request, report_id), user=request.user))
