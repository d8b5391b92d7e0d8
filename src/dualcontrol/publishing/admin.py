"""Admin: the optional bulletin figures (electricity, the national row) are edited here
(audited); publications are read-only (published and withdrawn through the services)."""

from __future__ import annotations

from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.publishing.models import NationalFigure, Publication, RegionalElectricity


@admin.register(RegionalElectricity)
class RegionalElectricityAdmin(AuditedAdmin):
    list_display = ("division", "year", "electricity_10k_kwh", "source", "is_synthetic")
    list_filter = ("year", "is_synthetic")
    search_fields = ("division__name", "division__code")


@admin.register(NationalFigure)
class NationalFigureAdmin(AuditedAdmin):
    list_display = (
        "year",
        "intensity_change_pct",
        "energy_growth_pct",
        "electricity_intensity_change_pct",
        "co2_intensity_change_pct",
        "co2_intensity_cumulative_change_pct",
        "source",
    )


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "year", "version", "status", "published_on")
    list_filter = ("kind", "year", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
