"""Use cases of the annual assessment: the only code that writes the assessment tables.

Workflow of a record: 自评中 (the assessed government fills its self-assessment and uploads
evidence per measure item) → 待评审 (submitted) → 已评分 (the reviewers scored every measure row;
the target part is computed from the accounted figures, the engine grades and applies the
veto) → 已审定 (the province signs off: the result is frozen and the consequences are issued
from the sheet's rules, due dates counted from the announcement date).  Re-opening a signed-off
record (reason required) sends it back to 待评审, withdraws the consequences it issued that are
still open, and is recorded.  Every function takes keyword arguments, checks access through
:mod:`dualcontrol.access.assessment`, writes in one transaction and records an audit entry.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import assessment as access
from dualcontrol.assessment.models import (
    OPEN_STATUSES,
    AssessmentRecord,
    AssessmentRound,
    Consequence,
    ConsequenceStatus,
    CreditRecord,
    Evidence,
    MeasureScore,
    RecordEvent,
    RecordStatus,
    RoundStatus,
    ScoringSheet,
    SubjectKind,
)
from dualcontrol.assessment.sources import SourceError, figures_from_json, target_part
from dualcontrol.audit.services import record as audit
from dualcontrol.audit.services import snapshot
from dualcontrol.core.assessment import (
    AssessmentError,
    AssessmentInput,
    AssessmentResult,
    assess,
    consequences_for,
)
from dualcontrol.entities.models import Entity
from dualcontrol.reference import load_yaml
from dualcontrol.reference.scoring_sheets import parse_sheet, sheet_files
from dualcontrol.regions.models import Department, Division
from dualcontrol.targets.models import Indicator, PeriodKind, Target
from dualcontrol.uploads import refusal

#: rule keys (``consequences`` of the sheets) that suspend approvals (区域限批 / 企业限批)
RESTRICTING_RULES = {
    "high_energy_project_approval_suspended",
    "high_energy_projects_deferred",
    "pollutant_project_approval_suspended",  # 区域限批 of the pollutant sheets (环评审批)
}
#: rule keys that order a mandatory energy audit (强制能源审计)
AUDIT_RULES = {"mandatory_energy_audit"}
#: rule keys written to the unit's credit record when issued
CREDIT_RULES = {"credit_record"}
INTERVIEW = "interview"
EVIDENCE_EXTENSIONS = ("pdf", "ofd", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "zip")
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024


class NotAllowed(Exception):
    """The user may not do this here."""


class Rejected(Exception):
    """Input refused; ``problems`` maps a field (or row key) to the reason."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


class WorkflowError(Exception):
    """The action does not fit the record's state."""


def _actor_name(user: Any) -> str:
    return getattr(user, "username", "") or "system"


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _event(record: AssessmentRecord, action: str, user: Any, note: str = "", **data: Any) -> None:
    RecordEvent.objects.create(
        record=record,
        action=action,
        actor=_user(user),
        actor_name=_actor_name(user),
        note=note,
        data=json.loads(json.dumps(data, default=str)),
    )


def _dec(value: Any, where: str, maximum: Decimal) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Rejected({where: _("“%(v)s”不是数字") % {"v": value}}) from None
    if not d.is_finite() or d < 0 or d > maximum:
        raise Rejected({where: _("得分须在 0 与 %(max)s 之间") % {"max": _plain(maximum)}})
    if d != d.quantize(Decimal("0.01")):
        raise Rejected({where: _("得分最多保留两位小数")})
    return d


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------------------------------------
# Scoring sheets


def sync_sheets(*, user: Any = None) -> int:
    """Seed or refresh the built-in sheets from ``reference/data/scoring_*.yaml``.

    A sheet edited in the admin (no longer built-in) is left alone."""
    changed = 0
    with transaction.atomic():
        for fname in sheet_files():
            version, core, definition = _preset(fname)
            existing = ScoringSheet.objects.filter(name=core.name).first()
            if existing is not None and (existing.version == version or not existing.is_builtin):
                continue
            before = snapshot(existing, ["version"]) if existing else None
            sheet = existing or ScoringSheet(name=core.name)
            sheet.title_zh = core.title_zh
            sheet.subject = core.subject
            sheet.source = core.source
            sheet.definition = copy.deepcopy(definition)
            sheet.version = version
            sheet.is_builtin = True
            sheet.save()
            audit(
                actor=user,
                action="scoring_sheet.sync",
                obj=sheet,
                before=before,
                after=snapshot(sheet, ["name", "version"]),
            )
            changed += 1
    return changed


