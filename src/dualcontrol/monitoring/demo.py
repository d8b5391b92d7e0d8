"""The monitoring part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

SYNTHETIC (outlets marked ``is_synthetic``, MNs starting ``DEMO``): outlets of a few demo key
dischargers with limits and analyser ranges, and a week of hourly, 10-minute and some real-time
data up to the demo's "now", fed through the database sink like received data.  Drawn so that
the pages have something to show: a few exceedances, a gap (offline alarm), an outlet that has
gone silent, maintenance flags that pull the effective-transmission rate under 90 %, a stuck
analyser, a negative value, and one data logger no outlet is registered for.  Seeded: two
builds for the same day are identical.

History (for the quarterly exceedance list, 超标名单): hourly data (CN 2061) from the first day of
the last complete quarter up to the week, so that the outlets are online (联网) from that day on
without a gap; in the quarter a few exceedance episodes (:data:`HISTORY_EXCEEDANCES`): some
verified and closed, some explained, some open, one inside an accepted shutdown report (start-up
after a facility shutdown: not counted on the list), one explained as a calibration run
(:data:`FALSE_ALARM_TEXT`: the publishing demo strikes it as 误报), and hours flagged M
(maintenance) with high values, which are not valid data and raise no alarm.  Alarms are
evaluated for the days with planted episodes; every other history hour is drawn between 35 % and
78 % of the limit, so evaluating those days finds nothing (tests/publishing/test_exceedances.py).

Limit values are ILLUSTRATIVE (marked “演示示意值”): the figures of the national standards named
in ``standard`` as commonly quoted, not checked against the standards' text.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from fpdf import FPDF

from dualcontrol.accounts.models import User
from dualcontrol.core.exceedances import last_complete_quarter, quarter_dates
from dualcontrol.core.hj212_stream import DataRecord
from dualcontrol.entities.models import Entity
from dualcontrol.monitoring import services
from dualcontrol.monitoring.models import Alarm, AlarmKind, Outlet, OutletKind, ShutdownKind
from dualcontrol.monitoring.queries import day_start
from dualcontrol.monitoring.rules import monitoring_rules
from dualcontrol.monitoring.sink import DatabaseSink

DAYS = 7
MINUTE_STEP = 10
MAX_OUTLETS = 8
SEED = 212
HISTORY_SEED = 2126
#: (outlet index, item index, day of the quarter (0 = first), first hour, hours, factor range,
#: handling: open | explained | closed | shutdown | false_alarm)
HISTORY_EXCEEDANCES = (
    (0, 0, 11, 9, 5, (1.2, 1.6), "closed"),
    (0, 0, 39, 2, 3, (1.1, 1.3), "explained"),
    (1, -1, 19, 20, 26, (1.05, 1.25), "open"),
    (2, 0, 54, 10, 5, (1.3, 1.8), "shutdown"),
    (5, 0, 69, 8, 2, (1.1, 1.2), "false_alarm"),
    (6, -1, 79, 14, 1, (1.05, 1.1), "open"),
)
#: (outlet index, day of the quarter, first hour, hours): flagged M (维护) with high values
HISTORY_MAINTENANCE = (4, 29, 9, 6)
FALSE_ALARM_TEXT = "该时段为在线监测设备比对校准，标准气体数值未标记为校准数据（演示数据）。"

NOTE = "演示示意值"


def demo_station_password(mn: str) -> str:
    """The station password (PW) registered for a demo outlet: 6 digits derived from its MN and
    the demo seed (synthetic; a station simulator sends it, e.g. ``station_packet(mn, i, pw=…)``)."""
    return f"{random.Random(f'{SEED}-pw-{mn}').randrange(10**6):06d}"


# industry (GB/T 4754 division) -> outlet kind, name, [(code, limit, unit, standard)]
GAS_POWER = (
    OutletKind.GAS,
    "1号机组烟囱",
    [
        ("a34013", 30, "mg/m³", "GB 13223-2011 表1 燃煤锅炉"),
        ("a21026", 100, "mg/m³", "GB 13223-2011 表1 燃煤锅炉"),
        ("a21002", 100, "mg/m³", "GB 13223-2011 表1 燃煤锅炉"),
    ],
)
GAS_KILN = (
    OutletKind.GAS,
    "窑尾排气筒",
    [
        ("a34013", 30, "mg/m³", "GB 4915-2013 表1 水泥窑"),
        ("a21026", 200, "mg/m³", "GB 4915-2013 表1 水泥窑"),
        ("a21002", 400, "mg/m³", "GB 4915-2013 表1 水泥窑"),
    ],
)
GAS_BOILER = (
    OutletKind.GAS,
    "锅炉烟囱",
    [
        ("a34013", 50, "mg/m³", "GB 13271-2014 表2 燃煤锅炉"),
        ("a21026", 300, "mg/m³", "GB 13271-2014 表2 燃煤锅炉"),
        ("a21002", 300, "mg/m³", "GB 13271-2014 表2 燃煤锅炉"),
    ],
)
WATER = (
    OutletKind.WATER,
    "废水总排口",
    [
        ("w01018", 100, "mg/L", "GB 8978-1996 一级标准"),
        ("w21003", 15, "mg/L", "GB 8978-1996 一级标准"),
    ],
)
# 发电 power, 水泥 cement, 钢铁 steel and 焦化 coking: stacks; the others: a wastewater outlet
SPECS = {"44": GAS_POWER, "30": GAS_KILN, "31": GAS_BOILER, "25": GAS_BOILER}


def _pick(entities: list[Entity]) -> list[Entity]:
    """The demo users' units first (so each login has outlets to look at), then the others."""
    chosen: list[Entity] = []
    own = User.objects.filter(username="demo-enterprise").values_list("entity_id", flat=True)
    verifier = User.objects.filter(username="demo-verifier").first()
    assigned = set(verifier.assigned_entities.values_list("pk", flat=True)) if verifier else set()
    city = User.objects.filter(username="demo-city").select_related("division").first()
    city_path = city.division.path if city and city.division else None
    groups = [
        [e for e in entities if e.pk in set(own)],
        [e for e in entities if e.pk in assigned],
        [e for e in entities if city_path and e.division.path.startswith(city_path)],
        entities,
    ]
    for group in groups:
        for e in group:
            if e not in chosen and len(chosen) < MAX_OUTLETS:
                chosen.append(e)
    return chosen


