"""The targets part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

REAL: the 12th-FYP provincial targets of Yunnan, quoted in ``reference/data/demo_yunnan.yaml``
(``targets``), and the barometer rule sets of ``reference/data/warning_*.yaml``.

SYNTHETIC (marked ``is_synthetic`` and “演示/示意” in the UI): a 2026–2030 target set, the
regional statistics of the 16 prefectures (2010–2015, 2025 and 2026 up to the latest complete
month; their 12th-FYP intensity path roughly delivers the real −15 % target), the split of the
base years to counties, the decomposed city targets, responsibility letters of 2011 and the
warnings.  The 2026 months are drawn so that, at the latest month, some prefectures are red,
some yellow and most green, and some change colour over the year (seeded RNG, reproducible).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from dualcontrol.accounts.models import User
from dualcontrol.demo.builder import latest_complete_month
from dualcontrol.reference import load_yaml
from dualcontrol.regions.models import Division
from dualcontrol.targets import demo_carbon, demo_pollutants, services
from dualcontrol.targets.models import (
    Indicator,
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
    WarningRuleSet,
)

SYNTHETIC_SOURCE = "平台演示：合成统计数据（非官方，仅用于演示）"
ILLUSTRATIVE_SOURCE = "平台演示：“十五五”示意目标（非官方文件，仅用于演示）"
PLAN_SOURCE = "云南省“十二五”低碳节能减排综合性工作方案（§一（一）2 主要目标）"

#: 12th-FYP items of demo_yunnan.yaml → (indicator, unit, on the barometer, note)
ITEMS = {
    "energy_intensity_reduction": (Indicator.ENERGY_INTENSITY_REDUCTION, "%", True, ""),
    "energy_intensity_level": (Indicator.ENERGY_INTENSITY_LEVEL, "tce/10k yuan", False, ""),
    "energy_total_cap": (
        Indicator.ENERGY_BUDGET,
        "tce",
        True,
        "原文为“‘十二五’期间能源消费总量控制在5.7亿吨标准煤”：期间累计口径，按各年消费量累计跟踪。",
    ),
    "energy_increment_cap": (
        Indicator.ENERGY_INCREMENT,
        "tce",
        False,
        "原文为“新增量不超过1.9亿吨标准煤”，照录；口径与年度统计不一致，不纳入预警。",
    ),
    "non_fossil_share": (Indicator.NON_FOSSIL_SHARE, "%", False, ""),
    "co2_intensity_reduction": (Indicator.CO2_INTENSITY_REDUCTION, "%", False, ""),
    "cod_total_cap": (Indicator.COD_TOTAL, "t", False, ""),
    "nh3n_total_cap": (Indicator.NH3N_TOTAL, "t", False, ""),
    "so2_total_cap": (Indicator.SO2_TOTAL, "t", False, ""),
    "nox_total_cap": (Indicator.NOX_TOTAL, "t", False, ""),
}

# growth of real GDP in 2011–2015 (synthetic path of the right size for a fast-growing province)
GROWTH_12TH = {2011: 0.137, 2012: 0.130, 2013: 0.121, 2014: 0.081, 2015: 0.087}
# cumulative seasonal shares of a year's energy and GDP (January … December)
_E_SEASON = [1 + 0.06 * ((m - 6.5) / 5.5) ** 2 for m in range(1, 13)]
_G_SEASON = [0.8 + 0.04 * m for m in range(1, 13)]


def _cumulative(shares: list[float]) -> list[float]:
    total = sum(shares)
    out, acc = [], 0.0
    for s in shares:
        acc += s
        out.append(acc / total)
    return out


E_CUM = _cumulative(_E_SEASON)
G_CUM = _cumulative(_G_SEASON)

# 2026 profiles: performance against the city's required pace (achieved / required), start → end
PROFILES = {
    "green": (1.08, 1.25),
    "yellow": (0.95, 0.965),
    "red": (0.62, 0.78),
    "worsening": (1.12, 0.80),
    "improving": (0.72, 1.12),
}
# Kunming (the demo city officer's region) worsens over the year so its officer gets alerts
PROFILE_ORDER = (
    ["worsening"]
    + ["green"] * 7
    + ["yellow"] * 3
    + ["red"] * 2
    + [
        "worsening",
        "improving",
        "improving",
    ]
)


def _stat(
    div: Division,
    year: int,
    month: int | None,
    e: float,
    g: float,
    growth: float | None,
    factors: dict[str, float] | None = None,
) -> RegionalStatistic:
    return RegionalStatistic(
        division=div,
        year=year,
        month=month,
        energy_tce=Decimal(str(round(e, 2))),
        gdp_10k_yuan=Decimal(str(round(g, 2))),
        gdp_real_growth_pct=None if growth is None else Decimal(str(round(growth * 100, 3))),
        factors=factors or {},
        source=SYNTHETIC_SOURCE,
        is_synthetic=True,
    )


def _factors(
    rng: random.Random, gdp: float, pop_share: float, intensity_ratio: float, total_pop: float
) -> dict[str, float]:
    return {
        "gdp_per_capita_yuan": round(gdp * 10000 / (pop_share * total_pop), 0),
        "secondary_share_pct": round(min(58.0, 30 + 12 * intensity_ratio + rng.uniform(-3, 3)), 1),
        "environmental_capacity_index": round(rng.uniform(0.6, 1.4), 2),
        "population_10k": round(pop_share * total_pop / 10000, 1),
    }


def extend_demo(*, today: dt.date) -> None:
    """Seed rule sets, targets, statistics, decompositions, letters and warnings (idempotent)."""
    services.sync_rule_sets()
    if RegionalStatistic.objects.filter(is_synthetic=True).exists():
        return
    _, cfg = load_yaml("demo_yunnan.yaml")
    rng = random.Random(int(cfg["synthetic"]["seed"]) + 4)
    province = Division.objects.get(code=cfg["province_code"], parent__isnull=True)
    prefs = list(Division.objects.filter(parent=province).order_by("code"))
    weights = cfg["synthetic"]["prefecture_weights"]
    last_y, last_m = latest_complete_month(today)
    admin = User.objects.filter(username="demo-province").first()

    # --- base shares (energy, GDP, population) and per-region behaviour
    w = {d.pk: float(weights.get(d.code, 2)) for d in prefs}
    intensity_factor = {d.pk: rng.uniform(0.65, 1.5) for d in prefs}
    e_share = _norm({k: w[k] * intensity_factor[k] for k in w})
    g_share = _norm({k: w[k] * rng.uniform(0.9, 1.1) for k in w})
    pop_share = _norm({k: w[k] ** 0.75 * rng.uniform(0.9, 1.1) for k in w})
    perf = {d.pk: rng.uniform(0.65, 1.35) for d in prefs}
    g_off = {d.pk: rng.uniform(-0.015, 0.015) for d in prefs}

    stats: list[RegionalStatistic] = []
    # --- 2010–2015 (12th FYP) annual + cumulative months
    energy = {k: 86_740_000 * e_share[k] for k in w}
    gdp = {k: 72_241_800 * g_share[k] for k in w}
    annual: dict[int, dict[int, tuple[float, float, float | None]]] = {2010: {}}
    for k in w:
        annual[2010][k] = (energy[k], gdp[k], 0.123)
    for y in range(2011, 2016):
        annual[y] = {}
        for k in w:
            g = GROWTH_12TH[y] + g_off[k]
            change = -(0.0345 * perf[k]) + rng.gauss(0, 0.006)
            e0, gd0, _ = annual[y - 1][k]
            annual[y][k] = (e0 * (1 + g) * (1 + change), gd0 * (1 + g) * 1.035, g)
    ytd: dict[tuple[int, int], dict[int, tuple[float, float, float]]] = {}
    for y in range(2010, 2016):
        for m in range(1, 13):
            ytd[(y, m)] = {}
            for k in w:
                e, gd, g = annual[y][k]
                ytd[(y, m)][k] = (
                    e * E_CUM[m - 1] * (1 + rng.gauss(0, 0.004)),
                    gd * G_CUM[m - 1],
                    (g or 0.12) + rng.gauss(0, 0.003),
                )
    base_factors = {
        k: _factors(rng, gdp[k], pop_share[k], intensity_factor[k], 46_020_000) for k in w
    }
    # --- 2025 base and 2026… (15th FYP, illustrative)
    e25 = {k: 135_000_000 * _norm_val(e_share, k, rng) for k in w}
    e25 = {k: v * 135_000_000 / sum(e25.values()) for k, v in e25.items()}
    g25 = {k: 360_000_000 * g_share[k] * rng.uniform(0.95, 1.05) for k in w}
    g26 = {k: 0.05 + rng.uniform(-0.01, 0.01) for k in w}
    for k in w:
        annual.setdefault(2025, {})[k] = (e25[k], g25[k], 0.05 + g_off[k] / 2)
        for m in range(1, 13):
            ytd.setdefault((2025, m), {})[k] = (
                e25[k] * E_CUM[m - 1] * (1 + rng.gauss(0, 0.003)),
                g25[k] * G_CUM[m - 1],
                0.05 + g_off[k] / 2 + rng.gauss(0, 0.002),
            )
    factors25 = {k: _factors(rng, g25[k], pop_share[k], intensity_factor[k], 47_000_000) for k in w}

    by_pk = {d.pk: d for d in prefs}
    for y, rows in annual.items():
        for k, (e, gd, g) in rows.items():
            f = base_factors[k] if y == 2010 else factors25[k] if y == 2025 else None
            stats.append(_stat(by_pk[k], y, None, e, gd, g if y not in (2010,) else None, f))
        stats.append(_province_row(province, y, None, rows, annual.get(y - 1)))
    for (y, m), rows in ytd.items():
        if m == 12:
            continue  # December = the annual row
        for k, (e, gd, g) in rows.items():
            stats.append(_stat(by_pk[k], y, m, e, gd, g))
        stats.append(_province_row(province, y, m, rows, ytd.get((y - 1, m))))
    stats += _county_base_rows(rng, prefs, annual, base_factors, factors25)
    RegionalStatistic.objects.bulk_create(stats, batch_size=1000)

    # --- targets: the real 12th-FYP provincial targets
    local_l1 = WarningRuleSet.objects.filter(name="local-l1").first()
    quote = str(cfg["targets"]["quote"]).strip()
    first, last = cfg["targets"]["period"]
    t12: dict[str, Target] = {}
    for item in cfg["targets"]["items"]:
        indicator, unit, on_barometer, note = ITEMS[item["indicator"]]
        extra = " ".join(str(item[k]) for k in ("note",) if item.get(k))
        t12[item["indicator"]] = services.create_target(
            user=None,
            system=True,
            indicator=indicator,
            division=province,
            period_kind=PeriodKind.FIVE_YEAR,
            base_year=first,
            end_year=last,
            base_value=Decimal(str(item["value"])),
            unit=unit,
            base_level=Decimal(str(item["base_value"])) if item.get("base_value") else None,
            source_document=PLAN_SOURCE,
            note="；".join(x for x in (note, extra, f"原文：{quote}") if x),
            barometer=on_barometer,
            rule_set=local_l1,
            status=TargetStatus.ISSUED,
        )
    # --- targets: the illustrative 2026–2030 set (carbon dual control era)
    e0_2025 = sum(e25.values())
    growth_plan = 0.055
    implied = e0_2025 * ((1 + growth_plan) ** 5 * (1 - 0.135) - 1)
    reserve = round(e0_2025 * 0.015, -4)
    cap = round(implied + reserve + e0_2025 * 0.004, -4)
    common = dict(
        user=None,
        system=True,
        division=province,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2025,
        end_year=2030,
        source_document=ILLUSTRATIVE_SOURCE,
        status=TargetStatus.ISSUED,
        is_synthetic=True,
    )
    t15 = services.create_target(
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        base_value=Decimal("13.5"),
        incentive_value=Decimal("14.5"),
        unit="%",
        note="示意：基本目标 13.5%、激励目标 14.5%（达到激励目标的地区免予能耗总量考核）。",
        **common,
    )
    services.create_target(
        indicator=Indicator.ENERGY_INCREMENT,
        base_value=Decimal(str(cap)),
        unit="tce",
        note=f"示意：“十五五”能源消费增量上限，其中预留重大项目能耗单列 {reserve:.0f} 吨标准煤。",
        **common,
    )

    # --- decompose: 12th FYP by tiers, 2026–2030 by weights
    rows12 = services.sub_regions(t12["energy_intensity_reduction"])
    p12 = services.default_params(t12["energy_intensity_reduction"], rows12)
    p12.gdp_growth_pct_per_year = 11.0
    services.adopt_decomposition(
        target=t12["energy_intensity_reduction"],
        method="tiered",
        params=p12,
        user=admin,
        system=True,
        is_synthetic=True,
        status=TargetStatus.SIGNED,
        rerate=False,
    )
    rows15 = services.sub_regions(t15)
    p15 = services.default_params(t15, rows15)
    p15.gdp_growth_pct_per_year = growth_plan * 100
    p15.reserve_tce = reserve
    services.adopt_decomposition(
        target=t15,
        method="weighted",
        params=p15,
        user=admin,
        system=True,
        is_synthetic=True,
        rerate=False,
    )

    # --- responsibility letters of 2011 (signed) for the cities
    for city_target in Target.objects.filter(
        parent=t12["energy_intensity_reduction"]
    ).select_related("division"):
        letter = services.generate_letter(
            target=city_target,
            user=admin,
            system=True,
            is_synthetic=True,
            issued_on=dt.date(2011, 6, 1),
        )
        services.sign_letter(
            letter=letter,
            user=admin,
            system=True,
            signed_on=dt.date(2011, 6, 30),
            issuer_signatory="（演示）省人民政府",
            party_signatory=f"（演示）{city_target.division.name}人民政府",
        )

    # --- 2026… months, drawn against each city's required pace
    city = {
        t.division_id: t
        for t in Target.objects.filter(parent=t15, indicator=Indicator.ENERGY_INTENSITY_REDUCTION)
    }
    order = list(prefs)
    rest = order[1:]
    rng.shuffle(rest)
    kunming_first = sorted(order, key=lambda d: d.code != "530100")[:1] + rest
    profile = {d.pk: PROFILE_ORDER[i % len(PROFILE_ORDER)] for i, d in enumerate(kunming_first)}
    months = [
        (y, m)
        for y, m in services.months_between((2026, 1), (min(last_y, 2030), 12))
        if (y, m) <= (last_y, last_m)
    ]
    later: list[RegionalStatistic] = []
    rate_of: dict[tuple[int, int, int], float] = {}
    for y, m in months:
        rows = {}
        for k in w:
            # the city's pace after year 1 (compounded: consistent with logarithmic progress)
            required = 1 - (1 - float(city[k].base_value) / 100) ** (1 / 5) if k in city else 0.027
            start, end = PROFILES[profile[k]]
            t = (m - 1) / 11
            perf_now = start + (end - start) * t + rng.gauss(0, 0.015)
            r = required * perf_now
            rate_of[(k, y, m)] = r
            g = g26[k] + rng.gauss(0, 0.002)
            e_prev, gd_prev, _ = ytd[(y - 1, m)][k] if m < 12 else annual[y - 1][k]
            rows[k] = (e_prev * (1 + g) * (1 - r), gd_prev * (1 + g) * 1.02, g)
        ytd[(y, m)] = rows
        if m == 12:
            annual[y] = rows
        for k, (e, gd, g) in rows.items():
            later.append(_stat(by_pk[k], y, None if m == 12 else m, e, gd, g))
        prev_rows = annual.get(y - 1) if m == 12 else ytd.get((y - 1, m))
        later.append(_province_row(province, y, None if m == 12 else m, rows, prev_rows))
    RegionalStatistic.objects.bulk_create(later, batch_size=1000)
    _kunming_counties(rng, by_pk, city, months, rate_of, g26, growth_plan)

    # --- carbon dual control 2026–2030: energy by fuel → CO2, targets, decomposition
    demo_carbon.carbon_statistics(rng, province, prefs, admin)
    demo_carbon.carbon_targets(province, admin)
    demo_pollutants.extend(province, prefs, admin)

    # --- warnings: 12th FYP at quarter ends (history, no alerts); 2026 month by month
    for y in range(2011, 2016):
        for m in (3, 6, 9, 12):
            services.compute_warnings(year=y, month=m, system=True, notify=False)
    for y, m in months:
        services.compute_warnings(year=y, month=m, system=True, notify=True)


def _kunming_counties(
    rng: random.Random,
    by_pk: dict[int, Division],
    city: dict[int, Target],
    months: list[tuple[int, int]],
    rate_of: dict[tuple[int, int, int], float],
    g26: dict[int, float],
    growth_plan: float,
) -> None:
    """The demo city officer's view: Kunming's counties get 2025 and 2026… months (each
    county cutting its intensity faster or slower than the city) and the city officer
    decomposes Kunming's target to them by the weighted method."""
    km = next((d for d in by_pk.values() if d.code == "530100"), None)
    if km is None or km.pk not in city:
        return
    base = (
        RegionalStatistic.objects.filter(
            division__parent=km, year=2025, month__isnull=True, quarter__isnull=True
        )
        .select_related("division")
        .order_by("division__code")
    )
    rows: list[RegionalStatistic] = []
    for s in base:
        div = s.division
        e25, g25 = float(s.energy_tce), float(s.gdp_10k_yuan)
        pace = rng.uniform(0.6, 1.8)
        g = g26[km.pk] + rng.uniform(-0.01, 0.01)
        for m in range(1, 12):
            rows.append(_stat(div, 2025, m, e25 * E_CUM[m - 1], g25 * G_CUM[m - 1], 0.05))
        for y, m in months:
            if y != 2026:
                continue
            r = rate_of[(km.pk, y, m)] * pace + rng.gauss(0, 0.001)
            e = e25 * E_CUM[m - 1] * (1 + g) * (1 - r)
            gd = g25 * G_CUM[m - 1] * (1 + g) * 1.02
            rows.append(_stat(div, y, None if m == 12 else m, e, gd, g))
    RegionalStatistic.objects.bulk_create(rows, batch_size=1000)
    officer = User.objects.filter(username="demo-city").first()
    target = city[km.pk]
    params = services.default_params(target, services.sub_regions(target))
    params.gdp_growth_pct_per_year = growth_plan * 100
    services.adopt_decomposition(
        target=target,
        method="weighted",
        params=params,
        user=officer,
        system=True,
        is_synthetic=True,
        rerate=False,
    )


