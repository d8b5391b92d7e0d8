"""REST endpoints of the key-unit registry (scoped like the pages).

Lists are paginated in the database (querysets / :class:`Mapped`); the province's lists are
``GET /lists?kind=…&year=…``.  A unit files its status report with ``POST /status-reports`` (or
uploads the workbook, ``POST /status-reports/upload``) and names its energy manager
(``PUT /manager``); reviewers return or accept the report, order audits
(``POST /units/{uscc}/audits``) and track them (``POST /audits/{id}/report``, ``…/close``).  Refusals: 401 without a token, 403 without the rule, 404 outside
the scope, 422 with every problem for a refused report.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access import keyunits as access
from dualcontrol.access.rules import require
from dualcontrol.access.scope import visible_entities
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.formats.upload_tables import TableRefused, read_limited
from dualcontrol.keyunits import queries, services
from dualcontrol.keyunits.models import (
    AuditOrder,
    Designation,
    ListKind,
    ProductGrade,
    StatusReport,
    Surcharge,
)
from dualcontrol.keyunits.workbook import UPLOAD_KIND
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["key-units"])


def _year(year: int | None) -> int:
    y = year or queries.latest_year(timezone.localdate())
    if not 2000 <= y <= 2100:
        raise HttpError(422, f"year out of range: {y}")
    return y


class DesignationOut(Schema):
    id: int
    unit_uscc: str
    unit_name: str
    division_code: str
    year: int
    tier: str
    status: str
    basis_energy_tce: Decimal
    basis_source: str
    rule_version: str
    published: bool


@router.get("/designations", response=list[DesignationOut])
@paginate(PageNumberPagination, page_size=100)
def list_designations(
    request: HttpRequest,
    year: int | None = None,
    status: str | None = None,
    tier: str | None = None,
) -> Any:
    """Designations of ``year`` in scope (tiers: national / provincial)."""
    require(request.user, "keyunits.view")
    qs = access.scoped(request.user, Designation.objects.filter(year=_year(year)))
    if status:
        qs = qs.filter(status=status)
    if tier:
        qs = qs.filter(tier=tier)
    qs = qs.select_related("entity", "entity__division").order_by("tier", "entity__name", "pk")
    return Mapped(
        qs,
        lambda d: {
            "id": d.pk,
            "unit_uscc": d.entity.uscc,
            "unit_name": d.entity.name,
            "division_code": d.entity.division.code,
            "year": d.year,
            "tier": d.tier,
            "status": d.status,
            "basis_energy_tce": d.basis_energy_tce,
            "basis_source": d.basis_source,
            "rule_version": d.rule_version,
            "published": d.published,
        },
    )


class EnergyUseIO(Schema):
    kind: str
    unit: str = ""
    quantity: Decimal
    energy_tce: Decimal


class ProductLineIO(Schema):
    product: str
    indicator: str
    output: Decimal
    output_unit: str = ""
    value: Decimal
    unit: str = ""
    electricity_kwh: Decimal | None = None
    corrections: dict[str, Decimal] = {}


class StatusReportOut(Schema):
    id: int
    unit_uscc: str
    unit_name: str
    year: int
    status: str
    revision: int
    deadline: dt.date
    energy_tce: Decimal
    savings_tce: Decimal | None
    submitted_at: dt.datetime | None


class StatusReportDetailOut(StatusReportOut):
    measures: str
    manager_name: str
    manager_certificate: str
    energy_uses: list[EnergyUseIO]
    product_lines: list[ProductLineIO]


class StatusReportIn(Schema):
    year: int
    energy_uses: list[EnergyUseIO]
    product_lines: list[ProductLineIO] = []
    savings_tce: Decimal | None = None
    measures: str = ""
    manager_name: str = ""
    manager_certificate: str = ""
    submit: bool = False


class ReasonIn(Schema):
    reason: str


def _report_out(r: StatusReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "unit_uscc": r.entity.uscc,
        "unit_name": r.entity.name,
        "year": r.year,
        "status": r.status,
        "revision": r.revision,
        "deadline": r.deadline,
        "energy_tce": r.energy_tce,
        "savings_tce": r.savings_tce,
        "submitted_at": r.submitted_at,
    }


def _report_detail(r: StatusReport) -> dict[str, Any]:
    return {
        **_report_out(r),
        "measures": r.measures,
        "manager_name": r.manager_name,
        "manager_certificate": r.manager_certificate,
        "energy_uses": [
            {"kind": u.kind, "unit": u.unit, "quantity": u.quantity, "energy_tce": u.energy_tce}
            for u in r.energy_uses.all()
        ],
        "product_lines": [
            {
                "product": p.product,
                "indicator": p.indicator,
                "output": p.output,
                "output_unit": p.output_unit,
                "value": p.value,
                "unit": p.unit,
                "electricity_kwh": p.electricity_kwh,
                "corrections": p.corrections or {},
            }
            for p in r.product_lines.all()
        ],
    }


@router.get("/status-reports", response=list[StatusReportOut])
@paginate(PageNumberPagination, page_size=100)
def list_status_reports(
    request: HttpRequest, year: int | None = None, status: str | None = None
) -> Any:
    require(request.user, "keyunits.view")
    qs = access.scoped(request.user, StatusReport.objects.filter(year=_year(year)))
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs.select_related("entity").order_by("entity__name", "pk"), _report_out)


# defined before the operations on /status-reports/{report_id}: paths match in order
class UploadIn(Schema):
    """The year of the uploaded status-report workbook; ``submit`` submits it for review."""

    year: int
    submit: bool = False


@router.post("/status-reports/upload", response={201: StatusReportDetailOut, **WRITE_ERRORS})
def upload_status_report(
    request: HttpRequest, payload: Form[UploadIn], file: File[UploadedFile]
) -> Any:
    """上传报告工作簿 (multipart: ``year``, ``submit``, ``file`` the .xlsx template filled in):
    ``services.upload_status_report`` — refused whole with every problem (sheet, row, column)."""
    require(request.user, "keyunits.file")
    entity = _own_unit(request)
    try:
        report = services.upload_status_report(
            entity=entity,
            year=payload.year,
            data=read_limited(file, UPLOAD_KIND),
            filename=file.name or "",
            user=request.user,
            submit=payload.submit,
        )
    except TableRefused as exc:
        return refusal(422, _("未保存"), cells=exc.errors)
    except (services.ReportRejected, services.WorkflowError, services.PermissionDenied) as exc:
        return _write_refused(exc)
    return HttpStatus(201, _report_detail(report))


M = TypeVar("M", bound=Model)


def _scoped_or_404(request: HttpRequest, rule: str, qs: QuerySet[M], pk: int) -> M:
    """The row ``pk`` of ``qs`` among the units the user sees, under ``rule`` (else 404)."""
    require(request.user, rule)
    row = access.scoped(request.user, qs.select_related("entity")).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def _visible_report(request: HttpRequest, report_id: int) -> StatusReport:
    return _scoped_or_404(request, "keyunits.view", StatusReport.objects.all(), report_id)


@router.get("/status-reports/{report_id}", response=StatusReportDetailOut)
def status_report_detail(request: HttpRequest, report_id: int) -> Any:
    return _report_detail(_visible_report(request, report_id))


def _refusal(exc: Exception) -> HttpError:
    if isinstance(exc, services.ReportRejected):
        return HttpError(
            422,
            "; ".join(str(p) for p in exc.problems[:50]) or "refused",
        )
    if isinstance(exc, services.PermissionDenied):
        return HttpError(403, str(exc))
    return HttpError(409, str(exc))


@router.post("/status-reports", response={200: StatusReportDetailOut})
def file_status_report(request: HttpRequest, payload: StatusReportIn) -> Any:
    """The unit's own reporter files (and optionally submits) its status report."""
    require(request.user, "keyunits.file")
    entity = visible_entities(request.user).filter(pk=request.user.entity_id or 0).first()
    if entity is None:
        raise Http404
    content = services.StatusContent(
        energy_uses=[
            services.EnergyUseRow(u.kind, u.unit, u.quantity, u.energy_tce)
            for u in payload.energy_uses
        ],
        product_lines=[
            services.ProductRow(
                product=p.product,
                indicator=p.indicator,
                output=p.output,
                value=p.value,
                output_unit=p.output_unit,
                unit=p.unit,
                electricity_kwh=p.electricity_kwh,
                corrections=dict(p.corrections),
            )
            for p in payload.product_lines
        ],
        savings_tce=payload.savings_tce,
        measures=payload.measures,
        manager_name=payload.manager_name,
        manager_certificate=payload.manager_certificate,
    )
    try:
        report = services.save_status_report(
            entity=entity,
            year=payload.year,
            content=content,
            user=request.user,
            source="api",
            submit=payload.submit,
        )
    except (services.ReportRejected, services.WorkflowError, services.PermissionDenied) as exc:
        raise _refusal(exc) from exc
    return _report_detail(report)