@cache
def _preset(fname: str) -> tuple[str, Any, dict[str, Any]]:
    """(version, validated core sheet, JSON definition) of a shipped sheet file (read once)."""
    version, data = load_yaml(fname)
    core = parse_sheet(data, version=version, where=fname)
    return version, core, json.loads(json.dumps(data, default=str))


def active_sheets(subject: str | None = None) -> QuerySet[ScoringSheet]:
    if not ScoringSheet.objects.exists():
        sync_sheets()
    qs = ScoringSheet.objects.filter(active=True)
    return qs.filter(subject=subject) if subject else qs


# ---------------------------------------------------------------------------------------------
# Rounds


def default_subjects(
    *, assessor: Division, subject_kind: str, year: int
) -> list[Division] | list[Entity]:
    """Regions directly below the assessor; or the units within it that have an annual
    energy-saving target for the year."""
    if subject_kind == SubjectKind.REGION:
        return list(Division.objects.filter(parent=assessor).order_by("code"))
    ids = Target.objects.filter(
        indicator=Indicator.ENERGY_SAVING,
        period_kind=PeriodKind.YEAR,
        end_year=year,
        entity__division__path__startswith=assessor.path,
    ).values("entity_id")
    return list(Entity.objects.filter(pk__in=ids).order_by("division__code", "name"))


def _measure_rows(sheet: Any) -> list[dict[str, Any]]:
    rows = []
    for part in sheet.parts:
        if not part.qualitative:
            continue
        if part.measures:
            for m in part.measures:
                rows.append(
                    dict(
                        part_key=part.key,
                        key=m.key,
                        is_part_total=False,
                        title_zh=m.title_zh,
                        max_points=m.max_points,
                    )
                )
        else:
            rows.append(
                dict(
                    part_key=part.key,
                    key=part.key,
                    is_part_total=True,
                    title_zh=part.title_zh,
                    max_points=part.max_points,
                )
            )
    return rows


def create_round(
    *,
    user: Any,
    year: int,
    sheet: ScoringSheet,
    assessor: Division | None = None,
    subjects: Iterable[Division] | Iterable[Entity] | None = None,
    title: str = "",
    department: Department | None = None,
    note: str = "",
    is_synthetic: bool = False,
    system: bool = False,
) -> AssessmentRound:
    """Open a year's assessment: one record per subject with its measure rows, the target part
    computed at once (a record whose figures are missing says why)."""
    if assessor is None:
        assessor = access.default_assessor(user)
    if assessor is None:
        raise Rejected({"assessor": _("没有考核方（省级区划未建立）")})
    if not system and not access.can_open_round(user, assessor):
        raise NotAllowed(_("只有负责考核的省级部门或本级政府人员可以组织考核"))
    problems: dict[str, str] = {}
    if not 2000 <= int(year) <= 2100:
        problems["year"] = _("年度不正确")
    try:
        core = sheet.to_core()
    except Exception as exc:  # a malformed admin sheet
        raise Rejected({"sheet": str(exc)}) from exc
    from dualcontrol.assessment.sources import unsupported_items

    bad = unsupported_items(core)
    if bad:
        problems["sheet"] = _("计分表的目标项 %(items)s 没有可自动核算的数据来源") % {
            "items": "、".join(bad)
        }
    if not sheet.active:
        problems["sheet"] = _("计分表未启用")
    kind = core.subject
    if AssessmentRound.objects.filter(
        year=year, assessor=assessor, subject_kind=kind, sheet_name=sheet.name
    ).exists():
        problems["year"] = _("该年度已用此计分表组织过考核")
    subject_list = list(
        subjects
        if subjects is not None
        else default_subjects(assessor=assessor, subject_kind=kind, year=year)
    )
    if not subject_list:
        problems["subjects"] = _("没有被考核对象")
    for s in subject_list:
        div = s if isinstance(s, Division) else s.division
        if isinstance(s, Division) != (kind == SubjectKind.REGION):
            problems["subjects"] = _("被考核对象与计分表的考核对象类型不一致")
        elif not div.path.startswith(assessor.path) or (
            isinstance(s, Division) and s.pk == assessor.pk
        ):
            problems["subjects"] = _("%(name)s 不在考核方的辖区内") % {"name": str(s)}
    if problems:
        raise Rejected(problems)
    rows = _measure_rows(core)
    with transaction.atomic():
        rnd = AssessmentRound.objects.create(
            year=year,
            title=title or _default_title(year, assessor, kind, core),
            subject_kind=kind,
            assessor=assessor,
            department=department,
            sheet=sheet,
            sheet_name=sheet.name,
            sheet_version=sheet.version,
            sheet_definition=sheet.definition,
            note=note,
            is_synthetic=is_synthetic,
            created_by=_user(user),
        )
        for s in subject_list:
            rec = AssessmentRecord.objects.create(
                round=rnd,
                division=s if isinstance(s, Division) else None,
                entity=s if isinstance(s, Entity) else None,
                is_synthetic=is_synthetic,
            )
            MeasureScore.objects.bulk_create(
                MeasureScore(record=rec, order=i, **r) for i, r in enumerate(rows)
            )
            _compute_target(rec, core)
            rec.save()
            _event(rec, "create", user, data={"sheet": sheet.name, "version": sheet.version})
        audit(
            actor=user,
            action="assessment.round.create",
            obj=rnd,
            after={
                **snapshot(rnd, ["year", "sheet_name", "sheet_version"]),
                "records": len(subject_list),
            },
        )
    return rnd


