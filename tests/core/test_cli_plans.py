"""`dualcontrol plans parse FILE --format json`: the batch command of issue 8."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dualcontrol.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "plans"
YUNNAN = DATA / "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt"
QINGHAI = DATA / "qinghai_2016-2020_energy-saving_emission-reduction_plan.txt"
SYNTHETIC = DATA / "synthetic_2021-2025_energy-saving_carbon-reduction_plan.txt"
REQUIRED = {"number", "section", "text", "lead_departments", "participating_departments", "targets"}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    assert main(["plans", "parse", *argv, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list)
    return rows


def test_parse_prints_the_tasks_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, str(YUNNAN))
    assert len(rows) == 138
    assert all(set(row) >= REQUIRED for row in rows)
    first = rows[0]
    assert first["number"] == "（1）"
    assert first["section"] == ["二、部门分工", "（一）强化节能减排目标责任", "1.指标分解"]
    assert (
        first["text"]
        == "各州（市）低碳节能减排指标分解。（省发展改革委、工业信息化委、环境保护厅、统计局）"
    )
    assert first["lead_departments"] == ["省发展改革委"]
    assert first["participating_departments"] == ["省工业信息化委", "省环境保护厅", "省统计局"]
    assert first["targets"] == []
    green = next(row for row in rows if row["number"] == "（45）")
    assert green["targets"][0] == {
        "value": 37,
        "value_max": None,
        "unit": "%",
        "year": 2015,
        "year_explicit": False,
        "text": "全省城市建成区绿化覆盖率达到37%",
    }


def test_json_is_the_default_and_keeps_decimals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans", "parse", str(QINGHAI)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 47
    goals = next(row for row in rows if row["number"] == "（五）")
    assert [(t["value"], t["unit"], t["year"]) for t in goals["targets"]] == [
        (30.5, "%", 2020),
        (38, "%", 2020),
        (41, "%", 2020),
        (16.3, "%", 2020),
    ]


def test_all_items_with_is_task(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, str(SYNTHETIC), "--all")
    assert len(rows) == 18
    assert sum(1 for row in rows if row["is_task"]) == 9
    assert rows[0]["number"] == "第一章" and rows[0]["is_task"] is False


def test_target_year_option(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, str(YUNNAN), "--target-year", "2016")
    green = next(row for row in rows if row["number"] == "（45）")
    assert green["targets"][0]["year"] == 2016


def test_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans", "parse", str(SYNTHETIC), "--format", "text"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# 示范省“十四五”节能降碳行动实施方案 — 9 tasks, target year 2025"
    assert out[1] == "第二章/第一节/1  实施工业能效提升行动"
    assert out[2] == "    牵头: 省工业和信息化厅"


def test_docx_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("一、重点任务")
    document.add_paragraph("（一）推进工业节能。（牵头单位：省工信厅；配合单位：省统计局）")
    path = tmp_path / "plan.docx"
    document.save(str(path))
    rows = run_json(capsys, str(path))
    assert [(r["number"], r["lead_departments"], r["participating_departments"]) for r in rows] == [
        ("（一）", ["省工信厅"], ["省统计局"])
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "cannot read"),
        ("plan.pdf", b"%PDF-1.4", "not a readable PDF"),
        ("plan.doc", b"\xd0\xcf\x11\xe0", "save the document as .docx"),
        ("notice.txt", "现将方案印发给你们。".encode(), "no numbered items"),
    ],
)
def test_operator_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["plans", "parse", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dualcontrol plans: error: ")
    assert message in captured.err


def test_plans_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans"]) == 0
    assert "parse" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Issue 15: any genre, and `plans targets`

CORPUS = DATA / "corpus"
FUJIAN = CORPUS / "fujian_2022_energy-saving_implementation.txt"
TARGET_KEYS = [
    "indicator",
    "value",
    "value_max",
    "unit",
    "year",
    "base_year",
    "region",
    "sector",
    "sentence",
]


def test_targets_json_prints_every_target_mapped_to_the_catalogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plans", "targets", str(FUJIAN), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(list(row) == TARGET_KEYS for row in rows)
    assert [(r["indicator"], r["value"], r["unit"], r["year"], r["base_year"]) for r in rows] == [
        ("energy_intensity_reduction", 14, "%", 2025, 2020),
        ("cod_project_reduction", 6.86, "万吨", 2025, 2020),
        ("nh3n_project_reduction", 0.51, "万吨", 2025, 2020),
        ("nox_project_reduction", 1.1, "万吨", 2025, 2020),
        ("vocs_project_reduction", 1.52, "万吨", 2025, 2020),
    ]
    assert rows[0]["region"] == "全省"
    assert rows[0]["sentence"].startswith("到2025年,全省单位地区生产总值能源消耗比2020年下降14%")


def test_targets_csv(capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    assert main(["plans", "targets", str(FUJIAN), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == TARGET_KEYS
    assert (rows[1]["indicator"], rows[1]["value"], rows[1]["unit"], rows[1]["sector"]) == (
        "cod_project_reduction",
        "6.86",
        "万吨",
        "",
    )


def test_parse_markdown_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md = CORPUS / "national_2022_transport-carbon-peak_opinions.md"
    rows = run_json(capsys, str(md))
    assert [r["key"] for r in rows][:3] == ["三/（三）", "三/（四）", "三/（五）"]
    assert len(rows) == 17
    page = tmp_path / "plan.html"
    page.write_text(
        "<html><body><h2>一、重点任务</h2><p>（一）推进工业节能。（省工信厅牵头，省发改委配合）</p>"
        "<p>（二）推进建筑节能。（省住建厅负责）</p></body></html>",
        encoding="utf-8",
    )
    rows = run_json(capsys, str(page))
    assert [(r["key"], r["lead_departments"], r["participating_departments"]) for r in rows] == [
        ("一/（一）", ["省工信厅"], ["省发改委"]),
        ("一/（二）", ["省住建厅"], []),
    ]
    assert rows[0]["departments"][1] == {
        "role": "participating",
        "name": "省发改委",
        "canonical": "省发展改革委",
        "known": True,
        "proposal": None,
    }


# A real text-layer PDF: the corpus text chaozhou_2019_blue-sky_implementation.txt converted by
# `libreoffice --headless --convert-to pdf` (LibreOffice 7.4, WenQuanYi Micro Hei): hard-wrapped
# lines, spaces inserted between digits and Chinese (到2020 年), names cut at line ends (自然资/源局).
PDF = DATA / "chaozhou_2019_blue-sky_implementation.pdf"
PDF_SOURCE = DATA / "corpus" / "chaozhou_2019_blue-sky_implementation.txt"


def _tasks(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [
        (r["key"], r["lead_departments"], r["participating_departments"], r["targets"] != [])
        for r in rows
    ]


def test_text_layer_pdf_reads_like_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    from_pdf = run_json(capsys, str(PDF))
    assert _tasks(from_pdf) == _tasks(run_json(capsys, str(PDF_SOURCE)))
    assert [r["key"] for r in from_pdf] == ["二/（一）/1", "二/（一）/2"]
    assert from_pdf[0]["lead_departments"] == ["市生态环境局", "市市场监管局"]
    assert from_pdf[0]["participating_departments"] == [
        "市发展和改革局",
        "市工业和信息化局",
        "市自然资源局",  # 自然资 / 源局 across a line end
    ]


def test_text_layer_pdf_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plans", "targets", str(PDF), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["indicator"], r["value"], r["unit"], r["year"]) for r in rows] == [
        (None, 94, "%", 2020),
        (None, 29, "微克每立方米", 2020),  # 微克每 / 立方米 across a line end
        ("so2_reduction", 15, "%", 2020),
        ("nox_reduction", 10, "%", 2020),
        ("vocs_reduction", 26, "%", 2020),
    ]


def test_pdf_without_text_layer_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # a page with no text, as a scan has
    path = tmp_path / "scan.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    assert main(["plans", "parse", str(path)]) == 2
    err = capsys.readouterr().err
    assert "no text layer" in err and "OCR" in err
