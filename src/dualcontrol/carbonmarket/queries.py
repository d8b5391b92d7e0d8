"""Reads of the carbon-market pages and API (no writes)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import carbon as access
from dualcontrol.access.rules import allows
from dualcontrol.accounts.models import User
from dualcontrol.carbonmarket import ledger, services
from dualcontrol.carbonmarket.models import (
    Account,
    AllocationProposal,
    ComplianceAction,
    EmissionMonth,
    EmissionReport,
    Emitter,
    LedgerEntry,
    LedgerTransaction,
    ListingStatus,
    Obligation,
    PendingRequest,
    PendingStatus,
    ReportStatus,
)
from dualcontrol.core import ledger as core
from dualcontrol.entities.models import Entity
from dualcontrol.reference.carbon_market import market_rules

STATUS_LABELS = {
    "compliant": "按时足额清缴",
    "late": "逾期完成清缴",
    "open": "未完成（未到截止日期）",
    "short": "未足额清缴",
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def years() -> list[int]:
    found = set(Obligation.objects.values_list("year", flat=True))
    found |= set(Emitter.objects.values_list("year", flat=True))
    found |= set(EmissionReport.objects.values_list("year", flat=True))
    return sorted(found, reverse=True)


def obligation_years() -> list[int]:
    return sorted(set(Obligation.objects.values_list("year", flat=True)), reverse=True)


def default_year() -> int:
    """The latest year with obligations, else last year."""
    latest = Obligation.objects.aggregate(y=Max("year"))["y"]
    return int(latest) if latest else timezone.localdate().year - 1


def overview(user: Any, year: int) -> dict[str, Any]:
    units = access.visible_units(user).values("pk")
    emitters = access.visible_emitters(user).filter(year=year)
    reports = access.visible_reports(user).filter(year=year)
    by_status = dict(reports.values_list("status").annotate(n=Count("pk")))
    allocations = AllocationProposal.objects.filter(year=year, entity__in=units)
    visible = set(access.visible_units(user).values_list("pk", flat=True))
    rows = services.compliance_table(year, entity_ids=visible)
    return {
        "emitters": emitters.filter(status=ListingStatus.LISTED).count(),
        "proposed": emitters.filter(status=ListingStatus.PROPOSED).count(),
        "reports": [(label, by_status.get(code, 0), code) for code, label in ReportStatus.choices],
        "verified_t": reports.aggregate(t=Sum("verified_co2e_t"))["t"],
        "allocated_t": allocations.filter(status="issued").aggregate(t=Sum("amount_t"))["t"],
        "allocations": allocations.count(),
        "compliance": compliance_summary(rows),
        "pending": (
            PendingRequest.objects.filter(status=PendingStatus.PENDING).count()
            if access.sees_ledger(user)
            else 0
        ),
    }


def listing_counts(user: Any, year: int) -> dict[str, int]:
    qs = access.visible_emitters(user).filter(year=year)
    return dict(qs.values_list("sector").annotate(n=Count("pk")))


def compliance_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(r["row"].status for r in rows)
    obligation = sum(r["row"].obligation for r in rows)
    surrendered = sum(min(r["row"].surrendered, r["row"].obligation) for r in rows)
    return {
        "units": len(rows),
        "counts": [(status_label(s), counts.get(s, 0), s) for s in STATUS_LABELS],
        "obligation": obligation,
        "surrendered": sum(r["row"].surrendered for r in rows),
        "shortfall": sum(r["row"].shortfall for r in rows),
        "completion_pct": (round(100 * surrendered / obligation, 2) if obligation else None),
    }


COMPLIANCE_HEADERS = [
    "单位名称",
    "统一社会信用代码",
    "地区",
    "行业",
    "账户",
    "应清缴量（tCO2e）",
    "已清缴量",
    "其中 CCER",
    "缺口",
    "状态",
    "完成日期",
    "截止日期",
    "处理",
]


def compliance_cells(r: dict[str, Any]) -> list[Any]:
    row: core.ComplianceRow = r["row"]
    e = r["entity"]
    return [
        e.name,
        e.uscc,
        e.division.name,
        r["sector"],
        r["account"].code,
        row.obligation,
        row.surrendered,
        row.offsets_surrendered,
        row.shortfall,
        status_label(row.status),
        row.completed_on.isoformat() if row.completed_on else "",
        row.deadline.isoformat() if row.deadline else "",
        "；".join(f"{a.get_kind_display()}：{a.text}" for a in r["actions"]),
    ]


PUBLIC_HEADERS = [
    "单位名称",
    "统一社会信用代码",
    "地区",
    "行业",
    "经核查排放量（tCO2e）",
    "已清缴量",
    "履约状态",
]


def public_years() -> list[int]:
    """Years whose emitter list is published and that have obligations."""
    listed = set(Emitter.objects.filter(status=ListingStatus.LISTED).values_list("year", flat=True))
    with_obligations = set(Obligation.objects.values_list("year", flat=True))
    return sorted(listed & with_obligations, reverse=True)


def public_rows(year: int) -> list[dict[str, Any]]:
    listed = set(
        Emitter.objects.filter(year=year, status=ListingStatus.LISTED).values_list(
            "entity_id", flat=True
        )
    )
    return services.compliance_table(year, entity_ids=listed)


def public_cells(r: dict[str, Any]) -> list[Any]:
    row: core.ComplianceRow = r["row"]
    e = r["entity"]
    return [
        e.name,
        e.uscc,
        e.division.name,
        r["sector"],
        row.obligation,
        row.surrendered,
        status_label(row.status),
    ]


def unit_page(entity: Entity, account: Account | None, *, today: dt.date) -> dict[str, Any]:
    reports = EmissionReport.objects.filter(entity=entity).select_related("verifier")
    allocations = AllocationProposal.objects.filter(entity=entity)
    listings = Emitter.objects.filter(entity=entity)
    compliance = []
    transactions: list[Any] = []
    holdings: list[dict[str, Any]] = []
    balances: dict[str, int] = {}
    if account is not None:
        holdings = ledger.holdings_by_vintage(account)
        balances = ledger.balances_of([account])[account.code]
        for year in (
            Obligation.objects.filter(account=account)
            .order_by("-year")
            .values_list("year", flat=True)
        ):
            compliance.extend(services.compliance_table(year, today=today, entity_ids={entity.pk}))
        transactions = list(
            LedgerEntry.objects.filter(account=account)
            .select_related("transaction")
            .order_by("-transaction__seq")[:50]
        )
    actions = ComplianceAction.objects.filter(entity=entity)
    months = EmissionMonth.objects.filter(entity=entity).order_by("-year", "-month")[:24]
    return {
        "reports": reports,
        "allocations": allocations,
        "listings": listings,
        "compliance": compliance,
        "transactions": transactions,
        "holdings": holdings,
        "balances": balances,
        "actions": actions,
        "months": months,
        "status_labels": STATUS_LABELS,
        "cap_pct": market_rules().ledger.offset_cap_frac * 100,
    }


def verifier_choices() -> list[User]:
    return [
        u
        for u in User.objects.filter(is_active=True).order_by("username")
        if allows(u, "carbon.verify")
    ]


def ledger_totals() -> list[dict[str, Any]]:
    """Per unit type and vintage: issued, held, surrendered, cancelled (sums of entries)."""
    rows = (
        LedgerEntry.objects.values("unit_type", "vintage")
        .annotate(
            issued=Sum("amount", filter=Q(account__kind="issuance")),
            surrendered=Sum("amount", filter=Q(account__kind="surrender")),
            cancelled=Sum("amount", filter=Q(account__kind="cancellation")),
            held=Sum("amount", filter=Q(account__kind__in=("holding", "government"))),
        )
        .order_by("unit_type", "vintage")
    )
    return [
        {
            "unit_type": r["unit_type"],
            "vintage": r["vintage"],
            "issued": -(r["issued"] or 0),
            "held": r["held"] or 0,
            "surrendered": r["surrendered"] or 0,
            "cancelled": r["cancelled"] or 0,
        }
        for r in rows
    ]


def transaction_count() -> int:
    return LedgerTransaction.objects.count()
