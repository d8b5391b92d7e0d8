"""Self-reported statistics of governments and public institutions (issue 19): every table of
``statistics_tables.yaml`` through the form (render, valid and invalid submissions with every
problem listed and nothing written), the review (accept → the columns in the regional statistics
and the indicator's progress reading them; return with a reason), revisions after acceptance,
figures held while the region has no annual statistics row, the role matrix, the API and audit.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dualcontrol.access import statistics as stats_access
from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.models import AuditEntry
from dualcontrol.core.tracking import ObservationError
from dualcontrol.reporting import statistics_services as services
from dualcontrol.reporting.statistics_models import (
    StatisticsReport,
    StatisticsReportEvent,
    StatisticsStatus,
)
from dualcontrol.reporting.statistics_tables import statistics_tables
from dualcontrol.targets import services as targets
from dualcontrol.targets.models import PeriodKind, RegionalStatistic, TargetStatus
from dualcontrol.targets.warnings import observe_actuals, series_for, target_progress
from tests.auth import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BASE_YEAR, YEAR = 2024, 2025
TABLES = list(statistics_tables())

#: the base year's statistics of the city (every column of every table)
BASE = {
    "public_energy_tce": "30000",
    "public_staff_persons": "60000",
    "public_floor_area_m2": "3000000",
    "public_water_m3": "2400000",
    "water_10k_m3": "150000",
    "water_industrial_m3": "40000000",
    "industry_value_added_10k_yuan": "600000",
    "industry_value_added_real_growth_pct": "6.0",
    "new_building_area_m2": "5000000",
    "green_building_area_m2": "3000000",
    "vehicles_new": "100000",
    "nev_new": "15000",
}
#: a valid filing of each table for the city's YEAR
VALID = {
    "public_institutions": {
        "public_energy_tce": "29000.5",
        "public_staff_persons": "61000",
        "public_floor_area_m2": "3030000",
        "public_water_m3": "2300000",
    },
    "water": {
        "water_10k_m3": "148500",
        "water_industrial_m3": "39000000",
        "industry_value_added_10k_yuan": "650000",
        "industry_value_added_real_growth_pct": "6.5",
    },
    "buildings": {"new_building_area_m2": "5100000", "green_building_area_m2": "3300000"},
    "vehicles": {"vehicles_new": "101000", "nev_new": "19500"},
}
#: an invalid filing of each table, and the fields of every problem it must list
INVALID = {
    "public_institutions": (
        {
            "public_energy_tce": "abc",
            "public_staff_persons": "12.5",
            "public_floor_area_m2": "",
            "public_water_m3": "-5",
        },
        {"public_energy_tce", "public_staff_persons", "public_floor_area_m2", "public_water_m3"},
    ),
    "water": (
        {
            "water_10k_m3": "",
            "water_industrial_m3": "3千万",
            "industry_value_added_10k_yuan": "0",
            "industry_value_added_real_growth_pct": "-150",
        },
        {
            "water_10k_m3",
            "water_industrial_m3",
            "industry_value_added_10k_yuan",
            "industry_value_added_real_growth_pct",
        },
    ),
    # both numbers valid: the cross-column rule and the unknown column are both reported
    "buildings": (
        {"new_building_area_m2": "1000", "green_building_area_m2": "2000", "roof_m2": "5"},
        {"green_building_area_m2", "roof_m2"},
    ),
    "vehicles": ({"vehicles_new": "100", "nev_new": "250", "trucks": "3"}, {"nev_new", "trucks"}),
}
#: a city target of each indicator the tables feed (base year BASE_YEAR)
TARGET_VALUES = {
    "water_total": "300000",
    "industrial_water_intensity": "50",
    "public_energy_total": "60000",
    "public_energy_per_person": "5",
    "public_energy_per_area": "5",
    "public_water_per_person": "6",
    "green_building_share": "80",
    "nev_share": "40",
}


def _csv(rows: list[dict[str, str]]) -> bytes:
    cols = ["region", "year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct", *BASE, "source"]
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join(r.get(c, "") for c in cols))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _annual(code: str, year: int, with_columns: bool, scale: int = 1) -> dict[str, str]:
    row = {
        "region": code,
        "year": str(year),
        "energy_tce": str(1_000_000 * scale),
        "gdp_10k_yuan": str(2_000_000 * scale),
        "gdp_real_growth_pct": "5.0",
        "source": "测试统计（合成）",
    }
    if with_columns:
        row |= {
            k: str(Decimal(v) * scale) if not k.endswith("_pct") else v for k, v in BASE.items()
        }
    return row


@pytest.fixture
def w(world):
    """The world with the annual statistics of BASE_YEAR (every column) and YEAR (energy and GDP
    only) for the city and the province, and a public user."""
    admin = world.users[Role.PROVINCE_ADMIN]
    targets.import_statistics(
        data=_csv(
            [
                _annual("530100", BASE_YEAR, True),
                _annual("530000", BASE_YEAR, True, 3),
                _annual("530100", YEAR, False),
                _annual("530000", YEAR, False, 3),
            ]
        ),
        user=admin,
        filename="base.csv",
    )
    world.users[Role.PUBLIC] = User.objects.create_user("pub1", password=PASSWORD, role=Role.PUBLIC)
    return world


def client_for(world, who) -> Client:
    c = Client()
    if who != "anon":
        login(c, world.users[who])
    return c


def _row(code: str, year: int = YEAR) -> RegionalStatistic:
    return RegionalStatistic.objects.get(
        division__code=code, year=year, month=None, quarter=None, industry=None
    )


def _file(world, table, who=Role.CITY_OFFICER, division=None, values=None, submit=True):
    return services.save_filing(
        user=world.users[who],
        division=division or world.city,
        table=table,
        year=YEAR,
        values=VALID[table] if values is None else values,
        submit=submit,
    )


def _writes() -> tuple[int, int, int, list]:
    return (
        StatisticsReport.objects.count(),
        StatisticsReportEvent.objects.count(),
        # what the filing writes (logging in is audited too, by the accounts app)
        AuditEntry.objects.filter(action__startswith="statistic").count(),
        [(s.pk, dict(s.factors), s.source) for s in RegionalStatistic.objects.order_by("pk")],
    )


# ---------------------------------------------------------------------------------------------
# the tables as data


def test_every_table_is_complete_data():
    assert set(TABLES) == set(VALID) == set(INVALID)
    fed = set()
    for spec in statistics_tables().values():
        assert spec.source and spec.responsible_zh and spec.columns, spec.code
        assert spec.indicators(), spec.code
        fed |= set(spec.indicators())
        for c in spec.columns:
            assert c.required and c.unit_zh, (spec.code, c.code)
    # every indicator the issue names for self-reporting is fed by a table
    assert set(TARGET_VALUES) <= fed
    # the cross-column rules the brief names are errors
    rules = {
        (r.left, r.right): r.severity
        for s in statistics_tables().values()
        for r in s.rules
        if r.kind == "le"
    }
    assert rules[("green_building_area_m2", "new_building_area_m2")] == "error"
    assert rules[("nev_new", "vehicles_new")] == "error"


# ---------------------------------------------------------------------------------------------
# every table: form, valid, invalid, accept (statistics and progress), return


@pytest.mark.parametrize("table", TABLES)
def test_the_form_renders_every_column(w, table):
    c = client_for(w, Role.CITY_OFFICER)
    r = c.get(f"/reports/statistics/new/?table={table}&division=530100&year={YEAR}")
    assert r.status_code == 200
    html = r.content.decode()
    spec = statistics_tables()[table]
    assert spec.name_zh in html and spec.responsible_zh in html
    for col in spec.columns:
        assert f'name="{col.code}"' in html and col.name_zh in html and col.unit_zh in html
    assert 'name="submit"' in html and 'name="save"' in html


@pytest.mark.parametrize("table", TABLES)
def test_a_valid_submission_through_the_form(w, table):
    c = client_for(w, Role.CITY_OFFICER)
    r = c.post(
        "/reports/statistics/new/",
        {"table": table, "division": "530100", "year": str(YEAR), "submit": "1", **VALID[table]},
    )
    report = StatisticsReport.objects.get(table=table, division=w.city, year=YEAR)
    assert r.status_code == 302 and r["Location"] == f"/reports/statistics/{report.pk}/"
    assert report.status == StatisticsStatus.SUBMITTED and report.revision == 1
    assert {k: Decimal(v) for k, v in report.values.items()} == {
        k: Decimal(v) for k, v in VALID[table].items()
    }
    assert report.submitted_by == w.users[Role.CITY_OFFICER]
    actions = list(
        AuditEntry.objects.filter(object_id=str(report.pk), object_type__contains="statistics")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["statistics_report.save", "statistics_report.submit"]
    # nothing reaches the statistics before the review
    assert all(_row("530100").value(col) is None for col in VALID[table])
    detail = c.get(f"/reports/statistics/{report.pk}/").content.decode()
    assert "等待上一级审核" in detail


@pytest.mark.parametrize("table", TABLES)
def test_an_invalid_submission_lists_every_problem_and_writes_nothing(w, table):
    values, fields = INVALID[table]
    before = _writes()
    with pytest.raises(services.ReportRejected) as exc:
        _file(w, table, values=values)
    assert {p.field for p in exc.value.problems} == fields
    assert _writes() == before
    # the page shows them all at once, keeps what was typed, and stores nothing
    c = client_for(w, Role.CITY_OFFICER)
    posted = {k: v for k, v in values.items() if k}
    r = c.post(
        "/reports/statistics/new/",
        {"table": table, "division": "530100", "year": str(YEAR), "submit": "1", **posted},
    )
    assert r.status_code == 200
    html = r.content.decode()
    n = len([f for f in fields if f in statistics_tables()[table].column_codes])
    assert f"发现 {n} 处问题" in html or n == 0
    assert html.count('aria-invalid="true"') == n
    assert _writes() == before


@pytest.mark.parametrize("table", TABLES)
def test_accepting_writes_the_columns_and_the_progress_reads_them(w, table):
    admin = w.users[Role.PROVINCE_ADMIN]
    spec = statistics_tables()[table]
    city_targets = {
        code: targets.create_target(
            user=admin,
            indicator=code,
            division=w.city,
            period_kind=PeriodKind.FIVE_YEAR,
            base_year=BASE_YEAR,
            end_year=BASE_YEAR + 5,
            base_value=Decimal(TARGET_VALUES[code]),
            source_document="test plan",
            status=TargetStatus.ISSUED,
        )
        for code in spec.indicators()
        if code in TARGET_VALUES
    }
    assert city_targets
    for t in city_targets.values():  # YEAR has no figures of the table yet
        with pytest.raises(ObservationError):
            observe_actuals(t, series_for(t), year=YEAR, month=12)
    report = _file(w, table)
    c = client_for(w, Role.PROVINCE_OFFICER)
    assert "审核通过" in c.get(f"/reports/statistics/{report.pk}/").content.decode()
    r = c.post(f"/reports/statistics/{report.pk}/accept/")
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.status == StatisticsStatus.ACCEPTED
    assert report.accepted_revision == report.merged_revision == 1 and not report.held
    stat = _row("530100")
    for col, v in VALID[table].items():
        assert stat.value(col) == pytest.approx(float(v)), col
    assert stat.energy_tce == Decimal("1000000")  # energy and GDP untouched
    assert f"自报：{spec.name_zh} 昆明市 {YEAR} 第1版" in stat.source
    assert "测试统计（合成）" in stat.source
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"statistics_report.accept", "statistics_report.merge", "statistics.merge_reported"} <= (
        actions
    )
    merged = AuditEntry.objects.get(action="statistics.merge_reported")
    assert merged.object_id == str(stat.pk) and merged.actor == w.users[Role.PROVINCE_OFFICER]
    # the tracking reads the filed figures
    v = {k: float(x) for k, x in VALID[table].items()}
    expected_level = {
        "public_energy_total": v.get("public_energy_tce"),
        "public_energy_per_person": v.get("public_energy_tce", 0)
        / v.get("public_staff_persons", 1),
        "public_energy_per_area": v.get("public_energy_tce", 0) / v.get("public_floor_area_m2", 1),
        "public_water_per_person": v.get("public_water_m3", 0) / v.get("public_staff_persons", 1),
        "green_building_share": v.get("green_building_area_m2", 0)
        / v.get("new_building_area_m2", 1),
        "nev_share": v.get("nev_new", 0) / v.get("vehicles_new", 1),
        "water_total": v.get("water_10k_m3"),
    }
    for code, t in city_targets.items():
        act = observe_actuals(t, series_for(t), year=YEAR, month=12)
        progress = target_progress(t, act)
        assert progress.definition, code
        if code in expected_level:
            assert act.value == pytest.approx(expected_level[code], rel=1e-9), code
        else:  # the intensity: water per 10 000 yuan at the base year's prices
            deflated = float(BASE["industry_value_added_10k_yuan"]) * 1.065
            assert act.value == pytest.approx(v["water_industrial_m3"] / deflated, rel=1e-3)
        # the progress page links the filings that feed the indicator
        page = client_for(w, Role.PROVINCE_ADMIN).get(f"/targets/{t.pk}/progress/")
        assert page.status_code == 200
        assert f"/reports/statistics/?indicator={code}&amp;division=530100" in page.content.decode()


@pytest.mark.parametrize("table", TABLES)
def test_returning_needs_a_reason_and_reopens_the_filing(w, table):
    report = _file(w, table)
    c = client_for(w, Role.PROVINCE_OFFICER)
    before = _writes()
    c.post(f"/reports/statistics/{report.pk}/return/", {"reason": "  "})
    report.refresh_from_db()
    assert report.status == StatisticsStatus.SUBMITTED and _writes() == before
    with pytest.raises(services.WorkflowError):
        services.return_filing(report=report, user=w.users[Role.PROVINCE_OFFICER], reason="")
    c.post(f"/reports/statistics/{report.pk}/return/", {"reason": "工业用水量单位有误，请核实"})
    report.refresh_from_db()
    assert report.status == StatisticsStatus.RETURNED
    event = report.events.get(action="returned")
    assert event.reason == "工业用水量单位有误，请核实"
    assert event.actor == w.users[Role.PROVINCE_OFFICER]
    assert AuditEntry.objects.get(action="statistics_report.return").note == event.reason
    assert (
        "工业用水量单位有误"
        in client_for(w, Role.CITY_OFFICER)
        .get(f"/reports/statistics/{report.pk}/")
        .content.decode()
    )
    # corrected and resubmitted: a new revision
    again = _file(w, table)
    assert again.pk == report.pk and again.revision == 2
    assert again.status == StatisticsStatus.SUBMITTED
    assert all(_row("530100").value(col) is None for col in VALID[table])


# ---------------------------------------------------------------------------------------------
# workflow details


def test_a_draft_needs_valid_numbers_only_and_submitting_checks_the_whole_form(w):
    draft = _file(w, "public_institutions", values={"public_energy_tce": "100"}, submit=False)
    assert draft.status == StatisticsStatus.DRAFT
    with pytest.raises(services.ReportRejected) as exc:
        services.submit_filing(report=draft, user=w.users[Role.CITY_OFFICER])
    assert {p.field for p in exc.value.problems} == {
        "public_staff_persons",
        "public_floor_area_m2",
        "public_water_m3",
    }
    draft.refresh_from_db()
    assert draft.status == StatisticsStatus.DRAFT
    with pytest.raises(services.ReportRejected):
        _file(w, "public_institutions", values={"public_energy_tce": "x"}, submit=False)


def test_a_submitted_filing_cannot_be_edited_before_its_review(w):
    _file(w, "vehicles")
    with pytest.raises(services.WorkflowError):
        _file(w, "vehicles", values={"vehicles_new": "5", "nev_new": "1"})


def test_the_year_must_have_ended(w):
    this_year = timezone.localdate().year
    with pytest.raises(services.ReportRejected) as exc:
        services.save_filing(
            user=w.users[Role.CITY_OFFICER],
            division=w.city,
            table="vehicles",
            year=this_year,
            values=VALID["vehicles"],
            submit=True,
        )
    assert [p.field for p in exc.value.problems] == ["year"]


def test_a_year_that_is_not_a_number_is_a_problem_on_the_page(w):
    before = _writes()
    r = client_for(w, Role.CITY_OFFICER).post(
        "/reports/statistics/new/",
        {"table": "vehicles", "division": "530100", "year": "二〇二五", **VALID["vehicles"]},
    )
    assert r.status_code == 200 and "年份“二〇二五”不可填报" in r.content.decode()
    assert _writes() == before


def test_plausibility_warnings_do_not_block_and_are_shown_to_the_reviewer(w):
    values = dict(VALID["public_institutions"], public_staff_persons="6")  # 万人 for 人
    report = _file(w, "public_institutions", values=values)
    assert report.status == StatisticsStatus.SUBMITTED
    warned = [str(f) for f in services.findings(statistics_tables()["public_institutions"], values)]
    assert len(warned) == 2 and any("人均综合能耗" in x for x in warned)
    assert any("人均用水量" in x for x in warned)
    html = client_for(w, Role.PROVINCE_OFFICER).get(f"/reports/statistics/{report.pk}/")
    assert "合理性提示" in html.content.decode() and "人均综合能耗" in html.content.decode()
    assert AuditEntry.objects.get(action="statistics_report.submit").after["warnings"] == warned


def test_a_correction_after_acceptance_replaces_the_figures_only_when_accepted(w):
    officer = w.users[Role.PROVINCE_OFFICER]
    report = _file(w, "vehicles")
    services.accept_filing(report=report, user=officer)
    assert _row("530100").value("nev_new") == 19500
    corrected = _file(w, "vehicles", values={"vehicles_new": "101000", "nev_new": "20500"})
    assert corrected.revision == 2 and corrected.status == StatisticsStatus.SUBMITTED
    assert corrected.accepted_revision == 1 and corrected.accepted_values["nev_new"] == "19500"
    assert _row("530100").value("nev_new") == 19500  # still the accepted revision
    services.accept_filing(report=corrected, user=officer)
    stat = _row("530100")
    assert stat.value("nev_new") == 20500
    assert "新注册登记汽车 昆明市 2025 第2版" in stat.source
    assert "第1版" not in stat.source  # the earlier revision's source part is replaced
    corrected.refresh_from_db()
    assert corrected.accepted_revision == corrected.merged_revision == 2


def test_figures_are_held_until_the_region_has_an_annual_row(w):
    """No invented energy or GDP: the accepted figures wait on the filing; the import that
    creates the row merges them (its own columns win)."""
    other = w.other_city
    officer = User.objects.create_user(
        "city3", password=PASSWORD, role=Role.CITY_OFFICER, division=other
    )
    report = services.save_filing(
        user=officer,
        division=other,
        table="vehicles",
        year=YEAR,
        values=VALID["vehicles"],
        submit=True,
    )
    services.accept_filing(report=report, user=w.users[Role.PROVINCE_OFFICER])
    report.refresh_from_db()
    assert report.status == StatisticsStatus.ACCEPTED and report.held
    assert report.events.filter(action="held").exists()
    assert not RegionalStatistic.objects.filter(division=other, year=YEAR).exists()
    page = client_for(w, Role.PROVINCE_ADMIN).get(f"/reports/statistics/{report.pk}/")
    assert "暂存待并入" in page.content.decode()
    with pytest.raises(services.WorkflowError):
        services.merge_held(report=report, user=w.users[Role.PROVINCE_ADMIN])
    row = _annual("530300", YEAR, False) | {"vehicles_new": "99999"}
    targets.import_statistics(data=_csv([row]), user=w.users[Role.PROVINCE_ADMIN], filename="x.csv")
    stat = _row("530300")
    assert stat.value("vehicles_new") == 99999  # the import's own figure
    assert stat.value("nev_new") == 19500  # the held figure
    assert "自报：新注册登记汽车 曲靖市 2025 第1版" in stat.source
    report.refresh_from_db()
    assert not report.held and report.merged_revision == 1
    assert "vehicles_new" in report.events.get(action="merged").reason


def test_the_province_files_and_another_province_admin_reviews(w):
    officer, admin = w.users[Role.PROVINCE_OFFICER], w.users[Role.PROVINCE_ADMIN]
    report = _file(w, "buildings", who=Role.PROVINCE_OFFICER, division=w.province)
    # province officers review the cities, not the province
    assert not stats_access.can_review(officer, report)
    assert (
        client_for(w, Role.PROVINCE_OFFICER)
        .post(f"/reports/statistics/{report.pk}/accept/")
        .status_code
        == 403
    )
    services.accept_filing(report=report, user=admin)
    assert _row("530000").value("green_building_area_m2") == 3300000
    # an administrator's own filing needs another administrator
    mine = _file(w, "vehicles", who=Role.PROVINCE_ADMIN, division=w.province)
    assert not stats_access.can_review(admin, mine)
    with pytest.raises(services.PermissionDenied):
        services.accept_filing(report=mine, user=admin)
    second = User.objects.create_user("admin2", password=PASSWORD, role=Role.PROVINCE_ADMIN)
    services.accept_filing(report=mine, user=second)
    assert _row("530000").value("nev_new") == 19500


def test_nothing_is_written_when_a_reviewer_is_refused(w):
    report = _file(w, "vehicles")
    before = _writes()
    for who in (Role.CITY_OFFICER, "other_city", Role.ENTERPRISE, Role.VERIFIER):
        with pytest.raises(services.PermissionDenied):
            services.accept_filing(report=report, user=w.users[who])
    assert _writes() == before


# ---------------------------------------------------------------------------------------------
# role matrix


ROLES = [
    "anon",
    Role.PUBLIC,
    Role.PROVINCE_ADMIN,
    Role.PROVINCE_OFFICER,
    Role.CITY_OFFICER,
    "other_city",
    Role.ENTERPRISE,
    Role.VERIFIER,
    Role.AUDITOR,
]
A, P, PA, PO, C, OC, E, V, AU = range(len(ROLES))
PAGES = {
    "/reports/statistics/": {PA: 200, PO: 200, C: 200, OC: 200},
    "/reports/statistics/?export=xlsx": {PA: 200, PO: 200, C: 200, OC: 200},
    "/reports/statistics/review/": {PA: 200, PO: 200, C: 200, OC: 200},
    f"/reports/statistics/new/?table=vehicles&division=530100&year={YEAR}": {
        PA: 403,
        PO: 403,
        C: 200,
        OC: 403,
    },
    f"/reports/statistics/new/?table=vehicles&division=530000&year={YEAR}": {
        PA: 200,
        PO: 200,
        C: 403,
        OC: 403,
    },
    "/reports/statistics/{id}/": {PA: 200, PO: 200, C: 200, OC: 404},
    "/reports/statistics/{id}/edit/": {PA: 403, PO: 403, C: 200, OC: 404},
}


@pytest.mark.parametrize("url", list(PAGES))
def test_the_role_matrix(w, url):
    report = _file(w, "water", submit=False)
    for i, who in enumerate(ROLES):
        expected = PAGES[url].get(i, 302 if who == "anon" else 403)
        r = client_for(w, who).get(url.replace("{id}", str(report.pk)))
        assert r.status_code == expected, (url, who, r.status_code)
        if expected == 200:
            assert r.get("Content-Type", "").startswith(
                "application/vnd.openxml" if "export" in url else "text/html"
            )


def test_a_city_officer_cannot_file_for_another_city_or_the_province(w):
    c = client_for(w, "other_city")
    before = _writes()
    r = c.post(
        "/reports/statistics/new/",
        {"table": "water", "division": "530100", "year": str(YEAR), **VALID["water"]},
    )
    assert r.status_code == 403
    for who, division in (("other_city", w.city), (Role.CITY_OFFICER, w.province)):
        with pytest.raises(services.PermissionDenied):
            services.save_filing(
                user=w.users[who],
                division=division,
                table="water",
                year=YEAR,
                values=VALID["water"],
            )
    for who in (Role.ENTERPRISE, Role.VERIFIER, Role.PUBLIC, Role.AUDITOR):
        with pytest.raises(services.PermissionDenied):
            services.save_filing(
                user=w.users[who], division=w.city, table="water", year=YEAR, values={}
            )
    assert _writes() == before


def test_the_list_is_scoped_filtered_and_exported(w):
    _file(w, "water")
    _file(w, "vehicles", who=Role.PROVINCE_OFFICER, division=w.province)
    city = client_for(w, Role.CITY_OFFICER).get("/reports/statistics/").content.decode()
    assert "用水统计</a>" in city and "新注册登记汽车</a>" not in city
    other = client_for(w, "other_city").get("/reports/statistics/").content.decode()
    assert "用水统计</a>" not in other and "没有符合条件的统计自报" in other
    province = client_for(w, Role.PROVINCE_ADMIN)
    both = province.get("/reports/statistics/").content.decode()
    assert "用水统计</a>" in both and "新注册登记汽车</a>" in both
    only = province.get("/reports/statistics/?table=vehicles").content.decode()
    assert "用水统计</a>" not in only and "新注册登记汽车</a>" in only
    fed = province.get("/reports/statistics/?indicator=nev_share").content.decode()
    assert "新注册登记汽车</a>" in fed and "用水统计</a>" not in fed
    # the review queue: the officer reviews the city's, the admin also the province's
    officer_queue = client_for(w, Role.PROVINCE_OFFICER).get("/reports/statistics/review/")
    assert "用水统计</a>" in officer_queue.content.decode()
    assert "新注册登记汽车</a>" not in officer_queue.content.decode()
    assert "新注册登记汽车</a>" in province.get("/reports/statistics/review/").content.decode()
    xlsx = province.get("/reports/statistics/?export=xlsx&status=submitted")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))  # row 1: the title (issue 14)
    assert "用水总量（万立方米）" in rows[0] and "新注册登记汽车数量（辆）" in rows[0]
    assert sorted(r[2] for r in rows[1:]) == ["新注册登记汽车", "用水统计"]
    water = next(r for r in rows[1:] if r[2] == "用水统计")
    assert water[rows[0].index("用水总量（万立方米）")] == 148500


def test_the_navigation_links_the_filings_for_officers_only(w):
    assert "/reports/statistics/" in client_for(w, Role.CITY_OFFICER).get("/").content.decode()
    assert "/reports/statistics/" not in client_for(w, Role.ENTERPRISE).get("/").content.decode()


# ---------------------------------------------------------------------------------------------
# API


def test_the_api_lists_in_scope_and_files_through_the_same_service(w):
    city = client_for(w, Role.CITY_OFFICER)
    r = city.post(
        "/api/reports/statistics",
        {"table": "buildings", "year": YEAR, "values": VALID["buildings"], "submit": True},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "submitted" and body["division_code"] == "530100"
    assert [e["action"] for e in body["history"]] == ["saved", "submitted"]
    listed = city.get("/api/reports/statistics").json()
    assert [f["id"] for f in listed["items"]] == [body["id"]]
    assert client_for(w, "other_city").get("/api/reports/statistics").json()["items"] == []
    assert client_for(w, Role.ENTERPRISE).get("/api/reports/statistics").status_code == 403
    assert client_for(w, "other_city").get(f"/api/reports/statistics/{body['id']}").status_code == (
        404
    )
    tables = city.get("/api/reports/statistics/tables").json()
    assert [t["code"] for t in tables] == TABLES
    # refused whole: every problem, nothing stored
    before = _writes()
    values, fields = INVALID["public_institutions"]
    bad = city.post(
        "/api/reports/statistics",
        {"table": "public_institutions", "year": YEAR, "values": values, "submit": True},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} == fields
    forbidden = client_for(w, "other_city").post(
        "/api/reports/statistics",
        {"table": "water", "division": "530100", "year": YEAR, "values": VALID["water"]},
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert _writes() == before
    # review through the API
    officer = client_for(w, Role.PROVINCE_OFFICER)
    accepted = officer.post(f"/api/reports/statistics/{body['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["merged_revision"] == 1
    assert _row("530100").value("new_building_area_m2") == 5100000
