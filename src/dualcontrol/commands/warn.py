"""``dualcontrol warn``: rate regions with a barometer rule set (晴雨表预警).

Pure command (no Django): reads a CSV, rates each row with :mod:`dualcontrol.core.warning` under a
rule set from ``reference/data/warning_*.yaml`` and prints one record per row.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.core.warning import (
    INDICATORS,
    Observation,
    WarningInputError,
    WarningResult,
    rate,
)
from dualcontrol.reference import ReferenceDataError
from dualcontrol.reference.warning_rules import DEFAULT_RULE_SET, available_rule_sets, load_rule_set

REQUIRED_COLUMNS = ("region", "indicator", "required", "achieved")

EPILOG = """\
Input CSV (UTF-8, header row; extra columns are ignored):
  region      region name or code
  indicator   intensity_reduction | energy_total | energy_increment
  required    intensity_reduction: the target rate in PERCENT that the rule set compares with
              (ndrc-2021: the pace target 序时进度; local-l1 and local-l2: the annual target);
              energy_total / energy_increment: the allowed amount in tce
  achieved    the achieved reduction in percent (negative = intensity rose), or the tce used
              (energy_increment may be negative: consumption fell)
  stage       half_year | three_quarters (only for rule sets that rate by stage, e.g. local-l2)

Output: one record per row with region, indicator, level (as the rule set numbers it; empty for
levels the rule set does not number, e.g. local-l2 "no warning"), colour, rule_set, plus
rule_set_version, level_id, level_name_zh, warning, stage, unit, required, achieved, gap
(positive = target not met; pp or tce), gap_pct_of_required, gap_pp, completion_pct, measure,
measure_value, band and consequences.  Rule sets: ndrc-2021 (default), local-l1, local-l2.
"""

OUTPUT_FIELDS = (
    "region",
    "indicator",
    "level",
    "colour",
    "rule_set",
    "rule_set_version",
    "level_id",
    "level_name_zh",
    "warning",
    "severity",
    "stage",
    "unit",
    "required",
    "achieved",
    "gap",
    "gap_pct_of_required",
    "gap_pp",
    "completion_pct",
    "met",
    "measure",
    "measure_value",
    "band",
    "consequences",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "warn",
        help="rate regions with a barometer rule set (晴雨表预警)",
        description="Rate each row of FILE.csv with a warning rule set (晴雨表预警等级).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE.csv", help="rows: region,indicator,required,achieved")
    parser.add_argument(
        "--rules",
        default=DEFAULT_RULE_SET,
        help=f"rule set name (default {DEFAULT_RULE_SET}; shipped: ndrc-2021, local-l1, local-l2)",
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.set_defaults(func=run)


def _decimal(value: str, column: str, where: str) -> Decimal:
    try:
        d = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise CommandError(f"{where}: {column} {value!r} is not a number") from None
    if not d.is_finite():
        raise CommandError(f"{where}: {column} {value!r} is not a finite number")
    return d


def read_observations(text: str, *, stage_required: bool) -> list[tuple[int, Observation]]:
    """(line number, observation) per data row. A bad file raises CommandError listing every
    problem of every row, one per line (issue 14: ``warn`` stopped at the first)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    needed = list(REQUIRED_COLUMNS) + (["stage"] if stage_required else [])
    missing = [c for c in needed if c not in header]
    if missing:
        raise CommandError(f"missing column(s): {', '.join(missing)} (header: {', '.join(header)})")
    out = []
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        region = (row.get("region") or "").strip()
        where = f"line {line}" + (f" (region {region})" if region else "")
        row_problems = []
        if None in row:
            row_problems.append(f"line {line}: more fields than the header has")
        if not region:
            row_problems.append(f"{where}: region is empty")
        indicator = (row.get("indicator") or "").strip()
        ind = INDICATORS.get(indicator)
        if ind is None:
            row_problems.append(
                f"{where}: unknown indicator {indicator!r}; expected {', '.join(INDICATORS)}"
            )
        values = {}
        for column in ("required", "achieved"):
            try:
                values[column] = _decimal(row.get(column) or "", column, where)
            except CommandError as exc:
                row_problems.append(str(exc))
        if ind is not None and len(values) == 2:
            required, achieved = values["required"], values["achieved"]
            if (
                ind.unit != "frac"
                and indicator == "energy_total"
                and (required < 0 or achieved < 0)
            ):
                row_problems.append(f"{where}: energy totals must not be negative")
        if row_problems:
            problems += row_problems
            continue
        assert ind is not None
        required, achieved = values["required"], values["achieved"]
        if ind.unit == "frac":  # percent at the edge, fraction in the core
            req, ach = Fraction(required) / 100, Fraction(achieved) / 100
        else:
            req, ach = Fraction(required), Fraction(achieved)
        stage = (row.get("stage") or "").strip() or None
        out.append((line, Observation(region, indicator, req, ach, stage)))
    if problems:
        raise CommandError("\n".join(problems))
    if not out:
        raise CommandError("the file has no data rows")
    return out


