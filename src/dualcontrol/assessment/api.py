"""REST endpoints of the annual assessment (scoped like the pages; writes through the pages'
services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access import assessment as access
from dualcontrol.access.rules import require
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.assessment import services
from dualcontrol.assessment.models import OPEN_STATUSES, RecordStatus
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


# ---------------------------------------------------------------------------------------------
# writes: the pages' services, rules and audit (docs/api.md lists each page write's operation)


def _refused(exc: Exception) -> Any:
    if isinstance(exc, services.NotAllowed):
        return refusal(403, str(exc))
    if isinstance(exc, services.WorkflowError):
        return refusal(409, str(exc))
    if isinstance(exc, services.Rejected):
        return refusal(422, "未保存", fields=exc.problems)
    raise exc


def _call(fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs), None
    except (services.NotAllowed, services.WorkflowError, services.Rejected) as exc:
        return None, _refused(exc)


def _rec(request: HttpRequest, record_id: int) -> Any:
    require(request.user, "assessment.view")
    return get_object_or_404(
        access.visible_records(request.user).select_related(
            "round", "round__sheet", "division", "entity"
        ),
        pk=record_id,
    )


def _record_done(request: HttpRequest, record_id: int, fn: Any, **kwargs: Any) -> Any:
    rec = _rec(request, record_id)
    _result, refused = _call(fn, record=rec, user=request.user, **kwargs)
    if refused is not None:
        return refused
    rec.refresh_from_db()
    return _record_out(rec)


class RoundIn(Schema):
    year: int
    sheet_id: int
    title: str = ""
    note: str = ""


@router.post("/rounds", response={201: RoundOut, **WRITE_ERRORS})
def create_round(request: HttpRequest, payload: RoundIn) -> Any:
    """组织考核 (the page 新建考核): ``services.create_round``, rule ``assessment.run``."""
    require(request.user, "assessment.run")
    sheet = services.active_sheets().filter(pk=payload.sheet_id).first()
    if sheet is None:
        return refusal(422, "未保存", fields={"sheet_id": "未知或未启用的计分表"})
    user: Any = request.user
    rnd, refused = _call(
        services.create_round,
        user=user,
        year=payload.year,
        sheet=sheet,
        title=payload.title,
        note=payload.note,
        department=user.department if user.department_id else None,
    )
    return refused or HttpStatus(201, _round_out(rnd))


class IssuedOnIn(Schema):
    issued_on: dt.date


class SignedOffOut(Schema):
    signed_off: int


@router.post("/rounds/{round_id}/sign-off", response={200: SignedOffOut, **WRITE_ERRORS})
def sign_off_round(request: HttpRequest, round_id: int, payload: IssuedOnIn) -> Any:
    """审定 every scored record of a round (the round page's 审定): ``services.sign_off_round``."""
    require(request.user, "assessment.run")
    rnd = get_object_or_404(access.assessor_rounds(request.user), pk=round_id)
    n, refused = _call(
        services.sign_off_round, round=rnd, user=request.user, issued_on=payload.issued_on
    )
    return refused or {"signed_off": n}


class ComputedOut(Schema):
    computed: int
    missing_data: int


@router.post("/rounds/{round_id}/compute", response={200: ComputedOut, **WRITE_ERRORS})
def compute_round(request: HttpRequest, round_id: int) -> Any:
    """Recompute the target part of every open record (the round page's 重新计算)."""
    require(request.user, "assessment.run")
    rnd = get_object_or_404(access.assessor_rounds(request.user), pk=round_id)
    ok = failed = 0
    for rec in rnd.records.exclude(status=RecordStatus.SIGNED_OFF):
        done, refused = _call(services.refresh_target_part, record=rec, user=request.user)
        if refused is not None and refused.status_code == 403:
            return refused
        if done:
            ok += 1
        else:
            failed += 1
    return {"computed": ok, "missing_data": failed}


class ItemScoreIn(Schema):
    score: float | str | None = None
    note: str = ""


class ScoresIn(Schema):
    """Per measure row (its ``key`` in the scoring sheet): a score and a note (self-assessment:
    the explanation; review: the reviewer's comment)."""

    items: dict[str, ItemScoreIn]


def _scores(record: Any, payload: ScoresIn) -> tuple[dict[str, tuple[Any, str]], dict[str, str]]:
    keys = set(record.measures.values_list("key", flat=True))
    unknown = {k: "未知考核项目" for k in payload.items if k not in keys}
    scores = {
        k: ("" if v.score is None else str(v.score), v.note)
        for k, v in payload.items.items()
        if k in keys
    }
    return scores, unknown


@router.post("/records/{record_id}/self", response={200: RecordOut, **WRITE_ERRORS})
def save_self_assessment(request: HttpRequest, record_id: int, payload: ScoresIn) -> Any:
    """自评 (the record page's 保存自评): ``services.save_self_assessment``."""
    rec = _rec(request, record_id)
    scores, unknown = _scores(rec, payload)
    if unknown:
        return refusal(422, "未保存", fields=unknown)
    return _record_done(request, record_id, services.save_self_assessment, scores=scores)


@router.post("/records/{record_id}/submit", response={200: RecordOut, **WRITE_ERRORS})
def submit_self_assessment(request: HttpRequest, record_id: int) -> Any:
    """提交自评: ``services.submit_self_assessment``."""
    return _record_done(request, record_id, services.submit_self_assessment)


@router.post("/records/{record_id}/score", response={200: RecordOut, **WRITE_ERRORS})
def score_record(request: HttpRequest, record_id: int, payload: ScoresIn) -> Any:
    """评审 — score items (the record page's 保存评分): ``services.score_measures``; when every
    row is scored the record is graded."""
    rec = _rec(request, record_id)
    scores, unknown = _scores(rec, payload)
    if unknown:
        return refusal(422, "未保存", fields=unknown)
    return _record_done(request, record_id, services.score_measures, scores=scores)


@router.post("/records/{record_id}/compute", response={200: RecordOut, **WRITE_ERRORS})
def compute_record(request: HttpRequest, record_id: int) -> Any:
    """Recompute the target part: ``services.refresh_target_part``."""
    return _record_done(request, record_id, services.refresh_target_part)


class CertifyIn(Schema):
    saving_tce: float | str
    source: str


@router.post("/records/{record_id}/certify", response={200: RecordOut, **WRITE_ERRORS})
def certify_saving(request: HttpRequest, record_id: int, payload: CertifyIn) -> Any:
    """核定节能量: ``services.certify_saving``."""
    return _record_done(
        request,
        record_id,
        services.certify_saving,
        saving_tce=payload.saving_tce,
        source=payload.source,
    )


@router.post("/records/{record_id}/sign-off", response={200: RecordOut, **WRITE_ERRORS})
def sign_off_record(request: HttpRequest, record_id: int, payload: IssuedOnIn) -> Any:
    """审定 one record (freeze the result, issue its consequences): ``services.sign_off``."""
    return _record_done(request, record_id, services.sign_off, issued_on=payload.issued_on)


class ReasonIn(Schema):
    reason: str


@router.post("/records/{record_id}/reopen", response={200: RecordOut, **WRITE_ERRORS})
def reopen_record(request: HttpRequest, record_id: int, payload: ReasonIn) -> Any:
    """重新打开 a signed-off record: ``services.reopen``."""
    return _record_done(request, record_id, services.reopen, reason=payload.reason)


class CloseIn(Schema):
    note: str
    closed_on: dt.date | None = None


class RespondIn(Schema):
    text: str


def _consequence(request: HttpRequest, consequence_id: int) -> Any:
    require(request.user, "assessment.consequences")
    return get_object_or_404(access.visible_consequences(request.user), pk=consequence_id)


@router.post(
    "/consequences/{consequence_id}/respond", response={200: ConsequenceOut, **WRITE_ERRORS}
)
def respond_consequence(request: HttpRequest, consequence_id: int, payload: RespondIn) -> Any:
    """整改报送 (text; the page also takes a document): ``services.respond``."""
    c = _consequence(request, consequence_id)
    done, refused = _call(services.respond, consequence=c, user=request.user, text=payload.text)
    return refused or _consequence_out(done)


@router.post("/consequences/{consequence_id}/close", response={200: ConsequenceOut, **WRITE_ERRORS})
def close_consequence(request: HttpRequest, consequence_id: int, payload: CloseIn) -> Any:
    """办结: ``services.close``."""
    c = _consequence(request, consequence_id)
    done, refused = _call(
        services.close,
        consequence=c,
        user=request.user,
        note=payload.note,
        closed_on=payload.closed_on,
    )
    return refused or _consequence_out(done)


class EvidenceIn(Schema):
    item_key: str
    description: str = ""


class EvidenceOut(Schema):
    id: int
    item_key: str
    name: str


@router.post("/records/{record_id}/evidence", response={201: EvidenceOut, **WRITE_ERRORS})
def add_evidence(
    request: HttpRequest, record_id: int, payload: Form[EvidenceIn], file: File[UploadedFile]
) -> Any:
    """佐证材料 (multipart; the record page's 上传): ``services.add_evidence``."""
    rec = _rec(request, record_id)
    ev, refused = _call(
        services.add_evidence,
        record=rec,
        user=request.user,
        item_key=payload.item_key,
        upload=file,
        description=payload.description,
    )
    if refused is not None:
        return refused
    return HttpStatus(201, {"id": ev.pk, "item_key": ev.item_key, "name": ev.name})


class InterviewIn(Schema):
    """约谈: ``held_on`` (held) or ``due_on`` (planned), and the minutes."""

    held_on: dt.date | None = None
    due_on: dt.date | None = None
    note: str = ""


@router.post("/records/{record_id}/interview", response={201: ConsequenceOut, **WRITE_ERRORS})
def record_interview(request: HttpRequest, record_id: int, payload: InterviewIn) -> Any:
    """约谈 of the record's region or unit (the record page's 记录约谈):
    ``services.record_interview``."""
    rec = _rec(request, record_id)
    done, refused = _call(
        services.record_interview,
        user=request.user,
        year=rec.round.year,
        division=rec.division,
        entity=rec.entity,
        held_on=payload.held_on,
        due_on=payload.due_on,
        note=payload.note,
        record=rec,
    )
    return refused or HttpStatus(201, _consequence_out(done))
