"""A national platform's daily monitoring load through NATS JetStream to PostgreSQL (issue 22).

The nation: ``NATION_OUTLETS`` (100 000) pollution-source outlets sending HJ 212 minute data
(CN 2051, 1 440 a day), hourly (2061, 24) and daily (2031, 1) data with ``POLLUTANTS`` (4) values
each, and ``NATION_UNITS`` (20 000) key energy-using units with ``NATION_ITEMS`` (50) metering items
read every 15 minutes (96 a day).  That is ~146 M HJ 212 records and ~96 M readings a day, which a
2-CPU machine cannot replay; the run takes a sample of each through the real path and extrapolates
by rate (the method is printed with the figures):

1. **Receivers → stream.**  HJ 212: ``SAMPLE_OUTLETS`` outlets × ``SAMPLE_MINUTES`` minutes (and
   their hourly records) published by :class:`~dualcontrol.ingest.stream.JetStreamSink` in
   batches of ``PUBLISH_BATCH`` (what ``dualcontrol ingest hj212 --stream`` does after parsing);
   metering: ``SAMPLE_UNITS`` units × ``NATION_ITEMS`` items × ``SAMPLE_SLOTS`` 15-minute slots
   through ``metering.services.ingest(via_stream=True)`` — every check, the batch log, the
   publish and the wait for the PubAck (what ``POST /api/metering/readings`` does).  Printed:
   records/s published and the acknowledgement latency of a batch (p50/p95).
2. **Stream → storage, capacity.**  With the sample waiting in the stream, 1 and then 2 writer
   processes (``dualcontrol ingest writer`` in-process equivalents: StreamWriter + the database
   sink; metering with its per-write day roll-up) drain it; records/s per writer from the first
   fetch to the last commit.
3. **End-to-end latency.**  One writer runs while a second sample is published at
   ``LATENCY_LOAD`` (0.5) of the measured single-writer capacity for ``LATENCY_SECONDS`` (20 s);
   latency = commit time − the time the stream stored the message (its JetStream timestamp),
   p50/p95 over every record.
4. **Storage.**  PostgreSQL bytes per record (``pg_total_relation_size`` summed over the tables'
   partitions, indexes included, less the empty tables' size before the run) and JetStream bytes
   per message; **count in = count stored**
   (distinct keys in the tables against records accepted by the stream).

Run on PostgreSQL (a scratch database, created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualcontrol_h2bench .venv/bin/python -m benchmarks nation

The scratch database is the DATABASE_URL's name + ``_nation`` unless NATION_DB names one; the
JetStream server is NATS_URL (nats://127.0.0.1:4222); the streams are the run's own, deleted
afterwards.  Environment: NATION_OUTLETS, NATION_UNITS, NATION_ITEMS, POLLUTANTS, SAMPLE_OUTLETS
(400), SAMPLE_MINUTES (60), SAMPLE_UNITS (100), SAMPLE_SLOTS (8), PUBLISH_BATCH (1000),
WRITER_BATCH (500), LATENCY_SECONDS (20), LATENCY_LOAD (0.5), NATION_KEEP=1 keeps the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, replace
from typing import Any

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
NATION_OUTLETS = int(os.environ.get("NATION_OUTLETS", "100000"))
PROVINCE_OUTLETS = int(os.environ.get("PROVINCE_OUTLETS", "2000"))  # issue 22: 2 000 stations
PROVINCE_UNITS = int(os.environ.get("PROVINCE_UNITS", "1000"))  # issue 7: 1 000 key units
NATION_UNITS = int(os.environ.get("NATION_UNITS", "20000"))
NATION_ITEMS = int(os.environ.get("NATION_ITEMS", "50"))
POLLUTANTS = int(os.environ.get("POLLUTANTS", "4"))
SAMPLE_OUTLETS = int(os.environ.get("SAMPLE_OUTLETS", "400"))
SAMPLE_MINUTES = int(os.environ.get("SAMPLE_MINUTES", "60"))
SAMPLE_UNITS = int(os.environ.get("SAMPLE_UNITS", "100"))
SAMPLE_SLOTS = int(os.environ.get("SAMPLE_SLOTS", "8"))
PUBLISH_BATCH = int(os.environ.get("PUBLISH_BATCH", "1000"))
WRITER_BATCH = int(os.environ.get("WRITER_BATCH", "500"))
LATENCY_SECONDS = float(os.environ.get("LATENCY_SECONDS", "20"))
LATENCY_LOAD = float(os.environ.get("LATENCY_LOAD", "0.5"))
HJ212_PER_OUTLET_DAY = 1440 + 24 + 1  # CN 2051 minute, 2061 hourly, 2031 daily records
SLOTS_PER_DAY = 96
PEAK_HEADROOM = 2.0  # writers sized for twice the day's average rate (platform rule of the sizing)
HJ212_TABLES = (
    "monitoring_receipt",
    "monitoring_receiptversion",
    "monitoring_rtd",
    "monitoring_minute",
    "monitoring_hour",
    "monitoring_day",
    "monitoring_other",
)


# ---------------------------------------------------------------------------------------------
# Writer processes


def _writer_process(
    kind: str, cfg: dict[str, Any], db_url: str, ready: Any, stop: Any, results: Any
) -> None:
    """One storage writer (its own process and database connections), as the command runs it;
    reports its counters, its first fetch and last commit times and per-record latencies."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DUALCONTROL_ENV", "test")
    os.environ["DJANGO_DEBUG"] = "0"
    from dualcontrol.cli import setup_django

    setup_django()
    import logging

    logging.getLogger("dualcontrol.monitoring.sink").setLevel(logging.ERROR)
    from dualcontrol.ingest.stream import HJ212_CODEC, StreamConfig, StreamWriter

    config = StreamConfig(**cfg)

    class TimedWriter(StreamWriter):
        first_fetch: float | None = None
        last_commit: float = 0.0
        latencies: list[float] = []

        async def _write(self, records: list[Any], msgs: list[Any]) -> bool:
            if TimedWriter.first_fetch is None:
                TimedWriter.first_fetch = time.time()
            ok = await super()._write(records, msgs)
            if ok:
                now = time.time()
                TimedWriter.last_commit = now
                for msg in msgs:
                    try:
                        TimedWriter.latencies.append(now - msg.metadata.timestamp.timestamp())
                    except Exception:
                        continue
            return ok

    async def run() -> dict[str, Any]:
        sink: Any
        if kind == "metering":
            from dualcontrol.metering import stream as mstream

            sink = mstream.DatabaseSink(workers=1)
            codec = mstream.CODEC
        else:
            from dualcontrol.monitoring.sink import DatabaseSink

            sink = DatabaseSink(workers=1)
            codec = HJ212_CODEC
        writer = TimedWriter(
            sink, config, batch_size=WRITER_BATCH, fetch_timeout_s=0.5, codec=codec
        )
        await writer.start()
        ready.put(os.getpid())
        cpu = time.process_time()
        halt = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.05)
            halt.set()

        watcher = asyncio.create_task(watch())
        await writer.run(halt)
        watcher.cancel()
        await writer.aclose()
        await sink.aclose()
        return {
            "written": writer.stats.records_written,
            "redelivered": writer.stats.redelivered,
            "failures": writer.stats.write_failures,
            "first": TimedWriter.first_fetch,
            "last": TimedWriter.last_commit,
            "cpu_s": time.process_time() - cpu,
            "latencies": TimedWriter.latencies,
        }

    results.put(asyncio.run(run()))


