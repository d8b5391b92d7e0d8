"""Specifications of core/scenarios.py: the scenario formula (ramp-up as data), 两高 classification
(MEE 2021 six categories, NDRC 2021 six industries), capacity-replacement ratios (MIIT 2021 steel /
cement), review authority (令2023年第2号: ≥10000 tce provincial, <1000 tce and <500万kWh exempt;
令2025年第31号: <1000 tce and <1000 t coal exempt, provincial threshold NOT FOUND) and the re-review
trigger (Sichuan: “10%及以上”).  Sources: reference/data/project_gating.yaml."""

from __future__ import annotations

import datetime as dt

import pytest

from dualcontrol.core import scenarios as s
from dualcontrol.core.progress import ProgressDefinition
from dualcontrol.reference.project_gating import gating

DAY = dt.date(2024, 1, 1)
DAY_31 = dt.date(2026, 1, 1)
RAMP = s.RampUp(first_year_share_frac=0.5)
BASE = s.RegionBase(year=2025, energy_tce=1000.0, co2_t=2000.0, gdp_10k_yuan=1000.0)
FLAT = s.Growth(gdp_frac=0.0, energy_frac=0.0, co2_frac=0.0)


def test_ramp_up_share_is_data_and_first_year_counts_it():
    assert gating().ramp.first_year_share_frac == 0.5
    p = s.ScenarioProject("p", 2027, 100.0, 200.0, 50.0)
    assert [s.operating_share(p, y, RAMP) for y in (2026, 2027, 2028)] == [0.0, 0.5, 1.0]
    assert s.first_year_share_from_month(1) == 1.0
    assert s.first_year_share_from_month(7) == 0.5
    assert s.first_year_share_from_month(12) == pytest.approx(1 / 12)
    with pytest.raises(s.ScenarioError):
        s.first_year_share_from_month(13)


def test_scenario_exact_figures_with_and_without():
    targets = s.ScenarioTargets(
        end_year=2030,
        co2_intensity_reduction_frac=0.17,
        co2_total_cap_t=2100.0,
        co2_budget_t=10000.0,
        progress_definition=ProgressDefinition.LINEAR,
    )
    growth = s.Growth(gdp_frac=0.05, energy_frac=0.0, co2_frac=0.0)
    comp = s.compare(
        base=BASE,
        growth=growth,
        targets=targets,
        projects=[s.ScenarioProject("p", 2027, 100.0, 200.0, 0.0)],
        ramp=RAMP,
    )
    w, p = comp.without.end, comp.with_projects.end
    gdp_2030 = 1000 * 1.05**5
    assert w.co2_intensity_t_per_10k_yuan == pytest.approx(2000 / gdp_2030)
    assert w.co2_intensity_reduction_frac == pytest.approx(1 - 1 / 1.05**5)  # 21.65 %
    assert p.co2_t == pytest.approx(2200.0)
    assert p.co2_intensity_reduction_frac == pytest.approx(1 - 1.1 / 1.05**5)  # 13.81 %
    assert comp.without.attainment.co2_intensity is True
    assert comp.with_projects.attainment.co2_intensity is False
    # 2027 half, 2028–2030 full: cumulative = 5 × 2000 + 100 + 3 × 200
    assert p.cumulative_co2_t == pytest.approx(10700.0)
    assert comp.with_projects.attainment.co2_budget is False
    assert comp.with_projects.attainment.co2_total is False  # 2200 > 2100
    assert comp.with_projects.attainment.over_budget
    assert comp.without.attainment.over_budget is False
    assert p.co2_progress_frac == pytest.approx(p.co2_intensity_reduction_frac / 0.17)


@pytest.mark.parametrize(("co2", "ok"), [(2099.0, True), (2100.0, True), (2101.0, False)])
def test_total_cap_boundary(co2, ok):
    targets = s.ScenarioTargets(end_year=2026, co2_total_cap_t=2100.0)
    p = s.ScenarioProject("p", 2025, 0.0, co2 - 2000.0, 0.0)
    res = s.run_scenario(name="x", base=BASE, growth=FLAT, targets=targets, projects=[p], ramp=RAMP)
    assert res.attainment.co2_total is ok


def test_elimination_is_a_negative_project():
    targets = s.ScenarioTargets(end_year=2027, energy_intensity_reduction_frac=0.1)
    p = s.ScenarioProject("out", 2026, -100.0, -200.0, 0.0)
    res = s.run_scenario(name="x", base=BASE, growth=FLAT, targets=targets, projects=[p], ramp=RAMP)
    assert [y.energy_tce for y in res.years] == [1000.0, 950.0, 900.0]
    assert res.end.energy_intensity_reduction_frac == pytest.approx(0.1)
    assert res.attainment.energy_intensity is True  # exactly at the target


def test_bad_inputs_refused():
    with pytest.raises(s.ScenarioError):
        s.run_scenario(
            name="x", base=BASE, growth=FLAT, targets=s.ScenarioTargets(end_year=2025), ramp=RAMP
        )
    with pytest.raises(s.ScenarioError):
        s.run_scenario(
            name="x",
            base=BASE,
            growth=FLAT,
            targets=s.ScenarioTargets(end_year=2027),
            projects=[s.ScenarioProject("p", 2026, -2000.0, 0.0, 0.0)],
            ramp=RAMP,
        )


