"""``dualcontrol timeseries maintain [--dry-run]`` — partitions, retention and roll-ups of the raw
time series (HJ 212 minute/real-time data, metering readings) by ``timeseries_policy.yaml``.

Prints per table what is (or with ``--dry-run`` would be) rolled up, dropped and kept;
``--json`` the whole report.  A run without ``--dry-run`` is audited with the operator's name.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "timeseries",
        help="partitions, retention and hourly/daily roll-ups of the raw time series (maintain)",
        description="Apply timeseries_policy.yaml: roll up, drop expired raw data, premake.",
    )
    sub = parser.add_subparsers(dest="timeseries_command", metavar="SUBCOMMAND")
    maintain = sub.add_parser("maintain", help="roll up, drop expired raw data, premake")
    maintain.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be dropped and kept; change nothing",
    )
    maintain.add_argument("--table", action="append", help="only this raw table (repeatable)")
    maintain.add_argument("--json", action="store_true", help="the report as JSON")
    maintain.set_defaults(func=run_maintain)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def run_maintain(args: argparse.Namespace) -> int:
    setup_django()
    from django.db import DatabaseError

    from dualcontrol.timeseries.policy import KNOWN_TABLES
    from dualcontrol.timeseries.services import maintain

    for table in args.table or ():
        if table not in KNOWN_TABLES:
            raise CommandError(f"unknown table {table!r} (known: {', '.join(KNOWN_TABLES)})")
    try:
        report = maintain(
            dry_run=args.dry_run, actor=_operator(), person=True, tables=args.table or None
        )
    except DatabaseError as exc:
        raise CommandError(f"database error: {exc} (run `dualcontrol migrate` first?)") from exc
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return 0
    would = "would " if report.dry_run else ""
    print(
        f"timeseries policy {report.policy_version} at {report.now}"
        + (" (dry run)" * report.dry_run)
    )
    for t in report.tables:
        print(f"\n{t.table} ({t.mode}): raw data kept {t.raw_months} months, cut-off {t.cutoff}")
        if not report.dry_run:
            print(f"  roll-ups: {t.hour_rows} hourly and {t.day_rows} daily rows written")
        print(f"  rolled up to: {t.rolled_to or '-'}")
        if t.note:
            print(f"  {t.note}")
            continue
        if t.moved_from_default:
            print(f"  moved from the default partition: {t.moved_from_default} rows")
        if t.mode in ("pg_partman", "partitions"):
            for p in t.drop:
                print(f"  {would}drop {p.name} [{p.start} .. {p.end})")
            if not t.drop:
                print(f"  {would}drop: nothing")
            names = [p.name for p in t.keep]
            shown = ", ".join(names) if len(names) <= 6 else f"{names[0]} … {names[-1]}"
            print(f"  keep {len(names)} partitions: {shown}")
            if t.premade:
                print(f"  created ahead: {', '.join(t.premade)}")
        else:
            print(f"  {would}delete {t.rows_deleted} rows older than the cut-off")
            print(f"  keep {t.rows_kept} rows")
        print(f"  {would}delete {t.rollups_pruned} roll-up rows past their retention")
    return 0