@router.post("/status-reports/{report_id}/submit", response=StatusReportOut)
def submit_status_report(request: HttpRequest, report_id: int) -> Any:
    require(request.user, "keyunits.file")
    report = _visible_report(request, report_id)
    try:
        return _report_out(services.submit_status_report(report=report, user=request.user))
    except (services.WorkflowError, services.PermissionDenied) as exc:
        raise _refusal(exc) from exc


@router.post("/status-reports/{report_id}/return", response=StatusReportOut)
def return_status_report(request: HttpRequest, report_id: int, payload: ReasonIn) -> Any:
    require(request.user, "keyunits.manage")
    report = _visible_report(request, report_id)
    try:
        return _report_out(
            services.return_status_report(report=report, user=request.user, reason=payload.reason)
        )
    except (services.WorkflowError, services.PermissionDenied) as exc:
        raise _refusal(exc) from exc


@router.post("/status-reports/{report_id}/accept", response=StatusReportOut)
def accept_status_report(request: HttpRequest, report_id: int) -> Any:
    require(request.user, "keyunits.manage")
    report = _visible_report(request, report_id)
    try:
        return _report_out(services.accept_status_report(report=report, user=request.user))
    except (services.WorkflowError, services.PermissionDenied) as exc:
        raise _refusal(exc) from exc


