"""Who may see and do what: the one place where roles and scopes are enforced.

Pages, the API and exports all filter through these functions; nothing else decides access.
- province administrator / province officer: the whole province;
- city officer: its division and everything below it;
- enterprise reporter: its own unit only;
- verifier: the units assigned to it (read-only);
- public: published data only (no unit data).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dualcontrol.accounts.models import Role
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division

PROVINCE_ROLES = {Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER}
STAFF_ROLES = PROVINCE_ROLES | {Role.CITY_OFFICER}


def role_of(user: Any) -> str:
    if not getattr(user, "is_authenticated", False):
        return Role.PUBLIC
    if user.is_superuser and user.role == Role.PUBLIC:
        # ``createsuperuser`` leaves the role at its default: such an account runs the system
        return Role.SYSTEM_ADMIN
    return str(user.role)


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


def can_review(user: Any, entity: Entity) -> bool:
    """City officers review units in their region; province staff whose department reviews
    (``duties.yaml``) review any unit."""
    from dualcontrol.accounts.duties import REVIEW_REPORTS, has_duty

    role = role_of(user)
    if role in PROVINCE_ROLES:
        return has_duty(user, REVIEW_REPORTS)
    return role == Role.CITY_OFFICER and can_view_entity(user, entity)


def reviews_reports(user: Any) -> bool:
    """Whether the user has a review queue at all (region for a city, duty for the province)."""
    from dualcontrol.accounts.duties import REVIEW_REPORTS, has_duty

    role = role_of(user)
    return role == Role.CITY_OFFICER or (role in PROVINCE_ROLES and has_duty(user, REVIEW_REPORTS))


ADMIN_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}


def can_view_audit(user: Any) -> bool:
    """Separated duties: the auditor alone reads the audit log (not the system administrator)."""
    return role_of(user) == Role.AUDITOR


def is_staff_role(user: Any) -> bool:
    return role_of(user) in STAFF_ROLES
