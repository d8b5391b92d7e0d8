"""超标名单 — the quarterly exceedance list of monitored outlets, from exceedance alarm episodes.

Rules: ``reference/data/exceedance_list.yaml`` (sources there), given here as :class:`CountingRules`.

Input: the exceedance episodes of the quarter (one per monitoring alarm, with the exceeding records
as (time, value) and the limit they were compared with), the periods that excuse records (accepted
shutdown reports, as :class:`ExcusedPeriod`) and the alarms a reviewer struck (alarm id → reason).
Output (:func:`exceedance_list`): one :class:`ListRow` per outlet and pollutant that meets the entry
rule, each naming the alarms it counted; and every alarm that was not counted, with the reason.

Counting, per outlet and pollutant, over the records inside the quarter [start, end) only:

* a record of an ``hour`` data type (HJ 212 CN 2061) is one 超标小时 and marks its local date as an
  超标天; a record of a ``day`` data type (CN 2031) marks its local date as an 超标天;
* 超标天数 = distinct local dates marked; 超标小时数 = counted hour records;
* a record covers [time, time + its interval); it is excused (not counted) when an excusing period
  of its outlet overlaps that interval — the monitoring app's rule for the transmission rate
  (a slot a reported shutdown covers in part is excused);
* an alarm whose handling status is not counted (``withdrawn``: the data no longer show it) or
  that the reviewer struck counts nothing;
* 超标倍数 of a record: ``excess`` = (value − limit) ÷ limit, ``ratio`` = value ÷ limit; the row
  shows the record with the highest multiple (its value, limit and unit), ties to the earlier.

Local dates are the station's (``time_zone``).  Numbers are Decimals made from the shortest repr
of the floats the monitoring tables hold, so 38.46 stays 38.46; rounding is half up (四舍五入).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

HOUR = "hour"
DAY = "day"
UNIT_STEPS = {HOUR: dt.timedelta(hours=1), DAY: dt.timedelta(days=1)}
MULTIPLES = ("excess", "ratio")
QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}


class ExceedanceInputError(ValueError):
    """Input the list cannot be computed from; ``problems`` lists every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class CountingRules:
    """What counts (``exceedance_list.yaml`` counted / entry / figures)."""

    data_types: Mapping[str, str]  # HJ 212 CN -> "hour" | "day"
    counted_statuses: frozenset[str]
    min_days: int = 1
    min_hours: int = 1
    multiple: str = "excess"
    multiple_places: int = 2
    time_zone: str = "Asia/Shanghai"

    def problems(self) -> list[str]:
        out = []
        for cn, unit in self.data_types.items():
            if unit not in UNIT_STEPS:
                out.append(f"data type {cn}: unit must be hour or day, not {unit!r}")
        if not self.data_types:
            out.append("no data type is counted")
        if self.multiple not in MULTIPLES:
            out.append(f"multiple must be one of {', '.join(MULTIPLES)}, not {self.multiple!r}")
        if self.min_days < 1 or self.min_hours < 1:
            out.append("min_days and min_hours must be at least 1")
        if not 0 <= self.multiple_places <= 6:
            out.append("multiple_places must be 0–6")
        try:
            ZoneInfo(self.time_zone)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            out.append(f"unknown time zone {self.time_zone!r}: {exc}")
        return out


@dataclass(frozen=True)
class Episode:
    """超标报警 — one exceedance episode (a monitoring alarm) with its exceeding records."""

    alarm_id: int
    outlet: str  # the outlet's key (its MN)
    code: str  # HJ 212 pollutant code
    cn: str  # HJ 212 data type of the records
    status: str  # the alarm's handling status
    limit: float
    unit: str
    values: tuple[tuple[dt.datetime, float], ...]  # (data time, value) of the exceeding records


@dataclass(frozen=True)
class ExcusedPeriod:
    """A period [start, end) of an outlet whose records do not count (e.g. 停运报备 ``ref``)."""

    outlet: str
    start: dt.datetime
    end: dt.datetime
    ref: str


@dataclass(frozen=True)
class AlarmCount:
    """What a row counted of one alarm: records counted, records excused and by what."""

    alarm_id: int
    status: str
    cn: str
    records: int
    excused_records: int = 0
    excused_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListRow:
    """One outlet and pollutant on the list, with its figures and the alarms behind them."""

    outlet: str
    code: str
    days: int
    hours: int
    records: int
    max_value: Decimal
    limit: Decimal
    unit: str
    max_cn: str
    max_time: dt.datetime
    multiple: Decimal  # rounded to CountingRules.multiple_places
    first: dt.datetime
    last: dt.datetime
    alarms: tuple[AlarmCount, ...]
    statuses: Mapping[str, int] = field(default_factory=dict)  # alarm status -> alarms counted
    limits_differ: bool = False  # records of one data type compared with different limits


