"""`dualcontrol energy FILE`: per product quantity, coefficient and source, tce (当量值/等价值), CO2."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from dualcontrol.cli import main
from dualcontrol.core.report205 import Row205
from dualcontrol.formats.report205 import TemplateProduct, write_workbook
from dualcontrol.reference.energy_products import energy_products

HEADER = (
    "product_code,unit,product_name,opening_stock,purchases_qty,purchases_value_kyuan,"
    "consumption_total,industrial_production,raw_material,non_industrial,transport,"
    "closing_stock,coefficient_used\n"
)
REPORT = HEADER + (
    "01,吨,原煤,100,1000,500,1000,950,0,50,0,100,0.7\n"
    "10,万立方米,天然气,0,100,300,100,100,20,0,0,0,\n"
    "23,万千瓦时,电力,0,500,3500,500,480,0,20,0,0,\n"
    "02,吨,洗精煤,0,10,10,10,10,0,0,0,0,2\n"
)


def run(capsys, *argv):
    code = main(["energy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, text, name="report.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_json_lines_totals_and_provenance(tmp_path, capsys):
    code, out, _ = run(capsys, write(tmp_path, REPORT), "--format", "json", "--year", "2022")
    assert code == 0
    data = json.loads(out)
    lines = {line["product_code"]: line for line in data["lines"]}
    coal = lines["01"]
    assert coal["coefficient_tce_per_unit"] == 0.7 and coal["coefficient_source"] == "unit"
    assert coal["energy_calorific_tce"] == 700.0
    assert coal["co2_t"] == 1900.2988  # 1000 t × 1.90030 (table A formula)
    power = lines["23"]
    assert power["energy_calorific_tce"] == 614.5  # 当量值 1.229 tce/万kWh
    assert power["energy_equivalent_tce"] == 2020.0  # 等价值 4.04 (NBS list, year not stated)
    assert power["co2_t"] == 2851.5  # 500 万kWh × 5.703 t (0.5703 tCO2/MWh, 2022)
    washed = lines["02"]
    assert washed["coefficient_source"] == "reference"
    assert "outside the plausible range" in washed["coefficient_note"]
    assert washed["co2_t"] is None
    totals = data["totals"]
    assert totals["energy_calorific_tce"] == 700 + 1214.3 + 614.5 + 9
    assert totals["energy_equivalent_tce"] == 700 + 1214.3 + 2020 + 9
    assert totals["co2_complete"] is False and totals["co2_missing_products"] == ["02"]
    assert data["settings"]["grid_factor"].startswith("全国 2022 (reporting) 0.5703")
    assert "year not stated" in data["settings"]["electricity_equivalent_caveat"]
    assert data["provenance"]["energy_equivalent_tce"]["inputs"]["23"] == "2020"
    assert "Σ" in data["provenance"]["comprehensive_calorific_tce"]["formula"]
    assert data["provenance"]["lines"]["01"]["inputs"]["coefficient_source"].startswith("unit")


def test_csv_lines_then_the_total_row(tmp_path, capsys):
    code, out, _ = run(capsys, write(tmp_path, REPORT), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["product_code"] for r in rows] == ["01", "10", "23", "02", "40"]
    total = rows[-1]
    assert total["product_name"] == "能源合计" and total["energy_calorific_tce"] == "2537.8"
    assert rows[0]["coefficient_reference_source"].startswith("NBS statistical-report")


def test_table_is_the_default(tmp_path, capsys):
    code, out, _ = run(capsys, write(tmp_path, REPORT))
    assert code == 0
    assert "能源合计" in out and "当量值tce" in out and "等价值tce" in out
    assert "CO2 incomplete — no factor for product(s) 02" in out


def test_region_and_factor_sets(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        write(tmp_path, REPORT),
        "--format",
        "json",
        "--year",
        "2022",
        "--region",
        "广东",
        "--co2-factors",
        "A,B",
    )
    assert code == 0
    data = json.loads(out)
    assert data["settings"]["grid_factor"] == "广东 2022 (mee_nbs) 0.4403 tCO2/MWh"
    assert data["totals"]["co2_complete"] is True
    lines = {line["product_code"]: line for line in data["lines"]}
    assert lines["02"]["co2_factor"].startswith("set B: 洗精煤")


def test_reads_the_205_1_workbook(tmp_path, capsys):
    products = [
        TemplateProduct(p.code, p.name_zh, p.unit, p.coefficient_tce_per_unit)
        for p in energy_products()
    ]
    rows = {
        "01": Row205(
            "01",
            "吨",
            "原煤",
            purchases_qty=Decimal(1000),
            consumption_total=Decimal(1000),
            industrial_production=Decimal(1000),
        ),
    }
    data = write_workbook(products, unit_name="示例单位", period="2022年", rows=rows)
    path = tmp_path / "205-1.xlsx"
    path.write_bytes(data)
    code, out, _ = run(capsys, str(path), "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["settings"]["year"] == 2022  # from the report period
    assert result["totals"]["energy_calorific_tce"] == 714.3
    assert result["report"]["unit_name"] == "示例单位"


def test_a_report_failing_the_205_1_checks_is_refused_with_its_cells(tmp_path, capsys):
    bad = HEADER + "01,吨,原煤,0,100,1,100,60,0,10,0,0,\n"  # 4 ≠ 5 + 7
    code, _, err = run(capsys, write(tmp_path, bad))
    assert code == 2
    assert "csv!" in err and "consumption total 100 must equal industrial + non-industrial" in err


def test_a_text_cell_hides_no_other_problem(tmp_path, capsys):
    # issue 14: the text in row 2's purchases and row 3's 4 ≠ 5 + 7 are both listed
    bad = (
        HEADER
        + "01,吨,原煤,0,约100,1,100,90,0,10,0,0,\n"
        + "02,吨,洗精煤,0,100,1,100,60,0,10,0,0,\n"
    )
    code, _, err = run(capsys, write(tmp_path, bad))
    assert code == 2
    assert "csv!E2" in err and "不是数字" in err
    assert "csv!G3" in err and "must equal industrial + non-industrial" in err


def test_unreadable_file(tmp_path, capsys):
    code, _, err = run(capsys, write(tmp_path, "foo,bar\n1,2\n"))
    assert code == 2 and "not a readable 205-1 report" in err
    code, _, err = run(capsys, str(tmp_path / "missing.csv"))
    assert code == 2 and "cannot read" in err
