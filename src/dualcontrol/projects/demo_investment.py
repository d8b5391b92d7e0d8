"""The investment-project part of the demo (issue 20), called from :func:`projects.demo.extend_demo`.

SYNTHETIC (marked 演示): a 2025 elimination list published with targets, a prefecture that misses its
cement target (暂停核准 recorded), a new 两高 cement project in a red prefecture held at the gate and
approved by the province with an audited override, and planned projects elsewhere for the scenario
page (the province's 2030 CO2 intensity with and without them).  Figures are ILLUSTRATIVE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.accounts.models import User
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.projects import investment, services
from dualcontrol.projects.models import InvestmentProject
from dualcontrol.regions.models import Division

RED_PREFECTURE = "533100"  # red on the barometer in the demo; 限批 after the assessment demo
TZ = dt.timezone(dt.timedelta(hours=8))
SOURCE = "演示：省工业和信息化厅 2025 年淘汰落后产能目标（示意）"


def _pdf(title: str) -> SimpleUploadedFile:
    body = f"%PDF-1.4\n% {title}\n".encode()
    return SimpleUploadedFile("report.pdf", body, content_type="application/pdf")


def build(*, today: dt.date, province: Division) -> dict[str, Any]:
    if InvestmentProject.objects.filter(project__is_synthetic=True).exists():
        return {}
    admin = User.objects.filter(username="demo-province").first()
    red = Division.objects.filter(code=RED_PREFECTURE).first() or (
        Division.objects.filter(parent=province).order_by("code").last()
    )
    if red is None:
        return {}
    cement = Industry.objects.filter(code="30").first()
    unit = Entity.objects.filter(division__path__startswith=red.path, industry=cement).first()
    # elimination: targets, a published list, acceptance, the missed target → 暂停核准
    counties = list(Division.objects.filter(parent=red).order_by("code")) or [red]
    investment.set_elimination_target(
        user=None,
        division=red,
        year=2025,
        sector_code="cement",
        capacity="60",
        unit="万吨",
        source_document=SOURCE,
        is_synthetic=True,
    )
    investment.set_elimination_target(
        user=None,
        division=red,
        year=2025,
        sector_code="flat_glass",
        capacity="20",
        unit="万重量箱",
        source_document=SOURCE,
        is_synthetic=True,
    )
    items = [
        {
            "owner_name": "演示水泥有限公司",
            "division": counties[0],
            "sector_code": "cement",
            "line_equipment": "Φ2.5×10m 机立窑 2 座",
            "capacity": "30",
            "unit": "万吨",
            "deadline": dt.date(2025, 9, 30),
        },
        {
            "owner_name": "演示建材有限公司",
            "division": counties[-1],
            "sector_code": "cement",
            "line_equipment": "Φ3.0m 水泥磨机 1 台",
            "capacity": "25",
            "unit": "万吨",
            "deadline": dt.date(2025, 12, 31),
        },
        {
            "owner_name": "演示玻璃有限公司",
            "division": counties[0],
            "sector_code": "flat_glass",
            "line_equipment": "平拉工艺平板玻璃生产线 1 条",
            "capacity": "20",
            "unit": "万重量箱",
            "deadline": dt.date(2025, 12, 31),
        },
    ]
    lst = investment.create_elimination_list(
        user=None,
        year=2025,
        division=province,
        title="2025年淘汰落后产能企业名单（演示）",
        items=items,
        is_synthetic=True,
    )
    investment.publish_elimination_list(
        user=admin, elimination_list=lst, now=dt.datetime(2025, 4, 20, 10, tzinfo=TZ)
    )
    its = list(lst.items.order_by("id"))
    investment.accept_elimination_item(
        user=None, item=its[0], accepted_on=dt.date(2025, 10, 15), note="现场检查验收：已拆除"
    )
    investment.accept_elimination_item(
        user=None, item=its[2], accepted_on=dt.date(2025, 12, 20), note="现场检查验收：已拆除"
    )
    checks = investment.check_elimination_targets(user=None, year=2025, today=dt.date(2026, 1, 15))
    # the new 两高 project at the gate
    inv = investment.register_investment(
        user=None,
        name="年产200万吨新型干法水泥熟料生产线项目（演示）",
        division=unit.division if unit else counties[0],
        entity=unit,
        owner_name="" if unit else "演示新材料有限公司",
        industry=cement,
        stage="proposed",
        planned_start=dt.date(2026, 9, 1),
        planned_completion=dt.date(2027, 12, 31),
        operation_date=dt.date(2027, 7, 1),
        capacity_value="200",
        capacity_unit="万吨/年",
        sector_code="cement",
        energy_equivalent_tce="220000",
        energy_equal_value_tce="245000",
        electricity_kwh="160000000",
        coal_t="280000",
        fuels=[
            {"fuel": "原煤", "amount": 280000, "unit": "t"},
            {"fuel": "电力", "amount": 16000, "unit": "万kWh"},
        ],
        co2_t="1450000",
        value_added_10k_yuan="90000",
        replacement="reduced",
        replaced_capacity="300",
        replacement_zone="other",
        replacement_case="standard",
        replacement_source="省内退出熟料产能 300 万吨（演示）",
        today=today,
        is_synthetic=True,
    )
    for note in ("节能报告（含碳排放评价）", "节能审查和碳排放评价技术评审意见"):
        services.upload_evidence(
            user=None,
            project=inv.project,
            kind="other",
            document=_pdf(note),
            note=note,
            now=dt.datetime(2026, 1, 10, 10, tzinfo=TZ),
            is_synthetic=True,
        )
    investment.submit_review(user=None, investment=inv, today=today)
    reviewer = admin
    held = 0
    try:
        investment.decide_review(
            user=reviewer,
            investment=inv,
            decision="approved",
            conclusion="项目能效达到标杆水平，原则同意。",
            carbon_conclusion="单位熟料碳排放达到行业先进水平；碳排放对所在地目标影响已评价。",
            is_synthetic=True,
        )
    except investment.GateHeld:
        held = 1
    investment.decide_review(
        user=reviewer,
        investment=inv,
        decision="approved",
        conclusion="项目能效达到标杆水平，原则同意。",
        conditions="投产前完成300万吨熟料产能减量置换并验收；新增能耗由省级统筹。",
        carbon_conclusion="单位熟料碳排放达到行业先进水平；碳排放对所在地目标影响已评价。",
        document_no="演示发改环资〔2026〕1号",
        override=True,
        override_reason="省重点产业链补链项目，经省政府专题会议研究同意（演示）。",
        is_synthetic=True,
    )
    # planned projects elsewhere (scenario page)
    made = 1
    for code, name, e, c, va, year in (
        ("530100", "新能源电池材料一体化项目（演示）", 180000, 420000, 260000, 2027),
        ("530300", "煤电机组扩建项目（演示）", 600000, 1700000, 80000, 2028),
        ("532500", "电解铝绿色低碳改造项目（演示）", 90000, 150000, 60000, 2026),
    ):
        d = Division.objects.filter(code=code).first()
        if d is None:
            continue
        ind = Industry.objects.filter(code={"530300": "44", "532500": "32"}.get(code, "26")).first()
        i = investment.register_investment(
            user=None,
            name=name,
            division=d,
            owner_name=f"{d.name}演示企业",
            industry=ind,
            stage="proposed",
            planned_start=dt.date(year - 1, 6, 1),
            planned_completion=dt.date(year, 6, 30),
            operation_date=dt.date(year, 7, 1),
            energy_equivalent_tce=str(e),
            co2_t=str(c),
            value_added_10k_yuan=str(va),
            today=today,
            is_synthetic=True,
        )
        investment.submit_review(user=None, investment=i, today=today)
        made += 1
    return {
        "investment_projects": made,
        "held_at_gate": held,
        "elimination_items": len(its),
        "suspensions": sum(1 for c in checks if c.suspension is not None),
    }
