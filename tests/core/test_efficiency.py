"""Product efficiency grades, efficiency-linked electricity surcharges and key-unit designation
(issue 16; dualcontrol.core.efficiency with the reference data of dualcontrol.reference.efficiency).

Sources (cited per test): GB 21346-2013 / GB 21346-2022 forewords (grade names 先进值/准入值/限定值 =
1级/2级/3级, “不高于”), the secondary limit values of GB 16780-2021 etc., NDRC & MIIT 2013 notice on the
electrolytic-aluminium tiered price (Qinghai 2014 text), 发改价格〔2021〕1239号, the 2010 provincial
punitive prices (Anhui, Shaanxi, Guizhou), 节约能源法 第五十二条 and the 2018 重点用能单位节能管理办法 第二条.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.efficiency import (
    BenchmarkLevel,
    DesignationError,
    DesignationThresholds,
    DesignationTier,
    GradingError,
    LimitLine,
    NoLimitLineError,
    NoRuleError,
    SurchargeError,
    designation_proposal,
    find_limit_line,
    grade,
    surcharge,
)
from dualcontrol.reference.efficiency import (
    benchmark_level,
    designation_thresholds,
    limit_line,
    limit_lines,
    surcharge_rules,
)

STEP = D("0.1")
RANK = {"1": 1, "2": 2, "3": 3, "over": 4}
LINES = limit_lines()
NEUTRAL = {"clinker_ratio_pct": D(75)}  # zero deviation: the cement line's limits as printed


def _neutral(line: LimitLine) -> dict[str, D]:
    return {k: v for k, v in NEUTRAL.items() if any(c.name == k for c in line.corrections)}


def _expected(value: D, line: LimitLine) -> str:
    """The rule, restated: the best grade whose limit the value does not exceed (“不高于”)."""
    for name, limit in zip(("1", "2", "3"), line.limits, strict=True):
        if limit is not None and value <= limit:
            return name
    return "over"


# --- grades: every line of the data, every limit, just below / exactly at / just above --------


@pytest.mark.parametrize(
    "line", LINES, ids=lambda ln: f"{ln.standard.code}:{ln.product}:{ln.indicator}"
)
def test_every_limit_line_at_each_boundary(line):
    """A value equal to a grade's limit is within that grade (“不高于”); 0.1 above falls to the next
    grade with a limit, or ``over`` past 3级 (限定值)."""
    assert line.lower_is_better
    for limit in (g for g in line.limits if g is not None):
        for value in (limit - STEP, limit, limit + STEP):
            result = grade(value, line, corrections=_neutral(line))
            assert result.grade == _expected(value, line), (value, result)
            assert result.standard_code == line.standard.code
            assert result.standard_version.startswith("efficiency_limits.csv@")
        assert grade(limit, line, corrections=_neutral(line)).grade != "over"
    assert grade(line.grade3 + STEP, line, corrections=_neutral(line)).grade == "over"
    assert grade(line.grade3, line, corrections=_neutral(line)).grade in {"1", "2", "3"}


@pytest.mark.parametrize(
    ("value", "expected", "next_grade", "distance"),
    [
        (D("12650"), "1", None, None),  # 先进值
        (D("12650.1"), "2", "1", D("0.1")),
        (D("12750"), "2", "1", D("100")),  # 准入值
        (D("12750.1"), "3", "2", D("0.1")),
        (D("13700"), "3", "2", D("950")),  # 限定值 = the 2014 tiered-price threshold
        (D("13700.1"), "over", "3", D("0.1")),
    ],
)
def test_gb21346_2013_molten_aluminium(value, expected, next_grade, distance):
    """GB 21346-2013 foreword: 铝液交流电耗 限定值 ≤13700, 准入值 ≤12750, 先进值 ≤12650 kWh/t."""
    line = limit_line("电解铝", "铝液交流电耗", dt.date(2020, 6, 1))
    assert line.standard.code == "GB 21346-2013"
    result = grade(value, line)
    assert (result.grade, result.next_grade, result.distance_to_next_grade) == (
        expected,
        next_grade,
        distance,
    )
    assert result.corrected_value == value


def test_the_2022_edition_replaces_2013_on_2024_01_01():
    """GB 21346-2022 实施 2024-01-01, replaces GB 21346-2013 (foreword)."""
    old = limit_line("electrolytic_aluminium", "molten_al_ac_power", dt.date(2023, 12, 31))
    new = limit_line("electrolytic_aluminium", "molten_al_ac_power", dt.date(2024, 1, 1))
    assert (old.standard.code, old.grade3) == ("GB 21346-2013", D(13700))
    assert (new.standard.code, new.limits) == ("GB 21346-2022", (D(12950), D(13000), D(13350)))
    assert grade(D(13500), old).grade == "3" and grade(D(13500), new).grade == "over"


def test_older_indicator_name_is_accepted():
    """GB 21346-2013 calls it 铝锭综合能源单耗, GB 21346-2022 铝锭综合单耗: both names resolve."""
    for name in ("铝锭综合能源单耗", "铝锭综合单耗", "ingot_comprehensive_energy"):
        assert limit_line("电解铝", name, dt.date(2024, 1, 1)).grade3 == D(1720)
        assert limit_line("电解铝", name, dt.date(2020, 1, 1)).grade3 == D(1760)


def test_lookup_errors():
    with pytest.raises(NoLimitLineError, match="unknown product"):
        find_limit_line(LINES, "不存在", "综合能耗", dt.date(2024, 1, 1))
    with pytest.raises(NoLimitLineError, match="has no indicator"):
        find_limit_line(LINES, "水泥熟料", "铝液交流电耗", dt.date(2024, 1, 1))
    with pytest.raises(NoLimitLineError, match="in force"):
        find_limit_line(LINES, "拜耳法氧化铝", "综合能耗", dt.date(2023, 12, 31))


def test_equal_grade_limits_coke():
    """GB 21342-2025 顶装焦炉焦炭 110/110/135: a value at 110 is 1级 (2级 has no room of its own);
    from 3级 the next grade reached at 110 is 1级."""
    line = limit_line("顶装焦炉焦炭", "单位产品能耗")
    assert grade(D(110), line).grade == "1"
    result = grade(D(135), line)
    assert (result.grade, result.next_grade, result.distance_to_next_grade) == ("3", "1", D(25))


def test_missing_grade2_eaf():
    """GB 21256-2025 电弧炉(50-70t) 61/—/72: no 2级, so 3级 improves straight to 1级."""
    line = limit_line("电弧炉(50-70t)", "单位产品能耗")
    assert line.grade2 is None
    result = grade(D(72), line)
    assert (result.grade, result.next_grade, result.distance_to_next_grade) == ("3", "1", D(11))
    assert grade(D("72.1"), line).next_grade == "3"


def test_negative_limits_converter():
    """GB 21256-2025 转炉 −30/−28/−12 kgce/t (net energy recovery): lower is still better."""
    line = limit_line("转炉工序", "单位产品能耗")
    assert grade(D(-30), line).grade == "1"
    assert grade(D("-29.9"), line).grade == "2"
    assert grade(D(-12), line).grade == "3"
    result = grade(D("-11.9"), line)
    assert (result.grade, result.distance_to_next_grade) == ("over", D("0.1"))


# --- corrections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "limits"),
    [
        (D(75), (D(80), D(87), D(94))),
        (D(80), (D("85.50"), D("92.75"), D("100.00"))),  # +5 pp × 1.10/1.15/1.20
        (D(70), (D("74.50"), D("81.25"), D("88.00"))),  # −5 pp
    ],
)
def test_cement_clinker_ratio_correction(ratio, limits):
    """GB 16780-2021 水泥 80/87/94 kgce/t at 熟料比例 75 %, “每偏离1个百分点按1.10/1.15/1.20 kgce/t修正”."""
    line = limit_line("水泥", "单位产品综合能耗")
    result = grade(D(90), line, corrections={"clinker_ratio_pct": ratio})
    assert result.limits == limits
    assert result.corrected_value == D(90)
    # boundary on the corrected limit: equal → within the grade
    assert grade(limits[2], line, corrections={"clinker_ratio_pct": ratio}).grade == "3"
    assert grade(limits[2] + STEP, line, corrections={"clinker_ratio_pct": ratio}).grade == "over"


def test_required_and_unknown_corrections_are_errors():
    cement = limit_line("水泥", "单位产品综合能耗")
    with pytest.raises(GradingError, match=r"clinker_ratio_pct .* is required"):
        grade(D(90), cement)
    with pytest.raises(GradingError, match="unknown correction"):
        grade(D(90), cement, corrections={"clinker_ratio_pct": D(75), "altitude_m": D(2000)})
    aluminium = limit_line("电解铝", "铝液交流电耗")
    with pytest.raises(GradingError, match=r"unknown correction.*none"):
        grade(D(13000), aluminium, corrections={"wet_quench": D(1)})
    with pytest.raises(GradingError, match="outside"):
        grade(D(90), cement, corrections={"clinker_ratio_pct": D(101)})


def test_altitude_correction_boundary():
    """GB 16780-2021: “altitude >1500 m: 3级 × (1.179 − 0.211·p/101325)” (applied to clinker 综合能耗)."""
    line = limit_line("水泥熟料", "综合能耗")
    p = D(80000)
    at = grade(D(117), line, corrections={"altitude_m": D(1500), "pressure_pa": p})
    assert at.limits == (D(100), D(107), D(117))  # exactly 1500 m: not above, not applied
    assert any("not applied" in n for n in at.notes)
    above = grade(D(117), line, corrections={"altitude_m": D("1500.1"), "pressure_pa": p})
    factor = D("1.179") - D("0.211") * p / D(101325)
    assert above.limits == (D(100), D(107), D(117) * factor)
    assert above.grade == "3"
    assert (
        grade(
            D(117) * factor + STEP, line, corrections={"altitude_m": D(2000), "pressure_pa": p}
        ).grade
        == "over"
    )
    with pytest.raises(GradingError, match=r"pressure_pa .* is needed"):
        grade(D(117), line, corrections={"altitude_m": D(2000)})
    with pytest.raises(GradingError, match="needs altitude_m"):
        grade(D(117), line, corrections={"pressure_pa": p})
    low = grade(D(117), line, corrections={"altitude_m": D(800)})
    assert low.limits == (D(100), D(107), D(117))


def test_wet_quench_correction():
    """GB 21342-2025 焦炭: “wet-quench +46.46 at 3级” (1级/2级 corrections NOT FOUND)."""
    line = limit_line("捣固焦炉焦炭", "单位产品能耗")
    wet = {"wet_quench": D(1)}
    assert grade(D("186.46"), line, corrections=wet).grade == "3"  # 140 + 46.46
    assert grade(D("186.47"), line, corrections=wet).grade == "over"
    assert grade(D("140.01"), line, corrections={"wet_quench": D(0)}).grade == "over"
    assert grade(D("140.01"), line).grade == "over"  # optional: not given = not applied
    with pytest.raises(GradingError, match="outside"):
        grade(D(150), line, corrections={"wet_quench": D(2)})


# --- 标杆 / 基准 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "position"),
    [
        (D("99.9"), "benchmark"),
        (D(100), "benchmark"),  # at 标杆
        (D("100.1"), "between"),
        (D(117), "between"),  # at 基准: not below it
        (D("117.1"), "below_baseline"),
    ],
)
def test_clinker_benchmark_and_baseline(value, position):
    """Cement clinker 标杆 100 / 基准 117 kgce/t (e.ccement.com on the Shandong list)."""
    line = limit_line("水泥熟料", "综合能耗")
    level = benchmark_level(line.product, line.indicator)
    assert level is not None and (level.benchmark, level.baseline) == (D(100), D(117))
    assert grade(value, line, benchmark=level).benchmark_position == position


def test_unknown_benchmark_and_partial_levels():
    line = limit_line("电解铝", "铝液交流电耗")
    assert benchmark_level(line.product, line.indicator) is None  # 2021 aluminium values NOT FOUND
    assert grade(D(13000), line).benchmark_position == "unknown"
    only_baseline = BenchmarkLevel(
        line.product, line.indicator, line.unit, None, D(13350), "t", None, "v"
    )
    assert grade(D(13351), line, benchmark=only_baseline).benchmark_position == "below_baseline"
    assert grade(D(13000), line, benchmark=only_baseline).benchmark_position == "unknown"
    wrong = BenchmarkLevel(
        "cement_clinker", "comprehensive_energy", "kgce/t", D(1), D(2), "t", None, "v"
    )
    with pytest.raises(GradingError, match="does not belong"):
        grade(D(13000), line, benchmark=wrong)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(LINES) - 1),
    a=st.decimals(min_value=-100, max_value=20000, places=2),
    b=st.decimals(min_value=-100, max_value=20000, places=2),
)
def test_grades_are_monotone_and_the_distance_reaches_the_next_grade(index, a, b):
    """Invariant: a lower (better) value never gets a worse grade; improving by the distance
    reaches exactly ``next_grade``."""
    line = LINES[index]
    low, high = sorted((a, b))
    ga = grade(low, line, corrections=_neutral(line))
    gb = grade(high, line, corrections=_neutral(line))
    assert RANK[ga.grade] <= RANK[gb.grade]
    if gb.next_grade is None:
        assert gb.grade == "1" and gb.distance_to_next_grade is None
    else:
        assert gb.distance_to_next_grade is not None and gb.distance_to_next_grade > 0
        better = grade(high - gb.distance_to_next_grade, line, corrections=_neutral(line))
        assert better.grade == gb.next_grade


# --- electricity surcharges ------------------------------------------------------------------

NATIONAL = surcharge_rules("national")


def _al(year, value, indicator="molten_al_ac_power", rules=NATIONAL):
    return surcharge(
        rules,
        year=year,
        product="electrolytic_aluminium",
        indicator=indicator,
        value=value,
        limit_lines=LINES,
    )


@pytest.mark.parametrize("year", range(2014, 2022))
@pytest.mark.parametrize(
    ("value", "amount", "tier"),
    [
        (D("13699.9"), D(0), "normal"),
        (D(13700), D(0), "normal"),  # “不高于每吨13700千瓦时的…不加价”
        (D("13700.1"), D("0.02"), "second"),  # “高于每吨13700千瓦时但不高于13800千瓦时的…0.02元”
        (D(13800), D("0.02"), "second"),
        (D("13800.1"), D("0.08"), "third"),  # “高于每吨13800千瓦时的…0.08元”
    ],
)
def test_aluminium_tiered_price_2014_rule(year, value, amount, tier):
    """NDRC & MIIT 2013 notice (effective 2014-01-01), complete text in Qinghai's 2014 implementation."""
    result = _al(year, value)
    assert (result.surcharge_yuan_per_kwh, result.tier, result.rule_id) == (
        amount,
        tier,
        "al_tiered_2014",
    )
    assert result.rule_version.startswith("electricity_surcharges.yaml@")


