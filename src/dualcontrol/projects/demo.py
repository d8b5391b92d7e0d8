"""The projects part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

SYNTHETIC (every project, evidence file and verification marked ``is_synthetic`` / “演示”): 40 key
emission-reduction and energy-saving projects across the 16 prefectures, built through the services
like an officer would (registered, started, completed, evidence filed, verified) so that the audit
log and verification records are those of a real run.  Drawn (seeded RNG, reproducible) so that:

- most completed 2025 projects are 已认可 for 2025 and make up the ledger;
- some are 不予认可: three for missing required evidence (the rule), two by an officer for being
  emergency-control or over-limit remediation measures (“应急管理减排、超标治理项目不纳入核算范围”);
- one was rejected for missing evidence, re-submitted with it and then recognised;
- some are late (建设滞后: a milestone or the planned start passed), some wait for verification;
- Kunming (the demo city officer's region) has one of each, and the demo enterprise's unit has a
  late energy-saving project.

The verified 2025 reductions are then written into the 2025 regional statistics
(:func:`services.sync_statistics`) and the late projects raise alerts.  Figures are ILLUSTRATIVE,
of a plausible size for the project type, not official.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF

from dualcontrol.accounts.models import User
from dualcontrol.entities.models import Entity
from dualcontrol.projects import services
from dualcontrol.projects.models import Project
from dualcontrol.projects.rules import project_rules
from dualcontrol.regions.models import Division

SEED = 1919
KUNMING = "530100"
YEAR = 2025
EXTRA = ("530300", "530400", "532500", "530600")
TZ = dt.timezone(dt.timedelta(hours=8))

#: type -> (name pattern, {measure: (low, high)}, needs a unit)
TYPES: dict[str, tuple[str, dict[str, tuple[int, int]], bool]] = {
    "water_urban_sewage": (
        "{county}城镇污水处理厂提标改造工程",
        {"cod": (300, 1500), "nh3n": (30, 150)},
        False,
    ),
    "water_industrial": ("{unit}废水深度治理工程", {"cod": (80, 600), "nh3n": (5, 60)}, True),
    "water_rural_sewage": (
        "{county}农村生活污水治理工程",
        {"cod": (40, 200), "nh3n": (5, 25)},
        False,
    ),
    "water_livestock": (
        "{county}规模养殖场粪污资源化利用工程",
        {"cod": (200, 900), "nh3n": (10, 60)},
        False,
    ),
    "water_leachate": (
        "{county}生活垃圾填埋场渗滤液处理工程",
        {"cod": (50, 300), "nh3n": (10, 40)},
        False,
    ),
    "water_reclaimed": ("{county}再生水循环利用工程", {"cod": (30, 150), "nh3n": (3, 15)}, False),
    "air_ultra_low": ("{unit}超低排放改造工程", {"nox": (300, 2500)}, True),
    "air_vocs_treatment": ("{unit}VOCs收集与治理工程", {"vocs": (30, 400)}, True),
    "air_vocs_substitution": ("{unit}低VOCs含量原辅材料源头替代工程", {"vocs": (20, 200)}, True),
    "air_boiler": ("{county}燃煤锅炉清洁能源替代工程", {"nox": (40, 300)}, False),
    "air_mobile": ("{pref}老旧营运柴油货车淘汰工程", {"nox": (100, 800)}, False),
    "es_industry": ("{unit}余热余压利用节能改造", {"energy": (2000, 40000)}, True),
    "es_public": ("{county}公共机构能效提升工程", {"energy": (500, 5000)}, False),
    "es_urban": ("{county}既有建筑节能改造工程", {"energy": (800, 8000)}, False),
    "es_park": ("{county}工业园区集中供热节能工程", {"energy": (3000, 30000)}, False),
}
KUNMING_PLAN = [
    ("water_urban_sewage", "verified"),
    ("water_industrial", "verified"),
    ("water_rural_sewage", "construction_late"),
    ("water_livestock", "rejected_auto"),
    ("water_leachate", "waiting"),
]
#: (type, plan) of the 34 projects outside Kunming, spread over the prefectures in a seeded order
OTHER_PLAN: list[tuple[str, str]] = [
    *[("water_urban_sewage", "verified")] * 4,
    *[("water_industrial", "verified")] * 2,
    ("water_rural_sewage", "verified"),
    ("water_livestock", "verified"),
    *[("air_ultra_low", "verified")] * 2,
    *[("air_vocs_treatment", "verified")] * 2,
    ("air_vocs_substitution", "verified"),
    ("air_mobile", "verified"),
    ("es_industry", "verified"),
    ("es_public", "verified"),
    ("water_urban_sewage", "rejected_auto"),
    ("air_vocs_substitution", "rejected_auto"),
    ("water_industrial", "rejected_officer"),
    ("air_ultra_low", "rejected_officer"),
    ("water_urban_sewage", "resubmitted"),
    ("water_rural_sewage", "waiting"),
    ("air_boiler", "waiting"),
    ("es_urban", "waiting"),
    ("water_industrial", "construction_late"),
    ("air_vocs_treatment", "construction_late"),
    ("water_livestock", "construction_late"),
    ("water_reclaimed", "construction"),
    ("es_park", "construction"),
    ("water_rural_sewage", "construction"),
    ("air_ultra_low", "planned_late"),
    ("es_industry", "planned_late"),
    ("water_leachate", "planned"),
    ("es_public", "planned"),
]
OFFICER_REASONS = [
    "属重污染天气应急管控等应急管理减排措施，不纳入重点工程减排量核算（应急管理减排、超标治理项目不纳入核算范围）。",
    "属超标排放限期整改（超标治理）项目，不纳入重点工程减排量核算范围。",
]


def _document(title: str, project_id: int) -> SimpleUploadedFile:
    """A small PDF standing in for the document (synthetic, says so)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(
        0,
        8,
        f"DEMO DOCUMENT (synthetic) - {title}\nProject {project_id}\n"
        "Generated by the dualcontrol demo; not an official document.",
    )
    return SimpleUploadedFile(f"{title}-{project_id}.pdf", bytes(pdf.output()))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    if last <= first:
        return first
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def extend_demo(*, today: dt.date) -> dict[str, Any]:
    """Seed the demo projects (idempotent: nothing when synthetic projects exist)."""
    if Project.objects.filter(is_synthetic=True).exists():
        return {}
    province = Division.objects.filter(level="province", parent__isnull=True).first()
    if province is None:
        return {}
    rng = random.Random(SEED)
    prefs = list(Division.objects.filter(parent=province).order_by("code"))
    if not prefs:
        return {}
    admin = User.objects.filter(username="demo-province").first()
    city_officer = User.objects.filter(username="demo-city").first()
    enterprise = User.objects.filter(username="demo-enterprise").first()
    slots: list[tuple[Division, str, str]] = []
    by_code = {d.code: d for d in prefs}
    if KUNMING in by_code:
        slots += [(by_code[KUNMING], t, s) for t, s in KUNMING_PLAN]
    others = [d for d in prefs if d.code != KUNMING]
    places = others * 2 + [by_code[c] for c in EXTRA if c in by_code]
    other_plan = OTHER_PLAN[:]
    rng.shuffle(other_plan)
    slots += [(d, t, s) for d, (t, s) in zip(places, other_plan, strict=False)]
    made = []
    for i, (pref, type_code, plan) in enumerate(slots):
        made.append(_project(rng, i, pref, type_code, plan, today, admin, city_officer))
    own_unit = enterprise.entity if enterprise is not None and enterprise.entity_id else None
    if own_unit is not None:
        made.append(
            _project(
                rng,
                len(slots),
                own_unit.division,
                "es_industry",
                "construction_late",
                today,
                admin,
                city_officer,
                unit=own_unit,
            )
        )
    sync = services.sync_statistics(year=YEAR, user=None)
    alerts = services.warn_late_projects(today=today)
    from dualcontrol.projects import demo_investment

    invest = demo_investment.build(today=today, province=province)
    return {
        **invest,
        "projects": len(made),
        "statistics_rows": sync.written,
        "statistics_skipped": [c for c, _n in sync.skipped],
        "late": alerts.late,
        "alerts": alerts.alerts,
    }


