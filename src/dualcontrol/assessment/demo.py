"""The assessment part of the demo province (called by :func:`dualcontrol.demo.builder.build`
after the targets part, which seeds the regional statistics and the 12th-FYP targets).

REAL: the scoring sheets (``reference/data/scoring_*.yaml``) and the 12th-FYP targets quoted by
the targets demo (province −15 %, decomposed to the 16 prefectures).

SYNTHETIC (marked ``is_synthetic`` / “演示” in the UI): the 2015 assessment of the 16 prefectures
— the target part is *computed* from the demo's synthetic 2010–2015 statistics, the measures
scores, comments and evidence are invented — and a 2015 assessment of a dozen synthetic key
units (annual energy-saving targets and certified savings invented).  Some prefectures and
units miss their targets, so the veto, 区域限批, the rectification reports, an interview
(约谈), mandatory energy audits and credit records all appear; some consequences are closed,
some are still open.  Seeded RNG: two builds are identical.

Carbon: the demo's carbon round is the latest year whose annual statistics with co2_t are complete
for every prefecture, against the CO2 target of that year's plan period — 2025 against the
illustrative 2021–2025 target (NDRC 2014 sheet).  Once its results are due (the end of June of
the next year) it is scored (synthetic measure scores, marked) and signed off, and the publishing
demo publishes its results; the 2025 pollutant round stays open at the self-assessment stage, the
work the prefectures still have to do.  tests/assessment/test_assessment_carbon.py covers the
round itself.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.accounts.models import Role, User
from dualcontrol.assessment import services
from dualcontrol.assessment.models import (
    AssessmentRecord,
    AssessmentRound,
    Consequence,
    ConsequenceStatus,
    RecordStatus,
    ScoringSheet,
)
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Department, Division
from dualcontrol.targets import services as target_services
from dualcontrol.targets.models import (
    Indicator,
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
)

YEAR = 2015
ISSUED_ON = dt.date(2016, 6, 15)  # results announced (consequence deadlines count from here)
SEED = 20150
UNITS = 12
REGION_SHEET = "gf-2007-36"
UNIT_SHEET = "gf-2007-36-enterprise"
CARBON_SHEET = "co2-15th-fyp"
SAVING_SOURCE = "平台演示：“十二五”重点用能单位年度节能量示意目标（非官方）"

MEASURE_NOTES = [
    "成立节能减排工作领导小组，逐级分解年度目标并纳入政府绩效考核；淘汰落后产能任务按期完成。",
    "设立节能专项资金，实施重点节能工程；固定资产投资项目节能评估和审查制度落实。",
    "开展重点用能单位节能监察，推广节能技术和产品；能源计量和统计基础工作加强。",
]
REVIEW_COMMENTS = [
    "组织领导和目标分解到位，佐证材料齐全。",
    "重点工程推进较好，专项资金占比偏低，扣分。",
    "淘汰落后产能有缺口，部分佐证材料不完整，扣分。",
    "节能监察覆盖面不足，统计基础工作需加强。",
]


def _pdf(title: str) -> bytes:
    """A tiny valid PDF standing in for an uploaded evidence document (ASCII text only)."""
    text = f"Demo evidence (synthetic): {title}"
    stream = f"BT /F1 12 Tf 40 780 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def extend_demo(*, today: dt.date) -> None:
    """Run the demo's 2015 assessments end to end, and open the carbon round when the demo has
    a complete year of the CO2 targets' period (idempotent: each is skipped when there)."""
    services.sync_sheets()
    province = (
        Division.objects.filter(parent__isnull=True, level="province").order_by("code").first()
    )
    if province is None:
        return
    admin = User.objects.filter(username="demo-province").first()
    if (
        not AssessmentRound.objects.filter(is_synthetic=True, year=YEAR).exists()
        and RegionalStatistic.objects.filter(
            division=province, year=YEAR, month__isnull=True, quarter__isnull=True
        ).exists()  # else no targets demo (statistics) to assess from
    ):
        rng = random.Random(SEED)
        _regions(rng, province, admin)
        _units(rng, province, admin)
    _carbon_round(province, admin, today)
    _pollutant_round(province, admin)


#: the pollutant round of the demo: the 14th-FYP regime (reduction rates with veto and key-project
#: reductions), assessed in the last year of the illustrative 2021–2025 targets
POLLUTANT_SHEET = "pollutants-key-projects"
POLLUTANT_YEAR = 2025


