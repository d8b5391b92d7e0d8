from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "dualcontrol.accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        # production refuses insecure settings and demo accounts: system checks (issue 23)
        import dualcontrol.checks  # noqa: F401

        # signal receivers: API tokens revoked at logout and at any password change (tokens);
        # login audit and lockout, password history, session limits (lockout, passwords, sessions)
        from dualcontrol.accounts import lockout, passwords, sessions, tokens  # noqa: F401
