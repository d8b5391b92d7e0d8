"""Online exchange between platforms: a peer posts a package; the log is listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.exchange import services
from dualcontrol.exchange.models import PackageRecord
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["exchange"])


class RecordOut(Schema):
    id: int
    direction: str
    package_id: str
    sender_code: str
    recipient_code: str
    sequence: int | None
    year: int | None
    outcome: str
    reason: str
    counts: dict[str, int]
    applied: dict[str, Any]
    at: dt.datetime


def _out(r: PackageRecord) -> dict[str, Any]:
    return {
        "id": r.pk,
        "direction": r.direction,
        "package_id": r.package_id,
        "sender_code": r.sender_code,
        "recipient_code": r.recipient_code,
        "sequence": r.sequence,
        "year": r.year,
        "outcome": r.outcome,
        "reason": r.reason,
        "counts": r.counts or {},
        "applied": r.applied or {},
        "at": r.at,
    }


@router.post("/packages", response={200: RecordOut, 422: RecordOut})
def receive(request: HttpRequest) -> Any:
    """A peer platform posts one package (the JSON document as the request body); a refused
    package answers 422 with the reason, a duplicate 200 with outcome ``duplicate``."""
    require(request.user, "exchange.manage")
    try:
        rec = services.import_package(data=request.body, user=request.user)
    except ValidationError as exc:  # e.g. this platform has no divisions yet
        return HttpStatus(422, {**_blank(), "reason": "; ".join(exc.messages)})
    return HttpStatus(422 if rec.outcome == "refused" else 200, _out(rec))


def _blank() -> dict[str, Any]:
    return {
        "id": 0,
        "direction": "in",
        "package_id": "",
        "sender_code": "",
        "recipient_code": "",
        "sequence": None,
        "year": None,
        "outcome": "refused",
        "reason": "",
        "counts": {},
        "applied": {},
        "at": dt.datetime.now(dt.UTC),
    }


@router.get("/packages", response=list[RecordOut])
@paginate(PageNumberPagination, page_size=100)
def packages(request: HttpRequest, direction: str | None = None) -> Any:
    """Every package exported or received, newest first."""
    require(request.user, "exchange.manage")
    qs = PackageRecord.objects.all().order_by("-at", "-pk")
    if direction in ("in", "out"):
        qs = qs.filter(direction=direction)
    return Mapped(qs, _out)
