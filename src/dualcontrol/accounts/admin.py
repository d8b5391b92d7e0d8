from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from dualcontrol.accounts.models import ApiToken, User
from dualcontrol.audit.admin import AuditedAdmin


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "role", "division", "entity", "is_active", "is_demo")
    list_filter = ("role", "is_active", "is_demo")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("角色与范围"),
            {
                "fields": (
                    "role",
                    "division",
                    "department",
                    "entity",
                    "assigned_entities",
                    "is_demo",
                )
            },
        ),
    )
    raw_id_fields = ("division", "entity")
    filter_horizontal = ("assigned_entities",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "created", "expires", "last_used")
    readonly_fields = ("user", "key_hash", "prefix", "created", "expires", "last_used")

    def has_add_permission(self, request):
        return False
