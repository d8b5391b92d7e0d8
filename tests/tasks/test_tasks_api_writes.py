"""The plan office's writes through the REST API: task deadline/status and the plan's deadlines,
through the pages' services, rule ``tasks.manage`` and audit."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from tests.auth import api_client

pytestmark = pytest.mark.django_db


_client = api_client


def _send(c: Client, path: str, body: dict, method: str = "post"):
    return getattr(c, method)(path, json.dumps(body), content_type="application/json")


def test_edit_a_task(tracked):
    task = tracked.tasks["一/（一）"]
    office = _client(tracked.world.users[Role.PROVINCE_OFFICER])  # 省发展改革委, the plan office
    path = f"/api/tasks/{task.pk}"
    r = _send(
        office, path, {"deadline": "2026-12-31", "status": "in_progress", "note": "API"}, "patch"
    )
    assert r.status_code == 200, r.content
    task.refresh_from_db()
    assert str(task.deadline) == "2026-12-31" and task.status == "in_progress"
    assert AuditEntry.objects.filter(action="tasks.task.set", object_id=str(task.pk)).exists()
    before = AuditEntry.objects.filter(action="tasks.task.set").count()
    bad = _send(office, path, {"status": "done?"}, "patch")
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "status"
    # a department named on the task but not the plan office: refused by the service
    finance = _client(tracked.world.users["finance"])
    assert _send(finance, path, {"status": "completed"}, "patch").status_code == 403
    # a city officer: no tasks.manage
    city = _client(tracked.world.users[Role.CITY_OFFICER])
    assert _send(city, path, {"status": "completed"}, "patch").status_code == 403
    task.refresh_from_db()
    assert task.status == "in_progress"
    assert AuditEntry.objects.filter(action="tasks.task.set").count() == before


def test_plan_deadlines(tracked):
    office = _client(tracked.world.users[Role.PROVINCE_OFFICER])
    path = f"/api/tasks/plans/{tracked.plan.pk}/deadlines"
    r = _send(office, path, {"deadline": "2027-06-30"})
    assert r.status_code == 200, r.content
    assert r.json()["changed"] == len(tracked.tasks)
    assert all(
        str(t.deadline) == "2027-06-30" for t in tracked.plan.tasks.all() if t.key in tracked.tasks
    )
    assert AuditEntry.objects.filter(action="tasks.plan.deadlines").count() == 1
    assert _send(office, path, {"deadline": "30/06/2027"}).status_code == 422
    finance = _client(tracked.world.users["finance"])
    assert _send(finance, path, {"deadline": "2027-01-01"}).status_code == 403


# --------------------------------------------------------------------------------------------
# importing a plan in two steps (上传规划文件 → 确认导入) and resolving the departments it created

PROVINCE_CODE = "530000"
PLAN_WITH_TARGETS = """示范省“十五五”节能降碳工作方案

一、主要目标
到2030年，全省单位地区生产总值能源消耗比2025年下降14.5%，单位地区生产总值二氧化碳排放比2025年下降17%。

