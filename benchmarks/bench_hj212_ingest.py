"""HJ 212 end to end: load generator (separate process) -> receiver -> database sink, loopback.

Goal (issue 6): >= 20 000 packets/s received and stored on PostgreSQL, none lost (count sent =
count stored).  The receiver runs here with :class:`~dualcontrol.monitoring.sink.DatabaseSink`
on a scratch database (PostgreSQL when DATABASE_URL points at it, else a SQLite file) holding
the monitoring tables only, created for the run and dropped afterwards; the stations are simulated by
:func:`~dualcontrol.ingest.hj212_server.run_load` in another process over 127.0.0.1.

First the database path alone (``DatabaseSink.store`` of parsed records).  Then two runs:
stations that wait for every answer (Flag=5, at most ``window`` unanswered packets
each: the realistic protocol) and stations that just send (Flag=4).  Printed: packets/s from the
first packet sent to the last record committed, sent vs stored (receipts and reading rows), the
sink's write time and batches.  Bounded in count and time.

    .venv/bin/python -m benchmarks hj212_ingest
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dualcontrol .venv/bin/python -m benchmarks hj212_ingest

On PostgreSQL a third run has HJ212_BENCH_RECEIVERS receiver processes share one port with
SO_REUSEPORT (each with its own sink and connections, all writing to the same tables: what
``dualcontrol ingest hj212 --workers N`` runs), and a last one measures the receiver alone with
the in-memory sink (the ceiling of one receiver process on this machine).

Environment: HJ212_BENCH_STATIONS (200), HJ212_BENCH_PACKETS (per station, 500),
HJ212_BENCH_WINDOW (32), HJ212_BENCH_BATCH (records per write, 2000), HJ212_BENCH_TIMEOUT (120 s),
HJ212_BENCH_RECEIVERS (2).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
import time
from typing import Any

STATIONS = int(os.environ.get("HJ212_BENCH_STATIONS", "200"))
PACKETS = int(os.environ.get("HJ212_BENCH_PACKETS", "500"))
WINDOW = int(os.environ.get("HJ212_BENCH_WINDOW", "32"))
BATCH = int(os.environ.get("HJ212_BENCH_BATCH", "2000"))
TIMEOUT_S = float(os.environ.get("HJ212_BENCH_TIMEOUT", "120"))
RECEIVERS = int(os.environ.get("HJ212_BENCH_RECEIVERS", "2"))
POLLUTANTS = 4


def _load_process(port: int, ack: bool, prefix: str, queue: Any, stations: int = STATIONS) -> None:
    """Runs in the generator process: simulate the stations, report what happened."""
    from dualcontrol.ingest.hj212_server import run_load

    async def go() -> Any:
        return await run_load(
            "127.0.0.1",
            port,
            stations=stations,
            packets_per_station=PACKETS,
            window=WINDOW,
            pollutants=POLLUTANTS,
            ack=ack,
            timeout_s=TIMEOUT_S,
            mn_prefix=prefix,
        )

    cpu = time.process_time()
    result = asyncio.run(go())
    cpu = time.process_time() - cpu
    # the generator's clock: the run started elapsed_s before it returned
    queue.put(
        {
            "sent": result.packets_sent,
            "answers": result.answers_received,
            "errors": list(result.errors[:5]),
            "cpu_s": cpu,
            "started": time.time() - result.elapsed_s,
            "finished": time.time(),
        }
    )


async def _scenario(ack: bool, prefix: str, memory: bool = False) -> dict[str, Any]:
    from dualcontrol.ingest.hj212_server import Hj212Server, MemorySink, ServerConfig
    from dualcontrol.monitoring.sink import DatabaseSink
    from dualcontrol.reference.hj212 import hj212_tables

    sink: Any = MemorySink() if memory else DatabaseSink()
    config = ServerConfig(batch_size=BATCH, batch_delay_s=0.05, max_pending_records=BATCH * 10)
    server = Hj212Server(sink, tables=hj212_tables(), config=config)
    await server.start("127.0.0.1", 0)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_load_process, args=(server.port, ack, prefix, queue))
    expected = STATIONS * PACKETS
    stored_at = None
    cpu = time.process_time()  # this process: event loop + sink thread
    try:
        proc.start()
        deadline = time.monotonic() + TIMEOUT_S + 60
        while time.monotonic() < deadline:
            done = server.stats.records_stored + server.stats.records_duplicate
            if done >= expected and stored_at is None:
                stored_at = time.time()
            if stored_at is not None and not proc.is_alive():
                break
            await asyncio.sleep(0.01)
        load = await asyncio.to_thread(queue.get, True, 30)
        await asyncio.to_thread(proc.join, 30)
    finally:
        await server.stop()
        if not memory:
            await sink.aclose()
    cpu = time.process_time() - cpu
    if stored_at is None:
        stored_at = time.time()
    return {
        "cpu_s": cpu,
        "load": load,
        "elapsed": stored_at - load["started"],
        "server": server.stats.snapshot(),
        "sink": {} if memory else sink.stats.snapshot(),
    }


def _receiver_process(db_name: str, port: int, ready: Any, stop: Any, results: Any) -> None:
    """One of several receivers on one port (scale-out run): its own process, sink, connections."""
    os.environ.setdefault("DUALCONTROL_ENV", "test")
    from dualcontrol.cli import setup_django

    setup_django()
    import logging

    from django.db import connection

    logging.getLogger("dualcontrol.monitoring.sink").setLevel(logging.ERROR)
    connection.settings_dict["NAME"] = db_name

    async def run() -> dict[str, Any]:
        from dualcontrol.ingest.hj212_server import Hj212Server, ServerConfig
        from dualcontrol.monitoring.sink import DatabaseSink
        from dualcontrol.reference.hj212 import hj212_tables

        sink = DatabaseSink()
        config = ServerConfig(batch_size=BATCH, batch_delay_s=0.05, max_pending_records=BATCH * 10)
        server = Hj212Server(sink, tables=hj212_tables(), config=config)
        await server.start("127.0.0.1", port, reuse_port=True)
        ready.put(server.port)
        cpu = time.process_time()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await server.stop()
        await sink.aclose()
        return {"cpu_s": time.process_time() - cpu, "sink": sink.stats.snapshot()}

    results.put(asyncio.run(run()))


def _scale_out(receivers: int, prefix: str) -> dict[str, Any]:
    """``receivers`` receiver processes sharing one port (SO_REUSEPORT, as ``--workers``), one
    load generator process; all write to the same database."""
    import socket

    from django.db import connection

    from dualcontrol.monitoring.models import Receipt

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    ctx = multiprocessing.get_context("spawn")
    ready, results, loads, stop = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    name = connection.settings_dict["NAME"]
    procs = [
        ctx.Process(target=_receiver_process, args=(name, port, ready, stop, results))
        for _ in range(receivers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(True, 60)
    gen = ctx.Process(target=_load_process, args=(port, True, prefix, loads))
    expected = STATIONS * PACKETS
    gen.start()
    stored_at = time.time()
    deadline = time.monotonic() + TIMEOUT_S + 60
    while time.monotonic() < deadline:
        if Receipt.objects.filter(mn__startswith=prefix).count() >= expected:
            stored_at = time.time()
            break
        time.sleep(0.1)
    load = loads.get(True, 60)
    gen.join(30)
    stop.set()
    stats = [results.get(True, 60) for _ in procs]
    for proc in procs:
        proc.join(30)
    return {
        "elapsed": stored_at - load["started"],
        "sent": load["sent"],
        "answers": load["answers"],
        "errors": load["errors"],
        "cpu_s": sum(r["cpu_s"] for r in stats),
        "per_receiver": [r["sink"]["records"] for r in stats],
    }


def _sink_alone(prefix: str) -> tuple[float, float]:
    """The database path alone: DatabaseSink.store of parsed records in batches (records/s),
    and the same records again (all duplicates: the idempotency check)."""
    from dualcontrol.core.hj212 import parse_packet
    from dualcontrol.core.hj212_stream import records_of
    from dualcontrol.ingest.hj212_server import station_packet
    from dualcontrol.monitoring.sink import DatabaseSink
    from dualcontrol.reference.hj212 import hj212_tables

    tables = hj212_tables()
    records = [
        r
        for s in range(STATIONS)
        for i in range(min(PACKETS, 100))
        for r in records_of([parse_packet(station_packet(f"{prefix}{s:06d}", i), tables)])
    ]
    sink = DatabaseSink()
    rates = []
    for _ in range(2):
        started = time.perf_counter()
        for i in range(0, len(records), BATCH):
            sink.store(records[i : i + BATCH])
        rates.append(len(records) / (time.perf_counter() - started))
    assert sink.stats.stored == len(records) and sink.stats.duplicates == len(records)
    return rates[0], rates[1]


def _count(prefix: str) -> tuple[int, int]:
    from dualcontrol.monitoring.models import MinuteReading, Receipt

    return (
        Receipt.objects.filter(mn__startswith=prefix).count(),
        MinuteReading.objects.filter(mn__startswith=prefix).count(),
    )


def main() -> None:
    os.environ.setdefault("DUALCONTROL_ENV", "test")
    scratch = tempfile.TemporaryDirectory(prefix="hj212bench-")
    os.environ.setdefault("DUALCONTROL_DATA_DIR", scratch.name)
    from dualcontrol.cli import setup_django

    setup_django()
    import logging

    from django.db import connection, connections

    # one warning per load station without an outlet would drown the figures
    logging.getLogger("dualcontrol.monitoring.sink").setLevel(logging.ERROR)

    engine = connection.vendor
    scratch_db = _create_scratch_db(connection, scratch.name)
    try:
        print(
            f"database: {engine} (scratch {connection.settings_dict['NAME']}); "
            f"{STATIONS} stations x {PACKETS} packets, {POLLUTANTS} pollutants each "
            f"(CN 2051, ~{_packet_size()} bytes); batch {BATCH} records; window {WINDOW}"
        )
        new, again = _sink_alone("SINK")
        print(
            f"  database sink alone (store() of parsed records, batches of {BATCH}): "
            f"{new:,.0f} new records/s, {again:,.0f} records/s when all are duplicates"
        )
        for ack, prefix in ((True, "ACK"), (False, "NOACK")):
            result = asyncio.run(_scenario(ack, prefix))
            receipts, readings = _count(prefix)
            load = result["load"]
            sent = load["sent"]
            rate = sent / result["elapsed"] if result["elapsed"] > 0 else 0.0
            sink = result["sink"]
            mode = f"answer each (Flag=5, window {WINDOW})" if ack else "no answers (Flag=4)"
            cpu_us = result["cpu_s"] / sent * 1e6
            gen_us = load["cpu_s"] / sent * 1e6
            verdict = "meets" if rate >= 20_000 else "below"
            print(
                f"  {mode}: {rate:,.0f} packets/s end to end ({verdict} the 20k/s goal); "
                f"sent {sent}, stored {receipts} records / {readings} reading rows "
                f"({'none lost' if receipts == sent else f'LOST {sent - receipts}'}); "
                f"answers {load['answers']}; {sink['batches']} batches, "
                f"sink writing {sink['write_seconds']:.2f} s (sum over its connections) "
                f"in {result['elapsed']:.2f} s; "
                f"bad packets {result['server']['packets_bad_total']}; CPU per packet: "
                f"receiver+sink {cpu_us:.0f} µs (= {1e6 / cpu_us:,.0f} packets/s per free core), "
                f"load generator {gen_us:.0f} µs"
                + (f"; errors {load['errors']}" if load["errors"] else "")
            )
        if engine == "postgresql" and RECEIVERS > 1:
            out = _scale_out(RECEIVERS, "SCALE")
            receipts, readings = _count("SCALE")
            rate = out["sent"] / out["elapsed"] if out["elapsed"] > 0 else 0.0
            lost = out["sent"] - receipts
            verdict = "meets" if rate >= 20_000 else "below"
            print(
                f"  {RECEIVERS} receivers (processes on one port, SO_REUSEPORT; records "
                f"{'/'.join(str(n) for n in out['per_receiver'])}), answer each: {rate:,.0f} "
                f"packets/s end to end ({verdict} the 20k/s goal); sent {out['sent']}, stored "
                f"{receipts} records / {readings} reading rows "
                f"({'none lost' if lost == 0 else f'LOST {lost}'}); "
                f"answers {out['answers']}; receivers' CPU "
                f"{out['cpu_s'] / max(out['sent'], 1) * 1e6:.0f} µs per packet"
                + (f"; errors {out['errors'][:3]}" if out["errors"] else "")
            )
        # the receiver alone (in-memory sink): the ceiling the database sink works under
        result = asyncio.run(_scenario(True, "MEM", memory=True))
        rate = result["load"]["sent"] / result["elapsed"] if result["elapsed"] > 0 else 0.0
        cpu_us = result["cpu_s"] / result["load"]["sent"] * 1e6
        print(
            f"  receiver alone, in-memory sink, answer each: {rate:,.0f} packets/s "
            f"(answers {result['load']['answers']} of {result['load']['sent']}); "
            f"receiver CPU {cpu_us:.0f} µs per packet"
        )
    finally:
        connections.close_all()
        _drop_scratch_db(connection, scratch_db)
        scratch.cleanup()


def _create_scratch_db(connection: Any, directory: str) -> str | None:
    """A new database with the monitoring tables only (migrations of monitoring and what it
    depends on), so that the run neither touches the platform's data nor needs every app."""
    from django.core.management import call_command

    name = None
    if connection.vendor == "postgresql":
        name = f"{connection.settings_dict['NAME']}_hj212bench"
        with connection._nodb_cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        connection.settings_dict["NAME"] = name
    else:
        connection.close()
        connection.settings_dict["NAME"] = os.path.join(directory, "bench.sqlite3")
    call_command("migrate", "monitoring", verbosity=0, interactive=False)
    return name


def _drop_scratch_db(connection: Any, name: str | None) -> None:
    if name is None:
        return
    connection.close()
    with connection._nodb_cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _packet_size() -> int:
    from dualcontrol.ingest.hj212_server import station_packet

    return len(station_packet("ACK000000", 1, pollutants=POLLUTANTS))


if __name__ == "__main__":
    main()
