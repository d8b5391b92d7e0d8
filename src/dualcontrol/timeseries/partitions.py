"""Monthly range partitions of the raw time series tables (PostgreSQL), managed by pg_partman.

Two modes, chosen when the migration turns a table into a partitioned one:

* **pg_partman** (``postgresql-15-partman``; the extension is created when
  ``pg_available_extensions`` lists it and the migrating role may create it): ``create_parent``
  makes the monthly partitions, a default partition catches any row outside them,
  ``run_maintenance`` keeps ``premake`` months created ahead, ``partition_data_time`` moves rows
  out of the default partition, and ``drop_partition_time`` applies the retention;
* **hand-made** (pg_partman absent): one partition ``<table>_pYYYYMM`` per month, created on
  demand before a batch is written (:func:`ensure_partitions`, serialised by an advisory lock),
  dropped by the maintenance when the whole month has expired.

Months are calendar months in the platform's time zone (``settings.TIME_ZONE``) in both modes:
every pg_partman call runs with the transaction's ``TimeZone`` set to it, so its boundaries are
local midnights, like the hand-made ones.  pg_partman's own background worker is not used (it
would apply the retention without the roll-ups being computed first; docs/operations.md).
SQLite keeps plain tables: nothing here runs there.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction

log = logging.getLogger(__name__)

PARTMAN_SCHEMA = "partman"
_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@cache
def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=local_tz())


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` (local time) moved by whole months, the day clamped to the month's length."""
    local = when.astimezone(local_tz())
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    first = dt.date(year, month + 1, 1)
    last_day = (next_month(first) - dt.timedelta(days=1)).day
    return local.replace(year=year, month=month + 1, day=min(local.day, last_day))


def months_of(timestamps: Iterable[dt.datetime]) -> set[dt.date]:
    tz = local_tz()
    return {ts.astimezone(tz).date().replace(day=1) for ts in timestamps}


# ---------------------------------------------------------------------------------------------
# Which mode


def partman_schema(cur: Any) -> str | None:
    """The schema pg_partman is installed in (this database), or None."""
    cur.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_partman'"
    )
    row = cur.fetchone()
    return str(row[0]) if row else None


def partman_available(cur: Any) -> bool:
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman'")
    return cur.fetchone() is not None


def install_partman(conn: Any) -> str | None:
    """Create the extension when the server has it (in a savepoint: a role that may not create
    extensions falls back to hand-made partitions instead of failing the migration)."""
    with conn.cursor() as cur:
        schema = partman_schema(cur)
        if schema or not partman_available(cur):
            return schema
        try:
            with transaction.atomic(using=conn.alias):
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{PARTMAN_SCHEMA}"')
                cur.execute(f'CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA "{PARTMAN_SCHEMA}"')
        except DatabaseError as exc:
            log.warning("pg_partman is available but cannot be created (%s): hand-made", exc)
            return None
        return partman_schema(cur)


def qualified(cur: Any, table: str) -> str:
    cur.execute("SELECT current_schema()")
    return f"{cur.fetchone()[0]}.{table}"


def managed_schema(cur: Any, table: str) -> str | None:
    """pg_partman's schema when it manages ``table``, else None (hand-made or SQLite)."""
    schema = partman_schema(cur)
    if schema is None:
        return None
    cur.execute(
        f'SELECT 1 FROM "{schema}".part_config WHERE parent_table = %s', [qualified(cur, table)]
    )
    return schema if cur.fetchone() else None


def mode(table: str, conn: Any = None) -> str:
    """``pg_partman``, ``partitions`` (hand-made), ``plain`` (PostgreSQL, not partitioned) or
    ``sqlite``."""
    conn = conn or connection
    if conn.vendor != "postgresql":
        return "sqlite"
    with conn.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cur.fetchone()
        if not row or row[0] != "p":
            return "plain"
        return "pg_partman" if managed_schema(cur, table) else "partitions"


