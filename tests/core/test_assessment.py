"""Specification of the target-responsibility assessment (评价考核) and its scoring sheets.

Sources (shared/reference/04_assessment_scoring.md):
- P1 国发〔2007〕36号 as implemented by Guangdong: "节能目标完成指标 … 满分为40分，超额完成指标的适当加分。
  节能措施落实指标 … 满分为60分。" "超额完成（95分以上）、完成（80-95分，不含95分）、基本完成（60-80分，
  不含80分）、未完成（60分以下，不含60分）4个等级。未完成节能目标的，均为未完成等级。"
- P3 county 计分表: "完成年度计划目标得40分，完成目标的90%得36分，完成80%得32分，完成70%得28分，完成60%得
  24分，完成50%得20分，完成50%以下不得分。每超额完成10%加3分，最多加9分。本指标为否决性指标。"
- P4 city 计分细则: intensity 30 (+1 per 10 % over-fulfilment, 10 % 含, max +5; veto) + industrial
  intensity 10 (10 at 100 %, 9 at 90 %, 8 at 80 %, 依次类推).
- P5 2011 revision: "对考核等级未完成地区，暂停对该地区新建高耗能项目的核准和审批。未完成地区政府应在评价
  考核结果公告后一个月内，向国务院作书面报告".
- 02_progress_rules.md: 14th FYP — reaching the incentive target exempts the total-consumption assessment.
- 14_carbon_assessment.md: NDRC 2014 carbon sheet ("年度目标完成率达到或超过100%得25分；低于100%的，得分为
  年度目标完成率乘以25。该项指标为否决性指标"; grades 90 / 80 / 60; "无论总分是否超出60分 … 均为不合格");
  the 2019 Shaanxi-posted 13th-FYP sheet (20 + 20 + 60); the cumulative rate
  "2014年碳强度累计下降率 = 1 − (1 − D2013累计) × (1 − D2014年度)".
- Published precision: a reduction printed as 4.00 % meets a 4.00 % target (platform rule: 2 decimals
  of a percentage, the ±% precision of formats.md §6.2).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.core.assessment import (
    COMPARE_PLACES_RULE,
    EXACT_COMPARE_RULE,
    AssessmentError,
    AssessmentInput,
    CompletionRatio,
    RangeBound,
    ScoringSheet,
    Status,
    TargetFigures,
    add_months,
    assess,
    at_precision,
    completion_frac,
    consequences_for,
    cumulative_rate_frac,
)
from dualcontrol.reference import ReferenceDataError, load_yaml
from dualcontrol.reference.scoring_sheets import (
    parse_sheet,
    scoring_sheet,
    scoring_sheets,
    sheet_files,
)

GF = "gf-2007-36"


def pct(text: str) -> D:
    """A percentage as printed (3.5) → the core's fraction (0.035), exactly."""
    return D(text).scaleb(-2)


def region(
    target_pct: str, achieved_pct: str, measures: str, sheet: str = GF, name: str = "甲市"
) -> Any:
    data = AssessmentInput(
        subject=name,
        targets={"intensity": TargetFigures(target=pct(target_pct), actual=pct(achieved_pct))},
        part_scores={"measures": D(measures)},
    )
    return assess(scoring_sheet(sheet), data)


# --- the shipped sheets ------------------------------------------------------------------------


def test_every_shipped_sheet_loads_and_validates() -> None:
    sheets = scoring_sheets()
    assert set(sheets) == {
        "gf-2007-36",
        "gf-2007-36-county",
        "gf-2007-36-city",
        "gf-2007-36-enterprise",
        "dc-14th-fyp",
        "co2-2014",
        "co2-13th-fyp",
        "co2-15th-fyp",
        "pollutants-total",
        "pollutants-key-projects",
    }
    assert len(sheet_files()) == len(sheets)
    for sheet in sheets.values():
        assert sheet.source and sheet.notes
        assert sheet.version.startswith("scoring_") and "@" in sheet.version


def test_gf_2007_36_structure_40_plus_60_with_9_bonus() -> None:
    sheet = scoring_sheet(GF)
    assert [(p.key, p.max_points) for p in sheet.parts] == [("target", D(40)), ("measures", D(60))]
    assert [g.name_zh for g in sheet.grades] == ["超额完成", "完成", "基本完成", "未完成"]
    assert sheet.max_score == 109  # 40 + 9 bonus + 60
    item = sheet.target_item("intensity")
    assert item.veto and item.title_zh == "万元GDP能耗降低率"


def test_unknown_sheet_names_the_available_ones() -> None:
    with pytest.raises(ReferenceDataError, match="gf-2007-36"):
        scoring_sheet("gf-2099")


# --- grades: P1 "超额完成（95分以上）、完成（80-95分，不含95分）…" -------------------------------


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("109", "超额完成"),
        ("95.01", "超额完成"),
        ("95", "超额完成"),  # 95分以上 includes 95: "80-95分，不含95分"
        ("94.99", "完成"),
        ("80", "完成"),
        ("79.99", "基本完成"),
        ("60", "基本完成"),
        ("59.99", "未完成"),  # 60分以下，不含60分
        ("0", "未完成"),
    ],
)
def test_grade_bounds_exactly_as_printed(score: str, grade: str) -> None:
    assert scoring_sheet(GF).grade_for(D(score)).name_zh == grade


