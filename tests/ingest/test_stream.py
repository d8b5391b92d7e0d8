"""HJ 212 records on NATS JetStream (issue 22): receivers publish, storage writers consume.

Specified by issue 22: the record key (MN, CN, DataTime) with its content digest is the message id
(a retransmission is one message), a receiver answers a station only once the stream holds the
record, and a writer killed mid-batch — after fetching, before acknowledging — loses nothing: a
new writer gets the batch again and the idempotent store holds every record once.

The stream tests run against the real JetStream server on 127.0.0.1:4222 (skipped with the
reason when it is not reachable); each uses its own stream and subjects and deletes the stream.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.hj212 import parse_packet
from dualcontrol.core.hj212_stream import DataRecord, record_of
from dualcontrol.ingest.hj212_server import (
    Hj212Server,
    MemorySink,
    ServerConfig,
    run_load,
    station_packet,
)
from dualcontrol.ingest.stream import (
    JetStreamSink,
    RecordDecodeError,
    StreamConfig,
    StreamPublishError,
    StreamWriter,
    decode_record,
    encode_record,
    message_id,
    stream_config,
    subject_of,
)
from dualcontrol.reference.hj212 import hj212_tables

NATS_URL = "nats://127.0.0.1:4222"
QUICK = ServerConfig(
    batch_size=500,
    batch_delay_s=0.01,
    sink_retry_delay_s=0.01,
    shutdown_timeout_s=5,
    close_linger_s=0.05,
)


def run(coro: Awaitable[Any], timeout: float = 40) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Records as bytes
# --------------------------------------------------------------------------------------------


def same_values(a: DataRecord, b: DataRecord) -> bool:
    """Values equal with their types and exact digits (Decimal NaN is not == itself)."""

    def norm(record: DataRecord) -> dict[str, dict[str, tuple[str, str]]]:
        return {
            code: {suffix: (type(v).__name__, str(v)) for suffix, v in entry.items()}
            for code, entry in record.values.items()
        }

    return norm(a) == norm(b)


def assert_round_trip(record: DataRecord) -> None:
    data = encode_record(record)
    back = decode_record(data)
    assert (back.mn, back.st, back.cn, back.qn, back.flag, back.version, back.content) == (
        record.mn,
        record.st,
        record.cn,
        record.qn,
        record.flag,
        record.version,
        record.content,
    )
    assert back.data_time == record.data_time
    assert back.data_time.utcoffset() == record.data_time.utcoffset()
    assert back.data_time.tzinfo == record.data_time.tzinfo
    assert back.data_time.fold == record.data_time.fold
    assert back.data_time.isoformat() == record.data_time.isoformat()
    assert same_values(back, record)
    assert dict(back.source_codes) == dict(record.source_codes)
    assert back.key == record.key
    assert back.digest == record.digest
    assert message_id(back) == message_id(record)
    assert encode_record(back) == data


texts = st.text(max_size=12)
values = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.text(max_size=8),
)
records = st.builds(
    DataRecord,
    mn=texts,
    st=texts,
    cn=texts,
    data_time=st.datetimes(timezones=st.none() | st.timezones()),
    values=st.dictionaries(texts, st.dictionaries(texts, values, max_size=5), max_size=5),
    source_codes=st.dictionaries(texts, texts, max_size=3),
    qn=st.none() | texts,
    flag=st.none() | st.integers(min_value=0, max_value=255),
    version=st.none() | texts,
    content=st.none() | st.text(max_size=60),
)


@settings(max_examples=300, deadline=None)
@given(records)
def test_every_record_round_trips_exactly(record: DataRecord) -> None:
    assert_round_trip(record)


def test_a_received_packet_round_trips_with_its_digest() -> None:
    record = record_of(parse_packet(station_packet("88888880000001", 7)))
    assert record is not None
    assert record.values["w01018"]["Avg"] == Decimal("10.70")
    assert_round_trip(record)
    back = decode_record(encode_record(record))
    assert back.values["w01018"]["Avg"] == Decimal("10.70")
    assert back.values["w01018"]["Flag"] == "N"  # text stays text


def test_odd_values_round_trip() -> None:
    record = DataRecord(
        mn="站点\udcff\x00;=&",  # Chinese, a lone surrogate (as the digest allows), NUL
        st="32",
        cn="2011",
        data_time=dt.datetime(
            2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))
        ),
        values={
            "a": {
                "Rtd": Decimal("-0"),
                "Avg": Decimal("1E+2"),
                "Min": Decimal("sNaN123"),
                "Max": Decimal("-Infinity"),
                "Cou": Decimal("0.00100"),
                "Flag": "1.5",  # a number-looking text stays text
            }
        },
        source_codes={"a": "x"},
        qn=None,
        flag=None,
        version=None,
        content=None,
    )
    assert_round_trip(record)
    back = decode_record(encode_record(record))
    assert back.values["a"]["Cou"].as_tuple() == Decimal("0.00100").as_tuple()  # type: ignore[union-attr]
    assert back.values["a"]["Flag"] == "1.5"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[1]",
        b'{"v": 2}',
        b'{"v": 1}',
        b'{"v":1,"mn":1,"st":"","cn":"","t":"2026-01-01T00:00:00","vals":{},"src":{},'
        b'"qn":null,"flag":null,"ver":null,"cp":null}',
        b'{"v":1,"mn":"M","st":"","cn":"","t":"yesterday","vals":{},"src":{},'
        b'"qn":null,"flag":null,"ver":null,"cp":null}',
        b'{"v":1,"mn":"M","st":"","cn":"","t":"2026-01-01T00:00:00","vals":{"a":{"Avg":"x"}},'
        b'"src":{},"qn":null,"flag":null,"ver":null,"cp":null}',
        b'{"v":1,"mn":"M","st":"","cn":"","t":"2026-01-01T00:00:00","vals":{},"src":{},'
        b'"qn":null,"flag":"5","ver":null,"cp":null}',
        b'{"v":1,"mn":"M","st":"","cn":"","t":"2026-01-01T00:00:00","tz":"Mars/Base","vals":{},'
        b'"src":{},"qn":null,"flag":null,"ver":null,"cp":null}',
        b"\xff\xfe",
    ],
)
def test_anything_else_is_refused_with_the_reason(data: bytes) -> None:
    with pytest.raises(RecordDecodeError):
        decode_record(data)


def test_subject_and_message_id() -> None:
    record = record_of(parse_packet(station_packet("88888880000001", 0)))
    assert record is not None
    assert subject_of(record, "hj212.records") == "hj212.records.88888880000001"
    assert message_id(record) == f"88888880000001|2051|2026-01-01T00:00:00|{record.digest}"
    hostile = replace(record, mn="a.b.>*")  # cannot make a wildcard or a new subject level
    subject = subject_of(hostile, "hj212.records")
    assert subject.startswith("hj212.records.~") and subject.count(".") == 2
    assert "*" not in subject and ">" not in subject


def test_stream_defaults_come_from_the_receiver_policy() -> None:
    """hj212_receiver.yaml ``stream:`` (platform rules)."""
    config = stream_config(NATS_URL)
    assert config.name == "HJ212"
    assert config.subjects == ["hj212.records.>"]
    assert config.duplicate_window_s == 600
    assert config.max_age_s == 72 * 3600
    assert config.max_bytes is None
    assert config.discard == "new"
    assert config.storage == "file"
    assert config.consumer == "hj212-writers"
    assert config.ack_wait_s == 60
    assert config.server_list == [NATS_URL]
    assert config.version.startswith("hj212_receiver.yaml@")
    assert stream_config("nats://a:4222, nats://b:4222").server_list == [
        "nats://a:4222",
        "nats://b:4222",
    ]


# --------------------------------------------------------------------------------------------
# Against the JetStream server
# --------------------------------------------------------------------------------------------


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            return True
    except OSError:
        return False


needs_nats = pytest.mark.skipif(
    not _reachable(), reason="no NATS JetStream server on 127.0.0.1:4222 (issue 22 stream tests)"
)


async def _delete_stream(name: str) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jsm().delete_stream(name)
    except NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def config() -> Iterator[StreamConfig]:
    """A stream and subjects of this test only; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    cfg = replace(
        stream_config(NATS_URL),
        name=f"TEST_{tag}",
        subject_prefix=f"test.{tag}.records",
        consumer="writers",
        ack_wait_s=1.0,
        nak_delay_s=0.2,
        publish_timeout_s=5,
    )
    yield cfg
    asyncio.run(_delete_stream(cfg.name))


