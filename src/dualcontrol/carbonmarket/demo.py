"""The carbon-market part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

SYNTHETIC: every figure is ILLUSTRATIVE (units are the demo's synthetic units, marked 演示).  Built
through the services, like officers, units and verifiers would, so the ledger, its hash chain and
the audit log are those of a real run:

- key emitters in the four covered sectors (power, steel, cement, aluminium) listed for 2024–2026,
  with the 2027 list proposed from the 2025 verified emissions;
- 2024 cycle: reports accepted, allocations issued (power by the 2024 benchmarks, others equal to
  verified emissions), surrenders by 2025-12-31 — one unit late, one short (with a notice and a
  fine recorded);
- 2025 cycle: reports submitted, verified by the demo verifier (one with a finding that lowers the
  figure), accepted; allocations issued (power by the draft 2025 benchmarks, labelled as such;
  others by the intensity method with an illustrative BP); most units surrendered in time, one
  still short before the deadline, one CCER surrender over the 5 % cap refused;
- CCER issued in a national-registry mirror account, passed to a project owner and transferred to
  an emitter (four-eyes); a second transfer waits in the approval queue;
- monthly evidence (月度存证) for 2026 for the power units.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from dualcontrol.accounts.models import User
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.models import AccountKind
from dualcontrol.core import ledger as core
from dualcontrol.entities.models import Entity
from dualcontrol.reference.carbon_market import market_rules

DEMO_AFTER = ("dualcontrol.reporting",)
SEED = 2025
# synthetic emitters per sector: (GB/T 4754 major class of the demo's units, how many,
# illustrative direct tCO2 per tce of energy use)
PLAN = {
    "power": ("44", 5, Decimal("2.55")),
    "steel": ("31", 3, Decimal("2.10")),
    "cement": ("30", 3, Decimal("2.35")),
    "aluminium": ("32", 2, Decimal("0.55")),
}
METHODS = {
    "power": "企业温室气体排放核算与报告指南 发电设施",
    "steel": "中国钢铁生产企业温室气体排放核算方法与报告指南（试行）",
    "cement": "中国水泥生产企业温室气体排放核算方法与报告指南（试行）",
    "aluminium": "中国电解铝生产企业温室气体排放核算方法与报告指南（试行）",
}
# illustrative sector balance values BP for the 2025 intensity method (the real ones are only
# shown on the national management platform — NOT FOUND in public sources)
DEMO_BP = {"steel": Decimal("1.62"), "cement": Decimal("0.86"), "aluminium": Decimal("1.70")}


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _emitters() -> list[tuple[Entity, str, Decimal]]:
    """(unit, sector, base emissions) — the largest synthetic units of each covered class, plus the
    demo enterprise's own unit when its class is covered."""
    threshold = market_rules().inclusion_threshold_co2e_t
    chosen: list[tuple[Entity, str, Decimal]] = []
    own = (
        User.objects.filter(username="demo-enterprise").values_list("entity_id", flat=True).first()
    )
    for sector, (major, n, factor) in PLAN.items():
        qs = Entity.objects.filter(is_synthetic=True, industry__code__startswith=major).order_by(
            "-annual_energy_tce", "pk"
        )
        picked = list(qs[:n])
        if own and qs.filter(pk=own).exists() and all(e.pk != own for e in picked):
            picked[-1:] = [qs.get(pk=own)]
        for e in picked:
            energy = Decimal(e.annual_energy_tce or 0)
            base = max(threshold * Decimal("1.15"), (energy * factor).quantize(Decimal("1")))
            chosen.append((e, sector, base))
    return chosen


def _power_units(base: Decimal, rng: random.Random) -> list[dict[str, Any]]:
    """Two coal units whose benchmark allocation lands near the emitter's emissions."""
    supply = (base / Decimal("0.80") / 2).quantize(Decimal("1"))
    return [
        {
            "name": f"#{i}",
            "category": "I" if i == 1 else "II",
            "supply_mwh": str(supply),
            "heat_gj": str((supply * Decimal("0.3")).quantize(Decimal("1"))),
            "ff": str(Decimal(1) + Decimal(rng.randint(0, 15)) / 1000),
        }
        for i in (1, 2)
    ]


