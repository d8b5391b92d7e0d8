"""Nation-size accounting end to end, vectorised (issue 3).

Synthetic data: 31 provinces, 340 cities, 2,850 counties; 20,000 reporting units × 30 energy
products × 12 months = 7.2 million 205-1 lines; 5 pollutants per unit; official regional series
(energy, GDP, real growth) 2020–2025 for every province, city and county.

Stages timed: coefficient table → line accounting (tce in both conventions, comprehensive
consumption, CO2) → unit-month and unit-year totals → county/city/province roll-up → pollutant
totals → regional indicators (intensity at 2020 prices, changes, progress toward −13.5 %).
Goal: < 10 s on the 2-core machine. Prints wall times and the memory peak (ru_maxrss).
"""

from __future__ import annotations

import dataclasses
import resource
import time

import numpy as np
import pandas as pd

from dualcontrol.core.energy import account_lines_frame, coefficient_table
from dualcontrol.core.pollutants import pollutant_totals
from dualcontrol.core.progress import ProgressDefinition
from dualcontrol.core.regional import ReductionTarget, regional_indicators, rollup_divisions
from dualcontrol.reference.accounting import accounting_rules, product_coefficients, regional_rules
from dualcontrol.reference.carbon import carbon_factors
from dualcontrol.reference.electricity import electricity_equivalent
from dualcontrol.reference.pollutants import pollutants

