"""Region-level accounting (dualcontrol.core.regional; shared/reference/02)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.progress import ProgressDefinition
from dualcontrol.core.regional import (
    RateBasis,
    ReductionTarget,
    RegionalAdjustment,
    RegionalDataError,
    RegionalRules,
    comparable_gdp,
    compare_with_sum_of_parts,
    regional_indicators,
    rollup_divisions,
)
from dualcontrol.reference.accounting import regional_rules


def series(rows, **extra):
    frame = pd.DataFrame(
        rows, columns=["region", "year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_frac"]
    )
    for k, v in extra.items():
        frame[k] = v
    return frame


SAMPLE = series(
    [
        ("甲", 2020, 10000.0, 5000.0, np.nan),
        ("甲", 2021, 10200.0, 5600.0, 0.06),
        ("甲", 2022, 10300.0, 6000.0, 0.03),
        ("乙", 2020, 8000.0, 4000.0, np.nan),
        ("乙", 2021, 8100.0, 4300.0, 0.05),
        ("乙", 2022, 8000.0, 4500.0, 0.04),
    ]
)


def row(result, region, year):
    f = result.frame
    return f[(f["region"] == region) & (f["year"] == year)].iloc[0]


def test_gdp_at_comparable_prices_uses_real_growth_not_nominal_gdp():
    """02: intensity uses GDP at the prices of a base year, chained by real growth indices."""
    gdp = comparable_gdp(SAMPLE, 2020)
    assert gdp.tolist() == pytest.approx([5000, 5300, 5459, 4000, 4200, 4368])
    back = comparable_gdp(SAMPLE, 2022)  # at 2022 prices: deflate earlier years
    assert back.iloc[0] == pytest.approx(6000 / 1.06 / 1.03)


def test_intensity_change_worked_example():
    """甲 2021: energy +2 %, real GDP +6 % → intensity (10200/5300)/(10000/5000) − 1 = −3.7736 %."""
    result = regional_indicators(SAMPLE, base_year=2020)
    r = row(result, "甲", 2021)
    assert r["intensity_tce_per_10k_yuan"] == pytest.approx(10200 / 5300)
    assert r["intensity_change_frac"] == pytest.approx(1.02 / 1.06 - 1)
    assert round(r["intensity_change_frac"] * 100, 2) == -3.77
    assert r["energy_growth_frac"] == pytest.approx(0.02)
    assert math.isnan(row(result, "甲", 2020)["intensity_change_frac"])


def test_cumulative_change_and_progress_toward_target():
    """甲 2022 vs 2020: (10300/5459)/(2) − 1 = −5.66 %; progress toward 13.5 % by 2025:
    log ln(1 − 0.0566)/ln(0.865) = 40.2 %, linear 0.0566/0.135 = 41.9 % — each labelled."""
    target = ReductionTarget(0.135, 2020, 2025)
    log = regional_indicators(SAMPLE, base_year=2020, target=target)
    r = row(log, "甲", 2022)
    cumulative = (10300 / 5459) / 2 - 1
    assert r["cumulative_intensity_change_frac"] == pytest.approx(cumulative)
    assert r["progress_frac"] == pytest.approx(math.log(1 + cumulative) / math.log(0.865))
    assert r["progress_definition"] == "log"
    assert round(r["progress_frac"] * 100, 2) == 40.18
    linear = regional_indicators(
        SAMPLE, base_year=2020, target=target, progress_definition=ProgressDefinition.LINEAR
    )
    r = row(linear, "甲", 2022)
    assert r["progress_frac"] == pytest.approx(-cumulative / 0.135)
    assert r["progress_definition"] == "linear"
    assert r["required_reduction_linear_frac"] == pytest.approx(0.135 * 2 / 5)
    assert r["required_reduction_compound_frac"] == pytest.approx(1 - 0.865**0.4)
    assert "ln(1 − achieved_reduction)" in log.provenance["progress_frac"].formula


def test_twelfth_fyp_national_intensity():
    """01 S6: 1.034 (2010) → 0.869 (2015) tce/万元 at 2005 prices, "下降16%"."""
    frame = series(
        [("全国", 2010, 1.034, 1.0, np.nan), ("全国", 2011, 0.869, 1.0, 0.0)]
    )  # GDP normalised so that the intensities are the published ones
    result = regional_indicators(frame, base_year=2010, target=ReductionTarget(0.16, 2010, 2011))
    r = row(result, "全国", 2011)
    assert round(-r["cumulative_intensity_change_frac"] * 100) == 16
    assert r["progress_frac"] == pytest.approx(math.log(0.869 / 1.034) / math.log(0.84))


def test_intensity_changes_do_not_depend_on_the_base_year():
    a = regional_indicators(SAMPLE, base_year=2020).frame
    b = regional_indicators(SAMPLE, base_year=2022, start_year=2020).frame
    for col in ("intensity_change_frac", "cumulative_intensity_change_frac"):
        assert np.allclose(a[col], b[col], equal_nan=True)
    assert not np.allclose(a["intensity_tce_per_10k_yuan"], b["intensity_tce_per_10k_yuan"])


def test_fourteenth_fyp_deductions_follow_the_rules():
    """New renewable electricity is out of the total only (2022-11-16 notice); feedstock out of
    both the total and the intensity (发改环资〔2022〕803号) — the default rules of
    accounting_rules.yaml."""
    frame = SAMPLE.assign(renewable_new_tce=[0, 100, 200, 0, 0, 0], feedstock_tce=500.0)
    result = regional_indicators(frame, base_year=2020, rules=regional_rules())
    r = row(result, "甲", 2022)
    assert r["energy_assessed_tce"] == 10300 - 200 - 500
    assert r["energy_for_intensity_tce"] == 10300 - 500
    assert r["energy_increment_tce"] == (10300 - 700) - (10000 - 500)
    assert any("原料用能" in n for n in result.provenance["energy_assessed_tce"].notes)
    both = RegionalRules(
        version="test",
        adjustments=(RegionalAdjustment("feedstock_tce", "原料用能", ("total", "intensity")),),
    )
    r = row(regional_indicators(frame, base_year=2020, rules=both), "甲", 2022)
    assert r["intensity_tce_per_10k_yuan"] == pytest.approx((10300 - 500) / 5459)


def test_co2_intensity():
    frame = SAMPLE.assign(co2_t=[20000.0, 20100.0, 20000.0, 16000.0, 16000.0, 15000.0])
    result = regional_indicators(frame, base_year=2020)
    r = row(result, "乙", 2022)
    assert r["co2_intensity_t_per_10k_yuan"] == pytest.approx(15000 / 4368)
    assert r["cumulative_co2_intensity_change_frac"] == pytest.approx((15000 / 4368) / 4 - 1)


# --- rate basis: rates from intensities rounded to 4 decimals (accounting_rules.yaml rate_basis) ------

# intensities 1.30004 → 1.25205 print as 1.3000 → 1.2521; energy and CO2 given the same figures
PRINTED = series(
    [("甲", 2020, 13000.4, 10000.0, np.nan), ("甲", 2021, 12520.5, 10000.0, 0.0)],
    co2_t=[13000.4, 12520.5],
)
UNROUNDED = RegionalRules(version="test", rate_basis=RateBasis("unrounded"))
ROUNDED = RegionalRules(version="test", rate_basis=RateBasis("rounded_intensity", 4))


def test_rates_from_the_printed_intensities():
    """NBS practice (platform rule, accounting_rules.yaml): 1.3000 → 1.2521 is 1.2521/1.3000 − 1 =
    −3.68 %, so the printed rate agrees with the printed intensities; the unrounded rule gives −3.69 %."""
    r = row(regional_indicators(PRINTED, base_year=2020, rules=ROUNDED), "甲", 2021)
    assert r["intensity_change_frac"] == pytest.approx(1.2521 / 1.3 - 1, rel=1e-12)
    assert round(r["intensity_change_frac"] * 100, 2) == -3.68
    assert round(r["cumulative_intensity_change_frac"] * 100, 2) == -3.68
    assert round(r["co2_intensity_change_frac"] * 100, 2) == -3.68
    assert round(r["cumulative_co2_intensity_change_frac"] * 100, 2) == -3.68
    assert r["intensity_tce_per_10k_yuan"] == pytest.approx(
        1.25205
    )  # the level keeps full precision
    u = row(regional_indicators(PRINTED, base_year=2020, rules=UNROUNDED), "甲", 2021)
    assert u["intensity_change_frac"] == pytest.approx(12520.5 / 13000.4 - 1)
    assert round(u["intensity_change_frac"] * 100, 2) == -3.69
    assert round(u["co2_intensity_change_frac"] * 100, 2) == -3.69


def test_the_platform_rule_is_rounded_intensity_and_the_provenance_says_which_rule():
    rules = regional_rules()
    assert rules.rate_basis.rule == "rounded_intensity"
    assert rules.rate_basis.intensity_places == 4
    assert "platform rule" in rules.rate_basis.source
    result = regional_indicators(
        PRINTED,
        base_year=2020,
        rules=rules,
        target=ReductionTarget(0.135, 2020, 2025),
        co2_target=ReductionTarget(0.18, 2020, 2025),
    )
    assert round(row(result, "甲", 2021)["intensity_change_frac"] * 100, 2) == -3.68
    assert result.rate_basis == rules.rate_basis
    for figure in (
        "intensity_change_frac",
        "cumulative_intensity_change_frac",
        "co2_intensity_change_frac",
        "cumulative_co2_intensity_change_frac",
        "progress_frac",
        "co2_progress_frac",
    ):
        assert "rate basis rounded_intensity" in result.provenance[figure].rule, figure
    assert result.provenance["intensity_change_frac"].formula == (
        "round(intensity[t], 4) / round(intensity[t−1], 4) − 1"
    )
    assert "rate basis" not in result.provenance["intensity_tce_per_10k_yuan"].rule
    plain = regional_indicators(PRINTED, base_year=2020, rules=UNROUNDED)
    assert "rate basis unrounded" in plain.provenance["intensity_change_frac"].rule
    assert plain.provenance["intensity_change_frac"].formula == "intensity[t] / intensity[t−1] − 1"


def test_without_rules_rates_use_the_unrounded_intensities():
    """No rules given (e.g. a direct call of the core): exact arithmetic, as before the rule existed."""
    result = regional_indicators(PRINTED, base_year=2020)
    assert result.rate_basis.rule == "unrounded"
    assert round(row(result, "甲", 2021)["intensity_change_frac"] * 100, 2) == -3.69


def test_rounding_is_half_up():
    basis = RateBasis("rounded_intensity", 4)
    values = np.array([1.25205, 1.886799999999, 2.00004999, 0.0])
    assert basis.apply(values).tolist() == [1.2521, 1.8868, 2.0, 0.0]
    with pytest.raises(RegionalDataError, match="rate basis"):
        RateBasis("truncated")


def test_co2_target_progress():
    """CO2-intensity progress toward 18 % by 2025, log definition, from the rounded intensities."""
    frame = SAMPLE.assign(co2_t=[20000.0, 20100.0, 20000.0, 16000.0, 16000.0, 15000.0])
    result = regional_indicators(
        frame, base_year=2020, co2_target=ReductionTarget(0.18, 2020, 2025), rules=ROUNDED
    )
    r = row(result, "乙", 2022)
    achieved = 1 - round(15000 / 4368, 4) / 4
    assert r["co2_achieved_reduction_frac"] == pytest.approx(achieved)
    assert r["co2_progress_frac"] == pytest.approx(math.log(1 - achieved) / math.log(0.82))
    assert math.isnan(r["progress_frac"])  # no energy target
    assert "co2_achieved_reduction" in result.provenance["co2_progress_frac"].formula
    assert "碳排放强度" in result.provenance["co2_progress_frac"].rule
    with pytest.raises(RegionalDataError, match="start in the same year"):
        regional_indicators(
            frame,
            base_year=2020,
            target=ReductionTarget(0.135, 2020, 2025),
            co2_target=ReductionTarget(0.18, 2021, 2025),
        )


def test_regions_keep_their_input_order():
    assert list(dict.fromkeys(regional_indicators(SAMPLE, base_year=2020).frame["region"])) == [
        "甲",
        "乙",
    ]


def test_explain_gives_the_inputs_of_one_figure():
    result = regional_indicators(SAMPLE, base_year=2020)
    prov = result.explain("甲", 2021, "intensity_tce_per_10k_yuan")
    inputs = dict(prov.inputs)
    assert inputs["energy_for_intensity_tce"] == "10200.0"
    assert inputs["gdp_comparable_10k_yuan"] == repr(5300.0)
    assert prov.formula == "energy_for_intensity_tce / gdp_comparable_10k_yuan"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns="gdp_10k_yuan"), "missing column"),
        (
            lambda f: f.assign(energy_tce=[1, 2, -3, 4, 5, 6]),
            "row 2 .*energy_tce must not be negative",
        ),
        (lambda f: f.drop(index=1), "row 2 .*year 2022 follows 2020"),
        (
            lambda f: f.assign(gdp_real_growth_frac=[np.nan, np.nan, 0.1, np.nan, 0.1, 0.1]),
            "row 1 .*empty",
        ),
        (lambda f: f.assign(year=[2020, 2020, 2022, 2020, 2021, 2022]), "appear twice"),
        (lambda f: f.assign(gdp_10k_yuan=[1, 1, 0, 1, 1, 1]), "row 2 .*must be positive"),
        (lambda f: f.assign(energy_tce=["x", 1, 1, 1, 1, 1]), "row 0: energy_tce is not a number"),
    ],
)
def test_bad_input_names_the_row(mutate, message):
    with pytest.raises(RegionalDataError, match=message):
        regional_indicators(mutate(SAMPLE.copy()), base_year=2020)


def test_base_year_must_be_in_every_series():
    with pytest.raises(RegionalDataError, match="base year 2019"):
        regional_indicators(SAMPLE, base_year=2019)


# --- regional totals are the sum of their parts ------------------------------------------------

county_codes = st.builds(
    lambda p, c, x: f"{p:02d}{c:02d}{x:02d}",
    st.sampled_from([11, 44, 65]),
    st.integers(1, 5),
    st.integers(1, 9),
)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(county_codes, st.floats(0, 1e7, allow_nan=False), st.floats(0, 1e7)),
        min_size=1,
        max_size=60,
    )
)
def test_rollup_totals_equal_the_sum_of_parts(parts):
    frame = pd.DataFrame(parts, columns=["division_code", "energy_tce", "co2_t"])
    result = rollup_divisions(
        frame, code_column="division_code", value_columns=["energy_tce", "co2_t"]
    )
    for level in ("county", "city", "province"):
        sums = result[result["level"] == level][["energy_tce", "co2_t"]].sum()
        assert sums["energy_tce"] == pytest.approx(frame["energy_tce"].sum(), rel=1e-9, abs=1e-6)
        assert sums["co2_t"] == pytest.approx(frame["co2_t"].sum(), rel=1e-9, abs=1e-6)
    provinces = result[result["level"] == "province"]
    for code, group in frame.groupby(frame["division_code"].str[:2]):
        total = provinces.loc[provinces["division_code"] == int(code) * 10000, "energy_tce"].item()
        assert total == pytest.approx(group["energy_tce"].sum(), rel=1e-9, abs=1e-6)


def test_official_figure_vs_sum_of_parts():
    """Regional figures are the bureau's; the sum of key units is only a check (gap shown)."""
    official = pd.DataFrame({"region": ["甲"], "energy_tce": [1000.0]})
    parts = pd.DataFrame({"region": ["甲", "甲"], "energy_tce": [600.0, 300.0]})
    result = compare_with_sum_of_parts(official, parts, keys=["region"], value="energy_tce")
    assert result.loc[0, "gap"] == 100 and result.loc[0, "gap_frac"] == pytest.approx(0.1)
