"""Use cases of the project registry: the only code that writes projects, their schedule, evidence,
verifications, alerts, and the key-project reductions in the regional statistics.

Every function takes keyword arguments, checks access (:mod:`.queries`, built on
:mod:`dualcontrol.access.scope`; ``user=None`` is the platform itself — demo, batch jobs),
validates (``ValidationError`` with every problem; ``PermissionDenied`` for the wrong user), writes
in one transaction and records an audit entry.

The rule (``project_rules.yaml``, ``project_types.csv``): a completed project's reduction or saving
is recognised (已认可) only when the evidence its type requires is on file; a verification attempted
without it records the project as 不予认可 with the missing documents as the reason.  Only 已认可
figures are counted — in the ledger, the API totals and the regional statistics
(:func:`sync_statistics`); a rejected project is counted nowhere until it is re-submitted with
evidence and verified.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import projects as project_access
from dualcontrol.access.rules import allows
from dualcontrol.access.scope import visible_entities
from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.services import record, snapshot
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.projects import queries

# the investment-review use cases (issue 20) live in :mod:`.investment`; the API and the pages
# reach them here, with the state refusal the API answers with 409
from dualcontrol.projects.investment import GateHeld as GateHeld
from dualcontrol.projects.investment import WrongState as WrongState
from dualcontrol.projects.investment import decide_review as decide_review
from dualcontrol.projects.investment import register_investment as register_investment
from dualcontrol.projects.investment import submit_review as submit_review
from dualcontrol.projects.models import (
    UNFINISHED,
    Decision,
    Evidence,
    Kind,
    Milestone,
    Project,
    ProjectAlert,
    ProjectFigure,
    Status,
    Verification,
)
from dualcontrol.projects.rules import ProjectRules, project_rules
from dualcontrol.regions.models import Division
from dualcontrol.uploads import refusal

log = logging.getLogger(__name__)

PROJECT_FIELDS = [
    "kind",
    "type_code",
    "name",
    "registry_code",
    "entity",
    "owner_name",
    "division",
    "industry",
    "description",
    "planned_start",
    "planned_completion",
    "actual_start",
    "actual_completion",
    "status",
    "rejection_reason",
    "accounting_year",
    "is_synthetic",
]
EDITABLE = (
    "kind",
    "type_code",
    "name",
    "registry_code",
    "entity",
    "owner_name",
    "division",
    "industry",
    "description",
    "planned_start",
    "planned_completion",
)
#: what may not change once a project's figures are counted (it would move them)
FIXED_WHEN_VERIFIED = ("kind", "type_code", "division", "entity")
PLACES = Decimal("0.001")


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _state(project: Project) -> dict[str, Any]:
    data = snapshot(project, PROJECT_FIELDS)
    data["figures"] = {
        f.measure: {
            "planned": str(f.planned_amount),
            "verified": None if f.verified_amount is None else str(f.verified_amount),
        }
        for f in project.figures.all()
    }
    return data


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return d.quantize(PLACES) if d.is_finite() else None


def _figures(
    values: Mapping[str, Any], allowed: Iterable[str], prefix: str, rules: ProjectRules
) -> tuple[dict[str, Decimal], dict[str, str]]:
    """Amounts per measure (only measures the type may claim), and problems keyed by field."""
    allowed = tuple(allowed)
    out: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for code, raw in values.items():
        key = f"{prefix}_{code}"
        measure = rules.measures.get(code)
        if measure is None:
            errors[key] = _("未知指标：%(m)s") % {"m": code}
            continue
        amount = _amount(raw)
        if raw not in (None, "") and amount is None:
            errors[key] = _("请输入数值")
            continue
        if amount is None:
            continue
        if amount < 0:
            errors[key] = _("不能为负数")
        elif amount > 0 and code not in allowed:
            errors[key] = _("该类型项目不能申报%(m)s") % {"m": measure.label}
        elif amount > 0:
            out[code] = amount
    return out, errors


# --------------------------------------------------------------------------------------------
# Registration and editing
# --------------------------------------------------------------------------------------------


def _validate(values: dict[str, Any], planned: Mapping[str, Any], user: Any) -> dict[str, Decimal]:
    """The planned figures of valid ``values``; ValidationError with every problem otherwise."""
    rules = project_rules()
    errors: dict[str, Any] = {}
    if values.get("kind") not in Kind.values:
        errors["kind"] = _("项目类别无效")
    ptype = rules.types.get(values.get("type_code") or "")
    if ptype is None:
        errors["type_code"] = _("项目类型无效")
    elif ptype.kind != values.get("kind"):
        errors["type_code"] = _("项目类型与项目类别不符")
    if not (values.get("name") or "").strip():
        errors["name"] = _("请填写项目名称")
    division: Division | None = values.get("division")
    entity: Entity | None = values.get("entity")
    if division is None:
        errors["division"] = _("请选择所在地区")
    elif not project_access.can_register_in(user, division):
        raise PermissionDenied
    if entity is not None:
        if user is not None and not visible_entities(user).filter(pk=entity.pk).exists():
            raise PermissionDenied
        if division is not None and not entity.division.path.startswith(division.path):
            errors["entity"] = _("项目单位不在所选地区内")
    elif not (values.get("owner_name") or "").strip():
        errors["owner_name"] = _("请选择项目单位或填写项目单位名称")
    start, end = values.get("planned_start"), values.get("planned_completion")
    if start is None:
        errors["planned_start"] = _("请填写计划开工日期")
    if end is None:
        errors["planned_completion"] = _("请填写计划完成日期")
    if start and end and end < start:
        errors["planned_completion"] = _("计划完成日期早于计划开工日期")
    figures: dict[str, Decimal] = {}
    if ptype is not None:
        figures, problems = _figures(planned, ptype.measures, "planned", rules)
        errors.update(problems)
        if not figures and not problems:
            errors["planned"] = _("请至少填写一项计划减排量或节能量（%(m)s）") % {
                "m": "、".join(rules.measures[m].label for m in ptype.measures)
            }
    if errors:
        raise ValidationError(errors)
    return figures


def _set_planned(project: Project, figures: Mapping[str, Decimal]) -> None:
    existing = {f.measure: f for f in project.figures.all()}
    for code, f in existing.items():
        if code not in figures and f.verified_amount is None:
            f.delete()
        elif code not in figures:
            f.planned_amount = Decimal(0)
            f.save(update_fields=["planned_amount"])
    for code, amount in figures.items():
        if code in existing:
            existing[code].planned_amount = amount
            existing[code].save(update_fields=["planned_amount"])
        else:
            ProjectFigure.objects.create(project=project, measure=code, planned_amount=amount)


@transaction.atomic
def register_project(
    *,
    user: Any,
    kind: str,
    type_code: str,
    name: str,
    division: Division,
    planned_start: dt.date,
    planned_completion: dt.date,
    planned: Mapping[str, Any],
    entity: Entity | None = None,
    owner_name: str = "",
    industry: Industry | None = None,
    registry_code: str = "",
    description: str = "",
    milestones: Iterable[tuple[str, dt.date]] = (),
    is_synthetic: bool = False,
) -> Project:
    """Register a project (province staff anywhere; a city officer in its region)."""
    if user is not None and not allows(user, "projects.manage"):
        raise PermissionDenied
    values: dict[str, Any] = dict(
        kind=kind,
        type_code=type_code,
        name=(name or "").strip(),
        registry_code=(registry_code or "").strip(),
        entity=entity,
        owner_name=(owner_name or "").strip(),
        division=division,
        industry=industry if industry is not None else (entity.industry if entity else None),
        description=(description or "").strip(),
        planned_start=planned_start,
        planned_completion=planned_completion,
    )
    figures = _validate(values, planned, user)
    steps = [(n.strip(), d) for n, d in milestones if (n or "").strip() and d]
    project = Project.objects.create(created_by=_actor(user), is_synthetic=is_synthetic, **values)
    _set_planned(project, figures)
    for step_name, due in steps:
        Milestone.objects.create(project=project, name=step_name[:120], due_date=due)
    after = _state(project)
    after["milestones"] = [[n, d.isoformat()] for n, d in steps]
    record(actor=user, action="projects.project.register", obj=project, after=after)
    return project


@transaction.atomic
def update_project(
    *, user: Any, project: Project, planned: Mapping[str, Any] | None = None, **changes: Any
) -> Project:
    """Change a project's description, schedule or planned figures (managers in scope)."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not project_access.can_manage(user, project):
        raise PermissionDenied
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if project.status == Status.VERIFIED:
        moved = [
            k for k in FIXED_WHEN_VERIFIED if k in changes and changes[k] != getattr(project, k)
        ]
        if moved:
            raise ValidationError(
                {k: _("已认可的项目不能修改类别、类型、地区或项目单位") for k in moved}
            )
    before = _state(project)
    values = {k: getattr(project, k) for k in EDITABLE}
    values.update(changes)
    for key in ("name", "registry_code", "owner_name", "description"):
        values[key] = (values[key] or "").strip()
    if planned is None:
        planned = {f.measure: f.planned_amount for f in project.figures.all()}
    figures = _validate(values, planned, user)
    for key, value in values.items():
        setattr(project, key, value)
    project.save()
    _set_planned(project, figures)
    after = _state(project)
    if after != before:
        record(
            actor=user, action="projects.project.update", obj=project, before=before, after=after
        )
    return project


