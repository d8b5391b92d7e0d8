"""The role × endpoint matrix: every URL and every API operation, as every role.

1. Every URL pattern is either gated by a named rule of :mod:`dualcontrol.access.rules`
   (``rule_required``) or listed below as open, with the reason.
2. Every gated URL, as every role, GET and POST: anonymous → login page, a role the rule refuses →
   403, a role it allows → never 403 and never a server error (a missing object → 404).
3. Objects inside and outside the scope: each page of a unit's report, a unit, a target, a project
   and an outlet, as the city officer and the enterprise of one city (inside) and with the other
   city's object (outside → 404 or 403, never the data).
4. Every API operation (from the OpenAPI document): without a token 401; the public, the
   system, security and audit administrators get no unit data from any of them.
5. No module outside ``dualcontrol/access/`` compares roles (the listed exceptions say why).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from dualcontrol.access.rules import RULES, allows
from dualcontrol.accounts.models import Role, User
from dualcontrol.regions.models import Department
from dualcontrol.reporting import services as reporting
from tests.auth import api_token, login
from tests.factories import PASSWORD, coal_row

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "dualcontrol"

# URL names that no rule gates, and why
OPEN = {
    "home": "dispatches each role to its start page (anonymous → public page)",
    "public-home": "public",
    "set_language": "language switch (Django)",
    "javascript-catalog": "translations for scripts",
    "login": "the login form",
    "logout": "logging out",
    "accounts:login": "the login form",
    "accounts:logout": "logging out",
    "api-root": "the API checks its own token on each operation",
}
OPEN_PREFIXES = (
    "publishing:bulletin",  # published bulletins, results and lists are public
    "publishing:result",
    "publishing:exceedances",
    "publishing:exceedance",
    "publishing:public",
    "publishing:download",
    "carbonmarket:public",  # the published compliance table of the carbon market (条例 第十二条)
    "rights:public",  # public price statistics and carbon-inclusive totals (issue 21)
    "accounts:password",  # every signed-in user changes their own password
    "accounts:2fa",  # second factor: enrolment and verification of the signed-in user
    "accounts:otp",
    "accounts:token",  # the user's own API tokens (security administrator: all, by rule)
    "accounts:recovery",
    "admin:",  # the Django admin: AdminSite.has_permission = rule admin.site
    "api-",  # Django Ninja: each operation checks its token (section 4)
)


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, str, Any]]:
    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            sub_ns = f"{ns}{p.namespace}:" if p.namespace else ns
            out += _walk(p.url_patterns, prefix + str(p.pattern), sub_ns)
        elif isinstance(p, URLPattern):
            name = f"{ns}{p.name}" if p.name else ""
            out.append((prefix + str(p.pattern), name, p.callback))
    return out


def _rule_of(view: Any) -> str | None:
    while view is not None:
        name = getattr(view, "access_rule", None)
        if name:
            return str(name)
        view = getattr(view, "__wrapped__", None)
    return None


def _is_open(name: str, route: str) -> bool:
    if name in OPEN or route.startswith(("static/", "media/", "api/", "admin/")):
        return True
    return name.startswith(OPEN_PREFIXES)


def _patterns() -> list[tuple[str, str, Any]]:
    return [
        (route, name, view)
        for route, name, view in _walk(get_resolver().url_patterns)
        if not route.startswith(("static/", "media/"))
    ]


def test_every_url_is_gated_by_a_named_rule_or_listed_open():
    unclassified = [
        (route, name)
        for route, name, view in _patterns()
        if _rule_of(view) is None and not _is_open(name, route)
    ]
    assert not unclassified, unclassified
    gated = {_rule_of(v) for _, _, v in _patterns()} - {None}
    assert len(gated) > 20
    assert gated <= set(RULES), gated - set(RULES)


DUMMY = {"int": "987654", "str": "zz", "slug": "zz", "path": "zz", "uuid": None}


def _fill(route: str) -> str | None:
    """A concrete path for ``route`` with values that name no object."""

    def sub(m: re.Match[str]) -> str:
        conv = m.group(1) or "str"
        value = DUMMY.get(conv.rstrip(":"), "zz")
        if value is None:
            raise LookupError
        return value

    if route.startswith("^") or "(?P" in route:
        return None
    try:
        return "/" + re.sub(r"<(?:(\w+):)?\w+>", sub, route)
    except LookupError:
        return None


def _post_rule_of(view: Any) -> str | None:
    while view is not None:
        name = getattr(view, "access_post_rule", None)
        if name:
            return str(name)
        view = getattr(view, "__wrapped__", None)
    return None


def _gated() -> list[tuple[str, str, str]]:
    out = []
    for route, _name, view in _patterns():
        rule = _rule_of(view)
        path = _fill(route)
        if rule and path:
            out.append((path, rule, _post_rule_of(view) or rule))
    return out


ROLES = [
    "anon",
    Role.PUBLIC,
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    "officer_no_duties",
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
]


@pytest.fixture
def users(world):
    u = dict(world.users)
    u[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    forestry = Department.objects.create(division=world.province, name="省林业和草原局")
    u["officer_no_duties"] = User.objects.create_user(
        "officer9", password=PASSWORD, role=Role.PROVINCE_OFFICER, department=forestry
    )
    return u


def _client(users: dict[str, Any], role: str) -> Client:
    c = Client()
    if role != "anon":
        login(c, users[role])
    return c


@pytest.mark.parametrize("role", ROLES)
def test_every_gated_url_as_every_role(users, role):
    c = _client(users, role)
    user = users.get(role)
    wrong = []
    for path, get_rule, post_rule in _gated():
        for method in ("get", "post"):
            rule = post_rule if method == "post" else get_rule
            r = getattr(c, method)(path)
            if r.status_code == 405 and method == "get":
                ok = True  # a POST-only action refuses GET before anything else: no data either way
            elif role == "anon":
                ok = r.status_code == 302 and "/login" in r.url
            elif not allows(user, rule):
                ok = r.status_code == 403
            else:
                ok = r.status_code not in (403, 500)
            if not ok:
                wrong.append((method.upper(), path, rule, r.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_admin_site_follows_its_rule(users, role):
    user = users[role]
    user.is_staff = True  # a staff flag alone does not open the admin
    user.save(update_fields=["is_staff"])
    r = _client(users, role).get("/admin/")
    if allows(user, "admin.site"):
        assert r.status_code == 200
    else:
        assert r.status_code == 302 and "/admin/login/" in r.url


def test_the_rules_separate_the_duties(users):
    """The matrix above rests on these: the administrators share no gate with the officers."""
    officers = [users[r] for r in ROLES[1:8] if r != Role.PUBLIC]
    for name, rule in RULES.items():
        shared = ("home", "jobs.view")  # the start page; a job's status, scoped to its requester
        if (
            rule.roles & {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}
            and name not in shared
        ):
            assert not any(allows(u, name) for u in officers), name
    assert [r for r in ROLES[1:] if allows(users[r], "audit.read")] == [Role.AUDITOR]
    assert not allows(users["officer_no_duties"], "publishing.manage")
    assert allows(users[Role.PROVINCE_OFFICER], "publishing.manage")


# --------------------------------------------------------------------------------------------
# objects inside and outside the scope


@pytest.fixture
def objects(world, users):
    from dualcontrol.targets.models import Indicator, PeriodKind, TargetStatus
    from tests.monitoring.helpers import make_outlet
    from tests.projects.helpers import project as make_project

    def report(unit, user):
        return reporting.save_report(
            entity=unit,
            period_type="monthly",
            year=2026,
            month=10,
            rows=[coal_row()],
            user=user,
            submit=True,
        )

    def target(division):
        from dualcontrol.targets import services as targets

        return targets.create_target(
            user=None,
            system=True,
            indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
            pace_definition="linear",
            division=division,
            period_kind=PeriodKind.FIVE_YEAR,
            status=TargetStatus.ISSUED,
            source_document="test plan",
            base_year=2025,
            end_year=2030,
            base_value=Decimal("14"),
            unit="%",
        )

    def project(unit):
        return make_project(division_code=unit.division.code, entity=unit)

    def outlet(unit, n):
        return make_outlet(unit)

    for unit in (world.unit, world.other_unit):  # both units under online energy monitoring
        unit.online_monitoring = True
        unit.save(update_fields=["online_monitoring"])
    return {
        "reporting": (
            report(world.unit, users[Role.ENTERPRISE]).pk,
            report(world.other_unit, users["other_enterprise"]).pk,
        ),
        "metering": (world.unit.uscc, world.other_unit.uscc),
        "targets": (target(world.city).pk, target(world.other_city).pk),
        "projects": (project(world.unit).pk, project(world.other_unit).pk),
        "monitoring": (outlet(world.unit, 1).pk, outlet(world.other_unit, 2).pk),
    }


def _object_pages(namespace: str) -> list[tuple[str, str, str]]:
    """GET pages of ``namespace`` whose one argument names an object (pk or uscc)."""
    out = []
    for route, name, view in _patterns():
        rule = _rule_of(view)
        args = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if not rule or not name.startswith(f"{namespace}:") or args not in (["pk"], ["uscc"]):
            continue
        out.append((route, name, rule))
    return out


def _objects_for(name: str, objects: dict[str, Any]) -> tuple[Any, Any] | None:
    ns, _, short = name.partition(":")
    if ns == "reporting" and short.startswith(("statistics", "filing")):
        return None
    if ns == "targets" and short.startswith(("letter", "alert", "warning", "drilldown")):
        return None  # letters, alerts, warnings have their own ids; a drill-down needs data
    if ns == "projects" and short.startswith(("alert", "evidence")):
        return None
    if ns == "monitoring" and not short.startswith(("outlet", "limit", "range", "shutdown-new")):
        return None
    return objects.get(ns)


@pytest.mark.parametrize(
    "namespace", ["reporting", "metering", "targets", "projects", "monitoring"]
)
@pytest.mark.parametrize("role", [Role.CITY_OFFICER, Role.ENTERPRISE])
def test_objects_inside_and_outside_the_scope(users, objects, namespace, role):
    c = _client(users, role)
    user = users[role]
    pages = _object_pages(namespace)
    checked = 0
    wrong = []
    for route, name, rule in pages:
        pair = _objects_for(name, objects)
        if pair is None or not allows(user, rule):
            continue
        inside, outside = pair
        key = re.findall(r"<(?:\w+:)?(\w+)>", route)[0]
        path_in = "/" + re.sub(r"<(?:\w+:)?\w+>", str(inside), route)
        path_out = "/" + re.sub(r"<(?:\w+:)?\w+>", str(outside), route)
        r_out = c.get(path_out)
        if r_out.status_code not in (403, 404):
            wrong.append(("outside", path_out, r_out.status_code))
        r_in = c.get(path_in)
        # inside the scope: the page, a redirect (e.g. to the form), or 403 for an action the
        # role may not take on it — never "not found"
        if r_in.status_code in (404, 500):
            wrong.append(("inside", path_in, r_in.status_code, key))
        checked += 1
    assert not wrong, wrong
    if namespace in ("reporting", "metering", "projects", "monitoring") or role != Role.ENTERPRISE:
        assert checked > 0, (namespace, role, pages)


# --------------------------------------------------------------------------------------------
# the API


def _operations() -> list[tuple[str, str]]:
    from dualcontrol.api import api

    spec = api.get_openapi_schema()
    ops = []
    for path, methods in spec["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                concrete = re.sub(
                    r"\{(\w+)\}", lambda m: "987654" if "id" in m.group(1) else "zz", path
                )
                ops.append((method, concrete))
    return ops


# operations every signed-in user has (their own tokens, their own session)
OWN = ("/api/auth/", "/api/accounts/tokens", "/api/me")


def test_every_api_operation_refuses_without_a_token(users):
    c = Client()
    ops = _operations()
    assert len(ops) > 40
    wrong = []
    for method, path in ops:
        if path.startswith(("/api/auth/token", "/api/public/")):
            continue  # the login itself; published data
        r = getattr(c, method)(path, content_type="application/json", data={})
        if r.status_code != 401:
            wrong.append((method, path, r.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "role", [Role.PUBLIC, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR]
)
def test_roles_without_unit_rights_get_no_data_from_any_api_operation(users, objects, role):
    c = Client()
    token = api_token(c, users[role], PASSWORD)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    wrong = []
    for method, path in _operations():
        if path.startswith(OWN) or path.startswith("/api/public/"):
            continue
        r = getattr(c, method)(path, content_type="application/json", data={}, **auth)
        if r.status_code >= 500:
            wrong.append((method, path, r.status_code))
            continue
        if r.status_code != 200 or method != "get":
            continue
        body = r.json()
        items = body.get("items", body) if isinstance(body, dict) else body
        if _reference_data(path):
            continue
        if isinstance(items, list) and items:
            wrong.append((method, path, "items", len(items)))
        elif isinstance(body, dict) and body.get("count"):
            wrong.append((method, path, "count", body["count"]))
        elif isinstance(body, dict) and "items" not in body and not _reference_data(path):
            wrong.append((method, path, "object", sorted(body)[:5]))
    assert not wrong, wrong


def _reference_data(path: str) -> bool:
    """Operations that answer with reference data, not unit data (the catalogue, the rules)."""
    return path.startswith(
        ("/api/targets/indicators", "/api/reports/products", "/api/reports/statistics/tables")
    )


# --------------------------------------------------------------------------------------------
# one place

# modules outside dualcontrol/access that may name roles, and why
ROLE_NAMES_ALLOWED = {
    "accounts/models.py": "the roles themselves and what each account must carry",
    "accounts/views.py": "the start page dispatches each role to its own page",
    "accounts/context.py": "tells templates the role (for labels, never for access)",
    "accounts/second_factor.py": "which roles must enrol is data (login_policy_2fa.yaml)",
    "accounts/admin.py": "role choices in the user admin",
    "accounts/forms.py": "role choices",
    "accounts/security_views.py": "role filter of the second-factor list",
    "accounts/navigation.py": "links, each shown when its rule allows",
}
ROLE_TEST = re.compile(
    r"role_of\([^)]*\)\s*(==|!=|in|not in)|(==|!=)\s*Role\.|Role\.\w+\s*(==|!=)|"
    r"\.role\s*(==|!=|in)\s*[\(\[\{R]"
)


def test_no_module_outside_access_compares_roles():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(("access/", "core/")) or "/migrations/" in rel or "demo" in rel:
            continue
        if rel in ROLE_NAMES_ALLOWED:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_TEST.search(line) and "AssignmentRole" not in line:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_templates_ask_the_rules():
    offenders = []
    for path in sorted(SRC.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(user_role|\brole)\s*(==|!=)\s*['\"](\w+)['\"]", text):
            if m.group(3) in {r.value for r in Role}:
                offenders.append(f"{path.relative_to(SRC)}: {m.group(0)}")
    allowed = {"accounts/templates/accounts/home_staff.html"}
    offenders = [o for o in offenders if o.split(":")[0] not in allowed]
    assert not offenders, offenders
