"""Every indicator of the catalogue through the loop: statistics import (GB18030), a province target,
its progress page, decomposition to the cities with the consistency check, the barometer with
drill-down, the API — one target of each indicator, none skipped.

The statistics are a small synthetic province (530000) of two cities (530100, 530300) with every
statistics column of the catalogue for 2025 (annual and January…June) and January…June 2026.
"""

from __future__ import annotations

import io
from decimal import Decimal
from types import SimpleNamespace

import pytest

from dualcontrol.accounts.models import Role
from dualcontrol.core.tracking import NotDue
from dualcontrol.entities.models import Industry
from dualcontrol.reference.catalogue import catalogue
from dualcontrol.regions.models import Division
from dualcontrol.targets import services
from dualcontrol.targets.models import (
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
    WarningRecord,
)
from tests.auth import login

CITIES = {"530100": 1.0, "530300": 0.8}
#: 2025 annual figures of a city of weight 1 (the other columns are derived from them)
BASE = {
    "energy_tce": 1_000_000.0,
    "gdp_10k_yuan": 2_000_000.0,
    "co2_t": 2_200_000.0,
    "non_fossil_tce": 300_000.0,
    "coal_tce": 450_000.0,
    "coal_t": 630_000.0,
    "electricity_10k_kwh": 500_000.0,
    "energy_saving_tce": 40_000.0,
    "cod_t": 20_000.0,
    "nh3n_t": 2_000.0,
    "so2_t": 15_000.0,
    "nox_t": 18_000.0,
    "pollutant_project_reduction_t": 1_000.0,
    "vocs_t": 12_000.0,
    "cod_project_reduction_t": 500.0,
    "nh3n_project_reduction_t": 60.0,
    "nox_project_reduction_t": 700.0,
    "vocs_project_reduction_t": 300.0,
    "water_10k_m3": 150_000.0,
    "water_industrial_m3": 40_000_000.0,
    "industry_value_added_10k_yuan": 600_000.0,
    "industry_value_added_real_growth_pct": 6.0,
    "public_energy_tce": 30_000.0,
    "public_staff_persons": 60_000.0,
    "public_floor_area_m2": 3_000_000.0,
    "public_water_m3": 2_400_000.0,
    "new_building_area_m2": 5_000_000.0,
    "green_building_area_m2": 3_000_000.0,
    "vehicles_new": 100_000.0,
    "nev_new": 15_000.0,
}
#: columns that are rates, not amounts: the same in every row (not split by month or city, not summed)
RATES = {"industry_value_added_real_growth_pct"}
#: 2026 change against 2025 (same months) per column; GDP grows 5 % at comparable prices
CHANGE_26 = {
    "energy_tce": 0.02,
    "gdp_10k_yuan": 0.07,
    "co2_t": 0.00,
    "non_fossil_tce": 0.10,
    "coal_tce": -0.03,
    "coal_t": -0.03,
    "electricity_10k_kwh": 0.04,
    "energy_saving_tce": 0.0,
    "cod_t": -0.02,
    "nh3n_t": -0.02,
    "so2_t": -0.03,
    "nox_t": -0.03,
    "pollutant_project_reduction_t": 0.0,
    "vocs_t": -0.02,
    "cod_project_reduction_t": 0.10,
    "nh3n_project_reduction_t": 0.10,
    "nox_project_reduction_t": 0.10,
    "vocs_project_reduction_t": 0.10,
    "water_10k_m3": -0.01,
    "water_industrial_m3": -0.02,
    "industry_value_added_10k_yuan": 0.07,
    "industry_value_added_real_growth_pct": 0.0,
    "public_energy_tce": -0.02,
    "public_staff_persons": 0.0,
    "public_floor_area_m2": 0.01,
    "public_water_m3": -0.03,
    "new_building_area_m2": 0.0,
    "green_building_area_m2": 0.10,
    "vehicles_new": 0.0,
    "nev_new": 0.30,
}
COLUMNS = list(BASE)
MONTHS = 6

#: a province target of each indicator (2025–2030), in the catalogue's unit
TARGET_VALUES = {
    "energy_intensity_reduction": "13.5",
    "energy_intensity_level": "0.42",
    "energy_total": "2000000",
    "energy_increment": "200000",
    "energy_budget": "10000000",
    "co2_intensity_reduction": "17",
    "co2_total": "4000000",
    "carbon_budget": "20000000",
    "co2_peak_year": "2025",
    "non_fossil_share": "35",
    "coal_share": "20",
    "coal_total": "1100000",
    "electricity_total": "1000000",
    "cod_total": "34000",
    "nh3n_total": "3400",
    "so2_total": "25000",
    "nox_total": "30000",
    "pollutant_project_reduction": "8000",
    "energy_saving": "300000",
    "vocs_total": "23000",
    "cod_reduction": "8",
    "nh3n_reduction": "8",
    "so2_reduction": "10",
    "nox_reduction": "10",
    "vocs_reduction": "10",
    "cod_project_reduction": "4000",
    "nh3n_project_reduction": "500",
    "nox_project_reduction": "6000",
    "vocs_project_reduction": "2500",
    "water_total": "300000",
    "industrial_water_intensity": "50",
    "public_energy_total": "60000",
    "public_energy_per_person": "5",
    "public_energy_per_area": "5",
    "public_water_per_person": "6",
    "green_building_share": "80",
    "nev_share": "40",
}