# --------------------------------------------------------------------------------------------
# Schedule and progress
# --------------------------------------------------------------------------------------------


def _today(now: dt.datetime | None) -> dt.date:
    return timezone.localdate(now) if now else timezone.localdate()


def _progress(project: Project, user: Any, action: str, change: Any, note: str = "") -> Project:
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project_access.can_report(user, project):
            raise PermissionDenied
        before = _state(project)
        change(project)
        project.save()
        record(
            actor=user,
            action=action,
            obj=project,
            before=before,
            after=_state(project),
            note=note,
        )
    return project


def add_milestone(*, user: Any, project: Project, name: str, due_date: dt.date) -> Milestone:
    """Add a step to the schedule (managers in scope)."""
    if not project_access.can_manage(user, project):
        raise PermissionDenied
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("请填写节点名称")
    if due_date is None:
        errors["due_date"] = _("请填写计划日期")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        milestone = Milestone.objects.create(project=project, name=name[:120], due_date=due_date)
        record(
            actor=user,
            action="projects.milestone.add",
            obj=project,
            after=snapshot(milestone),
        )
    return milestone


def complete_milestone(
    *, user: Any, milestone: Milestone, done_on: dt.date, now: dt.datetime | None = None
) -> Milestone:
    """Report a step of the schedule done (the unit or managers)."""
    project = milestone.project
    if not project_access.can_report(user, project):
        raise PermissionDenied
    if done_on is None or done_on > _today(now):
        raise ValidationError({"done_on": _("完成日期不能晚于今天")})
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if milestone.done_on is not None:
            raise ValidationError(_("该节点已完成"))
        before = snapshot(milestone)
        milestone.done_on = done_on
        milestone.save(update_fields=["done_on"])
        record(
            actor=user,
            action="projects.milestone.done",
            obj=project,
            before=before,
            after=snapshot(milestone),
        )
    return milestone


