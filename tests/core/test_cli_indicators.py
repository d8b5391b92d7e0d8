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
# the fields of every row before CO2 was added (others script against them), then the added ones
OLD_KEYS = [
    "region",
    "year",
    "intensity_tce_per_10k_yuan",
    "intensity_change_pct",
    "energy_growth_pct",
    "cumulative_intensity_change_pct",
    "progress_pct",
    "progress_definition",
]
NEW_KEYS = [
    "energy_assessed_tce",
    "co2_t",
    "co2_intensity_t_per_10k_yuan",
    "co2_intensity_change_pct",
    "cumulative_co2_intensity_change_pct",
    "co2_progress_pct",
]
KEYS = OLD_KEYS + NEW_KEYS
TARGET = ["--target-pct", "13.5", "--target-start", "2020", "--target-end", "2025"]


def run(capsys, tmp_path, text, *argv, encoding="utf-8"):
    path = tmp_path / "regions.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
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
    code, _, err = run(capsys, tmp_path, DATA, "--co2-target-pct", "18")
    assert code == 2 and "go together" in err
    code, _, err = run(capsys, tmp_path, DATA, "--target-start", "2020", "--target-end", "2025")
    assert code == 2 and "go together" in err


def test_rounding_is_half_up_to_two_decimals(tmp_path, capsys):
    text = "region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct\nA,2020,100,100,\nA,2021,100.125,100,0\n"
    _, out, _ = run(capsys, tmp_path, text)
    row = json.loads(out)["rows"][1]
    assert row["energy_growth_pct"] == 0.13  # 0.125 % rounds half up, as bulletins print it
    assert not math.isnan(row["intensity_change_pct"])


# --- what the CO2 extension added --------------------------------------------------------------

CO2_DATA = DATA.replace("gdp_real_growth_pct\n", "gdp_real_growth_pct,co2_t,feedstock_tce\n")
for _old, _new in [
    ("甲省,2020,10000,5000,\n", "甲省,2020,10000,5000,,20000,500\n"),
    ("甲省,2021,10200,5600,6.0\n", "甲省,2021,10200,5600,6.0,20100,500\n"),
    ("甲省,2022,10300,6000,3.0\n", "甲省,2022,10300,6000,3.0,20000,500\n"),
    ("乙省,2020,8000,4000,\n", "乙省,2020,8000,4000,,,\n"),
    ("乙省,2021,8100,4300,5.0\n", "乙省,2021,8100,4300,5.0,,\n"),
    ("乙省,2022,8000,4500,4.0\n", "乙省,2022,8000,4500,4.0,,\n"),
]:
    CO2_DATA = CO2_DATA.replace(_old, _new)
CO2_TARGET = ["--co2-target-pct", "18"]


def test_old_invocations_print_the_same_fields_plus_the_new_ones(tmp_path, capsys):
    """An input and options of before the extension: the old fields first, same values; the new
    fields after them, null where there is no data."""
    _, out, _ = run(capsys, tmp_path, DATA, *TARGET)
    data = json.loads(out)
    for r in data["rows"]:
        assert list(r)[: len(OLD_KEYS)] == OLD_KEYS
        assert r["co2_t"] is None and r["co2_intensity_change_pct"] is None
        assert r["co2_progress_pct"] is None
    assert data["rows"][2]["energy_assessed_tce"] == 10300.0  # no deductions in force
    assert data["parameters"]["co2_target_pct"] is None
    for key in ("base_year", "cumulative_from_year", "target_pct", "target_start", "target_end"):
        assert key in data["parameters"]
    _, out, _ = run(capsys, tmp_path, DATA, "--format", "csv")
    header = out.splitlines()[0].split(",")
    assert header[: len(OLD_KEYS)] == OLD_KEYS and header[len(OLD_KEYS) :] == NEW_KEYS


