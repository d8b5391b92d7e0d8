"""Published documents and the optional figures only the bulletin needs.

- :class:`Publication` — a published document: the annual bulletin (公报), the grade list
  (考核结果), the restricted regions (区域限批), the mandatory-audit units (强制能源审计) and the
  quarterly exceedance list of monitored outlets (超标名单, with ``quarter``), each a frozen
  snapshot (header, rows, footnotes) so that what the public sees never changes under it.
  Re-publishing supersedes the earlier version (kept, marked superseded).  The exceedance list is
  first saved as a draft (status ``draft``: reviewed by the province, never public); once
  published its content can no longer change (:meth:`Publication.save` refuses) — a correction
  is a new version.
- :class:`RegionalElectricity` — 全社会用电量 of a region and year (the bulletin's electricity
  intensity column); optional: where it is missing the column is blank and a footnote says so.
- :class:`NationalFigure` — the national row (全国) as published by NBS, for the energy table
  and the CO2 table; optional likewise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dualcontrol.regions.models import Division


class PublicationKind(models.TextChoices):
    BULLETIN = "bulletin", _("能耗指标公报")
    GRADES = "grades", _("考核结果（等级）")
    RESTRICTED = "restricted", _("限批名单（区域、企业）")
    AUDITS = "audits", _("强制能源审计单位名单")
    EXCEEDANCES = "exceedances", _("重点排污单位超标名单（季度）")


#: kinds published per quarter (``Publication.quarter`` set); all others per year
QUARTERLY_KINDS = (PublicationKind.EXCEEDANCES,)


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿（待审核发布）")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被新版本替代")
    WITHDRAWN = "withdrawn", _("已撤回")


class FrozenPublication(Exception):
    """A published (superseded, withdrawn) document's content cannot change."""


#: what a document says; frozen once it leaves the draft status
FROZEN_FIELDS = (
    "kind",
    "division_id",
    "year",
    "quarter",
    "title",
    "content",
    "round_id",
    "version",
    "published_on",
    "is_synthetic",
)


class Publication(models.Model):
    """A published document (snapshot) — what /public/ and /api/public/ serve (drafts never)."""

    kind = models.CharField(_("类别"), max_length=16, choices=PublicationKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(
        _("季度"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("季度发布的文件（超标名单）填 1–4；年度文件为空。"),
    )
    title = models.CharField(_("标题"), max_length=255)
    content = models.JSONField(_("内容（表头、行、附注）"))
    round = models.ForeignKey(
        "assessment.AssessmentRound",
        verbose_name=_("年度考核"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="publications",
    )
    # the province (or, for a city's assessment round, the city) that publishes: several provinces
    # in one installation each publish their own documents (issue 22)
    division = models.ForeignKey(
        "regions.Division",
        verbose_name=_("发布地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=PublicationStatus.choices,
        default=PublicationStatus.PUBLISHED,
    )
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    published_on = models.DateField(_("发布日期"))
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_note = models.TextField(_("撤回说明"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)

    class Meta:
        ordering = ["-year", "-quarter", "kind", "-version"]
        verbose_name = _("公开发布")
        verbose_name_plural = _("公开发布")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "round"],
                condition=Q(status="published"),
                name="one_published_per_kind_year_round",
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "division"],
                condition=Q(status="published", round__isnull=True, quarter__isnull=True),
                name="one_published_bulletin_per_year_division",
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "quarter", "division"],
                condition=Q(status="published", quarter__isnull=False),
                name="one_published_per_kind_year_quarter_division",
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "quarter", "division"],
                condition=Q(status="draft"),
                name="one_draft_per_kind_year_quarter_division",
            ),
            models.CheckConstraint(
                condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4),
                name="publication_quarter_1_to_4",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=QUARTERLY_KINDS) & Q(quarter__isnull=False))
                | (~Q(kind__in=QUARTERLY_KINDS) & Q(quarter__isnull=True)),
                name="publication_quarter_iff_quarterly",
            ),
            models.CheckConstraint(
                condition=~Q(status="draft") | Q(kind__in=QUARTERLY_KINDS),
                name="publication_draft_only_quarterly",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change what a document says once it has left the draft status."""
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("status", *FROZEN_FIELDS).first()
            if stored is not None and stored["status"] != PublicationStatus.DRAFT:
                changed = [f for f in FROZEN_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    raise FrozenPublication(
                        f"publication {self.pk} is {stored['status']}: "
                        f"{', '.join(changed)} cannot change (publish a new version)"
                    )
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == PublicationStatus.DRAFT

    @property
    def period_label(self) -> str:
        """``2026`` or ``2026年第三季度``."""
        if self.quarter:
            return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"
        return str(self.year)

    @property
    def header(self) -> list[str]:
        return list(self.content.get("header", []))

    @property
    def rows(self) -> list[dict]:
        return list(self.content.get("rows", []))

    @property
    def footnotes(self) -> list[str]:
        return list(self.content.get("footnotes", []))


class RegionalElectricity(models.Model):
    """全社会用电量 of a region in a year (万千瓦时) — for the bulletin's 电耗 column."""

    division = models.ForeignKey(
        Division, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    electricity_10k_kwh = models.DecimalField(
        _("全社会用电量（万千瓦时）"), max_digits=16, decimal_places=2
    )
    source = models.CharField(_("来源"), max_length=255)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["division__code", "year"]
        verbose_name = _("地区全社会用电量")
        verbose_name_plural = _("地区全社会用电量")
        constraints = [
            models.UniqueConstraint(fields=["division", "year"], name="electricity_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.division.name} {self.year}"


class NationalFigure(models.Model):
    """全国 row of the bulletin as published by NBS (percentages as printed: -3.80 = −3.80 %)."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    intensity_change_pct = models.DecimalField(
        _("万元国内生产总值能耗上升或下降(±%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    energy_growth_pct = models.DecimalField(
        _("能源消费总量增速(%)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    electricity_intensity_change_pct = models.DecimalField(
        _("万元国内生产总值电耗上升或下降(±%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    # the CO2 table (platform layout): NBS publishes these with one decimal ("下降3.8%")
    co2_intensity_change_pct = models.DecimalField(
        _("万元国内生产总值二氧化碳排放上升或下降(±%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    co2_intensity_cumulative_change_pct = models.DecimalField(
        _("万元国内生产总值二氧化碳排放比五年规划基期累计上升或下降(±%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("基期为该年所在五年规划期的基期年（如 2026–2030 年为 2025 年）"),
    )
    source = models.CharField(_("来源（公报名称与网址）"), max_length=500)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("全国指标（国家公报）")
        verbose_name_plural = _("全国指标（国家公报）")

    def __str__(self) -> str:
        return f"全国 {self.year}"
