"""``dualcontrol pollutants FILE.csv``: pollutant emissions against a base year, a reduction target
or a cap.

Rows ``region,year,pollutant,emissions_t`` (t); the pollutant by its platform code (cod, nh3n,
so2, nox, vocs), HJ 212 code (w01018 …; a HJ/T 212-2005 code such as 011 is mapped to its 2017
code) or Chinese name (化学需氧量 …) — ``pollutants.csv``.  Printed per row: the change against
the previous year, the cumulative change against ``--base-year``, and either the progress toward
``--target-pct`` (achieved reduction ÷ target reduction; ``--progress log`` for
ln(1 − achieved)/ln(1 − target)) or the share of ``--cap-t`` used (emissions ÷ cap).  The input is
UTF-8 (with or without a BOM) or GB18030/GBK; any bad row rejects the whole file, every problem
listed.  Computed by :mod:`dualcontrol.core.pollutants`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.commands.indicators import _cell, _decode, _round, _width

INPUT_COLUMNS: tuple[str, ...] = ("region", "year", "pollutant", "emissions_t")
BASE_FIELDS: tuple[str, ...] = (
    "region",
    "year",
    "pollutant",
    "emissions_t",
    "change_pct",
    "cumulative_change_pct",
)
TEXT_FIELDS = ("region", "pollutant")
EMISSION_PLACES = 4
TOO_MANY = "\x00cells"  # marks a row with more cells than the header (not a column name)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pollutants",
        help="pollutant emissions: change, cumulative change vs a base year, target progress or "
        "cap used",
        description="Read region,year,pollutant,emissions_t (tonnes; the pollutant by its code "
        "cod/nh3n/so2/nox/vocs, HJ 212 code or Chinese name) and print per row the change "
        "against the previous year, the cumulative change against the base year and the "
        "progress toward a reduction target (--target-pct) or the share of a cap used "
        "(--cap-t). Input: UTF-8 (BOM allowed) or GB18030/GBK; any bad row rejects the file.",
    )
    parser.add_argument("file", help="CSV file (UTF-8 or GB18030/GBK)")
    parser.add_argument(
        "--base-year", type=int, required=True, help="base year of the cumulative change"
    )
    goal = parser.add_mutually_exclusive_group()
    goal.add_argument(
        "--target-pct",
        type=float,
        help="reduction target from the base year in %% (e.g. 8 for “比基期下降8%%”)",
    )
    goal.add_argument("--cap-t", type=float, help="cap on annual emissions in tonnes")
    parser.add_argument(
        "--progress",
        choices=("linear", "log"),
        default="linear",
        help="progress definition: linear = achieved/target (default), "
        "log = ln(1−achieved)/ln(1−target)",
    )
    parser.add_argument("--format", choices=("json", "csv", "table"), default="json")
    parser.set_defaults(func=run)


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; structural problems reject the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    lines = list(csv.reader(_decode(path, raw).splitlines()))
    if not lines or not any(c.strip() for c in lines[0]):
        raise CommandError(f"{path.name}: empty file")
    header = [h.strip() for h in lines[0]]
    missing = [c for c in INPUT_COLUMNS if c not in header]
    if missing:
        raise CommandError(f"{path.name}: missing column(s): {', '.join(missing)}")
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise CommandError(f"{path.name}: column(s) given twice: {', '.join(dup)}")
    out = []
    for number, row in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            out.append((number, {TOO_MANY: f"{len(row)} cells, the header has {len(header)}"}))
            continue
        out.append((number, {h: c.strip() for h, c in zip(header, row, strict=False)}))
    return out


def _check_goal(args: argparse.Namespace) -> None:
    if args.target_pct is not None and not 0 < args.target_pct < 100:
        raise CommandError("--target-pct must be between 0 and 100 (a reduction in %)")
    if args.cap_t is not None and not args.cap_t > 0:
        raise CommandError("--cap-t must be a positive number of tonnes")


def run(args: argparse.Namespace) -> int:
    from dualcontrol.core.pollutants import (
        PollutantDataError,
        PollutantRowsError,
        pollutant_aliases,
        pollutant_changes,
        read_emission_rows,
    )
    from dualcontrol.core.progress import ProgressDefinition
    from dualcontrol.reference.accounting import regional_rules
    from dualcontrol.reference.hj212 import hj212_tables
    from dualcontrol.reference.pollutants import pollutants

    _check_goal(args)
    path = Path(args.file)
    rows = _rows(path)
    table = pollutants()
    aliases = pollutant_aliases(table, legacy_codes=hj212_tables().legacy_codes)
    problems = [(n, f"row {n}: {cells[TOO_MANY]}") for n, cells in rows if TOO_MANY in cells]
    frame = None
    try:
        frame = read_emission_rows(
            [r for r in rows if TOO_MANY not in r[1]], aliases, base_year=args.base_year
        )
    except PollutantRowsError as exc:
        problems += exc.lines
    if problems or frame is None:
        listed = "\n".join(f"  {text}" for _n, text in sorted(problems))
        raise CommandError(f"{path.name} rejected, nothing computed:\n{listed}")
    present = sorted(set(frame["pollutant"]))
    definition = ProgressDefinition(args.progress)
    try:
        result = pollutant_changes(
            frame,
            base_year=args.base_year,
            target_frac=(
                {p: args.target_pct / 100 for p in present} if args.target_pct is not None else None
            ),
            progress_definition=definition,
            cap_t={p: args.cap_t for p in present} if args.cap_t is not None else None,
        )
    except PollutantDataError as exc:
        raise CommandError(f"{path.name}: {exc}") from exc

    pct = regional_rules().rounding.get("pct", 2)
    goal_field = "cap_used_pct" if args.cap_t is not None else "progress_pct"
    fields = (*BASE_FIELDS, goal_field)
    records = []
    for row in result.frame.sort_values("row").to_dict("records"):
        reduction = row["reduction_frac"]
        records.append(
            {
                "region": row["region"],
                "year": int(row["year"]),
                "pollutant": row["pollutant"],
                "emissions_t": _round(row["emission_t"], EMISSION_PLACES),
                "change_pct": _round(row["change_frac"] * 100, pct),
                "cumulative_change_pct": _round(-reduction * 100, pct),
                goal_field: _round(
                    row["cap_used_frac" if args.cap_t is not None else "progress_frac"] * 100, pct
                ),
            }
        )
    out = sys.stdout
    if args.format == "csv":
        writer = exports.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: "" if v is None else v for k, v in rec.items()})
        return 0
    if args.format == "table":
        places = {f: pct for f in fields if f.endswith("_pct")} | {"emissions_t": 2}
        out.write(_table(records, fields, places))
        return 0
    versions = sorted({p.version for p in table.values() if p.version})
    payload = {
        "parameters": {
            "base_year": args.base_year,
            "target_pct": args.target_pct,
            "cap_t": args.cap_t,
            "progress_definition": definition.value if args.target_pct is not None else None,
            "pollutants": {code: table[code].name_zh for code in present},
            "reference_versions": versions,
        },
        "rows": records,
        "provenance": {
            k: p.as_dict()
            for k, p in result.provenance.items()
            if (k != "progress_frac" or args.target_pct is not None)
            and (k != "cap_used_frac" or args.cap_t is not None)
        },
    }
    json.dump(payload, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0


def _table(
    records: list[dict[str, Any]], fields: tuple[str, ...], places: Mapping[str, int]
) -> str:
    """Aligned plain-text columns (numbers right-aligned; CJK characters count double; — = none)."""
    cells = [list(fields)] + [[_cell(rec[f], places.get(f)) for f in fields] for rec in records]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(fields))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            fill = " " * (widths[i] - _width(cell))
            parts.append(cell + fill if fields[i] in TEXT_FIELDS else fill + cell)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"