def _cycle(
    year: int,
    emitters: list[tuple[Entity, str, Decimal]],
    province: User | None,
    verifier: User | None,
    rng: random.Random,
) -> dict[int, int]:
    """Reports, verification, acceptance and allocation of one year; returns obligations."""
    rules = market_rules()
    report_deadline = rules.deadlines(year).report or dt.date(year + 1, 3, 31)
    obligations: dict[int, int] = {}
    proposals = []
    for i, (entity, sector, base) in enumerate(emitters):
        drift = Decimal(1) + Decimal(rng.randint(-40, 40)) / 1000
        reported = (base * drift).quantize(Decimal("1"))
        process = (
            (reported * Decimal("0.55")).quantize(Decimal("0.01"))
            if sector == "cement"
            else Decimal(0)
        )
        power_units = _power_units(reported, rng) if sector == "power" else []
        data = {
            "sector": sector,
            "method": METHODS[sector],
            "fuel_co2_t": reported - process,
            "process_co2e_t": process,
            "indirect_co2_t": (reported * Decimal("0.08")).quantize(Decimal("0.01")),
            "supply_mwh": sum(Decimal(u["supply_mwh"]) for u in power_units)
            if power_units
            else None,
            "heat_gj": sum(Decimal(u["heat_gj"]) for u in power_units) if power_units else None,
            "output_t": None
            if sector == "power"
            else (
                reported
                / {
                    "steel": Decimal("1.55"),
                    "cement": Decimal("0.84"),
                    "aluminium": Decimal("1.65"),
                }[sector]
            ).quantize(Decimal("1")),
        }
        report = services.save_report(entity=entity, year=year, data=data)
        submitted = report_deadline - dt.timedelta(days=rng.randint(2, 40))
        services.submit_report(report=report, when=_at(submitted))
        services.assign_verifier(
            report=report, verifier=verifier, when=_at(submitted + dt.timedelta(days=10))
        )
        verified = reported
        findings = "排放报告与原始记录、台账一致，未发现问题。"
        if i == 1:
            verified = (reported * Decimal("0.985")).quantize(Decimal("1"))
            findings = (
                "部分燃煤低位发热量采用缺省值但未附说明，经核实按实测值重算，排放量核减1.5%。"
            )
        services.record_verification(
            report=report,
            verified_co2e_t=verified,
            findings=findings,
            when=_at(submitted + dt.timedelta(days=60)),
        )
        services.accept_report(report=report, when=_at(submitted + dt.timedelta(days=75)))
        obligations[entity.pk] = services.obligation_t(verified)
        if sector == "power":
            units = power_units
            inputs: dict[str, Any] = {"units": units, "verified_co2_t": str(verified)}
        else:
            # better than the sector balance value (X > 0 → α > 0), so the allocation covers the
            # obligation and the demo's surrenders go through
            better = Decimal(rng.randint(1, 12)) / 100
            intensity = (DEMO_BP[sector] * (1 - better)).quantize(Decimal("0.001"))
            inputs = {
                "verified_co2_t": str(verified),
                "intensity": str(intensity),
                "balance_value": str(DEMO_BP[sector]),
            }
        proposals.append(
            services.propose_allocation(entity=entity, year=year, sector=sector, inputs=inputs)
        )
    total = sum(int(p.amount_t) for p in proposals)
    services.issue_to_province(
        year=year, amount=total, note=f"{year}年度配额签发至省级登记账户（演示）"
    )
    issue_day = (rules.deadlines(year).verification or dt.date(year + 1, 7, 31)) + dt.timedelta(
        days=50
    )
    for p in proposals:
        services.approve_allocation(proposal=p, user=None)
        services.issue_allocation(proposal=p, when=issue_day)
    return obligations


