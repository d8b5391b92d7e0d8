"""Assessment workflow: sheets as data, target part computed from the accounted figures,
self-assessment with evidence, review, grade and veto, sign-off, consequences, re-opening."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.accounts.models import Role
from dualcontrol.assessment import services
from dualcontrol.assessment.models import (
    AssessmentRecord,
    Consequence,
    ConsequenceStatus,
    CreditRecord,
    RecordEvent,
    RecordStatus,
    RoundStatus,
    ScoringSheet,
)
from dualcontrol.audit.models import AuditEntry
from dualcontrol.reference.scoring_sheets import scoring_sheets
from dualcontrol.targets import services as target_services
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, TargetStatus
from tests.assessment.assessment_builders import pdf_upload, run_region_round

pytestmark = pytest.mark.django_db


def _sheet(name: str = "gf-2007-36") -> ScoringSheet:
    return ScoringSheet.objects.get(name=name)


# ---------------------------------------------------------------------------------------------
# sheets


def test_sync_seeds_every_preset_once(db):
    assert services.sync_sheets() == len(scoring_sheets())
    assert services.sync_sheets() == 0
    s = _sheet()
    assert s.is_builtin and s.version == scoring_sheets()["gf-2007-36"].version
    assert s.to_core().max_score == Decimal(109)


def test_admin_edit_is_validated_and_gets_a_new_version(db):
    services.sync_sheets()
    s = _sheet()
    old = s.version
    d = dict(s.definition)
    d["grades"] = d["grades"][:-1]  # scores below 60 no longer covered
    s.definition = d
    with pytest.raises(ValidationError) as exc:
        s.full_clean()
    assert "no grade covers" in str(exc.value)
    s.refresh_from_db()
    d = dict(s.definition)
    d["title_zh"] = "省级自定义计分表"
    s.definition = d
    s.full_clean()
    s.save()
    assert s.version != old and s.version.startswith("db:gf-2007-36@") and not s.is_builtin
    assert services.sync_sheets() == 0  # an edited sheet is not overwritten by the file
    assert _sheet().version == s.version


def test_new_sheet_defined_in_the_admin(db):
    services.sync_sheets()
    definition = dict(_sheet().definition, name="my-sheet")
    s = ScoringSheet(name="my-sheet", title_zh="", source="", definition=definition)
    s.full_clean()
    s.save()
    assert s.to_core().name == "my-sheet" and s.subject == "region"


# ---------------------------------------------------------------------------------------------
# the target part


def test_target_part_is_computed_from_the_statistics(regional):
    world, _ = regional
    rnd = services.create_round(user=world.users[Role.PROVINCE_ADMIN], year=2015, sheet=_sheet())
    assert [r.division.code for r in rnd.records.order_by("division__code")] == ["530100", "530300"]
    city = rnd.records.get(division=world.city)
    other = rnd.records.get(division=world.other_city)
    fig = city.target_figures["intensity"]
    assert fig["target"] == "0.15000000"
    # the rate comes from the intensities as printed (4 decimals: the statistics bureau's rule,
    # accounting_rules.yaml rate_basis), close to the exact path 1 − 0.97⁵
    assert fig["basis"]["rate_basis"]["rule"] == "rounded_intensity"
    for record, factor in ((city, "0.97"), (other, "0.96")):
        b = record.target_figures["intensity"]["basis"]
        i0 = Decimal(str(b["intensity_base_tce_per_10k_yuan"])).quantize(Decimal("0.0001"))
        i5 = Decimal(str(b["intensity_year_tce_per_10k_yuan"])).quantize(Decimal("0.0001"))
        actual = Decimal(record.target_figures["intensity"]["actual"])
        assert abs(actual - (1 - i5 / i0)) < Decimal("1e-7")
        assert abs(actual - (1 - Decimal(factor) ** 5)) < Decimal("1e-4")
    basis = fig["basis"]
    assert basis["price_base_year"] == 2010 and len(basis["statistics"]) == 6
    assert basis["engine"] == "dualcontrol.core.regional.regional_indicators"
    assert city.target_error == "" and city.status == RecordStatus.SELF_ASSESSMENT
    assert rnd.sheet_version == _sheet().version and rnd.sheet_definition == _sheet().definition


def test_intermediate_year_compares_with_the_pace(regional):
    world, _ = regional
    rnd = services.create_round(user=world.users[Role.PROVINCE_ADMIN], year=2013, sheet=_sheet())
    fig = rnd.records.get(division=world.city).target_figures["intensity"]
    # the default pace of a logarithmic-progress target is compounded: 1 − (1 − 15 %)^(3/5)
    assert fig["target"] == "0.09290796"
    assert fig["basis"]["pace_definition"] == "compound"
    assert abs(Decimal(fig["actual"]) - (1 - Decimal("0.97") ** 3)) < Decimal("1e-4")
    assert "序时进度" in fig["basis"]["required_means"]


def test_missing_statistics_are_reported_not_guessed(regional):
    world, _ = regional
    RegionalStatistic.objects.filter(division=world.city, year=2012).delete()
    rnd = services.create_round(user=world.users[Role.PROVINCE_ADMIN], year=2015, sheet=_sheet())
    rec = rnd.records.get(division=world.city)
    assert rec.target_figures == {} and "2012" in rec.target_error
    services.save_self_assessment(
        record=rec, user=world.users[Role.CITY_OFFICER], scores={"measures": ("50", "")}
    )
    services.submit_self_assessment(record=rec, user=world.users[Role.CITY_OFFICER])
    services.score_measures(
        record=rec, user=world.users[Role.PROVINCE_ADMIN], scores={"measures": ("50", "")}
    )
    rec.refresh_from_db()
    assert rec.status == RecordStatus.SUBMITTED and rec.total_score is None  # cannot be graded


def test_sheet_without_accounted_source_is_refused(regional):
    world, _ = regional
    with pytest.raises(services.Rejected) as exc:
        services.create_round(
            user=world.users[Role.PROVINCE_ADMIN], year=2015, sheet=_sheet("gf-2007-36-city")
        )
    assert "industrial_intensity" in str(exc.value)


def test_only_assessors_create_rounds(regional):
    world, _ = regional
    for role in (Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(services.NotAllowed):
            services.create_round(user=world.users[role], year=2015, sheet=_sheet())
    # a city assesses the counties below it (no statistics there: figures missing, said so)
    rnd = services.create_round(
        user=world.users[Role.CITY_OFFICER], year=2015, sheet=_sheet("gf-2007-36-county")
    )
    assert rnd.assessor == world.city
    assert [r.division for r in rnd.records.all()] == [world.county]
    assert "没有覆盖 2015 年" in rnd.records.get().target_error


# ---------------------------------------------------------------------------------------------
# workflow


def test_full_workflow_grades_vetoes_and_issues_consequences(regional):
    world, _ = regional
    admin = world.users[Role.PROVINCE_ADMIN]
    city_officer = world.users[Role.CITY_OFFICER]
    rnd = services.create_round(user=admin, year=2015, sheet=_sheet())
    rec = rnd.records.get(division=world.city)

    with pytest.raises(services.NotAllowed):  # another city cannot fill it
        services.save_self_assessment(record=rec, user=world.users["other_city"], scores={})
    with pytest.raises(services.Rejected):
        services.save_self_assessment(
            record=rec, user=city_officer, scores={"measures": ("61", "")}
        )
    with pytest.raises(services.Rejected):
        services.submit_self_assessment(record=rec, user=city_officer)  # no self-score yet
    services.save_self_assessment(
        record=rec, user=city_officer, scores={"measures": ("58", "措施落实情况")}
    )
    ev = services.add_evidence(
        record=rec, user=city_officer, item_key="measures", upload=pdf_upload()
    )
    assert ev.file.name.startswith("assessment/evidence/") and ev.size > 0
    fake = SimpleUploadedFile("report.pdf", b"MZ not a pdf", content_type="application/pdf")
    with pytest.raises(services.Rejected):
        services.add_evidence(record=rec, user=city_officer, item_key="measures", upload=fake)
    with pytest.raises(services.WorkflowError):  # not submitted yet
        services.score_measures(record=rec, user=admin, scores={"measures": ("55", "")})
    services.submit_self_assessment(record=rec, user=city_officer)
    with pytest.raises(services.WorkflowError):
        services.add_evidence(
            record=rec, user=city_officer, item_key="measures", upload=pdf_upload()
        )
    with pytest.raises(services.NotAllowed):  # the assessed city does not score itself
        services.score_measures(record=rec, user=city_officer, scores={"measures": ("60", "")})

    services.score_measures(record=rec, user=admin, scores={"measures": ("55", "佐证材料齐全")})
    rec.refresh_from_db()
    # completion 0.141266/0.15 = 0.9418 → 36; +55 = 91 (完成 by score) but the target was missed
    assert rec.status == RecordStatus.SCORED
    assert (rec.target_score, rec.measures_score, rec.total_score) == (36, 55, 91)
    assert rec.vetoed and rec.grade_name == "未完成" and rec.result["score_grade"] == "完成"

    issued = services.sign_off(record=rec, user=admin, issued_on=dt.date(2024, 1, 31))
    rec.refresh_from_db()
    assert rec.status == RecordStatus.SIGNED_OFF
    kinds = {c.kind: c for c in issued}
    assert kinds["high_energy_project_approval_suspended"].restricts_approvals
    assert kinds["high_energy_project_approval_suspended"].status == ConsequenceStatus.OPEN
    assert kinds["written_rectification_report"].due_on == dt.date(
        2024, 2, 29
    )  # one month, clamped
    assert kinds["results_announced"].status == ConsequenceStatus.NOTED
    assert rnd.records.get(division=world.other_city).status == RecordStatus.SELF_ASSESSMENT
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.OPEN and rnd.announced_on == dt.date(2024, 1, 31)

    with pytest.raises(services.WorkflowError):  # frozen
        services.score_measures(record=rec, user=admin, scores={"measures": ("60", "")})
    with pytest.raises(services.Rejected):
        services.reopen(record=rec, user=admin, reason=" ")
    services.reopen(record=rec, user=admin, reason="统计数据修订")
    rec.refresh_from_db()
    assert rec.status == RecordStatus.SUBMITTED and rec.reopen_count == 1
    assert not Consequence.objects.filter(record=rec, status=ConsequenceStatus.OPEN).exists()
    assert Consequence.objects.filter(
        record=rec, status=ConsequenceStatus.WITHDRAWN
    ).count() == len(issued)
    actions = list(RecordEvent.objects.filter(record=rec).values_list("action", flat=True))
    assert actions[-2:] == ["sign_off", "reopen"]
    assert AuditEntry.objects.filter(
        action="assessment.record.reopen", note="统计数据修订"
    ).exists()

    services.score_measures(record=rec, user=admin, scores={"measures": ("56", "")})
    services.sign_off(record=rec, user=admin, issued_on=dt.date(2024, 3, 1))
    assert Consequence.objects.filter(record=rec, status=ConsequenceStatus.OPEN).count() == 3


def test_sign_off_round_and_exceeded_grade(regional):
    world, _ = regional
    rnd = run_region_round(world)
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SIGNED_OFF
    other = rnd.records.get(division=world.other_city)
    # completion 0.184627/0.15 = 1.2308 → 40 + 2 steps × 3 = 46; + 55 = 101
    assert (other.target_score, other.total_score, other.grade_name, other.vetoed) == (
        46,
        101,
        "超额完成",
        False,
    )
    item = other.result["items"][0]
    assert item["bonus_points"] == "6" and "over-fulfilment" in item["basis"]
    assert not Consequence.objects.filter(record=other, restricts_approvals=True).exists()


def test_consequences_are_tracked_to_closure(regional):
    world, _ = regional
    run_region_round(world)
    admin, officer = world.users[Role.PROVINCE_ADMIN], world.users[Role.CITY_OFFICER]
    report = Consequence.objects.get(division=world.city, kind="written_rectification_report")
    with pytest.raises(services.NotAllowed):
        services.respond(consequence=report, user=world.users["other_city"], text="x")
    with pytest.raises(services.NotAllowed):  # the region does not close its own
        services.close(consequence=report, user=officer, note="done")
    services.respond(
        consequence=report, user=officer, text="整改报告", upload=pdf_upload("整改.pdf")
    )
    report.refresh_from_db()
    assert report.status == ConsequenceStatus.RESPONDED and report.response_name == "整改.pdf"
    services.close(consequence=report, user=admin, note="审核通过", closed_on=dt.date(2016, 7, 10))
    report.refresh_from_db()
    assert report.status == ConsequenceStatus.CLOSED and report.closed_on == dt.date(2016, 7, 10)
    with pytest.raises(services.WorkflowError):
        services.close(consequence=report, user=admin, note="again")
    summary = services.open_by_region(Consequence.objects.all(), dt.date(2016, 8, 1))
    assert [(s["division"].code, s["restricted"]) for s in summary] == [("530100", True)]
    c = services.record_interview(
        user=admin, year=2015, division=world.city, held_on=dt.date(2016, 7, 5), note="约谈纪要"
    )
    assert c.kind == "interview" and c.status == ConsequenceStatus.CLOSED
    with pytest.raises(services.NotAllowed):
        services.record_interview(
            user=officer, year=2015, division=world.city, held_on=dt.date(2016, 7, 5)
        )


def _unit_round(world, saving: str):
    admin = world.users[Role.PROVINCE_ADMIN]
    target_services.create_target(
        user=None,
        system=True,
        indicator=Indicator.ENERGY_SAVING,
        entity=world.unit,
        period_kind=PeriodKind.YEAR,
        base_year=2014,
        end_year=2015,
        base_value=Decimal("1000"),
        unit="tce",
        source_document="test",
        status=TargetStatus.SIGNED,
    )
    rnd = services.create_round(user=admin, year=2015, sheet=_sheet("gf-2007-36-enterprise"))
    rec = rnd.records.get()
    assert rec.entity == world.unit and "核定节能量" in rec.target_error
    with pytest.raises(services.NotAllowed):  # not its assigned verifier
        services.certify_saving(
            record=rec, user=world.users[Role.ENTERPRISE], saving_tce=saving, source="x"
        )
    services.certify_saving(
        record=rec, user=world.users[Role.VERIFIER], saving_tce=saving, source="核查报告 1 号"
    )
    ent = world.users[Role.ENTERPRISE]
    services.save_self_assessment(record=rec, user=ent, scores={"measures": ("55", "")})
    services.submit_self_assessment(record=rec, user=ent)
    services.score_measures(record=rec, user=admin, scores={"measures": ("50", "")})
    services.sign_off(record=rec, user=admin, issued_on=dt.date(2016, 6, 15))
    rec.refresh_from_db()
    return rec


def test_unit_missing_its_target_gets_an_audit_and_a_credit_record(regional):
    world, _ = regional
    rec = _unit_round(world, "850")
    # completion 0.85 → 32 + 50 = 82, target missed → 未完成 (veto)
    assert (rec.total_score, rec.grade_name, rec.vetoed) == (82, "未完成", True)
    audit = Consequence.objects.get(record=rec, kind="mandatory_energy_audit")
    assert audit.requires_audit and audit.due_on == dt.date(2016, 9, 15)
    credit = list(CreditRecord.objects.filter(entity=world.unit).values_list("kind", flat=True))
    assert (
        "assessment" in credit and credit.count("consequence") == 2
    )  # audit + approval suspension
    services.close(
        consequence=audit, user=world.users[Role.PROVINCE_OFFICER], note="审计报告已提交"
    )
    assert CreditRecord.objects.filter(entity=world.unit, kind="closure").count() == 1


def test_unit_meeting_its_target_has_no_audit(regional):
    world, _ = regional
    rec = _unit_round(world, "1100")
    assert (rec.total_score, rec.grade_name) == (93, "完成")
    assert not Consequence.objects.filter(record=rec, requires_audit=True).exists()
    assert CreditRecord.objects.filter(entity=world.unit, kind="assessment").count() == 1


def test_each_record_appears_once_per_round(regional):
    world, _ = regional
    services.create_round(user=world.users[Role.PROVINCE_ADMIN], year=2015, sheet=_sheet())
    with pytest.raises(services.Rejected):
        services.create_round(user=world.users[Role.PROVINCE_ADMIN], year=2015, sheet=_sheet())
    assert AssessmentRecord.objects.count() == 2


# ---------------------------------------------------------------------------------------------
# English pages


def test_figures_keep_what_they_mean_in_chinese_and_as_data(regional):
    from django.utils import translation

    from dualcontrol.assessment.sources import means_text, stored_means
    from dualcontrol.assessment.templatetags.assessment_extras import means

    world, _ = regional
    with translation.override("en"):  # a round created from an English page
        rnd = services.create_round(
            user=world.users[Role.PROVINCE_ADMIN], year=2013, sheet=_sheet()
        )
    basis = rnd.records.get(division=world.city).target_figures["intensity"]["basis"]
    assert basis["required_means"] == "2011–2015 目标 15.0000% 的 2013 年序时进度（复合口径）"
    assert basis["required_means_of"]["kind"] == "intensity_pace"
    assert basis["actual_means"] == "2010–2013 年累计降低率（2010 年可比价）"
    assert means(basis, "required") == basis["required_means"]  # default language: as stored
    # figures computed before the basis kept the data are read back from the stored text
    older = {k: v for k, v in basis.items() if not k.endswith("_means_of")}
    for which in ("required", "actual"):
        assert stored_means(older, which) == basis[f"{which}_means_of"]
        assert means_text(stored_means(older, which)) == basis[f"{which}_means"]
    assert stored_means({**older, "required_means": "手写的说明"}, "required") is None