def _place(
    rng: random.Random, pref: Division, needs_unit: bool, unit: Entity | None
) -> tuple[Division, Entity | None]:
    if unit is not None:
        return unit.division, unit
    if needs_unit:
        units = list(
            Entity.objects.filter(division__path__startswith=pref.path, is_synthetic=True).order_by(
                "uscc"
            )
        )
        if units:
            chosen = rng.choice(units)
            return chosen.division, chosen
    counties = list(Division.objects.filter(parent=pref).order_by("code"))
    return (rng.choice(counties) if counties else pref), None


def _project(
    rng: random.Random,
    i: int,
    pref: Division,
    type_code: str,
    plan: str,
    today: dt.date,
    admin: Any,
    city_officer: Any,
    unit: Entity | None = None,
) -> Project:
    rules = project_rules()
    pattern, ranges, needs_unit = TYPES[type_code]
    ptype = rules.types[type_code]
    division, entity = _place(rng, pref, needs_unit, unit)
    county = division.name if division.level == "county" else pref.name
    owner = entity.name if entity else f"{county}（演示）项目建设单位"
    name = pattern.format(county=county, pref=pref.name, unit=entity.name if entity else county)
    planned = {m: Decimal(str(round(rng.uniform(lo, hi), 1))) for m, (lo, hi) in ranges.items()}
    now = _at(today, 9)
    # --- schedule
    if plan in ("verified", "rejected_auto", "rejected_officer", "resubmitted"):
        start = _day(rng, dt.date(YEAR - 1, 3, 1), dt.date(YEAR - 1, 9, 30))
        finish = _day(rng, dt.date(YEAR, 5, 1), dt.date(YEAR, 11, 30))
    elif plan == "waiting":
        start = _day(rng, dt.date(YEAR, 3, 1), dt.date(YEAR, 8, 31))
        finish = min(today - dt.timedelta(days=15), _day(rng, dt.date(YEAR + 1, 4, 1), today))
    elif plan == "construction_late":
        start = today - dt.timedelta(days=rng.randint(300, 420))
        finish = today + dt.timedelta(days=rng.randint(60, 200))
    elif plan == "construction":
        start = today - dt.timedelta(days=rng.randint(90, 200))
        finish = today + dt.timedelta(days=rng.randint(120, 300))
    elif plan == "planned_late":
        start = today - dt.timedelta(days=rng.randint(20, 70))
        finish = start + dt.timedelta(days=rng.randint(300, 500))
    else:  # planned
        start = today + dt.timedelta(days=rng.randint(30, 120))
        finish = start + dt.timedelta(days=rng.randint(300, 500))
    span = (finish - start).days
    main = start + dt.timedelta(days=int(span * 0.6))
    trial = start + dt.timedelta(days=int(span * 0.85))
    if plan == "construction":  # on schedule: the open steps are still ahead
        main = max(main, today + dt.timedelta(days=30))
        trial = max(trial, main + dt.timedelta(days=30))
    elif plan == "construction_late":  # 主体工程完工 is past due
        main = today - dt.timedelta(days=rng.randint(30, 120))
        trial = max(trial, today + dt.timedelta(days=20))
    milestones = [("开工", start), ("主体工程完工", main), ("调试运行", trial)]
    project = services.register_project(
        user=None,
        kind=ptype.kind,
        type_code=type_code,
        name=f"{name}（演示）",
        division=division,
        entity=entity,
        owner_name="" if entity else owner,
        planned_start=start,
        planned_completion=finish,
        planned=planned,
        registry_code=f"DEMO-{pref.code}-{i + 1:03d}",
        description="演示项目（合成数据）：建设内容、规模与减排量均为示意。",
        milestones=milestones,
        is_synthetic=True,
    )
    if plan in ("planned", "planned_late"):
        return project
    started = start if plan != "construction_late" else start + dt.timedelta(days=10)
    project = services.start_construction(user=None, project=project, started_on=started, now=now)
    ms = list(project.milestones.order_by("due_date"))
    services.complete_milestone(user=None, milestone=ms[0], done_on=started, now=now)
    if plan in ("construction", "construction_late"):
        return project
    for m in ms[1:]:
        done = min(m.due_date, finish)
        services.complete_milestone(user=None, milestone=m, done_on=done, now=now)
    project = services.complete_project(user=None, project=project, completed_on=finish, now=now)
    required = list(ptype.evidence)
    if plan in ("rejected_auto", "resubmitted"):
        dropped = "monitoring" if "monitoring" in required else required[0]
        required = [k for k in required if k != dropped]
    else:
        dropped = ""
    filed = _at(finish + dt.timedelta(days=rng.randint(5, 30)))
    filed = min(filed, now - dt.timedelta(days=2))
    for kind in required:
        services.upload_evidence(
            user=None,
            project=project,
            kind=kind,
            document=_document(kind, project.pk),
            note="演示材料（合成）",
            now=filed,
            is_synthetic=True,
        )
    if plan == "waiting":
        return project
    officer = city_officer if pref.code == KUNMING and city_officer else admin
    when = min(_at(dt.date(YEAR + 1, 2, 15) + dt.timedelta(days=rng.randint(0, 70)), 15), now)
    figures = {
        m: (a * Decimal(str(rng.uniform(0.85, 1.02)))).quantize(Decimal("0.1"))
        for m, a in planned.items()
    }
    if plan == "rejected_officer":
        services.reject_project(
            user=officer,
            project=project,
            reason=OFFICER_REASONS[i % len(OFFICER_REASONS)],
            now=when,
            sync=False,
        )
        return project
    services.verify_project(user=officer, project=project, figures=figures, now=when, sync=False)
    if plan == "resubmitted" and dropped:
        later = min(when + dt.timedelta(days=12), now)
        services.upload_evidence(
            user=None,
            project=project,
            kind=dropped,
            document=_document(dropped, project.pk),
            note="补充材料（演示）",
            now=later,
            is_synthetic=True,
        )
        project = services.resubmit_project(
            user=None, project=project, note="已补充证明材料（演示）"
        )
        services.verify_project(
            user=officer,
            project=project,
            figures=figures,
            now=min(later + dt.timedelta(days=10), now),
            sync=False,
        )
    return project
