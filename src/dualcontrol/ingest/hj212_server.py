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
import ipaddress
import logging
import signal
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dualcontrol.core.hj212 import (
    DEFAULT_LIMITS,
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
    "ServerConfig",
    "ServerStats",
    "parse_listen",
    "run_load",
    "serve",
    "station_packet",
]

log = logging.getLogger("dualcontrol.ingest.hj212")

RecordKey = tuple[str, str, dt.datetime]


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
    """In-memory :class:`PacketSink` for tests: keeps the first record of each key.

    ``delay_s`` simulates a slow store; ``gate`` (when set) makes writes wait until it is set;
    ``fail_next`` makes that many writes raise.
    """

    def __init__(self, *, delay_s: float = 0.0, gate: asyncio.Event | None = None) -> None:
        self.delay_s = delay_s
        self.gate = gate
        self.fail_next = 0
        self.records: dict[RecordKey, DataRecord] = {}
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
            self.records.setdefault(record.key, record)


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
    log_bad_per_connection: int = 20  # then bad packets of that connection log at DEBUG
    max_connections: int = 20_000  # further connections are closed at once
    limits: Limits = DEFAULT_LIMITS


@dataclass
class ServerStats:
    """Counters (since start) for monitoring and the benchmark."""

    connections_total: int = 0
    connections_open: int = 0
    connections_refused: int = 0
    packets_ok: int = 0
    packets_bad: Counter[str] = field(default_factory=Counter)  # by ErrorCode value
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
            "packets_ok": self.packets_ok,
            "packets_bad": dict(self.packets_bad),
            "packets_bad_total": sum(self.packets_bad.values()),
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
    """

    def __init__(self, sink: PacketSink, config: ServerConfig, stats: ServerStats) -> None:
        self.sink = sink
        self.config = config
        self.stats = stats
        self._queue: list[_Item] = []
        self._queued_records = 0
        self._inflight: dict[RecordKey, asyncio.Future[None]] = {}
        self._stored: OrderedDict[RecordKey, None] = OrderedDict()
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
        new: list[DataRecord] = []
        waits: list[asyncio.Future[None]] = []
        for record in records:
            key = record.key
            if key in self._stored:
                self.stats.records_duplicate += 1
                continue
            pending = self._inflight.get(key)
            if pending is not None:
                self.stats.records_duplicate += 1
                waits.append(pending)
                continue
            new.append(record)
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
                for record in new[start : start + size]:
                    # A duplicate may have been queued while this one waited for room.
                    pending = self._inflight.get(record.key)
                    if pending is not None:
                        waits.append(pending)
                    else:
                        self._inflight[record.key] = done
                        queued.append(record)
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
                stored[record.key] = None
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


class Hj212Server:
    """The HJ 212 receiver: ``await start(host, port)`` … ``await stop()``."""

    def __init__(
        self,
        sink: PacketSink,
        *,
        tables: Hj212Tables | None = None,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.tables = tables
        self.config = config or ServerConfig()
        self.clock = clock
        self.stats = ServerStats()
        self._batcher = _Batcher(sink, self.config, self.stats)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        self._closing = False
        self._stopped = asyncio.Event()

    # lifecycle ---------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False
    ) -> None:
        """Listen on ``host:port``.  ``reuse_port``: share the port with other receiver
        processes (SO_REUSEPORT, Linux/BSD); the kernel spreads new connections over them."""
        self._batcher.start()
        self._server = await asyncio.start_server(
            self._handle, host, port, limit=2**20, reuse_port=reuse_port or None
        )
        log.info("HJ 212 receiver listening on %s", ", ".join(self.addresses))

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
        conn = _Connection(
            peer=_fmt(writer.get_extra_info("peername")),
            reader=reader,
            writer=writer,
            framer=Framer(self.config.limits.max_data_length + 12),
            reassembler=Reassembler(
                timeout_s=self.config.reassembly_timeout_s,
                max_pending=self.config.max_pending_messages,
            ),
        )
        if len(self._connections) >= self.config.max_connections:
            log.warning(
                "HJ 212 %s: refused, %d connections open", conn.peer, len(self._connections)
            )
            self.stats.connections_refused += 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        self._connections[task] = conn
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
            self.stats.connections_open -= 1

    async def _serve(self, conn: _Connection) -> None:
        idle = self.config.idle_timeout_s
        while True:
            try:
                if idle is None:
                    data = await conn.reader.read(self.config.read_size)
                else:
                    data = await asyncio.wait_for(conn.reader.read(self.config.read_size), idle)
            except TimeoutError:
                log.info("HJ 212 %s: idle for %g s, closing", conn.peer, idle)
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
            if frames:
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

    def _bad(self, conn: _Connection, error: Hj212Error, raw: bytes | None = None) -> None:
        self.stats.packets_bad[error.code.value] += 1
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
) -> bytes:
    """A typical upload of station ``mn``: packet ``index`` carries DataTime start + index min."""
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
    return build_packet(qn=qn, st="32", cn=cn, pw="123456", mn=mn, flag=flag, cp=cp)


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
) -> LoadResult:
    """Simulate ``stations`` stations over loopback, each sending ``packets_per_station``.

    With ``ack`` (Flag 5) a station keeps at most ``window`` packets unanswered and waits for
    every answer; without (Flag 4) it just sends.  Bounded: refuses non-loopback hosts and gives
    up after ``timeout_s``.
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
            station_packet(f"{mn_prefix}{number:06d}", i, cn=cn, flag=flag, pollutants=pollutants)
            for i in range(packets_per_station)
        ]
        for number in range(stations)
    ]

    async def station(number: int) -> None:
        nonlocal answers
        mn = f"{mn_prefix}{number:06d}"
        packets = all_packets[number]
        total = len(packets)
        reader, writer = await asyncio.open_connection(host, port)
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
            expected = f";CN=9014;PW=123456;MN={mn};".encode()

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
