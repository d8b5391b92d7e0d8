"""Reads of the rights pages and API (no writes)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from dualcontrol.carbonmarket import ledger
from dualcontrol.carbonmarket.models import LedgerEntry, Obligation
from dualcontrol.reference.rights import rights_rules
from dualcontrol.regions.models import Division
from dualcontrol.rights import rules as pure
from dualcontrol.rights.models import (
    Behaviour,
    EnergyBudget,
    EnergyRight,
    Holder,
    HolderKind,
    Redemption,
    Trade,
    TradeStatus,
)

RIGHTS_UNITS = ("EUR", "EMR-COD", "EMR-NH3N", "EMR-SO2", "EMR-NOX", "GEC", "CSC", "PHP")


def unit_label(code: str) -> str:
    spec = ledger.rules().unit_types.get(code)
    return f"{spec.name_zh}（{spec.unit}）" if spec else code


def balances(holders: list[Holder]) -> dict[int, dict[str, Decimal]]:
    """{holder id: {unit type: balance}} for the rights unit types held (non-zero)."""
    by_account = {h.account_id: h.pk for h in holders}
    out: dict[int, dict[str, Decimal]] = {h.pk: {} for h in holders}
    rows = (
        LedgerEntry.objects.filter(account_id__in=by_account)
        .values("account_id", "unit_type")
        .annotate(t=Sum("amount"))
    )
    for r in rows:
        if r["t"]:
            out[by_account[r["account_id"]]][r["unit_type"]] = Decimal(r["t"])
    return out


def holdings(holder: Holder) -> list[dict[str, Any]]:
    return [
        {**h, "label": unit_label(h["unit_type"])}
        for h in ledger.holdings_by_vintage(holder.account)
    ]


def compliance(holders: QuerySet[Holder], unit_types: tuple[str, ...]) -> list[dict[str, Any]]:
    """Obligation rows of the holders in the given unit types, with the core's status."""
    accounts = {h.account_id: h for h in holders}
    out = []
    pairs = (
        Obligation.objects.filter(account_id__in=list(accounts), unit_type__in=unit_types)
        .values_list("year", "unit_type")
        .distinct()
    )
    for year, unit_type in sorted(set(pairs), reverse=True):
        for r in ledger.compliance_rows(year, unit_type=unit_type):
            holder = accounts.get(r["account"].pk)
            if holder is not None:
                out.append({**r, "holder": holder, "unit_type": unit_type})
    return out


def region_effect(year: int, regions: QuerySet[Division]) -> list[dict[str, Any]]:
    """Per region: energy budget, rights issued, EUR traded in and out, surrendered, net."""
    budgets = dict(EnergyBudget.objects.filter(year=year).values_list("division_id", "budget_tce"))
    issued = dict(
        EnergyRight.objects.filter(year=year)
        .values_list("holder__region_id")
        .annotate(t=Sum("amount_tce"))
    )
    trades = Trade.objects.filter(
        unit_type="EUR", vintage=year, status=TradeStatus.EXECUTED
    ).values_list("seller__region_id", "buyer__region_id", "quantity")
    inflow: dict[int, Decimal] = defaultdict(Decimal)
    outflow: dict[int, Decimal] = defaultdict(Decimal)
    for s, b, q in trades:
        if s != b:
            outflow[s] += q
            inflow[b] += q
    surrendered = dict(
        LedgerEntry.objects.filter(
            unit_type="EUR",
            amount__lt=0,
            transaction__type="surrender",
            transaction__year=year,
            transaction__correction__isnull=True,
            account__rights_holder__isnull=False,
        )
        .values_list("account__rights_holder__region_id")
        .annotate(t=Sum("amount"))
    )
    rows = []
    for region in regions:
        pk = region.pk
        if pk not in budgets and pk not in issued and pk not in inflow and pk not in outflow:
            continue
        budget = budgets.get(pk)
        got = Decimal(issued.get(pk) or 0)
        net = got + inflow[pk] - outflow[pk]
        rows.append(
            {
                "region": region,
                "budget_tce": budget,
                "issued_tce": got,
                "in_tce": inflow[pk],
                "out_tce": outflow[pk],
                "net_tce": net,
                "surrendered_tce": -Decimal(surrendered.get(pk) or 0),
                "headroom_tce": (Decimal(budget) - net) if budget is not None else None,
            }
        )
    return rows


def price_rows(since: dt.date | None = None) -> list[pure.PriceRow]:
    qs = Trade.objects.filter(status=TradeStatus.EXECUTED, executed_on__isnull=False)
    if since is not None:
        qs = qs.filter(executed_on__gte=since)
    return pure.price_statistics(
        qs.values_list("unit_type", "executed_on", "quantity", "price_yuan"),
        rights_rules().price_decimals,
    )


def points_summary() -> dict[str, Any]:
    """Carbon-inclusive totals for the public page (no names)."""
    people = Holder.objects.filter(kind__in=(HolderKind.PERSON, HolderKind.ORGANISATION))
    earned = Behaviour.objects.aggregate(t=Sum("points"))["t"] or 0
    redeemed = Redemption.objects.filter(unit_type="PHP").aggregate(t=Sum("amount"))["t"] or 0
    by_code = dict(Behaviour.objects.values_list("code").annotate(t=Sum("points")))
    behaviours = rights_rules().behaviours
    return {
        "persons": people.filter(kind=HolderKind.PERSON).count(),
        "organisations": people.filter(kind=HolderKind.ORGANISATION).count(),
        "earned": earned,
        "redeemed": redeemed,
        "by_behaviour": [
            (b.name_zh, b.unit, b.points_per_unit, by_code.get(code, 0), b.source)
            for code, b in behaviours.items()
        ],
    }


def transactions_of(holder: Holder, limit: int = 50) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(account=holder.account)
        .select_related("transaction")
        .order_by("-transaction__seq")[:limit]
    )


def board(qs: Any, unit_type: str = "", region: str = "") -> Any:
    if unit_type:
        qs = qs.filter(unit_type=unit_type)
    if region:
        qs = qs.filter(Q(division__code=region))
    return qs
