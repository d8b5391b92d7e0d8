"""Key energy-using units (重点用能单位): designations by year, energy managers, annual status
reports (能源利用状况报告) with revisions and events, product grades, audits, surcharges and the
lists the province publishes.

Every row is written by :mod:`dualcontrol.keyunits.services` (one transaction, one audit entry).
Computed rows (grades, surcharges) record the rule versions they used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Department
from dualcontrol.reporting.models import Status as ReportStatus

Q = {"max_digits": 18, "decimal_places": 4}


class Tier(models.TextChoices):
    NATIONAL = "national", _("年综合能源消费量一万吨标准煤及以上")
    PROVINCIAL = "provincial", _("省级指定（五千吨及以上不满一万吨标准煤）")


class DesignationStatus(models.TextChoices):
    PROPOSED = "proposed", _("拟纳入")
    CONFIRMED = "confirmed", _("已确认")
    REMOVED = "removed", _("已移出")


class Designation(models.Model):
    """One unit's designation for one year; the rows over the years are its history."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="key_designations"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    tier = models.CharField(_("类别"), max_length=12, choices=Tier.choices)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=DesignationStatus.choices,
        default=DesignationStatus.PROPOSED,
        db_index=True,
    )
    basis_energy_tce = models.DecimalField(_("依据的综合能源消费量（吨标准煤）"), **Q)
    basis_source = models.CharField(_("消费量来源"), max_length=64, blank=True)
    rule_version = models.CharField(_("规则版本"), max_length=64)
    reason = models.TextField(_("说明"), blank=True)
    proposed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    published = models.BooleanField(_("已公布"), default=False)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)

    class Meta:
        ordering = ["-year", "entity__name"]
        verbose_name = _("重点用能单位认定")
        verbose_name_plural = _("重点用能单位认定")
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="keyunit_designation_year")
        ]
        indexes = [models.Index(fields=["year", "status"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.year} {self.get_tier_display()}"


class EnergyManager(models.Model):
    """能源管理负责人 of a unit (节约能源法 第五十五条) and the unit's responsible department."""

    entity = models.OneToOneField(
        Entity, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="energy_manager"
    )
    name = models.CharField(_("能源管理负责人"), max_length=64)
    certificate_no = models.CharField(_("证书编号"), max_length=64, blank=True)
    valid_until = models.DateField(_("证书有效期至"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("节能主管部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("能源管理负责人")
        verbose_name_plural = _("能源管理负责人")

    def __str__(self) -> str:
        return f"{self.entity}: {self.name}"


class StatusReport(models.Model):
    """能源利用状况报告 of one unit for one year (节约能源法 第五十三条); the same workflow as the
    205-1 reports: draft → submitted → returned (reason) or accepted; a resubmission after a return
    is a new revision."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="status_reports"
    )
    year = models.PositiveSmallIntegerField(_("报告年度"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=ReportStatus.choices,
        default=ReportStatus.DRAFT,
        db_index=True,
    )
    revision = models.PositiveIntegerField(_("当前版本"), default=1)
    deadline = models.DateField(_("报送截止日期"))
    energy_tce = models.DecimalField(_("综合能源消费量（吨标准煤）"), **Q)
    savings_tce = models.DecimalField(_("节能量（吨标准煤）"), **Q, null=True, blank=True)
    measures = models.TextField(_("节能措施"), blank=True)
    manager_name = models.CharField(_("能源管理负责人"), max_length=64, blank=True)
    manager_certificate = models.CharField(_("证书编号"), max_length=64, blank=True)
    source = models.CharField(_("来源"), max_length=8, default="form")
    filename = models.CharField(_("上传文件"), max_length=255, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "entity__name"]
        verbose_name = _("能源利用状况报告")
        verbose_name_plural = _("能源利用状况报告")
        constraints = [
            models.UniqueConstraint(fields=["entity", "year"], name="keyunit_status_report_year")
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.year}"


class EnergyUse(models.Model):
    """能源消费结构: one energy kind of a status report."""

    report = models.ForeignKey(StatusReport, on_delete=models.CASCADE, related_name="energy_uses")
    kind = models.CharField(_("能源品种"), max_length=64)
    unit = models.CharField(_("计量单位"), max_length=16)
    quantity = models.DecimalField(_("消费量"), **Q)
    energy_tce = models.DecimalField(_("折标准煤（吨）"), **Q)

    class Meta:
        ordering = ["report", "id"]


class ProductLine(models.Model):
    """单位产品综合能耗: one product line of a status report (product, indicator, output, value)."""

    report = models.ForeignKey(StatusReport, on_delete=models.CASCADE, related_name="product_lines")
    product = models.CharField(_("产品"), max_length=64)
    indicator = models.CharField(_("指标"), max_length=64)
    output = models.DecimalField(_("产量"), **Q)
    output_unit = models.CharField(_("产量单位"), max_length=16, blank=True)
    value = models.DecimalField(_("单位产品能耗"), **Q)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    electricity_kwh = models.DecimalField(_("生产用电量（千瓦时）"), **Q, null=True, blank=True)
    corrections = models.JSONField(_("修正参数"), default=dict, blank=True)

    class Meta:
        ordering = ["report", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "product", "indicator"], name="keyunit_line_unique"
            )
        ]


class StatusReportRevision(models.Model):
    """The content of a report as submitted (a snapshot per submission)."""

    report = models.ForeignKey(StatusReport, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="keyunit_revision_number")
        ]


class StatusReportEvent(models.Model):
    """The workflow history: saved, submitted, returned (reason), accepted, reminded."""

    report = models.ForeignKey(StatusReport, on_delete=models.CASCADE, related_name="events")
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


class Reminder(models.Model):
    """A reminder sent for a missing status report (one per unit, year and day offset)."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    offset_days = models.IntegerField()  # negative: before the deadline
    sent_on = models.DateField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "offset_days"], name="keyunit_reminder_once"
            )
        ]


class Position(models.TextChoices):
    BENCHMARK = "benchmark", _("达到标杆水平")
    BETWEEN = "between", _("标杆与基准之间")
    BELOW_BASELINE = "below_baseline", _("低于基准水平")
    UNKNOWN = "unknown", _("无标杆/基准值")


class ProductGrade(models.Model):
    """A product line graded against its limit standard and the 标杆/基准 levels."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="product_grades"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    report = models.ForeignKey(
        StatusReport, null=True, on_delete=models.SET_NULL, related_name="grades"
    )
    product = models.CharField(_("产品"), max_length=64)
    product_name = models.CharField(_("产品名称"), max_length=64)
    indicator = models.CharField(_("指标"), max_length=64)
    indicator_name = models.CharField(_("指标名称"), max_length=64)
    unit = models.CharField(_("单位"), max_length=16)
    output = models.DecimalField(_("产量"), **Q)
    value = models.DecimalField(_("单位产品能耗"), **Q)
    corrected_value = models.DecimalField(_("修正后"), **Q)
    grade = models.CharField(_("等级"), max_length=8, db_index=True)
    standard_code = models.CharField(_("标准"), max_length=32)
    standard_version = models.CharField(_("标准版本"), max_length=64)
    benchmark_position = models.CharField(
        _("标杆/基准"), max_length=16, choices=Position.choices, db_index=True
    )
    benchmark_version = models.CharField(_("标杆/基准版本"), max_length=64, blank=True)
    distance = models.DecimalField(_("距上一等级"), **Q, null=True, blank=True)
    next_grade = models.CharField(_("上一等级"), max_length=8, blank=True)
    notes = models.TextField(_("说明"), blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "entity__name", "product", "indicator"]
        verbose_name = _("产品能效等级")
        verbose_name_plural = _("产品能效等级")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "product", "indicator"], name="keyunit_grade_unique"
            )
        ]
        indexes = [models.Index(fields=["year", "grade"])]


class AuditReason(models.TextChoices):
    OVER_LIMIT = "over_limit", _("超过单位产品能耗限额")
    MISSED_TARGET = "missed_target", _("未完成年度节能目标")
    LOW_EFFICIENCY = "low_efficiency", _("能源利用效率低、节能措施不落实")


class AuditStatus(models.TextChoices):
    ORDERED = "ordered", _("已责令")
    REPORT_RECEIVED = "report_received", _("已收到审计报告")
    CLOSED = "closed", _("已办结")


class AuditOrder(models.Model):
    """责令实施能源审计 (节约能源法 第五十四条), tracked to its report."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="energy_audits"
    )
    year = models.PositiveSmallIntegerField(_("依据年度"))
    reason = models.CharField(_("原因"), max_length=16, choices=AuditReason.choices)
    detail = models.TextField(_("具体情况"), blank=True)
    ordered_at = models.DateField(_("责令日期"))
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    due = models.DateField(_("报告期限"))
    rule_version = models.CharField(_("规则版本"), max_length=64)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=AuditStatus.choices,
        default=AuditStatus.ORDERED,
        db_index=True,
    )
    report_reference = models.CharField(_("审计报告文号/名称"), max_length=255, blank=True)
    report_received_at = models.DateField(_("收到报告日期"), null=True, blank=True)
    closed_at = models.DateField(_("办结日期"), null=True, blank=True)
    closing_note = models.TextField(_("办结意见"), blank=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("能源审计")
        verbose_name_plural = _("能源审计")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "reason"], name="keyunit_audit_once_per_reason"
            )
        ]