async def _messages(cfg: StreamConfig) -> int:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        info = await nc.jsm().stream_info(cfg.name)
        return int(info.state.messages)
    finally:
        await nc.close()


def _records(n: int, mn: str = "88888880000001") -> list[DataRecord]:
    out = []
    for i in range(n):
        record = record_of(parse_packet(station_packet(mn, i)))
        assert record is not None
        out.append(record)
    return out


@needs_nats
def test_sink_publishes_and_a_retransmission_is_one_message(config: StreamConfig) -> None:
    async def body() -> None:
        sink = JetStreamSink(config)
        try:
            first, second = _records(2)
            await sink.write([first, second])
            await sink.write([first])  # resent with the same content: dropped by the stream
            assert sink.stats.duplicates == 1
            assert await _messages(config) == 2
            # A correction (same key, other content) is another message.
            corrected = replace(first, content=(first.content or "") + ";x", values={})
            await sink.write([corrected])
            assert await _messages(config) == 3
            assert sink.stats.snapshot()["stored_in_stream"] == 3
        finally:
            await sink.aclose()

    run(body())


@needs_nats
def test_no_stream_no_answer(config: StreamConfig) -> None:
    """The receiver answers a station only when the stream has its record."""

    async def body() -> None:
        sink = JetStreamSink(config, create_stream=False)  # nothing stores these subjects
        with pytest.raises(StreamPublishError):
            await sink.write(_records(1))
        server = Hj212Server(sink, tables=hj212_tables(), config=replace(QUICK, sink_retries=0))
        await server.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(station_packet("88888880000001", 0))
            await writer.drain()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await reader.read(1)  # no 9014 answer
            writer.close()
        finally:
            await server.stop()
            await sink.aclose()
        assert server.stats.records_failed == 1
        assert server.stats.replies_sent == 0

    run(body())


