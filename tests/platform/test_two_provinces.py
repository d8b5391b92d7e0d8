"""Two provinces in one installation (issue 22): nothing of one is visible to the other.

Province A is the test world's 云南省 (530000); province B (630000, named with the marker
``乙测试``) gets a city, a county, a unit, a province administrator, a city officer and a reporter,
and one object of each kind the platform scopes: a 205-1 report, a target, a regional statistic,
a project, an outlet, an assessment round with a record, a key-unit designation, a carbon
emitter, a plan.

- Every gated page without arguments, as every role of A and as B's province administrator: the
  page never shows the other province's names or unit codes.
- Every object page of B's objects, as A's province staff: 404 or 403, never the data (and the
  other way round).
- Every API list operation, as A's province administrator: no B item.
- A national officer sees both provinces and changes nothing.
- The single-province default: a province account without a division keeps its whole province
  while the installation holds one province, and sees nothing once it holds two.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from dualcontrol.access import scope
from dualcontrol.access.rules import allows
from dualcontrol.accounts.models import Role, User
from dualcontrol.regions.models import Department
from dualcontrol.reporting import services as reporting
from tests.auth import api_token, login
from tests.factories import PASSWORD, coal_row, division, entity, user
from tests.platform.test_access_matrix import _fill, _patterns, _rule_of

pytestmark = pytest.mark.django_db

MARK = "乙测试"


def _target(div: Any) -> Any:
    from dualcontrol.targets import services as targets
    from dualcontrol.targets.models import Indicator, PeriodKind, TargetStatus

    return targets.create_target(
        user=None,
        system=True,
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        pace_definition="linear",
        division=div,
        period_kind=PeriodKind.FIVE_YEAR,
        status=TargetStatus.ISSUED,
        source_document="测试规划",
        base_year=2025,
        end_year=2030,
        base_value=Decimal("14"),
        unit="%",
    )


def _gf_sheet() -> Any:
    from dualcontrol.assessment import services as assessment
    from dualcontrol.assessment.models import ScoringSheet

    if not ScoringSheet.objects.filter(name="gf-2007-36").exists():
        assessment.sync_sheets()
    return ScoringSheet.objects.get(name="gf-2007-36")


def _province_objects(root: Any, city: Any, unit: Any, reporter: User) -> dict[str, Any]:
    """One scoped object of each kind in a province."""
    from dualcontrol.assessment import services as assessment
    from dualcontrol.carbonmarket.models import Emitter
    from dualcontrol.keyunits.models import Designation
    from dualcontrol.targets.models import RegionalStatistic
    from dualcontrol.tasks.models import Plan
    from tests.monitoring.helpers import make_outlet
    from tests.projects.helpers import project

    unit.online_monitoring = True
    unit.save(update_fields=["online_monitoring"])
    report = reporting.save_report(
        entity=unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=reporter,
        submit=True,
    )
    RegionalStatistic.objects.create(
        division=city, year=2025, energy_tce=Decimal("1234567"), gdp_10k_yuan=Decimal("9876543")
    )
    out: dict[str, Any] = {
        "reporting": report.pk,
        "metering": unit.uscc,
        "targets": _target(city).pk,
        "projects": project(division_code=unit.division.code, entity=unit).pk,
        "monitoring": make_outlet(unit).pk,
    }
    rnd = assessment.create_round(
        user=None,
        system=True,
        year=2015,
        sheet=_gf_sheet(),
        assessor=root,
        title=f"{root.name}2015年度考核",
    )
    out["assessment_round"] = rnd.pk
    Designation.objects.create(
        entity=unit,
        year=2026,
        tier="national",
        status="confirmed",
        basis_energy_tce=20000,
        rule_version="t",
    )
    Emitter.objects.create(
        entity=unit, year=2026, sector="power", basis_co2e_t=30000, basis="测试", rule_version="t"
    )
    Plan.objects.create(
        division=root,
        title=f"{root.name}节能方案",
        filename="plan.txt",
        source_sha256="0" * 64,
        source_text="一、测试",
        tracking_start=dt.date(2026, 1, 1),
    )
    return out


@pytest.fixture
def two(world):
    a_root = world.province
    for role in (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER):
        u = world.users[role]
        u.division = a_root
        u.save(update_fields=["division"])
    b_root = division("630000", f"{MARK}省", "province")
    b_city = division("630100", f"{MARK}市", "prefecture", b_root)
    b_county = division("630102", f"{MARK}区", "county", b_city)
    b_unit = entity(b_county, f"{MARK}化工有限公司")
    b_dept = Department.objects.create(division=b_root, name=f"{MARK}省发展改革委")
    b_users = {
        Role.PROVINCE_ADMIN: user("b_admin", Role.PROVINCE_ADMIN, division=b_root),
        Role.PROVINCE_OFFICER: user("b_officer", Role.PROVINCE_OFFICER, department=b_dept),
        Role.CITY_OFFICER: user("b_city", Role.CITY_OFFICER, division=b_city),
        Role.ENTERPRISE: user("b_ent", Role.ENTERPRISE, entity=b_unit),
    }
    a_objects = _province_objects(a_root, world.city, world.unit, world.users[Role.ENTERPRISE])
    b_objects = _province_objects(b_root, b_city, b_unit, b_users[Role.ENTERPRISE])
    national = user("nation1", Role.NATIONAL_OFFICER)
    return {
        "world": world,
        "a_users": world.users,
        "b_users": b_users,
        "a": a_objects,
        "b": b_objects,
        "b_unit": b_unit,
        "national": national,
        "a_markers": ("云南省", "昆明测试水泥", world.unit.uscc),
        "b_markers": (MARK, b_unit.uscc),
    }


def _client(u: User) -> Client:
    c = Client()
    login(c, u)
    return c


def _list_pages() -> list[tuple[str, str]]:
    out = []
    for route, _name, view in _patterns():
        rule = _rule_of(view)
        if rule and "<" not in route:
            path = _fill(route)
            if path:
                out.append((path, rule))
    return out


def _leaks(c: Client, u: User, markers: tuple[str, ...]) -> list[Any]:
    wrong = []
    for path, rule in _list_pages():
        if not allows(u, rule):
            continue
        r = c.get(path)
        if r.status_code >= 500:
            wrong.append((path, r.status_code))
            continue
        if r.status_code != 200 or not r.get("Content-Type", "").startswith("text/html"):
            continue
        body = r.content.decode("utf-8", "replace")
        hit = [m for m in markers if m in body]
        if hit:
            wrong.append((path, hit))
    return wrong


A_ROLES = [
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
]


@pytest.mark.parametrize("role", A_ROLES)
def test_no_page_of_province_a_shows_province_b(two, role):
    u = two["a_users"][role]
    assert not _leaks(_client(u), u, two["b_markers"])


@pytest.mark.parametrize(
    "role", [Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.ENTERPRISE]
)
def test_no_page_of_province_b_shows_province_a(two, role):
    u = two["b_users"][role]
    assert not _leaks(_client(u), u, two["a_markers"])


def _object_pages(namespace: str) -> list[tuple[str, str]]:
    out = []
    for route, name, view in _patterns():
        rule = _rule_of(view)
        args = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if rule and name.startswith(f"{namespace}:") and args in (["pk"], ["uscc"]):
            out.append((route, rule))
    return out


def _skip(route: str, namespace: str) -> bool:
    # pages whose pk names another kind of object than the namespace's main one
    if namespace == "reporting" and ("statistics" in route or "filing" in route):
        return True
    if namespace == "targets" and re.search(r"letter|alert|warning|drilldown", route):
        return True
    if namespace == "projects" and re.search(r"alert|evidence|investment|elimination", route):
        return True
    return namespace == "monitoring" and not re.search(r"outlet|limit|range", route)


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER])
def test_province_staff_cannot_open_the_other_provinces_objects(two, side, role):
    users = two["a_users"] if side == "a" else two["b_users"]
    other = two["b"] if side == "a" else two["a"]
    own = two["a"] if side == "a" else two["b"]
    u = users[role]
    c = _client(u)
    wrong = []
    checked = 0
    for namespace in ("reporting", "metering", "targets", "projects", "monitoring"):
        for route, rule in _object_pages(namespace):
            if _skip(route, namespace) or not allows(u, rule):
                continue
            path_out = "/" + re.sub(r"<(?:\w+:)?\w+>", str(other[namespace]), route)
            path_in = "/" + re.sub(r"<(?:\w+:)?\w+>", str(own[namespace]), route)
            r = c.get(path_out)
            if r.status_code not in (403, 404):
                wrong.append(("other", path_out, r.status_code))
            r = c.get(path_in)
            if r.status_code in (404, 500):
                wrong.append(("own", path_in, r.status_code))
            checked += 1
    assert checked > 10
    assert not wrong, wrong


def test_no_api_list_of_province_a_holds_province_b(two):
    from dualcontrol.api import api

    u = two["a_users"][Role.PROVINCE_ADMIN]
    c = Client()
    token = api_token(c, u, PASSWORD)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    wrong = []
    checked = 0
    for path, methods in api.get_openapi_schema()["paths"].items():
        if "get" not in methods or "{" in path or path.startswith("/api/public/"):
            continue
        r = c.get(path, **auth)
        if r.status_code != 200:
            continue
        checked += 1
        body = r.content.decode("utf-8", "replace")
        hit = [m for m in two["b_markers"] if m in body]
        if hit:
            wrong.append((path, hit))
    assert checked > 10
    assert not wrong, wrong


def test_the_national_officer_reads_both_provinces_and_changes_nothing(two):
    u = two["national"]
    assert scope.visible_divisions(u).filter(code="630000").exists()
    assert scope.visible_divisions(u).filter(code="530000").exists()
    assert scope.visible_entities(u).filter(pk=two["b_unit"].pk).exists()
    c = _client(u)
    r = c.get("/targets/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "云南省" in body or "昆明" in body
    for rule in ("targets.run_warnings", "projects.manage", "publishing.manage", "carbon.manage"):
        assert not allows(u, rule), rule
    # object pages of both provinces open
    for side in ("a", "b"):
        r = c.get(f"/targets/{two[side]['targets']}/")
        assert r.status_code == 200, (side, r.status_code)


def test_a_province_account_without_a_division_follows_the_installation(world):
    admin = world.users[Role.PROVINCE_ADMIN]
    assert admin.division_id is None
    assert scope.region_path(admin) == world.province.path
    assert scope.visible_entities(admin).filter(pk=world.unit.pk).exists()
    division("630000", f"{MARK}省", "province")
    fresh = User.objects.get(pk=admin.pk)  # a new request loads the user again
    assert scope.region_path(fresh) is None
    assert not scope.visible_entities(fresh).exists()
    # the province officer keeps its province through its department
    officer = User.objects.get(pk=world.users[Role.PROVINCE_OFFICER].pk)
    assert scope.region_path(officer) == world.province.path


def test_a_province_account_must_name_its_province_once_there_are_two(world):
    from django.core.exceptions import ValidationError

    division("630000", f"{MARK}省", "province")
    u = User(username="admin9", role=Role.PROVINCE_ADMIN)
    with pytest.raises(ValidationError) as exc:
        u.clean()
    assert "division" in exc.value.message_dict
    u.division = world.city
    with pytest.raises(ValidationError):
        u.clean()  # a city is not a province
    u.division = world.province
    u.clean()