def _record(mn: str, cn: str, when: dt.datetime, values: dict[str, dict[str, Any]]) -> DataRecord:
    return DataRecord(
        mn=mn,
        st="31" if mn.endswith("G") else "32",
        cn=cn,
        data_time=when,
        values={
            code: {k: Decimal(f"{v:.2f}") if isinstance(v, float) else v for k, v in e.items()}
            for code, e in values.items()
        },
        source_codes={},
        qn=None,
        flag=4,
        version="HJ 212-2017",
    )


def extend_demo(*, today: dt.date) -> dict[str, int]:
    rules = monitoring_rules()
    tz = rules.tz
    real_now = timezone.now()
    if today == timezone.localdate(real_now):
        now = real_now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    else:
        now = day_start(today + dt.timedelta(days=1), rules)
    first_day = today - dt.timedelta(days=DAYS - 1)
    start = day_start(first_day, rules)
    history_first, _last = quarter_dates(*last_complete_quarter(today))
    history_first = min(history_first, first_day)
    candidates = list(
        Entity.objects.filter(is_synthetic=True, is_key_discharger=True)
        .select_related("division", "industry")
        .order_by("pk")
    )
    if not candidates:
        return {"outlets": 0}
    rng = random.Random(SEED)
    outlets: list[tuple[Outlet, list[tuple[str, float, str, str]]]] = []
    for n, entity in enumerate(_pick(candidates)):
        kind, name, items = SPECS.get(entity.industry.code[:2], WATER)
        mn = f"DEMO{entity.division.code}{n + 1:04d}{'G' if kind == OutletKind.GAS else 'W'}"
        outlet = services.create_outlet(
            user=None,
            entity=entity,
            mn=mn,
            name=name,
            kind=kind,
            permit_number=f"{entity.uscc}{n + 1:03d}P",
            connected_on=history_first,
            is_synthetic=True,
            note="演示数据（合成）",
            station_password=demo_station_password(mn),
        )
        for code, limit, unit, standard in items:
            services.set_limit(
                user=None,
                outlet=outlet,
                code=code,
                limit_value=limit,
                unit=unit,
                standard=f"{standard}；{NOTE}",
                valid_from=dt.date(today.year - 1, 1, 1),
            )
            services.set_analyser_range(
                user=None, outlet=outlet, code=code, low=0, high=limit * 4, unit=unit
            )
        outlets.append((outlet, [(c, float(lim), u, s) for c, lim, u, s in items]))

    records: list[DataRecord] = []
    for index, (outlet, items) in enumerate(outlets):
        records += _series(index, outlet.mn, items, start, now, tz, rng)
    history_rng = random.Random(HISTORY_SEED)
    for index, (outlet, items) in enumerate(outlets):
        records += _history(index, outlet.mn, items, history_first, start, tz, history_rng)
    # a data logger no outlet is registered for (listed for the province)
    unknown = "DEMO5301990001W"
    for h in range(6):
        when = (now - dt.timedelta(hours=6 - h)).astimezone(tz).replace(tzinfo=None)
        records.append(_record(unknown, "2061", when, {"w01018": {"Avg": 42.0, "Flag": "N"}}))
    sink = DatabaseSink()
    sink_log = logging.getLogger("dualcontrol.monitoring.sink")
    level = sink_log.level
    sink_log.setLevel(logging.ERROR)  # the unregistered logger is there on purpose
    try:
        for i in range(0, len(records), 5000):
            sink.store(records[i : i + 5000])
    finally:
        sink_log.setLevel(level)
    shutdowns = _shutdowns([o for o, _ in outlets], now)
    shutdowns += _history_shutdowns([o for o, _ in outlets], history_first, tz)
    for day, indexes in _history_days(history_first, len(outlets)).items():
        if day < first_day:  # only the outlets with an episode that day (the rest: normal data)
            pks = [outlets[i][0].pk for i in indexes]
            services.evaluate_alarms(day=day, now=now, outlets=Outlet.objects.filter(pk__in=pks))
    for d in range(DAYS):
        services.evaluate_alarms(day=first_day + dt.timedelta(days=d), now=now)
    handled = _handle_alarms([o for o, _ in outlets], now, since=start)
    handled += _handle_history([o for o, _ in outlets], history_first, start)
    return {
        "outlets": len(outlets),
        "records": sink.stats.stored,
        "shutdowns": shutdowns,
        "alarms_handled": handled,
    }


