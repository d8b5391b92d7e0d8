"""A plan's quantitative targets proposed as platform targets at import: accept, edit, reject in the
confirmation screen; accepted ones become targets in the import's transaction (issue 15)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.accounts.models import Role
from dualcontrol.targets.models import Target
from dualcontrol.tasks.models import Plan
from tests.tasks.test_pages import client_for

pytestmark = pytest.mark.django_db

PLAN = """示范省“十五五”节能降碳工作方案

一、主要目标
到2030年，全省单位地区生产总值能源消耗比2025年下降14.5%，单位地区生产总值二氧化碳排放比2025年下降17%。

二、重点任务
（一）推进工业节能。实施重点行业节能降碳改造。（省工业和信息化厅牵头，省发展改革委参与）
（二）推进建筑节能。新建建筑全面执行绿色建筑标准。（省住房城乡建设厅负责）
"""


def preview(c, world):
    upload = SimpleUploadedFile("示范省节能降碳工作方案.txt", PLAN.encode("utf-8"))
    r = c.post("/tasks/import/", {"file": upload, "division": world.province.pk})
    assert r.status_code == 200
    return r


def confirm_data(r, **extra):
    data = {
        "token": r.context["form"]["token"].value(),
        "title": "示范省节能降碳工作方案",
        "issuing_body": "示范省人民政府",
        "period_start": 2026,
        "period_end": 2030,
        "tracking_start": "2026-01-01",
        "default_deadline": "2030-12-31",
        "deadlines_from_text": "on",
    }
    data.update(extra)
    return data


def test_the_preview_proposes_every_target_with_its_sentence(world):
    c = client_for(world, Role.PROVINCE_OFFICER)
    r = preview(c, world)
    targets = r.context["targets"]
    by_indicator = {t["indicator"]: t for t in targets}
    assert set(by_indicator) >= {"energy_intensity_reduction", "co2_intensity_reduction"}
    energy = by_indicator["energy_intensity_reduction"]
    assert (energy["value"], energy["base_year"], energy["year"]) == (14.5, 2025, 2030)
    assert energy["division"] == world.province.pk and energy["accept"]
    assert "下降14.5%" in energy["sentence"]
    html = r.content.decode()
    assert html.count('id="proposed-targets"') == 1  # once, in the page body
    assert "采纳为平台目标" in html and f'name="tp-{energy["index"]}-accept"' in html
    assert not Target.objects.exists()  # nothing before confirmation


def test_accepted_targets_are_created_edited_ones_as_edited_rejected_ones_not(world):
    c = client_for(world, Role.PROVINCE_OFFICER)
    r = preview(c, world)
    t = {x["indicator"]: x for x in r.context["targets"]}
    e, co2 = t["energy_intensity_reduction"]["index"], t["co2_intensity_reduction"]["index"]
    fields = {
        f"tp-{e}-accept": "on",
        f"tp-{e}-indicator": "energy_intensity_reduction",
        f"tp-{e}-value": "15",  # edited before accepting
        f"tp-{e}-unit": "%",
        f"tp-{e}-base_year": "2025",
        f"tp-{e}-year": "2030",
        f"tp-{e}-division": str(world.province.pk),
        # the CO2 target is not ticked: not adopted
        f"tp-{co2}-indicator": "co2_intensity_reduction",
        f"tp-{co2}-value": "17",
    }
    r = c.post("/tasks/import/confirm/", confirm_data(r, **fields))
    assert r.status_code == 302, r.content.decode()[:2000]
    plan = Plan.objects.get()
    target = Target.objects.get()
    assert (target.indicator, target.base_value, target.base_year, target.end_year) == (
        "energy_intensity_reduction",
        Decimal("15"),
        2025,
        2030,
    )
    assert target.division == world.province and plan.title in target.source_document
    decided = {p["indicator"]: p for p in plan.target_proposals}
    assert decided["energy_intensity_reduction"]["target"] == target.pk
    assert decided["co2_intensity_reduction"]["accept"] is False


def test_a_bad_accepted_target_refuses_the_whole_import_listing_every_problem(world):
    c = client_for(world, Role.PROVINCE_OFFICER)
    r = preview(c, world)
    idx = r.context["targets"][0]["index"]
    fields = {
        f"tp-{idx}-accept": "on",
        f"tp-{idx}-indicator": "no_such_indicator",
        f"tp-{idx}-value": "abc",
        f"tp-{idx}-base_year": "2030",
        f"tp-{idx}-year": "2030",
        f"tp-{idx}-division": str(world.province.pk),
    }
    r = c.post("/tasks/import/confirm/", confirm_data(r, **fields))
    assert r.status_code == 200
    html = r.content.decode()
    assert "不在指标目录中" in html and "不是数字" in html and "基期年须早于目标年" in html
    assert not Plan.objects.exists() and not Target.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (
            "方案.html",
            "<html><body><h1>示范省节能工作方案</h1><p>一、重点任务</p>"
            "<p>（一）推进工业节能。（省工业和信息化厅负责）</p>"
            "<p>（二）推进建筑节能。（省住房城乡建设厅负责）</p></body></html>",
        ),
        (
            "方案.md",
            "# 示范省节能工作方案\n\n## 一、重点任务\n\n**（一）推进工业节能。**（省工业和信息化厅负责）\n\n"
            "**（二）推进建筑节能。**（省住房城乡建设厅负责）\n",
        ),
    ],
)
def test_html_and_markdown_plans_are_read_by_the_upload(world, name, data):
    c = client_for(world, Role.PROVINCE_OFFICER)
    upload = SimpleUploadedFile(name, data.encode("utf-8"))
    r = c.post("/tasks/import/", {"file": upload, "division": world.province.pk})
    assert r.status_code == 200, r.content.decode()[:500]
    html = r.content.decode()
    assert "推进工业节能" in html and "推进建筑节能" in html
    assert r.context["task_count"] == 2
