"""Who files and reviews the government statistics tables (gate: ``statistics.file``).

A table's filers per level are data (``statistics_tables.yaml``); a city or county officer files
for its own division, province staff for the province; review is by the level above and never
by the one who submitted.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import (
    PROVINCE_ROLES,
    REGION_ROLES,
    in_region,
    in_user_region,
    province_of,
    role_of,
)
from dualcontrol.accounts.models import Role
from dualcontrol.regions.models import Division, Level
from dualcontrol.reporting.statistics_models import StatisticsReport, StatisticsStatus
from dualcontrol.reporting.statistics_tables import StatisticsTable


def can_file(user: Any, division: Division, table: StatisticsTable) -> bool:
    """The table's filers at the division's level; a city/county officer for its own division."""
    role = role_of(user)
    if division.level not in table.levels or role not in table.filers.get(division.level, ()):
        return False
    if role in PROVINCE_ROLES:
        return in_user_region(user, division)
    return role == Role.CITY_OFFICER and user.division_id == division.pk


def filing_divisions(user: Any, table: StatisticsTable) -> list[Division]:
    """The divisions ``user`` may file ``table`` for (province staff: the province)."""
    role = role_of(user)
    if role in PROVINCE_ROLES:
        province = province_of(user)
        candidates = [province] if province is not None else []
    elif role == Role.CITY_OFFICER and user.division_id:
        candidates = [user.division]
    else:
        return []
    return [d for d in candidates if can_file(user, d, table)]


def visible_filings(user: Any) -> QuerySet[StatisticsReport]:
    role = role_of(user)
    qs = StatisticsReport.objects.select_related("division", "submitted_by")
    if role in REGION_ROLES:
        return in_region(qs, user)
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(division__path__startswith=user.division.path)
    return qs.none()


def can_review(user: Any, report: StatisticsReport) -> bool:
    """The level above, never the one who submitted: a province administrator for the province's
    filing, province staff for a prefecture's, province staff or the city for a county's."""
    if not getattr(user, "is_authenticated", False) or report.submitted_by_id == user.pk:
        return False
    role = role_of(user)
    level = report.division.level
    if role in PROVINCE_ROLES and not in_user_region(user, report.division):
        return False
    if level == Level.PROVINCE:
        return role == Role.PROVINCE_ADMIN
    if role in PROVINCE_ROLES:
        return True
    return (
        level == Level.COUNTY
        and role == Role.CITY_OFFICER
        and user.division_id == report.division.parent_id
    )


def review_queue(user: Any) -> QuerySet[StatisticsReport]:
    """Submitted filings ``user`` reviews (the same rule as :func:`can_review`, as a query)."""
    role = role_of(user)
    qs = (
        visible_filings(user)
        .filter(status=StatisticsStatus.SUBMITTED)
        .exclude(submitted_by=user.pk if getattr(user, "pk", None) else None)
    )
    if role == Role.PROVINCE_ADMIN:
        return qs
    if role == Role.PROVINCE_OFFICER:
        return qs.exclude(division__level=Level.PROVINCE)
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(division__level=Level.COUNTY, division__parent_id=user.division_id)
    return qs.none()


def can_merge(user: Any, report: StatisticsReport) -> bool:
    """Province staff (or the filing's reviewers) retry merging held figures."""
    return report.held and may_merge(user, report)


def may_merge(user: Any, report: StatisticsReport) -> bool:
    """Whether ``user`` may retry merging a filing's figures (whether any are held or not)."""
    if role_of(user) in PROVINCE_ROLES:
        return in_user_region(user, report.division)
    return can_review(user, report)
