"""``dualcontrol import divisions|entities|statistics FILE``: load registries and regional statistics
from CSV/Excel (all or nothing).

``statistics`` takes the layout of the regional statistics page (docs/indicators.md §2: region, year,
optional month/quarter/industry/source, any catalogue column or energy by fuel, UTF-8 or GB18030, or
.xlsx) and goes through the same service as the page, with the same checks and audit entry; without
``--user`` it runs as the platform (system actor), with ``--user`` as that province officer."""

from __future__ import annotations

import argparse
from pathlib import Path

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "import",
        help="import a registry file (divisions: CSV; entities: CSV or .xlsx) or regional "
        "statistics (CSV in UTF-8/GB18030 or .xlsx)",
    )
    p.add_argument("kind", choices=["divisions", "entities", "statistics"])
    p.add_argument("file", type=Path)
    p.add_argument(
        "--user", default="", help="username recorded in the audit log (default: system)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.exists():
        raise CommandError(f"{args.file}: no such file")
    setup_django()
    from dualcontrol.accounts.models import User
    from dualcontrol.entities.services import import_entities
    from dualcontrol.formats.report205 import ReportFormatError
    from dualcontrol.regions.services import import_divisions
    from dualcontrol.targets.services import StatisticsRejected, TargetError, import_statistics

    user = User.objects.filter(username=args.user).first() if args.user else None
    if args.user and user is None:
        raise CommandError(f"unknown user {args.user!r}")
    data = args.file.read_bytes()
    try:
        if args.kind == "divisions":
            n = import_divisions(data=data, user=user)
        elif args.kind == "statistics":
            n = import_statistics(
                data=data, user=user, filename=args.file.name, system=user is None
            )
        else:
            n = import_entities(data=data, filename=args.file.name, user=user)
    except TargetError as exc:
        raise CommandError(f"{args.file.name}: {exc}") from exc
    except (ReportFormatError, StatisticsRejected) as exc:
        lines = "\n".join(f"  {e}" for e in exc.errors)
        raise CommandError(f"{args.file.name} rejected, nothing imported:\n{lines}") from exc
    print(f"{args.kind}: {n} rows imported from {args.file.name}")
    return 0
