"""REST endpoints of the carbon market, scoped like the pages (:mod:`dualcontrol.access.carbon`).

Lists (paginated): emitters, emission reports, accounts with balances, ledger transactions
(province, its region's), allocations (province), a year's compliance rows.  Writes: a unit's
surrender and transfer request, the province's four-eyes decision, and every write of the pages —
the list (propose / publish), a unit's emission report, its submission, verification and review,
allocation (issuance to the province, approval, issuance to the unit), compliance actions and the
correction request of a ledger transaction.  ``GET /ledger/verify`` recomputes the chain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import carbon as access
from dualcontrol.access.rules import require
from dualcontrol.accounts.models import User
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.forms import ActionForm, IssueForm, ReportForm, VerifyForm, YearForm
from dualcontrol.carbonmarket.models import (
    Account,
    AllocationProposal,
    ComplianceAction,
    EmissionReport,
    LedgerTransaction,
    Sector,
)
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["carbon-market"])


class EmitterOut(Schema):
    unit_uscc: str
    unit_name: str
    division_code: str
    year: int
    sector: str
    basis_co2e_t: float
    basis: str
    status: str
    published_at: dt.datetime | None


class ReportOut(Schema):
    id: int
    unit_uscc: str
    unit_name: str
    year: int
    sector: str
    method: str
    fuel_co2_t: float
    process_co2e_t: float
    indirect_co2_t: float
    direct_co2e_t: float
    status: str
    deadline: dt.date
    submitted_at: dt.datetime | None
    verifier: str | None
    verified_co2e_t: float | None
    findings: str


class AccountOut(Schema):
    code: str
    kind: str
    name: str
    unit_uscc: str | None
    balances: dict[str, float]


class EntryOut(Schema):
    account: str
    unit_type: str
    vintage: int | None
    amount: float


class TransactionOut(Schema):
    seq: int
    type: str
    date: dt.date | None
    year: int | None
    requested_by: str
    approved_by: str
    corrects: int | None
    note: str
    hash: str
    previous_hash: str
    entries: list[EntryOut]


class AllocationOut(Schema):
    id: int
    unit_uscc: str
    unit_name: str
    year: int
    sector: str
    method: str
    amount_t: int
    status: str
    rule_version: str
    benchmark_status: str
    inputs: dict[str, Any]
    transaction: int | None


class ComplianceOut(Schema):
    unit_uscc: str
    unit_name: str
    account: str
    year: int
    obligation: float
    surrendered: float
    offsets_surrendered: float
    shortfall: float
    status: str
    deadline: dt.date | None
    completed_on: dt.date | None


class SurrenderIn(Schema):
    year: int
    unit_type: str
    vintage: int
    amount: Decimal


class TransferIn(Schema):
    to_account: str
    unit_type: str
    vintage: int
    amount: Decimal
    note: str = ""


class DecisionIn(Schema):
    approve: bool
    reason: str = ""


class ResultOut(Schema):
    status: str
    transaction: int | None = None
    pending: int | None = None
    reason: str | None = None


class ChainOut(Schema):
    transactions: int
    entries: int
    head: str
    intact: bool
    breaks: list[dict[str, Any]]


def _year(year: int | None) -> int | None:
    if year is not None and not 2000 <= year <= 2100:
        raise HttpError(422, "year must be between 2000 and 2100")
    return year


@router.get("/emitters", response=list[EmitterOut])
@paginate(PageNumberPagination, page_size=100)
def list_emitters(request: HttpRequest, year: int | None = None, sector: str | None = None) -> Any:
    """重点排放单位名录 in scope."""
    require(request.user, "carbon.view")
    qs = access.visible_emitters(request.user).order_by("-year", "sector", "entity__name", "pk")
    if _year(year) is not None:
        qs = qs.filter(year=year)
    if sector:
        if sector not in Sector.values:
            raise HttpError(422, f"sector must be one of {', '.join(Sector.values)}")
        qs = qs.filter(sector=sector)
    return Mapped(
        qs,
        lambda e: {
            "unit_uscc": e.entity.uscc,
            "unit_name": e.entity.name,
            "division_code": e.entity.division.code,
            "year": e.year,
            "sector": e.sector,
            "basis_co2e_t": float(e.basis_co2e_t),
            "basis": e.basis,
            "status": e.status,
            "published_at": e.published_at,
        },
    )


def _report(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "unit_uscc": r.entity.uscc,
        "unit_name": r.entity.name,
        "year": r.year,
        "sector": r.sector,
        "method": r.method,
        "fuel_co2_t": float(r.fuel_co2_t),
        "process_co2e_t": float(r.process_co2e_t),
        "indirect_co2_t": float(r.indirect_co2_t),
        "direct_co2e_t": float(r.direct_co2e_t),
        "status": r.status,
        "deadline": r.deadline,
        "submitted_at": r.submitted_at,
        "verifier": r.verifier.username if r.verifier_id else None,
        "verified_co2e_t": float(r.verified_co2e_t) if r.verified_co2e_t is not None else None,
        "findings": r.findings,
    }


@router.get("/reports", response=list[ReportOut])
@paginate(PageNumberPagination, page_size=100)
def list_reports(request: HttpRequest, year: int | None = None, status: str | None = None) -> Any:
    """Annual emission reports in scope (a verifier: its assignments)."""
    require(request.user, "carbon.view")
    qs = access.visible_reports(request.user).order_by("-year", "entity__name", "pk")
    if _year(year) is not None:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status=status)
    return Mapped(qs, _report)


@router.get("/reports/{report_id}", response=ReportOut)
def get_report(request: HttpRequest, report_id: int) -> Any:
    require(request.user, "carbon.view")
    report = access.visible_reports(request.user).filter(pk=report_id).first()
    if report is None:
        raise HttpError(404, "not found")
    return _report(report)


@router.get("/accounts", response=list[AccountOut])
@paginate(PageNumberPagination, page_size=100)
def list_accounts(request: HttpRequest) -> Any:
    """Accounts in scope with their balances (summed over vintages)."""
    require(request.user, "carbon.view")
    qs = access.visible_accounts(request.user).order_by("code")

    def shape(rows: list[Account]) -> list[dict[str, Any]]:
        balances = ledger.balances_of(rows)
        return [
            {
                "code": a.code,
                "kind": a.kind,
                "name": a.name,
                "unit_uscc": a.entity.uscc if a.entity_id else None,
                "balances": balances[a.code],
            }
            for a in rows
        ]

    return Mapped(qs, per_page=shape)


def _tx(t: LedgerTransaction) -> dict[str, Any]:
    return {
        "seq": t.seq,
        "type": t.type,
        "date": t.date,
        "year": t.year,
        "requested_by": t.requested_by,
        "approved_by": t.approved_by,
        "corrects": t.corrects.seq if t.corrects_id else None,
        "note": t.note,
        "hash": t.hash,
        "previous_hash": t.previous_hash,
        "entries": [
            {
                "account": e.account.code,
                "unit_type": e.unit_type,
                "vintage": e.vintage,
                "amount": float(e.amount),
            }
            for e in t.entries.all()
        ],
    }


@router.get("/ledger/transactions", response=list[TransactionOut])
@paginate(PageNumberPagination, page_size=100)
def list_transactions(request: HttpRequest, type: str | None = None) -> Any:
    """The ledger, newest first (province staff: the transactions touching their region's
    accounts, as on the ledger page)."""
    require(request.user, "carbon.manage")
    qs = access.ledger_scope(
        request.user,
        LedgerTransaction.objects.select_related("corrects").prefetch_related("entries__account"),
        "entries__account",
    )
    if type:
        qs = qs.filter(type=type)
    return Mapped(qs.order_by("-seq"), _tx)


@router.get("/ledger/verify", response=ChainOut)
def verify_chain(request: HttpRequest) -> Any:
    """Recompute the hash chain and double-entry sums (same as ``dualcontrol ledger verify``)."""
    require(request.user, "carbon.manage")
    return ledger.verify()


def _visible_allocations(request: HttpRequest) -> Any:
    """Allocations of the units in scope (as on the allocation page)."""
    return AllocationProposal.objects.filter(
        entity__in=access.visible_units(request.user).values("pk")
    ).select_related("entity", "transaction")


def _allocation(p: AllocationProposal) -> dict[str, Any]:
    return {
        "id": p.pk,
        "unit_uscc": p.entity.uscc,
        "unit_name": p.entity.name,
        "year": p.year,
        "sector": p.sector,
        "method": p.method,
        "amount_t": int(p.amount_t),
        "status": p.status,
        "rule_version": p.rule_version,
        "benchmark_status": p.benchmark_status,
        "inputs": p.inputs,
        "transaction": p.transaction.seq if p.transaction_id else None,
    }


@router.get("/allocations", response=list[AllocationOut])
@paginate(PageNumberPagination, page_size=100)
def list_allocations(request: HttpRequest, year: int | None = None) -> Any:
    """Allocations of the units in scope (``id`` names one in the allocation writes)."""
    require(request.user, "carbon.manage")
    qs = _visible_allocations(request).order_by("-year", "entity__name", "pk")
    if _year(year) is not None:
        qs = qs.filter(year=year)
    return Mapped(qs, _allocation)


@router.get("/compliance/{year}", response=list[ComplianceOut])
def compliance(request: HttpRequest, year: int) -> Any:
    """The year's compliance rows in scope (one per emitter with an obligation)."""
    require(request.user, "carbon.view")
    _year(year)
    visible = set(access.visible_units(request.user).values_list("pk", flat=True))
    out = []
    for r in services.compliance_table(year, entity_ids=visible):
        row = r["row"]
        out.append(
            {
                "unit_uscc": r["entity"].uscc,
                "unit_name": r["entity"].name,
                "account": r["account"].code,
                "year": row.year,
                "obligation": row.obligation,
                "surrendered": row.surrendered,
                "offsets_surrendered": row.offsets_surrendered,
                "shortfall": row.shortfall,
                "status": row.status,
                "deadline": row.deadline,
                "completed_on": row.completed_on,
            }
        )
    return out


