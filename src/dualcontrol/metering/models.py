"""Energy online monitoring (重点用能单位能耗在线监测): registry, readings, quality, alerts, faults.

* :class:`DataItem` — a unit's 采集数据项 (16-character code, decomposed) with its configuration
  (frequency, interval, min/max, unit, 是否上报, boundary role for the reconciliation);
* :class:`MeteringInstrument` — 计量器具 records (grade, calibration, status);
* :class:`Reading` — the time series, in its own table created per database engine by migration
  0002 (PostgreSQL: range-partitioned by month; SQLite: one WITHOUT ROWID table). The model is
  ``managed = False``: it reads; :mod:`dualcontrol.metering.storage` writes in batches;
* :class:`IngestBatch` (one per upload, audited), :class:`RejectTally` (refused readings per
  item, day and reason), :class:`ItemDay` (the daily roll-up), :class:`Alert`,
  :class:`FaultReport` (报备) and :class:`GapExplanation` (the unit's word on a 205-1 gap).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity


class Frequency(models.IntegerChoices):
    """采集频率 (formats.md §3.5: 0 实时、1 日、2 月)."""

    REALTIME = 0, _("实时")
    DAILY = 1, _("日")
    MONTHLY = 2, _("月")


class DataSource(models.IntegerChoices):
    """数据采集来源 (formats.md §3.5: 4 现场仪表, 5 手工填报)."""

    METER = 4, _("现场仪表")
    MANUAL = 5, _("手工填报")


class Boundary(models.TextChoices):
    """Role of an item in the unit's energy balance (meters of grade 1 进出用能单位)."""

    NONE = "", _("内部计量")
    IN = "in", _("进用能单位")
    OUT = "out", _("出用能单位（外供）")


