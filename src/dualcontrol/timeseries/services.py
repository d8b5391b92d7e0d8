"""Retention and roll-ups of the raw time series (the only writer of :mod:`.models`).

:func:`maintain` applies ``timeseries_policy.yaml`` to each raw table, in this order:

1. **roll up**: every complete hour since the table's mark (less ``late_hours``, for late and
   corrected data) into hourly rows, and the local days those hours touch into daily rows —
   one grouped ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per chunk of days;
2. **expire raw data** older than ``raw_months`` — on PostgreSQL whole monthly partitions
   (pg_partman's ``partition_data_time`` empties the default partition first, then its
   ``drop_partition_time``; hand-made partitions are dropped), on SQLite rows deleted in batches;
   never past the roll-up mark, so nothing goes before it is rolled up;
3. **premake** the partitions of the coming months (pg_partman's ``run_maintenance``);
4. **prune roll-ups** older than ``hour_months`` / ``day_months``.

``dry_run`` computes and writes nothing and reports what would be dropped and kept.  A run that
changed anything, or that a person started, is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dualcontrol.audit.services import record
from dualcontrol.timeseries import partitions
from dualcontrol.timeseries.models import MeteringRollup, MonitoringRollup, Period, RollupMark
from dualcontrol.timeseries.policy import TablePolicy, TimeseriesPolicy, timeseries_policy

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Source:
    """How a raw table rolls up (technical: its columns, not policy)."""

    table: str
    ts: str
    key: tuple[str, ...]
    group: tuple[str, ...]  # the roll-up's key columns besides period and start
    value: str
    low: str
    high: str
    cou: str | None = None
    zs: str | None = None
    cn: str | None = None  # monitoring: the CN the roll-ups are labelled with

    @property
    def monitoring(self) -> bool:
        return self.cn is not None

    @property
    def rollup_table(self) -> str:
        model = MonitoringRollup if self.monitoring else MeteringRollup
        return model._meta.db_table


SOURCES: dict[str, Source] = {
    "monitoring_minute": Source(
        "monitoring_minute",
        "data_time",
        ("mn", "data_time", "code"),
        ("mn", "code"),
        value='COALESCE("avg", "rtd")',
        low='COALESCE("min", "avg", "rtd")',
        high='COALESCE("max", "avg", "rtd")',
        cou='"cou"',
        zs='COALESCE("zs_avg", "zs_rtd")',
        cn="2051",
    ),
    "monitoring_rtd": Source(
        "monitoring_rtd",
        "data_time",
        ("mn", "data_time", "code"),
        ("mn", "code"),
        value='"rtd"',
        low='"rtd"',
        high='"rtd"',
        cou='"cou"',
        zs='"zs_rtd"',
        cn="2011",
    ),
    "metering_reading": Source(
        "metering_reading",
        "ts",
        ("item_id", "ts"),
        ("item_id",),
        value='"value"',
        low='"value"',
        high='"value"',
    ),
}


def _db_ts(ts: dt.datetime) -> Any:
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(ts)
    return ts


def floor_hour(ts: dt.datetime) -> dt.datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def local_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=partitions.local_tz())


# ---------------------------------------------------------------------------------------------
# Roll-ups


def _value_columns(src: Source) -> list[str]:
    cols = ["n", "total", "min_value", "max_value"]
    if src.monitoring:
        cols += ["cou_total", "zs_n", "zs_total"]
    return [*cols, "computed_at"]


def _upsert(src: Source, select_sql: str) -> str:
    keys = ["cn", *src.group] if src.monitoring else list(src.group)
    keys += ["period", "start"]
    values = _value_columns(src)
    cols = ", ".join(f'"{c}"' for c in [*keys, *values])
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in values)
    conflict = ", ".join(f'"{c}"' for c in keys)
    return (
        f'INSERT INTO "{src.rollup_table}" ({cols}) {select_sql} '
        f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    )


def _hour_bucket(src: Source) -> str:
    if connection.vendor == "postgresql":
        # hours of the platform's zone (the same as UTC hours unless the zone has a half hour)
        return f"(date_trunc('hour', \"{src.ts}\" AT TIME ZONE %s) AT TIME ZONE %s)"
    return f"(substr(\"{src.ts}\", 1, 13) || ':00:00')"  # Django's SQLite text, in UTC


def _rollup_hours(src: Source, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> int:
    bucket = _hour_bucket(src)
    tz = partitions.local_tz().key
    bucket_params: list[Any] = [tz, tz] if connection.vendor == "postgresql" else []
    group = ", ".join(f'"{c}"' for c in src.group)
    aggs = f"COUNT({src.value}), SUM({src.value}), MIN({src.low}), MAX({src.high})"
    lead: list[Any] = []
    if src.monitoring:
        aggs += f", SUM({src.cou}), COUNT({src.zs}), SUM({src.zs})"
        lead = [src.cn]
    select = (
        f"SELECT {'%s, ' if src.monitoring else ''}{group}, 'hour', {bucket}, {aggs}, %s "
        f'FROM "{src.table}" WHERE "{src.ts}" >= %s AND "{src.ts}" < %s '
        f"GROUP BY {group}, {len(lead) + len(src.group) + 2}"  # the bucket, by position
    )
    params = [*lead, *bucket_params, _db_ts(now), _db_ts(start), _db_ts(end)]
    with connection.cursor() as cur:
        cur.execute(_upsert(src, select), params)
        return max(cur.rowcount, 0)


def _rollup_days(src: Source, first: dt.date, last: dt.date, now: dt.datetime) -> int:
    """Daily rows of the local days first … last from their hourly rows."""
    start, end = local_day_start(first), local_day_start(last + DAY)
    model = MonitoringRollup if src.monitoring else MeteringRollup
    hours = model.objects.filter(period=Period.HOUR, start__gte=start, start__lt=end)
    if src.monitoring:
        hours = hours.filter(cn=src.cn)
    if connection.vendor == "postgresql":
        tz = partitions.local_tz().key
        bucket = "(date_trunc('day', \"start\" AT TIME ZONE %s) AT TIME ZONE %s)"
        group = ", ".join(f'"{c}"' for c in src.group)
        aggs = 'SUM("n"), SUM("total"), MIN("min_value"), MAX("max_value")'
        lead = ""
        where = ""
        params: list[Any] = []
        if src.monitoring:
            aggs += ', SUM("cou_total"), SUM("zs_n"), SUM("zs_total")'
            lead = '"cn", '
            where = ' AND "cn" = %s'
            params = [src.cn]
        select = (
            f"SELECT {lead}{group}, 'day', {bucket}, {aggs}, %s FROM \"{src.rollup_table}\" "
            f'WHERE "period" = \'hour\' AND "start" >= %s AND "start" < %s{where} '
            f"GROUP BY {lead}{group}, {len(params) + len(src.group) + 2}"  # the bucket
        )
        with connection.cursor() as cur:
            cur.execute(_upsert(src, select), [tz, tz, now, start, end, *params])
            return max(cur.rowcount, 0)
    # SQLite has no time zones: group the hours by local day here
    fields = [*src.group, "start", *_value_columns(src)[:-1]]
    days: dict[tuple[Any, ...], list[Any]] = {}
    tz = partitions.local_tz()
    for row in hours.values_list(*fields):
        key = (*row[: len(src.group)], row[len(src.group)].astimezone(tz).date())
        v = row[len(src.group) + 1 :]
        acc = days.get(key)
        if acc is None:
            days[key] = list(v)
            continue
        acc[0] += v[0]
        acc[1] = _add(acc[1], v[1])
        acc[2] = _pick(min, acc[2], v[2])
        acc[3] = _pick(max, acc[3], v[3])
        if src.monitoring:
            acc[4] = _add(acc[4], v[4])
            acc[5] += v[5]
            acc[6] = _add(acc[6], v[6])
    if not days:
        return 0
    n_group = len(src.group)
    marks = ", ".join(["%s"] * (n_group + 2 + len(_value_columns(src)) + int(src.monitoring)))
    sql = _upsert(src, f"VALUES ({marks})")
    rows = [
        [
            *([src.cn] if src.monitoring else []),
            *key[:n_group],
            "day",
            _db_ts(local_day_start(key[n_group])),
            *acc,
            _db_ts(now),
        ]
        for key, acc in days.items()
    ]
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
    return len(rows)


def _add(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else a + b


def _pick(f: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else f(a, b)


@dataclass
class RollupResult:
    start: dt.datetime | None
    end: dt.datetime
    hour_rows: int = 0
    day_rows: int = 0


def _raw_min(src: Source) -> dt.datetime | None:
    with connection.cursor() as cur:
        cur.execute(f'SELECT MIN("{src.ts}") FROM "{src.table}"')
        value = cur.fetchone()[0]
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def rollup(table: str, *, now: dt.datetime, policy: TimeseriesPolicy) -> RollupResult:
    """Roll up the complete hours of ``table`` not rolled up yet (and the last ``late_hours``),
    then the days they touch; moves the table's mark to the current hour."""
    src = SOURCES[table]
    end = floor_hour(now.astimezone(dt.UTC))
    mark = RollupMark.objects.filter(table=table).first()
    if mark is not None:
        start: dt.datetime | None = mark.rolled_to - dt.timedelta(hours=policy.late_hours)
    else:
        start = _raw_min(src)
    result = RollupResult(start=None, end=end)
    if start is not None and start < end:
        start = floor_hour(start.astimezone(dt.UTC))
        result.start = start
        step = dt.timedelta(days=policy.chunk_days)
        a = start
        while a < end:
            b = min(a + step, end)
            with transaction.atomic():
                result.hour_rows += _rollup_hours(src, a, b, now)
            a = b
        tz = partitions.local_tz()
        first = start.astimezone(tz).date()
        last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
        day = first
        while day <= last:
            upto = min(day + dt.timedelta(days=policy.chunk_days - 1), last)
            with transaction.atomic():
                result.day_rows += _rollup_days(src, day, upto, now)
            day = upto + DAY
    with transaction.atomic():
        if mark is None or mark.rolled_to < end:
            RollupMark.objects.update_or_create(
                table=table, defaults={"rolled_to": end, "computed_at": now}
            )
    return result


