"""Read-side queries, always through the user's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import in_region, is_regional, visible_entities
from dualcontrol.reporting.models import EnergyReport, Status


def visible_reports(user: Any) -> QuerySet[EnergyReport]:
    """The reports of the units the user sees.  Region-wide users get a filter on the units'
    division path only when the installation holds more than their province, so a one-province
    list's count is the table's, without a join to every unit (issue 18: the join made each page
    read the whole table twice)."""
    if is_regional(user):
        return in_region(EnergyReport.objects.all(), user, "entity__division")
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


def known_report_count(user: Any, f: Mapping[str, str]) -> int | None:
    """The number of the user's reports under the list filters ``f`` (year, month, status,
    division, q) from the current roll-ups, or None when the database must count."""
    from dualcontrol.access.scope import visible_divisions
    from dualcontrol.rollups.queries import report_count

    year, month = f.get("year", ""), f.get("month", "")
    status = f.get("status", "")
    if f.get("q") or (status and status not in Status.values):
        return None  # a unit's own scope has no divisions: report_count says None
    division = f.get("division", "")
    return report_count(
        visible_divisions(user),
        year=int(year) if year.isdigit() else None,
        month=int(month) if month.isdigit() else None,
        status=status if status in Status.values else None,
        division_code=division if division.isdigit() else None,
    )
