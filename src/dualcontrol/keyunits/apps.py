from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeyUnitsConfig(AppConfig):
    name = "dualcontrol.keyunits"
    verbose_name = _("重点用能单位")
