"""Use cases of energy-use rights, emission rights, certificates and credits: the only code that
writes the rights tables; ledger rows go through :mod:`dualcontrol.carbonmarket.ledger` (one engine,
one hash chain).

Every function takes keyword arguments, checks access (:mod:`dualcontrol.access.rights`;
``user=None`` is the platform itself — demo, batch jobs), validates (``ValidationError`` listing
every problem, ``PermissionDenied`` for the wrong user), writes in one transaction and records an
audit entry.  Ledger refusals come back as ``ValidationError`` in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from dualcontrol.access import rights as access
from dualcontrol.audit.services import record, snapshot
from dualcontrol.carbonmarket import ledger
from dualcontrol.carbonmarket.messages import refusal_text
from dualcontrol.carbonmarket.models import Account, LedgerEntry, LedgerTransaction
from dualcontrol.core import ledger as core
from dualcontrol.entities.models import Entity
from dualcontrol.reference.rights import rights_rules
from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import EnergyReport, PeriodType, Status
from dualcontrol.rights import rules as pure
from dualcontrol.rights.models import Behaviour as BehaviourRow
from dualcontrol.rights.models import (
    CertificateCancellation,
    CoverMethod,
    CreditProject,
    EmissionRight,
    EnergyBudget,
    EnergyRight,
    Holder,
    HolderKind,
    Listing,
    ListingStatus,
    Permit,
    ProjectCover,
    ProjectStatus,
    Redemption,
    RightKind,
    RightsObligation,
    Side,
    Trade,
    TradeStatus,
)

GEC_REGISTRY = "GOV-GEC-REG"
PERSON_REF = re.compile(r"^[A-Za-z0-9-]{1,20}$")


class WrongState(ValidationError):
    """A request refused because of the state of what it acts on (a budget already set, a permit's
    year already allocated, a project already issued); pages show it like any refusal, the API
    answers 409."""


def _need(user: Any, ok: bool, what: str) -> None:
    if user is not None and not ok:
        raise PermissionDenied(what)


def _today() -> dt.date:
    return timezone.localdate()


def _dec(value: Any, label: str, problems: list[str]) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        problems.append(f"{label}不是数字：{value!r}")
        return Decimal(0)
    if not d.is_finite() or d <= 0:
        problems.append(f"{label}必须是正数：{value}")
    return d


def _apply(request: core.Request, *, user: Any, action: str) -> LedgerTransaction:
    try:
        return ledger.apply(request, user=user, audit_action=action)
    except core.LedgerRefused as exc:
        raise ValidationError([refusal_text(exc)]) from exc


# ----------------------------------------------------------------------------- holders


def region_of(division: Division) -> Division:
    """The trading region (地级) of a division: itself or its prefecture-level ancestor; the
    province for a province-level division."""
    d: Division | None = division
    while d is not None and d.level == "county":
        d = d.parent
    return d or division


def _open(
    *, code: str, name: str, kind: str, division: Division, entity: Entity | None, user: Any
) -> Holder:
    existing = Holder.objects.filter(account__code=code).first()
    if existing is not None:
        return existing
    ledger_kind = "government" if kind == HolderKind.GOVERNMENT else "holding"
    with transaction.atomic():
        try:
            account = ledger.open_account(
                code=code, kind=ledger_kind, name=name, division=division, user=user
            )
        except core.LedgerRefused as exc:
            raise ValidationError([refusal_text(exc)]) from exc
        holder = Holder.objects.create(
            account=account,
            kind=kind,
            name=name,
            entity=entity,
            division=division,
            region=region_of(division),
        )
        record(actor=user, action="rights.holder.open", obj=holder, after=snapshot(holder))
    return holder


def unit_holder(entity: Entity, *, user: Any = None) -> Holder:
    """The unit's rights account (code ``RT-<USCC>``), opened on first use.  Kept apart from the
    carbon-market account (``CEA-<USCC>``) so the carbon pages stay the carbon market's."""
    existing = Holder.objects.filter(entity=entity, kind=HolderKind.UNIT).first()
    if existing is not None:
        return existing
    return _open(
        code=f"RT-{entity.uscc}",
        name=entity.name,
        kind=HolderKind.UNIT,
        division=entity.division,
        entity=entity,
        user=user,
    )


def region_holder(region: Division, *, user: Any = None) -> Holder:
    """A region's government rights account (code ``GOV-RT-<division code>``)."""
    return _open(
        code=f"GOV-RT-{region.code}",
        name=f"{region.name}权益登记账户",
        kind=HolderKind.GOVERNMENT,
        division=region,
        entity=None,
        user=user,
    )


def province_holder(*, user: Any = None) -> Holder:
    root = Division.objects.filter(parent__isnull=True).order_by("code").first()
    if root is None:
        raise ValidationError(["尚无省级行政区划"])
    return region_holder(root, user=user)


def certificate_registry(*, user: Any = None) -> Holder:
    """The mirror of the national certificate system (国家绿证核发交易系统) on the platform."""
    root = Division.objects.filter(parent__isnull=True).order_by("code").first()
    if root is None:
        raise ValidationError(["尚无省级行政区划"])
    return _open(
        code=GEC_REGISTRY,
        name="国家绿证核发交易系统（镜像）",
        kind=HolderKind.GOVERNMENT,
        division=root,
        entity=None,
        user=user,
    )


