"""HJ 212 TCP receiver engine (asyncio): many stations, batched durable writes, answers.

What a station sees: it connects, sends packets (``##`` … CRLF), and for every packet whose Flag
asks for an answer (bit A) it gets the answer (9014 数据应答 for uploads) **after** the packet's
data records have been written by the sink.  A retransmission is answered again but stored once
(records are keyed by MN, CN, DataTime).  Bad packets are counted by reason and logged; the
connection stays open.  :meth:`Hj212Server.stop` stops listening, processes what was already
received, writes it, sends the answers due and only then closes the connections.

The storage side is a :class:`PacketSink`: ``await sink.write(records)`` with a batch of at most
``ServerConfig.batch_size`` records, at most ``batch_delay_s`` after the first of them arrived;
it must be durable when it returns and idempotent on ``record.key``.  :class:`MemorySink` is the
in-memory implementation for tests; the database sink comes with the monitoring app (a synchronous
store can run in a thread: ``await asyncio.to_thread(store, records)``).

:func:`serve` runs a server until SIGINT/SIGTERM (or an event) and then stops it gracefully; it and
:func:`parse_listen` are what a ``dualcontrol ingest hj212 --listen HOST:PORT`` command needs.

:func:`run_load` is a bounded loopback load generator for benchmarks and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import ipaddress
import logging
import signal
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from dualcontrol.core.hj212 import (
    DEFAULT_LIMITS,
    FLAG_ACK,
    FLAG_PARTS,
    ErrorCode,
    Hj212Error,
    Hj212Tables,
    Limits,
    Packet,
    build_packet,
    build_reply,
    crc16,
    encode_cp,
    parse_packet,
)
from dualcontrol.core.hj212_stream import DataRecord, Framer, Reassembler, record_of

__all__ = [
    "Hj212Server",
    "LoadResult",
    "MemorySink",
    "PacketSink",
    "ReceiverPolicy",
    "ServerConfig",
    "ServerStats",
    "StationCredentials",
    "parse_listen",
    "raise_open_file_limit",
    "receiver_policy",
    "run_load",
    "serve",
    "station_packet",
]

log = logging.getLogger("dualcontrol.ingest.hj212")

RecordKey = tuple[str, str, dt.datetime]

#: refusal reasons of packets that parse but are not accepted (besides the ErrorCode values)
UNKNOWN_MN = "unknown_mn"
BAD_PASSWORD = "wrong_pw"
OUT_OF_WINDOW = "data_time_out_of_window"
#: refusal reasons of connections
TOO_MANY_CONNECTIONS = "too_many_connections"
TOO_MANY_FROM_ADDRESS = "too_many_from_address"
HEADER_TIMEOUT = "header_timeout"


class StationCredentials(Protocol):
    """Who may send: the registered station password (PW) of each MN.

    ``password_of(mn)`` is called for every packet (keep it an in-memory lookup); ``None`` means
    the MN is not registered.  ``refresh()`` re-reads the registrations; the receiver calls it at
    start and every ``ServerConfig.credentials_refresh_s``.
    """

    def password_of(self, mn: str) -> str | None: ...

    async def refresh(self) -> None: ...


class PacketSink(Protocol):
    """Where received data records go (the database).

    ``write`` gets a batch; when it returns the records must be durable (the stations are then
    told so).  It must be idempotent on ``record.key`` (MN, CN, DataTime): the receiver dedupes
    what it remembers, but a retransmission after a restart reaches the sink again.  Raising
    means nothing of the batch is acknowledged; the stations will resend.

    A sink with an integer attribute ``max_concurrent_writes`` > 1 gets up to that many batches
    at once (their record keys never overlap); without it, one at a time.
    """

    async def write(self, records: Sequence[DataRecord]) -> None: ...


class MemorySink:
    """In-memory :class:`PacketSink` for tests: the newest version of each key.

    A record with a key already held and the same content (digest) is a duplicate; with other
    content it is a correction: it replaces the held one, which goes to ``versions[key]``.

    ``delay_s`` simulates a slow store; ``gate`` (when set) makes writes wait until it is set;
    ``fail_next`` makes that many writes raise.
    """

    def __init__(self, *, delay_s: float = 0.0, gate: asyncio.Event | None = None) -> None:
        self.delay_s = delay_s
        self.gate = gate
        self.fail_next = 0
        self.records: dict[RecordKey, DataRecord] = {}
        self.versions: dict[RecordKey, list[DataRecord]] = {}
        self.batches: list[int] = []
        self.writes_seen = 0

    async def write(self, records: Sequence[DataRecord]) -> None:
        self.writes_seen += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_next > 0:
            self.fail_next -= 1
            raise OSError("simulated storage failure")
        self.batches.append(len(records))
        for record in records:
            held = self.records.get(record.key)
            if held is None:
                self.records[record.key] = record
            elif held.digest != record.digest:
                self.versions.setdefault(record.key, []).append(held)
                self.records[record.key] = record


@dataclass(frozen=True)
class ServerConfig:
    """Receiver settings (defaults suit a provincial platform; tests shrink the times)."""

    batch_size: int = 500  # records per sink write, at most
    batch_delay_s: float = 0.2  # a record waits at most this long for its batch to fill
    # batches written at once; None = the sink's max_concurrent_writes (else 1)
    sink_concurrency: int | None = None
    max_pending_records: int = 20_000  # then readers wait (TCP back-pressure on stations)
    sink_retries: int = 2  # further attempts after a failed write
    sink_retry_delay_s: float = 0.5
    read_size: int = 65_536
    idle_timeout_s: float | None = 900.0  # close a connection silent for this long
    reassembly_timeout_s: float = 60.0  # drop a split message not complete after this long
    max_pending_messages: int = 64  # incomplete split messages per connection
    ack_split_parts_on_receipt: bool = False  # True: answer each part at once (not durable yet)
    dedupe_capacity: int = 100_000  # record keys remembered as stored
    shutdown_timeout_s: float = 30.0
    close_linger_s: float = 1.0  # at shutdown: time between our FIN and closing the socket
    log_bad_per_connection: int = 20  # without bad_log_interval_s: then DEBUG for that connection
    max_connections: int = 20_000  # further connections are closed at once
    limits: Limits = DEFAULT_LIMITS
    # Limits below: None = off; the service takes them from hj212_receiver.yaml (receiver_policy).
    max_connections_per_address: int | None = None  # further ones from that address closed
    header_timeout_s: float | None = None  # first packet / a started packet must complete in
    # bad packets and refused connections: first of each (reason, source) per interval logged,
    # the rest summed up in one line per (reason, source) per interval
    bad_log_interval_s: float | None = None
    max_log_sources: int = 10_000  # (reason, source) pairs tracked per interval; then "other"
    credentials_refresh_s: float | None = None  # re-read StationCredentials this often
    # DataTime window (station local time, station_time_zone; "" = this machine's local time)
    max_ahead_s: float | None = None  # DataTime later than now + this: refused
    max_age_s: float | None = None  # DataTime older than now - this (the correction window)
    station_time_zone: str = ""
    # refusal reason -> QnRtn of the 9011 answer (none: refused without an answer)
    refusal_qn_rtn: Mapping[str, int] = field(default_factory=dict)
    raise_open_files: bool = False  # at start: soft RLIMIT_NOFILE up to the hard limit
    open_files_reserve: int = 256  # descriptors kept free of connections (with raise_open_files)


@dataclass
class ServerStats:
    """Counters (since start) for monitoring and the benchmark."""

    connections_total: int = 0
    connections_open: int = 0
    connections_refused: int = 0
    connections_refused_by: Counter[str] = field(default_factory=Counter)  # by reason
    connections_timed_out: int = 0  # no complete packet within header_timeout_s
    packets_ok: int = 0
    packets_bad: Counter[str] = field(default_factory=Counter)  # by ErrorCode value
    packets_refused: Counter[str] = field(default_factory=Counter)  # parsed, not accepted
    # source address -> refusal reason -> count (bounded: ServerConfig.max_log_sources)
    refused_by_source: dict[str, Counter[str]] = field(default_factory=dict)
    records_corrected: int = 0  # handed on as corrections (same key, other content)
    records_stored: int = 0
    records_duplicate: int = 0
    records_failed: int = 0  # given up after the sink kept failing (not acknowledged)
    batches_written: int = 0
    sink_errors: int = 0
    replies_sent: int = 0

    def snapshot(self) -> dict[str, object]:
        return {
            "connections_total": self.connections_total,
            "connections_open": self.connections_open,
            "connections_refused": self.connections_refused,
            "connections_refused_by": dict(self.connections_refused_by),
            "connections_timed_out": self.connections_timed_out,
            "packets_ok": self.packets_ok,
            "packets_bad": dict(self.packets_bad),
            "packets_bad_total": sum(self.packets_bad.values()),
            "packets_refused": dict(self.packets_refused),
            "refused_sources": len(self.refused_by_source),
            "records_corrected": self.records_corrected,
            "records_stored": self.records_stored,
            "records_duplicate": self.records_duplicate,
            "records_failed": self.records_failed,
            "batches_written": self.batches_written,
            "sink_errors": self.sink_errors,
            "replies_sent": self.replies_sent,
        }


# --------------------------------------------------------------------------------------------
# Batching durable writes
# --------------------------------------------------------------------------------------------


@dataclass
class _Item:
    records: list[DataRecord]
    done: asyncio.Future[None]
    queued_at: float


class _Batcher:
    """Collects records from all connections and writes them in batches.

    A batch is written when ``batch_size`` records are queued or ``batch_delay_s`` after its
    first record was queued, whichever comes first (at shutdown: at once).  Up to the sink's
    concurrency batches are written at once; while all writers are busy the next batch fills.
    A record key is in at most one queued or written batch at a time.  With more than
    ``max_pending_records`` queued, ``submit`` waits, which stops the connection's reads
    (back-pressure).

    Records are told apart by key and content (digest): the same key with the same content is a
    duplicate (answered, not written again); with other content it is a correction, written
    after any write of that key in flight (so versions reach the sink in the order received).
    """

    def __init__(self, sink: PacketSink, config: ServerConfig, stats: ServerStats) -> None:
        self.sink = sink
        self.config = config
        self.stats = stats
        self._queue: list[_Item] = []
        self._queued_records = 0
        self._inflight: dict[RecordKey, tuple[str, asyncio.Future[None]]] = {}
        self._stored: OrderedDict[RecordKey, str] = OrderedDict()  # key -> digest
        self._nonempty = asyncio.Event()
        self._full = asyncio.Event()
        self._room = asyncio.Condition()
        self._closing = False
        self._hurry = False
        self._task: asyncio.Task[None] | None = None
        concurrency = config.sink_concurrency
        if concurrency is None:
            concurrency = getattr(sink, "max_concurrent_writes", 1)
        self._writers = asyncio.Semaphore(max(1, int(concurrency)))
        self._writing: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hj212-batcher")

    async def submit(self, records: Sequence[DataRecord]) -> asyncio.Future[None]:
        """Queue ``records``; the future resolves when all are durable (or fails)."""
        loop = asyncio.get_running_loop()
        new: list[tuple[DataRecord, str]] = []
        waits: list[asyncio.Future[None]] = []
        for record in records:
            key = record.key
            digest = record.digest
            stored = self._stored.get(key)
            if stored == digest:
                self.stats.records_duplicate += 1
                continue
            if stored is not None:
                self.stats.records_corrected += 1
            inflight = self._inflight.get(key)
            if inflight is not None:
                if inflight[0] == digest:
                    self.stats.records_duplicate += 1
                    waits.append(inflight[1])
                else:  # a correction of a record being written: after that write
                    waits.append(self._later(record, inflight[1]))
                continue
            new.append((record, digest))
        if new:
            limit = self.config.max_pending_records
            if self._queued_records and self._queued_records + len(new) > limit:
                async with self._room:
                    await self._room.wait_for(
                        lambda: (
                            self._queued_records == 0 or self._queued_records + len(new) <= limit
                        )
                    )
            size = self.config.batch_size
            for start in range(0, len(new), size):  # an item never exceeds a batch
                done: asyncio.Future[None] = loop.create_future()
                queued: list[DataRecord] = []
                for record, digest in new[start : start + size]:
                    # A duplicate may have been queued while this one waited for room.
                    inflight = self._inflight.get(record.key)
                    if inflight is None:
                        self._inflight[record.key] = (digest, done)
                        queued.append(record)
                    elif inflight[0] == digest:
                        waits.append(inflight[1])
                    else:
                        waits.append(self._later(record, inflight[1]))
                if queued:
                    self._queue.append(_Item(queued, done, loop.time()))
                    self._queued_records += len(queued)
                    waits.append(done)
            if self._queue:
                self._nonempty.set()
                if self._queued_records >= size:
                    self._full.set()
        if not waits:
            done = loop.create_future()
            done.set_result(None)
            return done
        if len(waits) == 1:
            return waits[0]
        return _all_of(waits)

    def _later(self, record: DataRecord, before: asyncio.Future[None]) -> asyncio.Future[None]:
        """Submit ``record`` once ``before`` (a write of the same key) is over; resolves when
        ``record`` is durable."""

        async def run() -> None:
            with contextlib.suppress(Exception):
                await asyncio.shield(before)
            await (await self.submit([record]))

        return asyncio.ensure_future(run())

    def hurry(self) -> None:
        """From now on write without waiting for batches to fill (shutdown)."""
        self._hurry = True
        self._full.set()
        self._nonempty.set()

    async def close(self) -> None:
        """Write everything queued, then stop."""
        self._closing = True
        self.hurry()
        if self._task is not None:
            await self._task
        while self._writing:
            await asyncio.wait(set(self._writing))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        size = self.config.batch_size
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._nonempty.clear()
                await self._nonempty.wait()
                continue
            if not self._hurry and self._queued_records < size:
                left = self._queue[0].queued_at + self.config.batch_delay_s - loop.time()
                if left > 0:
                    self._full.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), left)
                    continue
            await self._writers.acquire()  # the batch goes on filling while all writers are busy
            batch: list[_Item] = []
            count = 0
            while self._queue and (not batch or count + len(self._queue[0].records) <= size):
                item = self._queue.pop(0)
                batch.append(item)
                count += len(item.records)
            self._queued_records -= count
            async with self._room:
                self._room.notify_all()
            task = asyncio.create_task(self._write(batch, count), name="hj212-write")
            self._writing.add(task)
            task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        self._writers.release()
        if not task.cancelled() and task.exception() is not None:  # a bug: _write catches all
            log.error("HJ 212 batch writer failed", exc_info=task.exception())

    async def _write(self, batch: list[_Item], count: int) -> None:
        records = [r for item in batch for r in item.records]
        error: BaseException | None = None
        for attempt in range(self.config.sink_retries + 1):
            try:
                await self.sink.write(records)
            except Exception as exc:  # the sink's failure is reported, never fatal
                error = exc
                self.stats.sink_errors += 1
                log.error(
                    "HJ 212 sink write of %d records failed (attempt %d): %r",
                    count,
                    attempt + 1,
                    exc,
                )
                if attempt < self.config.sink_retries:
                    await asyncio.sleep(self.config.sink_retry_delay_s)
                continue
            error = None
            break
        for record in records:
            self._inflight.pop(record.key, None)
        if error is None:
            self.stats.batches_written += 1
            self.stats.records_stored += count
            stored = self._stored
            for record in records:
                stored[record.key] = record.digest
                stored.move_to_end(record.key)
            while len(stored) > self.config.dedupe_capacity:
                stored.popitem(last=False)
        else:
            self.stats.records_failed += count
        for item in batch:
            if item.done.done():
                continue
            if error is None:
                item.done.set_result(None)
            else:
                item.done.set_exception(OSError(f"storage failed: {error!r}"))


def _all_of(futures: list[asyncio.Future[None]]) -> asyncio.Future[None]:
    """A future that resolves when all resolve, or fails with the first failure."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[None] = loop.create_future()
    remaining = len(futures)

    def one_done(fut: asyncio.Future[None]) -> None:
        nonlocal remaining
        if result.done():
            return
        if fut.cancelled():
            result.cancel()
        elif fut.exception() is not None:
            result.set_exception(fut.exception())  # type: ignore[arg-type]
        else:
            remaining -= 1
            if remaining == 0:
                result.set_result(None)

    for fut in futures:
        fut.add_done_callback(one_done)
    return result


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------


