"""``dualcontrol warn`` — rate a CSV with a barometer rule set (sources: see test_warning.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from dualcontrol.cli import main

NDRC_ROWS = """\
region,indicator,required,achieved
东州,intensity_reduction,3.2,3.5
西州,intensity_reduction,3.2,2.88
南州,intensity_reduction,3.2,2.8799
东州,energy_total,1000000,1100000
西州,energy_total,1000000,1100000.01
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["warn", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_json_default_rule_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, write(tmp_path, NDRC_ROWS), "--format", "json")
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    assert [(r["region"], r["indicator"], r["level"], r["colour"]) for r in rows] == [
        ("东州", "intensity_reduction", "3", "green"),
        ("西州", "intensity_reduction", "2", "yellow"),  # exactly 10 % short
        ("南州", "intensity_reduction", "1", "red"),
        ("东州", "energy_total", "2", "yellow"),  # exactly 10 % over
        ("西州", "energy_total", "1", "red"),
    ]
    assert {r["rule_set"] for r in rows} == {"ndrc-2021"}
    assert rows[0]["rule_set_version"].startswith("warning_ndrc_2021.yaml@")
    west = rows[1]
    assert (west["unit"], west["required"], west["achieved"], west["gap"]) == (
        "pct",
        3.2,
        2.88,
        0.32,
    )
    assert (west["gap_pct_of_required"], west["gap_pp"], west["completion_pct"]) == (10, 0.32, 90)
    assert west["met"] is False and west["warning"] is True
    assert rows[2]["consequences"] == ["暂停新上项目节能审查"]
    assert rows[3]["unit"] == "tce" and rows[3]["gap"] == 100000 and rows[3]["gap_pp"] is None


def test_csv_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, write(tmp_path, NDRC_ROWS), "--rules", "ndrc-2021", "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:5] == ["region", "indicator", "level", "colour", "rule_set"]
    assert [r["level"] for r in rows] == ["3", "2", "1", "2", "1"]
    assert rows[1]["gap_pct_of_required"] == "10"
    assert rows[2]["consequences"] == "暂停新上项目节能审查"


def test_local_l1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "region,indicator,required,achieved\nA,intensity_reduction,4,3.6\nB,intensity_reduction,4,2\n"
    code, out, _ = run(capsys, write(tmp_path, text), "--rules", "local-l1", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["level"], r["colour"], r["completion_pct"]) for r in rows] == [
        ("1", "yellow", 90),
        ("3", "red", 50),
    ]


def test_local_l2_with_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "region,indicator,required,achieved,stage\n"
        "A,intensity_reduction,3.5,3.2,half_year\n"
        "B,intensity_reduction,3.5,3.3,half_year\n"
        "C,intensity_reduction,3.5,3.0,three_quarters\n"
    )
    code, out, _ = run(capsys, write(tmp_path, text), "--rules", "local-l2", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["level"], r["colour"], r["level_id"], r["stage"]) for r in rows] == [
        ("Ⅰ", "yellow", "I", "half_year"),
        ("", "green", "below-threshold", "half_year"),
        ("Ⅱ", "orange", "II", "three_quarters"),
    ]
    assert rows[0]["gap_pp"] == "0.3"


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        (
            "region,indicator,required,achieved\nA,intensity_reduction,3.2,3\nB,water,1,1\n",
            [],
            "line 3 (region B): unknown indicator 'water'",
        ),
        (
            "region,indicator,required,achieved\nA,intensity_reduction,three,3\n",
            [],
            "line 2 (region A): required 'three' is not a number",
        ),
        (
            "region,indicator,required,achieved\n,intensity_reduction,3,3\n",
            [],
            "line 2: region is empty",
        ),
        ("region,indicator,required\nA,intensity_reduction,3\n", [], "missing column(s): achieved"),
        (
            "region,indicator,required,achieved\nA,intensity_reduction,3.5,3\n",
            ["--rules", "local-l2"],
            "missing column(s): stage",
        ),
        (
            "region,indicator,required,achieved,stage\nA,intensity_reduction,3.5,3,q1\n",
            ["--rules", "local-l2"],
            "line 2 (region A): rule set local-l2: unknown stage 'q1'",
        ),
        (
            "region,indicator,required,achieved\nA,energy_total,100,90\n",
            ["--rules", "local-l1"],
            "line 2 (region A): rule set local-l1 has no rule for indicator 'energy_total'",
        ),
        (
            "region,indicator,required,achieved\nA,energy_total,100,-1\n",
            [],
            "line 2 (region A): energy totals must not be negative",
        ),
        (
            "region,indicator,required,achieved\nA,intensity_reduction,0,1\n",
            [],
            "line 2 (region A): measure gap_frac_of_required needs a required figure > 0",
        ),
        ("region,indicator,required,achieved\n", [], "no data rows"),
        (
            "region,indicator,required,achieved\nA,intensity_reduction,3,3\n",
            ["--rules", "ndrc-2099"],
            "unknown rule set 'ndrc-2099'",
        ),
    ],
)
def test_bad_input_is_an_operator_error_naming_the_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, write(tmp_path, text), *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert err.startswith("dualcontrol warn: error:")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.csv"))
    assert code == 2 and "cannot read" in err


def test_excel_bom_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffregion,indicator,required,achieved\nA,intensity_reduction,3,3\n".encode())
    code, out, _ = run(capsys, str(p))
    assert code == 0 and json.loads(out)[0]["level"] == "3"


def test_every_bad_row_is_listed_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: ``warn`` stopped at a file's first error."""
    text = (
        "region,indicator,required,achieved\n"
        "甲市,intensity_reduction,abc,3\n"
        ",intensity_reduction,3,3\n"
        "乙市,no_such_indicator,3,3\n"
        "丙市,energy_total,-5,x\n"
        "丁市,intensity_reduction,3,3\n"
    )
    code, out, err = run(capsys, write(tmp_path, text))
    assert code == 2 and out == ""
    for fragment in (
        "line 2 (region 甲市): required 'abc' is not a number",
        "line 3: region is empty",
        "line 4 (region 乙市): unknown indicator 'no_such_indicator'",
        "line 5 (region 丙市): achieved 'x' is not a number",
    ):
        assert fragment in err, fragment
    assert "丁市" not in err


def test_gb18030_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "gbk.csv"
    p.write_bytes(
        "region,indicator,required,achieved\n甲市,intensity_reduction,3,3\n".encode("gb18030")
    )
    code, out, _ = run(capsys, str(p))
    assert code == 0 and json.loads(out)[0]["region"] == "甲市"