@pytest.mark.parametrize(
    ("code", "two_high", "possible"),
    [
        ("30", True, False),
        ("3011", True, False),
        ("44", True, False),
        ("4411", True, False),
        ("4415", True, False),
        ("39", False, False),
        ("", False, False),
        ("2", False, True),
    ],
)
def test_two_high_classification(code, two_high, possible):
    r = s.classify_two_high(code, gating().two_high, DAY)
    assert r.is_two_high is two_high
    assert r.possible is possible


def test_two_high_rule_sets_cited():
    sets = {rs.code: rs for rs in gating().two_high}
    assert [c.name_zh for c in sets["mee_2021"].classes] == [
        "煤电",
        "石化",
        "化工",
        "钢铁",
        "有色金属冶炼",
        "建材",
    ]
    assert [c.industries for c in sets["ndrc_2021"].classes] == [
        ("25",),
        ("26",),
        ("30",),
        ("31",),
        ("32",),
        ("44",),
    ]
    assert all("aisoutu.com.cn" in rs.source for rs in sets.values())
    # before the rule sets existed nothing is 两高
    assert not s.classify_two_high("31", gating().two_high, dt.date(2020, 1, 1)).matches


@pytest.mark.parametrize(
    ("sector", "zone", "case", "ratio"),
    [
        ("steel", "key_region", "standard", 1.5),
        ("steel", "other", "standard", 1.25),
        ("steel", "key_region", "after_merger", 1.25),
        ("steel", "other", "after_merger", 1.1),
        ("cement", "key_region", "standard", 2.0),
        ("cement", "other", "standard", 1.5),
        ("cement", "other", "cross_province", 2.0),
        ("cement", "key_region", "restricted_class", 2.0),
    ],
)
def test_replacement_ratios(sector, zone, case, ratio):
    r = s.replacement_ratio(gating().ratios, sector=sector, zone=zone, case=case, day=DAY)
    assert r.ratio == ratio
    assert "MIIT" in r.source


def test_replacement_validity_and_not_found():
    with pytest.raises(s.ScenarioError):  # before the 2021 cement 办法
        s.replacement_ratio(
            gating().ratios,
            sector="cement",
            zone="other",
            case="standard",
            day=dt.date(2021, 7, 31),
        )
    with pytest.raises(s.ScenarioError):  # flat glass: NOT FOUND
        s.replacement_ratio(
            gating().ratios, sector="flat_glass", zone="other", case="standard", day=DAY
        )
    r = s.replacement_ratio(
        gating().ratios, sector="steel", zone="key_region", case="standard", day=DAY
    )
    assert s.required_replacement(100, r) == 150
    assert s.replacement_sufficient(100, 149.99, r) is False
    assert s.replacement_sufficient(100, 150, r) is True
    assert s.replacement_sufficient(100, 150.01, r) is True


@pytest.mark.parametrize(
    ("energy", "authority"), [(9999.99, "local"), (10000.0, "provincial"), (10000.01, "provincial")]
)
def test_provincial_threshold_2023(energy, authority):
    r = s.review_authority(
        energy_tce=energy, electricity_kwh=10_000_000, day=DAY, rules=gating().review_rules
    )
    assert r.rule.code == "ndrc_2023_2"
    assert r.authority.value == authority


@pytest.mark.parametrize(
    ("energy", "kwh", "exempt"),
    [
        (999.99, 4_999_999, True),
        (1000.0, 4_999_999, False),
        (999.99, 5_000_000, False),
        (1000.01, 1, False),
    ],
)
def test_exemption_2023(energy, kwh, exempt):
    r = s.review_authority(
        energy_tce=energy, electricity_kwh=kwh, day=DAY, rules=gating().review_rules
    )
    assert (r.authority is s.Authority.EXEMPT) is exempt


def test_2025_rule_threshold_not_found_and_coal_exemption():
    rules = gating().review_rules
    r = s.review_authority(energy_tce=50000, coal_t=5000, day=DAY_31, rules=rules)
    assert r.rule.code == "ndrc_2025_31" and r.authority is s.Authority.UNKNOWN
    r = s.review_authority(
        energy_tce=50000, coal_t=5000, day=DAY_31, rules=rules, platform_provincial_min_tce=10000
    )
    assert r.authority is s.Authority.PROVINCIAL and r.threshold_is_platform_rule
    assert (
        s.review_authority(energy_tce=999, coal_t=999, day=DAY_31, rules=rules).authority
        is s.Authority.EXEMPT
    )
    assert (
        s.review_authority(energy_tce=999, coal_t=1000, day=DAY_31, rules=rules).authority
        is s.Authority.UNKNOWN
    )
    assert (
        s.review_authority(energy_tce=999, day=DAY_31, rules=rules).authority is s.Authority.UNKNOWN
    )  # coal not given
    assert (
        s.review_authority(
            energy_tce=999, day=dt.date(2025, 8, 31), rules=rules, electricity_kwh=1
        ).rule.code
        == "ndrc_2023_2"
    )


@pytest.mark.parametrize(("actual", "hit"), [(109.99, False), (110.0, True), (110.01, True)])
def test_re_review_trigger_inclusive(actual, hit):
    frac = gating().re_review.overrun_frac
    assert frac == 0.10
    o = s.overrun(measure="co2", approved=100.0, actual=actual, trigger_frac=frac)
    assert o.triggered is hit


def test_no_trigger_configured_says_none():
    assert (
        s.overrun(measure="energy", approved=100, actual=200, trigger_frac=None).triggered is None
    )
    with pytest.raises(s.ScenarioError):
        s.overrun(measure="energy", approved=0, actual=1, trigger_frac=0.1)