class GradeOut(Schema):
    unit_uscc: str
    unit_name: str
    year: int
    product: str
    product_name: str
    indicator: str
    indicator_name: str
    unit: str
    output: Decimal
    value: Decimal
    corrected_value: Decimal
    standard: str
    standard_version: str
    grade: str
    benchmark_position: str
    distance_to_next_grade: Decimal | None
    next_grade: str | None


def _grade_out(g: ProductGrade) -> dict[str, Any]:
    return {
        "unit_uscc": g.entity.uscc,
        "unit_name": g.entity.name,
        "year": g.year,
        "product": g.product,
        "product_name": g.product_name,
        "indicator": g.indicator,
        "indicator_name": g.indicator_name,
        "unit": g.unit,
        "output": g.output,
        "value": g.value,
        "corrected_value": g.corrected_value,
        "standard": g.standard_code,
        "standard_version": g.standard_version,
        "grade": g.grade,
        "benchmark_position": g.benchmark_position,
        "distance_to_next_grade": g.distance,
        "next_grade": g.next_grade or None,
    }


@router.get("/grades", response=list[GradeOut])
@paginate(PageNumberPagination, page_size=100)
def list_grades(
    request: HttpRequest,
    year: int | None = None,
    grade: str | None = None,
    benchmark_position: str | None = None,
    product: str | None = None,
) -> Any:
    """Product grades of ``year`` in scope (grade 1/2/3/over; 标杆/基准 position)."""
    require(request.user, "keyunits.view")
    qs = access.scoped(request.user, ProductGrade.objects.filter(year=_year(year)))
    if grade:
        qs = qs.filter(grade=grade)
    if benchmark_position:
        qs = qs.filter(benchmark_position=benchmark_position)
    if product:
        qs = qs.filter(product=product)
    return Mapped(
        qs.select_related("entity").order_by("product", "indicator", "entity__name", "pk"),
        _grade_out,
    )


class ListRowOut(Schema):
    unit_uscc: str
    unit_name: str
    values: list[Any]


@router.get("/lists", response=list[ListRowOut])
@paginate(PageNumberPagination, page_size=100)
def list_rows(
    request: HttpRequest, kind: str = ListKind.OVER_LIMIT, year: int | None = None
) -> Any:
    """One of the province's lists (``kind``: designations, over_limit, below_baseline,
    frontrunners, surcharges) in scope; ``values`` follow the export's columns."""
    require(request.user, "keyunits.view")
    specs = queries.specs()
    if kind not in specs:
        raise HttpError(422, f"unknown list {kind!r}; one of {sorted(specs)}")
    spec = specs[kind]
    qs = access.scoped(request.user, spec.rows(_year(year)))

    def shape(x: Any) -> dict[str, Any]:
        return {
            "unit_uscc": x.entity.uscc,
            "unit_name": x.entity.name,
            "values": [v if isinstance(v, int | str) or v is None else str(v) for v in spec.row(x)],
        }

    return Mapped(qs, shape)


