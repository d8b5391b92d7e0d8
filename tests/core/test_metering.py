"""Energy online monitoring rules (shared/reference/formats.md §3) — specifications.

Sources: §3.5 the 16-character 采集数据项编码 (1–2 生产工序, 3–4 工序单元, 5–6 设备类型, 7–8 设备编号,
9–10 采集数据类型, 11–14 能源品种/数据分类, 15–16 用途) and 采集频率 0 实时 / 1 日 / 2 月;
§3.2 实时指标 every 15 min (30 min / 1 h where granted), 数据完整性 vs 90 %, 日报与月报偏差 ≤ 5 %,
day data at 00:00 ± 1 minute, month data on the 1st ± 1 day; a province's 3-working-day repair rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.core import metering as m
from dualcontrol.core.workcalendar import WorkCalendar
from dualcontrol.reference.metering import code_catalogue, metering_rules
from dualcontrol.reference.workcalendar import work_calendar

RULES = metering_rules()
CAT = code_catalogue()
CAL = work_calendar()
WEEKDAYS = WorkCalendar.weekdays_only()
D = dt.datetime


def test_rules_are_reference_data_with_sources():
    assert RULES.completeness_min_frac == 0.90
    assert RULES.consistency_max_dev_frac == 0.05
    assert RULES.standard_interval_minutes == 15
    assert RULES.allowed_interval_minutes == (15, 30, 60)
    assert RULES.day_tolerance_s == 60 and RULES.month_tolerance_days == 1
    assert RULES.fault_repair_working_days == 3
    assert RULES.version.startswith("metering_rules.yaml@")
    for key in ("completeness", "consistency", "realtime", "timestamps", "fault_repair"):
        assert RULES.sources[key]


def test_code_is_decomposed_in_the_order_of_the_source():
    item = m.parse_item_code("0102030402223001", CAT)
    assert (
        item.process,
        item.process_unit,
        item.equipment_type,
        item.equipment_no,
        item.data_type,
        item.energy_code,
        item.use,
    ) == ("01", "02", "03", "04", "02", "2230", "01")
    assert item.code == "0102030402223001"
    assert not item.unit_level
    assert m.parse_item_code("0000000002223001", CAT).unit_level
    assert [p[0] for p in item.parts()] == [p[0] for p in m.CODE_PARTS]


@pytest.mark.parametrize(
    ("code", "part", "key"),
    [
        ("000000000222300", "code", "code_length"),
        ("00000000022230011", "code", "code_length"),
        ("00000000022230a1", "use", "code_chars"),
        ("0000000099223001", "data_type", "unknown_data_type"),
        ("0000000002999901", "energy_code", "unknown_energy_code"),
        ("0000000001223001", "energy_code", "unknown_energy_code"),  # 电力 is 二次能源, not 一次
        ("0000000002223088", "use", "unknown_use"),
    ],
)
def test_invalid_codes_name_the_part(code, part, key):
    problems = m.code_problems(code, CAT)
    assert [(p.part, p.key) for p in problems] == [(part, key)]
    with pytest.raises(m.ItemCodeError):
        m.parse_item_code(code, CAT)
    assert problems[0].message() and problems[0].message("en")


def test_every_problem_of_a_code_is_listed():
    problems = m.code_problems("0000000099999988", CAT)
    assert {p.part for p in problems} == {"data_type", "use"}


@given(st.text(max_size=24))
def test_code_validation_never_raises_anything_else(text):
    try:
        m.parse_item_code(text, CAT)
    except m.ItemCodeError as exc:
        assert exc.problems


def test_unit_conversion_to_the_205_1_unit():
    assert m.to_product_factor("千瓦时", "万千瓦时") == Decimal("0.0001")
    assert m.to_product_factor("立方米", "万立方米") == Decimal("0.0001")
    assert m.to_product_factor("吉焦", "百万千焦") == Decimal(1)


# ---- time grids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "interval", "expected"),
    [
        (D(2026, 5, 1, 10, 15), 15, D(2026, 5, 1, 10, 15)),
        (D(2026, 5, 1, 10, 15, 59), 15, D(2026, 5, 1, 10, 15)),  # within 60 s
        (D(2026, 5, 1, 10, 14, 0), 15, D(2026, 5, 1, 10, 15)),
        (D(2026, 5, 1, 10, 13, 59), 15, None),
        (D(2026, 5, 1, 10, 7), 15, None),
        (D(2026, 5, 1, 23, 59, 30), 15, D(2026, 5, 2, 0, 0)),
        (D(2026, 5, 1, 10, 30), 30, D(2026, 5, 1, 10, 30)),
        (D(2026, 5, 1, 10, 15), 30, None),
        (D(2026, 5, 1, 10, 15), 60, None),
        (D(2026, 5, 1, 11, 0, 30), 60, D(2026, 5, 1, 11, 0)),
    ],
)
def test_realtime_grid(ts, interval, expected):
    assert m.align(ts, m.Frequency.REALTIME, interval, RULES) == expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (D(2026, 5, 1), D(2026, 5, 1)),
        (D(2026, 5, 1, 0, 1), D(2026, 5, 1)),  # 统计时间偏差 1 minute
        (D(2026, 4, 30, 23, 59), D(2026, 5, 1)),
        (D(2026, 5, 1, 0, 1, 1), None),
        (D(2026, 5, 1, 12), None),
    ],
)
def test_daily_grid_tolerance_one_minute(ts, expected):
    assert m.align(ts, m.Frequency.DAILY, 15, RULES) == expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (D(2026, 5, 1), D(2026, 5, 1)),
        (D(2026, 5, 2), D(2026, 5, 1)),  # 统计时间偏差 1 day
        (D(2026, 4, 30, 6), D(2026, 5, 1)),
        (D(2026, 5, 2, 0, 0, 1), None),
        (D(2026, 5, 15), None),
    ],
)
def test_monthly_grid_tolerance_one_day(ts, expected):
    assert m.align(ts, m.Frequency.MONTHLY, 15, RULES) == expected


def test_expected_counts():
    day = (D(2026, 5, 1), D(2026, 5, 2))
    assert m.expected_count(m.Frequency.REALTIME, 15, *day) == 96
    assert m.expected_count(m.Frequency.REALTIME, 30, *day) == 48
    assert m.expected_count(m.Frequency.REALTIME, 60, *day) == 24  # formats.md §3.2 example
    assert m.expected_count(m.Frequency.DAILY, 15, *day) == 1
    assert m.expected_count(m.Frequency.REALTIME, 15, D(2026, 5, 1, 0, 1), D(2026, 5, 1, 1)) == 3
    assert m.expected_count(m.Frequency.DAILY, 15, D(2026, 5, 1), D(2026, 6, 1)) == 31
    assert m.expected_count(m.Frequency.MONTHLY, 15, D(2026, 1, 1), D(2027, 1, 1)) == 12
    assert m.expected_count(m.Frequency.MONTHLY, 15, D(2026, 1, 2), D(2026, 3, 1)) == 1
    assert m.expected_count(m.Frequency.REALTIME, 15, D(2026, 5, 2), D(2026, 5, 1)) == 0
    assert m.per_day(m.Frequency.REALTIME, 15) == 96 and m.per_day(m.Frequency.MONTHLY, 15) == 0


@given(
    st.datetimes(min_value=D(2020, 1, 1), max_value=D(2030, 1, 1)),
    st.sampled_from([15, 30, 60]),
)
def test_aligned_times_are_grid_points(ts, interval):
    grid = m.align(ts, m.Frequency.REALTIME, interval, RULES)
    if grid is not None:
        assert grid.second == 0 and grid.microsecond == 0
        assert (grid.hour * 60 + grid.minute) % interval == 0
        assert abs((grid - ts).total_seconds()) <= RULES.realtime_tolerance_s
        assert (
            m.expected_count(m.Frequency.REALTIME, interval, grid, grid + dt.timedelta(seconds=1))
            == 1
        )


# ---- reading checks -----------------------------------------------------------------------

NOW = D(2026, 5, 20, 10, 7)
RT = m.ItemSpec(1, "0000000002223001", m.Frequency.REALTIME, 15, 0.0, 1000.0)
DAY = m.ItemSpec(2, "0000000001101001", m.Frequency.DAILY)
MONTH = m.ItemSpec(3, "0000000001101001", m.Frequency.MONTHLY)


@pytest.mark.parametrize(
    ("spec", "ts", "value", "result"),
    [
        (RT, D(2026, 5, 20, 10, 0), 12.5, D(2026, 5, 20, 10, 0)),
        (RT, D(2026, 5, 20, 10, 0, 40), 12.5, D(2026, 5, 20, 10, 0)),
        (RT, D(2026, 5, 20, 10, 5), 12.5, "off_grid"),
        (RT, D(2026, 5, 20, 10, 15), 12.5, "future"),  # beyond now + 5 minutes of skew
        (RT, D(2025, 1, 1), 12.5, "too_old"),
        (RT, D(2026, 5, 20, 9, 0), -1.0, "out_of_range"),
        (RT, D(2026, 5, 20, 9, 0), 1000.5, "out_of_range"),
        (RT, D(2026, 5, 20, 9, 0), 1000.0, D(2026, 5, 20, 9, 0)),
        (RT, D(2026, 5, 20, 9, 0), float("nan"), "bad_value"),
        (RT, D(2026, 5, 20, 9, 0), float("inf"), "bad_value"),
        (DAY, D(2026, 5, 19), 3.0, D(2026, 5, 19)),
        (DAY, D(2026, 5, 20), 3.0, "period_open"),  # today has not ended
        (DAY, D(2026, 5, 19, 8), 3.0, "off_grid"),
        (MONTH, D(2026, 4, 1), 3.0, D(2026, 4, 1)),
        (MONTH, D(2026, 5, 1), 3.0, "period_open"),
        (m.ItemSpec(4, "x", m.Frequency.DAILY, active=False), D(2026, 5, 19), 3.0, "inactive_item"),
    ],
)
def test_check_reading(spec, ts, value, result):
    grid, problem = m.check_reading(spec, ts, value, NOW, RULES)
    if isinstance(result, dt.datetime):
        assert (grid, problem) == (result, None)
    else:
        assert grid is None and problem.key == result
        assert problem.message() and problem.message("en")


def test_clock_skew_allowance():
    now = D(2026, 5, 20, 10, 11)
    assert m.check_reading(RT, D(2026, 5, 20, 10, 15), 1.0, now, RULES) == (
        D(2026, 5, 20, 10, 15),
        None,
    )


def test_empty_bounds_do_not_warn():
    spec = m.ItemSpec(1, "c", m.Frequency.REALTIME, 15, None, None)
    assert m.check_reading(spec, D(2026, 5, 20, 9), -5e9, NOW, RULES)[1] is None


def test_resolve_item_by_code_and_frequency():
    items = {"A": [RT], "B": [DAY, MONTH]}
    assert m.resolve_item("A", None, items) == RT
    assert m.resolve_item("B", 2, items) == MONTH
    assert m.resolve_item("B", None, items) == DAY  # the highest resolution registered
    assert m.resolve_item("C", None, items).key == "unknown_item"
    assert m.resolve_item("A", 1, items).key == "unknown_item"


# ---- quality ------------------------------------------------------------------------------


def test_completeness_and_minimum():
    assert m.completeness(87, 96) == pytest.approx(0.90625)
    assert m.complete_enough(m.completeness(87, 96), RULES) is True
    assert m.complete_enough(m.completeness(86, 96), RULES) is False  # 89.6 %
    assert m.completeness(0, 0) is None and m.complete_enough(None, RULES) is None
    assert m.completeness(100, 96) == 1.0


def test_day_vs_month_consistency_five_percent():
    ok = m.consistency(10_500, 10_000, RULES)
    assert ok.deviation_frac == pytest.approx(0.05) and ok.ok
    bad = m.consistency(10_501, 10_000, RULES)
    assert not bad.ok
    assert m.consistency(9_500, 10_000, RULES).ok
    assert m.consistency(0, 0, RULES).ok and not m.consistency(1, 0, RULES).ok


def test_stuck_meter_runs():
    assert m.stuck_min_points(15, RULES) == 16 and m.stuck_min_points(60, RULES) == 4
    start = D(2026, 5, 1)
    values = [1.0, 2.0] + [7.5] * 16 + [3.0] + [0.0] * 20 + [4.0]
    points = [(start + dt.timedelta(minutes=15 * k), v) for k, v in enumerate(values)]
    runs = m.identical_runs(points, 16)
    assert [(r.value, r.count, r.start, r.end) for r in runs] == [
        (7.5, 16, D(2026, 5, 1, 0, 30), D(2026, 5, 1, 4, 15))
    ]
    assert len(m.identical_runs(points, 16, ignore_zero=False)) == 2
    assert m.identical_runs(points[:17], 17) == []


def test_working_days_for_the_repair_rule():
    fri = dt.date(2026, 5, 15)
    assert fri.weekday() == 4
    assert m.working_days_between(fri, dt.date(2026, 5, 18), CAL) == 1  # Sat, Sun, Mon
    assert m.working_days_between(fri, dt.date(2026, 5, 20), CAL) == 3
    assert m.working_days_between(fri, fri, CAL) == 0
    assert m.add_working_days(fri, 3, CAL) == dt.date(2026, 5, 20)
    # Monday–Friday only where no notice applies; 2026 has 19 weekday holidays and 6 调休 Saturdays/Sundays
    assert m.working_days_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31), WEEKDAYS) == 260
    assert m.working_days_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31), CAL) == 260 - 18 + 6
    # over 国庆 2026 (1–7 Oct off, Sat 10 Oct worked): 30 Sep + 3 working days = Thu 8, Fri 9, Sat 10
    assert m.add_working_days(dt.date(2026, 9, 30), 3, WEEKDAYS) == dt.date(2026, 10, 5)
    assert m.add_working_days(dt.date(2026, 9, 30), 3, CAL) == dt.date(2026, 10, 10)
    assert not m.is_working_day(dt.date(2026, 10, 5), CAL) and m.is_working_day(
        dt.date(2026, 10, 10), CAL
    )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2030, 1, 1)), st.integers(0, 40))
def test_add_and_count_working_days_agree(start, n):
    for cal in (CAL, WEEKDAYS):
        assert m.working_days_between(start, m.add_working_days(start, n, cal), cal) == n


def test_upload_late():
    assert m.upload_late(None, NOW, RULES)
    assert not m.upload_late(NOW - dt.timedelta(minutes=60), NOW, RULES)
    assert m.upload_late(NOW - dt.timedelta(minutes=61), NOW, RULES)


# ---- reconciliation -----------------------------------------------------------------------

KINDS = {"23": "electricity", "01": "coal", "10": "natural_gas"}


def test_reconcile_explains_each_gap():
    meters = {
        "23": m.MeterTotal("23", Decimal("97"), 0.97),  # −3 %: within 5 %
        "01": m.MeterTotal("01", Decimal("1100"), 1.0),  # +10 % vs consumption, +0 % vs purchases
        "10": m.MeterTotal("10", Decimal("8"), 0.80),  # −20 %, 80 % complete → 10.0 scaled
    }
    report = {
        "23": m.ReportFigure("23", Decimal("100"), Decimal("100")),
        "01": m.ReportFigure("01", Decimal("1000"), Decimal("1100")),
        "10": m.ReportFigure("10", Decimal("10"), Decimal("10")),
        "15": m.ReportFigure("15", Decimal("5"), Decimal("5")),
    }
    lines = {g.product_code: g for g in m.reconcile(meters, report, KINDS, RULES)}
    assert lines["23"].gap == Decimal("-3") and lines["23"].reasons == ("within_tolerance",)
    assert lines["01"].gap_frac == pytest.approx(0.10)
    assert lines["01"].purchases_gap_frac == pytest.approx(0.0)
    assert lines["01"].reasons == ("storable",)  # explained by stock change
    assert lines["10"].adjusted_meter_qty == Decimal("10")
    assert lines["10"].reasons == ("incomplete",)
    assert lines["15"].reasons == ("no_meter",) and lines["15"].gap is None
    assert list(lines) == ["23", "01", "10", "15"]
    for line in lines.values():
        for r in line.reasons:
            assert m.gap_reason_text(line, r, RULES) and m.gap_reason_text(line, r, RULES, "en")


def test_reconcile_small_data_gap_that_scaling_closes():
    meters = {"23": m.MeterTotal("23", Decimal("93"), 0.95)}  # −7 %; 93 / 0.95 = 97.9 (−2.1 %)
    report = {"23": m.ReportFigure("23", Decimal("100"), Decimal("100"))}
    (line,) = m.reconcile(meters, report, KINDS, RULES)
    assert line.reasons == ("incomplete",)
    meters = {"23": m.MeterTotal("23", Decimal("80"), 0.95)}  # scaling leaves −15.8 %
    (line,) = m.reconcile(meters, report, KINDS, RULES)
    assert line.reasons == ("unexplained",)


def test_reconcile_unexplained_and_missing_report():
    meters = {"23": m.MeterTotal("23", Decimal("120"), 1.0)}
    report = {"23": m.ReportFigure("23", Decimal("100"), Decimal("100"))}
    (line,) = m.reconcile(meters, report, KINDS, RULES)
    assert line.reasons == ("unexplained",) and line.within_tolerance is False
    (line,) = m.reconcile(meters, None, KINDS, RULES)
    assert line.reasons == ("no_report",) and line.gap is None
    (line,) = m.reconcile(meters, {}, KINDS, RULES)
    assert line.reasons == ("not_in_report",)


def test_meter_rows_feed_the_accounting_engine():
    from dualcontrol.core.energy import account_report
    from dualcontrol.reference.accounting import accounting_rules, product_coefficients
    from dualcontrol.reference.carbon import carbon_factors
    from dualcontrol.reference.electricity import electricity_equivalent

    meters = {"23": m.MeterTotal("23", Decimal("100")), "01": m.MeterTotal("01", Decimal("1000"))}
    rows = m.meter_rows(meters, {"23": "万千瓦时", "01": "吨"})
    assert [r.product_code for r in rows] == ["01", "23"]
    assert rows[1].consumption_total == rows[1].purchases_qty == Decimal(100)
    account = account_report(
        rows,
        product_coefficients(),
        electricity_equivalent(2026),
        carbon_factors(year=2026),
        accounting_rules(),
    )
    # 1000 t × 0.7143 + 100 万kWh × 1.229 (当量值) = 714.3 + 122.9
    assert account.comprehensive_calorific_tce == Decimal("837.2000")