@dataclass(frozen=True)
class NotCounted:
    """An alarm of the quarter that counts nothing on the list, and why."""

    alarm_id: int
    outlet: str
    code: str
    reason: str  # status | struck | excused | outside | below_entry | data_type
    detail: str = ""
    excused_by: tuple[str, ...] = ()
    records: int = 0  # for ``excused``: the records the periods took out


@dataclass(frozen=True)
class ListResult:
    rows: tuple[ListRow, ...]
    not_counted: tuple[NotCounted, ...]
    start: dt.datetime
    end: dt.datetime


# ---------------------------------------------------------------------------------------------
# Quarters


def check_quarter(year: int, quarter: int) -> None:
    if not 1 <= quarter <= 4:
        raise ExceedanceInputError([f"quarter must be 1–4, not {quarter}"])
    if not 1900 <= year <= 2999:
        raise ExceedanceInputError([f"year {year} is out of range"])


def quarter_dates(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter."""
    check_quarter(year, quarter)
    first = dt.date(year, 3 * quarter - 2, 1)
    nxt = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def quarter_bounds(year: int, quarter: int, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a quarter in the station's local time."""
    first, last = quarter_dates(year, quarter)
    tz = ZoneInfo(time_zone)
    nxt = last + dt.timedelta(days=1)
    return (
        dt.datetime(first.year, first.month, first.day, tzinfo=tz),
        dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz),
    )


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def last_complete_quarter(today: dt.date) -> tuple[int, int]:
    """The latest quarter that ended before ``today``."""
    year, quarter = quarter_of(today)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def deadline(year: int, quarter: int, days_after: int) -> dt.date:
    """Publication deadline: ``days_after`` days after the quarter's last day."""
    return quarter_dates(year, quarter)[1] + dt.timedelta(days=days_after)


# ---------------------------------------------------------------------------------------------
# Numbers


def as_decimal(value: float) -> Decimal:
    """The float as the monitoring tables print it (shortest repr: 38.46 → Decimal('38.46'))."""
    return Decimal(repr(float(value)))


def round_half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_decimal(value: Decimal, places: int | None = None) -> str:
    """Printed figure: ``places`` decimals (四舍五入), or the shortest form when None (30.0 → "30")."""
    if places is not None:
        return f"{round_half_up(value, places):f}"
    return f"{value.normalize():f}"


def multiple_of(value: Decimal, limit: Decimal, how: str) -> Decimal:
    """超标倍数 of one value: (value − limit) ÷ limit (``excess``) or value ÷ limit (``ratio``)."""
    if limit <= 0:
        raise ExceedanceInputError([f"limit must be positive, not {limit}"])
    return (value - limit) / limit if how == "excess" else value / limit


# ---------------------------------------------------------------------------------------------
# The list


def _check(
    episodes: Sequence[Episode], excused: Sequence[ExcusedPeriod], struck: Mapping[int, str]
) -> list[str]:
    problems = []
    seen: set[int] = set()
    for e in episodes:
        where = f"alarm {e.alarm_id}"
        if e.alarm_id in seen:
            problems.append(f"{where}: given twice")
        seen.add(e.alarm_id)
        if not e.limit > 0:
            problems.append(f"{where}: limit must be positive, not {e.limit}")
        for when, value in e.values:
            if when.tzinfo is None:
                problems.append(f"{where}: record time {when.isoformat()} has no time zone")
                break
            if value != value:  # NaN
                problems.append(f"{where}: record at {when.isoformat()} has no value")
                break
    for p in excused:
        if p.start.tzinfo is None or p.end.tzinfo is None:
            problems.append(f"excused period {p.ref}: times need a time zone")
        elif p.end <= p.start:
            problems.append(f"excused period {p.ref}: end is not after start")
    for alarm_id, reason in struck.items():
        if not reason.strip():
            problems.append(f"struck alarm {alarm_id}: a reason is required")
    return problems


def _excusing(
    when: dt.datetime, step: dt.timedelta, periods: Iterable[ExcusedPeriod]
) -> tuple[str, ...]:
    """The refs of the periods that overlap [when, when + step)."""
    end = when + step
    return tuple(p.ref for p in periods if p.start < end and p.end > when)


