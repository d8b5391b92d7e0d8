"""``dualcontrol monitoring …`` — pollution-source monitoring jobs.

``dualcontrol monitoring alarms --date D`` evaluates the exceedance (超标), offline (断线) and
abnormal-value (异常值) alarms of day D for the active outlets (idempotent: re-running the day
updates its alarms).  ``dualcontrol monitoring rates --month YYYY-MM`` prints the
effective-transmission rate (数据传输有效率) per outlet for a month.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "monitoring",
        help="污染源自动监控: alarms and effective-transmission rates",
        description="Pollution-source online monitoring jobs.",
    )
    sub = parser.add_subparsers(dest="monitoring_command", metavar="SUBCOMMAND")
    alarms = sub.add_parser(
        "alarms",
        help="evaluate the alarms of a day (exceedance, offline, abnormal values)",
        description=(
            "Evaluate day D for every active outlet (or those named with --mn): exceedances of "
            "the limits in force, gaps in the data longer than the offline threshold, negative, "
            "out-of-range and stuck values — thresholds from reference/data/monitoring_rules.yaml. "
            "Idempotent. Prints a JSON summary."
        ),
    )
    alarms.add_argument(
        "--date", required=True, help="the day (YYYY-MM-DD, station local time), or 'yesterday'"
    )
    alarms.add_argument("--mn", action="append", default=[], help="only this outlet (repeatable)")
    alarms.set_defaults(func=run_alarms)
    rates = sub.add_parser(
        "rates",
        help="print the effective-transmission rate per outlet for a month",
        description=(
            "数据传输有效率 = 数据传输率 × 数据有效率 per outlet for a month (hourly records), "
            "one JSON object per outlet; the line (90 %) from monitoring_rules.yaml."
        ),
    )
    rates.add_argument("--month", required=True, help="YYYY-MM")
    rates.set_defaults(func=run_rates)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def _day(text: str) -> dt.date:
    from django.utils import timezone

    from dualcontrol.cli import CommandError

    if text == "yesterday":
        return timezone.localdate() - dt.timedelta(days=1)
    if text == "today":
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--date wants YYYY-MM-DD, not {text!r}") from exc


def run_alarms(args: argparse.Namespace) -> int:
    from dualcontrol.cli import CommandError, setup_django

    setup_django()
    from django.core.exceptions import ValidationError

    from dualcontrol.monitoring.models import Outlet
    from dualcontrol.monitoring.services import evaluate_alarms

    day = _day(args.date)
    outlets = Outlet.objects.filter(active=True)
    if args.mn:
        outlets = Outlet.objects.filter(mn__in=args.mn)
        missing = sorted(set(args.mn) - set(outlets.values_list("mn", flat=True)))
        if missing:
            raise CommandError(f"no outlet with MN {', '.join(missing)}")
    try:
        summary = evaluate_alarms(day=day, outlets=outlets)
    except ValidationError as exc:
        raise CommandError("; ".join(exc.messages)) from exc
    print(
        json.dumps(
            {
                "day": day.isoformat(),
                "outlets": summary.outlets,
                "created": summary.created,
                "updated": summary.updated,
                "removed": summary.removed,
                "by_kind": summary.by_kind,
                "rules": summary.rules_version,
            },
            ensure_ascii=False,
        )
    )
    return 0


def run_rates(args: argparse.Namespace) -> int:
    from dualcontrol.cli import CommandError, setup_django

    try:
        year, month = (int(x) for x in args.month.split("-"))
        first = dt.date(year, month, 1)
    except ValueError as exc:
        raise CommandError(f"--month wants YYYY-MM, not {args.month!r}") from exc
    setup_django()
    from dualcontrol.monitoring.models import Outlet
    from dualcontrol.monitoring.queries import daily_rates, month_bounds, total
    from dualcontrol.monitoring.rules import monitoring_rules

    rules = monitoring_rules()
    first, last = month_bounds(first.year, first.month)
    outlets = list(Outlet.objects.filter(active=True).prefetch_related("limits"))
    rates = daily_rates(outlets, first, last)
    for outlet in outlets:
        rate = total(rates[outlet.pk])
        eff = rate.effective_frac
        sys.stdout.write(
            json.dumps(
                {
                    "mn": outlet.mn,
                    "outlet": outlet.name,
                    "unit": outlet.entity.name,
                    "month": f"{first:%Y-%m}",
                    "expected": rate.expected,
                    "received": rate.received,
                    "valid": rate.valid,
                    "excused_by_shutdowns": rate.excused,
                    "transmission_pct": _pct(rate.transmission_frac),
                    "validity_pct": _pct(rate.validity_frac),
                    "effective_pct": _pct(eff),
                    "meets_line": None if eff is None else eff >= rules.effective_min_frac,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return 0


def _pct(frac: float | None) -> float | None:
    return None if frac is None else round(frac * 100, 2)
