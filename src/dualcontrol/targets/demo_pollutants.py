"""The pollutant and other plan indicators of the demo province (2026–2030), called by
targets/demo.py right after the carbon part.

SYNTHETIC (marked ``is_synthetic`` and “演示/示意”): regional emissions of COD, NH3-N, SO2, NOx and
VOCs for the province and its 16 prefectures (2025: the year and January…M; 2026 up to the latest
complete month), the key-project reductions per pollutant, water use and industrial value added,
public-institution energy, staff, floor area and water, new buildings and newly registered
vehicles — imported through the platform's statistics import — and an illustrative target set:
pollutant reduction rates (the 14th-FYP national figures of 国发〔2021〕33号, COD/NH3-N −8 %,
NOx/VOCs −10 %, used here as examples only), an SO2 cap, key-project reductions, water use total
and per 10 000 yuan of industrial value added, public institutions, green-building and
new-energy-vehicle shares, decomposed to the prefectures.  Each prefecture cuts each pollutant
faster or slower than the pace (seeded RNG), so the barometer shows every colour.

The real 12th-FYP pollutant caps of the demo (``demo_yunnan.yaml``) are created by targets/demo.py
and left as they are.  The key-project columns (``…_project_reduction_t``) are what the projects
ledger writes once its verified reductions exist; :func:`project_statistics` fills them for the
demo until then (a later import of the ledger's sums replaces them).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from dualcontrol.regions.models import Division
from dualcontrol.targets import services
from dualcontrol.targets.models import RegionalStatistic, Target

SYNTHETIC_SOURCE = "平台演示：合成污染物排放及水、公共机构、建筑、交通统计（非官方，仅用于演示）"
PROJECT_SOURCE = "平台演示：合成重点工程减排量（待项目台账核定后替换；非官方，仅用于演示）"
ILLUSTRATIVE = "平台演示：“十五五”污染物总量减排及其他示意目标（非官方文件，仅用于演示）"

#: the province's synthetic 2025 emissions (t) of each pollutant column
EMISSIONS_2025 = {
    "cod_t": 420_000.0,
    "nh3n_t": 30_000.0,
    "so2_t": 240_000.0,
    "nox_t": 360_000.0,
    "vocs_t": 280_000.0,
}
#: illustrative reduction targets 2025–2030 (%), the 14th-FYP national figures used as examples
REDUCTIONS = {
    "cod_reduction": ("cod_t", 8.0),
    "nh3n_reduction": ("nh3n_t", 8.0),
    "nox_reduction": ("nox_t", 10.0),
    "vocs_reduction": ("vocs_t", 10.0),
}
#: key-project reductions of 2025 as a share of the pollutant's emissions, and the indicator
PROJECTS = {
    "cod_project_reduction": ("cod_project_reduction_t", "cod_t", 0.012),
    "nh3n_project_reduction": ("nh3n_project_reduction_t", "nh3n_t", 0.015),
    "nox_project_reduction": ("nox_project_reduction_t", "nox_t", 0.010),
    "vocs_project_reduction": ("vocs_project_reduction_t", "vocs_t", 0.008),
}
#: the province's other synthetic 2025 figures (flows: the year; stocks: at the year's end)
OTHERS_2025 = {
    "water_10k_m3": 1_560_000.0,  # 156亿m³
    "water_industrial_m3": 2_300_000_000.0,  # 23亿m³
    "industry_value_added_10k_yuan": 80_000_000.0,  # 8000亿元
    "public_energy_tce": 2_100_000.0,
    "public_staff_persons": 1_250_000.0,
    "public_floor_area_m2": 105_000_000.0,
    "public_water_m3": 140_000_000.0,
    "new_building_area_m2": 42_000_000.0,
    "vehicles_new": 620_000.0,
}
STOCKS = frozenset({"public_staff_persons", "public_floor_area_m2"})
GROWTH = "industry_value_added_real_growth_pct"
EMISSION_COLUMNS = list(EMISSIONS_2025)
PROJECT_COLUMNS = [column for column, _p, _s in PROJECTS.values()]
OTHER_COLUMNS = [
    *OTHERS_2025,
    "green_building_area_m2",
    "nev_new",
    GROWTH,
]

Key = tuple[int, int, int | None]  # division pk, year, month (None = the year)


def _periods(divisions: Iterable[Division]) -> dict[int, list[tuple[int, int | None]]]:
    """The 2025/2026 periods each division already has statistics for (year, month)."""
    out: dict[int, list[tuple[int, int | None]]] = {}
    for div, year, month in RegionalStatistic.objects.filter(
        division__in=list(divisions),
        year__in=(2025, 2026),
        industry__isnull=True,
        quarter__isnull=True,
    ).values_list("division_id", "year", "month"):
        out.setdefault(div, []).append((year, month))
    return out


def _weights(prefs: list[Division]) -> dict[int, float]:
    """Each prefecture's share of the province's 2025 energy (the size of its economy)."""
    energy = dict(
        RegionalStatistic.objects.filter(
            division__in=prefs,
            year=2025,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        ).values_list("division_id", "energy_tce")
    )
    total = float(sum(energy.values())) or 1.0
    return {d.pk: float(energy.get(d.pk, 0)) / total for d in prefs}


def _fraction(month: int | None) -> float:
    return 1.0 if month is None else month / 12


def statistics(rng: random.Random, province: Division, prefs: list[Division], user: Any) -> int:
    """Emissions and the other columns of every synthetic 2025/2026 row of the prefectures and
    the province, imported through :func:`services.import_statistics` (one file)."""
    periods = _periods([province, *prefs])
    weight = _weights(prefs)
    values: dict[Key, dict[str, float]] = {}
    for d in prefs:
        w = weight[d.pk]
        base = {c: v * w * rng.uniform(0.7, 1.3) for c, v in EMISSIONS_2025.items()}
        base |= {c: v * w * rng.uniform(0.8, 1.2) for c, v in OTHERS_2025.items()}
        green25 = rng.uniform(0.55, 0.85)
        nev25 = rng.uniform(0.12, 0.30)
        growth25 = rng.uniform(3.5, 8.0)
        # 2026 against the same months of 2025: each pollutant cut at some multiple of the pace
        # its illustrative target asks for (a yearly 1 − (1 − R)^(1/5)); SO2 drifts down
        change = {
            column: -(1 - (1 - pct / 100) ** 0.2) * rng.choice([0.3, 0.7, 0.95, 1.1, 1.3, 1.6])
            for column, pct in REDUCTIONS.values()
        }
        change["so2_t"] = -rng.uniform(0.0, 0.04)
        g26 = rng.uniform(0.04, 0.09)
        change |= {
            "water_10k_m3": rng.uniform(-0.02, 0.03),
            "water_industrial_m3": rng.uniform(-0.06, 0.04),
            "industry_value_added_10k_yuan": (1 + g26) * 1.01 - 1,
            "public_energy_tce": -rng.uniform(-0.02, 0.03),
            "public_staff_persons": rng.uniform(-0.01, 0.01),
            "public_floor_area_m2": rng.uniform(-0.005, 0.01),
            "public_water_m3": -rng.uniform(0.0, 0.05),
            "new_building_area_m2": rng.uniform(-0.10, 0.05),
            "vehicles_new": rng.uniform(-0.05, 0.05),
        }
        green26 = min(1.0, green25 * (1 + rng.uniform(0.0, 0.12)))
        nev26 = nev25 + rng.uniform(0.02, 0.10)
        for year, month in periods.get(d.pk, []):
            f = _fraction(month)
            row: dict[str, float] = {}
            for c, v in base.items():
                v = v if c in STOCKS else v * f * (1 + rng.gauss(0, 0.002))
                if year == 2026:
                    v *= 1 + change[c] + rng.gauss(0, 0.002)
                row[c] = v
            row["green_building_area_m2"] = row["new_building_area_m2"] * (
                green26 if year == 2026 else green25
            )
            row["nev_new"] = row["vehicles_new"] * (nev26 if year == 2026 else nev25)
            row[GROWTH] = g26 * 100 if year == 2026 else growth25
            values[(d.pk, year, month)] = row
    # the province: sums of its prefectures; the real growth weighted by value added
    for year, month in periods.get(province.pk, []):
        keys = [(d.pk, year, month) for d in prefs if (d.pk, year, month) in values]
        if not keys:
            continue
        total = {c: sum(values[k][c] for k in keys) for c in EMISSION_COLUMNS + OTHER_COLUMNS}
        iva = sum(values[k]["industry_value_added_10k_yuan"] for k in keys)
        total[GROWTH] = (
            sum(values[k][GROWTH] * values[k]["industry_value_added_10k_yuan"] for k in keys) / iva
        )
        values[(province.pk, year, month)] = total
    return _import(
        values, [province, *prefs], EMISSION_COLUMNS + OTHER_COLUMNS, SYNTHETIC_SOURCE, user
    )


def project_statistics(
    rng: random.Random, province: Division, prefs: list[Division], user: Any
) -> int:
    """Synthetic key-project reductions per pollutant (2025 and 2026 so far), some prefectures
    ahead of the pace and some behind, until the projects ledger writes the verified ones."""
    periods = _periods([province, *prefs])
    emissions = {
        (s.division_id, s.year, s.month): s
        for s in RegionalStatistic.objects.filter(
            division__in=prefs,
            year=2025,
            industry__isnull=True,
            quarter__isnull=True,
        )
    }
    values: dict[Key, dict[str, float]] = {}
    for d in prefs:
        annual = emissions.get((d.pk, 2025, None))
        if annual is None:
            continue
        share = {
            column: rate * rng.uniform(0.6, 1.4) * float(annual.value(pollutant) or 0)
            for column, pollutant, rate in PROJECTS.values()
        }
        pace = {column: 1 + rng.uniform(-0.40, 0.50) for column in share}
        for year, month in periods.get(d.pk, []):
            f = _fraction(month)
            values[(d.pk, year, month)] = {
                c: v * f * (pace[c] if year == 2026 else 1.0) * (1 + rng.gauss(0, 0.01))
                for c, v in share.items()
            }
    for year, month in periods.get(province.pk, []):
        keys = [(d.pk, year, month) for d in prefs if (d.pk, year, month) in values]
        if keys:
            values[(province.pk, year, month)] = {
                c: sum(values[k][c] for k in keys) for c in PROJECT_COLUMNS
            }
    return _import(values, [province, *prefs], PROJECT_COLUMNS, PROJECT_SOURCE, user)


def _import(
    values: dict[Key, dict[str, float]],
    divisions: list[Division],
    columns: list[str],
    source: str,
    user: Any,
) -> int:
    code = {d.pk: d.code for d in divisions}
    out = io.StringIO()
    out.write(",".join(["region", "year", "month", *columns, "source"]) + "\n")
    for (pk, year, month), row in sorted(
        values.items(), key=lambda kv: (code[kv[0][0]], kv[0][1], kv[0][2] or 13)
    ):
        cells = [code[pk], str(year), "" if month is None else str(month)]
        cells += [f"{row[c]:.4f}" for c in columns]
        out.write(",".join([*cells, source]) + "\n")
    return services.import_statistics(
        data=out.getvalue().encode("utf-8"),
        user=user,
        filename="demo-pollutants-and-others.csv",
        is_synthetic=True,
        system=True,
    )


def _dec(value: float, places: int = 0) -> Decimal:
    return Decimal(str(round(value, places) if places else round(value)))


def targets(province: Division, admin: Any) -> dict[str, Target]:
    """The illustrative 2026–2030 targets of the province, decomposed to the prefectures."""
    base = RegionalStatistic.objects.get(
        division=province,
        year=2025,
        month__isnull=True,
        quarter__isnull=True,
        industry__isnull=True,
    )

    def v(column: str) -> float:
        return float(base.value(column) or 0)

    common = _illustrative(province, 2025, 2030, ILLUSTRATIVE)
    t: dict[str, Target] = {}
    for code, (_column, pct) in REDUCTIONS.items():
        t[code] = services.create_target(
            indicator=code,
            base_value=Decimal(str(pct)),
            note=f"示意：比2025年下降{pct:g}%（借用“十四五”全国目标数值为例）。",
            **common,
        )
    t["so2_total"] = services.create_target(
        indicator="so2_total",
        base_value=_dec(v("so2_t") * 0.95, -2),
        note="示意：2030年二氧化硫排放总量不超过2025年的95%。",
        **common,
    )
    for code, (column, _pollutant, _rate) in PROJECTS.items():
        t[code] = services.create_target(
            indicator=code,
            base_value=_dec(v(column) * 5 * 1.05, -1),
            note="示意：2026–2030年重点工程减排量（五年合计，以核定的项目减排量计）。",
            **common,
        )
    t["water_total"] = services.create_target(
        indicator="water_total",
        base_value=_dec(v("water_10k_m3") * 1.03, -2),
        note="示意：用水总量控制（万立方米）。",
        **common,
    )
    level = v("water_industrial_m3") / v("industry_value_added_10k_yuan")
    t["industrial_water_intensity"] = services.create_target(
        indicator="industrial_water_intensity",
        base_value=_dec(level * 0.84, 2),
        note="示意：2030年万元工业增加值用水量比2025年下降16%（2025年可比价）。",
        **common,
    )
    for code, pct in (
        ("public_energy_per_person", 6.0),
        ("public_energy_per_area", 5.0),
        ("public_water_per_person", 8.0),
    ):
        t[code] = services.create_target(
            indicator=code,
            base_value=Decimal(str(pct)),
            note=f"示意：公共机构指标比2025年下降{pct:g}%。",
            **common,
        )
    green = v("green_building_area_m2") / v("new_building_area_m2") * 100
    t["green_building_share"] = services.create_target(
        indicator="green_building_share",
        base_value=_dec(min(100.0, green + 15), 1),
        note="示意：城镇新建建筑中绿色建筑面积占比。",
        **common,
    )
    nev = v("nev_new") / v("vehicles_new") * 100
    t["nev_share"] = services.create_target(
        indicator="nev_share",
        base_value=_dec(min(100.0, nev + 20), 1),
        note="示意：新注册登记汽车中新能源汽车占比。",
        **common,
    )
    # decomposition: each kind's first allocation method (uniform rates, levels and shares;
    # caps and project amounts in proportion to each prefecture's 2025 figure)
    for target in t.values():
        services.adopt_allocation(
            target=target,
            method=services.allocation_methods(target)[0],
            user=admin,
            system=True,
            is_synthetic=True,
        )
    return t


#: the seed of this part's own random numbers (the rest of the demo's draws stay as they were)
SEED = 2026_19


def extend(province: Division, prefs: list[Division], admin: Any) -> dict[str, Target]:
    """Statistics, key-project reductions and the decomposed illustrative targets (targets/demo)."""
    rng = random.Random(SEED)
    statistics(rng, province, prefs, admin)
    project_statistics(rng, province, prefs, admin)
    made = targets(province, admin)
    made |= fourteenth(rng, province, prefs, admin)
    return made


#: the 14th FYP (2021–2025): the national reduction rates of 国发〔2021〕33号 used as the demo
#: province's illustrative targets, so that a complete year (2025) can be assessed
FOURTEENTH = {
    "cod_reduction": ("cod_t", 8.0),
    "nh3n_reduction": ("nh3n_t", 8.0),
    "nox_reduction": ("nox_t", 10.0),
    "vocs_reduction": ("vocs_t", 10.0),
}
FOURTEENTH_YEARS = range(2020, 2025)  # the annual rows back-cast here (2025 is built above)


def _illustrative(province: Division, base_year: int, end_year: int, source: str) -> dict[str, Any]:
    """The fields every illustrative (synthetic) five-year province target of the demo shares."""
    return dict(
        user=None,
        system=True,
        division=province,
        period_kind="five_year",
        base_year=base_year,
        end_year=end_year,
        source_document=source,
        status="issued",
        is_synthetic=True,
    )


def fourteenth(
    rng: random.Random, province: Division, prefs: list[Division], admin: Any
) -> dict[str, Target]:
    """The 14th-FYP pollutant part of the demo: emissions of 2020–2024 back-cast from 2025 (each
    prefecture cut its pollutants at some multiple of the target's rate, so some missed it),
    key-project reductions of 2020–2024 near 2025's, and the illustrative 2021–2025 reduction and
    key-project targets, decomposed to the prefectures and rated at each year's end."""
    annual = {
        s.division_id: s
        for s in RegionalStatistic.objects.filter(
            division__in=prefs,
            year=2025,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        )
    }
    have = set(
        RegionalStatistic.objects.filter(
            division__in=[province, *prefs],
            year__in=FOURTEENTH_YEARS,
            month__isnull=True,
            quarter__isnull=True,
            industry__isnull=True,
        ).values_list("division_id", "year")
    )
    emissions: dict[Key, dict[str, float]] = {}
    projects: dict[Key, dict[str, float]] = {}
    columns = [column for column, _pct in FOURTEENTH.values()]
    for d in prefs:
        s = annual.get(d.pk)
        if s is None or any((d.pk, y) not in have for y in FOURTEENTH_YEARS):
            continue
        # the five-year cut of each pollutant: the target's rate times 0.6–1.5
        cut = {c: pct / 100 * rng.uniform(0.6, 1.5) for c, pct in FOURTEENTH.values()}
        for y in FOURTEENTH_YEARS:
            k = 2025 - y  # years before 2025
            emissions[(d.pk, y, None)] = {
                c: float(s.value(c) or 0)
                / (1 - cut[c]) ** (k / 5)
                * (1 + (rng.gauss(0, 0.004) if y > 2020 else 0))
                for c in columns
            }
            # 2020 too (the last year of the 13th FYP): not counted towards the 2021–2025
            # targets, but the barometer's observation of an amount reads its base year
            projects[(d.pk, y, None)] = {
                c: float(s.value(c) or 0) * rng.uniform(0.7, 1.1) for c in PROJECT_COLUMNS
            }
    for data, cols in ((emissions, columns), (projects, PROJECT_COLUMNS)):
        for y in FOURTEENTH_YEARS:
            keys = [(d.pk, y, None) for d in prefs if (d.pk, y, None) in data]
            if keys and (province.pk, y) in have:
                data[(province.pk, y, None)] = {c: sum(data[k][c] for k in keys) for c in cols}
    if not emissions:
        return {}
    _import(emissions, [province, *prefs], columns, SYNTHETIC_SOURCE, admin)
    _import(projects, [province, *prefs], PROJECT_COLUMNS, PROJECT_SOURCE, admin)

    source = ILLUSTRATIVE.replace("“十五五”", "“十四五”")
    common = _illustrative(province, 2020, 2025, source)
    t: dict[str, Target] = {}
    for code, (_column, pct) in FOURTEENTH.items():
        t[f"{code}_14th"] = services.create_target(
            indicator=code,
            base_value=Decimal(str(pct)),
            note=f"示意：“十四五”比2020年下降{pct:g}%（取国发〔2021〕33号全国目标数值为例）。",
            **common,
        )
    done = RegionalStatistic.objects.filter(
        division=province,
        year__in=range(2021, 2026),
        month__isnull=True,
        quarter__isnull=True,
        industry__isnull=True,
    )
    for code, (column, _pollutant, _rate) in PROJECTS.items():
        total = sum(float(r.value(column) or 0) for r in done)
        t[f"{code}_14th"] = services.create_target(
            indicator=code,
            # a little above what the prefectures achieved, so that some fall short
            base_value=_dec(total * 1.04, -1),
            note="示意：2021–2025年重点工程减排量（五年合计，以核定的项目减排量计）。",
            **common,
        )
    for target in t.values():
        services.adopt_allocation(
            target=target,
            method=services.allocation_methods(target)[0],
            user=admin,
            system=True,
            is_synthetic=True,
        )
    rated = [*t.values(), *Target.objects.filter(parent__in=list(t.values()))]
    for year in range(2021, 2026):
        services.compute_warnings(year=year, month=12, targets=rated, system=True, notify=False)
    return t
