"""``dualcontrol plans …`` — plan documents (工作方案 / 规划) → tasks with lead and participating departments.

``dualcontrol plans parse FILE [--format json|text] [--all] [--target-year YEAR]`` reads a plan
(.txt / .md in UTF-8 or GB18030, .html, .docx, or a .pdf with a text layer) and
prints its tasks (rules: docs/plans.md).  JSON is a list of objects with ``number``, ``section``
(headings from the top), ``text``, ``lead_departments``, ``participating_departments`` and
``targets`` (``value``, ``unit``, ``year``, ``text`` …), plus ``departments``: every name with its
canonical form and, for a name the registry does not know, the closest known department.

``dualcontrol plans targets FILE [--format json|csv] [--target-year YEAR]`` prints every
quantitative target of the document, task or not, one object per target: ``indicator``
(catalogue code or null), ``value``, ``unit``, ``year``, ``base_year``, ``region``, ``sector``,
``sentence`` — proposals for an officer to confirm.
Pure command: no Django.
"""

from __future__ import annotations

import argparse
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.core.plans import Plan, PlanItem, PlanParseError, Target, parse_plan
from dualcontrol.core.plans_departments import DepartmentRegistry
from dualcontrol.core.plans_targets import extract_targets

TARGET_FIELDS = (
    "indicator",
    "value",
    "value_max",
    "unit",
    "year",
    "base_year",
    "region",
    "sector",
    "sentence",
)


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
        help="print the tasks of a plan document (.txt, .md, .html, .docx, .pdf)",
        description="Parse a plan document (.txt / .md in UTF-8 or GB18030, .html, .docx, or a "
        "text-layer .pdf) and print its tasks with their section path, lead and participating "
        "departments and candidate targets.",
    )
    parse.add_argument("file", metavar="FILE", help="the plan document")
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
    targets = sub.add_parser(
        "targets",
        help="print every quantitative target of a plan document, mapped to the catalogue",
        description="Every quantitative target of the document (task or not) with indicator "
        "code, value, unit, year, base year, region, sector and the sentence it came from.",
    )
    targets.add_argument("file", metavar="FILE", help="the plan document")
    targets.add_argument("--format", choices=("json", "csv"), default="json", help="default: json")
    targets.add_argument("--target-year", type=int, metavar="YEAR")
    targets.set_defaults(func=run_targets)
    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# --------------------------------------------------------------------------------------------
# Reading documents


def _decode(raw: bytes) -> str:
    from dualcontrol.formats.plan_documents import decode_text

    return decode_text(raw)


def document_paragraphs(path: str | Path) -> list[str]:
    """The paragraphs of a plan file of any supported kind, for :func:`parse_plan`."""
    from dualcontrol.formats.plan_documents import PlanDocumentError, read_plan_paragraphs

    path = Path(path)
    try:
        return read_plan_paragraphs(path)  # .txt, .md, .html, .docx, text-layer .pdf
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except PlanDocumentError as exc:
        raise CommandError(str(exc)) from exc


def document_plan(path: str | Path, *, target_year: int | None = None) -> Plan:
    from dualcontrol.formats.plan_documents import load_plan_vocabulary

    try:
        return parse_plan(
            document_paragraphs(path), vocabulary=load_plan_vocabulary(), target_year=target_year
        )
    except PlanParseError as exc:
        raise CommandError(str(exc)) from exc


def document_targets(path: str | Path, *, target_year: int | None = None) -> list[Target]:
    """Every quantitative target of a plan file (task or not), mapped to the catalogue."""
    from dualcontrol.formats.plan_documents import load_plan_vocabulary

    vocabulary = load_plan_vocabulary()
    paragraphs = document_paragraphs(path)
    plan = parse_plan(paragraphs, vocabulary=vocabulary, target_year=target_year)
    return extract_targets(
        "\n".join(paragraphs), vocabulary=vocabulary, default_year=plan.target_year
    )


def department_registry() -> DepartmentRegistry:
    from dualcontrol.formats.plan_documents import load_plan_vocabulary

    return load_plan_vocabulary().departments


# --------------------------------------------------------------------------------------------
# Commands


def run_parse(args: argparse.Namespace) -> int:
    plan = document_plan(args.file, target_year=args.target_year)
    items = list(plan.walk()) if args.all else list(plan.tasks)
    if not items:
        raise CommandError(f"{args.file}: no numbered items found — is this a plan document?")
    if args.format == "json":
        registry = department_registry()
        rows = [item_as_dict(item, with_flag=args.all, registry=registry) for item in items]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(_as_text(plan, items))
    return 0


def run_targets(args: argparse.Namespace) -> int:
    targets = document_targets(args.file, target_year=args.target_year)
    rows = [target_record(t) for t in targets]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        buffer = io.StringIO()
        writer = exports.DictWriter(buffer, fieldnames=TARGET_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else row[k] for k in TARGET_FIELDS})
        print(buffer.getvalue(), end="")
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


def target_record(target: Target) -> dict[str, Any]:
    """One target of ``plans targets`` (a proposal for the platform's targets)."""
    return {
        "indicator": target.indicator,
        "value": _number(target.value),
        "value_max": _number(target.value_max),
        "unit": target.unit,
        "year": target.year,
        "base_year": target.base_year,
        "region": target.region,
        "sector": target.sector,
        "sentence": target.sentence or target.text,
    }


def departments_as_dicts(item: PlanItem, registry: DepartmentRegistry) -> list[dict[str, Any]]:
    """Each department of an item: role, name as written, canonical name, proposal if unknown."""
    out = []
    for role, names in (
        ("lead", item.lead_departments),
        ("participating", item.participating_departments),
    ):
        for name in names:
            match = registry.resolve(name)
            out.append(
                {
                    "role": role,
                    "name": name,
                    "canonical": match.canonical,
                    "known": match.known,
                    "proposal": match.suggestion,
                }
            )
    return out


def item_as_dict(
    item: PlanItem, *, with_flag: bool = False, registry: DepartmentRegistry | None = None
) -> dict[str, Any]:
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
    if registry is not None:
        row["departments"] = departments_as_dicts(item, registry)
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
