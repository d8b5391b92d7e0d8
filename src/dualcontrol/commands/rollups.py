"""``dualcontrol rollups …`` — the monthly roll-ups of the reports (dashboards read them).

``dualcontrol rollups refresh`` recomputes the years marked as changed (what the every-minute job
does); ``--all`` every year with reports; ``--year Y`` (repeatable) the given years.
``dualcontrol rollups status`` prints when they were computed and which years wait.
Output: JSON with ``years``, ``region_rows``, ``unit_rows``, ``seconds``, ``refreshed_at``,
``still_marked``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollups",
        help="monthly roll-ups of the reports per region, sector and unit (refresh, status)",
        description="The roll-ups that dashboards and drill-downs read.",
    )
    sub = parser.add_subparsers(dest="rollups_command", metavar="SUBCOMMAND")
    refresh = sub.add_parser("refresh", help="recompute the changed years (or --all, --year)")
    refresh.add_argument("--all", action="store_true", help="every year with reports")
    refresh.add_argument("--year", type=int, action="append", help="this year (repeatable)")
    refresh.set_defaults(func=run_refresh)
    status = sub.add_parser("status", help="when the roll-ups were computed; years waiting")
    status.set_defaults(func=run_status)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_refresh(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.rollups.services import refresh, refresh_marked

    if args.all and args.year:
        raise CommandError("give --all or --year, not both")
    if args.all:
        result = refresh(None, actor="cli")
    elif args.year:
        result = refresh(args.year, actor="cli")
    else:
        result = refresh_marked(actor="cli")
    out = result.as_dict() if result else {"years": [], "still_marked": []}
    print(json.dumps(out, ensure_ascii=False))
    return 0


def run_status(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.rollups.services import marked_years, state

    st = state()
    print(
        json.dumps(
            {
                "refreshed_at": st.refreshed_at.isoformat() if st and st.refreshed_at else None,
                "years": st.years if st else [],
                "rows": st.rows if st else 0,
                "seconds": round(st.seconds, 3) if st else None,
                "still_marked": marked_years(),
            },
            ensure_ascii=False,
        )
    )
    return 0
