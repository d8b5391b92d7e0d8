"""Builders for the assessment and publishing tests: regional statistics 2010–2015 and the
12th-FYP intensity targets of the test world (province 530000, cities 530100 and 530300).

Figures are chosen so that results can be checked by hand:
- GDP grows 10 % a year in real terms everywhere (2011–2015);
- 530100 (昆明市): energy × 1.1 × 0.97 a year → intensity −3 % a year, 2010→2015 reduction
  1 − 0.97⁵ = 14.1266 % < its 15 % target: missed (veto);
- 530300 (曲靖市): energy × 1.1 × 0.96 a year → intensity −4 % a year, reduction
  1 − 0.96⁵ = 18.4627 % vs 15 %: completion 1.2308 → 40 + 2 × 3 = 46 points;
- the province: energy = the sum of the two cities (growth 10 %).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from dualcontrol.targets import services as target_services
from dualcontrol.targets.models import Indicator, PeriodKind, RegionalStatistic, TargetStatus

E0 = Decimal("10000000")
G0 = Decimal("5000000")
FACTORS = {"530100": Decimal("0.97"), "530300": Decimal("0.96")}


def energy(code: str, year: int) -> Decimal:
    k = year - 2010
    if code == "530000":
        return energy("530100", year) + energy("530300", year)
    return (E0 * (Decimal("1.1") * FACTORS[code]) ** k).quantize(Decimal("0.01"))


def add_statistics(world, years=range(2010, 2016)) -> None:
    rows = []
    for div in (world.province, world.city, world.other_city):
        for y in years:
            rows.append(
                RegionalStatistic(
                    division=div,
                    year=y,
                    energy_tce=energy(div.code, y),
                    gdp_10k_yuan=(G0 * Decimal("1.15") ** (y - 2010)).quantize(Decimal("0.01")),
                    gdp_real_growth_pct=None if y == 2010 else Decimal("10"),
                    source="test",
                )
            )
    RegionalStatistic.objects.bulk_create(rows)


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


PDF = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


def pdf_upload(name: str = "evidence.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def run_region_round(world, *, year: int = 2015, issued_on=None, measures: str = "55"):
    """A province round for both cities taken to sign-off; returns the round."""
    import datetime as dt

    from dualcontrol.accounts.models import Role
    from dualcontrol.assessment import services
    from dualcontrol.assessment.models import ScoringSheet

    admin = world.users[Role.PROVINCE_ADMIN]
    rnd = services.create_round(
        user=admin, year=year, sheet=ScoringSheet.objects.get(name="gf-2007-36")
    )
    officers = {
        world.city.pk: world.users[Role.CITY_OFFICER],
        world.other_city.pk: world.users["other_city"],
    }
    for rec in rnd.records.all():
        officer = officers[rec.division_id]
        services.save_self_assessment(
            record=rec, user=officer, scores={"measures": ("58", "自评说明")}
        )
        services.submit_self_assessment(record=rec, user=officer)
        services.score_measures(record=rec, user=admin, scores={"measures": (measures, "评审意见")})
    services.sign_off_round(round=rnd, user=admin, issued_on=issued_on or dt.date(2016, 6, 15))
    return rnd
