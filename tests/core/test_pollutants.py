"""Pollutant totals and key-project reductions (dualcontrol.core.pollutants)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.pollutants import (
    PollutantDataError,
    key_project_reductions,
    pollutant_changes,
    pollutant_totals,
)
from dualcontrol.core.progress import ProgressDefinition
from dualcontrol.reference.pollutants import pollutants

POLLUTANTS = pollutants()


def test_the_five_pollutants_of_total_control():
    """国发〔2016〕74号 (02): COD, NH3-N, SO2, NOx, VOCs; HJ 212-2017 codes where one exists (08)."""
    assert list(POLLUTANTS) == ["cod", "nh3n", "so2", "nox", "vocs"]
    assert {k: p.hj212_code for k, p in POLLUTANTS.items()} == {
        "cod": "w01018",
        "nh3n": "w21003",
        "so2": "a21026",
        "nox": "a21002",
        "vocs": "",
    }
    assert "NOT FOUND" in POLLUTANTS["vocs"].note


def test_totals_sum_the_sources():
    emissions = pd.DataFrame(
        {
            "region": ["甲", "甲", "甲", "乙"],
            "year": [2021, 2021, 2021, 2021],
            "pollutant": ["cod", "cod", "so2", "cod"],
            "emission_t": [10.5, 4.5, 7.0, 1.0],
        }
    )
    result = pollutant_totals(emissions, POLLUTANTS).frame
    assert result.to_dict("records") == [
        {"region": "乙", "year": 2021, "pollutant": "cod", "emission_t": 1.0, "sources": 1},
        {"region": "甲", "year": 2021, "pollutant": "cod", "emission_t": 15.0, "sources": 2},
        {"region": "甲", "year": 2021, "pollutant": "so2", "emission_t": 7.0, "sources": 1},
    ]


def test_beijing_2011_h1_changes():
    """MEP 2011 H1 (01, S5), 北京 万吨: COD 10.01 → 9.93 published −0.82 % (computed from unrounded
    data; −0.80 % from the rounded figures — within ±0.05 pp); SO2 5.22 → 4.60 published −11.87 %."""
    totals = pd.DataFrame(
        {
            "region": ["北京"] * 4,
            "year": [2010, 2011, 2010, 2011],
            "pollutant": ["cod", "cod", "so2", "so2"],
            "emission_t": [10.01e4, 9.93e4, 5.22e4, 4.60e4],
        }
    )
    frame = pollutant_changes(totals, base_year=2010).frame.set_index(["pollutant", "year"])
    assert frame.loc[("cod", 2011), "change_frac"] * 100 == pytest.approx(-0.82, abs=0.05)
    assert frame.loc[("so2", 2011), "change_frac"] * 100 == pytest.approx(-11.87, abs=0.05)
    assert frame.loc[("so2", 2011), "reduction_frac"] == pytest.approx(1 - 4.60 / 5.22)


def test_progress_toward_pollutant_targets():
    """河北 2015 annual targets (01): COD −1 %; H1 COD −2.44 % → linear progress 244 %."""
    totals = pd.DataFrame(
        {
            "region": ["河北", "河北"],
            "year": [2014, 2015],
            "pollutant": ["cod", "cod"],
            "emission_t": [100.0, 97.56],
        }
    )
    result = pollutant_changes(
        totals,
        base_year=2014,
        target_frac={"cod": 0.01},
        progress_definition=ProgressDefinition.LINEAR,
    ).frame
    last = result.iloc[-1]
    assert last["progress_frac"] == pytest.approx(2.44)
    assert last["progress_definition"] == "linear"
    log = pollutant_changes(totals, base_year=2014, target_frac={"cod": 0.01}).frame.iloc[-1]
    assert log["progress_frac"] == pytest.approx(math.log(0.9756) / math.log(0.99))


def test_key_project_reductions():
    """重点工程减排量 = Σ (baseline − after) per region, year and pollutant."""
    projects = pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P3"],
            "region": ["甲", "甲", "甲"],
            "year": [2021, 2021, 2021],
            "pollutant": ["so2", "so2", "nox"],
            "baseline_t": [120.0, 80.0, 50.0],
            "after_t": [20.0, 60.0, 45.0],
        }
    )
    result = key_project_reductions(projects, POLLUTANTS).frame.set_index("pollutant")
    assert result.loc["so2", "reduction_t"] == 120.0
    assert result.loc["so2", "projects"] == 2
    assert result.loc["nox", "reduction_t"] == 5.0


def test_bad_input_names_the_row():
    projects = pd.DataFrame(
        {
            "project_id": ["P1"],
            "region": ["甲"],
            "year": [2021],
            "pollutant": ["so2"],
            "baseline_t": [10.0],
            "after_t": [12.0],
        }
    )
    with pytest.raises(PollutantDataError, match="row 0: project P1 emits more"):
        key_project_reductions(projects, POLLUTANTS)
    with pytest.raises(PollutantDataError, match="unknown pollutant 'pm25'"):
        pollutant_totals(
            pd.DataFrame(
                {"region": ["甲"], "year": [1], "pollutant": ["pm25"], "emission_t": [1.0]}
            ),
            POLLUTANTS,
        )
    with pytest.raises(PollutantDataError, match="non-negative"):
        pollutant_totals(
            pd.DataFrame(
                {"region": ["甲"], "year": [1], "pollutant": ["cod"], "emission_t": [-1.0]}
            ),
            POLLUTANTS,
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["甲", "乙", "丙"]),
            st.sampled_from(list(POLLUTANTS)),
            st.floats(0, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_regional_totals_equal_the_sum_of_sources(sources):
    emissions = pd.DataFrame(sources, columns=["region", "pollutant", "emission_t"]).assign(
        year=2021
    )
    totals = pollutant_totals(emissions, POLLUTANTS).frame
    for pollutant, group in emissions.groupby("pollutant"):
        assert totals.loc[totals["pollutant"] == pollutant, "emission_t"].sum() == pytest.approx(
            group["emission_t"].sum(), rel=1e-9, abs=1e-6
        )
