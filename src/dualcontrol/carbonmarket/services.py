"""Use cases of the carbon market: the only code that writes emitters, reports, allocations,
surrenders and consequences (the ledger rows themselves: :mod:`dualcontrol.carbonmarket.ledger`).

Every function takes keyword arguments, checks access (:mod:`dualcontrol.access.carbon`;
``user=None`` is the platform itself — demo, batch jobs), validates (``ValidationError`` listing
every problem; ``PermissionDenied`` for the wrong user), writes in one transaction and records an
audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dualcontrol.access import carbon as access
from dualcontrol.audit.services import record, snapshot
from dualcontrol.carbonmarket import ledger
from dualcontrol.carbonmarket.messages import refusal_text
from dualcontrol.carbonmarket.models import (
    Account,
    AccountKind,
    ActionKind,
    AllocationProposal,
    AllocationStatus,
    ComplianceAction,
    EmissionMonth,
    EmissionReport,
    Emitter,
    LedgerTransaction,
    ListingStatus,
    PendingRequest,
    PendingStatus,
    ReportStatus,
    Sector,
)
from dualcontrol.core import ets
from dualcontrol.core import ledger as core
from dualcontrol.entities.models import Entity
from dualcontrol.reference.carbon_market import market_rules
from dualcontrol.reference.ets import allocation_rules
from dualcontrol.regions.models import Division

PROVINCE_ACCOUNT = "GOV-PROVINCE"


class WrongState(ValidationError):
    """Refused because of the object's state (a report already submitted, an allocation not yet
    approved, a transaction already corrected): the pages show it as any problem, the API answers
    409.  Its messages list every problem of the request, the state's among them."""


def _need(user: Any, ok: bool, what: str) -> None:
    if user is not None and not ok:
        raise PermissionDenied(what)


def _today() -> dt.date:
    return timezone.localdate()


def _in_scope(user: Any, qs: Any) -> Any:
    """Rows of ``qs`` (with an ``entity``) of the units the user sees (the province's own, when
    the installation holds several provinces); everything for the platform itself."""
    if user is None:
        return qs
    return qs.filter(entity__in=access.visible_units(user).values("pk"))


def _refuse(problems: list[Any], *, state: bool) -> None:
    if problems:
        raise (WrongState if state else ValidationError)(problems)


# ----------------------------------------------------------------------------- accounts


def province_account(*, user: Any = None) -> Account:
    """The province's government (allocation) account, opened on first use."""
    existing = Account.objects.filter(code=PROVINCE_ACCOUNT).first()
    if existing is not None:
        return existing
    root = Division.objects.filter(parent__isnull=True).order_by("code").first()
    return ledger.open_account(
        code=PROVINCE_ACCOUNT,
        kind=AccountKind.GOVERNMENT,
        name="省级配额登记账户",
        division=root,
        user=user,
    )


def holding_account(entity: Entity, *, user: Any = None) -> Account:
    """The unit's holding account (code ``CEA-<USCC>``), opened on first use."""
    existing = Account.objects.filter(entity=entity, kind=AccountKind.HOLDING).first()
    if existing is not None:
        return existing
    return ledger.open_account(
        code=f"CEA-{entity.uscc}",
        kind=AccountKind.HOLDING,
        name=entity.name,
        entity=entity,
        user=user,
    )


# ----------------------------------------------------------------------------- the list


def sector_of(entity: Entity, report: EmissionReport | None = None) -> str | None:
    if report is not None:
        return report.sector
    code = entity.industry.code if entity.industry_id else ""
    return market_rules().sector_of_industry(code)