_SplitKey = tuple[str, str, str, str | None, int]  # MN, ST, CN, QN, PNUM of a split message


class _LogLimiter:
    """Rate-limited logging of bad packets and refusals (issue 13: 17 MB of log in 40 s).

    The first event of each (reason, source address) in an interval is logged with its detail;
    the others are only counted, and :meth:`flush` (called every interval) logs one line per
    (reason, source) with the count of those not logged.  At most ``max_sources`` pairs are
    tracked per interval; beyond that, events are summed under the source ``other``.
    """

    def __init__(self, interval_s: float, max_sources: int, clock: Callable[[], float]) -> None:
        self.interval_s = interval_s
        self.max_sources = max_sources
        self.clock = clock
        self.counts: Counter[tuple[str, str]] = Counter()
        self.since = clock()
        self.lines = 0  # lines logged (for tests and the counters)

    def event(self, reason: str, source: str, message: str, *args: object) -> None:
        if self.clock() - self.since >= self.interval_s:
            self.flush()
        key = (reason, source)
        if key not in self.counts and len(self.counts) >= self.max_sources:
            key = (reason, "other")
        self.counts[key] += 1
        if self.counts[key] == 1:
            self.lines += 1
            log.warning(message, *args)

    def flush(self) -> None:
        elapsed = self.clock() - self.since
        for (reason, source), count in sorted(self.counts.items()):
            if count > 1:
                self.lines += 1
                log.warning(
                    "HJ 212 %s: %d more %s in the last %.0f s (first one logged above)",
                    source,
                    count - 1,
                    reason,
                    elapsed,
                )
        self.counts.clear()
        self.since = self.clock()