THRESHOLDS_1239 = {2022: D(13650), 2023: D(13450), 2024: D(13450)} | {
    y: D(13300) for y in range(2025, 2031)
}


@pytest.mark.parametrize(("year", "threshold"), sorted(THRESHOLDS_1239.items()))
@pytest.mark.parametrize(
    ("over", "amount", "tier"),
    [
        (D("-0.1"), D(0), "normal"),
        (D(0), D(0), "normal"),  # “不高于分档标准的…不加价”
        (D("0.1"), D("0.01"), "step_1"),  # “不足20kWh的，按20kWh计算”
        (D(20), D("0.01"), "step_1"),  # “每超过20kWh…加价0.01元/kWh”
        (D("20.1"), D("0.02"), "step_2"),
        (D(40), D("0.02"), "step_2"),
        (D(200), D("0.10"), "step_10"),
    ],
)
def test_aluminium_tiered_price_1239_rule(year, threshold, over, amount, tier):
    """发改价格〔2021〕1239号: 分档标准 13650 (2022), 13450 (from 2023), 13300 (from 2025) kWh/t of
    铝液综合交流电耗; 0.01 元/kWh per started 20 kWh above it."""
    result = _al(year, threshold + over, indicator="molten_al_comprehensive_ac_power")
    assert (result.surcharge_yuan_per_kwh, result.tier, result.rule_id) == (
        amount,
        tier,
        "al_tiered_2022",
    )
    assert f"分档标准 {threshold}" in result.note


