from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.tasks.models import (
    DepartmentAlias,
    ImportedDepartment,
    Plan,
    PlanTask,
    ProgressReport,
    TaskAssignment,
)


class ReadOnlyAdmin(AuditedAdmin):
    """Shown for inspection; changes go through tasks/services.py (pages, API, CLI).  Deleting a
    plan here (audited) removes its tasks, assignments and progress reports."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AssignmentInline(admin.TabularInline):
    model = TaskAssignment
    extra = 0
    can_delete = False
    fields = ("department", "role", "name_as_written", "percent_complete", "last_report_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "division",
        "period_start",
        "period_end",
        "office",
        "imported_at",
        "is_demo",
    )
    list_filter = ("is_demo", "division__level")
    search_fields = ("title", "filename", "issuing_body", "source_sha256")
    exclude = ("source_text",)


@admin.register(PlanTask)
class PlanTaskAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "title",
        "plan",
        "deadline",
        "status",
        "percent_complete",
        "last_activity_on",
    )
    list_filter = ("status", "plan")
    search_fields = ("key", "title", "text")
    inlines = [AssignmentInline]


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    list_display = (
        "task",
        "department",
        "period",
        "percent_complete",
        "blocked",
        "submitted_at",
        "is_demo",
    )
    list_filter = ("blocked", "is_demo", "period")
    search_fields = ("task__title", "department__name", "narrative")
    raw_id_fields = ("task",)


@admin.register(DepartmentAlias)
class DepartmentAliasAdmin(AuditedAdmin):
    list_display = ("name", "department", "division", "created_at")
    search_fields = ("name", "department__name")
    raw_id_fields = ("department", "division")


@admin.register(ImportedDepartment)
class ImportedDepartmentAdmin(ReadOnlyAdmin):
    list_display = ("department", "plan", "created_at")