二、重点任务
（一）推进工业节能。实施重点行业节能降碳改造。（省工业和信息化厅牵头，省发展改革委参与）
（二）推进建筑节能。新建建筑全面执行绿色建筑标准。（省住房城乡建设厅负责）
"""


def _preview(c: Client, text: str, name: str = "方案.txt", division: str = PROVINCE_CODE):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return c.post(
        "/api/tasks/plans/import",
        {"division": division, "file": SimpleUploadedFile(name, text.encode("gb18030"))},
    )


CONFIRM = {
    "title": "示范省节能工作方案",
    "issuing_body": "示范省人民政府",
    "period_start": 2021,
    "period_end": 2025,
    "tracking_start": "2026-01-01",
    "default_deadline": "2025-12-31",
}


def test_import_a_plan_preview_then_confirm(world):
    from dualcontrol.tasks.models import ImportedDepartment, Plan
    from tests.tasks.conftest import SMALL

    office = _client(world.users[Role.PROVINCE_OFFICER])  # 省发展改革委
    r = _preview(office, SMALL)
    assert r.status_code == 200, r.content
    body = r.json()
    assert [t["key"] for t in body["tasks"]] == ["一/（一）", "一/（二）", "二/（三）"]
    assert body["division_code"] == PROVINCE_CODE and body["duplicate_of"] is None
    how = {d["name"]: d["how"] for d in body["departments"]}
    assert how["省发展改革委"] == "exact" and how["省财政厅"] == "new"
    assert not Plan.objects.exists()  # nothing imported before the confirmation
    path = f"/api/tasks/plans/import/{body['token']}/confirm"
    r = _send(office, path, CONFIRM)
    assert r.status_code == 201, r.content
    plan = Plan.objects.get()
    assert r.json()["id"] == plan.pk and r.json()["title"] == "示范省节能工作方案"
    assert plan.tasks.count() == 3 and plan.office.name == "省发展改革委"
    assert str(plan.tracking_start) == "2026-01-01"
    assert ImportedDepartment.objects.filter(plan=plan).count() == 3  # 财政厅、统计局、住建厅
    entry = AuditEntry.objects.get(action="tasks.plan.import", object_id=str(plan.pk))
    assert entry.after["tasks"] == 3
    # the staged file is gone: a second confirmation finds nothing
    assert _send(office, path, CONFIRM).status_code == 404
    # the same file again: the preview says so, the confirmation is refused by the state (409)
    again = _preview(office, SMALL)
    assert again.json()["duplicate_of"] == plan.pk
    r = _send(office, f"/api/tasks/plans/import/{again.json()['token']}/confirm", CONFIRM)
    assert r.status_code == 409, r.content
    assert "已导入" in r.json()["problems"][0]["reason"]
    assert Plan.objects.count() == 1
    assert AuditEntry.objects.filter(action="tasks.plan.import").count() == 1


def test_import_refusals(world):
    from dualcontrol.tasks.models import Plan
    from tests.tasks.conftest import SMALL

    city = _client(world.users[Role.CITY_OFFICER])  # no tasks.manage
    assert _preview(city, SMALL).status_code == 403
    office = _client(world.users[Role.PROVINCE_OFFICER])
    bad = _preview(office, "会议记录，无编号。")
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "file"
    assert "没有找到编号任务" in bad.json()["problems"][0]["reason"]
    doc = _preview(office, "x", name="plan.doc")
    assert doc.status_code == 422 and "另存为" in doc.json()["problems"][0]["reason"]
    nowhere = _preview(office, SMALL, division="999999")
    assert nowhere.status_code == 422 and nowhere.json()["problems"][0]["field"] == "division"
    token = _preview(office, SMALL).json()["token"]
    path = f"/api/tasks/plans/import/{token}/confirm"
    # every problem of the confirmation listed: blank title, an office the officer may not pick
    r = _send(office, path, {**CONFIRM, "title": " ", "office_id": 1})
    assert r.status_code == 422, r.content
    assert sorted(p["field"] for p in r.json()["problems"]) == ["office_id", "title"]
    r = _send(office, path, {**CONFIRM, "period_start": 2025, "period_end": 2021})
    assert r.status_code == 422 and "起始年晚于终止年" in r.json()["problems"][0]["reason"]
    # another user's token is not found; a city officer has no tasks.manage
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    assert _send(admin, path, CONFIRM).status_code == 404
    assert _send(city, path, CONFIRM).status_code == 403
    assert not Plan.objects.exists()
    assert not AuditEntry.objects.filter(action="tasks.plan.import").exists()
    # still staged after the refusals: the office confirms it
    assert _send(office, path, CONFIRM).status_code == 201


def test_import_with_the_proposed_targets_decided(world):
    from dualcontrol.targets.models import Target
    from dualcontrol.tasks.models import Plan

    office = _client(world.users[Role.PROVINCE_OFFICER])
    body = _preview(office, PLAN_WITH_TARGETS).json()
    proposed = {t["indicator"]: t for t in body["targets"]}
    energy = proposed["energy_intensity_reduction"]
    co2 = proposed["co2_intensity_reduction"]
    assert (energy["value"], energy["base_year"], energy["year"]) == (14.5, 2025, 2030)
    path = f"/api/tasks/plans/import/{body['token']}/confirm"
    confirm = {**CONFIRM, "period_start": 2026, "period_end": 2030}
    bad = _send(
        office,
        path,
        {
            **confirm,
            "targets": [
                {
                    "index": energy["index"],
                    "accept": True,
                    "indicator": "no_such_indicator",
                    "value": "abc",
                    "base_year": 2030,
                },
                {"index": 99, "accept": True},
            ],
        },
    )
    assert bad.status_code == 422, bad.content
    reasons = " ".join(p["reason"] for p in bad.json()["problems"])
    for expected in ("不在指标目录中", "不是数字", "基期年须早于目标年", "第 100 条不存在"):
        assert expected in reasons, (expected, reasons)
    assert not Plan.objects.exists() and not Target.objects.exists()
    r = _send(
        office,
        path,
        {
            **confirm,
            "targets": [
                {"index": energy["index"], "accept": True, "value": 15},
                {"index": co2["index"], "accept": False},
            ],
        },
    )
    assert r.status_code == 201, r.content
    target = Target.objects.get()
    assert (target.indicator, target.base_value, target.end_year) == (
        "energy_intensity_reduction",
        15,
        2030,
    )
    decided = {p["indicator"]: p for p in Plan.objects.get().target_proposals}
    assert decided["energy_intensity_reduction"]["target"] == target.pk
    assert decided["co2_intensity_reduction"]["accept"] is False


def test_resolve_imported_departments(tracked):
    from dualcontrol.regions.models import Department
    from dualcontrol.tasks.models import ImportedDepartment, PlanTask
    from tests.factories import user

    world = tracked.world
    housing = ImportedDepartment.objects.get(plan=tracked.plan).department
    path = f"/api/tasks/departments/imported/{housing.pk}/resolve"
    admin = _client(world.users[Role.PROVINCE_ADMIN])
    # refused: no tasks.manage; a province officer not of the plan office: not its department
    city = _client(world.users[Role.CITY_OFFICER])
    assert _send(city, path, {"action": "confirm"}).status_code == 403
    finance = _client(world.users["finance"])
    assert _send(finance, path, {"action": "confirm"}).status_code == 404
    # bad input: every field named, nothing changed
    assert _send(admin, path, {"action": "nope"}).json()["problems"][0]["field"] == "action"
    r = _send(admin, path, {"action": "merge"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "into_id"
    elsewhere = Department.objects.create(division=world.city, name="市住房城乡建设局")
    r = _send(admin, path, {"action": "merge", "into_id": elsewhere.pk})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "into_id"
    # a department with user accounts cannot be merged away: its state (409)
    target = Department.objects.create(division=world.province, name="省住房和城乡建设厅")
    clerk = user("housing1", Role.PROVINCE_OFFICER, department=housing)
    r = _send(admin, path, {"action": "merge", "into_id": target.pk})
    assert r.status_code == 409, r.content
    assert Department.objects.filter(pk=housing.pk).exists()
    assert not AuditEntry.objects.filter(action__startswith="tasks.department.").exists()
    clerk.delete()
    r = _send(admin, path, {"action": "merge", "into_id": target.pk})
    assert r.status_code == 200, r.content
    assert r.json() == {
        "department_id": housing.pk,
        "name": "省住房城乡建设厅",
        "action": "merge",
        "into_id": target.pk,
        "assignments_moved": 1,
    }
    assert not Department.objects.filter(pk=housing.pk).exists()
    task = PlanTask.objects.get(plan=tracked.plan, key="一/（二）")
    assert task.assignments.get().department == target
    assert AuditEntry.objects.filter(
        action="tasks.department.merge", object_id=str(target.pk)
    ).exists()
    # confirm one of the city plan's departments as a department in its own right
    flag = ImportedDepartment.objects.filter(plan=tracked.city_plan).first()
    r = _send(
        admin,
        f"/api/tasks/departments/imported/{flag.department_id}/resolve",
        {"action": "confirm"},
    )
    assert r.status_code == 200 and r.json()["action"] == "confirm"
    assert not ImportedDepartment.objects.filter(pk=flag.pk).exists()
    assert AuditEntry.objects.filter(
        action="tasks.department.confirm", object_id=str(flag.department_id)
    ).exists()