def _rows() -> list[list[str]]:
    rows = []
    for code, w in CITIES.items():
        for year, month in [(2025, None), *[(2025, m) for m in range(1, MONTHS + 1)]] + [
            (2026, m) for m in range(1, MONTHS + 1)
        ]:
            share = 1.0 if month is None else month / 12
            values = []
            for col in COLUMNS:
                v = BASE[col] if col in RATES else BASE[col] * w * share
                if year == 2026:
                    v *= 1 + CHANGE_26[col]
                values.append(f"{v:.2f}")
            rows.append([code, str(year), "" if month is None else str(month), *values, "5.0"])
    # the province: sums of the cities (a test shortcut: official province figures are published)
    sums: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        acc = sums.setdefault((r[1], r[2]), [0.0] * len(COLUMNS))
        for i, v in enumerate(r[3 : 3 + len(COLUMNS)]):
            acc[i] = float(v) if COLUMNS[i] in RATES else acc[i] + float(v)
    for (year, month), acc in sums.items():
        rows.append(["530000", year, month, *[f"{v:.2f}" for v in acc], "5.0"])
    return rows


def statistics_csv() -> bytes:
    out = io.StringIO()
    out.write(",".join(["region", "year", "month", *COLUMNS, "gdp_real_growth_pct", "source"]))
    out.write("\n")
    for r in _rows():
        out.write(",".join([*r, "测试统计（合成）"]) + "\n")
    return out.getvalue().encode("gb18030")


def sector_csv(industry: str) -> bytes:
    lines = ["region,industry,year,month,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,co2_t,source"]
    for code in ["530000", *CITIES]:
        for year, month in [
            (2025, None),
            *[(2025, m) for m in range(1, 7)],
            *[(2026, m) for m in range(1, 7)],
        ]:
            share = 1.0 if month is None else month / 12
            grow = 1.0 if year == 2025 else 1.01
            lines.append(
                f"{code},{industry},{year},{'' if month is None else month},"
                f"{300000 * share * grow:.2f},{500000 * share * 1.06 ** (year - 2025):.2f},6.0,"
                f"{700000 * share * grow:.2f},规上工业统计（合成）"
            )
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def loop(world):
    services.sync_rule_sets()
    admin = world.users[Role.PROVINCE_ADMIN]
    n = services.import_statistics(data=statistics_csv(), user=admin, filename="stats-gb18030.csv")
    assert n == 3 * (1 + 2 * MONTHS)
    industry = Industry.objects.get_or_create(
        code="C", defaults={"name": "制造业", "source": "test"}
    )[0]
    services.import_statistics(data=sector_csv("C"), user=admin, filename="sector.csv")
    province = Division.objects.get(code="530000")
    targets = {}
    for code, ind in catalogue().indicators.items():
        if "region" not in ind.holders:
            continue
        targets[code] = services.create_target(
            user=admin,
            indicator=code,
            division=province,
            period_kind=PeriodKind.FIVE_YEAR,
            base_year=2025,
            end_year=2030,
            base_value=Decimal(TARGET_VALUES[code]),
            source_document="test plan 2026–2030",
            status=TargetStatus.ISSUED,
        )
    sector = {}
    for code, ind in catalogue().indicators.items():
        if "sector" in ind.holders:
            sector[code] = services.create_target(
                user=admin,
                indicator=code,
                division=province,
                industry=industry,
                period_kind=PeriodKind.FIVE_YEAR,
                base_year=2025,
                end_year=2030,
                base_value=Decimal(TARGET_VALUES[code]),
                source_document="test plan 2026–2030 (规上工业)",
                status=TargetStatus.ISSUED,
            )
    return SimpleNamespace(world=world, admin=admin, targets=targets, sector=sector)


def test_the_catalogue_has_every_indicator_the_issue_names():
    codes = set(catalogue().indicators)
    assert {
        "energy_intensity_reduction",
        "energy_intensity_level",
        "energy_total",
        "energy_increment",
        "co2_intensity_reduction",
        "co2_total",
        "carbon_budget",
        "co2_peak_year",
        "non_fossil_share",
        "coal_share",
        "coal_total",
        "electricity_total",
    } <= codes
    assert set(TARGET_VALUES) >= {
        c for c, i in catalogue().indicators.items() if "region" in i.holders
    }