def _default_title(year: int, assessor: Division, kind: str, core: Any) -> str:
    from dualcontrol.assessment.sources import is_carbon_sheet, is_pollutant_sheet

    if kind != SubjectKind.REGION:
        what = "重点用能单位节能目标责任评价考核"
    elif is_pollutant_sheet(core):
        what = "主要污染物总量减排目标责任评价考核"
    elif is_carbon_sheet(core):
        what = "二氧化碳排放降低目标责任评价考核"
    else:
        what = "节能目标责任评价考核"
    return f"{year}年度{assessor.name}{what}"


def _compute_target(rec: AssessmentRecord, core: Any) -> bool:
    """Fill ``target_figures`` (or ``target_error``) from the accounted figures; True when OK."""
    try:
        figures = target_part(
            core,
            year=rec.round.year,
            division=rec.division,
            entity=rec.entity,
            certified_saving_tce=rec.certified_saving_tce,
            certified_source=rec.certified_source,
        )
    except SourceError as exc:
        rec.target_figures = {}
        rec.target_error = str(exc)
        rec.target_computed_at = timezone.now()
        return False
    rec.target_figures = {k: v.as_json() for k, v in figures.items()}
    rec.target_error = ""
    rec.target_computed_at = timezone.now()
    return True


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise NotAllowed(message)


def _not_frozen(rec: AssessmentRecord) -> None:
    if rec.is_frozen:
        raise WorkflowError(_("考核结果已审定，需先重新打开"))


def refresh_target_part(*, record: AssessmentRecord, user: Any, system: bool = False) -> bool:
    """Recompute the target part from the current accounted figures (before sign-off)."""
    _require(system or access.can_assess(user, record), _("无权计算该考核记录"))
    _not_frozen(record)
    with transaction.atomic():
        rec = AssessmentRecord.objects.select_for_update().get(pk=record.pk)
        before = {"figures": rec.target_figures, "error": rec.target_error}
        ok = _compute_target(rec, rec.round.core_sheet())
        if rec.status == RecordStatus.SCORED:
            _score(rec, rec.round.core_sheet())
        rec.save()
        _event(rec, "compute_target", user, note=rec.target_error)
        audit(
            actor=user,
            action="assessment.record.compute_target",
            obj=rec,
            before=before,
            after={"figures": rec.target_figures, "error": rec.target_error},
        )
    record.refresh_from_db()
    return ok


