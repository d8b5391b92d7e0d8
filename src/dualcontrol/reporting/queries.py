"""Read-side queries, always through the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import visible_entities
from dualcontrol.reporting.models import EnergyReport, Status


def visible_reports(user: Any) -> QuerySet[EnergyReport]:
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
