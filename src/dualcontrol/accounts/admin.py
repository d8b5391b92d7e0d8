from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

# imported first so that their registrations exist to be removed below
from django_otp.plugins.otp_static import admin as _static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

from dualcontrol.accounts import tokens
from dualcontrol.accounts.login_admin import PasswordPolicyAdminMixin
from dualcontrol.accounts.models import ApiToken, User
from dualcontrol.audit.admin import AuditedAdmin


@admin.register(User)
class UserAdmin(PasswordPolicyAdminMixin, AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "role", "division", "entity", "is_active", "is_demo")
    list_filter = ("role", "is_active", "is_demo", "must_change_password")
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
        (_("密码策略"), {"fields": ("must_change_password",)}),
    )
    raw_id_fields = ("division", "entity")
    filter_horizontal = ("assigned_entities",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are revoked (audited), never edited or deleted here: see accounts.tokens."""

    list_display = ("user", "prefix", "created", "expires", "last_used", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix")
    readonly_fields = (
        "user",
        "key_hash",
        "prefix",
        "created",
        "expires",
        "last_used",
        "revoked_at",
        "revoked_reason",
    )
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return tokens.can_manage_all(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not tokens.can_manage_all(request.user):
            actions.pop("revoke", None)
        return actions

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        if not tokens.can_manage_all(request.user):
            raise PermissionDenied
        n = sum(
            tokens.revoke(actor=request.user, token=t, reason="security_admin", note="admin action")
            for t in queryset
        )
        self.message_user(request, _("已吊销 %(n)s 个令牌。") % {"n": n}, messages.SUCCESS)


# Devices of the second factor are enrolled, verified and reset through the audited pages of
# accounts.second_factor, never edited in the admin (a device added here would skip the audit).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