@contextmanager
def _local_time_zone(cur: Any) -> Iterator[None]:
    """pg_partman computes boundaries in the session's zone: the platform's while it runs, then
    the zone before (``set_config(…, true)`` alone would last to the end of an outer
    transaction)."""
    cur.execute("SELECT current_setting('TimeZone')")
    before = cur.fetchone()[0]
    cur.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
    try:
        yield
    finally:
        cur.execute("SELECT set_config('TimeZone', %s, true)", [before])


# ---------------------------------------------------------------------------------------------
# Names and listing


def handmade_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month.year:04d}{month.month:02d}"


def partman_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def partition_name(table: str, month: dt.date, conn: Any = None) -> str:
    return (
        partman_name(table, month)
        if mode(table, conn) == "pg_partman"
        else handmade_name(table, month)
    )


@dataclass(frozen=True)
class Partition:
    name: str
    bounds: str  # as PostgreSQL prints them
    start: dt.datetime | None  # None: the default partition
    end: dt.datetime | None

    @property
    def is_default(self) -> bool:
        return self.start is None


def _parse_ts(text: str) -> dt.datetime:
    text = text.strip()
    if re.search(r"[+-]\d\d$", text):
        text += ":00"
    return dt.datetime.fromisoformat(text)


def list_partitions(table: str, conn: Any = None) -> list[Partition]:
    """The partitions of ``table`` in time order (the default partition last)."""
    conn = conn or connection
    if conn.vendor != "postgresql":
        return []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        rows = cur.fetchall()
    out = []
    for name, bounds in rows:
        m = _BOUNDS.search(bounds or "")
        if m:
            out.append(Partition(name, bounds, _parse_ts(m.group(1)), _parse_ts(m.group(2))))
        else:
            out.append(Partition(name, bounds or "", None, None))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda p: (p.start or far, p.name))


# ---------------------------------------------------------------------------------------------
# Creating partitions


def ensure_partitions(table: str, months: Iterable[dt.date], conn: Any = None) -> list[str]:
    """Create the monthly partitions of ``table`` that do not exist yet (PostgreSQL; no-op on
    SQLite or a table that is not partitioned).  Returns the names created.

    Run it before the write transaction: creating a partition locks the parent briefly.
    Concurrent writers of a new month are serialised by an advisory lock and look again once
    they hold it (``CREATE TABLE IF NOT EXISTS`` alone is not safe against a second session
    creating the same table at the same moment: issue 13).
    """
    conn = conn or connection
    if conn.vendor != "postgresql":
        return []
    kind = mode(table, conn)
    if kind not in ("pg_partman", "partitions"):
        return []
    created: list[str] = []
    name_of = partman_name if kind == "pg_partman" else handmade_name
    with conn.cursor() as cur:
        schema = managed_schema(cur, table) if kind == "pg_partman" else None
        parent = qualified(cur, table)
        for month in sorted(set(months)):
            name = name_of(table, month)
            cur.execute("SELECT to_regclass(%s)", [name])
            if cur.fetchone()[0] is not None:
                continue
            key = f"partition:{table}"
            # a session lock (not a transaction's): the second look is then its own statement
            # in autocommit, with a snapshot taken after the lock was granted
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
            try:
                cur.execute("SELECT to_regclass(%s)", [name])
                if cur.fetchone()[0] is not None:
                    continue  # another writer created it while we waited
                start = month_start(month)
                try:
                    with transaction.atomic(using=conn.alias):
                        if schema:
                            with _local_time_zone(cur):
                                cur.execute(
                                    f'SELECT "{schema}".create_partition_time(%s, ARRAY[%s]::'
                                    "timestamptz[], false)",
                                    [parent, start],
                                )
                        else:
                            end = month_start(next_month(month))
                            cur.execute(
                                f'CREATE TABLE "{name}" PARTITION OF "{table}" '
                                "FOR VALUES FROM (%s) TO (%s)",
                                [start, end],
                            )
                except DatabaseError as exc:
                    if not schema:
                        raise
                    # rows of this month wait in the default partition: the maintenance moves
                    # them (partition_data_time) and creates the month then
                    log.warning("%s: month %s not created now (%s)", table, month, exc)
                    continue
                created.append(name)
            finally:
                cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
    return created


