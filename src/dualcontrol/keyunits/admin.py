"""Admin: the key-unit tables are read in the admin; the services write them (audit entries)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dualcontrol.keyunits.models import (
    AuditOrder,
    Designation,
    EnergyManager,
    ProductGrade,
    PublishedList,
    StatusReport,
    Surcharge,
)


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Designation)
class DesignationAdmin(ReadOnly):
    list_display = ("entity", "year", "tier", "status", "basis_energy_tce", "published")
    list_filter = ("year", "tier", "status")
    search_fields = ("entity__name", "entity__uscc")


@admin.register(EnergyManager)
class EnergyManagerAdmin(ReadOnly):
    list_display = ("entity", "name", "certificate_no", "valid_until")
    search_fields = ("entity__name", "name")


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnly):
    list_display = ("entity", "year", "status", "revision", "energy_tce", "deadline")
    list_filter = ("year", "status")
    search_fields = ("entity__name",)


@admin.register(ProductGrade)
class ProductGradeAdmin(ReadOnly):
    list_display = (
        "entity",
        "year",
        "product",
        "indicator",
        "value",
        "grade",
        "benchmark_position",
    )
    list_filter = ("year", "grade", "benchmark_position", "product")


@admin.register(AuditOrder)
class AuditOrderAdmin(ReadOnly):
    list_display = ("entity", "year", "reason", "ordered_at", "due", "status")
    list_filter = ("status", "reason")


@admin.register(Surcharge)
class SurchargeAdmin(ReadOnly):
    list_display = ("entity", "year", "product", "surcharge_yuan_per_kwh", "rule", "rule_version")
    list_filter = ("year", "rule")


@admin.register(PublishedList)
class PublishedListAdmin(ReadOnly):
    list_display = ("kind", "year", "published_at", "published_by")
