"""Pure functions of the barometer: observations, forecasts, drill-down, tile grid."""

from __future__ import annotations

import csv
import math
import re
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.progress import PaceDefinition
from dualcontrol.targets import analysis as a

CJK = re.compile(r"[\u4e00-\u9fff（）：，。；]")


def fig(e, g=100.0, growth=None):
    return a.StatFigure(e, g, growth)


def test_yoy_intensity_change_at_comparable_prices():
    # energy +5 % while real GDP +10 %: intensity 1.05 / 1.10 − 1 = −4.545 %
    assert a.yoy_intensity_change_frac(fig(105, growth=0.10), fig(100)) == pytest.approx(
        1.05 / 1.10 - 1, abs=1e-15
    )
    assert a.yoy_intensity_change_frac(fig(110, growth=0.10), fig(100)) == pytest.approx(0)
    with pytest.raises(a.ObservationError, match="growth"):
        a.yoy_intensity_change_frac(fig(105), fig(100))


def series():
    s = a.StatSeries()
    s.annual[2010] = fig(100)
    s.annual[2011] = fig(104, growth=0.08)  # r = 1 − 1.04/1.08
    s.ytd[(2011, 6)] = fig(50)
    s.ytd[(2012, 6)] = fig(51, growth=0.07)  # r = 1 − 1.02/1.07
    return s


def test_actuals_cumulate_completed_years_and_the_current_months():
    act = a.actuals(series(), base_year=2010, year=2012, month=6)
    r11 = 1 - 1.04 / 1.08
    r12 = 1 - (51 / 50) / 1.07
    assert act.annual_reductions == ((2011, pytest.approx(r11)),)
    assert act.current_reduction_frac == pytest.approx(r12)
    assert act.cumulative_reduction_frac == pytest.approx(1 - (1 - r11) * (1 - r12))
    # this year's energy estimated from the months: E_2011 × 51/50
    assert act.energy_estimate_tce == pytest.approx(104 * 51 / 50)
    assert act.estimated and act.base_energy_tce == 100
    assert act.cumulative_before_frac == pytest.approx(r11)


def test_actuals_name_what_is_missing():
    with pytest.raises(a.ObservationError, match="2012-07, 2011-07"):
        a.actuals(series(), base_year=2010, year=2012, month=7)
    with pytest.raises(a.ObservationError, match="not after"):
        a.actuals(series(), base_year=2012, year=2012, month=6)


def test_december_uses_the_annual_row():
    s = series()
    s.annual[2012] = fig(106, growth=0.07)
    s.ytd[(2011, 12)] = fig(104)
    act = a.actuals(s, base_year=2010, year=2012, month=12)
    assert not act.estimated and act.energy_estimate_tce == 106


def act_at(year=2012, cumulative=0.05, current=0.03, before=()):
    return a.Actuals(
        base_year=2010,
        year=year,
        month=6,
        annual_reductions=tuple(before),
        current_reduction_frac=current,
        cumulative_reduction_frac=cumulative,
        metric="energy_intensity",
        base_value=0.5,
        value=0.5 * (1 - cumulative),
        base_amount=100,
        previous_amount=110,
        amount_estimate=115,
        ytd_amount=57,
        ytd_amount_previous=55,
        period_sum=110 + 115,
        annual_amounts=tuple((y, 100 + 10 * (y - 2010)) for y in range(2010, year)),
        annual_values=(),
        ytd_growth_frac=0.07,
        estimated=True,
    )


@pytest.mark.parametrize(
    ("pace", "expected"),
    [(PaceDefinition.LINEAR, 0.15 * 2 / 5), (PaceDefinition.COMPOUND, 1 - 0.85 ** (2 / 5))],
)
def test_intensity_requirement_against_the_pace(pace, expected):
    req = a.intensity_requirement(
        target_frac=0.15,
        period_kind="five_year",
        base_year=2010,
        end_year=2015,
        act=act_at(),
        compares_with="pace",
        pace=pace,
    )
    assert req.required == pytest.approx(expected)
    assert req.achieved == 0.05 and req.basis == "pace" and "2/5" in req.required_means


