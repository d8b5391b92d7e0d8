"""``dualcontrol ingest …`` — data receivers that run as services.

``dualcontrol ingest hj212 --listen HOST:PORT`` runs the HJ 212 receiver
(:class:`dualcontrol.ingest.hj212_server.Hj212Server`) with the database sink
(:class:`dualcontrol.monitoring.sink.DatabaseSink`) until SIGINT/SIGTERM, logging its counters
every ``--log-every`` seconds; the run is audited (start and stop, with the counters).

``--workers N`` (N > 1) runs N such receivers as child processes on the same port
(SO_REUSEPORT: the kernel spreads new station connections over them), each with its own database
connections, and supervises them: SIGINT/SIGTERM is passed on and each child stores and answers
what it received before it exits; when a child dies, the others are stopped and the command fails
(so that the service manager restarts the unit).  One Python process receives and parses on one
core; workers are how a receiver uses more (see docs/hj212.md, "Throughput").

``--stream nats://HOST:PORT`` (issue 22): the receiver publishes the records to NATS JetStream
(:class:`dualcontrol.ingest.stream.JetStreamSink`) instead of writing the database, and answers a
station once the stream holds its records; ``dualcontrol ingest writer --stream nats://…`` runs a
storage writer (:class:`dualcontrol.ingest.stream.StreamWriter` into the database sink) until
SIGINT/SIGTERM.  Receivers and writers then run as separate services (docs/operations.md).
Without ``--stream`` the receiver writes the database itself, as before.

``dualcontrol ingest writer --kind metering --stream nats://…`` stores the energy online
monitoring readings that the metering ingest publishes when ``DUALCONTROL_METERING_STREAM`` is
set (:mod:`dualcontrol.metering.stream`), through the readings table's write.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

log = logging.getLogger("dualcontrol.ingest.hj212")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="data receivers (HJ 212 污染源自动监控数据接收)",
        description="Run a data receiver as a service.",
    )
    sub = parser.add_subparsers(dest="ingest_command", metavar="SUBCOMMAND")
    hj = sub.add_parser(
        "hj212",
        help="receive HJ 212 data from stations and store it (runs until SIGINT/SIGTERM)",
        description=(
            "Listen for HJ 212 stations (many concurrent TCP connections), answer them where the "
            "Flag asks for an answer — after the data are stored —, store data records in "
            "batches in the monitoring tables (idempotent on MN, CN, DataTime), count and log "
            "bad packets, and on SIGINT/SIGTERM store and answer what was received before "
            "closing."
        ),
    )
    hj.add_argument(
        "--listen",
        required=True,
        metavar="HOST:PORT",
        help="address to listen on, e.g. 0.0.0.0:6000 or [::]:6000",
    )
    hj.add_argument(
        "--batch-size", type=int, default=1000, help="records per database write (default 1000)"
    )
    hj.add_argument(
        "--batch-delay",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="longest wait for a batch to fill (default 0.2)",
    )
    hj.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="open connections (default: hj212_receiver.yaml connections.max_total)",
    )
    hj.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=(
            "close a silent connection after this long (default: hj212_receiver.yaml "
            "connections.idle_timeout_s; 0 = never)"
        ),
    )
    hj.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="receiver processes sharing the port (SO_REUSEPORT; default 1)",
    )
    hj.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other receivers (set by --workers for its children)",
    )
    hj.add_argument(
        "--log-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="log the counters this often (default 60)",
    )
    hj.add_argument(
        "--stream",
        metavar="URL",
        default=None,
        help=(
            "publish the records to NATS JetStream at URL (e.g. nats://127.0.0.1:4222; several "
            "comma-separated) instead of writing the database; storage writers "
            "(dualcontrol ingest writer) store them"
        ),
    )
    hj.set_defaults(func=run_hj212)
    wr = sub.add_parser(
        "writer",
        help="store HJ 212 records or metering readings from JetStream in the database",
        description=(
            "A storage writer: fetch HJ 212 records (--kind metering: energy online monitoring "
            "readings, stored in the readings table) from the JetStream stream (durable consumer "
            "shared by all writers), store them in batches in the monitoring tables (idempotent "
            "on MN, CN, DataTime) and acknowledge them only once stored; what a writer fetched "
            "and did not acknowledge (a crash) is delivered again. Stream settings: "
            "hj212_receiver.yaml stream:."
        ),
    )
    wr.add_argument("--stream", required=True, metavar="URL", help="NATS URL(s), comma-separated")
    wr.add_argument(
        "--kind",
        choices=("hj212", "metering"),
        default="hj212",
        help=(
            "what to store: HJ 212 records (default; hj212_receiver.yaml stream:) or energy "
            "online monitoring readings (metering_stream.yaml; published by the metering "
            "ingest when DUALCONTROL_METERING_STREAM is set)"
        ),
    )
    wr.add_argument(
        "--no-rollup",
        action="store_true",
        help="--kind metering: leave the day roll-up to the nightly job (default: roll up the "
        "touched items' days with each write, as the direct ingest does)",
    )
    wr.add_argument(
        "--batch", type=int, default=500, metavar="N", help="records per fetch and write (500)"
    )
    wr.add_argument(
        "--consumer",
        default=None,
        metavar="NAME",
        help=(
            "durable consumer name (default: stream.consumer of hj212_receiver.yaml, or of "
            "metering_stream.yaml for --kind metering); a new name "
            "reads the whole stream again from its beginning (replay after a restore)"
        ),
    )
    wr.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="batches written at once (default: the database sink's, 2 on PostgreSQL)",
    )
    wr.add_argument(
        "--log-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="log the counters this often (default 60)",
    )
    wr.set_defaults(func=run_writer)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def run_hj212(args: argparse.Namespace, *, stop: asyncio.Event | None = None) -> int:
    from dualcontrol.cli import CommandError, setup_django
    from dualcontrol.ingest.hj212_server import parse_listen

    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    max_connections = getattr(args, "max_connections", None)
    if (
        args.batch_size < 1
        or args.batch_delay < 0
        or (max_connections is not None and max_connections < 1)
    ):
        raise CommandError("--batch-size and --max-connections >= 1, --batch-delay >= 0")
    workers = getattr(args, "workers", 1)
    reuse_port = getattr(args, "reuse_port", False)
    if workers < 1:
        raise CommandError("--workers must be at least 1")
    if (workers > 1 or reuse_port) and not hasattr(socket, "SO_REUSEPORT"):
        raise CommandError("--workers and --reuse-port need SO_REUSEPORT (Linux, BSD)")
    if workers > 1 and port == 0:
        raise CommandError("--workers needs a fixed port: the workers share it")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    if workers > 1:
        return _supervise(args, workers, stop=stop)
    setup_django()
    from django.db import connections

    from dualcontrol.ingest.hj212_server import Hj212Server, receiver_policy, serve
    from dualcontrol.monitoring.services import record_ingest_run
    from dualcontrol.monitoring.sink import DatabaseSink, OutletCredentials
    from dualcontrol.reference.hj212 import hj212_tables

    # Limits, timeouts, the DataTime window and the refusal answers: hj212_receiver.yaml
    policy = receiver_policy()
    stream_url = getattr(args, "stream", None)
    sink: Any
    if stream_url:
        from dualcontrol.ingest.stream import JetStreamSink, stream_config
        from dualcontrol.monitoring.rules import monitoring_rules

        stream = stream_config(stream_url)
        sink = JetStreamSink(stream)
        rules = monitoring_rules()
        note = f"{rules.version}; {policy.version}; stream {stream.name} at {stream_url}"
    else:
        sink = DatabaseSink()
        rules = sink.rules
        note = f"{rules.version}; {policy.version}"
    overrides: dict[str, Any] = {
        "batch_size": args.batch_size,
        "batch_delay_s": args.batch_delay,
        "max_pending_records": max(20_000, args.batch_size * 10),
        "station_time_zone": rules.time_zone,
    }
    if max_connections is not None:
        overrides["max_connections"] = max_connections
    if getattr(args, "idle_timeout", None) is not None:
        overrides["idle_timeout_s"] = args.idle_timeout or None
    config = policy.config(**overrides)
    server = Hj212Server(
        sink, tables=hj212_tables(), config=config, credentials=OutletCredentials()
    )
    record_ingest_run(
        summary={"event": "start", "config": _config_summary(config)},
        listen=args.listen,
        note=note,
    )
    started = time.monotonic()
    failure: BaseException | None = None

    async def main() -> None:
        reporter = asyncio.create_task(_report(server, sink, args.log_every))
        try:
            if stream_url:  # the stream must be there before stations are answered
                try:
                    await sink.connect()
                except Exception as exc:  # nats: no servers, JetStream not enabled, …
                    raise OSError(repr(exc)) from exc
            await serve(server, host, port, stop=stop, reuse_port=reuse_port)
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
            await sink.aclose()

    try:
        asyncio.run(main())
    except OSError as exc:  # e.g. the port is taken
        failure = exc
    summary = {
        "event": "stop",
        "seconds": round(time.monotonic() - started, 1),
        "server": server.stats.snapshot(),
        "sink": sink.stats.snapshot(),
    }
    if failure is not None:
        summary["error"] = repr(failure)
    record_ingest_run(summary=summary, listen=args.listen, note=rules.version)
    connections.close_all()
    log.info("HJ 212 receiver %s: %s", args.listen, summary)
    if failure is not None:
        where = f"reach the stream at {stream_url} or " if stream_url else ""
        raise CommandError(f"cannot {where}listen on {args.listen}: {failure}")
    return 0


def run_writer(args: argparse.Namespace, *, stop: Any = None) -> int:
    """``dualcontrol ingest writer``: the stream into the database until SIGINT/SIGTERM.

    ``stop`` (tests): anything with an awaitable ``wait()``, standing in for the signal.
    """
    from dualcontrol.cli import CommandError, setup_django

    if args.batch < 1 or (args.concurrency is not None and args.concurrency < 1):
        raise CommandError("--batch and --concurrency must be at least 1")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    setup_django()
    from django.db import connections

    from dualcontrol.ingest.stream import StreamWriter, stream_config

    overrides = {"consumer": args.consumer} if args.consumer else {}
    sink: Any
    if getattr(args, "kind", "hj212") == "metering":
        from dualcontrol.metering import stream as metering_stream

        config = metering_stream.config(args.stream, **overrides)
        sink = metering_stream.DatabaseSink(roll_up=not getattr(args, "no_rollup", False))
        codec = metering_stream.CODEC
        rules_version = ""

        def record_ingest_run(*, summary: dict[str, Any], listen: str, note: str) -> None:
            metering_stream.record_writer_run(summary=summary, where=listen, note=note)

    else:
        from dualcontrol.ingest.stream import HJ212_CODEC
        from dualcontrol.monitoring.services import record_ingest_run
        from dualcontrol.monitoring.sink import DatabaseSink

        config = stream_config(args.stream, **overrides)
        sink = DatabaseSink()
        codec = HJ212_CODEC
        rules_version = sink.rules.version
    writer = StreamWriter(
        sink,
        config,
        batch_size=args.batch,
        concurrency=args.concurrency or sink.max_concurrent_writes,
        codec=codec,
    )
    where = f"stream writer {config.name}/{config.consumer} at {args.stream}"
    record_ingest_run(
        summary={"event": "start", "batch": args.batch, "concurrency": writer.concurrency},
        listen=where,
        note=f"{rules_version}; {config.version}",
    )
    started = time.monotonic()
    failure: BaseException | None = None

    async def main() -> None:
        halt = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, halt.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        relay = None
        if stop is not None:

            async def wait_stop() -> None:
                await stop.wait()
                halt.set()

            relay = asyncio.create_task(wait_stop())
        reporter = asyncio.create_task(_report_writer(writer, sink, args.log_every))
        try:
            try:
                await writer.start()
            except Exception as exc:  # nats: no servers, JetStream not enabled, …
                raise OSError(repr(exc)) from exc
            await writer.run(halt)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            for task in (reporter, relay):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await writer.aclose()
            await sink.aclose()

    try:
        asyncio.run(main())
    except OSError as exc:  # the stream is not reachable
        failure = exc
    summary: dict[str, Any] = {
        "event": "stop",
        "seconds": round(time.monotonic() - started, 1),
        "writer": writer.stats.snapshot(),
        "sink": sink.stats.snapshot(),
    }
    if failure is not None:
        summary["error"] = repr(failure)
    record_ingest_run(summary=summary, listen=where, note=rules_version or config.version)
    connections.close_all()
    log.info("%s %s: %s", codec.label, where, summary)
    if failure is not None:
        raise CommandError(f"cannot reach the stream at {args.stream}: {failure}")
    return 0


async def _report_writer(writer: Any, sink: Any, every: float) -> None:
    """Log the writer's counters periodically."""
    if every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        w = writer.stats
        log.info(
            "%s writer: %d messages (%d redelivered), %d records written in %d batches, "
            "%d stored new, %d duplicates, %d corrected, %d refused by the sink, "
            "%d write failures, %d undecodable",
            writer.codec.label,
            w.messages,
            w.redelivered,
            w.records_written,
            w.batches,
            sink.stats.stored,
            sink.stats.duplicates,
            getattr(sink.stats, "corrected", 0),
            getattr(sink.stats, "refused", 0),
            w.write_failures,
            w.undecodable,
        )


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """The command line of one worker: this command with the same options, one process."""
    return [
        sys.executable,
        "-m",
        "dualcontrol.cli",
        "ingest",
        "hj212",
        "--listen",
        args.listen,
        "--batch-size",
        str(args.batch_size),
        "--batch-delay",
        str(args.batch_delay),
        "--log-every",
        str(args.log_every),
        "--reuse-port",
    ] + [
        arg
        for flag, value in (
            ("--max-connections", getattr(args, "max_connections", None)),
            ("--idle-timeout", getattr(args, "idle_timeout", None)),
            ("--stream", getattr(args, "stream", None)),
        )
        if value is not None
        for arg in (flag, str(value))
    ]


