"""Plan parser rules added for the documents issue 15 left below the goal (docs/plans.md rules 1, 4).

* an undated covering notice (a web page that dropped the notice's signature date): its items
  are context, not tasks — vocabulary ``notice_markers``;
* an annual plan's year, from its title or from the annual plans its preamble implements —
  ``annual_plan_words``;
* ``天`` counts as a target unit only when the subject names days (``优良天数``) —
  ``subject_units``;
* a share that opens its subject (``100%的县级以上城市建成…``) is a target.

Synthetic texts in the genre's wording (not the corpus documents): the corpus figures are in
tests/core/test_plans_corpus.py.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from dualcontrol.core.plans import Plan, PlanVocabulary, find_targets, parse_plan
from dualcontrol.formats.plan_documents import load_plan_vocabulary

NOTICE = (
    "示范市人民政府办公室关于印发示范市节能分工方案的通知\n"
    "各区人民政府，市政府各部门：\n"
    "现将《示范市节能分工方案》印发给你们，请认真贯彻执行。\n"
    "一、提高认识。各区、各部门要对照《方案》抓好落实。\n"
    "二、加强调度。市发展改革委负责统一调度。\n"
)


@functools.cache
def vocab() -> PlanVocabulary:
    return load_plan_vocabulary()


def parse(text: str, vocabulary: PlanVocabulary | None = None) -> Plan:
    return parse_plan(text, vocabulary=vocabulary or vocab())


def test_undated_notice_items_are_not_tasks() -> None:
    text = NOTICE + "1.推进节能改造。（牵头单位：市发展改革委）\n2.推进统计。（牵头单位：市统计局）"
    plan = parse(text)
    assert [t.key for t in plan.tasks] == ["1", "2"]
    assert [t.lead_departments for t in plan.tasks] == [("市发展改革委",), ("市统计局",)]
    assert [(i.key, i.is_task) for i in plan.items[:2]] == [("一", False), ("二", False)]
    # the old reading: the notice's 一 was a task and tasks 1, 2 children of the notice's 二
    old = parse(text, replace(vocab(), notice_markers=()))
    assert [t.key for t in old.tasks] == ["一", "二/1", "二/2"]


def test_undated_notice_ends_at_the_plan_title() -> None:
    plan = parse(
        NOTICE + "示范市节能分工方案\n一、重点任务\n（一）推进节能改造。（市发展改革委负责）"
    )
    assert plan.title == "示范市节能分工方案"
    assert [t.key for t in plan.tasks] == ["一/（一）"]
    assert plan.tasks[0].lead_departments == ("市发展改革委",)


def test_undated_notice_ends_where_the_numbering_restarts() -> None:
    plan = parse(NOTICE + "一、推进节能改造。（市发展改革委负责）\n二、推进统计。（市统计局负责）")
    assert [t.key for t in plan.tasks] == ["一", "二"]
    assert [t.line for t in plan.tasks] == [6, 7]


def test_a_plan_without_a_forwarding_sentence_keeps_its_tree() -> None:
    """No 印发给你们 in the preamble: 1. under 二、 is that part's sub-item, as before."""
    plan = parse(
        "示范市节能方案\n一、提高认识。各区要抓好落实。\n二、重点任务。\n"
        "1.推进节能改造。（市发展改革委负责）"
    )
    assert [t.key for t in plan.tasks] == ["一", "二/1"]


def test_a_dated_notice_is_not_cut_again() -> None:
    """After the signature date the plan's own 一、二、 prose parts keep their sub-items."""
    plan = parse(
        NOTICE + "示范市人民政府办公室\n2023年1月5日\n示范市节能分工方案\n"
        "一、加强领导。各区要建立机制。\n二、推进改造。各区要推进改造。\n"
        "1.推进节能改造。（市发展改革委负责）"
    )
    assert [t.key for t in plan.tasks] == ["一", "二/1"]
    assert [i.key for i in plan.items] == ["一", "二", "一", "二"]  # notice's, then the plan's


def test_context_parts_do_not_end_an_undated_notice() -> None:
    """一、总体要求 二、主要目标 are the plan's context parts, not a notice's items."""
    plan = parse(
        "现将《示范市节能方案》印发给你们，请认真贯彻执行。\n"
        "一、总体要求。以节能为重点。\n二、主要目标。到2025年，能耗下降14%。\n"
        "三、重点任务\n（一）推进节能改造。（市发展改革委负责）"
    )
    assert [t.key for t in plan.tasks] == ["三/（一）"]


def test_annual_plan_year_from_its_title() -> None:
    plan = parse("示范市打赢蓝天保卫战2019年行动计划\n一、目标\nPM2.5年均浓度同比下降5%以上。")
    assert plan.target_year == 2019


def test_annual_plan_year_from_the_plans_it_implements() -> None:
    text = (
        "为贯彻落实《示范省打赢蓝天保卫战2019年行动计划》，制定本行动计划。\n"
        "一、工作目标\n（一）约束性指标。\n城区PM2.5年均浓度同比下降5%以上。"
    )
    plan = parse(text)
    assert plan.target_year == 2019
    assert parse(text, replace(vocab(), annual_plan_words=())).target_year is None


def test_day_counts_are_targets_only_when_the_subject_counts_days() -> None:
    def found(text: str) -> list[tuple[str, str]]:
        return [
            (str(t.value), t.unit)
            for t in find_targets(text, vocabulary=vocab(), default_year=2019)
        ]

    assert found("优良天数分别达到甲县220天、乙县210天。") == [("220", "天"), ("210", "天")]
    assert found("重污染天数控制在3天以内。") == [("3", "天")]
    assert found("整改须在30天内完成。") == []
    assert found("完成整改不超过15天。") == []


def test_a_share_that_opens_its_subject_is_a_target() -> None:
    def found(text: str) -> list[str]:
        return [str(t.value) for t in find_targets(text, vocabulary=vocab(), default_year=2020)]

    assert found("2020年，100%的县级以上城市建成清新空气示范区。") == ["100"]
    assert found("全市60%的企业完成清洁化改造。") == ["60"]
    assert found("工业排放约占全市30%的总量。") == ["30"]  # 占: a target word before it
    assert found("其中30%的排放来自工业。") == []  # no target word: a description


def test_bare_numbers_of_a_list_share_the_unit_that_closes_it() -> None:
    """Found on the unseen guigang 2021 plan: 分别不高于53和32微克/立方米 is two targets."""
    found = [
        (str(t.value), t.unit)
        for t in find_targets(
            "PM10和PM2.5平均浓度分别不高于53和32微克/立方米。",
            vocabulary=vocab(),
            default_year=2021,
        )
    ]
    assert found == [("53", "微克/立方米"), ("32", "微克/立方米")]
    assert [
        str(t.value)
        for t in find_targets("建成10、20和30个示范点。", vocabulary=vocab(), default_year=2021)
    ] == ["10", "20", "30"]


def test_a_work_approach_part_is_context() -> None:
    """（一）工作思路 is the same kind of part as 指导思想 / 总体思路 (vocabulary context_headings)."""
    plan = parse(
        "（一）工作思路。以改善空气质量为核心。\n（二）主要目标。到2021年底，优良天数比率不低于92.5%。"
    )
    assert plan.tasks == ()
