"""Plan documents of any genre (issue 15): normalisation, structures, attribution forms,
department names and targets — one rule per test, the rules in docs/plans.md.

The forms below are the ones met in the corpus (tests/data/plans/corpus/, sources in its
``*.source.yaml``) and named in the issue: paragraphs ending in a private-use character,
``（省X、省Y负责）``, ``（省X会同有关部门负责）``, Markdown headings with bold ``**（一）…**`` items,
``（省X牵头，省Y等按职责分工负责）``, clauses carried over to the following tasks.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.plans import Plan, PlanVocabulary, PlanVocabularyError, parse_plan
from dualcontrol.core.plans_departments import DepartmentRegistry, plausible_department
from dualcontrol.core.plans_targets import extract_targets
from dualcontrol.core.plans_text import html_to_text, is_html, normalise_text, traditional_table
from dualcontrol.formats.plan_documents import load_plan_vocabulary

INDICATORS = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "dualcontrol"
    / "reference"
    / "data"
    / "indicators.yaml"
)


@functools.cache
def vocab() -> PlanVocabulary:
    return load_plan_vocabulary()


def parse(text: str) -> Plan:
    return parse_plan(text, vocabulary=vocab())


def tasks(text: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(t.key, t.lead_departments, t.participating_departments) for t in parse(text).tasks]


# --------------------------------------------------------------------------------------------
# Normalisation


def test_full_width_alphanumerics_become_half_width() -> None:
    assert normalise_text("到２０２５年下降１４．５％，ＰＭ２．５") == "到2025年下降14.5%，PM2.5"


def test_private_use_control_and_format_characters_are_dropped() -> None:
    text = "（一）推进节能。（省发展改革委负责）\ue000\n\u200b（二）推\u00ad进\x07减排。"
    assert normalise_text(text) == "（一）推进节能。（省发展改革委负责）\n（二）推进减排。"


def test_special_spaces_become_plain_spaces() -> None:
    assert normalise_text("甲\u00a0乙\u3000丙\u2003丁") == "甲 乙 丙 丁"


def test_compatibility_ideographs_of_pdf_text_become_unified() -> None:
    assert normalise_text("\u2f45\u6848") == "方案"  # ⽅ (Kangxi radical) + 案


def test_question_marks_of_lost_spaces_are_removed() -> None:
    text = "?\n????????? ?泰州市人民政府\n一、总体要求"
    assert normalise_text(text) == "\n泰州市人民政府\n一、总体要求"


def test_pinyin_annotations_are_removed() -> None:
    assert normalise_text("創新(xīn)工(gōng)作，PM(2.5)") == "創新工作，PM(2.5)"


def test_traditional_characters_read_as_simplified() -> None:
    table = traditional_table("牽牵頭头單单責责負负")
    assert normalise_text("（牽頭單位：省發改委）", traditional=table) == "（牵头单位：省發改委）"
    with pytest.raises(ValueError):
        traditional_table("牽牵頭")


def test_traditional_document_gives_simplified_departments() -> None:
    plan = parse("一、任務\n1.推進節能。（市政府辦公室牽頭，市級各有關部門按職責分工負責）")
    assert plan.tasks[0].lead_departments == ("市政府办公室",)


def test_html_markup_is_removed_and_cells_are_tab_separated() -> None:
    page = (
        "<html><body><p>一、重点任务</p><p>（一）推进节能&nbsp;降碳。<br/>（省发展改革委负责）</p>"
        "<table><tr><td>序号</td><td>任务</td></tr></table><script>var a=1;</script></body></html>"
    )
    assert is_html(page)
    text = normalise_text(page)
    assert "（一）推进节能 降碳。\n（省发展改革委负责）" in text
    assert "序号\t任务" in html_to_text(page)
    assert "var a" not in text


def test_markdown_headings_bold_items_and_tables_are_plain_text() -> None:
    text = "## 一、重点任务\n\n**（一）推进节能。** 到2025年完成。\n> 引用\n- 列表\n| 任务 | 牵头单位 |\n|---|---|\n| 甲 | 乙 |"
    assert normalise_text(text).split("\n") == [
        "一、重点任务",
        "",
        "（一）推进节能。 到2025年完成。",
        "引用",
        "列表",
        "任务\t牵头单位",
        "",
        "甲\t乙",
    ]


WRAPPED = "".join(
    f"（{i}）" + "推进重点领域节能降碳改造升级工作任务" * 2 + "。\n" for i in range(1, 3)
)


def _wrapped(lines: int) -> str:
    body = "一、重点任务\n（一）" + "甲" * 200 + "。（省发展改革委负责）"
    out = [body[:25]] + [body[25 + 20 * i : 25 + 20 * (i + 1)] for i in range(lines)]
    return "\n".join(out)


def test_hard_wrapped_lines_are_joined_from_eight_lines_of_wrap_width() -> None:
    # rule: at least 8 lines of 15+ characters, 40 % of them at the most common length
    joined = normalise_text("\n".join(["甲" * 20] * 8) + "\n乙")
    assert joined.split("\n") == ["甲" * 160 + "乙"]
    kept = normalise_text("\n".join(["甲" * 20] * 7) + "\n乙")
    assert kept.split("\n") == ["甲" * 20] * 7 + ["乙"]


def test_a_wrapped_line_starting_with_a_label_starts_a_new_paragraph() -> None:
    text = "\n".join(["甲" * 20] * 8 + ["（二）推进减排。"])
    assert normalise_text(text).split("\n")[-1] == "（二）推进减排。"


# --------------------------------------------------------------------------------------------
# Structures


def test_markdown_plan_with_bold_items_and_carry_over_clause() -> None:
    """The issue's second document: Markdown headings, bold items, a carried-over party."""
    text = (
        "# 某省节能降碳工作方案\n## 一、重点任务\n"
        "**（一）推进工业节能。** 到2025年，规模以上工业单位增加值能耗下降13.5%。"
        "（省工业和信息化厅牵头，省发展改革委、省财政厅等按职责分工负责。以下各项任务均需各市人民政府"
        "负责落实，不再列出）\n"
        "**（二）推进建筑节能。** （省住房城乡建设厅负责）\n"
        "**（三）推进交通节能。**\n"
    )
    assert tasks(text) == [
        ("一/（一）", ("省工业和信息化厅",), ("省发展改革委", "省财政厅", "各市人民政府")),
        ("一/（二）", ("省住房城乡建设厅",), ("各市人民政府",)),
        ("一/（三）", (), ("各市人民政府",)),
    ]


