"""Alarm episodes and the effective-transmission rate over plain values (no Django, no I/O).

The services load the data (:mod:`dualcontrol.monitoring.services`), these functions decide:

* :func:`exceedances` — 超标: valid values above a limit; consecutive records form one episode;
* :func:`offline_gaps` — 断线: stretches without data longer than a threshold;
* :func:`negatives`, :func:`out_of_range`, :func:`stuck_runs` — 异常值: negative values,
  values outside the analyser range (or flagged 超测上限), the same value for many records;
* :func:`effective_rate` — 数据传输有效率 = 数据传输率 × 数据有效率 (formats.md §5.2).

Times are aware datetimes; ``step`` is the data interval (1 h for hourly data): two records are
consecutive when they are at most one step apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Point:
    """One value of one pollutant field at one data time."""

    time: dt.datetime
    value: float | None
    flag: str = ""


@dataclass(frozen=True)
class Episode:
    """An alarm candidate: what, from when to when, how bad."""

    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    records: int
    peak: float | None = None
    threshold: float | None = None
    code: str = ""
    ongoing: bool = False
    detail: str = ""


def _runs(
    points: Sequence[Point], hit: Callable[[Point], bool], step: dt.timedelta
) -> list[list[Point]]:
    """Maximal runs of consecutive points (at most ``step`` apart) for which ``hit`` holds."""
    runs: list[list[Point]] = []
    current: list[Point] = []
    for point in sorted(points, key=lambda p: p.time):
        if hit(point):
            if current and point.time - current[-1].time <= step:
                current.append(point)
            else:
                current = [point]
                runs.append(current)
        else:
            current = []
    return runs


def exceedances(
    points: Sequence[Point],
    *,
    limit: float,
    step: dt.timedelta,
    code: str,
    is_valid: Callable[[str], bool],
    only_valid: bool = True,
) -> list[Episode]:
    """超标: episodes of values strictly above ``limit`` (valid values only when ``only_valid``)."""

    def hit(p: Point) -> bool:
        return p.value is not None and p.value > limit and (not only_valid or is_valid(p.flag))

    return [
        Episode(
            kind="exceedance",
            code=code,
            started_at=run[0].time,
            ended_at=run[-1].time,
            records=len(run),
            peak=max(p.value for p in run if p.value is not None),
            threshold=limit,
        )
        for run in _runs(points, hit, step)
    ]


def negatives(
    points: Sequence[Point], *, step: dt.timedelta, code: str, allowed: bool = False
) -> list[Episode]:
    """异常值（负值）: negative values of an item that cannot be negative."""
    if allowed:
        return []
    return [
        Episode(
            kind="negative",
            code=code,
            started_at=run[0].time,
            ended_at=run[-1].time,
            records=len(run),
            peak=min(p.value for p in run if p.value is not None),
            threshold=0.0,
        )
        for run in _runs(points, lambda p: p.value is not None and p.value < 0, step)
    ]


def out_of_range(
    points: Sequence[Point],
    *,
    step: dt.timedelta,
    code: str,
    low: float | None,
    high: float | None,
    range_flags: Iterable[str] = (),
) -> list[Episode]:
    """异常值（超量程）: outside [low, high] of the analyser, or flagged as over the range."""
    flags = frozenset(range_flags)

    def hit(p: Point) -> bool:
        if p.flag in flags:
            return True
        if p.value is None:
            return False
        # Negative values have their own alarm; the range check covers the rest.
        return (low is not None and 0 <= p.value < low) or (high is not None and p.value > high)

    out = []
    for run in _runs(points, hit, step):
        values = [p.value for p in run if p.value is not None]
        out.append(
            Episode(
                kind="out_of_range",
                code=code,
                started_at=run[0].time,
                ended_at=run[-1].time,
                records=len(run),
                peak=max(values) if values else None,
                threshold=high,
            )
        )
    return out


def stuck_runs(
    points: Sequence[Point],
    *,
    step: dt.timedelta,
    code: str,
    min_records: int,
    is_valid: Callable[[str], bool],
    ignore_zero: bool = True,
) -> list[Episode]:
    """异常值（恒值）: the same valid value in at least ``min_records`` consecutive records."""
    out: list[Episode] = []
    run: list[Point] = []

    def close() -> None:
        if len(run) >= min_records:
            out.append(
                Episode(
                    kind="stuck",
                    code=code,
                    started_at=run[0].time,
                    ended_at=run[-1].time,
                    records=len(run),
                    peak=run[0].value,
                    threshold=float(min_records),
                )
            )

    for point in sorted(points, key=lambda p: p.time):
        usable = (
            point.value is not None
            and is_valid(point.flag)
            and not (ignore_zero and point.value == 0)
        )
        if usable and run and point.value == run[-1].value and point.time - run[-1].time <= step:
            run.append(point)
            continue
        close()
        run = [point] if usable else []
    close()
    return out


Period = tuple[dt.datetime, dt.datetime]  # [start, end)


def merge_periods(periods: Iterable[Period]) -> list[Period]:
    """Sorted, non-overlapping union of ``periods`` (empty ones dropped)."""
    out: list[Period] = []
    for a, b in sorted(p for p in periods if p[1] > p[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def uncovered(start: dt.datetime, end: dt.datetime, periods: Sequence[Period]) -> list[Period]:
    """The parts of [start, end) outside ``periods``."""
    out: list[Period] = []
    cursor = start
    for a, b in merge_periods(periods):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return out


def excused_slots(start: dt.datetime, per_day: int, periods: Sequence[Period]) -> frozenset[int]:
    """Slots of the day from ``start`` (``per_day`` equal intervals) that touch ``periods``.

    A slot that a reported shutdown covers in part is excused too: its record, if any, is
    made of shut-down time (platform rule, monitoring_rules.yaml shutdown).
    """
    step = dt.timedelta(days=1) / per_day
    end = start + dt.timedelta(days=1)
    out: set[int] = set()
    for a, b in merge_periods(periods):
        if b <= start or a >= end:
            continue
        first = max(0, int((a - start) / step))
        last = min(per_day - 1, int((min(b, end) - start - dt.timedelta(microseconds=1)) / step))
        out.update(range(first, last + 1))
    return frozenset(out)


def offline_gaps(
    times: Sequence[dt.datetime],
    *,
    start: dt.datetime,
    end: dt.datetime,
    threshold: dt.timedelta,
    before: dt.datetime | None,
    after: dt.datetime | None,
    excused: Sequence[Period] = (),
) -> list[Episode]:
    """断线: gaps longer than ``threshold`` in the data times of [start, end).

    ``before`` is the last data time before ``start`` (None: none in the look-back), ``after``
    the first one at or after ``end`` (None: nothing yet).  An episode starts at the last data
    time before the gap (``start`` when there is none) and ends at the next data time; a gap
    still open at ``end`` with nothing after it is ongoing.  Time inside ``excused`` periods
    (accepted shutdown reports) does not count: a gap is an episode only when a part of it
    outside them is longer than ``threshold``.
    """
    out: list[Episode] = []
    previous = before if before is not None else start
    no_data_before = before is None
    for when in sorted(t for t in times if start <= t < end):
        if when - previous > threshold:
            out.append(
                Episode(
                    kind="offline",
                    started_at=previous,
                    ended_at=when,
                    records=0,
                    threshold=threshold.total_seconds() / 60,
                    detail="no_data_before" if no_data_before and previous == start else "",
                )
            )
        previous = max(previous, when)
        no_data_before = False
    if end - previous > threshold:
        out.append(
            Episode(
                kind="offline",
                started_at=previous,
                ended_at=after,
                records=0,
                threshold=threshold.total_seconds() / 60,
                ongoing=after is None,
                detail="no_data_before" if no_data_before and previous == start else "",
            )
        )
    if not excused:
        return out
    return [
        e
        for e in out
        if any(b - a > threshold for a, b in uncovered(e.started_at, e.ended_at or end, excused))
    ]


@dataclass(frozen=True)
class Rate:
    """数据传输有效率 of one outlet over one period (counts pooled over the assessed items)."""

    expected: int
    received: int
    valid: int
    excused: int = 0  # item records not expected: covered by accepted shutdown reports

    @property
    def transmission_frac(self) -> float | None:
        """数据传输率 = received / expected."""
        return self.received / self.expected if self.expected else None

    @property
    def validity_frac(self) -> float | None:
        """数据有效率 = valid / received."""
        if not self.expected:
            return None
        return self.valid / self.received if self.received else 0.0

    @property
    def effective_frac(self) -> float | None:
        """数据传输有效率 = 数据传输率 × 数据有效率."""
        t, v = self.transmission_frac, self.validity_frac
        return None if t is None or v is None else t * v

    def __add__(self, other: Rate) -> Rate:
        return Rate(
            self.expected + other.expected,
            self.received + other.received,
            self.valid + other.valid,
            self.excused + other.excused,
        )


def effective_rate(
    rows: Iterable[tuple[str, dt.datetime, str]],
    *,
    items: Sequence[str],
    expected_per_item: int,
    is_valid: Callable[[str], bool],
) -> Rate:
    """Pool the assessed ``items``: expected = items × expected records; received = records of an
    item present (one per data time); valid = those with a valid flag.  ``rows`` are (code, data
    time, flag); codes outside ``items`` are ignored; a repeated (code, time) counts once.
    """
    wanted = set(items)
    seen: dict[tuple[str, dt.datetime], bool] = {}
    for code, when, flag in rows:
        if code in wanted and (code, when) not in seen:
            seen[(code, when)] = is_valid(flag)
    received = min(len(seen), expected_per_item * len(wanted))
    valid = min(sum(seen.values()), received)
    return Rate(expected=expected_per_item * len(wanted), received=received, valid=valid)
