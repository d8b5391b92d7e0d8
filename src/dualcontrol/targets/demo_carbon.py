"""The carbon dual-control part of the demo province (2026–2030), called by targets/demo.py.

SYNTHETIC (marked ``is_synthetic`` and “演示/示意”): energy statistics by fuel for the prefectures
and the province (2025 and 2026 up to the latest complete month) in the energy-balance layout,
imported through the platform's statistics import — which computes CO2 with the regional CO2
accounting and its factors (``regional_co2_fuels.csv``, ``regional_co2_rules.yaml``) — and an
illustrative target set: CO2 intensity (−17 %, the national 15th-FYP figure, used here as an
example only), CO2 total, carbon budget, peak year, non-fossil share and coal share, decomposed to
the prefectures.  The fuel mix of each prefecture shifts in 2026 so that its CO2 intensity moves
faster or slower than its energy intensity.

So that a complete carbon year can be assessed and published, the demo also carries the 14th FYP
(2021–2025): synthetic annual statistics of 2020–2024 back-cast from 2025 (energy about +1.5 % and
GDP about +6 % a year, the coal share a little higher in earlier years) and an illustrative
2021–2025 CO2-intensity target (−18 %, the national 14th-FYP figure, as an example) decomposed to
the prefectures and rated at each year end; the assessment demo opens its 2025 carbon round and
the publishing demo the 2025 bulletin with its CO2 table.
"""

from __future__ import annotations

import io
import random
from decimal import Decimal
from typing import Any

from dualcontrol.regions.models import Division
from dualcontrol.targets import services
from dualcontrol.targets.models import Indicator, RegionalStatistic, Target

SYNTHETIC_SOURCE = "平台演示：合成分品种能源统计（非官方，仅用于演示）"
ILLUSTRATIVE = "平台演示：“十五五”碳排放双控示意目标（非官方文件，仅用于演示）"
#: tce per physical unit of each fuel column (GB/T 2589 reference coefficients as in
#: energy_products.csv: raw coal 0.7143 tce/t, coke 0.9714, gasoline 1.4714, diesel 1.4571,
#: natural gas 1.33 kgce/m³ (oil-field gas row), electricity 0.1229 kgce/kWh (当量))
TCE_PER_UNIT = {
    "raw_coal_10k_t": 7143.0,
    "coke_10k_t": 9714.0,
    "gasoline_10k_t": 14714.0,
    "diesel_10k_t": 14571.0,
    "natural_gas_100m_m3": 133000.0,
    "electricity_net_import_100m_kwh": 12290.0,
}
COLUMNS = [
    *TCE_PER_UNIT,
    "coal_tce",
    "coal_t",
    "non_fossil_tce",
    "electricity_10k_kwh",
]


def _mix(rng: random.Random) -> dict[str, float]:
    """Shares of a prefecture's energy (tce) by fuel; the rest is non-fossil (hydro, wind …)."""
    coal = rng.uniform(0.30, 0.50)
    return {
        "raw_coal_10k_t": coal,
        "coke_10k_t": rng.uniform(0.03, 0.07),
        "gasoline_10k_t": rng.uniform(0.05, 0.07),
        "diesel_10k_t": rng.uniform(0.07, 0.10),
        "natural_gas_100m_m3": rng.uniform(0.04, 0.08),
        # Yunnan exports hydro power: net imports are negative
        "electricity_net_import_100m_kwh": -rng.uniform(0.02, 0.08),
    }


HISTORY = range(2020, 2025)