def test_private_use_paragraph_ends_and_joint_attribution() -> None:
    """The issue's first document: paragraphs end in a private-use character."""
    text = (
        "一、重点任务\ue003\n"
        "（一）推进节能。（省发展改革委、省工业和信息化厅负责）\ue003\n"
        "（二）推进减排。（省生态环境厅会同有关部门负责）\ue003\n"
    )
    assert tasks(text) == [
        ("一/（一）", ("省发展改革委",), ("省工业和信息化厅",)),
        ("一/（二）", ("省生态环境厅",), ("有关部门",)),
    ]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("一、甲\n（一）乙。（省财政厅负责）", ["一/（一）"]),
        ("一、甲\n1.乙。（省财政厅负责）\n2、丙。（省财政厅负责）", ["一/1", "一/2"]),
        ("一、甲\n（1）乙。（省财政厅负责）\n①丙。（省财政厅负责）", ["一/（1）", "一/（1）/①"]),
    ],
)
def test_numbering_styles(text: str, keys: list[str]) -> None:
    assert [t.key for t in parse(text).tasks] == keys


def test_context_parts_are_not_tasks_in_a_document_without_departments() -> None:
    text = (
        "一、总体要求\n（一）指导思想。甲。\n（二）主要目标。到2025年下降13%。\n"
        "二、重点任务\n（一）推进节能。乙。\n（二）推进减排。丙。\n三、保障措施\n（一）加强领导。丁。"
    )
    assert [t.key for t in parse(text).tasks] == ["二/（一）", "二/（二）", "三/（一）"]


