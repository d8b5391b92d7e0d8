"""Reporting entities: key energy-consuming units and key pollutant dischargers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.core.codes import CodeError, validate_uscc
from dualcontrol.regions.models import Division


def uscc_validator(value: str) -> None:
    try:
        validate_uscc(value)
    except CodeError as exc:
        raise ValidationError(_("统一社会信用代码无效：%(reason)s") % {"reason": str(exc)}) from exc


class Industry(models.Model):
    """GB/T 4754 industry (国民经济行业分类)."""

    code = models.CharField(_("行业代码"), max_length=5, unique=True)
    name = models.CharField(_("行业名称"), max_length=64)
    source = models.CharField(_("来源"), max_length=255)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行业（GB/T 4754）")
        verbose_name_plural = _("行业（GB/T 4754）")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Entity(models.Model):
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[uscc_validator]
    )
    name = models.CharField(_("单位名称"), max_length=128)
    division = models.ForeignKey(
        Division, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="entities"
    )
    industry = models.ForeignKey(
        Industry, verbose_name=_("行业"), on_delete=models.PROTECT, related_name="entities"
    )
    is_key_energy_unit = models.BooleanField(_("重点用能单位"), default=True)
    is_key_discharger = models.BooleanField(_("重点排污单位"), default=False)
    annual_energy_tce = models.DecimalField(
        _("上年综合能源消费量（吨标准煤）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    online_monitoring = models.BooleanField(_("纳入能耗在线监测"), default=False)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contact_name = models.CharField(_("能源管理负责人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["division__code", "name"]
        verbose_name = _("报告单位")
        verbose_name_plural = _("报告单位")

    def __str__(self) -> str:
        return self.name
