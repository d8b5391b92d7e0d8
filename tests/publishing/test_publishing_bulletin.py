"""The annual bulletin: figures from the accounted statistics, printed as the official table,
blank-with-footnote for missing data; PDF with embedded CJK font, Excel, CSV; the batch command;
the demo year end to end."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook

from dualcontrol.cli import main as cli_main
from dualcontrol.publishing import bulletin, render, services
from dualcontrol.publishing.models import (
    NationalFigure,
    Publication,
    PublicationStatus,
    RegionalElectricity,
)
from tests.assessment.assessment_builders import energy

pytestmark = pytest.mark.django_db


def _pct(x: Decimal, places: int) -> str:
    return str((x * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def test_price_base_of_the_plan_period():
    assert [bulletin.price_base_year(y) for y in (2008, 2011, 2015, 2016, 2020, 2021, 2026)] == [
        2005,
        2010,
        2010,
        2015,
        2015,
        2020,
        2025,
    ]


def test_bulletin_figures_and_layout(regional):
    _world, _ = regional
    content = bulletin.compute(2015)
    assert content["header"] == [
        "地 区",
        "万元地区生产总值能耗上升或下降(±%)",
        "能源消费总量增速(%)",
        "万元地区生产总值电耗上升或下降(±%)",
    ]
    rows = {r["name"]: r["cells"] for r in content["rows"]}
    assert list(rows) == ["全国", "云南省", "昆明市", "曲靖市"]
    assert rows["全国"] == ["全 国", "", "", ""]
    # intensity: energy × 1.1 × 0.97 with GDP × 1.1 → −3.00 %; energy growth 1.067 − 1 = 6.7 %
    assert rows["昆明市"] == ["昆明市", "-3.00", "6.7", ""]
    assert rows["曲靖市"] == ["曲靖市", "-4.00", "5.6", ""]
    e15, e14 = energy("530000", 2015), energy("530000", 2014)
    assert rows["云南省"][1] == _pct(e15 / e14 / Decimal("1.1") - 1, 2)
    assert rows["云南省"][2] == _pct(e15 / e14 - 1, 1)
    notes = "\n".join(content["footnotes"])
    assert "全国数据暂缺" in notes and "各地区万元地区生产总值电耗上升或下降数据暂缺" in notes
    assert "2010年价格" in notes and "四舍五入" in notes
    assert content["provenance"]["530100"]["statistics"][1]["year"] == 2015


def test_electricity_and_the_national_row_when_present(regional):
    world, _ = regional
    for div, v14, v15 in ((world.province, "100", "103"), (world.city, "50", "55")):
        RegionalElectricity.objects.create(
            division=div, year=2014, electricity_10k_kwh=Decimal(v14), source="t"
        )
        RegionalElectricity.objects.create(
            division=div, year=2015, electricity_10k_kwh=Decimal(v15), source="t"
        )
    NationalFigure.objects.create(
        year=2015,
        intensity_change_pct=Decimal("-5.60"),
        energy_growth_pct=Decimal("0.90"),
        source="NBS 2016",
    )
    content = bulletin.compute(2015)
    rows = {r["name"]: r["cells"] for r in content["rows"]}
    assert rows["云南省"][3] == "-6.36"  # 1.03 / 1.1 − 1 = −6.3636 %
    assert rows["昆明市"][3] == "0.00"  # 1.1 / 1.1 − 1: no sign on a zero
    assert rows["曲靖市"][3] == ""
    assert rows["全国"] == ["全 国", "-5.6", "0.9", ""]  # one decimal, as NBS publishes it
    notes = "\n".join(content["footnotes"])
    assert "曲靖市万元地区生产总值电耗上升或下降数据暂缺" in notes and "NBS 2016" in notes


def test_no_statistics_no_bulletin(regional):
    with pytest.raises(bulletin.BulletinError):
        bulletin.compute(2020)
    assert bulletin.available_years() == [2015, 2014, 2013, 2012, 2011]


def test_publish_supersede_and_withdraw(regional):
    world, _ = regional
    from dualcontrol.accounts.models import Role

    admin = world.users[Role.PROVINCE_ADMIN]
    with pytest.raises(services.NotAllowed):
        services.publish_bulletin(
            user=world.users[Role.CITY_OFFICER], year=2015, published_on=dt.date(2016, 8, 1)
        )
    first = services.publish_bulletin(user=admin, year=2015, published_on=dt.date(2016, 8, 1))
    assert first.version == 1 and first.content["published_on"] == "2016-08-01"
    second = services.publish_bulletin(
        user=admin, year=2015, published_on=dt.date(2016, 9, 1), issuers="省统计局"
    )
    first.refresh_from_db()
    assert first.status == PublicationStatus.SUPERSEDED and second.version == 2
    assert services.current("bulletin", 2015) == second
    with pytest.raises(services.PublishError):
        services.withdraw(publication=second, user=admin, note="")
    services.withdraw(publication=second, user=admin, note="数据修订")
    assert services.current("bulletin", 2015) is None
    with pytest.raises(services.PublishError):
        services.publish_bulletin(user=admin, year=2030, published_on=dt.date(2031, 1, 1))


def test_pdf_embeds_a_cjk_font_and_renders_chinese(regional, tmp_path):
    content = bulletin.compute(2015, issuers="省统计局")
    pdf = render.to_pdf(content, published_on="2016-08-18")
    assert pdf.startswith(b"%PDF") and b"/FontFile3" in pdf and b"NotoSansCJKSC" in pdf
    if shutil.which("pdftotext"):
        path = tmp_path / "b.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert (
            "万元地区生产总值能耗降低率等指标公报" in text and "昆明市" in text and "-3.00" in text
        )


def test_excel_and_csv_keep_the_printed_figures(regional):
    content = bulletin.compute(2015)
    wb = load_workbook(io.BytesIO(render.to_xlsx(content)))
    ws = wb.active
    assert ws["A1"].value == content["title"]
    cells = {row[0]: row for row in ws.iter_rows(min_row=3, values_only=True) if row[0]}
    assert cells["昆明市"][1] == -3.0 and cells["昆明市"][2] == 6.7 and cells["昆明市"][3] is None
    number_format = next(c for c in ws["B"] if c.value == -3.0).number_format
    assert number_format == "0.00"
    text = render.to_csv(content)
    assert text.startswith("\ufeff地 区,") and "昆明市,-3.00,6.7," in text


def test_cli_writes_draft_then_published(regional, tmp_path, capsys):
    world, _ = regional
    out = tmp_path / "b.html"
    assert (
        cli_main(
            ["publish", "bulletin", "--year", "2015", "--format", "html", "--output", str(out)]
        )
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert "草稿（未发布）" in html and "-3.00" in html and "附注" in html
    assert (
        cli_main(
            [
                "publish",
                "bulletin",
                "--year",
                "2015",
                "--format",
                "pdf",
                "--output",
                str(tmp_path / "b.pdf"),
                "--require-published",
            ]
        )
        == 2
    )
    from dualcontrol.accounts.models import Role

    services.publish_bulletin(
        user=world.users[Role.PROVINCE_ADMIN], year=2015, published_on=dt.date(2016, 8, 1)
    )
    for fmt in ("pdf", "xlsx", "json"):
        path = tmp_path / f"b.{fmt}"
        assert (
            cli_main(
                ["publish", "bulletin", "--year", "2015", "--format", fmt, "--output", str(path)]
            )
            == 0
        )
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert data["draft"] is False and data["version"] == 1
    assert (
        cli_main(
            [
                "publish",
                "bulletin",
                "--year",
                "2031",
                "--format",
                "pdf",
                "--output",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 2
    )
    assert "published version 1" in capsys.readouterr().out


def test_demo_extension_runs_the_year_end_to_end(regional):
    """The demo's assessment and publishing parts on statistics and 12th-FYP targets like the
    targets demo's (here the test world's two cities): 2015 assessment computed from the
    statistics, scored, signed off, consequences issued and followed up, results and bulletin
    published, everything marked synthetic.  (The full demo build runs them too.)"""
    from dualcontrol.assessment import demo as assessment_demo
    from dualcontrol.assessment.models import AssessmentRecord, Consequence, CreditRecord
    from dualcontrol.entities.models import Entity
    from dualcontrol.publishing import demo as publishing_demo

    world, _ = regional
    Entity.objects.update(is_synthetic=True)
    assessment_demo.extend_demo(today=dt.date(2026, 11, 21))
    publishing_demo.extend_demo(today=dt.date(2026, 11, 21))
    regions = AssessmentRecord.objects.filter(division__isnull=False).order_by("division__code")
    assert [(r.division.code, r.status, r.grade_name) for r in regions] == [
        ("530100", "signed_off", "未完成"),
        ("530300", "signed_off", "超额完成"),
    ]
    assert all(r.is_synthetic for r in regions)
    assert Consequence.objects.filter(kind="interview", division=world.city).exists()
    assert AssessmentRecord.objects.filter(entity__isnull=False).count() == 2
    assert CreditRecord.objects.filter(kind="assessment").count() == 2
    b = Publication.objects.get(kind="bulletin", year=2015, status="published")
    assert b.is_synthetic and [r["name"] for r in b.rows] == ["全国", "云南省", "昆明市", "曲靖市"]
    assert b.rows[2]["cells"][3] != ""  # synthetic electricity seeded
    assert Publication.objects.filter(kind="grades", year=2015).count() == 2
    assessment_demo.extend_demo(today=dt.date(2026, 11, 21))  # idempotent
    publishing_demo.extend_demo(today=dt.date(2026, 11, 21))
    assert AssessmentRecord.objects.filter(division__isnull=False).count() == 2