@dataclass
class _Connection:
    peer: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    framer: Framer
    reassembler: Reassembler
    waiting: set[asyncio.Future[None]] = field(default_factory=set)
    split_done: OrderedDict[_SplitKey, asyncio.Future[None]] = field(default_factory=OrderedDict)
    bad_logged: int = 0
    host: str = ""  # source address (per-address limit and counts)
    opened_at: float = 0.0
    frames_seen: int = 0
    partial_since: float | None = None  # when bytes of an incomplete frame started waiting


class Hj212Server:
    """The HJ 212 receiver: ``await start(host, port)`` … ``await stop()``."""

    def __init__(
        self,
        sink: PacketSink,
        *,
        tables: Hj212Tables | None = None,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        credentials: StationCredentials | None = None,
        station_clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """``credentials``: None accepts any MN and PW (tests, benchmarks); the service passes
        the registered outlets.  ``station_clock``: now as naive station local time (DataTime
        window); by default the clock of ``config.station_time_zone``."""
        self.sink = sink
        self.tables = tables
        self.config = config or ServerConfig()
        self.clock = clock
        self.credentials = credentials
        self.station_clock = station_clock or _zone_clock(self.config.station_time_zone)
        self.stats = ServerStats()
        self.max_connections = self.config.max_connections
        self._batcher = _Batcher(sink, self.config, self.stats)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._per_address: Counter[str] = Counter()
        self._closing = False
        self._stopped = asyncio.Event()
        interval = self.config.bad_log_interval_s
        self._log = (
            None if interval is None else _LogLimiter(interval, self.config.max_log_sources, clock)
        )
        self._chores: list[asyncio.Task[None]] = []

    # lifecycle ---------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False
    ) -> None:
        """Listen on ``host:port``.  ``reuse_port``: share the port with other receiver
        processes (SO_REUSEPORT, Linux/BSD); the kernel spreads new connections over them."""
        if self.config.raise_open_files:
            soft, _hard = raise_open_file_limit()
            room = soft - self.config.open_files_reserve
            if room < self.max_connections:
                log.warning(
                    "HJ 212: open-file limit %d leaves room for %d connections, not %d "
                    "(raise LimitNOFILE)",
                    soft,
                    max(room, 1),
                    self.max_connections,
                )
                self.max_connections = max(room, 1)
        if self.credentials is not None:
            await self.credentials.refresh()
        self._batcher.start()
        self._server = await asyncio.start_server(
            self._handle, host, port, limit=2**20, reuse_port=reuse_port or None
        )
        if self.credentials is not None and self.config.credentials_refresh_s:
            self._chores.append(asyncio.create_task(self._refresh_credentials()))
        if self._log is not None:
            self._chores.append(asyncio.create_task(self._flush_log()))
        log.info("HJ 212 receiver listening on %s", ", ".join(self.addresses))

    async def _refresh_credentials(self) -> None:
        assert self.credentials is not None and self.config.credentials_refresh_s
        while True:
            await asyncio.sleep(self.config.credentials_refresh_s)
            try:
                await self.credentials.refresh()
            except Exception:  # keep the last registrations; try again next time
                log.exception("HJ 212: re-reading the station registrations failed")

    async def _flush_log(self) -> None:
        assert self._log is not None
        while True:
            await asyncio.sleep(self._log.interval_s)
            self._log.flush()

    @property
    def addresses(self) -> list[str]:
        if self._server is None:
            return []
        return [_fmt(s.getsockname()) for s in self._server.sockets]

    @property
    def port(self) -> int:
        """The port listened on (useful with port 0)."""
        assert self._server is not None and self._server.sockets, "server not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop listening; process, store and answer what was received; close connections."""
        if self._closing:
            await self._stopped.wait()
            return
        self._closing = True
        if self._server is not None:
            self._server.close()
        self._batcher.hurry()
        for conn in list(self._connections.values()):
            _stop_reading(conn)
        tasks = list(self._connections)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.config.shutdown_timeout_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self._batcher.close()
        for chore in self._chores:
            chore.cancel()
        for chore in self._chores:
            with contextlib.suppress(BaseException):
                await chore
        if self._log is not None:
            self._log.flush()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        log.info("HJ 212 receiver stopped: %s", self.stats.snapshot())
        self._stopped.set()

    async def __aenter__(self) -> Hj212Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # per connection ----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peername = writer.get_extra_info("peername")
        conn = _Connection(
            peer=_fmt(peername),
            host=str(peername[0]) if isinstance(peername, tuple) and peername else str(peername),
            opened_at=self.clock(),
            reader=reader,
            writer=writer,
            framer=Framer(self.config.limits.max_data_length + 12),
            reassembler=Reassembler(
                timeout_s=self.config.reassembly_timeout_s,
                max_pending=self.config.max_pending_messages,
            ),
        )
        per_address = self.config.max_connections_per_address
        refusal = None
        if len(self._connections) >= self.max_connections:
            refusal = TOO_MANY_CONNECTIONS
        elif per_address is not None and self._per_address[conn.host] >= per_address:
            refusal = TOO_MANY_FROM_ADDRESS
        if refusal is not None:
            self.stats.connections_refused += 1
            self.stats.connections_refused_by[refusal] += 1
            self._count_source(conn.host, refusal)
            self._warn(
                refusal,
                conn.host,
                "HJ 212 %s: connection refused (%s; %d open, %d from this address)",
                conn.peer,
                refusal,
                len(self._connections),
                self._per_address[conn.host],
            )
            with contextlib.suppress(Exception):
                transport = writer.transport
                transport.abort()  # no lingering in TIME_WAIT/FIN states on our side
            return
        self._connections[task] = conn
        self._per_address[conn.host] += 1
        self.stats.connections_total += 1
        self.stats.connections_open += 1
        if self._closing:
            _stop_reading(conn)
        try:
            await self._serve(conn)
        except asyncio.CancelledError:
            log.warning("HJ 212 %s: connection handler cancelled", conn.peer)
        except Exception:  # a bug must not take the receiver down
            log.exception("HJ 212 %s: connection handler failed", conn.peer)
        finally:
            await self._finish_connection(conn)
            self._connections.pop(task, None)
            self._per_address[conn.host] -= 1
            if self._per_address[conn.host] <= 0:
                del self._per_address[conn.host]
            self.stats.connections_open -= 1

    def _read_timeout(self, conn: _Connection) -> tuple[float | None, bool]:
        """(seconds the next read may wait, whether that is the header timeout)."""
        idle = self.config.idle_timeout_s
        header = self.config.header_timeout_s
        if header is None:
            return idle, False
        if conn.frames_seen == 0:
            since: float | None = conn.opened_at
        else:
            since = conn.partial_since
        if since is None:
            return idle, False
        left = max(since + header - self.clock(), 0.0)
        if idle is None or left < idle:
            return left, True
        return idle, False

    async def _serve(self, conn: _Connection) -> None:
        while True:
            timeout, is_header = self._read_timeout(conn)
            try:
                if timeout is None:
                    data = await conn.reader.read(self.config.read_size)
                else:
                    data = await asyncio.wait_for(conn.reader.read(self.config.read_size), timeout)
            except TimeoutError:
                if is_header:
                    self.stats.connections_timed_out += 1
                    self._count_source(conn.host, HEADER_TIMEOUT)
                    self._warn(
                        HEADER_TIMEOUT,
                        conn.host,
                        "HJ 212 %s: no complete packet within %g s, closing",
                        conn.peer,
                        self.config.header_timeout_s,
                    )
                else:
                    log.info("HJ 212 %s: idle for %g s, closing", conn.peer, timeout)
                return
            except (ConnectionError, OSError):
                return
            if not data:
                if conn.framer.buffered:
                    self._bad(
                        conn,
                        Hj212Error(
                            ErrorCode.TRUNCATED,
                            f"connection closed inside a packet ({conn.framer.buffered} bytes)",
                        ),
                    )
                return
            frames = conn.framer.feed(data)
            if conn.framer.buffered:
                if conn.partial_since is None or frames:
                    conn.partial_since = self.clock()
            else:
                conn.partial_since = None
            if frames:
                conn.frames_seen += sum(1 for f in frames if type(f) is bytes)
                await self._on_frames(conn, frames)
            for error in conn.reassembler.expire(self.clock()):
                self._bad(conn, error)
            with contextlib.suppress(ConnectionError, OSError):
                await conn.writer.drain()

    async def _on_frames(self, conn: _Connection, frames: list[bytes | Hj212Error]) -> None:
        """One read's frames: parse them, submit all their records at once, answer them together.

        The answers of packets with data records wait until those records are durable (one
        future for the read); packets without records are answered at once.  A retransmitted
        part of a split message completed earlier is answered when that message is durable.
        """
        tables = self.tables
        limits = self.config.limits
        on_receipt = self.config.ack_split_parts_on_receipt
        records: list[DataRecord] = []
        after: list[Packet] = []  # answered when ``records`` are durable
        now: list[Packet] = []  # answered at once
        split_keys: list[_SplitKey] = []
        late_parts: list[Packet] = []
        ok = 0
        for item in frames:
            if type(item) is not bytes:
                assert isinstance(item, Hj212Error)
                self._bad(conn, item)
                continue
            try:
                packet = parse_packet(item, tables, limits)
            except Hj212Error as exc:
                self._bad(conn, exc, item)
                continue
            reason = self._refusal(packet)
            if reason is not None:
                self._refuse(conn, packet, reason)
                continue
            ok += 1
            if packet.warnings:
                log.debug(
                    "HJ 212 %s MN=%s CN=%s: %s", conn.peer, packet.mn, packet.cn, packet.warnings
                )
            if packet.pnum is None or packet.pnum <= 1:  # the usual case: a whole message
                record = record_of(packet)
                if record is None:
                    now.append(packet)
                else:
                    records.append(record)
                    after.append(packet)
                continue
            result = conn.reassembler.add(packet, self.clock())
            for error in result.dropped:
                self._bad(conn, error)
            if result.duplicate_of_complete:
                late_parts.append(packet)
                continue
            message = result.message
            if message is None:  # a part of a split message; more to come
                if on_receipt:
                    now.append(packet)
                continue
            # with on_receipt, the other parts were answered when they came
            to_answer = [message.parts[-1]] if on_receipt else list(message.parts)
            message_records = message.records()
            if not message_records:
                now.extend(to_answer)
                continue
            records.extend(message_records)
            after.extend(to_answer)
            first = message.first
            assert first.pnum is not None
            split_keys.append((first.mn, first.st, first.cn, first.qn, first.pnum))
        self.stats.packets_ok += ok
        if now:
            self._send_replies(conn, now)
        if records:
            done = await self._batcher.submit(records)
            for key in split_keys:
                conn.split_done[key] = done
            while len(conn.split_done) > 256:
                conn.split_done.popitem(last=False)
            self._after(conn, done, after)
        for packet in late_parts:
            self._answer_duplicate_part(conn, packet)

    def _answer_duplicate_part(self, conn: _Connection, packet: Packet) -> None:
        assert packet.pnum is not None
        done = conn.split_done.get((packet.mn, packet.st, packet.cn, packet.qn, packet.pnum))
        if done is None:
            self._send_replies(conn, [packet])
        else:
            self._after(conn, done, [packet])

    def _after(self, conn: _Connection, done: asyncio.Future[None], packets: list[Packet]) -> None:
        """Answer ``packets`` once ``done`` says their records are durable."""
        if done.done():
            self._stored_or_not(conn, done, packets)
            return
        conn.waiting.add(done)

        def callback(fut: asyncio.Future[None]) -> None:
            conn.waiting.discard(fut)
            self._stored_or_not(conn, fut, packets)

        done.add_done_callback(callback)

    def _stored_or_not(
        self, conn: _Connection, done: asyncio.Future[None], packets: list[Packet]
    ) -> None:
        if done.cancelled() or done.exception() is not None:
            log.warning(
                "HJ 212 %s MN=%s QN=%s: not stored, not acknowledged (%s)",
                conn.peer,
                packets[0].mn,
                packets[0].qn,
                "cancelled" if done.cancelled() else done.exception(),
            )
            return
        self._send_replies(conn, packets)

    def _send_replies(self, conn: _Connection, packets: list[Packet]) -> None:
        """Answer ``packets`` (those whose Flag asks for it) in one write."""
        tables = self.tables
        replies = [reply for p in packets if (reply := build_reply(p, tables)) is not None]
        if not replies:
            return
        if conn.writer.is_closing():
            for packet in packets:
                if packet.needs_ack:
                    log.warning(
                        "HJ 212 %s MN=%s QN=%s: stored, but the connection closed before the "
                        "answer",
                        conn.peer,
                        packet.mn,
                        packet.qn,
                    )
            return
        conn.writer.write(b"".join(replies))
        self.stats.replies_sent += len(replies)

    # refusals ---------------------------------------------------------------------------

    def _refusal(self, packet: Packet) -> str | None:
        """Why ``packet`` is not accepted (unknown MN, wrong PW, DataTime outside the window)."""
        credentials = self.credentials
        if credentials is not None:
            expected = credentials.password_of(packet.mn)
            if expected is None:
                return UNKNOWN_MN
            if not hmac.compare_digest(packet.pw.encode(), expected.encode()):
                return BAD_PASSWORD
        when = packet.data_time
        config = self.config
        if when is not None and (config.max_ahead_s is not None or config.max_age_s is not None):
            now = self.station_clock()
            if config.max_ahead_s is not None and (when - now).total_seconds() > config.max_ahead_s:
                return OUT_OF_WINDOW
            if config.max_age_s is not None and (now - when).total_seconds() > config.max_age_s:
                return OUT_OF_WINDOW
        return None

    def _refuse(self, conn: _Connection, packet: Packet, reason: str) -> None:
        """Count the refusal per reason and source, log it (rate-limited), answer 9011 QnRtn."""
        self.stats.packets_refused[reason] += 1
        self._count_source(conn.host, reason)
        self._warn(
            reason,
            conn.host,
            "HJ 212 %s: packet refused (%s) MN=%r CN=%s DataTime=%s",
            conn.peer,
            reason,
            packet.mn[:40],
            packet.cn,
            packet.data_time,
        )
        qn_rtn = self.config.refusal_qn_rtn.get(reason)
        if qn_rtn is None or not packet.needs_ack or conn.writer.is_closing():
            return
        flag = (packet.flag or 0) & ~(FLAG_ACK | FLAG_PARTS)
        answer = build_packet(
            st="91",
            cn="9011",
            pw=packet.pw,
            mn=packet.mn,
            qn=packet.qn,
            flag=flag,
            cp=f"QnRtn={qn_rtn}",
        )
        conn.writer.write(answer)
        self.stats.replies_sent += 1

    def _count_source(self, host: str, reason: str) -> None:
        by_source = self.stats.refused_by_source
        counts = by_source.get(host)
        if counts is None:
            if len(by_source) >= self.config.max_log_sources:
                host = "other"
            counts = by_source.setdefault(host, Counter())
        counts[reason] += 1

    def _warn(self, reason: str, source: str, message: str, *args: object) -> None:
        if self._log is None:
            log.warning(message, *args)
        else:
            self._log.event(reason, source, message, *args)

    def _bad(self, conn: _Connection, error: Hj212Error, raw: bytes | None = None) -> None:
        self.stats.packets_bad[error.code.value] += 1
        if self._log is not None:
            self._log.event(
                error.code.value,
                conn.host,
                "HJ 212 %s: bad packet (%s) %s",
                conn.peer,
                error,
                "" if raw is None else repr(raw[:120]),
            )
            return
        conn.bad_logged += 1
        level = (
            logging.WARNING
            if conn.bad_logged <= self.config.log_bad_per_connection
            else logging.DEBUG
        )
        log.log(
            level,
            "HJ 212 %s: bad packet (%s) %s",
            conn.peer,
            error,
            "" if raw is None else repr(raw[:120]),
        )

    async def _finish_connection(self, conn: _Connection) -> None:
        """Wait (bounded) for this connection's answers to become due, then close it."""
        if conn.waiting:
            await asyncio.wait(set(conn.waiting), timeout=self.config.shutdown_timeout_s)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.writer.drain(), 5)
        if self._closing and not conn.writer.is_closing() and conn.writer.can_write_eof():
            # Half-close so that the station reads its answers and our EOF before the socket
            # goes: closing with unread input sends a reset, which can discard them.
            with contextlib.suppress(Exception):
                conn.writer.write_eof()
                await asyncio.sleep(self.config.close_linger_s)
        conn.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.writer.wait_closed(), 5)


