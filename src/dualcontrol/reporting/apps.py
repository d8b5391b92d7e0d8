from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "dualcontrol.reporting"
    verbose_name = _("能源数据填报")
