from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_schedules(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: the periodic jobs of ``jobs_policy.yaml`` exist (idempotent)."""
    from django.db import connections

    if (
        using != "default"
        or "django_q_schedule" not in connections[using].introspection.table_names()
    ):
        return
    from dualcontrol.jobs.services import sync_schedules

    sync_schedules(audit=False)


class JobsConfig(AppConfig):
    name = "dualcontrol.jobs"
    label = "jobs"
    verbose_name = _("后台任务与邮件发件箱")

    def ready(self) -> None:
        post_migrate.connect(
            _sync_schedules, sender=self, dispatch_uid="dualcontrol.jobs.schedules"
        )
