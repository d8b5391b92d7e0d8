"""The pollutant and other plan indicators of issue 19 through the loop, with exact figures, and the
demo's part (targets/demo_pollutants.py).

The loop's statistics (test_every_indicator.py): two cities of weights 1 and 0.8, every column of
the catalogue for 2025 (the year and January…June) and January…June 2026, each column changed in
2026 by CHANGE_26 against the same months (COD −2 %, VOCs −2 %, industrial water −2 % while
industrial value added grows 6 % in real terms, public energy −2 %, NEVs +30 % …).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter

import pytest
from test_every_indicator import BASE, CITIES, MONTHS, loop  # noqa: F401  (loop: a fixture)

from dualcontrol.demo.builder import build
from dualcontrol.targets import demo_pollutants, services
from dualcontrol.targets.models import (
    Decomposition,
    Indicator,
    RegionalStatistic,
    Target,
    WarningRecord,
)
from tests.auth import login

SIZE = sum(CITIES.values())  # the province is the sum of its cities


def _warning(loop, code):  # noqa: F811
    services.compute_warnings(year=2026, month=MONTHS, user=loop.admin, notify=False)
    return WarningRecord.objects.get(target=loop.targets[code], year=2026, month=MONTHS)


def test_a_pollutant_reduction_rate_on_the_barometer(loop):  # noqa: F811
    """COD −8 % over 2025–2030: after one year the pace asks 1 − 0.92^(1/5) = 1.65 %; January…June
    cut COD 2 % against the same months → green.  VOCs −10 % asks 2.09 %: 2 % is yellow (within
    10 % of the requirement, platform-generic-2026)."""
    cod = _warning(loop, "cod_reduction")
    assert cod.indicator == "cod_reduction" and cod.rule_set_name == "platform-generic-2026"
    assert cod.required == pytest.approx(1 - 0.92**0.2)
    assert cod.achieved == pytest.approx(0.02)
    assert cod.colour == "green"
    assert cod.figures["progress"]["definition"] == "log"
    assert cod.figures["progress"]["value_frac"] == pytest.approx(math.log(0.98) / math.log(0.92))
    vocs = WarningRecord.objects.get(target=loop.targets["vocs_reduction"], year=2026, month=MONTHS)
    assert vocs.required == pytest.approx(1 - 0.9**0.2) and vocs.colour == "yellow"


def test_key_project_reductions_accumulate_over_the_period(loop):  # noqa: F811
    """2026 estimated from January…June: 2025's 500 t per city × 1.1; required 4000 t × 1/5."""
    w = _warning(loop, "cod_project_reduction")
    assert w.achieved == pytest.approx(BASE["cod_project_reduction_t"] * SIZE * 1.1)
    assert w.required == pytest.approx(4000 / 5)
    assert w.colour == "green"


def test_water_per_industrial_value_added_at_comparable_prices(loop):  # noqa: F811
    """40 million m³ over 600 000 (10k yuan) = 66.67 m³/万元; water −2 %, value added +6 % real
    (the value-added growth column, not GDP's 5 %): 66.67 × 0.98 / 1.06."""
    w = _warning(loop, "industrial_water_intensity")
    base = BASE["water_industrial_m3"] / BASE["industry_value_added_10k_yuan"]
    assert w.achieved == pytest.approx(base * 0.98 / 1.06)
    assert w.required == pytest.approx(base + (50 - base) / 5)
    assert w.unit == "m310ky" and w.colour == "green"


def test_public_institutions_buildings_and_vehicles(loop):  # noqa: F811
    per_person = _warning(loop, "public_energy_per_person")
    assert per_person.achieved == pytest.approx(0.02)  # energy −2 %, staff unchanged
    per_area = WarningRecord.objects.get(
        target=loop.targets["public_energy_per_area"], year=2026, month=MONTHS
    )
    assert per_area.achieved == pytest.approx(1 - 0.98 / 1.01)  # floor area +1 %
    water = WarningRecord.objects.get(
        target=loop.targets["public_water_per_person"], year=2026, month=MONTHS
    )
    assert water.achieved == pytest.approx(0.03)
    green = WarningRecord.objects.get(
        target=loop.targets["green_building_share"], year=2026, month=MONTHS
    )
    assert green.achieved == pytest.approx(0.6 * 1.1) and green.colour == "green"
    nev = WarningRecord.objects.get(target=loop.targets["nev_share"], year=2026, month=MONTHS)
    assert nev.achieved == pytest.approx(0.15 * 1.3)
    assert nev.required == pytest.approx(0.15 + (0.40 - 0.15) / 5) and nev.colour == "yellow"
    water_total = WarningRecord.objects.get(
        target=loop.targets["water_total"], year=2026, month=MONTHS
    )
    assert water_total.achieved == pytest.approx(BASE["water_10k_m3"] * SIZE * 0.99)


