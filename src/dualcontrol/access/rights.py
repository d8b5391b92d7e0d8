"""Who sees and does what with rights and credits (gates ``rights.view``, ``rights.file``,
``rights.manage``).

- province administrator / officer: every holder, the region budgets, issuance, permits, credits,
  behaviours and the second approval of trades;
- city officer: holders whose region lies in its division (read-only);
- enterprise: its own unit's account — listings, trade requests and acceptance, surrender,
  cancellation, project cover by its own or traded rights;
- verifier: the holders of its assigned units (read-only);
- the bulletin board (open listings) is visible to every official role; the public page shows
  price statistics and carbon-inclusive totals only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import PROVINCE_ROLES, REGION_ROLES, in_region, role_of
from dualcontrol.accounts.models import Role
from dualcontrol.rights.models import Holder, Trade


def visible_holders(user: Any) -> QuerySet[Holder]:
    qs = Holder.objects.select_related("account", "entity", "division", "region")
    role = role_of(user)
    if role in REGION_ROLES:
        return in_region(qs, user, "division")
    if not allows(user, "rights.view"):
        return qs.none()
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        return qs.filter(division__path__startswith=user.division.path)
    if role == Role.ENTERPRISE and getattr(user, "entity_id", None):
        return qs.filter(entity_id=user.entity_id)
    if role == Role.VERIFIER:
        return qs.filter(entity__verifiers=user).distinct()
    return qs.none()


def visible_trades(user: Any) -> QuerySet[Trade]:
    qs = Trade.objects.select_related("seller", "buyer", "listing", "transaction")
    holders = visible_holders(user).values("pk")
    return qs.filter(Q(seller__in=holders) | Q(buyer__in=holders))


def sees_all(user: Any) -> bool:
    return role_of(user) in PROVINCE_ROLES


def can_manage(user: Any) -> bool:
    return allows(user, "rights.manage")


def can_file(user: Any, holder: Holder) -> bool:
    """A unit's own reporter acts on its account."""
    return (
        allows(user, "rights.file")
        and holder.entity_id is not None
        and getattr(user, "entity_id", None) == holder.entity_id
    )


def can_act(user: Any, holder: Holder) -> bool:
    """The holder's own unit, or the province (which acts for persons and organisations)."""
    return can_file(user, holder) or can_manage(user)
