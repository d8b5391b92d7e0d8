"""The database :class:`~dualcontrol.ingest.hj212_server.PacketSink`: batched, durable, idempotent.

``await DatabaseSink().write(records)`` stores a batch of HJ 212 data records in one transaction
and returns when it is committed (the receiver then answers the stations):

* PostgreSQL: the receipts are ``COPY``-ed into a temporary staging table (created once per
  connection, emptied at commit) and moved with ``INSERT … SELECT … ON CONFLICT DO NOTHING
  RETURNING`` — which tells the new records from the retransmitted ones —; the readings of the new
  records are then ``COPY``-ed straight into their tables (none can exist yet: receipts and
  readings are written together); should one exist anyway, that table takes the staging path
  with ``ON CONFLICT DO NOTHING`` (a savepoint keeps the batch);
* SQLite: ``executemany`` of ``INSERT OR IGNORE``.

Idempotent on (MN, CN, DataTime): a record already stored is skipped (:class:`Receipt` and the
readings tables have that key), so a retransmission — even after a restart of the receiver — is
stored once.  Records of MNs without a registered outlet are stored too (the data are keyed by
MN) and counted; the :class:`Station` row of every MN in the batch is upserted (last seen, newest
DataTime, records stored).  Content the tables cannot hold (an over-long MN or code, a DataTime
outside the accepted years) is refused record by record, counted and logged — it never fails the
batch, so one bad station cannot block the others.

The database work runs in worker threads, each with its own connection (``write`` awaits it), so
the event loop keeps receiving while batches are written: two on PostgreSQL (one batch's rows are
prepared while the server works on the other's), one on SQLite (a single writer).  Those
connections are kept for the life of the sink and replaced when Django marks them unusable;
:meth:`aclose` closes them.  :meth:`store` is the
same work synchronously on the caller's connection (the demo uses it inside its transaction).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import errors as psycopg_errors

from dualcontrol.audit.services import record as audit_record
from dualcontrol.core.hj212_stream import DataRecord
from dualcontrol.monitoring.models import (
    CODE_LENGTH,
    FLAG_LENGTH,
    MN_LENGTH,
    NUMERIC_COLUMNS,
    READING_MODELS,
    OtherReading,
    Outlet,
    Receipt,
    ReceiptVersion,
    Station,
    reading_model,
)
from dualcontrol.monitoring.rules import MonitoringRules, monitoring_rules
from dualcontrol.timeseries.partitions import ensure_partitions, local_tz

log = logging.getLogger("dualcontrol.monitoring.sink")

UTC = dt.UTC
NUMERIC = tuple(NUMERIC_COLUMNS)  # HJ 212 suffixes with their own column, in column order
NUMERIC_INDEX = {suffix: i for i, suffix in enumerate(NUMERIC)}
READING_COLUMNS = ("mn", "data_time", "code", *NUMERIC_COLUMNS.values(), "flag", "extra")
RECEIPT_COLUMNS = (
    "mn",
    "cn",
    "data_time",
    "st",
    "qn",
    "flag",
    "version",
    "received_at",
    "codes",
    "digest",
    "revision",
)
OTHER = "other"
TABLES: dict[str, str] = {cn: m._meta.db_table for cn, m in READING_MODELS.items()}
TABLES[OTHER] = OtherReading._meta.db_table
#: CN -> table partitioned by month on PostgreSQL (migration 0004; issue 22)
PARTITIONED: dict[str, str] = {cn: TABLES[cn] for cn in ("2011", "2051")}
RECEIPT_TABLE = Receipt._meta.db_table
STATION_TABLE = Station._meta.db_table
KNOWN_REFRESH_S = 60.0


@dataclass
class SinkStats:
    """Counters since the sink was made (the receiver logs them with its own)."""

    batches: int = 0
    records: int = 0  # handed to the sink
    stored: int = 0  # new records (receipts inserted)
    duplicates: int = 0  # already stored with the same content: skipped
    corrected: int = 0  # already stored with other content: new version, old one kept
    refused: int = 0  # content the tables cannot hold (counted, logged)
    readings: int = 0  # reading rows offered (new or not)
    unregistered: int = 0  # records of MNs without an outlet (stored)
    unregistered_mns: set[str] = field(default_factory=set)
    seconds: float = 0.0  # time spent writing

    def snapshot(self) -> dict[str, object]:
        return {
            "batches": self.batches,
            "records": self.records,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "corrected": self.corrected,
            "refused": self.refused,
            "readings": self.readings,
            "unregistered_records": self.unregistered,
            "unregistered_mns": len(self.unregistered_mns),
            "write_seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class BatchResult:
    records: int
    stored: int
    duplicates: int
    corrected: int
    refused: int
    readings: int


class _Prepared:
    """A batch as rows for one engine: receipts, readings per target table, newest time per MN.

    PostgreSQL rows are lines of COPY text; SQLite rows are parameter tuples.
    """

    __slots__ = ("digests", "keys", "last", "owners", "readings", "receipts", "records", "refused")

    def __init__(self) -> None:
        self.receipts: list[Any] = []
        self.keys: list[tuple[str, str, dt.datetime]] = []  # record key of each receipt row
        self.digests: list[str] = []  # content digest of each receipt row
        self.records: list[DataRecord] = []  # the record of each receipt row
        self.readings: dict[str, list[Any]] = {}
        self.owners: dict[str, list[int]] = {}  # receipt row of each reading row
        self.last: dict[str, tuple[dt.datetime, Any]] = {}  # MN -> (aware, engine value)
        self.refused = 0


class DatabaseSink:
    """HJ 212 records -> monitoring tables (see the module docstring)."""

    def __init__(
        self,
        *,
        using: str = DEFAULT_DB_ALIAS,
        rules: MonitoringRules | None = None,
        workers: int | None = None,
    ) -> None:
        self.using = using
        self.rules = rules or monitoring_rules()
        self.tz = self.rules.tz
        self.stats = SinkStats()
        self._workers = workers
        self._executors: list[ThreadPoolExecutor] = []
        self._idle: asyncio.Queue[ThreadPoolExecutor] | None = None
        self._times: dict[tuple[str, dt.datetime], tuple[dt.datetime, Any]] = {}
        # per worker thread: the PostgreSQL connection its staging tables live on
        self._local = threading.local()
        self._lock = threading.Lock()  # the counters, updated from the worker threads
        self._months_ready: dict[str, set[dt.date]] = {}  # partitions known to exist (issue 22)
        self._known: frozenset[str] = frozenset()
        self._known_at = -math.inf
        self._refusals_logged = 0

    # async side ---------------------------------------------------------------------------

    @property
    def max_concurrent_writes(self) -> int:
        """Batches written at once (PacketSink): ``workers`` (default 2) on PostgreSQL; 1 on
        SQLite, which has one writer at a time."""
        if connections[self.using].vendor != "postgresql":
            return 1
        return 2 if self._workers is None else max(1, self._workers)

    async def write(self, records: Sequence[DataRecord]) -> None:
        """PacketSink.write: durable when it returns; raises when nothing was stored."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            for number in range(self.max_concurrent_writes):
                executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=f"hj212-db-{number}"
                )
                self._executors.append(executor)
                self._idle.put_nowait(executor)
        executor = await self._idle.get()
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(executor, self._write_in_thread, list(records))
        finally:
            self._idle.put_nowait(executor)

    async def aclose(self) -> None:
        """Close the worker threads' connections and stop the threads."""
        loop = asyncio.get_running_loop()
        for executor in self._executors:
            await loop.run_in_executor(executor, self._close_connection)
            executor.shutdown(wait=True)
        self._executors = []
        self._idle = None

    def _close_connection(self) -> None:
        connections[self.using].close()  # this thread's connection

    def _write_in_thread(self, records: list[DataRecord]) -> None:
        conn = connections[self.using]
        # What close_old_connections() does, except that a healthy connection is kept for the
        # life of the receiver (CONN_MAX_AGE is about web requests; 0 would reconnect per batch).
        if conn.connection is not None and conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()
        try:
            self.store(records)
        except Exception:
            conn.errors_occurred = True
            raise

    # synchronous core ---------------------------------------------------------------------

    def store(self, records: Sequence[DataRecord]) -> BatchResult:
        """Store ``records`` in one transaction on this thread's connection."""
        started = time.perf_counter()
        now = dt.datetime.now(UTC)
        conn = connections[self.using]
        postgres = conn.vendor == "postgresql"
        prepared = self._prepare(records, "pg" if postgres else "sqlite")
        if postgres:
            self._ensure_partitions(conn, prepared)
        with transaction.atomic(using=self.using):
            if postgres:
                new_by_mn, candidates = self._store_postgresql(conn, prepared)
            else:
                new_by_mn = self._store_sqlite(conn, prepared, now)
                candidates = _not_all_new(prepared, new_by_mn)
            corrected = self._corrections(prepared, candidates, now) if candidates else 0
            self._upsert_stations(conn, prepared, new_by_mn, now)
        stored = sum(new_by_mn.values())
        accepted = len(prepared.receipts)
        readings = sum(len(rows) for rows in prepared.readings.values())
        result = BatchResult(
            records=len(records),
            stored=stored,
            duplicates=accepted - stored - corrected,
            corrected=corrected,
            refused=prepared.refused,
            readings=readings,
        )
        unregistered = self._unregistered(new_by_mn)
        with self._lock:
            stats = self.stats
            stats.batches += 1
            stats.records += result.records
            stats.stored += stored
            stats.duplicates += result.duplicates
            stats.corrected += corrected
            stats.refused += result.refused
            stats.readings += readings
            for mn, count in unregistered.items():
                stats.unregistered += count
                if mn not in stats.unregistered_mns:
                    stats.unregistered_mns.add(mn)
                    log.warning("HJ 212 data from MN=%s, which no outlet is registered for", mn)
            stats.seconds += time.perf_counter() - started
        return result

    def _ensure_partitions(self, conn: Any, prepared: _Prepared) -> None:
        """The monthly partitions of the real-time and minute tables for this batch (before the
        write transaction; each month looked up once per sink: ``timeseries.partitions``)."""
        wanted: dict[str, set[dt.date]] = {}
        tz = local_tz()
        for _mn, cn, when in prepared.keys:
            table = PARTITIONED.get(cn)
            if table is not None:
                wanted.setdefault(table, set()).add(when.astimezone(tz).date().replace(day=1))
        for table, months in wanted.items():
            ready = self._months_ready.setdefault(table, set())
            missing = months - ready
            if missing:
                ensure_partitions(table, missing, conn)
                ready.update(missing)

    # rows ---------------------------------------------------------------------------------

    def _time(self, naive: dt.datetime, engine: str) -> tuple[dt.datetime, Any]:
        """Station local time (HJ 212 has no zone) -> (aware, the engine's column text); cached."""
        key = (engine, naive)
        cached = self._times.get(key)
        if cached is None:
            if len(self._times) > 100_000:
                self._times.clear()
            local = naive.replace(tzinfo=self.tz)
            if engine == "pg":
                text = local.isoformat(sep=" ")
            else:  # Django's SQLite storage of an aware datetime: naive UTC text
                text = str(local.astimezone(UTC).replace(tzinfo=None))
            cached = self._times[key] = (local.astimezone(UTC), text)
        return cached

    def _refuse(self, record: DataRecord, why: str) -> None:
        self._refusals_logged += 1
        level = logging.WARNING if self._refusals_logged <= 100 else logging.DEBUG
        log.log(level, "HJ 212 record MN=%r CN=%s refused: %s", record.mn[:40], record.cn, why)

    def _prepare(self, records: Sequence[DataRecord], engine: str) -> _Prepared:
        out = _Prepared()
        first_year, last_year = self.rules.accepted_years
        copy = engine == "pg"
        null = "\\N" if copy else None  # COPY text's NULL, or a parameter
        numeric_index = NUMERIC_INDEX
        width = len(NUMERIC)
        readings = out.readings
        last = out.last
        escaped: dict[str, str] = {}  # COPY text of MNs, codes and flags of this batch
        for record in records:
            mn = record.mn
            if len(mn) > MN_LENGTH or "\x00" in mn:
                out.refused += 1
                self._refuse(record, f"MN longer than {MN_LENGTH} characters or not text")
                continue
            naive = record.data_time
            if not first_year <= naive.year <= last_year:
                out.refused += 1
                self._refuse(record, f"DataTime {naive:%Y-%m-%d} outside the accepted years")
                continue
            cn = record.cn
            if not 0 < len(cn) <= 4 or "\x00" in cn:
                out.refused += 1
                self._refuse(record, "CN is not a 4-character command code")
                continue
            aware, when = self._time(naive, engine)
            table = cn if cn in TABLES else OTHER
            rows = readings.get(table)
            if rows is None:
                rows = readings[table] = []
                out.owners[table] = []
            owners = out.owners[table]
            owner = len(out.receipts)
            if copy:
                mn_e = escaped.get(mn) or escaped.setdefault(mn, _escape(mn))
                cn_e = _escape(cn)
                head = f"{mn_e}\t{when}" if table != OTHER else f"{mn_e}\t{cn_e}\t{when}"
            codes = 0
            sources = record.source_codes
            for code, entry in record.values.items():
                if len(code) > CODE_LENGTH or "\x00" in code:
                    continue  # an item the table cannot key; the rest of the record is kept
                numbers: list[str | None] = [null] * width
                flag = ""
                extra: dict[str, str] | None = None
                for suffix, value in entry.items():
                    column = numeric_index.get(suffix)
                    if column is not None:
                        # The number's own text: a double column parses it (PostgreSQL COPY,
                        # SQLite REAL affinity) — exact to the double, no float() round trip.
                        if (
                            type(value) is Decimal
                            and value.is_finite()
                            and -300 < value.adjusted() < 300
                        ):
                            numbers[column] = str(value)
                            continue
                    elif (
                        suffix == "Flag"
                        and type(value) is str
                        and 0 < len(value) <= FLAG_LENGTH
                        and "\x00" not in value
                    ):
                        flag = value
                        continue
                    # other fields, and numbers a double cannot hold, keep their text
                    if extra is None:
                        extra = {}
                    extra[_text(suffix)] = _text(value)
                if code in sources:
                    if extra is None:
                        extra = {}
                    extra["source_code"] = _text(sources[code])
                if copy:
                    code_e = escaped.get(code) or escaped.setdefault(code, _escape(code))
                    flag_e = escaped.get(flag) or escaped.setdefault(flag, _escape(flag))
                    rows.append(
                        "\t".join(
                            (
                                head,
                                code_e,
                                *numbers,  # type: ignore[arg-type]
                                flag_e,
                                null if extra is None else _escape(_json(extra)),
                            )
                        )
                    )
                elif table == OTHER:
                    rows.append((mn, cn, when, code, *numbers, flag, _json_or_none(extra)))
                else:
                    rows.append((mn, when, code, *numbers, flag, _json_or_none(extra)))
                owners.append(owner)
                codes += 1
            st, qn = _text(record.st[:2]), _text((record.qn or "")[:20])
            version, flag_int = _text((record.version or "")[:32]), record.flag
            codes = min(codes, 32_767)
            digest = record.digest
            if copy:
                flag_e = null if flag_int is None else str(flag_int)
                out.receipts.append(
                    f"{mn_e}\t{cn_e}\t{when}\t{_escape(st)}\t{_escape(qn)}\t"
                    f"{flag_e}\t{_escape(version)}\t{codes}\t{digest}\t1"
                )
            else:
                out.receipts.append(
                    (mn, cn, when, st, qn, flag_int, version, None, codes, digest, 1)
                )
            out.keys.append((mn, cn, aware))
            out.digests.append(digest)
            out.records.append(record)
            previous = last.get(mn)
            if previous is None or aware > previous[0]:
                last[mn] = (aware, when)
        return out

    # PostgreSQL ---------------------------------------------------------------------------

    def _store_postgresql(self, conn: Any, prepared: _Prepared) -> tuple[Counter[str], list[int]]:
        """New records per MN, and the receipt rows not inserted (stored before: duplicates or
        corrections)."""
        conn.ensure_connection()
        pg = conn.connection
        new_by_mn: Counter[str] = Counter()
        candidates: list[int] = []
        with pg.cursor() as cur:
            if getattr(self._local, "staged_on", None) is not pg:
                for table in TABLES.values():
                    cur.execute(
                        f'CREATE TEMP TABLE IF NOT EXISTS "stage_{table}" '
                        f'(LIKE "{table}") ON COMMIT DELETE ROWS'
                    )
                # received_at is not staged: the INSERT takes now() (one value per batch)
                cur.execute(
                    f'CREATE TEMP TABLE IF NOT EXISTS "stage_{RECEIPT_TABLE}" '
                    "(mn varchar(24), cn varchar(4), data_time timestamptz, st varchar(2), "
                    "qn varchar(20), flag smallint, version varchar(32), codes smallint, "
                    "digest varchar(32), revision smallint) ON COMMIT DELETE ROWS"
                )
                self._local.staged_on = pg
            if not prepared.receipts:
                return new_by_mn, candidates
            staged = [c for c in RECEIPT_COLUMNS if c != "received_at"]
            _copy(cur, f"stage_{RECEIPT_TABLE}", staged, "\n".join(prepared.receipts) + "\n")
            cols = ", ".join(f'"{c}"' for c in staged)
            cur.execute(
                f'INSERT INTO "{RECEIPT_TABLE}" ({cols}, "received_at") SELECT {cols}, now() '
                f'FROM "stage_{RECEIPT_TABLE}" ON CONFLICT DO NOTHING '
                f'RETURNING "mn", "cn", "data_time"'
            )
            inserted = cur.fetchall()
            new_by_mn.update(row[0] for row in inserted)
            # Readings go in for the records whose receipt this transaction inserted, straight
            # into the tables (no reading of a new record can exist: receipts and readings are
            # written together).  Should one exist anyway (data loaded otherwise), the batch
            # takes the staging path with ON CONFLICT DO NOTHING instead.
            keep: set[int] | None = None
            if len(inserted) != len(prepared.receipts):
                first: dict[tuple[str, str, dt.datetime], int] = {}
                for i, key in enumerate(prepared.keys):
                    first.setdefault(key, i)
                keep = {first[(mn, cn, when)] for mn, cn, when in inserted}
                candidates = [i for i in range(len(prepared.keys)) if i not in keep]
            for key, rows in prepared.readings.items():
                if keep is not None:
                    owners = prepared.owners[key]
                    rows = [row for row, owner in zip(rows, owners, strict=True) if owner in keep]
                if not rows:
                    continue
                table = TABLES[key]
                columns = _reading_columns(key)
                data = "\n".join(rows) + "\n"
                try:
                    with pg.transaction():  # a savepoint
                        _copy(cur, table, columns, data)
                except psycopg_errors.UniqueViolation:
                    log.warning("HJ 212 sink: %s already holds readings of new records", table)
                    _copy(cur, f"stage_{table}", columns, data)
                    cols = ", ".join(f'"{c}"' for c in columns)
                    cur.execute(
                        f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "stage_{table}" '
                        f"ON CONFLICT DO NOTHING"
                    )
        return new_by_mn, candidates

    # SQLite -------------------------------------------------------------------------------

    def _store_sqlite(self, conn: Any, prepared: _Prepared, now: dt.datetime) -> Counter[str]:
        conn.ensure_connection()
        stamp = conn.ops.adapt_datetimefield_value(now)
        cur = conn.connection.cursor()
        new_by_mn: Counter[str] = Counter()
        try:
            marks = ", ".join("?" * len(RECEIPT_COLUMNS))
            sql = (
                f'INSERT OR IGNORE INTO "{RECEIPT_TABLE}" ({", ".join(RECEIPT_COLUMNS)}) '
                f"VALUES ({marks})"
            )
            by_mn: dict[str, list[tuple[Any, ...]]] = {}
            for row in prepared.receipts:
                by_mn.setdefault(row[0], []).append((*row[:7], stamp, *row[8:]))
            for mn, rows in by_mn.items():
                cur.executemany(sql, rows)
                if cur.rowcount:
                    new_by_mn[mn] += cur.rowcount
            for key, rows in prepared.readings.items():
                if not rows:
                    continue
                columns = _reading_columns(key)
                marks = ", ".join("?" * len(columns))
                cur.executemany(
                    f'INSERT OR IGNORE INTO "{TABLES[key]}" ({", ".join(columns)}) '
                    f"VALUES ({marks})",
                    rows,
                )
        finally:
            cur.close()
        return new_by_mn

    # both ---------------------------------------------------------------------------------

    def _corrections(self, prepared: _Prepared, candidates: list[int], now: dt.datetime) -> int:
        """Receipt rows of this batch whose key was stored before with other content: each
        becomes a new version (修约/补发) — the old readings kept in :class:`ReceiptVersion`, the
        current ones replaced, the receipt's revision raised, the change audited.  Rare (the
        receiver refuses data older than the correction window), so done row by row."""
        using = self.using
        keys = [prepared.keys[i] for i in candidates]
        mns = sorted({k[0] for k in keys})
        times = [k[2] for k in keys]
        stored = {
            (mn, cn, when): (digest, revision, qn, received_at)
            for mn, cn, when, digest, revision, qn, received_at in Receipt.objects.using(using)
            .filter(mn__in=mns, data_time__gte=min(times), data_time__lte=max(times))
            .values_list("mn", "cn", "data_time", "digest", "revision", "qn", "received_at")
        }
        corrected = 0
        for i in candidates:
            key = prepared.keys[i]
            held = stored.get(key)
            digest = prepared.digests[i]
            if held is None or held[0] in ("", digest):  # a re-send (or stored before digests)
                continue
            old_digest, revision, old_qn, received_at = held
            record = prepared.records[i]
            model = reading_model(record.cn)
            where: dict[str, Any] = {"mn": record.mn, "data_time": key[2]}
            if model is OtherReading:
                where["cn"] = record.cn
            old_values = {
                row["code"]: _nonempty(row)
                for row in model.objects.using(using).filter(**where).values(*_VALUE_FIELDS)
            }
            new_rows = _orm_rows(record)
            new_values = {code: _nonempty(row) for code, row in new_rows.items()}
            if new_values == old_values:  # the same values under another fingerprint
                continue
            ReceiptVersion.objects.using(using).create(
                mn=record.mn,
                cn=record.cn,
                data_time=key[2],
                revision=revision,
                digest=old_digest,
                qn=old_qn,
                received_at=received_at,
                replaced_at=now,
                values=old_values,
            )
            model.objects.using(using).filter(**where).delete()
            extra = {"cn": record.cn} if model is OtherReading else {}
            model.objects.using(using).bulk_create(
                [
                    model(mn=record.mn, data_time=key[2], code=code, **extra, **row)
                    for code, row in new_rows.items()
                ]
            )
            Receipt.objects.using(using).filter(mn=key[0], cn=key[1], data_time=key[2]).update(
                digest=digest,
                revision=revision + 1,
                qn=_text((record.qn or "")[:20]),
                st=_text(record.st[:2]),
                flag=record.flag,
                version=_text((record.version or "")[:32]),
                received_at=now,
                codes=min(len(new_rows), 32_767),
            )
            label = f"{record.mn} CN={record.cn} DataTime={record.data_time:%Y-%m-%d %H:%M:%S}"
            audit_record(
                actor=None,
                action="monitoring.data.correct",
                object_type="monitoring.receipt",
                object_id=f"{record.mn}|{record.cn}|{record.data_time:%Y%m%d%H%M%S}",
                object_repr=label[:255],
                before={"revision": revision, "qn": old_qn, "values": old_values},
                after={
                    "revision": revision + 1,
                    "qn": record.qn or "",
                    "values": new_values,
                },
                note="HJ 212 修约/补发：同一数据时间的新数值，旧版本保留",
            )
            corrected += 1
            log.info("HJ 212 correction %s: revision %d", label, revision + 1)
        return corrected

    def _upsert_stations(
        self, conn: Any, prepared: _Prepared, new_by_mn: Counter[str], now: dt.datetime
    ) -> None:
        if not prepared.last:
            return
        if conn.vendor == "postgresql":
            newest = f'GREATEST("{STATION_TABLE}"."last_data_time", EXCLUDED."last_data_time")'
            marks = "%s, %s, %s, %s, %s"
            rows = [
                (mn, now, now, aware, new_by_mn.get(mn, 0))
                for mn, (aware, _) in sorted(prepared.last.items())
            ]
        else:
            newest = (
                f'MAX(COALESCE("{STATION_TABLE}"."last_data_time", EXCLUDED."last_data_time"), '
                f'EXCLUDED."last_data_time")'
            )
            marks = "?, ?, ?, ?, ?"
            stamp = conn.ops.adapt_datetimefield_value(now)
            rows = [
                (mn, stamp, stamp, text, new_by_mn.get(mn, 0))
                for mn, (_, text) in sorted(prepared.last.items())
            ]
        # rows in MN order: concurrent sinks (several receivers) lock station rows in one order
        cur = conn.connection.cursor()
        try:
            cur.executemany(
                f'INSERT INTO "{STATION_TABLE}" '
                f'("mn", "first_seen_at", "last_seen_at", "last_data_time", "records") '
                f'VALUES ({marks}) ON CONFLICT ("mn") DO UPDATE SET '
                f'"last_seen_at" = EXCLUDED."last_seen_at", "last_data_time" = {newest}, '
                f'"records" = "{STATION_TABLE}"."records" + EXCLUDED."records"',
                rows,
            )
        finally:
            cur.close()

    def _unregistered(self, new_by_mn: Counter[str]) -> Counter[str]:
        """Stored records of MNs without an outlet (the outlet list is re-read each minute)."""
        if not new_by_mn:
            return Counter()
        if time.monotonic() - self._known_at > KNOWN_REFRESH_S:
            self._known = frozenset(Outlet.objects.using(self.using).values_list("mn", flat=True))
            self._known_at = time.monotonic()
        known = self._known
        return Counter({mn: n for mn, n in new_by_mn.items() if mn not in known})


