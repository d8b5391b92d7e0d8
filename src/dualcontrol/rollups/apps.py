from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RollupsConfig(AppConfig):
    name = "dualcontrol.rollups"
    verbose_name = _("报表汇总")

    def ready(self) -> None:
        from dualcontrol.rollups import signals  # noqa: F401  (marks the changed years)
