"""Read side of monitoring: scoped outlets and alarms, station status, series, rates.

Access goes through :mod:`dualcontrol.access.scope` (``visible_entities``); nothing here
decides who sees what on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import can_view_entity, visible_entities
from dualcontrol.entities.models import Entity
from dualcontrol.monitoring.evaluation import Period, Rate, effective_rate, excused_slots
from dualcontrol.monitoring.models import (
    ABNORMAL_KINDS,
    Alarm,
    AlarmKind,
    DataType,
    HourReading,
    Outlet,
    PollutantLimit,
    Shutdown,
    Station,
    reading_model,
)
from dualcontrol.monitoring.rules import MonitoringRules, monitoring_rules
from dualcontrol.reference.hj212 import hj212_tables

# --------------------------------------------------------------------------------------------
# Access (composed from accounts.scope)
# --------------------------------------------------------------------------------------------


def visible_outlets(user: Any) -> QuerySet[Outlet]:
    """Outlets of the units the user may see (province: all; city: its region; unit: own …)."""
    return Outlet.objects.select_related("entity", "entity__division").filter(
        entity__in=visible_entities(user).values("pk")
    )


def visible_alarms(user: Any) -> QuerySet[Alarm]:
    return Alarm.objects.select_related(
        "outlet", "outlet__entity", "outlet__entity__division"
    ).filter(outlet__entity__in=visible_entities(user).values("pk"))


def can_manage(user: Any, entity: Entity) -> bool:
    """Province and city staff configure the outlets of the units in their scope."""
    return allows(user, "monitoring.manage") and can_view_entity(user, entity)


def manageable_entities(user: Any) -> QuerySet[Entity]:
    """Units whose outlets the user may register (staff: the units in scope)."""
    if not allows(user, "monitoring.manage"):
        return Entity.objects.none()
    return visible_entities(user).order_by("-is_key_discharger", "name")


# --------------------------------------------------------------------------------------------
# Time helpers (station local time; reference/data/monitoring_rules.yaml station_time)
# --------------------------------------------------------------------------------------------


# A query bound as far out as a time zone can move it without leaving the calendar (a day at
# 0001-01-01 00:00 +08:00 is before the first representable instant in UTC).  Technical.
FIRST_DAY, LAST_DAY = dt.date(dt.MINYEAR + 1, 1, 1), dt.date(dt.MAXYEAR - 1, 12, 31)


def day_start(day: dt.date, rules: MonitoringRules | None = None) -> dt.datetime:
    """The station-local midnight that starts ``day`` (a filter bound; absurd years are held
    inside the calendar, which no stored time is outside of anyway)."""
    tz = (rules or monitoring_rules()).tz
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


def day_end(day: dt.date, rules: MonitoringRules | None = None) -> dt.datetime:
    """The station-local midnight that ends ``day`` (the exclusive bound of a day filter)."""
    return day_start(min(day, LAST_DAY) + dt.timedelta(days=1), rules)


def local_day(when: dt.datetime, rules: MonitoringRules | None = None) -> dt.date:
    return when.astimezone((rules or monitoring_rules()).tz).date()


def pollutant_name(code: str) -> str:
    return hj212_tables().pollutants.get(code, code)


# --------------------------------------------------------------------------------------------
# Station status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """在线状态 of an outlet's data logger."""

    state: str  # online | offline | never
    last_data_time: dt.datetime | None
    last_seen_at: dt.datetime | None

    @property
    def label(self) -> str:
        from django.utils.translation import gettext as _

        return {"online": _("在线"), "offline": _("断线"), "never": _("未收到数据")}[self.state]


def statuses(mns: list[str], *, now: dt.datetime | None = None) -> dict[str, Status]:
    rules = monitoring_rules()
    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=rules.offline_after_minutes)
    out: dict[str, Status] = {}
    stations = Station.objects.in_bulk(mns)
    for mn in mns:
        station = stations.get(mn)
        if station is None or station.last_data_time is None:
            out[mn] = Status("never", None, station.last_seen_at if station else None)
        else:
            state = "online" if station.last_data_time >= limit else "offline"
            out[mn] = Status(state, station.last_data_time, station.last_seen_at)
    return out


def unregistered_stations(limit: int = 20) -> tuple[int, list[Station]]:
    """MNs heard from without a registered outlet (count, most recent first)."""
    qs = Station.objects.exclude(mn__in=Outlet.objects.values("mn")).order_by("-last_seen_at")
    return qs.count(), list(qs[:limit])