def start_construction(
    *, user: Any, project: Project, started_on: dt.date, now: dt.datetime | None = None
) -> Project:
    """开工: a planned project is under construction from ``started_on``."""

    def change(p: Project) -> None:
        if p.status != Status.PLANNED:
            raise ValidationError(
                _("状态为「%(s)s」的项目不能开工") % {"s": p.get_status_display()}
            )
        if started_on is None or started_on > _today(now):
            raise ValidationError({"started_on": _("开工日期不能晚于今天")})
        p.status, p.actual_start = Status.CONSTRUCTION, started_on

    return _progress(project, user, "projects.project.start", change)


def complete_project(
    *, user: Any, project: Project, completed_on: dt.date, now: dt.datetime | None = None
) -> Project:
    """完工（验收）: the project waits for verification (已完成，待核查)."""

    def change(p: Project) -> None:
        if p.status not in UNFINISHED:
            raise ValidationError(
                _("状态为「%(s)s」的项目不能报完工") % {"s": p.get_status_display()}
            )
        if completed_on is None or completed_on > _today(now):
            raise ValidationError({"completed_on": _("完成日期不能晚于今天")})
        if p.actual_start and completed_on < p.actual_start:
            raise ValidationError({"completed_on": _("完成日期早于开工日期")})
        p.status, p.actual_completion = Status.COMPLETED, completed_on
        p.actual_start = p.actual_start or completed_on

    return _progress(project, user, "projects.project.complete", change)


