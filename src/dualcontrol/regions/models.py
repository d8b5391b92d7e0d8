"""Administrative divisions (GB/T 2260, versioned) and the departments of each government."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dualcontrol.core.codes import CodeError, division_level


class Level(models.TextChoices):
    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级（州、市）")
    COUNTY = "county", _("县级（县、市、区）")


class DivisionQuerySet(models.QuerySet["Division"]):
    def valid_on(self, day: dt.date) -> DivisionQuerySet:
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def within(self, division: Division) -> DivisionQuerySet:
        """The division and every division below it."""
        return self.filter(path__startswith=division.path)


class Division(models.Model):
    code = models.CharField(_("区划代码"), max_length=6, db_index=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "530000/530100/530102/" — the chain of codes from the top, for scoping by prefix
    path = models.CharField(_("层级路径"), max_length=64, db_index=True, editable=False)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=255)

    objects = DivisionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="division_code_version")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = (self.parent.path if self.parent else "") + f"{self.code}/"
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        try:
            level = division_level(self.code)
        except CodeError as exc:
            raise ValidationError({"code": str(exc)}) from exc
        if level != self.level:
            raise ValidationError(
                {
                    "level": _("代码 %(code)s 对应级别为 %(level)s")
                    % {"code": self.code, "level": level}
                }
            )
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("停用日期早于启用日期")})


class Department(models.Model):
    """A department of a government (省发展改革委, 市生态环境局 …)."""

    division = models.ForeignKey(
        Division, verbose_name=_("所属政府"), on_delete=models.PROTECT, related_name="departments"
    )
    name = models.CharField(_("部门名称"), max_length=64)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    source = models.CharField(_("来源"), max_length=255, blank=True)

    class Meta:
        ordering = ["division__code", "name"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
