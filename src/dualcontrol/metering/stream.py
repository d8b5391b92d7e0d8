"""Energy online monitoring readings on a durable stream (NATS JetStream, issue 22).

When a stream is configured (``settings.METERING_STREAM`` or the environment variable
``DUALCONTROL_METERING_STREAM``: NATS URLs, comma-separated), the metering ingest
(:func:`dualcontrol.metering.services.ingest` on the API channel) checks a batch as before and,
instead of writing the readings table, publishes every accepted reading to the stream of
``reference/data/metering_stream.yaml`` — subject ``<prefix>.<unit id>``, message id
``<item id>|<epoch seconds>`` (the reading's key: a reading sent again inside the duplicate window
is one message) — and answers only once the stream has acknowledged all of them (PubAck).
Storage writers (``dualcontrol ingest writer --kind metering``) consume the stream through
:class:`~dualcontrol.ingest.stream.StreamWriter` with :data:`CODEC` into :class:`DatabaseSink`,
which stores through :func:`dualcontrol.metering.services.store_streamed` (the readings table's
public write, idempotent on item and time) and is acknowledged only after the write.  Without a
configured stream nothing here is used: the ingest writes the database itself.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from dualcontrol.ingest.stream import (
    BlockingPublisher,
    RecordDecodeError,
    StreamConfig,
    WriterCodec,
    stream_config,
)

SETTING = "METERING_STREAM"
ENVIRONMENT = "DUALCONTROL_METERING_STREAM"
STREAM_FILE = "metering_stream.yaml"
FORMAT_VERSION = 1


def configured() -> str | None:
    """The NATS URLs of the metering stream, or None (the ingest writes the database)."""
    value = getattr(settings, SETTING, None) or os.environ.get(ENVIRONMENT, "")
    return str(value).strip() or None


def config(servers: str | None = None, **overrides: Any) -> StreamConfig:
    """The stream settings of ``metering_stream.yaml`` (``servers`` default: :func:`configured`)."""
    return stream_config(servers or configured(), file=STREAM_FILE, **overrides)


@dataclass(frozen=True)
class StreamedReading:
    """One accepted reading on its way to the readings table."""

    item_id: int
    epoch: int  # the reading's time (its grid point), seconds since 1970 UTC
    value: float
    source: int
    batch_id: int | None  # the IngestBatch that accepted it
    entity_id: int
    received: float  # when the receiver accepted it (epoch seconds; end-to-end latency)

    @property
    def key(self) -> tuple[int, int]:
        return (self.item_id, self.epoch)


def encode(reading: StreamedReading) -> bytes:
    return json.dumps(
        {
            "v": FORMAT_VERSION,
            "i": reading.item_id,
            "t": reading.epoch,
            "x": reading.value,
            "s": reading.source,
            "b": reading.batch_id,
            "e": reading.entity_id,
            "r": reading.received,
        },
        separators=(",", ":"),
    ).encode("ascii")


def decode(data: bytes) -> StreamedReading:
    """The reading of :func:`encode`'s bytes; :class:`RecordDecodeError` if it is not one."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordDecodeError(f"not a JSON reading: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
        raise RecordDecodeError(f"not a metering reading of format {FORMAT_VERSION}")

    def integer(name: str, *, optional: bool = False) -> Any:
        value = doc.get(name)
        if value is None and optional:
            return None
        if type(value) is not int:
            raise RecordDecodeError(f"{name}: not an integer")
        return value

    value = doc.get("x")
    received = doc.get("r")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordDecodeError("x: not a finite number")
    if isinstance(received, bool) or not isinstance(received, int | float):
        raise RecordDecodeError("r: not a time")
    return StreamedReading(
        item_id=integer("i"),
        epoch=integer("t"),
        value=float(value),
        source=integer("s"),
        batch_id=integer("b", optional=True),
        entity_id=integer("e"),
        received=float(received),
    )


def message_id(reading: StreamedReading) -> str:
    """``<item id>|<epoch seconds>``: the reading's key (the readings table's primary key)."""
    return f"{reading.item_id}|{reading.epoch}"


def subject(reading: StreamedReading, prefix: str) -> str:
    return f"{prefix}.{reading.entity_id}"


CODEC = WriterCodec(
    name="metering",
    label="metering",
    decode=decode,
    key=lambda reading: reading.key,
    digest=lambda reading: f"{reading.value!r}|{reading.source}",
)

