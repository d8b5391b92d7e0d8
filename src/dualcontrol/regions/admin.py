from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.regions.models import Department, Division


@admin.register(Division)
class DivisionAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("name", "short_name", "division")
    search_fields = ("name",)
    raw_id_fields = ("division",)
