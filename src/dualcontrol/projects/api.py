"""REST endpoints of the project registry (scoped like the pages): list, detail, ledger.

Province staff see every project, a city officer its region's, an enterprise its own unit's, a
verifier its assigned units'; the ledger is for province and city staff.  Only 已认可 figures count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import require
from dualcontrol.access.scope import visible_entities
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.projects import investment, queries, services
from dualcontrol.projects import ledger as ledger_mod
from dualcontrol.projects.models import GateDecision, InvestmentProject, Kind, Project
from dualcontrol.projects.rules import project_rules
from dualcontrol.regions.models import Division

router = Router(tags=["projects"])


class FigureOut(Schema):
    measure: str
    unit: str
    planned: float
    verified: float | None  # counted only while the project is 已认可


class ProjectOut(Schema):
    id: int
    name: str
    kind: str
    type: str
    type_name: str
    registry_code: str
    unit_uscc: str | None
    unit_name: str
    division_code: str
    division_name: str
    status: str
    late: bool
    late_reason: str | None
    planned_start: dt.date
    planned_completion: dt.date
    actual_start: dt.date | None
    actual_completion: dt.date | None
    accounting_year: int | None
    rejection_reason: str
    figures: list[FigureOut]
    is_synthetic: bool


class MilestoneOut(Schema):
    name: str
    due_date: dt.date
    done_on: dt.date | None


class EvidenceOut(Schema):
    id: int
    kind: str
    document_name: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime


class VerificationOut(Schema):
    decision: str
    automatic: bool
    decided_by: str
    decided_at: dt.datetime
    accounting_year: int | None
    figures: dict[str, str]
    reason: str
    missing_evidence: list[str]
    note: str
    rules_version: str


class ProjectDetailOut(ProjectOut):
    description: str
    required_evidence: list[str]
    missing_evidence: list[str]
    milestones: list[MilestoneOut]
    evidence: list[EvidenceOut]
    verifications: list[VerificationOut]


class LedgerRegionOut(Schema):
    code: str
    name: str
    own_level: bool
    amount: float
    projects: int
    late: int
    rejected: int
    waiting: int


class LedgerLineOut(Schema):
    project_id: int
    project: str
    type: str
    type_name: str
    unit: str
    division_code: str
    division: str
    region_code: str
    region: str
    amount: float
    accounting_year: int
    completed_on: str | None
    verified_at: str | None
    verified_by: str
    is_synthetic: bool


class LedgerOut(Schema):
    measure: str
    measure_name: str
    unit: str
    year: int
    region_code: str
    region: str
    total: float
    projects: int
    late: int
    rejected_not_counted: int
    waiting_for_verification: int
    counted: str
    rules_version: str
    regions: list[LedgerRegionOut]
    lines: list[LedgerLineOut]


def _out(p: Project, today: dt.date) -> dict[str, Any]:
    rules = project_rules()
    why = queries.lateness(p, today)
    counted = p.status == "verified"
    return {
        "id": p.pk,
        "name": p.name,
        "kind": p.kind,
        "type": p.type_code,
        "type_name": rules.types[p.type_code].name_zh
        if p.type_code in rules.types
        else p.type_code,
        "registry_code": p.registry_code,
        "unit_uscc": p.entity.uscc if p.entity_id and p.entity else None,
        "unit_name": p.owner_label,
        "division_code": p.division.code,
        "division_name": p.division.name,
        "status": p.status,
        "late": why is not None,
        "late_reason": f"{why.what} ({why.due.isoformat()}, {why.days} d)" if why else None,
        "planned_start": p.planned_start,
        "planned_completion": p.planned_completion,
        "actual_start": p.actual_start,
        "actual_completion": p.actual_completion,
        "accounting_year": p.accounting_year,
        "rejection_reason": p.rejection_reason,
        "figures": [
            {
                "measure": f.measure,
                "unit": rules.measures[f.measure].unit if f.measure in rules.measures else "",
                "planned": float(f.planned_amount),
                "verified": float(f.verified_amount)
                if counted and f.verified_amount is not None
                else None,
            }
            for f in p.figures.all()
        ],
        "is_synthetic": p.is_synthetic,
    }


@router.get("/", response=list[ProjectOut])
@paginate(PageNumberPagination, page_size=100)
def list_projects(
    request: HttpRequest,
    q: str | None = None,
    kind: str | None = None,
    type: str | None = None,
    status: str | None = None,
    division: str | None = None,
    pollutant: str | None = None,
    year: int | None = None,
    late: bool = False,
) -> Any:
    """Projects in scope; filters as on the list page (``late=true``: 建设滞后 only)."""
    today = timezone.localdate()
    f = {
        "q": q or "",
        "kind": kind or "",
        "type": type or "",
        "status": status or "",
        "division": division or "",
        "pollutant": pollutant or "",
        "year": str(year) if year else "",
        "late": "1" if late else "",
    }
    qs = queries.filtered(project_access.visible_projects(request.user), f, today).prefetch_related(
        "figures", "milestones"
    )
    return Mapped(qs, lambda p: _out(p, today))


@router.get("/ledger", response=LedgerOut)
def ledger(
    request: HttpRequest, pollutant: str = "cod", year: int | None = None, region: str | None = None
) -> Any:
    """台账: verified reductions of ``pollutant`` (cod, nh3n, nox, vocs; energy) in ``year`` by region
    (province and city staff; a city officer's own region and below)."""
    require(request.user, "projects.manage")
    measure = project_rules().measure(pollutant)
    if measure is None:
        raise HttpError(422, f"unknown pollutant {pollutant!r}")
    top = project_access.ledger_top(request.user, region)
    if top is None:
        raise Http404
    today = timezone.localdate()
    if year is not None and not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise HttpError(422, f"year out of range: {year}")
    y = year or ledger_mod.default_year(top, today)
    return ledger_mod.build_ledger(top=top, measure=measure, year=y, today=today).as_dict()


class InvestmentOut(Schema):
    id: int
    name: str
    unit_name: str
    division_code: str
    division_name: str
    industry_code: str | None
    stage: str
    capacity_value: float | None
    capacity_unit: str
    energy_equivalent_tce: float
    energy_equal_value_tce: float | None
    co2_t: float
    value_added_10k_yuan: float
    operation_date: dt.date | None
    two_high: bool
    two_high_possible: bool
    separately_accounted: bool
    review_status: str
    review_authority: str
    replacement: str
    is_synthetic: bool


class EliminationItemOut(Schema):
    list: str
    published_at: str | None
    region_code: str
    region: str
    unit: str
    uscc: str
    sector: str
    line_equipment: str
    capacity: float
    capacity_unit: str
    deadline: str
    accepted_on: str | None
    acceptance: str


def _inv_out(inv: Any) -> dict[str, Any]:
    p = inv.project
    return {
        "id": p.pk,
        "name": p.name,
        "unit_name": p.owner_label,
        "division_code": p.division.code,
        "division_name": p.division.name,
        "industry_code": p.industry.code if p.industry_id else None,
        "stage": inv.stage,
        "capacity_value": None if inv.capacity_value is None else float(inv.capacity_value),
        "capacity_unit": inv.capacity_unit,
        "energy_equivalent_tce": float(inv.energy_equivalent_tce),
        "energy_equal_value_tce": None
        if inv.energy_equal_value_tce is None
        else float(inv.energy_equal_value_tce),
        "co2_t": float(inv.co2_t),
        "value_added_10k_yuan": float(inv.value_added_10k_yuan),
        "operation_date": inv.operation_date,
        "two_high": inv.two_high,
        "two_high_possible": inv.two_high_possible,
        "separately_accounted": inv.separately_accounted,
        "review_status": inv.review_status,
        "review_authority": inv.review_authority,
        "replacement": inv.replacement,
        "is_synthetic": p.is_synthetic,
    }


@router.get("/investments", response=list[InvestmentOut])
@paginate(PageNumberPagination, page_size=100)
def list_investments(
    request: HttpRequest,
    stage: str | None = None,
    two_high: bool | None = None,
    division: str | None = None,
    review_status: str | None = None,
) -> Any:
    """固定资产投资项目 in scope (拟建/在建/存量, 两高, review status)."""
    require(request.user, "projects.view")
    from dualcontrol.projects.views_investment import investment_queryset

    qs = investment_queryset(
        request.user,
        {
            "stage": stage or "",
            "two_high": "1" if two_high else ("0" if two_high is False else ""),
            "division": division or "",
            "review_status": review_status or "",
        },
    )
    return Mapped(qs, _inv_out)


@router.get("/elimination", response=list[EliminationItemOut])
@paginate(PageNumberPagination, page_size=100)
def list_elimination(request: HttpRequest, year: int | None = None) -> Any:
    """淘汰落后产能名单 of ``year`` (default: this year; published lists; items in scope)."""
    require(request.user, "projects.view")
    from dualcontrol.projects import investment

    year = year or timezone.localdate().year
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise HttpError(422, f"year out of range: {year}")
    items = investment.elimination_items(
        year, project_access.visible_elimination_items(request.user)
    )
    return Mapped(items, investment.elimination_row)


@router.get("/{project_id}", response=ProjectDetailOut)
def project_detail(request: HttpRequest, project_id: int) -> Any:
    p = (
        project_access.visible_projects(request.user)
        .prefetch_related("figures", "milestones", "evidence", "verifications")
        .filter(pk=project_id)
        .first()
    )
    if p is None:
        raise Http404
    from dualcontrol.projects.services import missing_evidence

    rules = project_rules()
    ptype = rules.types.get(p.type_code)
    today = timezone.localdate()
    return {
        **_out(p, today),
        "description": p.description,
        "required_evidence": list(ptype.evidence) if ptype else [],
        "missing_evidence": missing_evidence(p, rules),
        "milestones": [
            {"name": m.name, "due_date": m.due_date, "done_on": m.done_on}
            for m in p.milestones.all()
        ],
        "evidence": [
            {
                "id": e.pk,
                "kind": e.kind,
                "document_name": e.document_name,
                "size_bytes": e.size_bytes,
                "sha256": e.sha256,
                "uploaded_at": e.uploaded_at,
            }
            for e in p.evidence.all()
        ],
        "verifications": [
            {
                "decision": v.decision,
                "automatic": v.automatic,
                "decided_by": v.decided_by_name,
                "decided_at": v.decided_at,
                "accounting_year": v.accounting_year,
                "figures": v.figures or {},
                "reason": v.reason,
                "missing_evidence": v.missing_evidence or [],
                "note": v.note,
                "rules_version": v.rules_version,
            }
            for v in p.verifications.all()
        ],
    }


# --------------------------------------------------------------------------------------------
# writes: the pages' services (who may: the services and the rules), audit in the services;
# docs/api.md lists each page write's operation


def _refused(exc: Exception) -> Any:
    if isinstance(exc, PermissionDenied):
        return refusal(403, str(exc) or "not allowed")
    assert isinstance(exc, ValidationError)
    if hasattr(exc, "error_dict"):
        return refusal(422, "未保存", fields={k: " ".join(v) for k, v in exc.message_dict.items()})
    return refusal(422, "; ".join(exc.messages))


class ProjectIn(Schema):
    """A project as on the page 登记项目: ``division`` a GB/T 2260 code, ``entity`` a USCC,
    ``industry`` a GB/T 4754 code, ``planned`` the planned figure per measure of the type.
    On PATCH only the fields given change."""

    kind: str | None = None
    type_code: str | None = None
    name: str | None = None
    registry_code: str | None = None
    division: str | None = None
    entity: str | None = None
    owner_name: str | None = None
    industry: str | None = None
    planned_start: dt.date | None = None
    planned_completion: dt.date | None = None
    description: str | None = None
    planned: dict[str, float | str] | None = None


def _project_values(
    payload: ProjectIn,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    given = payload.dict(exclude_unset=True)
    planned = given.pop("planned", None)
    problems: dict[str, str] = {}
    if "division" in given:
        code = given["division"] or ""
        given["division"] = Division.objects.filter(code=code).order_by("-valid_from").first()
        if given["division"] is None:
            problems["division"] = f"未知地区代码“{code}”"
    if "entity" in given:
        uscc = given["entity"] or ""
        given["entity"] = Entity.objects.filter(uscc=uscc).first() if uscc else None
        if uscc and given["entity"] is None:
            problems["entity"] = f"未知统一社会信用代码“{uscc}”"
    if "industry" in given:
        code = given["industry"] or ""
        given["industry"] = Industry.objects.filter(code=code).first() if code else None
        if code and given["industry"] is None:
            problems["industry"] = f"未知行业代码“{code}”"
    for text in ("registry_code", "owner_name", "description"):
        if text in given and given[text] is None:
            given[text] = ""
    return given, planned, problems


def _saved(p: Project) -> dict[str, Any]:
    return _out(Project.objects.get(pk=p.pk), timezone.localdate())


@router.post("/", response={201: ProjectOut, **WRITE_ERRORS})
def register_project(request: HttpRequest, payload: ProjectIn) -> Any:
    """登记项目: ``services.register_project`` (rule ``projects.manage``; the service checks the
    region) — every problem of the project listed."""
    require(request.user, "projects.manage")
    values, planned, problems = _project_values(payload)
    if problems:
        return refusal(422, "未保存", fields=problems)
    try:
        p = services.register_project(user=request.user, planned=planned or {}, **values)
    except TypeError as exc:  # a required field not given
        return refusal(422, "未保存", fields={"": str(exc)})
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(201, _saved(p))


@router.patch("/{project_id}", response={200: ProjectOut, **WRITE_ERRORS})
def update_project(request: HttpRequest, project_id: int, payload: ProjectIn) -> Any:
    """修改项目: ``services.update_project`` (only the fields given)."""
    require(request.user, "projects.manage")
    p = project_access.visible_projects(request.user).filter(pk=project_id).first()
    if p is None:
        raise Http404
    if not project_access.can_manage(request.user, p):
        return refusal(403, "not allowed to manage this project")
    values, planned, problems = _project_values(payload)
    if problems:
        return refusal(422, "未保存", fields=problems)
    try:
        p = services.update_project(
            user=request.user,
            project=p,
            **({"planned": planned} if planned is not None else {}),
            **values,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _saved(p)


class ProgressIn(Schema):
    """``start`` (开工) or ``complete`` (完工) on ``day``; ``resubmit`` (重新提交核查) with a note."""

    action: str
    day: dt.date | None = None
    note: str = ""


@router.post("/{project_id}/progress", response={200: ProjectOut, **WRITE_ERRORS})
def project_progress(request: HttpRequest, project_id: int, payload: ProgressIn) -> Any:
    """开工 / 完工 / 重新提交 (the project page's buttons): ``services.start_construction``,
    ``complete_project``, ``resubmit_project`` (the services check who may)."""
    p = project_access.visible_projects(request.user).filter(pk=project_id).first()
    if p is None:
        raise Http404
    user = request.user
    try:
        if payload.action == "start":
            p = services.start_construction(user=user, project=p, started_on=payload.day)
        elif payload.action == "complete":
            p = services.complete_project(user=user, project=p, completed_on=payload.day)
        elif payload.action == "resubmit":
            p = services.resubmit_project(user=user, project=p, note=payload.note)
        else:
            return refusal(422, "未知操作", fields={"action": "start, complete 或 resubmit"})
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _saved(p)


# --------------------------------------------------------------------------------------------
# evidence, verification, investment projects: the pages' services, same rules and scope


def _refused_state(exc: Exception) -> Any:
    """A refusal of the write services: 409 for the object's state, else as :func:`_refused`."""
    if isinstance(exc, services.WrongState):
        if hasattr(exc, "error_dict"):
            fields = {k: " ".join(v) for k, v in exc.message_dict.items()}
            return refusal(409, "; ".join(exc.messages), fields=fields)
        return refusal(409, "; ".join(exc.messages))
    return _refused(exc)


def _visible_project(request: HttpRequest, project_id: int) -> Project:
    p = project_access.visible_projects(request.user).filter(pk=project_id).first()
    if p is None:
        raise Http404
    return p


@router.post("/{project_id}/evidence", response={201: EvidenceOut, **WRITE_ERRORS})
def upload_evidence(
    request: HttpRequest,
    project_id: int,
    kind: Form[str],
    file: File[UploadedFile],
    note: Form[str] = "",
) -> Any:
    """上传佐证 (multipart: ``kind`` an evidence kind of the rules, ``file``, ``note``):
    ``services.upload_evidence`` — the project's unit or managers in scope."""
    require(request.user, "projects.view")
    p = _visible_project(request, project_id)
    if not project_access.can_report(request.user, p):
        return refusal(403, _("无权为该项目上传材料"))
    try:
        e = services.upload_evidence(
            user=request.user, project=p, kind=kind, document=file, note=note
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201,
        {
            "id": e.pk,
            "kind": e.kind,
            "document_name": e.document_name,
            "size_bytes": e.size_bytes,
            "sha256": e.sha256,
            "uploaded_at": e.uploaded_at,
        },
    )


class VerifyIn(Schema):
    """认可: the verified figure per measure of the project's type, the accounting year (default:
    the completion year) and the verifier's note."""

    figures: dict[str, float | str]
    accounting_year: int | None = None
    note: str = ""


class RejectIn(Schema):
    """不予认可 with a reason."""

    reason: str


class DecisionOut(Schema):
    decision: str
    automatic: bool
    reason: str
    accounting_year: int | None
    missing_evidence: list[str]
    statistics_written: int | None
    statistics_skipped: list[str]
    statistics_error: str
    project: ProjectOut


def _decision_out(outcome: services.VerificationOutcome, p: Project) -> dict[str, Any]:
    v = outcome.verification
    return {
        "decision": v.decision,
        "automatic": v.automatic,
        "reason": v.reason,
        "accounting_year": v.accounting_year,
        "missing_evidence": v.missing_evidence or [],
        "statistics_written": outcome.sync.written if outcome.sync else None,
        "statistics_skipped": [code for code, _n in outcome.sync.skipped] if outcome.sync else [],
        "statistics_error": outcome.sync_error,
        "project": _saved(p),
    }


def _verifiable(request: HttpRequest, project_id: int) -> Project | Any:
    require(request.user, "projects.manage")
    p = _visible_project(request, project_id)
    if not project_access.can_verify(request.user, p):
        return refusal(403, _("无权核查该项目"))
    return p


@router.post("/{project_id}/verify", response={200: DecisionOut, **WRITE_ERRORS})
def verify_project(request: HttpRequest, project_id: int, payload: VerifyIn) -> Any:
    """核查 → 认可 (the page 核查): ``services.verify_project``.  Without the evidence the type
    requires the project is recorded 不予认可 (``decision`` ``rejected``, ``automatic``); a project
    not 待核查 is refused with 409."""
    p = _verifiable(request, project_id)
    if not isinstance(p, Project):
        return p
    try:
        outcome = services.verify_project(
            user=request.user,
            project=p,
            figures=payload.figures,
            accounting_year=payload.accounting_year,
            note=payload.note,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused_state(exc)
    return _decision_out(outcome, p)


@router.post("/{project_id}/reject", response={200: DecisionOut, **WRITE_ERRORS})
def reject_project(request: HttpRequest, project_id: int, payload: RejectIn) -> Any:
    """核查 → 不予认可 with a reason (the page 核查): ``services.reject_project``; a project neither
    待核查 nor 已认可 is refused with 409."""
    p = _verifiable(request, project_id)
    if not isinstance(p, Project):
        return p
    try:
        outcome = services.reject_project(user=request.user, project=p, reason=payload.reason)
    except (PermissionDenied, ValidationError) as exc:
        return _refused_state(exc)
    return _decision_out(outcome, p)


class InvestmentIn(Schema):
    """A fixed-asset investment project as on the page 登记固定资产投资项目: ``division`` a
    GB/T 2260 code, ``entity`` a USCC, ``industry`` a GB/T 4754 code; amounts as numbers or text."""

    name: str
    division: str
    entity: str = ""
    owner_name: str = ""
    industry: str = ""
    stage: str
    planned_start: dt.date
    planned_completion: dt.date
    operation_date: dt.date | None = None
    capacity_value: float | str | None = None
    capacity_unit: str = ""
    sector_code: str = ""
    energy_equivalent_tce: float | str
    energy_equal_value_tce: float | str | None = None
    electricity_kwh: float | str | None = None
    coal_t: float | str | None = None
    co2_t: float | str | None = None
    value_added_10k_yuan: float | str | None = None
    is_increment: bool = False
    replacement: str = ""
    replaced_capacity: float | str | None = None
    replaced_energy_tce: float | str | None = None
    replacement_source: str = ""
    replacement_zone: str = ""
    replacement_case: str = ""
    separately_accounted: bool = False
    separate_list_ref: str = ""
    description: str = ""


def _investment(project_id: int) -> InvestmentProject:
    return InvestmentProject.objects.select_related(
        "project", "project__division", "project__entity", "project__industry"
    ).get(project_id=project_id)


@router.post("/investments", response={201: InvestmentOut, **WRITE_ERRORS})
def register_investment(request: HttpRequest, payload: InvestmentIn) -> Any:
    """新建投资项目: ``services.register_investment`` (rule ``projects.manage``; the service checks
    the region) — classified 两高 / review authority on registration; every problem listed."""
    require(request.user, "projects.manage")
    problems: dict[str, str] = {}
    division = Division.objects.filter(code=payload.division).order_by("-valid_from").first()
    if division is None:
        problems["division"] = _("未知地区代码“%(v)s”") % {"v": payload.division}
    entity = None
    if payload.entity:
        entity = visible_entities(request.user).filter(uscc=payload.entity).first()
        if entity is None:
            problems["entity"] = _("未知统一社会信用代码“%(v)s”") % {"v": payload.entity}
    industry = None
    if payload.industry:
        industry = Industry.objects.filter(code=payload.industry).first()
        if industry is None:
            problems["industry"] = _("未知行业代码“%(v)s”") % {"v": payload.industry}
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    given = payload.dict()
    details = {
        k: given[k]
        for k in investment.DETAIL_FIELDS
        if k != "replacement" and given[k] not in (None, "", False)
    }
    try:
        inv = services.register_investment(
            user=request.user,
            name=payload.name,
            division=division,
            entity=entity,
            owner_name=payload.owner_name,
            industry=industry,
            stage=payload.stage,
            planned_start=payload.planned_start,
            planned_completion=payload.planned_completion,
            energy_equivalent_tce=payload.energy_equivalent_tce,
            co2_t=payload.co2_t,
            value_added_10k_yuan=payload.value_added_10k_yuan,
            description=payload.description,
            replacement=payload.replacement,
            **details,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(201, _inv_out(_investment(inv.project_id)))


def _reviewable(request: HttpRequest, project_id: int) -> InvestmentProject:
    """The page's rule for its POSTs (``projects.review``), its scope and kind (else 404)."""
    require(request.user, "projects.review")
    p = _visible_project(request, project_id)
    if p.kind != Kind.INVESTMENT or not InvestmentProject.objects.filter(project=p).exists():
        raise Http404
    return _investment(p.pk)


@router.post("/investments/{project_id}/submit", response={200: InvestmentOut, **WRITE_ERRORS})
def submit_investment_review(request: HttpRequest, project_id: int) -> Any:
    """投资项目审核 → 受理 (节能审查受理): ``services.submit_review``; a project already under review
    or decided is refused with 409."""
    inv = _reviewable(request, project_id)
    try:
        services.submit_review(user=request.user, investment=inv)
    except (PermissionDenied, ValidationError) as exc:
        return _refused_state(exc)
    return _inv_out(_investment(project_id))


class ReviewIn(Schema):
    """审查结论: ``decision`` ``approved`` or ``rejected``; ``override`` (province staff) passes a
    holding gate with ``override_reason``."""

    decision: str
    conclusion: str = ""
    conditions: str = ""
    carbon_conclusion: str = ""
    document_no: str = ""
    override: bool = False
    override_reason: str = ""


@router.post("/investments/{project_id}/decide", response={200: InvestmentOut, **WRITE_ERRORS})
def decide_investment_review(request: HttpRequest, project_id: int, payload: ReviewIn) -> Any:
    """投资项目审核 → 通过 / 不通过: ``services.decide_review``.  An approval the gate holds (限批,
    暂停核准, over budget) is recorded and refused with 409; a project not 已受理 also 409."""
    inv = _reviewable(request, project_id)
    if payload.decision not in (GateDecision.APPROVED, GateDecision.REJECTED):
        return refusal(422, _("未知操作"), fields={"decision": _("结论须为 approved 或 rejected")})
    try:
        services.decide_review(
            user=request.user,
            investment=inv,
            decision=payload.decision,
            conclusion=payload.conclusion,
            conditions=payload.conditions,
            carbon_conclusion=payload.carbon_conclusion,
            document_no=payload.document_no,
            override=payload.override,
            override_reason=payload.override_reason,
        )
    except services.GateHeld as held:
        return refusal(409, held.messages[0])
    except (PermissionDenied, ValidationError) as exc:
        return _refused_state(exc)
    return _inv_out(_investment(project_id))
