"""Admin: the project registry for inspection.

Projects, schedules, evidence and verifications are written on the project pages through the
services (validated, audited); here they can be looked at.  Verification records are never changed.
"""

from django.contrib import admin

from dualcontrol.projects.models import (
    Evidence,
    Milestone,
    Project,
    ProjectAlert,
    ProjectFigure,
    Verification,
)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _InlineReadOnly(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FigureInline(_InlineReadOnly):
    model = ProjectFigure
    fields = ("measure", "planned_amount", "verified_amount")


class MilestoneInline(_InlineReadOnly):
    model = Milestone
    fields = ("name", "due_date", "done_on")


class EvidenceInline(_InlineReadOnly):
    model = Evidence
    fields = ("kind", "document_name", "sha256", "uploaded_by", "uploaded_at")


@admin.register(Project)
class ProjectAdmin(_ReadOnly):
    list_display = (
        "name",
        "kind",
        "type_code",
        "division",
        "status",
        "accounting_year",
        "is_synthetic",
    )
    list_filter = ("kind", "status", "accounting_year", "is_synthetic")
    search_fields = ("name", "owner_name", "entity__name", "registry_code")
    inlines = [FigureInline, MilestoneInline, EvidenceInline]


@admin.register(Verification)
class VerificationAdmin(_ReadOnly):
    list_display = ("project", "decision", "automatic", "decided_by_name", "decided_at")
    list_filter = ("decision", "automatic")
    search_fields = ("project__name", "reason", "note")


@admin.register(ProjectAlert)
class ProjectAlertAdmin(_ReadOnly):
    list_display = ("subject", "recipient", "created", "read_at")
