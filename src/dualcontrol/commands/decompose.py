"""``dualcontrol decompose``: allocate a provincial intensity target to regions (目标分解).

Pure command (no Django): reads a CSV of regions, runs a method of
:mod:`dualcontrol.core.decomposition` and prints each region's target and the aggregate-consistency
check (does the set of regional targets deliver the provincial target; slack in pp and tce; total-
consumption increments against the cap).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError
from dualcontrol.core.decomposition import (
    DERIVED_FACTORS,
    Allocation,
    DecompositionError,
    EfficiencyScheme,
    Method,
    RegionInput,
    TierScheme,
    TotalCap,
    WeightScheme,
    decompose,
)
from dualcontrol.reference import ReferenceDataError
from dualcontrol.reference.decomposition import (
    DEFAULT_PRESETS,
    efficiency_scheme,
    tier_scheme,
    weight_scheme,
)

REQUIRED_COLUMNS = ("region", "base_energy_tce", "base_gdp_10k_yuan", "gdp_growth_pct")
RESERVED_COLUMNS = (
    "tier",
    "target_pct",
    "min_target_pct",
    "max_target_pct",
    "increment_tce",
)

EPILOG = f"""\
Input CSV (UTF-8, header row, one row per region):
  region              region name or code (unique)
  base_energy_tce     base-year energy consumption, tce (> 0)
  base_gdp_10k_yuan   base-year GDP, 10,000 yuan (> 0); the intensity is base_energy / base_gdp
  gdp_growth_pct      projected REAL GDP growth over the whole period, percent (45 = +45 %)
  tier                tiered: the tier id (else the region's name is looked up in the tier members)
  target_pct          manual: the region's intensity-reduction target, percent
  min_target_pct, max_target_pct
                      efficiency: the region's bounds, percent (default: the scheme's
                      min/max × the provincial target)
  increment_tce       optional allocated total-consumption increment, tce (default: the increment
                      implied by the target, E0 (1 + g)(1 − r) − E0)
  any other column    a factor for --method weighted (e.g. gdp_per_capita_yuan,
                      secondary_share_pct, environmental_capacity_index) or the efficiency
                      potential; derived factors: {", ".join(DERIVED_FACTORS)}

Schemes (a YAML file path, or a shipped preset name):
  --tiers       default {DEFAULT_PRESETS["tiers"]} (the national 12th-FYP tiers 18/17/16/15/10 %)
  --weights     default {DEFAULT_PRESETS["weights"]}
  --efficiency  default {DEFAULT_PRESETS["efficiency"]}

Consistency check: with each region's E0, G0 and growth g, the regions meeting targets r_i use
ΣE0_i(1+g_i)(1−r_i) at the end of the period; the province's implied reduction is compared with
--province-target-pct (slack in pp and in tce; positive = the regional targets over-deliver).
With --total-cap-tce (the province's end-of-period total, tce) or --increment-cap-tce (its
increment over the period), Σ regional increments + --reserve-tce (separately accounted major
projects, 能耗单列) must not exceed the increment cap; the slack is printed.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "decompose",
        help="allocate a provincial intensity-reduction target to regions (目标分解)",
        description="Allocate a provincial intensity-reduction target to regions and check that "
        "the regional targets deliver it (目标分解与总量一致性校核).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--method", required=True, choices=[m.value for m in Method])
    parser.add_argument("--input", required=True, metavar="FILE.csv")
    parser.add_argument(
        "--province-target-pct",
        required=True,
        metavar="R",
        help="the province's intensity-reduction target over the period, percent",
    )
    parser.add_argument("--tiers", metavar="FILE.yaml|PRESET")
    parser.add_argument("--weights", metavar="FILE.yaml|PRESET")
    parser.add_argument("--efficiency", metavar="FILE.yaml|PRESET")
    cap = parser.add_mutually_exclusive_group()
    cap.add_argument(
        "--total-cap-tce", metavar="X", help="province's end-of-period total-consumption cap, tce"
    )
    cap.add_argument(
        "--increment-cap-tce", metavar="X", help="province's increment cap over the period, tce"
    )
    parser.add_argument(
        "--reserve-tce",
        metavar="Y",
        help="reserve for separately accounted major projects (能耗单列), tce; needs a cap",
    )
    parser.add_argument("--format", choices=("json", "csv", "table"), default="table")
    parser.set_defaults(func=run)


def _number(value: str, what: str, where: str) -> Fraction:
    try:
        d = Decimal((value or "").strip())
    except InvalidOperation:
        raise CommandError(f"{where}: {what} {value!r} is not a number") from None
    if not d.is_finite():
        raise CommandError(f"{where}: {what} {value!r} is not a finite number")
    return Fraction(d)


def _optional(row: dict[str, str], column: str, where: str) -> Fraction | None:
    value = (row.get(column) or "").strip()
    return None if not value else _number(value, column, where)


