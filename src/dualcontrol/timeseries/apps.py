from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TimeseriesConfig(AppConfig):
    name = "dualcontrol.timeseries"
    verbose_name = _("时序数据分区与保留")
