"""Alarm episodes and the effective-transmission rate (pure functions, exact figures).

Rules: monitoring_rules.yaml — 超标 = valid value strictly above the limit; 断线 = no data for
longer than the threshold; 异常值 = negative / outside the analyser range or flagged T / the same
value in N consecutive records; 数据传输有效率 = 数据传输率 × 数据有效率 (formats.md §5.2).
"""

from __future__ import annotations

import datetime as dt

import pytest

from dualcontrol.monitoring import evaluation as ev
from dualcontrol.monitoring.rules import monitoring_rules

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def hours(values, flags=None):
    flags = flags or ["N"] * len(values)
    return [ev.Point(T0 + i * H, v, f) for i, (v, f) in enumerate(zip(values, flags, strict=True))]


def valid(flag):
    return flag in ("N", "")


def test_exceedance_episodes_merge_consecutive_records():
    points = hours([10, 31, 35, 30, 29, 40, 41, 42])
    found = ev.exceedances(points, limit=30, step=H, code="a34013", is_valid=valid)
    # 30 is not above 30 (strictly greater): two episodes
    assert [(e.started_at, e.ended_at, e.records, e.peak) for e in found] == [
        (T0 + H, T0 + 2 * H, 2, 35),
        (T0 + 5 * H, T0 + 7 * H, 3, 42),
    ]
    assert all(e.threshold == 30 and e.kind == "exceedance" for e in found)


def test_exceedance_ignores_invalid_flags_and_splits_on_gaps():
    points = hours([50, 50, 50, 50], ["N", "M", "N", "C"])
    found = ev.exceedances(points, limit=30, step=H, code="x", is_valid=valid)
    assert [(e.started_at, e.records) for e in found] == [(T0, 1), (T0 + 2 * H, 1)]
    everything = ev.exceedances(
        points, limit=30, step=H, code="x", is_valid=valid, only_valid=False
    )
    assert [e.records for e in everything] == [4]
    gap = [ev.Point(T0, 50), ev.Point(T0 + 3 * H, 50)]
    assert len(ev.exceedances(gap, limit=30, step=H, code="x", is_valid=valid)) == 2


def test_offline_gaps_inside_and_at_the_edges():
    start, end = T0, T0 + dt.timedelta(days=1)
    times = [T0 + i * H for i in range(24) if not 3 <= i <= 7]  # 03:00-07:00 missing
    found = ev.offline_gaps(
        times, start=start, end=end, threshold=dt.timedelta(minutes=60), before=T0 - H, after=end
    )
    assert [(e.started_at, e.ended_at, e.ongoing) for e in found] == [
        (T0 + 2 * H, T0 + 8 * H, False)
    ]
    # the data stop at 20:00 and nothing came after: ongoing from the last data
    found = ev.offline_gaps(
        times[:-3],
        start=start,
        end=end,
        threshold=dt.timedelta(minutes=60),
        before=None,
        after=None,
    )
    assert (found[-1].started_at, found[-1].ended_at, found[-1].ongoing) == (
        T0 + 20 * H,
        None,
        True,
    )
    # exactly the threshold is not offline
    assert (
        ev.offline_gaps([T0 + H], start=start, end=T0 + 2 * H, threshold=H, before=T0, after=None)
        == []
    )
    # no data at all: offline since the start of the day
    (only,) = ev.offline_gaps([], start=start, end=end, threshold=H, before=None, after=None)
    assert (only.started_at, only.ongoing, only.detail) == (start, True, "no_data_before")


def test_abnormal_values():
    points = hours([5, -1, -2, 5, 120, 5], ["N", "N", "N", "N", "N", "T"])
    neg = ev.negatives(points, step=H, code="w01018")
    assert [(e.started_at, e.records, e.peak) for e in neg] == [(T0 + H, 2, -2)]
    assert ev.negatives(points, step=H, code="w01010", allowed=True) == []
    rng = ev.out_of_range(points, step=H, code="w01018", low=0, high=100, range_flags={"T"})
    assert [(e.started_at, e.ended_at, e.records, e.peak) for e in rng] == [
        (T0 + 4 * H, T0 + 5 * H, 2, 120)
    ]


def test_stuck_runs():
    values = [3, 7, 7, 7, 7, 7, 7, 2, 0, 0, 0, 0, 0, 0, 0]
    found = ev.stuck_runs(hours(values), step=H, code="x", min_records=6, is_valid=valid)
    assert [(e.started_at, e.records, e.peak) for e in found] == [(T0 + H, 6, 7)]
    # zeros count when not ignored; an invalid flag breaks a run
    zeros = ev.stuck_runs(
        hours(values), step=H, code="x", min_records=6, is_valid=valid, ignore_zero=False
    )
    assert [e.records for e in zeros] == [6, 7]
    broken = hours([7] * 7, ["N", "N", "N", "M", "N", "N", "N"])
    assert ev.stuck_runs(broken, step=H, code="x", min_records=6, is_valid=valid) == []


def test_effective_rate_pools_items():
    rows = [("w01018", T0 + i * H, "N") for i in range(24)]
    rows += [("w21003", T0 + i * H, "M" if i < 4 else "N") for i in range(20)]
    rows += [("w21003", T0, "N"), ("w00000", T0, "N")]  # a repeat counts once; other codes ignored
    rate = ev.effective_rate(rows, items=["w01018", "w21003"], expected_per_item=24, is_valid=valid)
    assert (rate.expected, rate.received, rate.valid) == (48, 44, 40)
    assert rate.transmission_frac == pytest.approx(44 / 48)
    assert rate.validity_frac == pytest.approx(40 / 44)
    assert rate.effective_frac == pytest.approx(40 / 48)  # = transmission × validity
    assert ev.Rate(0, 0, 0).effective_frac is None
    assert ev.Rate(24, 0, 0).effective_frac == 0.0
    assert (rate + ev.Rate(24, 24, 24)).effective_frac == pytest.approx(64 / 72)


def test_rules_file_and_its_sources():
    rules = monitoring_rules()
    assert rules.effective_min_frac == 0.90
    assert rules.offline_after_minutes == 60
    assert rules.valid_flags == frozenset({"N"}) and rules.is_valid_flag("") is True
    assert not rules.is_valid_flag("M")
    assert rules.assessed_pollutants == {
        "water": ("w01018", "w21003"),
        "gas": ("a34013", "a21026", "a21002"),
    }
    assert rules.version.startswith("monitoring_rules.yaml@")
    assert all(rules.sources.values())
    assert rules.accepts(dt.datetime(2026, 1, 1)) and not rules.accepts(dt.datetime(1999, 1, 1))
