"""REST endpoints of the rights app, scoped like the pages (:mod:`dualcontrol.access.rights`).

Lists (paginated querysets): holders with balances, open listings of the bulletin board, trades,
permits.  ``GET /prices``: the price statistics (aggregates).  Writes: a unit's listing and the
buyer's acceptance of a trade; the holder page's 清缴 / 注销 / 兑换, the energy page's 预算 / 分配 /
抵扣 / 履约, the emissions page's 许可 / 分配 / 履约 and the credits page's 个人 / 行为 / 签发.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.pagination import paginate

from dualcontrol.access import rights as access
from dualcontrol.access.rules import require
from dualcontrol.access.scope import visible_entities
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.audit.services import snapshot
from dualcontrol.entities.models import Entity
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.reference.rights import rights_rules
from dualcontrol.regions.models import Division
from dualcontrol.rights import queries, services
from dualcontrol.rights.models import CreditProject, Holder, Listing, ListingStatus, Permit

router = Router(tags=["rights"])


class HolderOut(Schema):
    id: int
    account: str
    kind: str
    name: str
    unit_uscc: str | None
    region_code: str
    balances: dict[str, float]


class ListingOut(Schema):
    id: int
    side: str
    unit_type: str
    vintage: int | None
    quantity: float
    price_yuan: float
    region_code: str
    account: str
    created_at: dt.datetime


class TradeOut(Schema):
    id: int
    unit_type: str
    vintage: int | None
    quantity: float
    price_yuan: float
    seller: str
    buyer: str
    status: str
    executed_on: dt.date | None
    transaction: int | None


class PermitOut(Schema):
    id: int
    unit_uscc: str
    permit_number: str
    unit_type: str
    permitted_t_per_year: float
    valid_from: dt.date
    valid_to: dt.date


class PriceOut(Schema):
    unit_type: str
    month: str
    trades: int
    volume: float
    average: float
    minimum: float
    maximum: float


class ListingIn(Schema):
    side: str
    unit_type: str
    vintage: int | None = None
    quantity: Decimal
    price_yuan: Decimal
    note: str = ""


class ResultOut(Schema):
    status: str
    id: int | None = None
    reason: str | None = None


@router.get("/holders", response=list[HolderOut])
@paginate(PageNumberPagination, page_size=100)
def list_holders(request: HttpRequest, kind: str | None = None) -> Any:
    """Rights accounts in scope with their balances."""
    require(request.user, "rights.view")
    qs = access.visible_holders(request.user).order_by("account__code", "pk")
    if kind:
        qs = qs.filter(kind=kind)

    def shape(rows: list[Holder]) -> list[dict[str, Any]]:
        bal = queries.balances(rows)
        return [
            {
                "id": h.pk,
                "account": h.account.code,
                "kind": h.kind,
                "name": h.name,
                "unit_uscc": h.entity.uscc if h.entity_id else None,
                "region_code": h.region.code,
                "balances": {u: float(v) for u, v in bal[h.pk].items()},
            }
            for h in rows
        ]

    return Mapped(qs, per_page=shape)


@router.get("/listings", response=list[ListingOut])
@paginate(PageNumberPagination, page_size=100)
def list_listings(request: HttpRequest, unit_type: str | None = None) -> Any:
    """Open offers and bids of the bulletin board."""
    require(request.user, "rights.view")
    qs = (
        Listing.objects.filter(status=ListingStatus.OPEN)
        .select_related("division", "holder__account")
        .order_by("-created_at", "-pk")
    )
    if unit_type:
        qs = qs.filter(unit_type=unit_type)
    return Mapped(
        qs,
        lambda lst: {
            "id": lst.pk,
            "side": lst.side,
            "unit_type": lst.unit_type,
            "vintage": lst.vintage,
            "quantity": float(lst.quantity),
            "price_yuan": float(lst.price_yuan),
            "region_code": lst.division.code,
            "account": lst.holder.account.code,
            "created_at": lst.created_at,
        },
    )


@router.get("/trades", response=list[TradeOut])
@paginate(PageNumberPagination, page_size=100)
def list_trades(request: HttpRequest, status: str | None = None) -> Any:
    require(request.user, "rights.view")
    qs = (
        access.visible_trades(request.user)
        .select_related("seller__account", "buyer__account")
        .order_by("-requested_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    return Mapped(
        qs,
        lambda t: {
            "id": t.pk,
            "unit_type": t.unit_type,
            "vintage": t.vintage,
            "quantity": float(t.quantity),
            "price_yuan": float(t.price_yuan),
            "seller": t.seller.account.code,
            "buyer": t.buyer.account.code,
            "status": t.status,
            "executed_on": t.executed_on,
            "transaction": t.transaction.seq if t.transaction_id else None,
        },
    )


@router.get("/permits", response=list[PermitOut])
@paginate(PageNumberPagination, page_size=100)
def list_permits(request: HttpRequest) -> Any:
    require(request.user, "rights.view")
    entities = access.visible_holders(request.user).exclude(entity__isnull=True)
    qs = (
        Permit.objects.filter(entity__in=entities.values("entity_id"))
        .select_related("entity")
        .order_by("entity__name", "unit_type", "pk")
    )
    return Mapped(
        qs,
        lambda p: {
            "id": p.pk,
            "unit_uscc": p.entity.uscc,
            "permit_number": p.permit_number,
            "unit_type": p.unit_type,
            "permitted_t_per_year": float(p.permitted_t_per_year),
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
        },
    )


@router.get("/prices", response=dict[str, list[PriceOut]])
def prices(request: HttpRequest) -> Any:
    """Price statistics per unit type and month (volume-weighted average, min, max)."""
    require(request.user, "rights.view")
    return {
        "rows": [
            {
                "unit_type": r.unit_type,
                "month": r.month,
                "trades": r.trades,
                "volume": float(r.volume),
                "average": float(r.average),
                "minimum": float(r.minimum),
                "maximum": float(r.maximum),
            }
            for r in queries.price_rows()
        ]
    }


@router.post("/listings", response={200: ResultOut, 403: ResultOut, 422: ResultOut})
def post_listing(request: HttpRequest, body: ListingIn) -> Any:
    """An offer or bid of the caller's own unit."""
    require(request.user, "rights.file")
    holder = services.holder_for_user(request.user)
    if holder is None:
        return HttpStatus(403, {"status": "refused", "reason": "no rights account"})
    try:
        listing = services.post_listing(
            holder=holder,
            side=body.side,
            unit_type=body.unit_type,
            vintage=body.vintage,
            quantity=body.quantity,
            price_yuan=body.price_yuan,
            note=body.note,
            user=request.user,
        )
    except ValidationError as exc:
        return HttpStatus(422, {"status": "refused", "reason": "; ".join(exc.messages)})
    return HttpStatus(200, {"status": "open", "id": listing.pk})