def _supervise(args: argparse.Namespace, workers: int, *, stop: Any = None) -> int:
    """Run ``workers`` receivers on one port and wait; pass SIGINT/SIGTERM on (see above).

    ``stop`` (tests): anything with ``is_set()``, standing in for the signal.
    """
    from dualcontrol.cli import CommandError

    stopping = threading.Event()
    installed: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            installed[sig] = signal.signal(sig, lambda *_: stopping.set())
    argv = _worker_argv(args)
    children: list[subprocess.Popen[bytes]] = []
    died: list[str] = []
    try:
        for _ in range(workers):
            children.append(subprocess.Popen(argv))
        log.info(
            "HJ 212: %d receivers on %s (pids %s)",
            workers,
            args.listen,
            ", ".join(str(c.pid) for c in children),
        )
        while not stopping.is_set() and not (stop is not None and stop.is_set()):
            died = [f"{c.pid} exited with {c.returncode}" for c in children if c.poll() is not None]
            if died:
                log.error("HJ 212: worker(s) %s; stopping the others", ", ".join(died))
                break
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=90)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in installed.items():
            signal.signal(sig, handler)
    failed = died or [f"{c.pid} stopped with {c.returncode}" for c in children if c.returncode]
    if failed:
        raise CommandError("HJ 212 receiver worker(s) " + "; ".join(failed))
    return 0


