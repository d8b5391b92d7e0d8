"""Tracking the pollutant and other plan indicators (dualcontrol.core.tracking, core.catalogue).

* a reduction of a column metric (排放总量减少 R %): the year-on-year changes compounded,
  1 − Π(A_s/A_{s−1}) = 1 − A_Y/A_b; pace and progress as for the intensity reductions
  (shared/reference/02: compounded pace with logarithmic progress; linear with linear);
* an intensity over another denominator (万元工业增加值用水量): the numerator over industrial value
  added at the base year's comparable prices, deflated with the value added's own real growth —
  ``X_10k_yuan`` is deflated with ``X_real_growth_pct`` (platform rule, as the NBS deflates GDP);
* a reduction of a ratio of two statistics (公共机构人均综合能耗下降 10 %, 青海省“十三五”方案).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from dualcontrol.core.catalogue import CatalogueError, growth_column, validate_catalogue
from dualcontrol.core.tracking import (
    ObservationError,
    StatFigure,
    StatSeries,
    actuals,
    progress,
    requirement,
)
from dualcontrol.core.warning import INDICATORS
from dualcontrol.reference.catalogue import catalogue

CAT = catalogue()


def fig(gdp_growth: float | None = 0.05, **values: float) -> StatFigure:
    return StatFigure(energy_tce=1.0, gdp_10k_yuan=1.0, growth_frac=gdp_growth, values=values)


def test_a_pollutant_reduction_compounds_the_yearly_changes():
    """COD 1000 t (2025) → 970 t (2026) → 950 t (2027): achieved 1 − 950/1000 = 5 %."""
    ind = CAT.indicator("cod_reduction")
    series = StatSeries(
        annual={2025: fig(cod_t=1000.0), 2026: fig(cod_t=970.0), 2027: fig(cod_t=950.0)}
    )
    a26 = actuals(series, ind.metric, base_year=2025, year=2026, month=12)
    assert a26.cumulative_reduction_frac == pytest.approx(0.03)
    assert not a26.estimated and a26.value == 970.0
    a27 = actuals(series, ind.metric, base_year=2025, year=2027, month=12)
    assert a27.annual_reductions == ((2026, pytest.approx(0.03)),)
    assert a27.current_reduction_frac == pytest.approx(1 - 950 / 970)
    assert a27.cumulative_reduction_frac == pytest.approx(0.05)
    # −8 % over 2025–2030: pace after one year 1 − 0.92^(1/5) (compounded, the default)
    req = requirement(ind, a26, target=0.08, period_kind="five_year", base_year=2025, end_year=2030)
    assert req.indicator == "reduction" and req.basis == "pace"
    assert req.required == pytest.approx(1 - 0.92**0.2)
    assert req.achieved == pytest.approx(0.03)
    linear = requirement(
        ind, a27, target=0.08, period_kind="five_year", base_year=2025, end_year=2030, pace="linear"
    )
    assert linear.required == pytest.approx(0.08 * 2 / 5)
    # progress: logarithmic by default, linear on request
    log = progress(ind, a26, target=0.08)
    assert (log.definition, log.value_frac) == (
        "log",
        pytest.approx(math.log(0.97) / math.log(0.92)),
    )
    lin = progress(ind, a26, target=0.08, definition="linear")
    assert lin.value_frac == pytest.approx(0.375)


def test_a_pollutant_reduction_during_the_year_uses_the_same_months():
    """January…June 2026 490 t against 500 t a year before: this year's cut 2 %; the year
    estimated at 1000 × 490/500 = 980 t."""
    ind = CAT.indicator("nox_reduction")
    series = StatSeries(
        annual={2025: fig(nox_t=1000.0)},
        ytd={(2025, 6): fig(nox_t=500.0), (2026, 6): fig(nox_t=490.0)},
    )
    act = actuals(series, ind.metric, base_year=2025, year=2026, month=6)
    assert act.estimated
    assert act.current_reduction_frac == pytest.approx(0.02)
    assert act.cumulative_reduction_frac == pytest.approx(0.02)
    assert act.amount_estimate == pytest.approx(980.0)
    # the annual requirement of a five-year target (rule sets comparing with the year's share)
    req = requirement(
        ind,
        act,
        target=0.10,
        period_kind="five_year",
        base_year=2025,
        end_year=2030,
        compares_with="annual",
    )
    assert req.basis == "annual" and req.required == pytest.approx(1 - 0.9**0.2)
    assert req.achieved == pytest.approx(0.02)


def test_a_pollutant_reduction_without_the_months_says_what_is_missing():
    ind = CAT.indicator("vocs_reduction")
    series = StatSeries(annual={2025: fig(vocs_t=1000.0)}, ytd={(2026, 6): fig(vocs_t=490.0)})
    with pytest.raises(ObservationError, match="2025-06"):
        actuals(series, ind.metric, base_year=2025, year=2026, month=6)
    series = StatSeries(annual={2025: fig(), 2026: fig(vocs_t=9.0)})
    with pytest.raises(ObservationError, match="vocs_t missing for 2026"):
        actuals(series, ind.metric, base_year=2025, year=2026, month=12)


def test_water_per_industrial_value_added_is_deflated_with_its_own_growth():
    """23亿m³ over 8000亿元 = 28.75 m³/万元 (2025); 2026 water −2 %, value added +7 % real
    (+8 % at current prices), GDP +5 %: the intensity falls 1 − 0.98/1.07, not 1 − 0.98/1.05."""
    ind = CAT.indicator("industrial_water_intensity")
    metric = ind.metric
    assert metric.inputs == (
        "water_industrial_m3",
        "industry_value_added_10k_yuan",
        "industry_value_added_real_growth_pct",
    )
    y25 = fig(
        water_industrial_m3=2.3e9,
        industry_value_added_10k_yuan=8.0e7,
        industry_value_added_real_growth_pct=6.0,
    )
    y26 = fig(
        water_industrial_m3=2.3e9 * 0.98,
        industry_value_added_10k_yuan=8.0e7 * 1.08,
        industry_value_added_real_growth_pct=7.0,
    )
    act = actuals(
        StatSeries(annual={2025: y25, 2026: y26}), metric, base_year=2025, year=2026, month=12
    )
    assert act.base_value == pytest.approx(28.75)
    assert act.current_reduction_frac == pytest.approx(1 - 0.98 / 1.07)
    assert act.value == pytest.approx(28.75 * 0.98 / 1.07)
    assert act.ytd_growth_frac == pytest.approx(0.07)
    # a level target of 24.15 m³/万元 (−16 %) in 2030: the straight path after one year
    req = requirement(
        ind, act, target=24.15, period_kind="five_year", base_year=2025, end_year=2030
    )
    assert req.indicator == "cap" and req.basis == "cap"
    assert req.required == pytest.approx(28.75 + (24.15 - 28.75) / 5)
    assert progress(ind, act, target=24.15).value_frac == pytest.approx(
        (act.value - 28.75) / (24.15 - 28.75)
    )
    # without the value added's growth the reduction is not computed from GDP's
    no_growth = fig(water_industrial_m3=2.3e9 * 0.98, industry_value_added_10k_yuan=8.0e7 * 1.08)
    with pytest.raises(ObservationError, match="industry_value_added_real_growth_pct"):
        actuals(
            StatSeries(annual={2025: y25, 2026: no_growth}),
            metric,
            base_year=2025,
            year=2026,
            month=12,
        )


def test_energy_intensity_still_divides_by_gdp():
    metric = CAT.metrics["energy_intensity"]
    assert metric.inputs == ("energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct")
    series = StatSeries(
        annual={
            2025: StatFigure(100.0, 50.0, 0.05),
            2026: StatFigure(102.0, 55.0, 0.05),
        }
    )
    act = actuals(series, metric, base_year=2025, year=2026, month=12)
    assert act.base_value == 2.0
    assert act.current_reduction_frac == pytest.approx(1 - 1.02 / 1.05)


def test_public_institution_energy_per_person_reduction():
    """1000 tce for 2000 persons (0.5 tce) → 970 tce for 2020 persons: −3.96 %."""
    ind = CAT.indicator("public_energy_per_person")
    series = StatSeries(
        annual={
            2025: fig(public_energy_tce=1000.0, public_staff_persons=2000.0),
            2026: fig(public_energy_tce=970.0, public_staff_persons=2020.0),
        }
    )
    act = actuals(series, ind.metric, base_year=2025, year=2026, month=12)
    assert act.cumulative_reduction_frac == pytest.approx(1 - (970 / 2020) / 0.5)
    assert act.base_value == 0.5 and act.value == pytest.approx(970 / 2020)
    req = requirement(ind, act, target=0.10, period_kind="five_year", base_year=2025, end_year=2030)
    assert req.required == pytest.approx(1 - 0.9**0.2)


def test_the_growth_column_of_a_denominator():
    assert growth_column("gdp_10k_yuan") == "gdp_real_growth_pct"
    assert growth_column("industry_value_added_10k_yuan") == "industry_value_added_real_growth_pct"
    with pytest.raises(CatalogueError, match="10k yuan"):
        growth_column("water_10k_m3")


def _with_metric(**changes: str):
    metric = dataclasses.replace(CAT.metrics["industrial_water_intensity"], **changes)
    return dataclasses.replace(CAT, metrics={**CAT.metrics, metric.code: metric})


def test_the_catalogue_refuses_an_intensity_it_cannot_deflate():
    rating = frozenset(INDICATORS)
    validate_catalogue(CAT, rating_classes=rating)
    with pytest.raises(CatalogueError, match=r"industrial_water_intensity.*10k yuan"):
        validate_catalogue(_with_metric(denominator="public_staff_persons"), rating_classes=rating)
    no_growth = dataclasses.replace(
        CAT,
        statistics={
            k: v for k, v in CAT.statistics.items() if k != "industry_value_added_real_growth_pct"
        },
    )
    with pytest.raises(CatalogueError, match="industry_value_added_real_growth_pct"):
        validate_catalogue(no_growth, rating_classes=rating)


def test_the_new_indicators_and_their_units():
    for code in (
        "vocs_total",
        "cod_reduction",
        "nh3n_reduction",
        "so2_reduction",
        "nox_reduction",
        "vocs_reduction",
        "cod_project_reduction",
        "nh3n_project_reduction",
        "nox_project_reduction",
        "vocs_project_reduction",
        "water_total",
        "industrial_water_intensity",
        "public_energy_total",
        "public_energy_per_person",
        "public_energy_per_area",
        "public_water_per_person",
        "green_building_share",
        "nev_share",
    ):
        ind = CAT.indicator(code)
        assert ind.source and len(ind.barometer_id) <= 32
        assert ind.metric.unit in CAT.units and len(ind.warning_unit) <= 8  # WarningRecord.unit
    assert CAT.indicator("cod_project_reduction").metric.column == "cod_project_reduction_t"
    for pollutant in ("cod", "nh3n", "nox", "vocs"):
        assert f"{pollutant}_project_reduction_t" in CAT.statistics
    assert CAT.units["m310ky"].label_zh == "m³/万元"


def test_a_peak_year_says_what_the_data_show():
    """Peak declared for 2030: not due in 2026; the data's highest year is 2025 (2026 lower)."""
    from dualcontrol.core.tracking import StatFigure, StatSeries, actuals, progress
    from dualcontrol.reference.catalogue import indicator

    ind = indicator("co2_peak_year")

    def fig(co2: float) -> StatFigure:
        return StatFigure(energy_tce=1.0, gdp_10k_yuan=1.0, growth_frac=0.05, values={"co2_t": co2})

    s = StatSeries(
        annual={2024: fig(98.0), 2025: fig(100.0)}, ytd={(2025, 6): fig(50.0), (2026, 6): fig(49.0)}
    )
    act = actuals(s, ind.metric, base_year=2024, year=2026, month=6)
    p = progress(ind, act, target=2030)
    assert p.status == "not_due" and p.observed_peak_year == 2025
    rising = StatSeries(
        annual={2024: fig(98.0), 2025: fig(100.0)}, ytd={(2025, 6): fig(50.0), (2026, 6): fig(52.0)}
    )
    act = actuals(rising, ind.metric, base_year=2024, year=2026, month=6)
    assert progress(ind, act, target=2030).observed_peak_year is None
