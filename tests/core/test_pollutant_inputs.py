"""Pollutant names and emission rows of input files; changes with gaps, caps, zero emissions
(dualcontrol.core.pollutants)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.pollutants import (
    PollutantDataError,
    PollutantRowsError,
    normalise_name,
    pollutant_aliases,
    pollutant_changes,
    read_emission_rows,
)
from dualcontrol.core.progress import ProgressDefinition
from dualcontrol.reference.hj212 import hj212_tables
from dualcontrol.reference.pollutants import pollutants

POLLUTANTS = pollutants()
ALIASES = pollutant_aliases(POLLUTANTS, legacy_codes=hj212_tables().legacy_codes)


def test_every_name_of_the_five_pollutants():
    """Platform code, HJ 212-2017 code, HJ/T 212-2005 code (shared/reference/08: 011→w01018,
    060→w21003), Chinese name and the abbreviation; VOCs has no HJ 212 code (NOT FOUND)."""
    expected = {
        "cod": {"cod", "w01018", "011", "化学需氧量"},
        "nh3n": {"nh3n", "w21003", "060", "氨氮"},
        "so2": {"so2", "a21026", "02", "二氧化硫"},
        "nox": {"nox", "a21002", "03", "氮氧化物"},
        "vocs": {"vocs", "挥发性有机物"},
    }
    for code, names in expected.items():
        assert {k for k, v in ALIASES.items() if v == code} == names
    assert normalise_name(" NH3-N ") == normalise_name("ｎｈ３＿ｎ") == "nh3n"


def test_a_name_that_would_mean_two_pollutants_is_refused():
    with pytest.raises(PollutantDataError, match="names both"):
        pollutant_aliases(POLLUTANTS, legacy_codes={"cod": "w21003"})


def test_rows_are_read_into_platform_codes():
    frame = read_emission_rows(
        [
            (2, {"region": "甲", "year": "2020", "pollutant": "COD", "emissions_t": "1,000.5"}),
            (3, {"region": "甲", "year": "2021", "pollutant": "w01018", "emissions_t": "990"}),
        ],
        ALIASES,
        base_year=2020,
    )
    assert frame.to_dict("records") == [
        {"row": 2, "region": "甲", "year": 2020, "pollutant": "cod", "emission_t": 1000.5},
        {"row": 3, "region": "甲", "year": 2021, "pollutant": "cod", "emission_t": 990.0},
    ]


def test_every_problem_is_listed_with_its_line():
    with pytest.raises(PollutantRowsError) as exc:
        read_emission_rows(
            [
                (2, {"region": "", "year": "1900", "pollutant": "x", "emissions_t": "nan"}),
                (3, {"region": "甲", "year": "2021", "pollutant": "cod", "emissions_t": "inf"}),
            ],
            ALIASES,
        )
    lines = exc.value.lines
    assert [n for n, _t in lines] == [2, 3]
    assert "region is empty; year '1900' is not a year" in lines[0][1]
    assert "unknown pollutant 'x'" in lines[0][1] and "must be a non-negative" in lines[0][1]
    assert "emissions_t 'inf' must be a non-negative number" in lines[1][1]
    with pytest.raises(PollutantRowsError, match="no data rows"):
        read_emission_rows([], ALIASES)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "region": st.text(max_size=4),
                "year": st.one_of(st.text(max_size=5), st.integers(1940, 2110).map(str)),
                "pollutant": st.one_of(st.sampled_from(sorted(ALIASES)), st.text(max_size=6)),
                "emissions_t": st.one_of(st.text(max_size=6), st.floats(allow_nan=True).map(str)),
            }
        ),
        max_size=8,
    ),
    st.one_of(st.none(), st.integers(1949, 2100)),
)
def test_reading_rows_raises_nothing_but_its_own_error(rows, base_year):
    try:
        frame = read_emission_rows(list(enumerate(rows, start=2)), ALIASES, base_year=base_year)
    except PollutantRowsError as exc:
        assert exc.problems
    else:
        assert (frame["emission_t"] >= 0).all()
        assert set(frame["pollutant"]) <= set(POLLUTANTS)


def _totals(rows):
    return pd.DataFrame(rows, columns=["region", "year", "pollutant", "emission_t"])


def test_the_change_is_against_the_year_before_not_the_row_before():
    frame = pollutant_changes(
        _totals([("甲", 2020, "cod", 100.0), ("甲", 2022, "cod", 90.0), ("甲", 2023, "cod", 81.0)]),
        base_year=2020,
    ).frame
    assert math.isnan(frame.loc[1, "change_frac"])  # 2021 missing
    assert frame.loc[2, "change_frac"] == pytest.approx(-0.1)
    assert frame.loc[2, "reduction_frac"] == pytest.approx(0.19)


def test_a_year_before_the_base_has_a_change_but_no_reduction():
    frame = pollutant_changes(
        _totals([("甲", 2019, "so2", 110.0), ("甲", 2020, "so2", 100.0)]), base_year=2020
    ).frame
    assert math.isnan(frame.loc[0, "reduction_frac"])
    assert frame.loc[1, "change_frac"] == pytest.approx(100 / 110 - 1)


def test_caps_used_and_zero_emissions():
    frame = pollutant_changes(
        _totals(
            [("甲", 2020, "nox", 0.0), ("甲", 2021, "nox", 5.0), ("乙", 2020, "nox", 10.0)]
        ).pipe(lambda f: pd.concat([f, _totals([("乙", 2021, "nox", 0.0)])])),
        base_year=2020,
        cap_t={"nox": 8.0},
        target_frac={"nox": 0.1},
    ).frame.set_index(["region", "year"])
    assert frame.loc[("甲", 2021), "cap_used_frac"] == pytest.approx(5 / 8)
    # from zero: no change and no reduction (nothing to divide by), no warning raised
    assert np.isnan(frame.loc[("甲", 2021), "change_frac"])
    assert np.isnan(frame.loc[("甲", 2021), "reduction_frac"])
    # down to zero: 100 % reduction, which has no logarithmic progress
    assert frame.loc[("乙", 2021), "reduction_frac"] == 1.0
    assert np.isnan(frame.loc[("乙", 2021), "progress_frac"])
    with pytest.raises(PollutantDataError, match="cap of nox must be positive"):
        pollutant_changes(_totals([("甲", 2020, "nox", 1.0)]), base_year=2020, cap_t={"nox": 0})


def test_linear_progress_of_a_reduction_down_to_zero():
    frame = pollutant_changes(
        _totals([("乙", 2020, "nox", 10.0), ("乙", 2021, "nox", 0.0)]),
        base_year=2020,
        target_frac={"nox": 0.1},
        progress_definition=ProgressDefinition.LINEAR,
    ).frame
    assert frame.loc[1, "progress_frac"] == pytest.approx(10.0)


def test_the_same_region_pollutant_and_year_twice_is_refused():
    with pytest.raises(PollutantDataError, match="appears twice"):
        pollutant_changes(
            _totals([("甲", 2020, "cod", 1.0), ("甲", 2020, "cod", 2.0)]), base_year=2020
        )
