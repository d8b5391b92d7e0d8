"""``dualcontrol indicators FILE.csv``: regional intensity, changes and progress toward a target.

Energy intensity (and, with ``co2_t`` or the fuel columns of the regional CO2 accounting, CO2
intensity) at comparable prices, year-on-year and cumulative changes, progress toward the
``--target-pct`` / ``--co2-target-pct`` reduction targets. The input is UTF-8 (with or without a
BOM) or GB18030/GBK text.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import unicodedata
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError

INPUT_COLUMNS: tuple[str, ...] = (
    "region",
    "year",
    "energy_tce",
    "gdp_10k_yuan",
    "gdp_real_growth_pct",
)
# the fields of every row before CO2 was added — others script against them: never reorder
ENERGY_FIELDS: tuple[str, ...] = (
    "region",
    "year",
    "intensity_tce_per_10k_yuan",
    "intensity_change_pct",
    "energy_growth_pct",
    "cumulative_intensity_change_pct",
    "progress_pct",
    "progress_definition",
)
ADDED_FIELDS: tuple[str, ...] = (
    "energy_assessed_tce",
    "co2_t",
    "co2_intensity_t_per_10k_yuan",
    "co2_intensity_change_pct",
    "cumulative_co2_intensity_change_pct",
    "co2_progress_pct",
)
OUTPUT_FIELDS: tuple[str, ...] = ENERGY_FIELDS + ADDED_FIELDS
TEXT_FIELDS = ("region", "progress_definition")
ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK and GB2312


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "indicators",
        help="regional energy and CO2 intensity at comparable prices, changes and target progress",
        description="Read region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct (real GDP "
        "growth vs the previous year, %) and print per region and year the intensity at "
        "base-year prices, its year-on-year and cumulative change, energy growth and the "
        "progress toward a reduction target. Optional columns: co2_t, or the fuel columns of "
        "the regional CO2 accounting (raw_coal_10k_t, natural_gas_100m_m3, "
        "electricity_net_import_100m_kwh … — regional_co2_fuels.csv; co2_t wins where both are "
        "given); renewable_new_tce, feedstock_tce, separately_accounted_tce (14th-FYP "
        "deductions, accounting_rules.yaml). Input: UTF-8 (BOM allowed) or GB18030/GBK.",
    )
    parser.add_argument("file", help="CSV file (UTF-8 or GB18030/GBK)")
    parser.add_argument(
        "--base-year",
        type=int,
        help="comparable-price base year (default: --target-start, else the first year)",
    )
    parser.add_argument(
        "--target-pct", type=float, help="energy-intensity reduction target, e.g. 13.5"
    )
    parser.add_argument(
        "--co2-target-pct", type=float, help="CO2-intensity reduction target, e.g. 18"
    )
    parser.add_argument("--target-start", type=int, help="target base year, e.g. 2020")
    parser.add_argument("--target-end", type=int, help="target final year, e.g. 2025")
    parser.add_argument(
        "--progress",
        choices=("log", "linear"),
        default="log",
        help="progress definition: log = ln(1−achieved)/ln(1−target), linear = achieved/target",
    )
    parser.add_argument("--format", choices=("json", "csv", "table"), default="json")
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


def _decode(path: Path, raw: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommandError(f"{path.name}: not UTF-8 or GB18030/GBK text")


def _read(path: Path) -> Any:
    import pandas as pd

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    text = _decode(path, raw)
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


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return not str(value).strip()


def _co2_column(path: Path, frame: Any, rules_grid_series: str) -> tuple[Any, dict[str, Any]]:
    """``co2_t`` per row: as given, else from the fuel columns; plus the provenance entries."""
    import pandas as pd

    from dualcontrol.core.provenance import Provenance
    from dualcontrol.core.regional_co2 import RegionalCo2Error
    from dualcontrol.reference.regional_co2 import co2_from_columns, fuel_columns

    fuel_cols = [c for c in fuel_columns() if c in frame.columns]
    has_co2 = "co2_t" in frame.columns
    provenance: dict[str, Any] = {}
    if not fuel_cols:
        return (frame["co2_t"] if has_co2 else None), provenance
    co2: dict[Any, float | None] = {}
    origin: list[tuple[str, str]] = []
    notes: list[str] = []
    versions: list[str] = []
    for label, row in frame.iterrows():
        where = f"row {label} (region {row['region']}, year {row['year']})"
        given = row["co2_t"] if has_co2 and not _blank(row["co2_t"]) else None
        cells = {c: row[c] for c in fuel_cols if not _blank(row[c])}
        if given is not None:
            co2[label] = float(given)
            origin.append((f"{row['region']} {row['year']}", "co2_t as given"))
            if cells:
                notes.append(
                    f"{where}: co2_t given and fuel columns too ({', '.join(cells)}): "
                    "co2_t is used, the fuel columns are not"
                )
            continue
        if not cells:
            co2[label] = None
            origin.append((f"{row['region']} {row['year']}", "no CO2 data"))
            continue
        values: dict[str, float | None] = {}
        for column, cell in cells.items():
            try:
                values[column] = float(cell)
            except ValueError:
                raise CommandError(
                    f"{path.name} row {label}: {column} is not a number: {cell!r}"
                ) from None
        region = str(row["region"])
        try:
            result = co2_from_columns(
                values,
                year=int(float(row["year"])),
                grid_region=region if rules_grid_series != "national" else None,
            )
        except RegionalCo2Error as exc:
            raise CommandError(f"{path.name} {where}: {exc}") from exc
        co2[label] = result.co2_t
        origin.append((f"{row['region']} {row['year']}", "computed from the fuel columns"))
        versions += result.provenance.versions
        provenance[f"co2_t ({row['region']}, {row['year']})"] = Provenance.of(
            f"co2_t ({row['region']}, {row['year']})",
            result.provenance.formula,
            [*result.provenance.inputs, ("co2_t", result.co2_t)],
            result.provenance.versions,
            result.provenance.rule,
            result.provenance.notes,
        ).as_dict()
    summary = Provenance.of(
        "co2_t",
        "co2_t as given in the input; else computed from the fuel columns "
        "(dualcontrol.core.regional_co2, one entry per row below)",
        origin,
        versions,
        "co2_t wins where a row gives both co2_t and fuel columns",
        notes,
    ).as_dict()
    provenance = {"co2_t": summary, **provenance}
    return pd.Series(co2, dtype="float64").reindex(frame.index), provenance


def _targets(args: argparse.Namespace) -> None:
    pcts = (args.target_pct, args.co2_target_pct)
    period = (args.target_start, args.target_end)
    any_pct = any(p is not None for p in pcts)
    if (any_pct or any(p is not None for p in period)) and (
        not any_pct or any(p is None for p in period)
    ):
        raise CommandError(
            "--target-pct (or --co2-target-pct), --target-start and --target-end go together"
        )


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from dualcontrol.core.progress import ProgressDefinition
    from dualcontrol.core.regional import (
        ReductionTarget,
        RegionalDataError,
        regional_indicators,
        validate_regional_frame,
    )
    from dualcontrol.reference.accounting import regional_rules
    from dualcontrol.reference.regional_co2 import regional_co2_rules

    path = Path(args.file)
    frame = _read(path)
    _targets(args)
    try:
        target = (
            ReductionTarget(args.target_pct / 100, args.target_start, args.target_end)
            if args.target_pct is not None
            else None
        )
        co2_target = (
            ReductionTarget(args.co2_target_pct / 100, args.target_start, args.target_end)
            if args.co2_target_pct is not None
            else None
        )
        rules = regional_rules()
        validate_regional_frame(frame, rules)
        co2, co2_provenance = _co2_column(path, frame, regional_co2_rules().grid_series)
        if co2 is not None:
            frame = frame.assign(co2_t=co2)
        years = pd.to_numeric(frame["year"], errors="coerce")
        first_target = target or co2_target
        base_year = args.base_year or (
            first_target.start_year if first_target else int(years.min())
        )
        result = regional_indicators(
            frame,
            base_year=base_year,
            target=target,
            progress_definition=ProgressDefinition(args.progress),
            rules=rules,
            co2_target=co2_target,
        )
    except RegionalDataError as exc:
        raise CommandError(f"{path.name}: {exc}") from exc

    pct = rules.rounding.get("pct", 2)
    intensity = rules.rounding.get("intensity", 4)
    tce = rules.rounding.get("tce", 4)
    co2_places = rules.rounding.get("co2_t", 4)
    has_target = target is not None or co2_target is not None

    def col(row: Mapping[Any, Any], name: str) -> Any:
        return row.get(name)

    def pct_of(row: Mapping[Any, Any], name: str) -> float | None:
        value = col(row, name)
        return None if value is None else _round(value * 100, pct)

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
                "progress_definition": args.progress if has_target else None,
                "energy_assessed_tce": _round(row["energy_assessed_tce"], tce),
                "co2_t": _round(col(row, "co2_t"), co2_places),
                "co2_intensity_t_per_10k_yuan": _round(
                    col(row, "co2_intensity_t_per_10k_yuan"), intensity
                ),
                "co2_intensity_change_pct": pct_of(row, "co2_intensity_change_frac"),
                "cumulative_co2_intensity_change_pct": pct_of(
                    row, "cumulative_co2_intensity_change_frac"
                ),
                "co2_progress_pct": pct_of(row, "co2_progress_frac"),
            }
        )
    out = sys.stdout
    if args.format == "csv":
        writer = exports.DictWriter(out, fieldnames=OUTPUT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for rec in records:
            writer.writerow({k: "" if v is None else v for k, v in rec.items()})
        return 0
    if args.format == "table":
        places = {
            "intensity_tce_per_10k_yuan": intensity,
            "co2_intensity_t_per_10k_yuan": intensity,
            "energy_assessed_tce": tce,
            "co2_t": co2_places,
        }
        places |= {f: pct for f in OUTPUT_FIELDS if f.endswith("_pct")}
        out.write(_table(records, places))
        basis = result.rate_basis
        out.write(f"\n{basis.describe()}; rules {result.rules_version}\n")
        return 0
    basis = result.rate_basis
    provenance = {k: p.as_dict() for k, p in result.provenance.items()}
    provenance.update(co2_provenance)
    payload = {
        "parameters": {
            "base_year": result.base_year,
            "cumulative_from_year": result.start_year,
            "target_pct": args.target_pct,
            "target_start": args.target_start,
            "target_end": args.target_end,
            "progress_definition": args.progress if has_target else None,
            "rules_version": result.rules_version,
            "co2_target_pct": args.co2_target_pct,
            "rate_basis": {
                "rule": basis.rule,
                "intensity_places": basis.intensity_places if basis.rounded else None,
                "source": basis.source,
            },
        },
        "rows": records,
        "provenance": provenance,
    }
    json.dump(payload, out, ensure_ascii=False, indent=2)
    out.write("\n")
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any, places: int | None) -> str:
    if value is None:
        return "—"
    if places is not None and isinstance(value, float):
        return f"{value:.{places}f}"
    return str(value)


def _table(records: list[dict[str, Any]], places: Mapping[str, int]) -> str:
    """Aligned plain-text columns (numeric columns right-aligned, header included; CJK characters
    count double width; — = no data)."""
    cells = [list(OUTPUT_FIELDS)] + [
        [_cell(rec[f], places.get(f)) for f in OUTPUT_FIELDS] for rec in records
    ]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(OUTPUT_FIELDS))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            fill = " " * (widths[i] - _width(cell))
            right = OUTPUT_FIELDS[i] not in TEXT_FIELDS
            parts.append(fill + cell if right else cell + fill)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"
