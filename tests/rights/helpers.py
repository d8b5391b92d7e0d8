"""A small rights world: the two units of tests.factories with EUR rights, a budget, a permit with
allocated SO2 rights, certificates, a person with points and an open offer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dualcontrol.accounts.models import Role
from dualcontrol.rights import services
from dualcontrol.rights.models import Holder, Listing, Permit
from tests.factories import World, world

YEAR = 2025


@dataclass
class Rights:
    w: World
    unit: Holder
    other: Holder
    person: Holder
    permit: Permit
    offer: Listing


def rights() -> Rights:
    w = world()
    admin = w.users[Role.PROVINCE_ADMIN]
    services.set_energy_budget(
        division=w.city, year=YEAR, budget_tce="10000", basis="测试预算", user=admin
    )
    services.grant_energy_rights(
        entity=w.unit, year=YEAR, kind="existing", amount_tce="5000", basis="历史法", user=admin
    )
    services.grant_energy_rights(
        entity=w.other_unit,
        year=YEAR,
        kind="existing",
        amount_tce="3000",
        basis="历史法",
        user=admin,
    )
    permit = services.record_permit(
        entity=w.unit,
        permit_number="PW-1",
        unit_type="EMR-SO2",
        permitted_t_per_year="100.000",
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2028, 12, 31),
        user=admin,
    )
    services.allocate_emission_rights(permit=permit, year=YEAR, user=admin)
    unit = services.unit_holder(w.unit)
    other = services.unit_holder(w.other_unit)
    services.acquire_certificates(holder=unit, vintage=YEAR, amount_mwh=1000, user=admin)
    person = services.open_person(name="市民甲", person_ref="P0001", division=w.city, user=admin)
    services.record_behaviour(
        holder=person, code="bus", quantity="40", day=dt.date(YEAR, 3, 1), user=admin
    )
    offer = services.post_listing(
        holder=unit,
        side="offer",
        unit_type="EUR",
        vintage=YEAR,
        quantity="200",
        price_yuan="150",
        user=w.users[Role.ENTERPRISE],
    )
    return Rights(w, unit, other, person, permit, offer)


def balance(holder: Holder, unit_type: str, vintage: int | None = YEAR) -> Decimal:
    return services.balance(holder, unit_type, vintage)
