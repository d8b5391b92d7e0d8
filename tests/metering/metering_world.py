"""Builders for the monitoring tests: the tiny province of tests/factories.py with registered
data items, and helpers that make readings at platform local time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dualcontrol.accounts.models import Role, User
from dualcontrol.metering import services
from dualcontrol.metering.models import DataItem

ELEC = "0000000002223001"  # 电力, 购入 (unit level)
COAL = "0000000001101001"  # 原煤, 购入
SUB = "0101030102223002"  # 1号线 电力, 生产
OTHER = "0000000002223001"  # the other unit's electricity item (same code, other unit)
LOCAL = dt.timezone(dt.timedelta(hours=8))


def at(*args: int) -> dt.datetime:
    """An aware datetime in platform local time (Asia/Shanghai, UTC+8)."""
    return dt.datetime(*args, tzinfo=LOCAL)


@dataclass
class MWorld:
    w: Any
    items: dict[str, DataItem]
    other_item: DataItem

    @property
    def unit(self):
        return self.w.unit

    def user(self, role: str) -> User:
        return self.w.users[role]


def build(world: Any) -> MWorld:
    for e in (world.unit, world.other_unit):
        e.online_monitoring = True
        e.save()
    ent = world.users[Role.ENTERPRISE]
    ent.email = "ent1@example.org"
    ent.save()
    city = world.users[Role.CITY_OFFICER]
    city.email = "city1@example.org"
    city.save()
    world.users[Role.PUBLIC] = User.objects.create_user(
        "pub1", password="test-pass-123", role=Role.PUBLIC
    )
    services.save_instruments(
        entity=world.unit,
        instruments=[
            services.InstrumentInput(number="E1", name="总进线电能表", grade=1, kind="01"),
            services.InstrumentInput(number="C1", name="进厂汽车衡", grade=1, kind="03"),
        ],
        user=ent,
    )
    saved = services.save_items(
        entity=world.unit,
        items=[
            services.ItemInput(
                code=ELEC,
                frequency=0,
                name="电力消费量",
                unit="千瓦时",
                min_value=0,
                max_value=5000,
                boundary="in",
                instrument_number="E1",
            ),
            services.ItemInput(
                code=ELEC, frequency=2, name="电力月消费量", unit="千瓦时", source=5, boundary="in"
            ),
            services.ItemInput(
                code=COAL,
                frequency=1,
                name="原煤消费量",
                unit="吨",
                boundary="in",
                instrument_number="C1",
            ),
            services.ItemInput(code=SUB, frequency=0, name="1号线用电量", unit="千瓦时"),
        ],
        user=ent,
    )
    items = {
        "elec": saved[0],
        "elec_month": saved[1],
        "coal": saved[2],
        "sub": saved[3],
    }
    (other,) = services.save_items(
        entity=world.other_unit,
        items=[services.ItemInput(code=OTHER, frequency=0, name="电力", boundary="in")],
        user=world.users["other_enterprise"],
    )
    return MWorld(world, items, other)


def raw(index: int, code: str, ts: dt.datetime | None, value: float | None, **kw: Any):
    return services.RawReading(index=index, item=code, ts=ts, value=value, **kw)


def day_of_readings(
    code: str, day: dt.date, value: float = 100.0, skip: set[int] | None = None, **kw: Any
) -> list[services.RawReading]:
    """96 fifteen-minute readings of ``day`` (minus the ``skip`` slots)."""
    out = []
    for k in range(96):
        if skip and k in skip:
            continue
        ts = at(day.year, day.month, day.day) + dt.timedelta(minutes=15 * k)
        out.append(raw(len(out), code, ts, value + (k % 7) * 0.5, **kw))
    return out