_publishers: dict[StreamConfig, BlockingPublisher] = {}
_publishers_lock = threading.Lock()


def publisher(cfg: StreamConfig) -> BlockingPublisher:
    """The process's publisher for ``cfg`` (one NATS connection, reused by every request)."""
    with _publishers_lock:
        found = _publishers.get(cfg)
        if found is None:
            found = _publishers[cfg] = BlockingPublisher(cfg, name="dualcontrol-metering")
        return found


def publish(readings: Sequence[StreamedReading], cfg: StreamConfig | None = None) -> list[bool]:
    """Publish ``readings`` and wait for the stream's acknowledgements; per reading, whether the
    stream already held it (a duplicate).  Raises ``StreamPublishError`` (nothing is answered)."""
    cfg = cfg or config()
    prefix = cfg.subject_prefix
    return publisher(cfg).publish(
        [(subject(r, prefix), encode(r), message_id(r)) for r in readings]
    )


def close_publishers() -> None:
    with _publishers_lock:
        found = list(_publishers.values())
        _publishers.clear()
    for p in found:
        p.close()


# ---------------------------------------------------------------------------------------------
# The writer's sink


@dataclass
class SinkStats:
    batches: int = 0
    readings: int = 0
    stored: int = 0  # new in the readings table
    duplicates: int = 0  # already stored (a redelivery, or a resend after the window)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # accepted → stored, per reading

    def snapshot(self) -> dict[str, object]:
        return {
            "batches": self.batches,
            "readings": self.readings,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "write_seconds": round(self.seconds, 3),
        }


class DatabaseSink:
    """Streamed readings → the readings table through ``services.store_streamed`` (one
    transaction per batch), in worker threads with their own database connections (two on
    PostgreSQL, one on SQLite, which has one writer at a time).

    ``keep_latencies``: remember, per stored reading, the seconds from its acceptance by the
    receiver to the commit (the benchmark's end-to-end latency).
    """

    def __init__(
        self, *, roll_up: bool = True, workers: int | None = None, keep_latencies: bool = False
    ) -> None:
        self.roll_up = roll_up
        self.keep_latencies = keep_latencies
        self.stats = SinkStats()
        self._workers = workers
        self._executors: list[ThreadPoolExecutor] = []
        self._idle: asyncio.Queue[ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()

    @property
    def max_concurrent_writes(self) -> int:
        if connection.vendor != "postgresql":
            return 1
        return 2 if self._workers is None else max(1, self._workers)

    async def write(self, records: Sequence[StreamedReading]) -> None:
        """Durable when it returns (the writer acknowledges then); raises when nothing was."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            for number in range(self.max_concurrent_writes):
                executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=f"metering-db-{number}"
                )
                self._executors.append(executor)
                self._idle.put_nowait(executor)
        executor = await self._idle.get()
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(executor, self._write_in_thread, list(records))
        finally:
            self._idle.put_nowait(executor)

    def _write_in_thread(self, records: list[StreamedReading]) -> None:
        from django.db import connections

        from dualcontrol.metering import services

        conn = connections["default"]
        # a broken connection is replaced; a healthy one is kept for the writer's life
        if conn.connection is not None and conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()
        started = time.perf_counter()
        try:
            result = services.store_streamed(readings=records, roll_up=self.roll_up)
        except Exception:
            conn.errors_occurred = True
            raise
        done = time.time()
        with self._lock:
            self.stats.batches += 1
            self.stats.readings += len(records)
            self.stats.stored += result.stored
            self.stats.duplicates += result.duplicates
            self.stats.seconds += time.perf_counter() - started
            if self.keep_latencies:
                self.stats.latencies.extend(done - r.received for r in records)

    async def aclose(self) -> None:
        """Close the worker threads' connections and stop the threads."""
        loop = asyncio.get_running_loop()
        for executor in self._executors:
            await loop.run_in_executor(executor, _close_connection)
            executor.shutdown(wait=True)
        self._executors = []
        self._idle = None


def _close_connection() -> None:
    from django.db import connections

    connections["default"].close()  # this thread's connection


def record_writer_run(*, summary: dict[str, Any], where: str, note: str = "") -> None:
    """Audit a metering writer's start and stop (with its counters), as the HJ 212 writer's."""
    from dualcontrol.audit.services import record

    record(
        actor=None,
        action="metering.stream_writer",
        object_type="metering.stream",
        object_repr=where[:200],
        after=summary,
        note=note,
    )