@pytest.mark.parametrize(
    ("measures", "total", "grade"),
    [("54.99", "94.99", "完成"), ("55", "95", "超额完成"), ("55.01", "95.01", "超额完成")],
)
def test_grade_of_a_scored_region_at_95(measures: str, total: str, grade: str) -> None:
    r = region("3.5", "3.5", measures)  # target met exactly: 40 points, no bonus
    assert r.total_score == D(total)
    assert r.grade.name_zh == grade and not r.vetoed


@pytest.mark.parametrize(
    ("measures", "grade"),
    [("40", "完成"), ("39.99", "基本完成"), ("20", "基本完成"), ("19.99", "未完成")],
)
def test_grade_of_a_scored_region_at_80_and_60(measures: str, grade: str) -> None:
    assert region("3.5", "3.5", measures).grade.name_zh == grade


# --- veto: "未完成节能目标的，均为未完成等级" / "只要未达到年度计划确定的目标值即为未完成等级" ----------


def test_missing_the_target_with_a_high_score_is_not_completed() -> None:
    r = region("3.5", "3.49", "60")  # completion 0.997 → 36; total 96
    assert r.total_score == 96
    assert r.score_grade.name_zh == "超额完成"
    assert r.grade.name_zh == "未完成"
    assert r.vetoed and r.veto_items == ("intensity",)
    assert r.item("intensity").status is Status.MISSED


def test_meeting_the_target_exactly_is_no_veto() -> None:
    r = region("3.5", "3.5", "50")
    assert not r.vetoed and r.item("intensity").status is Status.MET
    assert r.grade.name_zh == "完成"


def test_a_rise_in_intensity_scores_zero_and_is_vetoed() -> None:
    r = region("3.5", "-1.2", "58")
    assert r.part_score("target") == 0 and r.total_score == 58
    assert r.grade.name_zh == "未完成" and r.vetoed


# --- target points: P3 bands and bonus -----------------------------------------------------------


@pytest.mark.parametrize(
    ("achieved_pct", "points", "bonus"),
    [
        ("4", "40", "0"),  # completion 1.0
        ("3.99", "36", "0"),  # 0.9975: only the 90 % band is reached
        ("3.6", "36", "0"),  # 0.9 exactly: 完成目标的90%得36分
        ("3.59", "32", "0"),  # 0.8975
        ("3.2", "32", "0"),
        ("2.8", "28", "0"),
        ("2.4", "24", "0"),
        ("2", "20", "0"),  # 0.5: 完成50%得20分
        ("1.99", "0", "0"),  # 0.4975: 完成50%以下不得分
        ("0", "0", "0"),
        ("4.39", "40", "0"),  # 1.0975: less than 10 % over-fulfilment
        ("4.4", "40", "3"),  # 1.1: 每超额完成10%加3分
        ("4.8", "40", "6"),
        ("5.2", "40", "9"),
        ("8", "40", "9"),  # 最多加9分
    ],
)
def test_target_points_by_completion_band(achieved_pct: str, points: str, bonus: str) -> None:
    item = region("4", achieved_pct, "50").item("intensity")
    assert (item.points, item.bonus_points) == (D(points), D(bonus))
    assert item.score == D(points) + D(bonus)


def test_band_bounds_are_exact_where_binary_floats_are_not() -> None:
    # 0.0315 / 0.035 == 0.8999999999999999 and 0.0385 / 0.035 == 1.0999999999999999 in floats.
    at_90 = region("3.5", "3.15", "50").item("intensity")
    assert at_90.figures["completion_frac"] == D("0.9") and at_90.points == 36
    at_110 = region("3.5", "3.85", "50").item("intensity")
    assert at_110.figures["completion_frac"] == D("1.1") and at_110.bonus_points == 3


def test_the_result_records_the_sheet_version_and_the_figures() -> None:
    r = region("3.5", "3.85", "55")
    sheet = scoring_sheet(GF)
    assert (r.sheet_name, r.sheet_version) == (GF, sheet.version)
    item = r.item("intensity")
    assert item.figures == {
        "target_frac": D("0.035"),
        "actual_frac": D("0.0385"),
        "completion_frac": D("1.1"),
    }
    assert item.basis == "completion 1.1 ≥ 1 → 40; over-fulfilment 0.1 = 1 step(s) of 0.1 → +3"
    assert r.part_score("target") == 43 and r.total_score == 98
    assert r.grade.name_zh == "超额完成"


def test_a_target_of_zero_has_no_completion_ratio() -> None:
    with pytest.raises(AssessmentError, match="positive target"):
        region("0", "1", "50")


def test_missing_figures_are_refused() -> None:
    with pytest.raises(AssessmentError, match="intensity"):
        assess(scoring_sheet(GF), AssessmentInput("甲市", {}, part_scores={"measures": D(50)}))


# --- measures part: per-item scores ≤ item max, or a total ≤ 60 ----------------------------------


def test_measures_total_is_capped_at_the_part_maximum() -> None:
    assert region("3.5", "3.5", "60").part_score("measures") == 60
    with pytest.raises(AssessmentError, match="between 0 and 60"):
        region("3.5", "3.5", "60.01")
    with pytest.raises(AssessmentError, match="between 0 and 60"):
        region("3.5", "3.5", "-1")


