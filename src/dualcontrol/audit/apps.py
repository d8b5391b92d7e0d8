from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "dualcontrol.audit"
    verbose_name = _("审计日志")

    def ready(self) -> None:
        from django.core import checks

        from dualcontrol.audit import signals
        from dualcontrol.audit.admin import register_group_admin
        from dualcontrol.audit.checks import retention_check

        signals.connect()
        register_group_admin()
        checks.register(retention_check, "dualcontrol")
