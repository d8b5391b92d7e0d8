"""The quarterly exceedance list (超标名单): rows from the monitoring alarms with the exclusions
applied, draft → review → publish (province staff, audited), public pages and exports, the CLI,
immutability of what was published, and the demo's list.

Rules: reference/data/exceedance_list.yaml (sources there).  The world: a gas outlet of the
Kunming unit (SO2 ≤ 100 mg/m³, hourly Avg) and a water outlet of the Qujing unit (NH3-N ≤ 15 mg/L
hourly, ≤ 10 mg/L daily), with hourly and daily HJ 212 records in Q1 and Q2 2026, evaluated by the
monitoring app into alarms.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from openpyxl import load_workbook

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.monitoring import services as monitoring
from dualcontrol.monitoring.models import Alarm, AlarmStatus, ShutdownKind
from dualcontrol.monitoring.sink import DatabaseSink
from dualcontrol.publishing import exceedances, services
from dualcontrol.publishing.models import (
    FrozenPublication,
    Publication,
    PublicationKind,
    PublicationStatus,
)
from dualcontrol.reference import _raw
from tests.auth import login
from tests.factories import PASSWORD
from tests.monitoring.helpers import hour_record, make_outlet

pytestmark = pytest.mark.django_db

BJ = dt.timezone(dt.timedelta(hours=8))
AFTER_Q1 = dt.datetime(2026, 5, 1, 9, tzinfo=BJ)  # Q1 has ended, Q2 is running
IN_Q1 = dt.datetime(2026, 3, 25, 9, tzinfo=BJ)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BJ)


def local(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=None)


class X:
    """The test world's outlets and alarms."""


@pytest.fixture
def ex(world):
    x = X()
    x.world = world
    x.gas = make_outlet(world.unit, mn="EXGAS0001", kind="gas", name="1号烟囱")
    x.water = make_outlet(world.other_unit, mn="EXWAT0001", kind="water", name="废水总排口")
    for outlet, code, limit, unit, cn in (
        (x.gas, "a21026", 100, "mg/m³", "2061"),
        (x.water, "w21003", 15, "mg/L", "2061"),
        (x.water, "w21003", 10, "mg/L", "2031"),
    ):
        monitoring.set_limit(
            user=None,
            outlet=outlet,
            code=code,
            limit_value=limit,
            unit=unit,
            standard="测试标准",
            valid_from=dt.date(2026, 1, 1),
            cn=cn,
        )
    records = []

    def hourly(outlet, code, start, values, flag="N"):
        for i, v in enumerate(values):
            when = local(start + dt.timedelta(hours=i))
            records.append(hour_record(outlet.mn, when, {code: (str(v), flag)}))

    hourly(x.gas, "a21026", at(2, 10, 8), [80, 120, 150.5, 130, 90])  # 3 h over, 09:00–11:00
    hourly(x.gas, "a21026", at(2, 10, 14), [110], flag="M")  # maintenance: not valid, no alarm
    hourly(x.gas, "a21026", at(3, 5, 1), [105, 104])  # 01:00 inside the shutdown, 02:00 not
    hourly(x.gas, "a21026", at(3, 20, 8), [200])  # the one the reviewer strikes
    hourly(x.gas, "a21026", at(4, 2, 8), [140])  # Q2
    hourly(x.water, "w21003", at(1, 15, 5), [20, 18])
    hourly(x.water, "w21003", at(2, 1, 3), [25])  # will be withdrawn
    for day, value in ((15, "12"), (16, "11")):
        records.append(
            hour_record(x.water.mn, dt.datetime(2026, 1, day), {"w21003": (value, "N")}, cn="2031")
        )
    DatabaseSink().store(records)
    province = world.users[Role.PROVINCE_ADMIN]
    shutdown = monitoring.file_shutdown(
        user=None,
        outlet=x.gas,
        kind=ShutdownKind.FACILITY,
        started_at=at(3, 5, 0, 30),
        ended_at=at(3, 5, 1, 30),
        reason="脱硫设施检修",
        document=SimpleUploadedFile("s.pdf", b"%PDF-1.4\n"),
        now=at(3, 6),
    )
    monitoring.review_shutdown(user=province, shutdown=shutdown, accept=True, reevaluate=False)
    x.shutdown = shutdown
    for day in ((1, 15), (1, 16), (2, 1), (2, 10), (3, 5), (3, 20), (4, 2)):
        monitoring.evaluate_alarms(day=dt.date(2026, *day), now=AFTER_Q1)
    ex_alarms = Alarm.objects.filter(kind="exceedance")

    def alarm(outlet, month, day, hour, cn="2061"):
        return ex_alarms.get(outlet=outlet, cn=cn, started_at=at(month, day, hour))

    x.a_feb = alarm(x.gas, 2, 10, 9)
    x.a_mar5 = alarm(x.gas, 3, 5, 1)
    x.a_mar20 = alarm(x.gas, 3, 20, 8)
    x.a_apr = alarm(x.gas, 4, 2, 8)
    x.w_hour = alarm(x.water, 1, 15, 5)
    x.w_gone = alarm(x.water, 2, 1, 3)
    x.w_day15 = alarm(x.water, 1, 15, 0, cn="2031")
    x.w_day16 = alarm(x.water, 1, 16, 0, cn="2031")
    # the unit explains the February episode and the province closes it
    monitoring.explain_alarm(user=None, alarm=x.a_feb, text="脱硫泵故障，已修复")
    monitoring.close_alarm(user=province, alarm=x.a_feb, note="核实属实")
    # data corrected after handling: the monitoring app keeps the alarm, marked withdrawn
    Alarm.objects.filter(pk=x.w_gone.pk).update(status=AlarmStatus.WITHDRAWN)
    x.province = province
    return x


