from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "dualcontrol.assessment"
    verbose_name = _("目标责任评价考核")
