"""Who sees and does what with projects (gates: ``projects.view``, ``projects.manage``).

- province administrator / officer: every project; registers, edits, verifies any;
- city officer: projects of its division and below; registers, edits and verifies them;
- enterprise reporter: its own unit's projects; reports progress, files evidence, re-submits;
- verifier (third party): the projects of its assigned units, read-only;
- public: nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.scope import (
    PROVINCE_ROLES,
    REGION_ROLES,
    in_region,
    in_user_region,
    is_staff_role,
    province_of,
    role_of,
    visible_divisions,
    visible_entities,
)
from dualcontrol.accounts.models import Role
from dualcontrol.projects.models import Project
from dualcontrol.regions.models import Division


def visible_projects(user: Any) -> QuerySet[Project]:
    role = role_of(user)
    qs = Project.objects.select_related("division", "entity", "industry")
    if role in REGION_ROLES:
        return in_region(qs, user, "division")
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
        return in_user_region(user, project.division)
    return role == Role.CITY_OFFICER and _in_division(user, project.division)


def can_register_in(user: Any, division: Division) -> bool:
    if user is None:
        return True
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return in_user_region(user, division)
    return role == Role.CITY_OFFICER and _in_division(user, division)


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
        province = province_of(user)
        if province is None:
            return None
        if code:
            return (
                Division.objects.filter(code=code, path__startswith=province.path)
                .order_by("-valid_from")
                .first()
            )
        return province
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        if not code:
            return user.division  # type: ignore[no-any-return]
        found = Division.objects.filter(code=code, path__startswith=user.division.path).first()
        return found
    return None


def can_review(user: Any, project: Project, authority: str = "") -> bool:
    """节能审查 decisions: province staff on any project; a city officer on its region's projects
    unless the review belongs to the province (``authority`` "provincial" or not established)."""
    if user is None:
        return True
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return in_user_region(user, project.division)
    return (
        role == Role.CITY_OFFICER
        and _in_division(user, project.division)
        and authority in ("local", "exempt")
    )


def visible_elimination_items(user: Any) -> QuerySet[Any]:
    """Items of the elimination lists: staff by region; a unit its own (published lists only)."""
    from dualcontrol.projects.models import EliminationItem

    role = role_of(user)
    qs = EliminationItem.objects.select_related("elimination_list", "division", "entity")
    if role in REGION_ROLES:
        return in_region(qs, user, "division")
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        return qs.filter(division__path__startswith=user.division.path)
    if role in (Role.ENTERPRISE, Role.VERIFIER):
        return qs.filter(
            entity__in=visible_entities(user).values("pk"),
            elimination_list__published_at__isnull=False,
        )
    return qs.none()
