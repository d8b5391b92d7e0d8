"""Configuration services (validated, versioned, audited, scoped) and the alarm evaluation and
effective-transmission rate over data stored by the sink."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.monitoring import queries, services
from dualcontrol.monitoring.models import Alarm, AlarmKind, PollutantLimit
from dualcontrol.monitoring.sink import DatabaseSink
from tests.monitoring.helpers import hour_record, make_outlet

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)
BJ = dt.timezone(dt.timedelta(hours=8))


def local(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute)


def aware(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=BJ)


# --------------------------------------------------------------------------------------------
# Outlets, limits, ranges
# --------------------------------------------------------------------------------------------


def test_create_outlet_validates_audits_and_respects_scope(world):
    city = world.users[Role.CITY_OFFICER]
    outlet = services.create_outlet(
        user=city,
        entity=world.unit,
        mn="53010200000001",
        name="废水总排口",
        kind="water",
        permit_number="91530102mA000000001p",
    )
    assert outlet.permit_number == "91530102MA000000001P"
    entry = AuditEntry.objects.get(action="monitoring.outlet.create")
    assert entry.actor == city and entry.after["mn"] == "53010200000001"
    with pytest.raises(ValidationError) as err:
        services.create_outlet(
            user=city, entity=world.unit, mn="53010200000001", name="x", kind="air"
        )
    assert set(err.value.message_dict) == {"mn", "kind"}
    with pytest.raises(ValidationError):
        services.create_outlet(user=city, entity=world.unit, mn="MN=1;x", name="x", kind="gas")
    # a city officer manages only its region; enterprises and verifiers configure nothing
    with pytest.raises(PermissionDenied):
        services.create_outlet(
            user=city, entity=world.other_unit, mn="OTHER1", name="x", kind="gas"
        )
    for role in (Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(PermissionDenied):
            services.update_outlet(user=world.users[role], outlet=outlet, name="改名")
    services.update_outlet(user=world.users[Role.PROVINCE_OFFICER], outlet=outlet, active=False)
    outlet.refresh_from_db()
    assert outlet.active is False
    change = AuditEntry.objects.get(action="monitoring.outlet.update")
    assert change.before["active"] is True and change.after["active"] is False


def test_limits_are_versioned(world):
    outlet = make_outlet(world.unit)
    admin = world.users[Role.PROVINCE_ADMIN]
    first = services.set_limit(
        user=admin,
        outlet=outlet,
        code="w01018",
        limit_value="100",
        unit="mg/L",
        standard="GB 8978-1996",
        valid_from=dt.date(2025, 1, 1),
    )
    second = services.set_limit(
        user=admin,
        outlet=outlet,
        code="w01018",
        limit_value="60",
        unit="mg/L",
        standard="地方标准",
        valid_from=dt.date(2026, 1, 1),
    )
    first.refresh_from_db()
    assert first.valid_to == dt.date(2025, 12, 31) and second.valid_to is None
    assert [lim.limit_value for lim in queries.limits_on(outlet, dt.date(2025, 6, 1))] == [100]
    assert [lim.limit_value for lim in queries.limits_on(outlet, dt.date(2026, 6, 1))] == [60]
    with pytest.raises(ValidationError):  # overlaps the version from 2026-01-01
        services.set_limit(
            user=admin,
            outlet=outlet,
            code="w01018",
            limit_value="50",
            unit="mg/L",
            standard="x",
            valid_from=dt.date(2026, 1, 1),
        )
    with pytest.raises(ValidationError) as err:
        services.set_limit(
            user=admin,
            outlet=outlet,
            code="zz999",
            limit_value="-1",
            unit="",
            standard="",
            valid_from=dt.date(2026, 1, 1),
        )
    assert "code" in err.value.message_dict
    entry = AuditEntry.objects.get(action="monitoring.limit.set", object_id=str(second.pk))
    assert entry.before["closed"][0]["after"]["valid_to"] == "2025-12-31"
    assert PollutantLimit.objects.count() == 2


def test_analyser_range(world):
    outlet = make_outlet(world.unit)
    admin = world.users[Role.PROVINCE_ADMIN]
    services.set_analyser_range(
        user=admin, outlet=outlet, code="w01018", low=0, high=500, unit="mg/L"
    )
    services.set_analyser_range(
        user=admin, outlet=outlet, code="w01018", low=0, high=1000, unit="mg/L"
    )
    assert outlet.ranges.get().high == 1000
    with pytest.raises(ValidationError):
        services.set_analyser_range(
            user=admin, outlet=outlet, code="w01018", low=5, high=1, unit="x"
        )
    assert AuditEntry.objects.filter(action="monitoring.range.set").count() == 2


# --------------------------------------------------------------------------------------------
# Alarms over stored data
# --------------------------------------------------------------------------------------------


def _outlet_with_data(world, *, hours_missing=(), exceed=(), flags=None, values=None):
    outlet = make_outlet(world.unit, mn="ALARM0001", connected_on=DAY - dt.timedelta(days=3))
    services.set_limit(
        user=None,
        outlet=outlet,
        code="w01018",
        limit_value=100,
        unit="mg/L",
        standard="GB 8978-1996",
        valid_from=dt.date(2025, 1, 1),
    )
    services.set_analyser_range(
        user=None, outlet=outlet, code="w21003", low=0, high=50, unit="mg/L"
    )
    records = []
    for h in range(24):
        if h in hours_missing:
            continue
        cod = "150" if h in exceed else f"{40 + h % 5}"
        nh3 = (values or {}).get(h, f"{5 + h % 3 / 10:.1f}")
        flag = (flags or {}).get(h, "N")
        records.append(
            hour_record(outlet.mn, local(DAY, h), {"w01018": (cod, flag), "w21003": (nh3, "N")})
        )
    # the day before and after exist (the gaps are inside the day)
    records.append(
        hour_record(outlet.mn, local(DAY - dt.timedelta(days=1), 23), {"w01018": ("40", "N")})
    )
    records.append(
        hour_record(outlet.mn, local(DAY + dt.timedelta(days=1), 0), {"w01018": ("40", "N")})
    )
    DatabaseSink().store(records)
    return outlet


def test_evaluate_alarms_finds_each_kind_and_is_idempotent(world):
    _outlet_with_data(
        world,
        hours_missing=(5, 6),
        exceed=(10, 11, 12, 20),
        flags={12: "M"},
        values={3: "-1", 15: "80", **dict.fromkeys(range(16, 23), "7.5")},
    )
    now = aware(DAY + dt.timedelta(days=2))
    summary = services.evaluate_alarms(day=DAY, now=now)
    assert summary.outlets == 1 and summary.created == 6
    alarms = {(a.kind, a.code, a.started_at.astimezone(BJ).hour): a for a in Alarm.objects.all()}
    # 超标: 10-11 (12 is flagged M: not valid), and 20
    ex = sorted(
        (h, a.records, a.peak_value) for (k, _, h), a in alarms.items() if k == "exceedance"
    )
    assert ex == [(10, 2, 150.0), (20, 1, 150.0)]
    # 断线: last data 04:00, next 07:00 (3 h > 60 min)
    off = alarms[("offline", "", 4)]
    assert off.ended_at == aware(DAY, 7) and not off.ongoing and off.limit_value == 60
    # 异常值: negative at 03:00, out of the 0-50 range at 15:00, 7.5 stuck 16:00-22:00
    assert alarms[("negative", "w21003", 3)].peak_value == -1
    assert alarms[("out_of_range", "w21003", 15)].peak_value == 80
    stuck = alarms[("stuck", "w21003", 16)]
    assert stuck.records == 7 and stuck.ended_at == aware(DAY, 22)
    assert {a.rules_version for a in alarms.values()} == {summary.rules_version}
    assert len(alarms) == 6
    again = services.evaluate_alarms(day=DAY, now=now)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert Alarm.objects.count() == 6
    assert AuditEntry.objects.filter(action="monitoring.alarms.evaluate").count() == 2


def test_alarms_of_a_day_follow_corrected_data(world):
    outlet = _outlet_with_data(world, exceed=(10,))
    now = aware(DAY + dt.timedelta(days=2))
    services.evaluate_alarms(day=DAY, now=now)
    assert Alarm.objects.filter(kind=AlarmKind.EXCEEDANCE).count() == 1
    # the limit is raised retroactively: the exceedance is gone when the day is evaluated again
    lim = outlet.limits.get()
    lim.limit_value = 200
    lim.save()
    summary = services.evaluate_alarms(day=DAY, now=now)
    assert summary.removed == 1 and not Alarm.objects.filter(kind="exceedance").exists()


def test_offline_episode_spanning_midnight_is_one_alarm(world):
    outlet = make_outlet(world.unit, mn="SPAN0001")
    records = [hour_record(outlet.mn, local(DAY, h), {"w01018": ("1", "N")}) for h in range(22)]
    DatabaseSink().store(records)
    services.evaluate_alarms(day=DAY, now=aware(DAY + dt.timedelta(days=1), 3))
    (alarm,) = Alarm.objects.filter(kind="offline")
    assert alarm.started_at == aware(DAY, 21) and alarm.ongoing
    DatabaseSink().store(
        [hour_record(outlet.mn, local(DAY + dt.timedelta(days=1), 6), {"w01018": ("1", "N")})]
    )
    services.evaluate_alarms(
        day=DAY + dt.timedelta(days=1), now=aware(DAY + dt.timedelta(days=1), 8)
    )
    (alarm,) = Alarm.objects.filter(kind="offline", started_at=aware(DAY, 21))
    assert alarm.ended_at == aware(DAY + dt.timedelta(days=1), 6) and not alarm.ongoing
    with pytest.raises(ValidationError):
        services.evaluate_alarms(day=DAY + dt.timedelta(days=5), now=aware(DAY))


def test_effective_transmission_rate_per_day_and_month(world):
    outlet = _outlet_with_data(world, hours_missing=(5, 6), flags={12: "M", 13: "D"})
    outlet = queries.visible_outlets(world.users[Role.PROVINCE_ADMIN]).get(pk=outlet.pk)
    now = aware(
        DAY + dt.timedelta(days=1),
        6,
    )
    rates = queries.daily_rates(
        [outlet], DAY - dt.timedelta(days=4), DAY + dt.timedelta(days=1), now=now
    )[outlet.pk]
    # items: COD (the only assessed item with a limit); 22 of 24 hours, 20 valid
    day = rates[DAY]
    assert (day.expected, day.received, day.valid) == (24, 22, 20)
    assert day.effective_frac == pytest.approx(20 / 24)
    assert day.transmission_frac * day.validity_frac == pytest.approx(day.effective_frac)
    # before the outlet went online nothing is expected; the current day counts completed hours
    assert rates[DAY - dt.timedelta(days=4)].expected == 0
    assert rates[DAY + dt.timedelta(days=1)].expected == 6
    assert rates[DAY + dt.timedelta(days=1)].received == 1
    month = queries.total(rates)
    assert month.expected == 24 * 4 + 6  # three days before DAY from connected_on, DAY, 6 h


def test_statuses_and_unregistered_stations(world):
    outlet = make_outlet(world.unit, mn="STAT0001")
    DatabaseSink().store(
        [
            hour_record(outlet.mn, local(DAY, 8), {"w01018": ("1", "N")}),
            hour_record("NOBODY01", local(DAY, 8), {"w01018": ("1", "N")}),
        ]
    )
    s = queries.statuses(["STAT0001", "NEVER001"], now=aware(DAY, 8) + dt.timedelta(minutes=59))
    assert s["STAT0001"].state == "online" and s["NEVER001"].state == "never"
    assert queries.statuses(["STAT0001"], now=aware(DAY, 10))["STAT0001"].state == "offline"
    count, stations = queries.unregistered_stations()
    assert count == 1 and stations[0].mn == "NOBODY01"