def _own_entity(request: HttpRequest) -> Any:
    require(request.user, "carbon.file")
    entity = getattr(request.user, "entity", None)
    if entity is None:
        raise HttpError(403, "no unit")
    return entity


@router.post("/surrender", response={200: ResultOut, 422: ResultOut})
def surrender(request: HttpRequest, body: SurrenderIn) -> Any:
    """清缴 by the caller's own unit; a refusal (cap, vintage, balance) is 422 with the reason."""
    entity = _own_entity(request)
    try:
        tx = services.surrender(
            entity=entity,
            year=body.year,
            unit_type=body.unit_type,
            vintage=body.vintage,
            amount=body.amount,
            user=request.user,
        )
    except ValidationError as exc:
        return HttpStatus(422, {"status": "refused", "reason": "; ".join(exc.messages)})
    return HttpStatus(200, {"status": "applied", "transaction": tx.seq})


@router.post("/transfers", response={200: ResultOut, 422: ResultOut})
def request_transfer(request: HttpRequest, body: TransferIn) -> Any:
    """A transfer from the caller's unit; it waits for a second person's approval."""
    entity = _own_entity(request)
    source = Account.objects.filter(entity=entity, kind="holding").first()
    target = Account.objects.filter(code=body.to_account.strip()).first()
    if source is None or target is None:
        return HttpStatus(422, {"status": "refused", "reason": "unknown account"})
    try:
        pending = services.request_transfer(
            from_account=source,
            to_account=target,
            unit_type=body.unit_type,
            vintage=body.vintage,
            amount=body.amount,
            note=body.note,
            user=request.user,
        )
    except ValidationError as exc:
        return HttpStatus(422, {"status": "refused", "reason": "; ".join(exc.messages)})
    return HttpStatus(200, {"status": "pending", "pending": pending.pk})


