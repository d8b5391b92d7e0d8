"""A small carbon-market world: two units (cement, steel) with verified 2025 reports, accepted, an
allocation issued, and the CCER a unit bought."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualcontrol.accounts.models import Role
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.models import Account, EmissionReport
from dualcontrol.core import ledger as core
from tests.factories import World, world


@dataclass
class Market:
    w: World
    report: EmissionReport
    other_report: EmissionReport
    account: Account
    other_account: Account


def report(w: World, entity: Any, year: int, fuel: str, sector: str = "cement") -> EmissionReport:
    owner = w.users[Role.ENTERPRISE] if entity == w.unit else w.users["other_enterprise"]
    r = services.save_report(
        entity=entity,
        year=year,
        data={"sector": sector, "method": "指南", "fuel_co2_t": fuel, "process_co2e_t": "0"},
        user=owner,
    )
    return services.submit_report(report=r, user=owner)


def verified(w: World, r: EmissionReport, amount: str) -> EmissionReport:
    services.assign_verifier(
        report=r, verifier=w.users[Role.VERIFIER], user=w.users[Role.PROVINCE_ADMIN]
    )
    services.record_verification(
        report=r, verified_co2e_t=Decimal(amount), findings="无问题", user=w.users[Role.VERIFIER]
    )
    return services.accept_report(report=r, user=w.users[Role.PROVINCE_ADMIN])


def market(year: int = 2025) -> Market:
    w = world()
    admin = w.users[Role.PROVINCE_ADMIN]
    for e, sector in ((w.unit, "cement"), (w.other_unit, "steel")):
        services.add_emitter(
            entity=e,
            year=year,
            sector=sector,
            basis_co2e_t=Decimal(30000),
            basis="测试",
            user=admin,
        )
    services.publish_emitters(year=year, user=admin)
    r1 = verified(w, report(w, w.unit, year, "30000"), "30000")
    r2 = verified(w, report(w, w.other_unit, year, "50000", "steel"), "50000")
    services.issue_to_province(year=year, amount=100_000, user=admin)
    for e, amount in ((w.unit, 29_000), (w.other_unit, 52_000)):
        p = services.propose_allocation(
            entity=e,
            year=year,
            sector="cement",
            inputs={"verified_co2_t": str(amount), "intensity": "0.86", "balance_value": "0.86"},
            user=admin,
        )
        services.approve_allocation(proposal=p, user=admin)
        services.issue_allocation(proposal=p, user=admin, when=dt.date(year + 1, 9, 30))
    registry = ledger.open_account(code="CCER-REG", kind="government", name="CCER registry")
    ledger.apply(
        core.Request("issue", to_account=registry.code, unit_type="CCER", vintage=year, amount=5000)
    )
    a1 = Account.objects.get(entity=w.unit)
    ledger.apply(
        core.Request(
            "allocate",
            from_account=registry.code,
            to_account=a1.code,
            unit_type="CCER",
            vintage=year,
            amount=5000,
        )
    )
    return Market(w, r1, r2, a1, Account.objects.get(entity=w.other_unit))
