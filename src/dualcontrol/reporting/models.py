"""Energy reports in the NBS 205-1 layout, their revisions, lines and workflow events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity

Q = {"max_digits": 18, "decimal_places": 4}


class EnergyProduct(models.Model):
    """An energy product of the 205-1 catalogue, seeded from reference data, editable in the admin."""

    code = models.CharField(_("代码"), max_length=8)
    code_source = models.CharField(_("代码来源"), max_length=32)
    name_zh = models.CharField(_("能源名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64)
    unit = models.CharField(_("计量单位"), max_length=16)
    kind = models.CharField(_("类别"), max_length=16)
    coefficient_tce_per_unit = models.DecimalField(
        _("参考折标系数"), max_digits=12, decimal_places=6
    )
    plausible_low = models.DecimalField(_("合理下限"), max_digits=12, decimal_places=6)
    plausible_high = models.DecimalField(_("合理上限"), max_digits=12, decimal_places=6)
    plausible_source = models.CharField(_("合理范围依据"), max_length=255)
    source = models.CharField(_("来源"), max_length=500)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    data_version = models.CharField(_("数据版本"), max_length=64)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("能源品种")
        verbose_name_plural = _("能源品种")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="product_code_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}（{self.unit}）"


class PeriodType(models.TextChoices):
    MONTHLY = "monthly", _("月报")
    ANNUAL = "annual", _("年报")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已通过")


class Source(models.TextChoices):
    FORM = "form", _("网页表单")
    EXCEL = "excel", _("Excel 上传")
    API = "api", _("接口")
    DEMO = "demo", _("演示数据")


class EnergyReport(models.Model):
    """One unit's 205-1 report for one period; its content lives in revisions."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="reports"
    )
    period_type = models.CharField(_("报表类型"), max_length=8, choices=PeriodType.choices)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    current_revision = models.PositiveIntegerField(_("当前版本"), default=0)
    energy_tce = models.DecimalField(
        _("综合能源消费量（吨标准煤，当量值）"), max_digits=18, decimal_places=4, null=True
    )
    energy_equiv_tce = models.DecimalField(
        _("综合能源消费量（吨标准煤，等价值）"), max_digits=18, decimal_places=4, null=True
    )
    co2_t = models.DecimalField(
        _("二氧化碳排放量（吨）"), max_digits=18, decimal_places=4, null=True
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-month", "entity__name"]
        verbose_name = _("能源报表")
        verbose_name_plural = _("能源报表")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "period_type", "year", "month"], name="report_unique_period"
            ),
            models.CheckConstraint(
                condition=(models.Q(period_type="annual", month__isnull=True))
                | (models.Q(period_type="monthly", month__gte=1, month__lte=12)),
                name="report_month_matches_type",
            ),
        ]
        indexes = [models.Index(fields=["year", "month"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.period_label}"

    @property
    def period_label(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else f"{self.year}"


class ReportRevision(models.Model):
    report = models.ForeignKey(EnergyReport, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("版本号"))
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    filename = models.CharField(_("上传文件"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    submitted = models.DateTimeField(null=True, blank=True)
    energy_tce = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    energy_equiv_tce = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    co2_t = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    # provenance of the computed totals: catalogue + rule versions and the formula
    provenance = models.JSONField(default=dict)

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="revision_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.report} r{self.number}"


class ReportLine(models.Model):
    revision = models.ForeignKey(ReportRevision, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(EnergyProduct, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=16)
    opening_stock = models.DecimalField(**Q)
    purchases_qty = models.DecimalField(**Q)
    purchases_value_kyuan = models.DecimalField(**Q)
    consumption_total = models.DecimalField(**Q)
    industrial_production = models.DecimalField(**Q)
    raw_material = models.DecimalField(**Q)
    non_industrial = models.DecimalField(**Q)
    transport = models.DecimalField(**Q)
    closing_stock = models.DecimalField(**Q)
    coefficient_used = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["revision", "product__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "product"], name="line_unique_product")
        ]


class ReportEvent(models.Model):
    """The workflow history shown on a report: created, submitted, returned (reason), accepted."""

    report = models.ForeignKey(EnergyReport, on_delete=models.CASCADE, related_name="events")
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


# self-reported statistics of governments and public institutions (their own module)
from dualcontrol.reporting.statistics_models import (  # noqa: E402, F401
    StatisticsReport,
    StatisticsReportEvent,
    StatisticsStatus,
)