@router.post("/pending/{pending_id}", response={200: ResultOut, 403: ResultOut, 422: ResultOut})
def decide(request: HttpRequest, pending_id: int, body: DecisionIn) -> Any:
    """The second person's decision on a pending request (province)."""
    require(request.user, "carbon.manage")
    pending = access.visible_pending(request.user).filter(pk=pending_id).first()
    if pending is None:
        raise HttpError(404, "not found")
    try:
        done = services.decide(
            pending=pending, approve=body.approve, user=request.user, reason=body.reason
        )
    except PermissionDenied as exc:
        return HttpStatus(403, {"status": "refused", "reason": str(exc)})
    except ValidationError as exc:
        return HttpStatus(422, {"status": "refused", "reason": "; ".join(exc.messages)})
    return HttpStatus(
        200,
        {
            "status": done.status,
            "transaction": done.transaction.seq if done.transaction_id else None,
            "reason": done.reason or None,
        },
    )


# --------------------------------------------------------------------------------------------
# the pages' writes: the same services (their access checks and audit entries), the same rules
# and the same scoping as the pages; docs/api.md lists each page write's operation.  Refusals:
# 403 by rule or service, 404 outside the scope, 409 the object's state, 422 bad input (every
# problem listed, nothing written).


def _refused(exc: Exception) -> Any:
    if isinstance(exc, PermissionDenied):
        return refusal(403, str(exc) or _("无权进行此操作"))
    assert isinstance(exc, ValidationError)
    status = 409 if isinstance(exc, services.WrongState) else 422
    return refusal(status, "; ".join(exc.messages), cells=exc.messages)