def premake(table: str, months_ahead: int, *, now: dt.datetime, conn: Any = None) -> list[str]:
    """Keep the current month and ``months_ahead`` more created (pg_partman's
    ``run_maintenance`` for a managed table, :func:`ensure_partitions` otherwise)."""
    conn = conn or connection
    kind = mode(table, conn)
    if kind == "pg_partman":
        before = {p.name for p in list_partitions(table, conn)}
        with conn.cursor() as cur, transaction.atomic(using=conn.alias):
            schema = managed_schema(cur, table)
            parent = qualified(cur, table)
            cur.execute(
                f'UPDATE "{schema}".part_config SET premake = %s, '
                "infinite_time_partitions = true WHERE parent_table = %s",
                [months_ahead, parent],
            )
            with _local_time_zone(cur):
                cur.execute(f'SELECT "{schema}".run_maintenance(%s, false, false)', [parent])
        return sorted({p.name for p in list_partitions(table, conn)} - before)
    if kind == "partitions":
        month = now.astimezone(local_tz()).date().replace(day=1)
        months = [month]
        for _ in range(months_ahead):
            months.append(next_month(months[-1]))
        return ensure_partitions(table, months, conn)
    return []


def move_default_rows(table: str, conn: Any = None, batches: int = 1000) -> int:
    """pg_partman: move the rows of the default partition into monthly partitions (created as
    needed); returns the rows moved.  Nothing to do for hand-made partitions (no default)."""
    conn = conn or connection
    if mode(table, conn) != "pg_partman":
        return 0
    moved = 0
    with conn.cursor() as cur:
        schema = managed_schema(cur, table)
        parent = qualified(cur, table)
        while True:
            with transaction.atomic(using=conn.alias), _local_time_zone(cur):
                cur.execute(
                    f'SELECT "{schema}".partition_data_time(%s, %s, NULL, 0, %s, false)',
                    [parent, batches, "ASC"],
                )
                n = int(cur.fetchone()[0] or 0)
            moved += n
            if n == 0:
                return moved


def expired(table: str, cutoff: dt.datetime, conn: Any = None) -> list[Partition]:
    """Partitions whose whole month lies before ``cutoff`` (never the default partition)."""
    return [
        p
        for p in list_partitions(table, conn)
        if p.end is not None and p.end <= cutoff and not p.is_default
    ]


def drop_expired(table: str, *, months: int, now: dt.datetime, conn: Any = None) -> list[str]:
    """Drop the partitions older than ``months`` months before ``now``; returns their names.

    pg_partman: ``drop_partition_time`` with the policy's retention and ``now`` as reference
    (the table's ``part_config.retention`` stays empty, so pg_partman never drops on its own
    before the roll-ups are computed).  Hand-made: ``DROP TABLE`` of each expired month.
    """
    conn = conn or connection
    kind = mode(table, conn)
    before = {p.name for p in list_partitions(table, conn)}
    if kind == "pg_partman":
        with conn.cursor() as cur, transaction.atomic(using=conn.alias):
            schema = managed_schema(cur, table)
            parent = qualified(cur, table)
            with _local_time_zone(cur):
                cur.execute(
                    f'SELECT "{schema}".drop_partition_time(%s, %s::interval, false, false, '
                    "NULL, %s)",
                    [parent, f"{months} months", now],
                )
        return sorted(before - {p.name for p in list_partitions(table, conn)})
    if kind == "partitions":
        cutoff = add_months(now, -months)
        names = [p.name for p in expired(table, cutoff, conn)]
        with conn.cursor() as cur:
            for name in names:
                with transaction.atomic(using=conn.alias):
                    cur.execute(f'DROP TABLE "{name}"')
        return names
    return []


