"""The demo province's plan tracking (called by ``demo/builder.py``).

Real: the Yunnan 2011–2015 plan and its division of labour (``demo_data/``, 138 tasks), imported
through the same service as an upload.  Synthetic (marked 演示): the tracking period around the
demo's ``today`` — deadlines, progress reports and their evidence — so that the pages show
completed, in-progress, overdue and stalled tasks.  Seeded, so two builds are identical.
"""

from __future__ import annotations

import datetime as dt
import random
from importlib import resources

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dualcontrol.tasks.models import AssignmentRole, Plan, PlanTask
from dualcontrol.tasks.rules import load_rules, period_of

PLAN_FILE = "yunnan_2011-2015_low-carbon_energy-saving_plan_and_division_of_labour.txt"
PLAN_TITLE = "云南省“十二五”低碳节能减排综合性工作方案及部门分工"
OFFICE = "省发展改革委"
DEMO_DEPARTMENT_USER = ("demo-dept", "省环境保护厅", "省环境保护厅（演示）")
SEED = 2011
TRACKING_DAYS = 210  # the demo's tracking started this many days before today
NARRATIVES = (
    "已制定本部门实施方案，明确责任处室和时间表，召开专题会议部署推进。",
    "完成相关情况摸底调查，形成工作台账，正在组织编制配套政策文件。",
    "配套政策已报省政府审定，同步开展试点，阶段性目标基本完成。",
    "已会同有关部门开展督导检查，发现的问题已印发整改通知并跟踪落实。",
    "试点工作取得初步成效，正在总结经验并在全省推广。",
    "本季度组织培训两期，完成年度工作量的主要部分，资金已下达。",
)
BLOCKED = "配套资金尚未落实，需省政府协调，工作推进受阻。"


def plan_bytes() -> bytes:
    return resources.files("dualcontrol.tasks.demo_data").joinpath(PLAN_FILE).read_bytes()


def extend_demo(today: dt.date) -> None:
    """Import the demo plan and give it a tracking history (idempotent: skips an existing one)."""
    from dualcontrol.regions.models import Department, Division
    from dualcontrol.tasks import services

    province = Division.objects.filter(code="530000").order_by("-valid_from").first()
    if province is None:
        return
    data = plan_bytes()
    if Plan.objects.filter(division=province, is_demo=True, title=PLAN_TITLE).exists():
        return
    rng = random.Random(SEED)
    start = today - dt.timedelta(days=TRACKING_DAYS)
    parsed = services.read_document(data=data, filename=PLAN_FILE)
    keys = services.unique_keys(parsed.tasks)
    deadlines: dict[str, dt.date | None] = {}
    for key in keys:
        if rng.random() < 0.22:
            deadlines[key] = today - dt.timedelta(days=rng.randint(5, 150))
        else:
            deadlines[key] = today + dt.timedelta(days=rng.randint(20, 520))
    plan = services.import_plan(
        data=data,
        filename=PLAN_FILE,
        division=province,
        user=None,
        title=PLAN_TITLE,
        issuing_body="云南省人民政府",
        period_start=2011,
        period_end=2015,
        office=Department.objects.filter(division=province, name=OFFICE).first(),
        tracking_start=start,
        deadlines=deadlines,
        deadlines_from_text=False,
        is_demo=True,
    )
    _progress(plan, rng, today, start)
    _demo_user()


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
        kind = rng.choices(
            ["none", "old", "active", "done", "blocked"], weights=[25, 15, 45, 12, 3]
        )[0]
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