def open_person(
    *, name: str, person_ref: str, division: Division, organisation: bool = False, user: Any = None
) -> Holder:
    """A carbon-inclusive account of a person or an organisation (no platform login needed)."""
    _need(user, access.can_manage(user), "rights.manage")
    problems = []
    if not name.strip():
        problems.append("请填写名称")
    if not PERSON_REF.match(person_ref or ""):
        problems.append("编号只能由字母、数字和连字符组成（1–20 位）")
    if problems:
        raise ValidationError(problems)
    kind = HolderKind.ORGANISATION if organisation else HolderKind.PERSON
    holder = _open(
        code=f"PH-{person_ref}",
        name=name.strip(),
        kind=kind,
        division=division,
        entity=None,
        user=user,
    )
    if holder.person_ref != person_ref:
        Holder.objects.filter(pk=holder.pk).update(person_ref=person_ref)
        holder.person_ref = person_ref
    return holder


def _issue_and_allocate(
    *,
    government: Holder,
    holder: Holder,
    unit_type: str,
    vintage: int | None,
    amount: Decimal,
    when: dt.date,
    note: str,
    user: Any,
    action: str,
) -> LedgerTransaction:
    """签发 into the government account, then 分配 to the holder: two ledger transactions."""
    actor = ledger.actor_name(user)
    _apply(
        core.Request(
            "issue",
            to_account=government.account.code,
            unit_type=unit_type,
            vintage=vintage,
            amount=amount,
            requested_by=actor,
            date=when,
            note=note,
        ),
        user=user,
        action=f"{action}.issue",
    )
    return _apply(
        core.Request(
            "allocate",
            from_account=government.account.code,
            to_account=holder.account.code,
            unit_type=unit_type,
            vintage=vintage,
            amount=amount,
            requested_by=actor,
            date=when,
            note=note,
        ),
        user=user,
        action=action,
    )


def balance(holder: Holder, unit_type: str, vintage: int | None = None) -> Decimal:
    qs = LedgerEntry.objects.filter(account=holder.account, unit_type=unit_type)
    if vintage is not None:
        qs = qs.filter(vintage=vintage)
    return Decimal(qs.aggregate(t=Sum("amount"))["t"] or 0)


# ----------------------------------------------------------------------------- energy-use rights


def set_energy_budget(
    *, division: Division, year: int, budget_tce: Any, basis: str, user: Any = None
) -> EnergyBudget:
    """用能预算 of a region for a year (recorded once; a change is a new decision: P)."""
    _need(user, access.can_manage(user), "rights.manage")
    if EnergyBudget.objects.filter(division=division, year=year).exists():
        raise WrongState([f"{division.name} {year} 年度用能预算已登记"])
    problems: list[str] = []
    amount = _dec(budget_tce, "用能预算", problems)
    if not basis.strip():
        problems.append("请写明预算依据（文件）")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        row = EnergyBudget.objects.create(
            division=division,
            year=year,
            budget_tce=amount,
            basis=basis.strip(),
            recorded_by=ledger.actor_name(user),
        )
        record(actor=user, action="rights.budget.set", obj=row, after=snapshot(row))
    return row


def issued_in_region(region: Division, year: int) -> Decimal:
    total = EnergyRight.objects.filter(holder__region=region, year=year).aggregate(
        t=Sum("amount_tce")
    )["t"]
    return Decimal(total or 0)


def grant_energy_rights(
    *,
    entity: Entity,
    year: int,
    kind: str,
    amount_tce: Any,
    basis: str,
    user: Any = None,
    when: dt.date | None = None,
) -> EnergyRight:
    """用能权确权: existing use free, increments paid (rights_rules.yaml); issued into the region's
    account and allocated to the unit.  Over the region's budget is refused (when one is set)."""
    _need(user, access.can_manage(user), "rights.manage")
    rules = rights_rules()
    problems: list[str] = []
    amount = _dec(amount_tce, "用能权数量", problems)
    if kind not in RightKind.values:
        problems.append(f"类型 {kind!r} 无效")
    if not basis.strip():
        problems.append("请写明确权依据（如节能审查意见、基准法/历史法核定）")
    if not 2000 <= int(year) <= 2100:
        problems.append(f"年度 {year} 无效")
    if problems:
        raise ValidationError(problems)
    if amount != pure.rounded(amount, 2, "floor"):
        raise ValidationError(["用能权数量最多保留两位小数（0.01 tce）"])
    holder = unit_holder(entity, user=None)
    region = holder.region
    budget = EnergyBudget.objects.filter(division=region, year=year).first()
    if rules.eur_refuse_over_budget and not pure.budget_headroom(
        budget.budget_tce if budget else None, issued_in_region(region, year), amount
    ):
        assert budget is not None
        raise ValidationError(
            [
                f"超出 {region.name} {year} 年度用能预算：已确权 {issued_in_region(region, year)} + "
                f"本次 {amount} > 预算 {budget.budget_tce} tce"
            ]
        )
    paid = kind == RightKind.INCREMENT and rules.eur_increment == "paid"
    price = rules.eur_price_yuan_per_tce if paid else None
    fee = pure.fee_yuan(amount, price) if paid else Decimal(0)
    when = when or _today()
    with transaction.atomic():
        tx = _issue_and_allocate(
            government=region_holder(region, user=None),
            holder=holder,
            unit_type="EUR",
            vintage=year,
            amount=amount,
            when=when,
            note=f"用能权确权（{RightKind(kind).label}）：{basis.strip()}",
            user=user,
            action="rights.eur.grant",
        )
        right = EnergyRight.objects.create(
            holder=holder,
            year=year,
            kind=kind,
            amount_tce=amount,
            price_yuan_per_tce=price,
            fee_yuan=fee,
            basis=basis.strip(),
            rule_version=rules.version,
            transaction=tx,
        )
        record(actor=user, action="rights.eur.right", obj=right, after=snapshot(right))
    return right


