"""Working days (工作日) under China's public holidays and adjusted working days (调休).

Every year the State Council General Office publishes which days are 放假 and which weekend days are
worked instead (调休上班).  A :class:`WorkCalendar` holds those days for the years whose notice is in
the reference data (``reference/data/holidays_cn.csv``); a day is a working day when

* it is a listed 调休上班 day (always a Saturday or Sunday), or else
* it is not a listed holiday and it is Monday–Friday.

Outside the covered years nothing is known about holidays: the calendar falls back to Monday–Friday
and says so (:meth:`WorkCalendar.covers`, :meth:`WorkCalendar.covers_span`), so that a caller can show
that a deadline is only an estimate.

Pure functions over plain values; the loader is :mod:`dualcontrol.reference.workcalendar`.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

ONE_DAY = dt.timedelta(days=1)


class WorkCalendarError(ValueError):
    """The calendar rows are inconsistent (lists every problem)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # 放假 (a weekday, or a weekend day inside a holiday period)
    WORKDAY = "workday"  # 调休上班 (a Saturday or Sunday worked)


@dataclass(frozen=True)
class CalendarDay:
    """One row of the reference data: a day that the notice of ``year`` sets."""

    day: dt.date
    kind: DayKind
    name: str  # 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节 (or the notice's combined name)
    year: int  # the year of the notice (a 元旦 period may start in December of the year before)
    notice: str  # the notice's document number, e.g. 国办发明电〔2024〕12号


def is_weekday(day: dt.date) -> bool:
    """Monday–Friday."""
    return day.weekday() < 5


def weekdays_between(start: dt.date, end: dt.date) -> int:
    """Monday–Friday days d with start < d <= end (0 when end <= start)."""
    if end <= start:
        return 0
    weeks, rest = divmod((end - start).days, 7)
    n = weeks * 5
    for k in range(1, rest + 1):
        if is_weekday(start + dt.timedelta(days=weeks * 7 + k)):
            n += 1
    return n


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and adjusted working days of the covered years, with Monday–Friday elsewhere.

    ``holidays`` and ``workdays`` are disjoint; every workday is a Saturday or Sunday
    (:func:`build_calendar` checks both).  ``version`` names the data that built it and ``source``
    is a short citation a page can show next to a deadline.
    """

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()
    version: str = ""
    source: str = ""
    _off_weekdays: tuple[dt.date, ...] = field(init=False, repr=False, compare=False)
    _on_weekends: tuple[dt.date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise WorkCalendarError(
                [f"{d.isoformat()} is both a holiday and a workday" for d in sorted(both)]
            )
        object.__setattr__(
            self, "_off_weekdays", tuple(sorted(d for d in self.holidays if is_weekday(d)))
        )
        object.__setattr__(
            self, "_on_weekends", tuple(sorted(d for d in self.workdays if not is_weekday(d)))
        )

    @classmethod
    def weekdays_only(cls) -> WorkCalendar:
        """No covered year: Monday–Friday everywhere (every result is flagged as a fallback)."""
        return cls(source="Monday–Friday (no holiday data)")

    # ---- coverage ---------------------------------------------------------------------------

    def covers(self, day: dt.date) -> bool:
        """True when ``day``'s year has its holiday notice in the data."""
        return day.year in self.years

    def covers_span(self, start: dt.date, end: dt.date) -> bool:
        """True when every year from ``start`` to ``end`` (either order) is covered."""
        lo, hi = min(start, end), max(start, end)
        return all(y in self.years for y in range(lo.year, hi.year + 1))

    def uncovered_years(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """The years from ``start`` to ``end`` (either order) that fall back to Monday–Friday."""
        lo, hi = min(start, end), max(start, end)
        return tuple(y for y in range(lo.year, hi.year + 1) if y not in self.years)

    @property
    def first_year(self) -> int | None:
        return min(self.years) if self.years else None

    @property
    def last_year(self) -> int | None:
        return max(self.years) if self.years else None

    # ---- working days -----------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """A listed 调休上班 day, or Monday–Friday that is not a listed holiday."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return is_weekday(day)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (0 when end <= start)."""
        if end <= start:
            return 0

        def within(days: tuple[dt.date, ...]) -> int:
            return bisect_right(days, end) - bisect_right(days, start)

        return weekdays_between(start, end) - within(self._off_weekdays) + within(self._on_weekends)

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The day on which ``n`` working days after ``start`` have passed (``start`` for n = 0)."""
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        day = start
        while n > 0:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def deadline(self, start: dt.date, n: int) -> Deadline:
        """:meth:`add_working_days` with the flag telling whether Monday–Friday was assumed."""
        day = self.add_working_days(start, n)
        return Deadline(day=day, estimated=not self.covers_span(start, day))


@dataclass(frozen=True)
class Deadline:
    """A day counted in working days; ``estimated`` when part of the span fell back to Mon–Fri."""

    day: dt.date
    estimated: bool


def build_calendar(
    rows: Iterable[CalendarDay],
    years: Iterable[int],
    *,
    version: str = "",
    source: str = "",
) -> WorkCalendar:
    """A :class:`WorkCalendar` from reference rows, after checking them all.

    Problems reported together: a date listed twice, a workday on Monday–Friday, a row whose date is
    not in its notice's year (or, for a 元旦 period, the December before), a row of a year that is not
    covered, a covered year without any row.
    """
    covered = frozenset(years)
    problems: list[str] = []
    seen: dict[dt.date, CalendarDay] = {}
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    with_rows: set[int] = set()
    for r in rows:
        where = f"{r.day.isoformat()} ({r.kind}, {r.name}, {r.notice})"
        if r.day in seen:
            problems.append(f"{where}: date listed twice")
            continue
        seen[r.day] = r
        if r.kind == DayKind.WORKDAY and is_weekday(r.day):
            problems.append(f"{where}: a 调休上班 day must be a Saturday or Sunday")
        if not (r.day.year == r.year or (r.day.year == r.year - 1 and r.day.month == 12)):
            problems.append(f"{where}: not in the notice's year {r.year}")
        if r.year not in covered:
            problems.append(f"{where}: year {r.year} is not among the covered years")
        if not r.name.strip() or not r.notice.strip():
            problems.append(f"{where}: name and notice are required")
        with_rows.add(r.year)
        (holidays if r.kind == DayKind.HOLIDAY else workdays).add(r.day)
    for y in sorted(covered - with_rows):
        problems.append(f"covered year {y} has no rows")
    if problems:
        raise WorkCalendarError(problems)
    return WorkCalendar(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        years=covered,
        version=version,
        source=source,
    )