async def _until(predicate: Any, timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)
    del what


def _expected_keys(stations: int, packets: int) -> set[tuple[str, str, dt.datetime]]:
    start = dt.datetime(2026, 1, 1)
    return {
        (f"LOAD{n:06d}", "2051", start + dt.timedelta(minutes=i))
        for n in range(stations)
        for i in range(packets)
    }


@needs_nats
def test_load_through_the_stream_to_the_store(config: StreamConfig) -> None:
    """run_load → receiver → JetStream → writer → store: count in = count stored."""
    stations, packets = 20, 150  # 3 000 records

    async def body() -> None:
        sink = JetStreamSink(config)
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        try:
            load = await run_load(
                "127.0.0.1", server.port, stations=stations, packets_per_station=packets
            )
        finally:
            await server.stop()
            await sink.aclose()
        assert load.errors == ()
        assert load.answers_received == stations * packets
        assert await _messages(config) == stations * packets

        store = MemorySink()
        writer = StreamWriter(store, config, batch_size=400, fetch_timeout_s=0.2)
        task = asyncio.create_task(writer.run())
        await _until(lambda: len(store.records) >= stations * packets, 20, "all stored")
        writer.stop()
        await task
        assert await writer.pending() == (0, 0)
        await writer.aclose()
        assert set(store.records) == _expected_keys(stations, packets)
        assert store.versions == {}
        assert writer.stats.acked == stations * packets
        assert writer.stats.redelivered == 0

    run(body())


