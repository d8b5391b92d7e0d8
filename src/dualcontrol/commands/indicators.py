"""``dualcontrol indicators FILE.csv``: regional intensity, changes and progress toward a target."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError

INPUT_COLUMNS: tuple[str, ...] = (
    "region",
    "year",
    "energy_tce",
    "gdp_10k_yuan",
    "gdp_real_growth_pct",
)
OUTPUT_FIELDS: tuple[str, ...] = (
    "region",
    "year",
    "intensity_tce_per_10k_yuan",
    "intensity_change_pct",
    "energy_growth_pct",
    "cumulative_intensity_change_pct",
    "progress_pct",
    "progress_definition",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "indicators",
        help="regional energy intensity at comparable prices, changes and target progress",
        description="Read region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct (real GDP "
        "growth vs the previous year, %) and print per region and year the intensity at "
        "base-year prices, its year-on-year and cumulative change, energy growth and the "
        "progress toward a reduction target. Optional columns: co2_t, renewable_new_tce, "
        "feedstock_tce, separately_accounted_tce (14th-FYP deductions, accounting_rules.yaml).",
    )
    parser.add_argument("file", help="CSV file (UTF-8)")
    parser.add_argument(
        "--base-year",
        type=int,
        help="comparable-price base year (default: --target-start, else the first year)",
    )
    parser.add_argument("--target-pct", type=float, help="reduction target, e.g. 13.5")
    parser.add_argument("--target-start", type=int, help="target base year, e.g. 2020")
    parser.add_argument("--target-end", type=int, help="target final year, e.g. 2025")
    parser.add_argument(
        "--progress",
        choices=("log", "linear"),
        default="log",
        help="progress definition: log = ln(1−achieved)/ln(1−target), linear = achieved/target",
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.set_defaults(func=run)


def _round(value: Any, places: int) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None
    # two-stage: 12 significant digits first, so 0.12499999999999734 (float of 0.125) reads 0.125
    rounded = Decimal(f"{number:.12g}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(rounded) + 0.0  # no "-0.0"


def _read(path: Path) -> Any:
    import pandas as pd

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path.name}: not UTF-8 text") from exc
    reader = csv.reader(text.splitlines())
    rows = [r for r in reader]
    if not rows:
        raise CommandError(f"{path.name}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in INPUT_COLUMNS if c not in header]
    if missing:
        raise CommandError(f"{path.name}: missing column(s): {', '.join(missing)}")
    records = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise CommandError(
                f"{path.name} row {number}: {len(row)} cells, the header has {len(header)}"
            )
        records[number] = {h: cell.strip() for h, cell in zip(header, row, strict=True)}
    if not records:
        raise CommandError(f"{path.name}: no data rows")
    frame = pd.DataFrame.from_dict(records, orient="index")
    growth_text = frame["gdp_real_growth_pct"]
    growth = pd.to_numeric(growth_text.replace("", None), errors="coerce")
    bad = growth.isna() & (growth_text != "")
    if bad.any():
        label = frame.index[bad.to_numpy()][0]
        raise CommandError(
            f"{path.name} row {label}: gdp_real_growth_pct is not a number: {growth_text[label]!r}"
        )
    frame["gdp_real_growth_frac"] = growth / 100
    return frame.drop(columns=["gdp_real_growth_pct"]).replace("", None)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from dualcontrol.core.progress import ProgressDefinition
    from dualcontrol.core.regional import (
        ReductionTarget,
        RegionalDataError,
        regional_indicators,
    )
    from dualcontrol.reference.accounting import regional_rules

    path = Path(args.file)
    frame = _read(path)
    target_args = (args.target_pct, args.target_start, args.target_end)
    if any(a is not None for a in target_args) and any(a is None for a in target_args):
        raise CommandError("--target-pct, --target-start and --target-end go together")
    try:
        target = (
            ReductionTarget(args.target_pct / 100, args.target_start, args.target_end)
            if args.target_pct is not None
            else None
        )
        years = pd.to_numeric(frame["year"], errors="coerce")
        base_year = args.base_year or (
            target.start_year if target else int(years.min()) if years.notna().any() else 0
        )
        rules = regional_rules()
        result = regional_indicators(
            frame,
            base_year=base_year,
            target=target,
            progress_definition=ProgressDefinition(args.progress),
            rules=rules,
        )
    except RegionalDataError as exc:
        raise CommandError(f"{path.name}: {exc}") from exc

    pct = rules.rounding.get("pct", 2)
    intensity = rules.rounding.get("intensity", 4)
    records = []
    for row in result.frame.to_dict("records"):
        records.append(
            {
                "region": row["region"],
                "year": int(row["year"]),
                "intensity_tce_per_10k_yuan": _round(row["intensity_tce_per_10k_yuan"], intensity),
                "intensity_change_pct": _round(row["intensity_change_frac"] * 100, pct),
                "energy_growth_pct": _round(row["energy_growth_frac"] * 100, pct),
                "cumulative_intensity_change_pct": _round(
                    row["cumulative_intensity_change_frac"] * 100, pct
                ),
                "progress_pct": _round(row["progress_frac"] * 100, pct),
                "progress_definition": row["progress_definition"] or None,
            }
        )
    out = sys.stdout
    if args.format == "csv":
        writer = csv.DictWriter(out, fieldnames=OUTPUT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: "" if v is None else v for k, v in rec.items()})
        return 0
    payload = {
        "parameters": {
            "base_year": result.base_year,
            "cumulative_from_year": result.start_year,
            "target_pct": args.target_pct,
            "target_start": args.target_start,
            "target_end": args.target_end,
            "progress_definition": args.progress if target else None,
            "rules_version": result.rules_version,
        },
        "rows": records,
        "provenance": {k: p.as_dict() for k, p in result.provenance.items()},
    }
    json.dump(payload, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0