_VALUE_FIELDS = ("code", *NUMERIC_COLUMNS.values(), "flag", "extra")


def _nonempty(row: dict[str, Any]) -> dict[str, Any]:
    """A reading's fields that hold something (for versions and the audit entry)."""
    return {k: v for k, v in row.items() if k != "code" and v is not None and v != ""}


def _orm_rows(record: DataRecord) -> dict[str, dict[str, Any]]:
    """Reading columns of ``record`` per code, as :meth:`DatabaseSink._prepare` stores them."""
    rows: dict[str, dict[str, Any]] = {}
    for code, entry in record.values.items():
        if len(code) > CODE_LENGTH or "\x00" in code:
            continue
        row: dict[str, Any] = dict.fromkeys(NUMERIC_COLUMNS.values())
        flag = ""
        extra: dict[str, str] | None = None
        for suffix, value in entry.items():
            column = NUMERIC_COLUMNS.get(suffix)
            if (
                column is not None
                and type(value) is Decimal
                and value.is_finite()
                and -300 < value.adjusted() < 300
            ):
                row[column] = float(value)
                continue
            if (
                suffix == "Flag"
                and type(value) is str
                and 0 < len(value) <= FLAG_LENGTH
                and "\x00" not in value
            ):
                flag = value
                continue
            extra = extra or {}
            extra[_text(suffix)] = _text(value)
        if code in record.source_codes:
            extra = extra or {}
            extra["source_code"] = _text(record.source_codes[code])
        row["flag"] = flag
        row["extra"] = extra
        rows[code] = row
    return rows