def _dec(x: Fraction | None, places: int = 6) -> Decimal | None:
    if x is None:
        return None
    q = Decimal(1).scaleb(-places)
    d = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(q)
    return d.normalize() if d != 0 else Decimal(0)


def record(result: WarningResult) -> dict[str, Any]:
    """The printed record of one result (percent and pp at the edge)."""
    fig = result.figures
    pct = fig.unit == "frac"
    scale = 100 if pct else 1
    return {
        "region": result.region,
        "indicator": result.indicator,
        "level": result.level.number,
        "colour": result.level.colour,
        "rule_set": result.rule_set_name,
        "rule_set_version": result.rule_set_version,
        "level_id": result.level.id,
        "level_name_zh": result.level.name_zh,
        "warning": result.level.warning,
        "severity": result.level.severity,
        "stage": result.stage,
        "unit": "pct" if pct else fig.unit,
        "required": _dec(fig.required * scale),
        "achieved": _dec(fig.achieved * scale),
        "gap": _dec(fig.gap * scale),
        "gap_pct_of_required": _dec(
            None if fig.gap_frac_of_required is None else fig.gap_frac_of_required * 100
        ),
        "gap_pp": _dec(fig.gap_pp),
        "completion_pct": _dec(None if fig.completion_frac is None else fig.completion_frac * 100),
        "met": fig.met,
        "measure": result.measure.value,
        "measure_value": _dec(result.measure_value),
        "band": result.band_text,
        "consequences": [c.text_zh for c in result.consequences],
    }


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    return str(v)


def run(args: argparse.Namespace) -> int:
    try:
        names = available_rule_sets()
        if args.rules not in names:
            raise CommandError(
                f"unknown rule set {args.rules!r}; available: {', '.join(sorted(names))}"
            )
        rules = load_rule_set(args.rules)
    except ReferenceDataError as exc:
        raise CommandError(str(exc)) from exc
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise CommandError(f"{path} is neither UTF-8 nor GB18030 text") from None
    observations = read_observations(text, stage_required=bool(rules.stages))
    records = []
    problems = []
    for line, obs in observations:
        try:
            records.append(record(rate(obs, rules)))
        except WarningInputError as exc:
            problems.append(f"line {line} (region {obs.region}): {exc}")
    if problems:
        raise CommandError("\n".join(problems))
    write(records, args.format, sys.stdout)
    return 0


def write(records: Sequence[dict[str, Any]], fmt: str, out: Any) -> None:
    if fmt == "json":
        data = [{k: _json_value(v) for k, v in r.items()} for r in records]
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    writer = exports.csv_writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_FIELDS)
    for r in records:
        writer.writerow([_csv_value(r[f]) for f in OUTPUT_FIELDS])