def test_intensity_requirement_against_the_annual_target():
    req = a.intensity_requirement(
        target_frac=0.15,
        period_kind="five_year",
        base_year=2010,
        end_year=2015,
        act=act_at(),
        compares_with="annual",
        pace=PaceDefinition.LINEAR,
    )
    # 15 % over five years → 3.2 % a year (shared/reference/02)
    assert req.required == pytest.approx(1 - 0.85 ** (1 / 5))
    assert round(req.required * 100, 1) == 3.2
    assert req.achieved == 0.03 and req.basis == "annual"
    yearly = a.intensity_requirement(
        target_frac=0.035,
        period_kind="year",
        base_year=2011,
        end_year=2012,
        act=act_at(),
        compares_with="pace",
        pace=PaceDefinition.LINEAR,
    )
    assert yearly.required == 0.035 and yearly.achieved == 0.03


def test_energy_requirements():
    inc = a.energy_requirement(
        indicator="energy_increment",
        cap_tce=50,
        period_kind="five_year",
        base_year=2010,
        end_year=2015,
        act=act_at(),
    )
    assert inc.required == pytest.approx(20) and inc.achieved == pytest.approx(15)
    total = a.energy_requirement(
        indicator="energy_total",
        cap_tce=150,
        period_kind="five_year",
        base_year=2010,
        end_year=2015,
        act=act_at(),
    )
    assert total.required == pytest.approx(100 + 50 * 2 / 5) and total.achieved == 115
    yearly = a.energy_requirement(
        indicator="energy_increment",
        cap_tce=3,
        period_kind="year",
        base_year=2011,
        end_year=2012,
        act=act_at(),
    )
    assert yearly.achieved == pytest.approx(5)


def test_required_year_reduction():
    req = a.Requirement("intensity_reduction", 0.06, 0.05, "pace", "", "")
    act = act_at(before=[(2011, 0.02)])
    # to be at 6 % cumulative after 2 % last year: 1 − 0.94 / 0.98
    assert a.required_year_reduction_frac(req, act) == pytest.approx(1 - 0.94 / 0.98)
    annual = a.Requirement("intensity_reduction", 0.032, 0.03, "annual", "", "")
    assert a.required_year_reduction_frac(annual, act) == 0.032


def test_forecast_continues_the_observed_rate():
    rates = [0.03, 0.03, 0.03]
    achieved = 1 - 0.97**3
    f = a.forecast_reduction(rates, achieved, end_year=2015, year=2013, month=12)
    assert f.central == pytest.approx(1 - 0.97**5)
    assert f.low < f.central < f.high
    assert f.years_left == 2 and f.observed_years == 3
    # fewer observations → the 1 pp prior → a wider interval
    g = a.forecast_reduction([0.03], 0.03, end_year=2015, year=2011, month=12)
    assert (g.high - g.low) > (f.high - f.low)
    # at the end of the period nothing is left to forecast but the unobserved months
    h = a.forecast_reduction(rates, achieved, end_year=2013, year=2013, month=12)
    assert h.low == pytest.approx(h.central) == pytest.approx(h.high)


def test_forecast_energy():
    f = a.forecast_energy([100, 105, 110.25], end_year=2015, year=2012, month=12)
    assert f.central == pytest.approx(100 * 1.05**5)
    assert f.low < f.central < f.high
    with pytest.raises(a.ObservationError):
        a.forecast_energy([100], end_year=2015, year=2011, month=6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-0.05, 0.08), min_size=1, max_size=5),
    st.integers(0, 4),
    st.integers(1, 12),
)
def test_forecast_interval_contains_the_centre(rates, left, month):
    achieved = 1 - math.prod(1 - r for r in rates)
    f = a.forecast_reduction(rates, achieved, end_year=2015 + left, year=2015, month=month)
    assert f.low <= f.central <= f.high