def test_aluminium_rules_by_year_and_indicator():
    with pytest.raises(NoRuleError, match="2013"):
        _al(2013, D(13000))  # before the tiered price
    with pytest.raises(NoRuleError):
        _al(2022, D(13000))  # from 2022 the rule is on 铝液综合交流电耗
    with pytest.raises(NoRuleError):
        _al(2021, D(13000), indicator="molten_al_comprehensive_ac_power")


CLINKER_LIMIT = D(117)  # GB 16780-2021 熟料 综合能耗 限定值


@pytest.mark.parametrize("region", ["340000", "610000"])
@pytest.mark.parametrize(
    ("value", "amount", "tier"),
    [
        (CLINKER_LIMIT, D(0), "within_limit"),
        (CLINKER_LIMIT + STEP, D("0.10"), "restricted"),
        (2 * CLINKER_LIMIT, D("0.10"), "restricted"),  # exactly 一倍 over: “一倍以内（含一倍）”
        (2 * CLINKER_LIMIT + STEP, D("0.30"), "eliminated"),  # “一倍以上”
    ],
)
def test_punitive_price_anhui_shaanxi(region, value, amount, tier):
    """Anhui 2010: “超过限额标准一倍以内（含一倍）的…每千瓦时加价0.10元”, “一倍以上的…0.30元”;
    Shaanxi 2010 the same amounts (boundary read as Anhui's)."""
    result = surcharge(
        surcharge_rules(region),
        year=2022,
        product="cement_clinker",
        indicator="comprehensive_energy",
        value=value,
        limit_lines=LINES,
    )
    assert (result.surcharge_yuan_per_kwh, result.tier) == (amount, tier)
    assert result.rule_id.startswith("punitive_")


