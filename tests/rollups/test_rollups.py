"""The roll-ups equal the reports they sum, follow every change through the marked years, and are
what the officers' home page shows (with the time they were computed)."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from django.test import Client

from dualcontrol.accounts.models import Role
from dualcontrol.cli import main
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import EnergyReport, PeriodType, Status
from dualcontrol.rollups import services
from dualcontrol.rollups.models import ANNUAL, DirtyYear, RegionMonth, UnitMonth
from tests import factories
from tests.auth import login

pytestmark = pytest.mark.django_db
STATUSES = [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.ACCEPTED]


def _report(unit: Entity, year: int, month: int | None, status: str, energy: str, co2=None):
    return EnergyReport.objects.create(
        entity=unit,
        period_type=PeriodType.MONTHLY if month else PeriodType.ANNUAL,
        year=year,
        month=month,
        status=status,
        energy_tce=Decimal(energy),
        energy_equiv_tce=Decimal(energy) * 2,
        co2_t=None if co2 is None else Decimal(co2),
    )


@pytest.fixture
def reports(world):
    """Units in two counties of one city and one of the other city, two sectors; reports of two
    years in every status, some months missing, one annual report."""
    rng = random.Random(7)
    units = [world.unit, world.other_unit]
    for div in (world.county, world.county, Division.objects.get(code="530302")):
        units.append(factories.entity(div, industry=rng.choice(["30", "31"])))
    Industry.objects.get_or_create(code="31", defaults={"name": "黑色金属", "source": "test"})
    for unit in units:
        for year in (2024, 2025):
            for month in range(1, 13):
                if rng.random() < 0.2:
                    continue  # a month not reported
                _report(
                    unit,
                    year,
                    month,
                    rng.choice(STATUSES),
                    f"{rng.randint(100, 9999)}.{rng.randint(0, 9999):04d}",
                    co2=rng.choice([None, f"{rng.randint(100, 999)}.5"]),
                )
    _report(world.unit, 2025, None, Status.ACCEPTED, "80000")
    return units


def _direct(division: Division, industry: str = "") -> dict[tuple[str, int, int], dict]:
    qs = EnergyReport.objects.filter(entity__division__path__startswith=division.path)
    if industry:
        qs = qs.filter(entity__industry__code=industry)
    out = {}
    for g in qs.values("period_type", "year", "month").annotate(
        n=Count("id"),
        accepted=Count("id", filter=Q(status=Status.ACCEPTED)),
        draft=Count("id", filter=Q(status=Status.DRAFT)),
        energy=Sum("energy_tce"),
        acc_energy=Sum("energy_tce", filter=Q(status=Status.ACCEPTED)),
        acc_co2=Sum("co2_t", filter=Q(status=Status.ACCEPTED)),
    ):
        out[(g["period_type"], g["year"], g["month"] or ANNUAL)] = {
            "n": g["n"],
            "accepted": g["accepted"],
            "draft": g["draft"],
            "energy": g["energy"] or 0,
            "acc_energy": g["acc_energy"] or 0,
            "acc_co2": g["acc_co2"] or 0,
        }
    return out


def test_every_region_and_sector_row_equals_its_reports(reports):
    result = services.refresh()
    assert result.years == [2024, 2025] and result.region_rows > 0 and result.unit_rows > 0
    assert DirtyYear.objects.count() == 0
    checked = 0
    for division in Division.objects.all():
        for industry in ("", "30", "31"):
            rows = {
                (r.period_type, r.year, r.month): {
                    "n": r.reports_n,
                    "accepted": r.accepted_n,
                    "draft": r.draft_n,
                    "energy": r.energy_tce,
                    "acc_energy": r.accepted_energy_tce,
                    "acc_co2": r.accepted_co2_t,
                }
                for r in RegionMonth.objects.filter(division=division, industry_code=industry)
            }
            assert rows == _direct(division, industry), (division.code, industry)
            checked += len(rows)
            for r in RegionMonth.objects.filter(division=division, industry_code=industry):
                assert r.reports_n == r.draft_n + r.submitted_n + r.returned_n + r.accepted_n
    assert checked > 100


def test_unit_rows_hold_the_year_to_date_of_accepted_monthly_reports(reports):
    services.refresh()
    for unit in reports:
        for year in (2024, 2025):
            accepted = dict(
                EnergyReport.objects.filter(
                    entity=unit, year=year, period_type="monthly", status=Status.ACCEPTED
                ).values_list("month", "energy_tce")
            )
            rows = {r.month: r for r in UnitMonth.objects.filter(entity=unit, year=year)}
            if not accepted:
                assert not rows
                continue
            assert sorted(rows) == list(range(min(accepted), 13))
            for month, row in rows.items():
                upto = {m: e for m, e in accepted.items() if m <= month}
                assert row.ytd_energy_tce == sum(upto.values())
                assert row.ytd_months == sum(1 << (m - 1) for m in upto)
                assert row.energy_tce == accepted.get(month)


def test_changes_mark_their_year_and_the_job_recomputes_only_those(reports, world):
    services.refresh()
    report = EnergyReport.objects.filter(year=2024, status=Status.SUBMITTED).first()
    report.status = Status.ACCEPTED
    report.save()
    assert services.marked_years() == [2024]
    before_2025 = list(RegionMonth.objects.filter(year=2025).values_list("pk", flat=True))
    from dualcontrol.jobs.tasks import refresh_rollups

    out = refresh_rollups()
    assert out["years"] == [2024] and out["still_marked"] == []
    assert list(RegionMonth.objects.filter(year=2025).values_list("pk", flat=True)) == before_2025
    assert refresh_rollups() == {"years": []}
    province = Division.objects.get(code="530000")
    row = RegionMonth.objects.get(
        division=province, industry_code="", period_type="monthly", year=2024, month=report.month
    )
    assert row.accepted_n == _direct(province)[("monthly", 2024, report.month)]["accepted"]
    # a deleted report and a unit moved to another division mark their years too
    EnergyReport.objects.filter(pk=report.pk).first().delete()
    assert services.marked_years() == [2024]
    services.refresh_marked()
    unit = reports[-1]
    unit.division = world.county
    unit.save()
    assert services.marked_years() == sorted(
        set(EnergyReport.objects.filter(entity=unit).values_list("year", flat=True))
    )
    unit.name = "改名不影响汇总"
    services.refresh_marked()
    unit.save()
    assert services.marked_years() == []


def test_a_change_during_a_refresh_stays_marked(reports, monkeypatch):
    services.refresh()
    services.mark_changed([2025])
    real = services._region_rows

    def changed_meanwhile(year, ancestors):
        rows = real(year, ancestors)
        import datetime as dt

        from django.utils import timezone

        DirtyYear.objects.filter(year=year).update(
            marked_at=timezone.now() + dt.timedelta(seconds=1)
        )
        return rows

    monkeypatch.setattr(services, "_region_rows", changed_meanwhile)
    result = services.refresh_marked()
    assert result.years == [2025] and result.still_marked == [2025]


def test_the_home_page_shows_the_rollups_and_when_they_were_computed(reports, world):
    c = login(Client(), world.users[Role.PROVINCE_OFFICER])
    html = c.get("/").content.decode()
    assert "报表汇总尚未计算" in html
    services.refresh()
    html = c.get("/").content.decode()
    assert "报表汇总更新于" in html and "有新的报表变动" not in html
    accepted = EnergyReport.objects.filter(status=Status.ACCEPTED).count()
    assert f'<div class="v">{accepted}</div><div class="k">报表 · 已通过' in html
    # a new acceptance shows after the next run; until then the page says it waits
    report = EnergyReport.objects.filter(status=Status.SUBMITTED).first()
    report.status = Status.ACCEPTED
    report.save()
    html = c.get("/").content.decode()
    assert "有新的报表变动" in html
    assert f'<div class="v">{accepted}</div><div class="k">报表 · 已通过' in html
    services.refresh_marked()
    html = c.get("/").content.decode()
    assert f'<div class="v">{accepted + 1}</div><div class="k">报表 · 已通过' in html
    # the city officer's counts are its city's
    city = login(Client(), world.users[Role.CITY_OFFICER]).get("/").content.decode()
    mine = EnergyReport.objects.filter(
        status=Status.ACCEPTED, entity__division__path__startswith=world.city.path
    ).count()
    assert f'<div class="v">{mine}</div><div class="k">报表 · 已通过' in city


def test_the_home_page_reads_no_report_rows(reports, world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.refresh()
    c = login(Client(), world.users[Role.PROVINCE_OFFICER])
    with CaptureQueriesContext(connection) as q:
        assert c.get("/").status_code == 200
    sums = [x["sql"] for x in q.captured_queries if "reporting_energyreport" in x["sql"]]
    # the review queue (submitted reports, one page and its count) is the only read of reports
    assert sums and all("submitted" in s for s in sums), sums


def test_cli_refresh_and_status(reports, capsys):
    assert main(["rollups", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["refreshed_at"] is None and status["still_marked"] == [2024, 2025]
    assert main(["rollups", "refresh"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "years",
        "region_rows",
        "unit_rows",
        "seconds",
        "refreshed_at",
        "still_marked",
    }
    assert out["years"] == [2024, 2025] and out["still_marked"] == []
    assert main(["rollups", "refresh", "--year", "2025"]) == 0
    assert json.loads(capsys.readouterr().out)["years"] == [2025]
    assert main(["rollups", "refresh", "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["years"] == [2024, 2025]
    assert main(["rollups", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["years"] == [2024, 2025] and status["still_marked"] == []
    from dualcontrol.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="rollups.refresh").count() == 3


@pytest.mark.parametrize("role", [Role.PROVINCE_OFFICER, Role.CITY_OFFICER, "other_city"])
def test_report_counts_from_the_rollups_are_the_databases(reports, world, role):
    """A list's count from current roll-ups equals the database's COUNT for every filter the
    roll-ups hold; with a year waiting for its refresh the database counts."""
    from dualcontrol.reporting import report_export
    from dualcontrol.reporting.queries import known_report_count, visible_reports

    user = world.users[role]
    services.refresh()
    filters = [
        {},
        {"year": "2025"},
        {"year": "2024", "month": "3"},
        {"month": "7"},
        {"status": "accepted"},
        {"status": "draft", "year": "2025"},
        {"division": world.city.code},
        {"division": world.county.code, "status": "submitted"},
        {"division": world.other_city.code},
        {"division": "530000"},
        {"year": "0"},
        {"status": "bogus"},
        {"q": "水泥"},
    ]
    known = 0
    for raw in filters:
        f = report_export.clean_filters(raw)
        expected = report_export.filtered(visible_reports(user), f).count()
        count = known_report_count(user, f)
        if count is not None:
            known += 1
            assert count == expected, (raw, count, expected)
    assert known >= 8
    report = EnergyReport.objects.filter(status=Status.DRAFT).first()
    report.status = Status.SUBMITTED
    report.save()
    assert known_report_count(user, report_export.clean_filters({})) is None


def test_the_report_list_and_api_counts(reports, world):
    from tests.auth import api_token

    services.refresh()
    officer = world.users[Role.PROVINCE_OFFICER]
    total = EnergyReport.objects.count()
    html = login(Client(), officer).get("/reports/").content.decode()
    assert f"共 {total} 条" in html
    c = Client()
    token = api_token(c, officer, factories.PASSWORD)
    r = c.get("/api/reports/", {"year": 2025}, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert r["count"] == EnergyReport.objects.filter(year=2025).count()