class AuditOut(Schema):
    id: int
    unit_uscc: str
    unit_name: str
    year: int
    reason: str
    detail: str
    ordered_at: dt.date
    due: dt.date
    status: str
    report_reference: str
    report_received_at: dt.date | None
    closed_at: dt.date | None


@router.get("/audits", response=list[AuditOut])
@paginate(PageNumberPagination, page_size=100)
def list_audits(request: HttpRequest, year: int | None = None, status: str | None = None) -> Any:
    require(request.user, "keyunits.view")
    qs = access.scoped(request.user, AuditOrder.objects.all())
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs.select_related("entity").order_by("-ordered_at", "-pk"), _audit_out)


def _audit_out(a: AuditOrder) -> dict[str, Any]:
    return {
        "id": a.pk,
        "unit_uscc": a.entity.uscc,
        "unit_name": a.entity.name,
        "year": a.year,
        "reason": a.reason,
        "detail": a.detail,
        "ordered_at": a.ordered_at,
        "due": a.due,
        "status": a.status,
        "report_reference": a.report_reference,
        "report_received_at": a.report_received_at,
        "closed_at": a.closed_at,
    }


class SurchargeOut(Schema):
    unit_uscc: str
    unit_name: str
    year: int
    product: str
    indicator: str
    value: Decimal
    surcharge_yuan_per_kwh: Decimal
    rule: str
    rule_version: str
    tier: str
    electricity_kwh: Decimal | None
    amount_yuan: Decimal | None


@router.get("/surcharges", response=list[SurchargeOut])
@paginate(PageNumberPagination, page_size=100)
def list_surcharges(request: HttpRequest, year: int | None = None) -> Any:
    """Electricity surcharges of ``year`` (for the grid company: province staff and the units)."""
    require(request.user, "keyunits.view")
    qs = access.scoped(request.user, Surcharge.objects.filter(year=_year(year)))
    return Mapped(
        qs.select_related("entity").order_by("-surcharge_yuan_per_kwh", "entity__name", "pk"),
        lambda s: {
            "unit_uscc": s.entity.uscc,
            "unit_name": s.entity.name,
            "year": s.year,
            "product": s.product,
            "indicator": s.indicator,
            "value": s.value,
            "surcharge_yuan_per_kwh": s.surcharge_yuan_per_kwh,
            "rule": s.rule,
            "rule_version": s.rule_version,
            "tier": s.tier,
            "electricity_kwh": s.electricity_kwh,
            "amount_yuan": s.amount_yuan,
        },
    )


class ShareOut(Schema):
    key: str
    name: str
    lines: int
    output_total: Decimal
    output_benchmark: Decimal
    share_pct: Decimal | None
    below_baseline: int


class SharesOut(Schema):
    year: int
    by: str
    target_pct: Decimal
    target_year: int
    target_source: str
    rows: list[ShareOut]


@router.get("/shares", response=SharesOut)
def shares(request: HttpRequest, year: int | None = None, by: str = "industry") -> Any:
    """达到标杆水平的产能比例 per sector (``by=industry``) or prefecture (``by=region``); bounded by
    the sectors or prefectures."""
    require(request.user, "keyunits.view")
    if by not in ("industry", "region"):
        raise HttpError(422, "by: industry or region")
    from dualcontrol.keyunits.rules import load_rules

    y = _year(year)
    rules = load_rules()
    scope = access.scoped(request.user, ProductGrade.objects.all())
    return {
        "year": y,
        "by": by,
        "target_pct": rules.benchmark_target_frac * 100,
        "target_year": rules.benchmark_target_year,
        "target_source": rules.benchmark_source,
        "rows": [
            {
                "key": s.key,
                "name": s.name,
                "lines": s.lines,
                "output_total": s.output_total,
                "output_benchmark": s.output_benchmark,
                "share_pct": s.share_pct,
                "below_baseline": s.below_baseline,
            }
            for s in queries.benchmark_shares(y, by, scope)
        ],
    }


# --------------------------------------------------------------------------------------------
# designations and the province's lists: the registry pages' services, rule
# ``keyunits.designate`` and audit; docs/api.md lists each page write's operation


def _refused(exc: Exception) -> Any:
    if isinstance(exc, services.PermissionDenied):
        return refusal(403, str(exc))
    if isinstance(exc, services.ReportRejected):
        return refusal(422, "refused", cells=exc.problems)
    return refusal(422, str(exc))  # WorkflowError / ValueError: the request's reason


