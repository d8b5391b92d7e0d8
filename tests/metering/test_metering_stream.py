"""Energy online monitoring readings on NATS JetStream (issue 22).

Specified by issue 22: with a stream configured, the metering ingest publishes the accepted
readings with the reading key ``item|epoch`` as the message id (a resend is one message) and
answers only once the stream holds them; storage writers store them through the readings table's
write and acknowledge after the write; a writer killed mid-batch and restarted loses nothing and
stores nothing twice (count in = count stored).  Without a stream the ingest writes the database.

The stream tests run against the real JetStream server on 127.0.0.1:4222 (skipped with the
reason when it is not reachable); each uses its own stream and deletes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from metering_world import ELEC, SUB, build

from dualcontrol.ingest.stream import RecordDecodeError, StreamConfig, StreamWriter
from dualcontrol.metering import storage
from dualcontrol.metering import stream as mstream
from dualcontrol.metering.models import IngestBatch

NATS_URL = "nats://127.0.0.1:4222"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            return True
    except OSError:
        return False


needs_nats = pytest.mark.skipif(
    not _reachable(), reason="no NATS JetStream server on 127.0.0.1:4222 (issue 22 stream tests)"
)


# --------------------------------------------------------------------------------------------
# Without a server


def test_a_reading_round_trips_and_its_key_is_the_message_id() -> None:
    r = mstream.StreamedReading(
        item_id=7,
        epoch=1_780_000_200,
        value=0.1 + 0.2,
        source=4,
        batch_id=None,
        entity_id=3,
        received=1_780_000_201.25,
    )
    back = mstream.decode(mstream.encode(r))
    assert back == r
    assert back.value == 0.1 + 0.2  # the float's exact digits
    assert mstream.message_id(r) == "7|1780000200"
    assert mstream.subject(r, "metering.readings") == "metering.readings.3"
    assert mstream.CODEC.key(r) == (7, 1_780_000_200)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"v": 2}',
        b'{"v":1,"i":"7","t":1,"x":1.0,"s":4,"b":null,"e":1,"r":1}',
        b'{"v":1,"i":7,"t":1,"x":NaN,"s":4,"b":null,"e":1,"r":1}',
        b'{"v":1,"i":7,"t":1,"x":true,"s":4,"b":null,"e":1,"r":1}',
        b'{"v":1,"i":7,"t":1,"x":1.0,"s":4,"b":null,"e":1}',
    ],
)
def test_anything_else_is_refused_with_the_reason(data: bytes) -> None:
    with pytest.raises(RecordDecodeError):
        mstream.decode(data)


def test_stream_settings_come_from_the_reference_file() -> None:
    cfg = mstream.config(NATS_URL)
    assert (cfg.name, cfg.subject_prefix, cfg.consumer) == (
        "METERING",
        "metering.readings",
        "metering-writers",
    )
    assert cfg.version.startswith("metering_stream.yaml@")
    assert cfg.server_list == [NATS_URL]


@pytest.mark.django_db
def test_without_a_stream_the_ingest_writes_the_database(world, settings) -> None:
    settings.METERING_STREAM = ""
    mw = build(world)
    t = slot(2)
    result = _client_post(mw, [{"item": ELEC, "ts": t.isoformat(), "value": 1.5}])
    assert result.status_code == 200
    body = result.json()
    assert (body["stored"], body["queued"]) == (1, 0)
    assert storage.count([mw.items["elec"].pk]) == 1


# --------------------------------------------------------------------------------------------
# Against the JetStream server


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


async def _messages(cfg: StreamConfig) -> int:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        return int((await nc.jsm().stream_info(cfg.name)).state.messages)
    finally:
        await nc.close()


@pytest.fixture
def config(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StreamConfig]:
    """A stream of this test only, configured for the ingest; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    cfg = replace(
        mstream.config(NATS_URL),
        name=f"TESTM_{tag}",
        subject_prefix=f"testm.{tag}.readings",
        consumer="writers",
        ack_wait_s=2.0,
        nak_delay_s=0.2,
        publish_timeout_s=5,
    )
    settings.METERING_STREAM = NATS_URL
    monkeypatch.setattr(mstream, "config", lambda servers=None, **kw: replace(cfg, **kw))
    yield cfg
    mstream.close_publishers()
    asyncio.run(_delete_stream(cfg.name))


