"""``dualcontrol plans …`` — plan documents (工作方案 / 规划) → tasks with lead and participating departments.

``dualcontrol plans parse FILE [--format json|text] [--all] [--target-year YEAR]`` reads a .txt or
.docx plan and prints its tasks (rules: docs/plans.md).  JSON is a list of objects with
``number``, ``section`` (headings from the top), ``text``, ``lead_departments``,
``participating_departments`` and ``targets`` (``value``, ``unit``, ``year``, ``text`` …).
Pure command: no Django.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any

from dualcontrol.cli import CommandError
from dualcontrol.core.plans import Plan, PlanItem, PlanParseError, Target


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plans",
        help="plan documents: numbered tasks and their departments (分工)",
        description="Plan documents (工作方案、规划): numbered tasks, lead and participating "
        "departments, candidate quantitative targets.",
    )
    sub = parser.add_subparsers(dest="plans_command", metavar="SUBCOMMAND")
    parse = sub.add_parser(
        "parse",
        help="print the tasks of a plan document (.txt or .docx)",
        description="Parse a plan document (.txt in UTF-8 or GB18030, or .docx) and print its "
        "tasks with their section path, lead and participating departments and candidate "
        "targets.",
    )
    parse.add_argument("file", metavar="FILE", help="the plan document (.txt or .docx)")
    parse.add_argument("--format", choices=("json", "text"), default="json", help="default: json")
    parse.add_argument(
        "--all",
        action="store_true",
        help="print every numbered item (headings, context) with is_task, not only the tasks",
    )
    parse.add_argument(
        "--target-year",
        type=int,
        metavar="YEAR",
        help="year for targets whose sentence names none (default: the plan period's last year)",
    )
    parse.set_defaults(func=run_parse)
    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run_parse(args: argparse.Namespace) -> int:
    from dualcontrol.formats.plan_documents import PlanDocumentError, read_plan

    try:
        plan = read_plan(args.file, target_year=args.target_year)
    except (PlanDocumentError, PlanParseError) as exc:
        raise CommandError(str(exc)) from exc
    items = list(plan.walk()) if args.all else list(plan.tasks)
    if not items:
        raise CommandError(f"{args.file}: no numbered items found — is this a plan document?")
    if args.format == "json":
        rows = [item_as_dict(item, with_flag=args.all) for item in items]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(_as_text(plan, items))
    return 0


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def target_as_dict(target: Target) -> dict[str, Any]:
    return {
        "value": _number(target.value),
        "value_max": _number(target.value_max),
        "unit": target.unit,
        "year": target.year,
        "year_explicit": target.year_explicit,
        "text": target.text,
    }


def item_as_dict(item: PlanItem, *, with_flag: bool = False) -> dict[str, Any]:
    """The JSON shape of one task (or, with ``with_flag``, any numbered item)."""
    row: dict[str, Any] = {
        "number": item.number,
        "key": item.key,
        "section": list(item.section),
        "title": item.title,
        "text": item.text,
        "lead_departments": list(item.lead_departments),
        "participating_departments": list(item.participating_departments),
        "attribution": item.attribution.clause if item.attribution else None,
        "targets": [target_as_dict(t) for t in item.targets],
        "line": item.line,
    }
    if with_flag:
        row["is_task"] = item.is_task
    return row


def _as_text(plan: Plan, items: list[PlanItem]) -> str:
    lines = [
        f"# {plan.title or '(untitled plan)'} — {len(plan.tasks)} tasks, "
        f"target year {plan.target_year or '—'}"
    ]
    for item in items:
        flag = "" if item.is_task else "  (context)"
        lines.append(f"{item.key}  {item.title}{flag}")
        if item.lead_departments:
            lines.append(f"    牵头: {'、'.join(item.lead_departments)}")
        if item.participating_departments:
            lines.append(f"    参加: {'、'.join(item.participating_departments)}")
        for t in item.targets:
            value = _number(t.value)
            upper = f"-{_number(t.value_max)}" if t.value_max is not None else ""
            lines.append(f"    指标: {value}{upper} {t.unit} ({t.year or '—'}) {t.text}")
    return "\n".join(lines)