def cover_project(
    *,
    entity: Entity,
    project_ref: str,
    project_name: str,
    year: int,
    energy_tce: Any,
    method: str,
    project: Any = None,
    trade: Trade | None = None,
    user: Any = None,
    when: dt.date | None = None,
) -> ProjectCover:
    """A new project's energy comes with rights: bought (a paid increment issued by the province),
    bought on the board (an executed trade to the unit) or replaced by rights the unit holds."""
    holder = unit_holder(entity, user=None)
    if method == CoverMethod.PURCHASE:
        _need(user, access.can_manage(user), "rights.manage")
    else:
        _need(user, access.can_act(user, holder), "rights.file")
    problems: list[str] = []
    amount = _dec(energy_tce, "项目新增用能", problems)
    if method not in rights_rules().eur_cover_methods:
        problems.append(f"方式 {method!r} 不在规则允许的方式中")
    if not project_ref.strip():
        problems.append("请填写节能审查意见文号或项目编号")
    if not project_name.strip():
        problems.append("请填写项目名称")
    if problems:
        raise ValidationError(problems)
    right = None
    if method == CoverMethod.TRADE:
        if (
            trade is None
            or trade.status != TradeStatus.EXECUTED
            or trade.buyer_id != holder.pk
            or trade.unit_type != "EUR"
        ):
            raise ValidationError(["须选择本单位已过户的用能权交易"])
        used = ProjectCover.objects.filter(trade=trade).aggregate(t=Sum("energy_tce"))["t"] or 0
        if Decimal(used) + amount > trade.quantity:
            raise ValidationError([f"交易 {trade.pk} 的数量 {trade.quantity} tce 不足以覆盖"])
    elif method == CoverMethod.REPLACEMENT:
        earmarked = ProjectCover.objects.filter(
            holder=holder, year=year, method=CoverMethod.REPLACEMENT
        ).aggregate(t=Sum("energy_tce"))["t"] or Decimal(0)
        held = balance(holder, "EUR", year)
        if held - Decimal(earmarked) < amount:
            raise ValidationError(
                [f"本单位 {year} 年度用能权余额 {held} tce（已替代占用 {earmarked}）不足 {amount}"]
            )
    with transaction.atomic():
        if method == CoverMethod.PURCHASE:
            right = grant_energy_rights(
                entity=entity,
                year=year,
                kind=RightKind.INCREMENT,
                amount_tce=amount,
                basis=f"新建项目 {project_name.strip()}（{project_ref.strip()}）",
                user=user,
                when=when,
            )
        cover = ProjectCover.objects.create(
            holder=holder,
            project_ref=project_ref.strip(),
            project_name=project_name.strip(),
            project=project,
            year=year,
            energy_tce=amount,
            method=method,
            right=right,
            trade=trade if method == CoverMethod.TRADE else None,
            recorded_by=ledger.actor_name(user),
        )
        record(actor=user, action="rights.eur.cover", obj=cover, after=snapshot(cover))
    return cover


def certificates_cancelled_mwh(holder: Holder | None, year: int) -> Decimal:
    if holder is None:
        return Decimal(0)
    total = CertificateCancellation.objects.filter(holder=holder, year=year).aggregate(
        t=Sum("amount_mwh")
    )["t"]
    return Decimal(total or 0) * rights_rules().mwh_per_certificate


def electricity_tce_per_mwh() -> Decimal:
    """当量值 of electricity from the 205-1 catalogue (tce per 万kWh → per MWh)."""
    from dualcontrol.reference.energy_products import energy_products

    code = rights_rules().electricity_product_code
    product = next((p for p in energy_products() if p.code == code), None)
    if product is None:
        raise ValidationError([f"能源品种目录中没有电力（{code}）"])
    return product.coefficient_tce_per_unit / Decimal(10)  # 1 万kWh = 10 MWh


def official_energy(entity: Entity, year: int) -> tuple[Decimal | None, str, Any]:
    """The unit's accepted 205-1 energy of ``year`` (当量值): the annual report, else the
    January–December sum of its accepted monthly reports (roll-ups, all twelve months)."""
    from dualcontrol.rollups.models import UnitMonth

    report = EnergyReport.objects.filter(
        entity=entity, year=year, period_type=PeriodType.ANNUAL, status=Status.ACCEPTED
    ).first()
    if report is not None and report.energy_tce is not None:
        return Decimal(report.energy_tce), f"{year} 年度能源年报（205-1，已通过）", report.pk
    december = UnitMonth.objects.filter(entity=entity, year=year, month=12).first()
    if december is not None and december.ytd_months == 0xFFF:
        return Decimal(december.ytd_energy_tce), f"{year} 年 1–12 月能源月报合计（已通过）", None
    return None, "", None