COUNTY_FULL = {
    "organisation": D(2),
    "target_breakdown": D(3),
    "industrial_structure": D(20),
    "investment": D(10),
    "technology": D(9),
    "key_enterprises": D(8),
    "law_enforcement": D(3),
    "groundwork": D(5),
}


def county(item_scores: dict[str, D], part_scores: dict[str, D] | None = None) -> Any:
    return assess(
        scoring_sheet("gf-2007-36-county"),
        AssessmentInput(
            subject="某县",
            targets={"intensity": TargetFigures(pct("4"), pct("4"))},
            item_scores=item_scores,
            part_scores=part_scores or {},
        ),
    )


def test_county_sheet_items_add_up_to_60() -> None:
    sheet = scoring_sheet("gf-2007-36-county")
    measures = sheet.parts[1]
    assert [m.max_points for m in measures.measures] == [2, 3, 20, 10, 9, 8, 3, 5]
    assert all(sum(p for _, p in m.sub_items) == m.max_points for m in measures.measures)
    r = county(COUNTY_FULL)
    assert r.part_score("measures") == 60 and r.total_score == 100
    assert r.parts[1].entered_as == "items"


def test_county_item_above_its_maximum_is_refused() -> None:
    scores = dict(COUNTY_FULL, organisation=D("2.5"))
    with pytest.raises(AssessmentError, match=r"organisation .*between 0 and 2"):
        county(scores)


def test_county_items_must_all_be_scored() -> None:
    scores = dict(COUNTY_FULL)
    del scores["groundwork"]
    with pytest.raises(AssessmentError, match="missing for groundwork"):
        county(scores)


def test_items_and_total_together_are_refused() -> None:
    with pytest.raises(AssessmentError, match="not both"):
        county(COUNTY_FULL, {"measures": D(60)})


def test_county_total_instead_of_items() -> None:
    r = county({}, {"measures": D("47.5")})
    assert r.part_score("measures") == D("47.5") and r.parts[1].entered_as == "total"


# --- the city variant (P4): 30 + 10 -------------------------------------------------------------


def city(intensity: tuple[str, str], industrial: tuple[str, str], measures: str = "50") -> Any:
    return assess(
        scoring_sheet("gf-2007-36-city"),
        AssessmentInput(
            subject="某区",
            targets={
                "intensity": TargetFigures(pct(intensity[0]), pct(intensity[1])),
                "industrial_intensity": TargetFigures(pct(industrial[0]), pct(industrial[1])),
            },
            part_scores={"measures": D(measures)},
        ),
    )


@pytest.mark.parametrize(
    ("achieved", "points", "bonus"),
    [
        ("3", "30", "0"),
        ("3.3", "30", "1"),
        ("3.6", "30", "2"),
        ("4.5", "30", "5"),
        ("9", "30", "5"),
    ],
)
def test_city_intensity_30_points_plus_1_per_10_pct(achieved: str, points: str, bonus: str) -> None:
    item = city(("3", achieved), ("4", "4")).item("intensity")
    assert (item.points, item.bonus_points) == (D(points), D(bonus))


@pytest.mark.parametrize(
    ("achieved", "points"), [("4", "10"), ("3.6", "9"), ("3.4", "8"), ("0.4", "1"), ("0.3", "0")]
)
def test_city_industrial_intensity_10_9_8_and_so_on(achieved: str, points: str) -> None:
    r = city(("3", "3"), ("4", achieved))
    assert r.item("industrial_intensity").points == D(points)
    assert not r.vetoed  # only the GDP-intensity item is 否决性指标


def test_city_intensity_missed_is_zero_and_vetoed() -> None:
    r = city(("3", "2.99"), ("4", "5"), measures="60")
    assert r.item("intensity").points == 0
    assert r.grade.name_zh == "未完成" and r.vetoed


# --- the enterprise preset ----------------------------------------------------------------------


def enterprise(target_tce: str, saved_tce: str, measures: str) -> Any:
    return assess(
        scoring_sheet("gf-2007-36-enterprise"),
        AssessmentInput(
            subject="某钢铁公司",
            targets={"energy_saving": TargetFigures(D(target_tce), D(saved_tce))},
            part_scores={"measures": D(measures)},
        ),
    )


def test_enterprise_energy_saving_in_tce() -> None:
    r = enterprise("12000", "13200", "52")
    item = r.item("energy_saving")
    assert item.figures["target_tce"] == 12000 and item.figures["completion_frac"] == D("1.1")
    assert r.total_score == 95 and r.grade.name_zh == "超额完成"


# --- consequences ---------------------------------------------------------------------------------


def test_not_completed_region_gets_approval_suspension_and_a_report_due_in_one_month() -> None:
    sheet = scoring_sheet(GF)
    r = region("3.5", "3.4", "60")
    out = consequences_for(sheet, r, dt.date(2024, 6, 15))
    by_key = {c.key: c for c in out}
    assert by_key["high_energy_project_approval_suspended"].due_on is None
    report = by_key["written_rectification_report"]
    assert report.due_on == dt.date(2024, 7, 15)
    assert report.trigger == "grade 未完成"
    assert report.sheet_version == sheet.version and "P5" in report.source
    assert "accountability" in by_key


def test_completed_region_gets_only_the_rules_for_every_result() -> None:
    out = consequences_for(scoring_sheet(GF), region("3.5", "3.6", "50"), dt.date(2024, 6, 15))
    assert [c.key for c in out] == ["results_announced", "cadre_evaluation"]


