"""``dualcontrol ingest …`` — data receivers that run as services.

``dualcontrol ingest hj212 --listen HOST:PORT`` runs the HJ 212 receiver
(:class:`dualcontrol.ingest.hj212_server.Hj212Server`) with the database sink
(:class:`dualcontrol.monitoring.sink.DatabaseSink`) until SIGINT/SIGTERM, logging its counters
every ``--log-every`` seconds; the run is audited (start and stop, with the counters).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
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
        "--max-connections", type=int, default=20_000, help="open connections (default 20000)"
    )
    hj.add_argument(
        "--idle-timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="close a silent connection after this long (default 900; 0 = never)",
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
    if args.batch_size < 1 or args.batch_delay < 0 or args.max_connections < 1:
        raise CommandError("--batch-size and --max-connections >= 1, --batch-delay >= 0")
    setup_django()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    from django.db import connections

    from dualcontrol.ingest.hj212_server import Hj212Server, ServerConfig, serve
    from dualcontrol.monitoring.services import record_ingest_run
    from dualcontrol.monitoring.sink import DatabaseSink
    from dualcontrol.reference.hj212 import hj212_tables

    config = ServerConfig(
        batch_size=args.batch_size,
        batch_delay_s=args.batch_delay,
        max_pending_records=max(20_000, args.batch_size * 10),
        max_connections=args.max_connections,
        idle_timeout_s=args.idle_timeout or None,
    )
    sink = DatabaseSink()
    server = Hj212Server(sink, tables=hj212_tables(), config=config)
    record_ingest_run(
        summary={"event": "start", "config": _config_summary(config)},
        listen=args.listen,
        note=sink.rules.version,
    )
    started = time.monotonic()
    failure: BaseException | None = None

    async def main() -> None:
        reporter = asyncio.create_task(_report(server, sink, args.log_every))
        try:
            await serve(server, host, port, stop=stop)
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


def _config_summary(config: Any) -> dict[str, Any]:
    return {
        "batch_size": config.batch_size,
        "batch_delay_s": config.batch_delay_s,
        "max_connections": config.max_connections,
        "idle_timeout_s": config.idle_timeout_s,
    }


async def _report(server: Any, sink: Any, every: float) -> None:
    """Log the counters periodically (what an operator tails)."""
    if every <= 0:
        return
    while True:
        await asyncio.sleep(every)
        s = server.stats
        log.info(
            "HJ 212: %d connections open, %d packets ok, %d bad %s, %d records stored, "
            "%d duplicates, %d refused, %d from unregistered MNs, %d sink errors",
            s.connections_open,
            s.packets_ok,
            sum(s.packets_bad.values()),
            dict(s.packets_bad),
            sink.stats.stored,
            s.records_duplicate + sink.stats.duplicates,
            sink.stats.refused,
            sink.stats.unregistered,
            s.sink_errors,
        )