def _form_problems(form: Any) -> dict[str, str]:
    return {name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}


def _year_problems(year: int) -> dict[str, str]:
    form = YearForm({"year": year})
    return {} if form.is_valid() else _form_problems(form)


class YearIn(Schema):
    year: int


class EmitterBatchOut(Schema):
    year: int
    count: int


@router.post("/emitters/propose", response={200: EmitterBatchOut, **WRITE_ERRORS})
def propose_emitters(request: HttpRequest, payload: YearIn) -> Any:
    """拟纳入 (the list page's 提出): ``services.propose_emitters`` — the units in scope whose
    verified emissions of the basis year reach the threshold; ``count`` rows proposed."""
    require(request.user, "carbon.manage")
    problems = _year_problems(payload.year)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        made = services.propose_emitters(year=payload.year, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return {"year": payload.year, "count": len(made)}


@router.post("/emitters/publish", response={200: EmitterBatchOut, **WRITE_ERRORS})
def publish_emitters(request: HttpRequest, payload: YearIn) -> Any:
    """公布名录 (the list page's 公布): ``services.publish_emitters`` — the proposed rows in scope
    become listed and get their accounts; ``count`` rows listed."""
    require(request.user, "carbon.manage")
    problems = _year_problems(payload.year)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        n = services.publish_emitters(year=payload.year, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return {"year": payload.year, "count": n}


class ReportIn(Schema):
    """The fields of the page 排放报告填报 (``submit``: save and submit, as its 报送 button)."""

    year: int
    sector: str
    method: str
    fuel_co2_t: Decimal | None = None
    process_co2e_t: Decimal | None = None
    indirect_co2_t: Decimal | None = None
    supply_mwh: Decimal | None = None
    heat_gj: Decimal | None = None
    output_t: Decimal | None = None
    submit: bool = False


@router.post("/reports", response={200: ReportOut, **WRITE_ERRORS})
def save_report(request: HttpRequest, payload: ReportIn) -> Any:
    """排放报告填报 by the caller's own unit: ``services.save_report`` (and
    ``services.submit_report`` with ``submit``); a report already submitted is 409."""
    require(request.user, "carbon.file")
    entity = getattr(request.user, "entity", None)
    if entity is None:
        return refusal(403, _("账户没有所属单位"))
    data = payload.dict(exclude={"year", "submit"})
    form = ReportForm(data)
    problems = {**_year_problems(payload.year), **({} if form.is_valid() else _form_problems(form))}
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        with transaction.atomic():
            report = services.save_report(
                entity=entity, year=payload.year, data=form.cleaned_data, user=request.user
            )
            if payload.submit:
                services.submit_report(report=report, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report.pk))


def _visible_report(request: HttpRequest, report_id: int) -> EmissionReport:
    require(request.user, "carbon.view")
    report = access.visible_reports(request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404
    return report


@router.post("/reports/{report_id}/submit", response={200: ReportOut, **WRITE_ERRORS})
def submit_report(request: HttpRequest, report_id: int) -> Any:
    """报送 (the report page's button, the unit's own reporter): ``services.submit_report``."""
    report = _visible_report(request, report_id)
    try:
        services.submit_report(report=report, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report_id))


class AssignIn(Schema):
    """``verifier``: the user name of a verifier (technical service body) account."""

    verifier: str


@router.post("/reports/{report_id}/assign", response={200: ReportOut, **WRITE_ERRORS})
def assign_verifier(request: HttpRequest, report_id: int, payload: AssignIn) -> Any:
    """指派核查机构 (province): ``services.assign_verifier``."""
    report = _visible_report(request, report_id)
    verifier = User.objects.filter(username=payload.verifier.strip()).first()
    try:
        services.assign_verifier(report=report, verifier=verifier, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report_id))


