"""Importing plans: every numbered task and its departments, all or nothing (issue 8)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.formats.plan_documents import read_plan
from dualcontrol.regions.models import Department, Division
from dualcontrol.tasks import services
from dualcontrol.tasks.models import (
    DeadlineSource,
    DepartmentAlias,
    ImportedDepartment,
    Plan,
    PlanTask,
    TaskAssignment,
)
from tests.tasks.conftest import PLANS, SMALL

pytestmark = pytest.mark.django_db

REAL = {
    "qinghai_2016-2020_energy-saving_emission-reduction_plan.txt": ("630000", "青海省", 47),
    "shandong_2017-2020_low-carbon_development_plan.txt": ("370000", "山东省", 27),
    "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt": (
        "530000",
        "云南省",
        138,
    ),
    # not one the parser was written against: the "unseen plan" of the issue
    "synthetic_2021-2025_energy-saving_carbon-reduction_plan.txt": ("990000", "示范省", 9),
}


def _province(code: str, name: str) -> Division:
    d = Division.objects.filter(code=code).first()
    if d is None:
        d = Division(code=code, name=name, level="province", source="test")
        d.save()
    return d


@pytest.mark.parametrize("filename", list(REAL))
def test_real_plans_import_with_every_task_and_its_departments(world, filename):
    code, name, count = REAL[filename]
    division = _province(code, name)
    path = PLANS / filename
    plan = services.import_plan(
        data=path.read_bytes(),
        filename=filename,
        division=division,
        user=world.users[Role.PROVINCE_ADMIN],
    )
    parsed = read_plan(path)
    tasks = list(PlanTask.objects.filter(plan=plan).order_by("position"))
    assert len(tasks) == len(parsed.tasks) == count
    for task, item in zip(tasks, parsed.tasks, strict=True):
        assert (task.key, task.number, task.title, task.text) == (
            item.key,
            item.number,
            item.title,
            item.text,
        )
        assert task.section == list(item.section)
        assert len(task.targets) == len(item.targets)
        names = {
            a.name_as_written: a.role
            for a in TaskAssignment.objects.filter(task=task).select_related("department")
        }
        expected = {n: "lead" for n in item.lead_departments}
        expected.update(
            {n: "participating" for n in item.participating_departments if n not in expected}
        )
        assert names == expected, task.key
        for a in TaskAssignment.objects.filter(task=task).select_related("department"):
            assert a.department.division_id == division.pk
            assert a.department.name == a.name_as_written  # no alias yet: exact or created
    entry = AuditEntry.objects.get(action="tasks.plan.import", object_id=str(plan.pk))
    assert entry.after["tasks"] == count


def test_yunnan_matches_existing_departments_and_flags_new_ones(world):
    # the world's province already has 省发展改革委
    path = PLANS / "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt"
    plan = services.import_plan(
        data=path.read_bytes(), filename=path.name, division=world.province, user=None
    )
    existing = Department.objects.get(division=world.province, name="省发展改革委")
    assert not ImportedDepartment.objects.filter(department=existing).exists()
    assert TaskAssignment.objects.filter(department=existing).count() == 90
    created = ImportedDepartment.objects.filter(plan=plan)
    assert created.count() == 46  # 47 names in the division of labour, one already existed
    assert plan.title == path.stem  # the document has no title line
    assert (plan.period_start, plan.period_end, plan.target_year) == (2011, 2015, 2015)
    assert plan.issuing_body == "云南省人民政府"


def test_docx_table_plan_imports_without_code_changes(world):
    """An unseen layout: a Word 分工表 (table with 牵头单位 / 配合单位 columns)."""
    import docx

    document = docx.Document()
    document.add_paragraph("示范市碳达峰实施方案重点任务分工表")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["序号", "重点任务", "牵头单位", "配合单位"], strict=True
    ):
        cell.text = text
    rows = [
        ("1", "到2025年，全市单位地区生产总值能耗比2020年下降14%", "市发展改革委", "市统计局"),
        ("2", "推进城乡建设绿色低碳发展", "市住房城乡建设局", "市自然资源局、市发展改革委"),
        ("3", "加快交通运输绿色转型", "市交通运输局", ""),
    ]
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    plan = services.import_plan(
        data=out.getvalue(), filename="分工表.docx", division=world.city, user=None
    )
    tasks = list(plan.tasks.order_by("position"))
    assert [t.title for t in tasks] == [
        "到2025年，全市单位地区生产总值能耗比2020年下降14%",
        "推进城乡建设绿色低碳发展",
        "加快交通运输绿色转型",
    ]
    leads = [
        list(t.assignments.filter(role="lead").values_list("department__name", flat=True))
        for t in tasks
    ]
    assert leads == [["市发展改革委"], ["市住房城乡建设局"], ["市交通运输局"]]
    assert set(
        tasks[1].assignments.filter(role="participating").values_list("department__name", flat=True)
    ) == {"市自然资源局", "市发展改革委"}
    # the explicit year of the first task's target becomes its deadline
    assert tasks[0].deadline == dt.date(2025, 12, 31)
    assert tasks[0].deadline_source == DeadlineSource.TEXT


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("plan.pdf", b"%PDF-1.4 whatever", "无法读取"),
        ("plan.doc", b"\xd0\xcf\x11\xe0", "另存为"),
        ("plan.exe", b"MZ\x90\x00", "只接受"),
        ("plan.txt", b"", "空"),
        ("plan.txt", "这只是一段话，没有编号，也没有责任单位。".encode(), "没有找到编号任务"),
        ("plan.txt", b"\xff\xfe\x00\x00\x81\x30\xff", "无法读取"),
        ("plan.docx", b"PK\x03\x04 not really a zip", "无法读取"),
    ],
)
def test_a_bad_document_is_refused_and_saves_nothing(world, filename, data, message):
    before = (Department.objects.count(), AuditEntry.objects.count())
    with pytest.raises(services.ImportRejected) as exc:
        services.import_plan(data=data, filename=filename, division=world.province, user=None)
    assert message in str(exc.value)
    assert not Plan.objects.exists() and not PlanTask.objects.exists()
    assert (Department.objects.count(), AuditEntry.objects.count()) == before


def test_a_text_layer_pdf_imports_like_its_text(world):
    """The web upload reads a text-layer PDF (the corpus text converted by LibreOffice)."""
    pdf = PLANS / "chaozhou_2019_blue-sky_implementation.pdf"
    plan = services.import_plan(
        data=pdf.read_bytes(),
        filename="潮州方案.pdf",
        division=world.province,
        user=world.users[Role.PROVINCE_ADMIN],
    )
    tasks = list(PlanTask.objects.filter(plan=plan).order_by("pk"))
    assert [t.key for t in tasks] == ["二/（一）/1", "二/（一）/2"]
    leads = [
        sorted(t.assignments.filter(role="lead").values_list("department__name", flat=True))
        for t in tasks
    ]
    assert leads == [
        ["市市场监管局", "市生态环境局"],
        ["市发展和改革局", "市工业和信息化局", "市生态环境局"],
    ]


def test_a_scanned_pdf_is_refused_with_a_clear_message(world):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)  # no text layer, as a scanned image
    data = io.BytesIO()
    writer.write(data)
    before = (Department.objects.count(), AuditEntry.objects.count())
    with pytest.raises(services.ImportRejected) as exc:
        services.import_plan(
            data=data.getvalue(), filename="扫描件.pdf", division=world.province, user=None
        )
    assert "扫描件.pdf" in str(exc.value) and "没有文字层" in str(exc.value)
    assert "OCR" in str(exc.value)
    assert not Plan.objects.exists()
    assert (Department.objects.count(), AuditEntry.objects.count()) == before


def test_too_large_a_document_is_refused(world, settings):
    from dualcontrol.tasks.rules import load_rules

    big = SMALL.encode() + b" " * load_rules().import_max_bytes
    with pytest.raises(services.ImportRejected, match="MB"):
        services.import_plan(data=big, filename="big.txt", division=world.province, user=None)


def test_import_is_all_or_nothing(world, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(TaskAssignment.objects, "bulk_create", boom)
    departments = Department.objects.count()
    with pytest.raises(RuntimeError):
        services.import_plan(
            data=SMALL.encode(), filename="a.txt", division=world.province, user=None
        )
    assert not Plan.objects.exists() and not PlanTask.objects.exists()
    assert Department.objects.count() == departments  # the departments it created are gone too
    assert not ImportedDepartment.objects.exists()


def test_the_same_document_is_not_imported_twice(world):
    services.import_plan(data=SMALL.encode(), filename="a.txt", division=world.province, user=None)
    with pytest.raises(services.ImportRejected, match="不重复导入"):
        services.import_plan(
            data=SMALL.encode(), filename="again.txt", division=world.province, user=None
        )
    # another government may import the same text (its own departments)
    services.import_plan(data=SMALL.encode(), filename="a.txt", division=world.city, user=None)
    assert Plan.objects.count() == 2


def test_deadlines_office_then_text_then_plan(world):
    plan = services.import_plan(
        data=SMALL.encode(),
        filename="a.txt",
        division=world.province,
        user=None,
        default_deadline=dt.date(2025, 6, 30),
        deadlines={"二/（三）": dt.date(2024, 3, 31)},
    )
    got = {t.key: (t.deadline, t.deadline_source) for t in plan.tasks.all()}
    assert got == {
        "一/（一）": (dt.date(2025, 12, 31), "text"),  # 到2025年 … 下降13.5%
        "一/（二）": (dt.date(2025, 6, 30), "plan"),
        "二/（三）": (dt.date(2024, 3, 31), "office"),
    }
    with pytest.raises(services.ImportRejected, match="不存在"):
        services.import_plan(
            data=SMALL.encode(),
            filename="b.txt",
            division=world.city,
            user=None,
            deadlines={"九/（九）": dt.date(2024, 3, 31)},
        )


def test_only_province_roles_import(world):
    for role in (Role.CITY_OFFICER, Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(services.TaskPermissionDenied):
            services.import_plan(
                data=SMALL.encode(),
                filename="a.txt",
                division=world.province,
                user=world.users[role],
            )
    plan = services.import_plan(
        data=SMALL.encode(),
        filename="a.txt",
        division=world.province,
        user=world.users[Role.PROVINCE_OFFICER],
    )
    # an officer's own department becomes the plan office
    assert plan.office == world.users[Role.PROVINCE_OFFICER].department
    assert plan.imported_by == world.users[Role.PROVINCE_OFFICER]


def test_matching_by_short_name_and_by_alias_after_a_merge(world):
    Department.objects.create(division=world.province, name="云南省财政厅", short_name="省财政厅")
    plan = services.import_plan(
        data=SMALL.encode(), filename="a.txt", division=world.province, user=None
    )
    finance = TaskAssignment.objects.filter(task__plan=plan, name_as_written="省财政厅").first()
    assert finance.department.name == "云南省财政厅"
    created = Department.objects.get(division=world.province, name="省统计局")
    assert ImportedDepartment.objects.filter(department=created, plan=plan).exists()
    stats = Department.objects.create(division=world.province, name="云南省统计局")
    moved = services.merge_department(
        source=created, into=stats, user=world.users[Role.PROVINCE_ADMIN]
    )
    assert moved == 1
    assert not Department.objects.filter(pk=created.pk).exists()
    assert DepartmentAlias.objects.get(name="省统计局").department == stats
    # the next import of a plan naming 省统计局 matches the alias
    preview = services.preview_plan(
        data=SMALL.replace("示范省", "示范省二").encode(), filename="b.txt", division=world.province
    )
    how = {m.name: (m.how, m.department) for m in preview.matches}
    assert how["省统计局"] == ("alias", stats)
    assert how["省财政厅"][0] == "short_name"


def test_cli_import_and_dry_run(world, capsys, tmp_path):
    path = tmp_path / "示范省节能工作方案.txt"
    path.write_text(SMALL, encoding="gb18030")
    assert (
        main(
            ["plans", "import", str(path), "--division", "530000", "--dry-run", "--format", "json"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["saved"] is False and summary["tasks"] == 3
    assert set(summary["new_departments"]) == {"省财政厅", "省统计局", "省住房城乡建设厅"}
    assert not Plan.objects.exists()
    assert (
        main(
            [
                "plans",
                "import",
                str(path),
                "--division",
                "530000",
                "--office",
                "省发展改革委",
                "--deadline",
                "2025-12-31",
                "--user",
                "admin1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "imported as plan" in out and "3 tasks" in out
    plan = Plan.objects.get()
    assert plan.office.name == "省发展改革委" and plan.imported_by.username == "admin1"
    assert main(["plans", "import", str(path), "--division", "530000"]) == 2
    assert "不重复导入" in capsys.readouterr().err
    assert main(["plans", "import", str(path), "--division", "999999"]) == 2
    assert "no such division" in capsys.readouterr().err
    assert main(["plans", "import", str(tmp_path / "missing.txt"), "--division", "530000"]) == 2
    assert Plan.objects.count() == 1
