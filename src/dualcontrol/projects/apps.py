from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "dualcontrol.projects"
    verbose_name = _("减排项目")