def history_statistics(rng: random.Random, province: Division, prefs: list[Division]) -> int:
    """Annual 2020–2024 rows of the prefectures and the province, back-cast from 2025."""
    from dualcontrol.targets.demo import SYNTHETIC_SOURCE as SOURCE

    base = {
        s.division_id: s
        for s in RegionalStatistic.objects.filter(
            division__in=prefs, year=2025, month__isnull=True, quarter__isnull=True
        )
    }
    rows: dict[int, dict[int, tuple[float, float, float]]] = {}
    for d in prefs:
        s = base.get(d.pk)
        if s is None:
            continue
        e, g = float(s.energy_tce), float(s.gdp_10k_yuan)
        growth_e, growth_g = rng.uniform(0.0, 0.03), rng.uniform(0.045, 0.07)
        for y in range(2024, 2019, -1):
            nxt = rows.get(y + 1, {}).get(d.pk, (e, g, growth_g))
            # this year's figures: next year's divided by next year's growth (prices +2 %)
            rows.setdefault(y, {})[d.pk] = (
                nxt[0] / (1 + growth_e),
                nxt[1] / (1 + nxt[2]) / 1.02,
                growth_g + rng.gauss(0, 0.004),
            )
    out = []
    for y in HISTORY:
        year_rows = rows.get(y, {})
        total_e = total_g = 0.0
        for d in prefs:
            if d.pk not in year_rows:
                continue
            e, g, growth = year_rows[d.pk]
            total_e, total_g = total_e + e, total_g + g
            out.append(_row(d, y, e, g, growth if y > 2020 else None, SOURCE))
        prev = rows.get(y - 1)
        growth_p = None
        if prev:
            weights = sum(prev[k][1] for k in year_rows)
            growth_p = sum(prev[k][1] * (1 + year_rows[k][2]) for k in year_rows) / weights - 1
        out.append(_row(province, y, total_e, total_g, growth_p, SOURCE))
    RegionalStatistic.objects.bulk_create(out)
    # the province's 2025 row was built without a 2024 to grow from: its real growth now
    # follows from the prefectures' (weighted by their 2024 GDP)
    p25 = RegionalStatistic.objects.filter(
        division=province, year=2025, month__isnull=True, quarter__isnull=True
    ).first()
    if p25 is not None and p25.gdp_real_growth_pct is None and 2024 in rows:
        weights = sum(rows[2024][k][1] for k in base)
        real = sum(
            rows[2024][k][1] * (1 + float(base[k].gdp_real_growth_pct or 0) / 100) for k in base
        )
        p25.gdp_real_growth_pct = Decimal(str(round((real / weights - 1) * 100, 3)))
        p25.save(update_fields=["gdp_real_growth_pct"])
    return len(out)


def _row(
    div: Division, year: int, e: float, g: float, growth: float | None, source: str
) -> RegionalStatistic:
    return RegionalStatistic(
        division=div,
        year=year,
        energy_tce=Decimal(str(round(e, 2))),
        gdp_10k_yuan=Decimal(str(round(g, 2))),
        gdp_real_growth_pct=None if growth is None else Decimal(str(round(growth * 100, 3))),
        source=source,
        is_synthetic=True,
    )


def carbon_statistics(
    rng: random.Random, province: Division, prefs: list[Division], user: Any
) -> int:
    """Energy by fuel for every synthetic 2020–2026 row of the prefectures and the province,
    imported through :func:`services.import_statistics` (which computes ``co2_t``)."""
    history_statistics(rng, province, prefs)
    mix25 = {d.pk: _mix(rng) for d in prefs}
    # 2026: coal share shifts between −12 % and +4 % of itself, gas takes the difference;
    # 2020–2024: the coal share was higher by 1.5 % of itself a year (gas lower)
    shift = {d.pk: rng.uniform(-0.12, 0.04) for d in prefs}
    rows = RegionalStatistic.objects.filter(
        division__in=prefs,
        year__in=(*HISTORY, 2025, 2026),
        industry__isnull=True,
        quarter__isnull=True,
    ).select_related("division")
    out: dict[tuple[int, int | None], dict[str, float]] = {}
    lines = []
    for s in rows.order_by("division__code", "year", "month"):
        e = float(s.energy_tce)
        mix = dict(mix25[s.division_id])
        if s.year == 2026:
            delta = mix["raw_coal_10k_t"] * shift[s.division_id]
            mix["raw_coal_10k_t"] += delta
            mix["natural_gas_100m_m3"] -= delta * 0.5
        elif s.year < 2025:
            delta = mix["raw_coal_10k_t"] * 0.015 * (2025 - s.year)
            mix["raw_coal_10k_t"] += delta
            mix["natural_gas_100m_m3"] = max(0.01, mix["natural_gas_100m_m3"] - delta * 0.5)
        values = {c: e * share / TCE_PER_UNIT[c] for c, share in mix.items()}
        fossil = sum(v for c, v in mix.items() if c != "electricity_net_import_100m_kwh")
        values["coal_tce"] = e * mix["raw_coal_10k_t"]
        values["coal_t"] = values["coal_tce"] / 0.7143
        values["non_fossil_tce"] = e * max(0.0, 1 - fossil)
        values["electricity_10k_kwh"] = e * 0.35 / 1.229  # 35 % of energy as power, 当量
        acc = out.setdefault((s.year, s.month), dict.fromkeys(COLUMNS, 0.0))
        for c in COLUMNS:
            acc[c] += values[c]
        lines.append(_line(s.division.code, s.year, s.month, values))
    for (year, month), values in sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1] or 13)):
        lines.append(_line(province.code, year, month, values))
    header = ",".join(["region", "year", "month", *COLUMNS, "source"])
    data = io.StringIO()
    data.write(header + "\n")
    data.write("\n".join(lines) + "\n")
    return services.import_statistics(
        data=data.getvalue().encode("utf-8"),
        user=user,
        filename="demo-energy-by-fuel.csv",
        is_synthetic=True,
        system=True,
    )