PROVINCES = 31
CITIES = 340
COUNTIES = 2850
UNITS = 20_000
PRODUCTS = 30
MONTHS = 12
YEARS = range(2020, 2026)
# GB/T 2260 two-digit prefixes of the 31 provincial divisions of the mainland
# fmt: off
PROVINCE_PREFIXES = (
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41,
    42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
)
# fmt: on


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _divisions(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GB/T 2260-shaped codes: provinces xx0000, cities xxyy00, counties xxyyzz."""
    provinces = np.array(PROVINCE_PREFIXES) * 10000
    city_province = np.sort(
        np.concatenate([np.arange(PROVINCES), rng.integers(0, PROVINCES, CITIES - PROVINCES)])
    )
    city_rank = pd.Series(city_province).groupby(city_province).cumcount().to_numpy()
    cities = provinces[city_province] + (city_rank + 1) * 100
    county_city = np.sort(
        np.concatenate([np.arange(CITIES), rng.integers(0, CITIES, COUNTIES - CITIES)])
    )
    county_rank = pd.Series(county_city).groupby(county_city).cumcount().to_numpy()
    counties = cities[county_city] + county_rank + 1
    return provinces, cities, counties


def main() -> None:
    rng = np.random.default_rng(2026)
    t0 = time.perf_counter()
    catalogue = product_coefficients()
    base = list(catalogue.values())
    # the catalogue has 23 products; 7 synthetic clones make the 30 of the benchmark
    extra = {
        f"S{i}": dataclasses.replace(base[i % len(base)], code=f"S{i}")
        for i in range(PRODUCTS - len(base))
    }
    products = {**catalogue, **extra}
    codes = list(products)
    provinces, cities, counties = _divisions(rng)
    unit_county = counties[rng.integers(0, COUNTIES, UNITS)]

    n = UNITS * PRODUCTS * MONTHS
    unit_id = np.repeat(np.arange(UNITS, dtype=np.int32), PRODUCTS * MONTHS)
    month = np.tile(np.repeat(np.arange(MONTHS, dtype=np.int8), PRODUCTS), UNITS)
    product_idx = np.tile(np.arange(PRODUCTS, dtype=np.int8), UNITS * MONTHS)
    consumption = rng.gamma(2.0, 50.0, n)
    raw = consumption * rng.choice([0.0, 0.1], n, p=[0.9, 0.1])
    reference = np.array([float(products[c].coefficient_tce_per_unit) for c in codes])
    filled = np.where(
        rng.random(n) < 0.3, reference[product_idx] * rng.uniform(0.8, 1.2, n), np.nan
    )
    lines = pd.DataFrame(
        {
            "product_code": pd.Categorical.from_codes(product_idx, categories=codes),
            "consumption_total": consumption,
            "industrial_production": consumption,
            "raw_material": raw,
            "purchases_qty": consumption,
            "coefficient_used": filled,
        }
    )
    years = np.array(list(YEARS))
    all_regions = np.concatenate([provinces, cities, counties])
    region_col = np.repeat(all_regions, len(years))
    year_col = np.tile(years, len(all_regions))
    energy0 = rng.uniform(1e4, 1e7, len(all_regions))
    trend = np.cumprod(rng.uniform(0.97, 1.05, (len(all_regions), len(years))), axis=1)
    official = pd.DataFrame(
        {
            "region": region_col,
            "year": year_col,
            "energy_tce": (energy0[:, None] * trend).ravel(),
            "gdp_10k_yuan": (
                energy0[:, None] * 1.8 * np.cumprod(rng.uniform(1.03, 1.09, trend.shape), axis=1)
            ).ravel(),
            "gdp_real_growth_frac": np.where(
                year_col == years[0], np.nan, rng.uniform(0.02, 0.07, len(year_col))
            ),
        }
    )
    pollutant_codes = list(pollutants())
    emissions = pd.DataFrame(
        {
            "region": np.repeat(unit_county, len(pollutant_codes)),
            "year": 2025,
            "pollutant": np.tile(pollutant_codes, UNITS),
            "emission_t": rng.gamma(2.0, 5.0, UNITS * len(pollutant_codes)),
        }
    )
    t_gen = time.perf_counter() - t0
    rss_data = _rss_mib()

    stages: list[tuple[str, float]] = []
    start = time.perf_counter()
    mark = start

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages.append((name, now - mark))
        mark = now

    rules = accounting_rules()
    table = coefficient_table(
        products, electricity_equivalent(2025), carbon_factors(factor_sets=("A", "B"), year=2025)
    )
    lap("coefficient table (reference data → floats)")
    accounted = account_lines_frame(lines, table, rules)
    lap("7.2 M lines: coefficient choice, tce (当量值/等价值), comprehensive, CO2")
    measures = [
        "energy_calorific_tce",
        "energy_equivalent_tce",
        "comprehensive_calorific_tce",
        "co2_t",
    ]
    keys = unit_id.astype(np.int64) * MONTHS + month
    unit_month = {
        m: np.bincount(
            keys, weights=np.nan_to_num(accounted[m].to_numpy()), minlength=UNITS * MONTHS
        )
        for m in measures
    }
    unit_year = pd.DataFrame(
        {m: v.reshape(UNITS, MONTHS).sum(axis=1) for m, v in unit_month.items()}
    )
    unit_year["division_code"] = unit_county
    lap("unit-month and unit-year totals")
    rolled = rollup_divisions(unit_year, code_column="division_code", value_columns=measures)
    lap("county / city / province roll-up of key units")
    totals = pollutant_totals(emissions, pollutants()).frame
    rolled_pollutants = rollup_divisions(
        totals.rename(columns={"region": "division_code"}),
        code_column="division_code",
        value_columns=["emission_t"],
        keys=["pollutant"],
    )
    lap("pollutant totals and roll-up")
    indicators = regional_indicators(
        official,
        base_year=2020,
        target=ReductionTarget(0.135, 2020, 2025),
        progress_definition=ProgressDefinition.LOG,
        rules=regional_rules(),
    )
    lap(f"regional indicators ({len(official):,} region-years)")
    total = time.perf_counter() - start
    rss_peak = _rss_mib()

    national = rolled[rolled["level"] == "province"][measures].sum()
    print(f"lines accounted       {n:,} ({UNITS:,} units × {PRODUCTS} products × {MONTHS} months)")
    print(f"regions               {PROVINCES} provinces, {CITIES} cities, {COUNTIES:,} counties")
    print(f"data generation       {t_gen:6.2f} s (not timed below)")
    for name, seconds in stages:
        print(f"  {seconds:6.2f} s  {name}")
    print(f"accounting end to end {total:6.2f} s  (goal < 10 s)  → {n / total / 1e6:.2f} M lines/s")
    print(
        f"memory peak (ru_maxrss) {rss_peak:,.0f} MiB (after data generation {rss_data:,.0f} MiB)"
    )
    print(
        "check: national 当量值 {:.4e} tce, 等价值 {:.4e} tce, CO2 {:.4e} t; "
        "{} county rows, {} pollutant roll-up rows, {} indicator rows".format(
            national["energy_calorific_tce"],
            national["energy_equivalent_tce"],
            national["co2_t"],
            (rolled["level"] == "county").sum(),
            len(rolled_pollutants),
            len(indicators.frame),
        )
    )
    lines_total = accounted["energy_calorific_tce"].sum()
    gap = abs(lines_total - national["energy_calorific_tce"]) / lines_total
    print(f"check: provinces sum to the lines within {gap:.1e} (relative)")


if __name__ == "__main__":
    main()
