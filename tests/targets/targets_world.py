"""Builder of a small targets world on top of tests/factories.world(): statistics, targets.

Province 530000 with Kunming 530100 (city officer "city1") and Qujing 530300 ("city2").
Statistics: 2025 annual and January…December cumulative months, 2026 January…June, drawn so
that at 2026-06 (ndrc-2021, linear pace — set explicitly, the default pace of a logarithmic-progress
target is compounded —, year 1 of 5):
- Kunming (target 15 %, required 3 %) has reduced its intensity by 2.85 % → gap 5 % → yellow;
- Qujing (target 12 %, required 2.4 %) by 1.92 % → gap 20 % → red.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dualcontrol.regions.models import Division
from dualcontrol.targets import services
from dualcontrol.targets.models import (
    Indicator,
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
)

GROWTH = 0.05
E25 = {"530100": 1_000_000.0, "530300": 2_000_000.0}
G25 = {"530100": 2_000_000.0, "530300": 1_500_000.0}
# achieved 2026 cumulative reductions (January…month), by month
R26 = {"530100": 0.0285, "530300": 0.0192}


def stat(div, year, month, energy, gdp, growth=None, **extra):
    return RegionalStatistic(
        division=div,
        year=year,
        month=month,
        energy_tce=Decimal(str(round(energy, 4))),
        gdp_10k_yuan=Decimal(str(round(gdp, 4))),
        gdp_real_growth_pct=None if growth is None else Decimal(str(round(growth * 100, 6))),
        source="test",
        **extra,
    )


def seed_statistics(divisions, months_2026=6, r26=None):
    r26 = r26 or R26
    rows = []
    factors = {
        "530100": {
            "gdp_per_capita_yuan": 80000,
            "secondary_share_pct": 35,
            "environmental_capacity_index": 1.0,
        },
        "530300": {
            "gdp_per_capita_yuan": 50000,
            "secondary_share_pct": 50,
            "environmental_capacity_index": 0.8,
        },
    }
    totals: dict[tuple[int, int | None], list[float]] = {}
    for code, div in divisions.items():
        if code not in E25:
            continue
        e, g = E25[code], G25[code]
        rows.append(stat(div, 2025, None, e, g, GROWTH, factors=factors[code]))
        totals.setdefault((2025, None), [0, 0])
        totals[(2025, None)][0] += e
        totals[(2025, None)][1] += g
        for m in range(1, 12):
            rows.append(stat(div, 2025, m, e * m / 12, g * m / 12, GROWTH))
            t = totals.setdefault((2025, m), [0, 0])
            t[0] += e * m / 12
            t[1] += g * m / 12
        for m in range(1, months_2026 + 1):
            e26 = e * m / 12 * (1 + GROWTH) * (1 - r26[code])
            g26 = g * m / 12 * (1 + GROWTH) * 1.02
            rows.append(stat(div, 2026, m, e26, g26, GROWTH))
            t = totals.setdefault((2026, m), [0, 0])
            t[0] += e26
            t[1] += g26
    prov = divisions["530000"]
    for (y, m), (e, g) in totals.items():
        rows.append(stat(prov, y, m, e, g, GROWTH))
    RegionalStatistic.objects.bulk_create(rows)


@dataclass
class TargetsWorld:
    world: object
    divisions: dict
    province_target: Target
    city_target: Target
    other_target: Target
    increment_target: Target | None


def build(world, *, months_2026=6, increment_cap=None):
    services.sync_rule_sets()
    divisions = {d.code: d for d in Division.objects.all()}
    seed_statistics(divisions, months_2026)
    common = dict(
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2025,
        end_year=2030,
        source_document="test plan",
        status=TargetStatus.ISSUED,
    )
    province = services.create_target(
        user=world.users["province_admin"],
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        pace_definition="linear",
        division=divisions["530000"],
        base_value=Decimal("13.5"),
        incentive_value=Decimal("14.5"),
        unit="%",
        **common,
    )
    inc = None
    if increment_cap is not None:
        inc = services.create_target(
            user=world.users["province_admin"],
            indicator=Indicator.ENERGY_INCREMENT,
            division=divisions["530000"],
            base_value=Decimal(str(increment_cap)),
            unit="tce",
            **common,
        )
    city = services.create_target(
        user=world.users["province_admin"],
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        pace_definition="linear",
        division=divisions["530100"],
        parent=province,
        base_value=Decimal("15"),
        unit="%",
        **common,
    )
    other = services.create_target(
        user=world.users["province_admin"],
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        pace_definition="linear",
        division=divisions["530300"],
        parent=province,
        base_value=Decimal("12"),
        unit="%",
        **common,
    )
    return TargetsWorld(world, divisions, province, city, other, inc)
