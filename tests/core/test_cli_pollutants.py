"""`dualcontrol pollutants FILE.csv`: emissions against a base year, a reduction target or a cap
(issue 19; dualcontrol.core.pollutants)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from dualcontrol.cli import main

KEYS = ["region", "year", "pollutant", "emissions_t", "change_pct", "cumulative_change_pct"]
# MEP 2014 annual assessment (shared/reference/15 §4 and 01): COD 2294.6万吨 in 2014, −2.47 % on
# 2013 and −10.1 % on 2010; the 2010 and 2013 figures are implied from those rates (rounded).
NATIONAL = """region,year,pollutant,emissions_t
全国,2010,COD,25524000
全国,2013,COD,23527000
全国,2014,COD,22946000
"""


def run(capsys, tmp_path, text, *argv, encoding="utf-8"):
    path = tmp_path / "emissions.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    code = main(["pollutants", str(path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_rows_against_the_base_year_and_a_target(tmp_path, capsys):
    code, out, err = run(capsys, tmp_path, NATIONAL, "--base-year", "2010", "--target-pct", "8")
    assert code == 0 and not err
    data = json.loads(out)
    assert all(list(r) == [*KEYS, "progress_pct"] for r in data["rows"])
    base, y13, y14 = data["rows"]
    assert base == {
        "region": "全国",
        "year": 2010,
        "pollutant": "cod",
        "emissions_t": 25524000.0,
        "change_pct": None,
        "cumulative_change_pct": 0.0,
        "progress_pct": 0.0,
    }
    assert y13["change_pct"] is None  # 2012 is not in the file: no change against it
    assert y14["change_pct"] == -2.47
    assert y14["cumulative_change_pct"] == -10.10
    assert y14["progress_pct"] == 126.25  # achieved 10.10 % ÷ target 8 %
    params = data["parameters"]
    assert params["base_year"] == 2010 and params["target_pct"] == 8.0
    assert params["progress_definition"] == "linear" and params["cap_t"] is None
    assert params["pollutants"] == {"cod": "化学需氧量"}
    assert "reduction / target" in data["provenance"]["progress_frac"]["formula"]
    assert "cap_used_frac" not in data["provenance"]


def test_log_progress(tmp_path, capsys):
    code, out, _ = run(
        capsys, tmp_path, NATIONAL, "--base-year", "2010", "--target-pct", "8", "--progress", "log"
    )
    assert code == 0
    row = json.loads(out)["rows"][-1]
    # ln(1 − achieved) / ln(1 − target) = ln(22946000 / 25524000) / ln(0.92)
    assert row["progress_pct"] == 127.70


def test_cap_used_and_csv(tmp_path, capsys):
    """青海省“十三五”方案: COD within 10.32万吨 by 2020, −1.1 % on 2015 (2015 ≈ 10.4348万吨);
    the 2016 figure is made up."""
    text = "region,year,pollutant,emissions_t\n青海省,2015,化学需氧量,104348\n青海省,2016,化学需氧量,103500\n"
    code, out, _ = run(
        capsys, tmp_path, text, "--base-year", "2015", "--cap-t", "103200", "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [*KEYS, "cap_used_pct"]
    assert rows[0]["cap_used_pct"] == "101.11" and rows[0]["change_pct"] == ""
    assert rows[1]["cap_used_pct"] == "100.29"
    assert rows[1]["change_pct"] == rows[1]["cumulative_change_pct"] == "-0.81"


def test_without_target_or_cap(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, NATIONAL, "--base-year", "2010", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["progress_pct"] == "" and rows[-1]["cumulative_change_pct"] == "-10.1"
    data = json.loads(run(capsys, tmp_path, NATIONAL, "--base-year", "2010")[1])
    assert data["parameters"]["progress_definition"] is None
    assert "progress_frac" not in data["provenance"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("cod", "cod"),
        ("COD", "cod"),
        ("ＣＯＤ", "cod"),  # full-width
        ("w01018", "cod"),  # HJ 212-2017
        ("011", "cod"),  # HJ/T 212-2005, mapped to w01018
        ("化学需氧量", "cod"),
        ("NH3-N", "nh3n"),
        ("w21003", "nh3n"),
        ("060", "nh3n"),
        ("氨氮", "nh3n"),
        ("SO2", "so2"),
        ("a21026", "so2"),
        ("二氧化硫", "so2"),
        ("NOx", "nox"),
        ("a21002", "nox"),
        ("氮氧化物", "nox"),
        ("VOCs", "vocs"),
        ("挥发性有机物", "vocs"),
    ],
)
def test_a_pollutant_by_its_code_hj212_code_or_chinese_name(tmp_path, capsys, name, code):
    text = f"region,year,pollutant,emissions_t\n甲市,2020,{name},10\n甲市,2021,{name},9\n"
    status, out, _ = run(capsys, tmp_path, text, "--base-year", "2020")
    assert status == 0
    assert {r["pollutant"] for r in json.loads(out)["rows"]} == {code}


def test_gb18030_input_and_the_table(tmp_path, capsys):
    text = (
        "region,year,pollutant,emissions_t,source\n"
        "昆明市,2025,氮氧化物,36000,合成\n"
        "昆明市,2026,氮氧化物,35000,合成\n"
        "昆明市,2025,挥发性有机物,28000,合成\n"
        "昆明市,2026,挥发性有机物,28500,合成\n"
    )
    code, out, _ = run(
        capsys,
        tmp_path,
        text,
        "--base-year",
        "2025",
        "--target-pct",
        "10",
        "--format",
        "table",
        encoding="gb18030",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [*KEYS, "progress_pct"]
    assert lines[1].split() == ["昆明市", "2025", "nox", "36000.00", "—", "0.00", "0.00"]
    assert lines[2].split() == ["昆明市", "2026", "nox", "35000.00", "-2.78", "-2.78", "27.78"]
    assert lines[4].split()[-1] == "-17.86"  # VOCs up: negative progress
    assert len({len(line) for line in lines[:1]}) == 1


def test_every_bad_row_is_listed_and_nothing_printed(tmp_path, capsys):
    text = (
        "region,year,pollutant,emissions_t\n"
        "甲市,2020,COD,100\n"
        ",20x,pm2.5,-1\n"  # row 3: four problems
        "甲市,2021,COD,abc,9\n"  # row 4: too many cells
        "甲市,2021,COD,99\n"
        "甲市,2021,化学需氧量,98\n"  # row 6: the same pollutant again
        "乙市,2021,NOx,\n"  # row 7: no amount
    )
    code, out, err = run(capsys, tmp_path, text, "--base-year", "2020")
    assert code == 2 and out == ""
    assert "emissions.csv rejected, nothing computed" in err
    for expected in (
        "row 3: region is empty; year '20x' is not a year (1949–2100); unknown pollutant 'pm2.5'",
        "emissions_t '-1' must be a non-negative number",
        "row 4: 5 cells, the header has 4",
        "row 6: region 甲市, year 2021, pollutant cod already given in row 5",
        "row 7: emissions_t '' is not a number",
    ):
        assert expected in err
    assert err.index("row 3") < err.index("row 4") < err.index("row 6") < err.index("row 7")


def test_a_region_without_its_base_year_is_refused(tmp_path, capsys):
    text = NATIONAL + "甲省,2014,SO2,100\n甲省,2014,NOx,100\n"
    code, out, err = run(capsys, tmp_path, text, "--base-year", "2010")
    assert code == 2 and out == ""
    assert "row 5: region 甲省, pollutant so2 has no 2010 row (the base year)" in err
    assert "row 6: region 甲省, pollutant nox has no 2010 row" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--target-pct", "0"], "--target-pct must be between 0 and 100"),
        (["--target-pct", "100"], "--target-pct must be between 0 and 100"),
        (["--cap-t", "-5"], "--cap-t must be a positive number"),
    ],
)
def test_bad_targets(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, tmp_path, NATIONAL, "--base-year", "2010", *argv)
    assert code == 2 and message in err


def test_a_target_and_a_cap_are_not_given_together(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run(capsys, tmp_path, NATIONAL, "--base-year", "2010", "--target-pct", "8", "--cap-t", "1")
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region,year,emissions_t\n甲,2020,1\n", "missing column(s): pollutant"),
        ("", "empty file"),
        ("region,year,pollutant,emissions_t\n", "no data rows"),
        (b"\xff\xfe\x00", "not UTF-8 or GB18030/GBK"),
    ],
)
def test_unusable_files(tmp_path, capsys, text, message):
    code, out, err = run(capsys, tmp_path, text, "--base-year", "2020")
    assert code == 2 and out == "" and message in err


def test_a_missing_file(tmp_path, capsys):
    assert main(["pollutants", str(tmp_path / "none.csv"), "--base-year", "2020"]) == 2
    assert "cannot read" in capsys.readouterr().err
