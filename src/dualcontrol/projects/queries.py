"""Read side of the project registry: who sees and does what, lateness (建设滞后), list filters.

Access is composed from :mod:`dualcontrol.accounts.scope` only:

- province administrator / officer: every project; registers, edits, verifies any;
- city officer: projects of its division and below; registers, edits and verifies them;
- enterprise reporter: its own unit's projects; reports progress, files evidence, re-submits;
- verifier (third party): the projects of its assigned units, read-only;
- public: nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields import BooleanField
from django.utils.translation import gettext as _

from dualcontrol.accounts.models import Role
from dualcontrol.accounts.scope import (
    PROVINCE_ROLES,
    is_staff_role,
    role_of,
    visible_divisions,
    visible_entities,
)
from dualcontrol.projects.models import UNFINISHED, Milestone, Project, Status
from dualcontrol.projects.rules import project_rules
from dualcontrol.regions.models import Division

# --------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------


def visible_projects(user: Any) -> QuerySet[Project]:
    role = role_of(user)
    qs = Project.objects.select_related("division", "entity", "industry")
    if role in PROVINCE_ROLES:
        return qs.all()
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        return qs.filter(division__path__startswith=user.division.path)
    if role in (Role.ENTERPRISE, Role.VERIFIER):
        return qs.filter(entity__in=visible_entities(user).values("pk"))
    return qs.none()


def _in_division(user: Any, division: Division) -> bool:
    return bool(getattr(user, "division_id", None) and division.path.startswith(user.division.path))


def can_manage(user: Any, project: Project) -> bool:
    """Province staff, and city officers for projects of their region: register and edit."""
    if user is None:
        return True
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return True
    return role == Role.CITY_OFFICER and _in_division(user, project.division)


def can_register_in(user: Any, division: Division) -> bool:
    if user is None:
        return True
    role = role_of(user)
    return role in PROVINCE_ROLES or (role == Role.CITY_OFFICER and _in_division(user, division))


def can_report(user: Any, project: Project) -> bool:
    """Progress, milestones, evidence and re-submission: managers and the project's own unit."""
    if can_manage(user, project):
        return True
    return (
        role_of(user) == Role.ENTERPRISE
        and project.entity_id is not None
        and getattr(user, "entity_id", None) == project.entity_id
    )


def can_verify(user: Any, project: Project) -> bool:
    """核查认定: a province officer (any project) or a city officer (projects of its region)."""
    return can_manage(user, project)


def registrable_divisions(user: Any) -> QuerySet[Division]:
    return visible_divisions(user) if is_staff_role(user) else Division.objects.none()


def ledger_top(user: Any, code: str | None = None) -> Division | None:
    """The division whose ledger the user may see: province staff the province (or any division
    named), a city officer its own division (or one below it); others none."""
    role = role_of(user)
    if role in PROVINCE_ROLES:
        if code:
            return Division.objects.filter(code=code).order_by("-valid_from").first()
        return (
            Division.objects.filter(parent__isnull=True, level="province")
            .order_by("code", "-valid_from")
            .first()
        )
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        if not code:
            return user.division  # type: ignore[no-any-return]
        found = Division.objects.filter(code=code, path__startswith=user.division.path).first()
        return found
    return None


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
    return Q(status__in=UNFINISHED) & passed


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
    if project.status not in UNFINISHED:
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
