from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "dualcontrol.rights"
    verbose_name = _("用能权、排污权、绿证与碳普惠")
