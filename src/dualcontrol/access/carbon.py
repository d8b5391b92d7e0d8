"""Who sees and does what in the carbon market (gates: ``carbon.view``, ``carbon.file``,
``carbon.verify``, ``carbon.manage``).

- province administrator / officer: every emitter, account, report and the ledger; keeps the list,
  assigns verifiers, reviews reports, allocates and issues, approves four-eyes requests;
- city officer: emitters, reports and accounts of units in its division (read-only);
- enterprise reporter: its own unit — report, account, transfers and surrender;
- verifier: the reports assigned to it, and their units;
- public: the published compliance table only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import (
    REGION_ROLES,
    in_region,
    region_path,
    role_of,
    visible_entities,
    whole_installation,
)
from dualcontrol.accounts.models import Role
from dualcontrol.carbonmarket.models import Account, EmissionReport, Emitter
from dualcontrol.entities.models import Entity


def visible_units(user: Any) -> QuerySet[Entity]:
    """Units whose carbon-market data the user may read."""
    if role_of(user) == Role.VERIFIER:
        return Entity.objects.filter(
            Q(verifiers=user) | Q(emission_reports__verifier=user)
        ).distinct()
    return visible_entities(user)


def visible_reports(user: Any) -> QuerySet[EmissionReport]:
    qs = EmissionReport.objects.select_related("entity", "entity__division", "verifier")
    role = role_of(user)
    if role in REGION_ROLES:
        return in_region(qs, user, "entity__division")
    if role == Role.VERIFIER:
        return qs.filter(verifier=user)
    if not allows(user, "carbon.view"):
        return qs.none()
    return qs.filter(entity__in=visible_entities(user).values("pk"))


def visible_emitters(user: Any) -> QuerySet[Emitter]:
    qs = Emitter.objects.select_related("entity", "entity__division")
    if role_of(user) in REGION_ROLES:
        return in_region(qs, user, "entity__division")
    if not allows(user, "carbon.view"):
        return qs.none()
    return qs.filter(entity__in=visible_units(user).values("pk"))


def visible_accounts(user: Any) -> QuerySet[Account]:
    qs = Account.objects.select_related("entity", "division")
    if role_of(user) in REGION_ROLES:
        return in_region(qs, user, "entity__division", "division")
    if not allows(user, "carbon.view"):
        return qs.none()
    return qs.filter(entity__in=visible_units(user).values("pk"))


def sees_ledger(user: Any) -> bool:
    """The ledger (transactions, pending approvals, the chain) of the accounts in the user's
    region: province staff and the national level."""
    return role_of(user) in REGION_ROLES


def can_file(user: Any, entity: Entity) -> bool:
    """The unit's own reporter writes its report, asks transfers and surrenders."""
    return allows(user, "carbon.file") and getattr(user, "entity_id", None) == entity.pk


def can_verify(user: Any, report: EmissionReport) -> bool:
    return allows(user, "carbon.verify") and report.verifier_id == getattr(user, "pk", None)


def can_manage(user: Any) -> bool:
    return allows(user, "carbon.manage")


def ledger_scope(user: Any, qs: QuerySet[Any], *accounts: str) -> QuerySet[Any]:
    """Ledger rows (transactions, pending requests) that touch an account of the user's region;
    ``accounts`` name the rows' account lookups. Nothing is filtered while the installation
    holds only the user's province (the whole ledger is then its own)."""
    path = region_path(user)
    if path is None:
        return qs.none()
    if path == "" or whole_installation(path):
        return qs
    mine = visible_accounts(user).values("pk")
    cond = Q()
    for lookup in accounts:
        cond |= Q(**{f"{lookup}__in": mine})
    return qs.filter(cond).distinct()


def visible_pending(user: Any) -> QuerySet[Any]:
    """Pending ledger requests of the user's region: a transfer or issue touching one of its
    accounts, or a correction of one of its transactions (no account of its own)."""
    from dualcontrol.carbonmarket.models import PendingRequest

    return ledger_scope(
        user,
        PendingRequest.objects.all(),
        "from_account",
        "to_account",
        "corrects__entries__account",
    )
