"""Builders for the assessment and publishing tests: regional statistics 2010–2015 and the
12th-FYP intensity targets of the test world (province 530000, cities 530100 and 530300).

Figures are chosen so that results can be checked by hand:
- GDP grows 10 % a year in real terms everywhere (2011–2015);
- 530100 (昆明市): energy × 1.1 × 0.97 a year → intensity −3 % a year, 2010→2015 reduction
  1 − 0.97⁵ = 14.1266 % < its 15 % target: missed (veto);
- 530300 (曲靖市): energy × 1.1 × 0.96 a year → intensity −4 % a year, reduction
  1 − 0.96⁵ = 18.4627 % vs 15 %: completion 1.2308 → 40 + 2 × 3 = 46 points;
- the province: energy = the sum of the two cities (growth 10 %).

CO2 (``co2=True``, kept per row as ``factors["co2_t"]``, as the statistics import stores it):
C0 = 20 000 000 tCO2 in the base year b, × 1.1 × the city's factor a year, so that at the prices
of b the CO2 intensity is exactly 4 × factor^(year − b) tCO2 / 10k yuan (4.0000, 3.8800, 3.7636 …
for 昆明市; 4.0000, 3.8400, 3.6864, 3.5389 (3.538944 rounded) … for 曲靖市).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualcontrol.targets import services as target_services
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, TargetStatus

E0 = Decimal("10000000")
G0 = Decimal("5000000")
C0 = Decimal("20000000")
FACTORS = {"530100": Decimal("0.97"), "530300": Decimal("0.96")}


def energy(code: str, year: int, base: int = 2010) -> Decimal:
    k = year - base
    if code == "530000":
        return energy("530100", year, base) + energy("530300", year, base)
    return (E0 * (Decimal("1.1") * FACTORS[code]) ** k).quantize(Decimal("0.01"))


def co2(code: str, year: int, base: int = 2010) -> Decimal:
    """tCO2 of a region and year (the province: the sum of the two cities)."""
    k = year - base
    if code == "530000":
        return co2("530100", year, base) + co2("530300", year, base)
    return (C0 * (Decimal("1.1") * FACTORS[code]) ** k).quantize(Decimal("0.01"))


def add_statistics(world, years=range(2010, 2016), *, base: int = 2010, co2_t: bool = False):
    """Annual rows of the province and the two cities (``base`` = the first year, the price
    base of the figures above); with ``co2_t`` the rows carry their CO2."""
    rows = []
    for div in (world.province, world.city, world.other_city):
        for y in years:
            rows.append(
                RegionalStatistic(
                    division=div,
                    year=y,
                    energy_tce=energy(div.code, y, base),
                    gdp_10k_yuan=(G0 * Decimal("1.15") ** (y - base)).quantize(Decimal("0.01")),
                    gdp_real_growth_pct=None if y == base else Decimal("10"),
                    factors={"co2_t": str(co2(div.code, y, base))} if co2_t else {},
                    source="test",
                )
            )
    RegionalStatistic.objects.bulk_create(rows)


def add_co2_targets(
    world,
    *,
    base: int,
    reduction: str = "17",
    totals: tuple[str, str] | None = None,
    budgets: tuple[str, str] | None = None,
    is_synthetic: bool = False,
) -> dict[str, object]:
    """Five-year (``base`` → ``base`` + 5) CO2-intensity targets of the province and the two
    cities (``reduction`` %, the catalogue's default pace: compound); with ``totals`` /
    ``budgets`` (昆明市, 曲靖市) also their co2_total caps and carbon budgets (tCO2)."""
    common = dict(
        user=None,
        system=True,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=base,
        end_year=base + 5,
        source_document="test plan (CO2)",
        status=TargetStatus.ISSUED,
        is_synthetic=is_synthetic,
    )
    province = target_services.create_target(
        division=world.province,
        indicator=Indicator.CO2_INTENSITY_REDUCTION,
        base_value=Decimal(reduction),
        unit="%",
        **common,
    )
    out: dict[str, object] = {"province": province}
    for i, (key, div) in enumerate((("city", world.city), ("other_city", world.other_city))):
        out[key] = target_services.create_target(
            division=div,
            indicator=Indicator.CO2_INTENSITY_REDUCTION,
            base_value=Decimal(reduction),
            unit="%",
            parent=province,
            **common,
        )
        for indicator, values in (
            (Indicator.CO2_TOTAL, totals),
            (Indicator.CARBON_BUDGET, budgets),
        ):
            if values:
                out[f"{key}_{indicator}"] = target_services.create_target(
                    division=div,
                    indicator=indicator,
                    base_value=Decimal(values[i]),
                    unit="tCO2",
                    **common,
                )
    return out


def add_targets(world) -> dict[str, object]:
    common = dict(
        user=None,
        system=True,
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2010,
        end_year=2015,
        unit="%",
        source_document="test plan",
        status=TargetStatus.ISSUED,
    )
    province = target_services.create_target(
        division=world.province, base_value=Decimal("15"), **common
    )
    out = {"province": province}
    for key, div in (("city", world.city), ("other_city", world.other_city)):
        out[key] = target_services.create_target(
            division=div, base_value=Decimal("15"), parent=province, **common
        )
    return out


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def regional(world, media):
    """The test world with statistics and targets, and the scoring sheets seeded."""
    from dualcontrol.assessment import services

    add_statistics(world)
    targets = add_targets(world)
    services.sync_sheets()
    return world, targets


@pytest.fixture
def carbon(world, media):
    """The 15th-FYP carbon world: statistics 2025–2028 with CO2, the CO2-intensity targets
    (−17 % 2025→2030), co2_total caps (昆明市 21 000 000, 曲靖市 30 000 000 tCO2 in 2030) and
    carbon budgets 2026–2030 (100 000 000 and 125 000 000 tCO2); the sheets seeded."""
    from dualcontrol.assessment import services

    add_statistics(world, range(2025, 2029), base=2025, co2_t=True)
    targets = add_co2_targets(
        world,
        base=2025,
        totals=("21000000", "30000000"),
        budgets=("100000000", "125000000"),
    )
    services.sync_sheets()
    return world, targets


PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def pdf_upload(name: str = "evidence.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def run_region_round(
    world,
    *,
    year: int = 2015,
    issued_on=None,
    measures: str | dict[str, str] = "55",
    sheet: str = "gf-2007-36",
):
    """A province round for both cities taken to sign-off; returns the round.  ``measures``:
    the reviewers' total of the measures part, or a score per measure row."""
    import datetime as dt

    from dualcontrol.accounts.models import Role
    from dualcontrol.assessment import services
    from dualcontrol.assessment.models import ScoringSheet

    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = services.create_round(user=admin, year=year, sheet=ScoringSheet.objects.get(name=sheet))
    officers = {
        world.city.pk: world.users[Role.CITY_OFFICER],
        world.other_city.pk: world.users["other_city"],
    }
    scores = measures if isinstance(measures, dict) else {"measures": measures}
    for rec in rnd.records.all():
        officer = officers[rec.division_id]
        services.save_self_assessment(
            record=rec, user=officer, scores={k: (v, "自评说明") for k, v in scores.items()}
        )
        services.submit_self_assessment(record=rec, user=officer)
        services.score_measures(
            record=rec, user=admin, scores={k: (v, "评审意见") for k, v in scores.items()}
        )
    services.sign_off_round(round=rnd, user=admin, issued_on=issued_on or dt.date(year + 1, 6, 15))
    return rnd


# ---------------------------------------------------------------------------------------------
# Pollutants (sheets pollutants-total and pollutants-key-projects)
#
# Each city's emissions fall by a fixed factor a year from the base year 2025 (the province's
# are the cities' sums), so that in 2027 (k = 2 of n = 5) the reduction is 1 − f²:
#   pollutant  base (t)  昆明市 f → 2027 reduction   曲靖市 f → 2027 reduction   target  pace 2027
#   COD        10 000    0.97 → 5.91 %               0.98 → 3.96 %               8 %     3.20 %
#   NH3-N       1 000    0.97 → 5.91 %               0.99 → 1.99 % (missed)      8 %     3.20 %
#   SO2        20 000    0.95 → 9.75 %               0.96 → 7.84 %               15 %    6.00 %
#   NOx        20 000    0.96 → 7.84 %               0.97 → 5.91 %               10 %    4.00 %
#   VOCs       15 000    0.96 → 7.84 %               0.97 → 5.91 %               10 %    4.00 %
# (linear pace R·k/n).  Caps in 2030 (path E_base + (C − E_base)·2/5 in 2027): COD 9 000 → 9 600
# (昆明市 9 409 met, 曲靖市 9 604 missed); NH3-N 920 → 968 (940.9 met, 980.1 missed); SO2 17 000 →
# 18 800; NOx 18 000 → 19 200 (all met).  Key-project reductions 2026–2030: 1 000 t of each
# pollutant per city, required by 2027 1 000 × 2/5 = 400 t; verified 昆明市 300 t a year (600 t),
# 曲靖市 100 t a year (200 t, completion 0.5).

POLLUTANT_BASE = {"cod": 10000, "nh3n": 1000, "so2": 20000, "nox": 20000, "vocs": 15000}
POLLUTANT_FACTORS = {
    "530100": {"cod": "0.97", "nh3n": "0.97", "so2": "0.95", "nox": "0.96", "vocs": "0.96"},
    "530300": {"cod": "0.98", "nh3n": "0.99", "so2": "0.96", "nox": "0.97", "vocs": "0.97"},
}
POLLUTANT_REDUCTIONS = {"cod": "8", "nh3n": "8", "so2": "15", "nox": "10", "vocs": "10"}
POLLUTANT_CAPS = {"cod": "9000", "nh3n": "920", "so2": "17000", "nox": "18000"}
PROJECT_VERIFIED = {"530100": Decimal("300"), "530300": Decimal("100")}


def pollutant_t(code: str, pollutant: str, year: int, base: int = 2025) -> Decimal:
    if code == "530000":
        return sum((pollutant_t(c, pollutant, year, base) for c in POLLUTANT_FACTORS), Decimal(0))
    factor = Decimal(POLLUTANT_FACTORS[code][pollutant])
    return (POLLUTANT_BASE[pollutant] * factor ** (year - base)).quantize(Decimal("0.0001"))


def add_pollutant_statistics(world, years=range(2025, 2028), *, base: int = 2025):
    """Annual rows 2025–2027 (energy and GDP as :func:`add_statistics`) with the pollutant
    emissions and the verified key-project reductions (the base year's, 50 t more, is not
    counted)."""
    rows = []
    for div in (world.province, world.city, world.other_city):
        for y in years:
            factors = {f"{p}_t": str(pollutant_t(div.code, p, y, base)) for p in POLLUTANT_BASE}
            verified = (
                sum(PROJECT_VERIFIED.values())
                if div.code == "530000"
                else PROJECT_VERIFIED[div.code]
            ) + (Decimal(50) if y == base else 0)  # the base year's amount is not counted
            factors |= {
                f"{p}_project_reduction_t": str(verified) for p in ("cod", "nh3n", "nox", "vocs")
            }
            rows.append(
                RegionalStatistic(
                    division=div,
                    year=y,
                    energy_tce=energy(div.code, y, base),
                    gdp_10k_yuan=(G0 * Decimal("1.15") ** (y - base)).quantize(Decimal("0.01")),
                    gdp_real_growth_pct=None if y == base else Decimal("10"),
                    factors=factors,
                    source="test (pollutants)",
                )
            )
    RegionalStatistic.objects.bulk_create(rows)


def add_pollutant_targets(world, *, base: int = 2025) -> dict[str, object]:
    """The cities' five-year pollutant targets (``base`` → ``base`` + 5, linear pace)."""
    common = dict(
        user=None,
        system=True,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=base,
        end_year=base + 5,
        source_document="test plan (pollutants)",
        status=TargetStatus.ISSUED,
    )
    out: dict[str, object] = {}
    for div in (world.city, world.other_city):
        for p, pct in POLLUTANT_REDUCTIONS.items():
            out[f"{div.code}_{p}_reduction"] = target_services.create_target(
                division=div,
                indicator=f"{p}_reduction",
                base_value=Decimal(pct),
                pace_definition="linear",
                progress_definition="linear",
                **common,
            )
        for p, cap in POLLUTANT_CAPS.items():
            out[f"{div.code}_{p}_total"] = target_services.create_target(
                division=div, indicator=f"{p}_total", base_value=Decimal(cap), **common
            )
        for p in ("cod", "nh3n", "nox", "vocs"):
            out[f"{div.code}_{p}_project_reduction"] = target_services.create_target(
                division=div,
                indicator=f"{p}_project_reduction",
                base_value=Decimal("1000"),
                **common,
            )
    return out


@pytest.fixture
def pollutants(world, media):
    """The pollutant world (see above); the sheets seeded."""
    from dualcontrol.assessment import services

    add_pollutant_statistics(world)
    targets = add_pollutant_targets(world)
    services.sync_sheets()
    return world, targets
