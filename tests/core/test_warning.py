"""Barometer rule sets (晴雨表) — specifications.

Sources (shared/reference/05_warning_rules.md, formats.md §6.1):
- NDRC 2021 (Caixin 2021-06-04; 发改办环资〔2021〕629号): “未完成双控进度目标，且实际值与目标值差距大于目标值10%的
  地区为一级红灯预警；实际值与目标值差距在10%以内的地区为二级黄灯预警；完成双控进度目标的地区为三级绿色”;
  intensity and total rated separately; 一级 in intensity → 节能审查 of new projects suspended.
- L1 (city 节能预警调控方案 2010): 完成率 ≥ 100 % → 0级 green; ≥ 90 % and < 100 % → 一级 yellow;
  > 50 % and < 90 % → 二级 orange; ≤ 50 % → 三级 red.
- L2 (杭州市节能降耗预警调控方案): half-year gap 0.3–1 pp (1 excl.) → Ⅰ yellow; 1 (incl.)–2 (incl.) → Ⅱ orange;
  > 2 → Ⅲ red; three quarters: < 0.5 → Ⅰ; 0.5 (incl.)–1 (incl.) → Ⅱ; > 1 → Ⅲ.  Platform decision (data):
  met → “met”, half-year gap in (0, 0.3) pp → “below-threshold”; both green, no warning.

Boundaries use exact decimals (Decimal → Fraction): “exactly 10 % short” is exactly 10 %.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.warning import (
    Band,
    Bound,
    Measure,
    Observation,
    WarningInputError,
    WarningRuleError,
    check_partition,
    figures_of,
    rate,
)
from dualcontrol.reference import ReferenceDataError, load_yaml
from dualcontrol.reference.warning_rules import (
    DEFAULT_RULE_SET,
    available_rule_sets,
    load_rule_set,
    rule_set_from_mapping,
)

D = Decimal


def pct(x: str) -> Fraction:
    """A percentage as written in a text, as an exact core fraction."""
    return Fraction(D(x)) / 100


def intensity(required_pct: str, achieved_pct: str, stage: str | None = None) -> Observation:
    return Observation("东州", "intensity_reduction", pct(required_pct), pct(achieved_pct), stage)


def total(allowed_tce: str, used_tce: str) -> Observation:
    return Observation("东州", "energy_total", Fraction(D(allowed_tce)), Fraction(D(used_tce)))


# ---------------------------------------------------------------------------------------------
# shipped rule sets


def test_shipped_rule_sets_load_and_validate() -> None:
    names = available_rule_sets()
    assert {"ndrc-2021", "local-l1", "local-l2"} <= set(names)
    assert DEFAULT_RULE_SET == "ndrc-2021"
    for name in names:
        rs = load_rule_set(name)
        assert rs.name == name
        assert rs.version.startswith(names[name] + "@")
        assert rs.source


def test_ndrc_levels_numbering_and_colours() -> None:
    rs = load_rule_set("ndrc-2021")
    assert [(lv.number, lv.colour) for lv in rs.levels] == [
        ("1", "red"),
        ("2", "yellow"),
        ("3", "green"),
    ]
    assert rs.valid_from is not None and rs.valid_from.year == 2021


# ---------------------------------------------------------------------------------------------
# NDRC 2021


@pytest.mark.parametrize(
    ("achieved_pct", "level", "colour"),
    [
        ("3.5", "3", "green"),  # over-fulfilled
        ("3.2", "3", "green"),  # exactly the pace target: met
        ("3.1999", "2", "yellow"),  # just short
        ("2.88", "2", "yellow"),  # short by exactly 10 % of 3.2 — “在10%以内”
        ("2.8799", "1", "red"),  # short by more than 10 % — “大于目标值10%”
        ("-1.0", "1", "red"),  # intensity rose
    ],
)
def test_ndrc_intensity_boundaries(achieved_pct: str, level: str, colour: str) -> None:
    r = rate(intensity("3.2", achieved_pct), load_rule_set("ndrc-2021"))
    assert (r.level.number, r.level.colour) == (level, colour)


def test_ndrc_exactly_ten_percent_short_is_yellow_and_records_figures() -> None:
    rs = load_rule_set("ndrc-2021")
    r = rate(intensity("3.2", "2.88"), rs)
    assert r.rule_set_name == "ndrc-2021"
    assert r.rule_set_version == rs.version
    assert r.measure is Measure.GAP_FRAC_OF_REQUIRED
    assert r.measure_value == Fraction(1, 10)
    f = r.figures
    assert (f.required, f.achieved) == (pct("3.2"), pct("2.88"))
    assert f.gap == pct("0.32")
    assert f.gap_pp == Fraction(D("0.32"))
    assert f.gap_frac_of_required == Fraction(1, 10)
    assert f.completion_frac == Fraction(9, 10)
    assert f.met is False
    assert r.consequences == ()
    assert r.band_text == "0 < gap_frac_of_required <= 0.1"


def test_ndrc_level1_intensity_suspends_energy_reviews() -> None:
    r = rate(intensity("3.2", "2.0"), load_rule_set("ndrc-2021"))
    assert r.level.number == "1"
    assert [c.code for c in r.consequences] == ["energy_review_suspended"]
    assert "节能审查" in r.consequences[0].text_zh


@pytest.mark.parametrize(
    ("used_tce", "level"),
    [
        ("900000", "3"),
        ("1000000", "3"),  # exactly the allowed amount: met
        ("1000000.01", "2"),
        ("1100000", "2"),  # over by exactly 10 % of the allowed amount
        ("1100000.01", "1"),  # over by more than 10 %
    ],
)
def test_ndrc_total_boundaries(used_tce: str, level: str) -> None:
    r = rate(total("1000000", used_tce), load_rule_set("ndrc-2021"))
    assert r.level.number == level
    assert r.figures.gap == Fraction(D(used_tce)) - 1000000
    assert r.figures.completion_frac is None
    assert r.figures.gap_pp is None


def test_ndrc_total_level1_has_no_energy_review_consequence() -> None:
    # The text attaches the 节能审查 suspension to the intensity rating only.
    r = rate(total("1000000", "1200000"), load_rule_set("ndrc-2021"))
    assert r.level.number == "1"
    assert r.consequences == ()


def test_ndrc_rates_intensity_and_total_separately() -> None:
    rs = load_rule_set("ndrc-2021")
    a = rate(intensity("3.2", "3.3"), rs)
    b = rate(total("1000000", "1150000"), rs)
    assert (a.level.colour, b.level.colour) == ("green", "red")


# ---------------------------------------------------------------------------------------------
# L1: completion rate of the annual target


@pytest.mark.parametrize(
    ("achieved_pct", "number", "colour"),
    [
        ("4.4", "0", "green"),
        ("4.0", "0", "green"),  # 100 %: 完成率达到年度节能目标
        ("3.9996", "1", "yellow"),  # 99.99 %
        ("3.6", "1", "yellow"),  # exactly 90 %: “90%以上” includes 90
        ("3.5996", "2", "orange"),  # 89.99 %
        ("2.0004", "2", "orange"),  # 50.01 %
        ("2.0", "3", "red"),  # exactly 50 %: “50%及以下”
        ("0", "3", "red"),
        ("-0.5", "3", "red"),
    ],
)
def test_l1_completion_rate_boundaries(achieved_pct: str, number: str, colour: str) -> None:
    r = rate(intensity("4.0", achieved_pct), load_rule_set("local-l1"))
    assert (r.level.number, r.level.colour) == (number, colour)
    assert r.measure is Measure.COMPLETION_FRAC
    assert r.measure_value == pct(achieved_pct) / pct("4.0")


def test_l1_numbering_runs_opposite_to_ndrc() -> None:
    l1 = {lv.number: lv.severity for lv in load_rule_set("local-l1").levels}
    ndrc = {lv.number: lv.severity for lv in load_rule_set("ndrc-2021").levels}
    assert l1["3"] > l1["0"]
    assert ndrc["1"] > ndrc["3"]


def test_l1_has_no_rule_for_total_consumption() -> None:
    with pytest.raises(WarningInputError, match="no rule for indicator 'energy_total'"):
        rate(total("1000000", "900000"), load_rule_set("local-l1"))


def test_completion_rate_needs_a_positive_target() -> None:
    with pytest.raises(WarningInputError, match="required figure > 0"):
        rate(intensity("0", "1.0"), load_rule_set("local-l1"))


# ---------------------------------------------------------------------------------------------
# L2: Hangzhou, gap to the annual target in percentage points


@pytest.mark.parametrize(
    ("achieved_pct", "level_id", "number", "colour", "warning"),
    [
        ("3.6", "met", None, "green", False),
        ("3.5", "met", None, "green", False),  # gap 0: not “低于当年节能目标”
        ("3.21", "below-threshold", None, "green", False),  # gap 0.29 pp
        ("3.2", "I", "Ⅰ", "yellow", True),  # gap exactly 0.3 pp (interpretation: included)
        ("2.51", "I", "Ⅰ", "yellow", True),  # 0.99 pp
        ("2.5", "II", "Ⅱ", "orange", True),  # exactly 1 pp: “1(含)”
        ("1.5", "II", "Ⅱ", "orange", True),  # exactly 2 pp: “2(含)”
        ("1.49", "III", "Ⅲ", "red", True),  # 2.01 pp: “2个百分点以上(不含)”
    ],
)
def test_l2_half_year_boundaries(
    achieved_pct: str, level_id: str, number: str | None, colour: str, warning: bool
) -> None:
    r = rate(intensity("3.5", achieved_pct, "half_year"), load_rule_set("local-l2"))
    assert (r.level.id, r.level.number, r.level.colour, r.level.warning) == (
        level_id,
        number,
        colour,
        warning,
    )
    assert r.measure is Measure.GAP_PP
    assert r.measure_value == Fraction(D("3.5") - D(achieved_pct))


@pytest.mark.parametrize(
    ("achieved_pct", "level_id"),
    [
        ("3.5", "met"),
        ("3.49", "I"),  # any shortfall is a warning after three quarters
        ("3.01", "I"),  # 0.49 pp
        ("3.0", "II"),  # exactly 0.5 pp: “0.5(含)”
        ("2.5", "II"),  # exactly 1 pp: “1个(含)”
        ("2.49", "III"),  # 1.01 pp
    ],
)
def test_l2_three_quarters_boundaries(achieved_pct: str, level_id: str) -> None:
    r = rate(intensity("3.5", achieved_pct, "three_quarters"), load_rule_set("local-l2"))
    assert r.level.id == level_id


def test_l2_consequences_are_the_production_halts_of_the_text() -> None:
    rs = load_rule_set("local-l2")
    yellow = rate(intensity("3.5", "3.0", "half_year"), rs)
    orange = rate(intensity("3.5", "2.0", "half_year"), rs)
    red = rate(intensity("3.5", "1.0", "half_year"), rs)
    assert [dict(c.params)["min_days"] for c in yellow.consequences] == ["10", "7", "5"]
    assert [dict(c.params)["min_days"] for c in orange.consequences] == ["15", "10", "10"]
    assert yellow.consequences[0].text_zh == "建材、钢铁企业停产10天以上"
    assert red.consequences == ()  # the red measures are NOT FOUND in the available copy
    assert {s.id: s.issued_in_month for s in rs.stages} == {"half_year": 7, "three_quarters": 10}


def test_l2_needs_a_known_stage() -> None:
    rs = load_rule_set("local-l2")
    with pytest.raises(WarningInputError, match="rates at a stage"):
        rate(intensity("3.5", "3.0"), rs)
    with pytest.raises(WarningInputError, match="unknown stage 'q1'"):
        rate(intensity("3.5", "3.0", "q1"), rs)


def test_unknown_indicator() -> None:
    with pytest.raises(WarningInputError, match="unknown indicator"):
        rate(Observation("东州", "water", Fraction(1), Fraction(1)), load_rule_set())


# ---------------------------------------------------------------------------------------------
# rule sets are data


def _ndrc_data() -> dict[str, Any]:
    _, data = load_yaml("warning_ndrc_2021.yaml")
    return copy.deepcopy(data)


def test_a_new_rule_set_given_as_data_works_without_code_change() -> None:
    data = {
        "name": "test-increment",
        "title_zh": "测试：增量两级",
        "source": "test",
        "valid_from": "2021-01-01",
        "required_means_zh": "允许增量",
        "levels": [
            {"id": "ok", "number": "A", "name_zh": "正常", "colour": "blue", "severity": 0,
             "warning": False},
            {"id": "over", "number": "B", "name_zh": "超出", "colour": "purple", "severity": 1,
             "warning": True},
        ],
        "rules": [
            {
                "indicators": ["energy_increment"],
                "measure": "gap",
                "bands": [
                    {"level": "ok", "upper": {"value": 5000, "inclusive": True}},
                    {"level": "over", "lower": {"value": 5000, "inclusive": False},
                     "consequences": [{"code": "notice", "text_zh": "约谈"}]},
                ],
            }
        ],
    }  # fmt: skip
    rs = rule_set_from_mapping(data, version="admin@1")
    ok = rate(Observation.of("东州", "energy_increment", required=100000, achieved=105000), rs)
    over = rate(Observation.of("东州", "energy_increment", required=100000, achieved=105001), rs)
    assert (ok.level.number, ok.level.colour, ok.rule_set_version) == ("A", "blue", "admin@1")
    assert (over.level.number, [c.text_zh for c in over.consequences]) == ("B", ["约谈"])


def test_overlapping_bands_are_refused() -> None:
    data = _ndrc_data()
    data["rules"][0]["bands"][1]["lower"]["inclusive"] = True  # 0 both in 三级 and 二级
    with pytest.raises(ReferenceDataError, match="overlap"):
        rule_set_from_mapping(data, version="x")


def test_a_gap_between_bands_is_refused() -> None:
    data = _ndrc_data()
    data["rules"][0]["bands"][2]["lower"]["inclusive"] = False
    data["rules"][0]["bands"][1]["upper"]["inclusive"] = False  # exactly 10 % gets no level
    with pytest.raises(ReferenceDataError, match="gap"):
        rule_set_from_mapping(data, version="x")


def test_an_open_end_is_refused() -> None:
    data = _ndrc_data()
    data["rules"][0]["bands"][2]["upper"] = {"value": 1, "inclusive": True}
    with pytest.raises(ReferenceDataError, match="above 1 get no level"):
        rule_set_from_mapping(data, version="x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rules"][0].update(measure="ratio"), "unknown measure 'ratio'"),
        (lambda d: d["rules"][0].update(indicators=["water"]), "unknown indicator 'water'"),
        (
            lambda d: d["rules"][1].update(measure="gap_pp"),
            "gap_pp is not defined for energy_total",
        ),
        (lambda d: d["rules"][1].update(indicators=["intensity_reduction"]), "already has a rule"),
        (lambda d: d["rules"][0]["bands"][0].update(level="9"), "unknown level '9'"),
        (lambda d: d["levels"][0].update(severity="high"), "severity"),
        (lambda d: d.update(colour_scheme="x"), "unknown key"),
        (lambda d: d.pop("source"), "missing source"),
        (lambda d: d["rules"][0]["bands"][1]["upper"].update(value="ten"), "not a number"),
    ],
)
def test_malformed_rule_sets_are_refused(change: Any, message: str) -> None:
    data = _ndrc_data()
    change(data)
    with pytest.raises(ReferenceDataError, match=message):
        rule_set_from_mapping(data, version="x", where="test.yaml")


def test_check_partition_refuses_an_empty_band() -> None:
    bands = [
        Band("a", None, Bound(Fraction(0), True)),
        Band("b", Bound(Fraction(1), True), Bound(Fraction(1), False)),
    ]
    with pytest.raises(WarningRuleError, match="empty"):
        check_partition(bands, "t")


# ---------------------------------------------------------------------------------------------
# properties

pcts = st.decimals(min_value=D("-10"), max_value=D("30"), places=3)


@settings(max_examples=60, deadline=None)
@given(required=st.decimals(min_value=D("0.1"), max_value=D("20"), places=3), a=pcts, b=pcts)
def test_severity_never_falls_as_the_shortfall_grows(
    required: Decimal, a: Decimal, b: Decimal
) -> None:
    """For every shipped rule set: achieving less never gives a milder level."""
    lo, hi = sorted((a, b))
    for name in ("ndrc-2021", "local-l1"):
        rs = load_rule_set(name)
        worse = rate(intensity(str(required), str(lo)), rs)
        better = rate(intensity(str(required), str(hi)), rs)
        assert worse.level.severity >= better.level.severity
    rs = load_rule_set("local-l2")
    for stage in ("half_year", "three_quarters"):
        worse = rate(intensity(str(required), str(lo), stage), rs)
        better = rate(intensity(str(required), str(hi), stage), rs)
        assert worse.level.severity >= better.level.severity


@settings(max_examples=60, deadline=None)
@given(required=pcts, achieved=pcts)
def test_met_means_no_warning_in_every_shipped_rule_set(
    required: Decimal, achieved: Decimal
) -> None:
    obs = intensity(str(required), str(achieved))
    if not figures_of(obs).met or required <= 0:
        return
    for name in ("ndrc-2021", "local-l1"):
        assert rate(obs, load_rule_set(name)).level.warning is False
    for stage in ("half_year", "three_quarters"):
        obs_s = intensity(str(required), str(achieved), stage)
        assert rate(obs_s, load_rule_set("local-l2")).level.warning is False