# --------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------

EVIDENCE_FIELDS = [
    "project",
    "kind",
    "document",
    "document_name",
    "size_bytes",
    "sha256",
    "note",
    "uploaded_by",
    "uploaded_at",
]


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def upload_evidence(
    *,
    user: Any,
    project: Project,
    kind: str,
    document: UploadedFile,
    note: str = "",
    now: dt.datetime | None = None,
    is_synthetic: bool = False,
) -> Evidence:
    """File a document for a project (checked by :func:`dualcontrol.uploads.refusal`)."""
    if not project_access.can_report(user, project):
        raise PermissionDenied
    rules = project_rules()
    errors: dict[str, str] = {}
    if kind not in rules.evidence:
        errors["kind"] = _("材料类型无效")
    problem = refusal(
        document, extensions=rules.document_extensions, max_bytes=rules.document_max_bytes
    )
    if problem:
        errors["document"] = problem
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        evidence = Evidence(
            project=project,
            kind=kind,
            document_name=PurePath(document.name or "document").name[:255],
            size_bytes=document.size or 0,
            sha256=_sha256(document),
            note=(note or "").strip()[:255],
            uploaded_by=_actor(user),
            uploaded_at=now or timezone.now(),
            is_synthetic=is_synthetic,
        )
        evidence.document.save(document.name or "document", document, save=False)
        evidence.save()
        record(
            actor=user,
            action="projects.evidence.upload",
            obj=project,
            after=snapshot(evidence, EVIDENCE_FIELDS),
        )
    return evidence


def missing_evidence(project: Project, rules: ProjectRules | None = None) -> list[str]:
    """Evidence kinds the project's type requires that are not on file (in the type's order)."""
    rules = rules or project_rules()
    ptype = rules.types.get(project.type_code)
    if ptype is None:
        return []
    on_file = set(project.evidence.values_list("kind", flat=True))
    return [k for k in ptype.evidence if k not in on_file]


# --------------------------------------------------------------------------------------------
# Verification (核查认定), rejection (不予认可), re-submission
# --------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What :func:`sync_statistics` wrote: rows per region and the regions it could not write."""

    year: int
    written: int = 0
    columns: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    totals: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> column -> t


@dataclass
class VerificationOutcome:
    verification: Verification
    sync: SyncResult | None = None
    sync_error: str = ""


def _verification_state(v: Verification) -> dict[str, Any]:
    return snapshot(v)


def _decide(
    project: Project,
    *,
    user: Any,
    decision: str,
    when: dt.datetime,
    rules: ProjectRules,
    accounting_year: int | None = None,
    figures: Mapping[str, Decimal] | None = None,
    reason: str = "",
    note: str = "",
    missing: list[str] | None = None,
) -> Verification:
    evidence_ids = list(project.evidence.order_by("pk").values_list("pk", flat=True))
    verification = Verification.objects.create(
        project=project,
        decision=decision,
        automatic=bool(missing),
        decided_by=_actor(user),
        decided_by_name=getattr(user, "username", "") or "system",
        decided_at=when,
        accounting_year=accounting_year,
        figures={k: str(v) for k, v in (figures or {}).items()},
        reason=reason,
        missing_evidence=missing or [],
        evidence_ids=evidence_ids,
        note=note,
        rules_version=rules.version[:128],
    )
    before = _state(project)
    counted = project.status == Status.VERIFIED
    if decision == Decision.VERIFIED:
        assert figures is not None and accounting_year is not None
        project.status = Status.VERIFIED
        project.accounting_year = accounting_year
        project.rejection_reason = ""
        existing = {f.measure: f for f in project.figures.all()}
        for code, f in existing.items():
            f.verified_amount = figures.get(code, Decimal(0))
            f.save(update_fields=["verified_amount"])
        for code, amount in figures.items():
            if code not in existing:
                ProjectFigure.objects.create(
                    project=project, measure=code, planned_amount=0, verified_amount=amount
                )
        action = "projects.project.verify"
    else:
        project.status = Status.REJECTED
        project.accounting_year = None
        project.rejection_reason = reason
        project.figures.update(verified_amount=None)
        action = "projects.project.reject"
    project.save()
    record(
        actor=user,
        action=action,
        obj=project,
        before=before,
        after={**_state(project), "verification": _verification_state(verification)},
        note=("automatic: " if missing else "")
        + (reason or note)
        + (" (was counted)" if counted and decision == Decision.REJECTED else ""),
    )
    return verification


