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
    hj.set_defaults(func=run_hj212)
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
    sink = DatabaseSink()
    overrides: dict[str, Any] = {
        "batch_size": args.batch_size,
        "batch_delay_s": args.batch_delay,
        "max_pending_records": max(20_000, args.batch_size * 10),
        "station_time_zone": sink.rules.time_zone,
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
        note=f"{sink.rules.version}; {policy.version}",
    )
    started = time.monotonic()
    failure: BaseException | None = None

    async def main() -> None:
        reporter = asyncio.create_task(_report(server, sink, args.log_every))
        try:
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
    record_ingest_run(summary=summary, listen=args.listen, note=sink.rules.version)
    connections.close_all()
    log.info("HJ 212 receiver %s: %s", args.listen, summary)
    if failure is not None:
        raise CommandError(f"cannot listen on {args.listen}: {failure}")
    return 0


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
            sink.stats.corrected,
            sink.stats.refused,
            s.sink_errors,
        )
