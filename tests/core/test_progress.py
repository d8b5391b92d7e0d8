"""Pace, progress and implied rates (shared/reference/02_progress_rules.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.progress import (
    PaceDefinition,
    ProgressDefinition,
    ProgressError,
    annual_rate_frac,
    cumulative_reduction_frac,
    increment_progress_frac,
    over_fulfilment_frac,
    progress,
    progress_frac,
    progress_linear_frac,
    progress_log_frac,
    remaining_annual_rate_frac,
    required_reduction_frac,
    time_pace_frac,
)


def test_fifteen_percent_over_five_years_is_3_2_percent_a_year():
    """02: annual average reduction 1 − (1 − R)^(1/5); 15 % → 3.2 % a year."""
    assert round(annual_rate_frac(0.15, 5) * 100, 1) == 3.2
    assert round(annual_rate_frac(0.15, 5), 6) == 0.031981


def test_fourteenth_fyp_13_5_percent_and_twelfth_fyp_16_percent():
    """13.5 % (14th FYP national target) → 2.86 %/yr; 16 % (12th FYP, 国发〔2011〕26号) → 3.43 %/yr."""
    assert round(annual_rate_frac(0.135, 5) * 100, 2) == 2.86
    assert round(annual_rate_frac(0.16, 5) * 100, 2) == 3.43


def test_twelfth_fyp_national_cumulative_figures():
    """01 S6: 1.034 (2010) → 0.869 (2015) tce/万元 at 2005 prices is "下降16%", and vs 1.276 (2005)
    "下降32%"; cumulative reduction composes: 1 − (1 − r1)(1 − r2)."""
    r_12th = 1 - 0.869 / 1.034
    r_11th = 1 - 1.034 / 1.276
    assert round(r_12th * 100) == 16
    assert round(cumulative_reduction_frac([r_11th, r_12th]) * 100) == 32
    assert cumulative_reduction_frac([r_11th, r_12th]) == pytest.approx(1 - 0.869 / 1.276)


def test_cumulative_reduction_of_five_annual_rates_is_the_target():
    assert cumulative_reduction_frac([annual_rate_frac(0.15, 5)] * 5) == pytest.approx(0.15)


def test_time_pace_2011_ndrc_rule():
    """2011 assessment rule (01, 02): 20 %, 40 %, 60 %, 80 %, 100 % of the target after 1…5 years."""
    assert [time_pace_frac(k, 5) for k in range(1, 6)] == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_required_reduction_linear_and_compound():
    """序时进度 after 2 of 5 years of a 16 % target: linear 6.4 %, compounded 1 − 0.84^0.4 = 6.74 %."""
    assert required_reduction_frac(0.16, 2, 5, PaceDefinition.LINEAR) == pytest.approx(0.064)
    assert round(required_reduction_frac(0.16, 2, 5, PaceDefinition.COMPOUND) * 100, 2) == 6.74
    assert required_reduction_frac(0.16, 5, 5, PaceDefinition.COMPOUND) == pytest.approx(0.16)


def test_beijing_11th_fyp_over_fulfilment():
    """NDRC/NBS 公告2011年第9号 (01): 北京 target 20 %, achieved 26.59 % → "超额32.95%"."""
    assert round(over_fulfilment_frac(0.2659, 0.20) * 100, 2) == 32.95
    assert progress_linear_frac(0.2659, 0.20) == pytest.approx(1.3295)


def test_progress_log_and_linear_definitions():
    """完成进度: log ln(1 − a)/ln(1 − R); linear a/R — both in official use (02)."""
    assert progress_log_frac(0.0566, 0.135) == pytest.approx(math.log(1 - 0.0566) / math.log(0.865))
    assert progress_linear_frac(0.0566, 0.135) == pytest.approx(0.0566 / 0.135)
    assert progress_frac(0.0566, 0.135, ProgressDefinition.LOG) == progress_log_frac(0.0566, 0.135)
    labelled = progress(0.0566, 0.135, ProgressDefinition.LINEAR)
    assert labelled.definition is ProgressDefinition.LINEAR
    assert labelled.formula == "progress = achieved_reduction / target_reduction"


def test_progress_on_the_compounded_path_is_the_time_pace():
    """Cutting 3.2 %/yr toward 15 % gives exactly 20 % log progress a year (and 21.3 % linear)."""
    one_year = annual_rate_frac(0.15, 5)
    assert progress_log_frac(one_year, 0.15) == pytest.approx(0.2)
    assert progress_linear_frac(one_year, 0.15) == pytest.approx(0.213208, abs=1e-6)


def test_progress_when_intensity_rose_is_negative():
    assert progress_log_frac(-0.02, 0.15) < 0
    assert progress_linear_frac(-0.02, 0.15) == pytest.approx(-0.02 / 0.15)


def test_progress_arrays():
    achieved = np.array([0.0, 0.05, np.nan, 0.15])
    result = progress_log_frac(achieved, 0.15)
    assert result[0] == 0 and np.isnan(result[2]) and result[3] == pytest.approx(1.0)


def test_remaining_annual_rate():
    """今后年均需降: 5.66 % achieved after 2 years of 13.5 % → 1 − (0.865/0.9434)^(1/3) = 2.85 %."""
    assert round(remaining_annual_rate_frac(0.135, 0.0566, 3) * 100, 2) == 2.85


def test_increment_progress_vs_time_pace():
    """增量 control (02): increment so far / five-year cap, compared with the time pace (40 % after 2)."""
    assert increment_progress_frac(1800, 5000) == pytest.approx(0.36)
    assert increment_progress_frac(1800, 5000) < time_pace_frac(2, 5)


@pytest.mark.parametrize("target", [0.0, 1.0, -0.1, 1.5])
def test_invalid_target(target):
    with pytest.raises(ProgressError):
        progress_log_frac(0.1, target)


def test_no_log_progress_at_or_beyond_100_percent():
    with pytest.raises(ProgressError):
        progress_log_frac(1.0, 0.15)
    with pytest.raises(ProgressError):
        annual_rate_frac(1.0, 5)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0.01, max_value=0.5),
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=0, max_value=10),
)
def test_each_definition_reads_its_own_pace_as_on_time(target, n, k):
    """Log progress of the compounded pace = k/n; linear progress of the linear pace = k/n."""
    k = min(k, n)
    compound = required_reduction_frac(target, k, n, PaceDefinition.COMPOUND)
    linear = required_reduction_frac(target, k, n, PaceDefinition.LINEAR)
    assert progress_log_frac(compound, target) == pytest.approx(k / n, abs=1e-12)
    assert progress_linear_frac(linear, target) == pytest.approx(k / n, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0.01, max_value=0.5), st.floats(min_value=0.001, max_value=0.999))
def test_log_progress_below_linear_until_target_met(target, share):
    """For 0 < achieved < target the log definition reports less progress than the linear one."""
    achieved = target * share
    assert progress_log_frac(achieved, target) < progress_linear_frac(achieved, target)
