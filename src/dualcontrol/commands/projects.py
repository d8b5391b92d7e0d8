"""``dualcontrol projects …`` — the key-project reduction ledger and its jobs.

``dualcontrol projects ledger --pollutant COD --year 2025`` prints the province's ledger (台账) of
verified (已认可) key-project reductions by region and project (``--format json|csv|table``) and
writes it as Excel with ``--xlsx FILE``.  ``dualcontrol projects sync-statistics --year Y`` writes
the year's verified reductions into the regional statistics (``cod_project_reduction_t`` …).
``dualcontrol projects late`` lists the projects behind schedule (建设滞后) and, with ``--alert``,
alerts their responsible officers (the daily job).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError, setup_django

LEDGER_EPILOG = """\
--pollutant: COD, NH3-N, NOx, VOCs (codes cod, nh3n, nox, vocs, or the Chinese names), or
  energy (节能量, tce) for energy-saving projects.
Only verified projects (已认可) are counted, in the year of their 核算年度; rejected projects
(不予认可) are counted nowhere.  json: the ledger with regions and lines; csv: one row per project
(--by region: one row per region and a total row); table: both, aligned.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "projects",
        help="key-project reduction ledger (重点工程减排量台账), statistics sync, late projects",
        description="The project registry's batch jobs.",
    )
    sub = parser.add_subparsers(dest="projects_command", metavar="SUBCOMMAND")
    ledger = sub.add_parser(
        "ledger",
        help="print the ledger of verified key-project reductions of a pollutant and year",
        description="The province's ledger (台账) per pollutant and year: verified reductions "
        "by region and project.",
        epilog=LEDGER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ledger.add_argument("--pollutant", required=True, help="COD | NH3-N | NOx | VOCs | energy")
    ledger.add_argument("--year", required=True, type=int, help="核算年度")
    ledger.add_argument(
        "--region", default="", help="division code (default: the province; a city: its counties)"
    )
    ledger.add_argument("--format", choices=("json", "csv", "table"), default="table")
    ledger.add_argument("--by", choices=("project", "region"), default="project", help="csv rows")
    ledger.add_argument("--xlsx", type=Path, help="also write the ledger to this Excel file")
    ledger.set_defaults(func=run_ledger)
    sync = sub.add_parser(
        "sync-statistics",
        help="write a year's verified reductions into the regional statistics",
        description="Write each region's (and the province's) verified key-project reductions of "
        "YEAR into the annual statistics columns cod_project_reduction_t, nh3n_project_reduction_t, "
        "nox_project_reduction_t and vocs_project_reduction_t (through the statistics import: "
        "validated and audited).  Regions without an annual statistics row are listed, not written.",
    )
    sync.add_argument("--year", required=True, type=int)
    sync.add_argument(
        "--user", default="", help="username recorded in the audit log (default: system)"
    )
    sync.set_defaults(func=run_sync)
    late = sub.add_parser(
        "late",
        help="list projects behind schedule (建设滞后); --alert tells their officers",
        description="Unfinished projects with a passed milestone, planned start or planned "
        "completion date (platform rule, reference/data/project_rules.yaml).  With --alert, each "
        "responsible officer (city officers of the region, the project unit; province staff where "
        "no city officer covers it) gets one in-app alert per passed date.",
    )
    late.add_argument("--today", default="", help="YYYY-MM-DD (default: today)")
    late.add_argument("--alert", action="store_true", help="create the alerts (idempotent)")
    late.add_argument("--format", choices=("json", "table"), default="table")
    late.set_defaults(func=run_late)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def _user(name: str) -> Any:
    if not name:
        return None
    from dualcontrol.accounts.models import User

    user = User.objects.filter(username=name).first()
    if user is None:
        raise CommandError(f"unknown user {name!r}")
    return user


def run_ledger(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.projects import ledger as ledger_mod
    from dualcontrol.projects.rules import project_rules
    from dualcontrol.regions.models import Division

    rules = project_rules()
    measure = rules.measure(args.pollutant)
    if measure is None:
        known = ", ".join(f"{m.name_en} ({m.code})" for m in rules.measures.values())
        raise CommandError(f"unknown pollutant {args.pollutant!r} (known: {known})")
    if not 2000 <= args.year <= 2100:
        raise CommandError(f"--year {args.year} is out of range")
    if args.region:
        top = Division.objects.filter(code=args.region).order_by("-valid_from").first()
        if top is None:
            raise CommandError(f"no division with code {args.region}")
    else:
        top = (
            Division.objects.filter(parent__isnull=True, level="province")
            .order_by("code", "-valid_from")
            .first()
        )
        if top is None:
            raise CommandError("no province division: import the divisions first")
    ledger = ledger_mod.build_ledger(
        top=top, measure=measure, year=args.year, today=timezone.localdate()
    )
    if args.xlsx:
        args.xlsx.write_bytes(ledger_mod.workbook_bytes(ledger))
    out = sys.stdout
    if args.format == "json":
        out.write(json.dumps(ledger.as_dict(), ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        writer = exports.csv_writer(out, lineterminator="\n")
        if args.by == "region":
            writer.writerow(
                [
                    "region_code",
                    "region",
                    "amount",
                    "unit",
                    "projects",
                    "late",
                    "rejected",
                    "waiting",
                ]
            )
            for r in ledger.regions:
                writer.writerow(
                    [
                        r.code,
                        r.name,
                        _fmt(r.amount),
                        measure.unit,
                        r.projects,
                        r.late,
                        r.rejected,
                        r.waiting,
                    ]
                )
            writer.writerow(
                [
                    top.code,
                    "TOTAL",
                    _fmt(ledger.total),
                    measure.unit,
                    len(ledger.lines),
                    ledger.late,
                    ledger.rejected,
                    ledger.waiting,
                ]
            )
        else:
            fields = [
                "region_code",
                "region",
                "division_code",
                "division",
                "project_id",
                "project",
                "type",
                "unit",
                "accounting_year",
                "completed_on",
                "amount",
                "amount_unit",
                "verified_at",
                "verified_by",
            ]
            writer.writerow(fields)
            for line in ledger.lines:
                d = line.as_dict()
                writer.writerow(
                    [
                        d["region_code"],
                        d["region"],
                        d["division_code"],
                        d["division"],
                        d["project_id"],
                        d["project"],
                        d["type"],
                        d["unit"],
                        d["accounting_year"],
                        d["completed_on"] or "",
                        _fmt(line.amount),
                        measure.unit,
                        d["verified_at"] or "",
                        d["verified_by"],
                    ]
                )
    else:
        out.write(_table(ledger))
    if args.xlsx:
        print(f"written {args.xlsx}", file=sys.stderr)
    return 0


def _fmt(value: Any) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _grid(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, widths[i], i in numeric) for i, h in enumerate(headers))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_pad(c, widths[i], i in numeric) for i, c in enumerate(r)))
    return "\n".join(lines) + "\n"


def _table(ledger: Any) -> str:
    from dualcontrol.projects import ledger as ledger_mod

    m = ledger.measure
    head = (
        f"{ledger_mod.title(ledger)}\n"
        f"counted: verified projects (已认可) only; unit {m.unit}; rules {ledger.rules_version}\n\n"
    )
    regions = [
        [
            r.code,
            r.name,
            _fmt(r.amount),
            str(r.projects),
            str(r.late),
            str(r.rejected),
            str(r.waiting),
        ]
        for r in ledger.regions
    ]
    regions.append(
        [
            ledger.top.code,
            "合计",
            _fmt(ledger.total),
            str(len(ledger.lines)),
            str(ledger.late),
            str(ledger.rejected),
            str(ledger.waiting),
        ]
    )
    by_region = _grid(
        ["code", "region", f"{m.code}_{m.unit}", "projects", "late", "rejected", "waiting"],
        regions,
        {2, 3, 4, 5, 6},
    )
    lines = [
        [
            line.region_name,
            line.division_name,
            str(line.project_id),
            line.name,
            line.owner,
            line.type_label,
            _fmt(line.amount),
        ]
        for line in ledger.lines
    ]
    by_project = _grid(
        ["region", "division", "id", "project", "unit", "type", f"{m.code}_{m.unit}"], lines, {2, 6}
    )
    return head + by_region + "\n" + by_project


def run_sync(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.projects.services import sync_statistics
    from dualcontrol.targets.errors import StatisticsRejected

    user = _user(args.user)
    try:
        result = sync_statistics(year=args.year, user=user)
    except StatisticsRejected as exc:
        lines = "\n".join(f"  {e}" for e in exc.errors)
        raise CommandError(f"the statistics import refused the ledger's rows:\n{lines}") from exc
    print(
        json.dumps(
            {
                "year": result.year,
                "written": result.written,
                "columns": result.columns,
                "skipped_no_annual_row": [
                    {"code": code, "name": name} for code, name in result.skipped
                ],
                "totals": result.totals,
            },
            ensure_ascii=False,
        )
    )
    return 0


def run_late(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.projects import queries
    from dualcontrol.projects.models import Project
    from dualcontrol.projects.rules import project_rules
    from dualcontrol.projects.services import warn_late_projects

    try:
        today = dt.date.fromisoformat(args.today) if args.today else timezone.localdate()
    except ValueError as exc:
        raise CommandError(f"--today wants YYYY-MM-DD, not {args.today!r}") from exc
    rules = project_rules()
    late = (
        queries.with_late(Project.objects.select_related("division", "entity"), today)
        .filter(is_late=True)
        .prefetch_related("milestones")
        .order_by("division__code", "name")
    )
    rows = []
    for p in late:
        why = queries.lateness(p, today)
        if why is None:
            continue
        rows.append(
            {
                "project_id": p.pk,
                "project": p.name,
                "type": rules.type_label(p.type_code),
                "division_code": p.division.code,
                "division": p.division.name,
                "unit": p.owner_label,
                "status": p.status,
                "late_for": why.what,
                "due": why.due.isoformat(),
                "days_late": why.days,
            }
        )
    alerts = warn_late_projects(today=today).alerts if args.alert else None
    if args.format == "json":
        print(
            json.dumps(
                {"today": today.isoformat(), "late": rows, "alerts_created": alerts},
                ensure_ascii=False,
            )
        )
    else:
        sys.stdout.write(
            _grid(
                ["division", "id", "project", "late for", "due", "days"],
                [
                    [
                        r["division"],
                        str(r["project_id"]),
                        r["project"],
                        r["late_for"],
                        r["due"],
                        str(r["days_late"]),
                    ]
                    for r in rows
                ],
                {1, 5},
            )
        )
        if alerts is not None:
            print(f"alerts created: {alerts}")
    return 0
