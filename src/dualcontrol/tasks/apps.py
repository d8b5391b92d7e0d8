from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "dualcontrol.tasks"
    verbose_name = _("部门分工与任务跟踪")
