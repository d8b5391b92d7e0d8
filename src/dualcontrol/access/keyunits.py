"""Who sees and does what with key energy-using units (gates: ``keyunits.view``, ``.file``,
``.manage``, ``.designate``).

- province administrator / officer: every unit; review status reports, order and track audits,
  confirm designations, publish lists, compute grades and surcharges;
- city officer: the units of its division and below; reviews their status reports, orders and
  tracks their audits (designation and publication stay with the province);
- enterprise reporter: its own unit; files its status report and energy manager;
- verifier: its assigned units, read-only;
- public, administrators: nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from dualcontrol.access.rules import allows
from dualcontrol.access.scope import (
    PROVINCE_ROLES,
    REGION_ROLES,
    can_file_for,
    in_region,
    in_user_region,
    role_of,
    visible_entities,
)
from dualcontrol.accounts.models import Role
from dualcontrol.entities.models import Entity

M = TypeVar("M", bound=Model)


def scoped(user: Any, qs: QuerySet[M]) -> QuerySet[M]:
    """Rows of a keyunits model (anything with an ``entity``) whose unit ``user`` sees."""
    if role_of(user) in REGION_ROLES:
        return in_region(qs, user, "entity__division")
    return qs.filter(entity__in=visible_entities(user).values("pk"))


def can_view(user: Any, entity: Entity) -> bool:
    return allows(user, "keyunits.view") and visible_entities(user).filter(pk=entity.pk).exists()


def can_file(user: Any, entity: Entity) -> bool:
    """Only the unit's own reporter files its status report and names its energy manager."""
    return allows(user, "keyunits.file") and can_file_for(user, entity)


def can_manage(user: Any, entity: Entity) -> bool:
    """Review a unit's status report, order and track its audits: province staff for any unit,
    a city officer for the units of its region."""
    if user is None:
        return True  # the system (demo, scheduled jobs)
    if not allows(user, "keyunits.manage"):
        return False
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return in_user_region(user, entity.division)
    return (
        role == Role.CITY_OFFICER
        and bool(getattr(user, "division_id", None))
        and entity.division.path.startswith(user.division.path)
    )


def can_designate(user: Any) -> bool:
    """Confirm or remove designations, publish lists, compute grades and surcharges: the province."""
    return user is None or allows(user, "keyunits.designate")


def is_province(user: Any) -> bool:
    return role_of(user) in PROVINCE_ROLES
