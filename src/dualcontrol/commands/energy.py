"""``dualcontrol energy FILE``: account a 205-1 report (standard coal, both conventions, CO2)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError

LINE_FIELDS: tuple[str, ...] = (
    "product_code",
    "product_name",
    "unit",
    "quantity",
    "coefficient_tce_per_unit",
    "coefficient_source",
    "coefficient_note",
    "coefficient_reference_source",
    "equivalent_coefficient_tce_per_unit",
    "energy_calorific_tce",
    "energy_equivalent_tce",
    "comprehensive_calorific_tce",
    "comprehensive_equivalent_tce",
    "co2_factor_t_per_unit",
    "co2_factor",
    "co2_t",
)
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("product_code", "代码"),
    ("product_name", "能源名称"),
    ("unit", "单位"),
    ("quantity", "消费量"),
    ("coefficient_tce_per_unit", "折标系数"),
    ("coefficient_source", "系数来源"),
    ("energy_calorific_tce", "当量值tce"),
    ("energy_equivalent_tce", "等价值tce"),
    ("co2_t", "CO2 t"),
)
TOTAL_CODE = "40"  # the 能源合计 row of the printed form (formats.md §1.2)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "energy",
        help="account a 205-1 report: tce (当量值/等价值), comprehensive consumption, CO2",
        description="Account an NBS 205-1 report (.xlsx or .csv): per product the quantity, "
        "coefficient used and its source, tce in both electricity conventions and CO2; "
        "then the totals.",
    )
    parser.add_argument("file", help="205-1 report, .xlsx or .csv")
    parser.add_argument("--format", choices=("json", "csv", "table"), default="table")
    parser.add_argument(
        "--year", type=int, help="activity year (default: from the report period, if any)"
    )
    parser.add_argument(
        "--region",
        help="province (广东 or 440000) or grid region (南方) for the grid factor; "
        "default: the national reporting factor",
    )
    parser.add_argument(
        "--grid-series",
        choices=("reporting", "mee_nbs"),
        help="grid factor series (default: reporting without --region, mee_nbs with it)",
    )
    parser.add_argument(
        "--co2-factors",
        default="A",
        help="CO2 factor set(s) in priority order: A (verified, default), B (guideline "
        "variant, not authoritative) or A,B",
    )
    parser.set_defaults(func=run)


def _year_from(meta: dict[str, str]) -> int | None:
    match = re.search(r"(19|20)\d{2}", meta.get("period", ""))
    return int(match.group(0)) if match else None


def run(args: argparse.Namespace) -> int:
    from dualcontrol.core.carbon import CarbonDataError
    from dualcontrol.core.energy import AccountingError, account_report
    from dualcontrol.core.report205 import validate_report
    from dualcontrol.core.units import UnitError
    from dualcontrol.formats.report205 import ReportFormatError, read_report
    from dualcontrol.reference import ReferenceDataError
    from dualcontrol.reference.accounting import accounting_rules, product_coefficients
    from dualcontrol.reference.carbon import carbon_factors
    from dualcontrol.reference.electricity import electricity_equivalent
    from dualcontrol.reference.energy_products import energy_products, product_specs, rules_205

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    name_to_code = {p.name_zh: p.code for p in energy_products()}
    try:
        parsed = read_report(data, path.name, name_to_code, collect=True)
    except ReportFormatError as exc:
        raise CommandError(
            f"{path.name}: not a readable 205-1 report:\n" + "\n".join(f"  {e}" for e in exc.errors)
        ) from exc
    # every problem at once: the cells that could not be read and the checks of every row
    issues = [
        i
        for i in validate_report(parsed.rows, product_specs(), rules_205(), parsed.unreadable)
        if i.code != "coefficient_implausible"  # handled: the reference coefficient is used
    ]
    if issues or parsed.errors:
        lines = [f"  {e}" for e in parsed.errors]
        for issue in issues:
            sheet, row, column = parsed.locate(issue.row, issue.field)
            where = f"{sheet}!{column}{row}" if column else f"{sheet} row {row}"
            lines.append(f"  {where}: {issue.message('en')}")
        raise CommandError(
            f"{path.name}: the report does not pass the 205-1 checks:\n" + "\n".join(lines)
        )
    year = args.year if args.year is not None else _year_from(parsed.meta)
    sets = [s.strip().upper() for s in args.co2_factors.split(",") if s.strip()]
    try:
        rules = accounting_rules()
        carbon = carbon_factors(
            factor_sets=sets, year=year, region=args.region, grid_series=args.grid_series
        )
        account = account_report(
            parsed.rows, product_coefficients(), electricity_equivalent(year), carbon, rules
        )
    except (AccountingError, CarbonDataError, ReferenceDataError, UnitError) as exc:
        raise CommandError(str(exc)) from exc

    def r(value: Decimal | None, kind: str) -> float | None:
        return None if value is None else float(rules.round(value, kind))

    line_records = []
    for line in account.lines:
        line_records.append(
            {
                "product_code": line.product_code,
                "product_name": line.product_name,
                "unit": line.unit,
                "quantity": float(line.quantity),
                "coefficient_tce_per_unit": float(line.coefficient_tce_per_unit),
                "coefficient_source": line.coefficient_source.value,
                "coefficient_note": line.coefficient_note,
                "coefficient_reference_source": line.coefficient_reference_source,
                "equivalent_coefficient_tce_per_unit": r(
                    line.equivalent_coefficient_tce_per_unit, "coefficient"
                ),
                "energy_calorific_tce": r(line.energy_calorific_tce, "tce"),
                "energy_equivalent_tce": r(line.energy_equivalent_tce, "tce"),
                "comprehensive_calorific_tce": r(line.comprehensive_calorific_tce, "tce"),
                "comprehensive_equivalent_tce": r(line.comprehensive_equivalent_tce, "tce"),
                "co2_factor_t_per_unit": r(line.co2_factor_t_per_unit, "coefficient"),
                "co2_factor": line.co2_factor_label,
                "co2_t": r(line.co2_t, "co2_t"),
            }
        )
    eq = account.electricity_equivalent
    grid = carbon.electricity
    totals: dict[str, Any] = {
        "energy_calorific_tce": r(account.energy_calorific_tce, "tce"),
        "energy_equivalent_tce": r(account.energy_equivalent_tce, "tce"),
        "comprehensive_calorific_tce": r(account.comprehensive_calorific_tce, "tce"),
        "comprehensive_equivalent_tce": r(account.comprehensive_equivalent_tce, "tce"),
        "feedstock_calorific_tce": r(account.feedstock_calorific_tce, "tce"),
        "co2_combustion_t": r(account.co2_combustion_t, "co2_t"),
        "co2_electricity_t": r(account.co2_electricity_t, "co2_t"),
        "co2_heat_t": r(account.co2_heat_t, "co2_t"),
        "co2_t": r(account.co2_t, "co2_t"),
        "co2_complete": account.co2_complete,
        "co2_missing_products": list(account.co2_missing_products),
    }
    settings = {
        "year": year,
        "electricity_calorific_source": "energy_products.csv (当量值, GB/T 2589)",
        "electricity_equivalent_kgce_per_kwh": float(eq.coefficient_kgce_per_kwh),
        "electricity_equivalent_source": eq.source,
        "electricity_equivalent_caveat": "; ".join(x for x in (eq.note, eq.caveat) if x),
        "grid_factor": grid.label() if grid else None,
        "grid_factor_source": "; ".join(x for x in (grid.source, grid.note, grid.caveat) if x)
        if grid
        else None,
        "co2_factor_sets": list(carbon.factor_sets),
        "versions": list(account.versions),
    }
    out = sys.stdout
    if args.format == "json":
        payload = {
            "report": parsed.meta,
            "settings": settings,
            "lines": line_records,
            "totals": totals,
            "provenance": {
                **{k: p.as_dict() for k, p in account.provenance.items()},
                "lines": {line.product_code: line.provenance.as_dict() for line in account.lines},
            },
        }
        json.dump(payload, out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif args.format == "csv":
        writer = exports.DictWriter(out, fieldnames=LINE_FIELDS, lineterminator="\n")
        writer.writeheader()
        for rec in line_records:
            writer.writerow({k: _csv(v) for k, v in rec.items()})
        writer.writerow(
            {
                "product_code": TOTAL_CODE,
                "product_name": "能源合计",
                "unit": "吨标准煤",
                "energy_calorific_tce": _csv(totals["energy_calorific_tce"]),
                "energy_equivalent_tce": _csv(totals["energy_equivalent_tce"]),
                "comprehensive_calorific_tce": _csv(totals["comprehensive_calorific_tce"]),
                "comprehensive_equivalent_tce": _csv(totals["comprehensive_equivalent_tce"]),
                "co2_t": _csv(totals["co2_t"]),
            }
        )
    else:
        out.write(_table(line_records, totals, settings))
    return 0


def _csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _num(value: float) -> str:
    text = f"{value:f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _render(rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(
            _pad(c, w, right) for c, w, right in zip(r, widths, numeric, strict=True)
        ).rstrip()
        + "\n"
        for r in rows
    )


def _table(lines: list[dict[str, Any]], totals: dict[str, Any], settings: dict[str, Any]) -> str:
    header = [zh for _, zh in TABLE_COLUMNS]
    numeric = [
        key not in ("product_code", "product_name", "unit", "coefficient_source")
        for key, _ in TABLE_COLUMNS
    ]
    body = [
        [_csv(rec[key]) if rec[key] is not None else "—" for key, _ in TABLE_COLUMNS]
        for rec in lines
    ]
    total_row = [
        TOTAL_CODE,
        "能源合计",
        "吨标准煤",
        "",
        "",
        "",
        _csv(totals["energy_calorific_tce"]),
        _csv(totals["energy_equivalent_tce"]),
        _csv(totals["co2_t"]),
    ]
    text = _render([header, *body, total_row], numeric)
    notes = [
        f"综合能源消费量 comprehensive consumption: 当量值 {_csv(totals['comprehensive_calorific_tce'])} tce, "
        f"等价值 {_csv(totals['comprehensive_equivalent_tce'])} tce",
        f"CO2: combustion {_csv(totals['co2_combustion_t'])} t + electricity "
        f"{_csv(totals['co2_electricity_t'])} t + heat {_csv(totals['co2_heat_t'])} t "
        f"= {_csv(totals['co2_t'])} t (factor set {'+'.join(settings['co2_factor_sets'])})",
        f"电力等价值 {settings['electricity_equivalent_kgce_per_kwh']} kgce/kWh: "
        f"{settings['electricity_equivalent_source']}",
    ]
    if settings["electricity_equivalent_caveat"]:
        notes.append(f"  caveat: {settings['electricity_equivalent_caveat']}")
    if settings["grid_factor"]:
        notes.append(f"grid factor {settings['grid_factor']}: {settings['grid_factor_source']}")
    if not totals["co2_complete"]:
        notes.append(
            "CO2 incomplete — no factor for product(s) " + ", ".join(totals["co2_missing_products"])
        )
    return text + "\n" + "".join(f"{n}\n" for n in notes)