def propose_emitters(*, year: int, user: Any = None) -> list[Emitter]:
    """Propose the list of ``year`` from the verified emissions of ``year − lag`` (≥ threshold),
    for the units in the user's scope."""
    _need(user, access.can_manage(user), "carbon.manage")
    rules = market_rules()
    basis_year = year - rules.listing_basis_lag_years
    threshold = rules.inclusion_threshold_co2e_t
    made: list[Emitter] = []
    with transaction.atomic():
        reports = _in_scope(
            user,
            EmissionReport.objects.filter(
                year=basis_year, status=ReportStatus.ACCEPTED, verified_co2e_t__isnull=False
            ),
        ).select_related("entity")
        for r in reports:
            if r.verified_co2e_t < threshold:
                continue
            if Emitter.objects.filter(entity=r.entity, year=year).exists():
                continue
            made.append(
                Emitter.objects.create(
                    entity=r.entity,
                    year=year,
                    sector=r.sector,
                    basis_co2e_t=r.verified_co2e_t,
                    basis=f"{basis_year}年度核查排放量 ≥ {threshold} tCO2e（{rules.inclusion_source}）",
                    rule_version=rules.version,
                )
            )
        record(
            actor=user,
            action="carbon.emitters.propose",
            object_type="carbonmarket.emitter",
            object_repr=f"{year}",
            after={"year": year, "proposed": len(made)},
        )
    return made


def add_emitter(
    *, entity: Entity, year: int, sector: str, basis_co2e_t: Decimal, basis: str, user: Any = None
) -> Emitter:
    """Put a unit on the list by decision (e.g. a new plant's expected emissions, an application)."""
    _need(user, access.can_manage(user), "carbon.manage")
    problems = []
    if sector not in Sector.values:
        problems.append(f"行业 {sector!r} 不是纳入行业")
    if basis_co2e_t is None or basis_co2e_t < 0:
        problems.append("纳入依据排放量必须是非负数")
    if not basis.strip():
        problems.append("请写明纳入依据")
    if Emitter.objects.filter(entity=entity, year=year).exists():
        problems.append(f"{entity.name} 已在 {year} 年度名录中")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        emitter = Emitter.objects.create(
            entity=entity,
            year=year,
            sector=sector,
            basis_co2e_t=basis_co2e_t,
            basis=basis,
            rule_version=market_rules().version,
        )
        record(actor=user, action="carbon.emitter.add", obj=emitter, after=snapshot(emitter))
    return emitter


def publish_emitters(*, year: int, user: Any = None) -> int:
    """Publish the year's list (the proposed rows in the user's scope become listed); each listed
    unit gets its account."""
    _need(user, access.can_manage(user), "carbon.manage")
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            _in_scope(user, Emitter.objects.filter(year=year, status=ListingStatus.PROPOSED))
        )
        for e in rows:
            e.status = ListingStatus.LISTED
            e.published_at = now
            e.decided_by = user if getattr(user, "pk", None) else None
            e.save(update_fields=["status", "published_at", "decided_by"])
            holding_account(e.entity, user=user)
        record(
            actor=user,
            action="carbon.emitters.publish",
            object_type="carbonmarket.emitter",
            object_repr=f"{year}",
            after={"year": year, "listed": len(rows)},
        )
    return len(rows)


# ----------------------------------------------------------------------------- reports (MRV)

REPORT_FIELDS = (
    "sector",
    "method",
    "fuel_co2_t",
    "process_co2e_t",
    "indirect_co2_t",
    "supply_mwh",
    "heat_gj",
    "output_t",
)
DECIMAL_FIELDS = (
    "fuel_co2_t",
    "process_co2e_t",
    "indirect_co2_t",
    "supply_mwh",
    "heat_gj",
    "output_t",
)
REQUIRED = ("sector", "method", "fuel_co2_t")


