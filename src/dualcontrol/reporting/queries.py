"""Read-side queries, always through the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import PROVINCE_ROLES, role_of, visible_entities
from dualcontrol.reporting.models import EnergyReport, Status


def visible_reports(user: Any) -> QuerySet[EnergyReport]:
    """The reports of the units the user sees.  Province-wide users see every unit, so their
    queries carry no unit filter: a list's count is then the table's, without a join to every
    unit (issue 18: the join made each page read the whole table twice)."""
    if role_of(user) in PROVINCE_ROLES:
        return EnergyReport.objects.all()
    return EnergyReport.objects.filter(entity__in=visible_entities(user))


def review_queue(user: Any) -> QuerySet[EnergyReport]:
    from dualcontrol.access.scope import reviews_reports

    if not reviews_reports(user):
        return EnergyReport.objects.none()
    return (
        visible_reports(user)
        .filter(status=Status.SUBMITTED)
        .select_related("entity", "entity__division")
        .order_by("updated")
    )