def accounted_energy(
    entity: Entity, year: int, reported_tce: Decimal | None = None
) -> dict[str, Any]:
    """The unit's accounted energy of ``year``: the accepted 205-1 figure (never changed here; or
    a figure the province records when there is none) and beside it the deduction evidenced by
    cancelled certificates (发改环资〔2024〕113号)."""
    official, source, report = official_energy(entity, year)
    if official is None and reported_tce is not None:
        official, source = (
            reported_tce,
            f"{year} 年度核定用能量（无已通过的 205-1 全年数据，省级录入）",
        )
    holder = Holder.objects.filter(entity=entity, kind=HolderKind.UNIT).first()
    mwh = certificates_cancelled_mwh(holder, year)
    rules = rights_rules()
    adjustment = None
    if official is not None:
        adjustment = pure.certificate_adjustment(
            official, mwh, tce_per_mwh=electricity_tce_per_mwh(), deduct=rules.gec_deduct
        )
    return {
        "report": report,
        "official_tce": official,
        "official_source": source,
        "certificates_mwh": mwh,
        "adjustment": adjustment,
        "source": rules.gec_source,
    }


def record_energy_obligation(
    *, entity: Entity, year: int, reported_tce: Any = None, user: Any = None
) -> RightsObligation:
    """The EUR obligation of ``year``: the accounted energy (accepted 205-1 figures, or a figure
    the province records when there are none), less the certificate deduction where the rules
    say so."""
    _need(user, access.can_manage(user), "rights.manage")
    rules = rights_rules()
    reported = None
    if reported_tce not in (None, ""):
        problems: list[str] = []
        reported = _dec(reported_tce, "核定用能量", problems)
        if problems:
            raise ValidationError(problems)
    figures = accounted_energy(entity, year, reported)
    adjustment = figures["adjustment"]
    if adjustment is None:
        raise ValidationError(
            [f"{entity.name} 没有已通过的 {year} 年度 205-1 全年数据，请录入核定用能量"]
        )
    source = figures["official_source"] + (
        f"，扣除注销绿证 {figures['certificates_mwh']} MWh" if adjustment.deduction_tce else ""
    )
    detail = {
        "official_tce": str(adjustment.official_tce),
        "certificates_mwh": str(adjustment.certificates_mwh),
        "tce_per_mwh": str(adjustment.tce_per_mwh),
        "deduction_tce": str(adjustment.deduction_tce),
        "report": figures["report"],
    }
    amount = pure.rounded(adjustment.adjusted_tce, 2, rules.eur_rounding)
    holder = unit_holder(entity, user=None)
    with transaction.atomic():
        try:
            ob = ledger.record_obligation(
                account=holder.account,
                year=year,
                amount=amount,
                deadline=rules.eur_deadline(year),
                unit_type="EUR",
                user=user,
            )
        except core.LedgerRefused as exc:
            raise ValidationError([refusal_text(exc)]) from exc
        row = RightsObligation.objects.create(
            obligation=ob, holder=holder, source=source, figures=detail, rule_version=rules.version
        )
        record(actor=user, action="rights.obligation.eur", obj=row, after=detail)
    return row


def surrender(
    *,
    holder: Holder,
    unit_type: str,
    vintage: int | None,
    year: int,
    amount: Any,
    user: Any = None,
    when: dt.date | None = None,
) -> LedgerTransaction:
    """清缴 toward the holder's obligation of ``year`` in the unit type's obligation (EUR, EMR-*;
    an offset only where carbon_market.yaml gives it counts_toward)."""
    _need(user, access.can_act(user, holder), "rights.file")
    problems: list[str] = []
    qty = _dec(amount, "清缴数量", problems)
    if problems:
        raise ValidationError(problems)
    return _apply(
        core.Request(
            "surrender",
            from_account=holder.account.code,
            unit_type=unit_type,
            vintage=vintage,
            amount=qty,
            year=year,
            requested_by=ledger.actor_name(user),
            date=when or _today(),
        ),
        user=user,
        action=f"rights.surrender.{unit_type.lower()}",
    )


# ----------------------------------------------------------------------------- emission rights


def record_permit(
    *,
    entity: Entity,
    permit_number: str,
    unit_type: str,
    permitted_t_per_year: Any,
    valid_from: dt.date,
    valid_to: dt.date,
    user: Any = None,
) -> Permit:
    _need(user, access.can_manage(user), "rights.manage")
    problems: list[str] = []
    amount = _dec(permitted_t_per_year, "许可排放量", problems)
    if unit_type not in rights_rules().pollutants:
        problems.append(f"污染物 {unit_type!r} 不在排污权品种中")
    if not permit_number.strip():
        problems.append("请填写排污许可证编号")
    if valid_to < valid_from:
        problems.append("有效期止早于有效期起")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        permit = Permit.objects.create(
            entity=entity,
            permit_number=permit_number.strip(),
            unit_type=unit_type,
            permitted_t_per_year=amount,
            valid_from=valid_from,
            valid_to=valid_to,
            recorded_by=ledger.actor_name(user),
        )
        record(actor=user, action="rights.permit.record", obj=permit, after=snapshot(permit))
    return permit