def _document(outlet: Outlet, title: str) -> SimpleUploadedFile:
    """A small PDF standing in for the unit's stamped statement (synthetic, says so)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(
        0,
        8,
        f"DEMO DOCUMENT (synthetic) - {title}\nOutlet MN {outlet.mn}\n"
        "Generated by the dualcontrol demo; not an official document.",
    )
    return SimpleUploadedFile(f"{title}-{outlet.mn}.pdf", bytes(pdf.output()))


def _shutdowns(outlets: list[Outlet], now: dt.datetime) -> int:
    """Outlet 3 (maintenance flags): an accepted report filed in time, so those hours are taken
    out of its rate; outlet 2 (a five-hour gap yesterday): a report waiting for review."""
    province = User.objects.filter(username="demo-province").first()
    made = 0
    if len(outlets) > 2:
        outlet = outlets[2]
        report = services.file_shutdown(
            user=None,
            outlet=outlet,
            kind=ShutdownKind.MONITORING,
            started_at=now - dt.timedelta(hours=80),
            ended_at=now - dt.timedelta(hours=71),  # the hour from 72 h ago included
            reason="在线监测设备季度维护、校准（演示数据）",
            document=_document(outlet, "maintenance-statement"),
            now=now - dt.timedelta(hours=70),
            is_synthetic=True,
        )
        services.review_shutdown(
            user=province, shutdown=report, accept=True, note="材料齐全（演示）", reevaluate=False
        )
        made += 1
    if len(outlets) > 1:
        outlet = outlets[1]
        yesterday = now - dt.timedelta(days=1)
        services.file_shutdown(
            user=None,
            outlet=outlet,
            kind=ShutdownKind.FACILITY,
            started_at=yesterday.replace(hour=3, minute=0) - dt.timedelta(minutes=10),
            ended_at=yesterday.replace(hour=8, minute=0),
            reason="污水处理设施检修，排放口停止排放（演示数据）",
            document=_document(outlet, "facility-shutdown"),
            now=yesterday.replace(hour=9, minute=30),
            is_synthetic=True,
        )
        made += 1
    return made


def _handle_alarms(outlets: list[Outlet], now: dt.datetime, *, since: dt.datetime) -> int:
    """The exceedance of outlet 1 explained by its unit; that of outlet 6 explained and closed
    (the week's alarms, from ``since``)."""
    province = User.objects.filter(username="demo-province").first()
    handled = 0
    for index, close in ((0, False), (5, True)):
        if len(outlets) <= index:
            continue
        alarm = (
            Alarm.objects.filter(
                outlet=outlets[index], kind=AlarmKind.EXCEEDANCE, started_at__gte=since
            )
            .order_by("started_at")
            .first()
        )
        if alarm is None:
            continue
        owner = User.objects.filter(entity=alarm.outlet.entity, role="enterprise").first()
        services.explain_alarm(
            user=owner,
            alarm=alarm,
            text="脱硫/污水处理系统短时故障，已于当日修复并恢复正常运行（演示数据）。",
        )
        if close:
            services.close_alarm(
                user=province,
                alarm=alarm,
                note="经核实，故障已排除，排放恢复正常（演示）。",
            )
        handled += 1
    return handled


def _series(
    index: int,
    mn: str,
    items: list[tuple[str, float, str, str]],
    start: dt.datetime,
    now: dt.datetime,
    tz: Any,
    rng: random.Random,
) -> list[DataRecord]:
    """A week of one outlet's data with the scenario of its position (see the module doc)."""
    out: list[DataRecord] = []
    levels = {code: limit * rng.uniform(0.35, 0.6) for code, limit, _, _ in items}
    day = dt.timedelta(days=1)
    last_day = now - day
    silent_from = now - dt.timedelta(hours=3) if index == 3 else None
    gap = (last_day.replace(hour=3), last_day.replace(hour=8)) if index == 1 else None

    def value(code: str, limit: float, when: dt.datetime) -> tuple[float, str]:
        local = when.astimezone(tz)
        hours_ago = (now - when) / dt.timedelta(hours=1)
        level = levels[code] * (1 + 0.18 * math.sin((local.hour - 8) / 24 * 2 * math.pi))
        v = max(0.05, level * rng.uniform(0.9, 1.1))
        flag = "N"
        first = code == items[0][0]
        if index == 0 and first and 48 <= hours_ago < 51:
            v = limit * rng.uniform(1.15, 1.35)  # exceedance, 3 hours, two days ago
        if index == 5 and first and 20 <= hours_ago < 22:
            v = limit * rng.uniform(1.1, 1.2)
        late = code == items[-1][0]
        if late and ((index == 6 and 100 <= hours_ago < 102) or (index == 7 and hours_ago == 130)):
            v = limit * rng.uniform(1.05, 1.4)
        if index == 2 and 72 <= hours_ago < 80:
            flag = "M"  # maintenance: not valid data
        if index == 2 and first and 26 <= hours_ago < 34:
            v = round(levels[code], 2)  # stuck analyser
        if index == 4 and code == items[-1][0] and 30 <= hours_ago < 31:
            v = -0.3  # negative value
        if index == 4 and first and 40 <= hours_ago < 41:
            flag = "T"  # over the measuring range
        return v, flag

    when = start
    while when < now:
        if (silent_from is not None and when >= silent_from) or (
            gap is not None and gap[0] <= when < gap[1]
        ):
            when += dt.timedelta(minutes=MINUTE_STEP)
            continue
        local = when.astimezone(tz).replace(tzinfo=None)
        minute_values = {}
        for code, limit, _, _ in items:
            v, flag = value(code, limit, when)
            minute_values[code] = {"Avg": v, "Flag": flag}
        out.append(_record(mn, "2051", local, minute_values))
        if when.minute == 0 and when + dt.timedelta(hours=1) <= now:
            hour_values = {}
            for code, limit, _, _ in items:
                v, flag = value(code, limit, when)
                hour_values[code] = {
                    "Avg": v,
                    "Min": v * 0.9,
                    "Max": v * 1.1,
                    "Cou": v * 0.8,
                    "Flag": flag,
                }
            out.append(_record(mn, "2061", local, hour_values))
        if now - when <= dt.timedelta(minutes=30):
            rt = {
                code: {"Rtd": value(code, limit, when)[0], "Flag": "N"}
                for code, limit, _, _ in items
            }
            out.append(_record(mn, "2011", local, rt))
        when += dt.timedelta(minutes=MINUTE_STEP)
    return out


# --------------------------------------------------------------------------------------------
# History: the last complete quarter (for the quarterly exceedance list)
# --------------------------------------------------------------------------------------------


def _history_days(first: dt.date, n_outlets: int) -> dict[dt.date, set[int]]:
    """The days with planted episodes (and the days an episode runs on into) -> the outlets."""
    days: dict[dt.date, set[int]] = {}
    for index, _item, offset, hour, hours, _factor, _handling in HISTORY_EXCEEDANCES:
        if index >= n_outlets:
            continue
        for extra in range((hour + hours - 1) // 24 + 1):
            days.setdefault(first + dt.timedelta(days=offset + extra), set()).add(index)
    return dict(sorted(days.items()))


def _history(
    index: int,
    mn: str,
    items: list[tuple[str, float, str, str]],
    first: dt.date,
    until: dt.datetime,
    tz: Any,
    rng: random.Random,
) -> list[DataRecord]:
    """Hourly records of one outlet from ``first`` (local midnight) up to ``until``: normal values
    (35–78 % of the limit) with the planted episodes and maintenance hours of its position."""
    start = dt.datetime(first.year, first.month, first.day, tzinfo=tz)
    levels = {code: limit * rng.uniform(0.35, 0.55) for code, limit, _, _ in items}
    planted: dict[tuple[str, dt.datetime], tuple[float, float]] = {}
    for pos, item, offset, hour, hours, factor, _handling in HISTORY_EXCEEDANCES:
        if pos != index:
            continue
        code = items[item][0]
        begin = start + dt.timedelta(days=offset, hours=hour)
        for h in range(hours):
            planted[(code, begin + dt.timedelta(hours=h))] = factor
    maintenance: set[dt.datetime] = set()
    if HISTORY_MAINTENANCE[0] == index:
        _pos, offset, hour, hours = HISTORY_MAINTENANCE
        begin = start + dt.timedelta(days=offset, hours=hour)
        maintenance = {begin + dt.timedelta(hours=h) for h in range(hours)}
    # the daily swing by local hour (Asia/Shanghai has no DST: local hours run on evenly)
    swing = [1 + 0.18 * math.sin((h - 8) / 24 * 2 * math.pi) for h in range(24)]
    naive = start.replace(tzinfo=None)
    hour = dt.timedelta(hours=1)
    out = []
    when = start
    i = 0
    while when < until:
        values = {}
        for code, limit, _, _ in items:
            v = max(0.05, levels[code] * swing[i % 24] * rng.uniform(0.9, 1.1))
            flag = "N"
            factor = planted.get((code, when))
            if factor is not None:
                v = limit * rng.uniform(*factor)
            if when in maintenance:
                v, flag = limit * rng.uniform(1.5, 2.5), "M"  # calibration gas: not valid data
            # hourly Avg and flag only (months of data): the Decimal the sink stores as sent
            values[code] = {"Avg": Decimal(f"{v:.2f}"), "Flag": flag}
        out.append(
            DataRecord(
                mn=mn,
                st="31" if mn.endswith("G") else "32",
                cn="2061",
                data_time=naive + i * hour,
                values=values,
                source_codes={},
                qn=None,
                flag=4,
                version="HJ 212-2017",
            )
        )
        i += 1
        when += hour
    return out


def _history_shutdowns(outlets: list[Outlet], first: dt.date, tz: Any) -> int:
    """The episode planted as ``shutdown``: its outlet's treatment facility was stopped for repair
    and started again; the unit reported the shutdown (start-up hours included) in time and the
    province accepted it."""
    province = User.objects.filter(username="demo-province").first()
    made = 0
    for index, _item, offset, hour, hours, _factor, handling in HISTORY_EXCEEDANCES:
        if handling != "shutdown" or index >= len(outlets):
            continue
        outlet = outlets[index]
        begin = dt.datetime(first.year, first.month, first.day, tzinfo=tz) + dt.timedelta(
            days=offset, hours=hour
        )
        report = services.file_shutdown(
            user=None,
            outlet=outlet,
            kind=ShutdownKind.FACILITY,
            started_at=begin - dt.timedelta(hours=6),
            ended_at=begin + dt.timedelta(hours=hours),
            reason="脱硫设施检修停运，检修后启机调试（演示数据）",
            document=_document(outlet, "facility-restart"),
            now=begin + dt.timedelta(days=1),
            is_synthetic=True,
        )
        services.review_shutdown(
            user=province, shutdown=report, accept=True, note="材料齐全（演示）", reevaluate=False
        )
        made += 1
    return made


def _handle_history(outlets: list[Outlet], first: dt.date, until: dt.datetime) -> int:
    """Handle the history's exceedance alarms as planted: explained by the unit, closed by the
    province, explained as a calibration run, or left open."""
    province = User.objects.filter(username="demo-province").first()
    texts = {
        "explained": "布袋除尘器部分滤袋破损，已更换滤袋并恢复正常（演示数据）。",
        "closed": "脱硫浆液循环泵故障，已抢修恢复（演示数据）。",
        "shutdown": "治理设施检修后启机调试，已按规定停运报备（演示数据）。",
        "false_alarm": FALSE_ALARM_TEXT,
    }
    start = day_start(first)
    handled = 0
    for index, _item, offset, hour, _hours, _factor, handling in HISTORY_EXCEEDANCES:
        if index >= len(outlets) or handling == "open":
            continue
        begin = start + dt.timedelta(days=offset, hours=hour)
        alarm = Alarm.objects.filter(
            outlet=outlets[index],
            kind=AlarmKind.EXCEEDANCE,
            started_at=begin,
            started_at__lt=until,
        ).first()
        if alarm is None:
            continue
        owner = User.objects.filter(entity=alarm.outlet.entity, role="enterprise").first()
        services.explain_alarm(user=owner, alarm=alarm, text=texts[handling])
        if handling == "closed":
            services.close_alarm(
                user=province, alarm=alarm, note="经现场核实，超标属实，已责令整改（演示）。"
            )
        handled += 1
    return handled
