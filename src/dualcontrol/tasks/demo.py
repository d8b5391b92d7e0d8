"""The demo province's plan tracking (called by ``demo/builder.py``): one plan as history, one current.

History (real text): the Yunnan 2011–2015 plan and its division of labour (``demo_data/``, 138
tasks), imported through the same service as an upload, with deadlines within its own period and
every task reported complete by the end of 2015 — what a closed plan looks like.

Current (a demo text, labelled as such in its title and first lines): a 2026–2030 energy-saving and
carbon plan in the usual provincial structure, 14 tasks with the deadlines its text names, tracked
since January 2026, so that the pages show completed, in-progress, overdue, stalled and blocked
tasks at the demo's ``today``.  Progress reports and evidence are synthetic (marked 演示).  Seeded,
so two builds are identical.
"""

from __future__ import annotations

import datetime as dt
import random
from importlib import resources
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dualcontrol.tasks.models import AssignmentRole, Plan, PlanTask
from dualcontrol.tasks.rules import load_rules, period_of

PLAN_FILE = "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt"
PLAN_TITLE = "云南省“十二五”低碳节能减排综合性工作方案及部门分工"
#: the name the plan is filed under, as an officer would upload it (the packaged file keeps the
#: research corpus's name)
PLAN_FILENAME = "云南省“十二五”低碳节能减排综合性工作方案.txt"
HISTORY_START = dt.date(2012, 1, 10)  # tracking of the 12th-FYP plan (history)
HISTORY_END = dt.date(2015, 12, 31)
CURRENT_FILE = "demo_2026-2030_energy_carbon_plan.txt"
CURRENT_TITLE = "云南省“十五五”节能降碳综合工作方案（演示文本）"
CURRENT_FILENAME = "云南省“十五五”节能降碳综合工作方案（演示文本）.txt"
CURRENT_START = dt.date(2026, 1, 15)
CURRENT_END = dt.date(2030, 12, 31)
#: what each task of the current demo plan shows (by its number): done, active (in progress, or
#: overdue once its deadline passed), old (reported once early in the year: stalled), none (not
#: started), blocked
CURRENT_KINDS = {
    "1": "active",
    "2": "done",
    "3": "old",
    "4": "active",
    "5": "active",
    "6": "none",
    "7": "active",
    "8": "done",
    "9": "active",
    "10": "blocked",
    "11": "active",
    "12": "active",
    "13": "done",
    "14": "old",
}
OFFICE = "省发展改革委"
DEMO_DEPARTMENT_USER = ("demo-dept", "省环境保护厅", "省环境保护厅（演示）")
SEED = 2011
NARRATIVES = (
    "已制定本部门实施方案，明确责任处室和时间表，召开专题会议部署推进。",
    "完成相关情况摸底调查，形成工作台账，正在组织编制配套政策文件。",
    "配套政策已报省政府审定，同步开展试点，阶段性目标基本完成。",
    "已会同有关部门开展督导检查，发现的问题已印发整改通知并跟踪落实。",
    "试点工作取得初步成效，正在总结经验并在全省推广。",
    "本季度组织培训两期，完成年度工作量的主要部分，资金已下达。",
)
BLOCKED = "配套资金尚未落实，需省政府协调，工作推进受阻。"


def plan_bytes(name: str = PLAN_FILE) -> bytes:
    return resources.files("dualcontrol.tasks.demo_data").joinpath(name).read_bytes()


