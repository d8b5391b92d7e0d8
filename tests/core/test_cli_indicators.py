"""`dualcontrol indicators FILE.csv`: intensity at base-year prices, changes, progress."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from dualcontrol.cli import main

DATA = """region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct
甲省,2020,10000,5000,
甲省,2021,10200,5600,6.0
甲省,2022,10300,6000,3.0
乙省,2020,8000,4000,
乙省,2021,8100,4300,5.0
乙省,2022,8000,4500,4.0
"""
KEYS = [
    "region",
    "year",
    "intensity_tce_per_10k_yuan",
    "intensity_change_pct",
    "energy_growth_pct",
    "cumulative_intensity_change_pct",
    "progress_pct",
    "progress_definition",
]
TARGET = ["--target-pct", "13.5", "--target-start", "2020", "--target-end", "2025"]


def run(capsys, tmp_path, text, *argv):
    path = tmp_path / "regions.csv"
    path.write_text(text, encoding="utf-8")
    code = main(["indicators", str(path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows_with_exact_keys(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, DATA, *TARGET)
    assert code == 0
    data = json.loads(out)
    assert all(list(r) == KEYS for r in data["rows"])
    r = data["rows"][2]  # 甲省 2022
    assert r["region"] == "甲省" and r["year"] == 2022
    assert r["intensity_tce_per_10k_yuan"] == round(10300 / 5459, 4)  # at 2020 prices
    assert r["intensity_change_pct"] == -1.96
    assert r["energy_growth_pct"] == 0.98
    assert r["cumulative_intensity_change_pct"] == -5.66
    assert r["progress_pct"] == 40.18  # ln(1 − 0.0566)/ln(1 − 0.135)
    assert r["progress_definition"] == "log"
    first = data["rows"][0]
    assert first["intensity_change_pct"] is None and first["progress_pct"] == 0.0
    assert data["parameters"]["base_year"] == 2020
    assert "ln(1 − achieved_reduction)" in data["provenance"]["progress_frac"]["formula"]


def test_linear_progress_and_csv(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, DATA, *TARGET, "--progress", "linear", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == KEYS
    assert rows[2]["progress_pct"] == "41.93"  # 5.6604 / 13.5
    assert {r["progress_definition"] for r in rows} == {"linear"}


def test_without_target(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, DATA, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[2]["cumulative_intensity_change_pct"] == "-5.66"
    assert rows[2]["progress_pct"] == "" and rows[2]["progress_definition"] == ""


def test_base_year_changes_the_level_not_the_changes(tmp_path, capsys):
    _, a, _ = run(capsys, tmp_path, DATA, *TARGET)
    _, b, _ = run(capsys, tmp_path, DATA, *TARGET, "--base-year", "2022")
    ra, rb = json.loads(a)["rows"][2], json.loads(b)["rows"][2]
    assert ra["intensity_tce_per_10k_yuan"] != rb["intensity_tce_per_10k_yuan"]
    assert rb["intensity_tce_per_10k_yuan"] == round(10300 / 6000, 4)
    assert ra["cumulative_intensity_change_pct"] == rb["cumulative_intensity_change_pct"]
    assert ra["progress_pct"] == rb["progress_pct"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "region,year,energy_tce,gdp_10k_yuan\nA,2020,1,1\n",
            "missing column(s): gdp_real_growth_pct",
        ),
        (
            DATA.replace("10200,5600", "-10200,5600"),
            "row 3 (region 甲省, year 2021): energy_tce must not be negative",
        ),
        (
            DATA.replace("甲省,2021,10200,5600,6.0\n", ""),
            "row 3 (region 甲省): year 2022 follows 2020",
        ),
        (DATA.replace("6.0", "six"), "row 3: gdp_real_growth_pct is not a number"),
        (DATA.replace("10200,5600", "lots,5600"), "row 3: energy_tce is not a number"),
        (DATA + "丙省,2020,1,1\n", "row 8: 4 cells"),
    ],
)
def test_bad_input_is_a_clear_error_naming_the_row(tmp_path, capsys, text, message):
    code, out, err = run(capsys, tmp_path, text)
    assert code == 2 and out == ""
    assert message in err


def test_target_options_go_together(tmp_path, capsys):
    code, _, err = run(capsys, tmp_path, DATA, "--target-pct", "13.5")
    assert code == 2 and "go together" in err


def test_rounding_is_half_up_to_two_decimals(tmp_path, capsys):
    text = "region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct\nA,2020,100,100,\nA,2021,100.125,100,0\n"
    _, out, _ = run(capsys, tmp_path, text)
    row = json.loads(out)["rows"][1]
    assert row["energy_growth_pct"] == 0.13  # 0.125 % rounds half up, as bulletins print it
    assert not math.isnan(row["intensity_change_pct"])
