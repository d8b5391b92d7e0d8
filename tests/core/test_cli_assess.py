"""`dualcontrol assess FILE.csv --sheet … --format json|csv` (issue 5, batch command).

Scores per 国发〔2007〕36号 (shared/reference/04_assessment_scoring.md): target 40 (+ bonus up to 9),
measures 60, grades 95 / 80 / 60, missing the intensity target → 未完成 (veto).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dualcontrol.cli import main
from dualcontrol.reference.scoring_sheets import scoring_sheet

EXAMPLE = """region,target_reduction_pct,achieved_reduction_pct,measures_score
甲市,3.5,3.85,55
乙市,3.5,3.4,60
丙市,3.5,3.15,50.5
丁市,3.5,3.5,39.99
"""


def write(tmp_path: Path, text: str, name: str = "regions.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["assess", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [write(tmp_path, EXAMPLE), "--sheet", "gf-2007-36", "--format", "csv"], capsys
    )
    version = scoring_sheet("gf-2007-36").version
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "region,target_score,measures_score,total_score,grade,veto,sheet_version",
        f"甲市,43,55,98,超额完成,false,{version}",  # 1.1 → 40 + 3
        f"乙市,36,60,96,未完成,true,{version}",  # high score, target missed
        f"丙市,36,50.5,86.5,未完成,true,{version}",  # 3.15 / 3.5 = 0.9 exactly → 36
        f"丁市,40,39.99,79.99,基本完成,false,{version}",
    ]


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [write(tmp_path, EXAMPLE), "--sheet", "gf-2007-36", "--format", "json"], capsys
    )
    assert code == 0
    records = json.loads(out)
    assert [r["region"] for r in records] == ["甲市", "乙市", "丙市", "丁市"]
    first = records[0]
    assert {
        k: first[k] for k in ("target_score", "measures_score", "total_score", "grade", "veto")
    } == {
        "target_score": 43,
        "measures_score": 55,
        "total_score": 98,
        "grade": "超额完成",
        "veto": False,
    }
    assert first["sheet"] == "gf-2007-36"
    assert first["items"][0]["figures"] == {
        "target_frac": 0.035,
        "actual_frac": 0.0385,
        "completion_frac": 1.1,
    }
    second = records[1]
    assert (second["grade"], second["score_grade"], second["veto"]) == ("未完成", "超额完成", True)
    assert second["veto_items"] == ["intensity"]


def test_default_format_is_json_and_default_sheet_gf_2007_36(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([write(tmp_path, EXAMPLE)], capsys)
    assert code == 0 and json.loads(out)[0]["sheet"] == "gf-2007-36"


def test_issue_date_adds_consequences_with_due_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, EXAMPLE)
    code, out, _ = run([path, "--format", "csv", "--issue-date", "2024-01-31"], capsys)
    assert code == 0
    row = out.splitlines()[2]
    assert row.startswith("乙市,36,60,96,未完成,true,")
    assert row.endswith(
        "high_energy_project_approval_suspended; written_rectification_report@2024-02-29; "
        "accountability; results_announced; cadre_evaluation"
    )
    code, out, _ = run([path, "--issue-date", "2024-01-31"], capsys)
    report = [
        c for c in json.loads(out)[1]["consequences"] if c["key"] == "written_rectification_report"
    ]
    assert report[0]["due_on"] == "2024-02-29"


def test_bom_and_excel_style_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff".encode() + EXAMPLE.replace("\n", "\r\n").encode("utf-8"))
    code, out, _ = run([str(path), "--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[1].startswith("甲市,43,")


def test_missing_column_is_an_operator_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "region,target_reduction_pct,measures_score\n甲市,3.5,50\n")
    code, out, err = run([path], capsys)
    assert (code, out) == (2, "")
    assert "missing column(s): achieved_reduction_pct" in err


def test_bad_rows_are_all_reported_and_nothing_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE + "戊市,3.5,abc,50\n己市,3.5,3.5,61\n庚市,0,1,50\n"
    code, out, err = run([write(tmp_path, text), "--format", "csv"], capsys)
    assert (code, out) == (2, "")
    assert "line 6: achieved_reduction_pct: 'abc' is not a number" in err
    assert "nothing was scored" in err


def test_a_region_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([write(tmp_path, EXAMPLE + "甲市,3.5,3.6,50\n")], capsys)
    assert (code, out) == (2, "")
    assert "line 6: 甲市 already on line 2" in err


def test_score_errors_name_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE + "己市,3.5,3.5,61\n庚市,0,1,50\n"
    code, out, err = run([write(tmp_path, text)], capsys)
    assert (code, out) == (2, "")
    assert "line 6: 己市: measures" in err and "between 0 and 60" in err
    assert "line 7: 庚市" in err and "positive target" in err


def test_unknown_sheet_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([write(tmp_path, EXAMPLE), "--sheet", "nope"], capsys)
    assert code == 2 and "available: co2-13th-fyp, co2-15th-fyp, co2-2014, dc-14th-fyp" in err
    code, _, err = run([str(tmp_path / "absent.csv")], capsys)
    assert code == 2 and "no such file" in err


def test_county_sheet_takes_item_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = (
        "region,target_reduction_pct,achieved_reduction_pct,measures_organisation,"
        "measures_target_breakdown,measures_industrial_structure,measures_investment,"
        "measures_technology,measures_key_enterprises,measures_law_enforcement,measures_groundwork"
    )
    text = f"{header}\n某县,4,4,2,3,18,10,9,8,3,5\n某区,4,4,3,3,18,10,9,8,3,5\n"
    path = write(tmp_path, text)
    code, out, err = run([path, "--sheet", "gf-2007-36-county", "--format", "csv"], capsys)
    assert code == 2 and "organisation" in err and "between 0 and 2" in err
    path = write(tmp_path, f"{header}\n某县,4,4,2,3,18,10,9,8,3,5\n")
    code, out, _ = run([path, "--sheet", "gf-2007-36-county", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[1].startswith("某县,40,58,98,超额完成,false,")


def test_dual_control_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "region,target_reduction_pct,achieved_reduction_pct,incentive_reduction_pct,"
        "total_cap_tce,total_consumption_tce,feedstock_deduction_tce,measures_score\n"
        "甲省,3,3.6,3.5,20000000,20500000,,50\n"
        "乙省,3,3.1,3.5,20000000,20500000,,50\n"
        "丙省,3,3.1,3.5,20000000,20500000,600000,50\n"
    )
    code, out, _ = run([write(tmp_path, text), "--sheet", "dc-14th-fyp"], capsys)
    assert code == 0
    status = {r["region"]: r["items"][1]["status"] for r in json.loads(out)}
    assert status == {"甲省": "exempt", "乙省": "missed", "丙省": "met"}


def test_list_sheets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--list-sheets"], capsys)
    assert code == 0
    assert "gf-2007-36\t" in out
    assert "required: region,target_reduction_pct,achieved_reduction_pct" in out
    assert "required: enterprise,target_saving_tce,achieved_saving_tce" in out


CO2_2014 = """region,annual_target_pct,annual_achieved_pct,cumulative_target_pct,cumulative_achieved_pct,measures_score
甲省,3.9,4.2,14.0,14.5,42
乙省,3.9,3.5,14.0,15.0,50
丙省,4.0,3.6,14.0,14.0,45
丁省,4.0,3.996,14.0,14.0,45
"""


def test_co2_2014_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NDRC 2014 carbon sheet (14_carbon_assessment.md §1): 25 + 25 by completion × 25, both veto,
    50 for the qualitative parts; 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60; a missed target → 不合格."""
    path = write(tmp_path, CO2_2014)
    code, out, err = run([path, "--sheet", "co2-2014", "--format", "csv"], capsys)
    version = scoring_sheet("co2-2014").version
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "region,target_score,measures_score,total_score,grade,veto,sheet_version",
        f"甲省,50,42,92,优秀,false,{version}",
        f"乙省,47.44,50,97.44,不合格,true,{version}",  # 3.5 / 3.9 × 25 = 22.44; annual missed
        f"丙省,47.5,45,92.5,不合格,true,{version}",  # completion 0.9 → 22.5
        f"丁省,50,45,95,优秀,false,{version}",  # 3.996 is printed 4.00: target met
    ]
    code, out, _ = run([path, "--sheet", "co2-2014"], capsys)
    records = json.loads(out)
    assert [(r["total_score"], r["grade"], r["veto"]) for r in records] == [
        (92, "优秀", False),
        (97.44, "不合格", True),
        (92.5, "不合格", True),
        (95, "优秀", False),
    ]
    assert records[1]["veto_items"] == ["annual"]
    annual = records[3]["items"][0]
    assert annual["figures"]["compared_actual_frac"] == 0.04
    assert annual["compare_places"] == 2 and "platform rule" in annual["compare_rule"]
    assert annual["range_bound"] is None


