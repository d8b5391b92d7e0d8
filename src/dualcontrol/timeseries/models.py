"""Hourly and daily roll-ups of the raw time series, kept for years after the raw rows go.

Written only by :mod:`dualcontrol.timeseries.services` (grouped ``INSERT … SELECT … ON CONFLICT
DO UPDATE``), read by :mod:`dualcontrol.timeseries.queries`.  Sums and counts are stored, not
means, so a day is exactly the sum of its hours.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    HOUR = "hour", _("小时")
    DAY = "day", _("日")


class MonitoringRollup(models.Model):
    """One pollutant of one station over an hour or a day, from minute (2051) or real-time (2011)
    records.  ``total``/``n``: the mean of Avg (minute) or Rtd (real-time)."""

    mn = models.CharField(_("MN"), max_length=24)
    cn = models.CharField(_("来源数据类型"), max_length=4)
    code = models.CharField(_("污染物编码"), max_length=16)
    period = models.CharField(_("周期"), max_length=4, choices=Period.choices)
    start = models.DateTimeField(_("开始时间"))
    n = models.IntegerField(_("数值个数"))
    total = models.FloatField(null=True)
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    cou_total = models.FloatField(_("累计值合计"), null=True)
    zs_n = models.IntegerField(default=0)
    zs_total = models.FloatField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("污染源监测数据汇总")
        verbose_name_plural = _("污染源监测数据汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["mn", "cn", "code", "period", "start"], name="ts_monitoring_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["period", "start"], name="ts_monitoring_rollup_start")]

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n and self.total is not None else None


class MeteringRollup(models.Model):
    """One metering data item over an hour or a day (sum, count, min, max of its readings)."""

    item_id = models.BigIntegerField(_("数据项"))
    period = models.CharField(_("周期"), max_length=4, choices=Period.choices)
    start = models.DateTimeField(_("开始时间"))
    n = models.IntegerField(_("数值个数"))
    total = models.FloatField(null=True)
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("能耗在线监测数据汇总")
        verbose_name_plural = _("能耗在线监测数据汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["item_id", "period", "start"], name="ts_metering_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["period", "start"], name="ts_metering_rollup_start")]

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n and self.total is not None else None


class RollupMark(models.Model):
    """How far a raw table is rolled up (every complete hour before ``rolled_to``)."""

    table = models.CharField(max_length=64, primary_key=True)
    rolled_to = models.DateTimeField()
    computed_at = models.DateTimeField()