class Writers:
    """``n`` writer processes on one consumer; :meth:`stop` returns their reports."""

    def __init__(self, kind: str, cfg: Any, db_url: str, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.results, self.stop_event = ctx.Queue(), ctx.Queue(), ctx.Event()
        fields = {k: v for k, v in asdict(cfg).items() if k != "servers"}
        fields["servers"] = cfg.servers if isinstance(cfg.servers, str) else ",".join(cfg.servers)
        self.procs = [
            ctx.Process(
                target=_writer_process,
                args=(kind, fields, db_url, self.ready, self.stop_event, self.results),
            )
            for _ in range(n)
        ]
        for proc in self.procs:
            proc.start()
        for _ in self.procs:
            self.ready.get(True, 180)

    def stop(self) -> list[dict[str, Any]]:
        self.stop_event.set()
        out = [self.results.get(True, 120) for _ in self.procs]
        for proc in self.procs:
            proc.join(30)
        return out


# ---------------------------------------------------------------------------------------------
# The sample


def _hj212_records(prefix: str, start: dt.datetime) -> list[Any]:
    from dualcontrol.core.hj212 import parse_packet
    from dualcontrol.core.hj212_stream import records_of
    from dualcontrol.ingest.hj212_server import station_packet
    from dualcontrol.reference.hj212 import hj212_tables

    tables = hj212_tables()
    packets = []
    for m in range(SAMPLE_MINUTES):  # minute by minute, every outlet: the order they arrive in
        for s in range(SAMPLE_OUTLETS):
            packets.append(
                station_packet(f"{prefix}{s:06d}", m, start=start, pollutants=POLLUTANTS)
            )
    hour = start.replace(minute=0)
    for s in range(SAMPLE_OUTLETS):
        packets.append(
            station_packet(f"{prefix}{s:06d}", 0, cn="2061", start=hour, pollutants=POLLUTANTS)
        )
    return [r for p in packets for r in records_of([parse_packet(p, tables)])]


async def _publish_hj212(cfg: Any, records: list[Any], rate: float | None = None) -> dict[str, Any]:
    """Publish in batches (paced at ``rate`` records/s when given); per-batch ack latencies."""
    from dualcontrol.ingest.stream import JetStreamSink

    sink = JetStreamSink(cfg)
    await sink.connect()
    acks: list[float] = []
    started = time.perf_counter()
    try:
        for i in range(0, len(records), PUBLISH_BATCH):
            if rate:
                due = started + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            t = time.perf_counter()
            await sink.write(records[i : i + PUBLISH_BATCH])
            acks.append(time.perf_counter() - t)
    finally:
        elapsed = time.perf_counter() - started
        await sink.aclose()
    return {"seconds": elapsed, "acks": acks, "stored": sink.stats.stored}


def _metering_world(units: int) -> tuple[list[Any], dict[int, list[Any]], Any]:
    """Units with items, bulk-created (not audited registrations: this measures the stream)."""
    from dualcontrol.accounts.models import Role, User
    from dualcontrol.core import metering as core
    from dualcontrol.core.codes import make_uscc
    from dualcontrol.entities.models import Entity, Industry
    from dualcontrol.metering.models import DataItem
    from dualcontrol.regions.models import Division

    province = Division.objects.create(
        code="110000", name="北京市", level="province", source="bench"
    )
    city = Division.objects.create(
        code="110100", name="市辖区", level="prefecture", parent=province, source="bench"
    )
    industry = Industry.objects.create(code="30", name="非金属矿物制品业", source="bench")
    Entity.objects.bulk_create(
        [
            Entity(
                uscc=make_uscc("91", "110100", f"{i:09d}"),
                name=f"基准单位{i}",
                division=city,
                industry=industry,
                online_monitoring=True,
            )
            for i in range(units)
        ],
        batch_size=2000,
    )
    entities = list(Entity.objects.order_by("pk"))
    codes = [
        f"{k // 10:02d}{k % 10:02d}0101022230{'01' if k == 0 else '02'}"
        for k in range(NATION_ITEMS)
    ]
    items = []
    for e in entities:
        for k, code in enumerate(codes):
            p = core.decompose(code)
            items.append(
                DataItem(
                    entity=e,
                    code=code,
                    name=f"电力{k}",
                    process_code=p.process,
                    process_unit_code=p.process_unit,
                    equipment_type_code=p.equipment_type,
                    equipment_code=p.equipment_no,
                    data_type=p.data_type,
                    energy_code=p.energy_code,
                    use_code=p.use,
                    frequency=0,
                    interval_minutes=15,
                    unit="千瓦时",
                    min_value=0,
                    max_value=1e6,
                    boundary="in" if k == 0 else "",
                    product_code="23",
                    to_product_factor=core.to_product_factor("千瓦时", "万千瓦时"),
                )
            )
    DataItem.objects.bulk_create(items, batch_size=5000)
    by_entity: dict[int, list[Any]] = {}
    for item in DataItem.objects.order_by("entity_id", "code"):
        by_entity.setdefault(item.entity_id, []).append(item)
    user = User.objects.create(username="bench", role=Role.PROVINCE_ADMIN, is_superuser=True)
    return entities, by_entity, user


def _publish_metering(
    entities: list[Any],
    by_entity: dict[int, list[Any]],
    user: Any,
    start: dt.datetime,
    rate: float | None = None,
) -> dict[str, Any]:
    """Each unit's batch of ``SAMPLE_SLOTS`` slots through the ingest service (paced at ``rate``
    readings/s when given)."""
    from dualcontrol.metering import services

    acks: list[float] = []
    queued = 0
    sent = 0
    started = time.perf_counter()
    for e in entities:
        readings = []
        for item in by_entity[e.pk]:
            for k in range(SAMPLE_SLOTS):
                readings.append(
                    services.RawReading(
                        index=len(readings),
                        item=item.code,
                        ts=start + dt.timedelta(minutes=15 * k),
                        value=50.0 + (item.pk * 7 + k) % 100,
                        frequency=0,
                    )
                )
        if rate:
            due = started + sent / rate
            time.sleep(max(0.0, due - time.perf_counter()))
        t = time.perf_counter()
        result = services.ingest(
            entity=e, readings=readings, user=user, channel="bench", via_stream=True
        )
        acks.append(time.perf_counter() - t)
        queued += result.queued
        sent += len(readings)
    return {"seconds": time.perf_counter() - started, "acks": acks, "stored": queued}


# ---------------------------------------------------------------------------------------------
# Counting and sizes


def _hj212_stored(prefix: str) -> int:
    from dualcontrol.monitoring.models import Receipt

    return Receipt.objects.filter(mn__startswith=prefix).count()


def _metering_stored() -> int:
    from dualcontrol.metering import storage

    return storage.count()


def _relation_bytes(tables: tuple[str, ...]) -> int:
    from django.db import connection

    total = 0
    with connection.cursor() as cur:
        for table in tables:
            cur.execute("SELECT to_regclass(%s)", [table])
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(%s)",
                [table],
            )
            total += int(cur.fetchone()[0])
    return total


