"""Investment projects (issue 20): registration with the 两高 rule, the review gate (限批 / 暂停核准 /
budget) with an audited override, elimination lists and the missed-target consequence, pages × roles,
API and the two CLI commands (json / csv, bad file)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.assessment.models import Consequence
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main as cli_main
from dualcontrol.entities.models import Industry
from dualcontrol.projects import investment as inv_svc
from dualcontrol.projects.models import GateDecision, ReviewRecord, ReviewStatus, SectorSuspension
from tests.auth import login
from tests.projects.helpers import division

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)


def _inv(world, **kw):
    ind, _ = Industry.objects.get_or_create(code="30", defaults={"name": "非金属矿物制品业"})
    values = dict(
        user=None,
        name="水泥熟料项目",
        division=division("530102"),
        owner_name="测试建材",
        industry=ind,
        planned_start=dt.date(2026, 6, 1),
        planned_completion=dt.date(2027, 6, 30),
        energy_equivalent_tce="20000",
        electricity_kwh="9000000",
        co2_t="50000",
        value_added_10k_yuan="10000",
        today=TODAY,
    )
    values.update(kw)
    return inv_svc.register_investment(**values)


def test_register_classifies_two_high_and_authority(world):
    inv = _inv(world)
    assert inv.two_high is True
    assert {b["rule_set"] for b in inv.two_high_basis} == {"mee_2021", "ndrc_2021"}
    assert inv.review_authority == "unknown"  # 31号令: provincial threshold NOT FOUND
    assert AuditEntry.objects.filter(action="projects.investment.register").count() == 1
    with pytest.raises(ValidationError) as e:
        _inv(world, energy_equivalent_tce="x", separately_accounted=True)
    assert {"energy_equivalent_tce", "separate_list_ref"} <= set(e.value.message_dict)


def test_gate_holds_under_restriction_and_override_is_audited(world):
    inv = _inv(world)
    inv_svc.submit_review(user=None, investment=inv, today=TODAY)
    Consequence.objects.create(
        division=division("530100"),
        year=2025,
        kind="restrict",
        title_zh="区域限批",
        issued_on=dt.date(2026, 1, 1),
        restricts_approvals=True,
    )
    officer = world.users[Role.PROVINCE_OFFICER]
    args = dict(
        user=officer,
        investment=inv,
        decision="approved",
        conclusion="同意",
        carbon_conclusion="已评价",
    )
    with pytest.raises(inv_svc.GateHeld):
        inv_svc.decide_review(**args)
    held = ReviewRecord.objects.get()
    assert held.decision == GateDecision.HELD and held.gate["restrictions"]
    assert AuditEntry.objects.filter(action="projects.investment.review_held").exists()
    with pytest.raises(ValidationError):  # override without a reason
        inv_svc.decide_review(**args, override=True)
    with pytest.raises(PermissionDenied):  # a city officer cannot override
        inv_svc.decide_review(
            **{**args, "user": world.users[Role.CITY_OFFICER]}, override=True, override_reason="x"
        )
    rec = inv_svc.decide_review(**args, override=True, override_reason="省重点项目")
    assert rec.override and rec.override_reason == "省重点项目"
    inv.refresh_from_db()
    assert inv.review_status == ReviewStatus.APPROVED
    assert AuditEntry.objects.filter(action="projects.investment.review_override").count() == 1


def test_carbon_evaluation_required_since_2025_09_01(world):
    inv = _inv(world)
    inv_svc.submit_review(user=None, investment=inv, today=TODAY)
    with pytest.raises(ValidationError) as e:
        inv_svc.decide_review(user=None, investment=inv, decision="rejected", conclusion="不同意")
    assert "carbon_conclusion" in e.value.message_dict


def test_elimination_missed_target_suspends_the_sector_and_gate_sees_it(world):
    city = division("530100")
    inv_svc.set_elimination_target(
        user=None,
        division=city,
        year=2025,
        sector_code="cement",
        capacity="60",
        source_document="测试",
    )
    lst = inv_svc.create_elimination_list(
        user=None,
        year=2025,
        division=division("530000"),
        title="2025名单",
        items=[
            {
                "owner_name": "甲",
                "division": division("530102"),
                "sector_code": "cement",
                "line_equipment": "机立窑",
                "capacity": "50",
                "deadline": dt.date(2025, 9, 30),
            }
        ],
    )
    inv_svc.publish_elimination_list(user=None, elimination_list=lst)
    inv_svc.accept_elimination_item(
        user=None, item=lst.items.get(), accepted_on=dt.date(2025, 10, 1)
    )
    with pytest.raises(ValidationError):
        inv_svc.check_elimination_targets(user=None, year=2025, today=dt.date(2025, 12, 31))
    checks = inv_svc.check_elimination_targets(user=None, year=2025, today=dt.date(2026, 1, 1))
    assert [c.met for c in checks] == [False]
    assert SectorSuspension.objects.filter(division=city, sector_code="cement").exists()
    inv = _inv(world)
    assert inv_svc.gate_check(inv, TODAY).suspensions
    rows = inv_svc.elimination_rows(2025)
    assert rows[0]["capacity"] == 50.0 and rows[0]["accepted_on"] == "2025-10-01"


PAGES = [
    "/projects/investments/",
    "/projects/investments/?export=xlsx",
    "/projects/investments/{id}/",
    "/projects/elimination/?year=2025",
    "/projects/elimination/?year=2025&export=xlsx",
    "/projects/scenario/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    "role", [Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.ENTERPRISE, "anon"]
)
def test_pages_by_role(world, path, role):
    inv = _inv(world)
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    r = c.get(path.replace("{id}", str(inv.project.pk)))
    if role == "anon":
        assert r.status_code == 302
    elif role == Role.ENTERPRISE and ("{id}" in path or "scenario" in path):
        assert r.status_code in (403, 404)
    else:
        assert r.status_code == 200


def test_cli_impact_and_elimination(world, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "region,start_year,energy_tce,co2_t,value_added_10k_yuan\n999999,20x7,abc,1,1\n",
        encoding="gb18030",
    )
    assert cli_main(["projects", "impact", str(bad), "--region", "530100"]) == 2
    err = capsys.readouterr().err
    assert "unknown region" in err and "start_year" in err and "energy_tce" in err
    assert cli_main(["projects", "elimination", "--year", "2025", "--format", "json"]) in (0, None)
    assert json.loads(capsys.readouterr().out)["items"] == []
    assert cli_main(["projects", "elimination", "--year", "2025", "--format", "csv"]) in (0, None)
    assert capsys.readouterr().out.startswith("region_code,")


# --------------------------------------------------------------------------------------------
# Pages in Chinese: no raw keys, no English notes of the data files (tooltips may keep the
# data file's original text; the visible text is checked)
# --------------------------------------------------------------------------------------------


def _visible(html: str) -> str:
    import re

    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]*>", "", html)


def test_project_page_in_chinese(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dualcontrol.projects import services as project_services

    inv = _inv(world)
    project_services.upload_evidence(
        user=None,
        project=inv.project,
        kind="other",
        document=SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", "application/pdf"),
    )
    c = Client()
    login(c, world.users[Role.PROVINCE_OFFICER])
    page = _visible(c.get(f"/projects/investments/{inv.project.pk}/").content.decode())
    # 审查权限: the 31号令 has no provincial threshold (NOT FOUND) — said in Chinese
    assert "未确定：该办法的省级审查门槛未找到官方数值，可在 project_gating.yaml 配置" in page
    assert "NOT FOUND" not in page and "unknown" not in page
    # 两高认定: the source documents' short names, not the rule set keys
    assert (
        "建材（生态环境部2021年）" in page
        and "国家发展改革委2021年" in page
        and "国家发展改革委2021年" in page
    )
    assert "（mee_2021" not in page and "（ndrc_2021" not in page
    # evidence kind: the label of project_rules.yaml
    assert "report.pdf 其他材料" in page and "report.pdf other" not in page


def test_display_helpers():
    from dualcontrol.core import scenarios as core
    from dualcontrol.reference.project_gating import gating

    ramp = inv_svc.ramp_display()
    share = f"{gating().ramp.first_year_share_frac:g}"
    assert ramp["text"].startswith(f"投产当年计入比例 {share}（平台规则")
    assert "platform rule" in ramp["source"]  # the data file's text, for the tooltip only
    rows = inv_svc.attainment_display(
        {"energy_intensity": False, "co2_intensity": None, "over_budget": True},
        {"energy_intensity": True, "co2_intensity": None, "over_budget": False},
    )
    assert [(r["name"], r["without"], r["with"]) for r in rows] == [
        ("能耗强度降低目标", "未达成", "达成"),
        ("超出总量或预算", "超出", "未超出"),
    ]
    assert rows[0]["without_bad"] and not rows[0]["with_bad"]
    assert rows[1]["without_bad"] and not rows[1]["with_bad"]
    a = core.review_authority(
        energy_tce=20000, day=dt.date(2026, 1, 1), rules=gating().review_rules
    )
    shown = inv_svc.authority_display(a)
    assert shown["label"] == "未确定"
    assert not any("NOT FOUND" in r or "not given" in r for r in shown["reasons"])
    assert (
        inv_svc.rule_set_short_name("生态环境部《关于加强……》（2021年6月）") == "生态环境部2021年"
    )
    assert (
        inv_svc.document_title("国务院关于某事的通知 (2010-05-04), http://x")
        == "国务院关于某事的通知"
    )
    assert inv_svc.document_title("MIIT notice (2014)") == ""


def test_scenario_and_elimination_pages_in_chinese(world):
    _inv(world)
    c = Client()
    login(c, world.users[Role.PROVINCE_OFFICER])
    for path in ("/projects/scenario/", "/projects/elimination/?year=2025"):
        page = _visible(c.get(path).content.decode())
        for raw in (
            "energy_intensity ✗",
            "co2_intensity",
            "over_budget",
            "NOT FOUND",
            "platform rule",
            "SECONDARY",
        ):
            assert raw not in page, (path, raw)
    page = _visible(c.get("/projects/elimination/?year=2025").content.decode())
    assert "行业范围：工业和信息化部公告2014年第45号" in page
    assert ">MIIT 公告" not in page


def test_registering_an_investment_project_through_the_page(world):
    """登记固定资产投资项目: staff register through the form; every problem listed; others refused."""
    from django.test import Client

    from dualcontrol.accounts.models import Role
    from dualcontrol.projects.models import InvestmentProject
    from tests.auth import login

    c = login(Client(), world.users[Role.PROVINCE_OFFICER])
    page = c.get("/projects/investments/new/")
    assert (
        page.status_code == 200 and "年综合能源消费量（当量值，吨标准煤）" in page.content.decode()
    )
    bad = c.post(
        "/projects/investments/new/",
        {
            "name": "",
            "division": world.city.pk,
            "stage": "proposed",
            "planned_start": "2027-01-01",
            "planned_completion": "2026-01-01",
            "energy_equivalent_tce": "-5",
        },
    )
    html = bad.content.decode()
    assert bad.status_code == 200 and not InvestmentProject.objects.exists()
    assert html.count("errorlist") >= 2
    ok = c.post(
        "/projects/investments/new/",
        {
            "name": "测试水泥熟料生产线",
            "division": world.city.pk,
            "owner_name": "测试建材有限公司",
            "stage": "proposed",
            "planned_start": "2027-01-01",
            "planned_completion": "2028-06-30",
            "energy_equivalent_tce": "60000",
            "co2_t": "400000",
            "value_added_10k_yuan": "50000",
            "replacement": "",
        },
    )
    inv = InvestmentProject.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/projects/investments/{inv.project.pk}/"
    assert inv.energy_equivalent_tce == 60000 and inv.project.division == world.city
    for role in (Role.ENTERPRISE, Role.VERIFIER):
        assert (
            login(Client(), world.users[role]).get("/projects/investments/new/").status_code == 403
        )