def slot(hours_ago: float) -> dt.datetime:
    t = timezone.localtime() - dt.timedelta(hours=hours_ago)
    return t.replace(minute=t.minute // 15 * 15, second=0, microsecond=0)


def _client_post(mw: Any, readings: list[dict[str, Any]]) -> Any:
    c = Client()
    r = c.post(
        "/api/auth/token",
        json.dumps({"username": "ent1", "password": "test-pass-123"}),
        content_type="application/json",
    )
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {r.json()['token']}"
    return c.post(
        "/api/metering/readings",
        json.dumps({"readings": readings}),
        content_type="application/json",
    )


def _day(code: str, start: dt.datetime, n: int, value: float = 10.0) -> list[dict[str, Any]]:
    return [
        {"item": code, "ts": (start + dt.timedelta(minutes=15 * k)).isoformat(), "value": value + k}
        for k in range(n)
    ]


async def _until(predicate: Any, timeout: float, what: str) -> None:
    """Wait for ``predicate`` (run in a thread: it may read the database)."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        await asyncio.sleep(0.05)


def _stored(item_ids: Sequence[int]) -> int:
    from django.db import OperationalError, connection

    try:
        return storage.count(list(item_ids))
    except OperationalError:  # SQLite: the writer's thread holds the table for a moment
        return 0
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # a helper thread's connection (asyncio.to_thread)


@needs_nats
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_once_the_stream_holds_the_readings(world, config) -> None:
    mw = build(world)
    elec, sub = mw.items["elec"], mw.items["sub"]
    start = slot(30)
    readings = _day(ELEC, start, 40) + _day(SUB, start, 40)
    bad = {"item": ELEC, "ts": "yesterday", "value": 1}
    r = _client_post(mw, [*readings, readings[0], bad])
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["received"], body["stored"], body["queued"]) == (82, 0, 80)
    assert [d["index"] for d in body["duplicates"]] == [80]  # in-batch repeat
    assert [e["reason"] for e in body["rejected"]] == ["bad_timestamp"]
    assert _stored([elec.pk, sub.pk]) == 0  # nothing written by the receiver
    assert asyncio.run(_messages(config)) == 80
    batch = IngestBatch.objects.get(pk=body["batch"])
    assert (batch.n_stored, batch.n_rejected, batch.n_duplicates) == (0, 1, 1)

    # the same readings again, before any writer ran: the stream drops them (same key)
    again = _client_post(mw, readings[:10]).json()
    assert (again["queued"], len(again["duplicates"])) == (0, 10)
    assert all(d["stored_value"] is None for d in again["duplicates"])  # not stored yet
    assert asyncio.run(_messages(config)) == 80

    async def write() -> StreamWriter:
        sink = mstream.DatabaseSink()
        writer = StreamWriter(sink, config, batch_size=30, fetch_timeout_s=0.2, codec=mstream.CODEC)
        task = asyncio.create_task(writer.run())
        await _until(lambda: _stored([elec.pk, sub.pk]) >= 80, 20, "all stored")
        writer.stop()
        await task
        assert await writer.pending() == (0, 0)
        await writer.aclose()
        await sink.aclose()
        return writer

    writer = asyncio.run(write())
    assert writer.stats.acked == 80
    assert _stored([elec.pk]) == 40 and _stored([sub.pk]) == 40
    batch.refresh_from_db()
    assert (batch.n_stored, batch.n_duplicates) == (80, 1)
    elec.refresh_from_db()
    assert elec.last_ts == start + dt.timedelta(minutes=15 * 39)
    assert elec.last_received is not None
    # after the writer: a resend is answered with the stored value, as on the direct path
    late = _client_post(mw, readings[:1]).json()
    assert late["duplicates"] == [{"index": 0, "stored_value": 10.0}]
    assert asyncio.run(_messages(config)) == 80


@pytest.mark.django_db(transaction=True)
def test_no_stream_no_answer(world, settings, monkeypatch) -> None:
    """The stream is not reachable: 503, nothing stored, the batch logged as refused."""
    mw = build(world)
    cfg = replace(mstream.config(NATS_URL), servers="nats://127.0.0.1:1", publish_timeout_s=1)
    settings.METERING_STREAM = "nats://127.0.0.1:1"
    monkeypatch.setattr(mstream, "config", lambda servers=None, **kw: cfg)
    try:
        r = _client_post(mw, _day(ELEC, slot(3), 4))
    finally:
        mstream.close_publishers()
    assert r.status_code == 503, r.content
    assert "nothing accepted" in r.json()["detail"]
    assert storage.count([mw.items["elec"].pk]) == 0
    batch = IngestBatch.objects.get()
    assert batch.n_stored == 0 and batch.errors[0]["reason"] == "stream_unavailable"
    from dualcontrol.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="metering.ingest.refused").count() == 1


class CrashingSink:
    """The real database sink; on write number ``crash_on`` it stores the first half of the batch
    and hangs (the writer is killed there: after fetching, before acknowledging)."""

    def __init__(self, inner: mstream.DatabaseSink, crash_on: int = 2) -> None:
        self.inner = inner
        self.crash_on = crash_on
        self.writes = 0
        self.crashed_batch = 0
        self.hanging = asyncio.Event()

    async def write(self, records: Sequence[mstream.StreamedReading]) -> None:
        self.writes += 1
        if self.writes == self.crash_on:
            self.crashed_batch = len(records)
            await self.inner.write(records[: len(records) // 2])
            self.hanging.set()
            await asyncio.Event().wait()
        await self.inner.write(records)


@needs_nats
@pytest.mark.django_db(transaction=True)
def test_writer_killed_mid_batch_and_restarted_loses_nothing(world, config) -> None:
    mw = build(world)
    elec, sub = mw.items["elec"], mw.items["sub"]
    start = slot(30)
    batches = [
        _day(ELEC, start, 60),
        _day(SUB, start, 60),
        _day(ELEC, start - dt.timedelta(days=1), 60),
    ]
    accepted = 0
    for readings in batches:
        body = _client_post(mw, readings).json()
        accepted += body["queued"]
    assert accepted == 180  # count in

    async def body() -> tuple[int, int]:
        inner = mstream.DatabaseSink()
        crashing = CrashingSink(inner)
        first = StreamWriter(
            crashing, config, batch_size=40, fetch_timeout_s=0.2, codec=mstream.CODEC
        )
        first_task = asyncio.create_task(first.run())
        await asyncio.wait_for(crashing.hanging.wait(), 20)
        # Kill: no acknowledgement, no negative acknowledgement, the connection just goes.
        first_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first_task
        assert first._nc is not None
        await first._nc.close()
        await inner.aclose()
        in_flight = await asyncio.to_thread(_stored, [elec.pk, sub.pk])
        assert 0 < in_flight < accepted

        sink = mstream.DatabaseSink()
        second = StreamWriter(sink, config, batch_size=40, fetch_timeout_s=0.2, codec=mstream.CODEC)
        task = asyncio.create_task(second.run())
        await _until(lambda: _stored([elec.pk, sub.pk]) >= accepted, 30, "all stored")
        await _until(lambda: second.stats.redelivered > 0, 10, "the killed batch redelivered")
        second.stop()
        await task
        assert await second.pending() == (0, 0)
        await second.aclose()
        await sink.aclose()
        assert second.stats.redelivered >= crashing.crashed_batch > 0
        return sink.stats.stored, sink.stats.duplicates

    _stored_by_second, duplicates = asyncio.run(asyncio.wait_for(body(), 60))
    assert _stored([elec.pk, sub.pk]) == accepted  # count in = count stored
    assert duplicates >= 1  # the half stored before the kill, found stored: not written twice
    counts = IngestBatch.objects.filter(channel="api").values_list("n_stored", flat=True)
    assert sum(counts) == accepted  # each reading counted stored exactly once
    rows = storage.series(
        [elec.pk, sub.pk], start - dt.timedelta(days=2), start + dt.timedelta(days=2)
    )
    assert len({(r[0], r[1]) for r in rows}) == len(rows) == accepted


class ThreadStop:
    def __init__(self) -> None:
        self.flag = threading.Event()

    def set(self) -> None:
        self.flag.set()

    async def wait(self) -> None:
        while not self.flag.is_set():
            await asyncio.sleep(0.02)


@needs_nats
@pytest.mark.django_db(transaction=True)
def test_the_writer_command_stores_the_metering_stream(world, config) -> None:
    import argparse

    from dualcontrol.audit.models import AuditEntry
    from dualcontrol.commands.ingest import run_writer

    mw = build(world)
    elec = mw.items["elec"]
    assert _client_post(mw, _day(ELEC, slot(30), 25)).json()["queued"] == 25
    args = argparse.Namespace(
        stream=NATS_URL,
        kind="metering",
        no_rollup=False,
        batch=10,
        consumer=None,
        concurrency=None,
        log_every=0.05,
    )
    stop = ThreadStop()
    rc: dict[str, int] = {}
    thread = threading.Thread(target=lambda: rc.setdefault("writer", run_writer(args, stop=stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while _stored([elec.pk]) < 25:
            assert time.monotonic() < deadline, "the writer did not store the readings"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    assert rc == {"writer": 0}
    assert _stored([elec.pk]) == 25
    runs = [e.after for e in AuditEntry.objects.filter(action="metering.stream_writer")]
    stop_entry = next(a for a in runs if a.get("event") == "stop")
    assert stop_entry["sink"]["stored"] == 25 and stop_entry["writer"]["acked"] == 25
    # the day's roll-up was made with the write, as on the direct path
    from dualcontrol.metering.models import ItemDay

    assert ItemDay.objects.filter(item=elec).exists()


WRITER_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualcontrol.settings")
    import django
    django.setup()
    from dualcontrol.ingest.stream import StreamConfig, StreamWriter
    from dualcontrol.metering import stream as mstream

    cfg = StreamConfig(**json.loads(sys.argv[1]))
    flag, hang_on = sys.argv[2], int(sys.argv[3])

    class HangingSink:
        def __init__(self):
            self.inner = mstream.DatabaseSink()
            self.writes = 0
        async def write(self, records):
            self.writes += 1
            if self.writes == hang_on:
                await self.inner.write(records[: len(records) // 2])
                open(flag, "w").close()
                await asyncio.Event().wait()
            await self.inner.write(records)

    asyncio.run(
        StreamWriter(HangingSink(), cfg, batch_size=50, fetch_timeout_s=0.2, codec=mstream.CODEC).run()
    )
    """
)


