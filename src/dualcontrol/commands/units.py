"""``dualcontrol units grade|surcharge FILE.csv``: key energy-using units' product efficiency.

* ``units grade`` — rows ``unit,product,indicator,value[,correction columns]``: the grade of each
  value against the limit standard in force (``--on``, default today): ``1``/``2``/``3``/``over``
  (1级 先进值, 2级 准入值, 3级 限定值), the 标杆/基准 position, the distance to the next grade.
  Correction columns are the correction inputs the standards define (``clinker_ratio_pct``,
  ``pressure_pa`` + ``altitude_m``, ``wet_quench``); an empty cell = not given.
* ``units surcharge`` — rows ``unit,year,product,indicator,value[,correction columns]``: the
  electricity surcharge (元/kWh) for the price year and the rule (with its version) that applied;
  ``--region`` adds a province's punitive-price rules to the national ones.

Product and indicator by key or Chinese name (``efficiency_limits.csv``).  Input UTF-8 (BOM
allowed) or GB18030/GBK; any bad row rejects the whole file, every problem listed (row, column,
reason) on stderr, nothing on stdout.  Computed by :mod:`dualcontrol.core.efficiency`; pure (no
Django).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.commands.indicators import _decode

GRADE_COLUMNS: tuple[str, ...] = ("unit", "product", "indicator", "value")
SURCHARGE_COLUMNS: tuple[str, ...] = ("unit", "year", "product", "indicator", "value")
GRADE_FIELDS: tuple[str, ...] = (
    "unit",
    "product",
    "indicator",
    "value",
    "value_unit",
    "corrected_value",
    "standard",
    "standard_version",
    "grade",
    "grade1_limit",
    "grade2_limit",
    "grade3_limit",
    "benchmark_position",
    "distance_to_next_grade",
    "next_grade",
    "notes",
)
SURCHARGE_FIELDS: tuple[str, ...] = (
    "unit",
    "year",
    "product",
    "indicator",
    "value",
    "surcharge_yuan_per_kwh",
    "rule",
    "rule_version",
    "tier",
    "note",
)
PLACES = Decimal("0.000001")  # printed figures: 6 decimals at most (computed exactly)
MIN_YEAR, MAX_YEAR = 1990, 2100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "units",
        help="key energy-using units: product efficiency grades and electricity surcharges",
        description="Grade unit-product energy consumption against the limit standards and "
        "标杆/基准 levels, or compute the efficiency-linked electricity surcharges.",
    )
    sub = parser.add_subparsers(dest="units_command", metavar="SUBCOMMAND", required=True)
    grade = sub.add_parser(
        "grade",
        help="grade 1/2/3/over against the limit standard, 标杆/基准 position",
        description="Read unit,product,indicator,value[,correction columns] and print per row "
        "the standard, the grade (1/2/3/over), the 标杆/基准 position and the distance to the "
        "next grade. Input: UTF-8 (BOM allowed) or GB18030/GBK; any bad row rejects the file.",
    )
    grade.add_argument("file", help="CSV file (UTF-8 or GB18030/GBK)")
    grade.add_argument(
        "--on", type=_date, default=None, help="grade against the standards in force on this day "
    )
    grade.add_argument("--format", choices=("json", "csv"), default="json")
    grade.set_defaults(func=run_grade)
    surcharge = sub.add_parser(
        "surcharge",
        help="阶梯电价 / 惩罚性电价 surcharge per row and the rule that applied",
        description="Read unit,year,product,indicator,value (year = the price year; value = the "
        "consumption the rule assesses, e.g. the previous year's for the aluminium tiered price) "
        "and print surcharge_yuan_per_kwh with the rule and its version.",
    )
    surcharge.add_argument("file", help="CSV file (UTF-8 or GB18030/GBK)")
    surcharge.add_argument(
        "--region",
        default="national",
        help="GB/T 2260 province code whose punitive-price rules apply with the national ones "
        "(default: national rules only)",
    )
    surcharge.add_argument("--format", choices=("json", "csv"), default="json")
    surcharge.set_defaults(func=run_surcharge)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


class _Problems:
    """Every problem of a file: (row, column, reason), listed together on refusal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[tuple[int, str, str]] = []

    def add(self, row: int, column: str, reason: str) -> None:
        self.items.append((row, column, reason))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        listed = "\n".join(
            f"  row {row}" + (f", column {col}" if col else "") + f": {reason}"
            for row, col, reason in sorted(self.items, key=lambda p: p[0])
        )
        raise CommandError(f"{self.path.name} rejected, nothing computed:\n{listed}")


