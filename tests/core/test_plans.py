"""Plan documents → tasks with lead / participating departments (issue 8; rules in docs/plans.md).

The three provincial plans in tests/data/plans/ are the published texts (Qinghai 青政〔2017〕53号,
Shandong 鲁政发〔2017〕43号, Yunnan 2011 work plan and 部门分工).  The counts below were checked by
hand against the documents:

* Qinghai: items (一)…(四十九) numbered across twelve sections; (一) 总体要求 and (二) 主要目标 sit
  in section 一, which names no department → context.  Tasks (三)…(四十九) = 47, of which 46 end
  with ``(牵头单位:…，参加单位:…)``; (四十) names its departments only in its prose → no lists.
* Shandong: section 一 (指导思想、发展目标、工作路径 1–4) names no department → context.  Tasks:
  二 3+3+2+2, 三 7, 四 5, 五 5 = 27, each ending with ``（责任单位：…）``.
* Yunnan: part 一 工作方案 (items 1–60) names no department → context; part 二 部门分工 has tasks
  （1）…（138）, each ending with a bare department list.
* synthetic (tests/data/plans/synthetic_…): an unseen-style plan written for this test with other
  numbering (第一章 / 第一节 / 1、 / ⑴ / ①) and phrasings (…负责, …等按职责分工负责, 牵头单位：…；
  配合单位：…, A牵头，B配合, A（牵头）) — 9 tasks.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.plans import (
    Plan,
    PlanItem,
    PlanParseError,
    PlanVocabulary,
    PlanVocabularyError,
    chinese_numeral,
    find_targets,
    parse_plan,
)
from dualcontrol.formats.plan_documents import (
    PlanDocumentError,
    load_plan_vocabulary,
    read_plan,
    read_plan_paragraphs,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "plans"
QINGHAI = DATA / "qinghai_2016-2020_energy-saving_emission-reduction_plan.txt"
SHANDONG = DATA / "shandong_2017-2020_low-carbon_development_plan.txt"
YUNNAN = DATA / "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt"
SYNTHETIC = DATA / "synthetic_2021-2025_energy-saving_carbon-reduction_plan.txt"


@functools.cache
def vocab() -> PlanVocabulary:
    return load_plan_vocabulary()


@functools.cache
def plan_of(path: Path) -> Plan:
    return read_plan(path)


def by_key(plan: Plan) -> dict[str, PlanItem]:
    return {item.key: item for item in plan.walk()}


def parse(text: str) -> Plan:
    return parse_plan(text, vocabulary=vocab())


def only_task(text: str) -> PlanItem:
    tasks = parse(text).tasks
    assert len(tasks) == 1, [t.key for t in tasks]
    return tasks[0]


# --------------------------------------------------------------------------------------------
# The three provincial plans


def test_qinghai_tasks_and_departments() -> None:
    plan = plan_of(QINGHAI)
    assert plan.title == "青海省“十三五”节能减排综合工作方案"
    assert plan.target_year == 2020
    tasks = plan.tasks
    assert len(tasks) == 47
    assert [t.ordinal for t in tasks] == list(range(3, 50))
    assert sum(1 for t in tasks if t.attribution) == 46
    items = by_key(plan)
    first = items["二/（三）"]
    assert first.number == "（三）"
    assert first.title == "调整优化产业结构"
    assert first.section == ("二、优化产业和能源结构",)
    assert first.lead_departments == ("省经济和信息化委", "省环境保护厅")
    assert first.participating_departments == (
        "省发展改革委",
        "省科技厅",
        "省财政厅",
        "省国资委",
        "省质监局",
        "省能源局",
    )
    assert first.text.startswith("调整优化产业结构。贯彻落实《中国制造2025》行动纲领")
    assert first.text.endswith("省质监局、省能源局等)")
    # bodies that name their own place are kept as written
    finance = items["八/（三十四）"]
    assert finance.lead_departments == (
        "省金融办",
        "青海银监局",
        "青海证监局",
        "青海保监局",
        "人行西宁中心支行",
    )
    assert finance.participating_departments == ("省财政厅", "省经济和信息化委", "省环境保护厅")
    energy = items["二/（五）"]
    assert energy.participating_departments[-1] == "国网青海省电力公司"
    consumption = items["十二/（四十七）"]
    assert consumption.participating_departments[-5:] == (
        "省军区",
        "武警青海总队",
        "省总工会",
        "团省委",
        "省妇联",
    )
    # (四十) is a task of section 十 but names its departments only in prose
    assert items["十/（四十）"].is_task
    assert items["十/（四十）"].attribution is None
    assert items["十/（四十）"].lead_departments == ()
    # section 一 is context; its targets are still read
    goals = items["一/（二）"]
    assert not goals.is_task
    assert (goals.targets[0].value, goals.targets[0].unit, goals.targets[0].year) == (
        Decimal("10"),
        "%",
        2020,
    )
    # the annex list after 附件 is not part of any task
    assert [i.key for i in plan.walk() if i.style == "annex"] == ["附件1"]
    assert "附件" not in tasks[-1].text


def test_qinghai_target_spot_checks() -> None:
    items = by_key(plan_of(QINGHAI))
    industry = items["二/（四）"].targets
    assert [(t.value, t.unit, t.year, t.year_explicit) for t in industry] == [
        (Decimal("15"), "%", 2020, True),
        (Decimal("45"), "%", 2020, True),
    ]
    assert industry[0].text == "特色战略性新兴产业增加值占工业增加值比重达到15%以上"
    sludge = items["四/（十七）"].targets[-1]
    assert (sludge.value, sludge.year) == (Decimal("90"), 2020)
    assert sludge.text.startswith("2020年底前地级城市污泥无害化处理处置率达到90%")
    boilers = items["六/（二十五）"].targets
    assert [(t.value, t.unit) for t in boilers] == [
        (Decimal("464"), "万千瓦"),
        (Decimal("900"), "蒸吨"),
    ]


def test_shandong_tasks_and_departments() -> None:
    plan = plan_of(SHANDONG)
    assert plan.title == "山东省低碳发展工作方案（2017—2020年）"
    assert plan.target_year == 2020
    tasks = plan.tasks
    assert len(tasks) == 27
    assert all(t.attribution for t in tasks)
    assert [t.key for t in tasks][:4] == [
        "二/（一）/1",
        "二/（一）/2",
        "二/（一）/3",
        "二/（二）/1",
    ]
    items = by_key(plan)
    assert not items["一/（二）"].is_task  # 发展目标: context
    assert not items["一/（三）/4"].is_task  # 工作路径: no departments in section 一
    industry = items["二/（一）/1"]
    assert industry.number == "1"
    assert industry.section == ("二、坚持多措并举，开创降碳工作新格局", "（一）推进结构降碳")
    assert industry.lead_departments == ("省发展改革委",)
    assert industry.participating_departments == ("省经济和信息化委", "省农业厅")
    # "，相关部门配合" marks participants
    energy = items["四/（一）"]
    assert energy.title == "低碳能源倍增行动计划"
    assert energy.lead_departments == ("省发展改革委",)
    assert energy.participating_departments == ("相关部门",)
    assert energy.text.count("\n") == 3  # heading + 工作目标 / 主要任务 / 重点工程 paragraphs
    assert [(t.value, t.unit) for t in energy.targets] == [
        (Decimal("7"), "%"),
        (Decimal("3000"), "万千瓦"),
    ]
    # "等" dropped
    assert items["二/（四）/2"].participating_departments == ("省财政厅",)
    policy = items["五/（三）"]
    assert policy.lead_departments == ("省发展改革委",)
    assert policy.participating_departments == (
        "省财政厅",
        "省经济和信息化委",
        "省住房城乡建设厅",
        "省交通运输厅",
        "省金融办",
        "省物价局",
        "省地税局",
        "各市人民政府",
    )
    # the 抄送 line after the last task is closing matter
    assert tasks[-1].text.endswith("省民政厅、省气象局）")
    power = items["三/（一）"].targets
    assert [(t.value, t.unit) for t in power] == [
        (Decimal("300"), "克/千瓦时"),
        (Decimal("310"), "克/千瓦时"),
        (Decimal("825"), "克/千瓦时"),
    ]
    regions = items["二/（二）/1"].targets
    assert [t.value for t in regions] == [Decimal(v) for v in ("23", "22", "21", "20.5", "20")]
    assert all(t.year == 2020 and t.year_explicit for t in regions)  # “十三五”期间


def test_yunnan_tasks_and_departments() -> None:
    plan = plan_of(YUNNAN)
    assert plan.title is None
    assert plan.target_year == 2015  # “十二五”
    tasks = plan.tasks
    assert len(tasks) == 138
    assert [t.number for t in tasks] == [f"（{n}）" for n in range(1, 139)]
    assert all(t.attribution for t in tasks)
    assert all(t.section[0] == "二、部门分工" for t in tasks)
    assert sum(1 for i in plan.walk() if i.section[:1] == ("一、工作方案",) and i.is_task) == 0
    items = {t.number: t for t in tasks}
    first = items["（1）"]
    assert first.section == ("二、部门分工", "（一）强化节能减排目标责任", "1.指标分解")
    assert first.title == "各州（市）低碳节能减排指标分解"
    # 省 distributed over the 、 list; the first-named leads
    assert first.lead_departments == ("省发展改革委",)
    assert first.participating_departments == ("省工业信息化委", "省环境保护厅", "省统计局")
    second = items["（2）"]
    assert second.lead_departments == ("省政府办公厅",)
    assert second.participating_departments == ("省发展改革委", "省工业信息化委", "省环境保护厅")
    assert items["（13）"].participating_departments == (
        "省农业厅",
        "省统计局",
        "省公安交通管理部门",
        "州、市人民政府",
    )
    assert items["（29）"].participating_departments == (
        "省工业信息化委",
        "省发展改革委",
        "云南电网公司",
        "州、市人民政府",
    )
    assert items["（32）"].participating_departments[-1] == "州（市）人民政府"
    assert items["（52）"].participating_departments == (
        "省工业信息化委",
        "省国资委",
        "省能源局",
        "云南电网公司",
        "各电力集团云南分公司",
        "州、市人民政府",
    )
    assert items["（57）"].participating_departments == ("省财政厅", "有关州、市人民政府")
    finance = items["（110）"]
    assert finance.lead_departments == ("人行昆明中心支行",)
    assert finance.participating_departments == ("省发展改革委", "云南银监局", "州、市人民政府")
    assert items["（129）"].lead_departments == ("省发展改革委",)
    assert items["（129）"].participating_departments == ()
    # the example: 到2015年…达到37% (the year is the plan period's: 十二五 → 2015)
    green = items["（45）"].targets
    assert [(t.value, t.unit, t.year, t.year_explicit) for t in green] == [
        (Decimal("37"), "%", 2015, False),
        (Decimal("32"), "%", 2015, False),
    ]
    assert green[0].text == "全省城市建成区绿化覆盖率达到37%"


@pytest.mark.parametrize("path", [QINGHAI, SHANDONG, YUNNAN, SYNTHETIC], ids=lambda p: p.stem)
def test_department_lists_are_clean(path: Path) -> None:
    plan = plan_of(path)
    keys = [i.key for i in plan.walk()]
    assert len(keys) == len(set(keys))
    for task in plan.tasks:
        names = task.lead_departments + task.participating_departments
        assert len(names) == len(set(names)), task.key
        for name in names:
            assert name and not name.endswith("等"), (task.key, name)
            assert not name.startswith(("省省", "省云南", "省青海", "省国网", "省人行")), name
            assert "，" not in name and "：" not in name and ":" not in name, name


def test_three_plans_import_hundreds_of_tasks() -> None:
    assert sum(len(plan_of(p).tasks) for p in (QINGHAI, SHANDONG, YUNNAN)) == 212


# --------------------------------------------------------------------------------------------
# An unseen plan


def test_synthetic_unseen_plan() -> None:
    plan = plan_of(SYNTHETIC)
    assert plan.title == "示范省“十四五”节能降碳行动实施方案"
    assert plan.target_year == 2025
    tasks = plan.tasks
    assert [t.key for t in tasks] == [
        "第二章/第一节/1",
        "第二章/第一节/2",
        "第二章/第一节/3",
        "第二章/第二节/（1）",
        "第二章/第二节/（2）",
        "第二章/第二节/（3）",
        "第三章/一",
        "第三章/二",
        "第三章/三",
    ]
    t = {task.key: task for task in tasks}
    assert t["第二章/第一节/1"].section == ("第二章 重点任务", "第一节 工业节能降碳")
    # （…负责）
    assert t["第二章/第一节/1"].lead_departments == ("省工业和信息化厅",)
    assert t["第二章/第一节/1"].participating_departments == ()
    # （…等按职责分工负责）
    assert t["第二章/第一节/2"].lead_departments == ("省工业和信息化厅",)
    assert t["第二章/第一节/2"].participating_departments == ("省发展改革委", "省生态环境厅")
    assert [(x.value, x.unit, x.year) for x in t["第二章/第一节/2"].targets] == [
        (Decimal("200"), "家", 2023)
    ]
    # 牵头单位：…；配合单位：… on its own line; 10蒸吨以下的 is a threshold, not a target
    phase_out = t["第二章/第一节/3"]
    assert phase_out.lead_departments == ("省发展改革委",)
    assert phase_out.participating_departments == (
        "省工业和信息化厅",
        "省市场监管局",
        "各市（州）人民政府",
    )
    assert phase_out.targets == ()
    # A牵头，B、C配合
    assert t["第二章/第二节/（1）"].lead_departments == ("省住房城乡建设厅",)
    assert t["第二章/第二节/（1）"].participating_departments == ("省发展改革委", "省自然资源厅")
    # A（牵头）; ① ② are details of ⑵, folded into its text and targets
    transport = t["第二章/第二节/（2）"]
    assert transport.lead_departments == ("省交通运输厅",)
    assert transport.participating_departments == ("省公安厅", "中国铁路示范局集团有限公司")
    assert transport.text.splitlines()[1:] == [
        "①推广新能源汽车，新增新能源公交车1500辆以上。",
        "②建设公共充电桩2万个。",
    ]
    assert [(x.value, x.unit) for x in transport.targets] == [
        (Decimal("1500"), "辆"),
        (Decimal("2"), "万个"),
    ]
    assert [c.is_task for c in by_key(plan)["第二章/第二节/（2）"].children] == [False, False]
    # 省 distributed: 省机关事务管理局、财政厅、教育厅
    assert t["第二章/第二节/（3）"].participating_departments == ("省财政厅", "省教育厅")
    # 市、县人民政府 kept whole
    assert t["第三章/一"].lead_departments == ("市、县人民政府",)
    assert t["第三章/一"].participating_departments == ("省直有关部门",)
    # a task without departments in a part that has them
    assert t["第三章/三"].attribution is None
    assert "抄送" not in t["第三章/三"].text and "印发" not in t["第三章/三"].text


# --------------------------------------------------------------------------------------------
# Rules, one by one


@pytest.mark.parametrize(
    ("clause", "lead", "participating"),
    [
        ("（省发展改革委、财政厅，省统计局）", ["省发展改革委"], ["省财政厅", "省统计局"]),
        ("（责任单位：省能源局、省财政厅等）", ["省能源局"], ["省财政厅"]),
        (
            "(牵头单位:省交通运输厅、省公安厅，参加单位:省财政厅等)",
            ["省交通运输厅", "省公安厅"],
            ["省财政厅"],
        ),
        ("（省住房城乡建设厅负责）", ["省住房城乡建设厅"], []),
        ("（各州、市人民政府等按职责分工负责）", ["各州、市人民政府"], []),
        ("（省科技厅牵头，省教育厅、财政厅配合）", ["省科技厅"], ["省教育厅", "省财政厅"]),
        (
            "（省统计局、省财政厅、省发展改革委（牵头））",
            ["省发展改革委"],
            ["省统计局", "省财政厅"],
        ),
        (
            "（省林业厅，云南电网公司，昆明市人民政府）",
            ["省林业厅"],
            ["云南电网公司", "昆明市人民政府"],
        ),
        (
            "（市发展改革委、工信局、生态环境局负责）",
            ["市发展改革委"],
            ["市工信局", "市生态环境局"],
        ),
        ("（省发展改革委、省发展改革委、统计局）", ["省发展改革委"], ["省统计局"]),
        (
            "（省能源局、国网示范省电力公司、青海银监局）",
            ["省能源局"],
            ["国网示范省电力公司", "青海银监局"],
        ),
    ],
)
def test_attribution_phrasings(clause: str, lead: list[str], participating: list[str]) -> None:
    task = only_task(f"一、重点任务\n（一）推进节能改造。{clause}")
    assert list(task.lead_departments) == lead
    assert list(task.participating_departments) == participating
    assert task.attribution is not None and task.attribution.clause == clause


def test_unlabelled_attribution_after_the_text() -> None:
    task = only_task("1.推进节能改造。\n牵头单位：省能源局；配合单位：省财政厅、统计局。")
    assert task.lead_departments == ("省能源局",)
    assert task.participating_departments == ("省财政厅", "省统计局")


@pytest.mark.parametrize(
    "tail",
    ["（2014-2030年）", "（以国家正式下达的指标为准）", "（PPP）", "（含公共机构）", "（下同）"],
)
def test_other_parentheses_are_not_departments(tail: str) -> None:
    task = only_task(f"1.推进节能改造，完善统计制度{tail}")
    assert task.attribution is None
    assert task.text.endswith(tail)


def test_attribution_wrapped_over_two_lines() -> None:
    task = only_task("（一）推进节能改造。（省发展改革委、\n财政厅）")
    assert task.lead_departments == ("省发展改革委",)
    assert task.participating_departments == ("省财政厅",)


def test_document_can_say_every_named_department_leads() -> None:
    plan = parse(
        "说明：各项任务所列单位排名不分先后。\n一、重点任务\n"
        "（一）推进节能改造。（省发展改革委、省财政厅）\n"
        "（二）推进统计。（省统计局牵头，省财政厅配合）"
    )
    assert plan.lead_rule == "all"
    first, second = plan.tasks
    assert first.lead_departments == ("省发展改革委", "省财政厅")
    assert first.participating_departments == ()
    assert second.lead_departments == ("省统计局",)
    assert second.participating_departments == ("省财政厅",)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("一、甲\n(一)乙。（省财政厅）\n（二）丙。（省统计局）", ["一/（一）", "一/（二）"]),
        ("1．甲。（省财政厅）\n2．乙。（省统计局）", ["1", "2"]),
        ("⒈甲。（省财政厅）\n⒉乙。（省统计局）", ["1", "2"]),
        ("1)甲。（省财政厅）\n2)乙。（省统计局）", ["1）", "2）"]),
        ("A.甲。（省财政厅）\nB.乙。（省统计局）", ["A", "B"]),
        (
            "第一章 甲\n第一节 乙\n⑴丙。（省财政厅）\n第二节 丁\n①戊。（省统计局）",
            ["第一章/第一节/（1）", "第一章/第二节/①"],
        ),
        ("（1）甲。（省财政厅）\n1.5万吨标准煤的目标。\n（2）乙。（省统计局）", ["（1）", "（2）"]),
        ("一、甲\n1.乙。（省财政厅）\n二、丙\n1.丁。（省统计局）", ["一/1", "二/1"]),
    ],
)
def test_numbering_variants(text: str, keys: list[str]) -> None:
    assert [t.key for t in parse(text).tasks] == keys


def test_paragraph_list_and_text_give_the_same_plan() -> None:
    text = SYNTHETIC.read_text(encoding="utf-8")
    assert parse_plan(text.splitlines(), vocabulary=vocab()) == parse(text)


def test_document_without_departments_gives_leaf_items() -> None:
    """Issue 15 changed this rule: parts titled like context (总体要求, 指导思想, 主要目标 …,
    vocabulary ``context_headings``) are context in a document without departments too — on
    the corpus they were a third of the "tasks" found in such documents."""
    plan = parse("一、总体要求\n（一）指导思想。\n（二）主要目标。\n二、任务\n1.甲。\n2.乙。")
    assert [t.key for t in plan.tasks] == ["二/1", "二/2"]
    assert all(t.lead_departments == () for t in plan.tasks)


def test_covering_notice_and_signature_are_not_tasks() -> None:
    plan = parse(
        "示范省人民政府关于印发示范省节能方案的通知\n"
        "一、请各地认真组织实施。\n二、请于每年1月底前报送进展。\n"
        "示范省人民政府\n2022年3月1日\n"
        "示范省节能方案\n一、重点任务\n（一）推进节能。（省发展改革委、财政厅）\n"
        "（二）推进统计。\n示范省人民政府办公厅\n示范省人民政府办公厅　2022年3月1日印发"
    )
    assert plan.title == "示范省节能方案"
    assert [i.key for i in plan.walk()][:2] == ["一", "二"]  # the notice's items, kept as context
    assert [t.key for t in plan.tasks] == ["一/（一）", "一/（二）"]
    assert plan.tasks[1].text == "推进统计。"


def test_no_numbered_items_gives_an_empty_plan() -> None:
    assert parse("").items == ()
    assert parse("现将方案印发给你们。").tasks == ()


def test_chinese_numerals() -> None:
    assert [chinese_numeral(s) for s in ("一", "十", "十一", "二十", "四十九", "一百零八")] == [
        1,
        10,
        11,
        20,
        49,
        108,
    ]
    assert chinese_numeral("甲") == 0


# --------------------------------------------------------------------------------------------
# Targets


def targets(text: str, year: int | None = 2020) -> list[tuple[str, str, int | None]]:
    return [
        (str(t.value), t.unit, t.year)
        for t in find_targets(text, vocabulary=vocab(), default_year=year)
    ]


def test_targets_year_from_the_sentence_or_the_plan() -> None:
    assert targets("到2015年，全省城市建成区绿化覆盖率达到37%。") == [("37", "%", 2015)]
    assert targets("全省城市建成区绿化覆盖率达到37%。", 2015) == [("37", "%", 2015)]
    assert targets("单位地区生产总值能耗比2015年下降10%。") == [("10", "%", 2020)]
    assert targets("“十四五”期间，单位产值能耗下降13.5%。", None) == [("13.5", "%", 2025)]
    assert targets("2017年底前，完成50台锅炉改造。") == [("50", "台", 2017)]
    assert targets("2017年底前，淘汰燃煤锅炉50台。") == [("50", "台", 2017)]
    assert targets("在2027年左右达到峰值，煤炭比重下降5个百分点。") == [("5", "个百分点", 2027)]
    assert targets("每年实施160项合同能源管理项目。") == [("160", "项", None)]


def test_targets_units_ranges_and_lists() -> None:
    assert targets("单位地区生产总值能耗下降到1.222吨标准煤/万元。") == [
        ("1.222", "吨标准煤/万元", 2020)
    ]
    assert targets("电解铝交流电耗下降到13200千瓦时/吨以下。") == [("13200", "千瓦时/吨", 2020)]
    found = find_targets("建成5-6个智慧节能应用示范市。", vocabulary=vocab())
    assert (found[0].value, found[0].value_max, found[0].unit) == (Decimal(5), Decimal(6), "个")
    assert targets("排放总量分别控制在52.9万吨、5.51万吨以内。") == [
        ("52.9", "万吨", 2020),
        ("5.51", "万吨", 2020),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "对10蒸吨以上的燃煤锅炉实施脱硫脱硝除尘改造。",
        "20万千瓦以上燃煤机组全部实施脱硫改造。",
        "依法加强年耗能5000吨标准煤以上用能单位节能管理。",
        "比2010年的56.4万吨、6.00万吨分别减少。",
        "主要包括生态旅游示范区创建、生态厕所建设等3项工程。",
        "实施《山东省推进工业转型升级行动计划（2015-2020年）》。",
        "实际处理水量达不到设计能力60%的地区。",
        "PM2.5浓度持续下降。",
    ],
)
def test_not_targets(text: str) -> None:
    assert targets(text) == []


# --------------------------------------------------------------------------------------------
# Robustness

PLAN_TOKENS = [
    "一、",
    "（一）",
    "(二)",
    "1.",
    "2、",
    "（3）",
    "①",
    "第一章",
    "附件",
    "抄送：",
    "（",
    "）",
    "(",
    ")",
    "牵头单位：",
    "参加单位:",
    "责任单位：",
    "省发展改革委",
    "财政厅",
    "、",
    "，",
    "；",
    "。",
    "州",
    "市人民政府",
    "负责",
    "配合",
    "等",
    "到2020年",
    "达到",
    "37%",
    "1.5",
    "万吨标准煤/",
    "以上的",
    "“十三五”",
    "\n",
    " ",
    "　",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PLAN_TOKENS), max_size=60) | st.text(max_size=200))
def test_parser_never_fails_and_keeps_its_invariants(parts: list[str] | str) -> None:
    text = parts if isinstance(parts, str) else "".join(parts)
    plan = parse(text)
    items = list(plan.walk())
    assert set(plan.tasks) <= set(items)
    for item in items:
        lead, part = item.lead_departments, item.participating_departments
        assert not set(lead) & set(part)
        assert len(set(lead)) == len(lead) and len(set(part)) == len(part)


def test_parser_refuses_other_input() -> None:
    with pytest.raises(PlanParseError):
        parse_plan([b"bytes"], vocabulary=vocab())  # type: ignore[list-item]
    with pytest.raises(PlanParseError):
        parse_plan("一、甲", vocabulary={})  # type: ignore[arg-type]


def test_vocabulary_is_versioned_data_and_validated() -> None:
    assert vocab().version.startswith("plans_vocabulary.yaml@")
    with pytest.raises(PlanVocabularyError):
        PlanVocabulary.from_mapping({"role_labels": []})
    with pytest.raises(PlanVocabularyError):
        PlanVocabulary.from_mapping([])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Files: .txt encodings and .docx


def test_text_files_in_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_bytes("一、任务\n（一）推进节能。（省发展改革委、财政厅）\n".encode("gb18030"))
    task = read_plan(path).tasks[0]
    assert task.participating_departments == ("省财政厅",)


@pytest.mark.parametrize(
    ("suffix", "message"), [(".doc", "save"), (".wps", "save"), (".pdf", "PDF")]
)
def test_unreadable_formats_are_refused(tmp_path: Path, suffix: str, message: str) -> None:
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(PlanDocumentError, match=message):  # .pdf: read, but this is not one
        read_plan_paragraphs(path)


def build_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("示范市节能降碳工作方案")
    document.add_paragraph("一、重点任务")
    document.add_paragraph(
        "推进工业节能。到2025年，工业能耗下降15%。（市工信局、发展改革委负责）", style="List Number"
    )
    document.add_paragraph(
        "推进建筑节能。（市住房城乡建设局牵头，市财政局配合）", style="List Number"
    )
    document.add_paragraph("二、任务分工")
    table = document.add_table(rows=3, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["序号", "重点任务", "牵头单位", "配合单位"], strict=True
    ):
        cell.text = text
    for cell, text in zip(
        table.rows[1].cells,
        ["1", "建设能耗在线监测平台", "市发展改革委", "市统计局、市数据局"],
        strict=True,
    ):
        cell.text = text
    for cell, text in zip(
        table.rows[2].cells, ["2", "开展节能宣传", "市委宣传部", ""], strict=True
    ):
        cell.text = text
    document.save(str(path))


def test_docx_numbering_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "plan.docx"
    build_docx(path)
    paragraphs = read_plan_paragraphs(path)
    assert paragraphs[2].startswith("1.推进工业节能")
    assert paragraphs[3].startswith("2.推进建筑节能")
    assert (
        paragraphs[5]
        == "（1）建设能耗在线监测平台。（牵头单位：市发展改革委；参加单位：市统计局、市数据局）"
    )
    plan = read_plan(path)
    assert plan.title == "示范市节能降碳工作方案"
    assert [t.key for t in plan.tasks] == ["一/1", "一/2", "二/（1）", "二/（2）"]
    first, second, third, fourth = plan.tasks
    assert first.lead_departments == ("市工信局",)
    assert first.participating_departments == ("市发展改革委",)
    assert [(t.value, t.year) for t in first.targets] == [(Decimal(15), 2025)]
    assert second.lead_departments == ("市住房城乡建设局",)
    assert third.lead_departments == ("市发展改革委",)
    assert third.participating_departments == ("市统计局", "市数据局")
    assert fourth.lead_departments == ("市委宣传部",)
    assert fourth.participating_departments == ()


def test_docx_vertically_merged_department_cells(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("一、任务分工")
    table = document.add_table(rows=3, cols=3)
    rows = [
        ["序号", "工作任务", "责任单位"],
        ["1", "推进工业节能", "市工信局、市发展改革委"],
        ["2", "推进建筑节能", ""],
    ]
    for row, texts in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    table.cell(1, 2).merge(table.cell(2, 2))
    path = tmp_path / "plan.docx"
    document.save(str(path))
    tasks = read_plan(path).tasks
    assert [(t.number, t.lead_departments, t.participating_departments) for t in tasks] == [
        ("（1）", ("市工信局",), ("市发展改革委",)),
        ("（2）", ("市工信局",), ("市发展改革委",)),
    ]


def test_tab_separated_table_in_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "附件\n重点任务分工表\n"
        "序号\t重点任务\t牵头单位\t配合单位\n"
        "1\t推进工业节能\t省工信厅\t省统计局、财政厅\n"
        "2\t推进建筑节能\t省住房城乡建设厅\t\n",
        encoding="utf-8",
    )
    paragraphs = read_plan_paragraphs(path)
    assert paragraphs[2] == "（1）推进工业节能。（牵头单位：省工信厅；参加单位：省统计局、财政厅）"
    tasks = read_plan(path).tasks
    assert [(t.lead_departments, t.participating_departments) for t in tasks] == [
        (("省工信厅",), ("省统计局", "省财政厅")),
        (("省住房城乡建设厅",), ()),
    ]


def test_damaged_docx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.docx"
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(PlanDocumentError, match=r"not a readable \.docx"):
        read_plan_paragraphs(path)
