from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "dualcontrol.exchange"
    verbose_name = _("上下级平台数据交换")
