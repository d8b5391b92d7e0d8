"""Demo part of energy online monitoring (SYNTHETIC data, fixed seed).

``extend_demo(today)`` — called by the demo builder — registers data items and metering
instruments for a handful of the demo's online-monitored units (the demo enterprise's own unit
first, then units of the demo city and of other prefectures) and generates 15-minute real-time,
daily and manual monthly readings for the latest complete month and the current month up to
yesterday, shaped on each unit's synthetic 205-1 monthly report. Built in: a few gaps, one
two-day outage covered by a confirmed 报备, one stuck sub-meter, out-of-range readings, one unit
whose daily and monthly figures disagree, one unit that stopped uploading five days ago and
files its 报备 only after the overdue alert (waiting for review), an instrument past its
calibration date. Everything goes through the services (checks, bulk
storage, roll-up, alerts), so the pages show real computations.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from django.db.models import Q

from dualcontrol.accounts.models import Role, User
from dualcontrol.core import metering as core
from dualcontrol.entities.models import Entity
from dualcontrol.metering import services
from dualcontrol.metering.models import FaultReport
from dualcontrol.reference.metering import code_catalogue

SEED = 20171711  # 发改环资〔2017〕1711号
UNITS = 6
REALTIME_KINDS = {"electricity", "natural_gas", "gas", "heat"}


def _units() -> list[Entity]:
    monitored = Entity.objects.filter(is_synthetic=True, online_monitoring=True).select_related(
        "division"
    )
    chosen: list[Entity] = []
    own = User.objects.filter(username="demo-enterprise").select_related("entity").first()
    if own and own.entity and own.entity.online_monitoring:
        chosen.append(own.entity)
    city = User.objects.filter(username="demo-city").select_related("division").first()
    if city and city.division:
        chosen += list(
            monitored.filter(division__path__startswith=city.division.path)
            .exclude(pk__in=[e.pk for e in chosen])
            .order_by("uscc")[:2]
        )
    verifier = User.objects.filter(username="demo-verifier").first()
    if verifier:
        chosen += list(
            monitored.filter(verifiers=verifier)
            .exclude(pk__in=[e.pk for e in chosen])
            .order_by("uscc")[:1]
        )
    rest = monitored.exclude(pk__in=[e.pk for e in chosen]).exclude(
        Q(division__path__startswith=city.division.path) if city and city.division else Q(pk=None)
    )
    chosen += list(rest.order_by("uscc")[: max(0, UNITS - len(chosen))])
    return chosen[:UNITS]


def _profile(rng: random.Random, points: int) -> list[float]:
    """Relative load of each interval of a day: base load, day shift, noise (mean 1)."""
    shape = []
    for k in range(points):
        hour = k * 24 / points
        day_shift = 0.25 * math.exp(-(((hour - 14) / 4.5) ** 2))
        shape.append(0.85 + day_shift + rng.uniform(-0.04, 0.04))
    mean = sum(shape) / len(shape)
    return [s / mean for s in shape]


def extend_demo(*, today: dt.date) -> dict[str, int]:
    from dualcontrol.reporting.models import EnergyReport
    from dualcontrol.reporting.services import rows_of

    rng = random.Random(SEED)
    catalogue = code_catalogue()
    energy_by_product = {
        e.product_code: e for e in catalogue.energy_codes.values() if e.product_code
    }
    from dualcontrol.reference.energy_products import energy_products

    kinds = {p.code: p.kind for p in energy_products()}
    month = core.month_start(core.month_start(today) - dt.timedelta(days=1))
    start = month
    end = today  # exclusive: up to yesterday
    totals = {"units": 0, "items": 0, "readings": 0}
    units = _units()
    for n, entity in enumerate(units):
        report = (
            EnergyReport.objects.filter(entity=entity, year=month.year, month=month.month)
            .exclude(current_revision=0)
            .first()
        )
        if report is None:
            continue
        rows = {r.product_code: r for r in rows_of(report)}
        instruments: list[services.InstrumentInput] = []
        items: list[services.ItemInput] = []
        plan: list[dict[str, Any]] = []
        for k, (pcode, row) in enumerate(sorted(rows.items())):
            energy = energy_by_product.get(pcode)
            if energy is None or row.consumption_total <= 0:
                continue
            realtime = kinds.get(pcode) in REALTIME_KINDS
            code = f"00000000{energy.data_type}{energy.code}01"
            number = f"M{n + 1:02d}{k + 1:02d}"
            factor = core.to_product_factor(energy.unit, rows[pcode].unit)
            monthly_qty = float(row.consumption_total / factor)  # meter unit
            overdue = n == 2 and k == 0
            instruments.append(
                services.InstrumentInput(
                    number=number,
                    name=f"{energy.name_zh}进厂计量",
                    grade=1,
                    kind="01" if pcode == "23" else ("03" if not realtime else "02"),
                    accuracy_class="0.5S" if pcode == "23" else "0.5",
                    calibration_status="pass",
                    calibration_cycle_months=12,
                    last_calibration=today - dt.timedelta(days=400 if overdue else 120),
                    next_calibration=today - dt.timedelta(days=35)
                    if overdue
                    else today + dt.timedelta(days=245),
                    location="厂区总进线" if pcode == "23" else "进厂计量站",
                    installer=2 if pcode in ("23", "10") else 1,
                    access_system=1,
                )
            )
            freq = core.Frequency.REALTIME if realtime else core.Frequency.DAILY
            high = monthly_qty / 30 * (3 if realtime else 2) / (96 if realtime else 1)
            items.append(
                services.ItemInput(
                    code=code,
                    frequency=freq,
                    name=f"{energy.name_zh}消费量（进用能单位）",
                    unit=energy.unit,
                    min_value=0,
                    max_value=round(high, 1),
                    boundary="in",
                    instrument_number=number,
                    system_name="能源管理中心（演示）",
                    active_from=start,
                )
            )
            items.append(
                services.ItemInput(
                    code=code,
                    frequency=core.Frequency.MONTHLY,
                    name=f"{energy.name_zh}月消费量",
                    unit=energy.unit,
                    source=core.DataSource.MANUAL,
                    min_value=0,
                    boundary="in",
                    active_from=start,
                )
            )
            plan.append(
                {"code": code, "freq": freq, "monthly": monthly_qty, "max": high, "pcode": pcode}
            )
        if not plan:
            continue
        # two process-level electricity sub-meters (not part of the balance)
        if any(p["pcode"] == "23" for p in plan):
            for j in (1, 2):
                number = f"M{n + 1:02d}S{j}"
                instruments.append(
                    services.InstrumentInput(
                        number=number,
                        name=f"{j}号生产线电能表",
                        grade=3,
                        kind="01",
                        accuracy_class="1",
                        calibration_status="pass",
                        last_calibration=today - dt.timedelta(days=60),
                        next_calibration=today + dt.timedelta(days=300),
                        location=f"{j}号生产线配电室",
                    )
                )
                items.append(
                    services.ItemInput(
                        code=f"0{j}010301022230" + "02",
                        frequency=core.Frequency.REALTIME,
                        name=f"{j}号生产线用电量",
                        unit="千瓦时",
                        min_value=0,
                        instrument_number=number,
                        system_name="能源管理中心（演示）",
                        active_from=start,
                    )
                )
        items.append(
            services.ItemInput(
                code="0000000005503000",
                frequency=core.Frequency.DAILY,
                name="综合能源消费量（日）",
                unit="吨标准煤",
                min_value=0,
                active_from=start,
            )
        )
        services.save_instruments(entity=entity, instruments=instruments, user=_admin())
        saved = services.save_items(entity=entity, items=items, user=_admin())
        totals["items"] += len(saved)
        totals["units"] += 1
        totals["readings"] += _readings(rng, n, entity, plan, saved, start, end, report)
    if units:
        _events(units, month, today)
    return totals


def _admin() -> Any:
    return User.objects.filter(role=Role.PROVINCE_ADMIN).order_by("pk").first()


def _readings(
    rng: random.Random,
    n: int,
    entity: Entity,
    plan: list[dict[str, Any]],
    saved: list[Any],
    start: dt.date,
    end: dt.date,
    report: Any,
) -> int:
    """Readings of one unit from ``start`` up to ``end`` (exclusive)."""
    by_code = {(i.code, i.frequency): i for i in saved}
    bias = {0: 0.01, 1: -0.02, 2: 0.004, 3: 0.09, 4: -0.015, 5: 0.02}[n % 6]  # meters vs 205-1
    readings: list[services.RawReading] = []
    days = []
    d = start
    while d < end:
        days.append(d)
        d += dt.timedelta(days=1)
    month_end = core.next_month(start)
    month_days = (month_end - start).days
    stop_after = end - dt.timedelta(days=5) if n == 2 else None  # stopped uploading, no 报备
    outage = {start + dt.timedelta(days=17), start + dt.timedelta(days=18)} if n == 1 else set()
    daily_sum: dict[str, float] = {}
    tce_day = float(report.energy_tce or 0) / month_days
    for day in days:
        if stop_after and day >= stop_after:
            break
        weekday = 0.93 if day.weekday() >= 5 else 1.0
        for p in plan:
            item = by_code[(p["code"], p["freq"])]
            per_day = p["monthly"] / month_days * (1 + bias) * weekday * rng.uniform(0.96, 1.04)
            if p["freq"] == core.Frequency.REALTIME:
                shape = _profile(rng, 96)
                for k in range(96):
                    ts = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=15 * k)
                    if day in outage or (
                        n == 2 and day == start + dt.timedelta(days=9) and 8 <= k < 40
                    ):
                        continue  # gaps: a two-day outage; eight hours lost on one day
                    value = round(per_day / 96 * shape[k], 2)
                    if n == 4 and day == start + dt.timedelta(days=12) and k in (40, 41, 42):
                        value = round(p["max"] * 1.6, 1)  # out of range: refused
                    readings.append(_raw(len(readings), item.code, item.frequency, ts, value))
                if day not in outage and day < month_end:
                    daily_sum[p["code"]] = daily_sum.get(p["code"], 0.0) + per_day
            else:
                if n == 3 and day == start + dt.timedelta(days=20):
                    continue  # a missing daily value
                ts = dt.datetime.combine(day, dt.time())
                readings.append(
                    _raw(len(readings), item.code, item.frequency, ts, round(per_day, 2))
                )
                if day < month_end:
                    daily_sum[p["code"]] = daily_sum.get(p["code"], 0.0) + per_day
        for j in (1, 2):
            sub = by_code.get((f"0{j}01030102223002", core.Frequency.REALTIME))
            main = next((p for p in plan if p["pcode"] == "23"), None)
            if sub is None or main is None or day in outage:
                continue
            shape = _profile(rng, 96)
            share = 0.35 if j == 1 else 0.25
            per_day = main["monthly"] / month_days * share * weekday
            for k in range(96):
                ts = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=15 * k)
                value = round(per_day / 96 * shape[k], 2)
                if n == 0 and j == 2 and day == start + dt.timedelta(days=6) and 36 <= k < 60:
                    value = 812.4  # a stuck sub-meter: six hours of the same value
                readings.append(_raw(len(readings), sub.code, sub.frequency, ts, value))
        tce_item = by_code.get(("0000000005503000", core.Frequency.DAILY))
        if tce_item is not None:
            ts = dt.datetime.combine(day, dt.time())
            readings.append(
                _raw(
                    len(readings),
                    tce_item.code,
                    tce_item.frequency,
                    ts,
                    round(tce_day * weekday * rng.uniform(0.97, 1.03), 3),
                )
            )
    # manual monthly entries of the latest complete month (one unit disagrees with its days)
    if core.next_month(start) <= end:
        for p in plan:
            item = by_code[(p["code"], core.Frequency.MONTHLY)]
            total = daily_sum.get(p["code"], 0.0)
            if n == 1:
                total *= 1.07  # the two missing days are in the monthly figure, not in the days
            else:
                total *= 1 + rng.uniform(-0.02, 0.02)
            readings.append(
                services.RawReading(
                    index=len(readings),
                    item=item.code,
                    ts=services.aware(dt.datetime.combine(start, dt.time())),
                    value=round(total, 2),
                    frequency=core.Frequency.MONTHLY,
                    source=core.DataSource.MANUAL,
                )
            )
    now = services.aware(dt.datetime.combine(end, dt.time(0, 10)))
    result = services.ingest(entity=entity, readings=readings, user=None, channel="demo", now=now)
    return result.stored


def _raw(index: int, code: str, freq: int, ts: dt.datetime, value: float) -> services.RawReading:
    return services.RawReading(
        index=index, item=code, ts=services.aware(ts), value=value, frequency=int(freq)
    )


def _events(units: list[Entity], month: dt.date, today: dt.date) -> None:
    """The 报备 of unit 2's outage (confirmed, repaired), the checks of every day since
    ``month``, and unit 3's 报备 after its overdue alert (waiting for the city's review)."""
    if len(units) > 1:
        unit = units[1]
        reporter = User.objects.filter(role=Role.ENTERPRISE, entity=unit).first()
        started = services.aware(dt.datetime.combine(month + dt.timedelta(days=17), dt.time(0, 5)))
        fault = FaultReport.objects.create(
            entity=unit,
            started=started,
            expected_repair=month + dt.timedelta(days=19),
            reason="（演示）数据采集网关电源模块损坏，已更换备件；故障期间按月手工填报。",
            manual_filing=True,
            filed_by=reporter,
            filed_at=started + dt.timedelta(hours=3),
            status=FaultReport.Status.CLOSED,
            reviewed_by=User.objects.filter(username="demo-city").first(),
            reviewed_at=started + dt.timedelta(hours=20),
            review_note="情况属实，同意报备。",
            repaired_at=services.aware(
                dt.datetime.combine(month + dt.timedelta(days=19), dt.time(9))
            ),
        )
        from dualcontrol.audit.services import record

        record(
            actor=None, action="metering.fault.demo", obj=fault, note="synthetic 报备 of the demo"
        )
    day = month + dt.timedelta(days=1)
    while day <= today:
        now = services.aware(dt.datetime.combine(day, dt.time(0, 10)))
        services.run_checks(
            now=now, entities=units, parts=("day", "uploads") if day < today else None
        )
        day += dt.timedelta(days=1)
    if len(units) > 2 and today - dt.timedelta(days=5) > month:
        # unit 3 stopped uploading five days ago; after the overdue alert it files its 报备
        unit = units[2]
        started = services.aware(dt.datetime.combine(today - dt.timedelta(days=5), dt.time()))
        fault = FaultReport.objects.create(
            entity=unit,
            started=started,
            expected_repair=today + dt.timedelta(days=3),
            reason="（演示）接入端服务器硬盘故障，数据采集中断；已订购备件，修复前每月手工填报。",
            manual_filing=True,
            filed_by=User.objects.filter(role=Role.ENTERPRISE, entity=unit).first(),
            filed_at=services.aware(dt.datetime.combine(today, dt.time(0, 30))),
        )
        from dualcontrol.audit.services import record

        record(
            actor=None, action="metering.fault.demo", obj=fault, note="synthetic 报备 of the demo"
        )
