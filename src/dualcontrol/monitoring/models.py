"""Pollution-source online monitoring (污染源自动监控): outlets, limits, HJ 212 data, alarms.

Configuration (outlets, limits, analyser ranges) is small and written through
:mod:`dualcontrol.monitoring.services`.  The data tables grow fastest and are written only in
batches by :class:`dualcontrol.monitoring.sink.DatabaseSink` (COPY / executemany), never by
per-row ORM saves:

* :class:`Receipt` — one row per data record (MN, CN, DataTime): the idempotency key of the
  receiver and the count of records stored ("count sent = count stored");
* one readings table per data type — real-time (CN 2011), minute (2051), hourly (2061), daily
  (2031) and :class:`OtherReading` for any other upload — one row per (MN, DataTime, pollutant
  code) with the HJ 212 fields as columns.  Their primary key (MN, [CN,] DataTime, code) is the
  time-range index of a station;
* :class:`Station` — every MN ever heard from (registered as an outlet or not): first/last seen,
  newest DataTime and records stored.

Readings are keyed by MN, not by outlet: data of a station whose outlet is not registered yet
is kept (and listed for the province) instead of being lost.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity

MN_LENGTH = 24  # HJ 212 MN: "MN=" + 24 characters (core.hj212.Limits)
PW_LENGTH = 6  # HJ 212 PW: "PW=" + 6 characters (core.hj212.Limits)
DIGEST_LENGTH = 32  # core.hj212_stream.record_digest
CODE_LENGTH = 16
FLAG_LENGTH = 4


class OutletKind(models.TextChoices):
    WATER = "water", _("废水")
    GAS = "gas", _("废气")


class DataType(models.TextChoices):
    """HJ 212 upload commands that carry monitoring data (formats.md §5.2)."""

    REALTIME = "2011", _("实时数据")
    MINUTE = "2051", _("分钟数据")
    HOUR = "2061", _("小时数据")
    DAY = "2031", _("日数据")


class LimitField(models.TextChoices):
    """Which HJ 212 field of a pollutant a limit applies to."""

    AVG = "Avg", _("平均值（Avg）")
    ZS_AVG = "ZsAvg", _("折算平均值（ZsAvg）")
    RTD = "Rtd", _("实时值（Rtd）")
    ZS_RTD = "ZsRtd", _("折算实时值（ZsRtd）")
    MAX = "Max", _("最大值（Max）")


class Outlet(models.Model):
    """排放口 — a monitored outlet of a unit, identified by its data logger's MN."""

    mn = models.CharField(_("数采仪编码（MN）"), max_length=MN_LENGTH, unique=True)
    # HJ 212 sends PW in clear text, so the receiver compares it as text: kept in the database,
    # shown masked in forms and the admin, never written to the audit log (audit_policy.yaml key_patterns: passw(or)d).
    station_password = models.CharField(
        _("数采仪访问密码（PW）"),
        max_length=PW_LENGTH,
        blank=True,
        help_text=_("数采仪上传数据时携带的 PW；未登记密码的排放口的数据一律拒收。"),
    )
    entity = models.ForeignKey(
        Entity, verbose_name=_("排污单位"), on_delete=models.CASCADE, related_name="outlets"
    )
    name = models.CharField(_("排放口名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=8, choices=OutletKind.choices)
    permit_number = models.CharField(_("排污许可证编号"), max_length=32, blank=True)
    connected_on = models.DateField(
        _("联网日期"),
        null=True,
        blank=True,
        help_text=_("自动监控设备验收联网之日；此前的日期不计入数据传输率。"),
    )
    active = models.BooleanField(_("在用"), default=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        ordering = ["entity__division__code", "entity__name", "name"]
        verbose_name = _("排放口")
        verbose_name_plural = _("排放口")

    def __str__(self) -> str:
        return f"{self.name} ({self.mn})"


class PollutantLimit(models.Model):
    """排放限值 — the limit of one pollutant field of an outlet, valid for a period."""

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="limits"
    )
    code = models.CharField(_("污染物编码（HJ 212）"), max_length=CODE_LENGTH)
    cn = models.CharField(
        _("数据类型"), max_length=4, choices=DataType.choices, default=DataType.HOUR
    )
    field = models.CharField(
        _("比较字段"), max_length=8, choices=LimitField.choices, default=LimitField.AVG
    )
    limit_value = models.DecimalField(_("限值"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=16)
    standard = models.CharField(_("执行标准/依据"), max_length=255)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["outlet", "code", "-valid_from"]
        verbose_name = _("排放限值")
        verbose_name_plural = _("排放限值")
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "code", "cn", "field", "valid_from"], name="mon_limit_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.outlet.mn} {self.code}-{self.field} ≤ {self.limit_value} {self.unit}"


class AnalyserRange(models.Model):
    """仪器量程 — the measuring range of an outlet's analyser for one pollutant."""

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="ranges"
    )
    code = models.CharField(_("污染物编码（HJ 212）"), max_length=CODE_LENGTH)
    low = models.DecimalField(_("量程下限"), max_digits=14, decimal_places=4)
    high = models.DecimalField(_("量程上限"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("单位"), max_length=16)

    class Meta:
        ordering = ["outlet", "code"]
        verbose_name = _("仪器量程")
        verbose_name_plural = _("仪器量程")
        constraints = [models.UniqueConstraint(fields=["outlet", "code"], name="mon_range_code")]

    def __str__(self) -> str:
        return f"{self.outlet.mn} {self.code} {self.low}–{self.high} {self.unit}"


# --------------------------------------------------------------------------------------------
# Data (written in batches by the sink)
# --------------------------------------------------------------------------------------------


class Station(models.Model):
    """A data logger heard from (MN), registered as an outlet or not."""

    mn = models.CharField(_("数采仪编码（MN）"), max_length=MN_LENGTH, primary_key=True)
    first_seen_at = models.DateTimeField(_("首次接收"))
    last_seen_at = models.DateTimeField(_("最近接收"))
    last_data_time = models.DateTimeField(_("最新数据时间"), null=True)
    records = models.BigIntegerField(_("已存数据记录数"), default=0)

    class Meta:
        verbose_name = _("数采仪")
        verbose_name_plural = _("数采仪")

    def __str__(self) -> str:
        return self.mn


class Receipt(models.Model):
    """One stored data record (MN, CN, DataTime): idempotency key and receipt count."""

    pk = models.CompositePrimaryKey("mn", "cn", "data_time")
    mn = models.CharField(max_length=MN_LENGTH)
    cn = models.CharField(max_length=4)
    data_time = models.DateTimeField()
    st = models.CharField(max_length=2)
    qn = models.CharField(max_length=20, blank=True)
    flag = models.SmallIntegerField(null=True)
    version = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField()
    codes = models.SmallIntegerField(default=0)  # pollutant codes in the record
    # content fingerprint (core.hj212_stream.record_digest): same key, same digest = re-send;
    # other digest = correction (修约/补发), stored as revision + 1 with the old one kept in
    # ReceiptVersion.  "" = stored before fingerprints (re-sends of it count as duplicates).
    digest = models.CharField(max_length=DIGEST_LENGTH, blank=True, default="")
    revision = models.SmallIntegerField(default=1)

    class Meta:
        verbose_name = _("数据记录回执")
        verbose_name_plural = _("数据记录回执")


class ReceiptVersion(models.Model):
    """A superseded version of a data record (修约/补发): what was stored before a correction."""

    mn = models.CharField(_("MN"), max_length=MN_LENGTH)
    cn = models.CharField(_("数据类型"), max_length=4)
    data_time = models.DateTimeField(_("数据时间"))
    revision = models.SmallIntegerField(_("版本"))
    digest = models.CharField(max_length=DIGEST_LENGTH, blank=True)
    qn = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    replaced_at = models.DateTimeField(_("被更正时间"))
    values = models.JSONField(_("数值"))  # code -> {column: value}

    class Meta:
        verbose_name = _("数据记录历史版本")
        verbose_name_plural = _("数据记录历史版本")
        constraints = [
            models.UniqueConstraint(
                fields=["mn", "cn", "data_time", "revision"], name="mon_receipt_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mn} {self.cn} {self.data_time:%Y-%m-%d %H:%M} v{self.revision}"


class Reading(models.Model):
    """Values of one pollutant in one data record (HJ 212 CP fields as columns)."""

    mn = models.CharField(_("MN"), max_length=MN_LENGTH)
    data_time = models.DateTimeField(_("数据时间"))
    code = models.CharField(_("污染物编码"), max_length=CODE_LENGTH)
    rtd = models.FloatField(_("实时值"), null=True)
    avg = models.FloatField(_("平均值"), null=True)
    min = models.FloatField(_("最小值"), null=True)
    max = models.FloatField(_("最大值"), null=True)
    cou = models.FloatField(_("累计值"), null=True)
    zs_rtd = models.FloatField(_("折算实时值"), null=True)
    zs_avg = models.FloatField(_("折算平均值"), null=True)
    zs_min = models.FloatField(_("折算最小值"), null=True)
    zs_max = models.FloatField(_("折算最大值"), null=True)
    flag = models.CharField(_("数据标记"), max_length=FLAG_LENGTH, blank=True)
    extra = models.JSONField(_("其他字段"), null=True)

    class Meta:
        abstract = True


class RealtimeReading(Reading):
    pk = models.CompositePrimaryKey("mn", "data_time", "code")

    class Meta:
        db_table = "monitoring_rtd"
        verbose_name = _("实时数据")


class MinuteReading(Reading):
    pk = models.CompositePrimaryKey("mn", "data_time", "code")

    class Meta:
        db_table = "monitoring_minute"
        verbose_name = _("分钟数据")


class HourReading(Reading):
    pk = models.CompositePrimaryKey("mn", "data_time", "code")

    class Meta:
        db_table = "monitoring_hour"
        verbose_name = _("小时数据")


class DayReading(Reading):
    pk = models.CompositePrimaryKey("mn", "data_time", "code")

    class Meta:
        db_table = "monitoring_day"
        verbose_name = _("日数据")


class OtherReading(Reading):
    """Uploads other than 2011/2051/2061/2031 (e.g. 2021 运行状态, 2041 运行时间)."""

    pk = models.CompositePrimaryKey("mn", "cn", "data_time", "code")
    cn = models.CharField(max_length=4)

    class Meta:
        db_table = "monitoring_other"
        verbose_name = _("其他数据")


#: CN -> readings model (anything else goes to OtherReading)
READING_MODELS: dict[str, type[Reading]] = {
    DataType.REALTIME: RealtimeReading,
    DataType.MINUTE: MinuteReading,
    DataType.HOUR: HourReading,
    DataType.DAY: DayReading,
}

#: HJ 212 field suffix -> column (numbers); "Flag" goes to ``flag``, anything else to ``extra``
NUMERIC_COLUMNS: dict[str, str] = {
    "Rtd": "rtd",
    "Avg": "avg",
    "Min": "min",
    "Max": "max",
    "Cou": "cou",
    "ZsRtd": "zs_rtd",
    "ZsAvg": "zs_avg",
    "ZsMin": "zs_min",
    "ZsMax": "zs_max",
}


def reading_model(cn: str) -> type[Reading]:
    return READING_MODELS.get(cn, OtherReading)


# --------------------------------------------------------------------------------------------
# Alarms
# --------------------------------------------------------------------------------------------


class AlarmKind(models.TextChoices):
    EXCEEDANCE = "exceedance", _("超标")
    OFFLINE = "offline", _("断线")
    NEGATIVE = "negative", _("异常值：负值")
    OUT_OF_RANGE = "out_of_range", _("异常值：超量程")
    STUCK = "stuck", _("异常值：恒值")


ABNORMAL_KINDS = (AlarmKind.NEGATIVE, AlarmKind.OUT_OF_RANGE, AlarmKind.STUCK)


class AlarmStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    EXPLAINED = "explained", _("已说明")
    CLOSED = "closed", _("已核实办结")
    WITHDRAWN = "withdrawn", _("数据已不支持")


class Alarm(models.Model):
    """报警 — an episode (consecutive records) of exceedance, data loss or abnormal values.

    Handling (处置): the unit (or an officer) explains the cause and what was done; an officer
    verifies and closes it (or reopens it).  Re-evaluation updates an alarm's extent and keeps
    its handling; an alarm the data no longer show is removed while open, and marked
    ``withdrawn`` once handled (the record of what was said stays).
    """

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="alarms"
    )
    kind = models.CharField(_("报警类型"), max_length=16, choices=AlarmKind.choices)
    code = models.CharField(_("污染物编码"), max_length=CODE_LENGTH, blank=True)
    cn = models.CharField(_("数据类型"), max_length=4, blank=True)
    field = models.CharField(_("字段"), max_length=8, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ongoing = models.BooleanField(_("持续中"), default=False)
    records = models.IntegerField(_("涉及记录数"), default=0)
    peak_value = models.FloatField(_("最大（异常）值"), null=True, blank=True)
    limit_value = models.FloatField(_("限值/阈值"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    detail = models.CharField(_("说明"), max_length=255, blank=True)
    rules_version = models.CharField(_("规则版本"), max_length=64)
    evaluated_at = models.DateTimeField(_("评估时间"))
    status = models.CharField(
        _("处置状态"),
        max_length=10,
        choices=AlarmStatus.choices,
        default=AlarmStatus.OPEN,
        db_index=True,
    )
    explanation = models.TextField(_("原因及处理情况"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("说明人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    explained_at = models.DateTimeField(_("说明时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    close_note = models.TextField(_("核实意见"), blank=True)

    class Meta:
        ordering = ["-started_at", "outlet_id", "kind", "code"]
        verbose_name = _("报警")
        verbose_name_plural = _("报警")
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "kind", "code", "cn", "field", "started_at"],
                name="mon_alarm_episode",
            )
        ]
        indexes = [models.Index(fields=["started_at"], name="mon_alarm_started")]

    def __str__(self) -> str:
        return f"{self.outlet.mn} {self.get_kind_display()} {self.code} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_abnormal(self) -> bool:
        return self.kind in ABNORMAL_KINDS


# --------------------------------------------------------------------------------------------
# Shutdown reports (停运报备)
# --------------------------------------------------------------------------------------------


class ShutdownKind(models.TextChoices):
    PRODUCTION = "production", _("停产")
    FACILITY = "facility", _("治理设施停运")
    MONITORING = "monitoring", _("监测设备停运（维护、检修、校准）")


class ShutdownStatus(models.TextChoices):
    FILED = "filed", _("已报备，待审核")
    ACCEPTED = "accepted", _("已确认")
    RETURNED = "returned", _("已退回")


def shutdown_document_path(instance: Shutdown, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return (
        f"monitoring/shutdowns/{timezone.localdate():%Y/%m}/"
        f"outlet{instance.outlet_id}-{timezone.now():%H%M%S%f}{suffix}"
    )


class Shutdown(models.Model):
    """停运报备 — a unit reports that an outlet (or its monitoring) was shut down, with the document.

    An accepted report that was filed in time (``monitoring_rules.yaml`` shutdown) takes the
    hours it covers out of the effective-transmission rate (neither expected nor counted) and
    keeps data gaps inside it from raising 断线 alarms.
    """

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="shutdowns"
    )
    kind = models.CharField(_("停运类型"), max_length=12, choices=ShutdownKind.choices)
    started_at = models.DateTimeField(_("停运开始时间"))
    ended_at = models.DateTimeField(_("停运结束时间"))
    reason = models.TextField(_("停运原因"))
    document = models.FileField(_("证明材料"), upload_to=shutdown_document_path, max_length=255)
    document_name = models.CharField(_("证明材料文件名"), max_length=255)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=ShutdownStatus.choices,
        default=ShutdownStatus.FILED,
        db_index=True,
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报备人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("报备时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("停运报备")
        verbose_name_plural = _("停运报备")
        indexes = [models.Index(fields=["outlet", "started_at"], name="mon_shutdown_outlet")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gt=models.F("started_at")),
                name="mon_shutdown_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outlet.mn} {self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"
