from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "dualcontrol.accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        # production refuses insecure settings and demo accounts: system checks (issue 23)
        # the Django admin answers only the roles of the rule ``admin.site`` (separated duties:
        # the system and security administrators), whatever an account's staff flag says
        from django.contrib import admin

        import dualcontrol.checks  # noqa: F401
        from dualcontrol.access.rules import allows

        # signal receivers: API tokens revoked at logout and at any password change (tokens);
        # login audit and lockout, password history, session limits (lockout, passwords, sessions)
        from dualcontrol.accounts import lockout, passwords, sessions, tokens  # noqa: F401

        default = admin.site.has_permission

        def has_permission(request: Any) -> bool:
            return bool(default(request)) and allows(request.user, "admin.site")

        admin.site.has_permission = has_permission  # type: ignore[method-assign]
