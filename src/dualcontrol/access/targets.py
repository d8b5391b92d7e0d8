"""Read-side access for targets, warnings, statistics and alerts (gate: ``targets.view``).

Province administrators and officers see and edit everything; a city officer sees its own
region and everything below it, reads the targets the province issued to it, and may decompose
its own city's targets (to counties) and edit the targets below its city; other roles see none
of this.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import (
    PROVINCE_ROLES,
    REGION_ROLES,
    in_region,
    in_user_region,
    region_root,
    role_of,
    visible_divisions,
    visible_entities,
)
from dualcontrol.accounts.models import Role
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import Alert, RegionalStatistic, Target, WarningRecord


def visible_targets(user: Any) -> QuerySet[Target]:
    qs = Target.objects.select_related("division", "entity", "entity__division", "industry")
    role = role_of(user)
    if role in REGION_ROLES:
        return in_region(qs, user, "division", "entity__division")
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(
            Q(division__in=visible_divisions(user)) | Q(entity__in=visible_entities(user))
        )
    return qs.none()


def visible_warnings(user: Any) -> QuerySet[WarningRecord]:
    return WarningRecord.objects.filter(target__in=visible_targets(user)).select_related(
        "division", "target", "rule_set"
    )


def visible_statistics(user: Any) -> QuerySet[RegionalStatistic]:
    return RegionalStatistic.objects.filter(division__in=visible_divisions(user)).select_related(
        "division"
    )


def alerts_for(user: Any) -> QuerySet[Alert]:
    if not allows(user, "targets.view"):
        return Alert.objects.none()
    return Alert.objects.filter(recipient=user).select_related("warning", "warning__division")


def is_province(user: Any) -> bool:
    return role_of(user) in PROVINCE_ROLES


def can_edit_target(user: Any, target: Target) -> bool:
    """Province staff edit any target of their province; a city officer the targets below its
    own city."""
    if is_province(user):
        return in_user_region(user, target.holder_division)
    if role_of(user) != Role.CITY_OFFICER or not user.division_id:
        return False
    holder = target.holder_division
    return holder.path.startswith(user.division.path) and (
        target.entity_id is not None or holder.pk != user.division_id
    )


def can_create_for(user: Any, division: Division | None, entity: Any = None) -> bool:
    if is_province(user):
        return in_user_region(user, entity.division if entity is not None else division)
    if role_of(user) != Role.CITY_OFFICER or not user.division_id:
        return False
    holder = entity.division if entity is not None else division
    if holder is None or not holder.path.startswith(user.division.path):
        return False
    return entity is not None or holder.pk != user.division_id


def can_decompose(user: Any, target: Target) -> bool:
    """Province staff decompose any regional target; a city officer its own city's targets."""
    if target.division_id is None:
        return False
    if is_province(user):
        return in_user_region(user, target.division)
    return role_of(user) == Role.CITY_OFFICER and target.division_id == user.division_id


def root_division(user: Any) -> Division | None:
    """The region a user's overview starts from: the province, or the officer's own city."""
    return region_root(user)
