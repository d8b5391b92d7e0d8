"""Admin: scoring sheets are edited here (validated through ``parse_sheet`` on save, audited);
the assessment's own tables are read-only here — they change only through the services."""

from __future__ import annotations

from django.contrib import admin

from dualcontrol.assessment.models import (
    AssessmentRecord,
    AssessmentRound,
    Consequence,
    CreditRecord,
    ScoringSheet,
)
from dualcontrol.audit.admin import AuditedAdmin


@admin.register(ScoringSheet)
class ScoringSheetAdmin(AuditedAdmin):
    list_display = ("name", "title_zh", "subject", "version", "is_builtin", "active", "updated")
    list_filter = ("subject", "is_builtin", "active")
    search_fields = ("name", "title_zh")
    readonly_fields = ("version", "is_builtin", "subject", "updated")
    fields = (
        "name",
        "title_zh",
        "source",
        "definition",
        "active",
        "subject",
        "version",
        "is_builtin",
        "updated",
    )

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.rounds.exists()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AssessmentRound)
class AssessmentRoundAdmin(ReadOnlyAdmin):
    list_display = ("title", "year", "assessor", "sheet_name", "status", "announced_on")
    list_filter = ("year", "status", "subject_kind")


@admin.register(AssessmentRecord)
class AssessmentRecordAdmin(ReadOnlyAdmin):
    list_display = ("round", "division", "entity", "status", "total_score", "grade_name", "vetoed")
    list_filter = ("round__year", "status", "grade_name")


@admin.register(Consequence)
class ConsequenceAdmin(ReadOnlyAdmin):
    list_display = ("year", "division", "entity", "title_zh", "issued_on", "due_on", "status")
    list_filter = ("year", "status", "kind")


@admin.register(CreditRecord)
class CreditRecordAdmin(ReadOnlyAdmin):
    list_display = ("entity", "year", "title", "recorded_on")
    search_fields = ("entity__name", "entity__uscc")