class VerifyIn(Schema):
    verified_co2e_t: Decimal | None = None
    findings: str = ""


@router.post("/reports/{report_id}/verify", response={200: ReportOut, **WRITE_ERRORS})
def record_verification(request: HttpRequest, report_id: int, payload: VerifyIn) -> Any:
    """核查结论 by the assigned verifier: ``services.record_verification``."""
    report = _visible_report(request, report_id)
    form = VerifyForm(payload.dict())
    if not form.is_valid():
        return refusal(422, _("未保存"), fields=_form_problems(form))
    try:
        services.record_verification(
            report=report,
            verified_co2e_t=form.cleaned_data["verified_co2e_t"],
            findings=form.cleaned_data["findings"],
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report_id))


@router.post("/reports/{report_id}/accept", response={200: ReportOut, **WRITE_ERRORS})
def accept_report(request: HttpRequest, report_id: int) -> Any:
    """确认核查结果 (province): ``services.accept_report`` — the obligation is recorded."""
    report = _visible_report(request, report_id)
    try:
        services.accept_report(report=report, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report_id))


class ReasonIn(Schema):
    reason: str = ""


@router.post("/reports/{report_id}/return", response={200: ReportOut, **WRITE_ERRORS})
def return_report(request: HttpRequest, report_id: int, payload: ReasonIn) -> Any:
    """退回 (province, or the verifier of a report in verification): ``services.return_report``."""
    report = _visible_report(request, report_id)
    try:
        services.return_report(report=report, reason=payload.reason, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _report(_visible_report(request, report_id))


class IssueIn(Schema):
    """配额签发至省级账户: ``amount`` tonnes of ``year``'s allowances, ``note`` the basis."""

    year: int
    amount: int
    note: str = ""


@router.post("/allocations/issue-to-province", response={201: TransactionOut, **WRITE_ERRORS})
def issue_to_province(request: HttpRequest, payload: IssueIn) -> Any:
    """签发至省级账户 (the allocation page's form): ``services.issue_to_province``; the ledger's
    refusal is 422."""
    require(request.user, "carbon.manage")
    form = IssueForm({"amount": payload.amount, "note": payload.note})
    problems = {**_year_problems(payload.year), **({} if form.is_valid() else _form_problems(form))}
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        tx = services.issue_to_province(
            year=payload.year,
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(201, _tx(tx))


def _visible_allocation(request: HttpRequest, allocation_id: int) -> AllocationProposal:
    require(request.user, "carbon.manage")
    proposal = _visible_allocations(request).filter(pk=allocation_id).first()
    if proposal is None:
        raise Http404
    return proposal


@router.post("/allocations/{allocation_id}/approve", response={200: AllocationOut, **WRITE_ERRORS})
def approve_allocation(request: HttpRequest, allocation_id: int) -> Any:
    """核定 a proposed allocation: ``services.approve_allocation``."""
    proposal = _visible_allocation(request, allocation_id)
    try:
        services.approve_allocation(proposal=proposal, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _allocation(_visible_allocation(request, allocation_id))


@router.post("/allocations/{allocation_id}/issue", response={200: AllocationOut, **WRITE_ERRORS})
def issue_allocation(request: HttpRequest, allocation_id: int) -> Any:
    """发放 an approved allocation to the unit's account: ``services.issue_allocation``; the
    ledger's refusal (e.g. the province's balance) is 422."""
    proposal = _visible_allocation(request, allocation_id)
    try:
        services.issue_allocation(proposal=proposal, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _allocation(_visible_allocation(request, allocation_id))


class ActionIn(Schema):
    """A compliance action (the compliance page's form): ``kind`` notice / fine / deduction …"""

    kind: str
    text: str
    amount: Decimal | None = None
    basis: str = ""


class ActionOut(Schema):
    id: int
    unit_uscc: str
    year: int
    kind: str
    amount: Decimal | None
    text: str
    basis: str
    decided_by: str | None
    decided_at: dt.datetime


@router.post("/compliance/{year}/units/{uscc}/actions", response={201: ActionOut, **WRITE_ERRORS})
def record_action(request: HttpRequest, year: int, uscc: str, payload: ActionIn) -> Any:
    """履约处理 of a unit in scope for ``year``: ``services.record_action``."""
    require(request.user, "carbon.manage")
    entity = access.visible_units(request.user).filter(uscc=uscc).first()
    if entity is None:
        raise Http404
    form = ActionForm(payload.dict())
    problems = {**_year_problems(year), **({} if form.is_valid() else _form_problems(form))}
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        action = services.record_action(
            entity=entity, year=year, user=request.user, **form.cleaned_data
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    action = ComplianceAction.objects.select_related("entity", "decided_by").get(pk=action.pk)
    return HttpStatus(
        201,
        {
            "id": action.pk,
            "unit_uscc": action.entity.uscc,
            "year": action.year,
            "kind": action.kind,
            "amount": action.amount,
            "text": action.text,
            "basis": action.basis,
            "decided_by": action.decided_by.username if action.decided_by_id else None,
            "decided_at": action.decided_at,
        },
    )


class PendingOut(Schema):
    id: int
    type: str
    status: str
    corrects: int | None
    note: str
    requested_by: str
    requested_at: dt.datetime


@router.post("/ledger/transactions/{seq}/correct", response={201: PendingOut, **WRITE_ERRORS})
def request_correction(request: HttpRequest, seq: int, payload: ReasonIn) -> Any:
    """更正 a transaction of the region's ledger: ``services.request_correction`` — a pending
    request that another person decides (``POST /pending/{pending_id}``, four-eyes)."""
    require(request.user, "carbon.manage")
    tx = (
        access.ledger_scope(request.user, LedgerTransaction.objects.all(), "entries__account")
        .filter(seq=seq)
        .first()
    )
    if tx is None:
        raise Http404
    try:
        pending = services.request_correction(tx=tx, reason=payload.reason, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201,
        {
            "id": pending.pk,
            "type": pending.type,
            "status": pending.status,
            "corrects": tx.seq,
            "note": pending.note,
            "requested_by": pending.requested_by.username,
            "requested_at": pending.requested_at,
        },
    )