# ---------------------------------------------------------------------------------------------
# Expiry


def _delete_batches(
    table: str, key: Sequence[str], where: str, params: list[Any], batch: int
) -> int:
    """Delete rows matching ``where`` in batches of ``batch`` rows, each its own transaction
    (writers wait at most one batch)."""
    cols = ", ".join(f'"{c}"' for c in key)
    target = f"({cols})" if len(key) > 1 else cols
    sql = (
        f'DELETE FROM "{table}" WHERE {target} IN '
        f'(SELECT {cols} FROM "{table}" WHERE {where} LIMIT %s)'
    )
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [*params, batch])
            n = max(cur.rowcount, 0)
        deleted += n
        if n < batch:
            return deleted


def _count(table: str, where: str = "1 = 1", params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cur:
        cur.execute(f'SELECT COUNT(*) FROM "{table}" WHERE {where}', list(params))
        return int(cur.fetchone()[0])


@dataclass
class PartitionOut:
    name: str
    start: str | None
    end: str | None


def _out(p: partitions.Partition) -> PartitionOut:
    def fmt(ts: dt.datetime | None) -> str | None:
        return ts.astimezone(partitions.local_tz()).isoformat() if ts else None

    return PartitionOut(p.name, fmt(p.start), fmt(p.end))


@dataclass
class TableReport:
    table: str
    title_zh: str
    mode: str
    raw_months: int
    cutoff: str
    rolled_to: str | None = None
    hour_rows: int = 0
    day_rows: int = 0
    moved_from_default: int = 0
    drop: list[PartitionOut] = field(default_factory=list)
    keep: list[PartitionOut] = field(default_factory=list)
    rows_deleted: int = 0  # SQLite (or a table that is not partitioned)
    rows_kept: int | None = None
    premade: list[str] = field(default_factory=list)
    rollups_pruned: int = 0
    note: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.drop and not self.note) or bool(self.rows_deleted or self.rollups_pruned)


