"""``dualcontrol warn-run --year Y --month M``: recompute the barometer for one month.

Rates every regional target on the barometer — every indicator of the catalogue
(``indicators.yaml``: energy and CO2 intensity, totals, increments, budgets, shares, peak years,
pollutant caps …; sector targets with their sector's statistics) — with its rule set against the regional statistics of January…M of year Y, stores the warnings
(replacing those of a previous run for that month) and alerts the responsible officers of new or
worsened warnings (in-app; by email to officers with an address).  Runs as the operator
(system actor in the audit log).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "warn-run",
        help="recompute the barometer warnings of one month from the regional statistics",
        description="Recompute the barometer (晴雨表) warnings of all targets for January…MONTH "
        "of YEAR, store them and alert the responsible officers of new or worsened warnings.",
    )
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--month", type=int, required=True, help="1–12 (cumulative January…month)")
    parser.add_argument(
        "--no-alerts", action="store_true", help="store the warnings without alerting anyone"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.month <= 12:
        raise CommandError("--month must be 1…12")
    if not 2000 <= args.year <= 2100:
        raise CommandError("--year must be a calendar year (2000…2100)")
    setup_django()
    from django.db import DatabaseError

    from dualcontrol.targets import services

    try:
        summary = services.compute_warnings(
            year=args.year, month=args.month, system=True, notify=not args.no_alerts
        )
    except services.TargetError as exc:
        raise CommandError(str(exc)) from exc
    except DatabaseError as exc:
        raise CommandError(f"database error: {exc} (run `dualcontrol migrate` first?)") from exc
    data = summary.as_dict()
    if args.format == "json":
        data["skipped_targets"] = [{"target": t, "reason": r} for t, r in summary.skipped]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return 0
    colours = ", ".join(f"{k} {v}" for k, v in sorted(data["by_colour"].items())) or "none"
    print(
        f"{args.year}-{args.month:02d}: {summary.rated} warnings ({summary.created} new, "
        f"{summary.updated} updated; {colours}); {summary.alerts} alerts, "
        f"{summary.emails} emails; {len(summary.skipped)} targets skipped"
    )
    for target_id, reason in summary.skipped[:20]:
        print(f"  skipped target {target_id}: {reason}")
    return 0