def test_a_reduction_rate_is_decomposed_uniformly(loop):  # noqa: F811
    t = loop.targets["nox_reduction"]
    assert services.allocation_methods(t) == ("uniform", "manual")
    dec = services.adopt_allocation(target=t, method="uniform", user=loop.admin)
    assert dec.consistency_check["consistent"] and dec.consistency_check["slack"] == 0
    children = Target.objects.filter(parent=t)
    assert {(c.division.code, float(c.base_value)) for c in children} == {
        (code, 10.0) for code in CITIES
    }
    # key-project amounts in proportion to each city's 2025 reductions (1 : 0.8)
    p = loop.targets["vocs_project_reduction"]
    services.adopt_allocation(target=p, method="proportional", user=loop.admin)
    shares = {c.division.code: float(c.base_value) for c in Target.objects.filter(parent=p)}
    assert shares == pytest.approx({"530100": 2500 / 1.8, "530300": 2500 * 0.8 / 1.8})


def test_the_progress_api_of_a_pollutant_reduction(loop, client):  # noqa: F811
    services.compute_warnings(year=2026, month=MONTHS, user=loop.admin, notify=False)
    login(client, loop.admin)
    t = loop.targets["so2_reduction"]
    data = client.get(f"/api/targets/{t.pk}/progress").json()
    assert data["indicator"] == "so2_reduction" and data["rows"]
    listed = {i["code"]: i for i in client.get("/api/targets/indicators").json()}
    assert listed["industrial_water_intensity"]["metric"]["kind"] == "intensity"
    assert "青海" in listed["public_energy_per_person"]["source"]


@pytest.mark.django_db
def test_the_demo_carries_pollutant_statistics_and_targets(monkeypatch):
    seconds = []
    original = demo_pollutants.extend

    def timed(*args, **kwargs):
        started = time.perf_counter()
        out = original(*args, **kwargs)
        seconds.append(time.perf_counter() - started)
        return out

    monkeypatch.setattr(demo_pollutants, "extend", timed)
    build(dt.date(2026, 11, 21), units=6, months_limit=3)
    assert len(seconds) == 1  # speed: python -m benchmarks demo
    # emissions of the five pollutants, the province and its 16 prefectures, 2025 and 2026 so far
    columns = ["cod_t", "nh3n_t", "so2_t", "nox_t", "vocs_t", "water_10k_m3", "nev_new"]
    rows = RegionalStatistic.objects.filter(
        year__in=(2025, 2026), industry__isnull=True, division__level__in=("province", "prefecture")
    )
    assert rows.filter(year=2025).count() == 17 * 12 and rows.filter(year=2026).count() == 17 * 10
    assert all(r.is_synthetic and all(r.value(c) for c in columns) for r in rows)
    # key-project reductions in every row (the projects ledger may since have replaced the 2025
    # annual figures with its verified ones, 0 where none was verified)
    assert all(r.value(c) is not None for r in rows for c in demo_pollutants.PROJECT_COLUMNS)
    assert all(r.value("cod_project_reduction_t") > 0 for r in rows.filter(month__isnull=False))
    province = rows.get(division__code="530000", year=2026, month=10)
    prefectures = rows.filter(year=2026, month=10, division__level="prefecture")
    assert province.value("vocs_t") == pytest.approx(sum(r.value("vocs_t") for r in prefectures))
    # the illustrative targets: synthetic, decomposed to the 16 prefectures
    for code in (
        "cod_reduction",
        "nh3n_reduction",
        "nox_reduction",
        "vocs_reduction",
        "so2_total",
        "cod_project_reduction",
        "vocs_project_reduction",
        "water_total",
        "industrial_water_intensity",
        "public_energy_per_person",
        "green_building_share",
        "nev_share",
    ):
        t = Target.objects.get(division__code="530000", indicator=code, end_year=2030)
        assert t.is_synthetic and "示意" in t.source_document, code
        assert Target.objects.filter(parent=t).count() == 16, code
        assert Decomposition.objects.filter(parent_target=t, is_current=True).exists(), code
    # the real 12th-FYP caps stay as they were
    cod12 = Target.objects.get(division__code="530000", indicator=Indicator.COD_TOTAL)
    assert (cod12.base_value, cod12.end_year, cod12.is_synthetic) == (529000, 2015, False)
    # the barometer at the latest month: every pollutant rate has regions behind and ahead
    for code in ("cod_reduction", "vocs_reduction", "cod_project_reduction"):
        colours = Counter(
            WarningRecord.objects.filter(
                target__indicator=code, year=2026, month=10, division__level="prefecture"
            ).values_list("colour", flat=True)
        )
        assert sum(colours.values()) == 16 and colours["red"] >= 1 and colours["green"] >= 1, code
    # the 2025 round of the 14th-FYP pollutant targets: every prefecture's target part computed
    # from the statistics (the base year 2020 of the key-project amounts included)
    from dualcontrol.assessment.models import AssessmentRecord

    records = AssessmentRecord.objects.filter(
        round__year=2025, round__sheet_name="pollutants-key-projects"
    )
    assert records.count() == 16
    assert [r.target_error for r in records if r.target_error] == []
    assert all(r.target_figures for r in records)