def test_codes_named_in_code_exist_in_the_catalogue():
    from dualcontrol.targets.models import Indicator, indicator_choices

    assert set(Indicator.values) <= set(catalogue().indicators)
    assert [c for c, _name in indicator_choices()] == list(catalogue().indicators)


def test_every_sheet_the_catalogue_names_exists():
    from dualcontrol.reference.scoring_sheets import scoring_sheets

    names = set(scoring_sheets())
    for ind in catalogue().indicators.values():
        assert set(ind.assessment_sheets) <= names, ind.code


def test_the_api_lists_the_catalogue(loop, client):
    login(client, loop.admin)
    listed = client.get("/api/targets/indicators").json()
    assert [i["code"] for i in listed] == list(catalogue().indicators)
    assert all(i["source"] and i["barometer_id"] for i in listed)


def test_statistics_import_reads_gb18030_and_keeps_every_column(loop):
    stat = RegionalStatistic.objects.get(
        division__code="530100", year=2025, month=None, industry=None
    )
    for col in COLUMNS:
        assert stat.value(col) == pytest.approx(BASE[col], rel=1e-9), col


def test_every_indicator_runs_the_loop(loop, client):
    admin, targets, sector = loop.admin, loop.targets, loop.sector
    login(client, admin)
    summary = services.compute_warnings(year=2026, month=MONTHS, user=admin, notify=False)
    skipped = dict(summary.skipped)
    all_targets = {**targets, **{f"{c}@sector": t for c, t in sector.items()}}
    for code, t in all_targets.items():
        # barometer: every target is rated (a peak year is rated from the year after it)
        assert t.pk not in skipped, f"{code}: {skipped.get(t.pk)}"
        w = WarningRecord.objects.get(target=t, year=2026, month=MONTHS)
        assert w.indicator == t.definition.barometer_id
        assert w.figures["indicator"]["code"] == t.indicator
        assert w.colour in {"red", "yellow", "green"}
        # progress page and its Excel export
        r = client.get(f"/targets/{t.pk}/progress/")
        assert r.status_code == 200, code
        assert "统计数据不足" not in r.content.decode(), code
        assert client.get(f"/targets/{t.pk}/progress/?export=xlsx").status_code == 200
        # drill-down and the API
        assert client.get(f"/targets/{t.pk}/drilldown/?year=2026&month={MONTHS}").status_code == 200
        api = client.get(f"/api/targets/{t.pk}")
        assert api.status_code == 200 and api.json()["indicator"] == t.indicator
        prog = client.get(f"/api/targets/{t.pk}/progress").json()
        assert prog["indicator"] == t.indicator and prog["rows"], code
        assert prog["rows"][-1]["warning_colour"] == w.colour
    for code, t in targets.items():
        barometer = client.get(
            f"/targets/?plan=2025-2030&indicator={t.definition.barometer_id}&period=2026-{MONTHS}"
        )
        assert barometer.status_code == 200, code


def test_every_indicator_decomposes_with_its_consistency_check(loop):
    admin, targets, _sector = loop.admin, loop.targets, loop.sector
    for code, t in targets.items():
        if services.is_intensity_reduction(t):
            params = services.default_params(t, services.sub_regions(t))
            dec = services.adopt_decomposition(target=t, method="manual", params=params, user=admin)
            assert dec.intensity_slack_pp is not None, code
        else:
            method = services.allocation_methods(t)[0]
            dec = services.adopt_allocation(target=t, method=method, user=admin)
            assert dec.consistency_check["consistent"], code
        children = Target.objects.filter(parent=t, indicator=t.indicator)
        assert {c.division.code for c in children} == set(CITIES), code


def test_a_sector_target_uses_the_sectors_own_statistics(loop):
    admin, targets, sector = loop.admin, loop.targets, loop.sector
    services.compute_warnings(year=2026, month=MONTHS, user=admin, notify=False)
    region = WarningRecord.objects.get(
        target=targets["energy_intensity_reduction"], year=2026, month=MONTHS
    )
    industry = WarningRecord.objects.get(
        target=sector["energy_intensity_reduction"], year=2026, month=MONTHS
    )
    # sector: energy +1 %, value added +6 % → reduction 1 − 1.01/1.06 ≈ 4.72 %
    assert industry.achieved == pytest.approx(1 - 1.01 / 1.06, rel=1e-9)
    # region: energy +2 %, GDP +5 % → 1 − 1.02/1.05 ≈ 2.86 %
    assert region.achieved == pytest.approx(1 - 1.02 / 1.05, rel=1e-9)
    assert industry.figures["indicator"]["sector"] == "C"


