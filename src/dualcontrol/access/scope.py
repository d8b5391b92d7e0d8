"""Scoped querysets and object predicates for divisions, units and reports.

Pages, the API, exports and jobs filter through these functions (the gates by role are in
:mod:`dualcontrol.access.rules`):
- province administrator / province officer: the whole province;
- city officer: its division and everything below it;
- enterprise reporter: its own unit only;
- verifier: the units assigned to it (read-only);
- public: published data only (no unit data).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.access.rules import ADMINS, PROVINCE, STAFF, allows, role_of
from dualcontrol.accounts.models import Role
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division

PROVINCE_ROLES = PROVINCE
STAFF_ROLES = STAFF
ADMIN_ROLES = ADMINS
__all__ = ["ADMIN_ROLES", "PROVINCE_ROLES", "STAFF_ROLES", "role_of"]


def is_province(user: Any) -> bool:
    """Province staff: the whole province is in scope."""
    return role_of(user) in PROVINCE_ROLES


def visible_divisions(user: Any) -> QuerySet[Division]:
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return Division.objects.all()
    if role == Role.CITY_OFFICER and user.division_id:
        return Division.objects.within(user.division)
    return Division.objects.none()


def visible_entities(user: Any) -> QuerySet[Entity]:
    role = role_of(user)
    qs = Entity.objects.select_related("division", "industry")
    if role in PROVINCE_ROLES:
        return qs.all()
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(division__path__startswith=user.division.path)
    if role == Role.ENTERPRISE and user.entity_id:
        return qs.filter(pk=user.entity_id)
    if role == Role.VERIFIER:
        return qs.filter(verifiers=user)
    return qs.none()


def can_view_entity(user: Any, entity: Entity) -> bool:
    return visible_entities(user).filter(pk=entity.pk).exists()


def can_file_for(user: Any, entity: Entity) -> bool:
    """Only the unit's own reporter files its reports."""
    return role_of(user) == Role.ENTERPRISE and user.entity_id == entity.pk


def can_configure_metering(user: Any, entity: Entity) -> bool:
    """A unit's metering registry: its own reporter, or the province administrator."""
    return can_file_for(user, entity) or role_of(user) == Role.PROVINCE_ADMIN


def can_review(user: Any, entity: Entity) -> bool:
    """City officers review units in their region; province staff whose department reviews
    (``duties.yaml``) review any unit."""
    from dualcontrol.access.duties import REVIEW_REPORTS, has_duty

    role = role_of(user)
    if role in PROVINCE_ROLES:
        return has_duty(user, REVIEW_REPORTS)
    return role == Role.CITY_OFFICER and can_view_entity(user, entity)


def reviews_reports(user: Any) -> bool:
    """Whether the user has a review queue at all (region for a city, duty for the province)."""
    from dualcontrol.access.duties import REVIEW_REPORTS, has_duty

    role = role_of(user)
    return role == Role.CITY_OFFICER or (role in PROVINCE_ROLES and has_duty(user, REVIEW_REPORTS))


def can_view_audit(user: Any) -> bool:
    """Separated duties: the auditor alone reads the audit log (not the system administrator)."""
    return allows(user, "audit.read")


def is_staff_role(user: Any) -> bool:
    return role_of(user) in STAFF_ROLES
