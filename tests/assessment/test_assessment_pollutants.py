"""Pollutant total-reduction assessment (sheets pollutants-total and pollutants-key-projects,
platform presets): figures from the statistics and the regions' pollutant targets, the veto on
the reduction rates and the consequences.  Numbers of the pollutant world are derived by hand in
tests/assessment/assessment_builders.py (2027 = year 2 of 5 of the 2026–2030 targets)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.assessment import services, sources
from dualcontrol.assessment.models import ScoringSheet
from dualcontrol.core.assessment import AssessmentInput, Status, assess, consequences_for
from dualcontrol.reference.scoring_sheets import scoring_sheet

pytestmark = pytest.mark.django_db

D = Decimal


def _figures(world, sheet_name: str, division, year: int = 2027):
    return sources.target_part(scoring_sheet(sheet_name), year=year, division=division)


def test_sheets_are_labelled_platform_presets():
    for name in ("pollutants-total", "pollutants-key-projects"):
        sheet = scoring_sheet(name)
        assert "平台预设" in sheet.title_zh
        notes = " ".join(sheet.notes)
        assert "PLATFORM PRESET" in notes and "NOT FOUND" in notes
        assert [g.name_zh for g in sheet.grades] == ["通过考核", "未通过考核"]
        assert {t.key for t in sheet.target_items if t.veto} == {
            t.key
            for t in sheet.target_items
            if t.key.endswith("_reduction") and "project" not in t.key
        }
        assert sources.is_pollutant_sheet(sheet) and not sources.is_carbon_sheet(sheet)
        assert sources.unsupported_items(sheet) == []


def test_reduction_rate_against_the_pace(pollutants):
    world, _ = pollutants
    figs = _figures(world, "pollutants-key-projects", world.other_city)
    cod, nh3n = figs["cod_reduction"], figs["nh3n_reduction"]
    # required 8 % × 2/5 = 3.2 %; achieved 1 − 0.98² = 3.96 %, NH3-N 1 − 0.99² = 1.99 %
    assert cod.unit == "frac" and cod.target == D("0.03200000") and cod.actual == D("0.03960000")
    assert nh3n.actual == D("0.01990000")
    b = cod.basis
    assert b["indicator"] == "cod_reduction" and b["metric"] == "cod_t"
    assert b["required_means_of"]["kind"] == "intensity_pace" and b["pace_definition"] == "linear"
    assert (
        b["actual_means"] == "2025–2027 年化学需氧量排放量累计减少率（1 − 排放量2027 / 排放量2025）"
    )
    assert b["base_emissions_t"] == "10000.00" and b["year_emissions_t"] == "9604.00"
    assert [r["year"] for r in b["statistics"]] == [2025, 2026, 2027]
    assert b["statistics"][2]["cod_t"] == "9604.0000"
    assert b["formula"].startswith("required = R·k/n")


def test_cap_against_the_straight_path(pollutants):
    world, _ = pollutants
    cap = _figures(world, "pollutants-total", world.other_city)["cod_total"]
    # 10 000 + (9 000 − 10 000) × 2/5 = 9 600 t; emissions 10 000 × 0.98² = 9 604 t
    assert cap.unit == "t" and cap.target == D("9600.00") and cap.actual == D("9604.00")
    assert cap.basis["required_means_of"] == {
        "kind": "pollutant_cap_path",
        "period": "2026–2030",
        "indicator": "cod_total",
        "year": 2027,
        "k": 2,
        "n": 5,
    }
    assert "化学需氧量排放总量目标的 2027 年路径值" in cap.basis["required_means"]
    assert cap.basis["base_emissions_t"] == "10000.00"


def test_key_project_reductions_against_the_time_pace(pollutants):
    world, _ = pollutants
    kp = _figures(world, "pollutants-key-projects", world.city)["cod_project_reduction"]
    # 1 000 t × 2/5 = 400 t required; 300 + 300 = 600 t verified
    assert (kp.unit, kp.target, kp.actual) == ("t", D("400.00"), D("600.00"))
    assert kp.basis["amounts_t"] == {"2026": "300.00", "2027": "300.00"}
    assert kp.basis["actual_means"] == (
        "2026–2027 年重点工程化学需氧量减排量合计（统计数据所载核定减排量）"
    )
    assert kp.basis["progress_frac"] == 0.6  # 600 / 1 000


def _assess(world, sheet_name: str, division):
    sheet = scoring_sheet(sheet_name)
    figs = _figures(world, sheet_name, division)
    return sheet, assess(
        sheet,
        AssessmentInput(division.name, {k: f.to_core() for k, f in figs.items()}),
    )


def test_key_projects_sheet_scores_and_veto(pollutants):
    world, _ = pollutants
    _, city = _assess(world, "pollutants-key-projects", world.city)
    assert city.total_score == D("100") and city.grade.name_zh == "通过考核" and not city.vetoed
    sheet, other = _assess(world, "pollutants-key-projects", world.other_city)
    # NH3-N: completion 1.99 / 3.20 = 0.621875 → 15 × 0.621875 = 9.33 (interpolated, half up)
    nh3n = other.item("nh3n_reduction")
    assert nh3n.status is Status.MISSED and nh3n.points == D("9.33")
    # key projects: 200 / 400 = 0.5 → 5 points each
    assert other.item("vocs_project_reduction").points == D("5.00")
    assert other.total_score == D("15") * 3 + D("9.33") + D("5.00") * 4  # 74.33
    assert other.score_grade.name_zh == "通过考核"  # by score alone …
    assert other.vetoed and other.veto_items == ("nh3n_reduction",)
    assert other.grade.name_zh == "未通过考核"  # … but the missed rate vetoes
    issued = consequences_for(sheet, other, dt.date(2028, 6, 15))
    assert [c.key for c in issued] == [
        "pollutant_project_approval_suspended",
        "central_funding_reduced",
        "accountability",
        "results_announced",
        "cadre_evaluation",
    ]


def test_total_sheet_caps_are_assessed_separately(pollutants):
    world, _ = pollutants
    _, other = _assess(world, "pollutants-total", world.other_city)
    # rates 25 + 15.55 (25 × 0.621875 = 15.546875) + 25 + 25; caps: no points
    assert other.total_score == D("90.55")
    assert other.item("cod_total").status is Status.MISSED  # 9 604 > 9 600
    assert other.item("nh3n_total").status is Status.MISSED  # 980.1 > 968
    assert other.item("so2_total").status is Status.MET
    assert other.item("cod_total").score == 0 and not other.item("cod_total").veto
    assert other.grade.name_zh == "未通过考核" and other.veto_items == ("nh3n_reduction",)
    _, city = _assess(world, "pollutants-total", world.city)
    assert city.total_score == D("100") and city.grade.name_zh == "通过考核"


def test_missing_statistics_and_targets_are_named(pollutants, world):
    from dualcontrol.targets.models import RegionalStatistic, Target

    row = RegionalStatistic.objects.get(division=world.city, year=2026)
    row.factors = {k: v for k, v in row.factors.items() if k != "nh3n_t"}
    row.save()
    Target.objects.filter(division=world.city, indicator="vocs_project_reduction").delete()
    with pytest.raises(sources.SourceError) as err:
        _figures(world, "pollutants-key-projects", world.city)
    text = str(err.value)
    assert "昆明市：缺少 2026 年的年度氨氮排放量（nh3n_t）" in text
    assert "昆明市：没有覆盖 2027 年的重点工程挥发性有机物减排量目标" in text
    # the base year itself is never assessed (the target's period starts the year after)
    with pytest.raises(sources.SourceError, match="没有覆盖 2025 年"):
        _figures(world, "pollutants-key-projects", world.other_city, year=2025)


def test_pollutant_round_to_sign_off(pollutants):
    world, _ = pollutants
    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = services.create_round(
        user=admin, year=2027, sheet=ScoringSheet.objects.get(name="pollutants-key-projects")
    )
    assert rnd.title == "2027年度云南省主要污染物总量减排目标责任评价考核"
    officers = {
        world.city.pk: world.users[Role.CITY_OFFICER],
        world.other_city.pk: world.users["other_city"],
    }
    for rec in rnd.records.all():
        assert rec.target_error == "" and set(rec.target_figures) == {
            t.key for t in scoring_sheet("pollutants-key-projects").target_items
        }
        services.submit_self_assessment(record=rec, user=officers[rec.division_id])
        services.score_measures(record=rec, user=admin, scores={})
    services.sign_off_round(round=rnd, user=admin, issued_on=dt.date(2028, 6, 15))
    grades = {r.division.name: (r.grade_name, r.total_score) for r in rnd.records.all()}
    assert grades == {"昆明市": ("通过考核", D("100.00")), "曲靖市": ("未通过考核", D("74.33"))}
    other = rnd.records.get(division=world.other_city)
    kinds = set(other.consequences.values_list("kind", flat=True))
    assert "pollutant_project_approval_suspended" in kinds
    assert other.consequences.get(kind="pollutant_project_approval_suspended").restricts_approvals
    from dualcontrol.publishing import services as publishing

    pubs = publishing.publish_results(user=admin, round=rnd, published_on=dt.date(2028, 6, 15))
    grades, restricted = pubs[0].content, pubs[1].content
    assert [r["cells"] for r in grades["rows"]] == [
        ["昆明市", "通过考核"],
        ["曲靖市", "未通过考核"],
    ]
    assert "氨氮排放总量减少" in grades["footnotes"][1] and "平台预设" in grades["footnotes"][2]
    assert restricted["rows"][0]["cells"][1].startswith(
        "暂停该地区新增排放重点污染物建设项目的环评审批"
    )
    assert "环评审批" in restricted["footnotes"][0]
