"""Pollutant totals and key-project reduction quantities (COD, NH3-N, SO2, NOx, VOCs).

* 排放总量: the sum of source emissions per region, year and pollutant (t).
* change vs the previous year and reduction vs a base year: E_t / E_{t−1} − 1 and 1 − E_t / E_b.
* 重点工程减排量: per project baseline − after (t), summed per region, year and pollutant.
* progress toward a reduction target uses :mod:`dualcontrol.core.progress` (log or linear).

Pollutant definitions are reference data (``pollutants.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualcontrol.core.progress import ProgressDefinition, progress_frac
from dualcontrol.core.provenance import Provenance


class PollutantDataError(ValueError):
    """Bad emission or project input; the message names the row."""


@dataclass(frozen=True)
class Pollutant:
    """主要污染物 — one pollutant of the total-control set."""

    code: str
    name_zh: str
    name_en: str
    medium: str
    hj212_code: str
    unit: str
    note: str = ""
    source: str = ""
    version: str = ""


@dataclass(frozen=True)
class PollutantResult:
    frame: pd.DataFrame
    provenance: Mapping[str, Provenance]


def _check(
    frame: pd.DataFrame,
    pollutants: Mapping[str, Pollutant],
    required: Sequence[str],
    numeric: Sequence[str],
) -> pd.DataFrame:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PollutantDataError(f"missing column(s): {', '.join(missing)}")
    unknown = ~frame["pollutant"].isin(list(pollutants))
    if unknown.any():
        label = frame.index[unknown.to_numpy()][0]
        raise PollutantDataError(
            f"row {label}: unknown pollutant {frame.loc[label, 'pollutant']!r} "
            f"(known: {', '.join(pollutants)})"
        )
    data = frame.copy()
    for col in numeric:
        values = pd.to_numeric(data[col], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            label = data.index[bad.to_numpy()][0]
            raise PollutantDataError(
                f"row {label}: {col} must be a non-negative number, got {data.loc[label, col]!r}"
            )
        data[col] = values.astype(float)
    return data


def _versions(pollutants: Mapping[str, Pollutant]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.version for p in pollutants.values() if p.version))


def pollutant_totals(
    emissions: pd.DataFrame,
    pollutants: Mapping[str, Pollutant],
    *,
    keys: Sequence[str] = ("region", "year"),
) -> PollutantResult:
    """排放总量: Σ ``emission_t`` per ``keys`` and pollutant, with the number of sources."""
    data = _check(emissions, pollutants, [*keys, "pollutant", "emission_t"], ["emission_t"])
    grouped = data.groupby([*keys, "pollutant"], sort=True)["emission_t"]
    frame = pd.DataFrame({"emission_t": grouped.sum(), "sources": grouped.size()}).reset_index()
    return PollutantResult(
        frame=frame,
        provenance={
            "emission_t": Provenance.of(
                "emission_t",
                f"Σ emission_t of the sources per {', '.join(keys)} and pollutant",
                [("emission_t", "column")],
                _versions(pollutants),
                "排放总量",
            )
        },
    )


def pollutant_changes(
    totals: pd.DataFrame,
    *,
    base_year: int,
    region_key: str = "region",
    target_frac: Mapping[str, float] | None = None,
    progress_definition: ProgressDefinition = ProgressDefinition.LOG,
) -> PollutantResult:
    """Year-on-year change and reduction vs ``base_year``; progress toward per-pollutant targets.

    ``totals`` has ``region_key``, ``year``, ``pollutant`` and ``emission_t``.
    """
    definition = ProgressDefinition(progress_definition)
    data = totals.sort_values([region_key, "pollutant", "year"]).reset_index(drop=True)
    group = data.groupby([region_key, "pollutant"], sort=False)["emission_t"]
    data["change_frac"] = data["emission_t"] / group.shift(1) - 1
    base = data.loc[data["year"] == base_year].set_index([region_key, "pollutant"])["emission_t"]
    index = pd.MultiIndex.from_frame(data[[region_key, "pollutant"]])
    base_values = base.reindex(index).to_numpy()
    if np.isnan(base_values).any():
        first = data[np.isnan(base_values)].iloc[0]
        raise PollutantDataError(
            f"no {base_year} emission for region {first[region_key]}, pollutant {first['pollutant']}"
        )
    data["reduction_frac"] = np.where(
        data["year"] >= base_year, 1 - data["emission_t"].to_numpy() / base_values, np.nan
    )
    data["progress_frac"] = np.nan
    data["progress_definition"] = ""
    for pollutant, target in (target_frac or {}).items():
        rows = (data["pollutant"] == pollutant).to_numpy()
        data.loc[rows, "progress_frac"] = progress_frac(
            data.loc[rows, "reduction_frac"].to_numpy(dtype=np.float64), target, definition
        )
        data.loc[rows, "progress_definition"] = definition.value
    return PollutantResult(
        frame=data,
        provenance={
            "change_frac": Provenance.of(
                "change_frac", "emission_t[t] / emission_t[t−1] − 1", [("emission_t", "column")]
            ),
            "reduction_frac": Provenance.of(
                "reduction_frac",
                f"1 − emission_t[t] / emission_t[{base_year}]",
                [("emission_t", "column")],
                rule=f"减排比例 vs {base_year}",
            ),
            "progress_frac": Provenance.of(
                "progress_frac",
                "ln(1 − reduction) / ln(1 − target)"
                if definition is ProgressDefinition.LOG
                else "reduction / target",
                {k: v for k, v in (target_frac or {}).items()},
                rule=f"完成进度 ({definition.value} definition)",
            ),
        },
    )


def key_project_reductions(
    projects: pd.DataFrame,
    pollutants: Mapping[str, Pollutant],
    *,
    keys: Sequence[str] = ("region", "year"),
) -> PollutantResult:
    """重点工程减排量: per project ``baseline_t − after_t``, summed per ``keys`` and pollutant.

    A project whose emission after the measure exceeds its baseline is an input error.
    """
    data = _check(
        projects,
        pollutants,
        ["project_id", *keys, "pollutant", "baseline_t", "after_t"],
        ["baseline_t", "after_t"],
    )
    data["reduction_t"] = data["baseline_t"] - data["after_t"]
    negative = data["reduction_t"] < 0
    if negative.any():
        label = data.index[negative.to_numpy()][0]
        raise PollutantDataError(
            f"row {label}: project {data.loc[label, 'project_id']} emits more after the measure "
            f"({data.loc[label, 'after_t']} t) than before ({data.loc[label, 'baseline_t']} t)"
        )
    grouped = data.groupby([*keys, "pollutant"], sort=True)
    frame = pd.DataFrame(
        {
            "reduction_t": grouped["reduction_t"].sum(),
            "projects": grouped["project_id"].nunique(),
        }
    ).reset_index()
    return PollutantResult(
        frame=frame,
        provenance={
            "reduction_t": Provenance.of(
                "reduction_t",
                "Σ (baseline_t − after_t) of the key projects",
                [("baseline_t", "column"), ("after_t", "column")],
                _versions(pollutants),
                "重点工程减排量",
            )
        },
    )
