"""Read side of the project registry: lateness (建设滞后) and list filters.

Who sees and does what with projects: :mod:`dualcontrol.access.projects`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields import BooleanField
from django.utils.translation import gettext as _

from dualcontrol.projects.models import REGISTRY_KINDS, UNFINISHED, Milestone, Project, Status
from dualcontrol.projects.rules import project_rules

# --------------------------------------------------------------------------------------------
# 建设滞后 (derived, never stored)
# --------------------------------------------------------------------------------------------


def late_condition(today: dt.date) -> Q:
    """An unfinished project whose schedule has a passed date (see ``project_rules.yaml`` late)."""
    overdue = Milestone.objects.filter(
        project=OuterRef("pk"), done_on__isnull=True, due_date__lt=today
    )
    passed = Q(planned_completion__lt=today) | Exists(overdue)
    if project_rules().planned_start_counts:
        passed |= Q(status=Status.PLANNED, planned_start__lt=today)
    # 建设滞后 is the reduction registry's rule; investment projects have their own workflow
    return Q(status__in=UNFINISHED, kind__in=REGISTRY_KINDS) & passed


def with_late(qs: QuerySet[Project], today: dt.date) -> QuerySet[Project]:
    return qs.annotate(
        is_late=Case(
            When(late_condition(today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


@dataclass(frozen=True)
class Lateness:
    """Why a project is late: the earliest passed date of its schedule and what it was for."""

    due: dt.date
    what: str
    days: int


def lateness(project: Project, today: dt.date) -> Lateness | None:
    if project.status not in UNFINISHED or project.kind not in REGISTRY_KINDS:
        return None
    found: list[tuple[dt.date, str]] = []
    for m in project.milestones.all():
        if m.done_on is None and m.due_date < today:
            found.append((m.due_date, _("节点“%(name)s”未按期完成") % {"name": m.name}))
    if (
        project_rules().planned_start_counts
        and project.status == Status.PLANNED
        and project.planned_start < today
    ):
        found.append((project.planned_start, _("未按计划开工")))
    if project.planned_completion < today:
        found.append((project.planned_completion, _("未按计划完成")))
    if not found:
        return None
    due, what = min(found)
    return Lateness(due=due, what=what, days=(today - due).days)


# --------------------------------------------------------------------------------------------
# List filters (pages and API share them)
# --------------------------------------------------------------------------------------------

FILTERS = ("q", "kind", "type", "status", "division", "pollutant", "year", "late")


def filtered(qs: QuerySet[Project], f: dict[str, str], today: dt.date) -> QuerySet[Project]:
    """Apply the list filters: text, kind, type, status, region (code, with everything below),
    pollutant (a measure: projects planning it or having it verified), year (核算年度; unverified projects by their
    completion or planned completion year) and late only."""
    qs = with_late(qs, today)
    rules = project_rules()
    if f.get("q"):
        q = f["q"]
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(entity__name__icontains=q)
            | Q(owner_name__icontains=q)
            | Q(registry_code__icontains=q)
        )
    if f.get("kind"):
        qs = qs.filter(kind=f["kind"])
    if f.get("type") in rules.types:
        qs = qs.filter(type_code=f["type"])
    if f.get("status") in Status.values:
        qs = qs.filter(status=f["status"])
    if (f.get("division") or "").isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    measure = rules.measure(f.get("pollutant", "")) if f.get("pollutant") else None
    if measure is not None:
        qs = qs.filter(
            Q(figures__measure=measure.code)
            & (Q(figures__planned_amount__gt=0) | Q(figures__verified_amount__gt=0))
        ).distinct()
    if (f.get("year") or "").isdigit():
        y = int(f["year"])
        if not dt.MINYEAR <= y <= dt.MAXYEAR:  # no date has it (and __year would raise)
            return qs.none()
        qs = qs.filter(
            Q(accounting_year=y)
            | Q(accounting_year__isnull=True, actual_completion__year=y)
            | Q(
                accounting_year__isnull=True,
                actual_completion__isnull=True,
                planned_completion__year=y,
            )
        )
    if f.get("late"):
        qs = qs.filter(is_late=True)
    return qs.order_by("division__code", "name", "id")
