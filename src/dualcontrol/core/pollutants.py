"""Pollutant totals and key-project reduction quantities (COD, NH3-N, SO2, NOx, VOCs).

* 排放总量: the sum of source emissions per region, year and pollutant (t).
* change vs the previous year and reduction vs a base year: E_t / E_{t−1} − 1 and 1 − E_t / E_b.
* 重点工程减排量: per project baseline − after (t), summed per region, year and pollutant.
* progress toward a reduction target uses :mod:`dualcontrol.core.progress` (log or linear); the
  share of a cap used is E_t / C.
* input rows name a pollutant by its platform code, HJ 212 code (2017, or a 2005 code mapped to
  it) or Chinese name (:func:`pollutant_aliases`); :func:`read_emission_rows` checks every row of a
  file and lists every problem.

Pollutant definitions are reference data (``pollutants.csv``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dualcontrol.core.progress import ProgressDefinition, progress_frac
from dualcontrol.core.provenance import Provenance


class PollutantDataError(ValueError):
    """Bad emission or project input; the message names the row."""


class PollutantRowsError(PollutantDataError):
    """Rows of an input file that cannot be used: every problem as (line number, text naming
    the row); line 0 = the file as a whole."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.lines = tuple(sorted(problems))
        self.problems = tuple(text for _line, text in self.lines)
        super().__init__("; ".join(self.problems))


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


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is a positive number, else NaN."""
    out = np.full(numerator.shape, np.nan)
    ok = ~np.isnan(denominator) & (denominator > 0)
    np.divide(numerator, denominator, out=out, where=ok)
    return out


def pollutant_changes(
    totals: pd.DataFrame,
    *,
    base_year: int,
    region_key: str = "region",
    target_frac: Mapping[str, float] | None = None,
    progress_definition: ProgressDefinition = ProgressDefinition.LOG,
    cap_t: Mapping[str, float] | None = None,
) -> PollutantResult:
    """Year-on-year change and reduction vs ``base_year``; progress toward per-pollutant targets
    (``target_frac``: reduction from the base year) or the share of per-pollutant caps used
    (``cap_t``: annual emissions at most C tonnes).

    ``totals`` has ``region_key``, ``year``, ``pollutant`` and ``emission_t`` (one row per
    region, pollutant and year).  The change of a year is against the year before it (NaN when
    that year is missing or zero); the reduction is NaN before the base year.
    """
    definition = ProgressDefinition(progress_definition)
    keys = [region_key, "pollutant", "year"]
    data = totals.sort_values(keys).reset_index(drop=True)
    dup = data.duplicated(keys, keep="first")
    if dup.any():
        first = data[dup.to_numpy()].iloc[0]
        raise PollutantDataError(
            f"region {first[region_key]}, pollutant {first['pollutant']}, year {first['year']} "
            "appears twice"
        )
    emissions = data["emission_t"].to_numpy(dtype=np.float64)
    by_year = data.set_index(keys)["emission_t"]
    previous = by_year.reindex(
        pd.MultiIndex.from_arrays([data[region_key], data["pollutant"], data["year"] - 1])
    ).to_numpy(dtype=np.float64)
    data["change_frac"] = _ratio(emissions, previous) - 1
    base = data.loc[data["year"] == base_year].set_index([region_key, "pollutant"])["emission_t"]
    index = pd.MultiIndex.from_frame(data[[region_key, "pollutant"]])
    base_values = base.reindex(index).to_numpy(dtype=np.float64)
    if np.isnan(base_values).any():
        first = data[np.isnan(base_values)].iloc[0]
        raise PollutantDataError(
            f"no {base_year} emission for region {first[region_key]}, pollutant {first['pollutant']}"
        )
    data["reduction_frac"] = np.where(
        data["year"].to_numpy() >= base_year, 1 - _ratio(emissions, base_values), np.nan
    )
    data["progress_frac"] = np.nan
    data["progress_definition"] = ""
    for pollutant, target in (target_frac or {}).items():
        rows = (data["pollutant"] == pollutant).to_numpy()
        achieved = data.loc[rows, "reduction_frac"].to_numpy(dtype=np.float64)
        defined = ~np.isnan(achieved)
        if definition is ProgressDefinition.LOG:
            defined &= achieved < 1  # no logarithmic progress once emissions reach zero
        values = np.full(achieved.shape, np.nan)
        values[defined] = progress_frac(achieved[defined], target, definition)
        data.loc[rows, "progress_frac"] = values
        data.loc[rows, "progress_definition"] = definition.value
    data["cap_used_frac"] = np.nan
    for pollutant, cap in (cap_t or {}).items():
        if not cap > 0:
            raise PollutantDataError(f"the cap of {pollutant} must be positive, got {cap!r}")
        rows = (data["pollutant"] == pollutant).to_numpy()
        data.loc[rows, "cap_used_frac"] = data.loc[rows, "emission_t"] / cap
    return PollutantResult(
        frame=data,
        provenance={
            "change_frac": Provenance.of(
                "change_frac",
                "emission_t[t] / emission_t[t−1] − 1 (none without the previous year)",
                [("emission_t", "column")],
            ),
            "cap_used_frac": Provenance.of(
                "cap_used_frac",
                "emission_t[t] / cap_t",
                {f"cap_t ({k})": v for k, v in (cap_t or {}).items()},
                rule="总量控制: annual emissions within the cap",
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


# ---------------------------------------------------------------------------------------------
# input files: pollutant names and emission rows


def normalise_name(text: str) -> str:
    """A pollutant name as compared: NFKC (full-width → ASCII), case-folded, without spaces,
    hyphens, underscores and dots (``NH3-N`` = ``nh3n``, ``ＣＯＤ`` = ``cod``)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-_.·]", "", folded)


