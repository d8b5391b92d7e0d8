"""The demo's plan tracking: the Yunnan plan with overdue, stalled and completed tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dualcontrol.accounts.models import User
from dualcontrol.tasks import demo, queries
from dualcontrol.tasks.models import Plan, PlanTask, ProgressReport
from dualcontrol.tasks.rules import load_rules
from tests.auth import login

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def test_the_demo_plan_is_packaged_with_the_app():
    from tests.tasks.conftest import PLANS

    assert demo.plan_bytes() == (PLANS / demo.PLAN_FILE).read_bytes()


def test_extend_demo(world):
    demo.extend_demo(today=TODAY)  # speed: python -m benchmarks demo
    history = Plan.objects.get(title=demo.PLAN_TITLE)
    assert history.is_demo and history.office.name == "省发展改革委"
    assert history.filename == demo.PLAN_FILENAME  # no research path on the page
    assert history.tasks.count() == 138
    # history: deadlines within its own period, every task reported complete by then
    assert all(t.deadline and t.deadline <= dt.date(2015, 12, 31) for t in history.tasks.all()), (
        "a 2011–2015 plan's deadlines lie in 2011–2015"
    )
    closed = queries.status_counts(
        queries.with_effective(history.tasks.all(), TODAY, load_rules().stalled_after_days)
    )
    assert closed["completed"] == 138, closed
    assert all(
        r.submitted_at.date() <= dt.date(2015, 12, 31)
        for r in ProgressReport.objects.filter(task__plan=history)
    )
    current = Plan.objects.get(title=demo.CURRENT_TITLE)
    assert "演示" in current.title and (current.period_start, current.period_end) == (2026, 2030)
    assert current.tasks.count() == 14
    assert all(
        t.deadline and dt.date(2026, 1, 1) <= t.deadline <= dt.date(2030, 12, 31)
        for t in current.tasks.all()
    )
    # the deadlines its text names: “2026年6月底前” → 2026-06-30
    assert current.tasks.get(number="5").deadline == dt.date(2026, 6, 30)
    assert current.tasks.get(number="1").deadline == dt.date(2027, 12, 31)
    effective = queries.status_counts(
        queries.with_effective(current.tasks.all(), TODAY, load_rules().stalled_after_days)
    )
    # every kind of status is on show
    assert all(effective[k] > 0 for k in ("overdue", "stalled", "completed", "in_progress")), (
        effective
    )
    reports = ProgressReport.objects.filter(task__plan=current)
    assert reports.count() > 10 and all(r.is_demo for r in ProgressReport.objects.all())
    assert reports.exclude(evidence="").count() == 6
    assert all(current.tracking_start <= r.submitted_at.date() <= TODAY for r in reports)
    officer = User.objects.get(username="demo-dept")
    assert officer.is_demo and officer.department.name == "省环境保护厅"
    # a second build (the builder's reproducibility test) leaves it alone
    demo.extend_demo(today=TODAY)
    assert Plan.objects.count() == 2


def test_text_deadlines():
    end = dt.date(2030, 12, 31)
    assert demo.text_deadline("2026年2月底前出台", end) == dt.date(2026, 2, 28)
    assert demo.text_deadline("2028年底前完成", end) == dt.date(2028, 12, 31)
    assert demo.text_deadline("持续推进", end) == end


def test_demo_reproducible(world):
    demo.extend_demo(today=TODAY)
    first = sorted(
        (r.task.key, r.department.name, r.period, r.percent_complete)
        for r in ProgressReport.objects.select_related("task", "department")
    )
    deadlines = sorted(PlanTask.objects.values_list("key", "deadline"))
    ProgressReport.objects.all().delete()
    Plan.objects.all().delete()
    User.objects.filter(username="demo-dept").delete()
    demo.extend_demo(today=TODAY)
    again = sorted(
        (r.task.key, r.department.name, r.period, r.percent_complete)
        for r in ProgressReport.objects.select_related("task", "department")
    )
    assert again == first
    assert sorted(PlanTask.objects.values_list("key", "deadline")) == deadlines


def test_demo_province_user_uses_every_page(world):
    demo.extend_demo(today=TODAY)
    admin = world.users["province_admin"]
    plan = Plan.objects.get(title=demo.CURRENT_TITLE)
    task = plan.tasks.filter(reports__isnull=False).first()
    report = ProgressReport.objects.exclude(evidence="").first()
    c = Client()
    login(c, admin)
    for url in [
        "/tasks/",
        "/tasks/import/",
        f"/tasks/plans/{plan.pk}/",
        f"/tasks/plans/{plan.pk}/matrix/",
        "/tasks/department/",
        f"/tasks/department/{plan.office.pk}/",
        f"/tasks/task/{task.pk}/",
        "/tasks/warnings/",
        "/tasks/departments/imported/",
    ]:
        assert c.get(url).status_code == 200, url
    download = c.get(f"/tasks/evidence/{report.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith("演示佐证材料".encode())
