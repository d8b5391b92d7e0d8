"""The demo's targets part and the ``dualcontrol warn-run`` batch command."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import pytest

from dualcontrol.accounts.models import User
from dualcontrol.cli import main
from dualcontrol.demo.builder import build
from dualcontrol.targets import demo, insight
from dualcontrol.targets.models import (
    Alert,
    Decomposition,
    Indicator,
    RegionalStatistic,
    ResponsibilityLetter,
    Target,
    WarningRecord,
)

pytestmark = pytest.mark.django_db


def test_demo_targets_statistics_and_a_changing_barometer(monkeypatch):
    seconds = []
    original = demo.extend_demo

    def timed(*, today):
        started = time.perf_counter()
        original(today=today)
        seconds.append(time.perf_counter() - started)

    monkeypatch.setattr(demo, "extend_demo", timed)
    build(dt.date(2026, 11, 21), units=6, months_limit=3)
    # run once, before the self-reported statistics that copy it (speed: python -m benchmarks demo)
    assert len(seconds) == 1
    from dualcontrol.reporting.models import StatisticsReport

    assert StatisticsReport.objects.filter(is_synthetic=True).exists()
    # the real 12th-FYP provincial targets, as printed in the plan
    t12 = Target.objects.get(
        division__code="530000", indicator=Indicator.ENERGY_INTENSITY_REDUCTION, end_year=2015
    )
    assert (t12.base_value, t12.base_year, t12.is_synthetic) == (15, 2010, False)
    assert t12.rule_set.name == "local-l1" and "十二五" in t12.source_document
    cod = Target.objects.get(division__code="530000", indicator=Indicator.COD_TOTAL)
    assert (cod.base_value, cod.base_level) == (529000, 564000)
    # “‘十二五’期间能源消费总量控制在5.7亿吨标准煤” is a cap on the period's sum, tracked as such
    budget = Target.objects.get(indicator=Indicator.ENERGY_BUDGET, end_year=2015)
    assert budget.barometer and budget.base_value == 570_000_000
    w15 = WarningRecord.objects.get(target=budget, year=2015, month=12)
    one_year = RegionalStatistic.objects.get(
        division__code="530000", year=2015, month__isnull=True, industry__isnull=True
    ).energy_tce
    assert w15.achieved > 4 * float(one_year)  # five years accumulated, not one
    # the illustrative 2026–2030 set is marked synthetic, with base and incentive targets
    t15 = Target.objects.get(
        division__code="530000", indicator=Indicator.ENERGY_INTENSITY_REDUCTION, end_year=2030
    )
    assert t15.is_synthetic and (t15.base_value, t15.incentive_value) == (13.5, 14.5)
    assert RegionalStatistic.objects.filter(is_synthetic=False).count() == 0
    # decomposed with one method per plan; 16 signed letters of 2011
    methods = Counter(Decomposition.objects.values_list("parent_target__division__code", "method"))
    assert methods == {
        ("530000", "tiered"): 3,  # energy 2011–2015, CO2 intensity 2021–2025 and 2026–2030
        ("530000", "weighted"): 1,  # energy intensity 2026–2030
        # carbon budget; pollutant caps and project amounts (2026–2030, and the four 2021–2025
        # key-project amounts)
        ("530000", "proportional"): 11,
        # shares, peak year, pollutant and other rates and levels (and the four 2021–2025
        # pollutant reduction rates)
        ("530000", "uniform"): 17,
        ("530100", "weighted"): 1,
    }
    assert Target.objects.filter(parent=t15).count() == 16
    assert ResponsibilityLetter.objects.filter(status="signed").count() == 16
    # the barometer at the latest month: some red, some yellow, most green
    latest = Counter(
        WarningRecord.objects.filter(
            year=2026, month=10, indicator="intensity_reduction", division__level="prefecture"
        ).values_list("colour", flat=True)
    )
    assert latest["red"] >= 2 and latest["yellow"] >= 2 and latest["green"] >= 6
    assert sum(latest.values()) == 16
    # and it changes as the months come in
    kunming = list(
        WarningRecord.objects.filter(
            target__parent=t15, division__code="530100", indicator="intensity_reduction"
        )
        .order_by("month")
        .values_list("colour", flat=True)
    )
    assert kunming[0] == "green" and kunming[-1] == "red"
    city_officer = User.objects.get(username="demo-city")
    assert city_officer.target_alerts.exists()
    # the city officer watches Kunming's counties (its target decomposed to them)
    county_board = insight.dashboard(city_officer)
    assert county_board["root"].code == "530100" and len(county_board["tiles"]) == 14
    assert all(t.warning is not None for t in county_board["tiles"] if t.target is not None)
    assert len({t.warning.colour for t in county_board["tiles"] if t.warning}) >= 2
    # the dashboard of the province officer and a drill-down from a red region
    admin = User.objects.get(username="demo-province")
    board = insight.dashboard(admin)
    assert board["period"] == (2026, 10) and len(board["tiles"]) == 16
    red = next(r for r in board["ranking"] if r["warning"].colour == "red")
    drill = insight.drilldown(red["target"], admin, year=2026, month=10)
    assert drill["error"] is None and drill["region_excess_tce"] > 0
    # carbon dual control: CO2 from the statistics by fuel, decomposed and on the barometer
    stat = RegionalStatistic.objects.get(
        division__code="530100", year=2025, month__isnull=True, industry__isnull=True
    )
    assert stat.value("co2_t") > 0 and "co2_t" in stat.derived
    co2 = Target.objects.get(
        division__code="530000", indicator=Indicator.CO2_INTENSITY_REDUCTION, end_year=2030
    )
    assert Target.objects.filter(parent=co2).count() == 16
    assert Target.objects.filter(parent__indicator=Indicator.CO2_TOTAL).count() == 16
    co2_now = WarningRecord.objects.filter(
        year=2026, month=10, indicator="co2_intensity_reduction", division__level="prefecture"
    )
    assert co2_now.count() == 16
    # seeding twice adds nothing
    n = RegionalStatistic.objects.count(), Target.objects.count(), Alert.objects.count()
    original(today=dt.date(2026, 11, 21))
    assert (RegionalStatistic.objects.count(), Target.objects.count(), Alert.objects.count()) == n


def test_warn_run_command(tw, capsys):
    assert main(["warn-run", "--year", "2026", "--month", "6"]) == 0
    out = capsys.readouterr().out
    assert "2026-06: 3 warnings (3 new, 0 updated; red 2, yellow 1)" in out
    assert (
        main(["warn-run", "--year", "2026", "--month", "6", "--format", "json", "--no-alerts"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["updated"] == 3 and data["by_colour"] == {"red": 2, "yellow": 1}
    assert main(["warn-run", "--year", "2026", "--month", "9"]) == 0
    assert "3 targets skipped" in capsys.readouterr().out
    assert main(["warn-run", "--year", "2026", "--month", "13"]) == 2
    assert "--month must be 1…12" in capsys.readouterr().err
