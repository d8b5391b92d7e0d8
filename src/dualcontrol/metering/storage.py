"""Batched reads and writes of the readings table — the only place with engine-specific SQL.

Writes never go through per-row ORM saves:

* PostgreSQL: ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING`` in chunks
  (the returned keys tell stored from duplicate), or ``COPY`` into a temporary table followed
  by one ``INSERT … ON CONFLICT DO NOTHING`` for bulk loads; monthly partitions (pg_partman's
  when the server has it, issue 22) are created on demand (:func:`ensure_partitions`) before a
  batch is written;
* SQLite: ``INSERT … ON CONFLICT DO NOTHING`` through ``executemany`` after one look-up of the
  keys already stored (SQLite serialises writers, so the look-up cannot race).

Timestamps enter and leave as aware datetimes; keys are (item_id, epoch seconds).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from dualcontrol.timeseries import partitions as partitions_mod

TABLE = "metering_reading"
CHUNK = 5000
UTC = dt.UTC

Row = tuple[int, dt.datetime, float, int, int | None]  # item_id, ts (aware), value, source, batch


@cache
def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def vendor() -> str:
    return connection.vendor


def _epoch(ts: dt.datetime) -> int:
    return int(ts.timestamp())


def _db_ts(ts: dt.datetime) -> object:
    """A parameter for the ts column (SQLite stores Django's UTC text)."""
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(ts)
    return ts


def _from_db(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Partitions (PostgreSQL)


def partition_name(month: dt.date) -> str:
    """The partition holding local ``month`` (pg_partman's or the hand-made name)."""
    return partitions_mod.partition_name(TABLE, month)


def months_of(timestamps: Iterable[dt.datetime]) -> set[dt.date]:
    return partitions_mod.months_of(timestamps)


def ensure_partitions(months: Iterable[dt.date]) -> list[str]:
    """Create the monthly partitions that do not exist yet (PostgreSQL; no-op on SQLite).

    Run it before the write transaction.  pg_partman's ``create_partition_time`` when it
    manages the table, hand-made monthly partitions otherwise; concurrent writers of a new
    month are serialised by an advisory lock (issue 13): :mod:`dualcontrol.timeseries.partitions`.
    """
    return partitions_mod.ensure_partitions(TABLE, months)


def partitions() -> list[tuple[str, str]]:
    """(partition, bounds) of the readings table (PostgreSQL)."""
    return [(p.name, p.bounds) for p in partitions_mod.list_partitions(TABLE)]


# ---------------------------------------------------------------------------------------------
# Writes


@dataclass(frozen=True)
class WriteResult:
    stored: set[tuple[int, int]]  # (item_id, epoch seconds) newly stored
    duplicates: set[tuple[int, int]]  # already stored before this write


def existing_keys(keys: Sequence[tuple[int, dt.datetime]]) -> dict[tuple[int, int], float]:
    """Values already stored for (item_id, ts) keys (grouped by item, one query per chunk)."""
    if not keys:
        return {}
    by_item: dict[int, list[dt.datetime]] = {}
    for item_id, ts in keys:
        by_item.setdefault(item_id, []).append(ts)
    wanted = {(i, _epoch(t)) for i, t in keys}
    found: dict[tuple[int, int], float] = {}
    items = sorted(by_item)
    lo = min(t for _, t in keys)
    hi = max(t for _, t in keys)
    with connection.cursor() as cur:
        for k in range(0, len(items), 500):
            chunk = items[k : k + 500]
            marks = ",".join(["%s"] * len(chunk))
            cur.execute(
                f"SELECT item_id, ts, value FROM {TABLE} WHERE item_id IN ({marks}) "
                "AND ts >= %s AND ts <= %s",
                [*chunk, _db_ts(lo), _db_ts(hi)],
            )
            for item_id, ts, value in cur.fetchall():
                key = (int(item_id), _epoch(_from_db(ts)))
                if key in wanted:
                    found[key] = float(value)
    return found


def write(rows: Sequence[Row]) -> WriteResult:
    """Insert readings, ignoring (item_id, ts) already stored. Call inside a transaction.

    Rows must be unique on (item_id, ts) within the call (the service drops in-batch repeats).
    """
    if not rows:
        return WriteResult(set(), set())
    if connection.vendor == "postgresql":
        return _write_pg(rows)
    return _write_sqlite(rows)


def _write_pg(rows: Sequence[Row]) -> WriteResult:
    """unnest() of typed arrays; times travel as epoch seconds (cheaper to adapt than datetimes)."""
    stored: set[tuple[int, int]] = set()
    sql = (
        f"INSERT INTO {TABLE} (item_id, ts, value, source, batch_id) "
        "SELECT i, to_timestamp(t), v, s, b FROM unnest(%s::bigint[], %s::bigint[], "
        "%s::float8[], %s::int2[], %s::bigint[]) AS u(i, t, v, s, b) "
        "ON CONFLICT DO NOTHING RETURNING item_id, extract(epoch FROM ts)::bigint"
    )
    every: set[tuple[int, int]] = set()
    with connection.cursor() as cur:
        for k in range(0, len(rows), CHUNK):
            chunk = rows[k : k + CHUNK]
            epochs = [_epoch(r[1]) for r in chunk]
            every.update(zip((r[0] for r in chunk), epochs, strict=True))
            cur.execute(
                sql,
                [
                    [r[0] for r in chunk],
                    epochs,
                    [r[2] for r in chunk],
                    [r[3] for r in chunk],
                    [r[4] for r in chunk],
                ],
            )
            stored.update((int(i), int(t)) for i, t in cur.fetchall())
    return WriteResult(stored, every - stored)


def _write_sqlite(rows: Sequence[Row]) -> WriteResult:
    before = existing_keys([(r[0], r[1]) for r in rows])
    new = [r for r in rows if (r[0], _epoch(r[1])) not in before]
    sql = (
        f"INSERT INTO {TABLE} (item_id, ts, value, source, batch_id) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cur:
        for k in range(0, len(new), CHUNK):
            cur.executemany(
                sql, [(r[0], _db_ts(r[1]), r[2], r[3], r[4]) for r in new[k : k + CHUNK]]
            )
    return WriteResult({(r[0], _epoch(r[1])) for r in new}, set(before))


def copy_write(rows: Iterable[Row]) -> int:
    """Bulk load through COPY (PostgreSQL) into a staging table, then one idempotent insert.

    Returns the number of rows stored. On SQLite, falls back to :func:`write`.
    """
    if connection.vendor != "postgresql":
        rows = list(rows)
        return len(write(rows).stored)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS metering_reading_stage "
            "(item_id bigint, ts timestamptz, value float8, source int2, batch_id bigint) "
            "ON COMMIT DELETE ROWS"
        )
        buf = io.StringIO()
        null = "\\N"
        for item_id, ts, value, source, batch in rows:
            b = null if batch is None else batch
            buf.write(f"{item_id}\t{ts.isoformat()}\t{value!r}\t{source}\t{b}\n")
        with cur.cursor.copy(
            "COPY metering_reading_stage (item_id, ts, value, source, batch_id) FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
        cur.execute(
            f"INSERT INTO {TABLE} (item_id, ts, value, source, batch_id) "
            "SELECT item_id, ts, value, source, batch_id FROM metering_reading_stage "
            "ON CONFLICT DO NOTHING"
        )
        n = cur.rowcount
        cur.execute("DELETE FROM metering_reading_stage")
    return int(n)


# ---------------------------------------------------------------------------------------------
# Reads


def _item_filter(item_ids: Sequence[int] | None) -> tuple[str, list[object]]:
    if item_ids is None:
        return "", []
    if not item_ids:
        return " AND 1 = 0", []
    return f" AND item_id IN ({','.join(['%s'] * len(item_ids))})", list(item_ids)


@dataclass(frozen=True)
class Aggregate:
    item_id: int
    n: int
    total: float
    mean: float
    min_value: float
    max_value: float
    first_ts: dt.datetime
    last_ts: dt.datetime


def aggregates(
    start: dt.datetime, end: dt.datetime, item_ids: Sequence[int] | None = None
) -> list[Aggregate]:
    """Per item: count, sum, mean, min, max, first and last time of readings in [start, end)."""
    where, params = _item_filter(item_ids)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT item_id, COUNT(*), SUM(value), AVG(value), MIN(value), MAX(value), MIN(ts), "
            f"MAX(ts) FROM {TABLE} WHERE ts >= %s AND ts < %s{where} GROUP BY item_id",
            [_db_ts(start), _db_ts(end), *params],
        )
        return [
            Aggregate(
                int(r[0]),
                int(r[1]),
                float(r[2]),
                float(r[3]),
                float(r[4]),
                float(r[5]),
                _from_db(r[6]),
                _from_db(r[7]),
            )
            for r in cur.fetchall()
        ]


@dataclass(frozen=True)
class RunRow:
    item_id: int
    value: float
    count: int
    start: dt.datetime
    end: dt.datetime


def identical_runs(
    start: dt.datetime,
    end: dt.datetime,
    min_count: int,
    item_ids: Sequence[int] | None = None,
    *,
    ignore_zero: bool = True,
) -> list[RunRow]:
    """Runs of equal consecutive values, in one pass sorted like the primary key.

    Only readings equal to their predecessor ("repeats") are kept; a run of n equal values is
    n − 1 consecutive repeats, found by the row-number difference (gaps and islands). The SQL
    twin of :func:`dualcontrol.core.metering.identical_runs` (same results, tested).
    """
    where, params = _item_filter(item_ids)
    zero = " AND value <> 0" if ignore_zero else ""
    with connection.cursor() as cur:
        cur.execute(
            f"WITH r AS ("
            f"  SELECT item_id, ts, value, ROW_NUMBER() OVER w AS rn,"
            f"    LAG(value) OVER w AS prev, LAG(ts) OVER w AS prev_ts"
            f"  FROM {TABLE} WHERE ts >= %s AND ts < %s{where}"
            f"  WINDOW w AS (PARTITION BY item_id ORDER BY ts)"
            f"), rep AS ("
            f"  SELECT item_id, ts, value, prev_ts,"
            f"    rn - ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY ts) AS grp"
            f"  FROM r WHERE value = prev{zero}"
            f") SELECT item_id, value, COUNT(*) + 1, MIN(prev_ts), MAX(ts) FROM rep"
            f" GROUP BY item_id, value, grp HAVING COUNT(*) + 1 >= %s",
            [_db_ts(start), _db_ts(end), *params, min_count],
        )
        return [
            RunRow(int(r[0]), float(r[1]), int(r[2]), _from_db(r[3]), _from_db(r[4]))
            for r in cur.fetchall()
        ]


def series(
    item_ids: Sequence[int], start: dt.datetime, end: dt.datetime, limit: int | None = None
) -> list[tuple[int, dt.datetime, float, int]]:
    """(item_id, ts, value, source) in [start, end), ordered by item and time."""
    where, params = _item_filter(item_ids)
    lim = f" LIMIT {int(limit)}" if limit else ""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT item_id, ts, value, source FROM {TABLE} WHERE ts >= %s AND ts < %s{where} "
            f"ORDER BY item_id, ts{lim}",
            [_db_ts(start), _db_ts(end), *params],
        )
        return [(int(r[0]), _from_db(r[1]), float(r[2]), int(r[3])) for r in cur.fetchall()]


def count(item_ids: Sequence[int] | None = None) -> int:
    where, params = _item_filter(item_ids)
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE 1 = 1{where}", params)
        return int(cur.fetchone()[0])


def table_bytes() -> int | None:
    """Size of the readings table with its indexes (PostgreSQL), for the benchmark."""
    if connection.vendor != "postgresql":
        return None
    total = 0
    with connection.cursor() as cur:
        for name, _ in partitions():
            cur.execute("SELECT pg_total_relation_size(%s)", [name])
            total += int(cur.fetchone()[0])
    return total
