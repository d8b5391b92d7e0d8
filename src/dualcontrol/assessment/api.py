"""REST endpoints of the annual assessment (read-only, scoped like the pages)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from dualcontrol.access import assessment as access
from dualcontrol.assessment.models import OPEN_STATUSES
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["assessment"])


class RoundOut(Schema):
    id: int
    year: int
    title: str
    assessor_code: str
    sheet_name: str
    sheet_version: str
    status: str
    announced_on: dt.date | None
    synthetic: bool


class RecordOut(Schema):
    id: int
    subject: str
    code: str
    status: str
    target_figures: dict[str, Any]
    target_error: str
    target_score: Decimal | None
    measures_score: Decimal | None
    total_score: Decimal | None
    grade: str
    vetoed: bool


class ConsequenceOut(Schema):
    id: int
    year: int
    subject: str
    code: str
    kind: str
    title_zh: str
    issued_on: dt.date
    due_on: dt.date | None
    status: str
    restricts_approvals: bool
    requires_audit: bool


@router.get("/rounds", response=list[RoundOut])
@paginate(PageNumberPagination, page_size=100)
def list_rounds(request: HttpRequest, year: int | None = None) -> Any:
    qs = access.visible_rounds(request.user).select_related("assessor")
    if year:
        qs = qs.filter(year=year)
    return Mapped(qs.order_by("-year", "id"), _round_out)


def _round_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "year": r.year,
        "title": r.title,
        "assessor_code": r.assessor.code,
        "sheet_name": r.sheet_name,
        "sheet_version": r.sheet_version,
        "status": r.status,
        "announced_on": r.announced_on,
        "synthetic": r.is_synthetic,
    }


@router.get("/rounds/{round_id}/records", response=list[RecordOut])
@paginate(PageNumberPagination, page_size=200)
def list_records(request: HttpRequest, round_id: int) -> Any:
    rnd = get_object_or_404(access.visible_rounds(request.user), pk=round_id)
    qs = (
        access.visible_records(request.user)
        .filter(round=rnd)
        .select_related("division", "entity")
        .order_by("id")
    )
    return Mapped(qs, _record_out)


def _record_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "subject": r.subject_name,
        "code": r.division.code if r.division_id else r.entity.uscc,
        "status": r.status,
        "target_figures": r.target_figures,
        "target_error": r.target_error,
        "target_score": r.target_score,
        "measures_score": r.measures_score,
        "total_score": r.total_score,
        "grade": r.grade_name,
        "vetoed": r.vetoed,
    }


@router.get("/consequences", response=list[ConsequenceOut])
@paginate(PageNumberPagination, page_size=200)
def list_consequences(
    request: HttpRequest, open_only: bool = False, year: int | None = None
) -> Any:
    qs = access.visible_consequences(request.user)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if year:
        qs = qs.filter(year=year)
    return Mapped(qs.select_related("division", "entity").order_by("-year", "id"), _consequence_out)


def _consequence_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "year": c.year,
        "subject": c.subject_name,
        "code": c.division.code if c.division_id else c.entity.uscc,
        "kind": c.kind,
        "title_zh": c.title_zh,
        "issued_on": c.issued_on,
        "due_on": c.due_on,
        "status": c.status,
        "restricts_approvals": c.restricts_approvals,
        "requires_audit": c.requires_audit,
    }
