"""Region-level accounting: intensity at comparable prices, changes, increments, progress, CO2.

Inputs are the statistics bureau's regional series (energy consumption, GDP and the real GDP
growth index), never sums of key units: :func:`compare_with_sum_of_parts` only checks them.

Definitions (shared/reference/02):

* GDP at the comparable prices of base year b (可比价): GDP_b × Π_{s=b+1..t}(1 + g_s) for t > b,
  GDP_b / Π_{s=t+1..b}(1 + g_s) for t < b, where g_s is the real growth vs the previous year.
* intensity (单位GDP能耗) = energy / comparable GDP (tce per 10 000 yuan);
  year-on-year change I_t / I_{t−1} − 1; cumulative change vs start s: I_t / I_s − 1.
* energy growth E_t / E_{t−1} − 1; increment E_t − E_s.
* 14th-FYP rules (accounting_rules.yaml): columns such as new renewable electricity, feedstock and
  separately accounted major projects are deducted from the figures the rule names.
* progress toward a reduction target R from s: achieved a = −(I_t / I_s − 1), then logarithmic
  ln(1 − a)/ln(1 − R) or linear a/R (each result says which).
* rate basis (accounting_rules.yaml ``rate_basis``): the changes (and the progress computed from
  them) use intensities rounded half up to 4 decimals (``rounded_intensity``, so a printed rate
  agrees with the printed intensities: 1.3000 → 1.2521 is −3.68 %) or the unrounded intensities
  (``unrounded``, the default without rules). Energy and CO2 intensities follow the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dualcontrol.core.progress import (
    PROGRESS_FORMULAS,
    PaceDefinition,
    ProgressDefinition,
    progress_frac,
    required_reduction_frac,
)
from dualcontrol.core.provenance import Provenance

REQUIRED_COLUMNS: tuple[str, ...] = (
    "region",
    "year",
    "energy_tce",
    "gdp_10k_yuan",
    "gdp_real_growth_frac",
)


class RegionalDataError(ValueError):
    """Regional input that cannot be accounted; the message names the row."""


@dataclass(frozen=True)
class RegionalAdjustment:
    """A 14th-FYP deduction (e.g. 原料用能) and the figures it is excluded from."""

    column: str
    name_zh: str
    excluded_from: tuple[str, ...]  # "total" and/or "intensity"
    source: str = ""


RATE_BASES: tuple[str, ...] = ("rounded_intensity", "unrounded")


@dataclass(frozen=True)
class RateBasis:
    """What intensity changes are computed from: rounded (``rounded_intensity``) or exact intensities."""

    rule: str = "unrounded"
    intensity_places: int = 4
    source: str = ""

    def __post_init__(self) -> None:
        if self.rule not in RATE_BASES:
            raise RegionalDataError(
                f"rate basis {self.rule!r} is not one of {', '.join(RATE_BASES)}"
            )
        if not 0 <= self.intensity_places <= 12:
            raise RegionalDataError("intensity_places must be between 0 and 12")

    @property
    def rounded(self) -> bool:
        return self.rule == "rounded_intensity"

    def apply(self, intensity: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The intensities the rates are computed from (rounded half up under ``rounded_intensity``)."""
        values = np.asarray(intensity, dtype=np.float64)
        if not self.rounded:
            return values
        scale = 10.0**self.intensity_places
        # two-stage: 6 decimals of the scaled value first, so 1.88679999999 × 10⁴ is not floored
        scaled = np.round(np.abs(values) * scale, 6)
        return np.asarray(np.sign(values) * np.floor(scaled + 0.5) / scale, dtype=np.float64)

    def term(self, name: str) -> str:
        """How a formula writes an intensity under this rule."""
        return f"round({name}, {self.intensity_places})" if self.rounded else name

    def describe(self) -> str:
        if self.rounded:
            text = (
                f"rate basis rounded_intensity: rates from intensities rounded half up to "
                f"{self.intensity_places} decimals"
            )
        else:
            text = "rate basis unrounded: rates from the unrounded intensities"
        return f"{text} ({self.source})" if self.source else text


@dataclass(frozen=True)
class RegionalRules:
    version: str
    adjustments: tuple[RegionalAdjustment, ...] = ()
    rounding: Mapping[str, int] = field(default_factory=dict)
    rate_basis: RateBasis = RateBasis()