def _pollutant_round(province: Division, admin: Any) -> AssessmentRound | None:
    """The 2025 pollutant round (target part computed from the demo's emissions and key-project
    reductions, left at the self-assessment stage); nothing without the 14th-FYP targets."""
    has_targets = Target.objects.filter(
        division=province,
        indicator="cod_reduction",
        end_year=POLLUTANT_YEAR,
        is_synthetic=True,
    ).exists()
    if not has_targets:
        return None
    sheet = ScoringSheet.objects.get(name=POLLUTANT_SHEET)
    if AssessmentRound.objects.filter(
        year=POLLUTANT_YEAR, assessor=province, sheet_name=sheet.name
    ).exists():
        return None
    return services.create_round(
        user=admin,
        system=True,
        year=POLLUTANT_YEAR,
        sheet=sheet,
        assessor=province,
        title=f"{POLLUTANT_YEAR}年度{province.name}州（市）人民政府主要污染物减排目标责任评价考核（演示）",
        note="演示：目标部分由演示统计数据（污染物排放量、核定的重点工程减排量）和示意的“十四五”"
        "目标计算；计分表为平台预设（未找到官方计分表）；措施部分尚未评分。",
        is_synthetic=True,
    )


def carbon_round_year(province: Division) -> tuple[int, Target] | None:
    """The latest year of a demo CO2-intensity target period whose annual statistics (with
    co2_t) are complete for every prefecture, with that target; None when there is none."""
    prefectures = Division.objects.filter(parent=province)
    if not prefectures.exists():
        return None
    targets = Target.objects.filter(
        division=province,
        indicator=Indicator.CO2_INTENSITY_REDUCTION,
        period_kind=PeriodKind.FIVE_YEAR,
        industry__isnull=True,
        is_synthetic=True,
    ).order_by("-end_year")
    for t in targets:
        for year in range(t.end_year, t.base_year, -1):
            have = RegionalStatistic.objects.filter(
                division__in=prefectures,
                year__in=(year - 1, year),
                month__isnull=True,
                quarter__isnull=True,
                industry__isnull=True,
                factors__has_key="co2_t",
            ).values_list("division_id", "year")
            if len(set(have)) == 2 * prefectures.count():
                return year, t
    return None


#: the sheet of a carbon round by the target's plan period: the 15th-FYP preset from 2026, the
#: NDRC 2014 sheet (annual and cumulative CO2-intensity items, official grades) before
CARBON_SHEET_BEFORE_2026 = "co2-2014"


def _carbon_round(province: Division, admin: Any, today: dt.date) -> AssessmentRound | None:
    """The carbon round of the latest complete year (target part computed); once its results are
    due (:func:`carbon_results_issued_on`) scored and signed off like the 2015 round, with
    synthetic measure scores marked as such; nothing when the demo has no complete year."""
    found = carbon_round_year(province)
    if found is None:
        return None
    year, target = found
    sheet = ScoringSheet.objects.get(
        name=CARBON_SHEET if target.end_year > 2025 else CARBON_SHEET_BEFORE_2026
    )
    if AssessmentRound.objects.filter(year=year, assessor=province, sheet_name=sheet.name).exists():
        return None
    rnd = services.create_round(
        user=admin,
        system=True,
        year=year,
        sheet=sheet,
        assessor=province,
        title=f"{year}年度{province.name}州（市）人民政府碳排放双控目标责任评价考核（演示）"
        if target.end_year > 2025
        else f"{year}年度{province.name}州（市）人民政府单位地区生产总值二氧化碳排放降低目标责任考核评估（演示）",
        note="演示：目标部分由演示统计数据（分品种能源→二氧化碳）和示意目标计算；"
        + (
            "计分表为平台预设（“十五五”官方计分表尚未发布）"
            if target.end_year > 2025
            else "计分表为国家发展改革委2014年考核评估办法"
        )
        + "；措施部分评分为示意。",
        is_synthetic=True,
    )
    issued_on = carbon_results_issued_on(year)
    if issued_on <= today:  # the round of a past year is finished by now, as the real one is
        _score(random.Random(SEED + year), rnd, admin)
        services.sign_off_round(round=rnd, user=admin, issued_on=issued_on, system=True)
    return rnd