@router.post("/trades/{trade_id}/accept", response={200: ResultOut, 403: ResultOut, 422: ResultOut})
def accept(request: HttpRequest, trade_id: int) -> Any:
    """The buyer confirms an agreed trade."""
    require(request.user, "rights.file")
    trade = access.visible_trades(request.user).filter(pk=trade_id).first()
    if trade is None:
        raise HttpError(404, "not found")
    try:
        done = services.accept_trade(trade=trade, user=request.user)
    except PermissionDenied as exc:
        return HttpStatus(403, {"status": "refused", "reason": str(exc)})
    except ValidationError as exc:
        return HttpStatus(422, {"status": "refused", "reason": "; ".join(exc.messages)})
    return HttpStatus(200, {"status": done.status, "id": done.pk})


# --------------------------------------------------------------------------------------------
# the pages' writes (持有人, 用能权, 排污权, 碳普惠): the same services, rules, scope and audit;
# refusals in the one problem-list shape (403 rule or holder, 404 outside the scope, 409 the
# state, 422 every problem); docs/api.md lists each page write's operation

#: a quantity as a number or as text (the services parse it and list a bad one as a problem)
Amount = Decimal | str


class RecordOut(Schema):
    """What a write recorded: the row (``fields``, as in its audit entry), the account it is
    booked to and the ledger transaction (``transaction``: its sequence number) where there is one."""

    id: int
    record: str
    account: str | None
    year: int | None
    unit_type: str
    amount: float | None
    transaction: int | None
    fields: dict[str, Any]


def _record(
    row: Any,
    *,
    holder: Holder | None,
    year: int | None,
    unit_type: str,
    amount: Any,
    tx: Any = None,
) -> dict[str, Any]:
    tx = tx if tx is not None else getattr(row, "transaction", None)
    return {
        "id": row.pk,
        "record": row._meta.model_name,
        "account": holder.account.code if holder is not None else None,
        "year": year,
        "unit_type": unit_type,
        "amount": None if amount is None else float(amount),
        "transaction": tx.seq if tx is not None else None,
        "fields": snapshot(row),
    }


