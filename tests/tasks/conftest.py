"""Builders for the plan-task tests: a small plan on top of the shared ``world``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.regions.models import Department
from dualcontrol.tasks import services
from dualcontrol.tasks.models import Plan, PlanTask
from tests.factories import World, user

PLANS = Path(__file__).resolve().parent.parent / "data" / "plans"
SMALL = """示范省节能工作方案（2021—2025年）
一、重点任务
（一）推进工业节能。到2025年，规模以上工业单位增加值能耗下降13.5%。（牵头单位：省发展改革委；参加单位：省财政厅、省统计局）
（二）推进建筑节能，新建建筑全面执行节能标准。（省住房城乡建设厅负责）
二、保障措施
（三）强化目标责任考核。（省发展改革委、省财政厅）
"""
CITY = """昆明市节能工作方案
一、重点任务
（一）推进园区循环化改造。（牵头单位：市发展改革委；参加单位：市财政局）
"""
TODAY = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads (evidence, staged plans) go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@dataclass
class Setup:
    world: World
    plan: Plan
    city_plan: Plan
    tasks: dict[str, PlanTask]
    finance: Department
    devreform: Department


@pytest.fixture
def tracked(world) -> Setup:
    """The small provincial plan (office: 省发展改革委) and a Kunming plan, with users:
    ``officer1`` (省发展改革委, the plan office), ``finance1`` (省财政厅, named on two tasks),
    ``stats1`` (省统计局, named on one)."""
    devreform = Department.objects.get(division=world.province, name="省发展改革委")
    finance = Department.objects.create(division=world.province, name="省财政厅")
    stats = Department.objects.create(division=world.province, name="省统计局")
    world.users["finance"] = user("finance1", Role.PROVINCE_OFFICER, department=finance)
    world.users["stats"] = user("stats1", Role.PROVINCE_OFFICER, department=stats)
    plan = services.import_plan(
        data=SMALL.encode(),
        filename="示范省节能工作方案.txt",
        division=world.province,
        user=world.users[Role.PROVINCE_ADMIN],
        office=devreform,
        tracking_start=TODAY - dt.timedelta(days=30),
    )
    city_plan = services.import_plan(
        data=CITY.encode(),
        filename="kunming.txt",
        division=world.city,
        user=world.users[Role.PROVINCE_ADMIN],
        tracking_start=TODAY - dt.timedelta(days=30),
    )
    tasks = {t.key: t for t in PlanTask.objects.filter(plan=plan)}
    return Setup(world, plan, city_plan, tasks, finance, devreform)