def rows_by_mn(content):
    return {r["outlet_mn"]: r for r in content["rows"]}


# --------------------------------------------------------------------------------------------
# Rows from the alarms, exclusions applied


def test_rows_from_alarms_with_exclusions(ex):
    content = exceedances.compute(2026, 1, now=AFTER_Q1)
    assert content["header"] == [
        "所在地区", "单位名称", "统一社会信用代码", "排放口", "污染物", "排放限值", "最大值", "单位",
        "最大超标倍数", "超标天数", "超标小时数", "处置情况",
    ]  # fmt: skip
    rows = rows_by_mn(content)
    assert list(rows) == ["EXGAS0001", "EXWAT0001"]
    gas, water = rows["EXGAS0001"], rows["EXWAT0001"]
    # gas: 3 h on 10 Feb + 1 h on 5 Mar (01:00 excused by the shutdown) + 1 h on 20 Mar;
    # the M-flagged 110 at 14:00 on 10 Feb is not valid data: no alarm, not counted
    assert gas["cells"] == [
        "昆明市五华区", "昆明测试水泥有限公司", ex.world.unit.uscc, "1号烟囱（EXGAS0001）", "二氧化硫",
        "100", "200.00", "mg/m³", "1.00", "3", "5", "未处置 2；已核实办结 1",
    ]  # fmt: skip
    assert [
        (a["id"], a["records"], a["excused_records"], a["excused_by"]) for a in gas["alarms"]
    ] == [
        (ex.a_feb.pk, 3, 0, []),
        (ex.a_mar5.pk, 1, 1, [f"shutdown:{ex.shutdown.pk}"]),
        (ex.a_mar20.pk, 1, 0, []),
    ]
    assert gas["figures"]["max_time"] == "2026-03-20 08:00"
    assert gas["figures"]["basis"] == "小时均值"
    # water: hourly 20 and 18 (limit 15) and daily 12, 11 (limit 10) on 15 and 16 Jan;
    # the highest multiple is (20 − 15) ÷ 15 = 0.33; the withdrawn alarm counts nothing
    assert water["cells"][5:] == ["15", "20.00", "mg/L", "0.33", "2", "2", "未处置 3"]
    assert sorted(a["id"] for a in water["alarms"]) == sorted(
        [ex.w_hour.pk, ex.w_day15.pk, ex.w_day16.pk]
    )
    assert [(n["alarm"], n["reason"]) for n in content["not_counted"]] == [(ex.w_gone.pk, "status")]
    assert ex.a_apr.pk not in {a["id"] for r in content["rows"] for a in r["alarms"]}
    notes = "\n".join(content["footnotes"])
    assert "已确认的停运报备期间的超标数据 1 条不计入" in notes
    assert "数据已不支持的报警 1 条不计入" in notes
    assert content["quarter_complete"] is True
    assert content["deadline"] == "2026-05-15"  # 45 days after 31 March (platform rule)
    assert content["rules"]["exceedance_list"].startswith("exceedance_list.yaml@")