class MeteringInstrument(models.Model):
    """计量器具 — fields of the enterprise-side record seen in public code (formats.md §3.5)."""

    class Grade(models.IntegerChoices):
        UNIT = 1, _("进出用能单位")
        SECONDARY = 2, _("主要次级用能单位")
        EQUIPMENT = 3, _("主要用能设备")

    class Installer(models.IntegerChoices):
        UNIT = 1, _("用能单位")
        SUPPLIER = 2, _("能源供应公司")
        THIRD_PARTY = 3, _("第三方")

    class AccessSystem(models.IntegerChoices):
        OWN = 1, _("用能单位自身管理系统")
        SUPPLIER = 2, _("能源供应公司系统")

    class Status(models.IntegerChoices):
        NORMAL = 1, _("正常")
        FAULT = 2, _("故障")
        DISABLED = 3, _("停用")

    class Calibration(models.TextChoices):
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")
        NONE = "", _("未检定/校准")

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="instruments"
    )
    number = models.CharField(_("计量器具编号"), max_length=64)
    name = models.CharField(_("计量器具名称"), max_length=128)
    kind = models.CharField(_("计量器具类型"), max_length=8, blank=True)
    grade = models.PositiveSmallIntegerField(_("器具等级"), choices=Grade.choices)
    manufacturer = models.CharField(_("生产厂家"), max_length=128, blank=True)
    model_spec = models.CharField(_("型号规格"), max_length=128, blank=True)
    accuracy_class = models.CharField(_("准确度等级"), max_length=32, blank=True)
    measuring_range = models.CharField(_("测量范围"), max_length=64, blank=True)
    management_no = models.CharField(_("管理编号"), max_length=64, blank=True)
    calibration_status = models.CharField(
        _("检定/校准状态"), max_length=8, choices=Calibration.choices, blank=True
    )
    calibration_cycle_months = models.PositiveSmallIntegerField(
        _("检定/校准周期（月）"), null=True, blank=True
    )
    last_calibration = models.DateField(_("最近检定/校准日期"), null=True, blank=True)
    next_calibration = models.DateField(_("下次检定/校准日期"), null=True, blank=True)
    calibration_body = models.CharField(_("检验机构"), max_length=128, blank=True)
    not_calibrated_reason = models.CharField(_("未检定原因"), max_length=255, blank=True)
    location = models.CharField(_("安装地点"), max_length=128, blank=True)
    installer = models.PositiveSmallIntegerField(
        _("安装方"), choices=Installer.choices, null=True, blank=True
    )
    installed = models.DateField(_("安装时间"), null=True, blank=True)
    access_system = models.PositiveSmallIntegerField(
        _("接入系统"), choices=AccessSystem.choices, null=True, blank=True
    )
    status = models.PositiveSmallIntegerField(
        _("目前状态"), choices=Status.choices, default=Status.NORMAL
    )
    status_since = models.DateField(_("状态发生时间"), null=True, blank=True)
    multiplier = models.DecimalField(_("倍率"), max_digits=12, decimal_places=4, default=1)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "number"]
        verbose_name = _("计量器具")
        verbose_name_plural = _("计量器具")
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="instrument_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class DataItem(models.Model):
    """采集数据项 of a unit: the code (decomposed on save by the service) and its configuration."""

    class Aggregation(models.TextChoices):
        SUM = "sum", _("累加（区间量）")
        MEAN = "mean", _("平均（瞬时量、比率）")

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="metering_items"
    )
    code = models.CharField(_("采集数据项编码"), max_length=16)
    name = models.CharField(_("采集数据项指标名称"), max_length=128)
    process_code = models.CharField(_("生产工序编码"), max_length=2)
    process_unit_code = models.CharField(_("工序单元编码"), max_length=2)
    equipment_type_code = models.CharField(_("重点用能设备类型编码"), max_length=2)
    equipment_code = models.CharField(_("重点用能设备编码"), max_length=2)
    data_type = models.CharField(_("采集数据类型"), max_length=2, db_index=True)
    energy_code = models.CharField(_("能源品种/数据分类编码"), max_length=4, db_index=True)
    use_code = models.CharField(_("用途编码"), max_length=2)
    frequency = models.PositiveSmallIntegerField(_("采集频率"), choices=Frequency.choices)
    interval_minutes = models.PositiveSmallIntegerField(_("实时采集间隔（分钟）"), default=15)
    interval_grant = models.CharField(
        _("放宽采集间隔的依据"),
        max_length=255,
        blank=True,
        help_text=_("30 分钟或 1 小时须注明批准依据"),
    )
    source = models.PositiveSmallIntegerField(
        _("数据采集来源"), choices=DataSource.choices, default=DataSource.METER
    )
    unit = models.CharField(_("能源单位"), max_length=32, blank=True)
    min_value = models.FloatField(_("数据最小值"), null=True, blank=True)
    max_value = models.FloatField(_("数据最大值"), null=True, blank=True)
    is_reported = models.BooleanField(_("是否上报"), default=True)
    aggregation = models.CharField(
        _("日汇总方式"), max_length=8, choices=Aggregation.choices, default=Aggregation.SUM
    )
    boundary = models.CharField(
        _("平衡角色"), max_length=4, choices=Boundary.choices, blank=True, default=Boundary.NONE
    )
    product_code = models.CharField(_("对应 205-1 能源品种"), max_length=8, blank=True)
    to_product_factor = models.DecimalField(
        _("换算为 205-1 计量单位的系数"), max_digits=20, decimal_places=10, null=True, blank=True
    )
    instrument = models.ForeignKey(
        MeteringInstrument,
        verbose_name=_("计量器具"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    system_name = models.CharField(_("采集系统名称"), max_length=128, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    active_from = models.DateField(_("启用日期"), null=True, blank=True)
    last_ts = models.DateTimeField(_("最新数据时间"), null=True, blank=True)
    last_received = models.DateTimeField(_("最近接收时间"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "code", "frequency"]
        verbose_name = _("采集数据项")
        verbose_name_plural = _("采集数据项")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "code", "frequency"], name="item_unique_code_frequency"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=[0, 1, 2]), name="item_frequency_0_1_2"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(a)s（%(b)s）") % {
            "a": f"{self.code} {self.name}",
            "b": self.get_frequency_display(),
        }


class Reading(models.Model):
    """One value of a data item at a grid time (the table is created by migration 0002)."""

    pk = models.CompositePrimaryKey("item_id", "ts")
    item = models.ForeignKey(
        DataItem, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    ts = models.DateTimeField(_("数据时间"))
    value = models.FloatField(_("数值"))
    source = models.SmallIntegerField(_("来源"), choices=DataSource.choices)
    batch_id = models.BigIntegerField(null=True)

    class Meta:
        db_table = "metering_reading"  # created per engine by migration 0002
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")


class IngestBatch(models.Model):
    """One upload of readings (API, manual form, demo, benchmark): counts and the refused ones."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("接收时间"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=16)
    codec = models.CharField(_("报文格式"), max_length=32, blank=True)
    n_readings = models.PositiveIntegerField(_("条数"), default=0)
    n_stored = models.PositiveIntegerField(_("新存"), default=0)
    n_duplicates = models.PositiveIntegerField(_("重复"), default=0)
    n_rejected = models.PositiveIntegerField(_("拒收"), default=0)
    first_ts = models.DateTimeField(null=True, blank=True)
    last_ts = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(_("拒收明细（前 100 条）"), default=list, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("数据上传批次")
        verbose_name_plural = _("数据上传批次")

    def __str__(self) -> str:
        return f"#{self.pk} {self.entity} {self.received_at:%Y-%m-%d %H:%M}"


class RejectTally(models.Model):
    """Refused readings of an item per day and reason (out-of-range detection reads this)."""

    item = models.ForeignKey(DataItem, on_delete=models.CASCADE, related_name="rejects")
    day = models.DateField()
    reason = models.CharField(max_length=24)
    n = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "day", "reason"], name="reject_unique")
        ]
        indexes = [models.Index(fields=["day"])]


class ItemDay(models.Model):
    """Daily roll-up of one data item: received / expected, the day's figure, stuck runs."""

    item = models.ForeignKey(DataItem, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("日期"))
    expected = models.PositiveIntegerField(_("应采集个数"))
    received = models.PositiveIntegerField(_("实采集个数"))
    total = models.FloatField(_("日数值"), null=True)
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    first_ts = models.DateTimeField(null=True)
    last_ts = models.DateTimeField(null=True)
    max_run = models.PositiveIntegerField(_("最长相同值个数"), default=0)
    stuck = models.JSONField(_("疑似卡表区段"), default=list, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "day"]
        constraints = [models.UniqueConstraint(fields=["item", "day"], name="itemday_unique")]
        indexes = [models.Index(fields=["day", "item"])]


class AlertKind(models.TextChoices):
    LATE_UPLOAD = "late_upload", _("数据上传中断或延迟")
    INCOMPLETE_DAY = "incomplete_day", _("日数据完整率不足")
    INCONSISTENT = "inconsistent", _("日报与月报数据不一致")
    OUT_OF_RANGE = "out_of_range", _("数据超出范围")
    STUCK_METER = "stuck_meter", _("疑似卡表（数值长时间不变）")
    FAULT_OVERDUE = "fault_overdue", _("故障超过规定工作日未修复且未报备")
    CALIBRATION_DUE = "calibration_due", _("计量器具检定/校准到期")


class Alert(models.Model):
    """A monitoring alert addressed to the unit and the city officers of its region."""

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        DataItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=AlertKind.choices, db_index=True)
    day = models.DateField(_("日期"))
    key = models.CharField(max_length=96, unique=True)
    message = models.TextField(_("说明"))
    params = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(_("产生时间"))
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    recipients = models.JSONField(_("通知对象"), default=list, blank=True)

    class Meta:
        ordering = ["-day", "-created", "-id"]
        verbose_name = _("监测预警")
        verbose_name_plural = _("监测预警")
        indexes = [models.Index(fields=["entity", "day"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.day} {self.get_kind_display()}"

    ONGOING = frozenset({AlertKind.LATE_UPLOAD, AlertKind.FAULT_OVERDUE, AlertKind.CALIBRATION_DUE})

    @property
    def is_ongoing(self) -> bool:
        """A condition that lasts and is resolved by the checks (the others are day facts)."""
        return self.kind in self.ONGOING

    @property
    def text(self) -> str:
        """The message in the active language: :attr:`message` (stored in the platform's
        language) on pages in that language, else rebuilt from :attr:`params` when they hold
        every figure (alerts raised before they did keep their stored text)."""
        active = (get_language() or settings.LANGUAGE_CODE).lower()
        if active.split("-")[0] == settings.LANGUAGE_CODE.lower().split("-")[0]:
            return self.message
        params = {**self._older_params(), **(self.params or {})}
        with translation.override(settings.LANGUAGE_CODE):
            same = alert_text(self.kind, self.day, params, self.item) == self.message
        return (
            alert_text(self.kind, self.day, params, self.item) if same else None
        ) or self.message

    def _older_params(self) -> dict[str, Any]:
        """Figures that alerts raised before ``params`` held them did not keep, as they are now
        (used only when the text they give is the stored one)."""
        from dualcontrol.reference.metering import metering_rules

        rules = metering_rules()
        params = dict(self.params or {})
        out: dict[str, Any] = {
            "limit_days": rules.fault_repair_working_days,
            "min_frac": rules.completeness_min_frac,
            "max_dev_frac": rules.consistency_max_dev_frac,
        }
        if self.item is not None:
            out.update(min=self.item.min_value, max=self.item.max_value)
        daily, monthly = params.get("daily_total"), params.get("monthly")
        if isinstance(daily, int | float) and isinstance(monthly, int | float):
            out["deviation_frac"] = abs(daily - monthly) / abs(monthly) if monthly else None
        if self.kind == AlertKind.CALIBRATION_DUE and "name" not in params:
            out["name"] = (
                MeteringInstrument.objects.filter(
                    entity_id=self.entity_id, number=params.get("number")
                )
                .values_list("name", flat=True)
                .first()
            )
        return out


def _fmt(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def alert_text(
    kind: str, day: dt.date, params: Mapping[str, Any], item: DataItem | None = None
) -> str | None:
    """The text of a monitoring alert in the active language, or None when ``params`` lack a
    figure the text needs."""
    label = f"{item.code} {item.name}" if item is not None else ""
    try:
        if kind == AlertKind.LATE_UPLOAD:
            return gettext("实时数据最新时间为 %(last)s，已超过 %(minutes)s 分钟未上传") % {
                "last": params["last"],
                "minutes": params["after_minutes"],
            }
        if kind == AlertKind.FAULT_OVERDUE:
            text = gettext(
                "自 %(since)s 起中断已 %(days)s 个工作日，超过 %(limit)s 个工作日修复期限且未报备："
                "请报备并定期手工填报"
            ) % {
                "since": params["since"],
                "days": params["working_days"],
                "limit": params["limit_days"],
            }
            if params.get("weekday_fallback_years"):
                text += gettext("（%(years)s 年节假日安排未收录，工作日按周一至周五计）") % {
                    "years": "、".join(str(y) for y in params["weekday_fallback_years"])
                }
            return text
        if kind == AlertKind.INCOMPLETE_DAY:
            return gettext(
                "%(day)s 数据完整率 %(frac)s（实采 %(received)s / 应采 %(expected)s），低于 %(min)s"
            ) % {
                "day": f"{day:%Y-%m-%d}",
                "frac": f"{params['frac']:.1%}",
                "received": params["received"],
                "expected": params["expected"],
                "min": f"{params['min_frac']:.0%}",
            }
        if kind == AlertKind.STUCK_METER and item is not None:
            return gettext(
                "%(item)s 自 %(start)s 至 %(end)s 连续 %(count)s 个数据均为 %(value)s，疑似卡表"
            ) % {
                "item": label,
                "start": params["start"],
                "end": params["end"],
                "count": params["count"],
                "value": f"{params['value']:g}",
            }
        if kind == AlertKind.OUT_OF_RANGE and item is not None:
            return gettext("%(item)s 有 %(n)s 个数据超出范围 [%(min)s, %(max)s]，已拒收") % {
                "item": label,
                "n": params["n"],
                "min": "—" if params["min"] is None else params["min"],
                "max": "—" if params["max"] is None else params["max"],
            }
        if kind == AlertKind.INCONSISTENT and item is not None:
            return gettext(
                "%(item)s %(month)s：日数据合计 %(daily)s 与月报 %(monthly)s 偏差 %(dev)s，"
                "超过 %(max)s"
            ) % {
                "item": label,
                "month": f"{day:%Y-%m}",
                "daily": f"{params['daily_total']:,.2f}",
                "monthly": f"{params['monthly']:,.2f}",
                "dev": _fmt(params["deviation_frac"], ".1%"),
                "max": f"{params['max_dev_frac']:.0%}",
            }
        if kind == AlertKind.CALIBRATION_DUE:
            text = (
                gettext("计量器具 %(number)s %(name)s 检定/校准已过期（下次检定日期 %(date)s）")
                if params["overdue"]
                else gettext("计量器具 %(number)s %(name)s 即将到期（下次检定日期 %(date)s）")
            )
            return text % {"number": params["number"], "name": params["name"], "date": day}
    except (KeyError, TypeError, ValueError):
        return None
    return None


class FaultReport(models.Model):
    """故障报备: the unit reports an access-system or meter fault; the city officer reviews it."""

    class Status(models.TextChoices):
        FILED = "filed", _("已报备")
        ACCEPTED = "accepted", _("已确认")
        RETURNED = "returned", _("已退回")
        CLOSED = "closed", _("已修复")

    entity = models.ForeignKey(
        Entity, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="+"
    )
    items = models.ManyToManyField(
        DataItem, verbose_name=_("涉及数据项（空 = 整个接入端）"), blank=True, related_name="+"
    )
    started = models.DateTimeField(_("故障开始时间"))
    expected_repair = models.DateField(_("预计修复日期"))
    reason = models.TextField(_("故障原因及处理措施"))
    manual_filing = models.BooleanField(_("故障期间定期手工填报"), default=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.FILED, db_index=True
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(_("报备时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True)
    repaired_at = models.DateTimeField(_("修复时间"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        verbose_name = _("故障报备")
        verbose_name_plural = _("故障报备")

    def __str__(self) -> str:
        return f"{self.entity} {self.started:%Y-%m-%d} {self.get_status_display()}"


class GapExplanation(models.Model):
    """The unit's explanation of a meter-vs-205-1 gap for one product and month."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    product_code = models.CharField(max_length=8)
    text = models.TextField(_("差异说明"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "year", "month", "product_code"], name="gap_explanation_unique"
            )
        ]