def certify_saving(
    *, record: AssessmentRecord, user: Any, saving_tce: Any, source: str, system: bool = False
) -> AssessmentRecord:
    """核定节能量 of a unit for the round's year (the assessor or the unit's verifier)."""
    _require(system or access.can_certify(user, record), _("无权录入该单位的核定节能量"))
    _not_frozen(record)
    try:
        value = Decimal(str(saving_tce).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Rejected({"saving_tce": _("核定节能量须为数字（吨标准煤）")}) from None
    if not source.strip():
        raise Rejected({"source": _("请注明核定依据（如核查报告编号）")})
    with transaction.atomic():
        rec = AssessmentRecord.objects.select_for_update().get(pk=record.pk)
        before = snapshot(rec, ["certified_saving_tce", "certified_source"])
        rec.certified_saving_tce = value
        rec.certified_source = source.strip()[:255]
        _compute_target(rec, rec.round.core_sheet())
        if rec.status == RecordStatus.SCORED:
            _score(rec, rec.round.core_sheet())
        rec.save()
        _event(rec, "certify", user, data={"saving_tce": value, "source": rec.certified_source})
        audit(
            actor=user,
            action="assessment.record.certify",
            obj=rec,
            before=before,
            after=snapshot(rec, ["certified_saving_tce", "certified_source"]),
        )
    return rec


# ---------------------------------------------------------------------------------------------
# Self-assessment


def save_self_assessment(
    *,
    record: AssessmentRecord,
    user: Any,
    scores: Mapping[str, tuple[Any, str]],
    system: bool = False,
) -> AssessmentRecord:
    """自评: a score (optional) and an explanation per measure row."""
    _require(system or access.can_self_assess(user, record), _("只能填写本地区（本单位）的自评"))
    if record.status != RecordStatus.SELF_ASSESSMENT:
        raise WorkflowError(_("自评已提交，不能再修改"))
    rows = {m.key: m for m in record.measures.all()}
    problems: dict[str, str] = {}
    updates = []
    for key, (score, note) in scores.items():
        m = rows.get(key)
        if m is None:
            problems[key] = _("没有此考核项目")
            continue
        text = (str(score) if score is not None else "").strip()
        try:
            m.self_score = _dec(text, key, m.max_points) if text else None
        except Rejected as exc:
            problems.update(exc.problems)
            continue
        m.self_note = (note or "").strip()[:5000]
        updates.append(m)
    if problems:
        raise Rejected(problems)
    with transaction.atomic():
        MeasureScore.objects.bulk_update(updates, ["self_score", "self_note"])
        _event(record, "self_assess", user, data={m.key: m.self_score for m in updates})
        audit(
            actor=user,
            action="assessment.record.self_assess",
            obj=record,
            after={m.key: {"score": m.self_score, "note": m.self_note[:200]} for m in updates},
        )
    return record


def validate_evidence(upload: UploadedFile) -> str | None:
    """A reason to refuse an evidence file (extension, size, leading bytes), or None."""
    return refusal(upload, extensions=EVIDENCE_EXTENSIONS, max_bytes=EVIDENCE_MAX_BYTES)


def add_evidence(
    *,
    record: AssessmentRecord,
    user: Any,
    item_key: str,
    upload: UploadedFile,
    description: str = "",
    system: bool = False,
) -> Evidence:
    """佐证材料 for one measure row (while the self-assessment is open)."""
    _require(
        system or access.can_self_assess(user, record), _("只能为本地区（本单位）上传佐证材料")
    )
    if record.status != RecordStatus.SELF_ASSESSMENT:
        raise WorkflowError(_("自评已提交，不能再上传佐证材料"))
    if not record.measures.filter(key=item_key).exists():
        raise Rejected({"item_key": _("没有此考核项目")})
    reason = validate_evidence(upload)
    if reason:
        raise Rejected({"file": reason})
    ev = Evidence(
        record=record,
        item_key=item_key,
        name=PurePath(upload.name or "").name[:255],
        size=upload.size or 0,
        description=description.strip()[:255],
        uploaded_by=_user(user),
    )
    with transaction.atomic():
        ev.file.save(ev.name, upload, save=False)
        ev.save()
        _event(record, "evidence", user, data={"item": item_key, "file": ev.name})
        audit(
            actor=user,
            action="assessment.evidence.add",
            obj=ev,
            after={"record": record.pk, "item": item_key, "file": ev.file.name, "size": ev.size},
        )
    return ev


def submit_self_assessment(
    *, record: AssessmentRecord, user: Any, system: bool = False
) -> AssessmentRecord:
    """Submit the self-assessment for review (every row needs a self-score)."""
    _require(system or access.can_self_assess(user, record), _("只能提交本地区（本单位）的自评"))
    if record.status != RecordStatus.SELF_ASSESSMENT:
        raise WorkflowError(_("自评已提交"))
    missing = [m.title_zh for m in record.measures.all() if m.self_score is None]
    if missing:
        raise Rejected(
            {"self_score": _("以下项目尚未自评：%(items)s") % {"items": "、".join(missing)}}
        )
    with transaction.atomic():
        record.status = RecordStatus.SUBMITTED
        record.submitted_at = timezone.now()
        record.save(update_fields=["status", "submitted_at"])
        _event(record, "submit", user)
        audit(actor=user, action="assessment.record.submit", obj=record)
    return record


# ---------------------------------------------------------------------------------------------
# Review, result, sign-off


def _core_input(rec: AssessmentRecord) -> AssessmentInput:
    item_scores: dict[str, Decimal] = {}
    part_scores: dict[str, Decimal] = {}
    for m in rec.measures.all():
        if m.reviewer_score is None:
            raise WorkflowError(_("“%(item)s”尚未评分") % {"item": m.title_zh})
        (part_scores if m.is_part_total else item_scores)[m.key] = m.reviewer_score
    return AssessmentInput(
        subject=rec.subject_name,
        targets=figures_from_json(rec.target_figures),
        item_scores=item_scores,
        part_scores=part_scores,
    )


def _result_json(result: AssessmentResult) -> dict[str, Any]:
    return {
        "sheet_name": result.sheet_name,
        "sheet_version": result.sheet_version,
        "total_score": str(result.total_score),
        "score_grade": result.score_grade.name_zh,
        "grade": result.grade.name_zh,
        "grade_key": result.grade.key,
        "vetoed": result.vetoed,
        "veto_items": list(result.veto_items),
        "parts": [
            {
                "key": p.key,
                "title_zh": p.title_zh,
                "max_points": str(p.max_points),
                "score": str(p.score),
                "entered_as": p.entered_as,
            }
            for p in result.parts
        ],
        "items": [
            {
                "part": i.part,
                "key": i.key,
                "title_zh": i.title_zh,
                "max_points": str(i.max_points),
                "points": str(i.points),
                "bonus_points": str(i.bonus_points),
                "score": str(i.score),
                "status": i.status.value,
                "veto": i.veto,
                "figures": {k: str(v) for k, v in i.figures.items()},
                "basis": i.basis,
            }
            for i in result.items
        ],
    }


def _score(rec: AssessmentRecord, core: Any) -> AssessmentResult:
    """Grade the record with the engine (target part from figures, measures from reviewers)."""
    if rec.target_error or not rec.target_figures:
        raise WorkflowError(
            _("目标部分无法计算：%(why)s") % {"why": rec.target_error or _("尚未计算")}
        )
    try:
        result = assess(core, _core_input(rec))
    except AssessmentError as exc:
        raise WorkflowError(str(exc)) from exc
    target = sum((p.score for p in result.parts if p.entered_as == "figures"), Decimal(0))
    rec.target_score = target
    rec.measures_score = result.total_score - target
    rec.total_score = result.total_score
    rec.grade_key = result.grade.key
    rec.grade_name = result.grade.name_zh
    rec.vetoed = result.vetoed
    rec.result = _result_json(result)
    return result


def score_measures(
    *,
    record: AssessmentRecord,
    user: Any,
    scores: Mapping[str, tuple[Any, str]],
    system: bool = False,
) -> AssessmentRecord:
    """评审: the reviewers' score and comment per measure row.  When every row is scored the
    record is graded (status 已评分)."""
    _require(system or access.can_assess(user, record), _("无权评审该考核记录"))
    _not_frozen(record)
    if record.status == RecordStatus.SELF_ASSESSMENT:
        raise WorkflowError(_("被考核方尚未提交自评"))
    rows = {m.key: m for m in record.measures.all()}
    problems: dict[str, str] = {}
    updates = []
    now = timezone.now()
    for key, (score, comment) in scores.items():
        m = rows.get(key)
        if m is None:
            problems[key] = _("没有此考核项目")
            continue
        text = (str(score) if score is not None else "").strip()
        if not text:
            continue
        try:
            m.reviewer_score = _dec(text, key, m.max_points)
        except Rejected as exc:
            problems.update(exc.problems)
            continue
        m.reviewer_comment = (comment or "").strip()[:5000]
        m.reviewed_by = _user(user)
        m.reviewed_at = now
        updates.append(m)
    if problems:
        raise Rejected(problems)
    with transaction.atomic():
        rec = AssessmentRecord.objects.select_for_update().get(pk=record.pk)
        MeasureScore.objects.bulk_update(
            updates, ["reviewer_score", "reviewer_comment", "reviewed_by", "reviewed_at"]
        )
        note = ""
        if all(m.reviewer_score is not None for m in rows.values()):
            core = rec.round.core_sheet()
            if rec.target_error or not rec.target_figures:
                _compute_target(rec, core)  # the statistics may have arrived since
            try:
                _score(rec, core)
                rec.status = RecordStatus.SCORED
            except WorkflowError as exc:
                note = str(exc)
                rec.status = RecordStatus.SUBMITTED
            rec.save()
        _event(rec, "score", user, note=note, data={m.key: m.reviewer_score for m in updates})
        audit(
            actor=user,
            action="assessment.record.score",
            obj=rec,
            after={
                "scores": {m.key: str(m.reviewer_score) for m in updates},
                "total": rec.total_score,
                "grade": rec.grade_name,
                "vetoed": rec.vetoed,
            },
            note=note,
        )
    record.refresh_from_db()
    return record


def sign_off(
    *, record: AssessmentRecord, user: Any, issued_on: dt.date, system: bool = False
) -> list[Consequence]:
    """审定: recompute with the current accounted figures, freeze the result and issue the
    consequences of the sheet's rules (due dates from ``issued_on``, the announcement date)."""
    _require(system or access.can_assess(user, record), _("只有考核方可以审定结果"))
    if record.status != RecordStatus.SCORED:
        raise WorkflowError(_("只有已评分的记录可以审定"))
    with transaction.atomic():
        rec = AssessmentRecord.objects.select_for_update().get(pk=record.pk)
        rnd = rec.round
        core = rnd.core_sheet()
        _compute_target(rec, core)
        result = _score(rec, core)
        rec.status = RecordStatus.SIGNED_OFF
        rec.signed_off_at = timezone.now()
        rec.signed_off_by = _user(user)
        rec.save()
        issued = _issue(rec, core, result, issued_on)
        _event(
            rec,
            "sign_off",
            user,
            data={
                "grade": rec.grade_name,
                "total": rec.total_score,
                "vetoed": rec.vetoed,
                "issued_on": issued_on,
                "consequences": [c.kind for c in issued],
            },
        )
        if rnd.announced_on is None:
            rnd.announced_on = issued_on
        if not rnd.records.exclude(status=RecordStatus.SIGNED_OFF).exists():
            rnd.status = RoundStatus.SIGNED_OFF
        rnd.save(update_fields=["announced_on", "status"])
        audit(
            actor=user,
            action="assessment.record.sign_off",
            obj=rec,
            after={
                "grade": rec.grade_name,
                "total": rec.total_score,
                "vetoed": rec.vetoed,
                "sheet_version": rnd.sheet_version,
                "consequences": [c.kind for c in issued],
            },
        )
    record.refresh_from_db()
    return issued


def sign_off_round(
    *, round: AssessmentRound, user: Any, issued_on: dt.date, system: bool = False
) -> int:
    """Sign off every scored record of the round; returns how many were signed off."""
    n = 0
    for rec in round.records.filter(status=RecordStatus.SCORED).select_related(
        "division", "entity", "round"
    ):
        sign_off(record=rec, user=user, issued_on=issued_on, system=system)
        n += 1
    return n


def _issue(
    rec: AssessmentRecord, core: Any, result: AssessmentResult, issued_on: dt.date
) -> list[Consequence]:
    issued = []
    for c in consequences_for(core, result, issued_on):
        rule = next(r for r in core.consequences if r.key == c.key)
        informational = rule.always and c.due_on is None and c.key not in CREDIT_RULES
        obj = Consequence.objects.create(
            record=rec,
            division=rec.division,
            entity=rec.entity,
            year=rec.round.year,
            kind=c.key,
            title_zh=c.title_zh,
            trigger=_trigger_zh(c.trigger)[:255],
            source=c.source,
            sheet_name=c.sheet_name,
            sheet_version=c.sheet_version,
            issued_on=c.issued_on,
            due_on=c.due_on,
            status=ConsequenceStatus.NOTED
            if informational or c.key in CREDIT_RULES
            else ConsequenceStatus.OPEN,
            restricts_approvals=c.key in RESTRICTING_RULES,
            requires_audit=c.key in AUDIT_RULES,
            is_synthetic=rec.is_synthetic,
        )
        issued.append(obj)
        if rec.entity_id and (c.key in AUDIT_RULES or c.key in RESTRICTING_RULES):
            _credit(
                rec.entity,
                rec.round.year,
                "consequence",
                c.title_zh,
                _("下达日期 %(d)s，期限 %(due)s")
                % {"d": issued_on.isoformat(), "due": c.due_on.isoformat()}
                if c.due_on
                else _("下达日期 %(d)s") % {"d": issued_on.isoformat()},
                issued_on,
                record=rec,
                consequence=obj,
            )
    if rec.entity_id and any(c.kind in CREDIT_RULES for c in issued):
        _credit(
            rec.entity,
            rec.round.year,
            "assessment",
            _("%(year)s年度节能目标责任评价考核结果") % {"year": rec.round.year},
            _("考核等级：%(grade)s；总分 %(score)s%(veto)s")
            % {
                "grade": rec.grade_name,
                "score": _plain(rec.total_score or Decimal(0)),
                "veto": _("（未完成节能目标，否决）") if rec.vetoed else "",
            },
            issued_on,
            record=rec,
            grade=rec.grade_name,
        )
    return issued


_TRIGGER_WORDS = (
    ("grade ", "考核等级为"),
    ("missed ", "未完成"),
    ("veto applied", "适用否决"),
    ("no veto", "未适用否决"),
    ("every result", "所有考核结果"),
)


def _trigger_zh(text: str) -> str:
    """The engine's trigger text ("grade 未完成; missed …") in Chinese for the pages."""
    for en, zh in _TRIGGER_WORDS:
        text = text.replace(en, zh)
    return text.replace("; ", "；")


def _credit(
    entity: Entity,
    year: int,
    kind: str,
    title: str,
    detail: str,
    day: dt.date,
    *,
    record: AssessmentRecord | None = None,
    consequence: Consequence | None = None,
    grade: str = "",
) -> CreditRecord:
    return CreditRecord.objects.create(
        entity=entity,
        year=year,
        kind=kind,
        title=title[:255],
        detail=detail,
        grade_name=grade,
        record=record,
        consequence=consequence,
        recorded_on=day,
        is_synthetic=entity.is_synthetic,
    )


def reopen(
    *, record: AssessmentRecord, user: Any, reason: str, system: bool = False
) -> AssessmentRecord:
    """重新打开 a signed-off record (reason required): back to 待评审; the consequences it issued
    that are still open are withdrawn; recorded in the history and the audit log."""
    _require(system or access.can_assess(user, record), _("只有考核方可以重新打开考核结果"))
    if record.status != RecordStatus.SIGNED_OFF:
        raise WorkflowError(_("只有已审定的记录需要重新打开"))
    reason = (reason or "").strip()
    if not reason:
        raise Rejected({"reason": _("请说明重新打开的原因")})
    with transaction.atomic():
        rec = AssessmentRecord.objects.select_for_update().get(pk=record.pk)
        before = snapshot(rec, ["status", "grade_name", "total_score"])
        withdrawn = list(
            rec.consequences.filter(status__in=[*OPEN_STATUSES, ConsequenceStatus.NOTED])
        )
        for c in withdrawn:
            c.status = ConsequenceStatus.WITHDRAWN
            c.closing_note = _("考核结果重新打开：%(r)s") % {"r": reason}
            c.closed_on = timezone.localdate()
            c.closed_by = _user(user)
            c.save(update_fields=["status", "closing_note", "closed_on", "closed_by"])
        rec.status = RecordStatus.SUBMITTED
        rec.reopen_count += 1
        rec.save(update_fields=["status", "reopen_count"])
        AssessmentRound.objects.filter(pk=rec.round_id).update(status=RoundStatus.OPEN)
        _event(rec, "reopen", user, note=reason, data={"withdrawn": [c.kind for c in withdrawn]})
        audit(
            actor=user,
            action="assessment.record.reopen",
            obj=rec,
            before=before,
            after={"status": rec.status, "withdrawn": [c.pk for c in withdrawn]},
            note=reason,
        )
    return rec


# ---------------------------------------------------------------------------------------------
# Consequences


def respond(
    *,
    consequence: Consequence,
    user: Any,
    text: str,
    upload: UploadedFile | None = None,
    system: bool = False,
) -> Consequence:
    """整改报送: the region (or unit) reports what it did, with an optional document."""
    _require(
        system or access.can_respond(user, consequence), _("只能报送本地区（本单位）的整改情况")
    )
    if consequence.status not in OPEN_STATUSES:
        raise WorkflowError(_("该事项已办结或已撤回"))
    text = (text or "").strip()
    problems = {}
    if not text:
        problems["text"] = _("请填写整改情况")
    if upload is not None:
        reason = validate_evidence(upload)
        if reason:
            problems["file"] = reason
    if problems:
        raise Rejected(problems)
    with transaction.atomic():
        c = Consequence.objects.select_for_update().get(pk=consequence.pk)
        c.response_text = text[:10000]
        if upload is not None:
            c.response_name = PurePath(upload.name or "").name[:255]
            c.response_file.save(c.response_name, upload, save=False)
        c.status = ConsequenceStatus.RESPONDED
        c.responded_at = timezone.now()
        c.responded_by = _user(user)
        c.save()
        audit(
            actor=user,
            action="assessment.consequence.respond",
            obj=c,
            after={"status": c.status, "file": c.response_file.name or None},
        )
    return c


def close(
    *,
    consequence: Consequence,
    user: Any,
    note: str,
    closed_on: dt.date | None = None,
    system: bool = False,
) -> Consequence:
    """办结 (e.g. 限批 lifted after rectification, audit report received)."""
    _require(system or access.can_close(user, consequence), _("无权办结该事项"))
    if consequence.status not in OPEN_STATUSES:
        raise WorkflowError(_("该事项已办结或已撤回"))
    note = (note or "").strip()
    if not note:
        raise Rejected({"note": _("请填写办结说明")})
    day = closed_on or timezone.localdate()
    with transaction.atomic():
        c = Consequence.objects.select_for_update().get(pk=consequence.pk)
        before = snapshot(c, ["status"])
        c.status = ConsequenceStatus.CLOSED
        c.closed_on = day
        c.closed_by = _user(user)
        c.closing_note = note[:5000]
        c.save()
        if c.entity_id and (c.requires_audit or c.restricts_approvals):
            _credit(
                c.entity,
                c.year,
                "closure",
                _("%(title)s — 已办结") % {"title": c.title_zh},
                note[:1000],
                day,
                record=c.record,
                consequence=c,
            )
        audit(
            actor=user,
            action="assessment.consequence.close",
            obj=c,
            before=before,
            after={"status": c.status, "closed_on": day},
            note=note[:255],
        )
    return c


def record_interview(
    *,
    user: Any,
    year: int,
    division: Division | None = None,
    entity: Entity | None = None,
    held_on: dt.date | None = None,
    due_on: dt.date | None = None,
    note: str = "",
    record: AssessmentRecord | None = None,
    is_synthetic: bool = False,
    system: bool = False,
) -> Consequence:
    """约谈: recorded as held (``held_on``) or scheduled (``due_on``) for a region or unit."""
    if (division is None) == (entity is None):
        raise Rejected({"subject": _("约谈对象须为一个地区或一个单位")})
    probe = Consequence(division=division, entity=entity, record=record, year=year)
    _require(system or access.can_close(user, probe), _("无权记录对该地区（单位）的约谈"))
    if held_on is None and due_on is None:
        raise Rejected({"held_on": _("请填写约谈日期（已约谈）或计划日期")})
    name = division.name if division else entity.name  # type: ignore[union-attr]
    with transaction.atomic():
        c = Consequence.objects.create(
            record=record,
            division=division,
            entity=entity,
            year=year,
            kind=INTERVIEW,
            title_zh=_("约谈%(name)s主要负责人") % {"name": name},
            trigger=_("%(year)s年度考核结果") % {"year": year},
            issued_on=held_on or timezone.localdate(),
            due_on=due_on,
            held_on=held_on,
            note=note.strip()[:5000],
            status=ConsequenceStatus.CLOSED if held_on else ConsequenceStatus.OPEN,
            closed_on=held_on,
            closed_by=_user(user) if held_on else None,
            closing_note=_("已约谈") if held_on else "",
            is_synthetic=is_synthetic,
        )
        if record is not None:
            _event(record, "interview", user, note=note[:500], data={"held_on": held_on})
        if entity is not None:
            _credit(
                entity,
                year,
                "interview",
                c.title_zh,
                note[:1000],
                held_on or c.issued_on,
                record=record,
                consequence=c,
            )
        audit(
            actor=user,
            action="assessment.consequence.interview",
            obj=c,
            after={"held_on": held_on, "due_on": due_on},
        )
    return c


def open_by_region(qs: QuerySet[Consequence], day: dt.date) -> list[dict[str, Any]]:
    """开放事项 per region (a unit's items count under its prefecture): open, overdue, restricted."""
    summary: dict[int, dict[str, Any]] = {}
    for c in qs.filter(status__in=OPEN_STATUSES).select_related(
        "division", "division__parent", "entity__division", "entity__division__parent"
    ):
        div = c.subject_division
        while div.level == "county" and div.parent is not None:
            div = div.parent
        row = summary.setdefault(
            div.pk,
            {
                "division": div,
                "open": 0,
                "overdue": 0,
                "restricted": False,
                "restricted_units": 0,
                "audits": 0,
                "kinds": set(),
            },
        )
        row["open"] += 1
        row["overdue"] += int(c.overdue_on(day))
        if c.restricts_approvals and c.division_id:
            row["restricted"] = True
        row["restricted_units"] += int(c.restricts_approvals and bool(c.entity_id))
        row["audits"] += int(c.requires_audit)
        row["kinds"].add(c.title_zh)
    return sorted(summary.values(), key=lambda r: r["division"].code)


def records_for_publication(rnd: AssessmentRound) -> list[AssessmentRecord]:
    """The signed-off records of a round, in region code / unit name order."""
    return list(
        rnd.records.filter(status=RecordStatus.SIGNED_OFF)
        .select_related("division", "entity", "entity__division")
        .order_by("division__code", "entity__name")
    )
