"""Plans and their division of labour (部门分工): tasks, responsible departments, progress reports.

A :class:`Plan` is one imported document; its numbered tasks (:class:`PlanTask`) come from the
parser (``core/plans.py``) and name lead and participating departments, matched to
``regions.Department`` of the plan's government (:class:`TaskAssignment`).  Departments file
periodic :class:`ProgressReport` entries with evidence.  Only ``tasks/services.py`` writes here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    """Stored status of a task (逾期 is derived from the deadline, never stored)."""

    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("推进中")
    COMPLETED = "completed", _("已完成")
    STALLED = "stalled", _("停滞")


class Effective(models.TextChoices):
    """Status as shown: the stored status, or 逾期 / 停滞 derived from dates and the rules."""

    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("推进中")
    COMPLETED = "completed", _("已完成")
    STALLED = "stalled", _("停滞")
    OVERDUE = "overdue", _("逾期")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("牵头")
    PARTICIPATING = "participating", _("参加")


class DeadlineSource(models.TextChoices):
    NONE = "", _("未设定")
    TEXT = "text", _("任务文字中的年份")
    PLAN = "plan", _("方案统一期限")
    OFFICE = "office", _("方案办公室设定")


class Plan(models.Model):
    """方案 — one imported plan document and what its tracking needs."""

    title = models.CharField(_("方案名称"), max_length=255)
    filename = models.CharField(_("文件名"), max_length=255)
    issuing_body = models.CharField(_("印发机关"), max_length=128, blank=True)
    division = models.ForeignKey(
        "regions.Division",
        verbose_name=_("所属政府"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    office = models.ForeignKey(
        "regions.Department",
        verbose_name=_("方案办公室（牵头跟踪部门）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    period_start = models.PositiveSmallIntegerField(_("起始年"), null=True, blank=True)
    period_end = models.PositiveSmallIntegerField(_("终止年"), null=True, blank=True)
    target_year = models.PositiveSmallIntegerField(_("目标年（解析）"), null=True, blank=True)
    lead_rule = models.CharField(_("牵头规则"), max_length=8, default="first")
    vocabulary_version = models.CharField(_("词表版本"), max_length=80, blank=True)
    source_sha256 = models.CharField(_("原文 SHA-256"), max_length=64)
    source_text = models.TextField(_("原文段落"))
    target_proposals = models.JSONField(
        _("候选指标及处理（采纳为平台目标或不采纳）"), default=list, blank=True
    )
    tracking_start = models.DateField(_("跟踪起始日期"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("方案")
        verbose_name_plural = _("方案")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "source_sha256"], name="tasks_plan_unique_document"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def period_label(self) -> str:
        if self.period_start and self.period_end:
            return f"{self.period_start}—{self.period_end}"
        return str(self.period_end or self.target_year or "")


class PlanTask(models.Model):
    """任务 — one numbered task of a plan with its deadline and status."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("编号"), max_length=32)
    key = models.CharField(_("编号路径"), max_length=255)
    section = models.JSONField(_("所在章节"), default=list)
    title = models.CharField(_("任务"), max_length=512)
    text = models.TextField(_("任务原文"))
    attribution = models.TextField(_("责任分工原文"), blank=True)
    line = models.PositiveIntegerField(_("段落号"), default=0)
    targets = models.JSONField(_("候选指标"), default=list)
    deadline = models.DateField(_("完成期限"), null=True, blank=True)
    deadline_source = models.CharField(
        _("期限来源"), max_length=8, choices=DeadlineSource.choices, blank=True, default=""
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    percent_complete = models.PositiveSmallIntegerField(
        _("完成进度（%）"), default=0, validators=[MaxValueValidator(100)]
    )
    last_report_at = models.DateTimeField(_("最近报送"), null=True, blank=True)
    # the day the stalled clock counts from: the latest report's day, else the tracking start
    last_activity_on = models.DateField(_("最近进展日期"))

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="tasks_task_position"),
            models.UniqueConstraint(fields=["plan", "key"], name="tasks_task_key"),
        ]
        indexes = [
            models.Index(fields=["plan", "status"], name="tasks_task_status"),
            models.Index(fields=["deadline"], name="tasks_task_deadline"),
            models.Index(fields=["last_activity_on"], name="tasks_task_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"[:120]

    @property
    def top_section(self) -> str:
        return self.section[0] if self.section else ""

    def effective_status(self, today: dt.date, stalled_after_days: int) -> str:
        return effective_status(
            self.status, self.deadline, self.last_activity_on, today, stalled_after_days
        )


def effective_status(
    status: str,
    deadline: dt.date | None,
    last_activity_on: dt.date | None,
    today: dt.date,
    stalled_after_days: int,
) -> str:
    """完成 > 逾期 (deadline passed) > 停滞 (marked, or no report for N days) > stored status."""
    if status == TaskStatus.COMPLETED:
        return Effective.COMPLETED
    if deadline is not None and deadline < today:
        return Effective.OVERDUE
    if status == TaskStatus.STALLED or (
        last_activity_on is not None and (today - last_activity_on).days > stalled_after_days
    ):
        return Effective.STALLED
    return str(status)


class TaskAssignment(models.Model):
    """责任分工 — a department named for a task, as lead (牵头) or participating (参加)."""

    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="plan_assignments",
    )
    role = models.CharField(_("分工"), max_length=16, choices=AssignmentRole.choices)
    name_as_written = models.CharField(_("原文名称"), max_length=128)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    percent_complete = models.PositiveSmallIntegerField(_("本部门进度（%）"), default=0)
    last_report_at = models.DateTimeField(_("本部门最近报送"), null=True, blank=True)

    class Meta:
        ordering = ["task", "position"]
        verbose_name = _("责任分工")
        verbose_name_plural = _("责任分工")
        constraints = [
            models.UniqueConstraint(fields=["task", "department"], name="tasks_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.task.key} {self.department.name} {self.get_role_display()}"

    @property
    def mark(self) -> str:
        return "牵" if self.role == AssignmentRole.LEAD else "参"


def evidence_path(instance: ProgressReport, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    day = timezone.localdate()
    return f"tasks/evidence/{day:%Y/%m}/task{instance.task_id}-{timezone.now():%H%M%S%f}{suffix}"


class ProgressReport(models.Model):
    """进展报送 — a department's periodic report on one task, with evidence."""

    task = models.ForeignKey(PlanTask, on_delete=models.CASCADE, related_name="reports")
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("报送部门"),
        on_delete=models.PROTECT,
        related_name="plan_progress_reports",
    )
    period = models.CharField(_("报送期"), max_length=16)
    narrative = models.TextField(_("进展情况"))
    percent_complete = models.PositiveSmallIntegerField(
        _("完成进度（%）"), validators=[MaxValueValidator(100)]
    )
    blocked = models.BooleanField(_("推进受阻"), default=False)
    evidence = models.FileField(_("佐证材料"), upload_to=evidence_path, blank=True, max_length=255)
    evidence_name = models.CharField(_("佐证材料文件名"), max_length=255, blank=True)
    evidence_size = models.PositiveIntegerField(_("文件大小（字节）"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        indexes = [models.Index(fields=["task", "department"], name="tasks_report_task_dept")]

    def __str__(self) -> str:
        return f"{self.task.key} {self.department.name} {self.period}"


class DepartmentAlias(models.Model):
    """部门别名 — a name as written in a plan that stands for an existing department (set when
    an import-created department is merged), so the next import matches it."""

    division = models.ForeignKey(
        "regions.Division", verbose_name=_("所属政府"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("原文名称"), max_length=128)
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="plan_aliases",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["division", "name"]
        verbose_name = _("部门别名")
        verbose_name_plural = _("部门别名")
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="tasks_alias_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.department.name}"


class ImportedDepartment(models.Model):
    """导入新建部门 — flags a department created by a plan import (no exact match existed), for
    the office to confirm or merge into an existing department."""

    department = models.OneToOneField(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="created_by_import",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("来源方案"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["department__name"]
        verbose_name = _("导入新建的部门")
        verbose_name_plural = _("导入新建的部门")

    def __str__(self) -> str:
        return self.department.name
