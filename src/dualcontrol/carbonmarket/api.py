"""REST endpoints of the carbon market, scoped like the pages (:mod:`dualcontrol.access.carbon`).

Lists (paginated): emitters, emission reports, accounts with balances, ledger transactions
(province), allocations (province), a year's compliance rows.  Writes: a unit's surrender and
transfer request, the province's four-eyes decision.  ``GET /ledger/verify`` recomputes the chain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import carbon as access
from dualcontrol.access.rules import require
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.models import (
    Account,
    AllocationProposal,
    LedgerTransaction,
    PendingRequest,
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
    """The whole ledger, newest first (province staff)."""
    require(request.user, "carbon.manage")
    qs = LedgerTransaction.objects.select_related("corrects").prefetch_related("entries__account")
    if type:
        qs = qs.filter(type=type)
    return Mapped(qs.order_by("-seq"), _tx)


@router.get("/ledger/verify", response=ChainOut)
def verify_chain(request: HttpRequest) -> Any:
    """Recompute the hash chain and double-entry sums (same as ``dualcontrol ledger verify``)."""
    require(request.user, "carbon.manage")
    return ledger.verify()


@router.get("/allocations", response=list[AllocationOut])
@paginate(PageNumberPagination, page_size=100)
def list_allocations(request: HttpRequest, year: int | None = None) -> Any:
    require(request.user, "carbon.manage")
    qs = AllocationProposal.objects.select_related("entity", "transaction").order_by(
        "-year", "entity__name", "pk"
    )
    if _year(year) is not None:
        qs = qs.filter(year=year)
    return Mapped(
        qs,
        lambda p: {
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
        },
    )


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
    pending = PendingRequest.objects.filter(pk=pending_id).first()
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