def _clean_report(data: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name in REPORT_FIELDS:
        value = data.get(name)
        if value in (None, ""):
            if name in REQUIRED:
                problems.append(f"{name}: 必填")
            out[name] = Decimal(0) if name in ("process_co2e_t", "indirect_co2_t") else None
            continue
        if name in DECIMAL_FIELDS:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                problems.append(f"{name}: {value!r} 不是数字")
                continue
            if not number.is_finite() or number < 0:
                problems.append(f"{name}: 必须是非负数")
                continue
            out[name] = number
        else:
            out[name] = str(value).strip()
    if out.get("sector") and out["sector"] not in Sector.values:
        problems.append(f"sector: {out['sector']!r} 不是纳入行业")
    if out.get("sector") == Sector.POWER and out.get("supply_mwh") is None:
        problems.append("supply_mwh: 发电行业须填报供电量")
    if problems:
        raise ValidationError(problems)
    return out


def save_report(
    *, entity: Entity, year: int, data: Mapping[str, Any], user: Any = None
) -> EmissionReport:
    """The unit writes (or revises, while draft or returned) its annual emission report."""
    _need(user, access.can_file(user, entity), "carbon.file")
    clean = _clean_report(data)
    deadline = market_rules().deadlines(year).report
    assert deadline is not None
    with transaction.atomic():
        report = EmissionReport.objects.select_for_update().filter(entity=entity, year=year).first()
        before = snapshot(report) if report else None
        if report is None:
            report = EmissionReport(entity=entity, year=year, deadline=deadline)
        elif report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            raise WrongState([f"报告状态为“{report.get_status_display()}”，不能修改"])
        for k, v in clean.items():
            setattr(report, k, v)
        report.status = ReportStatus.DRAFT
        report.save()
        record(
            actor=user,
            action="carbon.report.save",
            obj=report,
            before=before,
            after=snapshot(report),
        )
    return report


def submit_report(*, report: EmissionReport, user: Any = None, when: Any = None) -> EmissionReport:
    _need(user, access.can_file(user, report.entity), "carbon.file")
    if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
        raise WrongState([f"报告状态为“{report.get_status_display()}”，不能报送"])
    with transaction.atomic():
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = when or timezone.now()
        report.return_reason = ""
        report.save(update_fields=["status", "submitted_at", "return_reason"])
        record(actor=user, action="carbon.report.submit", obj=report)
    return report


def assign_verifier(
    *, report: EmissionReport, verifier: Any, user: Any = None, when: Any = None
) -> EmissionReport:
    """The province assigns a technical service body (a verifier account) to a submitted report."""
    _need(user, access.can_manage(user), "carbon.manage")
    from dualcontrol.access.rules import allows

    problems = []
    state = report.status not in (ReportStatus.SUBMITTED, ReportStatus.VERIFYING)
    if state:
        problems.append(f"报告状态为“{report.get_status_display()}”，不能指派核查")
    if verifier is None or not allows(verifier, "carbon.verify"):
        problems.append("指派对象不是核查机构账户")
    _refuse(problems, state=state)
    with transaction.atomic():
        report.verifier = verifier
        report.status = ReportStatus.VERIFYING
        report.assigned_at = when or timezone.now()
        report.verification_deadline = market_rules().deadlines(report.year).verification
        report.save(update_fields=["verifier", "status", "assigned_at", "verification_deadline"])
        record(
            actor=user,
            action="carbon.report.assign",
            obj=report,
            after={"verifier": getattr(verifier, "username", "")},
        )
    return report


def record_verification(
    *,
    report: EmissionReport,
    verified_co2e_t: Decimal,
    findings: str,
    user: Any = None,
    when: Any = None,
) -> EmissionReport:
    """The assigned verifier records its findings and the verified emissions."""
    _need(user, access.can_verify(user, report), "carbon.verify")
    problems = []
    state = report.status != ReportStatus.VERIFYING
    if state:
        problems.append(f"报告状态为“{report.get_status_display()}”，不在核查中")
    try:
        verified = Decimal(str(verified_co2e_t))
        if not verified.is_finite() or verified < 0:
            problems.append("核查确认排放量必须是非负数")
    except InvalidOperation:
        problems.append("核查确认排放量不是数字")
        verified = Decimal(0)
    if not (findings or "").strip():
        problems.append("请填写核查发现（无问题也请写明）")
    _refuse(problems, state=state)
    with transaction.atomic():
        report.verified_co2e_t = verified
        report.findings = findings.strip()
        report.verified_at = when or timezone.now()
        report.status = ReportStatus.VERIFIED
        report.save(update_fields=["verified_co2e_t", "findings", "verified_at", "status"])
        record(
            actor=user,
            action="carbon.report.verify",
            obj=report,
            after={"verified_co2e_t": str(verified), "reported": str(report.direct_co2e_t)},
        )
    return report


def accept_report(*, report: EmissionReport, user: Any = None, when: Any = None) -> EmissionReport:
    """The province confirms the verification: the verified emissions become the obligation."""
    _need(user, access.can_manage(user), "carbon.manage")
    if report.status != ReportStatus.VERIFIED or report.verified_co2e_t is None:
        raise WrongState([f"报告状态为“{report.get_status_display()}”，不能确认"])
    deadline = market_rules().deadlines(report.year).surrender
    with transaction.atomic():
        report.status = ReportStatus.ACCEPTED
        report.reviewed_by = user if getattr(user, "pk", None) else None
        report.reviewed_at = when or timezone.now()
        report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        account = holding_account(report.entity, user=user)
        ledger.record_obligation(
            account=account,
            year=report.year,
            amount=obligation_t(report.verified_co2e_t),
            deadline=deadline,
            report=report,
            user=user,
        )
        record(actor=user, action="carbon.report.accept", obj=report)
    return report


def obligation_t(verified_co2e_t: Decimal) -> int:
    """The obligation in whole allowances: verified emissions rounded per ``obligation_rounding``
    of ``carbon_market.yaml`` (a platform rule)."""
    mode = {"half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING, "floor": ROUND_FLOOR}[
        market_rules().obligation_rounding
    ]
    return int(Decimal(verified_co2e_t).to_integral_value(rounding=mode))


def return_report(*, report: EmissionReport, reason: str, user: Any = None) -> EmissionReport:
    """The province (or the verifier, for a report in verification) sends a report back."""
    allowed = access.can_manage(user) or access.can_verify(user, report)
    _need(user, allowed, "carbon.manage")
    problems = []
    returnable = (ReportStatus.SUBMITTED, ReportStatus.VERIFYING, ReportStatus.VERIFIED)
    state = report.status not in returnable
    if state:
        problems.append(f"报告状态为“{report.get_status_display()}”，不能退回")
    if not (reason or "").strip():
        problems.append("请写明退回原因")
    _refuse(problems, state=state)
    with transaction.atomic():
        report.status = ReportStatus.RETURNED
        report.return_reason = reason.strip()
        report.save(update_fields=["status", "return_reason"])
        record(actor=user, action="carbon.report.return", obj=report, note=reason)
    return report


def file_month(
    *,
    entity: Entity,
    year: int,
    month: int,
    fuel_co2_t: Decimal,
    process_co2e_t: Decimal = Decimal(0),
    user: Any = None,
    when: Any = None,
) -> EmissionMonth:
    """月度信息化存证, due within the rule's days after the month ends."""
    _need(user, access.can_file(user, entity), "carbon.file")
    if not 1 <= month <= 12:
        raise ValidationError(["月份必须在 1–12 之间"])
    if fuel_co2_t < 0 or process_co2e_t < 0:
        raise ValidationError(["排放量必须是非负数"])
    month_end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
    deadline = month_end + dt.timedelta(days=market_rules().monthly_evidence_days)
    with transaction.atomic():
        row, _ = EmissionMonth.objects.update_or_create(
            entity=entity,
            year=year,
            month=month,
            defaults={
                "fuel_co2_t": fuel_co2_t,
                "process_co2e_t": process_co2e_t,
                "filed_at": when or timezone.now(),
                "deadline": deadline,
            },
        )
        record(actor=user, action="carbon.month.file", obj=row, after=snapshot(row))
    return row


# ----------------------------------------------------------------------------- allocation


def compute_allocation(
    *, entity: Entity, year: int, sector: str, inputs: Mapping[str, Any]
) -> tuple[ets.Allocation, str]:
    """The core's allocation for the inputs; ``(allocation, method)``.

    power: ``inputs["units"]`` = [{name, category, supply_mwh, heat_gj, ff, verified_co2_t}],
    ``inputs["verified_co2_t"]`` (the emitter's, for the gap cap); steel/cement/aluminium:
    ``verified_co2_t`` and, for the intensity method, ``intensity`` and ``balance_value``.
    """
    rules = allocation_rules()

    def dec(v: Any) -> Decimal | None:
        return None if v in (None, "") else Decimal(str(v))

    if sector == Sector.POWER:
        bench = rules.power_benchmarks(year)
        prules = rules.power_rules(year)
        if bench is None or prules is None:
            raise ets.AllocationError(
                f"{year} 年度发电行业基准值未收录（NOT FOUND），不能按基准法计算"
            )
        units = [
            ets.GeneratingUnit(
                name=str(u.get("name", f"#{i}")),
                category=str(u["category"]),
                supply_mwh=Decimal(str(u["supply_mwh"])),
                heat_gj=Decimal(str(u.get("heat_gj") or 0)),
                ff=dec(u.get("ff")),
                verified_co2_t=dec(u.get("verified_co2_t")),
            )
            for i, u in enumerate(inputs.get("units") or [], start=1)
        ]
        allocation = ets.power_allocation(
            units,
            benchmarks=bench,
            rules=prules,
            coal_categories=rules.coal_categories,
            verified_co2_t=dec(inputs.get("verified_co2_t")),
            rule_version=rules.version,
        )
        return allocation, "power_benchmark"
    irules = rules.industry_rules(year)
    if irules is None:
        raise ets.AllocationError(f"{year} 年度{sector}行业分配方法未收录")
    verified = dec(inputs.get("verified_co2_t"))
    if verified is None:
        raise ets.AllocationError("需要核查确认排放量 verified_co2_t")
    allocation = ets.industry_allocation(
        verified_co2_t=verified,
        rules=irules,
        intensity=dec(inputs.get("intensity")),
        balance_value=dec(inputs.get("balance_value")),
        rule_version=rules.version,
    )
    return allocation, irules.method


def propose_allocation(
    *, entity: Entity, year: int, sector: str, inputs: Mapping[str, Any], user: Any = None
) -> AllocationProposal:
    _need(user, access.can_manage(user), "carbon.manage")
    try:
        allocation, method = compute_allocation(
            entity=entity, year=year, sector=sector, inputs=inputs
        )
    except (ets.AllocationError, KeyError, InvalidOperation, TypeError) as exc:
        raise ValidationError([f"{entity.name}: {exc}"]) from exc
    with transaction.atomic():
        existing = AllocationProposal.objects.filter(entity=entity, year=year).first()
        if existing is not None and existing.status != AllocationStatus.PROPOSED:
            raise ValidationError([f"{entity.name} {year} 年度配额已核定，不能重算"])
        payload = {
            "inputs": _jsonable(inputs),
            "lines": [
                {
                    "name": ln.name,
                    "formula": ln.formula,
                    "amount_t": str(ln.amount_t.quantize(Decimal("0.001"))),
                    **ln.inputs,
                }
                for ln in allocation.lines
            ],
            "adjustments": list(allocation.adjustments),
            "computed_t": str(allocation.computed_t.quantize(Decimal("0.001"))),
            "sources": list(allocation.sources),
        }
        proposal, _ = AllocationProposal.objects.update_or_create(
            entity=entity,
            year=year,
            defaults={
                "sector": sector,
                "method": method,
                "inputs": payload,
                "amount_t": allocation.amount_t,
                "rule_version": allocation.rule_version,
                "benchmark_status": allocation.benchmark_status,
            },
        )
        record(
            actor=user,
            action="carbon.allocation.propose",
            obj=proposal,
            after={"amount_t": allocation.amount_t, "method": method},
        )
    return proposal


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def approve_allocation(*, proposal: AllocationProposal, user: Any = None) -> AllocationProposal:
    _need(user, access.can_manage(user), "carbon.manage")
    if proposal.status != AllocationStatus.PROPOSED:
        raise WrongState([f"配额状态为“{proposal.get_status_display()}”，不能核定"])
    with transaction.atomic():
        proposal.status = AllocationStatus.APPROVED
        proposal.approved_by = user if getattr(user, "pk", None) else None
        proposal.approved_at = timezone.now()
        proposal.save(update_fields=["status", "approved_by", "approved_at"])
        record(actor=user, action="carbon.allocation.approve", obj=proposal)
    return proposal


def issue_to_province(
    *, year: int, amount: int, unit_type: str = "CEA", user: Any = None, note: str = ""
) -> LedgerTransaction:
    """Record the allowances the national registry issued into the province's account."""
    _need(user, access.can_manage(user), "carbon.manage")
    gov = province_account(user=user)
    try:
        return ledger.apply(
            core.Request(
                "issue",
                to_account=gov.code,
                unit_type=unit_type,
                vintage=year,
                amount=amount,
                requested_by=ledger.actor_name(user),
                date=_today(),
                note=note or f"{year}年度配额签发至省级账户",
            ),
            user=user,
        )
    except core.LedgerRefused as exc:
        raise ValidationError([refusal_text(exc)]) from exc


def issue_allocation(
    *, proposal: AllocationProposal, user: Any = None, when: dt.date | None = None
) -> AllocationProposal:
    """发放: move the approved allocation from the province's account to the unit's."""
    _need(user, access.can_manage(user), "carbon.manage")
    if proposal.status != AllocationStatus.APPROVED:
        raise WrongState([f"配额状态为“{proposal.get_status_display()}”，须先核定"])
    gov = province_account(user=user)
    with transaction.atomic():
        account = holding_account(proposal.entity, user=user)
        try:
            tx = ledger.apply(
                core.Request(
                    "allocate",
                    from_account=gov.code,
                    to_account=account.code,
                    unit_type="CEA",
                    vintage=proposal.year,
                    amount=int(proposal.amount_t),
                    requested_by=ledger.actor_name(user),
                    date=when or _today(),
                    note=f"{proposal.year}年度配额发放",
                ),
                user=user,
            )
        except core.LedgerRefused as exc:
            raise ValidationError([refusal_text(exc)]) from exc
        proposal.status = AllocationStatus.ISSUED
        proposal.transaction = tx
        proposal.save(update_fields=["status", "transaction"])
        record(actor=user, action="carbon.allocation.issue", obj=proposal)
    return proposal


# ----------------------------------------------------------------------------- holdings


def surrender(
    *,
    entity: Entity,
    year: int,
    unit_type: str,
    vintage: int,
    amount: Decimal | int,
    user: Any = None,
    when: dt.date | None = None,
) -> LedgerTransaction:
    """清缴: the unit surrenders units toward its obligation of ``year``.  A refusal (CCER over
    the cap, a later vintage, not enough held) is recorded as a compliance event and raised."""
    _need(user, access.can_file(user, entity), "carbon.file")
    problems = []
    if not 2000 <= int(year) <= 2100:
        problems.append(f"履约年度 {year} 无效")
    if not 2000 <= int(vintage) <= 2100:
        problems.append(f"年度 {vintage} 无效")
    account = Account.objects.filter(entity=entity, kind=AccountKind.HOLDING).first()
    if account is None:
        problems.append(f"{entity.name} 未开立登记账户（列入公布的名录后开立）")
    if problems:
        raise ValidationError(problems)
    assert account is not None
    try:
        return ledger.apply(
            core.Request(
                "surrender",
                from_account=account.code,
                unit_type=unit_type,
                vintage=vintage,
                amount=amount,
                year=year,
                requested_by=ledger.actor_name(user),
                date=when or _today(),
                note=f"{year}年度配额清缴",
            ),
            user=user,
        )
    except core.LedgerRefused as exc:
        with transaction.atomic():
            ComplianceAction.objects.create(
                entity=entity,
                year=year,
                kind=ActionKind.REFUSED,
                amount=Decimal(amount),
                text=f"清缴申请被拒绝：{unit_type} {vintage} 年度 × {amount} 吨 — {refusal_text(exc)}",
                basis=market_rules().offset_source if exc.code == "offset_cap" else "",
                decided_by=user if getattr(user, "pk", None) else None,
            )
            record(
                actor=user,
                action="carbon.surrender.refused",
                object_type="carbonmarket.account",
                object_id=str(account.pk),
                object_repr=account.code,
                note=str(exc),
            )
        raise ValidationError([refusal_text(exc)]) from exc


def request_transfer(
    *,
    from_account: Account,
    to_account: Account,
    unit_type: str,
    vintage: int,
    amount: Decimal | int,
    user: Any,
    note: str = "",
) -> PendingRequest:
    """A unit asks to transfer holdings; a second person of the platform approves (four-eyes)."""
    ok = from_account.entity_id is not None and access.can_file(user, from_account.entity)
    _need(user, ok, "carbon.file")
    if not 2000 <= int(vintage) <= 2100:
        raise ValidationError([f"年度 {vintage} 无效"])
    probe = core.Ledger(
        ledger.rules(),
        accounts=[
            core.Account(from_account.code, from_account.kind),
            core.Account(to_account.code, to_account.kind),
        ],
        balances={k: v for k, v in ledger._balances([from_account]).items()},
    )
    request = core.Request(
        "transfer",
        from_account=from_account.code,
        to_account=to_account.code,
        unit_type=unit_type,
        vintage=vintage,
        amount=amount,
        requested_by=ledger.actor_name(user),
        approved_by="(pending)",
    )
    try:
        probe.plan(request)
    except core.LedgerRefused as exc:
        raise ValidationError([refusal_text(exc)]) from exc
    with transaction.atomic():
        pending = PendingRequest.objects.create(
            type="transfer",
            from_account=from_account,
            to_account=to_account,
            unit_type=unit_type,
            vintage=vintage,
            amount=amount,
            note=note,
            requested_by=user,
        )
        record(actor=user, action="carbon.transfer.request", obj=pending, after=snapshot(pending))
    return pending


def request_correction(*, tx: LedgerTransaction, reason: str, user: Any) -> PendingRequest:
    """Province staff ask to reverse a transaction; another person approves."""
    _need(user, access.can_manage(user), "carbon.manage")
    problems = []
    if not (reason or "").strip():
        problems.append("请写明更正原因")
    state = tx.type == "correct" or LedgerTransaction.objects.filter(corrects=tx).exists()
    if state:
        problems.append(f"交易 #{tx.seq} 不能（再）更正")
    _refuse(problems, state=state)
    with transaction.atomic():
        pending = PendingRequest.objects.create(
            type="correct", corrects=tx, note=reason.strip(), requested_by=user
        )
        record(actor=user, action="carbon.correct.request", obj=pending, note=reason)
    return pending


def decide(
    *, pending: PendingRequest, approve: bool, user: Any, reason: str = ""
) -> PendingRequest:
    """The second person approves (the transaction is applied) or rejects a pending request."""
    _need(user, access.can_manage(user), "carbon.manage")
    if pending.status != PendingStatus.PENDING:
        raise ValidationError(["该申请已处理"])
    if user is not None and pending.requested_by_id == getattr(user, "pk", None):
        raise PermissionDenied("不能复核自己提交的申请（双人复核）")
    with transaction.atomic():
        pending.decided_by = user
        pending.decided_at = timezone.now()
        if not approve:
            pending.status = PendingStatus.REJECTED
            pending.reason = reason.strip() or "驳回"
            pending.save(update_fields=["status", "reason", "decided_by", "decided_at"])
            record(actor=user, action="carbon.pending.reject", obj=pending, note=pending.reason)
            return pending
        request = core.Request(
            pending.type,
            from_account=pending.from_account.code if pending.from_account_id else "",
            to_account=pending.to_account.code if pending.to_account_id else "",
            unit_type=pending.unit_type,
            vintage=pending.vintage,
            amount=Decimal(pending.amount),
            year=pending.year,
            corrects=pending.corrects.seq if pending.corrects_id else None,
            requested_by=pending.requested_by.username,
            approved_by=ledger.actor_name(user),
            date=_today(),
            note=pending.note,
        )
        try:
            tx = ledger.apply(request, user=user)
        except core.LedgerRefused as exc:
            pending.status = PendingStatus.FAILED
            pending.reason = refusal_text(exc)
            pending.save(update_fields=["status", "reason", "decided_by", "decided_at"])
            record(actor=user, action="carbon.pending.failed", obj=pending, note=str(exc))
            return pending
        pending.status = PendingStatus.APPROVED
        pending.transaction = tx
        pending.save(update_fields=["status", "transaction", "decided_by", "decided_at"])
        record(actor=user, action="carbon.pending.approve", obj=pending)
    return pending


# ----------------------------------------------------------------------------- consequences


def record_action(
    *,
    entity: Entity,
    year: int,
    kind: str,
    text: str,
    amount: Decimal | None = None,
    basis: str = "",
    user: Any = None,
) -> ComplianceAction:
    """Record a consequence (notice, fine, next-year deduction) of an emitter's compliance."""
    _need(user, access.can_manage(user), "carbon.manage")
    problems = []
    if kind not in ActionKind.values or kind == ActionKind.REFUSED:
        problems.append(f"处理类型 {kind!r} 无效")
    if not text.strip():
        problems.append("请写明处理内容")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        action = ComplianceAction.objects.create(
            entity=entity,
            year=year,
            kind=kind,
            amount=amount,
            text=text.strip(),
            basis=basis,
            decided_by=user if getattr(user, "pk", None) else None,
        )
        record(actor=user, action="carbon.action.record", obj=action, after=snapshot(action))
    return action


def compliance_table(
    year: int, *, today: dt.date | None = None, entity_ids: Any = None
) -> list[dict[str, Any]]:
    """Rows of the year's compliance table (the obligations of ``entity_ids``, or all), with unit,
    sector and consequences."""
    rows = ledger.compliance_rows(year, today=today or _today(), entity_ids=entity_ids)
    entity_ids = [r["account"].entity_id for r in rows]
    sectors = dict(
        Emitter.objects.filter(year=year, entity_id__in=entity_ids).values_list(
            "entity_id", "sector"
        )
    )
    actions: dict[int, list[ComplianceAction]] = {}
    for a in ComplianceAction.objects.filter(year=year, entity_id__in=entity_ids):
        actions.setdefault(a.entity_id, []).append(a)
    labels = dict(Sector.choices)
    out = []
    for r in rows:
        entity = r["account"].entity
        out.append(
            {
                "entity": entity,
                "account": r["account"],
                "sector": labels.get(sectors.get(entity.pk if entity else 0, ""), ""),
                "row": r["row"],
                "actions": actions.get(entity.pk if entity else 0, []),
            }
        )
    out.sort(key=lambda d: (d["row"].status != "short", d["entity"].name if d["entity"] else ""))
    return out
