"""China's public holidays and adjusted working days — specifications.

Sources: the State Council General Office's annual notices 国务院办公厅关于YYYY年部分节假日安排的通知
(2011–2026) and the notices that changed a year (国发明电〔2015〕1号 抗战胜利70周年纪念日,
国办发明电〔2019〕3号 劳动节 2019, 国办发明电〔2020〕1号 春节 2020 extended), transcribed in
reference/data/holidays_cn.csv and described in holidays_cn.yaml.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualcontrol.core.workcalendar import (
    CalendarDay,
    DayKind,
    WorkCalendar,
    WorkCalendarError,
    build_calendar,
)
from dualcontrol.reference import ReferenceDataError, load_csv
from dualcontrol.reference import workcalendar as ref
from dualcontrol.reference.workcalendar import calendar_info, calendar_rows, work_calendar

CAL = work_calendar()
INFO = calendar_info()
D = dt.date
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


def off(*days: dt.date) -> bool:
    return not any(CAL.is_working_day(d) for d in days)


def span(a: dt.date, b: dt.date) -> list[dt.date]:
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


# ---- known days from the notices ---------------------------------------------------------------


def test_2024_from_guobanfamingdian_2023_7():
    assert D(2024, 2, 4).weekday() == 6 and CAL.is_working_day(D(2024, 2, 4))  # Sunday worked
    assert CAL.is_working_day(D(2024, 2, 18))  # Sunday worked
    assert CAL.is_working_day(D(2024, 2, 9))  # 除夕: only "encouraged" off, a working day
    assert off(*span(D(2024, 2, 10), D(2024, 2, 17)))
    assert off(*span(D(2024, 10, 1), D(2024, 10, 7)))
    assert CAL.is_working_day(D(2024, 9, 29)) and CAL.is_working_day(D(2024, 10, 12))
    assert CAL.is_working_day(D(2024, 10, 8))
    assert off(D(2024, 1, 1), D(2024, 6, 10)) and CAL.is_working_day(D(2024, 4, 7))


def test_2025_from_guobanfamingdian_2024_12():
    assert D(2025, 1, 26).weekday() == 6 and CAL.is_working_day(D(2025, 1, 26))
    assert off(*span(D(2025, 1, 28), D(2025, 2, 4)))
    assert CAL.is_working_day(D(2025, 2, 8)) and CAL.is_working_day(D(2025, 4, 27))
    assert off(*span(D(2025, 10, 1), D(2025, 10, 8)))  # 国庆节、中秋节 together, 8 days
    assert CAL.is_working_day(D(2025, 9, 28)) and CAL.is_working_day(D(2025, 10, 11))
    assert not CAL.is_working_day(D(2025, 5, 31))  # a Saturday inside 端午


def test_2026_spring_festival_from_guobanfamingdian_2025_7():
    assert off(*span(D(2026, 2, 15), D(2026, 2, 23)))  # 9 days
    assert CAL.is_working_day(D(2026, 2, 14)) and CAL.is_working_day(D(2026, 2, 28))  # Saturdays
    assert CAL.is_working_day(D(2026, 2, 24))
    assert CAL.is_working_day(D(2026, 1, 4)) and off(D(2026, 1, 2))


def test_notices_that_changed_a_year():
    # 国办发明电〔2020〕1号: 春节 2020 extended to 2 Feb; Saturday 1 Feb is no longer worked
    assert off(D(2020, 1, 31), D(2020, 2, 1), D(2020, 2, 2)) and CAL.is_working_day(D(2020, 2, 3))
    assert CAL.is_working_day(D(2020, 1, 19))
    # 国办发明电〔2019〕3号: 劳动节 2019 became 1–4 May, Sundays 28 Apr and 5 May worked
    assert off(D(2019, 5, 2), D(2019, 5, 3))
    assert CAL.is_working_day(D(2019, 4, 28)) and CAL.is_working_day(D(2019, 5, 5))
    # 国发明电〔2015〕1号: 3–5 Sep 2015 off, Sunday 6 Sep worked
    assert off(D(2015, 9, 3), D(2015, 9, 4)) and CAL.is_working_day(D(2015, 9, 6))


def test_a_new_years_period_set_by_the_next_years_notice():
    # the 2012 notice: Saturday 31 Dec 2011 worked; the 2019 notice: 30 Dec 2018 – 1 Jan 2019 off
    assert CAL.is_working_day(D(2011, 12, 31))
    assert off(D(2018, 12, 31), D(2019, 1, 1)) and CAL.is_working_day(D(2018, 12, 29))
    # the 2023 notice: 31 Dec 2022 – 2 Jan 2023 off
    assert off(D(2023, 1, 2))


# ---- counting ----------------------------------------------------------------------------------


def test_add_working_days_across_guoqing():
    assert CAL.add_working_days(D(2024, 9, 30), 3) == D(2024, 10, 10)  # Mon–Fri alone: 3 Oct
    assert CAL.add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)  # the 调休 Sunday
    assert CAL.add_working_days(D(2024, 10, 4), 0) == D(2024, 10, 4)
    assert CAL.working_days_between(D(2024, 9, 30), D(2024, 10, 7)) == 0
    assert CAL.working_days_between(D(2024, 9, 30), D(2024, 10, 12)) == 5  # 8–11 and Sat 12


def test_add_working_days_across_chunjie():
    assert CAL.add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)
    assert CAL.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)  # the 调休 Sunday
    assert CAL.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # the 调休 Saturday
    assert CAL.add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert CAL.working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(D(2024, 1, 1), -1)


SLOW_MACHINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW_MACHINE
@given(st.dates(min_value=D(2009, 1, 1), max_value=D(2029, 12, 31)), st.integers(-30, 1500))
def test_count_equals_a_day_by_day_count(a, days):
    b = a + dt.timedelta(days=days)
    naive = sum(1 for d in span(a + dt.timedelta(days=1), b) if CAL.is_working_day(d))
    assert CAL.working_days_between(a, b) == naive


@SLOW_MACHINE
@given(st.dates(min_value=D(2009, 1, 1), max_value=D(2029, 12, 31)), st.integers(0, 60))
def test_add_and_count_agree(start, n):
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    assert n == 0 or CAL.is_working_day(end)


# ---- outside the covered years -----------------------------------------------------------------


def test_covered_years_and_the_fallback():
    assert set(range(2011, 2027)) <= CAL.years
    assert CAL.years == set(INFO.years)
    after = max(CAL.years) + 1
    assert not CAL.covers(D(after, 1, 1)) and not CAL.covers(D(2010, 6, 1))
    assert CAL.covers(D(2026, 12, 31))
    # no notice: Monday–Friday, and the deadline says it was assumed
    assert CAL.is_working_day(D(after, 1, 1)) is (D(after, 1, 1).weekday() < 5)
    inside = CAL.deadline(D(2026, 11, 2), 3)
    assert inside.day == D(2026, 11, 5) and not inside.estimated
    across = CAL.deadline(D(2026, 12, 30), 3)
    assert across.day.year == after and across.estimated
    assert CAL.uncovered_years(D(2026, 12, 30), across.day) == (after,)
    assert CAL.uncovered_years(D(2026, 1, 1), D(2026, 12, 31)) == ()


def test_the_yaml_says_what_happens_outside():
    assert INFO.outside == "weekdays" and INFO.outside_source
    assert 2027 in INFO.pending or 2027 in CAL.years
    assert not set(INFO.pending) & CAL.years


def test_weekdays_only_calendar():
    cal = WorkCalendar.weekdays_only()
    assert not cal.covers(D(2024, 10, 1)) and cal.is_working_day(D(2024, 10, 1))
    assert cal.working_days_between(D(2024, 9, 27), D(2024, 10, 4)) == 5
    assert cal.deadline(D(2024, 9, 30), 3).estimated


# ---- the reference data, row by row -----------------------------------------------------------


def _raw_rows() -> list[dict[str, str]]:
    return list(load_csv(ref.CSV_FILE, required=ref.COLUMNS).rows)


def test_every_row_is_consistent():
    rows = _raw_rows()
    dates = Counter(r["date"] for r in rows)
    assert [d for d, n in dates.items() if n > 1] == []  # no date twice
    for r in rows:
        day = D.fromisoformat(r["date"])
        assert r["kind"] in ("holiday", "workday"), r
        if r["kind"] == "workday":
            assert day.weekday() >= 5, f"{r['date']} 调休上班 on a weekday"
        assert int(r["year"]) in (day.year, day.year + 1), r
        assert r["source"].startswith(("国务院办公厅关于", "国务院关于")), r
        assert "www.gov.cn/" in r["source"] and r["notice"] in r["source"], r
        assert any(f in r["name"] for f in FESTIVALS) or "纪念日" in r["name"], r


def test_each_year_has_its_notice_and_its_festivals():
    rows = _raw_rows()
    by_year: dict[int, list[dict[str, str]]] = {}
    for r in rows:
        by_year.setdefault(int(r["year"]), []).append(r)
    assert set(by_year) == set(CAL.years)
    for year, year_rows in by_year.items():
        notices = [n for n in INFO.notices if n.year == year]
        annual = [n for n in notices if n.title == f"国务院办公厅关于{year}年部分节假日安排的通知"]
        assert len(annual) == 1, year  # the annual notice of the year is described
        assert annual[0].number.startswith("国办发明电〔") and annual[0].date.year == year - 1
        assert annual[0].url.startswith(("http://www.gov.cn/", "https://www.gov.cn/"))
        names = "".join(r["name"] for r in year_rows)
        assert all(f in names for f in FESTIVALS), (year, names)
        assert {r["notice"] for r in year_rows} <= {n.number for n in notices}
        assert any(r["notice"] == annual[0].number for r in year_rows)


def test_the_loader_checks_rows_against_the_notices(monkeypatch):
    table = load_csv(ref.CSV_FILE, required=ref.COLUMNS)
    bad = [dict(r) for r in table.rows]
    bad[0]["notice"] = "国办发明电〔1999〕1号"
    bad[1]["source"] = bad[1]["source"].replace("http://", "https://example.org/")
    bad[2]["date"] = "2011-13-01"
    fake = type(table)(name=table.name, version="test", rows=tuple(bad))
    monkeypatch.setattr(ref, "load_csv", lambda name, required=(): fake)
    with pytest.raises(ReferenceDataError) as exc:
        calendar_rows()
    text = str(exc.value)
    assert "row 2" in text and "not described" in text
    assert "row 3" in text and "not the citation" in text
    assert "row 4" in text


def test_building_reports_every_problem():
    rows = [
        CalendarDay(D(2024, 10, 1), DayKind.HOLIDAY, "国庆节", 2024, "n"),
        CalendarDay(D(2024, 10, 1), DayKind.HOLIDAY, "国庆节", 2024, "n"),  # twice
        CalendarDay(D(2024, 10, 8), DayKind.WORKDAY, "国庆节", 2024, "n"),  # a Tuesday
        CalendarDay(D(2023, 6, 3), DayKind.HOLIDAY, "端午节", 2024, "n"),  # not the notice's year
        CalendarDay(D(2030, 1, 1), DayKind.HOLIDAY, "元旦", 2030, "n"),  # year not covered
    ]
    with pytest.raises(WorkCalendarError) as exc:
        build_calendar(rows, [2024, 2025])
    problems = exc.value.problems
    assert any("listed twice" in p for p in problems)
    assert any("2024-10-08" in p and "Saturday or Sunday" in p for p in problems)
    assert any("2023-06-03" in p and "notice's year" in p for p in problems)
    assert any("2030" in p and "not among the covered" in p for p in problems)
    assert any("covered year 2025 has no rows" in p for p in problems)
    assert len(problems) == 5


def test_a_day_cannot_be_both():
    with pytest.raises(WorkCalendarError, match="both"):
        WorkCalendar(holidays=frozenset({D(2024, 1, 6)}), workdays=frozenset({D(2024, 1, 6)}))


def test_the_csv_header_documents_itself():
    text = resources.files("dualcontrol.reference.data").joinpath(ref.CSV_FILE).read_text("utf-8")
    assert text.startswith("#")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert next(csv.reader(io.StringIO(body))) == list(ref.COLUMNS)


# ---- cross-check with the chinese-calendar package (not a dependency) --------------------------


@pytest.mark.parametrize("year", sorted(CAL.years))
def test_matches_the_chinese_calendar_package(year):
    cc = pytest.importorskip(
        "chinese_calendar",
        reason="chinese-calendar is not installed (optional cross-check, not a dependency)",
    )
    from chinese_calendar import constants

    known = {d.year for d in constants.holidays}
    if year not in known:
        pytest.skip(f"chinese-calendar {getattr(cc, '__version__', '?')} has no data for {year}")
    days = span(D(year, 1, 1), D(year, 12, 31))
    differ = [d for d in days if CAL.is_working_day(d) != cc.is_workday(d)]
    assert differ == [], f"{year}: working-day status differs on {differ}"
    ours = {d for d in CAL.workdays if d.year == year}
    theirs = {d for d in constants.workdays if d.year == year}
    assert ours == theirs
    weekday_off = {d for d in CAL.holidays if d.year == year and d.weekday() < 5}
    assert weekday_off == {d for d in constants.holidays if d.year == year and d.weekday() < 5}
