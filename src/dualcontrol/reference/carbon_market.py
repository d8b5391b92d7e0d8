"""Carbon-market rules (``carbon_market.yaml``): unit types, four-eyes, inclusion, offsets, calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.core.ledger import LedgerRules, UnitType
from dualcontrol.reference import ReferenceDataError, load_yaml

CARBON_MARKET_FILE = "carbon_market.yaml"


@dataclass(frozen=True)
class YearCalendar:
    """Deadlines of one compliance year (the year of the emissions)."""

    year: int
    report: dt.date | None
    verification: dt.date | None
    surrender: dt.date | None
    source: str


@dataclass(frozen=True)
class MarketRules:
    version: str
    ledger: LedgerRules
    unit_types: dict[str, dict[str, Any]]
    inclusion_threshold_co2e_t: Decimal
    removal_years_below: int
    inclusion_source: str
    offset_source: str
    calendar: dict[int, YearCalendar]
    default_report_month_day: tuple[int, int]
    statuses: dict[str, str]
    sectors: dict[str, dict[str, Any]]
    listing_basis_lag_years: int
    monthly_evidence_days: int
    obligation_rounding: str

    def sector_of_industry(self, code: str) -> str | None:
        """The covered sector of a GB/T 4754 class, None when the code does not place it."""
        for sector, spec in self.sectors.items():
            if any(code.startswith(str(c)) for c in spec.get("industries", ())):
                return sector
        return None

    def deadlines(self, year: int) -> YearCalendar:
        """The year's deadlines; a year not listed gets the report date of the 办法 only."""
        known = self.calendar.get(year)
        if known is not None:
            if known.report is None:
                month, day = self.default_report_month_day
                return YearCalendar(
                    year,
                    dt.date(year + 1, month, day),
                    known.verification,
                    known.surrender,
                    known.source,
                )
            return known
        month, day = self.default_report_month_day
        return YearCalendar(year, dt.date(year + 1, month, day), None, None, "")

    def surrender_deadlines(self) -> dict[int, dt.date]:
        return {y: c.surrender for y, c in self.calendar.items() if c.surrender is not None}


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ReferenceDataError(f"{CARBON_MARKET_FILE} {where}: {value!r} is not a date") from exc


@cache
def market_rules() -> MarketRules:
    version, data = load_yaml(CARBON_MARKET_FILE)
    try:
        unit_rows = data["unit_types"]
        unit_types = {
            str(u["code"]): UnitType(
                code=str(u["code"]),
                has_vintage=bool(u.get("has_vintage", True)),
                name_zh=str(u.get("name_zh", "")),
                decimals=int(u.get("decimals", 0)),
                counts_toward=str(u["counts_toward"]) if u.get("counts_toward") else None,
                offset_cap_frac=(
                    Decimal(str(u["offset_cap_frac"]))
                    if u.get("offset_cap_frac") is not None
                    else None
                ),
                unit=str(u.get("unit", "")),
            )
            for u in unit_rows
        }
        for ut in unit_types.values():
            if ut.counts_toward and ut.counts_toward not in unit_types:
                raise ReferenceDataError(
                    f"{CARBON_MARKET_FILE}: {ut.code} counts toward unknown {ut.counts_toward}"
                )
            if ut.offset_cap_frac is not None and not Decimal(0) <= ut.offset_cap_frac <= 1:
                raise ReferenceDataError(f"{CARBON_MARKET_FILE}: {ut.code} cap must be a fraction")
            if not 0 <= ut.decimals <= 4:
                raise ReferenceDataError(f"{CARBON_MARKET_FILE}: {ut.code} decimals 0–4")
        for u in unit_rows:
            if not u.get("source"):
                raise ReferenceDataError(
                    f"{CARBON_MARKET_FILE}: unit type {u['code']} has no source"
                )
        four_eyes: dict[tuple[str, str], bool] = {}
        correct = True
        for kind, legs in (data.get("four_eyes") or {}).items():
            if kind == "correct":
                correct = bool(legs)
                continue
            for pair, needed in (legs or {}).items():
                four_eyes[(str(kind), str(pair))] = bool(needed)
        offsets = data["offsets"]
        banking = data.get("banking") or {}
        ledger = LedgerRules(
            unit_types=unit_types,
            four_eyes=four_eyes,
            correct_four_eyes=correct,
            allow_later_vintage=bool(banking.get("allow_later_vintage", False)),
            balance_unit_types=("CEA", "CCER"),
            version=version,
        )
        calendar: dict[int, YearCalendar] = {}
        for i, row in enumerate(data.get("calendar") or [], start=1):
            year = int(row["year"])
            if year in calendar:
                raise ReferenceDataError(f"{CARBON_MARKET_FILE}: calendar year {year} twice")
            if not row.get("source"):
                raise ReferenceDataError(f"{CARBON_MARKET_FILE}: calendar row {i} has no source")
            calendar[year] = YearCalendar(
                year=year,
                report=_date(row.get("report"), f"calendar row {i} report"),
                verification=_date(row.get("verification"), f"calendar row {i} verification"),
                surrender=_date(row.get("surrender"), f"calendar row {i} surrender"),
                source=str(row["source"]),
            )
        month, day = (int(p) for p in str(data["default_report_month_day"]).split("-"))
        inclusion = data["inclusion"]
        return MarketRules(
            version=version,
            ledger=ledger,
            unit_types={str(u["code"]): dict(u) for u in unit_rows},
            inclusion_threshold_co2e_t=Decimal(str(inclusion["threshold_co2e_t"])),
            removal_years_below=int(inclusion["removal_years_below"]),
            inclusion_source=str(inclusion["source"]),
            offset_source=str(offsets["source"]),
            calendar=calendar,
            default_report_month_day=(month, day),
            statuses={str(k): str(v) for k, v in data["compliance_status"].items()},
            sectors={str(k): dict(v) for k, v in data["sectors"].items()},
            listing_basis_lag_years=int(data["listing_basis_lag_years"]),
            monthly_evidence_days=int(data["monthly_evidence_days"]),
            obligation_rounding=str(data["obligation_rounding"]),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        if isinstance(exc, ReferenceDataError):
            raise
        raise ReferenceDataError(f"{CARBON_MARKET_FILE}: {exc!r}") from exc