def carbon_results_issued_on(year: int) -> dt.date:
    """When the demo announces the carbon round's results: the end of June of the next year
    (demo choice; the publishing demo publishes them on that day)."""
    return dt.date(year + 1, 6, 30)


def _regions(rng: random.Random, province: Division, admin: Any) -> AssessmentRound:
    sheet = ScoringSheet.objects.get(name=REGION_SHEET)
    rnd = services.create_round(
        user=admin,
        system=True,
        year=YEAR,
        sheet=sheet,
        assessor=province,
        title=f"{YEAR}年度{province.name}州（市）人民政府节能目标责任评价考核（演示）",
        note="演示：目标部分由演示统计数据计算；措施部分评分为示意。",
        is_synthetic=True,
    )
    _score(rng, rnd, admin)
    services.sign_off_round(round=rnd, user=admin, issued_on=ISSUED_ON, system=True)
    _follow_up(rng, rnd, admin)
    return rnd


def _score(rng: random.Random, rnd: AssessmentRound, admin: Any) -> None:
    """Self-assessment with evidence, submission and the province's scores for every record of a
    demo round (synthetic scores, lower where the target part missed)."""
    year = rnd.year
    records = list(rnd.records.select_related("division").order_by("division__code"))
    for i, rec in enumerate(records):
        rows = list(rec.measures.all())
        services.save_self_assessment(
            record=rec,
            user=None,
            system=True,
            scores={
                m.key: (str(max(0, m.max_points - rng.randint(1, 5))), MEASURE_NOTES[i % 3])
                for m in rows
            },
        )
        for m in rows:
            services.add_evidence(
                record=rec,
                user=None,
                system=True,
                item_key=m.key,
                upload=SimpleUploadedFile(
                    f"{rec.division.code}-{year}-selfassessment.pdf",
                    _pdf(f"{rec.division.code} {year} self-assessment report"),
                    content_type="application/pdf",
                ),
                description="自评报告及佐证材料汇编（演示）",
            )
        services.submit_self_assessment(record=rec, user=None, system=True)
        if rec.target_error:
            continue
        figures = next(iter(rec.target_figures.values()))
        missed = Decimal(figures["actual"]) < Decimal(figures["target"])
        scores = {}
        for m in rows:
            low = 38 if missed else 47
            if m.max_points >= 57:  # the 60-point measures part of 国发〔2007〕36号
                value = rng.randint(low, 57)
            else:  # the same share of a smaller item
                value = rng.randint(int(m.max_points * low / 60), int(m.max_points * 57 / 60))
            scores[m.key] = (str(value), rng.choice(REVIEW_COMMENTS))
        services.score_measures(record=rec, user=admin, system=True, scores=scores)


def _follow_up(rng: random.Random, rnd: AssessmentRound, admin: Any) -> None:
    """Rectification reports and lifted restrictions for most regions; one still open."""
    failed = list(
        rnd.records.filter(status=RecordStatus.SIGNED_OFF, grade_key="not_completed")
        .select_related("division")
        .order_by("division__code")
    )
    for i, rec in enumerate(failed):
        if i == 0:
            services.record_interview(
                user=admin,
                system=True,
                year=rnd.year,
                division=rec.division,
                held_on=dt.date(2016, 7, 5),
                note="（演示）省政府约谈该州（市）政府主要负责人，要求限期整改。",
                record=rec,
                is_synthetic=True,
            )
        opened = Consequence.objects.filter(record=rec, status=ConsequenceStatus.OPEN)
        if i == len(failed) - 1 and len(failed) > 1:
            report = opened.filter(kind="written_rectification_report").first()
            if report is not None:
                services.respond(
                    consequence=report,
                    user=None,
                    system=True,
                    text="（演示）已报送整改报告：关停落后产能、实施重点节能改造，整改期限至2016年底。",
                )
            continue  # left open: shows in the open-consequence list
        for c in opened:
            if c.kind == "written_rectification_report":
                services.respond(
                    consequence=c,
                    user=None,
                    system=True,
                    text="（演示）已按期报送书面整改报告。",
                )
                services.close(
                    consequence=c,
                    user=admin,
                    system=True,
                    note="（演示）整改报告已收到并审核通过。",
                    closed_on=dt.date(2016, 7, 10 + i),
                )
            elif c.restricts_approvals:
                services.close(
                    consequence=c,
                    user=admin,
                    system=True,
                    note="（演示）整改到位，解除区域限批。",
                    closed_on=dt.date(2016, 12, 20),
                )
            else:
                services.close(
                    consequence=c,
                    user=admin,
                    system=True,
                    note="（演示）已按规定问责。",
                    closed_on=dt.date(2016, 9, 1),
                )


