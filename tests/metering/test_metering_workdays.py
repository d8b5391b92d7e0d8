"""The 3-working-day repair rule counts China's public holidays and 调休 (reference/data/holidays_cn.csv):
over 国庆 a silent unit is not overdue, the fault pages and API show the deadline after the holiday, and
a deadline in a year without a notice is flagged as counted Monday–Friday."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from metering_world import ELEC, at, build, day_of_readings

from dualcontrol.accounts.models import Role
from dualcontrol.metering import services
from dualcontrol.metering.models import Alert, AlertKind
from dualcontrol.reference.workcalendar import work_calendar
from tests.auth import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def mw(world):
    return build(world)


def _uploads_until_30_september(mw) -> None:
    # Monday 30 Sep 2024 is the last day with readings; 1–7 Oct 2024 is the 国庆 holiday
    services.ingest(
        entity=mw.unit,
        readings=day_of_readings(ELEC, dt.date(2024, 9, 30)),
        user=mw.user(Role.ENTERPRISE),
        now=at(2024, 10, 1, 0, 10),
    )


def _overdue(mw, now: dt.datetime) -> bool:
    s = services.run_checks(now=now, entities=[mw.unit], parts=["uploads"])
    return s.raised.get(AlertKind.FAULT_OVERDUE, 0) == 1


def test_silent_over_guoqing_is_not_overdue_on_4_october(mw):
    _uploads_until_30_september(mw)
    # Monday–Friday alone would count 1, 2, 3, 4 Oct = 4 working days > 3
    assert not _overdue(mw, at(2024, 10, 4, 9, 0))
    assert not _overdue(mw, at(2024, 10, 10, 23, 0))  # 8, 9, 10 Oct: 3 working days, the limit
    assert _overdue(mw, at(2024, 10, 11, 9, 0))  # Friday 11 Oct: the 4th working day
    alert = Alert.objects.get(kind=AlertKind.FAULT_OVERDUE)
    assert alert.params["working_days"] == 4
    assert "weekday_fallback_years" not in alert.params
    assert "已 4 个工作日" in alert.message and "周一至周五" not in alert.message


def test_silent_into_a_year_without_notice_is_flagged(mw):
    cal = work_calendar()
    year = max(cal.years) + 1
    services.ingest(
        entity=mw.unit,
        readings=day_of_readings(ELEC, dt.date(year - 1, 12, 24)),
        user=mw.user(Role.ENTERPRISE),
        now=at(year - 1, 12, 25, 0, 10),
    )
    assert _overdue(mw, at(year, 1, 8, 9, 0))
    alert = Alert.objects.get(kind=AlertKind.FAULT_OVERDUE)
    assert alert.params["weekday_fallback_years"] == [year]
    assert f"{year} 年节假日安排未收录" in alert.message


def _fault(mw, started: dt.datetime):
    return services.file_fault(
        entity=mw.unit,
        user=mw.user(Role.ENTERPRISE),
        started=started,
        expected_repair=started.date() + dt.timedelta(days=20),
        reason="网关故障",
        now=started + dt.timedelta(hours=1),
    )


def _api_faults(mw) -> dict[int, dict]:
    c = Client()
    r = c.post(
        "/api/auth/token",
        json.dumps({"username": mw.user(Role.ENTERPRISE).username, "password": "test-pass-123"}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    r = c.get("/api/metering/faults", HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert r.status_code == 200
    return {f["id"]: f for f in r.json()["items"]}


def test_fault_deadline_on_the_page_and_in_the_api(mw):
    cal = work_calendar()
    year = max(cal.years) + 1
    before_guoqing = _fault(mw, at(2024, 9, 30, 8, 0))
    into_unknown_year = _fault(mw, at(year - 1, 12, 29, 8, 0))
    expected_unknown = cal.add_working_days(dt.date(year - 1, 12, 29), 3)
    assert expected_unknown.year == year

    faults = _api_faults(mw)
    assert faults[before_guoqing.pk]["repair_deadline"] == "2024-10-10"  # Mon–Fri alone: 3 Oct
    assert faults[before_guoqing.pk]["repair_deadline_estimated"] is False
    assert faults[into_unknown_year.pk]["repair_deadline"] == expected_unknown.isoformat()
    assert faults[into_unknown_year.pk]["repair_deadline_estimated"] is True

    c = login(Client(), mw.user(Role.CITY_OFFICER))
    html = c.get("/metering/faults/").content.decode()
    assert "2024-10-10" in html and "2024-10-03" not in html
    assert html.count(">推算</span>") == 1  # only the deadline in the year without a notice
    assert "国务院办公厅各年《部分节假日安排的通知》" in html
    assert "holidays_cn.csv@" in html and "holidays_cn.yaml@" in html


def test_a_fault_time_without_a_zone_is_local_time_not_a_server_error(mw):
    """Issue 13: ``"started": "2026-05-01T10:00:00"`` answered 500 (naive vs aware)."""
    c = Client()
    r = c.post(
        "/api/auth/token",
        json.dumps({"username": mw.user(Role.ENTERPRISE).username, "password": "test-pass-123"}),
        content_type="application/json",
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {r.json()['token']}"}
    body = {"started": "2024-09-30T08:00:00", "expected_repair": "2024-10-20", "reason": "网关故障"}
    r = c.post(
        f"/api/metering/units/{mw.unit.uscc}/faults",
        json.dumps(body),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 201, r.content
    assert r.json()["started"].startswith("2024-09-30T08:00:00+08:00")
    body["started"] = "2999-01-01T08:00:00"
    r = c.post(
        f"/api/metering/units/{mw.unit.uscc}/faults",
        json.dumps(body),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 409 and "晚于当前时间" in r.json()["detail"]
