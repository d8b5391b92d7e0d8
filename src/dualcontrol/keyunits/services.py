"""Use cases of the key-unit registry: the only code that writes its tables.

Every function takes keyword arguments, checks who acts (:mod:`dualcontrol.access.keyunits`),
writes in one transaction and records one audit entry.  ``user=None`` is the system (the demo,
scheduled jobs).  Refusals reuse the reporting workflow's exceptions: :class:`PermissionDenied`,
:class:`WorkflowError` and :class:`ReportRejected` (every problem, nothing written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import keyunits as access
from dualcontrol.audit.services import record, snapshot
from dualcontrol.entities.models import Entity
from dualcontrol.keyunits import efficiency as eff
from dualcontrol.keyunits.models import (
    AuditOrder,
    AuditReason,
    AuditStatus,
    Designation,
    DesignationStatus,
    EnergyManager,
    EnergyUse,
    ListKind,
    ProductGrade,
    ProductLine,
    PublishedList,
    Reminder,
    StatusReport,
    StatusReportEvent,
    StatusReportRevision,
    Surcharge,
)
from dualcontrol.keyunits.rules import load_rules
from dualcontrol.reporting.models import EnergyReport, PeriodType
from dualcontrol.reporting.models import Status as RStatus
from dualcontrol.reporting.services import (
    PermissionDenied,
    Problem,
    ReportRejected,
    WorkflowError,
)

__all__ = [
    "InputRejected",
    "PermissionDenied",
    "Problem",
    "ReportRejected",
    "WorkflowError",
]

D0 = Decimal(0)


class InputRejected(WorkflowError):
    """Fields of the request are missing or not allowed (nothing was written); ``fields`` maps
    each to its reason.

    A :class:`WorkflowError` for the pages (shown as the message); the API answers it as bad input
    (422 listing the fields) and any other ``WorkflowError`` as a wrong state (409)."""

    def __init__(self, fields: Mapping[str, str]):
        self.fields = dict(fields)
        super().__init__("；".join(str(v) for v in self.fields.values()))


def _too_long(model: Any, values: Mapping[str, str]) -> dict[str, str]:
    """The fields of ``values`` longer than the model's column allows, with the reason."""
    out = {}
    for name, value in values.items():
        limit = model._meta.get_field(name).max_length
        if limit and len(value.strip()) > limit:
            out[name] = _("%(f)s 超过 %(n)s 个字符") % {
                "f": model._meta.get_field(name).verbose_name,
                "n": limit,
            }
    return out


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


# ---------------------------------------------------------------------------------------------
# designations


def annual_energy(entity_ids: Sequence[int] | None, year: int) -> dict[int, tuple[Decimal, str]]:
    """Each unit's comprehensive energy use in ``year`` and where it came from: its accepted or
    submitted annual 205-1 report, else twelve monthly reports, else the registry figure."""
    out: dict[int, tuple[Decimal, str]] = {}
    reports = EnergyReport.objects.filter(
        year=year, status__in=[RStatus.SUBMITTED, RStatus.ACCEPTED], energy_tce__isnull=False
    )
    if entity_ids is not None:
        reports = reports.filter(entity_id__in=entity_ids)
    monthly = (
        reports.filter(period_type=PeriodType.MONTHLY)
        .values("entity_id")
        .annotate(n=Count("id"), total=Sum("energy_tce"))
    )
    for row in monthly:
        if row["n"] == 12:
            out[row["entity_id"]] = (row["total"], "205-1 monthly")
    for eid, total in reports.filter(period_type=PeriodType.ANNUAL).values_list(
        "entity_id", "energy_tce"
    ):
        out[eid] = (total, "205-1 annual")
    entities = Entity.objects.filter(annual_energy_tce__isnull=False)
    if entity_ids is not None:
        entities = entities.filter(pk__in=entity_ids)
    for eid, total in entities.values_list("pk", "annual_energy_tce"):
        out.setdefault(eid, (total, "registry"))
    return out


def province_of(entity: Entity) -> str:
    """The province code of a unit (the first code of its division's path)."""
    return entity.division.path.split("/")[0]


def _regions() -> dict[int, str]:
    return {
        pk: (path or "").split("/")[0]
        for pk, path in Entity.objects.values_list("pk", "division__path")
    }


@dataclass
class ProposalResult:
    proposed: int = 0
    unchanged: int = 0
    below: int = 0
    rule_version: str = ""