@dataclass(frozen=True)
class ReductionTarget:
    """五年目标 — a reduction of an indicator from ``start_year`` to ``end_year``."""

    reduction_frac: float
    start_year: int
    end_year: int

    def __post_init__(self) -> None:
        if not 0 < self.reduction_frac < 1:
            raise RegionalDataError("the target reduction must be between 0 and 100 %")
        if self.end_year <= self.start_year:
            raise RegionalDataError("the target end year must be after its start year")


FORMULAS: dict[str, str] = {
    "gdp_comparable_10k_yuan": "gdp_10k_yuan[base_year] × Π(1 + gdp_real_growth_frac) "
    "from base_year+1 to t (÷ for t < base_year)",
    "energy_assessed_tce": "energy_tce − Σ adjustments excluded from the total",
    "energy_for_intensity_tce": "energy_tce − Σ adjustments excluded from the intensity",
    "intensity_tce_per_10k_yuan": "energy_for_intensity_tce / gdp_comparable_10k_yuan",
    "intensity_change_frac": "intensity[t] / intensity[t−1] − 1",
    "energy_growth_frac": "energy_tce[t] / energy_tce[t−1] − 1",
    "cumulative_intensity_change_frac": "intensity[t] / intensity[start] − 1",
    "energy_increment_tce": "energy_assessed_tce[t] − energy_assessed_tce[start]",
    "achieved_reduction_frac": "−cumulative_intensity_change_frac",
    "required_reduction_linear_frac": "target × (t − start) / (end − start)",
    "required_reduction_compound_frac": "1 − (1 − target)^((t − start) / (end − start))",
    "co2_intensity_t_per_10k_yuan": "co2_t / gdp_comparable_10k_yuan",
    "co2_intensity_change_frac": "co2_intensity[t] / co2_intensity[t−1] − 1",
    "cumulative_co2_intensity_change_frac": "co2_intensity[t] / co2_intensity[start] − 1",
    "co2_achieved_reduction_frac": "−cumulative_co2_intensity_change_frac",
}
# figures computed from intensity ratios: the rate basis applies to them
RATE_FIGURES: dict[str, str] = {
    "intensity_change_frac": "intensity",
    "cumulative_intensity_change_frac": "intensity",
    "achieved_reduction_frac": "intensity",
    "progress_frac": "intensity",
    "co2_intensity_change_frac": "co2_intensity",
    "cumulative_co2_intensity_change_frac": "co2_intensity",
    "co2_achieved_reduction_frac": "co2_intensity",
    "co2_progress_frac": "co2_intensity",
}


def _where(df: pd.DataFrame, label: Any) -> str:
    row = df.loc[label]
    return f"row {label} (region {row['region']}, year {row['year']})"