def _sync_after(year: int | None, user: Any) -> tuple[SyncResult | None, str]:
    """Write the year's verified totals to the statistics; a failure leaves the decision standing
    (the sync can be run again: ``dualcontrol projects sync-statistics --year Y``)."""
    if year is None:
        return None, ""
    from dualcontrol.targets.errors import StatisticsRejected

    try:
        with transaction.atomic():
            return sync_statistics(year=year, user=user), ""
    except StatisticsRejected as exc:
        log.warning("projects: statistics sync for %s refused: %s", year, exc)
        return None, str(exc)


def verify_project(
    *,
    user: Any,
    project: Project,
    figures: Mapping[str, Any],
    accounting_year: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    sync: bool = True,
) -> VerificationOutcome:
    """核查认定 of a completed project with the verified figures per measure.

    The evidence rule first: when a document kind the project's type requires is missing, the
    project is recorded as 不予认可 with the missing documents as the reason (and counted nowhere).
    Otherwise it is 已认可 for ``accounting_year`` (default: its completion year; never earlier,
    never after this year) and the year's totals are written to the regional statistics.
    """
    rules = project_rules()
    when = now or timezone.now()
    with transaction.atomic():
        project = Project.objects.select_for_update().select_related("division").get(pk=project.pk)
        if not project_access.can_verify(user, project):
            raise PermissionDenied
        if project.status != Status.COMPLETED:
            raise WrongState(
                _("只能核查已完成（待核查）的项目；当前状态：%(s)s")
                % {"s": project.get_status_display()}
            )
        ptype = rules.types.get(project.type_code)
        allowed = ptype.measures if ptype else ()
        amounts, errors = _figures(figures, allowed, "verified", rules)
        if not amounts and not errors:
            errors["verified"] = _("请填写核定的减排量或节能量")
        completed = project.actual_completion or _today(when)
        year = accounting_year or completed.year
        if year < completed.year:
            errors["accounting_year"] = _("核算年度不能早于项目完成年度（%(y)s）") % {
                "y": completed.year
            }
        elif year > _today(when).year:
            errors["accounting_year"] = _("核算年度不能晚于今年")
        if errors:
            raise ValidationError(errors)
        missing = missing_evidence(project, rules)
        if missing:
            names = "、".join(rules.evidence[k].label for k in missing)
            reason = _(
                "缺少必需的证明材料：%(names)s（项目类型“%(type)s”的要求，依据：%(src)s）"
            ) % {
                "names": names,
                "type": rules.type_label(project.type_code),
                "src": ptype.evidence_source if ptype else "",
            }
            verification = _decide(
                project,
                user=user,
                decision=Decision.REJECTED,
                when=when,
                rules=rules,
                figures=amounts,
                reason=reason,
                note=note,
                missing=missing,
            )
            return VerificationOutcome(verification)
        verification = _decide(
            project,
            user=user,
            decision=Decision.VERIFIED,
            when=when,
            rules=rules,
            accounting_year=year,
            figures=amounts,
            note=(note or "").strip(),
        )
    result, error = _sync_after(year, user) if sync else (None, "")
    return VerificationOutcome(verification, result, error)


def reject_project(
    *,
    user: Any,
    project: Project,
    reason: str,
    now: dt.datetime | None = None,
    sync: bool = True,
) -> VerificationOutcome:
    """不予认可 with a reason (e.g. “应急管理减排、超标治理项目不纳入核算范围”).  A project that was
    已认可 loses its figures everywhere (its year's statistics are written again)."""
    reason = (reason or "").strip()
    rules = project_rules()
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project_access.can_verify(user, project):
            raise PermissionDenied
        if not reason:
            raise ValidationError({"reason": _("请填写不予认可的理由")})
        if project.status not in (Status.COMPLETED, Status.VERIFIED):
            raise WrongState(
                _("只能对已完成或已认可的项目作出不予认可；当前状态：%(s)s")
                % {"s": project.get_status_display()}
            )
        was_year = project.accounting_year if project.status == Status.VERIFIED else None
        verification = _decide(
            project,
            user=user,
            decision=Decision.REJECTED,
            when=now or timezone.now(),
            rules=rules,
            reason=reason,
        )
    result, error = _sync_after(was_year, user) if sync else (None, "")
    return VerificationOutcome(verification, result, error)


