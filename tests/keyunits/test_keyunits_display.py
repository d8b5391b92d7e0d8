"""What an officer sees on the key-unit pages: Chinese names instead of the keys stored in the
rows (products, indicators, surcharge tiers and rules, energy sources, report events), the rule
notes as short Chinese sentences (the data file keeps its source text), tce with two decimals,
the distance to the next grade in words, the styled sub-navigation per role."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.keyunits import queries, services, views
from dualcontrol.keyunits.models import ProductGrade, Surcharge
from dualcontrol.keyunits.rules import load_rules
from tests.auth import login

YEAR = 2025
TODAY = dt.date(2026, 5, 1)
RAW_KEYS = (
    "electrolytic_aluminium",
    "molten_al_comprehensive_ac_power",
    "al_tiered_2022",
    "cement_clinker",
    "comprehensive_energy",
    "below_baseline",
    "platform rule",
    "NOT FOUND",
)


# --------------------------------------------------------------------------------------------
# labels


def test_product_and_indicator_names_from_the_limit_standards():
    """GB 21346-2022 / GB 16780-2021 lines in efficiency_limits.csv: key → 中文名称."""
    assert queries.product_label("electrolytic_aluminium") == "电解铝"
    assert (
        queries.indicator_label("electrolytic_aluminium", "molten_al_comprehensive_ac_power")
        == "铝液综合交流电耗"
    )
    assert queries.product_label("cement_clinker") == "水泥熟料"
    assert queries.indicator_label("cement_clinker", "comprehensive_energy") == "综合能耗"
    # unknown keys are shown as given, never dropped
    assert queries.product_label("no_such_product") == "no_such_product"
    assert queries.indicator_label("cement_clinker", "no_such") == "no_such"


@pytest.mark.parametrize(
    ("tier", "label"),
    [
        ("normal", "不加价"),
        ("second", "第二档"),
        ("third", "第三档"),
        ("within_limit", "未超过限额（不加价）"),
        ("restricted", "超过限额一倍以内（限制类）"),
        ("eliminated", "超过限额一倍以上（淘汰类）"),
        ("step_1", "超过分档标准 1 档"),
        ("step_23", "超过分档标准 23 档"),
        ("step_x", "step_x"),  # not a step count: shown as given
    ],
)
def test_surcharge_tiers_in_words(tier, label):
    assert queries.surcharge_tier_label(tier) == label


def test_every_tier_of_the_surcharge_file_has_a_name():
    """Each tier name in electricity_surcharges.yaml is mapped (a new tier needs a label)."""
    from dualcontrol.reference.efficiency import surcharge_rules

    tiers = {t.tier for r in surcharge_rules() for t in r.tiers}
    assert tiers <= set(queries.SURCHARGE_TIERS), tiers - set(queries.SURCHARGE_TIERS)


def test_surcharge_rule_shown_by_its_document_title():
    """al_tiered_2022 = 《关于完善电解铝行业阶梯电价政策的通知》发改价格〔2021〕1239号."""
    assert queries.surcharge_rule_title("al_tiered_2022") == (
        "关于完善电解铝行业阶梯电价政策的通知 (发改价格〔2021〕1239号)"
    )
    assert queries.surcharge_rule_title("gone") == "gone"


def test_sources_and_events_in_words():
    assert queries.basis_source_label("registry") == "单位名录登记值"
    assert queries.basis_source_label("205-1 annual") == "205-1 年报"
    assert queries.basis_source_label("205-1 monthly") == "205-1 月报（12 个月合计）"
    assert [queries.event_label(a) for a in ("saved", "submitted", "returned", "accepted")] == [
        "保存",
        "提交审核",
        "退回",
        "通过",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("120.5000"), "120.5"),
        (Decimal("13760.0000"), "13760"),
        (Decimal("0.0000"), "0"),
        (Decimal("100"), "100"),
        (Decimal("0.0500"), "0.05"),
        (None, ""),
    ],
)
def test_plain_values_drop_trailing_zeros(value, text):
    assert queries.plain(value) == text


def test_distance_to_the_next_grade_in_words():
    g = ProductGrade(
        product="electrolytic_aluminium",
        indicator="molten_al_comprehensive_ac_power",
        unit="kWh/t",
        distance=Decimal("3.0000"),
        next_grade="1",
    )
    assert queries.grade_distance_text(g) == "还需降低 3 kWh/t 可达 1 级"
    g.distance, g.next_grade = Decimal("4.1000"), "2"
    assert queries.grade_distance_text(g) == "还需降低 4.1 kWh/t 可达 2 级"
    g.distance, g.next_grade = None, ""  # at 1级
    assert queries.grade_distance_text(g) == ""


@pytest.mark.parametrize(
    ("header", "value", "shown"),
    [
        ("综合能源消费量（吨标准煤）", Decimal("12000.0000"), "12000.00"),
        ("综合能源消费量（吨标准煤）", Decimal("213779.9449"), "213779.94"),
        ("加价（元/千瓦时）", Decimal("0.2300"), "0.2300"),
        ("用电量（千瓦时）", Decimal("2380342400.0000"), "2380342400"),
        ("加价电费（元）", Decimal("547478752.0000"), "547478752.00"),
        ("单位产品能耗", Decimal("120.5000"), "120.5"),
        ("单位名称", "某水泥有限公司", "某水泥有限公司"),
        ("审计报告", "", "—"),
        ("办结日期", None, "—"),
    ],
)
def test_list_cells_are_formatted_per_column(header, value, shown):
    assert views._cell(header, value) == shown


def test_rule_notes_are_short_chinese_sentences():
    """keyunit_rules.yaml keeps its (partly English) source text; the pages show a Chinese
    sentence with the figures of the rules and the cited documents, the source as tooltip."""
    rules = load_rules()
    notes = views.rule_notes(rules)
    for key, note in notes.items():
        assert "platform rule" not in note["text"] and "NOT FOUND" not in note["text"], key
        assert note["source"]  # the original text, intact
    assert notes["audit"]["source"] == rules.audit_due_source
    assert notes["audit"]["text"] == (
        f"审计报告期限：责令之日起 {rules.audit_due_days} 日（国家未规定时限，第五十四条为“限期整改”）。"
        "依据：节约能源法 第五十四条。平台规则，可在 keyunit_rules.yaml 中配置。"
    )
    assert "发改产业〔2021〕1464号" in notes["benchmark"]["text"]
    assert "超过 30%" in notes["benchmark"]["text"]
    assert "水泥熟料 2025-12-31" in notes["upgrade"]["text"]
    assert "发改产业〔2023〕723号" in notes["upgrade"]["text"]
    assert "超过 10000 吨标准煤" in notes["frontrunner"]["text"]
    assert "1级" in notes["frontrunner"]["text"]


# --------------------------------------------------------------------------------------------
# pages


def _content(*lines: services.ProductRow) -> services.StatusContent:
    return services.StatusContent(
        energy_uses=[services.EnergyUseRow("原煤", "吨", "10000", "12000")],
        product_lines=list(lines),
        savings_tce="120",
    )


@pytest.fixture
def shown(world):
    """The unit reports aluminium at 13400 kWh/t (5 steps over 13300) and clinker at 120
    kgce/t (over the limit, below 基准); grades, surcharges and audits computed."""
    world.unit.annual_energy_tce = 12000
    world.unit.save()
    officer = world.users[Role.PROVINCE_OFFICER]
    r = services.save_status_report(
        entity=world.unit,
        year=YEAR,
        content=_content(
            services.ProductRow(
                "电解铝",
                "铝液综合交流电耗",
                "100000",
                "13400",
                unit="kWh/t",
                electricity_kwh="1000000",
            ),
            services.ProductRow("cement_clinker", "comprehensive_energy", "100000", "120"),
        ),
        user=world.users[Role.ENTERPRISE],
        submit=True,
        today=TODAY,
    )
    report = services.accept_status_report(report=r, user=officer)
    services.propose_designations(year=YEAR, user=officer)
    services.compute_grades(year=YEAR, user=officer)
    services.compute_surcharges(year=YEAR, user=officer)
    services.order_audits_for_over_limit(year=YEAR, user=officer)
    assert Surcharge.objects.filter(entity=world.unit).exists()
    return world, report


def _get(world, role, path) -> str:
    c = Client()
    login(c, world.users[role])
    r = c.get(path, follow=True)
    assert r.status_code == 200, (path, r.status_code)
    return r.content.decode()


def _text(html: str) -> str:
    """The visible text (no tags, no attribute values such as the tooltips)."""
    return re.sub(r"<[^>]*>", " ", html)


def _no_raw_keys(text: str, where: str) -> None:
    found = [k for k in RAW_KEYS if k in text]
    assert not found, (where, found)


def test_unit_page_shows_names_rule_titles_and_notes(shown):
    world, _ = shown
    html = _get(world, Role.PROVINCE_OFFICER, f"/key-units/units/{world.unit.pk}/")
    text = _text(html)
    _no_raw_keys(text, "unit page")
    for expected in (
        "电解铝 · 铝液综合交流电耗",
        "超过分档标准 5 档",
        "关于完善电解铝行业阶梯电价政策的通知",
        "版本 electricity_surcharges.yaml@",
        "水泥熟料",
        "审计报告期限：责令之日起 180 日",
        "12000.00",  # tce with two decimals
    ):
        assert expected in text, expected
    assert 'class="ku-nav noprint"' in html and "keyunits/keyunits.css" in html


def test_surcharge_and_below_baseline_lists_show_names(shown):
    world, _ = shown
    text = _text(_get(world, Role.PROVINCE_OFFICER, f"/key-units/lists/surcharges/?year={YEAR}"))
    _no_raw_keys(text, "surcharge list")
    assert "电解铝" in text and "超过分档标准 5 档" in text and "0.0500" in text
    text = _text(
        _get(world, Role.PROVINCE_OFFICER, f"/key-units/lists/below_baseline/?year={YEAR}")
    )
    _no_raw_keys(text, "below-baseline list")
    assert "低于基准水平" in text and "改造升级时限：水泥熟料 2025-12-31" in text
    assert "120.0000" not in text and "120" in text


def test_frontrunner_list_and_shares_notes_in_chinese(shown):
    world, _ = shown
    text = _text(_get(world, Role.PROVINCE_OFFICER, f"/key-units/lists/frontrunners/?year={YEAR}"))
    _no_raw_keys(text, "frontrunners")
    assert "遴选规则：年综合能源消费量超过 10000 吨标准煤" in text
    text = _text(_get(world, Role.PROVINCE_OFFICER, f"/key-units/shares/?year={YEAR}"))
    _no_raw_keys(text, "shares")
    assert "目标：2025 年达到标杆水平的产能比例超过 30%" in text


def test_report_page_shows_events_in_words_and_tce_with_two_decimals(shown):
    world, report = shown
    text = _text(_get(world, Role.PROVINCE_OFFICER, f"/key-units/reports/{report.pk}/"))
    for raw in ("saved", "submitted", "accepted"):
        assert f" {raw} " not in text, raw
    assert "提交审核" in text and "通过" in text
    assert "12000.00" in text and "12000.0000" not in text


def test_registry_shows_the_source_of_the_figure_in_words(shown):
    world, _ = shown
    text = _text(_get(world, Role.PROVINCE_OFFICER, f"/key-units/?year={YEAR}"))
    assert "registry" not in text and "205-1 annual" not in text
    assert "205-1 年报" in text or "单位名录登记值" in text


def test_the_enterprise_form_shows_product_names(shown):
    world, _ = shown
    html = _get(world, Role.ENTERPRISE, f"/key-units/file/?year={YEAR}")
    assert 'value="电解铝"' in html and 'value="铝液综合交流电耗"' in html
    assert 'value="electrolytic_aluminium"' not in html


def test_computations_in_one_row_with_an_explanation_each(shown):
    world, _ = shown
    html = _get(world, Role.PROVINCE_OFFICER, f"/key-units/lists/?year={YEAR}")
    row = html.split('class="ku-actions"', 1)[1].split("</div>", 1)[0]
    assert row.count("<form") == 3 and row.count("<p>") == 3


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        (Role.PROVINCE_OFFICER, ["重点用能单位名单", "状况报告审核", "名单与清单"], ["在线填报"]),
        (Role.CITY_OFFICER, ["重点用能单位名单", "状况报告审核", "能源审计"], ["在线填报"]),
        (Role.VERIFIER, ["重点用能单位名单", "能源利用状况报告"], ["状况报告审核", "在线填报"]),
        (Role.ENTERPRISE, ["本单位", "在线填报", "能源管理负责人"], ["名单与清单", "标杆产能比例"]),
    ],
)
def test_sub_navigation_per_role_with_the_current_page_marked(shown, role, present, absent):
    world, _ = shown
    html = _get(world, role, "/key-units/audits/")
    nav = html.split('class="ku-nav noprint"', 1)[1].split("</nav>", 1)[0]
    for label in present:
        assert label in nav, (role, label)
    for label in absent:
        assert label not in nav, (role, label)
    assert re.search(r'class="on">能源审计<', nav), nav
