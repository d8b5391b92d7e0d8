"""The rights part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

SYNTHETIC: every figure is ILLUSTRATIVE (the demo's synthetic units, marked 演示).  Built through
the services, so the ledger, its hash chain and the audit log are those of a real run:

- energy budgets for the prefectures with demo units (illustrative: 105 % of their units' energy);
- initial energy-use rights (existing use, free) for the largest units; one unit buys rights to
  cover a new project (a paid increment — the price is not configured, so the fee shows 未配置),
  another covers a project with rights bought on the bulletin board from a third unit (seller
  requests, buyer accepts, the province's second person approves);
- a smelter (GB/T 4754 class 32) gets SO2 and NOx rights from its permits, and surrenders them
  against its emissions (monitored where its outlet reports the pollutant, else a reported figure);
- a consumer acquires and cancels green certificates that lower its accounted energy, and its EUR
  obligation is set from the adjusted figure and surrendered;
- a forestry carbon-sink project is issued after verification; citizens and an organisation earn
  carbon-inclusive points from recorded behaviours and redeem some of them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dualcontrol.accounts.models import Role, User
from dualcontrol.entities.models import Entity
from dualcontrol.rights import services
from dualcontrol.rights.models import CoverMethod, RightKind, Side

DEMO_AFTER = ("dualcontrol.carbonmarket",)
CENT = Decimal("0.01")


def _second_officer(first: User | None) -> User | None:
    """A province officer other than ``first`` (the four-eyes approver), created if the demo has
    none."""
    other = (
        User.objects.filter(role__in=(Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER), is_active=True)
        .exclude(pk=getattr(first, "pk", None))
        .order_by("username")
        .first()
    )
    if other is not None:
        return other
    return User.objects.create_user(
        "demo-province-2", role=Role.PROVINCE_OFFICER, first_name="省级复核人（演示）"
    )


def extend_demo(*, today: dt.date) -> None:
    year = today.year - 1
    units = list(
        Entity.objects.filter(is_synthetic=True, annual_energy_tce__isnull=False)
        .select_related("division", "industry")
        .order_by("-annual_energy_tce", "pk")[:8]
    )
    if len(units) < 4:
        return
    province = User.objects.filter(username="demo-province").first()
    approver = _second_officer(province)
    on = dt.date(year, 3, 15)

    # ---- budgets and initial rights (existing use, free)
    regions = {}
    for e in units:
        regions.setdefault(services.region_of(e.division).pk, (services.region_of(e.division), []))[
            1
        ].append(e)
    for region, members in regions.values():
        total = sum((Decimal(e.annual_energy_tce) for e in members), Decimal(0))
        services.set_energy_budget(
            division=region,
            year=year,
            budget_tce=(total * Decimal("1.05")).quantize(CENT),
            basis="演示：辖区重点用能单位既有用能 × 105%（示意）",
            user=province,
        )
    for e in units:
        services.grant_energy_rights(
            entity=e,
            year=year,
            kind=RightKind.EXISTING,
            amount_tce=Decimal(e.annual_energy_tce).quantize(CENT),
            basis="既有用能（历史法，演示）",
            user=province,
            when=on,
        )

    # ---- a new project covered by purchased rights (paid increment)
    buyer = units[0]
    project_tce = (Decimal(buyer.annual_energy_tce) * Decimal("0.02")).quantize(CENT)
    services.cover_project(
        entity=buyer,
        project_ref=f"演示节能审查〔{year}〕1号",
        project_name="扩建生产线（演示）",
        year=year,
        energy_tce=project_tce,
        method=CoverMethod.PURCHASE,
        user=province,
        when=dt.date(year, 4, 2),
    )

    # ---- rights bought on the bulletin board cover a second project
    seller_unit, board_buyer = units[1], units[2]
    seller = services.unit_holder(seller_unit)
    bidder = services.unit_holder(board_buyer)
    qty = (Decimal(seller_unit.annual_energy_tce) * Decimal("0.01")).quantize(CENT)
    offer = services.post_listing(
        holder=seller,
        side=Side.OFFER,
        unit_type="EUR",
        vintage=year,
        quantity=qty,
        price_yuan=Decimal("150.00"),
        note="技改节能富余指标（演示）",
    )
    trade = services.request_trade(listing=offer, counterparty=bidder, quantity=qty)
    trade = services.accept_trade(trade=trade, when=dt.date(year, 5, 10))
    if trade.status == "accepted":
        trade = services.decide_trade(
            trade=trade, approve=True, user=approver, when=dt.date(year, 5, 12)
        )
    if trade.status == "executed":
        services.cover_project(
            entity=board_buyer,
            project_ref=f"演示节能审查〔{year}〕2号",
            project_name="新建余热利用配套项目（演示）",
            year=year,
            energy_tce=qty,
            method=CoverMethod.TRADE,
            trade=trade,
            user=province,
        )
    services.post_listing(
        holder=bidder,
        side=Side.BID,
        unit_type="EUR",
        vintage=year,
        quantity=(qty / 2).quantize(CENT),
        price_yuan=Decimal("160.00"),
        note="求购（演示）",
    )

    # ---- a consumer cancels certificates; its EUR obligation is set from the adjusted figure
    consumer_unit = units[3]
    consumer = services.unit_holder(consumer_unit)
    mwh = max(1, int(Decimal(consumer_unit.annual_energy_tce) * Decimal("0.4")))
    services.acquire_certificates(
        holder=consumer, vintage=year, amount_mwh=mwh, user=province, when=dt.date(year, 6, 1)
    )
    services.cancel_certificates(
        holder=consumer,
        vintage=year,
        amount_mwh=mwh,
        year=year,
        purpose="可再生能源电力消费（演示）",
        when=dt.date(year, 12, 20),
    )
    services.record_energy_obligation(
        entity=consumer_unit,
        year=year,
        reported_tce=Decimal(consumer_unit.annual_energy_tce).quantize(CENT),
        user=province,
    )
    ob = services.accounted_energy(
        consumer_unit, year, Decimal(consumer_unit.annual_energy_tce).quantize(CENT)
    )["adjustment"]
    services.surrender(
        holder=consumer,
        unit_type="EUR",
        vintage=year,
        year=year,
        amount=ob.adjusted_tce.quantize(CENT),
        when=today - dt.timedelta(days=30),
    )

    # ---- a smelter: permits, allocation, surrender against its emissions
    smelter = (
        Entity.objects.filter(is_synthetic=True, industry__code__startswith="32")
        .order_by("-annual_energy_tce", "pk")
        .first()
    )
    if smelter is not None:
        holder = services.unit_holder(smelter)
        for unit_type, permitted in (("EMR-SO2", "120.000"), ("EMR-NOX", "95.500")):
            permit = services.record_permit(
                entity=smelter,
                permit_number=f"91530000DEMO{unit_type[-3:]}",
                unit_type=unit_type,
                permitted_t_per_year=Decimal(permitted),
                valid_from=dt.date(year - 1, 1, 1),
                valid_to=dt.date(year + 3, 12, 31),
                user=province,
            )
            services.allocate_emission_rights(
                permit=permit, year=year, user=province, when=dt.date(year, 1, 10)
            )
            reported = (Decimal(permitted) * Decimal("0.9")).quantize(Decimal("0.001"))
            row = services.record_emission_obligation(
                entity=smelter, unit_type=unit_type, year=year, reported_t=reported, user=province
            )
            owed = Decimal(row.obligation.amount)
            services.surrender(
                holder=holder,
                unit_type=unit_type,
                vintage=year,
                year=year,
                amount=min(owed, Decimal(permitted)).quantize(Decimal("0.001")),
                when=today - dt.timedelta(days=20),
            )

    # ---- carbon sinks and carbon-inclusive points
    root = services.province_holder().division
    forest_owner = services.open_person(
        name="演示林场合作社", person_ref="ORG-FOREST-1", division=root, organisation=True
    )
    project = services.register_project(
        holder=forest_owner, methodology="P-FOREST", name="演示县人工造林碳汇项目"
    )
    services.issue_credits(
        project=project,
        vintage=year,
        verified_t=Decimal(1200),
        verifier="演示核证机构",
        user=province,
        when=dt.date(year, 11, 3),
    )
    region = regions[next(iter(regions))][0]
    behaviours = (("bus", 42), ("metro", 30), ("cycling", 65), ("recycling", 12), ("e-invoice", 20))
    for i in range(1, 4):
        person = services.open_person(
            name=f"市民{i}（演示）", person_ref=f"P{year}{i:04d}", division=region
        )
        for j, (code, quantity) in enumerate(behaviours):
            services.record_behaviour(
                holder=person,
                code=code,
                quantity=Decimal(quantity * i),
                day=dt.date(year, 1 + (j * 2 + i) % 12, 5 + i),
                user=province,
            )
        if i != 3:
            services.redeem(
                holder=person,
                unit_type="PHP",
                amount=50 * i,
                purpose="兑换公共交通优惠券（演示）",
                when=dt.date(year, 12, 1),
            )