def open_alarm_counts(outlet_ids: list[int], since: dt.datetime) -> dict[int, int]:
    rows = (
        Alarm.objects.filter(outlet_id__in=outlet_ids)
        .filter(Q(ongoing=True) | Q(started_at__gte=since))
        .values("outlet_id")
        .annotate(n=Count("id"))
    )
    return {r["outlet_id"]: r["n"] for r in rows}


# --------------------------------------------------------------------------------------------
# Limits and values
# --------------------------------------------------------------------------------------------


def limits_on(outlet: Outlet, day: dt.date) -> list[PollutantLimit]:
    return [
        lim
        for lim in outlet.limits.all()
        if lim.valid_from <= day and (lim.valid_to is None or day <= lim.valid_to)
    ]


def value_of(row: dict[str, Any], field: str) -> float | None:
    column = {"Rtd": "rtd", "Avg": "avg", "ZsAvg": "zs_avg", "ZsRtd": "zs_rtd", "Max": "max"}.get(
        field, "avg"
    )
    value = row.get(column)
    return None if value is None else float(value)


def primary_field(cn: str) -> str:
    """The field shown and checked for a data type: Rtd for real-time data, else Avg."""
    return "Rtd" if cn == DataType.REALTIME else "Avg"


@dataclass(frozen=True)
class LatestRow:
    code: str
    name: str
    values: dict[str, tuple[float | None, str]]  # cn -> (value, flag)
    limit: PollutantLimit | None
    exceeded: bool


def latest_values(outlet: Outlet, *, today: dt.date) -> tuple[list[LatestRow], dict[str, Any]]:
    """Newest record of each data type (real-time, minute, hourly) and the limits in force."""
    times: dict[str, dt.datetime | None] = {}
    by_code: dict[str, dict[str, tuple[float | None, str]]] = defaultdict(dict)
    for cn in (DataType.REALTIME, DataType.MINUTE, DataType.HOUR):
        model = reading_model(cn)
        newest = (
            model.objects.filter(mn=outlet.mn)
            .order_by("-data_time")
            .values_list("data_time", flat=True)
            .first()
        )
        times[cn] = newest
        if newest is None:
            continue
        field = primary_field(cn)
        for row in model.objects.filter(mn=outlet.mn, data_time=newest).values():
            by_code[row["code"]][cn] = (value_of(row, field), row["flag"])
    limits = {lim.code: lim for lim in limits_on(outlet, today) if lim.cn == DataType.HOUR}
    rows = []
    for code in sorted(by_code):
        lim = limits.get(code)
        hour = by_code[code].get(DataType.HOUR)
        exceeded = bool(
            lim is not None and hour and hour[0] is not None and hour[0] > float(lim.limit_value)
        )
        rows.append(LatestRow(code, pollutant_name(code), by_code[code], lim, exceeded))
    return rows, times


def hourly_series(
    outlet: Outlet, start: dt.datetime, end: dt.datetime
) -> dict[str, list[tuple[dt.datetime, float | None, str]]]:
    """Hourly values (the field of the code's limit, else Avg) per code, in time order."""
    fields = {lim.code: lim.field for lim in outlet.limits.all() if lim.cn == DataType.HOUR}
    out: dict[str, list[tuple[dt.datetime, float | None, str]]] = defaultdict(list)
    rows = (
        HourReading.objects.filter(mn=outlet.mn, data_time__gte=start, data_time__lt=end)
        .order_by("data_time", "code")
        .values()
    )
    for row in rows:
        code = row["code"]
        out[code].append((row["data_time"], value_of(row, fields.get(code, "Avg")), row["flag"]))
    return dict(out)


# --------------------------------------------------------------------------------------------
# 数据传输有效率
# --------------------------------------------------------------------------------------------


def assessed_items(outlet: Outlet, rules: MonitoringRules | None = None) -> list[str]:
    """The outlet's assessed items: those of its type with a limit (all of them if none has)."""
    rules = rules or monitoring_rules()
    items = list(rules.assessed_pollutants.get(outlet.kind, ()))
    with_limit = [c for c in items if any(lim.code == c for lim in outlet.limits.all())]
    return with_limit or items


