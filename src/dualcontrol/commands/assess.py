"""``dualcontrol assess FILE.csv --sheet gf-2007-36``: score a batch of regions or enterprises.

The CSV has one row per region (or enterprise).  Its columns are named by the sheet
(``dualcontrol assess --list-sheets`` prints them); for ``gf-2007-36``::

    region,target_reduction_pct,achieved_reduction_pct,measures_score

and for the carbon-intensity sheets ``co2-2014`` / ``co2-13th-fyp``::

    region,annual_target_pct,annual_achieved_pct,cumulative_target_pct,cumulative_achieved_pct,measures_score

Columns ending in ``_pct`` hold percentages (3.5 = 3.5 %) and are divided by 100 for the core;
``_tce`` columns hold tonnes of standard coal, ``_tco2`` tonnes of CO2.  A target cell may hold a
range ("4.0-4.5", "4.0–4.5", "4.0~4.5", "4.0至4.5"); the sheet's ``range_bound`` says which bound
counts (a sheet without one refuses the row).  A qualitative part takes either its total column
(``measures_score``) or one column per item where the sheet lists items.  The file is UTF-8 (a
BOM is accepted) or GB18030/GBK (what Excel saves as "CSV" on a Chinese Windows).  Every row is
checked before anything is printed: on any error nothing is printed and the command exits with
status 2.  Pure command: no database.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.core.assessment import (
    AssessmentError,
    AssessmentInput,
    AssessmentResult,
    Consequence,
    ScoringSheet,
    TargetFigures,
    assess,
    consequences_for,
)
from dualcontrol.reference import ReferenceDataError
from dualcontrol.reference.scoring_sheets import scoring_sheet, scoring_sheets

DEFAULT_SHEET = "gf-2007-36"
MAX_ERRORS_SHOWN = 20
ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (BOM or not), then GB18030 ⊃ GBK ⊃ GB2312
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
RANGE = re.compile(rf"^\s*({_NUMBER})\s*(?:-|–|—|~|～|至)\s*({_NUMBER})\s*$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "assess",
        help="score regions or enterprises with a scoring sheet (评价考核计分)",
        description=(
            "Score every row of FILE.csv with a scoring sheet and print, per row, each part's "
            "score, the total, the grade (考核等级) and whether the veto applied."
        ),
    )
    parser.add_argument(
        "file", nargs="?", help="CSV file, UTF-8 (a BOM is accepted) or GB18030/GBK"
    )
    parser.add_argument(
        "--sheet", default=DEFAULT_SHEET, help=f"sheet name (default {DEFAULT_SHEET})"
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")
    parser.add_argument(
        "--issue-date",
        type=_date,
        help="date the results are announced (YYYY-MM-DD): adds the consequences and due dates",
    )
    parser.add_argument(
        "--list-sheets", action="store_true", help="list the sheets and their input columns"
    )
    parser.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    if args.list_sheets:
        _list_sheets()
        return 0
    if not args.file:
        raise CommandError("give the CSV file to assess (or --list-sheets)")
    try:
        sheet = scoring_sheet(args.sheet)
    except ReferenceDataError as exc:
        raise CommandError(str(exc)) from exc
    rows = _read_csv(Path(args.file))
    inputs = _inputs(sheet, rows)
    results = []
    errors = []
    for line, data in inputs:
        try:
            results.append(_score(sheet, data, args.issue_date))
        except AssessmentError as exc:
            errors.append(f"line {line}: {exc}")
    if errors:
        raise CommandError(_join_errors(errors))
    if args.fmt == "json":
        _print_json(sheet, results)
    else:
        _print_csv(sheet, results, with_consequences=args.issue_date is not None)
    return 0


def _score(
    sheet: ScoringSheet, data: AssessmentInput, issued_on: dt.date | None
) -> tuple[AssessmentResult, tuple[Consequence, ...] | None]:
    result = assess(sheet, data)
    consequences = None if issued_on is None else consequences_for(sheet, result, issued_on)
    return result, consequences


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


def decode_csv(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GB18030 (which covers GBK and
    GB2312, the encodings of Excel's "CSV" on Chinese Windows).  Raises UnicodeDecodeError."""
    for encoding in ENCODINGS[:-1]:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode(ENCODINGS[-1])


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = decode_csv(path.read_bytes())
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(
            f"{path}: neither UTF-8 nor GB18030/GBK text (save the CSV as UTF-8)"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise CommandError(f"{path}: empty file")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    rows = []
    for row in reader:
        if None in row:
            raise CommandError(f"{path} line {reader.line_num}: more cells than columns")
        clean = {k: (v or "").strip() for k, v in row.items()}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    if not rows:
        raise CommandError(f"{path}: no data rows")
    return rows


def input_columns(sheet: ScoringSheet) -> tuple[list[str], list[str]]:
    """(required, optional) input columns of a sheet."""
    required = [sheet.subject_column or sheet.subject]
    optional: list[str] = []
    for part in sheet.parts:
        for t in part.targets:
            required += [t.columns["target"], t.columns["actual"]]
            if "incentive_target" in t.columns:
                optional.append(t.columns["incentive_target"])
            optional += [d.column for d in t.deductions if d.column]
        if part.qualitative:
            optional += [c for c in (part.column, *(m.column for m in part.measures)) if c]
    return required, optional


def _inputs(
    sheet: ScoringSheet, rows: list[tuple[int, dict[str, str]]]
) -> list[tuple[int, AssessmentInput]]:
    for t in sheet.target_items:
        if not {"target", "actual"} <= set(t.columns):
            raise CommandError(f"sheet {sheet.name}: item {t.key} names no input columns")
    header = set(rows[0][1])
    required, _ = input_columns(sheet)
    missing = [c for c in required if c not in header]
    for part in sheet.parts:
        if part.qualitative:
            candidates = [c for c in (part.column, *(m.column for m in part.measures)) if c]
            if not header & set(candidates):
                missing.append(" or ".join(candidates) or f"(no column for part {part.key})")
    if missing:
        raise CommandError(f"missing column(s): {', '.join(missing)}")
    subject_col = sheet.subject_column or sheet.subject
    out = []
    errors = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        try:
            data = _row_input(sheet, subject_col, row)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if data.subject in first_line:
            errors.append(f"line {line}: {data.subject} already on line {first_line[data.subject]}")
        first_line.setdefault(data.subject, line)
        out.append((line, data))
    if errors:
        raise CommandError(_join_errors(errors))
    return out


def _row_input(sheet: ScoringSheet, subject_col: str, row: dict[str, str]) -> AssessmentInput:
    subject = row.get(subject_col, "")
    if not subject:
        raise ValueError(f"{subject_col} is empty")
    targets = {}
    for t in sheet.target_items:
        incentive_col = t.columns.get("incentive_target", "")
        deductions = {}
        for d in t.deductions:
            if d.column and row.get(d.column):
                deductions[d.key] = _number(row, d.column)
        target, target_upper = _target(row, t.columns["target"])
        targets[t.key] = TargetFigures(
            target=target,
            actual=_number(row, t.columns["actual"]),
            incentive_target=_number(row, incentive_col) if row.get(incentive_col) else None,
            deductions=deductions,
            target_upper=target_upper,
        )
    item_scores = {}
    part_scores = {}
    for part in sheet.parts:
        if not part.qualitative:
            continue
        for m in part.measures:
            if m.column and row.get(m.column):
                item_scores[m.key] = _number(row, m.column)
        if part.column and row.get(part.column):
            part_scores[part.key] = _number(row, part.column)
    return AssessmentInput(
        subject=subject, targets=targets, item_scores=item_scores, part_scores=part_scores
    )


def _target(row: dict[str, str], column: str) -> tuple[Decimal, Decimal | None]:
    """A target cell: one number, or a range "low-high" → (low, high)."""
    match = RANGE.match(row.get(column, ""))
    if match is None:
        return _number(row, column), None
    low, high = (_number({column: g}, column) for g in match.groups())
    if high < low:
        raise ValueError(f"{column}: the range {row[column]!r} runs backwards")
    return low, high


def _number(row: dict[str, str], column: str) -> Decimal:
    text = row.get(column, "")
    if not text:
        raise ValueError(f"{column} is empty")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{column}: {text!r} is not a finite number")
    return value.scaleb(-2) if column.endswith("_pct") else value


def _join_errors(errors: Sequence[str]) -> str:
    shown = list(errors[:MAX_ERRORS_SHOWN])
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(f"… and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "\n  ".join(["nothing was scored:", *shown])


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _text(value)
    return str(value)


def _summary(sheet: ScoringSheet, result: AssessmentResult) -> dict[str, Any]:
    out: dict[str, Any] = {sheet.subject_column or sheet.subject: result.subject}
    for p in result.parts:
        out[f"{p.key}_score"] = p.score
    out["total_score"] = result.total_score
    out["grade"] = result.grade.name_zh
    out["veto"] = result.vetoed
    return out


def _print_json(
    sheet: ScoringSheet,
    results: list[tuple[AssessmentResult, tuple[Consequence, ...] | None]],
) -> None:
    records = []
    for result, consequences in results:
        record = {
            k: _num(v) if isinstance(v, Decimal) else v for k, v in _summary(sheet, result).items()
        }
        record.update(
            grade_key=result.grade.key,
            score_grade=result.score_grade.name_zh,
            veto_items=list(result.veto_items),
            sheet=result.sheet_name,
            sheet_version=result.sheet_version,
            items=[
                {
                    "part": i.part,
                    "key": i.key,
                    "title_zh": i.title_zh,
                    "status": i.status.value,
                    "points": _num(i.points),
                    "bonus_points": _num(i.bonus_points),
                    "max_points": _num(i.max_points),
                    "figures": {k: _num(v) for k, v in i.figures.items()},
                    "basis": i.basis,
                    "compare_places": i.compare_places,
                    "compare_rule": i.compare_rule,
                    "range_bound": None if i.range_bound is None else i.range_bound.value,
                }
                for i in result.items
            ],
        )
        if consequences is not None:
            record["consequences"] = [
                {
                    "key": c.key,
                    "title_zh": c.title_zh,
                    "issued_on": c.issued_on.isoformat(),
                    "due_on": c.due_on.isoformat() if c.due_on else None,
                    "trigger": c.trigger,
                }
                for c in consequences
            ]
        records.append(record)
    json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _print_csv(
    sheet: ScoringSheet,
    results: list[tuple[AssessmentResult, tuple[Consequence, ...] | None]],
    *,
    with_consequences: bool,
) -> None:
    writer = exports.csv_writer(sys.stdout, lineterminator="\n")
    header_written = False
    for result, consequences in results:
        summary = _summary(sheet, result)
        summary["sheet_version"] = result.sheet_version
        if with_consequences:
            summary["consequences"] = "; ".join(
                f"{c.key}@{c.due_on.isoformat()}" if c.due_on else c.key for c in consequences or ()
            )
        if not header_written:
            writer.writerow(summary)
            header_written = True
        writer.writerow([_cell(v) for v in summary.values()])


def _list_sheets() -> None:
    for name, sheet in sorted(scoring_sheets().items()):
        required, optional = input_columns(sheet)
        print(f"{name}\t{sheet.title_zh}\t{sheet.version}")
        print(f"  required: {','.join(required)}")
        if optional:
            print(f"  optional: {','.join(optional)}")