def allocate_emission_rights(
    *, permit: Permit, year: int, user: Any = None, when: dt.date | None = None
) -> EmissionRight:
    """Initial allocation from the permit (国办发〔2014〕38号: the permit confirms the right): the
    permitted t/a for a year the permit covers, with the fee where one is configured."""
    _need(user, access.can_manage(user), "rights.manage")
    rules = rights_rules()
    if not (permit.valid_from.year <= year <= permit.valid_to.year):
        raise ValidationError(
            [
                f"许可证 {permit.permit_number} 有效期（{permit.valid_from}–{permit.valid_to}）不含 {year} 年"
            ]
        )
    if EmissionRight.objects.filter(permit=permit, year=year).exists():
        raise WrongState([f"许可证 {permit.permit_number} 的 {year} 年度排污权已分配"])
    pollutant = rules.pollutants[permit.unit_type]
    amount = Decimal(permit.permitted_t_per_year)
    holder = unit_holder(permit.entity, user=None)
    with transaction.atomic():
        tx = _issue_and_allocate(
            government=region_holder(holder.region, user=None),
            holder=holder,
            unit_type=permit.unit_type,
            vintage=year,
            amount=amount,
            when=when or _today(),
            note=f"排污权初始分配：排污许可证 {permit.permit_number}",
            user=user,
            action="rights.emr.allocate",
        )
        row = EmissionRight.objects.create(
            holder=holder,
            permit=permit,
            year=year,
            unit_type=permit.unit_type,
            amount_t=amount,
            fee_yuan=pure.fee_yuan(amount, pollutant.fee_yuan_per_t),
            rule_version=rules.version,
            transaction=tx,
        )
        record(actor=user, action="rights.emr.right", obj=row, after=snapshot(row))
    return row


def monitored_emissions(entity: Entity, unit_type: str, year: int) -> dict[str, Any]:
    """Annual emissions from the monitoring data: Σ daily ``Cou`` (kg) of the pollutant over the
    unit's outlets, / 1000.  ``t`` is None when no outlet of the unit reports the pollutant."""
    from dualcontrol.monitoring.models import DayReading, Outlet
    from dualcontrol.monitoring.queries import day_end, day_start

    rules = rights_rules()
    code = rules.pollutants[unit_type].hj212_code
    mns = list(Outlet.objects.filter(entity=entity).values_list("mn", flat=True))
    if not mns:
        return {"t": None, "outlets": 0, "days": 0, "code": code}
    rows = DayReading.objects.filter(
        mn__in=mns,
        code=code,
        data_time__gte=day_start(dt.date(year, 1, 1)),
        data_time__lt=day_end(dt.date(year, 12, 31)),
    )
    values = list(rows.values_list("cou", flat=True))
    if not any(v is not None for v in values):
        return {"t": None, "outlets": len(mns), "days": 0, "code": code}
    return {
        "t": pure.emissions_t(values, rules.cou_kg_per_t),
        "outlets": len(mns),
        "days": sum(1 for v in values if v is not None),
        "code": code,
    }


def record_emission_obligation(
    *, entity: Entity, unit_type: str, year: int, reported_t: Any = None, user: Any = None
) -> RightsObligation:
    """The EMR obligation of ``year``: the monitored emissions where the outlet is monitored, else
    the reported figure (e.g. 排污许可执行报告)."""
    _need(user, access.can_manage(user), "rights.manage")
    rules = rights_rules()
    if unit_type not in rules.pollutants:
        raise ValidationError([f"污染物 {unit_type!r} 不在排污权品种中"])
    monitored = monitored_emissions(entity, unit_type, year)
    if monitored["t"] is not None:
        amount = monitored["t"]
        source = f"在线监测（{monitored['code']} 日累计值 {monitored['days']} 天）"
        detail = {k: str(v) for k, v in monitored.items()}
    elif reported_t not in (None, ""):
        problems: list[str] = []
        amount = _dec(reported_t, "排放量", problems)
        if problems:
            raise ValidationError(problems)
        source = "报告排放量（无在线监测数据）"
        detail = {"reported_t": str(amount)}
    else:
        raise ValidationError([f"{entity.name} 无 {year} 年该污染物在线监测数据，请录入报告排放量"])
    amount = pure.rounded(amount, 3, rules.emr_rounding)
    holder = unit_holder(entity, user=None)
    with transaction.atomic():
        try:
            ob = ledger.record_obligation(
                account=holder.account,
                year=year,
                amount=amount,
                deadline=None,
                unit_type=unit_type,
                user=user,
            )
        except core.LedgerRefused as exc:
            raise ValidationError([refusal_text(exc)]) from exc
        row = RightsObligation.objects.create(
            obligation=ob, holder=holder, source=source, figures=detail, rule_version=rules.version
        )
        record(actor=user, action=f"rights.obligation.{unit_type.lower()}", obj=row, after=detail)
    return row


