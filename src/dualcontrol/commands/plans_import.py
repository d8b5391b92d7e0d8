"""``dualcontrol plans import FILE --division CODE`` and ``dualcontrol plans warnings``.

``plans import`` reads a plan document (.txt / .docx) and saves the plan with every numbered task
and its lead / participating departments (matched to the departments of the division's
government; unmatched names are created and flagged) — the same service as the upload page,
all or nothing.  ``--dry-run`` prints what would be saved.  ``plans warnings`` lists overdue and
stalled tasks (docs/tasks.md).  Both are added to the ``plans`` group that ``commands/plans.py``
defines; should that group ever be missing they register as ``plans-import`` / ``plans-warnings``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def _plans_group(subparsers: Any) -> Any:
    parser = getattr(subparsers, "choices", {}).get("plans")
    if parser is None:
        return None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def register(subparsers: Any) -> None:
    group = _plans_group(subparsers)
    if group is not None:
        imp = group.add_parser(
            "import",
            help="import a plan document into the platform (tasks and departments)",
            description=__doc__.split("\n\n")[1],
        )
        warn = group.add_parser("warnings", help="list overdue and stalled plan tasks")
    else:  # pragma: no cover - the plans group is defined by commands/plans.py
        imp = subparsers.add_parser("plans-import", help="import a plan document")
        warn = subparsers.add_parser("plans-warnings", help="list overdue and stalled plan tasks")
    imp.add_argument("file", metavar="FILE", help="the plan document (.txt or .docx)")
    imp.add_argument(
        "--division",
        required=True,
        metavar="CODE",
        help="GB/T 2260 code of the plan's government (its departments are matched)",
    )
    imp.add_argument("--title", help="plan title (default: read from the document)")
    imp.add_argument("--issuing-body", help="issuing body (default: read from the document)")
    imp.add_argument("--period-start", type=int, metavar="YEAR")
    imp.add_argument("--period-end", type=int, metavar="YEAR")
    imp.add_argument("--office", metavar="NAME", help="plan office: a department of the division")
    imp.add_argument("--deadline", type=_date, metavar="DATE", help="deadline for every task")
    imp.add_argument(
        "--no-text-deadlines",
        action="store_true",
        help="do not take deadlines from years named in a task's targets",
    )
    imp.add_argument("--tracking-start", type=_date, metavar="DATE", help="default: today")
    imp.add_argument("--user", metavar="USERNAME", help="record the import as this user")
    imp.add_argument("--dry-run", action="store_true", help="parse and match, save nothing")
    imp.add_argument("--format", choices=("text", "json"), default="text")
    imp.set_defaults(func=run_import)
    warn.add_argument("--date", type=_date, metavar="DATE", help="as of this day (default today)")
    warn.add_argument("--plan", type=int, metavar="ID")
    warn.add_argument("--division", metavar="CODE", help="plans of this division and below")
    warn.add_argument("--kind", choices=("overdue", "stalled"))
    warn.add_argument("--format", choices=("text", "json"), default="text")
    warn.set_defaults(func=run_warnings)


def _division(code: str) -> Any:
    from django.utils import timezone

    from dualcontrol.regions.models import Division

    qs = Division.objects.filter(code=code)
    division = qs.valid_on(timezone.localdate()).first() or qs.order_by("-valid_from").first()
    if division is None:
        raise CommandError(f"--division {code}: no such division (import the divisions first)")
    return division


def run_import(args: argparse.Namespace) -> int:
    setup_django()
    from dualcontrol.accounts.models import User
    from dualcontrol.regions.models import Department
    from dualcontrol.tasks import services

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    division = _division(args.division)
    user = None
    if args.user:
        user = User.objects.filter(username=args.user).first()
        if user is None:
            raise CommandError(f"--user {args.user}: no such user")
    office = None
    if args.office:
        office = Department.objects.filter(division=division, name=args.office).first()
        if office is None:
            raise CommandError(f"--office {args.office}: not a department of {division.name}")
    try:
        if args.dry_run:
            preview = services.preview_plan(data=data, filename=path.name, division=division)
            summary: dict[str, Any] = {
                "saved": False,
                "title": args.title or preview.title,
                "division": division.code,
                "tasks": len(preview.rows),
                "departments": len(preview.matches),
                "new_departments": [m.name for m in preview.new_departments],
                "duplicate_of": preview.duplicate_of.pk if preview.duplicate_of else None,
            }
        else:
            plan = services.import_plan(
                data=data,
                filename=path.name,
                division=division,
                user=user,
                title=args.title or "",
                issuing_body=args.issuing_body or "",
                period_start=args.period_start,
                period_end=args.period_end,
                office=office,
                tracking_start=args.tracking_start,
                default_deadline=args.deadline,
                deadlines_from_text=not args.no_text_deadlines,
            )
            from dualcontrol.tasks.models import ImportedDepartment, TaskAssignment

            summary = {
                "saved": True,
                "plan_id": plan.pk,
                "title": plan.title,
                "division": division.code,
                "tasks": plan.tasks.count(),
                "assignments": TaskAssignment.objects.filter(task__plan=plan).count(),
                "new_departments": list(
                    ImportedDepartment.objects.filter(plan=plan).values_list(
                        "department__name", flat=True
                    )
                ),
            }
    except services.ImportRejected as exc:
        raise CommandError("; ".join(exc.problems)) from exc
    except services.TaskPermissionDenied as exc:
        raise CommandError(str(exc)) from exc
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        verb = "imported" if summary["saved"] else "would import (dry run)"
        ident = f" as plan {summary['plan_id']}" if summary["saved"] else ""
        print(
            f"{verb}{ident}: {summary['title']} — {summary['tasks']} tasks, division {division.code}"
        )
        if summary["new_departments"]:
            print("new departments (flagged for merging): " + "、".join(summary["new_departments"]))
    return 0


def run_warnings(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from dualcontrol.tasks.warnings_report import as_text, warning_rows

    today = args.date or timezone.localdate()
    rows = warning_rows(today=today, plan_id=args.plan, division_code=args.division, kind=args.kind)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(as_text(rows, today))
    return 0
