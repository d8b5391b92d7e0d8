from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "dualcontrol.metering"
    verbose_name = _("重点用能单位能耗在线监测")
