"""The CO2 table of the bulletin (platform layout, beside the energy table): figures from the
statistics' co2_t, printed with core.bulletin's CO2 functions, blank-with-footnote for missing
data; in the page, the workbook, the PDF and the batch command.  Without CO2 data the energy
bulletin is byte-identical to what it was before the CO2 table existed (golden files in
tests/publishing/golden/, written by the code before the change).

The carbon world (tests/assessment/assessment_builders.py): at the prices of 2025 the CO2
intensity of 昆明市 is 4 × 0.97^k (4.0000, 3.8800, 3.7636), of 曲靖市 4 × 0.96^k (4.0000, 3.8400,
3.6864); the province's CO2 is the sum of the cities' over its own GDP (the builder gives every
region the same GDP): 40 000 000 / 5 000 000 = 8.0000, 42 460 000 / 5 500 000 = 7.7200,
45 072 500 / 6 050 000 = 7.4500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role
from dualcontrol.cli import main as cli_main
from dualcontrol.publishing import bulletin, render, services
from dualcontrol.publishing.models import NationalFigure, Publication
from dualcontrol.targets.models import RegionalStatistic

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
CO2_HEADER = [
    "地 区",
    "单位地区生产总值二氧化碳排放上升或下降(±%)",
    "单位地区生产总值二氧化碳排放比2025年累计上升或下降(±%)",
]


def _cells(table) -> dict[str, list[str]]:
    return {r["name"]: r["cells"] for r in table["rows"]}


def test_co2_table_beside_the_energy_table(carbon):
    NationalFigure.objects.create(
        year=2027,
        co2_intensity_change_pct=Decimal("-3.80"),
        co2_intensity_cumulative_change_pct=Decimal("-7.55"),
        source="NBS 2028（测试）",
    )
    content = bulletin.compute(2027)
    assert _cells(content)["昆明市"][1] == "-3.00"  # the energy table is still there
    co2 = content["co2"]
    assert co2["title"] == "云南省2027年各州（市）单位地区生产总值二氧化碳排放降低率"
    assert co2["header"] == CO2_HEADER
    cells = _cells(co2)
    assert list(cells) == ["全国", "云南省", "昆明市", "曲靖市"]
    # 全国 at the published precision, one decimal: −3.80 → "-3.8", −7.55 → "-7.6"
    assert cells["全国"] == ["全 国", "-3.8", "-7.6"]
    # 7.45 / 7.72 − 1 = −3.4974 %; 7.45 / 8 − 1 = −6.875 % → "-6.88" (half up)
    assert cells["云南省"] == ["云南省", "-3.50", "-6.88"]
    # 3.7636 / 3.88 − 1 = −3 %; 3.7636 / 4 − 1 = −5.91 %
    assert cells["昆明市"] == ["昆明市", "-3.00", "-5.91"]
    # 3.6864 / 3.84 − 1 = −4 %; 3.6864 / 4 − 1 = −7.84 %
    assert cells["曲靖市"] == ["曲靖市", "-4.00", "-7.84"]
    assert [r["values_pct"] for r in co2["rows"]][2] == ["-3.00", "-5.91"]
    assert co2["columns"][1]["places"] == 2 and co2["cumulative_base_year"] == 2025
    notes = "\n".join(co2["footnotes"])
    assert "2025年价格" in notes and "保留四位小数" in notes and "NBS 2028（测试）" in notes
    assert "平台版式" in notes and "数据暂缺" not in notes
    prov = co2["provenance"]
    assert prov["530100"]["co2_intensity_t_per_10k_yuan"] == {
        "2025": 4.0,
        "2026": 3.88,
        "2027": 3.7636,
    }
    assert prov["530100"]["statistics"][2]["co2_t"] == "22769780.00"
    assert prov["rate_basis"]["rule"] == "rounded_intensity"
    assert "round(co2_intensity[t], 4)" in prov["formulas"]["co2_intensity_change_frac"]
    assert content["footnotes"] == bulletin.compute(2027)["footnotes"]


def test_missing_co2_figures_are_blank_with_a_footnote(carbon):
    row = RegionalStatistic.objects.get(division__code="530300", year=2025)
    row.factors = {}
    row.save()
    RegionalStatistic.objects.filter(division__code="530100", year=2026).delete()
    co2 = bulletin.compute(2027)["co2"]
    cells = _cells(co2)
    assert cells["全国"] == ["全 国", "", ""]
    assert cells["曲靖市"] == ["曲靖市", "-4.00", ""]  # the year-on-year change is still known
    assert cells["昆明市"] == ["昆明市", "", ""]  # 2026 missing: no comparable-price chain
    notes = "\n".join(co2["footnotes"])
    assert "全国数据暂缺" in notes
    assert (
        "昆明市单位地区生产总值二氧化碳排放上升或下降数据暂缺（缺少2025–2027年逐年统计数据）"
        in notes
    )
    assert (
        "昆明市、曲靖市单位地区生产总值二氧化碳排放比2025年累计上升或下降数据暂缺"
        "（缺少2025–2027年逐年统计数据；缺少2025年或2027年二氧化碳排放量）" in notes
    )


def test_a_year_without_co2_has_no_co2_table(carbon):
    RegionalStatistic.objects.filter(year=2027).update(factors={})
    content = bulletin.compute(2027)
    assert "co2" not in content
    wb = load_workbook(io.BytesIO(render.to_xlsx(content)))
    assert wb.sheetnames == ["2027"]
    with pytest.raises(ValueError):
        render.to_csv(content, table="co2")


def _strip_pdf(data: bytes) -> bytes:
    """The PDF without its creation date and file identifier (they change on every render)."""
    data = re.sub(rb"/CreationDate \(D:[0-9Z+\-']*\)", b"", data)
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", data)


def test_without_co2_data_the_energy_bulletin_is_byte_identical(regional):
    """The golden files were written from this world by the code before the CO2 table."""
    world, _ = regional
    content = bulletin.compute(2015, issuers="省统计局")
    assert "co2" not in content
    as_json = json.dumps(content, ensure_ascii=False, sort_keys=True, indent=1).encode()
    assert as_json == (GOLDEN / "energy_2015_content.json").read_bytes()
    assert render.to_csv(content).encode() == (GOLDEN / "energy_2015.csv").read_bytes()
    html = render_to_string(
        "publishing/bulletin_document.html", {"content": content, "draft": True}
    )
    assert html.encode() == (GOLDEN / "energy_2015_document.html").read_bytes()
    book = zipfile.ZipFile(io.BytesIO(render.to_xlsx(content)))
    for part in ("sheet1", "workbook"):
        name = "xl/worksheets/sheet1.xml" if part == "sheet1" else "xl/workbook.xml"
        assert book.read(name) == (GOLDEN / f"energy_2015_{part}.xml").read_bytes()
    pdf = _strip_pdf(render._render_pdf(content, published_on="2016-08-18", draft=False))
    digest = (GOLDEN / "energy_2015_pdf.sha256").read_text().strip()
    assert hashlib.sha256(pdf).hexdigest() == digest
    services.publish_bulletin(
        user=world.users[Role.PROVINCE_ADMIN], year=2015, published_on=dt.date(2016, 8, 18)
    )
    page = Client().get("/public/bulletins/2015/").content.decode()
    fragment = page[page.index('<div class="doc">') : page.index("</main>")]
    assert fragment.encode() == (GOLDEN / "energy_2015_page.html").read_bytes()


def test_co2_table_in_the_page_workbook_pdf_and_cli(carbon, tmp_path):
    world, _ = carbon
    content = bulletin.compute(2027, issuers="省统计局")
    # workbook: the energy table as before on the first sheet, the CO2 table on the second
    wb = load_workbook(io.BytesIO(render.to_xlsx(content)))
    assert wb.sheetnames == ["2027", "2027 CO2"]
    ws = wb["2027 CO2"]
    assert ws["A1"].value == content["co2"]["title"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows["地 区"] == tuple(CO2_HEADER)
    assert rows["云南省"][1:] == (-3.5, -6.88) and rows["昆明市"][1:] == (-3.0, -5.91)
    number_format = next(c for c in ws["C"] if c.value == -6.88).number_format
    assert number_format == "0.00"
    # CSV: one table per file, the CO2 one on request
    text = render.to_csv(content, table="co2")
    assert text.startswith("\ufeff地 区,单位地区生产总值二氧化碳排放上升或下降(±%),")
    assert "云南省,-3.50,-6.88\r\n" in text
    assert render.to_csv(content) == render.to_csv({k: v for k, v in content.items() if k != "co2"})
    # PDF: the CO2 title and figures below the energy table
    pdf = render.to_pdf(content, published_on="2028-03-01")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "b.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert out.index("-3.00") < out.index("单位地区生产总值二氧化碳排放降低率")
        assert "-6.88" in out and "-5.91" in out
    # the published page and the open data
    services.publish_bulletin(
        user=world.users[Role.PROVINCE_ADMIN], year=2027, published_on=dt.date(2028, 3, 1)
    )
    page = Client().get("/public/bulletins/2027/").content.decode()
    assert page.index("万元地区生产总值能耗上升或下降") < page.index(CO2_HEADER[1])
    assert (
        '<td class="name">云南省</td><td class="num">-3.50</td><td class="num">-6.88</td>' in page
    )
    api = Client().get("/api/public/bulletins/2027").json()
    assert _cells(api["content"]["co2"])["曲靖市"] == ["曲靖市", "-4.00", "-7.84"]
    # the batch command: every format carries it; a CSV of the CO2 table on request
    out = tmp_path / "b.html"
    assert (
        cli_main(
            ["publish", "bulletin", "--year", "2027", "--format", "html", "--output", str(out)]
        )
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert CO2_HEADER[2] in html and "-7.84" in html and "草稿" not in html
    out = tmp_path / "b.json"
    assert (
        cli_main(
            ["publish", "bulletin", "--year", "2027", "--format", "json", "--output", str(out)]
        )
        == 0
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["header"][1] == "万元地区生产总值能耗上升或下降(±%)"  # the fields as before
    assert data["co2"]["header"] == CO2_HEADER
    out = tmp_path / "b.xlsx"
    assert (
        cli_main(
            ["publish", "bulletin", "--year", "2027", "--format", "xlsx", "--output", str(out)]
        )
        == 0
    )
    assert load_workbook(out).sheetnames == ["2027", "2027 CO2"]


def test_demo_publishes_the_latest_bulletin_with_its_co2_table(carbon):
    from dualcontrol.publishing import demo as publishing_demo

    publishing_demo.extend_demo(today=dt.date(2029, 2, 1))
    pub = Publication.objects.get(kind="bulletin", status="published")
    assert pub.year == 2028 and "co2" in pub.content
    publishing_demo.extend_demo(today=dt.date(2029, 2, 1))  # idempotent
    assert Publication.objects.filter(kind="bulletin").count() == 1


def test_results_of_a_carbon_round_say_what_they_rest_on(carbon):
    from tests.assessment.assessment_builders import run_region_round

    world, _ = carbon
    rnd = run_region_round(world, year=2026, sheet="co2-15th-fyp", measures="40")
    (grades,) = services.publish_results(
        user=world.users[Role.PROVINCE_ADMIN], round=rnd, published_on=dt.date(2027, 6, 30)
    )
    assert [r["cells"] for r in grades.rows] == [["曲靖市", "优秀"], ["昆明市", "不合格"]]
    notes = "\n".join(grades.footnotes)
    assert (
        "未完成否决性指标（单位地区生产总值二氧化碳排放年度降低目标（约束性））的，考核结果为不合格"
        in notes
    )
    assert "二氧化碳排放量" in notes and "节能目标" not in notes