def _config_summary(config: Any) -> dict[str, Any]:
    return {
        "batch_size": config.batch_size,
        "batch_delay_s": config.batch_delay_s,
        "max_connections": config.max_connections,
        "max_connections_per_address": config.max_connections_per_address,
        "idle_timeout_s": config.idle_timeout_s,
        "header_timeout_s": config.header_timeout_s,
        "max_ahead_s": config.max_ahead_s,
        "max_age_s": config.max_age_s,
    }


async def _report(server: Any, sink: Any, every: float) -> None:
    """Log the counters periodically (what an operator tails)."""
    if every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        s = server.stats
        log.info(
            "HJ 212: %d connections open (%d refused, %d timed out), %d packets ok, %d bad %s, "
            "%d refused %s from %d addresses, %d records stored, %d duplicates, %d corrected, "
            "%d refused by the sink, %d sink errors",
            s.connections_open,
            s.connections_refused,
            s.connections_timed_out,
            s.packets_ok,
            sum(s.packets_bad.values()),
            dict(s.packets_bad),
            sum(s.packets_refused.values()),
            dict(s.packets_refused),
            len(s.refused_by_source),
            sink.stats.stored,
            s.records_duplicate + sink.stats.duplicates,
            getattr(sink.stats, "corrected", 0),  # the stream sink: the writers' store decides
            getattr(sink.stats, "refused", 0),
            s.sink_errors,
        )
