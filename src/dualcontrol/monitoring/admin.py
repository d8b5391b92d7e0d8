"""Admin: monitoring tables for inspection.

Configuration is added and changed on the monitoring pages, through the services (validated,
versioned limits, audited); here it can be looked at and — audited — deleted.  Data tables are
written only by the ingest sink; alarms only by the evaluation.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.monitoring.models import (
    Alarm,
    AnalyserRange,
    Outlet,
    PollutantLimit,
    Shutdown,
    Station,
)


class _ViewAndDelete(AuditedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """Looked at only: written by the evaluation, the sink or the pages' services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LimitInline(admin.TabularInline):
    model = PollutantLimit
    extra = 0
    can_delete = False
    fields = ("code", "cn", "field", "limit_value", "unit", "standard", "valid_from", "valid_to")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Outlet)
class OutletAdmin(_ViewAndDelete):
    list_display = ("mn", "name", "entity", "kind", "permit_number", "active", "is_synthetic")
    # the station password (PW) is never shown: only whether one is registered
    exclude = ("station_password",)
    readonly_fields = ("station_password_masked",)

    @admin.display(description=_("数采仪访问密码（PW）"))
    def station_password_masked(self, obj: Outlet) -> str:
        return str(_("已登记（******）") if obj.station_password else _("未登记"))

    list_filter = ("kind", "active", "is_synthetic")
    search_fields = ("mn", "name", "entity__name", "permit_number")
    inlines = [LimitInline]


@admin.register(PollutantLimit)
class PollutantLimitAdmin(_ViewAndDelete):
    list_display = (
        "outlet",
        "code",
        "cn",
        "field",
        "limit_value",
        "unit",
        "valid_from",
        "valid_to",
    )
    list_filter = ("cn", "field")
    search_fields = ("outlet__mn", "code", "standard")


@admin.register(AnalyserRange)
class AnalyserRangeAdmin(_ViewAndDelete):
    list_display = ("outlet", "code", "low", "high", "unit")
    search_fields = ("outlet__mn", "code")


@admin.register(Alarm)
class AlarmAdmin(_ReadOnly):
    list_display = (
        "started_at",
        "outlet",
        "kind",
        "code",
        "ended_at",
        "ongoing",
        "records",
        "status",
    )
    list_filter = ("kind", "ongoing", "status")
    search_fields = ("outlet__mn", "outlet__name", "code")
    date_hierarchy = "started_at"


@admin.register(Station)
class StationAdmin(_ReadOnly):
    list_display = ("mn", "first_seen_at", "last_seen_at", "last_data_time", "records")
    search_fields = ("mn",)


@admin.register(Shutdown)
class ShutdownAdmin(_ReadOnly):
    """Read-only here: reports are filed and reviewed on the pages (validated, audited)."""

    list_display = ("outlet", "kind", "started_at", "ended_at", "status", "filed_at")
    list_filter = ("status", "kind")
    search_fields = ("outlet__mn", "outlet__name")
    date_hierarchy = "started_at"