def _line(code: str, year: int, month: int | None, values: dict[str, float]) -> str:
    cells = [code, str(year), "" if month is None else str(month)]
    cells += [f"{values[c]:.6f}" for c in COLUMNS]
    return ",".join([*cells, SYNTHETIC_SOURCE])


def carbon_targets(province: Division, admin: Any) -> dict[str, Target]:
    """The illustrative 2026–2030 carbon dual-control targets of the province, decomposed."""
    base = RegionalStatistic.objects.get(
        division=province,
        year=2025,
        month__isnull=True,
        quarter__isnull=True,
        industry__isnull=True,
    )
    co2_25 = float(base.value("co2_t") or 0)
    share_nf = float(base.value("non_fossil_tce") or 0) / float(base.energy_tce)
    share_coal = float(base.value("coal_tce") or 0) / float(base.energy_tce)
    common = dict(
        user=None,
        system=True,
        division=province,
        period_kind="five_year",
        base_year=2025,
        end_year=2030,
        source_document=ILLUSTRATIVE,
        status="issued",
        is_synthetic=True,
    )
    t: dict[str, Target] = {}
    t["co2_intensity_reduction"] = services.create_target(
        indicator=Indicator.CO2_INTENSITY_REDUCTION,
        base_value=Decimal("17"),
        incentive_value=Decimal("18"),
        note="示意：碳排放强度降低（约束性），取全国“十五五”累计降低17%为例。",
        **common,
    )
    t["co2_total"] = services.create_target(
        indicator=Indicator.CO2_TOTAL,
        base_value=Decimal(str(round(co2_25 * 1.08, -4))),
        note="示意：二氧化碳排放总量（预期性、辅助控制），2030年不超过2025年的108%。",
        **common,
    )
    t["carbon_budget"] = services.create_target(
        indicator=Indicator.CARBON_BUDGET,
        base_value=Decimal(str(round(co2_25 * 5 * 1.04, -4))),
        note="示意：2026–2030年碳排放预算（五年合计）。",
        **common,
    )
    t["co2_peak_year"] = services.create_target(
        indicator=Indicator.CO2_PEAK_YEAR,
        base_value=Decimal("2030"),
        note="示意：2030年前碳达峰。",
        **common,
    )
    t["non_fossil_share"] = services.create_target(
        indicator=Indicator.NON_FOSSIL_SHARE,
        base_value=Decimal(str(round(min(share_nf * 100 + 4, 95), 1))),
        note="示意：非化石能源消费比重。",
        **common,
    )
    t["coal_share"] = services.create_target(
        indicator=Indicator.COAL_SHARE,
        base_value=Decimal(str(round(share_coal * 100 - 3, 1))),
        note="示意：煤炭消费比重。",
        **common,
    )
    # decomposition: CO2 intensity by tiers around the target (consistent with both the
    # intensity and the CO2 total, which is its cap), the rest by each kind's allocation
    ci = t["co2_intensity_reduction"]
    params = services.default_params(ci, services.sub_regions(ci))
    params.gdp_growth_pct_per_year = 5.5
    services.adopt_decomposition(
        target=ci,
        method="tiered",
        params=params,
        user=admin,
        system=True,
        is_synthetic=True,
        rerate=False,
    )
    t["co2_intensity_reduction_14th"] = _fourteenth(province, admin)
    for code in ("carbon_budget", "non_fossil_share", "coal_share", "co2_peak_year"):
        method = services.allocation_methods(t[code])[0]
        services.adopt_allocation(
            target=t[code],
            method=method,
            user=admin,
            system=True,
            is_synthetic=True,
        )
    return t


def _fourteenth(province: Division, admin: Any) -> Target:
    """The illustrative 2021–2025 CO2-intensity target, decomposed by tiers, rated each year end."""
    t = services.create_target(
        user=None,
        system=True,
        indicator=Indicator.CO2_INTENSITY_REDUCTION,
        division=province,
        period_kind="five_year",
        base_year=2020,
        end_year=2025,
        base_value=Decimal("18"),
        source_document=ILLUSTRATIVE.replace("“十五五”", "“十四五”"),
        note="示意：“十四五”碳排放强度降低，取全国“十四五”降低18%为例。",
        status="issued",
        is_synthetic=True,
    )
    params = services.default_params(t, services.sub_regions(t))
    params.gdp_growth_pct_per_year = 6.0
    services.adopt_decomposition(
        target=t,
        method="tiered",
        params=params,
        user=admin,
        system=True,
        is_synthetic=True,
        rerate=False,
    )
    rated = [t, *Target.objects.filter(parent=t)]
    for year in range(2021, 2026):
        services.compute_warnings(year=year, month=12, targets=rated, system=True, notify=False)
    return t