@dataclass
class _Acc:
    days: set[dt.date] = field(default_factory=set)
    hours: int = 0
    records: int = 0
    best: tuple[Decimal, dt.datetime, Decimal, Decimal, str, str] | None = None
    limits: dict[str, set[Decimal]] = field(default_factory=dict)  # per data type
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    alarms: list[AlarmCount] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def exceedance_list(
    episodes: Sequence[Episode],
    *,
    year: int,
    quarter: int,
    rules: CountingRules,
    excused: Sequence[ExcusedPeriod] = (),
    struck: Mapping[int, str] | None = None,
) -> ListResult:
    """The quarter's list: rows per outlet and pollutant, and the alarms not counted (see module)."""
    struck = dict(struck or {})
    problems = rules.problems() + _check(episodes, excused, struck)
    if problems:
        raise ExceedanceInputError(problems)
    check_quarter(year, quarter)
    tz = ZoneInfo(rules.time_zone)
    start, end = quarter_bounds(year, quarter, rules.time_zone)
    periods: dict[str, list[ExcusedPeriod]] = defaultdict(list)
    for p in excused:
        periods[p.outlet].append(p)
    acc: dict[tuple[str, str], _Acc] = {}
    not_counted: list[NotCounted] = []
    for e in sorted(episodes, key=lambda e: (e.outlet, e.code, e.alarm_id)):
        unit_kind = rules.data_types.get(e.cn)
        if unit_kind is None:
            not_counted.append(NotCounted(e.alarm_id, e.outlet, e.code, "data_type", e.cn))
            continue
        if e.status not in rules.counted_statuses:
            not_counted.append(NotCounted(e.alarm_id, e.outlet, e.code, "status", e.status))
            continue
        if e.alarm_id in struck:
            not_counted.append(
                NotCounted(e.alarm_id, e.outlet, e.code, "struck", struck[e.alarm_id].strip())
            )
            continue
        step = UNIT_STEPS[unit_kind]
        inside = sorted((t, v) for t, v in e.values if start <= t < end)
        if not inside:
            not_counted.append(NotCounted(e.alarm_id, e.outlet, e.code, "outside"))
            continue
        counted: list[tuple[dt.datetime, float]] = []
        excused_by: set[str] = set()
        for when, value in inside:
            refs = _excusing(when, step, periods.get(e.outlet, ()))
            if refs:
                excused_by.update(refs)
            else:
                counted.append((when, value))
        if not counted:
            not_counted.append(
                NotCounted(
                    e.alarm_id,
                    e.outlet,
                    e.code,
                    "excused",
                    excused_by=tuple(sorted(excused_by)),
                    records=len(inside),
                )
            )
            continue
        a = acc.setdefault((e.outlet, e.code), _Acc())
        limit = as_decimal(e.limit)
        a.limits.setdefault(e.cn, set()).add(limit)
        for when, value in counted:
            v = as_decimal(value)
            a.days.add(when.astimezone(tz).date())
            a.records += 1
            if unit_kind == HOUR:
                a.hours += 1
            m = multiple_of(v, limit, rules.multiple)
            candidate = (m, when, v, limit, e.unit, e.cn)
            if a.best is None or m > a.best[0] or (m == a.best[0] and when < a.best[1]):
                a.best = candidate
            a.first = when if a.first is None or when < a.first else a.first
            a.last = when if a.last is None or when > a.last else a.last
        a.alarms.append(
            AlarmCount(
                e.alarm_id,
                e.status,
                e.cn,
                len(counted),
                len(inside) - len(counted),
                tuple(sorted(excused_by)),
            )
        )
        a.statuses[e.status] = a.statuses.get(e.status, 0) + 1
    rows = []
    for (outlet, code), a in sorted(acc.items(), key=lambda kv: kv[0]):
        assert a.best is not None and a.first is not None and a.last is not None
        if len(a.days) < rules.min_days and a.hours < rules.min_hours:
            not_counted.extend(
                NotCounted(c.alarm_id, outlet, code, "below_entry") for c in a.alarms
            )
            continue
        m, when, peak, limit, unit, cn = a.best
        rows.append(
            ListRow(
                outlet=outlet,
                code=code,
                days=len(a.days),
                hours=a.hours,
                records=a.records,
                max_value=peak,
                limit=limit,
                unit=unit,
                max_cn=cn,
                max_time=when,
                multiple=round_half_up(m, rules.multiple_places),
                first=a.first,
                last=a.last,
                alarms=tuple(sorted(a.alarms, key=lambda c: c.alarm_id)),
                statuses=dict(sorted(a.statuses.items())),
                limits_differ=any(len(v) > 1 for v in a.limits.values()),
            )
        )
    return ListResult(
        rows=tuple(rows),
        not_counted=tuple(sorted(not_counted, key=lambda n: n.alarm_id)),
        start=start,
        end=end,
    )