_ABBREVIATION = re.compile(r"\(([^()]+)\)\s*$")


def pollutant_aliases(
    pollutants: Mapping[str, Pollutant], *, legacy_codes: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every name a pollutant may be given by → its platform code (keys normalised with
    :func:`normalise_name`): the platform code (``cod``), the HJ 212-2017 code (``w01018``), a
    HJ/T 212-2005 code that ``legacy_codes`` (2005 → 2017) maps to it (``011``), the Chinese name
    (化学需氧量) and the abbreviation of the English name (``COD``, ``NH3-N``, ``SO2``, ``NOx``,
    ``VOCs``).  A name that would mean two pollutants is a reference-data error."""
    by_2017 = {p.hj212_code: code for code, p in pollutants.items() if p.hj212_code}
    out: dict[str, str] = {}

    def add(name: str, code: str) -> None:
        key = normalise_name(name)
        if not key:
            return
        if out.get(key, code) != code:
            raise PollutantDataError(f"{name!r} names both {out[key]} and {code}")
        out[key] = code

    for code, p in pollutants.items():
        add(code, code)
        add(p.name_zh, code)
        if p.hj212_code:
            add(p.hj212_code, code)
        match = _ABBREVIATION.search(p.name_en)
        if match:
            add(match.group(1), code)
    for old, new in (legacy_codes or {}).items():
        if new in by_2017:
            add(old, by_2017[new])
    return out


def read_emission_rows(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    aliases: Mapping[str, str],
    *,
    base_year: int | None = None,
    amount: str = "emissions_t",
) -> pd.DataFrame:
    """Emission rows of a file (``region``, ``year``, ``pollutant``, ``amount`` as text, each
    with its line number) → a frame of ``row``, ``region``, ``year``, ``pollutant`` (platform
    code), ``emission_t``.  Every row is checked; any problem rejects the whole file with
    :class:`PollutantRowsError` listing every problem: an empty region, a year that is not a
    whole number 1949–2100, an unknown pollutant, an amount that is not a non-negative number, a
    region, year and pollutant given twice, and (with ``base_year``) a region and pollutant
    without a row for the base year."""
    problems: list[tuple[int, str]] = []
    records: list[dict[str, object]] = []
    seen: dict[tuple[str, int, str], int] = {}
    known = sorted(set(aliases.values()))
    for line, cells in rows:
        region = (cells.get("region") or "").strip()
        year_text = (cells.get("year") or "").strip()
        name = (cells.get("pollutant") or "").strip()
        value_text = (cells.get(amount) or "").strip()
        bad: list[str] = []
        if not region:
            bad.append("region is empty")
        year: int | None = None
        if year_text.isdigit() and 1949 <= int(year_text) <= 2100:
            year = int(year_text)
        else:
            bad.append(f"year {year_text!r} is not a year (1949–2100)")
        code = aliases.get(normalise_name(name))
        if code is None:
            bad.append(
                f"unknown pollutant {name!r} (a code of {', '.join(known)}, its HJ 212 code "
                "or its Chinese name)"
            )
        value: float | None = None
        try:
            value = float(value_text.replace(",", ""))
        except ValueError:
            bad.append(f"{amount} {value_text!r} is not a number")
        else:
            if not math.isfinite(value) or value < 0:
                bad.append(f"{amount} {value_text!r} must be a non-negative number")
                value = None
        if region and year is not None and code is not None:
            key = (region, year, code)
            if key in seen:
                bad.append(
                    f"region {region}, year {year}, pollutant {code} already given in row "
                    f"{seen[key]}"
                )
            else:
                seen[key] = line
        if bad:
            problems.append((line, f"row {line}: " + "; ".join(bad)))
            continue
        records.append(
            {"row": line, "region": region, "year": year, "pollutant": code, "emission_t": value}
        )
    if not records and not problems:
        problems.append((0, "no data rows"))
    if base_year is not None and not problems:
        years: dict[tuple[str, str], set[int]] = {}
        first: dict[tuple[str, str], int] = {}
        for r in records:
            pair = (str(r["region"]), str(r["pollutant"]))
            years.setdefault(pair, set()).add(int(str(r["year"])))
            first.setdefault(pair, int(str(r["row"])))
        for (region, code), ys in years.items():
            if base_year not in ys:
                line = first[(region, code)]
                problems.append(
                    (
                        line,
                        f"row {line}: region {region}, pollutant {code} has no {base_year} row "
                        "(the base year)",
                    )
                )
    if problems:
        raise PollutantRowsError(problems)
    return pd.DataFrame.from_records(
        records, columns=["row", "region", "year", "pollutant", "emission_t"]
    ).astype({"year": "int64", "emission_t": "float64", "row": "int64"})