def test_co2_fields_from_a_co2_column(tmp_path, capsys):
    """甲省 CO2 20000 / 20100 / 20000 t over GDP 5000 / 5300 / 5459 (2020 prices): intensities
    4.0000, 3.7925, 3.6637; changes −5.19 %, −3.40 %; cumulative −8.41 %; progress toward 18 %
    ln(1 − 0.084075)/ln(0.82) = 44.25 % (log). 原料用能 500 tce is deducted from the total."""
    _, out, _ = run(capsys, tmp_path, CO2_DATA, *TARGET, *CO2_TARGET)
    data = json.loads(out)
    r = data["rows"][2]
    assert r["co2_t"] == 20000.0
    assert r["co2_intensity_t_per_10k_yuan"] == 3.6637
    assert r["co2_intensity_change_pct"] == -3.40  # 3.6637 / 3.7925 − 1
    assert r["cumulative_co2_intensity_change_pct"] == -8.41  # 3.6637 / 4 − 1 = −8.4075 %
    assert r["co2_progress_pct"] == round(math.log(1 - 0.084075) / math.log(0.82) * 100, 2)
    assert r["co2_progress_pct"] == 44.25
    assert r["energy_assessed_tce"] == 9800.0
    # 原料用能 is out of the intensity as well (发改环资〔2022〕803号): 9 800 / 5 459 = 1.7952 against
    # 9 500 / 5 000 = 1.9000 → −5.5158 %; ln(1 − 0.055158)/ln(1 − 0.135) = 39.12 %
    assert r["progress_pct"] == 39.12 and r["progress_definition"] == "log"
    assert data["rows"][1]["co2_intensity_change_pct"] == -5.19  # 3.7925 / 4 − 1 = −5.1875 %
    other = data["rows"][4]  # 乙省: no CO2 data → null CO2 fields
    assert other["co2_t"] is None and other["co2_progress_pct"] is None
    assert other["energy_assessed_tce"] == 8100.0
    assert data["parameters"]["co2_target_pct"] == 18.0
    prov = data["provenance"]
    assert "co2_progress_frac" in prov and "co2_intensity_change_frac" in prov
    assert "rate basis rounded_intensity" in prov["co2_intensity_change_frac"]["rule"]