def resubmit_project(*, user: Any, project: Project, note: str = "") -> Project:
    """A 不予认可 project goes back to 待核查 — only with evidence filed after the last decision."""

    def change(p: Project) -> None:
        if p.status != Status.REJECTED:
            raise ValidationError(_("只有不予认可的项目可以重新提交"))
        last = p.verifications.order_by("-decided_at", "-pk").first()
        newer = p.evidence.all()
        if last is not None:
            newer = newer.exclude(pk__in=last.evidence_ids or [])
        if not newer.exists():
            raise ValidationError(_("请先上传补充的证明材料，再重新提交核查"))
        p.status = Status.COMPLETED
        p.rejection_reason = ""

    return _progress(project, user, "projects.project.resubmit", change, note=(note or "").strip())


# --------------------------------------------------------------------------------------------
# The targets loop: verified reductions → regional statistics (annual rows)
# --------------------------------------------------------------------------------------------

LEDGER_SOURCE = "重点工程减排量：平台减排项目台账（已认可项目）"


def verified_totals(year: int) -> dict[int, dict[str, Decimal]]:
    """Σ verified figures of the year's 已认可 projects per division (each project counted in its
    division and every division above it) and statistics column."""
    rules = project_rules()
    columns = {m.code: m.statistics_column for m in rules.pollutant_measures}
    rows = ProjectFigure.objects.filter(
        project__status=Status.VERIFIED,
        project__accounting_year=year,
        measure__in=list(columns),
        verified_amount__gt=0,
    ).values_list("project__division_id", "measure", "verified_amount")
    parents: dict[int, int | None] = {}

    def chain(division_id: int) -> list[int]:
        out = []
        current: int | None = division_id
        while current is not None:
            out.append(current)
            if current not in parents:
                parents[current] = (
                    Division.objects.filter(pk=current).values_list("parent_id", flat=True).first()
                )
            current = parents[current]
        return out

    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for division_id, measure, amount in rows:
        column = columns[measure]
        assert column is not None
        for d in chain(division_id):
            totals[d][column] += amount
    return {k: dict(v) for k, v in totals.items()}


def _source(existing: str) -> str:
    if LEDGER_SOURCE in existing:
        return existing[:255]
    joined = f"{existing}；{LEDGER_SOURCE}" if existing else LEDGER_SOURCE
    if len(joined) > 255:
        joined = f"{existing[: 255 - len(LEDGER_SOURCE) - 2]}…；{LEDGER_SOURCE}"
    return joined


def sync_statistics(*, year: int, user: Any = None) -> SyncResult:
    """Write each region's (and the province's) verified key-project reductions of ``year`` into
    the annual statistics columns (``cod_project_reduction_t`` …) through
    :func:`dualcontrol.targets.services.import_statistics` — validated and audited like any import.

    Written: every division with a verified project in or below it, and every division whose annual
    row already has one of the columns (so a withdrawn figure goes back to 0).  A division without
    an annual row for the year is skipped and reported: a new annual row needs energy and GDP,
    which the ledger does not have.
    """
    from dualcontrol.targets.models import RegionalStatistic
    from dualcontrol.targets.services import import_statistics

    rules = project_rules()
    columns = [m.statistics_column for m in rules.pollutant_measures if m.statistics_column]
    result = SyncResult(year=year, columns=columns)
    totals = verified_totals(year)
    annual = RegionalStatistic.objects.filter(
        year=year, month__isnull=True, quarter__isnull=True, industry__isnull=True
    ).select_related("division")
    has_column = Q()
    for c in columns:
        has_column |= Q(factors__has_key=c)
    rows = {s.division_id: s for s in annual}
    wanted = set(totals) | set(annual.filter(has_column).values_list("division_id", flat=True))
    groups: dict[bool, list[list[str]]] = defaultdict(list)
    for division_id in sorted(wanted, key=lambda pk: rows[pk].division.code if pk in rows else ""):
        values = totals.get(division_id, {})
        stat = rows.get(division_id)
        if stat is None:
            division = Division.objects.get(pk=division_id)
            result.skipped.append((division.code, division.name))
            continue
        figures = [values.get(c, Decimal(0)).quantize(PLACES) for c in columns]
        groups[stat.is_synthetic].append(
            [stat.division.code, str(year), _source(stat.source), *[str(v) for v in figures]]
        )
        result.totals[stat.division.code] = {
            c: str(v) for c, v in zip(columns, figures, strict=True)
        }
    with transaction.atomic():
        for synthetic, lines in groups.items():
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["region", "year", "source", *columns])
            writer.writerows(lines)
            result.written += import_statistics(
                data=out.getvalue().encode("utf-8"),
                user=user,
                filename=f"projects-ledger-{year}.csv",
                is_synthetic=synthetic,
                system=True,
            )
        record(
            actor=user,
            action="projects.statistics.sync",
            object_type="targets.regionalstatistic",
            object_repr=f"key-project reductions {year}",
            after={
                "year": year,
                "written": result.written,
                "columns": columns,
                "skipped": [code for code, _name in result.skipped],
                "rules": rules.version,
            },
        )
    return result


