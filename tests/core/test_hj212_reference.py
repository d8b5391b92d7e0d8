"""HJ 212 reference tables (src/dualcontrol/reference/data/hj212_*.csv) against their sources.

shared/reference/08_hj212.md (ST and CN tables, 2005 -> 2017 codes) and
shared/reference/08_hj212_pollutant_codes.csv (the curated 2017 excerpt).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dualcontrol.reference import load_csv
from dualcontrol.reference.hj212 import FILES, hj212_tables

SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference"


@pytest.mark.parametrize("name", FILES)
def test_every_row_has_a_source(name: str) -> None:
    table = load_csv(name)
    assert table.rows
    assert all(row["source"] for row in table.rows)


def test_versions() -> None:
    tables = hj212_tables()
    assert dict(tables.versions) == {0: "HJ/T 212-2005", 1: "HJ 212-2017", 2: "HJ 212-2025"}
    assert tables.legacy_versions == frozenset({0})
    rows = {r["version_number"]: r for r in load_csv("hj212_versions.csv").rows}
    assert rows["2"]["confirmed"] == "no"
    assert rows["2"]["valid_from"] == "2026-01-01"


def test_2005_codes_of_08_hj212() -> None:
    """08_hj212.md: 001->w01001 pH; 011->w01018 COD; 060->w21003 NH3-N; B01->w00000; 003->w01012."""
    legacy = hj212_tables().legacy_codes
    expected = {"001": "w01001", "011": "w01018", "060": "w21003", "B01": "w00000", "003": "w01012"}
    assert {code: legacy[code] for code in expected} == expected
    basis = {r["code_2005"]: r["basis"] for r in load_csv("hj212_codes_2005.csv").rows}
    assert {code for code, b in basis.items() if b == "reference"} == set(expected)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/reference not beside the repository")
def test_pollutants_include_the_curated_excerpt() -> None:
    pollutants = hj212_tables().pollutants
    with (SHARED / "08_hj212_pollutant_codes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert pollutants[row["code_2017"]] == row["name_zh"]


def test_st_and_cn_tables_of_08_hj212() -> None:
    tables = hj212_tables()
    assert tables.systems["32"] == "地表水体环境污染源"
    assert tables.systems["91"] == "系统交互"
    assert len([st for st in tables.systems if st not in ("44", "45")]) == 20
    assert tables.commands["2051"].name_zh == "上传污染物分钟数据"
    assert tables.commands["2051"].reply_cn == "9014"
    assert tables.commands["1013"].reply_cn == "9013"
    assert tables.commands["9014"].reply_cn is None
    assert tables.platform_commands["1062"] == "设置实时数据间隔"


def test_data_flags() -> None:
    flags = hj212_tables().data_flags
    assert flags["HJ 212-2017"] == frozenset("NFMSDCTB")
    assert flags["HJ/T 212-2005"] == frozenset("NPFCMTDS")
    assert hj212_tables().flags_for("HJ 212-2025") == frozenset("NFMSDCTBP")