async def _stream_bytes(name: str) -> tuple[int, int]:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        state = (await nc.jsm().stream_info(name)).state
        return int(state.bytes), int(state.messages)
    finally:
        await nc.close()


async def _delete_streams(*names: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        for name in names:
            try:
                await nc.jsm().delete_stream(name)
            except Exception:
                continue
    finally:
        await nc.close()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait_stored(count: Any, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = count()
    while n < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        n = count()
    return n


def _drain(kind: str, cfg: Any, db_url: str, writers: int, count: Any, expected: int) -> dict:
    """``writers`` processes drain a backlog of ``expected`` records; aggregate records/s."""
    group = Writers(kind, cfg, db_url, writers)
    stored = _wait_stored(count, expected, 900)
    reports = group.stop()
    first = min(r["first"] for r in reports if r["first"] is not None)
    last = max(r["last"] for r in reports)
    written = sum(r["written"] for r in reports)
    seconds = max(last - first, 1e-9)
    return {
        "stored": stored,
        "written": written,
        "seconds": seconds,
        "rate": written / seconds,
        "per_writer": [r["written"] for r in reports],
        "cpu_s": sum(r["cpu_s"] for r in reports),
        "redelivered": sum(r["redelivered"] for r in reports),
    }


# ---------------------------------------------------------------------------------------------


def main() -> None:
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        print("bench_nation needs PostgreSQL: DATABASE_URL=postgres://…/dualcontrol_h2bench")
        return
    head, _, tail = base.rpartition("/")
    name = os.environ.get("NATION_DB") or f"{(tail.split('?')[0] or 'dualcontrol')}_nation"
    db_url = f"{head}/{name}"
    with psycopg.connect(base.replace(f"/{tail}", "/postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = tempfile.mkdtemp(prefix="bench-nation-")
    os.environ.update(
        DATABASE_URL=db_url,
        DUALCONTROL_ENV="test",
        DJANGO_DEBUG="0",
        DUALCONTROL_DATA_DIR=scratch,
        DUALCONTROL_METERING_STREAM=NATS_URL,
    )
    try:
        _run(db_url)
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("NATION_KEEP") != "1":
            with psycopg.connect(base.replace(f"/{tail}", "/postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _run(db_url: str) -> None:
    from dualcontrol.cli import setup_django

    setup_django()
    import logging

    from django.core.management import call_command
    from django.db import connection

    logging.getLogger("dualcontrol.monitoring.sink").setLevel(logging.ERROR)
    from dualcontrol.ingest.stream import stream_config
    from dualcontrol.metering import stream as mstream

    tag = uuid.uuid4().hex[:8].upper()
    hj_cfg = replace(
        stream_config(NATS_URL),
        name=f"NATION_HJ212_{tag}",
        subject_prefix=f"nation.{tag}.hj212",
        consumer="nation-writers",
        max_ack_pending=20_000,
    )
    m_cfg = replace(
        mstream.config(NATS_URL),
        name=f"NATION_METERING_{tag}",
        subject_prefix=f"nation.{tag}.metering",
        consumer="nation-writers",
        max_ack_pending=20_000,
    )
    mstream.config = lambda servers=None, **kw: replace(m_cfg, **kw)  # the run's own stream

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']} (migrated in "
        f"{time.perf_counter() - t:.0f} s); JetStream {NATS_URL}; CPUs {os.cpu_count()}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    hj_day = NATION_OUTLETS * HJ212_PER_OUTLET_DAY
    m_day = NATION_UNITS * NATION_ITEMS * SLOTS_PER_DAY
    print(
        f"nation: {NATION_OUTLETS:,} outlets × {HJ212_PER_OUTLET_DAY} HJ 212 records/day "
        f"({POLLUTANTS} pollutants each) = {hj_day:,} records/day ({hj_day / 86400:,.0f}/s "
        f"average); {NATION_UNITS:,} key units × {NATION_ITEMS} items × {SLOTS_PER_DAY} = "
        f"{m_day:,} readings/day ({m_day / 86400:,.0f}/s average)"
    )
    figures: dict[str, dict[str, Any]] = {}
    try:
        tz_now = dt.datetime.now().replace(second=0, microsecond=0)
        # ---- HJ 212
        start = (tz_now - dt.timedelta(days=1)).replace(minute=0)
        records = _hj212_records("NA", start)
        print(
            f"HJ 212 sample: {SAMPLE_OUTLETS} outlets × {SAMPLE_MINUTES} minutes + hourly = "
            f"{len(records):,} records"
        )
        figures["hj212"] = _measure(
            "hj212",
            hj_cfg,
            db_url,
            publish=lambda recs, rate=None: asyncio.run(_publish_hj212(hj_cfg, recs, rate)),
            first=records,
            second=_hj212_records("NB", start - dt.timedelta(hours=3)),
            third=lambda: _hj212_records("NC", start - dt.timedelta(hours=6)),
            count=lambda: _hj212_stored("N"),
            tables=HJ212_TABLES,
        )
        # ---- metering
        entities, by_entity, user = _metering_world(SAMPLE_UNITS * 3)
        groups = [entities[k * SAMPLE_UNITS : (k + 1) * SAMPLE_UNITS] for k in range(3)]
        from dualcontrol.metering.services import aware

        m_start = aware((tz_now - dt.timedelta(days=1)).replace(minute=0))
        per_sample = SAMPLE_UNITS * NATION_ITEMS * SAMPLE_SLOTS
        print(
            f"metering sample: {SAMPLE_UNITS} units × {NATION_ITEMS} items × {SAMPLE_SLOTS} "
            f"slots = {per_sample:,} readings per phase"
        )
        figures["metering"] = _measure(
            "metering",
            m_cfg,
            db_url,
            publish=lambda group, rate=None: _publish_metering(
                group, by_entity, user, m_start, rate
            ),
            first=groups[0],
            second=groups[1],
            third=lambda: groups[2],
            count=_metering_stored,
            tables=("metering_reading",),
            size_of=lambda group: len(group) * NATION_ITEMS * SAMPLE_SLOTS,
        )
        mstream.close_publishers()
        _method()
        for scale, outlets, units in (
            ("province", PROVINCE_OUTLETS, PROVINCE_UNITS),
            ("nation", NATION_OUTLETS, NATION_UNITS),
        ):
            print(f"{scale}: {outlets:,} outlets, {units:,} key units")
            _extrapolate(
                figures,
                outlets * HJ212_PER_OUTLET_DAY,
                units * NATION_ITEMS * SLOTS_PER_DAY,
            )
    finally:
        asyncio.run(_delete_streams(hj_cfg.name, m_cfg.name))


def _measure(
    kind: str,
    cfg: Any,
    db_url: str,
    *,
    publish: Any,
    first: Any,
    second: Any,
    third: Any,
    count: Any,
    tables: tuple[str, ...],
    size_of: Any = len,
) -> dict[str, Any]:
    label = "HJ 212" if kind == "hj212" else "metering"
    out: dict[str, Any] = {}
    empty_bytes = _relation_bytes(tables)  # empty tables, indexes and pre-made partitions
    # 1. receivers → stream (a backlog: no writer runs)
    pub = publish(first)
    n1 = size_of(first)
    rate = n1 / pub["seconds"]
    print(
        f"  {label} receiver → stream: {n1:,} records in {pub['seconds']:.1f} s = {rate:,.0f} "
        f"records/s (one process); batch acknowledged p50 {_pct(pub['acks'], 0.5) * 1000:.0f} ms, "
        f"p95 {_pct(pub['acks'], 0.95) * 1000:.0f} ms"
    )
    out["publish_rate"] = rate
    # 2. one writer drains it
    one = _drain(kind, cfg, db_url, 1, count, pub["stored"])
    print(
        f"  {label} 1 writer: {one['written']:,} records in {one['seconds']:.1f} s = "
        f"{one['rate']:,.0f} records/s per writer (CPU {one['cpu_s'] / max(one['written'], 1) * 1e6:.0f} µs/record)"
    )
    out["writer_rate"] = one["rate"]
    # 2b. two writers on the next backlog
    pub2 = publish(second)
    expected = pub["stored"] + pub2["stored"]
    two = _drain(kind, cfg, db_url, 2, count, expected)
    print(
        f"  {label} 2 writers: {two['written']:,} records in {two['seconds']:.1f} s = "
        f"{two['rate']:,.0f} records/s ({two['rate'] / 2:,.0f} per writer; split "
        f"{'/'.join(str(n) for n in two['per_writer'])}) on {os.cpu_count()} shared CPUs"
    )
    out["two_writers_rate"] = two["rate"]
    # 3. latency at LATENCY_LOAD of one writer's capacity
    group = Writers(kind, cfg, db_url, 1)
    sample = third()
    n3 = size_of(sample)
    pace = max(1.0, min(one["rate"] * LATENCY_LOAD, n3 / max(LATENCY_SECONDS, 1.0)))
    pub3 = publish(sample, pace)
    expected += pub3["stored"]
    stored = _wait_stored(count, expected, 600)
    reports = group.stop()
    latencies = [x for r in reports for x in r["latencies"]]
    print(
        f"  {label} end to end at {pace:,.0f} records/s ({pace / one['rate']:.0%} of one writer) "
        f"for {pub3['seconds']:.0f} s: stream → stored p50 {_pct(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {_pct(latencies, 0.95) * 1000:.0f} ms; receiver's wait for the PubAck p50 "
        f"{_pct(pub3['acks'], 0.5) * 1000:.0f} ms, p95 {_pct(pub3['acks'], 0.95) * 1000:.0f} ms"
    )
    out["latency_p50"] = _pct(latencies, 0.5)
    out["latency_p95"] = _pct(latencies, 0.95)
    # 4. none lost, bytes
    accepted = expected
    lost = accepted - stored
    db_bytes = _relation_bytes(tables) - empty_bytes
    s_bytes, s_msgs = asyncio.run(_stream_bytes(cfg.name))
    out["db_bytes_per_record"] = db_bytes / max(stored, 1)
    out["stream_bytes_per_record"] = s_bytes / max(s_msgs, 1)
    print(
        f"  {label} count in = {accepted:,} accepted by the stream, count stored = {stored:,} "
        f"({'none lost' if lost == 0 else f'LOST {lost}'}; duplicates impossible: the key is "
        f"the primary key); PostgreSQL {db_bytes / 2**20:,.1f} MiB = "
        f"{out['db_bytes_per_record']:,.0f} bytes/record ({', '.join(tables)} with indexes, "
        f"growth over the empty tables' {empty_bytes / 2**20:,.1f} MiB); "
        f"JetStream {s_bytes / 2**20:,.1f} MiB = {out['stream_bytes_per_record']:,.0f} "
        f"bytes/message"
    )
    out["lost"] = lost
    out["max_age_days"] = cfg.max_age_s / 86400
    return out


def _retention(table: str) -> int | None:
    """Raw months kept for ``table`` (timeseries_policy.yaml), None when there is no policy."""
    try:
        from dualcontrol.reference import load_yaml

        _v, doc = load_yaml("timeseries_policy.yaml")
        months = doc["tables"][table]["raw_months"]
        return int(months) if months else None
    except Exception:
        return None


def _method() -> None:
    print(
        "extrapolation (method): records/day = sources × records per source a day; writers = "
        f"ceil(records/day / 86 400 × {PEAK_HEADROOM:g} (headroom for bursts and catch-up) / "
        "measured records/s of one writer); PostgreSQL/year = records/day × 365 × measured "
        "bytes/record; with retention: the raw window (records/day × 30.4 × raw_months of "
        "timeseries_policy.yaml × bytes/record, a fixed size once full) + hourly and daily "
        "roll-ups per year (1/60 + 1/1440 of the minute rows for HJ 212, 1/4 + 1/96 of the "
        "15-minute rows for metering; same bytes per row assumed); JetStream = records/day × "
        "the stream's max_age × measured bytes/message."
    )


def _extrapolate(figures: dict[str, dict[str, Any]], hj_day: int, m_day: int) -> None:
    for kind, per_day, table, rollup_frac in (
        ("hj212", hj_day, "monitoring_minute", 1 / 60 + 1 / 1440),
        ("metering", m_day, "metering_reading", 1 / 4 + 1 / 96),
    ):
        f = figures[kind]
        writers = math.ceil(per_day / 86400 * PEAK_HEADROOM / f["writer_rate"])
        year = per_day * 365 * f["db_bytes_per_record"]
        months = _retention(table)
        window = per_day * 30.4 * (months or 0) * f["db_bytes_per_record"]
        rollups = per_day * 365 * rollup_frac * f["db_bytes_per_record"]
        days = f["max_age_days"]
        stream_bytes = per_day * days * f["stream_bytes_per_record"]
        kept = (
            f"with retention a raw window of {window / 2**40:,.2f} TiB ({months} months) + "
            f"{rollups / 2**40:,.2f} TiB/year of roll-ups"
            if months
            else "no retention policy found"
        )
        print(
            f"  {kind}: {per_day:,} records/day → {writers} writers at the measured "
            f"{f['writer_rate']:,.0f} records/s each; PostgreSQL {year / 2**40:,.2f} TiB/year "
            f"without retention, {kept}; JetStream {stream_bytes / 2**30:,.1f} GiB for "
            f"{days:g} days (max_age)"
        )


if __name__ == "__main__":
    sys.exit(main())
