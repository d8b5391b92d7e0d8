"""``dualcontrol import divisions|entities|statistics|targets FILE``: load registries, regional
statistics and targets from CSV/Excel (all or nothing).

``statistics`` takes the layout of the regional statistics page (docs/indicators.md §2: region, year,
optional month/quarter/industry/source, any catalogue column or energy by fuel, UTF-8 or GB18030, or
.xlsx) and goes through the same service as the page, with the same checks and audit entry; without
``--user`` it runs as the platform (system actor), with ``--user`` as that province officer.

``targets`` takes one target per row (columns of :mod:`dualcontrol.targets.target_import`: indicator,
division code or unit USCC, period, values, source document …; UTF-8 or GB18030, or .xlsx) and creates
each through the same service as the page 新建目标 (and ``POST /api/targets/import``), with the same
checks and audit entries; the file is refused whole with every problem listed.  Without ``--user`` it
runs as the platform (system actor), with ``--user`` under that officer's access rules.

``divisions --shipped [--province CODE]`` loads the national divisions shipped as reference data
(reference/data/divisions_cn.csv, docs/divisions.md), all of them or one province's, through the same
service as a file."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from dualcontrol.cli import CommandError, setup_django


class _IntermixedParser(argparse.ArgumentParser):
    """Parses options and positionals in any order, so an optional FILE may still follow the
    options (``import divisions --user u FILE``): plain argparse would leave FILE empty there."""

    _inner = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        if self._inner:  # parse_known_intermixed_args calls back into this method
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "import",
        help="import a registry file (divisions: CSV; entities: CSV or .xlsx), regional "
        "statistics or targets (CSV in UTF-8/GB18030 or .xlsx)",
    )
    p.add_argument("kind", choices=["divisions", "entities", "statistics", "targets"])
    p.add_argument("file", type=Path, nargs="?")
    p.add_argument(
        "--shipped",
        action="store_true",
        help="divisions only: load the shipped national divisions (divisions_cn.csv) instead of FILE",
    )
    p.add_argument(
        "--province",
        default="",
        help="with --shipped: only this province (6-digit code, e.g. 530000) and its divisions",
    )
    p.add_argument(
        "--user", default="", help="username recorded in the audit log (default: system)"
    )
    p.add_argument(
        "--annotated",
        type=Path,
        metavar="XLSX",
        help="when the file is refused: write an Excel copy of it here, every bad cell filled "
        "and commented, with a sheet 问题清单 listing every problem",
    )
    p.set_defaults(func=run)
    p.__class__ = _IntermixedParser  # FILE is optional now (--shipped)


SHIPPED_DIVISIONS = "divisions_cn.csv"


def shipped_divisions(province: str = "") -> bytes:
    """The shipped national divisions as CSV bytes, all or one province's (read and checked by the
    reference loader)."""
    from dualcontrol.reference import ReferenceDataError, load_csv

    try:
        table = load_csv(SHIPPED_DIVISIONS)
    except ReferenceDataError as exc:
        raise CommandError(str(exc)) from exc
    rows = list(table.rows)
    if province:
        if not any(r["code"] == province and r["level"] == "province" for r in rows):
            raise CommandError(f"{province!r} is not a province code in {SHIPPED_DIVISIONS}")
        rows = [r for r in rows if r["code"][:2] == province[:2]]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def run(args: argparse.Namespace) -> int:
    if args.shipped and args.kind != "divisions":
        raise CommandError("--shipped is for divisions only")
    if args.province and not args.shipped:
        raise CommandError("--province goes with --shipped")
    if args.shipped and args.file is not None:
        raise CommandError("give either FILE or --shipped, not both")
    if not args.shipped:
        if args.file is None:
            raise CommandError(f"import {args.kind}: FILE is required")
        if not args.file.exists():
            raise CommandError(f"{args.file}: no such file")
    setup_django()
    from dualcontrol.accounts.models import User
    from dualcontrol.entities.services import import_entities
    from dualcontrol.formats.report205 import ReportFormatError
    from dualcontrol.regions.services import import_divisions
    from dualcontrol.targets.services import StatisticsRejected, TargetError, import_statistics
    from dualcontrol.targets.target_import import import_targets

    user = User.objects.filter(username=args.user).first() if args.user else None
    if args.user and user is None:
        raise CommandError(f"unknown user {args.user!r}")
    if args.shipped:
        data = shipped_divisions(args.province)
        name = SHIPPED_DIVISIONS + (f" (province {args.province})" if args.province else "")
    else:
        data = args.file.read_bytes()
        name = args.file.name
    try:
        if args.kind == "divisions":
            n = import_divisions(data=data, user=user)
        elif args.kind == "targets":
            n = import_targets(data=data, user=user, filename=args.file.name, system=user is None)
        elif args.kind == "statistics":
            n = import_statistics(
                data=data, user=user, filename=args.file.name, system=user is None
            )
        else:
            n = import_entities(data=data, filename=args.file.name, user=user)
    except TargetError as exc:
        raise CommandError(f"{name}: {exc}") from exc
    except (ReportFormatError, StatisticsRejected) as exc:
        lines = "\n".join(f"  {e}" for e in exc.errors)
        if args.annotated is not None:
            from dualcontrol.uploads_annotate import annotated_workbook

            kind = "statistics" if args.kind in ("statistics", "targets") else "entities"
            args.annotated.write_bytes(annotated_workbook(data, name, exc.errors, kind=kind))
            lines += f"\n  (annotated copy: {args.annotated})"
        raise CommandError(f"{name} rejected, nothing imported:\n{lines}") from exc
    print(f"{args.kind}: {n} rows imported from {name}")
    return 0