def test_a_top_level_context_part_keeps_a_measure_numbered_inside_it() -> None:
    # 泰州 2018: （三）优化产业布局 runs on inside 一、总体要求
    text = "一、总体要求\n（一）指导思想。甲。\n（二）目标指标。乙。\n（三）优化产业布局。丙。"
    assert [t.key for t in parse(text).tasks] == ["一/（三）"]


def test_context_heading_rule_applies_to_titles_of_thirty_characters_at_most() -> None:
    title_30 = "主要目标" + "甲" * 26
    title_31 = "主要目标" + "甲" * 27
    assert [t.key for t in parse(f"一、任务\n1.{title_30}\n2.乙").tasks] == ["一/2"]
    assert [t.key for t in parse(f"一、任务\n1.{title_31}\n2.乙").tasks] == ["一/1", "一/2"]


# --------------------------------------------------------------------------------------------
# Attribution forms


@pytest.mark.parametrize(
    ("clause", "lead", "participating"),
    [
        ("（省发展改革委负责）", ["省发展改革委"], []),
        ("（省发展改革委、省财政厅负责）", ["省发展改革委"], ["省财政厅"]),
        ("（省发展改革委会同有关部门负责）", ["省发展改革委"], ["有关部门"]),
        ("（省发展改革委牵头，省财政厅参与）", ["省发展改革委"], ["省财政厅"]),
        ("（省发展改革委牵头，省财政厅配合）", ["省发展改革委"], ["省财政厅"]),
        (
            "（省发展改革委牵头，省财政厅、统计局等按职责分工负责）",
            ["省发展改革委"],
            ["省财政厅", "省统计局"],
        ),
        ("（责任单位：省发展改革委、省财政厅）", ["省发展改革委"], ["省财政厅"]),
        (
            "(牵头单位:省能源局 参加单位:省发展改革委、省国资委)",
            ["省能源局"],
            ["省发展改革委", "省国资委"],
        ),
        ("〔责任单位：省市场监管局〕", ["省市场监管局"], []),
        (
            "（市生态环境局、市场监管局牵头督导，市公安局参与）",
            ["市生态环境局", "市市场监管局"],
            ["市公安局"],
        ),
        ("（各县（市、区）人民政府负责）", ["各县（市、区）人民政府"], []),
    ],
)
def test_attribution_forms(clause: str, lead: list[str], participating: list[str]) -> None:
    task = parse(f"一、任务\n（一）推进节能。{clause}").tasks[0]
    assert list(task.lead_departments) == lead
    assert list(task.participating_departments) == participating


def test_closing_sentence_x_together_with_y() -> None:
    task = parse("一、任务\n1.推进节能。省发展改革委会同省财政厅负责。").tasks[0]
    assert task.lead_departments == ("省发展改革委",)
    assert task.participating_departments == ("省财政厅",)


def test_a_closing_sentence_with_words_that_are_not_departments_is_not_an_attribution() -> None:
    task = parse("一、任务\n1.推进节能。各地区要认真组织实施。\n2.乙。（省财政厅负责）").tasks[0]
    assert task.lead_departments == ()


def test_clause_inside_a_paragraph_adds_its_departments() -> None:
    text = (
        "一、任务\n1.制定准入清单。〔市生态环境局牵头，市发展和改革局参与〕按要求淘汰燃煤锅炉。"
        "（市市场监管局牵头，市工业和信息化局参与）"
    )
    task = parse(text).tasks[0]
    assert task.lead_departments == ("市市场监管局", "市生态环境局")
    assert task.participating_departments == ("市工业和信息化局", "市发展和改革局")


