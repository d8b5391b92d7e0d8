"""Assessment rounds with the carbon sheets (co2-2014, co2-13th-fyp, co2-15th-fyp): every target
item computed from the statistics' co2_t and the region's targets, figures checked by hand.

The small world (tests/assessment/assessment_builders.py): GDP +10 % a year in real terms; CO2
× 1.1 × 0.97 (昆明市) or × 0.96 (曲靖市) a year, so that at the prices of the base year b the CO2
intensity is 4 × 0.97^k or 4 × 0.96^k tCO2 / 10k yuan; rates are computed from the intensities
rounded to 4 decimals (accounting_rules.yaml rate_basis).  The annual rate a 17 % five-year target
implies is 1 − 0.83^(1/5) = 3.658009 %, printed 3.66 % (the sheets compare at 2 decimals).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.assessment import services
from dualcontrol.assessment.models import AssessmentRound, RecordStatus, ScoringSheet
from dualcontrol.assessment.sources import means_text
from dualcontrol.targets import services as target_services
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, TargetStatus
from tests.assessment.assessment_builders import add_co2_targets, add_statistics, run_region_round
from tests.auth import login

pytestmark = pytest.mark.django_db

ANNUAL_17 = "0.03658009"  # 1 − 0.83^(1/5)


def _sheet(name: str) -> ScoringSheet:
    return ScoringSheet.objects.get(name=name)


def _figures(rnd: AssessmentRound, division) -> dict:
    return rnd.records.get(division=division).target_figures


def _items(rec) -> dict[str, dict]:
    return {i["key"]: i for i in rec.result["items"]}


# ---------------------------------------------------------------------------------------------
# co2-15th-fyp: annual, cumulative, total, budget


def test_co2_15th_fyp_round_every_item_from_the_statistics(carbon):
    world, _ = carbon
    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = services.create_round(user=admin, year=2026, sheet=_sheet("co2-15th-fyp"))
    assert rnd.title == "2026年度云南省二氧化碳排放降低目标责任评价考核"
    city, other = _figures(rnd, world.city), _figures(rnd, world.other_city)
    assert set(city) == {"annual", "cumulative", "total", "budget"}

    # annual: the target the five-year −17 % implies; 昆明 3.88 / 4.00 → −3 %, 曲靖 3.84 → −4 %
    a = city["annual"]
    assert (a["unit"], a["target"], a["actual"]) == ("frac", ANNUAL_17, "0.03000000")
    assert other["annual"]["actual"] == "0.04000000"
    b = a["basis"]
    assert b["required_means_of"] == {
        "kind": "annual_of_five_year",
        "period": "2026–2030",
        "value": "17.0000",
        "n": 5,
    }
    assert b["actual_means"] == "2026 年比 2025 年降低率（2025 年可比价）"
    assert (
        b["co2_intensity_from_year"],
        b["co2_intensity_from_t_per_10k_yuan"],
        b["co2_intensity_year_t_per_10k_yuan"],
    ) == (2025, 4.0, 3.88)
    assert b["price_base_year"] == 2025 and b["rate_basis"]["rule"] == "rounded_intensity"
    assert "round(co2_intensity[t], 4)" in b["formulas"]["co2_intensity_change_frac"]
    assert [(r["year"], r["co2_t"]) for r in b["statistics"]] == [
        (2025, "20000000.00"),
        (2026, "21340000.00"),
    ]
    assert b["statistics"][1]["co2_t_from"] == {"kind": "as_imported"}

    # cumulative: the compound pace after 1 of 5 years = the annual rate; first year of the
    # period, so the cumulative reduction is the statistics' own
    c = city["cumulative"]
    assert (c["target"], c["actual"]) == (ANNUAL_17, "0.03000000")
    assert c["basis"]["cumulative_method"] == "statistics"
    assert "first year" in c["basis"]["cumulative_reason"]
    assert c["basis"]["required_means_of"]["kind"] == "intensity_pace"

    # total: path 20 000 000 + (21 000 000 − 20 000 000) × 1/5 = 20 200 000 vs 21 340 000 (昆明);
    # 20 000 000 + 10 000 000/5 = 22 000 000 vs 21 120 000 (曲靖)
    assert (city["total"]["unit"], city["total"]["target"], city["total"]["actual"]) == (
        "tco2",
        "20200000.00",
        "21340000.00",
    )
    assert (other["total"]["target"], other["total"]["actual"]) == ("22000000.00", "21120000.00")
    assert city["total"]["basis"]["required_means_of"]["kind"] == "total_path"
    # budget: 100 000 000 × 1/5 vs Σ 2026 = 21 340 000; 125 000 000 / 5 vs 21 120 000
    assert (city["budget"]["target"], city["budget"]["actual"]) == ("20000000.00", "21340000.00")
    assert (other["budget"]["target"], other["budget"]["actual"]) == ("25000000.00", "21120000.00")
    assert other["budget"]["basis"]["remaining_budget_t"] == "103880000.00"
    for rec in rnd.records.all():  # plain JSON (no NaN) on every database
        json.dumps(rec.target_figures, allow_nan=False)


def test_co2_15th_fyp_scores_and_the_annual_veto(carbon):
    world, _ = carbon
    rnd = run_region_round(world, year=2026, sheet="co2-15th-fyp", measures="40")
    city = rnd.records.get(division=world.city)
    other = rnd.records.get(division=world.other_city)
    # 昆明: 3.00 / 3.66 = 0.819672 → 25 × = 20.49 for each intensity item; 20.49 × 2 + 40
    items = _items(city)
    assert (items["annual"]["points"], items["cumulative"]["points"]) == ("20.49", "20.49")
    assert items["annual"]["status"] == "missed" and items["annual"]["veto"]
    assert items["cumulative"]["status"] == "missed" and not items["cumulative"]["veto"]
    assert (items["total"]["status"], items["budget"]["status"]) == ("missed", "missed")
    assert items["total"]["points"] == "0" and "no points" in items["total"]["basis"]
    assert (city.total_score, city.result["score_grade"]) == (Decimal("80.98"), "良好")
    assert city.vetoed and city.grade_name == "不合格" and city.status == RecordStatus.SIGNED_OFF
    # 曲靖: 4.00 ≥ 3.66 both → 25 + 25 + 40 = 90 → 优秀; total and budget met
    items = _items(other)
    assert {k: i["status"] for k, i in items.items() if k != "measures"} == {
        "annual": "met",
        "cumulative": "met",
        "total": "met",
        "budget": "met",
    }
    assert (other.total_score, other.grade_name, other.vetoed) == (Decimal("90"), "优秀", False)


def test_cumulative_chains_the_verified_previous_year_else_the_statistics(carbon):
    world, _ = carbon
    admin = world.users[Role.PROVINCE_ADMIN]
    sheet = _sheet("co2-15th-fyp")
    # without a signed-off 2026: from the statistics, 1 − 3.6864 / 4 = 7.84 % (曲靖);
    # the compound pace after 2 of 5 years 1 − 0.83^(2/5) = 7.182207 %
    rnd = services.create_round(user=admin, year=2027, sheet=sheet)
    c = _figures(rnd, world.other_city)["cumulative"]
    assert (c["target"], c["actual"]) == ("0.07182207", "0.07840000")
    assert c["basis"]["cumulative_method"] == "statistics"
    assert "no signed-off cumulative of 2026" in c["basis"]["cumulative_reason"]
    assert c["basis"]["actual_means"] == "2025–2027 年累计降低率（2025 年可比价）"
    rnd.delete()

    run_region_round(world, year=2026, sheet="co2-15th-fyp", measures="40")
    # the statistics bureau revises 曲靖's 2026 CO2 after the 2026 result was signed off:
    # 21 340 000 → intensity 3.88 (the verified 2026 cumulative stays 4.00 %)
    row = RegionalStatistic.objects.get(division=world.other_city, year=2026)
    row.factors = {"co2_t": "21340000.00"}
    row.save()
    rnd = services.create_round(user=admin, year=2027, sheet=sheet)
    c = _figures(rnd, world.other_city)["cumulative"]
    # D_2027 = 1 − 3.6864 / 3.88 = 4.989691 %; 1 − (1 − 0.04) × (1 − 0.04989691) = 8.790103 %
    assert c["basis"]["cumulative_method"] == "chained_verified"
    assert c["basis"]["year_reduction_frac"] == "0.04989691"
    assert c["basis"]["previous_cumulative"]["frac"] == "0.04000000"
    assert c["actual"] == "0.08790103"
    assert c["basis"]["actual_means"] == (
        "2025–2027 年累计降低率（2026 年已审定累计降低率与 2027 年降低率连乘）"
    )
    # 昆明's 2026 cumulative (3.00 %) chained with 1 − 3.7636 / 3.88 = 3 %: 1 − 0.97² = 5.91 %
    assert _figures(rnd, world.city)["cumulative"]["actual"] == "0.05910000"
    # the budget sums the period's years: 21 340 000 + 22 302 720 (曲靖, 2026 revised) vs 2/5
    b = _figures(rnd, world.other_city)["budget"]
    assert (b["target"], b["actual"]) == ("50000000.00", "43642720.00")
    assert b["basis"]["actual_means"] == "2026–2027 年二氧化碳排放量合计"


def test_missing_co2_statistics_are_reported_not_guessed(carbon):
    world, _ = carbon
    row = RegionalStatistic.objects.get(division=world.city, year=2026)
    row.factors = {}
    row.save()
    RegionalStatistic.objects.filter(division=world.other_city, year=2025).delete()
    rnd = services.create_round(
        user=world.users[Role.PROVINCE_ADMIN], year=2026, sheet=_sheet("co2-15th-fyp")
    )
    city = rnd.records.get(division=world.city)
    assert city.target_figures == {}
    assert "2026 年的地区统计数据没有二氧化碳排放量（co2_t）" in city.target_error
    other = rnd.records.get(division=world.other_city)
    assert "缺少 2025 年的地区统计数据" in other.target_error


def test_carbon_targets_are_required(carbon):
    world, targets = carbon
    # a region without a CO2-intensity target: said so, per item
    for t in (targets["city"], targets["city_co2_total"], targets["city_carbon_budget"]):
        t.delete()
    rnd = services.create_round(
        user=world.users[Role.PROVINCE_ADMIN], year=2026, sheet=_sheet("co2-15th-fyp")
    )
    error = rnd.records.get(division=world.city).target_error
    assert "没有覆盖 2026 年的碳排放强度降低目标" in error
    assert "没有覆盖 2026 年的二氧化碳排放总量目标" in error and "碳排放预算" in error


# ---------------------------------------------------------------------------------------------
# co2-2014 (12th FYP, the period's last year) and co2-13th-fyp (an annual target of the region)


def test_co2_2014_round_in_the_last_year_of_the_period(world, media):
    add_statistics(world, range(2010, 2016), co2_t=True)
    add_co2_targets(world, base=2010)
    services.sync_sheets()
    rnd = run_region_round(world, year=2015, sheet="co2-2014", measures="45")
    city = rnd.records.get(division=world.city)
    other = rnd.records.get(division=world.other_city)
    f = city.target_figures
    # 昆明: 4 × 0.97⁴ = 3.54117124 → 3.5412, 4 × 0.97⁵ = 3.43493610 → 3.4349;
    # annual 1 − 3.4349 / 3.5412 = 3.001807 %; cumulative 1 − 3.4349 / 4 = 14.1275 % vs 17 %
    assert (f["annual"]["target"], f["annual"]["actual"]) == (ANNUAL_17, "0.03001807")
    assert (f["cumulative"]["target"], f["cumulative"]["actual"]) == ("0.17000000", "0.14127500")
    assert f["cumulative"]["basis"]["required_means"] == "2011–2015 目标"
    assert f["cumulative"]["basis"]["cumulative_method"] == "statistics"
    items = _items(city)
    # 3.00 / 3.66 × 25 = 20.49; 14.13 / 17.00 × 25 = 20.78; + 45 = 86.27 → 良好, vetoed
    assert (items["annual"]["points"], items["cumulative"]["points"]) == ("20.49", "20.78")
    assert city.total_score == Decimal("86.27") and city.result["score_grade"] == "良好"
    assert city.vetoed and city.grade_name == "不合格"
    assert set(city.result["veto_items"]) == {"annual", "cumulative"}  # both veto in 2014
    # 曲靖: 3.3974 → 3.2615: 4.000118 %; 1 − 3.2615 / 4 = 18.4625 % → 25 + 25 + 45
    g = other.target_figures
    assert (g["annual"]["actual"], g["cumulative"]["actual"]) == ("0.04000118", "0.18462500")
    assert (other.total_score, other.grade_name) == (Decimal("95"), "优秀")
    assert rnd.title == "2015年度云南省二氧化碳排放降低目标责任评价考核"


def test_co2_13th_fyp_takes_the_annual_target_of_the_region(world, media):
    add_statistics(world, range(2015, 2017), base=2015, co2_t=True)
    add_co2_targets(world, base=2015, reduction="20.5")
    target_services.create_target(
        user=None,
        system=True,
        division=world.other_city,
        indicator=Indicator.CO2_INTENSITY_REDUCTION,
        period_kind=PeriodKind.YEAR,
        base_year=2015,
        end_year=2016,
        base_value=Decimal("3.5"),
        unit="%",
        source_document="2016年政府工作报告（测试）",
        status=TargetStatus.ISSUED,
    )
    services.sync_sheets()
    measures = {
        "dual_control": "3",
        "non_fossil": "3",
        "energy_structure_other": "1",
        "other_tasks": "45",
    }
    rnd = run_region_round(world, year=2016, sheet="co2-13th-fyp", measures=measures)
    city = rnd.records.get(division=world.city)
    other = rnd.records.get(division=world.other_city)
    # 昆明 has only the five-year target: 1 − 0.795^(1/5) = 4.484594 % (printed 4.48)
    f = city.target_figures
    assert (f["annual"]["target"], f["annual"]["actual"]) == ("0.04484594", "0.03000000")
    # 3.00 / 4.48 × 20 = 13.39 twice; + 52 = 78.78 (合格 by score), annual missed → 不合格
    assert (city.total_score, city.result["score_grade"], city.grade_name) == (
        Decimal("78.78"),
        "合格",
        "不合格",
    )
    assert city.result["veto_items"] == ["annual"]
    # 曲靖's own 2016 target, 3.5 %, is met (4.00 %): 20; the cumulative pace 4.48 % is missed
    # without veto in the annual assessment: 4.00 / 4.48 × 20 = 17.86; 20 + 17.86 + 52
    g = other.target_figures
    assert (g["annual"]["target"], g["annual"]["actual"]) == ("0.03500000", "0.04000000")
    assert g["annual"]["basis"]["required_means"] == "2016 目标"
    assert g["annual"]["basis"]["five_year_target"]["period"] == "2016–2020"
    assert g["annual"]["basis"]["source_document"] == "2016年政府工作报告（测试）"
    assert g["cumulative"]["target"] == "0.04484594"
    items = _items(other)
    assert (items["annual"]["status"], items["cumulative"]["status"]) == ("met", "missed")
    assert (other.total_score, other.grade_name, other.vetoed) == (
        Decimal("89.86"),
        "良好",
        False,
    )


# ---------------------------------------------------------------------------------------------
# what the figures mean, in every language; the demo hook


def test_carbon_figures_say_what_they_are(carbon):
    from django.utils import translation

    world, _ = carbon
    rnd = services.create_round(
        user=world.users[Role.PROVINCE_ADMIN], year=2026, sheet=_sheet("co2-15th-fyp")
    )
    figures = _figures(rnd, world.city)
    texts = {
        (k, which): figures[k]["basis"][f"{which}_means"]
        for k in figures
        for which in ("required", "actual")
    }
    assert texts[("total", "required")] == (
        "2026–2030 二氧化碳排放总量目标的 2026 年路径值（基期排放 + (目标 − 基期排放) × 1/5）"
    )
    assert texts[("budget", "required")] == "2026–2030 碳排放预算的 2026 年时间进度（预算 × 1/5）"
    assert texts[("total", "actual")] == "2026 年二氧化碳排放量"
    with translation.override("en"):
        for k in figures:
            for which in ("required", "actual"):
                assert means_text(figures[k]["basis"][f"{which}_means_of"])


def test_demo_opens_the_carbon_round_only_with_a_complete_year(world, media):
    from dualcontrol.assessment import demo as assessment_demo

    add_statistics(world, range(2025, 2027), base=2025, co2_t=True)
    add_co2_targets(
        world,
        base=2025,
        totals=("21000000", "30000000"),
        budgets=("100000000", "125000000"),
        is_synthetic=True,
    )
    # a demo built during 2026 has only the months of 2026: no CO2 round (none before 2026)
    RegionalStatistic.objects.filter(year=2026).update(month=11)
    assessment_demo.extend_demo(today=dt.date(2026, 12, 5))
    assert not AssessmentRound.objects.exists()
    RegionalStatistic.objects.filter(year=2026).update(month=None)  # the year is complete
    assessment_demo.extend_demo(today=dt.date(2027, 2, 5))
    rnd = AssessmentRound.objects.get()
    assert (rnd.year, rnd.sheet_name, rnd.is_synthetic) == (2026, "co2-15th-fyp", True)
    recs = rnd.records.order_by("division__code")
    assert [r.target_error for r in recs] == ["", ""]
    assert all(r.status == RecordStatus.SELF_ASSESSMENT and r.is_synthetic for r in recs)
    assessment_demo.extend_demo(today=dt.date(2027, 2, 5))  # idempotent
    assert AssessmentRound.objects.count() == 1


def test_record_page_shows_the_carbon_figures(carbon):
    from django.test import Client

    world, _ = carbon
    rnd = services.create_round(
        user=world.users[Role.PROVINCE_ADMIN], year=2026, sheet=_sheet("co2-15th-fyp")
    )
    rec = rnd.records.get(division=world.city)
    for role, status in ((Role.PROVINCE_ADMIN, 200), (Role.CITY_OFFICER, 200), ("other_city", 404)):
        c = Client()
        login(c, world.users[role])
        response = c.get(f"/assessment/records/{rec.pk}/")
        assert response.status_code == status
    page = Client()
    login(page, world.users[Role.CITY_OFFICER])
    html = page.get(f"/assessment/records/{rec.pk}/").content.decode()
    # printed as number_formats.yaml says (issue 14): tCO2 with 2 decimals, % with 2
    assert "20,200,000.00 吨二氧化碳" in html and "21,340,000.00 吨二氧化碳" in html
    assert "3.66%" in html and "3.00%" in html and "3.6580%" not in html
    assert "单位地区生产总值二氧化碳排放 4.0 → 3.88 吨二氧化碳/万元（2025 年可比价）" in html
    assert "2026 年比 2025 年降低率（2025 年可比价）" in html