def test_struck_alarm_leaves_the_row_and_is_published_with_its_reason(ex):
    content = exceedances.compute(2026, 1, struck={ex.a_mar20.pk: "经核实为误报"}, now=AFTER_Q1)
    gas = rows_by_mn(content)["EXGAS0001"]
    # without the 200: max 150.5, (150.5 − 100) ÷ 100 = 0.505 → 0.51 (四舍五入)
    assert gas["cells"][6:11] == ["150.50", "mg/m³", "0.51", "2", "4"]
    struck = [n for n in content["not_counted"] if n["reason"] == "struck"]
    assert [(n["alarm"], n["detail"]) for n in struck] == [(ex.a_mar20.pk, "经核实为误报")]
    assert any("经审核剔除的报警" in n and "经核实为误报" in n for n in content["footnotes"])


def test_each_quarter_counts_its_own_records(ex):
    content = exceedances.compute(2026, 2, now=AFTER_Q1)
    (row,) = content["rows"]
    assert row["outlet_mn"] == "EXGAS0001" and row["alarms"][0]["id"] == ex.a_apr.pk
    assert content["quarter_complete"] is False
    assert any("本季度尚未结束" in n for n in content["footnotes"])
    assert exceedances.compute(2025, 4, now=AFTER_Q1)["rows"] == []


def test_a_quarter_without_exceedances_is_an_empty_list():
    content = exceedances.compute(2026, 1, now=AFTER_Q1)
    assert content["rows"] == [] and any("无列入名单" in n for n in content["footnotes"])


def test_the_rules_file_loads_with_sources():
    rules = exceedances.list_rules()
    assert rules.counting.data_types == {"2061": "hour", "2031": "day"}
    assert rules.counting.counted_statuses == {"open", "explained", "closed"}
    assert rules.deadline(2026, 3) == dt.date(2026, 11, 14)
    assert all(rules.sources.values())
    text = _raw("exceedance_list.yaml").decode("utf-8")
    for cited in ("生态环境部公告2022年第21号", "content_5403666.htm", "post_2965989.html"):
        assert cited in text


# --------------------------------------------------------------------------------------------
# Draft → review → publish; what is published never changes


