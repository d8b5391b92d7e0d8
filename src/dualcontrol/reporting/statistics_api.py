"""REST endpoints for self-reported statistics (/api/reports/statistics): the same services as the
pages — list in scope, file (draft or submitted, the whole-form check), the filing, review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import statistics as stats_access
from dualcontrol.access.rules import allows
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.regions.models import Division
from dualcontrol.reporting import statistics_services as services
from dualcontrol.reporting.statistics_models import StatisticsReport
from dualcontrol.reporting.statistics_tables import statistics_table, statistics_tables

router = Router(tags=["statistics reports"])


class ColumnOut(Schema):
    code: str
    name_zh: str
    name_en: str
    unit: str
    required: bool
    integer: bool
    min: str | None
    max: str | None


class TableOut(Schema):
    code: str
    name_zh: str
    name_en: str
    responsible_zh: str
    period: str
    levels: list[str]
    columns: list[ColumnOut]
    indicators: list[str]
    source: str
    version: str


class FilingIn(Schema):
    table: str = Field(..., description="a table code of GET /api/reports/statistics/tables")
    division: str | None = Field(
        None, description="division code; defaults to the officer's own division (or province)"
    )
    year: int
    values: dict[str, Any] = Field(..., description="column code → number (or decimal text)")
    submit: bool = False


class FilingOut(Schema):
    id: int
    table: str
    table_name: str
    division_code: str
    division_name: str
    year: int
    status: str
    revision: int
    values: dict[str, str]
    accepted_revision: int | None
    accepted_values: dict[str, str]
    merged_revision: int | None
    held: bool
    warnings: list[str]


class EventOut(Schema):
    revision: int
    action: str
    actor: str | None
    at: dt.datetime
    reason: str


class FilingDetail(FilingOut):
    history: list[EventOut]


class ProblemOut(Schema):
    field: str
    reason: str


class RejectedOut(Schema):
    detail: str
    problems: list[ProblemOut]


class ReturnIn(Schema):
    reason: str


def _out(r: StatisticsReport) -> dict[str, Any]:
    spec = statistics_table(r.table)
    return {
        "id": r.pk,
        "table": r.table,
        "table_name": spec.name_zh if spec else r.table,
        "division_code": r.division.code,
        "division_name": r.division.name,
        "year": r.year,
        "status": r.status,
        "revision": r.revision,
        "values": dict(r.values or {}),
        "accepted_revision": r.accepted_revision,
        "accepted_values": dict(r.accepted_values or {}),
        "merged_revision": r.merged_revision,
        "held": r.held,
        "warnings": [str(f) for f in services.findings(spec, r.values or {})] if spec else [],
    }


def _detail(r: StatisticsReport) -> dict[str, Any]:
    return {
        **_out(r),
        "history": [
            {
                "revision": e.revision,
                "action": e.action,
                "actor": e.actor.username if e.actor else None,
                "at": e.at,
                "reason": e.reason,
            }
            for e in r.events.select_related("actor")
        ],
    }


def _rejected(exc: services.ReportRejected) -> Any:
    return HttpStatus(
        422,
        {
            "detail": "filing rejected; nothing was stored",
            "problems": [{"field": p.field, "reason": p.reason} for p in exc.problems],
        },
    )


def _staff(request: HttpRequest) -> None:
    if not allows(request.user, "statistics.file"):
        raise HttpError(403, "statistics filings are for government officers")


def _get(request: HttpRequest, filing_id: int) -> StatisticsReport:
    _staff(request)
    return get_object_or_404(stats_access.visible_filings(request.user), pk=filing_id)


@router.get("/tables", response=list[TableOut])
def tables(request: HttpRequest) -> Any:
    return [
        {
            "code": t.code,
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "responsible_zh": t.responsible_zh,
            "period": t.period,
            "levels": list(t.levels),
            "columns": [
                {
                    "code": c.code,
                    "name_zh": c.name_zh,
                    "name_en": c.name_en,
                    "unit": c.unit,
                    "required": c.required,
                    "integer": c.integer,
                    "min": None if c.min is None else str(c.min),
                    "max": None if c.max is None else str(c.max),
                }
                for c in t.columns
            ],
            "indicators": t.indicators(),
            "source": t.source,
            "version": t.version,
        }
        for t in statistics_tables().values()
    ]


@router.get("", response=list[FilingOut])
@paginate(PageNumberPagination, page_size=50)
def list_filings(
    request: HttpRequest,
    table: str | None = None,
    year: int | None = None,
    status: str | None = None,
    division: str | None = None,
) -> Any:
    _staff(request)
    qs = stats_access.visible_filings(request.user).order_by("-year", "division__code", "table")
    if table:
        qs = qs.filter(table=table)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    if division:
        qs = qs.filter(division__code=division)
    return Mapped(qs, _out)


@router.post("", response={201: FilingDetail, 422: RejectedOut})
def file_statistics(request: HttpRequest, payload: FilingIn) -> Any:
    """Save (``submit``: and submit) a filing through the same service as the form: the whole
    form is checked, every problem is listed (422) and nothing is stored on refusal."""
    _staff(request)
    user = request.user
    if payload.division:
        division = Division.objects.filter(code=payload.division).order_by("-valid_from").first()
    else:
        division = (
            getattr(user, "division", None)
            or Division.objects.filter(parent__isnull=True).order_by("code").first()
        )
    if division is None:
        raise HttpError(404, "division not found")
    try:
        report = services.save_filing(
            user=user,
            division=division,
            table=payload.table,
            year=payload.year,
            values=payload.values,
            submit=payload.submit,
        )
    except services.ReportRejected as exc:
        return _rejected(exc)
    except services.PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except services.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc
    return HttpStatus(201, _detail(report))


@router.get("/{int:filing_id}", response=FilingDetail)
def get_filing(request: HttpRequest, filing_id: int) -> Any:
    return _detail(_get(request, filing_id))


def _call(fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except services.ReportRejected as exc:
        return _rejected(exc)
    except services.PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    except services.WorkflowError as exc:
        raise HttpError(409, str(exc)) from exc


@router.post("/{int:filing_id}/submit", response={200: FilingOut, 422: RejectedOut})
def submit(request: HttpRequest, filing_id: int) -> Any:
    r = _call(services.submit_filing, report=_get(request, filing_id), user=request.user)
    return r if not isinstance(r, StatisticsReport) else _out(r)


@router.post("/{int:filing_id}/accept", response={200: FilingOut, 422: RejectedOut})
def accept(request: HttpRequest, filing_id: int) -> Any:
    r = _call(services.accept_filing, report=_get(request, filing_id), user=request.user)
    return r if not isinstance(r, StatisticsReport) else _out(r)


@router.post("/{int:filing_id}/return", response=FilingOut)
def return_(request: HttpRequest, filing_id: int, payload: ReturnIn) -> Any:
    return _out(
        _call(
            services.return_filing,
            report=_get(request, filing_id),
            user=request.user,
            reason=payload.reason,
        )
    )