@needs_nats
@pytest.mark.django_db(transaction=True)
def test_writer_process_killed_with_sigkill_and_restarted(world, config, tmp_path) -> None:
    """PostgreSQL (a writer process needs the test database): a writer process is SIGKILLed in
    the middle of a batch, half of it committed; a new writer process stores the rest."""
    import os
    import signal
    import subprocess
    import sys

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a writer process reaches the test database on PostgreSQL only")
    mw = build(world)
    ids = [mw.items["elec"].pk, mw.items["sub"].pk]
    start = slot(40)
    accepted = sum(_client_post(mw, _day(code, start, 90)).json()["queued"] for code in (ELEC, SUB))
    assert accepted == 180
    fields = {
        "servers": NATS_URL,
        "name": config.name,
        "subject_prefix": config.subject_prefix,
        "consumer": config.consumer,
        "ack_wait_s": config.ack_wait_s,
        "nak_delay_s": config.nak_delay_s,
    }
    s = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "DUALCONTROL_ENV": "test",
    }
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]

    def writer(hang_on: int, flag: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, json.dumps(fields), flag, str(hang_on)], env=env
        )

    flag = tmp_path / "hang"
    first = writer(2, str(flag))
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert first.poll() is None, "the writer process died on its own"
            assert time.monotonic() < deadline, "the writer process never reached batch 2"
            time.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = storage.count(ids)
    assert 50 < at_kill < accepted  # batch 1 and half of batch 2 committed

    second = writer(10**9, str(tmp_path / "never"))  # never hangs
    try:
        deadline = time.monotonic() + 60
        while storage.count(ids) < accepted:
            assert second.poll() is None, "the second writer process died"
            assert time.monotonic() < deadline, "the rest was not stored"
            time.sleep(0.05)
        time.sleep(0.5)  # the last acknowledgements
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()
    assert storage.count(ids) == accepted  # count in = count stored
    rows = storage.series(ids, start - dt.timedelta(days=1), start + dt.timedelta(days=2))
    assert len({(r[0], r[1]) for r in rows}) == len(rows) == accepted  # no duplicates
    counts = IngestBatch.objects.filter(channel="api").values_list("n_stored", flat=True)
    assert sum(counts) == accepted  # the redelivered half was not counted twice
