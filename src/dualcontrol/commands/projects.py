"""``dualcontrol projects …`` — the key-project reduction ledger and its jobs.

``dualcontrol projects ledger --pollutant COD --year 2025`` prints the province's ledger (台账) of
verified (已认可) key-project reductions by region and project (``--format json|csv|table``) and
writes it as Excel with ``--xlsx FILE``.  ``dualcontrol projects sync-statistics --year Y`` writes
the year's verified reductions into the regional statistics (``cod_project_reduction_t`` …).
``dualcontrol projects late`` lists the projects behind schedule (建设滞后) and, with ``--alert``,
alerts their responsible officers (the daily job).

Issue 20: ``dualcontrol projects impact FILE.csv --region CODE --format json|csv`` prints, per year to
the period end, the region's energy, CO2, intensities and target progress without and with the
projects of FILE (columns region, start_year, energy_tce, co2_t, value_added_10k_yuan; optional
name); ``dualcontrol projects elimination --year Y`` prints the published elimination list.
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
    impact = sub.add_parser(
        "impact",
        help="what a set of projects does to a region's targets, year by year (with / without)",
        description="Per year to the period end: the region's energy, CO2, GDP, energy and CO2 "
        "intensity, their reduction and target progress, without and with the projects of FILE. "
        "FILE (UTF-8 or GB18030 CSV): region, start_year, energy_tce, co2_t, value_added_10k_yuan "
        "(optional: name).  Negative figures take capacity out (elimination).  Rows of regions "
        "outside --region are skipped and listed; any invalid row rejects the whole file.",
        epilog=IMPACT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    impact.add_argument("file", type=Path, metavar="FILE.csv")
    impact.add_argument("--region", required=True, help="division code (GB/T 2260)")
    impact.add_argument("--format", choices=("json", "csv"), default="json")
    impact.add_argument(
        "--today", default="", help="YYYY-MM-DD: the period in force (default: today)"
    )
    for name, what in (("gdp", "GDP"), ("energy", "energy"), ("co2", "CO2")):
        impact.add_argument(
            f"--growth-{name}-pct",
            type=float,
            default=None,
            help=f"annual {what} growth without the projects, %% (default: recent trend)",
        )
    impact.set_defaults(func=run_impact)
    elim = sub.add_parser(
        "elimination",
        help="the published list of backward capacity to eliminate (淘汰落后产能名单) of a year",
        description="Items of the published elimination lists of YEAR: region, unit, sector, "
        "line or equipment, capacity, deadline and acceptance.",
    )
    elim.add_argument("--year", required=True, type=int)
    elim.add_argument("--region", default="", help="division code: that region and below")
    elim.add_argument("--format", choices=("json", "csv", "table"), default="table")
    elim.set_defaults(func=run_elimination)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


IMPACT_EPILOG = """\
Formula (core/scenarios.py): E_y = E_b(1+g_E)^(y-b) + sum s_p(y) e_p, likewise CO2 and GDP (value
added); s_p = 0 before the start year, the ramp-up share in it (project_gating.yaml ramp_up, a
platform rule), 1 after.  Intensity = E/GDP; reduction = 1 - I_y/I_b; progress by the region's
target definition (log or linear).  Growth defaults to the base year's real GDP growth and the
average energy/CO2 growth of the five years before it.
"""

IMPACT_COLUMNS = ("region", "start_year", "energy_tce", "co2_t", "value_added_10k_yuan")


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


# --------------------------------------------------------------------------------------------
# impact (issue 20)
# --------------------------------------------------------------------------------------------


def _impact_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    import csv

    from dualcontrol.commands.indicators import _decode

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = list(csv.reader(_decode(path, raw).splitlines()))
    if not rows:
        raise CommandError(f"{path.name}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in IMPACT_COLUMNS if c not in header]
    if missing:
        raise CommandError(f"{path.name}: missing column(s): {', '.join(missing)}")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise CommandError(f"{path.name}: column(s) given twice: {', '.join(dup)}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            out.append((number, {"__problem__": f"{len(row)} cells, the header has {len(header)}"}))
            continue
        out.append((number, {h: c.strip() for h, c in zip(header, row, strict=True)}))
    if not out:
        raise CommandError(f"{path.name}: no data rows")
    return out


def _impact_projects(path: Path, region: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    import math

    from dualcontrol.core.scenarios import ScenarioProject
    from dualcontrol.regions.models import Division

    problems: list[str] = []
    projects = []
    skipped = []
    codes: dict[str, Any] = {}
    for number, r in _impact_rows(path):
        if "__problem__" in r:
            problems.append(f"row {number}: {r['__problem__']}")
            continue
        where = f"row {number}"
        code = r["region"]
        if code not in codes:
            codes[code] = Division.objects.filter(code=code).order_by("-valid_from").first()
        div = codes[code]
        row_problems = []
        if div is None:
            row_problems.append(f"unknown region {code!r}")
        try:
            year = int(r["start_year"])
            if not 1900 <= year <= 2200:
                raise ValueError
        except ValueError:
            row_problems.append(f"start_year is not a year: {r['start_year']!r}")
            year = 0
        nums = {}
        for col in ("energy_tce", "co2_t", "value_added_10k_yuan"):
            text = r[col].replace(",", "")
            try:
                value = float(text) if text else 0.0
                if not math.isfinite(value):
                    raise ValueError
            except ValueError:
                row_problems.append(f"{col} is not a number: {r[col]!r}")
                value = 0.0
            nums[col] = value
        if row_problems:
            problems += [f"{where}: {p}" for p in row_problems]
            continue
        name = r.get("name") or f"{where}"
        if not div.path.startswith(region.path):
            skipped.append({"row": number, "region": code, "name": name})
            continue
        projects.append(
            ScenarioProject(
                name=name,
                start_year=year,
                energy_tce=nums["energy_tce"],
                co2_t=nums["co2_t"],
                value_added_10k_yuan=nums["value_added_10k_yuan"],
            )
        )
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise CommandError(f"{path.name} rejected, nothing computed:\n{listed}")
    return projects, skipped


def _year_fields(y: Any) -> dict[str, Any]:
    def pct(v: float | None) -> float | None:
        return None if v is None else round(v * 100, 4)

    return {
        "energy_tce": round(y.energy_tce, 2),
        "co2_t": round(y.co2_t, 2),
        "gdp_10k_yuan": round(y.gdp_10k_yuan, 2),
        "energy_intensity_tce_per_10k_yuan": round(y.energy_intensity_tce_per_10k_yuan, 6),
        "co2_intensity_t_per_10k_yuan": round(y.co2_intensity_t_per_10k_yuan, 6),
        "energy_intensity_reduction_pct": pct(y.energy_intensity_reduction_frac),
        "co2_intensity_reduction_pct": pct(y.co2_intensity_reduction_frac),
        "energy_progress_pct": pct(y.energy_progress_frac),
        "co2_progress_pct": pct(y.co2_progress_frac),
        "energy_required_pct": pct(y.energy_required_frac),
        "co2_required_pct": pct(y.co2_required_frac),
    }


def run_impact(args: argparse.Namespace) -> int:
    setup_django()
    from dataclasses import asdict

    from django.utils import timezone

    from dualcontrol.core.scenarios import Growth, ScenarioError
    from dualcontrol.projects import investment
    from dualcontrol.reference.project_gating import gating
    from dualcontrol.regions.models import Division

    region = Division.objects.filter(code=args.region).order_by("-valid_from").first()
    if region is None:
        raise CommandError(f"unknown region {args.region!r}")
    try:
        today = dt.date.fromisoformat(args.today) if args.today else timezone.localdate()
    except ValueError as exc:
        raise CommandError(f"--today: {exc}") from exc
    projects, skipped = _impact_projects(args.file, region)
    inputs = investment.region_inputs(region, today)
    if inputs is None:
        raise CommandError(
            f"{region.code} {region.name}: no base-year statistics (energy, GDP, co2_t) or "
            "five-year targets for the period in force — nothing to compare"
        )
    overrides = (args.growth_gdp_pct, args.growth_energy_pct, args.growth_co2_pct)
    if any(v is not None for v in overrides):
        g = inputs.growth
        inputs.growth = Growth(
            gdp_frac=g.gdp_frac if args.growth_gdp_pct is None else args.growth_gdp_pct / 100,
            energy_frac=g.energy_frac
            if args.growth_energy_pct is None
            else args.growth_energy_pct / 100,
            co2_frac=g.co2_frac if args.growth_co2_pct is None else args.growth_co2_pct / 100,
        )
        inputs.growth_source = "command line (--growth-*-pct) over the recent trend"
    try:
        comp = investment.effect(projects, inputs)
    except ScenarioError as exc:
        raise CommandError(f"{args.file.name}: {exc}") from exc
    out = sys.stdout
    if args.format == "csv":
        names = list(_year_fields(comp.without.years[0]))
        w = exports.csv_writer(out, lineterminator="\n")
        w.writerow(
            ["region", "year"] + [f"{n}_{which}" for n in names for which in ("without", "with")]
        )
        for a, b in comp.rows():
            fa, fb = _year_fields(a), _year_fields(b)
            w.writerow(
                [region.code, a.year]
                + ["" if v is None else v for n in names for v in (fa[n], fb[n])]
            )
        return 0
    doc = {
        "region": {"code": region.code, "name": region.name},
        "base_year": inputs.base.year,
        "end_year": inputs.targets.end_year,
        "base": asdict(inputs.base),
        "growth": {**asdict(inputs.growth), "source": inputs.growth_source},
        "targets": {
            k: (v.value if hasattr(v, "value") else v) for k, v in asdict(inputs.targets).items()
        },
        "ramp_up": asdict(gating().ramp),
        "projects": [asdict(p) for p in projects],
        "skipped_rows": skipped,
        "years": [
            {"year": a.year, "without": _year_fields(a), "with": _year_fields(b)}
            for a, b in comp.rows()
        ],
        "attainment": {
            "without": asdict(comp.without.attainment),
            "with": asdict(comp.with_projects.attainment),
        },
    }
    json.dump(doc, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0


def run_elimination(args: argparse.Namespace) -> int:
    setup_django()

    from dualcontrol.projects import investment
    from dualcontrol.projects.models import EliminationItem
    from dualcontrol.regions.models import Division

    items = EliminationItem.objects.all()
    if args.region:
        region = Division.objects.filter(code=args.region).order_by("-valid_from").first()
        if region is None:
            raise CommandError(f"unknown region {args.region!r}")
        items = items.filter(division__path__startswith=region.path)
    rows = investment.elimination_rows(args.year, items)
    out = sys.stdout
    if args.format == "json":
        json.dump({"year": args.year, "items": rows}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    headers = [
        "region_code",
        "region",
        "unit",
        "sector",
        "line_equipment",
        "capacity",
        "capacity_unit",
        "deadline",
        "accepted_on",
        "acceptance",
        "list",
        "published_at",
    ]
    if args.format == "csv":
        w = exports.csv_writer(out, lineterminator="\n")
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if r[h] is None else r[h] for h in headers])
        return 0
    if not rows:
        out.write(f"no published elimination list items for {args.year}\n")
        return 0
    table = [[_fmt(r[h]) if h == "capacity" else str(r[h] or "—") for h in headers] for r in rows]
    out.write(_grid(headers, table, {5}) + "\n")
    return 0