def _zone_clock(zone: str) -> Callable[[], dt.datetime]:
    """Now as naive local time of ``zone`` ("" = this machine's local time)."""
    tz = ZoneInfo(zone) if zone else None

    def now() -> dt.datetime:
        return dt.datetime.now(tz).replace(tzinfo=None)

    return now


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (each connection is a descriptor; the
    default soft limit of 1 024 locked every station out, issue 13).  Returns (soft, hard) after.
    Without the ``resource`` module (Windows) nothing changes and (0, 0) comes back."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return (0, 0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:  # e.g. above the kernel's nr_open
        log.warning("HJ 212: cannot raise the open-file limit to %d: %s", target, exc)
        return soft, hard
    log.info("HJ 212: open-file limit raised from %d to %d", soft, target)
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass(frozen=True)
class ReceiverPolicy:
    """``reference/data/hj212_receiver.yaml``: authentication, DataTime window, limits, logging."""

    version: str
    credentials_refresh_s: float
    qn_rtn: Mapping[str, int]
    max_ahead_s: float
    correction_window_s: float
    max_connections: int
    max_connections_per_address: int
    header_timeout_s: float
    idle_timeout_s: float
    raise_open_files: bool
    open_files_reserve: int
    log_interval_s: float
    max_log_sources: int
    sources: Mapping[str, str]

    def config(self, **overrides: Any) -> ServerConfig:
        """A :class:`ServerConfig` with this policy's limits (``overrides`` win)."""
        values: dict[str, Any] = {
            "max_connections": self.max_connections,
            "max_connections_per_address": self.max_connections_per_address,
            "header_timeout_s": self.header_timeout_s,
            "idle_timeout_s": self.idle_timeout_s,
            "bad_log_interval_s": self.log_interval_s,
            "max_log_sources": self.max_log_sources,
            "credentials_refresh_s": self.credentials_refresh_s,
            "max_ahead_s": self.max_ahead_s,
            "max_age_s": self.correction_window_s,
            "refusal_qn_rtn": dict(self.qn_rtn),
            "raise_open_files": self.raise_open_files,
            "open_files_reserve": self.open_files_reserve,
        }
        values.update(overrides)
        return ServerConfig(**values)


