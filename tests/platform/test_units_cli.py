"""``dualcontrol units grade|surcharge FILE.csv`` (issue 16): JSON and CSV output carrying the
input's ``unit``, GB18030 input, whole-file refusal listing every problem on stderr with nothing on
stdout, and no Django import."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from dualcontrol.cli import main

GRADE = """unit,product,indicator,value,clinker_ratio_pct
甲水泥厂,水泥熟料,综合能耗,100,
乙水泥厂,cement_clinker,comprehensive_energy,117.1,
丙水泥厂,水泥,单位产品综合能耗,100,80
丁铝厂,电解铝,铝液交流电耗,13350,
"""

SURCHARGE = """unit,year,product,indicator,value
甲铝厂,2015,电解铝,铝液交流电耗,13700.1
乙铝厂,2023,electrolytic_aluminium,铝液综合交流电耗,13470.5
丙铝厂,2025,电解铝,molten_al_comprehensive_ac_power,13300
"""


def run(capsys, tmp_path, text, *argv, encoding="utf-8"):
    path = tmp_path / "rows.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    code = main(["units", argv[0], str(path), *argv[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_json(tmp_path, capsys):
    code, out, err = run(capsys, tmp_path, GRADE, "grade", "--on", "2024-06-30")
    assert code == 0 and not err
    data = json.loads(out)
    assert data["parameters"]["on"] == "2024-06-30"
    assert any(
        v.startswith("efficiency_limits.csv@") for v in data["parameters"]["reference_versions"]
    )
    a, b, c, d = data["rows"]
    assert [r["unit"] for r in data["rows"]] == ["甲水泥厂", "乙水泥厂", "丙水泥厂", "丁铝厂"]
    # GB 16780-2021 熟料 100/107/117; 标杆 100 / 基准 117
    assert (a["standard"], a["grade"], a["benchmark_position"]) == (
        "GB 16780-2021",
        "1",
        "benchmark",
    )
    assert a["next_grade"] is None and a["distance_to_next_grade"] is None
    assert (b["grade"], b["benchmark_position"], b["next_grade"]) == ("over", "below_baseline", "3")
    assert b["distance_to_next_grade"] == pytest.approx(0.1)
    # clinker ratio 80 %: limits 85.5/92.75/100 → 100 is 3级, 7.25 from 2级
    assert (c["grade"], c["grade3_limit"], c["distance_to_next_grade"]) == ("3", 100, 7.25)
    assert (d["standard"], d["grade"], d["benchmark_position"]) == ("GB 21346-2022", "3", "unknown")
    assert d["product"] == "electrolytic_aluminium" and d["value_unit"] == "kWh/t"


def test_grade_csv_gb18030_and_the_older_standard(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        tmp_path,
        GRADE,
        "grade",
        "--on",
        "2023-01-01",
        "--format",
        "csv",
        encoding="gb18030",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:4] == ["unit", "product", "indicator", "value"]
    assert rows[0]["unit"] == "甲水泥厂" and rows[0]["grade"] == "1"
    assert rows[1]["distance_to_next_grade"] == "0.1" and rows[1]["next_grade"] == "3"
    assert rows[3]["standard"] == "GB 21346-2013" and rows[3]["grade"] == "3"  # 限定值 13700
    assert rows[0]["next_grade"] == "" and rows[0]["distance_to_next_grade"] == ""


def test_grade_utf8_bom(tmp_path, capsys):
    code, out, _ = run(capsys, tmp_path, "\ufeff" + GRADE, "grade", "--format", "csv")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 4


def test_surcharge_json_and_csv(tmp_path, capsys):
    code, out, err = run(capsys, tmp_path, SURCHARGE, "surcharge")
    assert code == 0 and not err
    a, b, c = json.loads(out)["rows"]
    assert (a["unit"], a["surcharge_yuan_per_kwh"], a["rule"], a["tier"]) == (
        "甲铝厂",
        0.02,
        "al_tiered_2014",
        "second",
    )
    assert a["rule_version"].startswith("electricity_surcharges.yaml@")
    # 1239号: 13450 in 2023, 20.5 kWh over → two started steps of 20 → 0.02
    assert (b["surcharge_yuan_per_kwh"], b["rule"], b["tier"]) == (0.02, "al_tiered_2022", "step_2")
    assert (c["surcharge_yuan_per_kwh"], c["tier"]) == (
        0,
        "normal",
    )  # at 13300 (2025): no surcharge
    code, out, _ = run(capsys, tmp_path, SURCHARGE, "surcharge", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["unit"] for r in rows] == ["甲铝厂", "乙铝厂", "丙铝厂"]
    assert rows[0]["surcharge_yuan_per_kwh"] == "0.02" and rows[0]["rule"] == "al_tiered_2014"


def test_surcharge_with_a_provinces_punitive_rules(tmp_path, capsys):
    text = "unit,year,product,indicator,value\n甲,2022,水泥熟料,综合能耗,234\n乙,2022,水泥熟料,综合能耗,234.1\n"
    code, out, _ = run(
        capsys,
        tmp_path,
        text,
        "surcharge",
        "--region",
        "340000",
        "--format",
        "csv",
        encoding="gb18030",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["surcharge_yuan_per_kwh"], r["tier"]) for r in rows] == [
        ("0.1", "restricted"),  # “一倍以内（含一倍）”
        ("0.3", "eliminated"),
    ]
    code, out, err = run(capsys, tmp_path, text, "surcharge")  # national rules only
    assert code == 2 and out == "" and "no surcharge rule" in err
    code, out, err = run(capsys, tmp_path, text, "surcharge", "--region", "999999")
    assert code == 2 and out == "" and "no rules for this region" in err


def test_a_bad_grade_file_lists_every_problem(tmp_path, capsys):
    text = (
        "unit,product,indicator,value,clinker_ratio_pct,colour\n"
        ",水泥熟料,综合能耗,100,,\n"  # row 2: no unit
        "乙,钢铁,综合能耗,100,,\n"  # row 3: unknown product
        "丙,水泥熟料,铝液交流电耗,100,,\n"  # row 4: unknown indicator
        "丁,水泥熟料,综合能耗,abc,,\n"  # row 5: not a number
        "戊,水泥,单位产品综合能耗,100,,\n"  # row 6: required correction missing
        "己,电解铝,铝液交流电耗,13000,75,\n"  # row 7: correction the line does not take
        "庚,水泥,单位产品综合能耗,100,x,\n"  # row 8: correction not a number
        "辛,水泥熟料,综合能耗,100,,,extra\n"  # row 9: too many cells
        "壬,水泥熟料,综合能耗,100,,\n"  # fine
    )
    code, out, err = run(capsys, tmp_path, text, "grade")
    assert code == 2 and out == ""
    assert "rejected, nothing computed" in err
    for expected in [
        "row 1, column colour: unknown column",
        "row 2, column unit: empty",
        "row 3, column product/indicator: unknown product '钢铁'",
        "row 4, column product/indicator: product cement_clinker has no indicator",
        "row 5, column value: 'abc' is not a number",
        "row 6, column clinker_ratio_pct:",
        "row 7, column clinker_ratio_pct: GB 21346-2022 electrolytic_aluminium/molten_al_ac_power: unknown correction",
        "row 8, column clinker_ratio_pct: 'x' is not a number",
        "row 9: 7 cells, the header has 6",
    ]:
        assert expected in err, expected
    assert "壬" not in err


def test_a_bad_surcharge_file_lists_every_problem(tmp_path, capsys):
    text = (
        "unit,year,product,indicator,value\n"
        "甲,20x4,电解铝,铝液交流电耗,13700\n"
        "乙,2013,电解铝,铝液交流电耗,13700\n"
        "丙,2015,电解铝,铝液交流电耗,\n"
    )
    code, out, err = run(capsys, tmp_path, text, "surcharge")
    assert code == 2 and out == ""
    assert "row 2, column year: '20x4' is not a year" in err
    assert (
        "row 3, column product/indicator: no surcharge rule for electrolytic_aluminium/molten_al_ac_power in 2013"
        in err
    )
    assert "row 4, column value: empty" in err


def test_missing_columns_and_undecodable_files(tmp_path, capsys):
    code, out, err = run(capsys, tmp_path, "unit,product,value\n甲,水泥熟料,1\n", "grade")
    assert code == 2 and out == "" and "column indicator: missing column(s)" in err
    code, out, err = run(capsys, tmp_path, b"\xff\xfe\x00\x00", "grade")
    assert code == 2 and out == ""
    code, out, err = run(capsys, tmp_path, "", "surcharge")
    assert code == 2 and "empty file" in err


def test_the_commands_do_not_import_django(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(GRADE, encoding="utf-8")
    script = (
        "import sys; from dualcontrol.cli import main; "
        f"code = main(['units', 'grade', {str(path)!r}]); "
        "assert 'django' not in sys.modules, 'django imported'; sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
