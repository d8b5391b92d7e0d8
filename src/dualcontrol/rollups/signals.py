"""A saved or deleted report, or a unit moved to another division or sector, marks its years."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from dualcontrol.entities.models import Entity
from dualcontrol.reporting.models import EnergyReport
from dualcontrol.rollups.services import mark_changed


@receiver(post_save, sender=EnergyReport, dispatch_uid="rollups-report-saved")
@receiver(post_delete, sender=EnergyReport, dispatch_uid="rollups-report-deleted")
def _report_changed(sender: Any, instance: EnergyReport, **kwargs: Any) -> None:
    if not kwargs.get("raw"):
        mark_changed([instance.year])


@receiver(pre_save, sender=Entity, dispatch_uid="rollups-entity-moving")
def _entity_moving(sender: Any, instance: Entity, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance.pk is None:
        return
    before = (
        Entity.objects.filter(pk=instance.pk).values("division_id", "industry_id").first() or {}
    )
    instance._rollups_moved = before != {  # type: ignore[attr-defined]
        "division_id": instance.division_id,
        "industry_id": instance.industry_id,
    }


@receiver(post_save, sender=Entity, dispatch_uid="rollups-entity-saved")
def _entity_saved(sender: Any, instance: Entity, **kwargs: Any) -> None:
    if getattr(instance, "_rollups_moved", False):
        years = EnergyReport.objects.filter(entity=instance).values_list("year", flat=True)
        mark_changed(set(years))
