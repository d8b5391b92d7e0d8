"""Read-only registry endpoints (scoped)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from dualcontrol.access.scope import visible_divisions, visible_entities
from dualcontrol.entities.models import Entity
from dualcontrol.pagination import Mapped, PageNumberPagination

router = Router(tags=["registries"])


class EntityOut(Schema):
    uscc: str
    name: str
    division_code: str
    division_name: str
    industry_code: str
    is_key_energy_unit: bool
    online_monitoring: bool
    is_synthetic: bool


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None


def _entity_out(e: Entity) -> dict[str, Any]:
    return {
        "uscc": e.uscc,
        "name": e.name,
        "division_code": e.division.code,
        "division_name": e.division.name,
        "industry_code": e.industry.code,
        "is_key_energy_unit": e.is_key_energy_unit,
        "online_monitoring": e.online_monitoring,
        "is_synthetic": e.is_synthetic,
    }


@router.get("/", response=list[EntityOut])
@paginate(PageNumberPagination, page_size=100)
def list_entities(request: HttpRequest, division: str | None = None, q: str | None = None) -> Any:
    qs = visible_entities(request.user)
    if division:
        qs = qs.filter(division__path__contains=f"{division}/")
    if q:
        qs = qs.filter(name__icontains=q)
    return Mapped(
        qs.select_related("division", "industry").order_by("division__code", "name", "pk"),
        _entity_out,
    )


@router.get("/divisions", response=list[DivisionOut])
def list_divisions(request: HttpRequest) -> Any:
    return [
        {
            "code": d.code,
            "name": d.name,
            "level": d.level,
            "parent_code": d.parent.code if d.parent else None,
        }
        for d in visible_divisions(request.user).select_related("parent")
    ]