def test_carry_over_with_xia_tong() -> None:
    text = (
        "一、任务\n（一）甲。〔责任单位：省发展改革委、省市场监管局按职责分工负责。"
        "具体任务均涉及相关市（州）人民政府，不再做分工，下同。〕\n（二）乙。〔责任单位：省商务厅〕"
    )
    assert tasks(text) == [
        ("一/（一）", ("省发展改革委",), ("省市场监管局", "相关市（州）人民政府")),
        ("一/（二）", ("省商务厅",), ("相关市（州）人民政府",)),
    ]


def test_document_rule_no_lead_named_means_every_name_leads() -> None:
    text = (
        "一、任务\n1.甲。（负责单位：发展改革委、能源局。未明确牵头单位的，由所列负责单位按职责分工负责，下同）"
        "\n2.乙。（牵头单位：能源局 参加单位：国资委）"
    )
    assert tasks(text) == [
        ("一/1", ("发展改革委", "能源局"), ()),
        ("一/2", ("能源局",), ("国资委",)),
    ]


def test_clause_cut_off_by_the_end_of_the_text() -> None:
    text = "一、任务\n1.甲。（市政府办公室牵头）\n2.乙。（市政府办公室、市"
    assert tasks(text)[-1] == ("一/2", ("市政府办公室",), ())
    stub = "一、任务\n1.甲。（牵头单位：市发"
    assert tasks(stub) == [("一/1", (), ())]


# --------------------------------------------------------------------------------------------
# Department names


def test_registry_gives_one_name_per_body() -> None:
    registry = vocab().departments
    for written in ("省发改委", "省发展改革委", "省发展和改革委员会"):
        assert registry.canonical(written) == "省发展改革委"
    assert registry.canonical("市住建局") == "市住房城乡建设局"
    assert registry.canonical("工信部") == "工业和信息化部"
    assert registry.resolve("省发改委").known


def test_unknown_names_are_proposed_with_the_closest_known_department() -> None:
    match = vocab().departments.resolve("省发展改革委员")
    assert not match.known
    assert match.suggestion == "省发展改革委"
    assert match.similarity >= 0.5
    assert vocab().departments.resolve("省气象局").suggestion in (
        None,
        "省大数据局",
        "省统计局",
        "省能源局",
        "省税务局",
        "省公安局",
        "省水利局",
    )


def test_one_body_written_two_ways_is_one_department_of_a_task() -> None:
    task = parse("一、任务\n（一）甲。（省发改委、省发展改革委、省财政厅负责）").tasks[0]
    assert task.lead_departments == ("省发改委",)
    assert task.participating_departments == ("省财政厅",)


def test_registry_data_is_validated() -> None:
    from dualcontrol.core.plans_departments import DepartmentRegistryError

    with pytest.raises(DepartmentRegistryError):
        DepartmentRegistry.from_mapping([{"aliases": ["甲"]}])
    with pytest.raises(DepartmentRegistryError):
        DepartmentRegistry.from_mapping(
            [{"canonical": "甲委", "aliases": ["乙"]}, {"canonical": "丙委", "aliases": ["乙"]}]
        )
    data = yaml.safe_load((INDICATORS.parent / "plans_vocabulary.yaml").read_text("utf-8"))
    data["carry_over_patterns"] = ["以下(.+)"]
    with pytest.raises(PlanVocabularyError, match="names"):
        PlanVocabulary.from_mapping(data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "（",
                "）",
                "〔",
                "〕",
                "、",
                "，",
                "。",
                "牵头",
                "负责",
                "参与",
                "省",
                "市",
                "发展改革委",
                "财政厅",
                "以下均需",
                "落实",
                "下同",
                "会同",
                "1.",
                "一、",
                "（一）",
                "\n",
                "甲",
                "2025年",
            ]
        ),
        max_size=50,
    )
)
def test_no_junk_ever_becomes_a_department(parts: list[str]) -> None:
    plan = parse("".join(parts))
    g_suffixes = vocab().department_suffixes
    from dualcontrol.core.plans import _grammar

    bare = _grammar(vocab()).admin_bare
    for item in plan.walk():
        for name in (*item.lead_departments, *item.participating_departments):
            assert plausible_department(name, g_suffixes, bare), name