def _rows(
    path: Path, required: Sequence[str], allowed_extra: set[str], problems: _Problems
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = list(csv.reader(_decode(path, raw).splitlines()))
    if not lines or not any(c.strip() for c in lines[0]):
        raise CommandError(f"{path.name}: empty file")
    header = [h.strip() for h in lines[0]]
    missing = [c for c in required if c not in header]
    if missing:
        problems.add(1, ", ".join(missing), "missing column(s)")
    for h in sorted({h for h in header if h and header.count(h) > 1}):
        problems.add(1, h, "column given twice")
    for h in header:
        if h and h not in required and h not in allowed_extra:
            known = ", ".join(sorted(allowed_extra)) or "none"
            problems.add(1, h, f"unknown column (correction columns: {known})")
    out = []
    for number, row in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.add(number, "", f"{len(row)} cells, the header has {len(header)}")
            continue
        out.append((number, {h: c.strip() for h, c in zip(header, row, strict=False) if h}))
    if not out and not problems.items:
        raise CommandError(f"{path.name}: no data rows")
    return header, out


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _corrections(
    cells: dict[str, str], names: set[str], number: int, problems: _Problems
) -> dict[str, Decimal] | None:
    out: dict[str, Decimal] = {}
    ok = True
    for name in sorted(names):
        text = cells.get(name, "")
        if not text:
            continue
        value = _number(text)
        if value is None:
            problems.add(number, name, f"{text!r} is not a number")
            ok = False
        else:
            out[name] = value
    return out if ok else None


def _value(cells: dict[str, str], number: int, problems: _Problems) -> Decimal | None:
    text = cells.get("value", "")
    value = _number(text) if text else None
    if value is None:
        problems.add(number, "value", f"{text!r} is not a number" if text else "empty")
    return value


def _text(cells: dict[str, str], column: str, number: int, problems: _Problems) -> str | None:
    text = cells.get(column, "")
    if not text:
        problems.add(number, column, "empty")
        return None
    return text


def _correction_names(lines: Sequence[Any]) -> set[str]:
    return {name for ln in lines for c in ln.corrections for name in c.inputs()}


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------


def run_grade(args: argparse.Namespace) -> int:
    from dualcontrol.core.efficiency import GradingError, find_benchmark, find_limit_line, grade
    from dualcontrol.reference.efficiency import benchmark_levels, limit_lines

    on = args.on or dt.date.today()
    lines = limit_lines()
    levels = benchmark_levels()
    names = _correction_names(lines)
    path = Path(args.file)
    problems = _Problems(path)
    _header, rows = _rows(path, GRADE_COLUMNS, names, problems)
    records: list[dict[str, Any]] = []
    versions: set[str] = set()
    for number, cells in rows:
        unit = _text(cells, "unit", number, problems)
        product = _text(cells, "product", number, problems)
        indicator = _text(cells, "indicator", number, problems)
        value = _value(cells, number, problems)
        corrections = _corrections(cells, names, number, problems)
        if None in (unit, product, indicator, value, corrections):
            continue
        assert product is not None and indicator is not None and value is not None
        try:
            line = find_limit_line(lines, product, indicator, on)
        except GradingError as exc:
            problems.add(number, "product/indicator", str(exc))
            continue
        try:
            result = grade(
                value,
                line,
                benchmark=find_benchmark(levels, line.product, line.indicator, on),
                corrections=corrections,
            )
        except GradingError as exc:
            problems.add(number, _column_of(exc, names), str(exc))
            continue
        versions.add(result.standard_version)
        if result.benchmark_version:
            versions.add(result.benchmark_version)
        records.append(
            {
                "unit": unit,
                "product": line.product,
                "indicator": line.indicator,
                "value": _out(result.value),
                "value_unit": line.unit,
                "corrected_value": _out(result.corrected_value),
                "standard": result.standard_code,
                "standard_version": result.standard_version,
                "grade": result.grade,
                "grade1_limit": _out(result.limits[0]),
                "grade2_limit": _out(result.limits[1]),
                "grade3_limit": _out(result.limits[2]),
                "benchmark_position": result.benchmark_position,
                "distance_to_next_grade": _out(result.distance_to_next_grade),
                "next_grade": result.next_grade,
                "notes": list(result.notes),
            }
        )
    problems.raise_if_any()
    parameters = {"on": on.isoformat(), "reference_versions": sorted(versions)}
    _write(args.format, GRADE_FIELDS, records, parameters)
    return 0


def run_surcharge(args: argparse.Namespace) -> int:
    from dualcontrol.core.efficiency import GradingError, SurchargeError, resolve_keys, surcharge
    from dualcontrol.reference.efficiency import limit_lines, surcharge_rules

    lines = limit_lines()
    rules = surcharge_rules(args.region)
    if args.region != "national" and not any(r.region == args.region for r in rules):
        regions = sorted({r.region for r in surcharge_rules()} - {"national"})
        raise CommandError(
            f"--region {args.region}: no rules for this region (regions: {', '.join(regions)})"
        )
    names = _correction_names(lines)
    path = Path(args.file)
    problems = _Problems(path)
    _header, rows = _rows(path, SURCHARGE_COLUMNS, names, problems)
    records: list[dict[str, Any]] = []
    versions: set[str] = set()
    for number, cells in rows:
        unit = _text(cells, "unit", number, problems)
        product = _text(cells, "product", number, problems)
        indicator = _text(cells, "indicator", number, problems)
        value = _value(cells, number, problems)
        year = _year(cells, number, problems)
        corrections = _corrections(cells, names, number, problems)
        if None in (unit, product, indicator, value, year, corrections):
            continue
        assert product and indicator and value is not None and year is not None
        try:
            product_key, indicator_key = resolve_keys(lines, product, indicator)
            result = surcharge(
                rules,
                year=year,
                product=product_key,
                indicator=indicator_key,
                value=value,
                limit_lines=lines,
                corrections=corrections,
            )
        except (GradingError, SurchargeError) as exc:
            problems.add(number, "product/indicator", str(exc))
            continue
        versions.add(result.rule_version)
        records.append(
            {
                "unit": unit,
                "year": year,
                "product": product_key,
                "indicator": indicator_key,
                "value": _out(value),
                "surcharge_yuan_per_kwh": _out(result.surcharge_yuan_per_kwh),
                "rule": result.rule_id,
                "rule_version": result.rule_version,
                "tier": result.tier,
                "note": result.note,
            }
        )
    problems.raise_if_any()
    parameters = {"region": args.region, "reference_versions": sorted(versions)}
    _write(args.format, SURCHARGE_FIELDS, records, parameters)
    return 0


def _year(cells: dict[str, str], number: int, problems: _Problems) -> int | None:
    text = cells.get("year", "")
    if not (text.isdigit() and MIN_YEAR <= int(text) <= MAX_YEAR):
        problems.add(number, "year", f"{text!r} is not a year ({MIN_YEAR}–{MAX_YEAR})")
        return None
    return int(text)


def _column_of(exc: Exception, names: set[str]) -> str:
    """The correction column a grading error is about (the first one it names), else value."""
    text = str(exc)
    hits = sorted((text.find(n), n) for n in names if n in text)
    return hits[0][1] if hits else "value"


def _out(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    rounded = (
        value.quantize(PLACES, rounding=ROUND_HALF_UP) if value != value.to_integral() else value
    )
    return rounded.normalize() if rounded != 0 else Decimal(0)


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return "; ".join(value)
    return value


def _write(
    fmt: str, fields: Sequence[str], records: list[dict[str, Any]], parameters: dict[str, Any]
) -> None:
    out = sys.stdout
    if fmt == "csv":
        writer = exports.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: _csv_cell(v) for k, v in rec.items()})
        return
    convert: Callable[[Any], Any] = _json_number
    payload = {
        "parameters": parameters,
        "rows": [{k: convert(v) for k, v in rec.items()} for rec in records],
    }
    json.dump(payload, out, ensure_ascii=False, indent=2)
    out.write("\n")
