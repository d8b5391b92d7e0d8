"""Every tracking page, action and endpoint × every role; the import flow; exports."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.regions.models import Department
from dualcontrol.tasks import services
from dualcontrol.tasks.models import ImportedDepartment, Plan, PlanTask, ProgressReport
from tests.auth import api_token, login
from tests.factories import PASSWORD
from tests.tasks.conftest import SMALL, TODAY

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"

# anonymous, public, province admin (no department), province officer of the plan office
# (省发展改革委), province officer of 省财政厅 (named on tasks, not the office), Kunming city
# officer, Qujing city officer, enterprise, verifier
ROLES = ["anon", Role.PUBLIC, Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, "finance",
         Role.CITY_OFFICER, "other_city", Role.ENTERPRISE, Role.VERIFIER]  # fmt: skip
A, P, PA, PO, F, C, OC, E, V = range(9)


def expect(**by_role):
    """{role index: status}; enterprise, verifier and public are refused (403), anonymous users
    are sent to the login page, unless given."""
    out = {A: 302, P: 403, E: 403, V: 403}
    out.update({globals()[k]: v for k, v in by_role.items()})
    return out


STAFF_ALL = expect(PA=200, PO=200, F=200, C=200, OC=200)
PROVINCE_ONLY = expect(PA=200, PO=200, F=200, C=404, OC=404)
PAGES = {
    "/tasks/": STAFF_ALL,
    "/tasks/?export=xlsx": STAFF_ALL,
    "/tasks/import/": expect(PA=200, PO=200, F=200, C=403, OC=403),
    "/tasks/plans/{plan}/": PROVINCE_ONLY,
    "/tasks/plans/{plan}/?export=xlsx": PROVINCE_ONLY,
    "/tasks/plans/{city_plan}/": expect(PA=200, PO=200, F=200, C=200, OC=404),
    "/tasks/plans/{plan}/matrix/": expect(PA=200, PO=200, F=403, C=404, OC=404),
    "/tasks/plans/{plan}/matrix/?export=xlsx": expect(PA=200, PO=200, F=403, C=404, OC=404),
    "/tasks/plans/{city_plan}/matrix/": expect(PA=200, PO=403, F=403, C=200, OC=404),
    "/tasks/department/": STAFF_ALL,
    "/tasks/department/?export=xlsx": expect(PA=200, PO=200, F=200, C=200, OC=200),
    "/tasks/department/{finance}/": expect(PA=200, PO=200, F=200, C=404, OC=404),
    "/tasks/department/{finance}/?export=xlsx": expect(PA=200, PO=200, F=200, C=404, OC=404),
    "/tasks/department/{devreform}/": expect(PA=200, PO=200, F=404, C=404, OC=404),
    "/tasks/department/{city_dept}/": expect(PA=200, PO=404, F=404, C=200, OC=404),
    "/tasks/task/{task}/": PROVINCE_ONLY,
    "/tasks/task/{task}/?export=xlsx": PROVINCE_ONLY,
    "/tasks/task/{city_task}/": expect(PA=200, PO=200, F=200, C=200, OC=404),
    "/tasks/task/{task}/progress/": expect(PA=302, PO=302, F=302, C=404, OC=404),
    "/tasks/task/{housing_task}/progress/": expect(PA=302, PO=403, F=403, C=404, OC=404),
    "/tasks/evidence/{report}/": PROVINCE_ONLY,
    "/tasks/warnings/": STAFF_ALL,
    "/tasks/warnings/?export=xlsx": STAFF_ALL,
    "/tasks/departments/imported/": expect(PA=200, PO=200, F=200, C=403, OC=403),
    "/tasks/departments/imported/?export=xlsx": expect(PA=200, PO=200, F=200, C=403, OC=403),
}


@pytest.fixture
def pages(tracked):
    w = tracked.world
    w.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    report = services.file_progress(
        task=tracked.tasks["一/（一）"],
        department=tracked.devreform,
        user=w.users[Role.PROVINCE_OFFICER],
        period="2026Q2",
        narrative="已召开专题会议部署",
        percent_complete=40,
        evidence=SimpleUploadedFile("会议纪要.pdf", PDF),
    )
    ids = {
        "plan": tracked.plan.pk,
        "city_plan": tracked.city_plan.pk,
        "finance": tracked.finance.pk,
        "devreform": tracked.devreform.pk,
        "city_dept": Department.objects.get(division=w.city, name="市财政局").pk,
        "task": tracked.tasks["一/（一）"].pk,
        "housing_task": tracked.tasks["一/（二）"].pk,
        "city_task": tracked.city_plan.tasks.get().pk,
        "report": report.pk,
    }
    return tracked, ids


def client_for(world, role):
    c = Client()
    if role != "anon":
        login(c, world.users[role])
    return c


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_pages(pages, path, role_index):
    tracked, ids = pages
    url = path.format(**ids)
    response = client_for(tracked.world, ROLES[role_index]).get(url)
    if response.streaming:  # a FileResponse (evidence): read it to the end, which closes it
        b"".join(response.streaming_content)
    assert response.status_code == PAGES[path][role_index], (url, ROLES[role_index])
    if response.status_code == 200 and "export=xlsx" in url:
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        load_workbook(io.BytesIO(response.content))
    if ROLES[role_index] == "anon":
        assert response["Location"].startswith("/accounts/login/")


def _post_progress(c, ids, department):
    return c.post(
        f"/tasks/task/{ids['task']}/progress/",
        {
            "department": department,
            "period": _current_period(),
            "percent_complete": 55,
            "narrative": "推进中",
        },
    )


def _current_period():
    from django.utils import timezone

    from dualcontrol.tasks.rules import load_rules, period_of

    return period_of(timezone.localdate(), load_rules().period_kind)


PROGRESS = expect(PA=302, PO=302, F=302, C=404, OC=404)
EDIT = expect(PA=302, PO=302, F=403, C=403, OC=403)


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_progress_action(pages, role_index):
    tracked, ids = pages
    role = ROLES[role_index]
    department = tracked.finance.pk if role == "finance" else tracked.devreform.pk
    before = ProgressReport.objects.count()
    response = _post_progress(client_for(tracked.world, role), ids, department)
    assert response.status_code == PROGRESS[role_index], role
    filed = ProgressReport.objects.count() - before
    assert filed == (1 if PROGRESS[role_index] == 302 and role != "anon" else 0)


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_edit_and_deadline_actions(pages, role_index):
    tracked, ids = pages
    role = ROLES[role_index]
    c = client_for(tracked.world, role)
    r = c.post(f"/tasks/task/{ids['task']}/edit/", {"deadline": "2026-09-30", "status": "stalled"})
    assert r.status_code == EDIT[role_index], role
    r2 = c.post(
        f"/tasks/plans/{ids['plan']}/deadlines/", {"deadline": "2027-01-31", "section": "二"}
    )
    assert r2.status_code == EDIT[role_index], role
    task = PlanTask.objects.get(pk=ids["task"])
    three = PlanTask.objects.get(plan_id=ids["plan"], key="二/（三）")
    allowed = EDIT[role_index] == 302 and role != "anon"
    assert (task.status == "stalled") is allowed
    assert (three.deadline == dt.date(2027, 1, 31)) is allowed
    # the bulk deadline only touched the filtered section
    assert PlanTask.objects.filter(deadline=dt.date(2027, 1, 31)).count() == (1 if allowed else 0)


RESOLVE = expect(PA=302, PO=302, F=404, C=403, OC=403)


@pytest.mark.parametrize("role_index", range(len(ROLES)))
def test_resolve_department_action(pages, role_index):
    tracked, _ids = pages
    housing = ImportedDepartment.objects.get(plan=tracked.plan).department
    r = client_for(tracked.world, ROLES[role_index]).post(
        f"/tasks/departments/imported/{housing.pk}/", {"action": "confirm"}
    )
    assert r.status_code == RESOLVE[role_index]
    confirmed = not ImportedDepartment.objects.filter(department=housing).exists()
    assert confirmed is (RESOLVE[role_index] == 302 and ROLES[role_index] != "anon")


def test_merge_through_the_page(pages):
    tracked, _ids = pages
    housing = ImportedDepartment.objects.get(plan=tracked.plan).department
    target = Department.objects.create(division=tracked.world.province, name="省住房和城乡建设厅")
    c = client_for(tracked.world, Role.PROVINCE_ADMIN)
    html = c.get("/tasks/departments/imported/").content.decode()
    assert "省住房城乡建设厅" in html and "省住房和城乡建设厅" in html  # suggested
    r = c.post(f"/tasks/departments/imported/{housing.pk}/", {"action": "merge", "into": target.pk})
    assert r.status_code == 302
    assert not Department.objects.filter(pk=housing.pk).exists()
    assert (
        PlanTask.objects.get(plan=tracked.plan, key="一/（二）").assignments.get().department
        == target
    )


def test_import_flow_preview_then_confirm(world):
    c = client_for(world, Role.PROVINCE_OFFICER)
    page = c.get("/tasks/import/")
    assert "解析并预览" in page.content.decode()
    upload = SimpleUploadedFile("示范省节能工作方案.txt", SMALL.encode("gb18030"))
    r = c.post("/tasks/import/", {"file": upload, "division": world.province.pk})
    html = r.content.decode()
    assert r.status_code == 200 and "确认导入" in html
    assert "推进工业节能" in html and "将新建" in html
    assert not Plan.objects.exists()  # nothing saved before confirmation
    token = r.context["form"]["token"].value()
    confirm = {
        "token": token,
        "title": "示范省节能工作方案",
        "issuing_body": "示范省人民政府",
        "period_start": 2021,
        "period_end": 2025,
        "tracking_start": "2026-01-01",
        "default_deadline": "2025-12-31",
        "deadlines_from_text": "on",
    }
    r = c.post("/tasks/import/confirm/", confirm)
    plan = Plan.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/tasks/plans/{plan.pk}/"
    assert plan.tasks.count() == 3 and plan.office.name == "省发展改革委"
    assert plan.tracking_start == dt.date(2026, 1, 1)
    # the staged file is gone: confirming twice does not import twice
    r = c.post("/tasks/import/confirm/", confirm)
    assert r.status_code == 302 and r["Location"] == "/tasks/import/"
    assert Plan.objects.count() == 1
    detail = c.get(f"/tasks/plans/{plan.pk}/").content.decode()
    assert "推进工业节能" in detail and "13.5 %" in detail


def test_import_page_shows_a_clear_error_for_a_bad_document(world):
    c = client_for(world, Role.PROVINCE_ADMIN)
    r = c.post(
        "/tasks/import/",
        {
            "file": SimpleUploadedFile("plan.doc", b"\xd0\xcf\x11\xe0"),
            "division": world.province.pk,
        },
    )
    html = r.content.decode()
    assert r.status_code == 200 and "没有保存任何内容" in html and "另存为" in html
    r = c.post(  # a PDF is read (its text layer); a broken one is refused, nothing saved
        "/tasks/import/",
        {"file": SimpleUploadedFile("plan.pdf", b"%PDF-1.4"), "division": world.province.pk},
    )
    html = r.content.decode()
    assert r.status_code == 200 and "没有保存任何内容" in html and "无法读取" in html
    r = c.post(
        "/tasks/import/",
        {
            "file": SimpleUploadedFile("notes.txt", "会议记录，无编号。".encode()),
            "division": world.province.pk,
        },
    )
    assert "没有找到编号任务" in r.content.decode()
    assert not Plan.objects.exists()


def test_confirm_with_invalid_fields_shows_the_preview_again(world):
    c = client_for(world, Role.PROVINCE_ADMIN)
    r = c.post(
        "/tasks/import/",
        {"file": SimpleUploadedFile("a.txt", SMALL.encode()), "division": world.province.pk},
    )
    token = r.context["form"]["token"].value()
    r = c.post(
        "/tasks/import/confirm/",
        {
            "token": token,
            "title": "",
            "tracking_start": "2026-01-01",
            "period_start": 2025,
            "period_end": 2021,
        },
    )
    assert r.status_code == 200 and "终止年早于起始年" in r.content.decode()
    assert not Plan.objects.exists()
    # a token from another session is refused
    other = client_for(world, Role.PROVINCE_OFFICER)
    r = other.post(
        "/tasks/import/confirm/", {"token": token, "title": "x", "tracking_start": "2026-01-01"}
    )
    assert r["Location"] == "/tasks/import/" and not Plan.objects.exists()


def test_filing_with_evidence_through_the_page_and_download(pages, media):
    tracked, ids = pages
    c = client_for(tracked.world, "finance")
    page = c.get(f"/tasks/task/{ids['task']}/").content.decode()
    assert 'id="progress"' in page and "省财政厅" in page
    r = c.post(
        f"/tasks/task/{ids['task']}/progress/",
        {
            "department": tracked.finance.pk,
            "period": _current_period(),
            "percent_complete": 70,
            "narrative": "资金已下达",
            "evidence": SimpleUploadedFile("拨款文件.pdf", PDF),
        },
    )
    assert r.status_code == 302
    report = ProgressReport.objects.get(department=tracked.finance)
    download = c.get(f"/tasks/evidence/{report.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF  # read to the end: the file is closed
    assert "attachment" in download["Content-Disposition"]
    # a wrong type is refused on the page with the reason, nothing saved
    r = c.post(
        f"/tasks/task/{ids['task']}/progress/",
        {
            "department": tracked.finance.pk,
            "period": _current_period(),
            "percent_complete": 80,
            "narrative": "x",
            "evidence": SimpleUploadedFile("virus.exe", b"MZ"),
        },
    )
    assert r.status_code == 200 and "不接受 .exe" in r.content.decode()
    assert ProgressReport.objects.filter(department=tracked.finance).count() == 1
    # the officer cannot choose another department in the form
    r = c.post(
        f"/tasks/task/{ids['task']}/progress/",
        {
            "department": tracked.devreform.pk,
            "period": _current_period(),
            "percent_complete": 1,
            "narrative": "x",
        },
    )
    assert (
        r.status_code == 200
        and not ProgressReport.objects.filter(
            department=tracked.devreform, percent_complete=1
        ).exists()
    )


def test_matrix_marks_and_status_colours(pages, monkeypatch):
    from dualcontrol.tasks import views

    monkeypatch.setattr(views, "_today", lambda: TODAY)
    tracked, ids = pages
    PlanTask.objects.update(deadline=None)
    html = (
        client_for(tracked.world, Role.PROVINCE_OFFICER)
        .get(f"/tasks/plans/{ids['plan']}/matrix/")
        .content.decode()
    )
    assert html.count(">牵</td>") == 3 and html.count(">参</td>") == 3
    assert 'class="c in_progress lead"' in html  # 省发展改革委 reported on 一/（一）
    assert 'class="c not_started participating"' in html
    wb = load_workbook(
        io.BytesIO(
            client_for(tracked.world, Role.PROVINCE_OFFICER)
            .get(f"/tasks/plans/{ids['plan']}/matrix/?export=xlsx")
            .content
        )
    )
    rows = list(wb.active.iter_rows(min_row=2, values_only=True))  # row 1: the title
    header = rows[0]
    assert header[:4] == ("编号路径", "任务", "完成期限", "状态")
    first = dict(zip(header, rows[1], strict=True))
    assert first["省发展改革委"] == "牵·推进中" and first["省财政厅"] == "参·未启动"


def test_lists_filter_and_export_what_they_show(pages, monkeypatch):
    from dualcontrol.tasks import views

    monkeypatch.setattr(views, "_today", lambda: TODAY)
    tracked, ids = pages
    PlanTask.objects.update(deadline=None)
    PlanTask.objects.filter(plan=tracked.plan, key="一/（二）").update(
        deadline=TODAY - dt.timedelta(days=1)
    )
    c = client_for(tracked.world, Role.PROVINCE_ADMIN)
    html = c.get(f"/tasks/plans/{ids['plan']}/?department={tracked.finance.pk}").content.decode()
    assert "推进工业节能" in html and "强化目标责任考核" in html and "推进建筑节能" not in html
    wb = load_workbook(
        io.BytesIO(c.get(f"/tasks/plans/{ids['plan']}/?status=overdue&export=xlsx").content)
    )
    assert [r[1] for r in wb.active.iter_rows(min_row=3, values_only=True)] == ["一/（二）"]
    warnings = c.get("/tasks/warnings/?kind=overdue").content.decode()
    assert "推进建筑节能" in warnings and "已逾期 1 天" in warnings
    # the finance officer sees warnings of its own department's tasks only
    PlanTask.objects.filter(plan=tracked.plan, key="二/（三）").update(
        deadline=TODAY - dt.timedelta(days=2)
    )
    fin = client_for(tracked.world, "finance")
    wb = load_workbook(io.BytesIO(fin.get("/tasks/warnings/?export=xlsx").content))
    assert [r[2] for r in wb.active.iter_rows(min_row=3, values_only=True)] == ["二/（三）"]
    mine = fin.get("/tasks/department/").content.decode()
    assert "推进工业节能" in mine and "推进建筑节能" not in mine and "报送进展" in mine
    wb = load_workbook(io.BytesIO(fin.get("/tasks/department/?role=lead&export=xlsx").content))
    assert list(wb.active.iter_rows(min_row=3, values_only=True)) == []
    # the plan list counts
    plans = c.get("/tasks/?q=示范省").content.decode()
    assert "示范省节能工作方案" in plans and "kunming" not in plans


def test_pagination_on_the_server(world):
    text = "\n".join(
        ["示范省大方案", "一、任务"] + [f"{i}.第{i}项任务。（省发展改革委）" for i in range(1, 61)]
    )
    services.import_plan(data=text.encode(), filename="big.txt", division=world.province, user=None)
    plan = Plan.objects.get()
    c = client_for(world, Role.PROVINCE_ADMIN)
    n = plan.tasks.count()
    assert n > 50
    first = c.get(f"/tasks/plans/{plan.pk}/")
    assert f"共 {n} 条" in first.content.decode()
    assert len(first.context["page"]) == 50
    assert len(c.get(f"/tasks/plans/{plan.pk}/?page=2").context["page"]) == n - 50
    wb = load_workbook(io.BytesIO(c.get(f"/tasks/plans/{plan.pk}/?export=xlsx").content))
    assert wb.active.max_row == n + 2  # the title row, the header, n tasks


API = {
    "/api/tasks/plans": {P: 0, PA: 2, PO: 2, F: 2, C: 1, OC: 0, E: 0, V: 0},
    "/api/tasks/warnings": {P: 0, PA: 4, PO: 3, F: 2, C: 1, OC: 0, E: 0, V: 0},
}


def token(c, username):
    """A bearer token from POST /api/auth/token (password, and the second factor where due)."""
    from dualcontrol.accounts.models import User

    return api_token(c, User.objects.get(username=username), PASSWORD)


@pytest.mark.parametrize("path", list(API))
@pytest.mark.parametrize("role_index", range(1, len(ROLES)))
def test_api_lists_are_scoped(pages, path, role_index):
    tracked, _ids = pages
    c = Client()
    t = token(c, tracked.world.users[ROLES[role_index]].username)
    r = c.get(path, HTTP_AUTHORIZATION=f"Bearer {t}")
    assert r.status_code == 200
    assert r.json()["count"] == API[path][role_index], ROLES[role_index]


@pytest.mark.parametrize(
    ("role_index", "detail", "tasks", "filed"),
    [(P, 403, 403, 403), (PA, 200, 200, 201), (PO, 200, 200, 201), (F, 200, 200, 201),
     (C, 404, 404, 404), (OC, 404, 404, 404), (E, 403, 403, 403), (V, 403, 403, 403)],
)  # fmt: skip
def test_api_task_endpoints(pages, role_index, detail, tasks, filed):
    tracked, ids = pages
    c = Client()
    user = tracked.world.users[ROLES[role_index]]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token(c, user.username)}"}
    assert c.get(f"/api/tasks/{ids['task']}", **auth).status_code == detail
    r = c.get(f"/api/tasks/plans/{ids['plan']}/tasks", **auth)
    assert r.status_code == tasks
    if tasks == 200:
        rows = r.json()["items"]
        assert [row["key"] for row in rows] == ["一/（一）", "一/（二）", "二/（三）"]
        assert rows[0]["assignments"][0] == {
            "department": "省发展改革委",
            "department_id": tracked.devreform.pk,
            "role": "lead",
            "name_as_written": "省发展改革委",
            "percent_complete": 40,
        }
    body = {"period": "2026Q3", "narrative": "API 报送", "percent_complete": 20}
    if ROLES[role_index] == Role.PROVINCE_ADMIN:
        body["department_id"] = tracked.devreform.pk
    r = c.post(
        f"/api/tasks/{ids['task']}/progress",
        json.dumps(body),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == filed, r.content
    if filed == 201:
        assert r.json()["period"] == "2026Q3"


def test_api_refuses_invalid_and_foreign_reports(pages):
    tracked, ids = pages
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token(c, 'finance1')}"}
    bad = {"period": "2026Q7", "narrative": "x", "percent_complete": 20}
    r = c.post(
        f"/api/tasks/{ids['task']}/progress",
        json.dumps(bad),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 422
    other = {
        "period": "2026Q3",
        "narrative": "x",
        "percent_complete": 20,
        "department_id": tracked.devreform.pk,
    }
    r = c.post(
        f"/api/tasks/{ids['task']}/progress",
        json.dumps(other),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 403
    r = c.post(
        f"/api/tasks/{ids['housing_task']}/progress",
        json.dumps(dict(bad, period="2026Q3")),
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 422  # 省财政厅 is not named on 一/（二）
