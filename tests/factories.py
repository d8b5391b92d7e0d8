"""Builders for tests: a tiny province with one city, two counties, units and a user per role."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualcontrol.accounts.models import Role, User
from dualcontrol.core.codes import make_uscc
from dualcontrol.core.report205 import Row205
from dualcontrol.demo.builder import seed_catalogue
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.regions.models import Department, Division

PASSWORD = "test-pass-123"
_seq = itertools.count(1)


def division(code: str, name: str, level: str, parent: Division | None = None) -> Division:
    d = Division(code=code, name=name, level=level, parent=parent, source="test")
    d.save()
    return d


def entity(div: Division, name: str | None = None, industry: str = "30") -> Entity:
    n = next(_seq)
    ind = Industry.objects.get_or_create(
        code=industry, defaults={"name": "非金属矿物制品业", "source": "test"}
    )[0]
    return Entity.objects.create(
        uscc=make_uscc("91", div.code, f"{n:09d}"),
        name=name or f"测试单位{n}",
        division=div,
        industry=ind,
    )


def user(username: str, role: str, **extra: Any) -> User:
    u = User(username=username, role=role, **extra)
    u.set_password(PASSWORD)
    u.save()
    return u


@dataclass
class World:
    province: Division
    city: Division
    other_city: Division
    county: Division
    unit: Entity
    other_unit: Entity
    users: dict[str, User]


def world() -> World:
    seed_catalogue()
    province = division("530000", "云南省", "province")
    city = division("530100", "昆明市", "prefecture", province)
    other_city = division("530300", "曲靖市", "prefecture", province)
    county = division("530102", "五华区", "county", city)
    other_county = division("530302", "麒麟区", "county", other_city)
    unit = entity(county, "昆明测试水泥有限公司")
    other_unit = entity(other_county, "曲靖测试钢铁有限公司", "31")
    dept = Department.objects.create(division=province, name="省发展改革委")
    users = {
        Role.PROVINCE_ADMIN: user("admin1", Role.PROVINCE_ADMIN),
        Role.PROVINCE_OFFICER: user("officer1", Role.PROVINCE_OFFICER, department=dept),
        Role.CITY_OFFICER: user("city1", Role.CITY_OFFICER, division=city),
        Role.ENTERPRISE: user("ent1", Role.ENTERPRISE, entity=unit),
        Role.VERIFIER: user("ver1", Role.VERIFIER),
        "other_enterprise": user("ent2", Role.ENTERPRISE, entity=other_unit),
        "other_city": user("city2", Role.CITY_OFFICER, division=other_city),
        Role.SYSTEM_ADMIN: user("sys1", Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True),
        Role.SECURITY_ADMIN: user("sec1", Role.SECURITY_ADMIN, is_staff=True),
        Role.AUDITOR: user("aud1", Role.AUDITOR),
    }
    users[Role.VERIFIER].assigned_entities.set([unit])
    return World(province, city, other_city, county, unit, other_unit, users)


def coal_row(consumption: str = "1000", **over: Any) -> Row205:
    """A balanced raw-coal row: opening 200 + purchases 1000 − consumption 1000 = closing 200."""
    c = Decimal(consumption)
    values: dict[str, Any] = dict(
        product_code="01",
        unit="吨",
        product_name="原煤",
        opening_stock=Decimal(200),
        purchases_qty=c,
        purchases_value_kyuan=Decimal(650),
        consumption_total=c,
        industrial_production=c - 10,
        raw_material=Decimal(0),
        non_industrial=Decimal(10),
        transport=Decimal(0),
        closing_stock=Decimal(200),
    )
    values.update(over)
    return Row205(**values)


def power_row(consumption: str = "100") -> Row205:
    c = Decimal(consumption)
    return Row205(
        product_code="23",
        unit="万千瓦时",
        product_name="电力",
        purchases_qty=c,
        consumption_total=c,
        industrial_production=c,
    )