def test_a_sector_target_without_sector_statistics_says_so(loop, client):
    admin, _targets, sector = loop.admin, loop.targets, loop.sector
    RegionalStatistic.objects.filter(industry__isnull=False).delete()
    login(client, admin)
    page = client.get(f"/targets/{sector['energy_intensity_reduction'].pk}/progress/")
    assert page.status_code == 200
    assert "制造业" in page.content.decode()
    summary = services.compute_warnings(year=2026, month=MONTHS, user=admin, notify=False)
    assert sector["energy_intensity_reduction"].pk in dict(summary.skipped)


def test_a_period_cap_accumulates_the_years(loop):
    admin, targets, _sector = loop.admin, loop.targets, loop.sector
    services.compute_warnings(year=2026, month=MONTHS, user=admin, notify=False)
    w = WarningRecord.objects.get(target=targets["carbon_budget"], year=2026, month=MONTHS)
    # 2026 estimated from January…June: 2025 × (1 + 0 %) for 1.8 cities → Σ over the period so far
    assert w.achieved == pytest.approx(BASE["co2_t"] * 1.8, rel=1e-9)
    assert w.required == pytest.approx(20_000_000 / 5, rel=1e-9)  # budget × k/n
    assert w.figures["progress"]["remaining"] == pytest.approx(20_000_000 - BASE["co2_t"] * 1.8)
    # an energy cap over the period (the 12th-FYP “5.7亿吨”) is not compared with one year
    e = WarningRecord.objects.get(target=targets["energy_budget"], year=2026, month=MONTHS)
    assert e.required == pytest.approx(10_000_000 / 5)


def test_the_peak_year_is_not_rated_before_it_is_due(loop):
    from dualcontrol.targets.warnings import observe

    _admin, targets, _sector = loop.admin, loop.targets, loop.sector
    t = targets["co2_peak_year"]
    t.base_value = Decimal("2028")
    series = services.load_series([t.division_id])[t.division_id]
    with pytest.raises(NotDue):
        observe(t, series, year=2026, month=MONTHS, compares_with="pace")


def test_deductions_apply_to_both_controls_where_the_rules_say(loop):
    """Feedstock is excluded from the total and the intensity (发改环资〔2022〕803号), new renewables
    from the total only; the figures on the barometer use the same rule set."""
    admin, targets, _sector = loop.admin, loop.targets, loop.sector
    csv = (
        "region,year,month,feedstock_tce,renewable_new_tce,source\n"
        "530000,2025,,100000,0,deductions\n"
        + "".join(f"530000,2025,{m},{100000 * m / 12:.2f},0,deductions\n" for m in range(1, 7))
        + "".join(
            f"530000,2026,{m},{100000 * m / 12:.2f},{20000 * m / 12:.2f},deductions\n"
            for m in range(1, 7)
        )
    )
    services.import_statistics(data=csv.encode(), user=admin, filename="deductions.csv")
    services.compute_warnings(year=2026, month=MONTHS, user=admin, notify=False)
    total = WarningRecord.objects.get(target=targets["energy_total"], year=2026, month=MONTHS)
    e25 = BASE["energy_tce"] * 1.8
    # 2026 estimate = (E25 − F25 − R25) × (ytd26 − F − R) / (ytd25 − F − R)
    ytd25 = e25 / 2 - 50000
    ytd26 = e25 * 1.02 / 2 - 50000 - 10000
    assert total.achieved == pytest.approx((e25 - 100000) * ytd26 / ytd25, rel=1e-9)
    intensity = WarningRecord.objects.get(
        target=targets["energy_intensity_reduction"], year=2026, month=MONTHS
    )
    # intensity: feedstock out, renewables still in
    assert intensity.achieved == pytest.approx(
        1 - ((e25 * 1.02 / 2 - 50000) / (e25 / 2 - 50000)) / 1.05, rel=1e-9
    )


def test_the_cli_imports_statistics_all_or_nothing(world, tmp_path, capsys):
    from dualcontrol.cli import main

    good = tmp_path / "stats-gb18030.csv"
    good.write_bytes(statistics_csv())
    assert main(["import", "statistics", str(good)]) == 0
    assert "statistics: 39 rows imported" in capsys.readouterr().out
    assert RegionalStatistic.objects.get(
        division__code="530100", year=2026, month=6, industry=None
    ).value("co2_t") == pytest.approx(BASE["co2_t"] * 0.5)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "region,year,co2_t,source\n530100,2027,-1,x\n999999,2027,5,x\n", encoding="utf-8"
    )
    assert main(["import", "statistics", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "bad.csv" in err and "co2_t" in err and "999999" in err
    assert not RegionalStatistic.objects.filter(year=2027).exists()
