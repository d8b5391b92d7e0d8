from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.entities.models import Entity, Industry


@admin.register(Industry)
class IndustryAdmin(AuditedAdmin):
    list_display = ("code", "name", "source")
    search_fields = ("code", "name")


@admin.register(Entity)
class EntityAdmin(AuditedAdmin):
    list_display = (
        "name",
        "uscc",
        "division",
        "industry",
        "is_key_energy_unit",
        "online_monitoring",
        "is_synthetic",
    )
    list_filter = (
        "is_key_energy_unit",
        "is_key_discharger",
        "online_monitoring",
        "is_synthetic",
        "industry",
    )
    search_fields = ("name", "uscc")
    raw_id_fields = ("division",)