def test_draft_review_publish_and_correction(ex):
    admin = ex.province
    draft = services.build_exceedance_draft(user=admin, year=2026, quarter=1, now=IN_Q1)
    assert draft.status == PublicationStatus.DRAFT and draft.version == 1
    assert draft.content["quarter_complete"] is False
    # not public while a draft
    assert services.current_quarterly(PublicationKind.EXCEEDANCES, 2026, 1) is None
    # a strike needs a reason and an alarm of the quarter — every problem listed
    with pytest.raises(services.PublishError) as info:
        services.strike_alarm(user=admin, draft=draft, alarm_id=ex.a_apr.pk, reason=" ")
    assert "请填写剔除理由" in str(info.value) and "不属于本季度" in str(info.value)
    draft = services.strike_alarm(
        user=admin, draft=draft, alarm_id=ex.a_mar20.pk, reason="经核实为误报"
    )
    assert rows_by_mn(draft.content)["EXGAS0001"]["figures"]["hours"] == 4
    draft = services.restore_alarm(user=admin, draft=draft, alarm_id=ex.a_mar20.pk)
    assert rows_by_mn(draft.content)["EXGAS0001"]["figures"]["hours"] == 5
    draft = services.strike_alarm(
        user=admin, draft=draft, alarm_id=ex.a_mar20.pk, reason="经核实为误报"
    )
    # rebuilding from the data keeps the reviewer's strike
    draft = services.build_exceedance_draft(user=admin, year=2026, quarter=1, now=AFTER_Q1)
    assert draft.content["struck"] == {str(ex.a_mar20.pk): "经核实为误报"}
    # the quarter must have ended; the date must follow it
    with pytest.raises(services.PublishError, match="尚未结束"):
        services.publish_exceedance_list(
            user=admin, draft=draft, published_on=dt.date(2026, 4, 1), now=IN_Q1
        )
    with pytest.raises(services.PublishError, match="发布日期须在季度结束之后"):
        services.publish_exceedance_list(
            user=admin, draft=draft, published_on=dt.date(2026, 3, 31), now=AFTER_Q1
        )
    v1 = services.publish_exceedance_list(
        user=admin, draft=draft, published_on=dt.date(2026, 4, 20), now=AFTER_Q1
    )
    assert (v1.status, v1.version, v1.quarter, v1.published_on) == (
        PublicationStatus.PUBLISHED,
        1,
        1,
        dt.date(2026, 4, 20),
    )
    assert v1.content["published_on"] == "2026-04-20"
    frozen = json.dumps(v1.content, sort_keys=True)
    # published: no more strikes, and the content cannot be changed even through the ORM
    with pytest.raises(services.PublishError, match="已发布"):
        services.strike_alarm(user=admin, draft=v1, alarm_id=ex.a_feb.pk, reason="x")
    v1.content = {**v1.content, "rows": []}
    with pytest.raises(FrozenPublication):
        v1.save()
    v1.refresh_from_db()
    # a correction is a new version: the unit's explanation arrives, a new draft, published
    monitoring.explain_alarm(user=None, alarm=ex.a_mar5, text="检修后启机")
    draft2 = services.build_exceedance_draft(user=admin, year=2026, quarter=1, now=AFTER_Q1)
    assert draft2.pk != v1.pk and draft2.version == 2
    v2 = services.publish_exceedance_list(
        user=admin, draft=draft2, published_on=dt.date(2026, 4, 25), now=AFTER_Q1
    )
    v1.refresh_from_db()
    assert (v1.status, v2.status, v2.version) == ("superseded", "published", 2)
    assert json.dumps(v1.content, sort_keys=True) == frozen
    assert "单位已说明 1" in rows_by_mn(v2.content)["EXGAS0001"]["cells"][-1]
    assert services.current_quarterly(PublicationKind.EXCEEDANCES, 2026, 1) == v2
    actions = list(
        AuditEntry.objects.filter(action__startswith="publication.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "publication.draft.exceedances",
        "publication.exceedances.strike",
        "publication.exceedances.restore",
        "publication.exceedances.strike",
        "publication.draft.exceedances",
        "publication.publish.exceedances",
        "publication.draft.exceedances",
        "publication.publish.exceedances",
    ]


def test_only_province_staff_draft_and_publish(ex):
    for role in (Role.CITY_OFFICER, Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(services.NotAllowed):
            services.build_exceedance_draft(
                user=ex.world.users[role], year=2026, quarter=1, now=AFTER_Q1
            )
    draft = services.build_exceedance_draft(user=ex.province, year=2026, quarter=1)
    with pytest.raises(services.NotAllowed):
        services.publish_exceedance_list(
            user=ex.world.users[Role.CITY_OFFICER], draft=draft, published_on=dt.date(2026, 4, 20)
        )
    with pytest.raises(services.NotAllowed):
        services.strike_alarm(
            user=ex.world.users[Role.ENTERPRISE], draft=draft, alarm_id=ex.a_feb.pk, reason="x"
        )


def test_one_published_list_per_quarter_and_quarters_only_for_lists(ex):
    """The database itself: one published version per kind, year and quarter; one draft; the
    quarter 1–4 and only on quarterly kinds; the annual bulletin constraint still holds."""
    from django.db import IntegrityError

    def make(**kw):
        values = dict(
            kind=PublicationKind.EXCEEDANCES, year=2026, quarter=1, title="t", content={},
            published_on=dt.date(2026, 4, 20), division=ex.world.province,
        ) | kw  # fmt: skip
        with transaction.atomic():
            return Publication.objects.create(**values)

    make()
    make(quarter=2)  # another quarter of the same year
    for bad in (dict(), dict(quarter=5), dict(kind=PublicationKind.BULLETIN)):
        with pytest.raises(IntegrityError):
            make(**bad)
    make(status=PublicationStatus.DRAFT)
    with pytest.raises(IntegrityError):
        make(status=PublicationStatus.DRAFT)
    # several provinces in one installation (issue 22): each publishes its own list and bulletin
    from tests.factories import division

    other = division("630000", "乙测试省", "province")
    make(division=other)
    make(division=other, status=PublicationStatus.DRAFT)
    make(division=other, kind=PublicationKind.BULLETIN, quarter=None)
    make(kind=PublicationKind.BULLETIN, quarter=None)
    with pytest.raises(IntegrityError):
        make(kind=PublicationKind.BULLETIN, quarter=None)
    make(kind=PublicationKind.BULLETIN, quarter=None, year=2015)
    with pytest.raises(IntegrityError):
        make(kind=PublicationKind.BULLETIN, quarter=None, year=2015)
    with pytest.raises(IntegrityError):
        make(kind=PublicationKind.BULLETIN, quarter=None, year=2016, status="draft")


# --------------------------------------------------------------------------------------------
# Pages × roles

ROLES = [
    "anon",
    Role.PUBLIC,
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    Role.ENTERPRISE,
    Role.VERIFIER,
]
A, P, PA, PO, C, E, V = range(7)
EVERYONE = dict.fromkeys(range(7), 200)
NOBODY = dict.fromkeys(range(7), 404)
PROVINCE_ONLY = {A: 302, P: 403, PA: 200, PO: 200, C: 403, E: 403, V: 403}
PROVINCE_404 = {A: 302, P: 403, PA: 404, PO: 404, C: 403, E: 403, V: 403}


@pytest.fixture
def published(ex):
    ex.world.users[Role.PUBLIC] = User.objects.create_user(
        "pub1", password=PASSWORD, role=Role.PUBLIC
    )
    draft = services.build_exceedance_draft(user=ex.province, year=2026, quarter=1, now=AFTER_Q1)
    v1 = services.publish_exceedance_list(
        user=ex.province, draft=draft, published_on=dt.date(2026, 4, 20), now=AFTER_Q1
    )
    q2 = services.build_exceedance_draft(user=ex.province, year=2026, quarter=2, now=AFTER_Q1)
    return ex, {"v1": v1.pk, "draft": q2.pk}


def clients(world):
    out = []
    for role in ROLES:
        c = Client()
        if role != "anon":
            login(c, world.users[role])
        out.append(c)
    return out


PAGES = {
    "/public/exceedances/": EVERYONE,
    "/public/exceedances/2026/q1/": EVERYONE,
    "/public/exceedances/2026/q1/list.pdf": EVERYONE,
    "/public/exceedances/2026/q1/list.xlsx": EVERYONE,
    "/public/exceedances/2026/q1/list.csv": EVERYONE,
    "/public/exceedances/2026/q2/": NOBODY,  # a draft only
    "/public/exceedances/2026/q2/list.pdf": NOBODY,
    "/public/exceedances/2026/q5/": NOBODY,
    "/public/results/{v1}/": EVERYONE,
    "/public/results/{draft}/": NOBODY,
    "/public/results/{draft}/?export=csv": NOBODY,
    "/api/public/publications?kind=exceedances": EVERYONE,
    "/api/public/publications/{v1}": EVERYONE,
    "/api/public/publications/{draft}": NOBODY,
    "/api/public/exceedances/2026/1": EVERYONE,
    "/api/public/exceedances/2026/1/csv": EVERYONE,
    "/api/public/exceedances/2026/2": NOBODY,
    "/public/manage/exceedances/": PROVINCE_ONLY,
    "/public/manage/exceedances/2026/q1/": PROVINCE_ONLY,
    "/public/manage/exceedances/2026/q2/": PROVINCE_ONLY,
    "/public/manage/exceedances/2026/q2/?format=pdf": PROVINCE_ONLY,
    "/public/manage/exceedances/2026/q2/?format=xlsx": PROVINCE_ONLY,
    "/public/manage/exceedances/2026/q3/?format=csv": PROVINCE_404,  # nothing built yet
    "/public/manage/exceedances/2026/q7/": PROVINCE_404,
}


def test_pages_for_every_role(published):
    ex, ids = published
    cs = clients(ex.world)
    got = {
        path: {i: c.get(path.format(**ids)).status_code for i, c in enumerate(cs)} for path in PAGES
    }
    assert got == PAGES


def test_the_public_list_shows_the_published_version_only(published):
    html = Client().get("/public/exceedances/").content.decode()
    assert "2026年第一季度重点排污单位自动监测数据超标名单" in html
    assert "第二季度" not in html  # the Q2 draft is not public
    page = Client().get("/public/exceedances/2026/q1/").content.decode()
    assert "昆明测试水泥有限公司" in page and "1号烟囱（EXGAS0001）" in page
    assert "/monitoring/alarms/" not in page  # the alarm links are for the province's desk
    data = Client().get("/api/public/publications?kind=exceedances").json()["items"]
    assert [(d["year"], d["quarter"], d["version"]) for d in data] == [(2026, 1, 1)]


def test_the_desk_links_every_row_to_its_alarms(published):
    ex, _ids = published
    c = login(Client(), ex.province)
    html = c.get("/public/manage/exceedances/2026/q1/").content.decode()
    for alarm in (ex.a_feb, ex.a_mar5, ex.a_mar20, ex.w_hour):
        assert f'href="/monitoring/alarms/{alarm.pk}/"' in html
    assert 'name="reason"' not in html  # published: nothing to strike, only a new version
    draft_page = c.get("/public/manage/exceedances/2026/q2/").content.decode()
    assert "草稿（未发布）" in draft_page and f"/monitoring/alarms/{ex.a_apr.pk}/" in draft_page
    assert 'name="reason"' in draft_page  # the draft can be reviewed
    desk = c.get("/public/manage/exceedances/").content.decode()
    assert "2026年第一季度" in desk and "2026年第二季度" in desk


POST_ROLES = {A: 302, P: 403, PA: 302, PO: 302, C: 403, E: 403, V: 403}


def test_actions_for_every_role(published):
    """Each POST action for each role, every role on the same starting state (rolled back)."""
    ex, _ids = published
    cs = clients(ex.world)
    actions = [
        ("/public/manage/exceedances/2026/q1/draft/", {}),
        ("/public/manage/exceedances/2026/q2/strike/", {"alarm": ex.a_apr.pk, "reason": "误报"}),
        ("/public/manage/exceedances/2026/q2/discard/", {}),
    ]
    for path, data in actions:
        got, changed = {}, {}
        for i, c in enumerate(cs):
            with transaction.atomic():
                before = Publication.objects.count(), AuditEntry.objects.count()
                got[i] = c.post(path, data).status_code
                changed[i] = (Publication.objects.count(), AuditEntry.objects.count()) != before
                transaction.set_rollback(True)
        assert got == POST_ROLES, path
        assert changed == {i: i in (PA, PO) for i in range(7)}, path


def test_publish_action_and_refusals_on_the_desk(published):
    ex, _ids = published
    c = login(Client(), ex.world.users[Role.PROVINCE_OFFICER])
    # refusals come back on the review page with every reason
    r = c.post(
        "/public/manage/exceedances/2026/q2/strike/",
        {"alarm": ex.a_apr.pk, "reason": ""},
        follow=True,
    )
    assert "请填写剔除理由" in r.content.decode()
    r = c.post(
        "/public/manage/exceedances/2026/q2/publish/",
        {"published_on": "2026-03-01"},
        follow=True,
    )
    assert "发布日期须在季度结束之后" in r.content.decode()
    assert not Publication.objects.filter(quarter=2, status="published").exists()
    r = c.post("/public/manage/exceedances/2026/q2/publish/", {"published_on": "2026-07-02"})
    assert r.status_code == 302 and r.url == "/public/exceedances/2026/q2/"
    assert Publication.objects.get(quarter=2, status="published").published_on == dt.date(
        2026, 7, 2
    )
    # nothing to publish any more for Q2: 404
    assert c.post("/public/manage/exceedances/2026/q2/publish/", {}).status_code == 404


# --------------------------------------------------------------------------------------------
# Exports and the CLI


def test_exports(published):
    ex, _ids = published
    wb = load_workbook(io.BytesIO(Client().get("/public/exceedances/2026/q1/list.xlsx").content))
    ws = wb.active
    assert ws.cell(1, 1).value == "2026年第一季度重点排污单位自动监测数据超标名单"
    header = [c.value for c in ws[2]]
    assert header[0] == "所在地区" and header[-1] == "处置情况"
    first = [c.value for c in ws[3]]
    assert first[1] == "昆明测试水泥有限公司"
    assert first[6] == 200.0 and ws.cell(3, 7).number_format == "0.00"  # numbers stay numbers
    assert first[9] == 3 and first[10] == 5
    csv_text = Client().get("/public/exceedances/2026/q1/list.csv").content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0].startswith("所在地区,单位名称,统一社会信用代码")
    assert len(lines) == 3
    pdf = Client().get("/public/exceedances/2026/q1/list.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"/MediaBox [0 0 841.89 595.28]" in pdf.content  # A4 landscape
    api = Client().get("/api/public/exceedances/2026/1").json()
    assert api["quarter"] == 1 and api["version"] == 1
    rows = api["content"]["rows"]
    assert {a["id"] for r in rows for a in r["alarms"]} >= {ex.a_feb.pk, ex.w_hour.pk}
    assert "attachment" in Client().get("/api/public/exceedances/2026/1/csv")["Content-Disposition"]


def test_cli_prints_the_rows(published, capsys):
    ex, _ids = published
    assert (
        main(["publish", "exceedances", "--year", "2026", "--quarter", "1", "--format", "csv"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "region,unit_name,uscc,outlet,pollutant_code,pollutant,limit,max_value,unit,multiple,"
        "days,hours,treatment,alarms"
    )
    gas = lines[1].split(",")
    assert gas[:3] == ["昆明市五华区", "昆明测试水泥有限公司", ex.world.unit.uscc]
    assert gas[3:10] == ["EXGAS0001", "a21026", "二氧化硫", "100", "200.00", "mg/m³", "1.00"]
    assert gas[10:12] == ["3", "5"]
    assert gas[13] == f"{ex.a_feb.pk} {ex.a_mar5.pk} {ex.a_mar20.pk}"
    assert (
        main(["publish", "exceedances", "--year", "2026", "--quarter", "1", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["draft"] is False and data["version"] == 1 and data["published_on"] == "2026-04-20"
    assert data["rows"][0]["alarms"] == [ex.a_feb.pk, ex.a_mar5.pk, ex.a_mar20.pk]
    assert data["rows"][0]["days"] == 3 and data["rows"][0]["multiple"] == "1.00"
    assert [n["reason"] for n in data["not_counted"]] == ["status"]
    assert main(["publish", "exceedances", "--year", "2026", "--quarter", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "2026年第一季度重点排污单位自动监测数据超标名单"
    assert table[1].split()[:3] == ["region", "unit_name", "uscc"]
    assert "昆明测试水泥有限公司" in table[2]
    # Q2 is not published: the list computed now, marked draft; or refused on request
    assert (
        main(["publish", "exceedances", "--year", "2026", "--quarter", "2", "--format", "json"])
        == 0
    )
    out = capsys.readouterr()
    assert json.loads(out.out)["draft"] is True and "draft" in out.err
    assert (
        main(["publish", "exceedances", "--year", "2026", "--quarter", "2", "--require-published"])
        == 2
    )
    assert "no exceedance list has been published" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["publish", "exceedances", "--year", "2026", "--quarter", "5"])
    assert info.value.code == 2


# --------------------------------------------------------------------------------------------
# The demo


def test_demo_history_gives_a_published_list_for_a_quarter_of_2026(world):
    from dualcontrol.entities.models import Entity
    from dualcontrol.monitoring import demo as monitoring_demo
    from dualcontrol.publishing import demo as publishing_demo

    Entity.objects.filter(pk__in=[world.unit.pk, world.other_unit.pk]).update(
        is_synthetic=True, is_key_discharger=True
    )
    today = dt.date(2026, 10, 20)
    monitoring_demo.extend_demo(today=today)
    pub = publishing_demo._exceedance_list(today)
    assert (pub.year, pub.quarter, pub.status, pub.is_synthetic) == (2026, 3, "published", True)
    assert pub.published_on == dt.date(2026, 10, 20)
    # outlets 1 and 2 of the demo (this world has two): 5 h + 3 h on two days, and 26 h on two days
    figures = sorted((r["figures"]["days"], r["figures"]["hours"]) for r in pub.content["rows"])
    assert figures == [(2, 8), (2, 26)]
    assert any("演示" in n for n in pub.content["footnotes"])
    # the other history days hold normal data: evaluating one finds no alarm
    before = Alarm.objects.count()
    monitoring.evaluate_alarms(day=dt.date(2026, 8, 1), now=at(10, 20))
    assert Alarm.objects.count() == before
    # idempotent: a second run publishes nothing new
    assert publishing_demo._exceedance_list(today) is None


def test_each_province_builds_and_reviews_its_own_list(ex):
    """Issue 22: with a second province in the installation, its administrator's draft holds
    none of the first province's outlets, and neither desk shows the other's draft."""
    from tests.factories import division

    other = division("630000", "乙测试省", "province")
    admin_a = ex.world.users[Role.PROVINCE_ADMIN]
    admin_a.division = ex.world.province
    admin_a.save(update_fields=["division"])
    admin_b = User.objects.create_user(
        "b_admin", password=PASSWORD, role=Role.PROVINCE_ADMIN, division=other
    )
    draft_a = services.build_exceedance_draft(user=admin_a, year=2026, quarter=1, now=AFTER_Q1)
    draft_b = services.build_exceedance_draft(user=admin_b, year=2026, quarter=1, now=AFTER_Q1)
    assert draft_a.division == ex.world.province and draft_b.division == other
    assert draft_a.content["rows"] and not draft_b.content["rows"]
    assert services.exceedance_draft(2026, 1, other) == draft_b
    assert services.exceedance_draft(2026, 1, ex.world.province) == draft_a
    c = Client()
    login(c, admin_b)
    html = c.get("/public/manage/exceedances/2026/q1/").content.decode()
    assert "EXGAS0001" not in html and "EXWAT0001" not in html