def test_co2_target_without_an_energy_target(tmp_path, capsys):
    _, out, _ = run(
        capsys,
        tmp_path,
        CO2_DATA,
        *CO2_TARGET,
        "--target-start",
        "2020",
        "--target-end",
        "2025",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[2]["co2_progress_pct"] == "44.25"
    assert rows[2]["progress_pct"] == ""
    assert rows[2]["progress_definition"] == "log"
    assert rows[3]["co2_t"] == "" and rows[3]["co2_progress_pct"] == ""


def test_rate_basis_rounds_the_intensities_first(tmp_path, capsys):
    """1.3000 → 1.2521 prints −3.68 % (not the −3.69 % of the unrounded 1.30004 → 1.25205)."""
    text = (
        "region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,co2_t\n"
        "A,2020,13000.4,10000,,13000.4\nA,2021,12520.5,10000,0,12520.5\n"
    )
    _, out, _ = run(capsys, tmp_path, text)
    data = json.loads(out)
    r = data["rows"][1]
    assert (r["intensity_tce_per_10k_yuan"], r["intensity_change_pct"]) == (1.2521, -3.68)
    assert r["co2_intensity_change_pct"] == -3.68
    assert data["rows"][0]["intensity_tce_per_10k_yuan"] == 1.3
    basis = data["parameters"]["rate_basis"]
    assert basis["rule"] == "rounded_intensity" and basis["intensity_places"] == 4
    assert "platform rule" in basis["source"]
    assert "round(intensity[t], 4)" in data["provenance"]["intensity_change_frac"]["formula"]


def test_table_format(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, CO2_DATA, *TARGET, "--format", "table")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == KEYS
    body = lines[1:7]
    assert [line.split()[0] for line in body] == ["甲省"] * 3 + ["乙省"] * 3
    assert all(len(line.split()) == len(KEYS) for line in body)
    assert "—" in body[3]  # 乙省 2020: no CO2 → a dash

    def width(text):
        import unicodedata

        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    # right-aligned numbers: each column ends at the same display position on every line
    for key in ("year", "intensity_change_pct", "co2_t"):
        end = width(lines[0][: lines[0].index(key) + len(key)])
        for line in body:
            cell = line.split()[KEYS.index(key)]
            start = [i for i in range(len(line)) if line.startswith(cell, i)]
            assert any(width(line[: i + len(cell)]) == end for i in start), (key, line)
    assert "rate basis rounded_intensity" in out


def test_gb18030_and_utf8_bom_input(tmp_path, capsys):
    _, expected, _ = run(capsys, tmp_path, CO2_DATA, *TARGET)
    for encoding in ("gb18030", "gbk", "utf-8-sig"):
        code, out, err = run(capsys, tmp_path, CO2_DATA, *TARGET, encoding=encoding)
        assert code == 0, err
        assert out == expected, encoding
        assert json.loads(out)["rows"][0]["region"] == "甲省"
    code, out, err = run(capsys, tmp_path, b"region,year\n\x80\xff\xff\n")
    assert code == 2 and "not UTF-8 or GB18030/GBK text" in err


FUEL_DATA = (
    "region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,raw_coal_10k_t,"
    "feedstock_raw_coal_10k_t,natural_gas_100m_m3,electricity_net_import_100m_kwh\n"
    "甲省,2021,10000,5000,,1.2,0.2,0.01,0.05\n"
    "甲省,2022,10200,5600,6.0,1.1,,0.02,-0.03\n"
)


def test_co2_computed_from_the_fuel_columns(tmp_path, capsys):
    """co2_t per row from the fuel columns through the loader (co2_from_columns): 2022 =
    1.1 万吨 原煤 + 0.02 亿m³ 天然气 − 0.03 亿kWh net export × 0.5366 tCO2/MWh."""
    from dualcontrol.reference.regional_co2 import co2_from_columns

    _, out, _ = run(capsys, tmp_path, FUEL_DATA, "--format", "json")
    data = json.loads(out)
    expected = co2_from_columns(
        {
            "raw_coal_10k_t": 1.1,
            "natural_gas_100m_m3": 0.02,
            "electricity_net_import_100m_kwh": -0.03,
        },
        year=2022,
    ).co2_t
    hand = 1.1 * 19002.988488 + 0.02 * 216218.8809 - 0.03 * 100000 * 0.5366
    assert expected == pytest.approx(hand, rel=1e-12)
    assert data["rows"][1]["co2_t"] == round(hand, 4)
    first = (1.2 - 0.2) * 19002.988488 + 0.01 * 216218.8809 + 0.05 * 100000 * 0.5568
    assert data["rows"][0]["co2_t"] == round(first, 4)
    assert data["rows"][0]["co2_intensity_t_per_10k_yuan"] == round(first / 5000, 4)
    prov = data["provenance"]
    assert prov["co2_t"]["inputs"]["甲省 2022"] == "computed from the fuel columns"
    row_prov = prov["co2_t (甲省, 2022)"]
    assert row_prov["inputs"]["grid_factor_t_per_mwh"] == "0.5366"
    assert any("table A 原煤" in n for n in row_prov["notes"])
    assert any(v.startswith("regional_co2_fuels.csv@") for v in row_prov["versions"])


def test_co2_column_wins_over_the_fuel_columns(tmp_path, capsys):
    text = FUEL_DATA.replace(
        "electricity_net_import_100m_kwh\n", "electricity_net_import_100m_kwh,co2_t\n"
    )
    text = text.replace("0.01,0.05\n", "0.01,0.05,\n").replace("0.02,-0.03\n", "0.02,-0.03,99999\n")
    _, out, _ = run(capsys, tmp_path, text)
    data = json.loads(out)
    assert data["rows"][1]["co2_t"] == 99999.0
    first = (1.2 - 0.2) * 19002.988488 + 0.01 * 216218.8809 + 0.05 * 100000 * 0.5568
    assert data["rows"][0]["co2_t"] == round(first, 4)  # from the fuel columns
    summary = data["provenance"]["co2_t"]
    assert summary["inputs"]["甲省 2022"] == "co2_t as given"
    assert any("co2_t given and fuel columns too" in n and "row 3" in n for n in summary["notes"])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "1.1,,0.02",
            "-1.1,,0.02",
            "row 3 (region 甲省, year 2022): raw_coal_10k_t must not be negative",
        ),
        ("1.1,,0.02", "coal,,0.02", "row 3: raw_coal_10k_t is not a number: 'coal'"),
        (
            "1.2,0.2,",
            "1.2,2.2,",
            "row 2 (region 甲省, year 2021): feedstock_raw_coal_10k_t (2.2) exceeds",
        ),
    ],
)
def test_bad_fuel_columns_name_the_row_and_the_column(tmp_path, capsys, old, new, message):
    code, out, err = run(capsys, tmp_path, FUEL_DATA.replace(old, new))
    assert code == 2 and out == ""
    assert message in err
