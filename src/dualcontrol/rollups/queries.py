"""What dashboards read from the roll-ups: counts by status, the latest month, regions' rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import PeriodType, Status
from dualcontrol.rollups.models import ALL_SECTORS, DirtyYear, RegionMonth
from dualcontrol.rollups.services import STATUS_FIELD, marked_years, state


@dataclass(frozen=True)
class Freshness:
    """When the roll-ups were computed, and whether changes wait for the next run."""

    refreshed_at: dt.datetime | None
    waiting: bool


@dataclass(frozen=True)
class Period:
    year: int
    month: int

    @property
    def period_label(self) -> str:
        return f"{self.year}-{self.month:02d}"


def freshness() -> Freshness:
    st = state()
    return Freshness(st.refreshed_at if st else None, bool(marked_years()))


def roots(divisions: QuerySet[Division]) -> list[int]:
    """The ids of the highest divisions of a scope (its sums are theirs: the levels below are
    inside).  A list, not a subquery: the planner then reads the roll-up rows of those divisions
    through the index instead of scanning the table (issue 18)."""
    return list(divisions.exclude(parent__in=divisions).values_list("pk", flat=True))


def _all_sectors(division_ids: Any) -> QuerySet[RegionMonth]:
    return RegionMonth.objects.filter(division__in=division_ids, industry_code=ALL_SECTORS)


def status_counts(root_ids: list[int]) -> dict[str, int]:
    """Reports of every period in the scope (its :func:`roots`), by status (``Status`` values)."""
    sums = _all_sectors(root_ids).aggregate(
        **{status: Sum(field) for status, field in STATUS_FIELD.items()}
    )
    return {str(status): int(sums[status] or 0) for status in STATUS_FIELD}


def latest_accepted_month(root_ids: list[int]) -> Period | None:
    row = (
        _all_sectors(root_ids)
        .filter(period_type=PeriodType.MONTHLY, accepted_n__gt=0)
        .order_by("-year", "-month")
        .values_list("year", "month")
        .first()
    )
    return Period(*row) if row else None


def month_rows(
    divisions: QuerySet[Division], period: Period, *, industry: str = ALL_SECTORS
) -> dict[int, RegionMonth]:
    """Each division's monthly row for ``period`` (division id → row; absent: no reports)."""
    return {
        r.division_id: r
        for r in RegionMonth.objects.filter(
            division__in=divisions,
            industry_code=industry,
            period_type=PeriodType.MONTHLY,
            year=period.year,
            month=period.month,
        )
    }


__all__ = [
    "Freshness",
    "Period",
    "Status",
    "freshness",
    "latest_accepted_month",
    "month_rows",
    "report_count",
]


def report_count(
    divisions: QuerySet[Division],
    *,
    year: int | None = None,
    month: int | None = None,
    status: str | None = None,
    division_code: str | None = None,
) -> int | None:
    """How many reports a scope holds (``divisions``: the visible ones), filtered by period,
    status and division, from the roll-ups — when they are current (no year waits for its
    refresh), so the figure is exact.  None when the roll-ups cannot say: a year waits, a
    filter they do not hold, or a scope without divisions (a unit's own reports).

    A province's report list then counts one index range instead of every report (issue 18).
    """
    if DirtyYear.objects.exists():
        return None
    if division_code:
        top = list(divisions.filter(code=division_code).values_list("pk", flat=True))
        if not top:
            return None  # outside the scope (or unknown): the database answers (0)
    else:
        top = roots(divisions)
    if not top:
        return None
    rows = _all_sectors(top)
    if year is not None:
        rows = rows.filter(year=year)
    if month is not None:
        rows = rows.filter(period_type=PeriodType.MONTHLY, month=month)
    field = "reports_n" if status is None else STATUS_FIELD.get(status)  # type: ignore[call-overload]
    if field is None:
        return None
    return int(rows.aggregate(n=Sum(field))["n"] or 0)
