"""Admin pieces of the login policy: audited lock clearing, forced change of admin-set passwords.

- axes' tables (failure counters, failure log, login log) for the security administrators (group
  "安全管理员", see :func:`dualcontrol.accounts.lockout.security_group`): the logs read-only, a
  failure counter deletable — deleting it lifts the lock, audited as ``login.unlock``;
- :class:`PasswordPolicyAdminMixin` for the user admin: an account created in the admin, or whose
  password an administrator sets there, must choose its own password at the next login
  (``User.must_change_password``); each admin-set password is audited as ``password.admin_set``.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin as BaseAccessAttemptAdmin
from axes.admin import AccessFailureLogAdmin as BaseAccessFailureLogAdmin
from axes.admin import AccessLogAdmin as BaseAccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction

from dualcontrol.accounts import lockout
from dualcontrol.accounts.models import User
from dualcontrol.audit.services import record


@admin.register(AccessAttempt)
class AccessAttemptAdmin(BaseAccessAttemptAdmin):
    """Failure counters; deleting one lifts its lock (audited)."""

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: Any, obj: AccessAttempt) -> None:
        lockout.clear_attempt(actor=request.user, attempt=obj, note="admin")

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for attempt in queryset:
            lockout.clear_attempt(actor=request.user, attempt=attempt, note="admin")


class _ReadOnly:
    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(_ReadOnly, BaseAccessFailureLogAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(_ReadOnly, BaseAccessLogAdmin):
    pass


class AdminSetPasswordForm(AdminPasswordChangeForm):
    """The admin's "set password" form: the user must replace the password at the next login."""

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data.get("set_usable_password", True):
            self.user.must_change_password = True
        self.user._password_set_by_admin = True
        return super().save(commit)


class PasswordPolicyAdminMixin:
    """For ``UserAdmin``: forced change of admin-created or admin-set passwords, audited."""

    change_password_form = AdminSetPasswordForm

    def save_model(self, request: Any, obj: User, form: Any, change: bool) -> None:
        if not change and obj.has_usable_password() and not obj.is_demo:
            obj.must_change_password = True
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        # the new password, the admin's log entry and the audit entry: one transaction
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)  # type: ignore[misc]

    def log_change(self, request: Any, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        if getattr(obj, "_password_set_by_admin", False):
            obj._password_set_by_admin = False
            if obj.pk == request.user.pk and obj.must_change_password:
                # an administrator setting their own password chose it themselves
                obj.must_change_password = False
                User.objects.filter(pk=obj.pk).update(must_change_password=False)
            record(
                actor=request.user,
                action="password.admin_set",
                obj=obj,
                after={
                    "usable": obj.has_usable_password(),
                    "must_change_password": obj.must_change_password,
                },
            )
        return entry
