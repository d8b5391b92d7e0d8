"""REST endpoints of the rights app, scoped like the pages (:mod:`dualcontrol.access.rights`).

Lists (paginated querysets): holders with balances, open listings of the bulletin board, trades,
permits.  ``GET /prices``: the price statistics (aggregates).  Writes: a unit's listing and the
buyer's acceptance of a trade.
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

from dualcontrol.access import rights as access
from dualcontrol.access.rules import require
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.rights import queries, services
from dualcontrol.rights.models import Holder, Listing, ListingStatus, Permit

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