def _emitter_user(entity: Entity) -> User:
    """``demo-emitter``: the carbon manager of the first key emitter (an enterprise login)."""
    from dualcontrol.accounts import second_factor
    from dualcontrol.accounts.models import Role
    from dualcontrol.demo.builder import DEMO_PASSWORD

    user = User(
        username="demo-emitter",
        first_name="碳排放管理员（演示）",
        email="demo-emitter@demo.invalid",  # RFC 2606: never deliverable
        role=Role.ENTERPRISE,
        entity=entity,
        is_demo=True,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    if second_factor.required_for(user):
        second_factor.enrol_demo_device(user)
    return user


def extend_demo(*, today: dt.date) -> None:
    rng = random.Random(SEED)
    emitters = _emitters()
    if not emitters:
        return
    province = User.objects.filter(username="demo-province").first()
    verifier = User.objects.filter(username="demo-verifier").first()
    threshold = market_rules().inclusion_threshold_co2e_t
    for year in (2024, 2025, 2026):
        for entity, sector, base in emitters:
            services.add_emitter(
                entity=entity,
                year=year,
                sector=sector,
                basis_co2e_t=base,
                basis=f"{year - 2}年度排放量 ≥ {threshold} tCO2e（演示）",
            )
        services.publish_emitters(year=year)

    # ---- 2024 cycle: surrendered by 2025-12-31; one late, one short
    ob24 = _cycle(2024, emitters, province, verifier, rng)
    deadline24 = market_rules().deadlines(2024).surrender or dt.date(2025, 12, 31)
    short24 = emitters[2][0].pk if len(emitters) > 2 else None
    late24 = emitters[3][0].pk if len(emitters) > 3 else None
    for entity, _sector, _base in emitters:
        need = ob24[entity.pk]
        if entity.pk == short24:
            need = (need * 9) // 10
        day = deadline24 - dt.timedelta(days=rng.randint(3, 40))
        if entity.pk == late24:
            day = deadline24 + dt.timedelta(days=18)
        services.surrender(
            entity=entity, year=2024, unit_type="CEA", vintage=2024, amount=need, when=day
        )
    if short24 is not None:
        entity = next(e for e, _s, _b in emitters if e.pk == short24)
        gap = ob24[short24] - (ob24[short24] * 9) // 10
        services.record_action(
            entity=entity,
            year=2024,
            kind="notice",
            text=f"未按时足额清缴2024年度配额，缺口 {gap} 吨，责令限期改正（演示）。",
            basis="《碳排放权交易管理暂行条例》第二十四条",
        )
        services.record_action(
            entity=entity,
            year=2024,
            kind="fine",
            amount=Decimal(gap) * Decimal("62.36") * 5,
            text="按清缴时限前1个月市场交易平均成交价格的5倍处以罚款（演示，价格为示意）。",
            basis="《碳排放权交易管理暂行条例》第二十四条",
        )

    # ---- CCER: national-registry mirror → project owner → an emitter (four-eyes)
    registry = ledger.open_account(
        code="CCER-REGISTRY",
        kind=AccountKind.GOVERNMENT,
        name="国家自愿减排注册登记系统（镜像，演示）",
    )
    owner_entity = (
        Entity.objects.filter(is_synthetic=True)
        .exclude(pk__in=[e.pk for e, _s, _b in emitters])
        .order_by("pk")
        .first()
    )
    ccer_user = emitters[0][0]
    if owner_entity is not None:
        owner = services.holding_account(owner_entity)
        ledger.apply(
            core.Request(
                "issue",
                to_account=registry.code,
                unit_type="CCER",
                vintage=2025,
                amount=60_000,
                date=dt.date(2025, 9, 1),
                note="林业碳汇项目减排量登记（演示）",
            )
        )
        ledger.apply(
            core.Request(
                "allocate",
                from_account=registry.code,
                to_account=owner.code,
                unit_type="CCER",
                vintage=2025,
                amount=60_000,
                date=dt.date(2025, 9, 2),
                note="减排量登记至项目业主账户（演示）",
            )
        )
        buyer = services.holding_account(ccer_user)
        ledger.apply(
            core.Request(
                "transfer",
                from_account=owner.code,
                to_account=buyer.code,
                unit_type="CCER",
                vintage=2025,
                amount=40_000,
                requested_by="项目业主（演示）",
                approved_by="demo-province",
                date=dt.date(2026, 10, 15),
                note="协议转让（演示）",
            )
        )

    # ---- 2025 cycle: deadline 2026-12-31; one CCER surrender over the cap refused, one short
    ob25 = _cycle(2025, emitters, province, verifier, rng)
    deadline25 = market_rules().deadlines(2025).surrender or dt.date(2026, 12, 31)
    open25 = emitters[4][0].pk if len(emitters) > 4 else None
    for entity, _sector, _base in emitters:
        need = ob25[entity.pk]
        day = min(today, deadline25) - dt.timedelta(days=rng.randint(1, 30))
        if entity.pk == ccer_user.pk and owner_entity is not None:
            cap = core.offset_cap(need, market_rules().ledger.offset_cap_frac)
            # over the 5 % cap: refused, the refusal recorded by the service (the demo's point)
            with contextlib.suppress(ValidationError):
                services.surrender(
                    entity=entity,
                    year=2025,
                    unit_type="CCER",
                    vintage=2025,
                    amount=cap + 1_000,
                    when=day,
                )
            held = ledger.balances_of([services.holding_account(entity)])
            use = min(cap, held[services.holding_account(entity).code].get("CCER", 0))
            services.surrender(
                entity=entity, year=2025, unit_type="CCER", vintage=2025, amount=use, when=day
            )
            need -= use
        if entity.pk == open25:
            need = (need * 3) // 4
        services.surrender(
            entity=entity, year=2025, unit_type="CEA", vintage=2025, amount=need, when=day
        )

    # a login for an emitter's carbon manager, and a transfer of theirs waiting for the second person
    emitter_user = _emitter_user(emitters[0][0])
    own_account = services.holding_account(emitters[0][0])
    if len(emitters) > 1:
        target = services.holding_account(emitters[1][0])
        balance = ledger.balances_of([own_account])[own_account.code]["CEA"]
        if balance > 0:
            services.request_transfer(
                from_account=own_account,
                to_account=target,
                unit_type="CEA",
                vintage=2025,
                amount=min(5_000, balance),
                note="富余配额协议转让（演示）",
                user=emitter_user,
            )

    # 2027 list proposed from the 2025 verified emissions (not yet published)
    services.propose_emitters(year=2027)

    # monthly evidence 2026 for the power units (filed within 40 days; one late)
    for entity, sector, base in emitters:
        if sector != "power":
            continue
        for month in range(1, min(today.month, 11)):
            fuel = (base / 12 * (Decimal(1) + Decimal(rng.randint(-80, 80)) / 1000)).quantize(
                Decimal("0.01")
            )
            end = dt.date(2026, month + 1, 1) - dt.timedelta(days=1)
            filed = end + dt.timedelta(days=rng.randint(5, 35) if month != 3 else 47)
            if filed > today:
                continue
            services.file_month(
                entity=entity, year=2026, month=month, fuel_co2_t=fuel, when=_at(filed)
            )