def _norm(d: dict[int, float]) -> dict[int, float]:
    total = sum(d.values())
    return {k: v / total for k, v in d.items()}


def _norm_val(shares: dict[int, float], k: int, rng: random.Random) -> float:
    return shares[k] * rng.uniform(0.92, 1.08)


def _province_row(
    province: Division,
    year: int,
    month: int | None,
    rows: dict[int, tuple[float, float, float | None]],
    previous: dict[int, tuple[float, float, float | None]] | None,
) -> RegionalStatistic:
    """The province's row: energy and GDP summed; real growth weighted by last year's GDP."""
    e = sum(r[0] for r in rows.values())
    gd = sum(r[1] for r in rows.values())
    growth = None
    if previous:
        base = sum(previous[k][1] for k in rows)
        growth = sum(previous[k][1] * (1 + (rows[k][2] or 0)) for k in rows) / base - 1
    return _stat(province, year, month, e, gd, growth)


def _county_base_rows(
    rng: random.Random,
    prefs: list[Division],
    annual: dict[int, dict[int, tuple[float, float, float | None]]],
    f10: dict[int, dict[str, float]],
    f25: dict[int, dict[str, float]],
) -> list[RegionalStatistic]:
    """Base years split to counties (so a city can decompose its target to counties)."""
    out: list[RegionalStatistic] = []
    counties: dict[int, list[Division]] = {}
    for c in Division.objects.filter(parent__in=prefs).order_by("code"):
        counties.setdefault(c.parent_id, []).append(c)  # type: ignore[arg-type]
    for p in prefs:
        kids = counties.get(p.pk, [])
        if not kids:
            continue
        for year, factors in ((2010, f10), (2025, f25)):
            e, gd, g = annual[year][p.pk]
            es = _norm({c.pk: rng.uniform(0.3, 1.7) for c in kids})
            gs = _norm({c.pk: es[c.pk] * rng.uniform(0.6, 1.5) for c in kids})
            for c in kids:
                f = dict(factors[p.pk])
                f["gdp_per_capita_yuan"] = round(
                    f["gdp_per_capita_yuan"] * gs[c.pk] / es[c.pk] ** 0.5 * rng.uniform(0.8, 1.2), 0
                )
                f["secondary_share_pct"] = round(
                    min(60.0, f["secondary_share_pct"] * rng.uniform(0.8, 1.2)), 1
                )
                out.append(_stat(c, year, None, e * es[c.pk], gd * gs[c.pk], g, f))
    return out


def describe() -> dict[str, Any]:
    """What the demo seeded (for the docs and the CLI)."""
    return {
        "statistics": RegionalStatistic.objects.filter(is_synthetic=True).count(),
        "targets": Target.objects.count(),
    }