def propose_designations(*, year: int, user: Any) -> ProposalResult:
    """拟纳入: a proposal for every unit whose energy use reaches a tier's threshold in ``year``
    (thresholds from the reference data; a decided designation of that year is kept)."""
    if not access.can_designate(user):
        raise PermissionDenied("only the province designates key units")
    on = dt.date(year, 12, 31)
    regions = _regions()
    result = ProposalResult()
    energy = annual_energy(None, year)
    versions: set[str] = set()
    with transaction.atomic():
        existing = {d.entity_id: d for d in Designation.objects.filter(year=year)}
        new, changed = [], []
        for eid, (tce, source) in sorted(energy.items()):
            region = regions.get(eid, "")
            tier = eff.proposal(tce, region=region, on=on)
            if tier is None:
                result.below += 1
                continue
            version = eff.thresholds_version(region, on)
            versions.add(version)
            d = existing.get(eid)
            if d is None:
                new.append(
                    Designation(
                        entity_id=eid,
                        year=year,
                        tier=tier,
                        basis_energy_tce=tce,
                        basis_source=source,
                        rule_version=version,
                    )
                )
            elif d.status == DesignationStatus.PROPOSED and (
                d.tier != tier or d.basis_energy_tce != tce
            ):
                d.tier, d.basis_energy_tce, d.basis_source = tier, tce, source
                d.rule_version = version
                changed.append(d)
            else:
                result.unchanged += 1
        result.rule_version = "; ".join(sorted(versions))
        Designation.objects.bulk_create(new, batch_size=500)
        Designation.objects.bulk_update(
            changed, ["tier", "basis_energy_tce", "basis_source", "rule_version"], batch_size=500
        )
        result.proposed = len(new) + len(changed)
        record(
            actor=user,
            action="keyunits.propose",
            object_type="keyunits.designation",
            object_repr=f"{year}",
            after={
                "year": year,
                "proposed": result.proposed,
                "unchanged": result.unchanged,
                "below_threshold": result.below,
                "rule_version": result.rule_version,
            },
        )
    return result


def _decide(designation: Designation, user: Any, status: str, reason: str, action: str) -> None:
    if not access.can_designate(user):
        raise PermissionDenied("only the province confirms or removes designations")
    with transaction.atomic():
        d = Designation.objects.select_for_update().get(pk=designation.pk)
        if d.status == status:
            raise WorkflowError(_("该认定已是「%(s)s」") % {"s": d.get_status_display()})
        before = snapshot(d, ["status", "reason", "published"])
        d.status = status
        d.reason = reason
        d.decided_by = _actor(user)
        d.decided_at = timezone.now()
        if status == DesignationStatus.REMOVED:
            d.published = False
        d.save()
        record(
            actor=user,
            action=action,
            obj=d,
            before=before,
            after=snapshot(d, ["status", "reason", "published"]),
            note=reason,
        )
        designation.refresh_from_db()


def confirm_designation(*, designation: Designation, user: Any, reason: str = "") -> Designation:
    """The province confirms a proposal (or takes back a removal)."""
    _decide(designation, user, DesignationStatus.CONFIRMED, reason.strip(), "keyunits.confirm")
    return designation


def remove_designation(*, designation: Designation, user: Any, reason: str) -> Designation:
    """The province removes a unit from the year's list; a reason is required."""
    if not reason or not reason.strip():
        raise WorkflowError(_("移出必须填写原因"))
    _decide(designation, user, DesignationStatus.REMOVED, reason.strip(), "keyunits.remove")
    return designation


def designate(*, entity: Entity, year: int, tier: str, user: Any, reason: str = "") -> Designation:
    """The province designates a unit by hand (e.g. a provincial designation the proposal did
    not make); the unit's energy use must reach the tier's threshold."""
    if not access.can_designate(user):
        raise PermissionDenied("only the province designates key units")
    tce, source = annual_energy([entity.pk], year).get(entity.pk, (None, ""))
    if tce is None:
        raise WorkflowError(_("没有该单位 %(y)s 年的能源消费量") % {"y": year})
    on = dt.date(year, 12, 31)
    region = province_of(entity)
    found = eff.proposal(tce, region=region, on=on)
    if found is None or (tier == "national" and found != "national"):
        raise WorkflowError(
            _("%(y)s 年综合能源消费量 %(tce)s 吨标准煤未达到该类别的门槛") % {"y": year, "tce": tce}
        )
    with transaction.atomic():
        d, _created = Designation.objects.update_or_create(
            entity=entity,
            year=year,
            defaults={
                "tier": tier,
                "basis_energy_tce": tce,
                "basis_source": source,
                "rule_version": eff.thresholds_version(region, on),
                "status": DesignationStatus.CONFIRMED,
                "decided_by": _actor(user),
                "decided_at": timezone.now(),
                "reason": reason.strip(),
            },
        )
        record(actor=user, action="keyunits.designate", obj=d, after=snapshot(d), note=reason)
    return d


# ---------------------------------------------------------------------------------------------
# published lists