@dataclass
class MaintenanceReport:
    policy_version: str
    now: str
    dry_run: bool
    tables: list[TableReport]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _expire(
    tp: TablePolicy,
    rep: TableReport,
    *,
    cutoff: dt.datetime,
    now: dt.datetime,
    dry_run: bool,
    policy: TimeseriesPolicy,
) -> None:
    src = SOURCES[tp.table]
    if rep.mode in ("pg_partman", "partitions"):
        if not dry_run:
            rep.moved_from_default = partitions.move_default_rows(tp.table)
        listed = partitions.list_partitions(tp.table)
        # pg_partman drops a month when its end is before the cut-off; the hand-made path when
        # its end is at or before it (the same months but for an exact-midnight cut-off)
        strict = rep.mode == "pg_partman"
        gone = [
            p
            for p in listed
            if p.end is not None and (p.end < cutoff if strict else p.end <= cutoff)
        ]
        if not dry_run:
            names = set(partitions.drop_expired(tp.table, months=tp.raw_months, now=now))
            gone = [p for p in listed if p.name in names]
            rep.premade = partitions.premake(tp.table, policy.premake_months, now=now)
            listed = partitions.list_partitions(tp.table)
        rep.drop = [_out(p) for p in gone]
        dropped = {p.name for p in gone}
        rep.keep = [_out(p) for p in listed if p.name not in dropped]
        return
    where, params = f'"{src.ts}" < %s', [_db_ts(cutoff)]
    if dry_run:
        rep.rows_deleted = _count(tp.table, where, params)
    else:
        rep.rows_deleted = _delete_batches(
            tp.table, src.key, where, params, policy.delete_batch_rows
        )
    rep.rows_kept = _count(tp.table) - (rep.rows_deleted if dry_run else 0)