class CrashingSink:
    """Stores into ``store``; on the first write of at least ``crash_at`` records after
    ``crash_after`` writes it stores the first half of the batch and then hangs (the writer is
    killed there: after fetching, before acknowledging)."""

    def __init__(self, store: MemorySink, *, crash_after: int = 2, crash_at: int = 20) -> None:
        self.store = store
        self.crash_after = crash_after
        self.crash_at = crash_at
        self.writes = 0
        self.crashed_batch = 0
        self.hanging = asyncio.Event()

    async def write(self, records: Sequence[DataRecord]) -> None:
        self.writes += 1
        if self.writes > self.crash_after and len(records) >= self.crash_at:
            self.crashed_batch = len(records)
            await self.store.write(records[: len(records) // 2])
            self.hanging.set()
            await asyncio.Event().wait()
        await self.store.write(records)


@needs_nats
def test_writer_killed_mid_batch_loses_nothing(config: StreamConfig) -> None:
    """The load generator runs while a writer is killed mid-batch and a new one takes over."""
    stations, packets = 20, 150  # 3 000 records
    total = stations * packets

    async def body() -> None:
        store = MemorySink()
        crashing = CrashingSink(store)
        first = StreamWriter(crashing, config, batch_size=200, fetch_timeout_s=0.2)
        await first.start()
        first_task = asyncio.create_task(first.run())

        sink = JetStreamSink(config)
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        load = asyncio.create_task(
            run_load("127.0.0.1", server.port, stations=stations, packets_per_station=packets)
        )
        await asyncio.wait_for(crashing.hanging.wait(), 20)
        # Kill: no acknowledgement, no negative acknowledgement, the connection just goes.
        first_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first_task
        assert first._nc is not None
        await first._nc.close()
        in_flight = len(store.records)

        second = StreamWriter(store, config, batch_size=200, fetch_timeout_s=0.2)
        second_task = asyncio.create_task(second.run())
        result = await load
        await server.stop()
        await sink.aclose()
        assert result.errors == ()
        assert result.answers_received == total

        await _until(lambda: len(store.records) >= total, 20, "all stored")
        await _until(lambda: second.stats.redelivered > 0, 5, "the killed batch redelivered")
        second.stop()
        await second_task
        assert await second.pending() == (0, 0)
        await second.aclose()

        assert await _messages(config) == total
        assert set(store.records) == _expected_keys(stations, packets)  # nothing lost
        assert len(store.records) == total
        assert store.versions == {}  # the redelivered half stored once: no duplicates
        assert in_flight < total
        assert second.stats.redelivered >= crashing.crashed_batch >= 20

    run(body(), timeout=50)


WRITER_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from dualcontrol.ingest.stream import StreamConfig, StreamWriter

    cfg = StreamConfig(**json.loads(sys.argv[1]))
    path, hang_on = sys.argv[2], int(sys.argv[3])

    class FileSink:
        writes = 0
        async def write(self, records):
            FileSink.writes += 1
            half = records[: len(records) // 2] if FileSink.writes == hang_on else records
            with open(path, "a") as out:
                for r in half:
                    out.write(json.dumps([r.mn, r.cn, r.data_time.isoformat(), r.digest]) + "\\n")
                out.flush()
                os.fsync(out.fileno())
            if FileSink.writes == hang_on:
                open(path + ".hang", "w").close()
                await asyncio.Event().wait()

    asyncio.run(StreamWriter(FileSink(), cfg, batch_size=200, fetch_timeout_s=0.2).run())
    """
)


@needs_nats
def test_writer_process_killed_with_sigkill_loses_nothing(
    config: StreamConfig, tmp_path: Path
) -> None:
    """A writer process is SIGKILLed mid-batch; another writer stores the rest and the batch."""
    total = 1000
    log = tmp_path / "stored.jsonl"

    async def publish() -> None:
        sink = JetStreamSink(config)
        try:
            for n in range(4):
                await sink.write(_records(total // 4, mn=f"88888880{n:06d}"))
        finally:
            await sink.aclose()

    run(publish())
    fields = {
        "servers": NATS_URL,
        "name": config.name,
        "subject_prefix": config.subject_prefix,
        "consumer": config.consumer,
        "ack_wait_s": config.ack_wait_s,
        "nak_delay_s": config.nak_delay_s,
    }
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, json.dumps(fields), str(log), "3"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 20
        while not Path(f"{log}.hang").exists():
            assert child.poll() is None, "the writer process died on its own"
            assert time.monotonic() < deadline, "the writer process never reached batch 3"
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    lines_before = log.read_text().splitlines()
    assert lines_before  # batches stored and half of the one in hand

    store: dict[tuple[str, str, str], str] = {}
    for line in lines_before:
        mn, cn, when, digest = json.loads(line)
        store[(mn, cn, when)] = digest

    async def take_over() -> WriterStatsView:
        memory = MemorySink()
        writer = StreamWriter(memory, config, batch_size=200, fetch_timeout_s=0.2)
        task = asyncio.create_task(writer.run())
        await _until(
            lambda: len(set(store) | {_key(r) for r in memory.records.values()}) >= total,
            20,
            "the rest stored",
        )
        writer.stop()
        await task
        pending = await writer.pending()
        await writer.aclose()
        for record in memory.records.values():
            key = _key(record)
            assert store.get(key, record.digest) == record.digest  # a redelivery, same content
            store[key] = record.digest
        return WriterStatsView(pending, writer.stats.redelivered)

    view = run(take_over())
    assert view.pending == (0, 0)
    assert view.redelivered > 0  # the killed batch, half of it already stored
    assert len(store) == total  # count in = count stored, each key once


def _key(record: DataRecord) -> tuple[str, str, str]:
    return (record.mn, record.cn, record.data_time.isoformat())


class WriterStatsView:
    def __init__(self, pending: tuple[int, int], redelivered: int) -> None:
        self.pending = pending
        self.redelivered = redelivered


@needs_nats
def test_failed_write_is_redelivered(config: StreamConfig) -> None:
    async def body() -> None:
        sink = JetStreamSink(config)
        await sink.write(_records(50))
        await sink.aclose()
        store = MemorySink()
        store.fail_next = 1
        writer = StreamWriter(store, config, batch_size=100, fetch_timeout_s=0.2)
        task = asyncio.create_task(writer.run())
        await _until(lambda: len(store.records) >= 50, 10, "stored after the retry")
        writer.stop()
        await task
        assert await writer.pending() == (0, 0)
        await writer.aclose()
        assert writer.stats.write_failures == 1
        assert writer.stats.redelivered == 50
        assert writer.stats.records_written == 50

    run(body())


@needs_nats
def test_undecodable_message_is_terminated_not_retried(config: StreamConfig) -> None:
    async def body() -> None:
        import nats

        sink = JetStreamSink(config)
        await sink.write(_records(3))
        await sink.aclose()
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().publish(f"{config.subject_prefix}.junk", b"not a record")
        await nc.close()
        store = MemorySink()
        writer = StreamWriter(store, config, batch_size=10, fetch_timeout_s=0.2)
        task = asyncio.create_task(writer.run())
        await _until(lambda: len(store.records) >= 3 and writer.stats.undecodable, 10, "done")
        writer.stop()
        await task
        assert await writer.pending() == (0, 0)
        await writer.aclose()
        assert writer.stats.undecodable == 1

    run(body())


# --------------------------------------------------------------------------------------------
# The commands: a receiver with --stream and a storage writer, into the database
# --------------------------------------------------------------------------------------------


class ThreadStop:
    """Stands in for SIGTERM: set from the test thread, awaited in the command's loop."""

    def __init__(self) -> None:
        import threading

        self.flag = threading.Event()

    def set(self) -> None:
        self.flag.set()

    def is_set(self) -> bool:
        return self.flag.is_set()

    async def wait(self) -> None:
        while not self.flag.is_set():
            await asyncio.sleep(0.02)


@needs_nats
@pytest.mark.django_db(transaction=True)
def test_receiver_and_writer_commands_through_the_stream(
    world: Any, config: StreamConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import threading

    from dualcontrol.audit.models import AuditEntry
    from dualcontrol.commands.ingest import run_hj212, run_writer
    from dualcontrol.ingest import stream as stream_module
    from dualcontrol.monitoring.models import Receipt
    from tests.monitoring.helpers import make_outlet

    # the test's own stream, not the installation's HJ212
    # the database writer's first batch can take over a second on PostgreSQL (staging tables):
    # a longer ack wait than the fixture's 1 s, so nothing is redelivered and acked twice
    monkeypatch.setattr(
        stream_module,
        "stream_config",
        lambda url, **kw: replace(config, **{"ack_wait_s": 30.0, **kw}),
    )
    make_outlet(world.unit, mn="STREAM000001", station_password="st212")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    receiver_stop, writer_stop = ThreadStop(), ThreadStop()
    rc: dict[str, int] = {}
    receiver_args = argparse.Namespace(
        listen=f"127.0.0.1:{port}",
        batch_size=50,
        batch_delay=0.01,
        max_connections=100,
        idle_timeout=0,
        log_every=0.05,
        stream=NATS_URL,
    )
    writer_args = argparse.Namespace(
        stream=NATS_URL, batch=100, consumer=None, concurrency=None, log_every=0.05
    )
    threads = [
        threading.Thread(
            target=lambda: rc.setdefault("receiver", run_hj212(receiver_args, stop=receiver_stop)),
            daemon=True,
        ),
        threading.Thread(
            target=lambda: rc.setdefault("writer", run_writer(writer_args, stop=writer_stop)),
            daemon=True,
        ),
    ]
    # One after the other (SQLite in the tests takes one writer at a time): the records wait in
    # the stream while no writer runs.
    threads[0].start()
    try:
        _drive_station(port)
        receiver_stop.set()
        threads[0].join(20)
        threads[1].start()
        deadline = time.monotonic() + 20
        while _stored("STREAM000001") < 20:
            assert time.monotonic() < deadline, "the writer did not store the records"
            time.sleep(0.05)
    finally:
        receiver_stop.set()
        writer_stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(20)
    assert rc == {"receiver": 0, "writer": 0}
    stored = list(
        Receipt.objects.filter(mn="STREAM000001")
        .order_by("data_time", "cn")
        .values_list("cn", "data_time", "received_at")
    )
    assert len(stored) == 20, stored
    entries = list(AuditEntry.objects.filter(action="monitoring.ingest").order_by("pk"))
    stops = [e.after for e in entries if e.after.get("event") == "stop"]
    receiver = next(a for a in stops if "server" in a)
    writer = next(a for a in stops if "writer" in a)
    assert receiver["sink"]["stored_in_stream"] == 20
    assert writer["sink"]["stored"] == 20
    assert writer["writer"]["acked"] == 20


def _stored(mn: str) -> int:
    """Receipts of ``mn`` (SQLite: the writer's thread may hold the table for a moment)."""
    from django.db import OperationalError

    from dualcontrol.monitoring.models import Receipt

    try:
        return Receipt.objects.filter(mn=mn).count()
    except OperationalError:
        return 0


def _drive_station(port: int) -> None:
    """20 packets and 5 of them again, all answered (the answers come once the stream has them)."""
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, second=0, microsecond=0)
    start = now - dt.timedelta(hours=1)
    packets = [station_packet("STREAM000001", i, start=start, pw="st212") for i in range(20)]
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.05)
    with conn:
        conn.sendall(b"".join(packets) + b"".join(packets[:5]))  # 5 resent
        got = b""
        while got.count(b"CN=9014") < 25:
            chunk = conn.recv(65536)
            assert chunk, "connection closed before all answers"
            got += chunk