def _not_all_new(prepared: _Prepared, new_by_mn: Counter[str]) -> list[int]:
    """Receipt rows of MNs with fewer inserted than offered (SQLite tells counts, not rows)."""
    offered: Counter[str] = Counter(key[0] for key in prepared.keys)
    short = {mn for mn, n in offered.items() if new_by_mn.get(mn, 0) < n}
    return [i for i, key in enumerate(prepared.keys) if key[0] in short]


class OutletCredentials:
    """:class:`~dualcontrol.ingest.hj212_server.StationCredentials` from the registered outlets:
    the MN and station password (PW) of every active outlet that has one."""

    def __init__(self, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self._passwords: dict[str, str] = {}

    def password_of(self, mn: str) -> str | None:
        return self._passwords.get(mn)

    def load(self) -> dict[str, str]:
        return dict(
            Outlet.objects.using(self.using)
            .filter(active=True)
            .exclude(station_password="")
            .values_list("mn", "station_password")
        )

    async def refresh(self) -> None:
        self._passwords = await asyncio.to_thread(self._load_and_close)

    def _load_and_close(self) -> dict[str, str]:
        try:
            return self.load()
        finally:
            connections[self.using].close()  # this worker thread's connection


def _reading_columns(key: str) -> tuple[str, ...]:
    if key == OTHER:
        return ("mn", "cn", *READING_COLUMNS[1:])
    return READING_COLUMNS


def _text(value: object) -> str:
    return str(value).replace("\x00", "\ufffd")


def _json(extra: dict[str, str]) -> str:
    return json.dumps(extra, ensure_ascii=False)


def _json_or_none(extra: dict[str, str] | None) -> str | None:
    return None if extra is None else _json(extra)


# COPY text format ---------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape(text: str) -> str:
    """A text field of COPY's text format (backslash, tab, newline, CR escaped)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy(cur: Any, table: str, columns: Sequence[str], data: str) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        copy.write(data.encode("utf-8"))
