from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "dualcontrol.publishing"
    verbose_name = _("结果公告与公报")
