from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EntitiesConfig(AppConfig):
    name = "dualcontrol.entities"
    verbose_name = _("重点用能单位与排污单位")