POLICY_FILE = "hj212_receiver.yaml"


@cache
def receiver_policy() -> ReceiverPolicy:
    """Load and check ``hj212_receiver.yaml`` (every problem listed in one error)."""
    from dualcontrol.reference import ReferenceDataError, load_yaml

    version, d = load_yaml(POLICY_FILE)
    problems: list[str] = []

    def number(section: str, key: str, *, minimum: float = 0, integer: bool = False) -> Any:
        try:
            raw = d[section][key]
            value = int(raw) if integer else float(raw)
        except (KeyError, TypeError, ValueError):
            problems.append(f"{section}.{key} missing or not a number")
            return minimum
        if value < minimum or isinstance(raw, bool):
            problems.append(f"{section}.{key} must be >= {minimum}")
        return value

    qn_rtn: dict[str, int] = {}
    raw_rtn = (d.get("authentication") or {}).get("qn_rtn") or {}
    for reason in (UNKNOWN_MN, BAD_PASSWORD, OUT_OF_WINDOW):
        value = raw_rtn.get(reason)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 999:
            problems.append(f"authentication.qn_rtn.{reason} must be a QnRtn code (1-999)")
        else:
            qn_rtn[reason] = value
    policy = ReceiverPolicy(
        version=version,
        credentials_refresh_s=number("authentication", "refresh_s", minimum=1),
        qn_rtn=qn_rtn,
        max_ahead_s=number("data_time", "max_ahead_minutes") * 60,
        correction_window_s=number("data_time", "correction_window_days", minimum=1) * 86_400,
        max_connections=number("connections", "max_total", minimum=1, integer=True),
        max_connections_per_address=number(
            "connections", "max_per_address", minimum=1, integer=True
        ),
        header_timeout_s=number("connections", "header_timeout_s", minimum=1),
        idle_timeout_s=number("connections", "idle_timeout_s", minimum=1),
        raise_open_files=bool((d.get("open_files") or {}).get("raise_to_hard_limit", False)),
        open_files_reserve=number("open_files", "reserve", integer=True),
        log_interval_s=number("logging", "summary_interval_s", minimum=1),
        max_log_sources=number("logging", "max_sources", minimum=1, integer=True),
        sources={
            key: str(value)
            for section in d.values()
            if isinstance(section, dict)
            for key, value in section.items()
            if key.endswith("source")
        },
    )
    if problems:
        raise ReferenceDataError(f"{POLICY_FILE}: " + "; ".join(problems))
    return policy


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6addr]:PORT`` for IPv6, ``:PORT`` for all interfaces) -> (host, port)."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65_535:
        raise ValueError(f"--listen wants HOST:PORT, not {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write IPv6 addresses in brackets: [{host}]:{port_text}")
    return host or "0.0.0.0", int(port_text)


