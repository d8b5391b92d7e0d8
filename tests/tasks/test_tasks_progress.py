"""Progress reports, deadlines, statuses and warnings (services and queries)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.regions.models import Department
from dualcontrol.tasks import queries, services
from dualcontrol.tasks.models import (
    ImportedDepartment,
    PlanTask,
    ProgressReport,
    TaskAssignment,
    effective_status,
)
from dualcontrol.tasks.rules import load_rules, period_of, recent_periods, valid_period
from dualcontrol.tasks.warnings_report import warning_rows
from tests.tasks.conftest import TODAY

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def file(tracked, key, who, dept=None, **kw):
    values = {"period": "2026Q2", "narrative": "已部署", "percent_complete": 30}
    values.update(kw)
    return services.file_progress(
        task=tracked.tasks[key],
        department=dept or tracked.world.users[who].department,
        user=tracked.world.users[who],
        **values,
    )


def test_rules_are_reference_data_with_a_source():
    from dualcontrol.reference import load_yaml

    _version, data = load_yaml("tasks_rules.yaml")
    assert data["source"] == "platform rule"
    assert all("source" in data[k] for k in ("stalled", "progress", "evidence", "import"))
    rules = load_rules()
    assert rules.stalled_after_days == 90 and rules.version.startswith("tasks_rules.yaml@")


def test_periods():
    assert period_of(dt.date(2026, 8, 1), "quarter") == "2026Q3"
    assert period_of(dt.date(2026, 8, 1), "month") == "2026-08"
    assert period_of(dt.date(2026, 8, 1), "half") == "2026H2"
    assert recent_periods(dt.date(2026, 2, 1), "quarter", 2) == ["2026Q1", "2025Q4", "2025Q3"]
    assert recent_periods(dt.date(2026, 2, 1), "month", 2) == ["2026-02", "2026-01", "2025-12"]
    assert all(valid_period(p) for p in ("2026", "2026Q4", "2026H1", "2026-12"))
    assert not any(valid_period(p) for p in ("2026Q5", "26Q1", "2026-13", "", "x"))


def test_effective_status_rule():
    d = dt.date(2026, 6, 30)
    assert (
        effective_status("completed", d - dt.timedelta(1), d - dt.timedelta(400), d, 90)
        == "completed"
    )
    assert effective_status("in_progress", d - dt.timedelta(1), d, d, 90) == "overdue"
    assert effective_status("in_progress", d, d - dt.timedelta(91), d, 90) == "stalled"
    assert effective_status("in_progress", d, d - dt.timedelta(90), d, 90) == "in_progress"
    assert effective_status("stalled", None, d, d, 90) == "stalled"
    assert effective_status("not_started", None, d, d, 90) == "not_started"


def test_the_annotation_agrees_with_the_python_rule(tracked):
    tasks = list(PlanTask.objects.all())
    samples = [
        ("completed", TODAY - dt.timedelta(5), TODAY - dt.timedelta(200)),
        ("in_progress", TODAY - dt.timedelta(1), TODAY),
        ("not_started", None, TODAY - dt.timedelta(91)),
        ("stalled", TODAY + dt.timedelta(9), TODAY),
    ]
    for task, (status, deadline, activity) in zip(tasks, samples, strict=False):
        PlanTask.objects.filter(pk=task.pk).update(
            status=status, deadline=deadline, last_activity_on=activity
        )
    annotated = {
        t.pk: t.effective for t in queries.with_effective(PlanTask.objects.all(), TODAY, 90)
    }
    for t in PlanTask.objects.all():
        assert annotated[t.pk] == t.effective_status(TODAY, 90)
    assert sorted(annotated.values()) == ["completed", "overdue", "stalled", "stalled"]


def test_a_department_files_for_its_own_tasks_only(tracked):
    finance = tracked.world.users["finance"]
    # 省财政厅 participates in 一/（一）; it is not named on 一/（二）
    report = file(tracked, "一/（一）", "finance", percent_complete=40)
    assert report.department == tracked.finance and report.submitted_by == finance
    with pytest.raises(services.TaskPermissionDenied):
        file(tracked, "一/（二）", "finance")
    # …nor for another department named on the same task
    with pytest.raises(services.TaskPermissionDenied):
        file(tracked, "一/（一）", "finance", dept=tracked.devreform)
    for role in (Role.CITY_OFFICER, Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(services.TaskPermissionDenied):
            file(tracked, "一/（一）", role, dept=tracked.finance)
    # the province administrator may file on a department's behalf (recorded as such)
    admin = tracked.world.users[Role.PROVINCE_ADMIN]
    services.file_progress(
        task=tracked.tasks["一/（一）"],
        department=tracked.devreform,
        user=admin,
        period="2026Q2",
        narrative="代报",
        percent_complete=10,
    )
    entry = AuditEntry.objects.filter(action="tasks.progress.file").order_by("-pk").first()
    assert entry.actor == admin and entry.note == "代部门报送"


def test_progress_drives_status_and_percent(tracked):
    key = "一/（一）"  # lead 省发展改革委 (officer1), participating 省财政厅, 省统计局
    task = tracked.tasks[key]
    assert task.status == "not_started"
    file(tracked, key, "finance", percent_complete=100)  # a participant finishing its part
    task.refresh_from_db()
    assert (task.status, task.percent_complete) == ("in_progress", 0)
    file(tracked, key, Role.PROVINCE_OFFICER, percent_complete=60, blocked=True)
    task.refresh_from_db()
    assert (task.status, task.percent_complete) == ("stalled", 60)
    assert task.last_activity_on == timezone.localdate()
    file(tracked, key, Role.PROVINCE_OFFICER, percent_complete=100)
    task.refresh_from_db()
    assert (task.status, task.percent_complete) == ("completed", 100)
    a = TaskAssignment.objects.get(task=task, department=tracked.finance)
    assert a.percent_complete == 100 and a.last_report_at is not None


def test_an_old_report_does_not_move_the_activity_date_back(tracked):
    key = "二/（三）"
    file(tracked, key, Role.PROVINCE_OFFICER)
    task = PlanTask.objects.get(key=key, plan=tracked.plan)
    latest = task.last_activity_on
    services.file_progress(
        task=task,
        department=tracked.devreform,
        user=None,
        period="2025Q1",
        narrative="补报",
        percent_complete=20,
        submitted_at=at(dt.date(2025, 3, 1)),
    )
    task.refresh_from_db()
    assert task.last_activity_on == latest


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"period": "2026Q9"}, "period"),
        ({"narrative": "  "}, "narrative"),
        ({"narrative": "长" * 5001}, "narrative"),
        ({"percent_complete": 101}, "percent_complete"),
        ({"percent_complete": -1}, "percent_complete"),
    ],
)
def test_invalid_reports_are_refused(tracked, kw, field):
    with pytest.raises(services.ProgressRejected) as exc:
        file(tracked, "一/（一）", Role.PROVINCE_OFFICER, **kw)
    assert field in exc.value.problems
    assert not ProgressReport.objects.exists()


def test_a_department_not_named_on_the_task_is_refused(tracked):
    other = Department.objects.create(division=tracked.world.province, name="省林业厅")
    with pytest.raises(services.ProgressRejected) as exc:
        services.file_progress(
            task=tracked.tasks["一/（一）"],
            department=other,
            user=None,
            period="2026Q2",
            narrative="x",
            percent_complete=1,
        )
    assert "department" in exc.value.problems


@pytest.mark.parametrize(
    ("name", "content", "ok"),
    [
        ("说明.pdf", PDF, True),
        ("照片.JPG", b"\xff\xd8\xff\xe0" + b"0" * 100, True),
        ("台账.xlsx", b"PK\x03\x04" + b"0" * 100, True),
        ("说明.txt", "进展说明".encode("gb18030"), True),
        ("说明.pdf", b"MZ\x90\x00 pretending", False),
        ("run.exe", b"MZ\x90\x00", False),
        ("说明.txt", b"\x00\x01\x02binary", False),
        ("empty.pdf", b"", False),
        ("noext", b"%PDF-1.4", False),
    ],
)
def test_evidence_type_is_checked(tracked, media, name, content, ok):
    upload = SimpleUploadedFile(name, content)
    if ok:
        report = file(tracked, "一/（一）", Role.PROVINCE_OFFICER, evidence=upload)
        assert report.evidence_name == name and report.evidence_size == len(content)
        stored = Path(report.evidence.path)
        assert stored.is_file() and stored.read_bytes() == content
        assert str(stored).startswith(str(media))
    else:
        with pytest.raises(services.ProgressRejected) as exc:
            file(tracked, "一/（一）", Role.PROVINCE_OFFICER, evidence=upload)
        assert "evidence" in exc.value.problems
        assert not ProgressReport.objects.exists()


def test_evidence_size_limit(tracked, monkeypatch):
    from dualcontrol.tasks import rules as rules_module

    small = rules_module.load_rules().__class__(
        **{**rules_module.load_rules().__dict__, "evidence_max_bytes": 10}
    )
    monkeypatch.setattr(services, "load_rules", lambda: small)
    with pytest.raises(services.ProgressRejected, match="MB"):
        file(tracked, "一/（一）", Role.PROVINCE_OFFICER, evidence=SimpleUploadedFile("a.pdf", PDF))


def test_a_failed_write_leaves_no_evidence_file(tracked, media, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "record", boom)
    with pytest.raises(RuntimeError):
        file(tracked, "一/（一）", Role.PROVINCE_OFFICER, evidence=SimpleUploadedFile("a.pdf", PDF))
    assert not ProgressReport.objects.exists()
    folder = media / "tasks" / "evidence"
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_deadlines_and_status_are_set_by_the_plan_office(tracked):
    task = tracked.tasks["一/（二）"]
    office = tracked.world.users[Role.PROVINCE_OFFICER]
    services.set_task(
        task=task, user=office, deadline=dt.date(2026, 3, 31), status="stalled", note="协调中"
    )
    task.refresh_from_db()
    assert (task.deadline, task.deadline_source, task.status) == (
        dt.date(2026, 3, 31),
        "office",
        "stalled",
    )
    for who in ("finance", Role.CITY_OFFICER):
        with pytest.raises(services.TaskPermissionDenied):
            services.set_task(task=task, user=tracked.world.users[who], deadline=None)
    n = services.set_deadlines(
        plan=tracked.plan, user=office, deadline=dt.date(2026, 12, 31), only_missing=True
    )
    assert n == 1  # 一/（一） has its text deadline, 一/（二） the office's
    assert PlanTask.objects.filter(plan=tracked.plan, deadline=dt.date(2026, 12, 31)).count() == 1
    with pytest.raises(services.TaskPermissionDenied):
        services.set_deadlines(
            plan=tracked.plan, user=tracked.world.users["finance"], deadline=None
        )
    assert (
        AuditEntry.objects.filter(action__in=["tasks.task.set", "tasks.plan.deadlines"]).count()
        == 2
    )


def test_warnings_overdue_and_stalled(tracked, capsys):
    plan_tasks = tracked.tasks
    PlanTask.objects.filter(pk=plan_tasks["一/（一）"].pk).update(
        deadline=TODAY - dt.timedelta(days=3)
    )
    PlanTask.objects.filter(pk=plan_tasks["一/（二）"].pk).update(
        last_activity_on=TODAY - dt.timedelta(days=120)
    )
    PlanTask.objects.filter(pk=plan_tasks["二/（三）"].pk).update(
        status="completed", deadline=TODAY - dt.timedelta(days=3)
    )
    rows = warning_rows(today=TODAY, plan_id=tracked.plan.pk)
    assert [(r["kind"], r["key"]) for r in rows] == [
        ("overdue", "一/（一）"),
        ("stalled", "一/（二）"),
    ]
    assert rows[0]["reason"] == "已逾期 3 天"
    assert rows[1]["reason"].startswith("120 天未报送进展")
    assert rows[0]["lead_departments"] == ["省发展改革委"]
    call_command("task_warnings", "--date", TODAY.isoformat(), "--plan", str(tracked.plan.pk))
    out = capsys.readouterr().out
    assert "2 warnings" in out and "[逾期]" in out and "[停滞]" in out
    assert (
        main(
            [
                "plans",
                "warnings",
                "--date",
                TODAY.isoformat(),
                "--kind",
                "stalled",
                "--format",
                "json",
            ]
        )
        == 0
    )
    import json

    stalled = json.loads(capsys.readouterr().out)
    # the Kunming plan's only task has been quiet for 30 days: not stalled yet
    assert [r["key"] for r in stalled] == ["一/（二）"]
    assert warning_rows(today=TODAY, division_code="530100") == []


def test_merge_and_confirm_departments_created_by_import(tracked):
    admin = tracked.world.users[Role.PROVINCE_ADMIN]
    created = {
        i.department.name: i.department
        for i in ImportedDepartment.objects.filter(plan=tracked.plan)
    }
    assert set(created) == {"省住房城乡建设厅"}  # 省财政厅 / 省统计局 existed before the import
    housing = created["省住房城乡建设厅"]
    with pytest.raises(services.MergeRefused):
        services.merge_department(source=tracked.finance, into=tracked.devreform, user=admin)
    with pytest.raises(services.MergeRefused):
        services.merge_department(source=housing, into=housing, user=admin)
    city_dept = Department.objects.filter(division=tracked.world.city).first()
    with pytest.raises(services.MergeRefused):
        services.merge_department(source=housing, into=city_dept, user=admin)
    with pytest.raises(services.TaskPermissionDenied):
        services.merge_department(
            source=housing, into=tracked.devreform, user=tracked.world.users["finance"]
        )
    services.confirm_department(department=housing, user=tracked.world.users[Role.PROVINCE_OFFICER])
    assert not ImportedDepartment.objects.filter(department=housing).exists()
    assert Department.objects.filter(pk=housing.pk).exists()


def test_merge_moves_assignments_and_reports_and_keeps_the_stronger_role(tracked):
    admin = tracked.world.users[Role.PROVINCE_ADMIN]
    # a second spelling of 省发展改革委, created by another import, on the same task as the original
    text = "示范省补充方案\n一、任务\n（一）推进工业节能。（省发改委牵头，省发展改革委配合）\n"
    plan = services.import_plan(
        data=text.encode(), filename="b.txt", division=tracked.world.province, user=admin
    )
    alias = Department.objects.get(division=tracked.world.province, name="省发改委")
    task = plan.tasks.get()
    services.file_progress(
        task=task, department=alias, user=None, period="2026Q2", narrative="x", percent_complete=50
    )
    assert services.merge_department(source=alias, into=tracked.devreform, user=admin) == 1
    a = TaskAssignment.objects.get(task=task)
    assert (a.department, a.role, a.percent_complete) == (tracked.devreform, "lead", 50)
    assert ProgressReport.objects.get(task=task).department == tracked.devreform
    assert AuditEntry.objects.filter(action="tasks.department.merge").exists()


def test_merge_refused_while_users_belong_to_the_department(tracked):
    from tests.factories import user

    housing = ImportedDepartment.objects.get(plan=tracked.plan).department
    user("housing1", Role.PROVINCE_OFFICER, department=housing)
    with pytest.raises(services.MergeRefused, match="用户"):
        services.merge_department(source=housing, into=tracked.devreform, user=None)
    assert Department.objects.filter(pk=housing.pk).exists()