def validate_regional_frame(df: pd.DataFrame, rules: RegionalRules | None = None) -> None:
    """Raise :class:`RegionalDataError` naming the first bad row (index label = row name)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise RegionalDataError(f"missing column(s): {', '.join(missing)}")
    if df.empty:
        raise RegionalDataError("no rows")
    numeric = ["year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_frac"]
    numeric += [a.column for a in (rules.adjustments if rules else ()) if a.column in df.columns]
    numeric += [c for c in ("co2_t",) if c in df.columns]
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna() & (df[col].astype(str).str.strip() != "")
        if bad.any():
            label = df.index[bad.to_numpy()][0]
            raise RegionalDataError(f"row {label}: {col} is not a number: {df.loc[label, col]!r}")
    for col in ("region", "year", "energy_tce", "gdp_10k_yuan"):
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            raise RegionalDataError(f"row {df.index[empty.to_numpy()][0]}: {col} is empty")
    years = pd.to_numeric(df["year"])
    if (years != years.round()).any():
        label = df.index[(years != years.round()).to_numpy()][0]
        raise RegionalDataError(f"row {label}: year {df.loc[label, 'year']!r} is not a year")
    for col in ["energy_tce", *numeric[4:]]:
        values = pd.to_numeric(df[col])
        negative = values < 0
        if negative.any():
            label = df.index[negative.to_numpy()][0]
            raise RegionalDataError(
                f"{_where(df, label)}: {col} must not be negative, got {df.loc[label, col]}"
            )
    gdp = pd.to_numeric(df["gdp_10k_yuan"])
    if (gdp <= 0).any():
        label = df.index[(gdp <= 0).to_numpy()][0]
        raise RegionalDataError(f"{_where(df, label)}: gdp_10k_yuan must be positive")
    growth = pd.to_numeric(df["gdp_real_growth_frac"])
    if (growth <= -1).any():
        label = df.index[(growth <= -1).to_numpy()][0]
        raise RegionalDataError(f"{_where(df, label)}: a real growth of −100 % or less")
    keys = pd.DataFrame({"region": df["region"].astype(str), "year": years.astype(int)})
    dup = keys.duplicated(keep="first")
    if dup.any():
        raise RegionalDataError(
            f"{_where(df, df.index[dup.to_numpy()][0])}: region and year appear twice"
        )
    ordered = keys.assign(label=df.index, growth=growth.to_numpy()).sort_values(["region", "year"])
    step = ordered.groupby("region")["year"].diff()
    gap = step > 1
    if gap.any():
        first = ordered[gap.to_numpy()].iloc[0]
        previous = int(first["year"] - step[gap].iloc[0])
        raise RegionalDataError(
            f"row {first['label']} (region {first['region']}): year {first['year']} follows "
            f"{previous} — year(s) missing in between"
        )
    needs_growth = step.notna() & ordered["growth"].isna()
    if needs_growth.any():
        first = ordered[needs_growth.to_numpy()].iloc[0]
        raise RegionalDataError(
            f"row {first['label']} (region {first['region']}, year {first['year']}): "
            "gdp_real_growth_frac is empty (needed for every year after the first)"
        )


def comparable_gdp(df: pd.DataFrame, base_year: int) -> pd.Series:
    """GDP at the comparable prices of ``base_year`` (10 000 yuan), aligned with ``df``."""
    ordered = df.sort_values(["region", "year"])
    factor = (1 + ordered["gdp_real_growth_frac"].astype(float)).where(
        ordered.groupby("region").cumcount() > 0, 1.0
    )
    chain = factor.groupby(ordered["region"]).cumprod()
    at_base = ordered["year"] == base_year
    regions_with_base = set(ordered.loc[at_base, "region"])
    missing = [r for r in dict.fromkeys(df["region"]) if r not in regions_with_base]
    if missing:
        raise RegionalDataError(
            f"base year {base_year} missing for region(s) {', '.join(map(str, missing))}"
        )
    base_gdp = ordered.loc[at_base].set_index("region")["gdp_10k_yuan"].astype(float)
    base_chain = chain[at_base.to_numpy()].set_axis(ordered.loc[at_base, "region"])
    regions = ordered["region"]
    result = (
        base_gdp.reindex(regions).to_numpy()
        * chain.to_numpy()
        / base_chain.reindex(regions).to_numpy()
    )
    return pd.Series(result, index=ordered.index).reindex(df.index)


@dataclass(frozen=True)
class RegionalIndicators:
    """指标核算结果: one row per region and year, with the rules that produced it."""

    frame: pd.DataFrame
    base_year: int
    start_year: int
    target: ReductionTarget | None
    progress_definition: ProgressDefinition
    rules_version: str
    provenance: Mapping[str, Provenance]
    co2_target: ReductionTarget | None = None
    rate_basis: RateBasis = RateBasis()

    def explain(self, region: object, year: int, column: str) -> Provenance:
        """The provenance of one figure, with the input values of that region and year."""
        rows = self.frame[(self.frame["region"] == region) & (self.frame["year"] == year)]
        if rows.empty:
            raise KeyError(f"no row for region {region!r}, year {year}")
        if column not in self.provenance:
            raise KeyError(f"no figure named {column!r}")
        row = rows.iloc[0]
        general = self.provenance[column]
        inputs = {name: row[name] for name, _ in general.inputs if name in row.index}
        inputs[column] = row[column]
        return Provenance.of(
            f"{column} ({region}, {year})",
            general.formula,
            inputs,
            general.versions,
            general.rule,
            general.notes,
        )


def regional_indicators(
    df: pd.DataFrame,
    *,
    base_year: int,
    target: ReductionTarget | None = None,
    progress_definition: ProgressDefinition = ProgressDefinition.LOG,
    rules: RegionalRules | None = None,
    start_year: int | None = None,
    co2_target: ReductionTarget | None = None,
) -> RegionalIndicators:
    """区域指标核算 over a frame with :data:`REQUIRED_COLUMNS` (fractions, not percentages).

    ``start_year`` (default: the target's start, else ``base_year``) is the year cumulative
    changes and increments are measured from. Optional columns: ``co2_t`` (empty cells give
    empty CO2 figures) and the columns of the rules' adjustments (``renewable_new_tce``,
    ``feedstock_tce`` …). ``co2_target`` is a CO2-intensity reduction target (its progress uses
    ``progress_definition`` too). Changes use the intensities of ``rules.rate_basis``.
    """
    rules = rules or RegionalRules(version="")
    validate_regional_frame(df, rules)
    definition = ProgressDefinition(progress_definition)
    if target and co2_target and target.start_year != co2_target.start_year:
        raise RegionalDataError("the energy and CO2 targets must start in the same year")
    first_target = target or co2_target
    start = (
        start_year
        if start_year is not None
        else (first_target.start_year if first_target else base_year)
    )
    basis = rules.rate_basis
    data = df.copy()
    data["year"] = pd.to_numeric(data["year"]).astype(int)
    for col in ("energy_tce", "gdp_10k_yuan", "gdp_real_growth_frac"):
        data[col] = pd.to_numeric(data[col]).astype(float)
    order = data.groupby("region", sort=False).ngroup()  # regions in input order
    data = data.iloc[np.lexsort((data["year"].to_numpy(), order.to_numpy()))]
    out = data[["region", "year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_frac"]].copy()
    out["gdp_comparable_10k_yuan"] = comparable_gdp(data, base_year)
    with_start = set(data.loc[data["year"] == start, "region"])
    missing_start = [r for r in dict.fromkeys(data["region"]) if r not in with_start]
    if missing_start:
        raise RegionalDataError(
            f"start year {start} missing for region(s) {', '.join(map(str, missing_start))}"
        )

    deductions_total = np.zeros(len(data))
    deductions_intensity = np.zeros(len(data))
    used_adjustments: list[RegionalAdjustment] = []
    for adj in rules.adjustments:
        if adj.column not in data.columns:
            continue
        values = pd.to_numeric(data[adj.column]).fillna(0).astype(float).to_numpy()
        out[adj.column] = values
        used_adjustments.append(adj)
        if "total" in adj.excluded_from:
            deductions_total += values
        if "intensity" in adj.excluded_from:
            deductions_intensity += values
    out["energy_assessed_tce"] = data["energy_tce"].to_numpy() - deductions_total
    out["energy_for_intensity_tce"] = data["energy_tce"].to_numpy() - deductions_intensity
    nonpositive = out["energy_for_intensity_tce"] <= 0
    if nonpositive.any():
        label = out.index[nonpositive.to_numpy()][0]
        raise RegionalDataError(
            f"{_where(data, label)}: energy for the intensity is not positive "
            f"({out.loc[label, 'energy_for_intensity_tce']})"
        )

    group = out.groupby("region", sort=False)
    out["intensity_tce_per_10k_yuan"] = (
        out["energy_for_intensity_tce"] / out["gdp_comparable_10k_yuan"]
    )
    out["energy_growth_frac"] = out["energy_tce"] / group["energy_tce"].shift(1) - 1

    def at_start(values: pd.Series) -> np.ndarray:
        at = values[(out["year"] == start).to_numpy()].set_axis(
            out.loc[out["year"] == start, "region"]
        )
        return at.reindex(out["region"]).to_numpy()

    def rate_intensity(col: str) -> pd.Series:
        return pd.Series(basis.apply(out[col].to_numpy()), index=out.index)

    def previous(values: pd.Series) -> pd.Series:
        return values.groupby(out["region"], sort=False).shift(1)

    after_start = (out["year"] >= start).to_numpy()
    intensity = rate_intensity("intensity_tce_per_10k_yuan")
    out["intensity_change_frac"] = intensity / previous(intensity) - 1
    cumulative = intensity.to_numpy() / at_start(intensity) - 1
    out["cumulative_intensity_change_frac"] = np.where(after_start, cumulative, np.nan)
    increment = out["energy_assessed_tce"].to_numpy() - at_start(out["energy_assessed_tce"])
    out["energy_increment_tce"] = np.where(after_start, increment, np.nan)
    out["achieved_reduction_frac"] = -out["cumulative_intensity_change_frac"]

    if target is not None:
        achieved = out["achieved_reduction_frac"].to_numpy(dtype=np.float64)
        out["progress_frac"] = progress_frac(achieved, target.reduction_frac, definition)
        elapsed = (out["year"] - target.start_year).to_numpy(dtype=np.float64)
        elapsed = np.where(elapsed >= 0, elapsed, np.nan)
        n = target.end_year - target.start_year
        out["required_reduction_linear_frac"] = required_reduction_frac(
            target.reduction_frac, elapsed, n, PaceDefinition.LINEAR
        )
        out["required_reduction_compound_frac"] = required_reduction_frac(
            target.reduction_frac, elapsed, n, PaceDefinition.COMPOUND
        )
        out["progress_definition"] = definition.value
    else:
        out["progress_frac"] = np.nan
        out["progress_definition"] = ""

    if "co2_t" in data.columns:
        out["co2_t"] = pd.to_numeric(data["co2_t"]).astype(float)
        out["co2_intensity_t_per_10k_yuan"] = out["co2_t"] / out["gdp_comparable_10k_yuan"]
        co2_intensity = rate_intensity("co2_intensity_t_per_10k_yuan")
        out["co2_intensity_change_frac"] = co2_intensity / previous(co2_intensity) - 1
        co2_cumulative = co2_intensity.to_numpy() / at_start(co2_intensity) - 1
        out["cumulative_co2_intensity_change_frac"] = np.where(after_start, co2_cumulative, np.nan)
        out["co2_achieved_reduction_frac"] = -out["cumulative_co2_intensity_change_frac"]
        if co2_target is not None:
            co2_achieved = out["co2_achieved_reduction_frac"].to_numpy(dtype=np.float64)
            out["co2_progress_frac"] = progress_frac(
                co2_achieved, co2_target.reduction_frac, definition
            )
    if co2_target is not None and "co2_progress_frac" not in out.columns:
        out["co2_progress_frac"] = np.nan

    out = out.reset_index(drop=False).rename(columns={"index": "source_row"})
    provenance = _provenance(
        out, base_year, start, target, definition, rules, used_adjustments, co2_target
    )
    return RegionalIndicators(
        frame=out,
        base_year=base_year,
        start_year=start,
        target=target,
        progress_definition=definition,
        rules_version=rules.version,
        provenance=provenance,
        co2_target=co2_target,
        rate_basis=basis,
    )


def _provenance(
    out: pd.DataFrame,
    base_year: int,
    start: int,
    target: ReductionTarget | None,
    definition: ProgressDefinition,
    rules: RegionalRules,
    adjustments: Sequence[RegionalAdjustment],
    co2_target: ReductionTarget | None = None,
) -> dict[str, Provenance]:
    versions = (rules.version,) if rules.version else ()
    basis = rules.rate_basis
    adj_note = [
        f"{a.column} ({a.name_zh}) excluded from {'+'.join(a.excluded_from)}: {a.source}"
        for a in adjustments
    ]
    inputs: dict[str, list[str]] = {
        "gdp_comparable_10k_yuan": ["gdp_10k_yuan", "gdp_real_growth_frac"],
        "energy_assessed_tce": ["energy_tce", *(a.column for a in adjustments)],
        "energy_for_intensity_tce": ["energy_tce", *(a.column for a in adjustments)],
        "intensity_tce_per_10k_yuan": ["energy_for_intensity_tce", "gdp_comparable_10k_yuan"],
        "intensity_change_frac": ["intensity_tce_per_10k_yuan"],
        "energy_growth_frac": ["energy_tce"],
        "cumulative_intensity_change_frac": ["intensity_tce_per_10k_yuan"],
        "energy_increment_tce": ["energy_assessed_tce"],
        "achieved_reduction_frac": ["cumulative_intensity_change_frac"],
        "required_reduction_linear_frac": [],
        "required_reduction_compound_frac": [],
        "co2_intensity_t_per_10k_yuan": ["co2_t", "gdp_comparable_10k_yuan"],
        "co2_intensity_change_frac": ["co2_intensity_t_per_10k_yuan"],
        "cumulative_co2_intensity_change_frac": ["co2_intensity_t_per_10k_yuan"],
        "co2_achieved_reduction_frac": ["cumulative_co2_intensity_change_frac"],
    }
    rule_text = {
        "gdp_comparable_10k_yuan": f"comparable prices of {base_year} (shared/reference/02)",
        "intensity_tce_per_10k_yuan": f"单位GDP能耗 at {base_year} prices (shared/reference/02)",
        "cumulative_intensity_change_frac": f"measured from {start}",
        "cumulative_co2_intensity_change_frac": f"measured from {start}",
        "energy_increment_tce": f"增量 vs {start}",
    }

    def with_basis(column: str, text: str) -> str:
        if column not in RATE_FIGURES:
            return text
        return f"{text}; {basis.describe()}" if text else basis.describe()

    def formula_of(column: str, formula: str) -> str:
        name = RATE_FIGURES.get(column)
        if name is None or not basis.rounded:
            return formula
        for suffix in ("[t]", "[t−1]", "[start]"):
            formula = formula.replace(f"{name}{suffix}", basis.term(f"{name}{suffix}"))
        return formula

    result: dict[str, Provenance] = {}
    for column, formula in FORMULAS.items():
        if column not in out.columns:
            continue
        notes = adj_note if column in ("energy_assessed_tce", "energy_for_intensity_tce") else []
        result[column] = Provenance.of(
            column,
            formula_of(column, formula),
            [(name, "column") for name in inputs[column]],
            versions,
            with_basis(column, rule_text.get(column, "")),
            notes,
        )
    progress_targets = (
        ("progress_frac", "achieved_reduction_frac", target, "能耗强度"),
        ("co2_progress_frac", "co2_achieved_reduction_frac", co2_target, "碳排放强度"),
    )
    for figure, achieved, goal, indicator in progress_targets:
        if goal is None or figure not in out.columns:
            continue
        result[figure] = Provenance.of(
            figure,
            PROGRESS_FORMULAS[definition]
            .replace("target_reduction", str(goal.reduction_frac))
            .replace("achieved_reduction", achieved.removesuffix("_frac")),
            [(achieved, "column")],
            versions,
            with_basis(
                figure,
                f"完成进度 ({definition.value} definition) of a {goal.reduction_frac:.4g} "
                f"{indicator} reduction {goal.start_year}→{goal.end_year} (shared/reference/02)",
            ),
        )
    return result


def division_parents(codes: pd.Series) -> pd.DataFrame:
    """Province and city codes of GB/T 2260 6-digit division codes (xx0000, xxxx00)."""
    numeric = pd.to_numeric(codes.astype(str), errors="coerce")
    if numeric.isna().any():
        raise RegionalDataError(f"not a 6-digit division code: {codes[numeric.isna()].iloc[0]!r}")
    values = numeric.astype(np.int64).to_numpy()
    return pd.DataFrame(
        {
            "province_code": values // 10000 * 10000,
            "city_code": values // 100 * 100,
            "county_code": values,
        },
        index=codes.index,
    )


def rollup_divisions(
    frame: pd.DataFrame,
    *,
    code_column: str,
    value_columns: Sequence[str],
    keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Sums of ``value_columns`` at county, city and province level (GB/T 2260 hierarchy).

    Returns columns ``level`` (county/city/province), ``division_code``, ``keys`` and the sums.
    A figure published by a statistics bureau must be used as published; these sums are for
    checks and for figures that are genuinely additive (key-unit totals, pollutant loads).
    """
    parents = division_parents(frame[code_column])
    base = pd.concat([parents, frame[list(keys) + list(value_columns)]], axis=1)
    parts = []
    for level, col in (
        ("county", "county_code"),
        ("city", "city_code"),
        ("province", "province_code"),
    ):
        sums = base.groupby([col, *keys], sort=True)[list(value_columns)].sum().reset_index()
        sums = sums.rename(columns={col: "division_code"})
        sums.insert(0, "level", level)
        parts.append(sums)
    return pd.concat(parts, ignore_index=True)


def compare_with_sum_of_parts(
    official: pd.DataFrame,
    parts: pd.DataFrame,
    *,
    keys: Sequence[str],
    value: str,
) -> pd.DataFrame:
    """Official figure vs the sum of its parts: ``official``, ``sum_of_parts``, ``gap``, ``gap_frac``."""
    summed = parts.groupby(list(keys), sort=True)[value].sum().rename("sum_of_parts")
    merged = official.set_index(list(keys))[[value]].rename(columns={value: "official"})
    result = merged.join(summed, how="outer")
    result["gap"] = result["official"] - result["sum_of_parts"]
    result["gap_frac"] = result["gap"] / result["official"]
    return result.reset_index()