# ---------------------------------------------------------------------------------------------
# Migrations: a plain (or hand-made) table becomes a partitioned one


def convert_to_partitioned(
    schema_editor: Any,
    *,
    table: str,
    column: str,
    primary_key: Sequence[str],
    indexes: Sequence[str] = (),
    premake_months: int = 3,
    only_with_partman: bool = False,
) -> str:
    """Rebuild ``table`` as a table partitioned by month on ``column`` and copy its rows.

    ``indexes``: ``CREATE INDEX`` statements for the new parent (the primary key is made here;
    it must include ``column``).  With ``only_with_partman`` (a table that already has hand-made
    partitions) nothing happens when pg_partman cannot be used.  Returns the mode.
    """
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return "sqlite"
    if column not in primary_key:
        raise ValueError(f"{table}: the primary key must include the partition key {column}")
    schema = install_partman(conn)
    if schema is None and only_with_partman:
        return mode(table, conn)
    old = f"{table}_unpartitioned"
    with conn.cursor() as cur:
        cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cur.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(%s)",
            [old],
        )
        for (index,) in cur.fetchall():  # the names are reused by the new table
            cur.execute(f'ALTER INDEX "{index}" RENAME TO "{index[:50]}_unpart"')
        cur.execute(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING STORAGE) '
            f'PARTITION BY RANGE ("{column}")'
        )
        keys = ", ".join(f'"{c}"' for c in primary_key)
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({keys})')
        for sql in indexes:
            cur.execute(sql)
        cur.execute(
            f'SELECT DISTINCT date_trunc(\'month\', "{column}" AT TIME ZONE %s)::date FROM "{old}"',
            [settings.TIME_ZONE],
        )
        months = sorted(r[0] for r in cur.fetchall())
        today = dt.datetime.now(local_tz()).date().replace(day=1)
        if schema:
            first = min([*months, today])
            with _local_time_zone(cur):
                cur.execute(
                    f'SELECT "{schema}".create_parent(p_parent_table := %s, p_control := %s, '
                    "p_type := 'native', p_interval := 'monthly', p_premake := %s, "
                    "p_start_partition := %s, p_jobmon := false)",
                    [qualified(cur, table), column, premake_months, f"{first:%Y-%m-%d} 00:00:00"],
                )
            cur.execute(
                f'UPDATE "{schema}".part_config SET infinite_time_partitions = true '
                "WHERE parent_table = %s",
                [qualified(cur, table)],
            )
        else:
            wanted = set(months)
            month = today
            for _ in range(premake_months + 1):
                wanted.add(month)
                month = next_month(month)
            for month in sorted(wanted):
                cur.execute(
                    f'CREATE TABLE "{handmade_name(table, month)}" PARTITION OF "{table}" '
                    "FOR VALUES FROM (%s) TO (%s)",
                    [month_start(month), month_start(next_month(month))],
                )
        cur.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        cur.execute(f'DROP TABLE "{old}" CASCADE')
    return "pg_partman" if schema else "partitions"


def convert_to_plain(
    schema_editor: Any, *, table: str, primary_key: Sequence[str], indexes: Sequence[str] = ()
) -> None:
    """The reverse of :func:`convert_to_partitioned` (a plain table with the same rows)."""
    conn = schema_editor.connection
    if conn.vendor != "postgresql" or mode(table, conn) == "plain":
        return
    old = f"{table}_partitioned"
    with conn.cursor() as cur:
        schema = managed_schema(cur, table)
        if schema:
            cur.execute(
                f'DELETE FROM "{schema}".part_config WHERE parent_table = %s',
                [qualified(cur, table)],
            )
        cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cur.execute(f'ALTER INDEX "{table}_pkey" RENAME TO "{table}_pkey_part"')
        cur.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING STORAGE)')
        keys = ", ".join(f'"{c}"' for c in primary_key)
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({keys})')
        for sql in indexes:
            cur.execute(sql)
        cur.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        cur.execute(f'DROP TABLE "{old}" CASCADE')
