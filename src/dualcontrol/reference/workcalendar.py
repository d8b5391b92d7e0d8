"""China's public holidays and adjusted working days (``holidays_cn.csv`` + ``holidays_cn.yaml``)
→ :class:`dualcontrol.core.workcalendar.WorkCalendar`.

The CSV has one row per day that a State Council (General Office) notice sets; the YAML names the
covered years and describes each notice.  :func:`work_calendar` checks the two against each other
(every row's notice is described, its ``source`` is that notice's citation, every covered year has a
notice) and reports every problem at once.  Loaded once per process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from dualcontrol.core.workcalendar import (
    CalendarDay,
    DayKind,
    WorkCalendar,
    WorkCalendarError,
    build_calendar,
)
from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml

CSV_FILE = "holidays_cn.csv"
YAML_FILE = "holidays_cn.yaml"
COLUMNS = ("date", "kind", "name", "year", "notice", "source")


@dataclass(frozen=True)
class Notice:
    """A notice that sets holidays and 调休 days for ``year``."""

    number: str
    title: str
    date: dt.date
    year: int
    url: str
    read_from: str
    replaces: str

    @property
    def citation(self) -> str:
        """The ``source`` text of every row the notice sets: title（number，date）URL."""
        return f"{self.title}（{self.number}，{self.date.isoformat()}）{self.url}"


@dataclass(frozen=True)
class CalendarInfo:
    """What the YAML says about the data: covered years, notices, the rule outside them."""

    version: str
    first_year: int
    last_year: int
    notices: tuple[Notice, ...]
    pending: tuple[int, ...]
    outside: str
    outside_source: str

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)

    @property
    def summary(self) -> str:
        """A one-line citation for pages: the notices of the covered years."""
        return (
            f"国务院办公厅{self.first_year}–{self.last_year}年各年《部分节假日安排的通知》"
            f"及调整通知（{len(self.notices)} 件）；其他年份按周一至周五"
        )


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not an ISO date") from exc


@cache
def calendar_info() -> CalendarInfo:
    """The covered years and notices of ``holidays_cn.yaml``."""
    version, d = load_yaml(YAML_FILE)
    try:
        notices = tuple(
            Notice(
                number=str(n["number"]),
                title=str(n["title"]),
                date=_date(n["date"], f"{YAML_FILE} notice {n['number']}"),
                year=int(n["year"]),
                url=str(n["url"]),
                read_from=str(n.get("read_from") or ""),
                replaces=str(n.get("replaces") or ""),
            )
            for n in d["notices"]
        )
        info = CalendarInfo(
            version=version,
            first_year=int(d["years"]["from"]),
            last_year=int(d["years"]["to"]),
            notices=notices,
            pending=tuple(int(y) for y in d.get("pending") or ()),
            outside=str(d["outside"]),
            outside_source=str(d["outside_source"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{YAML_FILE}: {exc!r}") from exc
    problems: list[str] = []
    if info.outside != "weekdays":
        problems.append(f"outside must be 'weekdays', not {info.outside!r}")
    numbers = [n.number for n in notices]
    problems += [
        f"notice {x} listed twice" for x in sorted({x for x in numbers if numbers.count(x) > 1})
    ]
    problems += [
        f"notice {n.number} is for {n.year}, outside {info.first_year}–{info.last_year}"
        for n in notices
        if n.year not in info.years
    ]
    with_notice = {n.year for n in notices}
    problems += [f"covered year {y} has no notice" for y in info.years if y not in with_notice]
    if problems:
        raise ReferenceDataError(f"{YAML_FILE}: " + "; ".join(problems))
    return info


def calendar_rows() -> list[CalendarDay]:
    """The rows of ``holidays_cn.csv``, checked against the notices of the YAML."""
    info = calendar_info()
    by_number = {n.number: n for n in info.notices}
    table = load_csv(CSV_FILE, required=COLUMNS)
    rows: list[CalendarDay] = []
    problems: list[str] = []
    for i, r in enumerate(table.rows, start=2):
        where = f"row {i} ({r.get('date')})"
        try:
            day = dt.date.fromisoformat(r["date"])
            kind = DayKind(r["kind"])
            year = int(r["year"])
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        notice = by_number.get(r["notice"])
        if notice is None:
            problems.append(f"{where}: notice {r['notice']!r} is not described in {YAML_FILE}")
        else:
            if notice.year != year:
                problems.append(
                    f"{where}: year {year} but notice {notice.number} is for {notice.year}"
                )
            if r["source"] != notice.citation:
                problems.append(f"{where}: source is not the citation of {notice.number}")
        rows.append(CalendarDay(day=day, kind=kind, name=r["name"], year=year, notice=r["notice"]))
    if problems:
        raise ReferenceDataError(f"{CSV_FILE}: " + "; ".join(problems))
    return rows


@cache
def work_calendar() -> WorkCalendar:
    """The platform's working-day calendar (cached; the data change only with a release)."""
    info = calendar_info()
    rows = calendar_rows()
    try:
        return build_calendar(
            rows,
            info.years,
            version=f"{load_csv(CSV_FILE, required=COLUMNS).version};{info.version}",
            source=info.summary,
        )
    except WorkCalendarError as exc:
        raise ReferenceDataError(f"{CSV_FILE}: {exc}") from exc
