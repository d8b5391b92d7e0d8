"""Annual target-responsibility assessment (目标责任评价考核): sheets, rounds, records, consequences.

- :class:`ScoringSheet` — 计分表 as data: seeded from ``reference/data/scoring_*.yaml``, new sheets
  and edits in the admin, validated through ``parse_sheet`` on save.
- :class:`AssessmentRound` — one year's assessment of a set of regions (or key units) by an
  assessor (the province, a city, a department), with a frozen copy of the sheet it uses.
- :class:`AssessmentRecord` — one assessed region or unit: the target part computed from the
  accounted figures (never typed), the measures part (self-assessment with evidence, then the
  reviewers' scores), the result (score, grade, veto) and the workflow state.
- :class:`MeasureScore`, :class:`Evidence`, :class:`RecordEvent` — per-item scores, evidence files
  and the record's history (re-opening included).
- :class:`Consequence` — 考核结果运用: issued from the sheet's rules at sign-off (区域限批, 书面整改
  报告, 强制能源审计 …) or recorded by hand (约谈), tracked to closure.
- :class:`CreditRecord` — the unit's credit record (信用记录) entries written by the assessment.

Only ``assessment/services.py`` writes these tables (the admin edits sheets, audited).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Department, Division


class SubjectKind(models.TextChoices):
    REGION = "region", _("地区（政府）")
    ENTERPRISE = "enterprise", _("重点用能单位")


def canonical_hash(definition: Any) -> str:
    raw = json.dumps(definition, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


class ScoringSheet(models.Model):
    """计分表: the mapping of a ``scoring_*.yaml`` file (or an admin-defined one) and its version."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    title_zh = models.CharField(_("标题（空 = 取自定义）"), max_length=255, blank=True)
    subject = models.CharField(
        _("考核对象"), max_length=16, choices=SubjectKind.choices, default=SubjectKind.REGION
    )
    source = models.TextField(_("来源（空 = 取自定义）"), blank=True)
    definition = models.JSONField(_("计分表定义（与 YAML 同结构）"))
    version = models.CharField(_("版本"), max_length=128, editable=False)
    is_builtin = models.BooleanField(_("内置（来自参考数据）"), default=False, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_builtin", "name"]
        verbose_name = _("计分表")
        verbose_name_plural = _("计分表")

    def __str__(self) -> str:
        return f"{self.name} · {self.title_zh}"

    def to_core(self) -> Any:
        """The validated :class:`dualcontrol.core.assessment.ScoringSheet`."""
        from dualcontrol.reference.scoring_sheets import parse_sheet

        return parse_sheet(self.definition, version=self.version, where=self.name)

    def clean(self) -> None:
        """Validate through ``parse_sheet``; an edited definition gets a new version (and is no
        longer the built-in file's copy, so a later sync does not overwrite it)."""
        from dualcontrol.reference import ReferenceDataError
        from dualcontrol.reference.scoring_sheets import parse_sheet

        if not isinstance(self.definition, dict):
            raise ValidationError({"definition": _("计分表定义必须是映射（YAML/JSON 对象）")})
        if self.definition.get("name") not in (None, self.name):
            raise ValidationError({"definition": _("计分表定义中的 name 必须与名称一致")})
        self.definition = {**self.definition, "name": self.name}
        previous = ScoringSheet.objects.filter(pk=self.pk).first() if self.pk else None
        if previous is None or previous.definition != self.definition or not self.version:
            if previous is None or previous.definition != self.definition:
                self.is_builtin = False
            self.version = f"db:{self.name}@{canonical_hash(self.definition)}"
        try:
            core = parse_sheet(self.definition, version=self.version, where=self.name)
        except ReferenceDataError as exc:
            raise ValidationError({"definition": str(exc)}) from exc
        self.subject = core.subject
        if not self.title_zh:
            self.title_zh = core.title_zh
        if not self.source:
            self.source = core.source


class RoundStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    SIGNED_OFF = "signed_off", _("已审定")


class AssessmentRound(models.Model):
    """年度考核: one assessor assesses a set of regions (or units) for one year with one sheet."""

    year = models.PositiveSmallIntegerField(_("考核年度"))
    title = models.CharField(_("名称"), max_length=255)
    subject_kind = models.CharField(_("考核对象"), max_length=16, choices=SubjectKind.choices)
    assessor = models.ForeignKey(
        Division, verbose_name=_("考核方"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("考核部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sheet = models.ForeignKey(
        ScoringSheet, verbose_name=_("计分表"), on_delete=models.PROTECT, related_name="rounds"
    )
    sheet_name = models.CharField(_("计分表名称"), max_length=64)
    sheet_version = models.CharField(_("计分表版本"), max_length=128)
    sheet_definition = models.JSONField(_("计分表定义（考核时的副本）"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    announced_on = models.DateField(_("结果公告日"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "assessor__code", "-id"]
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "assessor", "subject_kind", "sheet_name"],
                name="assessment_round_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def core_sheet(self) -> Any:
        from dualcontrol.reference.scoring_sheets import parse_sheet

        return parse_sheet(self.sheet_definition, version=self.sheet_version, where=self.sheet_name)


class RecordStatus(models.TextChoices):
    SELF_ASSESSMENT = "self_assessment", _("自评中")
    SUBMITTED = "submitted", _("待评审")
    SCORED = "scored", _("已评分")
    SIGNED_OFF = "signed_off", _("已审定")


def grade_label(sheet_definition: Any, key: str, name_zh: str) -> str:
    """A grade's name in the active language, from the round's copy of its scoring sheet."""
    from django.utils.translation import get_language

    if not key or not (get_language() or "").startswith("en"):
        return name_zh
    for g in (sheet_definition or {}).get("grades", []):
        if g.get("key") == key:
            return str(g.get("name_en") or name_zh)
    return name_zh


class AssessmentRecord(models.Model):
    """One assessed region or unit in a round: figures, scores, result and state."""

    round = models.ForeignKey(
        AssessmentRound,
        verbose_name=_("年度考核"),
        on_delete=models.CASCADE,
        related_name="records",
    )
    division = models.ForeignKey(
        Division,
        verbose_name=_("被考核地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entity = models.ForeignKey(
        Entity,
        verbose_name=_("被考核单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=RecordStatus.choices,
        default=RecordStatus.SELF_ASSESSMENT,
    )
    target_figures = models.JSONField(_("目标部分依据（核算数据）"), default=dict, blank=True)
    target_error = models.TextField(_("目标部分无法计算的原因"), blank=True)
    target_computed_at = models.DateTimeField(_("目标部分计算时间"), null=True, blank=True)
    certified_saving_tce = models.DecimalField(
        _("核定节能量（吨标准煤）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    certified_source = models.CharField(_("核定依据"), max_length=255, blank=True)
    target_score = models.DecimalField(
        _("目标部分得分"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    measures_score = models.DecimalField(
        _("措施部分得分"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    total_score = models.DecimalField(
        _("总分"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    grade_key = models.CharField(_("等级代码"), max_length=32, blank=True)
    grade_name = models.CharField(_("考核等级"), max_length=32, blank=True)
    vetoed = models.BooleanField(_("否决"), default=False)
    result = models.JSONField(_("计分结果（逐项得分与依据）"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("自评提交时间"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reopen_count = models.PositiveSmallIntegerField(_("重新打开次数"), default=0)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)

    class Meta:
        ordering = ["round", "division__code", "entity__name", "id"]
        verbose_name = _("考核记录")
        verbose_name_plural = _("考核记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(division__isnull=False, entity__isnull=True)
                | Q(division__isnull=True, entity__isnull=False),
                name="assessment_record_region_xor_unit",
            ),
            models.UniqueConstraint(
                fields=["round", "division"],
                condition=Q(division__isnull=False),
                name="assessment_record_unique_region",
            ),
            models.UniqueConstraint(
                fields=["round", "entity"],
                condition=Q(entity__isnull=False),
                name="assessment_record_unique_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} {self.subject_name}"

    @property
    def subject_name(self) -> str:
        return self.entity.name if self.entity_id else self.division.name

    @property
    def grade_label(self) -> str:
        """The grade in the interface language: the sheet's ``name_en`` on English pages (the
        record keeps the Chinese name, as published)."""
        return grade_label(self.round.sheet_definition, self.grade_key, self.grade_name)

    @property
    def subject_division(self) -> Division:
        return self.division if self.division_id else self.entity.division

    @property
    def is_frozen(self) -> bool:
        return self.status == RecordStatus.SIGNED_OFF


class MeasureScore(models.Model):
    """One scored row of the measures part: a measure item, or a qualitative part scored as a whole."""

    record = models.ForeignKey(AssessmentRecord, on_delete=models.CASCADE, related_name="measures")
    part_key = models.CharField(_("部分"), max_length=64)
    key = models.CharField(_("项目"), max_length=64)
    is_part_total = models.BooleanField(_("按部分总分评分"), default=False)
    title_zh = models.CharField(_("考核内容"), max_length=255)
    max_points = models.DecimalField(_("分值"), max_digits=8, decimal_places=2)
    order = models.PositiveSmallIntegerField(default=0)
    self_score = models.DecimalField(
        _("自评得分"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    self_note = models.TextField(_("自评说明"), blank=True)
    reviewer_score = models.DecimalField(
        _("评审得分"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    reviewer_comment = models.TextField(_("评审意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["record", "order"]
        verbose_name = _("措施评分")
        verbose_name_plural = _("措施评分")
        constraints = [
            models.UniqueConstraint(fields=["record", "key"], name="measure_score_unique_item")
        ]

    def __str__(self) -> str:
        return f"{self.record} {self.title_zh}"


def evidence_path(instance: Evidence, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    stamp = timezone.now()
    return (
        f"assessment/evidence/{stamp:%Y/%m}/record{instance.record_id}-"
        f"{instance.item_key}-{stamp:%H%M%S%f}{suffix}"
    )


class Evidence(models.Model):
    """佐证材料 uploaded by the assessed government (or unit) for one measure row."""

    record = models.ForeignKey(AssessmentRecord, on_delete=models.CASCADE, related_name="evidence")
    item_key = models.CharField(_("项目"), max_length=64)
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveIntegerField(_("大小（字节）"))
    description = models.CharField(_("说明"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record", "item_key", "uploaded_at"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.name


class RecordEvent(models.Model):
    """History of a record: created, self-assessed, submitted, scored, signed off, re-opened …"""

    record = models.ForeignKey(AssessmentRecord, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["record", "at", "id"]
        verbose_name = _("考核记录历史")
        verbose_name_plural = _("考核记录历史")

    def __str__(self) -> str:
        return f"{self.record} {self.action}"


class ConsequenceStatus(models.TextChoices):
    OPEN = "open", _("待落实")
    RESPONDED = "responded", _("已报送整改")
    CLOSED = "closed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")
    NOTED = "noted", _("已记录")


OPEN_STATUSES = (ConsequenceStatus.OPEN, ConsequenceStatus.RESPONDED)


def response_path(instance: Consequence, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"assessment/responses/{timezone.now():%Y/%m}/consequence{instance.pk}{suffix}"


class Consequence(models.Model):
    """考核结果运用: a measure issued to a region or unit, tracked to closure."""

    record = models.ForeignKey(
        AssessmentRecord,
        verbose_name=_("考核记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consequences",
    )
    division = models.ForeignKey(
        Division,
        verbose_name=_("地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entity = models.ForeignKey(
        Entity,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("考核年度"))
    kind = models.CharField(_("类别（规则代码）"), max_length=64)
    title_zh = models.CharField(_("措施"), max_length=255)
    trigger = models.CharField(_("触发条件"), max_length=255, blank=True)
    source = models.TextField(_("依据"), blank=True)
    sheet_name = models.CharField(_("计分表"), max_length=64, blank=True)
    sheet_version = models.CharField(_("计分表版本"), max_length=128, blank=True)
    issued_on = models.DateField(_("下达日期"))
    due_on = models.DateField(_("期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ConsequenceStatus.choices, default=ConsequenceStatus.OPEN
    )
    restricts_approvals = models.BooleanField(_("区域（企业）限批"), default=False)
    requires_audit = models.BooleanField(_("强制能源审计"), default=False)
    held_on = models.DateField(_("约谈日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    response_text = models.TextField(_("整改情况"), blank=True)
    response_file = models.FileField(
        _("整改材料"), upload_to=response_path, blank=True, max_length=255
    )
    response_name = models.CharField(_("整改材料文件名"), max_length=255, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closing_note = models.TextField(_("办结说明"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "division__code", "entity__name", "issued_on", "id"]
        verbose_name = _("考核结果运用")
        verbose_name_plural = _("考核结果运用")
        constraints = [
            models.CheckConstraint(
                condition=Q(division__isnull=False, entity__isnull=True)
                | Q(division__isnull=True, entity__isnull=False),
                name="consequence_region_xor_unit",
            )
        ]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return f"{self.subject_name} {self.title_zh}"

    @property
    def subject_name(self) -> str:
        return self.entity.name if self.entity_id else self.division.name

    @property
    def subject_division(self) -> Division:
        return self.division if self.division_id else self.entity.division

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue_on(self, day: Any) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < day


class CreditRecord(models.Model):
    """信用记录: an entry written to a unit's credit record by the assessment."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("类别"), max_length=32)
    title = models.CharField(_("事项"), max_length=255)
    detail = models.TextField(_("内容"), blank=True)
    grade_name = models.CharField(_("考核等级"), max_length=32, blank=True)
    record = models.ForeignKey(
        AssessmentRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consequence = models.ForeignKey(
        Consequence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_on = models.DateField(_("记录日期"))
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity__name", "-recorded_on", "-id"]
        verbose_name = _("信用记录")
        verbose_name_plural = _("信用记录")

    def __str__(self) -> str:
        return f"{self.entity.name} {self.title}"