def publish_list(*, kind: str, year: int, user: Any) -> PublishedList:
    """Freeze and publish one of the province's lists for ``year`` (a new publication replaces
    the previous one of the same list and year)."""
    from dualcontrol.keyunits import queries

    if not access.can_designate(user):
        raise PermissionDenied("only the province publishes the lists")
    if kind not in ListKind.values:
        raise WorkflowError(_("未知名单 %(k)s") % {"k": kind})
    headers, rows = queries.list_table(kind, year)
    if not rows:
        raise WorkflowError(_("%(y)s 年的该名单为空，不能公布") % {"y": year})
    now = timezone.now()
    with transaction.atomic():
        if kind == ListKind.DESIGNATIONS:
            Designation.objects.filter(year=year, status=DesignationStatus.CONFIRMED).update(
                published=True, published_at=now
            )
        published, _created = PublishedList.objects.update_or_create(
            kind=kind,
            year=year,
            defaults={
                "rows": [dict(zip(headers, [_json(v) for v in r], strict=True)) for r in rows],
                "rule_version": queries.list_rule_version(kind, year),
                "published_at": now,
                "published_by": _actor(user),
            },
        )
        record(
            actor=user,
            action="keyunits.publish",
            obj=published,
            after={"kind": kind, "year": year, "rows": len(rows)},
        )
    return published