def _refused(exc: Exception) -> Any:
    if isinstance(exc, PermissionDenied):
        return refusal(403, str(exc) or _("无权操作"))
    assert isinstance(exc, ValidationError)
    status = 409 if isinstance(exc, services.WrongState) else 422
    return refusal(status, "; ".join(exc.messages), cells=exc.messages)


def _year_problem(year: int) -> dict[str, str]:
    return {} if 2000 <= year <= 2100 else {"year": _("年度 %(v)s 无效") % {"v": year}}


def _entity(request: HttpRequest, uscc: str, problems: dict[str, str]) -> Entity | None:
    """The unit of ``uscc`` in the caller's scope (a problem of field ``entity`` otherwise)."""
    entity = visible_entities(request.user).filter(uscc=(uscc or "").strip()).first()
    if entity is None:
        problems["entity"] = _("未找到该统一社会信用代码的单位")
    return entity


def _division(code: str, problems: dict[str, str]) -> Division | None:
    division = Division.objects.filter(code=(code or "").strip()).order_by("-valid_from").first()
    if division is None:
        problems["division"] = _("未知地区代码“%(v)s”") % {"v": code}
    return division


def _acting_holder(request: HttpRequest, holder_id: int) -> Holder | Any:
    """The holder page's scope (404) and its check for a POST (the unit itself or the province)."""
    require(request.user, "rights.view")
    h = access.visible_holders(request.user).filter(pk=holder_id).first()
    if h is None:
        raise HttpError(404, "not found")
    if not access.can_act(request.user, h):
        return refusal(403, _("无权操作该账户"))
    return h


# ----------------------------------------------------------------------------- 持有人


class SurrenderIn(Schema):
    unit_type: str
    vintage: int | None = None
    year: int
    amount: Amount


