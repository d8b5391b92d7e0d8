"""The named access rules: which roles pass each gate (pages, API operations, exports, jobs).

A view names its rule (``@rule_required("targets.view")``), an API operation calls
``require(request.user, "targets.view")``, the navigation shows a link when ``allows`` does. A gate
only decides whether a role may use a function at all; which objects it then sees or changes is
decided by the scoped querysets and predicates of :mod:`dualcontrol.access.scope`,
:mod:`dualcontrol.access.tasks` and :mod:`dualcontrol.access.assessment` (outside scope → 404,
inside scope but not allowed to act → 403). Separated duties (``duties.yaml``) narrow a gate
for province officers to the departments that carry the duty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from dualcontrol.accounts.models import Role

# role groups
PROVINCE = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER})
NATIONAL = frozenset({Role.NATIONAL_OFFICER})  # reads every province, changes nothing
STAFF = PROVINCE | {Role.CITY_OFFICER}
UNIT_SIDE = frozenset({Role.ENTERPRISE, Role.VERIFIER})
OFFICIAL = STAFF | UNIT_SIDE  # every role that works with unit data
READERS = OFFICIAL | NATIONAL  # the read gates: every official role and the national level
ENTERPRISE = frozenset({Role.ENTERPRISE})
SYSTEM_ADMIN = frozenset({Role.SYSTEM_ADMIN})
SECURITY_ADMIN = frozenset({Role.SECURITY_ADMIN})
AUDITOR = frozenset({Role.AUDITOR})
ADMINS = SYSTEM_ADMIN | SECURITY_ADMIN | AUDITOR


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    duty: str = ""  # a duties.yaml code a province officer's department must carry
    description: str = ""


RULES: dict[str, Rule] = {
    # the signed-in start page and the unit register
    "home": Rule(READERS | ADMINS, description="start page of every signed-in role"),
    "entities.view": Rule(READERS, description="unit register (scoped)"),
    # 205-1 energy reports
    "reports.view": Rule(READERS, description="reports of the units in scope"),
    "reports.file": Rule(ENTERPRISE, description="a unit files its own reports"),
    "reports.review": Rule(STAFF, description="review queue (city: region; province: duty)"),
    # government statistics tables, filed and reviewed
    "statistics.file": Rule(STAFF, description="self-reported statistics tables"),
    # targets, progress, warnings, letters, statistics
    "targets.view": Rule(
        STAFF | NATIONAL, description="targets, progress, decomposition, warnings"
    ),
    "targets.run_warnings": Rule(PROVINCE, description="recompute the month's warnings"),
    "targets.import_statistics": Rule(PROVINCE, description="import regional statistics"),
    # online energy metering
    "metering.view": Rule(READERS, description="metering units in scope"),
    "metering.file": Rule(ENTERPRISE, description="a unit's faults and manual readings"),
    # pollution-source monitoring
    "monitoring.view": Rule(READERS, description="outlets, alarms, shutdowns in scope"),
    "monitoring.manage": Rule(STAFF, description="register outlets, limits, review shutdowns"),
    # projects
    "projects.view": Rule(READERS, description="projects in scope"),
    "projects.manage": Rule(STAFF, description="register, edit, verify projects; the ledger"),
    "projects.review": Rule(STAFF, description="energy review and carbon evaluation decisions"),
    "projects.override": Rule(
        PROVINCE, description="approve a review past the gate, with a reason"
    ),
    # plan tasks
    "tasks.view": Rule(STAFF | NATIONAL, description="plans and tasks in scope"),
    "tasks.manage": Rule(PROVINCE, description="import plans, set deadlines and departments"),
    # assessment
    "assessment.view": Rule(READERS, description="rounds and records in scope"),
    "assessment.run": Rule(STAFF, description="create and compute rounds (province: duty)"),
    "assessment.consequences": Rule(
        STAFF | ENTERPRISE, description="consequences in scope; answer or close"
    ),
    "assessment.sheets": Rule(STAFF, description="assessment sheets"),
    # publishing
    "publishing.manage": Rule(
        PROVINCE, duty="publish_results", description="build, publish, withdraw publications"
    ),
    # key energy-using units (重点用能单位)
    "keyunits.view": Rule(READERS, description="key units in scope, grades, lists"),
    "keyunits.file": Rule(ENTERPRISE, description="a unit files its energy-use status report"),
    "keyunits.manage": Rule(
        STAFF, description="review status reports, order and track audits (scoped)"
    ),
    "keyunits.designate": Rule(
        PROVINCE, description="confirm designations, publish lists and surcharges"
    ),
    # carbon market (全国碳市场: key emitters, MRV, allocation, compliance)
    "carbon.view": Rule(READERS, description="emitters, accounts and reports in scope"),
    "carbon.file": Rule(ENTERPRISE, description="an emitter's report, transfers, surrender"),
    "carbon.verify": Rule(
        frozenset({Role.VERIFIER}), description="verification tasks assigned to the verifier"
    ),
    "carbon.manage": Rule(
        PROVINCE, description="emitter list, verifier assignment, allocation, issuance, review"
    ),
    # energy-use rights, emission rights, green certificates, carbon sinks, carbon-inclusive points
    "rights.view": Rule(READERS, description="rights holdings, markets and statistics in scope"),
    "rights.file": Rule(ENTERPRISE, description="a unit's offers, bids, surrenders, cancellations"),
    "rights.manage": Rule(
        PROVINCE, description="initial rights, issuance, approvals, methodologies, behaviours"
    ),
    # exchange with the national and city platforms
    "exchange.manage": Rule(PROVINCE, description="exchange packages: log, online receipt"),
    # administration: separated duties
    "jobs.manage": Rule(SYSTEM_ADMIN, description="background jobs and the outbox"),
    "jobs.view": Rule(READERS | SYSTEM_ADMIN, description="a job's status, for its requester"),
    "admin.site": Rule(SYSTEM_ADMIN | SECURITY_ADMIN, description="the Django admin"),
    "security.manage": Rule(SECURITY_ADMIN, description="lockouts, second factors, tokens"),
    "audit.read": Rule(AUDITOR, description="the audit log"),
}


def role_of(user: Any) -> str:
    if not getattr(user, "is_authenticated", False):
        return Role.PUBLIC
    if user.is_superuser and user.role == Role.PUBLIC:
        # ``createsuperuser`` leaves the role at its default: such an account runs the system
        return Role.SYSTEM_ADMIN
    return str(user.role)


def rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown access rule {name!r}: not in dualcontrol.access.rules") from None


def roles_for(name: str) -> frozenset[str]:
    return rule(name).roles


def allows(user: Any, name: str) -> bool:
    """Whether ``user`` passes the gate ``name`` (its role, and its department's duty)."""
    r = rule(name)
    role = role_of(user)
    if role not in r.roles:
        return False
    if r.duty and role in PROVINCE:
        from dualcontrol.access.duties import has_duty

        return has_duty(user, r.duty)
    return True


def rule_required(
    name: str, *, post: str = ""
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page gate: anonymous → login page; signed in without the rule → 403.

    ``post`` names a stricter rule for POST (a page some roles read and fewer act on).
    """
    rule(name)  # an unknown name fails at import time, not at the first request
    if post:
        rule(post)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allows(request.user, name):
                raise PermissionDenied
            if post and request.method == "POST" and not allows(request.user, post):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.access_rule = name  # type: ignore[attr-defined]
        wrapper.access_post_rule = post or name  # type: ignore[attr-defined]
        return wrapper

    return decorator


def require(user: Any, name: str) -> None:
    """API gate: raises Ninja's 403 (or 401 when not signed in) unless ``user`` passes ``name``."""
    from ninja.errors import HttpError

    if not getattr(user, "is_authenticated", False):
        raise HttpError(401, "authentication required")
    if not allows(user, name):
        raise HttpError(403, f"not allowed: {name}")