def _designation_out(d: Designation) -> dict[str, Any]:
    return {
        "id": d.pk,
        "unit_uscc": d.entity.uscc,
        "unit_name": d.entity.name,
        "division_code": d.entity.division.code,
        "year": d.year,
        "tier": d.tier,
        "status": d.status,
        "basis_energy_tce": d.basis_energy_tce,
        "basis_source": d.basis_source,
        "rule_version": d.rule_version,
        "published": d.published,
    }


class YearIn(Schema):
    year: int


class ProposalOut(Schema):
    year: int
    proposed: int
    unchanged: int
    below: int
    rule_version: str


@router.post("/designations/propose", response={200: ProposalOut, **WRITE_ERRORS})
def propose_designations(request: HttpRequest, payload: YearIn) -> Any:
    """拟纳入 (the registry's 提出拟纳入名单): ``services.propose_designations``."""
    require(request.user, "keyunits.designate")
    year = _year(payload.year)
    try:
        r = services.propose_designations(year=year, user=request.user)
    except (services.WorkflowError, services.PermissionDenied, ValueError) as exc:
        return _refused(exc)
    return {
        "year": year,
        "proposed": r.proposed,
        "unchanged": r.unchanged,
        "below": r.below,
        "rule_version": r.rule_version,
    }


class DecisionIn(Schema):
    """``confirm`` (reason optional) or ``remove`` (reason required)."""

    action: str
    reason: str = ""


@router.post(
    "/designations/{designation_id}/decide", response={200: DesignationOut, **WRITE_ERRORS}
)
def decide_designation(request: HttpRequest, designation_id: int, payload: DecisionIn) -> Any:
    """确认 / 移出 a designation: ``services.confirm_designation`` / ``remove_designation``."""
    require(request.user, "keyunits.designate")
    d = (
        access.scoped(request.user, Designation.objects.all())
        .select_related("entity", "entity__division")
        .filter(pk=designation_id)
        .first()
    )
    if d is None:
        raise Http404
    acts = {"confirm": services.confirm_designation, "remove": services.remove_designation}
    if payload.action not in acts:
        return refusal(422, "未知操作", fields={"action": "confirm 或 remove"})
    try:
        acts[payload.action](designation=d, user=request.user, reason=payload.reason)
    except (services.WorkflowError, services.PermissionDenied, ValueError) as exc:
        return _refused(exc)
    d.refresh_from_db()
    return _designation_out(d)


class PublishedListOut(Schema):
    kind: str
    year: int
    rows: int
    published_at: dt.datetime
    rule_version: str


@router.post("/lists/{kind}/publish", response={201: PublishedListOut, **WRITE_ERRORS})
def publish_list(request: HttpRequest, kind: str, payload: YearIn) -> Any:
    """公布名单 (a list page's 公布): ``services.publish_list`` (frozen rows)."""
    require(request.user, "keyunits.designate")
    if kind not in queries.specs():
        raise Http404
    try:
        p = services.publish_list(kind=kind, year=_year(payload.year), user=request.user)
    except (services.WorkflowError, services.PermissionDenied, ValueError) as exc:
        return _refused(exc)
    return HttpStatus(
        201,
        {
            "kind": p.kind,
            "year": p.year,
            "rows": len(p.rows),
            "published_at": p.published_at,
            "rule_version": p.rule_version,
        },
    )


class ComputeIn(Schema):
    """``grades``, ``surcharges`` or ``audits`` (order audits for units over a limit)."""

    what: str
    year: int


class ComputeOut(Schema):
    what: str
    year: int
    count: int


@router.post("/compute", response={200: ComputeOut, **WRITE_ERRORS})
def compute(request: HttpRequest, payload: ComputeIn) -> Any:
    """Recompute the year's grades or surcharges, or order the audits (the lists page's buttons):
    ``services.compute_grades`` / ``compute_surcharges`` / ``order_audits_for_over_limit``."""
    require(request.user, "keyunits.designate")
    year = _year(payload.year)
    user = request.user
    try:
        if payload.what == "grades":
            n = services.compute_grades(year=year, user=user).graded
        elif payload.what == "surcharges":
            n = services.compute_surcharges(year=year, user=user).computed
        elif payload.what == "audits":
            n = len(services.order_audits_for_over_limit(year=year, user=user))
        else:
            return refusal(422, "未知操作", fields={"what": "grades, surcharges 或 audits"})
    except (services.WorkflowError, services.PermissionDenied, ValueError) as exc:
        return _refused(exc)
    return {"what": payload.what, "year": year, "count": n}


