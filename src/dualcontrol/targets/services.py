"""Use cases of targets: the only code that writes targets, decompositions, responsibility
letters, regional statistics, warnings and alerts.

Every function validates, writes in one transaction and records an audit entry.  Access is
checked here too (through :mod:`dualcontrol.access.targets`, which is built on
:mod:`dualcontrol.access.scope`), so the pages, the API and the batch command share one rule.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dualcontrol.access.targets import (
    can_create_for,
    can_edit_target,
    visible_targets,
)
from dualcontrol.audit.services import record, snapshot
from dualcontrol.targets.decomposition import (
    BaseRow,
    KindPreview,
    WorkbenchParams,
    adopt_allocation,
    adopt_decomposition,
    allocation_methods,
    allocation_summary,
    default_params,
    is_intensity_reduction,
    preset_params,
    preview_allocation,
    run_method,
    sub_regions,
    total_cap_for,
)
from dualcontrol.targets.errors import NotAllowed, StatisticsRejected, TargetError
from dualcontrol.targets.letters import generate_letter, letter_display, sign_letter
from dualcontrol.targets.models import (
    ResponsibilityLetter,
    Target,
    TargetStatus,
    indicator_def,
)
from dualcontrol.targets.statistics import (
    OPTIONAL_STAT_COLUMNS,
    REQUIRED_STAT_COLUMNS,
    import_statistics,
    load_series,
)
from dualcontrol.targets.warnings import (
    WARNING_FIELDS,
    RunSummary,
    applies,
    compute_warnings,
    default_rule_set,
    latest_statistics_month,
    mark_alert_read,
    months_between,
    observe,
    sync_rule_sets,
)

__all__ = [
    "OPTIONAL_STAT_COLUMNS",
    "REQUIRED_STAT_COLUMNS",
    "WARNING_FIELDS",
    "BaseRow",
    "KindPreview",
    "NotAllowed",
    "RunSummary",
    "StatisticsRejected",
    "TargetError",
    "WorkbenchParams",
    "adopt_allocation",
    "adopt_decomposition",
    "allocation_methods",
    "allocation_summary",
    "applies",
    "compute_warnings",
    "default_params",
    "default_rule_set",
    "generate_letter",
    "import_statistics",
    "is_intensity_reduction",
    "latest_statistics_month",
    "letter_display",
    "load_series",
    "mark_alert_read",
    "months_between",
    "observe",
    "preset_params",
    "preview_allocation",
    "run_method",
    "sign_letter",
    "sub_regions",
    "sync_rule_sets",
    "total_cap_for",
]


# ---------------------------------------------------------------------------------------------
# targets

TARGET_FIELDS = (
    "indicator",
    "division",
    "industry",
    "entity",
    "parent",
    "period_kind",
    "base_year",
    "end_year",
    "quarter",
    "base_value",
    "incentive_value",
    "unit",
    "base_level",
    "source_document",
    "note",
    "pace_definition",
    "progress_definition",
    "rule_set",
    "barometer",
    "status",
    "is_synthetic",
)


def _validated(target: Target) -> None:
    try:
        target.full_clean(exclude=["decomposition", "created_by"])
    except ValidationError as exc:
        raise TargetError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc


def create_target(*, user: Any, system: bool = False, **values: Any) -> Target:
    """Record a target (province staff: any; a city officer: below its own city).

    ``system=True`` (demo seeding, batch imports) skips the user's access check; the audit entry
    then names the system as the actor.
    """
    unknown = set(values) - set(TARGET_FIELDS)
    if unknown:
        raise TargetError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not system and not can_create_for(user, values.get("division"), values.get("entity")):
        raise NotAllowed(_("无权为该地区或单位设定目标"))
    parent = values.get("parent")
    if (
        not system
        and parent is not None
        and not visible_targets(user).filter(pk=parent.pk).exists()
    ):
        raise NotAllowed(_("无权查看上级目标"))
    if not values.get("unit") and values.get("indicator"):
        try:
            values["unit"] = indicator_def(values["indicator"]).unit
        except ValueError:
            values["unit"] = ""
    target = Target(created_by=user if getattr(user, "is_authenticated", False) else None, **values)
    _validated(target)
    with transaction.atomic():
        target.save()
        record(actor=user, action="target.create", obj=target, after=snapshot(target))
    return target


def update_target(*, target: Target, user: Any, **changes: Any) -> Target:
    if not can_edit_target(user, target):
        raise NotAllowed(_("无权修改该目标"))
    unknown = set(changes) - set(TARGET_FIELDS)
    if unknown:
        raise TargetError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if target.status == TargetStatus.SIGNED and any(
        k in changes for k in ("base_value", "incentive_value", "base_year", "end_year")
    ):
        raise TargetError(_("已签订责任书的目标不能修改目标值或期限"))
    before = snapshot(target)
    for k, v in changes.items():
        setattr(target, k, v)
    if not can_edit_target(user, target):
        raise NotAllowed(_("无权把目标移到该地区或单位"))
    _validated(target)
    with transaction.atomic():
        target.save()
        record(
            actor=user, action="target.update", obj=target, before=before, after=snapshot(target)
        )
    return target


def visible_letters(user: Any) -> Any:
    """The responsibility letters of the user's visible targets (pages and API)."""
    return (
        ResponsibilityLetter.objects.filter(targets__in=visible_targets(user))
        .distinct()
        .select_related("division", "entity", "issuer")
    )


def hierarchy(target: Target, user: Any) -> tuple[list[Target], list[tuple[int, Target]]]:
    """The chain of parents (top first) and the visible descendants as (depth, target)."""
    chain: list[Target] = []
    visible = visible_targets(user)
    node = target.parent
    while node is not None:
        if visible.filter(pk=node.pk).exists():
            chain.insert(0, node)
        node = node.parent
    out: list[tuple[int, Target]] = []

    def walk(t: Target, depth: int) -> None:
        for child in visible.filter(parent=t).order_by("division__code", "entity__name", "id"):
            out.append((depth, child))
            if depth < 4:
                walk(child, depth + 1)

    walk(target, 1)
    return chain, out