# --------------------------------------------------------------------------------------------
# 建设滞后 alerts
# --------------------------------------------------------------------------------------------


@dataclass
class AlertSummary:
    today: dt.date
    late: int = 0
    alerts: int = 0
    projects: list[int] = field(default_factory=list)


def responsible_users(project: Project) -> list[User]:
    """Who is told a project is late: city officers of its region (and above it), the project
    unit's reporters; province staff when no city officer covers the region."""
    codes = [c for c in project.division.path.strip("/").split("/") if c]
    active = User.objects.filter(is_active=True)
    city = list(active.filter(role=Role.CITY_OFFICER, division__code__in=codes).order_by("pk"))
    unit = (
        list(active.filter(role=Role.ENTERPRISE, entity_id=project.entity_id).order_by("pk"))
        if project.entity_id
        else []
    )
    province: list[User] = []
    if not city:
        province = list(
            active.filter(role__in=[Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER]).order_by("pk")
        )
    return city + unit + province


def warn_late_projects(*, today: dt.date, user: Any = None) -> AlertSummary:
    """Alert the responsible officers of each late project (建设滞后), once per passed date."""
    summary = AlertSummary(today=today)
    late = (
        queries.with_late(Project.objects.select_related("division", "entity"), today)
        .filter(is_late=True)
        .prefetch_related("milestones")
        .order_by("pk")
    )
    with transaction.atomic():
        for project in late:
            why = queries.lateness(project, today)
            if why is None:
                continue
            summary.late += 1
            summary.projects.append(project.pk)
            key = f"late:{why.due.isoformat()}"
            subject = f"【建设滞后】{project.division.name} {project.name}"
            body = "\n".join(
                [
                    f"项目：{project.name}（{project_rules().type_label(project.type_code)}）",
                    f"地区：{project.division.name}（{project.division.code}）",
                    f"项目单位：{project.owner_label or '—'}",
                    f"滞后事项：{why.what}，计划日期 {why.due.isoformat()}，已滞后 {why.days} 天",
                    f"计划完成日期：{project.planned_completion.isoformat()}",
                    f"查看：/projects/{project.pk}/",
                ]
            )
            for recipient in responsible_users(project):
                _alert, created = ProjectAlert.objects.get_or_create(
                    recipient=recipient,
                    project=project,
                    key=key,
                    defaults={"subject": subject[:255], "body": body},
                )
                summary.alerts += int(created)
        record(
            actor=user,
            action="projects.alerts.late",
            object_type="projects.project",
            object_repr=f"late projects {today.isoformat()}",
            after={"today": today.isoformat(), "late": summary.late, "alerts": summary.alerts},
        )
    return summary


def mark_alert_read(*, alert: ProjectAlert, user: Any) -> ProjectAlert:
    if alert.recipient_id != getattr(user, "pk", None):
        raise PermissionDenied
    if alert.read_at is None:
        with transaction.atomic():
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
            record(
                actor=user,
                action="projects.alert.read",
                obj=alert,
                after={"read_at": alert.read_at.isoformat()},
            )
    return alert
