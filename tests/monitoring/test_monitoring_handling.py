"""Alarm handling (报警处置) and shutdown reports (停运报备).

Shutdown rules: reference/data/monitoring_rules.yaml ``shutdown`` (S1: 停产/停运 documents by the
10th of the next month); the hours an accepted, timely report covers leave the effective-
transmission rate; data gaps inside accepted reports raise no 断线 alarm.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.monitoring import evaluation as ev
from dualcontrol.monitoring import queries, services
from dualcontrol.monitoring.models import (
    Alarm,
    AlarmKind,
    AlarmStatus,
    Shutdown,
    ShutdownKind,
    ShutdownStatus,
)
from dualcontrol.monitoring.rules import monitoring_rules
from dualcontrol.monitoring.sink import DatabaseSink
from tests.auth import login
from tests.monitoring.helpers import hour_record, make_outlet

BJ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 12, tzinfo=BJ)
PDF = b"%PDF-1.4\n% test document\n"


def at(hour: int, minute: int = 0, day: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BJ)


def pdf(name: str = "statement.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


# --------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------


def test_uncovered_and_merged_periods():
    periods = [(at(10), at(12)), (at(11), at(13)), (at(15), at(15))]
    assert ev.merge_periods(periods) == [(at(10), at(13))]
    assert ev.uncovered(at(9), at(14), periods) == [(at(9), at(10)), (at(13), at(14))]
    assert ev.uncovered(at(10), at(13), periods) == []
    assert ev.uncovered(at(8), at(9), periods) == [(at(8), at(9))]


def test_excused_slots_take_every_hour_a_report_touches():
    start = at(0)
    assert ev.excused_slots(start, 24, [(at(10), at(14, 30))]) == frozenset(range(10, 15))
    assert ev.excused_slots(start, 24, [(at(10), at(14))]) == frozenset(range(10, 14))
    # reaching over midnight on both sides: only this day's slots
    assert ev.excused_slots(start, 24, [(at(22, day=9), at(2))]) == frozenset({0, 1})
    assert ev.excused_slots(start, 24, [(at(23), at(3, day=11))]) == frozenset({23})
    assert ev.excused_slots(start, 24, [(at(1, day=11), at(3, day=11))]) == frozenset()


def test_offline_gap_inside_a_report_is_no_episode():
    threshold = dt.timedelta(minutes=60)
    times = [at(h) for h in range(24) if not 6 <= h < 12]  # no data 06:00-11:59
    kwargs = dict(start=at(0), end=at(0, day=11), threshold=threshold, before=None, after=None)
    assert len(ev.offline_gaps(times, **kwargs)) == 1
    assert ev.offline_gaps(times, **kwargs, excused=[(at(5, 30), at(11, 30))]) == []
    # only part of the gap reported: 2 h remain outside the report -> still 断线
    found = ev.offline_gaps(times, **kwargs, excused=[(at(8), at(11))])
    assert len(found) == 1 and found[0].started_at == at(5)


def test_shutdown_deadline_is_the_tenth_of_the_next_month():
    rules = monitoring_rules()
    assert rules.shutdown_deadline_day == 10
    assert rules.shutdown_deadline(2026, 3) == dt.datetime(2026, 4, 11, tzinfo=rules.tz)
    assert rules.shutdown_deadline(2026, 12) == dt.datetime(2027, 1, 11, tzinfo=rules.tz)


# --------------------------------------------------------------------------------------------
# Shutdown reports
# --------------------------------------------------------------------------------------------


@pytest.fixture
def outlet(world):
    o = make_outlet(world.unit, mn="SHUT0001", connected_on=dt.date(2026, 1, 1))
    # hourly COD and NH3-N for 10 March, nothing 10:00-14:59 (the plant stood still)
    DatabaseSink().store(
        [
            hour_record(
                o.mn, dt.datetime(2026, 3, 10, h), {"w01018": ("40", "N"), "w21003": ("5", "N")}
            )
            for h in range(24)
            if not 10 <= h < 15
        ]
    )
    return o


def file(world, outlet, *, start=None, end=None, filed=None, user=None, document=None):
    return services.file_shutdown(
        user=user or world.users[Role.ENTERPRISE],
        outlet=outlet,
        kind=ShutdownKind.PRODUCTION,
        started_at=start or at(10),
        ended_at=end or at(14, 30),
        reason="停产检修",
        document=document or pdf(),
        now=filed or at(16),
    )


def march_10(outlet):
    return queries.daily_rates([outlet], DAY, DAY, now=NOW)[outlet.pk][DAY]


@pytest.mark.django_db
def test_accepted_timely_report_takes_its_hours_out_of_the_rate(world, outlet):
    before = march_10(outlet)
    assert (before.expected, before.received, before.excused) == (48, 38, 0)
    report = file(world, outlet)
    assert march_10(outlet) == before  # filed, not yet accepted: nothing changes
    services.review_shutdown(user=world.users[Role.CITY_OFFICER], shutdown=report, accept=True)
    after = march_10(outlet)
    assert (after.expected, after.received, after.valid, after.excused) == (38, 38, 38, 10)
    assert after.transmission_frac == 1.0 and after.effective_frac == 1.0


@pytest.mark.django_db
def test_a_report_filed_after_the_tenth_of_the_next_month_excuses_nothing(world, outlet):
    late = file(world, outlet, filed=dt.datetime(2026, 4, 11, 0, 5, tzinfo=BJ))
    services.review_shutdown(user=world.users[Role.PROVINCE_OFFICER], shutdown=late, accept=True)
    rate = march_10(outlet)
    assert (rate.expected, rate.excused) == (48, 0)
    on_time = file(world, outlet, filed=dt.datetime(2026, 4, 10, 23, 59, tzinfo=BJ))
    services.review_shutdown(user=world.users[Role.PROVINCE_OFFICER], shutdown=on_time, accept=True)
    assert march_10(outlet).excused == 10


@pytest.mark.django_db
def test_returned_report_excuses_nothing_and_needs_a_reason(world, outlet):
    report = file(world, outlet)
    officer = world.users[Role.CITY_OFFICER]
    with pytest.raises(ValidationError):
        services.review_shutdown(user=officer, shutdown=report, accept=False, note="  ")
    services.review_shutdown(user=officer, shutdown=report, accept=False, note="缺少盖章")
    report.refresh_from_db()
    assert report.status == ShutdownStatus.RETURNED and report.review_note == "缺少盖章"
    assert march_10(outlet).excused == 0
    with pytest.raises(ValidationError):  # reviewed once
        services.review_shutdown(user=officer, shutdown=report, accept=True)


@pytest.mark.django_db
def test_accepting_a_report_withdraws_the_offline_alarm_it_explains(world, outlet):
    services.evaluate_alarms(day=DAY, now=NOW)
    offline = Alarm.objects.filter(outlet=outlet, kind=AlarmKind.OFFLINE)
    assert offline.count() == 1
    report = file(world, outlet, start=at(9, 30), end=at(15, 30))
    services.review_shutdown(user=world.users[Role.CITY_OFFICER], shutdown=report, accept=True)
    assert not offline.exists()  # re-evaluated on acceptance: an open alarm goes


@pytest.mark.django_db
def test_bad_reports_are_refused_whole_with_reasons(world, outlet):
    entries = AuditEntry.objects.count()
    cases = [
        (dict(document=pdf("virus.exe", b"MZ\x90")), "document"),
        (dict(document=pdf("fake.pdf", b"GIF89a")), "document"),
        (dict(document=pdf("empty.pdf", b"")), "document"),
        (dict(start=at(14), end=at(10)), "ended_at"),
        (dict(start=at(0), end=at(0) + dt.timedelta(days=400)), "ended_at"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as info:
            file(world, outlet, **kwargs)
        assert field in info.value.message_dict, kwargs
    assert Shutdown.objects.count() == 0 and AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_who_files_and_reviews(world, outlet):
    with pytest.raises(PermissionDenied):
        file(world, outlet, user=world.users["other_enterprise"])
    with pytest.raises(PermissionDenied):
        file(world, outlet, user=world.users[Role.VERIFIER])
    report = file(world, outlet, user=world.users[Role.CITY_OFFICER])  # staff, from paper
    for who in (Role.ENTERPRISE, "other_city", Role.VERIFIER):
        with pytest.raises(PermissionDenied):
            services.review_shutdown(user=world.users[who], shutdown=report, accept=True)
    entry = AuditEntry.objects.get(action="monitoring.shutdown.file")
    assert entry.after["status"] == "filed" and entry.after["document_name"] == "statement.pdf"


# --------------------------------------------------------------------------------------------
# Alarm handling
# --------------------------------------------------------------------------------------------


@pytest.fixture
def alarm(world, outlet):
    services.set_limit(
        user=None,
        outlet=outlet,
        code="w01018",
        limit_value=30,
        unit="mg/L",
        standard="test",
        valid_from=dt.date(2026, 1, 1),
    )
    services.evaluate_alarms(day=DAY, now=NOW)
    # COD 40 against 30, with the 10:00-14:59 gap between: two episodes; the first one
    return Alarm.objects.filter(outlet=outlet, kind=AlarmKind.EXCEEDANCE).order_by("started_at")[0]


@pytest.mark.django_db
def test_alarm_is_explained_closed_and_reopened_with_an_audit_trail(world, alarm):
    unit, city = world.users[Role.ENTERPRISE], world.users[Role.CITY_OFFICER]
    alarm = services.explain_alarm(user=unit, alarm=alarm, text="限值设置错误，已申请更正")
    assert alarm.status == AlarmStatus.EXPLAINED and alarm.explained_by == unit
    alarm = services.close_alarm(user=city, alarm=alarm, note="已核实")
    assert alarm.status == AlarmStatus.CLOSED and alarm.closed_by == city
    with pytest.raises(ValidationError):
        services.explain_alarm(user=unit, alarm=alarm, text="再说明")
    alarm = services.reopen_alarm(user=city, alarm=alarm, note="复核不通过")
    assert alarm.status == AlarmStatus.EXPLAINED and alarm.closed_at is None
    actions = list(
        AuditEntry.objects.filter(object_type="monitoring.alarm", object_id=str(alarm.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "monitoring.alarm.explain",
        "monitoring.alarm.close",
        "monitoring.alarm.reopen",
    ]


@pytest.mark.django_db
def test_alarm_handling_permissions_and_reasons(world, alarm):
    with pytest.raises(PermissionDenied):
        services.explain_alarm(user=world.users["other_enterprise"], alarm=alarm, text="x")
    with pytest.raises(PermissionDenied):
        services.explain_alarm(user=world.users[Role.VERIFIER], alarm=alarm, text="x")
    with pytest.raises(PermissionDenied):
        services.close_alarm(user=world.users[Role.ENTERPRISE], alarm=alarm, note="x")
    with pytest.raises(PermissionDenied):
        services.close_alarm(user=world.users["other_city"], alarm=alarm, note="x")
    with pytest.raises(ValidationError):
        services.explain_alarm(user=world.users[Role.ENTERPRISE], alarm=alarm, text="  ")
    with pytest.raises(ValidationError):
        services.close_alarm(user=world.users[Role.PROVINCE_OFFICER], alarm=alarm, note="")


@pytest.mark.django_db
def test_reevaluation_keeps_handled_alarms_as_withdrawn(world, outlet, alarm):
    services.explain_alarm(user=world.users[Role.ENTERPRISE], alarm=alarm, text="说明")
    offline = Alarm.objects.get(outlet=outlet, kind=AlarmKind.OFFLINE)
    # corrected data arrive for the whole day: no exceedance, no gap any more
    from dualcontrol.monitoring.models import HourReading, Receipt

    HourReading.objects.filter(mn=outlet.mn).delete()
    Receipt.objects.filter(mn=outlet.mn).delete()
    DatabaseSink().store(
        [
            hour_record(outlet.mn, dt.datetime(2026, 3, 10, h), {"w01018": (f"{20 + h % 5}", "N")})
            for h in range(24)
        ]
    )
    summary = services.evaluate_alarms(day=DAY, now=NOW)
    alarm.refresh_from_db()
    assert alarm.status == AlarmStatus.WITHDRAWN and alarm.explanation == "说明"
    assert not Alarm.objects.filter(pk=offline.pk).exists()  # an open one just goes
    assert summary.withdrawn == 1 and summary.removed >= 1
    assert set(Alarm.objects.filter(outlet=outlet).values_list("status", "kind")) == {
        (AlarmStatus.WITHDRAWN, "exceedance")
    }


# --------------------------------------------------------------------------------------------
# Pages and API
# --------------------------------------------------------------------------------------------


def client_as(world, role):
    c = Client()
    login(c, world.users[role])
    return c


@pytest.mark.django_db
def test_pages_explain_close_file_review_and_download(world, outlet, alarm):
    unit = client_as(world, Role.ENTERPRISE)
    page = unit.get(f"/monitoring/alarms/{alarm.pk}/").content.decode()
    assert 'value="explain"' in page and 'value="close"' not in page
    r = unit.post(
        f"/monitoring/alarms/{alarm.pk}/", {"action": "explain", "text": "设备故障已修复"}
    )
    assert r.status_code == 302
    city = client_as(world, Role.CITY_OFFICER)
    r = city.post(f"/monitoring/alarms/{alarm.pk}/", {"action": "close", "note": "已核实"})
    assert r.status_code == 302
    alarm.refresh_from_db()
    assert alarm.status == AlarmStatus.CLOSED
    assert "设备故障已修复" in city.get(f"/monitoring/alarms/{alarm.pk}/").content.decode()
    # the unit files a shutdown report with its document; the officer accepts it
    r = unit.post(
        f"/monitoring/outlets/{outlet.pk}/shutdowns/new/",
        {
            "kind": "production",
            "started_at": "2026-03-10T10:00",
            "ended_at": "2026-03-10T14:30",
            "reason": "停产检修",
            "document": pdf(),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    report = Shutdown.objects.get(outlet=outlet)
    listing = city.get("/monitoring/shutdowns/").content.decode()
    assert 'value="accept"' in listing and "停产检修" in listing
    assert 'value="accept"' not in unit.get("/monitoring/shutdowns/").content.decode()
    r = city.post(f"/monitoring/shutdowns/{report.pk}/review/", {"action": "accept", "note": ""})
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.status == ShutdownStatus.ACCEPTED
    download = unit.get(f"/monitoring/shutdowns/{report.pk}/document/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    other = client_as(world, "other_enterprise")
    assert other.get(f"/monitoring/shutdowns/{report.pk}/document/").status_code == 404
    assert (
        other.post(f"/monitoring/shutdowns/{report.pk}/review/", {"action": "accept"}).status_code
        == 403
    )


@pytest.mark.django_db
def test_bad_document_on_the_page_is_refused_with_the_reason(world, outlet):
    unit = client_as(world, Role.ENTERPRISE)
    r = unit.post(
        f"/monitoring/outlets/{outlet.pk}/shutdowns/new/",
        {
            "kind": "production",
            "started_at": "2026-03-10T10:00",
            "ended_at": "2026-03-10T14:30",
            "reason": "停产检修",
            "document": pdf("run.exe", b"MZ"),
        },
    )
    assert r.status_code == 200 and "不接受 .exe 文件" in r.content.decode()
    assert not Shutdown.objects.exists()


@pytest.mark.django_db
def test_api_explain_close_and_list(world, outlet, alarm):
    unit = client_as(world, Role.ENTERPRISE)
    r = unit.post(
        f"/api/monitoring/alarms/{alarm.pk}/explain",
        {"text": "已整改"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "explained"
    r = unit.post(
        f"/api/monitoring/alarms/{alarm.pk}/close", {"note": "x"}, content_type="application/json"
    )
    assert r.status_code == 403
    city = client_as(world, Role.CITY_OFFICER)
    r = city.post(
        f"/api/monitoring/alarms/{alarm.pk}/close", {"note": ""}, content_type="application/json"
    )
    assert r.status_code == 422
    r = city.post(
        f"/api/monitoring/alarms/{alarm.pk}/close",
        {"note": "已核实"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert city.get("/api/monitoring/alarms?status=closed").json()["count"] == 1
    other = client_as(world, "other_enterprise")
    assert (
        other.post(
            f"/api/monitoring/alarms/{alarm.pk}/explain",
            {"text": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    report = file(world, outlet)
    assert [s["mn"] for s in unit.get("/api/monitoring/shutdowns").json()["items"]] == ["SHUT0001"]
    assert other.get("/api/monitoring/shutdowns").json()["count"] == 0
    services.review_shutdown(user=world.users[Role.CITY_OFFICER], shutdown=report, accept=True)
    rates = unit.get(f"/api/monitoring/outlets/{outlet.pk}?month=2026-03").json()["rates"]
    day = next(r for r in rates if r["day"] == "2026-03-10")
    # the COD limit makes COD the one assessed item: 5 hours excused, 19 expected
    assert (day["excused_by_shutdowns"], day["expected"], day["transmission_pct"]) == (5, 19, 100.0)


@pytest.mark.django_db
def test_officers_see_how_many_reports_wait_for_them(world, outlet):
    file(world, outlet)
    badge = 'title="待审核">1</span>'
    assert badge in client_as(world, Role.CITY_OFFICER).get("/monitoring/").content.decode()
    assert badge not in client_as(world, "other_city").get("/monitoring/").content.decode()
    assert badge not in client_as(world, Role.ENTERPRISE).get("/monitoring/").content.decode()
