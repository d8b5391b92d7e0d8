"""Project registry use cases: registration, the evidence rule (不予认可, counted nowhere),
verification permissions, audit entries, re-submission, statistics sync, lateness and alerts.

Rule under test (reference/data/project_types.csv, project_rules.yaml; shared/reference/15 [7]:
“未按要求提交有效材料的，将不予认可减排量”): a completed project is 已认可 only with every evidence
kind its type requires on file; otherwise it is recorded as 不予认可 with the missing documents as
the reason, and only 已认可 figures count anywhere.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.access import projects as project_access
from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.projects import queries, services
from dualcontrol.projects.ledger import build_ledger
from dualcontrol.projects.models import Decision, ProjectAlert, Status, Verification
from dualcontrol.projects.rules import project_rules
from tests.projects.helpers import (
    NOW,
    RURAL,
    SEWAGE,
    annual_rows,
    completed,
    division,
    pdf,
    project,
    stat,
    verified,
)

pytestmark = pytest.mark.django_db


def cod():
    return project_rules().measures["cod"]


# --------------------------------------------------------------------------------------------
# rules and registration
# --------------------------------------------------------------------------------------------


def test_rules_load_with_sources():
    rules = project_rules()
    assert {"cod", "nh3n", "nox", "vocs", "energy"} <= set(rules.measures)
    assert rules.measure("NH3-N").code == "nh3n"
    assert rules.measure("化学需氧量").code == "cod"
    assert rules.measure("vocs").statistics_column == "vocs_project_reduction_t"
    assert rules.measure("nope") is None
    sewage = rules.types[SEWAGE]
    assert sewage.measures == ("cod", "nh3n")
    assert sewage.evidence == ("accounting_statement", "acceptance", "monitoring")
    assert all(t.source and (t.evidence_source or not t.evidence) for t in rules.types.values())
    assert "不予认可" in rules.evidence["accounting_statement"].source


def test_register_audited_and_scoped(world):
    city = world.users[Role.CITY_OFFICER]
    p = project(user=city, entity=world.unit, planned={"cod": "120.5", "nh3n": 0})
    assert p.status == Status.PLANNED and p.industry == world.unit.industry
    assert {f.measure: f.planned_amount for f in p.figures.all()} == {"cod": Decimal("120.500")}
    entry = AuditEntry.objects.get(action="projects.project.register", object_id=str(p.pk))
    assert entry.actor == city and entry.after["figures"]["cod"]["planned"] == "120.500"
    # a city officer registers only in its region; enterprises and verifiers not at all
    with pytest.raises(PermissionDenied):
        project(user=world.users["other_city"], division_code="530102")
    for role in (Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(PermissionDenied):
            project(user=world.users[role])


def test_register_refuses_what_the_type_cannot_claim(world):
    with pytest.raises(ValidationError) as exc:
        project(planned={"nox": "50"})
    assert "planned_nox" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        project(planned={})
    assert "planned" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        project(planned={"cod": "-1"})
    assert "planned_cod" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.register_project(
            user=None,
            kind="energy_saving",
            type_code=RURAL,
            name="x",
            division=division("530102"),
            owner_name="x",
            planned_start=dt.date(2025, 1, 1),
            planned_completion=dt.date(2024, 1, 1),
            planned={"cod": 1},
        )
    assert {"type_code", "planned_completion"} <= set(exc.value.message_dict)
    # the unit must be in the project's region
    with pytest.raises(ValidationError) as exc:
        project(entity=world.other_unit, division_code="530102")
    assert "entity" in exc.value.message_dict


def test_verified_project_keeps_its_place(world):
    p = verified(figures={"cod": "90"}, entity=world.unit)
    with pytest.raises(ValidationError):
        services.update_project(user=None, project=p, division=division("530302"))
    services.update_project(user=None, project=p, name="改名后的项目")
    p.refresh_from_db()
    assert p.name == "改名后的项目" and p.status == Status.VERIFIED
    assert AuditEntry.objects.filter(action="projects.project.update", object_id=str(p.pk)).exists()


# --------------------------------------------------------------------------------------------
# the evidence rule and verification
# --------------------------------------------------------------------------------------------


def test_missing_evidence_is_rejected_and_counted_nowhere(world):
    annual_rows()
    p = completed(type_code=SEWAGE, evidence=("acceptance",))
    outcome = services.verify_project(
        user=world.users[Role.CITY_OFFICER],
        project=p,
        figures={"cod": "500", "nh3n": "50"},
        now=NOW,
    )
    v = outcome.verification
    p.refresh_from_db()
    assert v.decision == Decision.REJECTED and v.automatic
    assert v.missing_evidence == ["accounting_statement", "monitoring"]
    assert "减排项目核算情况说明表" in v.reason and "监测数据或监测报告" in v.reason
    assert p.status == Status.REJECTED and p.rejection_reason == v.reason
    assert p.accounting_year is None
    assert all(f.verified_amount is None for f in p.figures.all())
    # counted nowhere: ledger, statistics (not synced), visible as rejected only
    ledger = build_ledger(
        top=division("530000"), measure=cod(), year=2025, today=dt.date(2026, 3, 10)
    )
    assert ledger.total == 0 and ledger.lines == [] and ledger.rejected == 1
    assert outcome.sync is None and stat("530000") == {}
    entry = AuditEntry.objects.get(action="projects.project.reject", object_id=str(p.pk))
    assert entry.note.startswith("automatic: ") and entry.actor == world.users[Role.CITY_OFFICER]


def test_verification_counts_and_feeds_the_statistics(world):
    annual_rows()
    p = completed(type_code=SEWAGE, entity=world.unit)
    officer = world.users[Role.PROVINCE_OFFICER]
    outcome = services.verify_project(
        user=officer, project=p, figures={"cod": "480.25", "nh3n": "45"}, note="核查通过", now=NOW
    )
    p.refresh_from_db()
    v = outcome.verification
    assert v.decision == Decision.VERIFIED and v.accounting_year == 2025
    assert v.figures == {"cod": "480.250", "nh3n": "45.000"} and v.decided_by == officer
    assert len(v.evidence_ids) == 3 and v.rules_version == project_rules().version
    assert p.status == Status.VERIFIED and p.accounting_year == 2025
    # 五华区 → 昆明市 → 云南省 (annual rows exist); 曲靖 untouched
    for code in ("530102", "530100", "530000"):
        assert stat(code)["cod_project_reduction_t"] == 480.25
        assert stat(code)["nh3n_project_reduction_t"] == 45.0
        assert stat(code)["nox_project_reduction_t"] == 0.0
    assert stat("530300") == {}
    assert outcome.sync is not None and outcome.sync.written == 3 and outcome.sync.skipped == []
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"projects.project.verify", "statistics.import", "projects.statistics.sync"} <= actions
    # the ledger's source is appended to the row's, not swapped for it
    from dualcontrol.targets.models import RegionalStatistic

    row = RegionalStatistic.objects.get(division__code="530100", year=2025, month__isnull=True)
    assert row.source.startswith("测试统计；") and services.LEDGER_SOURCE in row.source


def test_who_may_verify(world):
    p = completed()
    refused = (Role.ENTERPRISE, Role.VERIFIER, "other_city", "other_enterprise")
    for role in refused:
        with pytest.raises(PermissionDenied):
            services.verify_project(user=world.users[role], project=p, figures={"cod": 1}, now=NOW)
        with pytest.raises(PermissionDenied):
            services.reject_project(user=world.users[role], project=p, reason="x", now=NOW)
    assert Verification.objects.count() == 0
    for role in (Role.CITY_OFFICER, Role.PROVINCE_OFFICER, Role.PROVINCE_ADMIN):
        assert project_access.can_verify(world.users[role], p)
    services.verify_project(
        user=world.users[Role.CITY_OFFICER], project=p, figures={"cod": 1}, now=NOW
    )


def test_verification_preconditions(world):
    p = project()
    with pytest.raises(ValidationError, match="已完成"):
        services.verify_project(user=None, project=p, figures={"cod": 1}, now=NOW)
    p = completed()
    with pytest.raises(ValidationError) as exc:
        services.verify_project(user=None, project=p, figures={"nox": 5}, now=NOW)
    assert "verified_nox" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.verify_project(user=None, project=p, figures={"cod": 0}, now=NOW)
    assert "verified" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.verify_project(
            user=None, project=p, figures={"cod": 5}, accounting_year=2024, now=NOW
        )
    assert "accounting_year" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.verify_project(
            user=None, project=p, figures={"cod": 5}, accounting_year=2027, now=NOW
        )
    out = services.verify_project(
        user=None, project=p, figures={"cod": 5}, accounting_year=2026, now=NOW
    )
    assert out.verification.accounting_year == 2026


def test_resubmission_with_evidence(world):
    ent = world.users[Role.ENTERPRISE]
    p = completed(
        type_code=SEWAGE, entity=world.unit, evidence=("accounting_statement", "acceptance")
    )
    services.verify_project(user=None, project=p, figures={"cod": "300"}, now=NOW)
    p.refresh_from_db()
    assert p.status == Status.REJECTED
    with pytest.raises(ValidationError, match="补充"):
        services.resubmit_project(user=ent, project=p)
    with pytest.raises(PermissionDenied):
        services.upload_evidence(
            user=world.users["other_enterprise"], project=p, kind="monitoring", document=pdf()
        )
    services.upload_evidence(user=ent, project=p, kind="monitoring", document=pdf("监测报告.pdf"))
    p = services.resubmit_project(user=ent, project=p, note="已补充监测报告")
    assert p.status == Status.COMPLETED and p.rejection_reason == ""
    out = services.verify_project(
        user=world.users[Role.CITY_OFFICER], project=p, figures={"cod": "300"}, now=NOW
    )
    assert out.verification.decision == Decision.VERIFIED
    assert list(
        p.verifications.order_by("decided_at", "pk").values_list("decision", flat=True)
    ) == [
        "rejected",
        "verified",
    ]
    assert (
        AuditEntry.objects.filter(action="projects.project.resubmit", object_id=str(p.pk))
        .get()
        .note
        == "已补充监测报告"
    )


def test_withdrawing_a_verified_project_takes_it_out_everywhere(world):
    annual_rows()
    p = verified(figures={"cod": "200", "nh3n": "20"})
    assert stat("530000")["cod_project_reduction_t"] == 200.0
    with pytest.raises(ValidationError):
        services.reject_project(user=None, project=p, reason="  ")
    out = services.reject_project(
        user=world.users[Role.PROVINCE_OFFICER],
        project=p,
        reason="应急管理减排、超标治理项目不纳入核算范围",
        now=NOW,
    )
    p.refresh_from_db()
    assert p.status == Status.REJECTED and out.sync is not None
    # rows that had the column are written again, with 0
    assert stat("530000")["cod_project_reduction_t"] == 0.0
    assert stat("530102")["nh3n_project_reduction_t"] == 0.0
    assert (
        build_ledger(
            top=division("530000"), measure=cod(), year=2025, today=dt.date(2026, 3, 10)
        ).total
        == 0
    )


def test_sync_reports_regions_without_an_annual_row(world):
    annual_rows(codes=("530000", "530300"))
    verified(figures={"cod": "70"}, division_code="530302")
    result = services.sync_statistics(year=2025)
    assert result.written == 2
    assert [c for c, _n in result.skipped] == ["530302"]
    assert stat("530300")["cod_project_reduction_t"] == 70.0
    assert result.totals["530000"]["cod_project_reduction_t"] == "70.000"


def test_evidence_uploads_are_checked(world):
    p = project()
    with pytest.raises(ValidationError) as exc:
        services.upload_evidence(
            user=None, project=p, kind="acceptance", document=SimpleUploadedFile("a.exe", b"MZ..")
        )
    assert "document" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.upload_evidence(
            user=None,
            project=p,
            kind="acceptance",
            document=SimpleUploadedFile("a.pdf", b"not a pdf"),
        )
    assert "document" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.upload_evidence(user=None, project=p, kind="nonsense", document=pdf())
    assert "kind" in exc.value.message_dict
    e = services.upload_evidence(user=None, project=p, kind="acceptance", document=pdf("验收.pdf"))
    assert e.document_name == "验收.pdf" and len(e.sha256) == 64 and e.size_bytes > 0
    assert AuditEntry.objects.filter(action="projects.evidence.upload").count() == 1


# --------------------------------------------------------------------------------------------
# schedule, lateness, alerts
# --------------------------------------------------------------------------------------------


def test_lateness_and_alerts(world):
    today = dt.date(2026, 6, 1)
    late = project(
        entity=world.unit,
        start=dt.date(2026, 1, 1),
        finish=dt.date(2026, 12, 31),
        milestones=[("主体工程完工", dt.date(2026, 5, 1))],
    )
    services.start_construction(user=None, project=late, started_on=dt.date(2026, 1, 5), now=NOW)
    not_started = project(
        division_code="530302", start=dt.date(2026, 5, 1), finish=dt.date(2026, 12, 1)
    )
    on_time = project(start=dt.date(2026, 7, 1), finish=dt.date(2026, 12, 1))
    late.refresh_from_db()
    why = queries.lateness(late, today)
    assert why is not None and why.due == dt.date(2026, 5, 1) and why.days == 31
    assert "主体工程完工" in why.what
    assert queries.lateness(not_started, today).what == "未按计划开工"
    assert queries.lateness(on_time, today) is None
    flagged = set(
        queries.with_late(project_access.visible_projects(world.users[Role.PROVINCE_ADMIN]), today)
        .filter(is_late=True)
        .values_list("pk", flat=True)
    )
    assert flagged == {late.pk, not_started.pk}
    summary = services.warn_late_projects(today=today)
    assert summary.late == 2
    recipients = {
        (a.project_id, a.recipient.username)
        for a in ProjectAlert.objects.select_related("recipient")
    }
    assert recipients == {(late.pk, "city1"), (late.pk, "ent1"), (not_started.pk, "city2")}
    again = services.warn_late_projects(today=today)
    assert again.alerts == 0 and ProjectAlert.objects.count() == 3
    # completing the milestone ends the lateness (the planned completion is still ahead)
    m = late.milestones.get()
    with pytest.raises(PermissionDenied):
        services.complete_milestone(
            user=world.users["other_enterprise"], milestone=m, done_on=today
        )
    services.complete_milestone(
        user=world.users[Role.ENTERPRISE],
        milestone=m,
        done_on=dt.date(2026, 5, 20),
        now=NOW.replace(month=6),
    )
    late.refresh_from_db()
    assert queries.lateness(late, today) is None
    alert = ProjectAlert.objects.filter(recipient__username="city1").get()
    with pytest.raises(PermissionDenied):
        services.mark_alert_read(alert=alert, user=world.users["other_city"])
    services.mark_alert_read(alert=alert, user=world.users[Role.CITY_OFFICER])
    alert.refresh_from_db()
    assert alert.read_at is not None


def test_progress_is_for_the_unit_and_managers(world):
    p = project(entity=world.unit)
    with pytest.raises(PermissionDenied):
        services.start_construction(
            user=world.users["other_enterprise"], project=p, started_on=dt.date(2025, 2, 1)
        )
    with pytest.raises(PermissionDenied):
        services.add_milestone(
            user=world.users[Role.ENTERPRISE], project=p, name="x", due_date=dt.date(2026, 1, 1)
        )
    p = services.start_construction(
        user=world.users[Role.ENTERPRISE], project=p, started_on=dt.date(2025, 2, 1)
    )
    with pytest.raises(ValidationError):
        services.start_construction(user=None, project=p, started_on=dt.date(2025, 2, 1))
    with pytest.raises(ValidationError):
        services.complete_project(user=None, project=p, completed_on=dt.date(2025, 1, 1))
    p = services.complete_project(
        user=world.users[Role.ENTERPRISE], project=p, completed_on=dt.date(2025, 10, 1)
    )
    assert p.status == Status.COMPLETED
    assert list(
        AuditEntry.objects.filter(object_id=str(p.pk), object_type="projects.project")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["projects.project.register", "projects.project.start", "projects.project.complete"]