def _units(rng: random.Random, province: Division, admin: Any) -> AssessmentRound | None:
    """Departments assess key units: energy-saving targets, certified savings, audits."""
    own = User.objects.filter(username="demo-enterprise", role=Role.ENTERPRISE).first()
    units = list(
        Entity.objects.filter(is_synthetic=True, is_key_energy_unit=True)
        .exclude(pk=own.entity_id if own else None)
        .order_by("-annual_energy_tce", "pk")[: UNITS - 1]
    )
    if own is not None and own.entity is not None:
        units.insert(0, own.entity)
    if not units:
        return None
    saving_targets: dict[int, Decimal] = {}
    for unit in units:
        size = float(unit.annual_energy_tce or 50_000)
        target = max(500, round(size * rng.uniform(0.015, 0.03), -1))
        saving_targets[unit.pk] = Decimal(str(target))
        target_services.create_target(
            user=None,
            system=True,
            indicator=Indicator.ENERGY_SAVING,
            entity=unit,
            period_kind=PeriodKind.YEAR,
            base_year=YEAR - 1,
            end_year=YEAR,
            base_value=Decimal(str(target)),
            unit="tce",
            source_document=SAVING_SOURCE,
            note="示意：年度节能量目标（演示）。",
            barometer=False,
            status=TargetStatus.SIGNED,
            is_synthetic=True,
        )
    department = Department.objects.filter(division=province, name="省发展改革委").first()
    rnd = services.create_round(
        user=admin,
        system=True,
        year=YEAR,
        sheet=ScoringSheet.objects.get(name=UNIT_SHEET),
        assessor=province,
        subjects=units,
        department=department,
        title=f"{YEAR}年度重点用能单位节能目标责任评价考核（演示）",
        note="演示：节能量目标和核定节能量为示意数据。",
        is_synthetic=True,
    )
    records = list(rnd.records.select_related("entity").order_by("entity__name"))
    by_entity = {r.entity_id: r for r in records}
    for i, unit in enumerate(units):
        rec = by_entity[unit.pk]
        target = saving_targets[unit.pk]
        # the demo unit and every fourth unit fall short of their saving target
        share = rng.uniform(0.62, 0.93) if (i % 4 == 0) else rng.uniform(1.0, 1.35)
        services.certify_saving(
            record=rec,
            user=None,
            system=True,
            saving_tce=(target * Decimal(str(round(share, 3)))).quantize(Decimal("0.01")),
            source=f"（演示）{YEAR}年度节能量核查报告 HC-{YEAR}-{i + 1:03d}",
        )
        rows = list(rec.measures.all())
        services.save_self_assessment(
            record=rec,
            user=None,
            system=True,
            scores={
                m.key: (
                    str(rng.randint(50, 58)),
                    "（演示）能源管理体系运行、节能技改和计量统计情况见附件。",
                )
                for m in rows
            },
        )
        services.submit_self_assessment(record=rec, user=None, system=True)
        services.score_measures(
            record=rec,
            user=admin,
            system=True,
            scores={m.key: (str(rng.randint(42, 56)), rng.choice(REVIEW_COMMENTS)) for m in rows},
        )
    services.sign_off_round(round=rnd, user=admin, issued_on=ISSUED_ON, system=True)
    audits = Consequence.objects.filter(record__round=rnd, requires_audit=True).order_by(
        "entity__name"
    )
    for j, c in enumerate(audits):
        if own is not None and c.entity_id == own.entity_id:
            continue  # the demo unit's audit notice stays open
        if j % 2 == 0:
            services.close(
                consequence=c,
                user=admin,
                system=True,
                note="（演示）能源审计报告已提交并通过审查。",
                closed_on=dt.date(2016, 9, 10),
            )
    return rnd


def describe() -> dict[str, Any]:
    return {
        "rounds": AssessmentRound.objects.filter(is_synthetic=True).count(),
        "records": AssessmentRecord.objects.filter(is_synthetic=True).count(),
        "consequences": Consequence.objects.filter(is_synthetic=True).count(),
    }
