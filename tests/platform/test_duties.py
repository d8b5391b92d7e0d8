"""Separated duties: the 三员 roles, and review / scoring / publishing per department (duties.yaml)."""

from __future__ import annotations

import pytest
from django.test import Client

from dualcontrol.access.duties import (
    PUBLISH_RESULTS,
    REVIEW_REPORTS,
    SCORE_ASSESSMENT,
    department_has,
    duties,
    has_duty,
)
from dualcontrol.access.scope import can_review, can_view_audit, role_of
from dualcontrol.accounts.models import Role
from dualcontrol.assessment import services as assessment
from dualcontrol.assessment.models import ScoringSheet
from dualcontrol.regions.models import Department
from dualcontrol.reporting import services as reporting
from dualcontrol.reporting.queries import review_queue
from tests.auth import login
from tests.factories import coal_row, user

pytestmark = pytest.mark.django_db


def test_every_duty_is_defined_with_keywords():
    assert set(duties()) == {REVIEW_REPORTS, SCORE_ASSESSMENT, PUBLISH_RESULTS}
    for d in duties().values():
        assert d.department_keywords and d.name_zh and d.name_en
    # renamed departments keep their duties
    assert department_has("省发展改革委", PUBLISH_RESULTS)
    assert department_has("省发展和改革委员会", PUBLISH_RESULTS)
    assert department_has("省统计局", SCORE_ASSESSMENT)
    assert not department_has("省统计局", PUBLISH_RESULTS)
    assert not department_has("省林业厅", REVIEW_REPORTS)


@pytest.fixture
def officers(world):
    made = {}
    for name in ("省林业厅", "省统计局"):
        dept = Department.objects.create(division=world.province, name=name)
        made[name] = user(f"officer-{dept.pk}", Role.PROVINCE_OFFICER, department=dept)
    return made


def test_duties_follow_the_department(world, officers):
    forestry, stats = officers["省林业厅"], officers["省统计局"]
    admin, ndrc = world.users[Role.PROVINCE_ADMIN], world.users[Role.PROVINCE_OFFICER]
    for duty in duties():
        assert has_duty(admin, duty)
        assert has_duty(ndrc, duty)  # 省发展改革委
        assert not has_duty(forestry, duty)
        assert not has_duty(world.users[Role.CITY_OFFICER], duty)  # cities: by region instead
        assert not has_duty(world.users[Role.SYSTEM_ADMIN], duty)
    assert has_duty(stats, REVIEW_REPORTS) and has_duty(stats, SCORE_ASSESSMENT)
    assert not has_duty(stats, PUBLISH_RESULTS)
    with pytest.raises(KeyError):
        has_duty(admin, "no-such-duty")


def test_review_needs_the_duty(world, officers):
    report = reporting.save_report(
        entity=world.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row()],
        user=world.users[Role.ENTERPRISE],
        submit=True,
    )
    forestry = officers["省林业厅"]
    assert not can_review(forestry, world.unit)
    assert not review_queue(forestry).exists()
    assert review_queue(officers["省统计局"]).filter(pk=report.pk).exists()
    c = login(Client(), forestry)
    assert c.get("/reports/review/").status_code in (200, 403)
    assert c.post(f"/reports/{report.pk}/accept/").status_code == 403
    report.refresh_from_db()
    assert report.status == "submitted"
    assert (
        login(Client(), officers["省统计局"]).post(f"/reports/{report.pk}/accept/").status_code
        == 302
    )


def test_scoring_needs_the_duty(world, officers):
    assessment.sync_sheets()
    sheet = ScoringSheet.objects.get(name="gf-2007-36")
    with pytest.raises(assessment.NotAllowed):
        assessment.create_round(user=officers["省林业厅"], year=2015, sheet=sheet)
    rnd = assessment.create_round(user=officers["省统计局"], year=2015, sheet=sheet)
    from dualcontrol.access import assessment as access

    assert not access.assessor_rounds(officers["省林业厅"]).filter(pk=rnd.pk).exists()
    assert access.assessor_rounds(world.users[Role.PROVINCE_ADMIN]).filter(pk=rnd.pk).exists()


def test_three_administrators_are_separate(world):
    sysadmin = world.users[Role.SYSTEM_ADMIN]
    security = world.users[Role.SECURITY_ADMIN]
    auditor = world.users[Role.AUDITOR]
    assert role_of(sysadmin) == Role.SYSTEM_ADMIN  # a superuser is not the province administrator
    assert can_view_audit(auditor)
    for u in (sysadmin, security, world.users[Role.PROVINCE_ADMIN]):
        assert not can_view_audit(u)
    assert login(Client(), auditor).get("/audit/").status_code == 200
    assert login(Client(), sysadmin).get("/audit/").status_code == 403
    # the system administrator runs the admin site but does not see the audit log in it either
    c = login(Client(), sysadmin)
    assert c.get("/admin/").status_code == 200
    assert c.get("/admin/audit/auditentry/").status_code == 403
    # ``createsuperuser`` leaves the role at its default: still a system administrator
    su = user("root1", Role.PUBLIC, is_staff=True, is_superuser=True)
    assert role_of(su) == Role.SYSTEM_ADMIN
