from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CarbonMarketConfig(AppConfig):
    name = "dualcontrol.carbonmarket"
    verbose_name = _("碳排放权交易")