@pytest.mark.parametrize(
    ("value", "amount", "tier"),
    [
        (CLINKER_LIMIT, D(0), "within_limit"),
        (CLINKER_LIMIT + STEP, D("0.05"), "under_50pct"),  # “超过限额50%以下的…0.05元”
        (D("175.4"), D("0.05"), "under_50pct"),
        (D("175.5"), D("0.1"), "50_to_100pct"),  # exactly 50 % over: “50%至100%”
        (D(234), D("0.1"), "50_to_100pct"),  # exactly 100 %
        (D("234.1"), D("0.3"), "over_100pct"),  # “超过限额标准一倍以上的…0.3元”
    ],
)
def test_punitive_price_guizhou(value, amount, tier):
    """Guizhou 2010 three-tier variant."""
    result = surcharge(
        surcharge_rules("520000"),
        year=2016,
        product="cement_clinker",
        indicator="comprehensive_energy",
        value=value,
        limit_lines=LINES,
    )
    assert (result.surcharge_yuan_per_kwh, result.tier) == (amount, tier)


def test_punitive_price_uses_the_limit_of_that_year_and_corrections():
    anhui = surcharge_rules("340000")
    # 2014: GB 21346-2013 铝液综合交流电耗 限定值 14050; the tiered rule is on another indicator
    r = _al(2014, D(14050), indicator="molten_al_comprehensive_ac_power", rules=anhui)
    assert (r.rule_id, r.tier) == ("punitive_anhui_2010", "within_limit")
    assert _al(2014, D("14050.1"), "molten_al_comprehensive_ac_power", anhui).tier == "restricted"
    # 2024: 铝液交流电耗 has no tiered price any more (1239号 is on 铝液综合交流电耗), so the
    # punitive price applies with the GB 21346-2022 限定值 13350
    assert _al(2024, D(13350), rules=anhui).tier == "within_limit"
    assert _al(2024, D("13350.1"), rules=anhui).tier == "restricted"
    assert (
        _al(2024, D(13350), "molten_al_comprehensive_ac_power", anhui).rule_id == "al_tiered_2022"
    )
    # the product-specific tiered price takes precedence over the every-product punitive rule
    assert _al(2014, D(20000), rules=anhui).rule_id == "al_tiered_2014"
    cement = dict(year=2022, product="cement", indicator="comprehensive_energy", limit_lines=LINES)
    with pytest.raises(GradingError, match="required"):
        surcharge(anhui, value=D(100), **cement)
    r = surcharge(anhui, value=D(100), corrections={"clinker_ratio_pct": D(80)}, **cement)
    assert r.tier == "within_limit"  # 限定值 94 + 5 × 1.20 = 100
    r = surcharge(anhui, value=D("100.1"), corrections={"clinker_ratio_pct": D(80)}, **cement)
    assert r.tier == "restricted"