def text_deadline(text: str, default: dt.date) -> dt.date:
    """The deadline a task's text names (“2026年6月底前” → 2026-06-30, “2027年底前” → 2027-12-31),
    else ``default`` (the plan's end)."""
    import calendar
    import re

    m = re.search(r"(\d{4})年(\d{1,2})月底前", text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return dt.date(y, mo, calendar.monthrange(y, mo)[1])
    m = re.search(r"(\d{4})年底前", text)
    if m:
        return dt.date(int(m.group(1)), 12, 31)
    return default


def extend_demo(today: dt.date) -> None:
    """Import the history plan and the current demo plan with their tracking (idempotent)."""
    from dualcontrol.regions.models import Division

    province = Division.objects.filter(code="530000").order_by("-valid_from").first()
    if province is None:
        return
    rng = random.Random(SEED)
    if not Plan.objects.filter(division=province, is_demo=True, title=PLAN_TITLE).exists():
        _history(province, rng)
    if (
        today > CURRENT_START
        and not Plan.objects.filter(division=province, is_demo=True, title=CURRENT_TITLE).exists()
    ):
        _current(province, rng, today)
    _demo_user()


def _history(province: Any, rng: random.Random) -> Plan:
    """The 2011–2015 plan, closed: deadlines within its period, every task reported complete."""
    from dualcontrol.regions.models import Department
    from dualcontrol.tasks import services

    plan = services.import_plan(
        data=plan_bytes(),
        filename=PLAN_FILENAME,
        division=province,
        user=None,
        title=PLAN_TITLE,
        issuing_body="云南省人民政府",
        period_start=2011,
        period_end=2015,
        office=Department.objects.filter(division=province, name=OFFICE).first(),
        tracking_start=HISTORY_START,
        default_deadline=HISTORY_END,
        deadlines_from_text=True,
        is_demo=True,
    )
    rules = load_rules()
    for task in PlanTask.objects.filter(plan=plan).prefetch_related("assignments__department"):
        assignments = list(task.assignments.all())
        leads = [a for a in assignments if a.role == AssignmentRole.LEAD] or assignments
        if not leads:
            continue
        end = min(task.deadline or HISTORY_END, HISTORY_END)
        span = max(1, (end - HISTORY_START).days - 30)
        days = sorted({HISTORY_START + dt.timedelta(days=rng.randint(20, span)) for _ in range(2)})
        days.append(end - dt.timedelta(days=rng.randint(1, 25)))
        percent = 0
        for i, day in enumerate(days):
            last = i == len(days) - 1
            percent = 100 if last else min(90, percent + rng.randint(20, 40))
            for a in leads if last else leads[:1]:
                services.file_progress(
                    task=task,
                    department=a.department,
                    user=None,
                    period=period_of(day, rules.period_kind),
                    narrative="已按方案要求完成本项任务，相关工作转入常态化推进。"
                    if last
                    else rng.choice(NARRATIVES),
                    percent_complete=percent,
                    submitted_at=_when(day, rng),
                    is_demo=True,
                )
    return plan


def _current(province: Any, rng: random.Random, today: dt.date) -> Plan:
    """The current demo plan: deadlines from its text, tracked since January 2026."""
    from dualcontrol.regions.models import Department
    from dualcontrol.tasks import services

    data = plan_bytes(CURRENT_FILE)
    parsed = services.read_document(data=data, filename=CURRENT_FILENAME)
    keys = services.unique_keys(parsed.tasks)
    deadlines = {
        key: text_deadline(task.text, CURRENT_END)
        for key, task in zip(keys, parsed.tasks, strict=True)
    }
    plan = services.import_plan(
        data=data,
        filename=CURRENT_FILENAME,
        division=province,
        user=None,
        title=CURRENT_TITLE,
        issuing_body="（演示）云南省人民政府",
        period_start=2026,
        period_end=2030,
        office=Department.objects.filter(division=province, name=OFFICE).first(),
        tracking_start=CURRENT_START,
        deadlines=deadlines,
        deadlines_from_text=False,
        is_demo=True,
    )
    _progress(plan, rng, today, CURRENT_START)
    return plan


def _when(day: dt.date, rng: random.Random) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.randint(0, 59)))
    )


def _progress(plan: Plan, rng: random.Random, today: dt.date, start: dt.date) -> None:
    from dualcontrol.tasks import services

    rules = load_rules()
    evidence_left = 6
    tasks = list(PlanTask.objects.filter(plan=plan).prefetch_related("assignments__department"))
    for task in tasks:
        assignments = list(task.assignments.all())
        leads = [a for a in assignments if a.role == AssignmentRole.LEAD] or assignments
        if not leads:
            continue
        kind = CURRENT_KINDS.get(task.number, "active")
        if kind == "none":
            continue
        if kind == "old":
            days = [start + dt.timedelta(days=rng.randint(10, 80))]
        else:
            n = rng.randint(1, 3)
            recent = today - dt.timedelta(days=rng.randint(1, 60))
            days = sorted(
                {recent} | {start + dt.timedelta(days=rng.randint(10, 140)) for _ in range(n - 1)}
            )
        lead = leads[0]
        percent = 0
        for i, day in enumerate(days):
            last = i == len(days) - 1
            done = kind == "done" and last
            percent = 100 if done else min(90, percent + rng.randint(10, 35))
            blocked = kind == "blocked" and last
            evidence = None
            if evidence_left and (kind in ("active", "done")) and last:
                evidence_left -= 1
                evidence = SimpleUploadedFile(
                    f"{lead.department.name}-{period_of(day, rules.period_kind)}-进展材料（演示）.txt",
                    (
                        f"演示佐证材料（合成）\n任务：{task.key} {task.title}\n"
                        f"报送部门：{lead.department.name}\n完成进度：{percent}%\n"
                    ).encode(),
                    content_type="text/plain",
                )
            for a in [lead, *[x for x in leads[1:] if kind == "done" and last]]:
                services.file_progress(
                    task=task,
                    department=a.department,
                    user=None,
                    period=period_of(day, rules.period_kind),
                    narrative=BLOCKED if blocked else rng.choice(NARRATIVES),
                    percent_complete=percent,
                    blocked=blocked,
                    evidence=evidence if a is lead else None,
                    submitted_at=_when(day, rng),
                    is_demo=True,
                )
        helpers = [a for a in assignments if a.role == AssignmentRole.PARTICIPATING]
        if helpers and kind == "active" and rng.random() < 0.3:
            helper = rng.choice(helpers)
            day = today - dt.timedelta(days=rng.randint(1, 80))
            services.file_progress(
                task=task,
                department=helper.department,
                user=None,
                period=period_of(day, rules.period_kind),
                narrative="按分工配合牵头单位推进，已报送本部门承担部分的工作情况。",
                percent_complete=rng.randint(20, 80),
                submitted_at=_when(day, rng),
                is_demo=True,
            )


def _demo_user() -> None:
    from dualcontrol.accounts.models import Role, User
    from dualcontrol.demo.builder import DEMO_PASSWORD
    from dualcontrol.regions.models import Department

    username, department, name = DEMO_DEPARTMENT_USER
    dept = Department.objects.filter(division__code="530000", name=department).first()
    if dept is None or User.objects.filter(username=username).exists():
        return
    user = User(
        username=username,
        first_name=name,
        role=Role.PROVINCE_OFFICER,
        department=dept,
        is_demo=True,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
