from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.reporting.models import EnergyProduct, EnergyReport


@admin.register(EnergyProduct)
class EnergyProductAdmin(AuditedAdmin):
    list_display = (
        "code",
        "name_zh",
        "unit",
        "kind",
        "coefficient_tce_per_unit",
        "plausible_low",
        "plausible_high",
        "valid_from",
        "valid_to",
    )
    list_filter = ("kind",)
    search_fields = ("code", "name_zh", "name_en")


@admin.register(EnergyReport)
class EnergyReportAdmin(admin.ModelAdmin):
    """Read-only here: reports change only through the reporting workflow (services)."""

    list_display = (
        "entity",
        "period_type",
        "year",
        "month",
        "status",
        "current_revision",
        "energy_tce",
    )
    list_filter = ("status", "period_type", "year")
    search_fields = ("entity__name", "entity__uscc")
    raw_id_fields = ("entity",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