class Surcharge(models.Model):
    """An electricity surcharge (惩罚性/阶梯电价) of one unit's product line in one year."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="surcharges"
    )
    year = models.PositiveSmallIntegerField(_("执行年度"))
    basis_year = models.PositiveSmallIntegerField(_("依据年度"))
    product = models.CharField(_("产品"), max_length=64)
    indicator = models.CharField(_("指标"), max_length=64)
    value = models.DecimalField(_("单位产品能耗"), **Q)
    rule = models.CharField(_("规则"), max_length=64)
    rule_version = models.CharField(_("规则版本"), max_length=64)
    tier = models.CharField(_("档次"), max_length=64, blank=True)
    surcharge_yuan_per_kwh = models.DecimalField(
        _("加价（元/千瓦时）"), max_digits=10, decimal_places=4
    )
    electricity_kwh = models.DecimalField(_("用电量（千瓦时）"), **Q, null=True, blank=True)
    amount_yuan = models.DecimalField(_("加价电费（元）"), **Q, null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "entity__name", "product"]
        verbose_name = _("电价加价")
        verbose_name_plural = _("电价加价")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "product", "indicator"], name="keyunit_surcharge_unique"
            )
        ]


class ListKind(models.TextChoices):
    DESIGNATIONS = "designations", _("重点用能单位名单")
    OVER_LIMIT = "over_limit", _("超过能耗限额的单位")
    BELOW_BASELINE = "below_baseline", _("低于基准水平的单位及改造时限")
    FRONTRUNNERS = "frontrunners", _("能效“领跑者”")
    SURCHARGES = "surcharges", _("电价加价单位")


class PublishedList(models.Model):
    """A list as the province published it: the rows frozen at publication."""

    kind = models.CharField(_("名单"), max_length=16, choices=ListKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    rows = models.JSONField(default=list)
    rule_version = models.CharField(_("规则版本"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("公布时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-year", "kind", "-published_at"]
        verbose_name = _("公布的名单")
        verbose_name_plural = _("公布的名单")
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="keyunit_list_once")]
