"""HJ 212 records on a durable stream (NATS JetStream): receivers publish, storage writers consume.

Issue 22: receivers and storage writers run as separate services (on separate machines), a writer
crash loses nothing, and a receiver answers a station only once the stream holds its record.

* :func:`encode_record` / :func:`decode_record` — a :class:`~dualcontrol.core.hj212_stream.DataRecord`
  as JSON bytes and back, exactly (every field; Decimal values keep their digits and exponent,
  text values stay text; a DataTime naive or with its IANA zone or UTC offset, and its fold; the
  CP text, so the digest is the same on both sides).
* :class:`StreamConfig` / :func:`stream_config` — the stream and consumer settings; the defaults
  are the ``stream:`` section of ``reference/data/hj212_receiver.yaml`` (platform rules).
* :class:`JetStreamSink` — a :class:`~dualcontrol.ingest.hj212_server.PacketSink`: publishes every
  record of a batch to ``<subject_prefix>.<MN>`` with the message id ``MN|CN|DataTime|digest``
  (``Nats-Msg-Id``: JetStream drops a retransmission inside the duplicate window), waits for all
  the stream's acknowledgements (PubAck) and raises if any is missing — the receiver then answers
  none of the batch and the stations resend.
* :class:`StreamWriter` — a durable pull consumer: fetches batches, hands them to any PacketSink
  (the monitoring ``DatabaseSink`` in production), acknowledges each message only after the write
  returned; a failed write is negatively acknowledged (redelivered after ``nak_delay_s``); a
  writer that dies leaves its batch unacknowledged and the server delivers it again after
  ``ack_wait_s``.  The store is idempotent on (MN, CN, DataTime), so redelivery is harmless.

No Django here: the commands (``dualcontrol ingest hj212 --stream``, ``dualcontrol ingest
writer``) plug the database sink in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dualcontrol.core.hj212_stream import DataRecord

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS
    from nats.aio.msg import Msg

    from dualcontrol.ingest.hj212_server import PacketSink

__all__ = [
    "FORMAT_VERSION",
    "HJ212_CODEC",
    "BlockingPublisher",
    "JetStreamSink",
    "PublishStats",
    "RecordDecodeError",
    "StreamConfig",
    "StreamPublishError",
    "StreamWriter",
    "WriterCodec",
    "WriterStats",
    "connect",
    "decode_record",
    "encode_record",
    "ensure_stream",
    "message_id",
    "publish_all",
    "stream_config",
    "subject_of",
]

log = logging.getLogger("dualcontrol.ingest.stream")

FORMAT_VERSION = 1
MSG_ID = "Nats-Msg-Id"


class RecordDecodeError(ValueError):
    """A stream message is not a record of a known format (names what is wrong)."""


class StreamPublishError(OSError):
    """The stream did not acknowledge every record of a batch (nothing may be answered)."""


# --------------------------------------------------------------------------------------------
# Records as bytes
# --------------------------------------------------------------------------------------------


def encode_record(record: DataRecord) -> bytes:
    """``record`` as JSON bytes (UTF-8; lone surrogates kept, as the digest does).

    Values: a Decimal as its string (exact: ``Decimal(str(d))`` has the same digits, exponent
    and sign, NaN and infinities included), a text value as a one-element list.
    """
    values: dict[str, dict[str, str | list[str]]] = {}
    for code, entry in record.values.items():
        out: dict[str, str | list[str]] = {}
        for suffix, value in entry.items():
            if type(value) is Decimal:
                out[suffix] = str(value)
            elif isinstance(value, str):
                out[suffix] = [value]
            else:
                raise TypeError(f"{code}-{suffix}: a value is Decimal or str, not {value!r}")
        values[code] = out
    doc: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "mn": record.mn,
        "st": record.st,
        "cn": record.cn,
        **_time_fields(record.data_time),
        "vals": values,
        "src": dict(record.source_codes),
        "qn": record.qn,
        "flag": record.flag,
        "ver": record.version,
        "cp": record.content,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def decode_record(data: bytes) -> DataRecord:
    """The record of :func:`encode_record`'s bytes; :class:`RecordDecodeError` if it is not one."""
    try:
        doc = json.loads(data.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordDecodeError(f"not a JSON record: {exc}") from exc
    if not isinstance(doc, dict):
        raise RecordDecodeError("not a JSON object")
    if doc.get("v") != FORMAT_VERSION:
        raise RecordDecodeError(
            f"record format {doc.get('v')!r}, this writer reads {FORMAT_VERSION}"
        )
    try:
        values: dict[str, dict[str, Decimal | str]] = {}
        for code, entry in doc["vals"].items():
            values[code] = {
                suffix: _text(value[0]) if isinstance(value, list) else Decimal(_text(value))
                for suffix, value in entry.items()
            }
        src = doc["src"]
        if not isinstance(src, dict):
            raise TypeError("src is not an object")
        flag = doc["flag"]
        if flag is not None and (type(flag) is not int):
            raise TypeError("flag is not an integer")
        return DataRecord(
            mn=_text(doc["mn"]),
            st=_text(doc["st"]),
            cn=_text(doc["cn"]),
            data_time=_time_of(doc),
            values=values,
            source_codes={_text(k): _text(v) for k, v in src.items()},
            qn=_optional_text(doc["qn"]),
            flag=flag,
            version=_optional_text(doc["ver"]),
            content=_optional_text(doc["cp"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, InvalidOperation) as exc:
        raise RecordDecodeError(f"malformed record: {exc!r}") from exc


def _time_fields(when: dt.datetime) -> dict[str, Any]:
    """DataTime as ``t`` (ISO 8601), ``tz`` (the IANA zone of a ZoneInfo time: its offset alone
    would not compare equal in a DST gap or fold) and ``fold`` (when 1)."""
    out: dict[str, Any] = {}
    if isinstance(when.tzinfo, ZoneInfo) and when.tzinfo.key:
        out["t"] = when.replace(tzinfo=None).isoformat()
        out["tz"] = when.tzinfo.key
    else:  # naive (HJ 212's station local time) or a fixed UTC offset
        out["t"] = when.isoformat()
    if when.fold:
        out["fold"] = 1
    return out


def _time_of(doc: Mapping[str, Any]) -> dt.datetime:
    when = dt.datetime.fromisoformat(_text(doc["t"]))
    zone = doc.get("tz")
    if zone is not None:
        if when.tzinfo is not None:
            raise ValueError("t has an offset and tz a zone")
        try:
            when = when.replace(tzinfo=ZoneInfo(_text(zone)))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
    fold = doc.get("fold", 0)
    if fold not in (0, 1) or isinstance(fold, bool):
        raise ValueError("fold is 0 or 1")
    return when.replace(fold=fold)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, not {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _mn_token(mn: str) -> str:
    """The MN as a subject token / id part: itself when plain (letters, digits, ``_``, ``-``),
    else ``~`` and a hash (a hostile MN cannot make a wildcard or a new subject level)."""
    if _SAFE_TOKEN.fullmatch(mn):
        return mn
    data = mn.encode("utf-8", "surrogatepass")
    return "~" + hashlib.blake2b(data, digest_size=12).hexdigest()


def subject_of(record: DataRecord, prefix: str) -> str:
    """``<prefix>.<MN>`` (see :func:`_mn_token` for MNs that are not plain)."""
    return f"{prefix}.{_mn_token(record.mn)}"


def message_id(record: DataRecord) -> str:
    """``MN|CN|DataTime|digest``: the same data sent again has the same id (JetStream drops it
    inside the duplicate window); a correction (other content) has another."""
    cn = record.cn if _SAFE_TOKEN.fullmatch(record.cn) else _mn_token(record.cn)
    return f"{_mn_token(record.mn)}|{cn}|{record.data_time.isoformat()}|{record.digest}"


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamConfig:
    """Where the stream is and how it keeps records (defaults: :func:`stream_config`)."""

    servers: str | tuple[str, ...] = "nats://127.0.0.1:4222"
    name: str = "HJ212"
    subject_prefix: str = "hj212.records"
    max_age_s: float = 72 * 3600.0
    max_bytes: int | None = None
    discard: str = "new"  # "new": a full stream refuses records (stations resend)
    storage: str = "file"
    replicas: int = 1
    duplicate_window_s: float = 600.0
    consumer: str = "hj212-writers"
    ack_wait_s: float = 60.0
    max_ack_pending: int = 50_000
    nak_delay_s: float = 2.0
    publish_timeout_s: float = 10.0
    version: str = ""  # the reference file's version (logged, audited)

    @property
    def subjects(self) -> list[str]:
        return [f"{self.subject_prefix}.>"]

    @property
    def server_list(self) -> list[str]:
        if isinstance(self.servers, str):
            return [s.strip() for s in self.servers.split(",") if s.strip()]
        return list(self.servers)


STREAM_FILE = "hj212_receiver.yaml"


def stream_config(
    servers: str | None = None, *, file: str = STREAM_FILE, **overrides: Any
) -> StreamConfig:
    """The ``stream:`` section of ``file`` (default ``hj212_receiver.yaml``; the metering
    readings' stream: ``metering_stream.yaml``) as a :class:`StreamConfig` (``servers``:
    comma-separated URLs; ``overrides`` win).  Every problem listed in one error."""
    from dualcontrol.reference import ReferenceDataError, load_yaml

    version, doc = load_yaml(file)
    section = (doc or {}).get("stream")
    if not isinstance(section, dict):
        raise ReferenceDataError(f"{file}: no stream: section")
    problems: list[str] = []

    def number(key: str, *, minimum: float, integer: bool = False, optional: bool = False) -> Any:
        raw = section.get(key)
        if raw is None and optional:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            problems.append(f"stream.{key} missing or not a number")
            return minimum
        if raw < minimum or (integer and int(raw) != raw):
            problems.append(f"stream.{key} must be {'an integer ' if integer else ''}>= {minimum}")
        return int(raw) if integer else float(raw)

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        raw = section.get(key)
        if raw not in allowed:
            problems.append(f"stream.{key} must be one of {', '.join(allowed)}")
            return allowed[0]
        return str(raw)

    def name(key: str, pattern: str) -> str:
        raw = section.get(key)
        if not isinstance(raw, str) or not re.fullmatch(pattern, raw):
            problems.append(f"stream.{key} missing or not a valid name")
            return ""
        return raw

    values: dict[str, Any] = {
        "name": name("name", r"[A-Za-z0-9_-]{1,64}"),
        "subject_prefix": name("subject_prefix", r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"),
        "max_age_s": number("max_age_hours", minimum=1) * 3600,
        "max_bytes": number("max_bytes", minimum=1, integer=True, optional=True),
        "discard": choice("discard", ("new", "old")),
        "storage": choice("storage", ("file", "memory")),
        "replicas": number("replicas", minimum=1, integer=True),
        "duplicate_window_s": number("duplicate_window_s", minimum=1),
        "consumer": name("consumer", r"[A-Za-z0-9_-]{1,64}"),
        "ack_wait_s": number("ack_wait_s", minimum=1),
        "max_ack_pending": number("max_ack_pending", minimum=1, integer=True),
        "nak_delay_s": number("nak_delay_s", minimum=0),
        "publish_timeout_s": number("publish_timeout_s", minimum=0.1),
        "version": version,
    }
    if problems:
        raise ReferenceDataError(f"{file}: " + "; ".join(problems))
    if servers is not None:
        values["servers"] = servers
    values.update(overrides)
    return StreamConfig(**values)


async def connect(
    config: StreamConfig, *, name: str = "dualcontrol", connect_wait_s: float = 15.0
) -> NATS:
    """A NATS connection that, once made, reconnects for ever (a service outlives a JetStream
    restart); the first connection must succeed within ``connect_wait_s``."""
    import nats

    async def error_cb(exc: Exception) -> None:
        log.warning("NATS: %r", exc)

    holder: list[NATS] = []

    async def disconnected_cb() -> None:
        if holder and (holder[0].is_closed or holder[0].is_draining):
            return  # our own close
        log.warning("NATS: disconnected from %s", ", ".join(config.server_list))

    async def reconnected_cb() -> None:
        log.info("NATS: reconnected")

    attempt = nats.connect(
        servers=config.server_list,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        allow_reconnect=True,
        error_cb=error_cb,
        disconnected_cb=disconnected_cb,
        reconnected_cb=reconnected_cb,
    )
    try:
        nc = await asyncio.wait_for(attempt, connect_wait_s)
    except TimeoutError as exc:  # at start: fail (the service manager restarts the unit)
        raise ConnectionError(
            f"no NATS server at {', '.join(config.server_list)} within {connect_wait_s} s"
        ) from exc
    holder.append(nc)
    return nc


async def ensure_stream(nc: NATS, config: StreamConfig) -> None:
    """Create the stream if it does not exist; if it does, keep it (warn where it differs)."""
    from nats.js import api
    from nats.js.errors import NotFoundError

    jsm = nc.jsm()
    wanted = api.StreamConfig(
        name=config.name,
        subjects=config.subjects,
        retention=api.RetentionPolicy.LIMITS,
        max_age=config.max_age_s,
        max_bytes=config.max_bytes if config.max_bytes is not None else -1,
        discard=api.DiscardPolicy(config.discard),
        storage=api.StorageType(config.storage),
        num_replicas=config.replicas,
        duplicate_window=config.duplicate_window_s,
    )
    try:
        info = await jsm.stream_info(config.name)
    except NotFoundError:
        await jsm.add_stream(wanted)
        log.info("JetStream: stream %s created (%s)", config.name, config.subjects[0])
        return
    have = info.config
    differs = [
        key
        for key in ("subjects", "max_age", "discard", "storage", "num_replicas", "duplicate_window")
        if _norm(getattr(have, key)) != _norm(getattr(wanted, key))
    ]
    if differs:
        log.warning(
            "JetStream: stream %s exists with other %s than %s; kept as it is",
            config.name,
            ", ".join(differs),
            config.version or "the configuration",
        )


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    return getattr(value, "value", value)


# --------------------------------------------------------------------------------------------
# Publishing with acknowledgement
# --------------------------------------------------------------------------------------------


async def publish_all(
    js: Any,
    messages: Sequence[tuple[str, bytes, str]],
    *,
    stream: str,
    timeout_s: float,
) -> list[bool]:
    """Publish ``messages`` — (subject, data, message id) — and wait for every PubAck.

    Returns, per message, whether the stream dropped it as a duplicate (same message id inside
    its duplicate window).  Raises :class:`StreamPublishError` when any acknowledgement is
    missing or negative within ``timeout_s``: the caller then answers none of them (the sender
    sends again; the ids make that harmless).
    """
    futures: list[asyncio.Future[Any]] = []
    try:
        async with asyncio.timeout(timeout_s):
            for subject, data, msg_id in messages:
                futures.append(
                    await js.publish_async(subject, data, stream=stream, headers={MSG_ID: msg_id})
                )
            acks = await asyncio.gather(*futures, return_exceptions=True)
    except TimeoutError as exc:
        _cancel(futures)
        raise StreamPublishError(
            f"JetStream {stream}: {len(messages)} messages not acknowledged within {timeout_s} s"
        ) from exc
    except Exception as exc:
        _cancel(futures)
        raise StreamPublishError(f"JetStream {stream}: publishing failed: {exc!r}") from exc
    failures = [a for a in acks if isinstance(a, BaseException)]
    if failures:
        raise StreamPublishError(
            f"JetStream {stream}: {len(failures)} of {len(messages)} messages not stored: "
            f"{failures[0]!r}"
        )
    return [bool(getattr(a, "duplicate", False)) for a in acks]


def _cancel(futures: list[asyncio.Future[Any]]) -> None:
    for future in futures:  # frees the client's pending slots
        future.cancel()


class BlockingPublisher:
    """:func:`publish_all` for synchronous code (a Django request): one NATS connection per
    process, driven by an event loop in a daemon thread; :meth:`publish` blocks until every
    PubAck is in (or raises :class:`StreamPublishError`).

    Connects, and creates the stream if missing, on first use; the client reconnects by itself
    (:func:`connect`).  After a fork (a pre-forking web server) the child makes its own.
    """

    def __init__(self, config: StreamConfig, *, name: str = "dualcontrol-publisher") -> None:
        self.config = config
        self.name = name
        self._lock = threading.Lock()
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._connecting = asyncio.Lock()
        self._nc: Any = None
        self._js: Any = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"{self.name}-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
                self._nc, self._js = None, None
                self._connecting = asyncio.Lock()  # used on the loop only
            return self._loop

    async def _publish(self, messages: Sequence[tuple[str, bytes, str]]) -> list[bool]:
        async with self._connecting:  # requests of several threads: one connection
            if self._js is None:
                try:
                    nc = await connect(self.config, name=self.name, connect_wait_s=5.0)
                    await ensure_stream(nc, self.config)
                except Exception as exc:  # no server, JetStream not enabled …
                    raise StreamPublishError(f"JetStream {self.config.name}: {exc}") from exc
                self._nc, self._js = nc, nc.jetstream(publish_async_max_pending=20_000)
        return await publish_all(
            self._js, messages, stream=self.config.name, timeout_s=self.config.publish_timeout_s
        )

    def publish(self, messages: Sequence[tuple[str, bytes, str]]) -> list[bool]:
        """Publish and wait for the acknowledgements (see :func:`publish_all`)."""
        if not messages:
            return []
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._publish(messages), loop)
        try:
            return future.result(self.config.publish_timeout_s + 10.0)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise StreamPublishError(f"JetStream {self.config.name}: no answer") from exc

    def close(self) -> None:
        """Flush and close the connection and stop the loop thread."""
        with self._lock:
            loop, nc, thread = self._loop, self._nc, self._thread
            self._loop, self._nc, self._js, self._thread = None, None, None, None
        if loop is None or thread is None or self._pid != os.getpid():
            return

        async def shut() -> None:
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.flush(timeout=5)
                await nc.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        if not thread.is_alive():
            loop.close()


# --------------------------------------------------------------------------------------------
# Receiver side: the sink that publishes
# --------------------------------------------------------------------------------------------


@dataclass
class PublishStats:
    """Counters of a :class:`JetStreamSink` (``stored``: new in the stream)."""

    batches: int = 0
    records: int = 0
    stored: int = 0
    duplicates: int = 0  # dropped by the stream's duplicate window
    failed_batches: int = 0
    seconds: float = 0.0

    def snapshot(self) -> dict[str, object]:
        return {
            "batches": self.batches,
            "records": self.records,
            "stored_in_stream": self.stored,
            "duplicates": self.duplicates,
            "failed_batches": self.failed_batches,
            "publish_seconds": round(self.seconds, 3),
        }


class JetStreamSink:
    """A :class:`~dualcontrol.ingest.hj212_server.PacketSink` that writes to the stream.

    ``write`` returns once JetStream has acknowledged every record of the batch (file storage:
    written; with replicas: on a quorum); otherwise it raises :class:`StreamPublishError` and
    the receiver answers none of the batch.  Connects on first use (or :meth:`connect`).
    """

    def __init__(
        self,
        config: StreamConfig,
        *,
        nc: NATS | None = None,
        max_concurrent_writes: int = 4,
        create_stream: bool = True,
    ) -> None:
        self.config = config
        self.max_concurrent_writes = max_concurrent_writes
        self.create_stream = create_stream
        self.stats = PublishStats()
        self._nc = nc
        self._own_connection = nc is None
        self._js: Any = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        async with self._lock:
            if self._js is not None:
                return
            if self._nc is None:
                self._nc = await connect(self.config, name="dualcontrol-hj212-receiver")
            if self.create_stream:
                await ensure_stream(self._nc, self.config)
            self._js = self._nc.jetstream(publish_async_max_pending=20_000)

    async def write(self, records: Sequence[DataRecord]) -> None:
        """PacketSink.write: returns when the stream holds every record; raises otherwise."""
        if self._js is None:
            await self.connect()
        started = time.perf_counter()
        prefix = self.config.subject_prefix
        try:
            duplicate = await publish_all(
                self._js,
                [(subject_of(r, prefix), encode_record(r), message_id(r)) for r in records],
                stream=self.config.name,
                timeout_s=self.config.publish_timeout_s,
            )
        except StreamPublishError:
            self.stats.failed_batches += 1
            raise
        finally:
            self.stats.seconds += time.perf_counter() - started
        duplicates = sum(duplicate)
        self.stats.batches += 1
        self.stats.records += len(records)
        self.stats.duplicates += duplicates
        self.stats.stored += len(records) - duplicates

    async def aclose(self) -> None:
        """Flush and close the connection (when the sink opened it)."""
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and self._own_connection:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=5)
            await nc.close()


# --------------------------------------------------------------------------------------------
# Writer side: the durable pull consumer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriterCodec:
    """What a :class:`StreamWriter` reads: ``decode`` (bytes → record; raises
    :class:`RecordDecodeError`), the record's idempotency ``key`` and content ``digest`` (two
    versions of one key in a fetch are written apart, in stream order)."""

    name: str
    label: str
    decode: Callable[[bytes], Any]
    key: Callable[[Any], Any]
    digest: Callable[[Any], str]


HJ212_CODEC = WriterCodec(
    name="hj212",
    label="HJ 212",
    decode=decode_record,
    key=lambda record: record.key,
    digest=lambda record: record.digest,
)


@dataclass
class WriterStats:
    """Counters of a :class:`StreamWriter` since it started."""

    messages: int = 0  # fetched
    redelivered: int = 0  # of those, delivered before (a writer died or a write failed)
    records_written: int = 0  # handed to the sink in successful writes
    repeated: int = 0  # same key and content twice in one fetch: written once
    batches: int = 0
    write_failures: int = 0  # failed writes (their messages redelivered)
    undecodable: int = 0  # not a record: terminated (kept in the stream for inspection)
    acked: int = 0
    seconds: float = 0.0  # in the sink

    def snapshot(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "redelivered": self.redelivered,
            "records_written": self.records_written,
            "repeated_in_fetch": self.repeated,
            "batches": self.batches,
            "write_failures": self.write_failures,
            "undecodable": self.undecodable,
            "acked": self.acked,
            "write_seconds": round(self.seconds, 3),
        }


class StreamWriter:
    """Consume the stream into ``sink`` (see the module docstring).

    ``await writer.start()`` connects, makes sure the stream exists and binds the durable
    consumer ``config.consumer`` (created on first use: from the beginning of the stream, explicit
    acknowledgement, ``ack_wait_s``, ``max_ack_pending``, unlimited redelivery); ``await
    writer.run()`` fetches and writes until :meth:`stop` (or ``stop`` event); the batch in hand is
    written and acknowledged first.  Several writers (processes, machines) with the same consumer
    name share the work; a new consumer name reads the stream again from its beginning (replay).

    ``concurrency`` fetch-and-write loops run on the one consumer (a sink's
    ``max_concurrent_writes``).  Within one loop, versions of a record reach the sink in stream
    order; across loops or writers a correction sent within a batch's time of its original may
    reach the store first (rare: corrections come hours or days later).
    """

    def __init__(
        self,
        sink: PacketSink,
        config: StreamConfig,
        *,
        batch_size: int = 500,
        fetch_timeout_s: float = 1.0,
        concurrency: int = 1,
        nc: NATS | None = None,
        clock: Callable[[], float] = time.monotonic,
        codec: WriterCodec | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1 or fetch_timeout_s <= 0:
            raise ValueError("batch_size and concurrency >= 1, fetch_timeout_s > 0")
        self.sink = sink
        self.config = config
        self.batch_size = batch_size
        self.fetch_timeout_s = fetch_timeout_s
        self.concurrency = concurrency
        self.clock = clock
        self.codec = codec or HJ212_CODEC
        self.stats = WriterStats()
        self._nc = nc
        self._own_connection = nc is None
        self._sub: Any = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        from nats.js import api

        if self._nc is None:
            self._nc = await connect(self.config, name=f"dualcontrol-{self.codec.name}-writer")
        await ensure_stream(self._nc, self.config)
        js = self._nc.jetstream()
        consumer = api.ConsumerConfig(
            durable_name=self.config.consumer,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.config.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=self.config.max_ack_pending,
        )
        self._sub = await js.pull_subscribe(
            f"{self.config.subject_prefix}.>",
            durable=self.config.consumer,
            stream=self.config.name,
            config=consumer,
        )
        log.info(
            "%s writer: consumer %s on stream %s (%s)",
            self.codec.label,
            self.config.consumer,
            self.config.name,
            ", ".join(self.config.server_list),
        )

    def stop(self) -> None:
        """Finish the batch in hand (write, acknowledge), then :meth:`run` returns."""
        self._stopping.set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Fetch and write until stopped."""
        if self._sub is None:
            await self.start()
        watcher = None
        if stop is not None:

            async def watch() -> None:
                await stop.wait()
                self.stop()

            watcher = asyncio.create_task(watch())
        try:
            await asyncio.gather(*(self._loop() for _ in range(self.concurrency)))
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _loop(self) -> None:
        from nats.errors import TimeoutError as NatsTimeout

        while not self._stopping.is_set():
            try:
                msgs = await self._sub.fetch(self.batch_size, timeout=self.fetch_timeout_s)
            except (NatsTimeout, TimeoutError):
                continue
            except Exception as exc:  # connection trouble: the client reconnects
                if self._stopping.is_set():
                    return
                log.warning("%s writer: fetch failed: %r", self.codec.label, exc)
                await asyncio.sleep(1.0)
                continue
            if msgs:
                await self.handle(msgs)

    async def handle(self, msgs: Sequence[Msg]) -> None:
        """Write one fetched batch: decode, write (in key-unique parts, in stream order), ack."""
        self.stats.messages += len(msgs)
        codec = self.codec
        parts: list[tuple[list[Any], list[Msg]]] = [([], [])]
        seen: dict[Any, str] = {}
        for msg in msgs:
            with contextlib.suppress(Exception):
                if msg.metadata.num_delivered > 1:
                    self.stats.redelivered += 1
            try:
                record = codec.decode(msg.data)
            except RecordDecodeError as exc:
                self.stats.undecodable += 1
                log.error(
                    "%s writer: message %s is not a record (%s); terminated",
                    codec.label,
                    msg.subject,
                    exc,
                )
                with contextlib.suppress(Exception):
                    await msg.term()
                continue
            key = codec.key(record)
            digest = codec.digest(record)
            held = seen.get(key)
            if held == digest:  # the same data twice in this fetch: written once, both acked
                self.stats.repeated += 1
                parts[-1][1].append(msg)
                continue
            if held is not None:  # a correction of a record in this fetch: a later write
                parts.append(([], []))
                seen = {}
            seen[key] = digest
            parts[-1][0].append(record)
            parts[-1][1].append(msg)
        for index, (records, part_msgs) in enumerate(parts):
            if not part_msgs:
                continue
            if records and not await self._write(records, part_msgs):
                rest = [m for _, later in parts[index:] for m in later]
                for msg in rest:
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=self.config.nak_delay_s or None)
                return
            for msg in part_msgs:
                with contextlib.suppress(Exception):
                    await msg.ack()
                    self.stats.acked += 1

    async def _write(self, records: list[Any], msgs: list[Msg]) -> bool:
        """Write ``records``; tell the server the messages are in progress while it takes long."""
        keepalive = asyncio.create_task(self._keep_alive(msgs))
        started = self.clock()
        try:
            await self.sink.write(records)
        except Exception as exc:
            self.stats.write_failures += 1
            log.error(
                "%s writer: storing %d records failed (redelivered in %s s): %r",
                self.codec.label,
                len(records),
                self.config.nak_delay_s,
                exc,
            )
            return False
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            self.stats.seconds += self.clock() - started
        self.stats.batches += 1
        self.stats.records_written += len(records)
        return True

    async def _keep_alive(self, msgs: list[Msg]) -> None:
        every = max(self.config.ack_wait_s / 2, 0.5)
        while True:
            await asyncio.sleep(every)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def pending(self) -> tuple[int, int]:
        """(messages not yet delivered, delivered and not acknowledged) of the consumer."""
        info = await self._sub.consumer_info()
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    async def aclose(self) -> None:
        """Flush the acknowledgements and close the connection (when the writer opened it)."""
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        nc, self._nc = self._nc, None
        if nc is not None and self._own_connection:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=5)
            await nc.close()