def test_surcharge_errors():
    with pytest.raises(NoRuleError, match="no surcharge rule"):
        surcharge(
            NATIONAL,
            year=2022,
            product="cement_clinker",
            indicator="comprehensive_energy",
            value=D(1),
            limit_lines=LINES,
        )
    with pytest.raises(NoRuleError, match="several"):
        surcharge(
            surcharge_rules(),
            year=2022,
            product="cement_clinker",
            indicator="comprehensive_energy",
            value=D(1),
            limit_lines=LINES,
        )
    with pytest.raises(NoRuleError, match="no surcharge rule"):
        surcharge(
            surcharge_rules(),
            year=2009,
            product="cement_clinker",
            indicator="comprehensive_energy",
            value=D(1),
            limit_lines=LINES,
        )
    with pytest.raises(SurchargeError, match="multiple"):
        surcharge(
            surcharge_rules("340000"),
            year=2022,
            product="converter",
            indicator="energy",
            value=D(1),
            limit_lines=LINES,
        )


# --- key-unit designation --------------------------------------------------------------------


def _thresholds(region):
    (rule_set,) = designation_thresholds(region, dt.date(2024, 1, 1))
    return rule_set


@pytest.mark.parametrize(
    ("energy", "tier"),
    [
        (D("4999.99"), None),
        (D(5000), "designated"),  # “五千吨及以上不满一万吨标准煤”: may be designated
        (D("9999.99"), "designated"),
        (D(10000), "national"),  # “一万吨标准煤及以上”
        (D("10000.01"), "national"),
        (D(0), None),
    ],
)
def test_national_designation(energy, tier):
    """2018 重点用能单位节能管理办法 第二条 (节约能源法 第五十二条)."""
    result = designation_proposal(energy, _thresholds("national"))
    assert (result.key if result else None) == tier
    if result is not None:
        assert result.automatic is (tier == "national")


@pytest.mark.parametrize(
    ("energy", "tier"),
    [
        (D("999.99"), None),
        (D(1000), "city_county_managed"),
        (D("4999.99"), "city_county_managed"),
        (D(5000), "provincial"),  # “五千吨标准煤以上的用能单位为重点用能单位”
        (D(20000), "provincial"),
    ],
)
def test_zhejiang_designation(energy, tier):
    """浙江省实施《节约能源法》办法 第三十四条."""
    result = designation_proposal(energy, _thresholds("330000"))
    assert (result.key if result else None) == tier


def test_designation_thresholds_by_date_and_errors():
    assert designation_thresholds("national", dt.date(2018, 4, 30)) == []
    with pytest.raises(DesignationError):
        designation_proposal(D(-1), _thresholds("national"))
    with pytest.raises(DesignationError, match="overlap"):
        DesignationThresholds(
            "x",
            "national",
            "t",
            "s",
            None,
            None,
            (
                DesignationTier("a", "甲", D(5000), D(10001), False),
                DesignationTier("b", "乙", D(10000), None, True),
            ),
        )