def test_enterprise_missing_its_target_gets_an_audit_with_a_deadline_and_a_credit_record() -> None:
    sheet = scoring_sheet("gf-2007-36-enterprise")
    out = consequences_for(sheet, enterprise("12000", "11000", "55"), dt.date(2024, 11, 30))
    by_key = {c.key: c for c in out}
    assert by_key["mandatory_energy_audit"].due_on == dt.date(2025, 2, 28)
    assert by_key["mandatory_energy_audit"].trigger == "missed 年度节能量目标"
    assert {"rectification_order", "credit_record"} <= set(by_key)
    met = consequences_for(sheet, enterprise("12000", "12000", "55"), dt.date(2024, 11, 30))
    assert [c.key for c in met] == ["credit_record"]


@pytest.mark.parametrize(
    ("day", "months", "due"),
    [
        ((2024, 1, 31), 1, (2024, 2, 29)),
        ((2023, 1, 31), 1, (2023, 2, 28)),
        ((2024, 12, 15), 1, (2025, 1, 15)),
        ((2024, 11, 30), 3, (2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(
    day: tuple[int, int, int], months: int, due: tuple[int, int, int]
) -> None:
    assert add_months(dt.date(*day), months) == dt.date(*due)


def test_consequences_refuse_a_result_of_another_sheet() -> None:
    with pytest.raises(AssessmentError, match="scored with"):
        consequences_for(scoring_sheet("dc-14th-fyp"), region("3", "3", "50"), dt.date(2024, 1, 1))


# --- dual control (14th FYP): intensity veto, total separately, incentive exemption ---------------


def dual(
    intensity: tuple[str, str, str | None],
    total_tce: tuple[str, str],
    deductions: dict[str, D] | None = None,
    measures: str = "55",
) -> Any:
    target, achieved, incentive = intensity
    return assess(
        scoring_sheet("dc-14th-fyp"),
        AssessmentInput(
            subject="某省",
            targets={
                "intensity": TargetFigures(
                    pct(target), pct(achieved), pct(incentive) if incentive else None
                ),
                "total": TargetFigures(
                    D(total_tce[0]), D(total_tce[1]), deductions=deductions or {}
                ),
            },
            part_scores={"measures": D(measures)},
        ),
    )


def test_dual_control_total_is_assessed_separately_without_veto() -> None:
    r = dual(("3", "3.1", "3.5"), ("20000000", "20500000"))
    total = r.item("total")
    assert total.status is Status.MISSED and total.score == 0
    assert total.figures["overshoot_frac"] == D("0.025")
    assert not r.vetoed and r.grade.name_zh == "超额完成"  # 40 + 55
    keys = [c.key for c in consequences_for(scoring_sheet("dc-14th-fyp"), r, dt.date(2025, 5, 1))]
    assert "interview" in keys and "high_energy_projects_deferred" in keys
    assert "accountability" not in keys


def test_dual_control_incentive_target_exempts_the_total() -> None:
    r = dual(("3", "3.5", "3.5"), ("20000000", "20500000"))
    assert r.item("total").status is Status.EXEMPT
    keys = [c.key for c in consequences_for(scoring_sheet("dc-14th-fyp"), r, dt.date(2025, 5, 1))]
    assert "interview" not in keys


def test_dual_control_without_incentive_target_no_exemption() -> None:
    assert dual(("3", "9", None), ("100", "101")).item("total").status is Status.MISSED


def test_dual_control_deductions_are_not_counted_in_the_total() -> None:
    r = dual(
        ("3", "3.1", "3.5"),
        ("20000000", "20500000"),
        {"renewable_electricity": D(300000), "feedstock": D(250000)},
    )
    total = r.item("total")
    assert total.figures["counted_actual_tce"] == 19950000
    assert total.status is Status.MET


def test_dual_control_intensity_missed_is_the_veto() -> None:
    r = dual(("3", "2.9", "3.5"), ("100", "90"), measures="60")
    assert r.vetoed and r.grade.name_zh == "未完成"
    keys = [c.key for c in consequences_for(scoring_sheet("dc-14th-fyp"), r, dt.date(2025, 5, 1))]
    assert "accountability" in keys and "interview" not in keys


def test_unknown_deduction_and_easy_incentive_are_refused() -> None:
    with pytest.raises(AssessmentError, match="no deduction"):
        dual(("3", "3.1", None), ("100", "90"), {"nuclear": D(1)})
    with pytest.raises(AssessmentError, match="incentive target"):
        dual(("3", "3.1", "2.5"), ("100", "90"))


# --- a sheet added later as data works without code change ---------------------------------------


def gf_data() -> dict[str, Any]:
    return copy.deepcopy(load_yaml("scoring_gf_2007_36.yaml")[1])


def test_a_new_sheet_from_data_50_50_split() -> None:
    # 04_assessment_scoring.md: a local variant with a 50/50 split (fsou.net 16979935):
    # "节能目标和节能措施各50分 … 完成年度节能目标计50分 … 否决性指标".
    data = gf_data()
    data["name"] = "local-50-50"
    data["parts"][0]["max_points"] = 50
    item = data["parts"][0]["items"][0]
    item["max_points"] = 50
    item["completion"] = {"bands": [{"at_least": 1, "points": 50}], "otherwise": 0}
    data["parts"][1]["max_points"] = 50
    sheet = parse_sheet(data, version="admin-row-7@1")
    r = assess(
        sheet,
        AssessmentInput(
            "某县",
            {"intensity": TargetFigures(pct("4"), pct("4.1"))},
            part_scores={"measures": D(45)},
        ),
    )
    assert (r.total_score, r.grade.name_zh, r.sheet_version) == (D(95), "超额完成", "admin-row-7@1")


def test_interpolation_between_bands_is_a_data_switch() -> None:
    data = gf_data()
    data["parts"][0]["items"][0]["completion"]["between_bands"] = "interpolate"
    sheet = parse_sheet(data, version="test")
    r = assess(
        sheet,
        AssessmentInput(
            "甲",
            {"intensity": TargetFigures(pct("4"), pct("3.8"))},
            part_scores={"measures": D(50)},
        ),
    )
    assert r.item("intensity").points == 38  # halfway between 36 (0.9) and 40 (1.0)


def test_log_completion_ratio_is_a_data_switch() -> None:
    data = gf_data()
    data["parts"][0]["items"][0]["completion"]["ratio"] = "log"
    sheet = parse_sheet(data, version="test")
    r = assess(
        sheet,
        AssessmentInput(
            "甲",
            {"intensity": TargetFigures(pct("16"), pct("14.4"))},
            part_scores={"measures": D(50)},
        ),
    )
    # ln(0.856) / ln(0.84) = 0.8910…: below 0.9 (the linear ratio would be exactly 0.9)
    assert r.item("intensity").points == 32
    expected = completion_frac(CompletionRatio.LOG, pct("16"), pct("14.4"))
    assert D("0.891") < expected < D("0.892")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("grades", 1, "lower"), 81, "gap or overlap"),
        (("grades", 1, "upper_inclusive"), True, "exactly one"),
        (("parts", 1, "max_points"), 59, None),  # fine alone: a total-only part
        (("parts", 0, "max_points"), 39, "add up to 40"),
        (("parts", 0, "items", 0, "completion", "bands", 0, "at_least"), 1.1, "top band"),
        (("parts", 0, "items", 0, "completion", "bands", 1, "points"), 41, "must not rise"),
        (("parts", 0, "items", 0, "columns", "target"), "target_reduction", "_pct"),
        (("veto_grade",), "failed", "veto grade"),
        (("consequences", 0, "when"), {"grades": ["failed"]}, "unknown"),
    ],
)
def test_inconsistent_sheets_are_refused_on_load(
    path: tuple[Any, ...], value: Any, message: str | None
) -> None:
    data = gf_data()
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    if message is None:
        assert isinstance(parse_sheet(data, version="t"), ScoringSheet)
    else:
        with pytest.raises(ReferenceDataError, match=message):
            parse_sheet(data, version="t")


# --- properties -----------------------------------------------------------------------------------

rates = st.decimals(min_value=D("-5"), max_value=D("20"), places=2)
positive_rates = st.decimals(min_value=D("0.01"), max_value=D("20"), places=2)
measure_scores = st.decimals(min_value=D(0), max_value=D(60), places=2)


@given(target=positive_rates, achieved=rates, measures=measure_scores)
def test_grade_is_the_score_grade_unless_the_target_is_missed(
    target: D, achieved: D, measures: D
) -> None:
    r = region(str(target), str(achieved), str(measures))
    assert r.total_score == r.part_score("target") + measures
    assert r.vetoed == (achieved < target)
    assert r.score_grade.contains(r.total_score)
    assert r.grade == (scoring_sheet(GF).grade("not_completed") if r.vetoed else r.score_grade)
    assert 0 <= r.part_score("target") <= 49


@given(target=positive_rates, a=rates, b=rates)
def test_target_points_never_fall_when_the_achievement_rises(target: D, a: D, b: D) -> None:
    low, high = sorted((a, b))
    score_low = region(str(target), str(low), "50").part_score("target")
    score_high = region(str(target), str(high), "50").part_score("target")
    assert score_low <= score_high


# --- published precision (compare_places) --------------------------------------------------------
# A reduction printed as 4.00 % meets a 4.00 % target: rates are compared at 2 decimals of a
# percentage, rounded half up (platform rule, the precision of the ±% columns, formats.md §6.2).


def test_a_reduction_printed_as_the_target_meets_it() -> None:
    r = region("4", "3.996", "50")  # printed 4.00 %
    item = r.item("intensity")
    assert item.status is Status.MET and not r.vetoed
    assert item.points == 40  # the completion ratio uses the compared figures: 4.00 / 4.00
    assert item.figures["compared_actual_frac"] == D("0.0400")
    assert item.figures["completion_frac"] == 1
    assert (item.compare_places, item.compare_rule) == (2, COMPARE_PLACES_RULE)
    assert "compared at 2 decimals of a percentage" in item.basis
    assert r.grade.name_zh == "完成"


def test_a_reduction_printed_below_the_target_misses_it() -> None:
    r = region("4", "3.9949", "50")  # printed 3.99 %
    assert r.vetoed and r.item("intensity").status is Status.MISSED
    assert r.item("intensity").figures["compared_actual_frac"] == D("0.0399")


def test_figures_already_at_the_published_precision_are_not_repeated() -> None:
    item = region("3.5", "3.85", "55").item("intensity")
    assert "compared_actual_frac" not in item.figures
    assert item.compare_places == 2


def test_rounding_is_half_up_on_the_magnitude() -> None:
    assert at_precision(D("0.039950"), "frac", 2) == D("0.0400")
    assert at_precision(D("-0.039950"), "frac", 2) == D("-0.0400")
    assert at_precision(D("0.0399499"), "frac", 2) == D("0.0399")
    assert at_precision(D("12.5"), "tce", 0) == D("13")
    assert at_precision(D("0.0399499"), "frac", None) == D("0.0399499")


def test_compare_places_is_data() -> None:
    data = gf_data()
    item = data["parts"][0]["items"][0]
    item["compare_places"] = 1
    item["compare_reason"] = "the city prints one decimal"
    sheet = parse_sheet(data, version="t")
    r = assess(
        sheet,
        AssessmentInput(
            "甲", {"intensity": TargetFigures(pct("4"), pct("3.96"))}, {}, {"measures": D(50)}
        ),
    )
    assert r.item("intensity").status is Status.MET  # 3.96 → 4.0
    assert r.item("intensity").compare_rule == "the city prints one decimal"
    item["compare_places"] = "exact"
    sheet = parse_sheet(data, version="t")
    r = assess(
        sheet,
        AssessmentInput(
            "甲", {"intensity": TargetFigures(pct("4"), pct("3.996"))}, {}, {"measures": D(50)}
        ),
    )
    assert r.vetoed and r.item("intensity").compare_places is None


@pytest.mark.parametrize("value", [-1, 11, "two", True, 1.5])
def test_bad_compare_places_are_refused(value: Any) -> None:
    data = gf_data()
    data["parts"][0]["items"][0]["compare_places"] = value
    with pytest.raises(ReferenceDataError, match="compare_places"):
        parse_sheet(data, version="t")


def test_amounts_are_compared_exactly_by_default() -> None:
    r = dual(("3", "3.1", None), ("20000000", "20000000.4"))
    total = r.item("total")
    assert total.status is Status.MISSED
    assert (total.compare_places, total.compare_rule) == (None, EXACT_COMPARE_RULE)
    assert scoring_sheet("dc-14th-fyp").target_item("intensity").compare_places == 2


# --- target ranges (range_bound) ------------------------------------------------------------------


def co2_15(
    annual: tuple[str, str | None, str],
    cumulative: tuple[str, str] = ("3.8", "3.8"),
    total_tco2: tuple[str, str] = ("1000", "990"),
    budget_tco2: tuple[str, str] = ("1000", "990"),
    measures: str = "45",
    sheet: ScoringSheet | None = None,
) -> Any:
    low, high, achieved = annual
    return assess(
        sheet or scoring_sheet("co2-15th-fyp"),
        AssessmentInput(
            subject="某省",
            targets={
                "annual": TargetFigures(
                    pct(low), pct(achieved), target_upper=pct(high) if high else None
                ),
                "cumulative": TargetFigures(pct(cumulative[0]), pct(cumulative[1])),
                "total": TargetFigures(D(total_tco2[0]), D(total_tco2[1])),
                "budget": TargetFigures(D(budget_tco2[0]), D(budget_tco2[1])),
            },
            part_scores={"measures": D(measures)},
        ),
    )


def test_a_target_range_counts_its_lower_bound_in_the_15th_fyp_preset() -> None:
    r = co2_15(("4.0", "4.5", "4.2"))
    item = r.item("annual")
    assert item.status is Status.MET and item.range_bound is RangeBound.LOWER
    assert item.figures["target_lower_frac"] == D("0.040")
    assert item.figures["target_upper_frac"] == D("0.045")
    assert item.figures["target_frac"] == D("0.040")
    assert item.points == 25 and "the lower bound counts" in item.basis


def test_the_range_bound_is_data() -> None:
    data = copy.deepcopy(load_yaml("scoring_co2_15th_fyp.yaml")[1])
    data["parts"][0]["items"][0]["range_bound"] = "upper"
    sheet = parse_sheet(data, version="t")
    r = co2_15(("4.0", "4.5", "4.2"), sheet=sheet)
    item = r.item("annual")
    assert item.range_bound is RangeBound.UPPER and item.figures["target_frac"] == D("0.045")
    assert item.status is Status.MISSED and r.vetoed
    assert item.points == D("23.33")  # 4.2 / 4.5 × 25 = 23.333…
    data["parts"][0]["items"][0]["range_bound"] = "middle"
    with pytest.raises(ReferenceDataError, match="range_bound"):
        parse_sheet(data, version="t")


def test_a_range_on_an_item_without_a_range_rule_is_refused() -> None:
    sheet = scoring_sheet(GF)
    data = AssessmentInput(
        "甲市",
        {"intensity": TargetFigures(pct("4.0"), pct("4.2"), target_upper=pct("4.5"))},
        part_scores={"measures": D(50)},
    )
    with pytest.raises(AssessmentError, match="range_bound"):
        assess(sheet, data)


def test_a_backwards_range_is_refused() -> None:
    with pytest.raises(AssessmentError, match="backwards"):
        co2_15(("4.5", "4.0", "4.2"))


def test_a_single_target_records_no_range_bound() -> None:
    assert co2_15(("3.8", None, "3.9")).item("annual").range_bound is None


# --- carbon: the cumulative rate (14_carbon_assessment.md §1.5) -------------------------------------


def test_cumulative_rate_2014_formula() -> None:
    """《二氧化碳排放核算方法及数据核查表》 (2015): "2014年碳强度累计下降率 = 1 − (1 − D2013累计) ×
    (1 − D2014年度)" — e.g. 10.68 % to 2013 and 4.00 % in 2014 → 14.2528 %."""
    assert cumulative_rate_frac(pct("10.68"), pct("4.00")) == D("0.142528")
    assert cumulative_rate_frac(D("0.1"), D("0.05")) == D("0.145")


def test_cumulative_rate_edge_cases() -> None:
    assert cumulative_rate_frac(D(0), D("0.038")) == D("0.038")
    assert cumulative_rate_frac(D("0.12"), D(0)) == D("0.12")
    assert cumulative_rate_frac(D("0.10"), D("-0.02")) == D("0.082")  # a rise lowers it
    with pytest.raises(AssessmentError, match="below 100"):
        cumulative_rate_frac(D(1), D("0.01"))
    with pytest.raises(AssessmentError, match="below 100"):
        cumulative_rate_frac(D("0.1"), D("1.2"))


@given(
    prev=st.decimals(min_value=D("-0.5"), max_value=D("0.9"), places=4),
    year=st.decimals(min_value=D("-0.5"), max_value=D("0.9"), places=4),
)
def test_cumulative_rate_composes_like_cumulative_reduction(prev: D, year: D) -> None:
    combined = cumulative_rate_frac(prev, year)
    assert combined == cumulative_rate_frac(year, prev)
    assert 1 - combined == (1 - prev) * (1 - year)


# --- carbon: NDRC 2014 sheet (co2-2014) -------------------------------------------------------------


def co2_2014(
    annual: tuple[str, str], cumulative: tuple[str, str], measures: str, sheet: str = "co2-2014"
) -> Any:
    return assess(
        scoring_sheet(sheet),
        AssessmentInput(
            subject="某省",
            targets={
                "annual": TargetFigures(pct(annual[0]), pct(annual[1])),
                "cumulative": TargetFigures(pct(cumulative[0]), pct(cumulative[1])),
            },
            part_scores={"measures": D(measures)},
        ),
    )


def test_co2_2014_structure_25_25_50() -> None:
    sheet = scoring_sheet("co2-2014")
    assert [(p.key, p.max_points, p.qualitative) for p in sheet.parts] == [
        ("target", D(50), False),
        ("measures", D(50), True),
    ]
    assert [(t.key, t.max_points, t.veto) for t in sheet.target_items] == [
        ("annual", D(25), True),
        ("cumulative", D(25), True),
    ]
    assert sheet.max_score == 100
    assert [g.name_zh for g in sheet.grades] == ["优秀", "良好", "合格", "不合格"]
    assert sheet.grade(sheet.veto_grade).name_zh == "不合格"
    for url in (
        "http://www.sfmzp.com/article-5514-1.html",
        "http://tanjiaoyi.com/article-2613-1.html",
        "http://www.17ea.com/News/48226.html",
        "http://www.astrocart.cn/newsinfo-2140.html",
        "http://m.alisonandcharlie.com/article-8923-3.html",
    ):
        assert url in sheet.source
    assert any("NOT FOUND" in n for n in sheet.notes)
    assert "未找到官方来源" in sheet.parts[1].title_zh


def test_co2_2014_both_targets_met_gives_the_total() -> None:
    r = co2_2014(("3.9", "4.2"), ("14.0", "14.5"), "42")
    assert (r.item("annual").points, r.item("cumulative").points) == (25, 25)
    assert r.total_score == 92 and r.grade.name_zh == "优秀" and not r.vetoed
    assert r.item("annual").bonus_points == 0  # no over-fulfilment bonus in this sheet


def test_co2_2014_completion_0_9_gives_22_5_of_25() -> None:
    """ "低于100%的，得分为年度目标完成率乘以25": 3.6 / 4 = 0.9 → 22.5."""
    r = co2_2014(("4", "3.6"), ("14", "14"), "50")
    assert r.item("annual").figures["completion_frac"] == D("0.9")
    assert r.item("annual").points == D("22.5")
    assert r.item("annual").status is Status.MISSED


@pytest.mark.parametrize(
    ("achieved", "points"),
    [("4", "25"), ("5", "25"), ("3", "18.75"), ("3.5", "21.88"), ("0", "0"), ("-1", "0")],
)
def test_co2_2014_points_are_completion_times_25(achieved: str, points: str) -> None:
    assert co2_2014(("4", achieved), ("14", "14"), "50").item("annual").points == D(points)


def test_co2_2014_annual_missed_is_failed_whatever_the_score() -> None:
    """ "未完成以上两项指标的省 …，无论总分是否超出60分，考核评估结果均为不合格"."""
    r = co2_2014(("3.9", "3.5"), ("14", "15"), "50")
    assert r.item("annual").points == D("22.44")  # 3.5 / 3.9 × 25 = 22.4358…
    assert r.total_score == D("97.44") and r.score_grade.name_zh == "优秀"
    assert r.grade.name_zh == "不合格" and r.vetoed and r.veto_items == ("annual",)


def test_co2_2014_cumulative_missed_is_failed_too() -> None:
    r = co2_2014(("3.9", "4"), ("14", "13.9"), "50")
    assert r.vetoed and r.veto_items == ("cumulative",) and r.grade.name_zh == "不合格"


@pytest.mark.parametrize(
    ("measures", "grade"),
    [
        ("40", "优秀"),
        ("39.99", "良好"),
        ("30", "良好"),
        ("29.99", "合格"),
        ("10", "合格"),
        ("9.99", "不合格"),
    ],
)
def test_co2_2014_grade_bounds(measures: str, grade: str) -> None:
    assert co2_2014(("4", "4"), ("14", "14"), measures).grade.name_zh == grade


def test_co2_2014_consequences() -> None:
    sheet = scoring_sheet("co2-2014")
    good = consequences_for(sheet, co2_2014(("4", "4"), ("14", "14"), "45"), dt.date(2015, 10, 31))
    assert [c.key for c in good] == ["commended", "results_announced"]
    bad = consequences_for(sheet, co2_2014(("4", "3"), ("14", "14"), "45"), dt.date(2015, 10, 31))
    report = {c.key: c for c in bad}["written_rectification_report"]
    assert report.due_on == dt.date(2015, 11, 30)


# --- carbon: 13th FYP (co2-13th-fyp, Shaanxi-posted 20 + 20 + 60) -----------------------------------


def test_co2_13th_fyp_structure_20_20_60_with_items_3_and_4() -> None:
    sheet = scoring_sheet("co2-13th-fyp")
    assert [(p.key, p.max_points) for p in sheet.parts] == [("target", D(40)), ("measures", D(60))]
    assert [(t.key, t.max_points, t.veto) for t in sheet.target_items] == [
        ("annual", D(20), True),
        ("cumulative", D(20), False),
    ]
    measures = sheet.parts[1].measures
    assert [(m.key, m.max_points) for m in measures] == [
        ("dual_control", D(4)),
        ("non_fossil", D(3)),
        ("energy_structure_other", D(1)),
        ("other_tasks", D(52)),
    ]
    assert [p for _, p in measures[1].sub_items] == [D("1.5"), D("1.5")]
    assert "http://www.jlsxsq.com/article-26666-1.html" in sheet.source
    notes = " ".join(sheet.notes)
    assert "NOT FOUND" in notes and "Platform rule" in notes


def test_co2_13th_fyp_scoring() -> None:
    r = co2_2014(("4", "3.6"), ("10", "10"), "55", sheet="co2-13th-fyp")
    assert r.item("annual").points == 18  # 0.9 × 20
    assert r.vetoed and r.grade.name_zh == "不合格"
    r = co2_2014(("4", "4.1"), ("10", "9"), "55", sheet="co2-13th-fyp")
    assert r.item("cumulative").points == 18 and not r.vetoed  # no veto in the annual sheet
    assert r.total_score == 93 and r.grade.name_zh == "优秀"


def test_co2_13th_fyp_items_3_and_4_entered_by_item() -> None:
    scores = {
        "dual_control": D(3),
        "non_fossil": D("1.5"),
        "energy_structure_other": D(1),
        "other_tasks": D(50),
    }
    r = assess(
        scoring_sheet("co2-13th-fyp"),
        AssessmentInput(
            "某省",
            {
                "annual": TargetFigures(pct("4"), pct("4")),
                "cumulative": TargetFigures(pct("9"), pct("9")),
            },
            item_scores=scores,
        ),
    )
    assert r.part_score("measures") == D("55.5") and r.total_score == D("95.5")
    with pytest.raises(AssessmentError, match="between 0 and 4"):
        assess(
            scoring_sheet("co2-13th-fyp"),
            AssessmentInput(
                "某省",
                {
                    "annual": TargetFigures(pct("4"), pct("4")),
                    "cumulative": TargetFigures(pct("9"), pct("9")),
                },
                item_scores=dict(scores, dual_control=D(5)),
            ),
        )


# --- carbon: 15th FYP platform preset (co2-15th-fyp) -------------------------------------------------


def test_co2_15th_fyp_is_a_labelled_platform_preset() -> None:
    sheet = scoring_sheet("co2-15th-fyp")
    assert "平台预设" in sheet.title_zh and sheet.source.startswith("Platform preset")
    assert "推动出台" in sheet.source
    notes = " ".join(sheet.notes)
    assert "PLATFORM PRESET" in notes and "NOT FOUND" in notes
    items = {t.key: t for t in sheet.target_items}
    assert (items["annual"].veto, items["total"].veto, items["budget"].veto) == (True, False, False)
    assert (items["total"].unit, items["total"].max_points) == ("tco2", 0)
    assert items["annual"].range_bound is RangeBound.LOWER
    assert "platform rule" in items["annual"].range_rule


def test_co2_15th_fyp_total_and_budget_are_assessed_without_veto() -> None:
    r = co2_15(("3.8", None, "3.9"), total_tco2=("1000", "1010"), budget_tco2=("1000", "1020"))
    assert r.item("total").status is Status.MISSED and r.item("total").score == 0
    assert r.item("budget").status is Status.MISSED
    assert r.item("total").figures["overshoot_frac"] == D("0.01")
    assert not r.vetoed and r.total_score == 95 and r.grade.name_zh == "优秀"
    r = co2_15(("3.8", None, "3.7"))
    assert r.vetoed and r.grade.name_zh == "不合格"
