"""The pollutant table of the bulletin (platform layout): emissions, their change on the year
before and the cap used, per region; in the JSON content, the page, the workbook, the PDF and
the CSV.  The pollutant world (tests/assessment/assessment_builders.py): 曲靖市 COD 10 000 ×
0.98^k t (9 800 in 2026, 9 604 in 2027: −2.00 %), 昆明市 × 0.97^k (9 409 in 2027: −3.00 %); the
province the sum (19 013 / 19 500 − 1 = −2.497… % → "-2.50"); COD caps 9 000 t (2030)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from dualcontrol.publishing import bulletin, render

pytestmark = pytest.mark.django_db


def _cells(table) -> dict[str, list[str]]:
    return {r["name"]: r["cells"] for r in table["rows"]}


def test_pollutant_table(pollutants):
    content = bulletin.compute(2027)
    table = content["pollutants"]
    assert table["title"] == "云南省2027年各州（市）主要污染物排放情况"
    assert table["header"][:4] == [
        "地 区",
        "化学需氧量排放量(吨)",
        "化学需氧量排放量上升或下降(±%)",
        "化学需氧量排放总量控制目标使用(%)",
    ]
    assert "挥发性有机物排放总量控制目标使用(%)" not in table["header"]  # no VOCs cap
    cells = _cells(table)
    # 9 604 / 9 000 = 106.71 % of the cap; 9 409 / 9 000 = 104.54 %
    assert cells["曲靖市"][1:4] == ["9604", "-2.00", "106.71"]
    assert cells["昆明市"][1:4] == ["9409", "-3.00", "104.54"]
    assert cells["云南省"][1:4] == ["19013", "-2.50", ""]  # the province has no cap
    notes = "\n".join(table["footnotes"])
    assert "平台版式" in notes and "云南省" in notes and "目标使用栏空缺" in notes
    assert table["provenance"]["530300"]["cod_total_used"]["cap_t"] == "9000.0000"


def test_pollutant_table_in_every_format(pollutants):
    content = bulletin.compute(2027)
    wb = load_workbook(io.BytesIO(render.to_xlsx(content)))
    assert wb.sheetnames[-1] == "2027 污染物"
    csv = render.to_csv(content, table="pollutants")
    assert csv.splitlines()[0].startswith("\ufeff地 区,化学需氧量排放量(吨)")
    assert render.to_pdf(content).startswith(b"%PDF")
    from django.template.loader import render_to_string

    html = render_to_string("publishing/_document.html", {"content": content})
    assert "主要污染物排放情况" in html and "pollutant-table" in html


def test_no_table_without_pollutant_data(regional):
    content = bulletin.compute(2015)
    assert "pollutants" not in content
    with pytest.raises(ValueError, match="no pollutants table"):
        render.to_csv(content, table="pollutants")
