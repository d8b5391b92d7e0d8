"""Allocation rules of the national carbon market (``ets_allocation.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.core.ets import IndustryRules, PowerBenchmarks, PowerRules
from dualcontrol.reference import ReferenceDataError, load_yaml

ETS_FILE = "ets_allocation.yaml"


@dataclass(frozen=True)
class AllocationRules:
    version: str
    categories: dict[str, dict[str, Any]]
    benchmarks: dict[int, PowerBenchmarks]
    power: tuple[PowerRules, ...]
    industry: tuple[IndustryRules, ...]
    sectors: dict[str, dict[str, Any]]

    @property
    def coal_categories(self) -> frozenset[str]:
        return frozenset(c for c, v in self.categories.items() if v.get("coal"))

    def power_benchmarks(self, year: int) -> PowerBenchmarks | None:
        return self.benchmarks.get(year)

    def power_rules(self, year: int) -> PowerRules | None:
        return next((r for r in self.power if year in r.years), None)

    def industry_rules(self, year: int) -> IndustryRules | None:
        return next((r for r in self.industry if year in r.years), None)


def _d(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{ETS_FILE} {where}: {value!r} is not a number") from exc


@cache
def allocation_rules() -> AllocationRules:
    version, data = load_yaml(ETS_FILE)
    try:
        categories = {str(k): dict(v) for k, v in data["power_categories"].items()}
        benchmarks: dict[int, PowerBenchmarks] = {}
        for row in data["power_benchmarks"]:
            year = int(row["year"])
            where = f"power_benchmarks {year}"
            if year in benchmarks:
                raise ReferenceDataError(f"{ETS_FILE}: benchmarks for {year} twice")
            if not row.get("source"):
                raise ReferenceDataError(f"{ETS_FILE} {where}: no source")
            supply = {str(c): _d(v, where) for c, v in row["supply"].items()}
            heat = {str(c): _d(v, where) for c, v in row["heat"].items()}
            if set(supply) != set(categories) or set(heat) != set(categories):
                raise ReferenceDataError(f"{ETS_FILE} {where}: a category is missing")
            benchmarks[year] = PowerBenchmarks(
                year, supply, heat, str(row["status"]), row["source"]
            )
        power = tuple(
            PowerRules(
                years=tuple(int(y) for y in r["years"]),
                pre_allocation_frac=_d(r["pre_allocation_frac"], "power_rules"),
                gap_cap_frac=_d(r["gap_cap_frac"], "power_rules"),
                gas_top_up=bool(r["gas_top_up"]),
                source=str(r["source"]),
            )
            for r in data["power_rules"]
        )
        industry = []
        for r in data["industry_rules"]:
            extra = {
                k: _d(r[k], "industry_rules")
                for k in (
                    "lower_bound",
                    "upper_bound",
                    "slope",
                    "alpha_at_or_above_upper",
                    "alpha_at_or_below_lower",
                )
                if k in r
            }
            industry.append(
                IndustryRules(
                    years=tuple(int(y) for y in r["years"]),
                    method=str(r["method"]),
                    source=str(r["source"]),
                    **extra,
                )
            )
        if data.get("rounding") != "floor":
            raise ReferenceDataError(f"{ETS_FILE}: only rounding: floor is implemented")
        return AllocationRules(
            version=version,
            categories=categories,
            benchmarks=benchmarks,
            power=power,
            industry=tuple(industry),
            sectors={str(k): dict(v) for k, v in data["industry_sectors"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ReferenceDataError):
            raise
        raise ReferenceDataError(f"{ETS_FILE}: {exc!r}") from exc
