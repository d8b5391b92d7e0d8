"""超标名单 — the quarterly exceedance list from alarm episodes (dualcontrol.core.exceedances).

Rules: reference/data/exceedance_list.yaml — records counted per outlet and pollutant inside the
quarter (station time); an hourly record is one 超标小时 and marks its day; a daily record marks its
day (S2: days per pollutant; S4: hourly and daily exceedances counted); records in accepted
shutdown reports excused (S5: marked data are no basis for 超标判定; the slot rule of the
monitoring app); withdrawn and struck alarms count nothing; 超标倍数 = (value − limit) ÷ limit
(platform rule).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dualcontrol.core import exceedances as ex

BJ = dt.timezone(dt.timedelta(hours=8))
RULES = ex.CountingRules(
    data_types={"2061": "hour", "2031": "day"},
    counted_statuses=frozenset({"open", "explained", "closed"}),
)


def at(month: int, day: int, hour: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=BJ)


def hours(start: dt.datetime, values: list[float]) -> tuple[tuple[dt.datetime, float], ...]:
    return tuple((start + dt.timedelta(hours=i), v) for i, v in enumerate(values))


def episode(
    alarm_id, values, *, outlet="MN1", code="a21026", cn="2061", status="open", limit=100.0
):
    return ex.Episode(alarm_id, outlet, code, cn, status, limit, "mg/m³", values)


def test_quarters():
    assert ex.quarter_dates(2026, 1) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert ex.quarter_dates(2026, 4) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    start, end = ex.quarter_bounds(2026, 3, "Asia/Shanghai")
    assert start.isoformat() == "2026-07-01T00:00:00+08:00"
    assert end.isoformat() == "2026-10-01T00:00:00+08:00"
    assert ex.quarter_of(dt.date(2026, 12, 5)) == (2026, 4)
    assert ex.last_complete_quarter(dt.date(2026, 12, 5)) == (2026, 3)
    assert ex.last_complete_quarter(dt.date(2026, 2, 1)) == (2025, 4)
    # platform rule: 45 days after the quarter's last day
    assert ex.deadline(2026, 3, 45) == dt.date(2026, 11, 14)
    with pytest.raises(ex.ExceedanceInputError, match="quarter must be 1–4"):
        ex.quarter_dates(2026, 5)


def test_hours_days_max_and_multiple():
    """Two episodes of one outlet and pollutant: 3 h on 8 Aug, 2 h over midnight into 9 Aug."""
    result = ex.exceedance_list(
        [
            episode(1, hours(at(8, 8, 10), [120.0, 138.46, 101.0])),
            episode(2, hours(at(8, 8, 23), [110.0, 105.0]), status="closed"),
        ],
        year=2026,
        quarter=3,
        rules=RULES,
    )
    (row,) = result.rows
    assert (row.outlet, row.code, row.hours, row.days, row.records) == ("MN1", "a21026", 5, 2, 5)
    assert row.max_value == Decimal("138.46") and row.limit == Decimal("100.0")
    # (138.46 − 100) ÷ 100 = 0.3846 → 0.38 (two places, half up)
    assert row.multiple == Decimal("0.38")
    assert row.max_time == at(8, 8, 11)
    assert (row.first, row.last) == (at(8, 8, 10), at(8, 9, 0))
    assert [(a.alarm_id, a.records) for a in row.alarms] == [(1, 3), (2, 2)]
    assert dict(row.statuses) == {"closed": 1, "open": 1}
    assert result.not_counted == ()


def test_ratio_multiple_and_half_up():
    rules = ex.CountingRules(RULES.data_types, RULES.counted_statuses, multiple="ratio")
    (row,) = ex.exceedance_list(
        [episode(1, hours(at(7, 1), [100.5]), limit=40.0)], year=2026, quarter=3, rules=rules
    ).rows
    assert row.multiple == Decimal("2.51")  # 100.5 ÷ 40 = 2.5125 → 2.51
    (row,) = ex.exceedance_list(
        [episode(1, hours(at(7, 1), [100.5]), limit=40.0)], year=2026, quarter=3, rules=RULES
    ).rows
    assert row.multiple == Decimal("1.51")  # (100.5 − 40) ÷ 40 = 1.5125 → 1.51
    (row,) = ex.exceedance_list(
        [episode(1, hours(at(7, 1), [100.5]), limit=2.0)], year=2026, quarter=3, rules=RULES
    ).rows
    assert row.multiple == Decimal("49.25")  # exactly 49.25, half up keeps it
    (row,) = ex.exceedance_list(
        [episode(1, hours(at(7, 1), [1.125]), limit=1.0)], year=2026, quarter=3, rules=RULES
    ).rows
    assert row.multiple == Decimal("0.13")  # 0.125 → 0.13 (四舍五入, not banker's 0.12)


def test_daily_records_count_days_not_hours():
    """A daily-average exceedance marks its day; the same day's hourly exceedance adds hours only.
    Hourly and daily limits differ by design: that is no limit change."""
    result = ex.exceedance_list(
        [
            episode(1, ((at(8, 1), 130.0), (at(8, 2), 125.0)), cn="2031", limit=80.0),
            episode(2, hours(at(8, 2, 5), [150.0])),
        ],
        year=2026,
        quarter=3,
        rules=RULES,
    )
    (row,) = result.rows
    assert (row.days, row.hours, row.records) == (2, 1, 3)
    # daily (130 − 80) ÷ 80 = 0.625 beats hourly (150 − 100) ÷ 100 = 0.5
    assert (row.max_cn, row.max_value, row.limit) == ("2031", Decimal("130.0"), Decimal("80.0"))
    assert row.multiple == Decimal("0.63")
    assert not row.limits_differ


def test_only_the_quarter_counts():
    """An episode from 30 Sep 22:00 to 1 Oct 01:00: two records in Q3, two in Q4."""
    eps = [episode(1, hours(at(9, 30, 22), [120.0, 121.0, 122.0, 180.0]))]
    (q3,) = ex.exceedance_list(eps, year=2026, quarter=3, rules=RULES).rows
    (q4,) = ex.exceedance_list(eps, year=2026, quarter=4, rules=RULES).rows
    assert (q3.hours, q3.days, q3.max_value) == (2, 1, Decimal("121.0"))
    assert (q4.hours, q4.days, q4.max_value) == (2, 1, Decimal("180.0"))
    q2 = ex.exceedance_list(eps, year=2026, quarter=2, rules=RULES)
    assert q2.rows == () and [(n.alarm_id, n.reason) for n in q2.not_counted] == [(1, "outside")]


def test_days_are_station_local_days():
    """16:00 UTC on 1 Aug is 00:00 on 2 Aug in Beijing: two local days, not one."""
    utc = dt.UTC
    values = (
        (dt.datetime(2026, 8, 1, 15, tzinfo=utc), 120.0),
        (dt.datetime(2026, 8, 1, 16, tzinfo=utc), 120.0),
    )
    (row,) = ex.exceedance_list([episode(1, values)], year=2026, quarter=3, rules=RULES).rows
    assert row.days == 2


def test_shutdown_excuses_the_records_it_overlaps():
    """Accepted 停运报备 10:30–12:00: the 10:00 and 11:00 records are excused (their hours touch
    it), 12:00 counts; a report of another outlet excuses nothing."""
    eps = [episode(1, hours(at(8, 8, 9), [120.0, 150.0, 160.0, 110.0]))]
    periods = [
        ex.ExcusedPeriod(
            "MN1", at(8, 8, 10) + dt.timedelta(minutes=30), at(8, 8, 12), "shutdown:7"
        ),
        ex.ExcusedPeriod("MN2", at(8, 8, 0), at(8, 9, 0), "shutdown:8"),
    ]
    (row,) = ex.exceedance_list(eps, year=2026, quarter=3, rules=RULES, excused=periods).rows
    assert (row.hours, row.max_value) == (2, Decimal("120.0"))
    (count,) = row.alarms
    assert (count.records, count.excused_records, count.excused_by) == (2, 2, ("shutdown:7",))


def test_an_episode_wholly_excused_is_not_counted():
    eps = [episode(1, hours(at(8, 8, 9), [120.0, 150.0]))]
    periods = [ex.ExcusedPeriod("MN1", at(8, 8, 0), at(8, 9, 0), "shutdown:7")]
    result = ex.exceedance_list(eps, year=2026, quarter=3, rules=RULES, excused=periods)
    assert result.rows == ()
    (n,) = result.not_counted
    assert (n.alarm_id, n.reason, n.excused_by, n.records) == (1, "excused", ("shutdown:7",), 2)


def test_withdrawn_struck_and_uncounted_data_types():
    eps = [
        episode(1, hours(at(8, 1), [120.0]), status="withdrawn"),
        episode(2, hours(at(8, 2), [130.0])),
        episode(3, hours(at(8, 3), [140.0]), cn="2051"),
        episode(4, hours(at(8, 4), [101.0]), code="a34013", limit=30.0),
    ]
    result = ex.exceedance_list(
        eps, year=2026, quarter=3, rules=RULES, struck={2: " 经核实为误报 "}
    )
    assert [(r.code, r.hours) for r in result.rows] == [("a34013", 1)]
    assert [(n.alarm_id, n.reason, n.detail) for n in result.not_counted] == [
        (1, "status", "withdrawn"),
        (2, "struck", "经核实为误报"),
        (3, "data_type", "2051"),
    ]


def test_entry_rule():
    rules = ex.CountingRules(RULES.data_types, RULES.counted_statuses, min_days=2, min_hours=3)
    eps = [
        episode(1, hours(at(8, 1), [120.0, 121.0])),  # 2 h on one day: below both
        episode(2, hours(at(8, 1), [50.0, 51.0, 52.0]), code="a34013", limit=30.0),  # 3 h: in
        episode(3, ((at(8, 1), 40.0), (at(8, 5), 45.0)), code="a21002", cn="2031"),  # 2 days: in
    ]
    result = ex.exceedance_list(eps, year=2026, quarter=3, rules=rules)
    assert [r.code for r in result.rows] == ["a21002", "a34013"]
    assert [(n.alarm_id, n.reason) for n in result.not_counted] == [(1, "below_entry")]


def test_limit_change_in_the_quarter_is_flagged_and_multiple_uses_each_limit():
    eps = [
        episode(1, hours(at(7, 10), [140.0]), limit=100.0),  # 0.40
        episode(2, hours(at(8, 10), [90.0]), limit=50.0),  # 0.80: the row's maximum
    ]
    (row,) = ex.exceedance_list(eps, year=2026, quarter=3, rules=RULES).rows
    assert row.limits_differ
    assert (row.max_value, row.limit, row.multiple) == (
        Decimal("90.0"),
        Decimal("50.0"),
        Decimal("0.80"),
    )


def test_rows_are_sorted_and_separate_per_outlet_and_pollutant():
    eps = [
        episode(3, hours(at(8, 1), [120.0]), outlet="MN2"),
        episode(1, hours(at(8, 1), [120.0]), outlet="MN1", code="a34013", limit=30.0),
        episode(2, hours(at(8, 1), [120.0]), outlet="MN1"),
    ]
    rows = ex.exceedance_list(eps, year=2026, quarter=3, rules=RULES).rows
    assert [(r.outlet, r.code) for r in rows] == [
        ("MN1", "a21026"),
        ("MN1", "a34013"),
        ("MN2", "a21026"),
    ]


def test_bad_input_lists_every_problem():
    naive = dt.datetime(2026, 8, 1)
    bad = [
        episode(1, ((naive, 120.0),)),
        episode(1, hours(at(8, 1), [120.0])),
        episode(2, hours(at(8, 1), [120.0]), limit=0.0),
    ]
    with pytest.raises(ex.ExceedanceInputError) as info:
        ex.exceedance_list(
            bad,
            year=2026,
            quarter=3,
            rules=ex.CountingRules({"2061": "minute"}, frozenset(), multiple="times"),
            excused=[ex.ExcusedPeriod("MN1", at(8, 2), at(8, 1), "shutdown:1")],
            struck={9: "  "},
        )
    problems = info.value.problems
    assert problems == (
        "data type 2061: unit must be hour or day, not 'minute'",
        "multiple must be one of excess, ratio, not 'times'",
        "alarm 1: record time 2026-08-01T00:00:00 has no time zone",
        "alarm 1: given twice",
        "alarm 2: limit must be positive, not 0.0",
        "excused period shutdown:1: end is not after start",
        "struck alarm 9: a reason is required",
    )


def test_printing():
    assert ex.format_decimal(Decimal("30.0000")) == "30"
    assert ex.format_decimal(Decimal("0.5")) == "0.5"
    assert ex.format_decimal(Decimal("138.465"), 2) == "138.47"
    assert ex.format_decimal(Decimal("100"), 2) == "100.00"
    assert ex.as_decimal(38.46) == Decimal("38.46")