# ----------------------------------------------------------------------------- certificates


def acquire_certificates(
    *, holder: Holder, vintage: int, amount_mwh: Any, user: Any = None, when: dt.date | None = None
) -> LedgerTransaction:
    """Certificates bought in the national system, mirrored: issued into the registry mirror and
    allocated to the holder (1 certificate = 1 MWh, 发改能源〔2023〕1044号)."""
    _need(user, access.can_manage(user), "rights.manage")
    problems: list[str] = []
    amount = _dec(amount_mwh, "绿证数量", problems)
    if problems:
        raise ValidationError(problems)
    return _issue_and_allocate(
        government=certificate_registry(user=None),
        holder=holder,
        unit_type="GEC",
        vintage=vintage,
        amount=amount,
        when=when or _today(),
        note="绿证划转（国家绿证核发交易系统）",
        user=user,
        action="rights.gec.acquire",
    )


def cancel_certificates(
    *,
    holder: Holder,
    vintage: int,
    amount_mwh: Any,
    year: int,
    purpose: str = "可再生能源电力消费",
    user: Any = None,
    when: dt.date | None = None,
) -> CertificateCancellation:
    """A consumer cancels certificates for its electricity use of ``year`` (evidence for the
    deduction from its accounted energy)."""
    _need(user, access.can_act(user, holder), "rights.file")
    problems: list[str] = []
    amount = _dec(amount_mwh, "注销数量", problems)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        tx = _apply(
            core.Request(
                "cancel",
                from_account=holder.account.code,
                unit_type="GEC",
                vintage=vintage,
                amount=amount,
                requested_by=ledger.actor_name(user),
                date=when or _today(),
                note=f"绿证注销：{year} 年度{purpose}",
            ),
            user=user,
            action="rights.gec.cancel",
        )
        row = CertificateCancellation.objects.create(
            holder=holder,
            year=year,
            vintage=vintage,
            amount_mwh=amount,
            purpose=purpose,
            transaction=tx,
        )
        record(actor=user, action="rights.gec.cancellation", obj=row, after=snapshot(row))
    return row


# ----------------------------------------------------------------------------- credits


def register_project(
    *, holder: Holder, methodology: str, name: str, user: Any = None
) -> CreditProject:
    _need(user, access.can_act(user, holder), "rights.file")
    problems = []
    if methodology not in rights_rules().methodologies:
        problems.append(f"方法学 {methodology!r} 未收录")
    if not name.strip():
        problems.append("请填写项目名称")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        project = CreditProject.objects.create(
            holder=holder, methodology=methodology, name=name.strip()
        )
        record(actor=user, action="rights.project.register", obj=project, after=snapshot(project))
    return project


def issue_credits(
    *,
    project: CreditProject,
    vintage: int,
    verified_t: Any,
    verifier: str,
    user: Any = None,
    when: dt.date | None = None,
) -> CreditProject:
    """签发 after verification: the verified amount in the methodology's unit type."""
    _need(user, access.can_manage(user), "rights.manage")
    if project.status != ProjectStatus.REGISTERED:
        raise WrongState(["该项目已签发"])
    problems: list[str] = []
    amount = _dec(verified_t, "核证量", problems)
    if not verifier.strip():
        problems.append("请填写核证机构")
    if problems:
        raise ValidationError(problems)
    method = rights_rules().methodologies[project.methodology]
    before = snapshot(project)
    with transaction.atomic():
        tx = _issue_and_allocate(
            government=province_holder(user=None),
            holder=project.holder,
            unit_type=method.unit_type,
            vintage=vintage,
            amount=amount,
            when=when or _today(),
            note=f"{method.name_zh}项目核证签发：{project.name}",
            user=user,
            action="rights.credits.issue",
        )
        project.status = ProjectStatus.ISSUED
        project.vintage = vintage
        project.verified_t = amount
        project.verifier = verifier.strip()
        project.transaction = tx
        project.save()
        record(
            actor=user,
            action="rights.project.issue",
            obj=project,
            before=before,
            after=snapshot(project),
        )
    return project


def record_behaviour(
    *,
    holder: Holder,
    code: str,
    quantity: Any,
    day: dt.date,
    user: Any = None,
) -> BehaviourRow:
    """A recorded low-carbon behaviour: points = quantity × the behaviour's factor (whole points),
    issued into the province account and allocated to the person's or organisation's account."""
    _need(user, access.can_manage(user), "rights.manage")
    rules = rights_rules()
    problems: list[str] = []
    behaviour = rules.behaviours.get(code)
    if behaviour is None:
        problems.append(f"行为 {code!r} 未收录")
    qty = _dec(quantity, "行为数量", problems)
    if holder.kind not in (HolderKind.PERSON, HolderKind.ORGANISATION):
        problems.append("碳普惠积分记入个人或机构账户")
    if problems:
        raise ValidationError(problems)
    assert behaviour is not None
    earned = pure.points(qty, behaviour.points_per_unit)
    with transaction.atomic():
        tx = None
        if earned:
            tx = _issue_and_allocate(
                government=province_holder(user=None),
                holder=holder,
                unit_type="PHP",
                vintage=None,
                amount=Decimal(earned),
                when=day,
                note=f"碳普惠：{behaviour.name_zh} {qty} {behaviour.unit}",
                user=user,
                action="rights.php.earn",
            )
        row = BehaviourRow.objects.create(
            holder=holder,
            code=code,
            quantity=qty,
            day=day,
            points=earned,
            rule_version=rules.version,
            transaction=tx,
        )
        record(actor=user, action="rights.php.behaviour", obj=row, after=snapshot(row))
    return row