async def serve(
    server: Hj212Server,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    reuse_port: bool = False,
) -> None:
    """Start ``server`` and run it until ``stop`` is set or SIGINT/SIGTERM; then stop it."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    try:
        await server.start(host, port, reuse_port=reuse_port)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await server.stop()


def _stop_reading(conn: _Connection) -> None:
    """No more reads from the socket; what is already buffered is still processed."""
    transport = conn.writer.transport
    if isinstance(transport, asyncio.ReadTransport):
        with contextlib.suppress(Exception):
            transport.pause_reading()
    conn.reader.feed_eof()


def _fmt(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


# --------------------------------------------------------------------------------------------
# Loopback load generator (benchmarks, tests)
# --------------------------------------------------------------------------------------------

LOAD_POLLUTANTS = ("w01018", "w21003", "w21011", "w21001", "w01001", "w00000")


def station_packet(
    mn: str,
    index: int,
    *,
    cn: str = "2051",
    flag: int = 5,
    pollutants: int = 4,
    start: dt.datetime = dt.datetime(2026, 1, 1),
    pw: str = "123456",
) -> bytes:
    """A typical upload of station ``mn`` with password ``pw``: packet ``index`` carries
    DataTime start + index minutes."""
    when = start + dt.timedelta(minutes=index)
    qn_time = start + dt.timedelta(milliseconds=index)
    qn = f"{qn_time:%Y%m%d%H%M%S}{qn_time.microsecond // 1000:03d}"
    values: dict[str, dict[str, object]] = {}
    for k, code in enumerate(LOAD_POLLUTANTS[:pollutants]):
        base = 10 + k * 7 + (index % 13) / 10
        if cn == "2011":
            values[code] = {"Rtd": f"{base:.2f}", "Flag": "N"}
        else:
            values[code] = {
                "Avg": f"{base:.2f}",
                "Min": f"{base - 1:.2f}",
                "Max": f"{base + 1:.2f}",
                "Cou": f"{base / 100:.4f}",
                "Flag": "N",
            }
    cp = encode_cp(data_time=when, values=values)
    return build_packet(qn=qn, st="32", cn=cn, pw=pw, mn=mn, flag=flag, cp=cp)


@dataclass(frozen=True)
class LoadResult:
    """What :func:`run_load` did."""

    stations: int
    packets_sent: int
    answers_received: int
    answers_expected: int
    errors: tuple[str, ...]
    elapsed_s: float

    @property
    def packets_per_s(self) -> float:
        return self.packets_sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_load(
    host: str,
    port: int,
    *,
    stations: int = 10,
    packets_per_station: int = 100,
    window: int = 16,
    cn: str = "2051",
    pollutants: int = 4,
    ack: bool = True,
    timeout_s: float = 60.0,
    mn_prefix: str = "LOAD",
    pw: str = "123456",
    start: dt.datetime = dt.datetime(2026, 1, 1),
    local_addr: tuple[str, int] | None = None,
) -> LoadResult:
    """Simulate ``stations`` stations over loopback, each sending ``packets_per_station``.

    With ``ack`` (Flag 5) a station keeps at most ``window`` packets unanswered and waits for
    every answer; without (Flag 4) it just sends.  ``pw`` is every station's password (the
    receiver's credentials must know the MNs ``mn_prefix`` + 6 digits), ``start`` the DataTime of
    the first packet, ``local_addr`` the source address to connect from (another loopback
    address, e.g. 127.0.0.2).  Bounded: refuses non-loopback hosts and gives up after
    ``timeout_s``.
    """
    if not _loopback(host):
        raise ValueError(f"run_load only targets loopback addresses, not {host!r}")
    if stations < 1 or packets_per_station < 0 or window < 1:
        raise ValueError("stations >= 1, packets_per_station >= 0 and window >= 1 required")
    flag = 5 if ack else 4
    errors: list[str] = []
    answers = 0

    all_packets = [
        [
            station_packet(
                f"{mn_prefix}{number:06d}",
                i,
                cn=cn,
                flag=flag,
                pollutants=pollutants,
                start=start,
                pw=pw,
            )
            for i in range(packets_per_station)
        ]
        for number in range(stations)
    ]

    async def station(number: int) -> None:
        nonlocal answers
        mn = f"{mn_prefix}{number:06d}"
        packets = all_packets[number]
        total = len(packets)
        reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr)
        try:
            if not ack:
                for i in range(0, total, window):
                    writer.write(b"".join(packets[i : i + window]))
                    await writer.drain()
                return
            # Like a station's buffer: up to ``window`` packets unanswered; what the answers
            # free is sent at once (one write).  An answer counts when it is a well-formed
            # packet (frame, length, CRC) of CN 9014 for this MN.
            framer = Framer()
            got = 0
            progress = asyncio.Event()
            expected = f";CN=9014;PW={pw};MN={mn};".encode()

            async def read_answers() -> None:
                try:
                    await read_all()
                finally:
                    progress.set()  # the sender sees the end (or the failure) at once

            async def read_all() -> None:
                nonlocal got, answers
                while got < total:
                    data = await reader.read(65_536)
                    if not data:
                        raise ConnectionError("receiver closed the connection")
                    for item in framer.feed(data):
                        if isinstance(item, Hj212Error):
                            errors.append(f"{mn}: {item}")
                        elif expected not in item or crc16(item[6:-6]) != int(item[-6:-2], 16):
                            errors.append(f"{mn}: unexpected answer {item[:80]!r}")
                        else:
                            got += 1
                            answers += 1
                    progress.set()

            reading = asyncio.create_task(read_answers())
            try:
                sent = 0
                while sent < total and not reading.done():
                    room = window - (sent - got)
                    if room <= 0:
                        progress.clear()
                        await progress.wait()
                        continue
                    writer.write(b"".join(packets[sent : sent + room]))
                    sent += min(room, total - sent)
                    await writer.drain()
                await reading
            finally:
                reading.cancel()
                with contextlib.suppress(BaseException):
                    await reading
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    started = time.perf_counter()
    tasks = [asyncio.create_task(station(i)) for i in range(stations)]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
        errors.append("timed out")
    if pending:
        await asyncio.wait(pending)
    for task in done:
        if task.exception() is not None:
            errors.append(repr(task.exception()))
    return LoadResult(
        stations=stations,
        packets_sent=stations * packets_per_station,
        answers_received=answers,
        answers_expected=stations * packets_per_station if ack else 0,
        errors=tuple(errors),
        elapsed_s=time.perf_counter() - started,
    )