def expected_records(
    outlet: Outlet, day: dt.date, now: dt.datetime, rules: MonitoringRules | None = None
) -> int:
    """Records of one item expected on ``day``: none before the outlet went online or in the
    future, the completed intervals of the current day, else the full day."""
    rules = rules or monitoring_rules()
    if outlet.connected_on is not None and day < outlet.connected_on:
        return 0
    start = day_start(day, rules)
    if start >= now:
        return 0
    per_day = rules.expected_per_day
    step = dt.timedelta(days=1) / per_day
    end = start + dt.timedelta(days=1)
    if end <= now:
        return per_day
    return int((now - start) / step)


def accepted_shutdowns(
    outlet_ids: list[int], start: dt.datetime, end: dt.datetime, rules: MonitoringRules
) -> dict[int, list[tuple[Period, dt.datetime]]]:
    """Per outlet: ((start, end), filed at) of the shutdown reports in a counted status that
    overlap [start, end)."""
    out: dict[int, list[tuple[Period, dt.datetime]]] = defaultdict(list)
    rows = Shutdown.objects.filter(
        outlet_id__in=outlet_ids,
        status__in=rules.shutdown_counted_statuses,
        started_at__lt=end,
        ended_at__gt=start,
    ).values_list("outlet_id", "started_at", "ended_at", "filed_at")
    for outlet_id, a, b, filed in rows:
        out[outlet_id].append(((a, b), filed))
    return out


def timely(
    shutdowns: list[tuple[Period, dt.datetime]], day: dt.date, rules: MonitoringRules
) -> list[Period]:
    """The periods of reports filed by the deadline for ``day``'s month (they excuse its hours)."""
    deadline = rules.shutdown_deadline(day.year, day.month)
    return [period for period, filed in shutdowns if filed < deadline]


def daily_rates(
    outlets: list[Outlet], first: dt.date, last: dt.date, *, now: dt.datetime | None = None
) -> dict[int, dict[dt.date, Rate]]:
    """Per outlet and day in [first, last]: expected, received and valid hourly records.

    Hours that accepted shutdown reports filed in time cover are neither expected nor counted
    (``Rate.excused`` says how many item records that took out).
    """
    rules = monitoring_rules()
    now = now or timezone.now()
    if not outlets or last < first:
        return {}
    items = {o.pk: assessed_items(o, rules) for o in outlets}
    codes = sorted({c for v in items.values() for c in v})
    start = day_start(first, rules)
    end = min(day_start(last + dt.timedelta(days=1), rules), now)
    by_mn: dict[str, dict[dt.date, list[tuple[str, dt.datetime, str]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    if end > start:
        model = reading_model(rules.basis_cn)
        rows = model.objects.filter(
            mn__in=[o.mn for o in outlets],
            data_time__gte=start,
            data_time__lt=end,
            code__in=codes,
        ).values_list("mn", "code", "data_time", "flag")
        for mn, code, when, flag in rows:
            by_mn[mn][local_day(when, rules)].append((code, when, flag))
    shutdowns = accepted_shutdowns([o.pk for o in outlets], start, max(end, start), rules)
    step = dt.timedelta(days=1) / rules.expected_per_day
    out: dict[int, dict[dt.date, Rate]] = {}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    for outlet in outlets:
        per_day: dict[dt.date, Rate] = {}
        for day in days:
            expected = expected_records(outlet, day, now, rules)
            rows_of_day = by_mn[outlet.mn][day] if expected else []
            excused: frozenset[int] = frozenset()
            if expected and outlet.pk in shutdowns:
                day0 = day_start(day, rules)
                periods = timely(shutdowns[outlet.pk], day, rules)
                excused = frozenset(
                    i for i in excused_slots(day0, rules.expected_per_day, periods) if i < expected
                )
                if excused:
                    rows_of_day = [
                        r for r in rows_of_day if int((r[1] - day0) / step) not in excused
                    ]
            rate = effective_rate(
                rows_of_day,
                items=items[outlet.pk],
                expected_per_item=expected - len(excused),
                is_valid=rules.is_valid_flag,
            )
            if excused:
                rate = Rate(
                    rate.expected, rate.received, rate.valid, len(excused) * len(items[outlet.pk])
                )
            per_day[day] = rate
        out[outlet.pk] = per_day
    return out


def total(rates: dict[dt.date, Rate]) -> Rate:
    out = Rate(0, 0, 0)
    for rate in rates.values():
        out = out + rate
    return out


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


ALARM_KIND_GROUPS = {
    "exceedance": [AlarmKind.EXCEEDANCE],
    "offline": [AlarmKind.OFFLINE],
    "abnormal": list(ABNORMAL_KINDS),
}