def _json(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


# ---------------------------------------------------------------------------------------------
# energy manager


def save_energy_manager(
    *,
    entity: Entity,
    user: Any,
    name: str,
    certificate_no: str = "",
    valid_until: dt.date | None = None,
    phone: str = "",
    department: Any = None,
) -> EnergyManager:
    """能源管理负责人 (节约能源法 第五十五条: 备案): the unit names its manager."""
    if user is not None and not (access.can_file(user, entity) or access.can_manage(user, entity)):
        raise PermissionDenied("only the unit or its reviewers record its energy manager")
    problems = _too_long(
        EnergyManager, {"name": name, "certificate_no": certificate_no, "phone": phone}
    )
    if not name.strip():
        problems["name"] = _("请填写能源管理负责人姓名")
    if problems:
        raise InputRejected(problems)
    with transaction.atomic():
        manager = EnergyManager.objects.filter(entity=entity).first()
        before = snapshot(manager) if manager else None
        manager, _created = EnergyManager.objects.update_or_create(
            entity=entity,
            defaults={
                "name": name.strip(),
                "certificate_no": certificate_no.strip(),
                "valid_until": valid_until,
                "phone": phone.strip(),
                "department": department,
            },
        )
        record(
            actor=user,
            action="keyunits.manager",
            obj=manager,
            before=before,
            after=snapshot(manager),
        )
    return manager


# ---------------------------------------------------------------------------------------------
# status reports


@dataclass
class EnergyUseRow:
    kind: str
    unit: str
    quantity: Any
    energy_tce: Any


@dataclass
class ProductRow:
    product: str
    indicator: str
    output: Any
    value: Any
    output_unit: str = ""
    unit: str = ""
    electricity_kwh: Any = None
    corrections: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class StatusContent:
    """The content of a status report as filed (form, upload, API)."""

    energy_uses: list[EnergyUseRow]
    product_lines: list[ProductRow]
    savings_tce: Any = None
    measures: str = ""
    manager_name: str = ""
    manager_certificate: str = ""
    # where each value came from in an uploaded file: key → (sheet, row, column)
    cells: dict[str, tuple[str, int, str]] = field(default_factory=dict)


def _number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or value is None or value == "":
        raise ValueError("empty")
    else:
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not finite")
    return number


@dataclass
class _Checked:
    uses: list[EnergyUse]
    lines: list[ProductLine]
    savings_tce: Decimal | None
    energy_tce: Decimal


def _where(content: StatusContent, key: str, row: int, fname: str) -> tuple[str, int, str, str]:
    sheet, r, col = content.cells.get(key, ("", row, ""))
    return sheet, r, col, fname


def validate_content(content: StatusContent, year: int) -> _Checked:
    """Every problem of the content at once (raises :class:`ReportRejected`)."""
    problems: list[Problem] = []

    def bad(key: str, row: int, fname: str, reason: str) -> None:
        sheet, r, col, f = _where(content, key, row, fname)
        problems.append(Problem(sheet, r, col, f, reason))

    uses: list[EnergyUse] = []
    if not content.energy_uses:
        bad("energy_uses", 1, "energy_uses", _("至少填写一种能源的消费量"))
    seen_kinds: set[str] = set()
    for i, row in enumerate(content.energy_uses, start=1):
        kind = (row.kind or "").strip()
        if not kind:
            bad(f"energy.{i}.kind", i, "kind", _("请填写能源品种"))
        elif kind in seen_kinds:
            bad(f"energy.{i}.kind", i, "kind", _("能源品种“%(k)s”重复") % {"k": kind})
        seen_kinds.add(kind)
        values: dict[str, Decimal] = {}
        for fname, label in (("quantity", _("消费量")), ("energy_tce", _("折标准煤"))):
            try:
                values[fname] = _number(getattr(row, fname))
                if values[fname] < 0:
                    bad(f"energy.{i}.{fname}", i, fname, _("%(f)s不能为负数") % {"f": label})
            except ValueError:
                bad(f"energy.{i}.{fname}", i, fname, _("%(f)s必须是数字") % {"f": label})
        if len(values) == 2:
            uses.append(
                EnergyUse(
                    kind=kind,
                    unit=(row.unit or "").strip(),
                    quantity=values["quantity"],
                    energy_tce=values["energy_tce"],
                )
            )
    lines: list[ProductLine] = []
    seen: set[tuple[str, str]] = set()
    on = dt.date(year, 12, 31)
    for i, row in enumerate(content.product_lines, start=1):
        product, indicator = eff.normalise(row.product or "", row.indicator or "")
        if not product:
            bad(f"product.{i}.product", i, "product", _("请填写产品"))
        if not indicator:
            bad(f"product.{i}.indicator", i, "indicator", _("请填写指标"))
        if (product, indicator) in seen:
            bad(f"product.{i}.product", i, "product", _("产品和指标重复"))
        seen.add((product, indicator))
        info = eff.find_line(product, indicator, on) if product and indicator else None
        unit = (row.unit or "").strip()
        if info is not None:
            if unit and unit != info.unit:
                bad(
                    f"product.{i}.unit",
                    i,
                    "unit",
                    _("单位应为 %(u)s（%(std)s）")
                    % {"u": info.unit, "std": info.line.standard.code},
                )
            unit = info.unit
        values = {}
        for fname, label in (("output", _("产量")), ("value", _("单位产品能耗"))):
            try:
                values[fname] = _number(getattr(row, fname))
            except ValueError:
                bad(f"product.{i}.{fname}", i, fname, _("%(f)s必须是数字") % {"f": label})
        if "output" in values and values["output"] <= 0:
            bad(f"product.{i}.output", i, "output", _("产量必须大于 0"))
        kwh = None
        if row.electricity_kwh not in (None, ""):
            try:
                kwh = _number(row.electricity_kwh)
                if kwh < 0:
                    bad(f"product.{i}.electricity_kwh", i, "electricity_kwh", _("用电量不能为负数"))
            except ValueError:
                bad(f"product.{i}.electricity_kwh", i, "electricity_kwh", _("用电量必须是数字"))
        corrections: dict[str, str] = {}
        for name, v in (row.corrections or {}).items():
            try:
                corrections[str(name)] = str(_number(v))
            except ValueError:
                bad(
                    f"product.{i}.corrections",
                    i,
                    "corrections",
                    _("修正参数 %(n)s 必须是数字") % {"n": name},
                )
        if info is not None and "value" in values:
            try:
                eff.grade(
                    values["value"],
                    info,
                    benchmark=None,
                    corrections={k: Decimal(v) for k, v in corrections.items()},
                )
            except eff.grading_error() as exc:
                bad(f"product.{i}.corrections", i, "corrections", str(exc))
        if len(values) == 2:
            lines.append(
                ProductLine(
                    product=product,
                    indicator=indicator,
                    output=values["output"],
                    output_unit=(row.output_unit or "").strip(),
                    value=values["value"],
                    unit=unit,
                    electricity_kwh=kwh,
                    corrections=corrections,
                )
            )
    savings = None
    if content.savings_tce not in (None, ""):
        try:
            savings = _number(content.savings_tce)
        except ValueError:
            bad("savings_tce", 0, "savings_tce", _("节能量必须是数字"))
    if problems:
        raise ReportRejected(problems)
    return _Checked(uses, lines, savings, sum((u.energy_tce for u in uses), D0))


def _state(report: StatusReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "revision": report.revision,
        "energy_tce": str(report.energy_tce),
    }


def _content_json(report: StatusReport) -> dict[str, Any]:
    return {
        "energy_tce": str(report.energy_tce),
        "savings_tce": None if report.savings_tce is None else str(report.savings_tce),
        "measures": report.measures,
        "manager_name": report.manager_name,
        "manager_certificate": report.manager_certificate,
        "energy_uses": [
            {
                "kind": u.kind,
                "unit": u.unit,
                "quantity": str(u.quantity),
                "energy_tce": str(u.energy_tce),
            }
            for u in report.energy_uses.all()
        ],
        "product_lines": [
            {
                "product": p.product,
                "indicator": p.indicator,
                "output": str(p.output),
                "output_unit": p.output_unit,
                "value": str(p.value),
                "unit": p.unit,
                "electricity_kwh": None if p.electricity_kwh is None else str(p.electricity_kwh),
                "corrections": p.corrections,
            }
            for p in report.product_lines.all()
        ],
    }


def save_status_report(
    *,
    entity: Entity,
    year: int,
    content: StatusContent,
    user: Any,
    source: str = "form",
    filename: str = "",
    submit: bool = False,
    today: dt.date | None = None,
) -> StatusReport:
    """Validate and store a unit's status report for ``year`` (a draft; submitted when asked).

    An accepted report is not changed; editing a returned report starts the next revision."""
    if user is not None and not access.can_file(user, entity):
        raise PermissionDenied("only the unit's own reporter files its status report")
    today = today or timezone.localdate()
    if year >= today.year or year < 2000:
        raise ReportRejected(
            [
                Problem(
                    "",
                    0,
                    "",
                    "year",
                    _("%(y)s 年度不在可报送范围内（须为已结束的年度）") % {"y": year},
                )
            ]
        )
    checked = validate_content(content, year)
    rules = load_rules()
    with transaction.atomic():
        report = StatusReport.objects.select_for_update().filter(entity=entity, year=year).first()
        before = _state(report) if report else None
        if report is None:
            report = StatusReport(entity=entity, year=year, deadline=rules.status_deadline(year))
        elif report.status == RStatus.ACCEPTED:
            raise WorkflowError(_("已通过的报告不能修改；如需更正请联系审核人员退回"))
        elif report.status == RStatus.SUBMITTED:
            raise WorkflowError(_("已提交待审核的报告不能修改"))
        elif report.status == RStatus.RETURNED:
            report.revision += 1
        report.status = RStatus.DRAFT
        report.energy_tce = checked.energy_tce
        report.savings_tce = checked.savings_tce
        report.measures = content.measures.strip()
        report.manager_name = content.manager_name.strip()
        report.manager_certificate = content.manager_certificate.strip()
        report.source, report.filename = source, filename
        report.save()
        report.energy_uses.all().delete()
        report.product_lines.all().delete()
        for u in checked.uses:
            u.report = report
        for ln in checked.lines:
            ln.report = report
        EnergyUse.objects.bulk_create(checked.uses)
        ProductLine.objects.bulk_create(checked.lines)
        StatusReportEvent.objects.create(
            report=report, revision=report.revision, action="saved", actor=_actor(user)
        )
        record(
            actor=user,
            action="keyunits.report.save",
            obj=report,
            before=before,
            after=_state(report),
            note=f"source={source} {filename}".strip(),
        )
        if submit:
            _submit(report, user)
    return report


def _submit(report: StatusReport, user: Any) -> None:
    report.status = RStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.save(update_fields=["status", "submitted_at", "updated"])
    StatusReportRevision.objects.update_or_create(
        report=report,
        number=report.revision,
        defaults={"content": _content_json(report), "created_by": _actor(user)},
    )
    StatusReportEvent.objects.create(
        report=report, revision=report.revision, action="submitted", actor=_actor(user)
    )


def submit_status_report(*, report: StatusReport, user: Any) -> StatusReport:
    if user is not None and not access.can_file(user, report.entity):
        raise PermissionDenied("only the unit's own reporter submits its status report")
    with transaction.atomic():
        report = StatusReport.objects.select_for_update().get(pk=report.pk)
        if report.status not in {RStatus.DRAFT, RStatus.RETURNED}:
            raise WorkflowError(
                _("状态为「%(status)s」的报告不能提交") % {"status": report.get_status_display()}
            )
        before = _state(report)
        if report.status == RStatus.RETURNED:
            report.revision += 1  # resubmitting a returned report unchanged: a new revision
        _submit(report, user)
        record(
            actor=user,
            action="keyunits.report.submit",
            obj=report,
            before=before,
            after=_state(report),
        )
    return report


def return_status_report(*, report: StatusReport, user: Any, reason: str) -> StatusReport:
    if not access.can_manage(user, report.entity):
        raise PermissionDenied("not a reviewer of this unit")
    if not reason or not reason.strip():
        raise WorkflowError(_("退回必须填写原因"))
    with transaction.atomic():
        report = StatusReport.objects.select_for_update().get(pk=report.pk)
        if report.status != RStatus.SUBMITTED:
            raise WorkflowError(
                _("状态为「%(status)s」的报告不能退回") % {"status": report.get_status_display()}
            )
        before = _state(report)
        report.status = RStatus.RETURNED
        report.save(update_fields=["status", "updated"])
        StatusReportEvent.objects.create(
            report=report,
            revision=report.revision,
            action="returned",
            actor=_actor(user),
            reason=reason.strip(),
        )
        record(
            actor=user,
            action="keyunits.report.return",
            obj=report,
            before=before,
            after=_state(report),
            note=reason.strip(),
        )
    return report


def accept_status_report(*, report: StatusReport, user: Any) -> StatusReport:
    if not access.can_manage(user, report.entity):
        raise PermissionDenied("not a reviewer of this unit")
    with transaction.atomic():
        report = StatusReport.objects.select_for_update().get(pk=report.pk)
        if report.status != RStatus.SUBMITTED:
            raise WorkflowError(
                _("状态为「%(status)s」的报告不能通过") % {"status": report.get_status_display()}
            )
        before = _state(report)
        report.status = RStatus.ACCEPTED
        report.save(update_fields=["status", "updated"])
        StatusReportEvent.objects.create(
            report=report, revision=report.revision, action="accepted", actor=_actor(user)
        )
        record(
            actor=user,
            action="keyunits.report.accept",
            obj=report,
            before=before,
            after=_state(report),
        )
    return report


def upload_status_report(
    *,
    entity: Entity,
    year: int,
    data: bytes,
    filename: str,
    user: Any,
    submit: bool = False,
    today: dt.date | None = None,
) -> StatusReport:
    """An Excel/CSV upload of the status report: read whole, validate, store — or refuse whole
    with every problem addressed by sheet, row and column."""
    from dualcontrol.keyunits.workbook import read_status_workbook

    if user is not None and not access.can_file(user, entity):
        raise PermissionDenied("only the unit's own reporter files its status report")
    content, meta_problems = read_status_workbook(data, filename, entity=entity, year=year)
    problems = list(meta_problems)
    try:
        validate_content(content, year)
    except ReportRejected as exc:
        problems += exc.problems
    if problems:
        raise ReportRejected(problems)
    return save_status_report(
        entity=entity,
        year=year,
        content=content,
        user=user,
        source="excel",
        filename=filename,
        submit=submit,
        today=today,
    )


# ---------------------------------------------------------------------------------------------
# reminders


@dataclass
class ReminderResult:
    units: int = 0
    mails: int = 0
    offsets: list[int] = field(default_factory=list)


def send_status_reminders(*, today: dt.date, user: Any = None) -> ReminderResult:
    """Remind the key units (confirmed for last year) that have not submitted their status report
    on the days the rules name before and after the deadline; each reminder goes out once."""
    from dualcontrol.accounts.models import Role, User
    from dualcontrol.jobs.services import enqueue_mail

    rules = load_rules()
    year = today.year - 1
    deadline = rules.status_deadline(year)
    offset = (today - deadline).days
    wanted = {-d for d in rules.remind_days_before} | set(rules.remind_days_after)
    result = ReminderResult()
    if offset not in wanted:
        return result
    result.offsets.append(offset)
    filed = StatusReport.objects.filter(
        year=year, status__in=[RStatus.SUBMITTED, RStatus.ACCEPTED]
    ).values("entity_id")
    due = (
        Designation.objects.filter(year=year, status=DesignationStatus.CONFIRMED)
        .exclude(entity_id__in=filed)
        .exclude(
            entity_id__in=Reminder.objects.filter(year=year, offset_days=offset).values("entity_id")
        )
        .select_related("entity")
    )
    with transaction.atomic():
        reminders = []
        for d in due:
            addresses = list(
                User.objects.filter(entity=d.entity, role=Role.ENTERPRISE, is_active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            )
            if addresses:
                if offset < 0:
                    text = _("%(unit)s：%(year)s 年度能源利用状况报告应于 %(deadline)s 前报送。")
                else:
                    text = _(
                        "%(unit)s：%(year)s 年度能源利用状况报告已超过报送期限 %(deadline)s，请尽快报送。"
                    )
                enqueue_mail(
                    to=addresses,
                    subject=_("能源利用状况报告报送提醒（%(year)s 年度）") % {"year": year},
                    body=text % {"unit": d.entity.name, "year": year, "deadline": deadline},
                    origin=f"keyunits.reminder:{d.entity_id}:{year}",
                )
                result.mails += 1
            reminders.append(
                Reminder(
                    entity_id=d.entity_id,
                    year=year,
                    offset_days=offset,
                    sent_on=today,
                    recipients=len(addresses),
                )
            )
        Reminder.objects.bulk_create(reminders)
        result.units = len(reminders)
        record(
            actor=user,
            action="keyunits.remind",
            object_type="keyunits.statusreport",
            object_repr=f"{year}",
            after={
                "year": year,
                "offset_days": offset,
                "units": result.units,
                "mails": result.mails,
            },
        )
    return result


# ---------------------------------------------------------------------------------------------
# product grades


@dataclass
class GradeResult:
    graded: int = 0
    skipped: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # unit, product, ind, why


def compute_grades(*, year: int, user: Any) -> GradeResult:
    """Grade every product line of the accepted status reports of ``year`` against its limit
    standard and the 标杆/基准 levels (the versions used are stored with each grade).  Lines for
    which no limit standard is in the reference data are listed, never graded by guess."""
    if not access.can_designate(user):
        raise PermissionDenied("only the province computes the grades")
    on = dt.date(year, 12, 31)
    result = GradeResult()
    reports = StatusReport.objects.filter(year=year, status=RStatus.ACCEPTED).select_related(
        "entity"
    )
    rows: list[ProductGrade] = []
    for report in reports:
        for line in report.product_lines.all():
            info = eff.find_line(line.product, line.indicator, on)
            if info is None:
                result.skipped.append(
                    (
                        report.entity.name,
                        line.product,
                        line.indicator,
                        _("参考数据中没有该产品的能耗限额标准"),
                    )
                )
                continue
            level = eff.benchmark_for(line.product, line.indicator, on)
            corrections = {k: Decimal(str(v)) for k, v in (line.corrections or {}).items()}
            try:
                g = eff.grade(line.value, info, benchmark=level, corrections=corrections)
            except eff.grading_error() as exc:
                result.skipped.append((report.entity.name, line.product, line.indicator, str(exc)))
                continue
            rows.append(
                ProductGrade(
                    entity=report.entity,
                    year=year,
                    report=report,
                    product=line.product,
                    product_name=info.product_name,
                    indicator=line.indicator,
                    indicator_name=info.indicator_name,
                    unit=info.unit,
                    output=line.output,
                    value=line.value,
                    corrected_value=g.corrected_value,
                    grade=str(g.grade),
                    standard_code=g.standard_code,
                    standard_version=g.standard_version,
                    benchmark_position=g.benchmark_position,
                    benchmark_version=str(getattr(level, "version", "") or "") if level else "",
                    distance=g.distance_to_next_grade,
                    next_grade=g.next_grade or "",
                    notes="；".join(g.notes),
                )
            )
    with transaction.atomic():
        ProductGrade.objects.filter(year=year).delete()
        ProductGrade.objects.bulk_create(rows, batch_size=500)
        result.graded = len(rows)
        record(
            actor=user,
            action="keyunits.grades",
            object_type="keyunits.productgrade",
            object_repr=f"{year}",
            after={"year": year, "graded": result.graded, "skipped": len(result.skipped)},
            note=[list(s) for s in result.skipped[:50]],
        )
    return result


# ---------------------------------------------------------------------------------------------
# audits


def order_audit(
    *,
    entity: Entity,
    year: int,
    reason: str,
    user: Any,
    detail: str = "",
    ordered_on: dt.date | None = None,
) -> AuditOrder:
    """责令实施能源审计 (节约能源法 第五十四条): the report is due after the rules' time limit."""
    if not access.can_manage(user, entity):
        raise PermissionDenied("not a reviewer of this unit")
    if reason not in AuditReason.values:
        raise InputRejected({"reason": _("未知的审计原因 %(r)s") % {"r": reason}})
    rules = load_rules()
    ordered_on = ordered_on or timezone.localdate()
    with transaction.atomic():
        if AuditOrder.objects.filter(entity=entity, year=year, reason=reason).exists():
            raise WorkflowError(_("该单位已因同一原因被责令审计"))
        audit = AuditOrder.objects.create(
            entity=entity,
            year=year,
            reason=reason,
            detail=detail.strip(),
            ordered_at=ordered_on,
            ordered_by=_actor(user),
            due=rules.audit_due(ordered_on),
            rule_version=rules.version,
        )
        record(actor=user, action="keyunits.audit.order", obj=audit, after=snapshot(audit))
    return audit


def order_audits_for_over_limit(
    *, year: int, user: Any, ordered_on: dt.date | None = None
) -> list[AuditOrder]:
    """An audit order for every unit with a line over its limit in ``year`` (once per unit)."""
    if not access.can_designate(user):
        raise PermissionDenied("only the province orders audits in bulk")
    rules = load_rules()
    done = AuditOrder.objects.filter(year=year, reason=AuditReason.OVER_LIMIT).values("entity_id")
    grades = (
        ProductGrade.objects.filter(year=year, grade__in=rules.audit_grades)
        .exclude(entity_id__in=done)
        .select_related("entity")
        .order_by("entity_id", "product")
    )
    by_unit: dict[int, list[ProductGrade]] = {}
    for g in grades:
        by_unit.setdefault(g.entity_id, []).append(g)
    out = []
    for lines in by_unit.values():
        detail = "；".join(
            f"{g.product_name} {g.indicator_name} {g.value} {g.unit}（{g.standard_code}）"
            for g in lines
        )
        out.append(
            order_audit(
                entity=lines[0].entity,
                year=year,
                reason=AuditReason.OVER_LIMIT,
                user=user,
                detail=detail,
                ordered_on=ordered_on,
            )
        )
    return out


def record_audit_report(
    *, audit: AuditOrder, user: Any, reference: str, received_on: dt.date | None = None
) -> AuditOrder:
    if not access.can_manage(user, audit.entity):
        raise PermissionDenied("not a reviewer of this unit")
    if not reference or not reference.strip():
        raise InputRejected({"reference": _("请填写审计报告的文号或名称")})
    too_long = _too_long(AuditOrder, {"report_reference": reference})
    if too_long:
        raise InputRejected({"reference": too_long["report_reference"]})
    with transaction.atomic():
        a = AuditOrder.objects.select_for_update().get(pk=audit.pk)
        if a.status != AuditStatus.ORDERED:
            raise WorkflowError(
                _("状态为「%(s)s」的审计不能登记报告") % {"s": a.get_status_display()}
            )
        before = snapshot(a, ["status", "report_reference"])
        a.status = AuditStatus.REPORT_RECEIVED
        a.report_reference = reference.strip()
        a.report_received_at = received_on or timezone.localdate()
        a.save()
        record(
            actor=user,
            action="keyunits.audit.report",
            obj=a,
            before=before,
            after=snapshot(a, ["status", "report_reference"]),
        )
    audit.refresh_from_db()
    return audit


def close_audit(
    *, audit: AuditOrder, user: Any, note: str, closed_on: dt.date | None = None
) -> AuditOrder:
    if not access.can_manage(user, audit.entity):
        raise PermissionDenied("not a reviewer of this unit")
    if not note or not note.strip():
        raise InputRejected({"note": _("办结必须填写意见")})
    with transaction.atomic():
        a = AuditOrder.objects.select_for_update().get(pk=audit.pk)
        if a.status != AuditStatus.REPORT_RECEIVED:
            raise WorkflowError(_("收到审计报告后才能办结"))
        before = snapshot(a, ["status"])
        a.status = AuditStatus.CLOSED
        a.closing_note = note.strip()
        a.closed_at = closed_on or timezone.localdate()
        a.save()
        record(
            actor=user,
            action="keyunits.audit.close",
            obj=a,
            before=before,
            after=snapshot(a, ["status"]),
            note=note.strip(),
        )
    audit.refresh_from_db()
    return audit


# ---------------------------------------------------------------------------------------------
# surcharges


@dataclass
class SurchargeResult:
    computed: int = 0
    charged: int = 0
    no_rule: int = 0


def compute_surcharges(*, year: int, user: Any) -> SurchargeResult:
    """The electricity surcharge of every product line of the accepted status reports of ``year``
    under the rule (and version) the reference data has for that year and product; lines no rule
    covers are counted, not priced."""
    if not access.can_designate(user):
        raise PermissionDenied("only the province computes surcharges")
    result = SurchargeResult()
    rows: list[Surcharge] = []
    lines = ProductLine.objects.filter(
        report__year=year, report__status=RStatus.ACCEPTED
    ).select_related("report", "report__entity__division")
    for line in lines:
        try:
            s = eff.surcharge(
                year=year,
                product=line.product,
                indicator=line.indicator,
                value=line.value,
                region=province_of(line.report.entity),
                corrections={k: Decimal(str(v)) for k, v in (line.corrections or {}).items()},
            )
        except (eff.surcharge_error(), eff.grading_error()):
            s = None
        if s is None:
            result.no_rule += 1
            continue
        amount = None
        if line.electricity_kwh is not None:
            amount = (line.electricity_kwh * s.surcharge_yuan_per_kwh).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
        rows.append(
            Surcharge(
                entity_id=line.report.entity_id,
                year=year,
                basis_year=year,
                product=line.product,
                indicator=line.indicator,
                value=line.value,
                rule=s.rule_id,
                rule_version=s.rule_version,
                tier=s.tier,
                surcharge_yuan_per_kwh=s.surcharge_yuan_per_kwh,
                electricity_kwh=line.electricity_kwh,
                amount_yuan=amount,
                note=s.note,
            )
        )
    with transaction.atomic():
        Surcharge.objects.filter(year=year).delete()
        Surcharge.objects.bulk_create(rows, batch_size=500)
        result.computed = len(rows)
        result.charged = sum(1 for r in rows if r.surcharge_yuan_per_kwh > 0)
        record(
            actor=user,
            action="keyunits.surcharges",
            object_type="keyunits.surcharge",
            object_repr=f"{year}",
            after={
                "year": year,
                "computed": result.computed,
                "charged": result.charged,
                "no_rule": result.no_rule,
            },
        )
    return result


def designation_counts(year: int) -> dict[str, int]:
    qs = Designation.objects.filter(year=year)
    return {
        "proposed": qs.filter(status=DesignationStatus.PROPOSED).count(),
        "confirmed": qs.filter(status=DesignationStatus.CONFIRMED).count(),
        "national": qs.filter(Q(status=DesignationStatus.CONFIRMED) & Q(tier="national")).count(),
    }