# --------------------------------------------------------------------------------------------
# a unit's writes (workbook upload, energy manager) and the audits (order, report, close): the
# unit and audit pages' services, rules and audit entries; bad input 422 (every field or cell),
# a state that does not allow the action 409


def _write_refused(exc: Exception) -> Any:
    if isinstance(exc, services.PermissionDenied):
        return refusal(403, str(exc))
    if isinstance(exc, services.ReportRejected):
        return refusal(422, _("未保存"), cells=exc.problems)
    if isinstance(exc, services.InputRejected):
        return refusal(422, _("未保存"), fields=exc.fields)
    return refusal(409, str(exc))  # WorkflowError: the object's state


def _own_unit(request: HttpRequest) -> Any:
    """The account's own unit (the pages 上传报告 and 能源管理负责人)."""
    entity = visible_entities(request.user).filter(pk=request.user.entity_id or 0).first()
    if entity is None:
        raise Http404
    return entity


class ManagerIn(Schema):
    """能源管理负责人 (the page's fields); ``valid_until`` the certificate's expiry."""

    name: str
    certificate_no: str = ""
    valid_until: dt.date | None = None
    phone: str = ""


class ManagerOut(ManagerIn):
    unit_uscc: str
    unit_name: str


@router.put("/manager", response={200: ManagerOut, **WRITE_ERRORS})
def save_manager(request: HttpRequest, payload: ManagerIn) -> Any:
    """The unit names its energy manager (the page 能源管理负责人):
    ``services.save_energy_manager``."""
    require(request.user, "keyunits.file")
    entity = _own_unit(request)
    try:
        m = services.save_energy_manager(
            entity=entity,
            user=request.user,
            name=payload.name,
            certificate_no=payload.certificate_no,
            valid_until=payload.valid_until,
            phone=payload.phone,
        )
    except (services.WorkflowError, services.PermissionDenied) as exc:
        return _write_refused(exc)
    return {
        "unit_uscc": entity.uscc,
        "unit_name": entity.name,
        "name": m.name,
        "certificate_no": m.certificate_no,
        "valid_until": m.valid_until,
        "phone": m.phone,
    }


class AuditOrderIn(Schema):
    """``reason``: over_limit, missed_target or low_efficiency; ``year`` the year it concerns."""

    year: int
    reason: str
    detail: str = ""


@router.post("/units/{uscc}/audits", response={201: AuditOut, **WRITE_ERRORS})
def order_audit(request: HttpRequest, uscc: str, payload: AuditOrderIn) -> Any:
    """责令能源审计 (the unit page's form): ``services.order_audit``; once per unit, year and
    reason (409 the second time)."""
    require(request.user, "keyunits.manage")
    entity = visible_entities(request.user).filter(uscc=uscc).first()
    if entity is None:
        raise Http404
    try:
        a = services.order_audit(
            entity=entity,
            year=payload.year,
            reason=payload.reason,
            detail=payload.detail,
            user=request.user,
        )
    except (services.WorkflowError, services.PermissionDenied) as exc:
        return _write_refused(exc)
    return HttpStatus(201, _audit_out(a))


def _visible_audit(request: HttpRequest, audit_id: int) -> AuditOrder:
    return _scoped_or_404(request, "keyunits.manage", AuditOrder.objects.all(), audit_id)


class AuditReportIn(Schema):
    reference: str


class AuditCloseIn(Schema):
    note: str


@router.post("/audits/{audit_id}/report", response={200: AuditOut, **WRITE_ERRORS})
def record_audit_report(request: HttpRequest, audit_id: int, payload: AuditReportIn) -> Any:
    """审计跟踪 · 登记审计报告: ``services.record_audit_report`` (409 unless ordered)."""
    audit = _visible_audit(request, audit_id)
    try:
        a = services.record_audit_report(
            audit=audit, user=request.user, reference=payload.reference
        )
    except (services.WorkflowError, services.PermissionDenied) as exc:
        return _write_refused(exc)
    return _audit_out(a)


@router.post("/audits/{audit_id}/close", response={200: AuditOut, **WRITE_ERRORS})
def close_audit(request: HttpRequest, audit_id: int, payload: AuditCloseIn) -> Any:
    """审计跟踪 · 办结: ``services.close_audit`` (409 before the report is received)."""
    audit = _visible_audit(request, audit_id)
    try:
        a = services.close_audit(audit=audit, user=request.user, note=payload.note)
    except (services.WorkflowError, services.PermissionDenied) as exc:
        return _write_refused(exc)
    return _audit_out(a)