def redeem(
    *,
    holder: Holder,
    unit_type: str,
    amount: Any,
    purpose: str,
    vintage: int | None = None,
    user: Any = None,
    when: dt.date | None = None,
) -> Redemption:
    """Redemption (兑换/自愿注销) of points or credits: a cancellation on the ledger."""
    _need(user, access.can_act(user, holder), "rights.file")
    problems: list[str] = []
    qty = _dec(amount, "数量", problems)
    if not purpose.strip():
        problems.append("请写明用途")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        tx = _apply(
            core.Request(
                "cancel",
                from_account=holder.account.code,
                unit_type=unit_type,
                vintage=vintage,
                amount=qty,
                requested_by=ledger.actor_name(user),
                date=when or _today(),
                note=f"兑换：{purpose.strip()}",
            ),
            user=user,
            action=f"rights.redeem.{unit_type.lower()}",
        )
        row = Redemption.objects.create(
            holder=holder, unit_type=unit_type, amount=qty, purpose=purpose.strip(), transaction=tx
        )
        record(actor=user, action="rights.redemption", obj=row, after=snapshot(row))
    return row


# ----------------------------------------------------------------------------- the board


def _vintage_ok(unit_type: str, vintage: int | None, problems: list[str]) -> None:
    spec = ledger.rules().unit_types.get(unit_type)
    if spec is None:
        problems.append(f"未知品种 {unit_type}")
    elif spec.has_vintage and vintage is None:
        problems.append(f"{unit_type} 须注明年度")
    elif not spec.has_vintage and vintage is not None:
        problems.append(f"{unit_type} 不分年度")


def post_listing(
    *,
    holder: Holder,
    side: str,
    unit_type: str,
    vintage: int | None,
    quantity: Any,
    price_yuan: Any,
    note: str = "",
    user: Any = None,
) -> Listing:
    """An offer (出让) or bid (求购) on the bulletin board."""
    _need(user, access.can_act(user, holder), "rights.file")
    rules = rights_rules()
    problems: list[str] = []
    if side not in Side.values:
        problems.append(f"方向 {side!r} 无效")
    if unit_type not in rules.tradable:
        problems.append(f"{unit_type} 不在可挂牌品种中（{'、'.join(rules.tradable)}）")
    _vintage_ok(unit_type, vintage, problems)
    qty = _dec(quantity, "数量", problems)
    price = _dec(price_yuan, "单价", problems)
    if holder.kind == HolderKind.GOVERNMENT:
        problems.append("政府账户不在公告板挂牌")
    if not problems and side == Side.OFFER and balance(holder, unit_type, vintage) < qty:
        problems.append(f"持有 {unit_type} {vintage or ''} 不足 {qty}")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        row = Listing.objects.create(
            holder=holder,
            side=side,
            unit_type=unit_type,
            vintage=vintage,
            quantity=qty,
            price_yuan=pure.rounded(price, rules.price_decimals),
            division=holder.region,
            note=note.strip(),
            created_by=user,
        )
        record(actor=user, action="rights.listing.post", obj=row, after=snapshot(row))
    return row


def withdraw_listing(*, listing: Listing, user: Any = None) -> Listing:
    _need(user, access.can_act(user, listing.holder), "rights.file")
    if listing.status != ListingStatus.OPEN:
        raise ValidationError(["该挂牌已结束"])
    with transaction.atomic():
        listing.status = ListingStatus.WITHDRAWN
        listing.save(update_fields=["status"])
        record(actor=user, action="rights.listing.withdraw", obj=listing)
    return listing


def remaining(listing: Listing) -> Decimal:
    """The listing's quantity less trades executed or under way."""
    used = listing.trades.filter(
        status__in=(TradeStatus.REQUESTED, TradeStatus.ACCEPTED, TradeStatus.EXECUTED)
    ).aggregate(t=Sum("quantity"))["t"]
    return Decimal(listing.quantity) - Decimal(used or 0)


