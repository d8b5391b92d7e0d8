"""``dualcontrol metering rollup|check|partitions``: the nightly jobs of energy online monitoring.

* ``rollup --date D`` — roll up every data item for day D (default: yesterday);
* ``check [--at TIME]`` — late/missing uploads, incomplete days, stuck meters, out-of-range,
  day-vs-month consistency, faults past the repair deadline, calibration → alerts;
* ``partitions --ahead N`` — create the monthly partitions of the readings table for this month
  and the next N months (PostgreSQL; the ingest also creates them on demand).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("metering", help="energy online monitoring jobs (roll-up, checks)")
    sub = p.add_subparsers(dest="metering_command", metavar="JOB")
    r = sub.add_parser("rollup", help="roll up every data item for one day")
    r.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    r.set_defaults(func=rollup)
    c = sub.add_parser("check", help="run the quality checks and raise alerts")
    c.add_argument("--at", help="check time, ISO 8601 (default: now)")
    c.set_defaults(func=check)
    s = sub.add_parser("partitions", help="create monthly partitions ahead (PostgreSQL)")
    s.add_argument("--ahead", type=int, default=2, help="months after the current one")
    s.set_defaults(func=partitions)
    p.set_defaults(func=lambda args: p.print_help() or 0)


def _date(text: str | None) -> dt.date:
    from django.utils import timezone

    if not text:
        return timezone.localdate() - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--date {text!r} is not YYYY-MM-DD") from exc


def rollup(args: argparse.Namespace) -> int:
    setup_django()
    import time

    from dualcontrol.metering.services import rollup_all

    day = _date(args.date)
    t0 = time.perf_counter()
    n = rollup_all(day=day)
    print(f"metering rollup {day}: {n} item-days in {time.perf_counter() - t0:.2f} s")
    return 0


def check(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.metering.services import run_checks

    now = timezone.now()
    if args.at:
        try:
            now = dt.datetime.fromisoformat(args.at)
        except ValueError as exc:
            raise CommandError(f"--at {args.at!r} is not an ISO 8601 time") from exc
        if now.tzinfo is None:
            now = timezone.make_aware(now)
    summary = run_checks(now=now)
    raised = ", ".join(f"{k} {v}" for k, v in sorted(summary.raised.items())) or "none"
    print(
        f"metering check: {summary.units} units; alerts raised: {raised}; resolved {summary.resolved}"
    )
    return 0


def partitions(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.core.metering import next_month
    from dualcontrol.metering import storage

    month = timezone.localdate().replace(day=1)
    months = [month]
    for _ in range(max(0, args.ahead)):
        months.append(next_month(months[-1]))
    created = storage.ensure_partitions(months)
    print(f"metering partitions: created {', '.join(created) or 'none'}")
    return 0