def _prune_rollups(
    tp: TablePolicy, *, now: dt.datetime, dry_run: bool, policy: TimeseriesPolicy
) -> int:
    src = SOURCES[tp.table]
    total = 0
    for period, months in ((Period.HOUR, tp.hour_months), (Period.DAY, tp.day_months)):
        if months is None:
            continue
        where = '"period" = %s AND "start" < %s'
        params: list[Any] = [str(period), _db_ts(partitions.add_months(now, -months))]
        if src.monitoring:
            where += ' AND "cn" = %s'
            params.append(src.cn)
        if dry_run:
            total += _count(src.rollup_table, where, params)
        else:
            total += _delete_batches(
                src.rollup_table, ("id",), where, params, policy.delete_batch_rows
            )
    return total


def maintain(
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    actor: Any = None,
    person: bool = False,
    tables: Sequence[str] | None = None,
    policy: TimeseriesPolicy | None = None,
) -> MaintenanceReport:
    """Apply the retention and roll-up policy (see the module docstring).

    ``actor``: who runs it (a user or a name such as ``cli:alice``; None for the scheduled job);
    ``person``: a person started it (always audited, even when nothing changed).
    """
    policy = policy or timeseries_policy()
    now = now or timezone.now()
    report = MaintenanceReport(policy.version, now.isoformat(), dry_run, [])
    for tp in policy.tables:
        if tables and tp.table not in tables:
            continue
        cutoff = partitions.add_months(now, -tp.raw_months)
        rep = TableReport(
            table=tp.table,
            title_zh=tp.title_zh,
            mode=partitions.mode(tp.table),
            raw_months=tp.raw_months,
            cutoff=cutoff.isoformat(),
        )
        report.tables.append(rep)
        if not dry_run:
            result = rollup(tp.table, now=now, policy=policy)
            rep.hour_rows, rep.day_rows = result.hour_rows, result.day_rows
        mark = RollupMark.objects.filter(table=tp.table).first()
        rep.rolled_to = mark.rolled_to.isoformat() if mark else None
        if not dry_run and (mark is None or mark.rolled_to < cutoff):
            rep.note = "roll-ups behind the cut-off: no raw data removed"
            continue
        _expire(tp, rep, cutoff=cutoff, now=now, dry_run=dry_run, policy=policy)
        rep.rollups_pruned = _prune_rollups(tp, now=now, dry_run=dry_run, policy=policy)
    if not dry_run and (person or any(t.changed for t in report.tables)):
        record(
            actor=actor,
            action="timeseries.maintain",
            object_type="timeseries.policy",
            object_id=policy.version,
            object_repr="时序数据分区、保留与汇总",
            after=_audit_summary(report),
            note=f"timeseries_policy.yaml {policy.version}",
        )
    return report


def _audit_summary(report: MaintenanceReport) -> dict[str, Any]:
    return {
        t.table: {
            "mode": t.mode,
            "cutoff": t.cutoff,
            "dropped": [p.name for p in t.drop],
            "rows_deleted": t.rows_deleted,
            "rollups_pruned": t.rollups_pruned,
            "hour_rows": t.hour_rows,
            "day_rows": t.day_rows,
        }
        for t in report.tables
    }


def rollups_by_day(src_table: str) -> dict[dt.date, int]:
    """Daily roll-up rows per local day (status output and tests)."""
    src = SOURCES[src_table]
    model = MonitoringRollup if src.monitoring else MeteringRollup
    qs = model.objects.filter(period=Period.DAY)
    if src.monitoring:
        qs = qs.filter(cn=src.cn)
    out: dict[dt.date, int] = defaultdict(int)
    for start in qs.values_list("start", flat=True):
        out[start.astimezone(partitions.local_tz()).date()] += 1
    return dict(out)