# --------------------------------------------------------------------------------------------
# Targets


def test_respectively_list_maps_each_value_to_its_indicator() -> None:
    text = (
        "到2025年，全省化学需氧量、氨氮、氮氧化物、挥发性有机物重点工程减排量分别达到"
        "7.19万吨、0.28万吨、8.01万吨、3.40万吨。"
    )
    found = extract_targets(text, vocabulary=vocab())
    assert [(t.indicator, t.value, t.unit, t.year, t.region) for t in found] == [
        ("cod_project_reduction", Decimal("7.19"), "万吨", 2025, "全省"),
        ("nh3n_project_reduction", Decimal("0.28"), "万吨", 2025, "全省"),
        ("nox_project_reduction", Decimal("8.01"), "万吨", 2025, "全省"),
        ("vocs_project_reduction", Decimal("3.40"), "万吨", 2025, "全省"),
    ]
    assert found[0].sentence == text


def test_each_list_gives_one_target_per_subject_but_annual_mean_is_not_a_list() -> None:
    found = extract_targets(
        "到2020年，二氧化硫、氮氧化物排放总量均比2015年下降22%以上。", vocabulary=vocab()
    )
    assert [(t.indicator, t.value, t.base_year) for t in found] == [
        ("so2_reduction", Decimal("22"), 2015),
        ("nox_reduction", Decimal("22"), 2015),
    ]
    single = extract_targets("到2020年，城区PM2.5年均浓度同比下降5%以上。", vocabulary=vocab())
    assert len(single) == 1


def test_intensity_share_and_peak_targets() -> None:
    text = (
        "到2025年，单位生产总值能源消耗比2020年下降14%，非化石能源占能源消费总量比重力争达到20%。"
        "到2030年，单位生产总值二氧化碳排放比2005年下降70%，确保2030年前实现碳达峰。"
    )
    found = extract_targets(text, vocabulary=vocab())
    assert [(t.indicator, t.value, t.year, t.base_year) for t in found] == [
        ("energy_intensity_reduction", Decimal("14"), 2025, 2020),
        ("non_fossil_share", Decimal("20"), 2025, None),
        ("co2_intensity_reduction", Decimal("70"), 2030, 2005),
        ("co2_peak_year", Decimal("2030"), 2030, None),
    ]


def test_sector_and_unknown_indicator() -> None:
    (target,) = extract_targets(
        "到2025年，钢铁、水泥等重点行业能效标杆水平的比例超过30%。", vocabulary=vocab()
    )
    assert target.indicator is None
    assert target.sector == "钢铁、水泥等重点行业"


def test_a_clause_without_its_own_subject_refers_back() -> None:
    found = extract_targets(
        "到2025年，全市单位地区生产总值能耗比2020年下降13%，力争完成14.5%的激励目标。",
        vocabulary=vocab(),
    )
    assert [t.indicator for t in found] == ["energy_intensity_reduction"] * 2


def test_thresholds_and_editions_are_not_targets_or_deadlines() -> None:
    found = extract_targets(
        "建成区不再新建每小时35蒸吨以下燃煤锅炉。执行《目录》(2019年本)，淘汰50家企业落后产能。",
        vocabulary=vocab(),
        default_year=2020,
    )
    assert [(t.value, t.unit, t.year) for t in found] == [(Decimal("50"), "家", 2020)]


def test_every_indicator_code_of_the_vocabulary_is_in_the_catalogue() -> None:
    catalogue = yaml.safe_load(INDICATORS.read_text("utf-8"))
    codes = {i["code"] for i in catalogue["indicators"]}
    rules = {r.code for r in vocab().target_indicators}
    assert rules <= codes
    assert "co2_peak_year" in codes
