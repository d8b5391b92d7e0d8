"""Scoped querysets and object predicates for divisions, units and reports.

Pages, the API, exports and jobs filter through these functions (the gates by role are in
:mod:`dualcontrol.access.rules`). Every scope is a **region** (issue 22: several provinces live
in one installation and none sees the other's data), decided in one place, :func:`region_path`:
- national officer: every province (read-only);
- province administrator / province officer: its own province — the user's division, or its
  department's; an account with neither is scoped to the installation's province only while the
  installation holds exactly one (the single-province default), and to nothing once it holds more;
- city officer: its division and everything below it;
- enterprise reporter: its own unit only;
- verifier: the units assigned to it (read-only);
- public: published data only (no unit data).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.rules import ADMINS, NATIONAL, PROVINCE, STAFF, allows, role_of
from dualcontrol.accounts.models import Role
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division

PROVINCE_ROLES = PROVINCE
NATIONAL_ROLES = NATIONAL
# roles whose scope is a whole region (a province, or every province) rather than a unit
REGION_ROLES = PROVINCE | NATIONAL
STAFF_ROLES = STAFF
ADMIN_ROLES = ADMINS
__all__ = [
    "ADMIN_ROLES",
    "NATIONAL_ROLES",
    "PROVINCE_ROLES",
    "REGION_ROLES",
    "STAFF_ROLES",
    "role_of",
]

_PROVINCE_CACHE = "_dualcontrol_province"


def is_province(user: Any) -> bool:
    """Province staff: the whole of their own province is in scope."""
    return role_of(user) in PROVINCE_ROLES


def is_regional(user: Any) -> bool:
    """Province staff or a national officer: a whole region is in scope (see :func:`region_path`)."""
    return role_of(user) in REGION_ROLES


def _root_of(division: Division) -> Division | None:
    code = division.path.split("/", 1)[0]
    return Division.objects.filter(code=code, parent__isnull=True).order_by("-valid_from").first()


def installation_provinces() -> QuerySet[Division]:
    """The top divisions (provinces) held by this installation, one row per code."""
    return Division.objects.filter(parent__isnull=True).order_by("code", "-valid_from")


def province_of(user: Any) -> Division | None:
    """The province a province user works for: its division's, else its department's; an account
    with neither gets the installation's province while there is exactly one, else none."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, _PROVINCE_CACHE, False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    found: Division | None = None
    if getattr(user, "division_id", None):
        found = _root_of(user.division)
    elif getattr(user, "department_id", None) and user.department.division_id:
        found = _root_of(user.department.division)
    else:
        roots = list(installation_provinces()[:50])
        if len({d.code for d in roots}) == 1:
            found = roots[0]
    setattr(user, _PROVINCE_CACHE, found)
    return found


def region_path(user: Any) -> str | None:
    """The one place where a user's region is decided, as a division path prefix: ``""`` for a
    national officer (everything), the province's path for province staff, the officer's own
    division's path for a city/county officer; ``None`` for roles without a region."""
    role = role_of(user)
    if role in NATIONAL_ROLES:
        return ""
    if role in PROVINCE_ROLES:
        province = province_of(user)
        return province.path if province else None
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        return str(user.division.path)
    return None


def region_root(user: Any) -> Division | None:
    """The division a user's overview starts from: its province, or a city officer's own region;
    a national officer starts from the first province (and may pick any)."""
    role = role_of(user)
    if role in PROVINCE_ROLES:
        return province_of(user)
    if role == Role.CITY_OFFICER and getattr(user, "division_id", None):
        return user.division  # type: ignore[no-any-return]
    if role in NATIONAL_ROLES:
        return installation_provinces().first()
    return None


def in_region(qs: QuerySet[Any], user: Any, *divisions: str) -> QuerySet[Any]:
    """``qs`` narrowed to the user's region; ``divisions`` name the lookups of the rows' divisions
    (e.g. ``"division"``, ``"entity__division"``): a row is in when any of them is."""
    path = region_path(user)
    if path is None:
        return qs.none()
    if path == "" or whole_installation(path):
        return qs  # no filter, so a list's count needs no join (issue 18)
    cond = Q()
    for lookup in divisions or ("division",):
        cond |= Q(**{f"{lookup}__path__startswith": path})
    return qs.filter(cond)


def whole_installation(path: str) -> bool:
    """Whether ``path`` is the only province of the installation (every row is then inside)."""
    if path.count("/") != 1:
        return False
    codes = set(installation_provinces().values_list("code", flat=True)[:50])
    return codes == {path.rstrip("/")}


def in_user_region(user: Any, division: Division | None) -> bool:
    """Whether ``division`` lies in the user's region."""
    path = region_path(user)
    if path is None or division is None:
        return False
    return str(division.path).startswith(path)


def visible_divisions(user: Any) -> QuerySet[Division]:
    role = role_of(user)
    if role in REGION_ROLES or role == Role.CITY_OFFICER:
        path = region_path(user)
        if path is None:
            return Division.objects.none()
        return Division.objects.filter(path__startswith=path)
    return Division.objects.none()


def visible_entities(user: Any) -> QuerySet[Entity]:
    role = role_of(user)
    qs = Entity.objects.select_related("division", "industry")
    if role in REGION_ROLES:
        return in_region(qs, user)
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