def read_regions(text: str, factor_columns: Sequence[str] = ()) -> list[RegionInput]:
    """Regions from the input CSV; CommandError naming the line on a bad row."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in (*REQUIRED_COLUMNS, *factor_columns) if c not in header]
    if missing:
        raise CommandError(f"missing column(s): {', '.join(missing)} (header: {', '.join(header)})")
    out = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise CommandError(f"line {line}: more fields than the header has")
        region = (row.get("region") or "").strip()
        where = f"line {line}" + (f" (region {region})" if region else "")
        if not region:
            raise CommandError(f"{where}: region is empty")
        values = {c: _number(row.get(c) or "", c, where) for c in REQUIRED_COLUMNS[1:]}
        factors = {}
        for c in factor_columns:
            if not (row.get(c) or "").strip():
                raise CommandError(f"{where}: factor {c} is empty")
            factors[c] = _number(row[c], c, where)
        pct = {c: _optional(row, c, where) for c in RESERVED_COLUMNS[1:]}
        try:
            out.append(
                RegionInput(
                    region=region,
                    base_energy_tce=values["base_energy_tce"],
                    base_gdp_10k_yuan=values["base_gdp_10k_yuan"],
                    gdp_growth_frac=values["gdp_growth_pct"] / 100,
                    factors=factors,
                    tier=(row.get("tier") or "").strip() or None,
                    manual_target_frac=_div100(pct["target_pct"]),
                    min_target_frac=_div100(pct["min_target_pct"]),
                    max_target_frac=_div100(pct["max_target_pct"]),
                    increment_tce=pct["increment_tce"],
                )
            )
        except DecompositionError as exc:
            raise CommandError(f"{where}: {exc}") from exc
    if not out:
        raise CommandError("the input has no regions")
    return out


def _div100(x: Fraction | None) -> Fraction | None:
    return None if x is None else x / 100


def _dec(x: Fraction | None, places: int) -> Decimal | None:
    if x is None:
        return None
    q = Decimal(1).scaleb(-places)
    d = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(q)
    return d.normalize() if d != 0 else Decimal(0)


def result_data(alloc: Allocation, total_cap_tce: Fraction | None) -> dict[str, Any]:
    """The printed result: regions and the consistency checks (percent/pp at the edge)."""
    regions = []
    for t in alloc.targets:
        regions.append(
            {
                "region": t.region,
                "target_pct": _dec(t.target_frac * 100, 4),
                "tier": t.tier,
                "score": _dec(t.score, 4),
                "potential": _dec(t.potential, 4),
                "min_target_pct": _dec(
                    None if t.min_target_frac is None else t.min_target_frac * 100, 4
                ),
                "max_target_pct": _dec(
                    None if t.max_target_frac is None else t.max_target_frac * 100, 4
                ),
                "base_energy_tce": _dec(t.base_energy_tce, 2),
                "base_gdp_10k_yuan": _dec(t.base_gdp_10k_yuan, 2),
                "gdp_growth_pct": _dec(t.gdp_growth_frac * 100, 4),
                "base_intensity_tce_per_10k_yuan": _dec(t.base_intensity_tce_per_10k_yuan, 6),
                "end_gdp_10k_yuan": _dec(t.end_gdp_10k_yuan, 2),
                "end_energy_tce": _dec(t.end_energy_tce, 2),
                "increment_tce": _dec(t.increment_tce, 2),
                "increment_source": t.increment_source,
            }
        )
    ic = alloc.intensity_check
    check: dict[str, Any] = {
        "province_target_pct": _dec(ic.province_target_frac * 100, 4),
        "implied_reduction_pct": _dec(ic.implied_reduction_frac * 100, 6),
        "slack_pp": _dec(ic.slack_frac * 100, 6),
        "slack_tce": _dec(ic.slack_tce, 2),
        "consistent": ic.consistent,
        "base_energy_tce": _dec(ic.base_energy_tce, 2),
        "base_gdp_10k_yuan": _dec(ic.base_gdp_10k_yuan, 2),
        "end_gdp_10k_yuan": _dec(ic.end_gdp_10k_yuan, 2),
        "base_intensity_tce_per_10k_yuan": _dec(ic.base_intensity_tce_per_10k_yuan, 6),
        "allowed_end_energy_tce": _dec(ic.allowed_end_energy_tce, 2),
        "regional_end_energy_tce": _dec(ic.regional_end_energy_tce, 2),
    }
    total: dict[str, Any] | None = None
    tc = alloc.total_check
    if tc is not None:
        total = {
            "total_cap_tce": _dec(total_cap_tce, 2),
            "increment_cap_tce": _dec(tc.increment_cap_tce, 2),
            "reserve_tce": _dec(tc.reserve_tce, 2),
            "increments_tce": _dec(tc.increments_tce, 2),
            "slack_tce": _dec(tc.slack_tce, 2),
            "consistent": tc.consistent,
        }
    return {
        "method": alloc.method.value,
        "scheme": alloc.scheme_name,
        "scheme_version": alloc.scheme_version,
        "regions": regions,
        "intensity_check": check,
        "total_check": total,
    }


def run(args: argparse.Namespace) -> int:
    method = Method(args.method)
    province_target = _number(args.province_target_pct, "--province-target-pct", "argument") / 100
    if not 0 < province_target < 1:
        raise CommandError("--province-target-pct must be between 0 and 100")
    try:
        tiers: TierScheme | None = tier_scheme(args.tiers) if method is Method.TIERED else None
        weights: WeightScheme | None = (
            weight_scheme(args.weights) if method is Method.WEIGHTED else None
        )
        efficiency: EfficiencyScheme | None = (
            efficiency_scheme(args.efficiency) if method is Method.EFFICIENCY else None
        )
    except ReferenceDataError as exc:
        raise CommandError(str(exc)) from exc
    factor_columns: list[str] = []
    if weights is not None:
        factor_columns = [f.column for f in weights.factors if f.column not in DERIVED_FACTORS]
    if efficiency is not None and efficiency.potential not in DERIVED_FACTORS:
        factor_columns = [efficiency.potential]
    path = Path(args.input)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    regions = read_regions(text, factor_columns)
    e0 = sum((r.base_energy_tce for r in regions), Fraction(0))
    total: TotalCap | None = None
    total_cap: Fraction | None = None
    reserve = (
        Fraction(0)
        if args.reserve_tce is None
        else _number(args.reserve_tce, "--reserve-tce", "argument")
    )
    if reserve < 0:
        raise CommandError("--reserve-tce must not be negative")
    if args.total_cap_tce is not None:
        total_cap = _number(args.total_cap_tce, "--total-cap-tce", "argument")
        total = TotalCap(increment_cap_tce=total_cap - e0, reserve_tce=reserve)
    elif args.increment_cap_tce is not None:
        cap = _number(args.increment_cap_tce, "--increment-cap-tce", "argument")
        total = TotalCap(increment_cap_tce=cap, reserve_tce=reserve)
    elif args.reserve_tce is not None:
        raise CommandError("--reserve-tce needs --total-cap-tce or --increment-cap-tce")
    try:
        alloc = decompose(
            method,
            regions,
            province_target,
            tiers=tiers,
            weights=weights,
            efficiency=efficiency,
            total=total,
        )
    except DecompositionError as exc:
        raise CommandError(str(exc)) from exc
    write(result_data(alloc, total_cap), args.format, sys.stdout)
    return 0


# ---------------------------------------------------------------------------------------------
# output

REGION_FIELDS = (
    "region",
    "target_pct",
    "tier",
    "score",
    "potential",
    "min_target_pct",
    "max_target_pct",
    "base_energy_tce",
    "base_gdp_10k_yuan",
    "gdp_growth_pct",
    "base_intensity_tce_per_10k_yuan",
    "end_gdp_10k_yuan",
    "end_energy_tce",
    "increment_tce",
    "increment_source",
)


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def _checks(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(f"intensity.{k}", _text(v)) for k, v in data["intensity_check"].items()]
    if data["total_check"] is not None:
        rows += [(f"total.{k}", _text(v)) for k, v in data["total_check"].items()]
    return rows


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


def write(data: dict[str, Any], fmt: str, out: Any) -> None:
    if fmt == "json":
        out.write(json.dumps(_json_value(data), ensure_ascii=False, indent=2) + "\n")
        return
    used = [f for f in REGION_FIELDS if any(r[f] is not None for r in data["regions"])]
    if fmt == "csv":
        # two sections separated by a blank line: the regions, then the checks (key,value)
        writer = exports.csv_writer(out, lineterminator="\n")
        writer.writerow(used)
        for r in data["regions"]:
            writer.writerow([_text(r[f]) for f in used])
        writer.writerow([])
        writer.writerow(["check", "value"])
        writer.writerows(_checks(data))
        return
    cols = [
        f
        for f in (
            "region",
            "tier",
            "score",
            "potential",
            "target_pct",
            "base_intensity_tce_per_10k_yuan",
            "end_energy_tce",
            "increment_tce",
        )
        if f in used
    ]
    table = [cols] + [[_text(r[c]) for c in cols] for r in data["regions"]]
    widths = [max(_width(row[i]) for row in table) for i in range(len(cols))]
    scheme = f" ({data['scheme']}, {data['scheme_version']})" if data["scheme"] else ""
    out.write(f"method: {data['method']}{scheme}\n")
    for k, row in enumerate(table):
        out.write(
            "  ".join(_pad(cell, widths[i], k > 0 and i > 0) for i, cell in enumerate(row)).rstrip()
            + "\n"
        )
    ic = data["intensity_check"]
    out.write(
        f"\nprovince target {_text(ic['province_target_pct'])} %, implied by the regional targets "
        f"{_text(ic['implied_reduction_pct'])} %: slack {_text(ic['slack_pp'])} pp, "
        f"{_text(ic['slack_tce'])} tce -> {'consistent' if ic['consistent'] else 'NOT consistent'}\n"
    )
    tc = data["total_check"]
    if tc is not None:
        out.write(
            f"total consumption: increments {_text(tc['increments_tce'])} tce + reserve "
            f"{_text(tc['reserve_tce'])} tce vs increment cap {_text(tc['increment_cap_tce'])} tce: "
            f"slack {_text(tc['slack_tce'])} tce -> "
            f"{'consistent' if tc['consistent'] else 'NOT consistent'}\n"
        )
