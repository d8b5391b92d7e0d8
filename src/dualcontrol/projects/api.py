"""REST endpoints of the project registry (scoped like the pages): list, detail, ledger.

Province staff see every project, a city officer its region's, an enterprise its own unit's, a
verifier its assigned units'; the ledger is for province and city staff.  Only 已认可 figures count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import require
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.projects import ledger as ledger_mod
from dualcontrol.projects import queries
from dualcontrol.projects.models import Project
from dualcontrol.projects.rules import project_rules

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
