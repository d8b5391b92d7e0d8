"""Who may see and do what with plans and tasks — the gates are ``tasks.view`` and ``tasks.manage`` in :mod:`dualcontrol.access.rules`.

- province administrator: every plan; imports, sets deadlines, sees matrices and warnings, files
  progress for any department named on a task (on its behalf, recorded);
- province officer: imports plans (its department becomes the plan office); for plans whose office
  is its department: deadlines, matrix, all warnings; for every plan: the plan and task pages, its
  own department's task list and warnings, and progress filing for its own department only;
- city officer: plans of its division and below (read, matrix, warnings); progress filing for its
  own department when it has one and the department is named on the task;
- enterprise, verifier, public: nothing here (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.rules import role_of, roles_for
from dualcontrol.access.scope import NATIONAL_ROLES, in_region, in_user_region
from dualcontrol.accounts.models import Role
from dualcontrol.regions.models import Department
from dualcontrol.tasks.models import Plan, PlanTask

TASK_ROLES = roles_for("tasks.view")
IMPORT_ROLES = roles_for("tasks.manage")


def is_plan_administrator(user: Any) -> bool:
    """The province administrator: every plan, picks plan offices, files for any department."""
    return role_of(user) == Role.PROVINCE_ADMIN


def visible_plans(user: Any) -> QuerySet[Plan]:
    role = role_of(user)
    qs = Plan.objects.select_related("division", "office")
    if role in IMPORT_ROLES or role in NATIONAL_ROLES:
        return in_region(qs, user, "division")
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(division__path__startswith=user.division.path)
    return qs.none()


def visible_tasks(user: Any) -> QuerySet[PlanTask]:
    return PlanTask.objects.filter(plan__in=visible_plans(user))


def can_import(user: Any) -> bool:
    return role_of(user) in IMPORT_ROLES


def managed_plans(user: Any) -> QuerySet[Plan]:
    """Plans whose deadlines and statuses the user sets (方案办公室)."""
    role = role_of(user)
    if role == Role.PROVINCE_ADMIN:
        return in_region(Plan.objects.all(), user, "division")
    if role == Role.PROVINCE_OFFICER and user.department_id:
        return Plan.objects.filter(office_id=user.department_id)
    return Plan.objects.none()


def can_manage(user: Any, plan: Plan) -> bool:
    role = role_of(user)
    if role == Role.PROVINCE_ADMIN:
        return in_user_region(user, plan.division)
    return (
        role == Role.PROVINCE_OFFICER
        and user.department_id is not None
        and plan.office_id == user.department_id
    )


def overseen_plans(user: Any) -> QuerySet[Plan]:
    """Plans whose matrix and full warning list the user sees: managers, and city officers for
    the plans of their own division."""
    role = role_of(user)
    if role == Role.CITY_OFFICER:
        return visible_plans(user)
    return managed_plans(user)


def can_oversee(user: Any, plan: Plan) -> bool:
    return overseen_plans(user).filter(pk=plan.pk).exists()


def own_department(user: Any) -> Department | None:
    if role_of(user) not in TASK_ROLES:
        return None
    return user.department if user.department_id else None


def viewable_departments(user: Any) -> QuerySet[Department]:
    """Departments whose task lists the user may open."""
    role = role_of(user)
    qs = Department.objects.select_related("division")
    if role == Role.PROVINCE_ADMIN:
        return in_region(qs, user, "division")
    cond = Q(pk=user.department_id) if user.department_id else Q(pk__in=[])
    if role == Role.PROVINCE_OFFICER:
        managed = managed_plans(user)
        return qs.filter(cond | Q(plan_assignments__task__plan__in=managed)).distinct()
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(cond | Q(division__path__startswith=user.division.path)).distinct()
    return qs.none()


def filing_departments(user: Any, task: PlanTask) -> list[Department]:
    """The departments the user may file progress for on this task (its own; the province
    administrator any department named on the task)."""
    role = role_of(user)
    named = [a.department for a in task.assignments.select_related("department")]
    if role == Role.PROVINCE_ADMIN and visible_tasks(user).filter(pk=task.pk).exists():
        own = [d for d in named if d.pk == user.department_id]
        return own + [d for d in named if d.pk != user.department_id]
    if role in (Role.PROVINCE_OFFICER, Role.CITY_OFFICER) and user.department_id:
        if not visible_tasks(user).filter(pk=task.pk).exists():
            return []
        return [d for d in named if d.pk == user.department_id]
    return []


def can_file(user: Any, task: PlanTask, department: Department) -> bool:
    return any(d.pk == department.pk for d in filing_departments(user, task))


def warning_scope(user: Any, tasks: QuerySet[PlanTask]) -> QuerySet[PlanTask]:
    """Warnings the user sees: every task of the plans it oversees, plus its own department's."""
    cond = Q(plan__in=overseen_plans(user))
    if user.department_id and role_of(user) in TASK_ROLES:
        cond |= Q(assignments__department_id=user.department_id)
    return tasks.filter(plan__in=visible_plans(user)).filter(cond).distinct()
