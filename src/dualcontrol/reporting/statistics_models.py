"""Self-reported statistics (政府和公共机构统计自报): one filing per division, table and year.

A filing's figures are the current revision's ``values`` (column → decimal text).  Workflow as the
205-1 reports: draft → submitted → accepted or returned (reason); editing a returned or accepted
filing starts a new revision.  ``accepted_values`` are the figures of the last accepted revision —
the ones in the regional statistics once ``merged_revision`` equals ``accepted_revision`` (an
accepted revision waits, held on the filing, while the region has no annual statistics row).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.regions.models import Division


class StatisticsStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已通过")


class StatisticsReport(models.Model):
    division = models.ForeignKey(
        Division, verbose_name=_("填报地区"), on_delete=models.PROTECT, related_name="+"
    )
    table = models.CharField(_("统计报表"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年份"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=StatisticsStatus.choices,
        default=StatisticsStatus.DRAFT,
        db_index=True,
    )
    revision = models.PositiveIntegerField(_("当前版本"), default=1)
    values = models.JSONField(_("填报数据"), default=dict, blank=True)
    tables_version = models.CharField(_("报表定义版本"), max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_revision = models.PositiveIntegerField(_("已通过版本"), null=True, blank=True)
    accepted_values = models.JSONField(_("已通过的数据"), default=dict, blank=True)
    merged_revision = models.PositiveIntegerField(_("已并入统计的版本"), null=True, blank=True)
    merged_at = models.DateTimeField(_("并入统计时间"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "division__code", "table"]
        verbose_name = _("统计自报")
        verbose_name_plural = _("统计自报")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "table", "year"], name="statistics_report_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.division.name} {self.table_name} {self.year}"

    @property
    def table_name(self) -> str:
        from dualcontrol.reporting.statistics_tables import statistics_table

        spec = statistics_table(self.table)
        return spec.name if spec else self.table

    @property
    def held(self) -> bool:
        """Accepted, but not yet in the regional statistics (the region has no annual row)."""
        return self.accepted_revision is not None and self.merged_revision != self.accepted_revision


class StatisticsReportEvent(models.Model):
    """History of a filing: saved, submitted, returned (reason), accepted, merged, held."""

    report = models.ForeignKey(StatisticsReport, on_delete=models.CASCADE, related_name="events")
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