def test_unit_contributions_rank_by_excess():
    units = [
        a.UnitEnergy(1, "A", "X县", "30 水泥", current_tce=110, previous_tce=100),
        a.UnitEnergy(2, "B", "X县", "31 钢铁", current_tce=95, previous_tce=100),
        a.UnitEnergy(3, "C", "Y县", "30 水泥", current_tce=50, previous_tce=None),
    ]
    region_excess = a.region_excess_tce(1100, 1000, 0.05, 0.03)
    assert region_excess == pytest.approx(1100 - 1000 * 1.05 * 0.97)
    out = a.unit_contributions(
        units, growth_frac=0.05, year_reduction_frac=0.03, region_excess=region_excess
    )
    assert [c.key for c in out] == [1, 2]  # C cannot be compared
    allowed = 100 * 1.05 * 0.97
    assert out[0].allowed_tce == pytest.approx(allowed)
    assert out[0].excess_tce == pytest.approx(110 - allowed)
    assert out[0].share_of_gap_frac == pytest.approx((110 - allowed) / region_excess)
    assert out[1].growth_frac == pytest.approx(-0.05)
    by_sector = a.group_contributions(
        out, lambda c: ((c.name == "A" and "30") or "31", "s"), region_excess=region_excess
    )
    assert sum(g.excess_tce for g in by_sector) == pytest.approx(sum(c.excess_tce for c in out))


def _prefectures():
    text = (
        resources.files("dualcontrol.reference.data").joinpath("divisions_530000.csv").read_text()
    )
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [
        (r["name"], float(r["longitude"]), float(r["latitude"]))
        for r in rows
        if r["level"] == "prefecture"
    ]


def test_tile_grid_places_yunnan_roughly_geographically():
    placed, rows, cols = a.tile_grid(_prefectures())
    assert len(placed) == 16 and len(set(placed.values())) == 16
    assert (rows, cols) == (6, 5)
    assert placed["迪庆藏族自治州"][0] == 0  # the far north-west sits in the top row
    assert placed["西双版纳傣族自治州"][0] == rows - 1  # the far south at the bottom
    assert (
        placed["怒江傈僳族自治州"][1] == 0 and placed["德宏傣族景颇族自治州"][1] == 0
    )  # west edge
    assert placed["文山壮族苗族自治州"][1] == cols - 1  # east edge
    assert placed["昆明市"][1] > placed["大理白族自治州"][1]  # Kunming east of Dali


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(70, 135), st.floats(15, 55) | st.none()), min_size=1, max_size=30)
)
def test_tile_grid_never_puts_two_regions_on_one_square(points):
    pts = [(i, lon, lat) for i, (lon, lat) in enumerate(points)]
    placed, rows, cols = a.tile_grid(pts)
    assert len(placed) == len(pts)
    assert len(set(placed.values())) == len(pts)
    assert all(0 <= r < rows and 0 <= c < cols for r, c in placed.values())


# ---------------------------------------------------------------------------------------------
# labels in the active language


def test_requirements_keep_what_required_means_as_data():
    act = act_at(year=2027, cumulative=0.05, current=0.02, before=[(2026, 0.03)])
    req = a.intensity_requirement(
        target_frac=0.15,
        period_kind="five_year",
        base_year=2025,
        end_year=2030,
        act=act,
        compares_with="pace",
        pace=PaceDefinition.COMPOUND,
    )
    assert req.means == {"kind": "pace", "pace": "compound", "k": 2, "n": 5}
    assert req.required_means == a.required_means_label(req.means) == "序时进度（复合，2/5年）"
    assert a.required_means_label({"kind": "annual_of_five_year", "n": 5}) == (
        "年度目标（五年目标折算年均降低率，5年）"
    )
    assert a.required_means_label({"kind": "increment_pace", "k": 1, "n": 5}) == (
        "增量控制进度（时间进度 1/5）"
    )


def test_required_means_in_english():
    """Needs the English catalogue with locale/en/LC_MESSAGES/additions-labels.po merged."""
    from django.utils import translation

    with translation.override("en"):
        labels = [
            a.required_means_label({"kind": "pace", "pace": "linear", "k": 2, "n": 5}),
            a.required_means_label({"kind": "total_pace", "k": 1, "n": 5}),
            a.required_means_label({"kind": "increment_annual"}),
        ]
    assert labels[0] == "pace (linear, 2/5 years)"
    assert not any(CJK.search(label) for label in labels), labels
