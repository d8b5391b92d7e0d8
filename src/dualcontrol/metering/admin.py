"""Admin of the monitoring registry (audited); readings, roll-ups and batches are read-only here."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.core import metering as core
from dualcontrol.metering.models import (
    Alert,
    DataItem,
    FaultReport,
    IngestBatch,
    MeteringInstrument,
)
from dualcontrol.reference.metering import code_catalogue


class DataItemForm(forms.ModelForm):
    class Meta:
        model = DataItem
        fields = [
            "entity",
            "code",
            "name",
            "frequency",
            "interval_minutes",
            "interval_grant",
            "source",
            "unit",
            "min_value",
            "max_value",
            "is_reported",
            "boundary",
            "instrument",
            "system_name",
            "active",
            "active_from",
        ]

    def clean(self):
        data = super().clean()
        entity = data.get("entity")
        code = (data.get("code") or "").strip().upper()
        problems = core.code_problems(code, code_catalogue())
        if problems:
            raise forms.ValidationError([p.message() for p in problems])
        if entity is not None:
            from dualcontrol.metering.services import ItemInput, RegistryRejected, _validate_one

            try:
                self.cleaned_values = _validate_one(
                    entity,
                    ItemInput(
                        code=code,
                        frequency=data.get("frequency"),
                        name=data.get("name") or "",
                        interval_minutes=data.get("interval_minutes"),
                        interval_grant=data.get("interval_grant") or "",
                        source=data.get("source") or 4,
                        unit=data.get("unit") or "",
                        min_value=data.get("min_value"),
                        max_value=data.get("max_value"),
                        is_reported=bool(data.get("is_reported")),
                        boundary=data.get("boundary") or "",
                        instrument_number=data["instrument"].number
                        if data.get("instrument")
                        else "",
                        system_name=data.get("system_name") or "",
                        active=bool(data.get("active")),
                        active_from=data.get("active_from"),
                    ),
                )
            except RegistryRejected as exc:
                raise forms.ValidationError(
                    [f"{p.field}: {p.reason}" for p in exc.problems]
                ) from exc
        data["code"] = code
        return data


@admin.register(DataItem)
class DataItemAdmin(AuditedAdmin):
    """Saved through the same validation as the API: the code is decomposed on save."""

    form = DataItemForm
    list_display = (
        "entity",
        "code",
        "name",
        "frequency",
        "boundary",
        "is_reported",
        "active",
        "last_ts",
    )
    list_filter = ("frequency", "data_type", "boundary", "active")
    search_fields = ("code", "name", "entity__name", "entity__uscc")
    raw_id_fields = ("entity", "instrument")

    def save_model(self, request, obj, form, change):
        for k, v in getattr(form, "cleaned_values", {}).items():
            setattr(obj, k, v)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # readings refer to items: deactivate instead


@admin.register(MeteringInstrument)
class MeteringInstrumentAdmin(AuditedAdmin):
    list_display = (
        "entity",
        "number",
        "name",
        "grade",
        "calibration_status",
        "next_calibration",
        "status",
    )
    list_filter = ("grade", "status", "calibration_status")
    search_fields = ("number", "name", "entity__name", "entity__uscc")
    raw_id_fields = ("entity",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "entity",
        "received_at",
        "channel",
        "n_readings",
        "n_stored",
        "n_duplicates",
        "n_rejected",
    )
    list_filter = ("channel",)
    search_fields = ("entity__name", "entity__uscc")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("day", "entity", "kind", "message", "resolved_at")
    list_filter = ("kind",)
    search_fields = ("entity__name", "entity__uscc", "message")


@admin.register(FaultReport)
class FaultReportAdmin(ReadOnlyAdmin):
    """Read-only: 报备 changes go through the workflow (services)."""

    list_display = ("entity", "started", "expected_repair", "status", "repaired_at")
    list_filter = ("status",)