def request_trade(
    *,
    listing: Listing,
    counterparty: Holder,
    quantity: Any,
    price_yuan: Any = None,
    user: Any = None,
) -> Trade:
    """The seller records an agreed trade on a listing (its own offer, or a bid it answers)."""
    rules = rights_rules()
    if listing.side == Side.OFFER:
        seller, buyer = listing.holder, counterparty
    else:
        seller, buyer = counterparty, listing.holder
    _need(user, access.can_act(user, seller), "rights.file")
    problems: list[str] = []
    qty = _dec(quantity, "数量", problems)
    price = _dec(
        price_yuan if price_yuan not in (None, "") else listing.price_yuan, "单价", problems
    )
    if listing.status != ListingStatus.OPEN:
        problems.append("该挂牌已结束")
    if seller.pk == buyer.pk:
        problems.append("买卖双方相同")
    if buyer.kind == HolderKind.GOVERNMENT or seller.kind == HolderKind.GOVERNMENT:
        problems.append("政府账户不参与公告板交易")
    if listing.unit_type in rules.same_region_unit_types and seller.region_id != buyer.region_id:
        problems.append(
            f"排污权只能在同一地区内交易：卖方 {seller.region.name}，买方 {buyer.region.name}"
        )
    if not problems and qty > remaining(listing):
        problems.append(f"超过挂牌剩余数量 {remaining(listing)}")
    if not problems and balance(seller, listing.unit_type, listing.vintage) < qty:
        problems.append(f"卖方持有 {listing.unit_type} 不足 {qty}")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        trade = Trade.objects.create(
            listing=listing,
            seller=seller,
            buyer=buyer,
            unit_type=listing.unit_type,
            vintage=listing.vintage,
            quantity=qty,
            price_yuan=pure.rounded(price, rules.price_decimals),
            requested_by=user,
        )
        record(actor=user, action="rights.trade.request", obj=trade, after=snapshot(trade))
    return trade


def needs_approval() -> bool:
    """Whether a holding-to-holding transfer needs a second person (carbon_market.yaml four_eyes)."""
    return ledger.rules().needs_second_person("transfer", "holding", "holding")


def _execute(trade: Trade, *, approver: Any, when: dt.date) -> Trade:
    requester = trade.requested_by.username if trade.requested_by_id else "platform"
    request = core.Request(
        "transfer",
        from_account=trade.seller.account.code,
        to_account=trade.buyer.account.code,
        unit_type=trade.unit_type,
        vintage=trade.vintage,
        amount=Decimal(trade.quantity),
        requested_by=requester,
        approved_by=ledger.actor_name(approver) or "platform-approver",
        date=when,
        note=f"公告板交易 #{trade.pk}：单价 {trade.price_yuan} 元",
    )
    try:
        tx = ledger.apply(request, user=approver, audit_action="rights.trade.transfer")
    except core.LedgerRefused as exc:
        trade.status = TradeStatus.FAILED
        trade.reason = refusal_text(exc)
        trade.save(update_fields=["status", "reason"])
        record(actor=approver, action="rights.trade.failed", obj=trade, note=str(exc))
        return trade
    trade.status = TradeStatus.EXECUTED
    trade.transaction = tx
    trade.executed_on = when
    trade.save(update_fields=["status", "transaction", "executed_on"])
    listing = trade.listing
    if (
        remaining(listing) <= 0
        and not listing.trades.exclude(
            status__in=(TradeStatus.EXECUTED, TradeStatus.REJECTED, TradeStatus.FAILED)
        ).exists()
    ):
        listing.status = ListingStatus.CLOSED
        listing.save(update_fields=["status"])
    record(actor=approver, action="rights.trade.execute", obj=trade, after=snapshot(trade))
    return trade


def accept_trade(*, trade: Trade, user: Any = None, when: dt.date | None = None) -> Trade:
    """The buyer confirms; without a four-eyes rule the transfer is made at once."""
    _need(user, access.can_act(user, trade.buyer), "rights.file")
    if trade.status != TradeStatus.REQUESTED:
        raise ValidationError(["该交易不在待买方确认状态"])
    if user is not None and trade.requested_by_id == getattr(user, "pk", None):
        raise PermissionDenied("买方确认须由卖方申请人以外的人员进行")
    with transaction.atomic():
        trade.status = TradeStatus.ACCEPTED
        trade.accepted_by = user
        trade.accepted_at = timezone.now()
        trade.save(update_fields=["status", "accepted_by", "accepted_at"])
        record(actor=user, action="rights.trade.accept", obj=trade)
        if not needs_approval():
            return _execute(trade, approver=user, when=when or _today())
    return trade


def decide_trade(
    *, trade: Trade, approve: bool, reason: str = "", user: Any = None, when: dt.date | None = None
) -> Trade:
    """The province's second person approves (the transfer is made) or rejects."""
    _need(user, access.can_manage(user), "rights.manage")
    if trade.status != TradeStatus.ACCEPTED:
        raise ValidationError(["该交易不在待复核状态"])
    if user is not None and getattr(user, "pk", None) in (
        trade.requested_by_id,
        trade.accepted_by_id,
    ):
        raise PermissionDenied("复核人须为买卖双方经办人以外的人员（双人复核）")
    with transaction.atomic():
        trade.decided_by = user
        trade.decided_at = timezone.now()
        trade.save(update_fields=["decided_by", "decided_at"])
        if not approve:
            trade.status = TradeStatus.REJECTED
            trade.reason = reason.strip() or "驳回"
            trade.save(update_fields=["status", "reason"])
            record(actor=user, action="rights.trade.reject", obj=trade, note=trade.reason)
            return trade
        return _execute(trade, approver=user, when=when or _today())


def holder_for_user(user: Any) -> Holder | None:
    """The enterprise user's own unit account, None until it is opened (on its first right)."""
    entity_id = getattr(user, "entity_id", None)
    if not entity_id:
        return None
    return Holder.objects.filter(entity_id=entity_id, kind=HolderKind.UNIT).first()


def account_of(code: str) -> Account | None:
    return Account.objects.filter(code=code.strip()).first()