def test_co2_2014_missing_cumulative_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "region,annual_target_pct,annual_achieved_pct,measures_score\n甲省,3.9,4.2,42\n"
    code, out, err = run([write(tmp_path, text), "--sheet", "co2-2014"], capsys)
    assert (code, out) == (2, "")
    assert "missing column(s): cumulative_target_pct, cumulative_achieved_pct" in err


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_gbk_and_gb18030_files_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(CO2_2014.replace("\n", "\r\n").encode(encoding))
    code, out, err = run([str(path), "--sheet", "co2-2014", "--format", "csv"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[1].startswith("甲省,50,42,92,优秀,false,")


def test_undecodable_file_is_an_operator_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"region,x\n\xff\xff\xff,1\n")
    code, out, err = run([str(path)], capsys)
    assert (code, out) == (2, "")
    assert "GB18030" in err


def test_co2_15th_fyp_target_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A target cell "4.0-4.5": the preset's range_bound (lower, platform rule) counts."""
    text = (
        "region,annual_target_pct,annual_achieved_pct,cumulative_target_pct,cumulative_achieved_pct,"
        "co2_cap_tco2,co2_emissions_tco2,carbon_budget_tco2,budget_emissions_tco2,measures_score\n"
        "甲省,4.0-4.5,4.2,7.5,7.6,500000000,510000000,505000000,510000000,40\n"
        "乙省,4.0–4.5,3.9,7.5,7.6,500000000,490000000,505000000,490000000,40\n"
    )
    code, out, err = run([write(tmp_path, text), "--sheet", "co2-15th-fyp"], capsys)
    assert (code, err) == (0, "")
    first, second = json.loads(out)
    annual = first["items"][0]
    assert annual["range_bound"] == "lower" and annual["status"] == "met"
    assert annual["figures"]["target_upper_frac"] == 0.045
    assert [i["status"] for i in first["items"][2:]] == ["missed", "missed"]
    assert (first["total_score"], first["grade"], first["veto"]) == (90, "优秀", False)
    assert (second["grade"], second["veto"]) == ("不合格", True)


def test_a_range_on_a_sheet_without_range_rule_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "region,target_reduction_pct,achieved_reduction_pct,measures_score\n甲市,3.5-4,3.6,50\n"
    code, out, err = run([write(tmp_path, text)], capsys)
    assert (code, out) == (2, "")
    assert "range_bound" in err
    text = "region,target_reduction_pct,achieved_reduction_pct,measures_score\n甲市,4-3.5,3.6,50\n"
    code, out, err = run([write(tmp_path, text)], capsys)
    assert code == 2 and "runs backwards" in err


def test_list_sheets_includes_the_carbon_sheets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--list-sheets"], capsys)
    assert code == 0
    for name in ("co2-2014", "co2-13th-fyp", "co2-15th-fyp"):
        assert f"{name}\t" in out
    assert (
        "required: region,annual_target_pct,annual_achieved_pct,cumulative_target_pct,"
        "cumulative_achieved_pct\n  optional: measures_score\n"
    ) in out


def test_the_command_is_pure() -> None:
    probe = "import sys, dualcontrol.commands.assess; assert 'django' not in sys.modules"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