@router.post("/holders/{holder_id}/surrender", response={200: RecordOut, **WRITE_ERRORS})
def surrender(request: HttpRequest, holder_id: int, body: SurrenderIn) -> Any:
    """清缴 toward the holder's obligation of ``year`` (the holder page): ``services.surrender``."""
    h = _acting_holder(request, holder_id)
    if not isinstance(h, Holder):
        return h
    try:
        tx = services.surrender(
            holder=h,
            unit_type=body.unit_type,
            vintage=body.vintage,
            year=body.year,
            amount=body.amount,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return _record(
        tx, holder=h, year=body.year, unit_type=body.unit_type, amount=body.amount, tx=tx
    )


class CancelIn(Schema):
    vintage: int
    year: int
    amount_mwh: Amount


@router.post("/holders/{holder_id}/cancel-certificates", response={201: RecordOut, **WRITE_ERRORS})
def cancel_certificates(request: HttpRequest, holder_id: int, body: CancelIn) -> Any:
    """注销绿证 for the electricity use of ``year`` (the holder page):
    ``services.cancel_certificates``."""
    h = _acting_holder(request, holder_id)
    if not isinstance(h, Holder):
        return h
    try:
        row = services.cancel_certificates(
            holder=h,
            vintage=body.vintage,
            amount_mwh=body.amount_mwh,
            year=body.year,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201, _record(row, holder=h, year=row.year, unit_type="GEC", amount=row.amount_mwh)
    )


class RedeemIn(Schema):
    unit_type: str = "PHP"
    vintage: int | None = None
    amount: Amount
    purpose: str


@router.post("/holders/{holder_id}/redeem", response={201: RecordOut, **WRITE_ERRORS})
def redeem(request: HttpRequest, holder_id: int, body: RedeemIn) -> Any:
    """兑换 (自愿注销) of points or credits (the holder page): ``services.redeem``."""
    h = _acting_holder(request, holder_id)
    if not isinstance(h, Holder):
        return h
    try:
        row = services.redeem(
            holder=h,
            unit_type=body.unit_type,
            vintage=body.vintage,
            amount=body.amount,
            purpose=body.purpose,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201, _record(row, holder=h, year=body.vintage, unit_type=row.unit_type, amount=row.amount)
    )


# ----------------------------------------------------------------------------- 用能权


class BudgetIn(Schema):
    division: str
    year: int
    budget_tce: Amount
    basis: str


@router.post("/energy/budgets", response={201: RecordOut, **WRITE_ERRORS})
def set_energy_budget(request: HttpRequest, body: BudgetIn) -> Any:
    """用能预算 of a region for a year (the energy page 预算): ``services.set_energy_budget``;
    a budget already set is refused with 409."""
    require(request.user, "rights.manage")
    problems = _year_problem(body.year)
    division = _division(body.division, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.set_energy_budget(
            division=division,
            year=body.year,
            budget_tce=body.budget_tce,
            basis=body.basis,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201, _record(row, holder=None, year=row.year, unit_type="EUR", amount=row.budget_tce)
    )


class GrantIn(Schema):
    """``entity`` a USCC; ``kind`` existing (存量) or increment (增量)."""

    entity: str
    year: int
    kind: str
    amount_tce: Amount
    basis: str


@router.post("/energy/rights", response={201: RecordOut, **WRITE_ERRORS})
def grant_energy_rights(request: HttpRequest, body: GrantIn) -> Any:
    """用能权确权 (the energy page 分配): ``services.grant_energy_rights``."""
    require(request.user, "rights.manage")
    problems = _year_problem(body.year)
    entity = _entity(request, body.entity, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.grant_energy_rights(
            entity=entity,
            year=body.year,
            kind=body.kind,
            amount_tce=body.amount_tce,
            basis=body.basis,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201, _record(row, holder=row.holder, year=row.year, unit_type="EUR", amount=row.amount_tce)
    )


class CoverIn(Schema):
    """A new project's energy covered by rights: ``method`` purchase (bought from the province,
    the page's default) or replacement (the unit's own rights)."""

    entity: str
    project_ref: str
    project_name: str
    year: int
    energy_tce: Amount
    method: str = "purchase"


@router.post("/energy/covers", response={201: RecordOut, **WRITE_ERRORS})
def cover_project(request: HttpRequest, body: CoverIn) -> Any:
    """项目用能权 (the energy page 抵扣): ``services.cover_project``."""
    require(request.user, "rights.manage")
    problems = _year_problem(body.year)
    entity = _entity(request, body.entity, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.cover_project(
            entity=entity,
            project_ref=body.project_ref,
            project_name=body.project_name,
            year=body.year,
            energy_tce=body.energy_tce,
            method=body.method,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    tx = row.right.transaction if row.right_id else None
    return HttpStatus(
        201,
        _record(
            row, holder=row.holder, year=row.year, unit_type="EUR", amount=row.energy_tce, tx=tx
        ),
    )


class EnergyObligationIn(Schema):
    """``reported_tce``: the province's figure where the unit has no accepted 205-1 year."""

    entity: str
    year: int
    reported_tce: Amount | None = None


def _obligation(row: Any) -> dict[str, Any]:
    ob = row.obligation
    return _record(row, holder=row.holder, year=ob.year, unit_type=ob.unit_type, amount=ob.amount)


@router.post("/energy/obligations", response={201: RecordOut, **WRITE_ERRORS})
def record_energy_obligation(request: HttpRequest, body: EnergyObligationIn) -> Any:
    """应清缴用能权 of a unit for a year (the energy page 履约):
    ``services.record_energy_obligation``."""
    require(request.user, "rights.manage")
    problems = _year_problem(body.year)
    entity = _entity(request, body.entity, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.record_energy_obligation(
            entity=entity,
            year=body.year,
            reported_tce=body.reported_tce,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(201, _obligation(row))


# ----------------------------------------------------------------------------- 排污权


class PermitIn(Schema):
    entity: str
    permit_number: str
    unit_type: str
    permitted_t_per_year: Amount
    valid_from: dt.date
    valid_to: dt.date


@router.post("/emissions/permits", response={201: PermitOut, **WRITE_ERRORS})
def record_permit(request: HttpRequest, body: PermitIn) -> Any:
    """排污许可 (the emissions page 许可): ``services.record_permit``."""
    require(request.user, "rights.manage")
    problems: dict[str, str] = {}
    entity = _entity(request, body.entity, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        p = services.record_permit(
            entity=entity,
            permit_number=body.permit_number,
            unit_type=body.unit_type,
            permitted_t_per_year=body.permitted_t_per_year,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201,
        {
            "id": p.pk,
            "unit_uscc": p.entity.uscc,
            "permit_number": p.permit_number,
            "unit_type": p.unit_type,
            "permitted_t_per_year": float(p.permitted_t_per_year),
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
        },
    )


class YearIn(Schema):
    year: int


@router.post("/emissions/permits/{permit_id}/allocate", response={201: RecordOut, **WRITE_ERRORS})
def allocate_emission_rights(request: HttpRequest, permit_id: int, body: YearIn) -> Any:
    """排污权分配 of a permit for a year (the emissions page 分配):
    ``services.allocate_emission_rights``; a year already allocated is refused with 409."""
    require(request.user, "rights.manage")
    permit = (
        Permit.objects.filter(entity__in=visible_entities(request.user), pk=permit_id)
        .select_related("entity")
        .first()
    )
    if permit is None:
        raise HttpError(404, "not found")
    problems = _year_problem(body.year)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.allocate_emission_rights(permit=permit, year=body.year, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201,
        _record(
            row, holder=row.holder, year=row.year, unit_type=row.unit_type, amount=row.amount_t
        ),
    )


class EmissionObligationIn(Schema):
    """``reported_t``: the reported emissions where the outlet is not monitored."""

    entity: str
    unit_type: str
    year: int
    reported_t: Amount | None = None


@router.post("/emissions/obligations", response={201: RecordOut, **WRITE_ERRORS})
def record_emission_obligation(request: HttpRequest, body: EmissionObligationIn) -> Any:
    """应清缴排污权 of a unit, pollutant and year (the emissions page 履约):
    ``services.record_emission_obligation``."""
    require(request.user, "rights.manage")
    problems = _year_problem(body.year)
    entity = _entity(request, body.entity, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        row = services.record_emission_obligation(
            entity=entity,
            unit_type=body.unit_type,
            year=body.year,
            reported_t=body.reported_t,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(201, _obligation(row))


# ----------------------------------------------------------------------------- 碳普惠


class PersonIn(Schema):
    """A carbon-inclusive account: ``person_ref`` letters, digits, hyphens (1–20);
    ``organisation`` for an organisation's account."""

    name: str
    person_ref: str
    division: str
    organisation: bool = False


@router.post("/credits/accounts", response={201: HolderOut, **WRITE_ERRORS})
def open_person(request: HttpRequest, body: PersonIn) -> Any:
    """开立碳普惠账户 (the credits page 个人): ``services.open_person``."""
    require(request.user, "rights.manage")
    problems: dict[str, str] = {}
    division = _division(body.division, problems)
    if problems:
        return refusal(422, _("未保存"), fields=problems)
    try:
        h = services.open_person(
            name=body.name,
            person_ref=body.person_ref,
            division=division,
            organisation=body.organisation,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    bal = queries.balances([h])
    return HttpStatus(
        201,
        {
            "id": h.pk,
            "account": h.account.code,
            "kind": h.kind,
            "name": h.name,
            "unit_uscc": None,
            "region_code": h.region.code,
            "balances": {u: float(v) for u, v in bal[h.pk].items()},
        },
    )


class BehaviourIn(Schema):
    """A low-carbon behaviour of ``account`` (a PH- account): ``code`` of the rules, ``quantity``
    in the behaviour's unit, ``day`` (default today)."""

    account: str
    code: str
    quantity: Amount
    day: dt.date | None = None


@router.post("/credits/behaviours", response={201: RecordOut, **WRITE_ERRORS})
def record_behaviour(request: HttpRequest, body: BehaviourIn) -> Any:
    """低碳行为 → 积分 (the credits page 行为): ``services.record_behaviour``."""
    require(request.user, "rights.manage")
    h = access.visible_holders(request.user).filter(account__code=body.account.strip()).first()
    if h is None:
        return refusal(
            422, "未保存", fields={"account": _("未找到账户“%(v)s”") % {"v": body.account}}
        )
    try:
        row = services.record_behaviour(
            holder=h,
            code=body.code,
            quantity=body.quantity,
            day=body.day or timezone.localdate(),
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    return HttpStatus(
        201, _record(row, holder=h, year=row.day.year, unit_type="PHP", amount=row.points)
    )


class IssueIn(Schema):
    vintage: int
    verified_t: Amount
    verifier: str


@router.post("/credits/projects/{project_id}/issue", response={200: RecordOut, **WRITE_ERRORS})
def issue_credits(request: HttpRequest, project_id: int, body: IssueIn) -> Any:
    """核证签发 of a registered carbon-sink or carbon-inclusive project (the credits page 签发):
    ``services.issue_credits``; a project already issued is refused with 409."""
    require(request.user, "rights.manage")
    project = (
        CreditProject.objects.filter(holder__in=access.visible_holders(request.user), pk=project_id)
        .select_related("holder__account")
        .first()
    )
    if project is None:
        raise HttpError(404, "not found")
    try:
        row = services.issue_credits(
            project=project,
            vintage=body.vintage,
            verified_t=body.verified_t,
            verifier=body.verifier,
            user=request.user,
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    unit_type = rights_rules().methodologies[row.methodology].unit_type
    return _record(
        row, holder=row.holder, year=row.vintage, unit_type=unit_type, amount=row.verified_t
    )
