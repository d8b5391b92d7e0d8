"""The roll-up tables (rebuilt by :mod:`dualcontrol.rollups.services`, never edited by hand)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# ``month`` 0 is the annual report's row; ``industry_code`` "" is the row of all sectors.
ANNUAL = 0
ALL_SECTORS = ""


class RegionMonth(models.Model):
    """The reports of the units in one division (any level, its sub-divisions included) for one
    period: how many in each status, and their sums (all statuses, and accepted only)."""

    division = models.ForeignKey(
        "regions.Division", verbose_name=_("区划"), on_delete=models.CASCADE, related_name="+"
    )
    industry_code = models.CharField(_("行业代码"), max_length=8, blank=True)
    period_type = models.CharField(_("报表类型"), max_length=8)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"))
    reports_n = models.PositiveIntegerField(_("报表数"), default=0)
    draft_n = models.PositiveIntegerField(default=0)
    submitted_n = models.PositiveIntegerField(default=0)
    returned_n = models.PositiveIntegerField(default=0)
    accepted_n = models.PositiveIntegerField(default=0)
    energy_tce = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    accepted_energy_tce = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    accepted_energy_equiv_tce = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    accepted_co2_t = models.DecimalField(max_digits=20, decimal_places=4, default=0)

    class Meta:
        verbose_name = _("地区月度报表汇总")
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["division", "industry_code", "period_type", "year", "month"],
                name="rollup_region_month_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["division", "industry_code", "year", "month"], name="rollup_region_lookup"
            )
        ]


class UnitMonth(models.Model):
    """One unit's accepted monthly reports: the month's figures and January…month sums, with the
    months that the sums hold (bit ``m − 1`` set for month m)."""

    entity = models.ForeignKey(
        "entities.Entity", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份"))
    energy_tce = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    co2_t = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    ytd_energy_tce = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    ytd_energy_equiv_tce = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    ytd_co2_t = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    ytd_months = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("单位月度报表汇总")
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "entity"], name="rollup_unit_month_unique"
            )
        ]


class DirtyYear(models.Model):
    """A year whose reports changed after its roll-ups were computed."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    marked_at = models.DateTimeField()


class RefreshState(models.Model):
    """When the roll-ups were last computed, and what that run did (one row)."""

    refreshed_at = models.DateTimeField(null=True)
    years = models.JSONField(default=list)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
