"""Tracking rules from ``reference/data/tasks_rules.yaml`` (thresholds are data, not code)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dualcontrol.reference import ReferenceDataError, load_yaml

RULES_FILE = "tasks_rules.yaml"
PERIOD_KINDS = ("quarter", "month", "half", "year")


@dataclass(frozen=True)
class TaskRules:
    """The rule values and the file version they came from."""

    version: str
    stalled_after_days: int
    period_kind: str
    past_periods: int
    evidence_max_bytes: int
    evidence_extensions: tuple[str, ...]
    import_max_bytes: int


def load_rules() -> TaskRules:
    version, data = load_yaml(RULES_FILE)
    try:
        rules = TaskRules(
            version=version,
            stalled_after_days=int(data["stalled"]["after_days"]),
            period_kind=str(data["progress"]["period"]),
            past_periods=int(data["progress"]["past_periods"]),
            evidence_max_bytes=int(data["evidence"]["max_bytes"]),
            evidence_extensions=tuple(str(e).lower() for e in data["evidence"]["extensions"]),
            import_max_bytes=int(data["import"]["max_bytes"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}: missing or invalid value ({exc})") from exc
    if rules.period_kind not in PERIOD_KINDS:
        raise ReferenceDataError(f"{RULES_FILE}: progress.period must be one of {PERIOD_KINDS}")
    if rules.stalled_after_days < 1:
        raise ReferenceDataError(f"{RULES_FILE}: stalled.after_days must be positive")
    return rules


def period_of(day: dt.date, kind: str) -> str:
    """The reporting period containing ``day``: ``2026Q3`` / ``2026-07`` / ``2026H2`` / ``2026``."""
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "half":
        return f"{day.year}H{1 if day.month <= 6 else 2}"
    if kind == "year":
        return str(day.year)
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def recent_periods(today: dt.date, kind: str, count: int) -> list[str]:
    """The current period and ``count`` before it, newest first."""
    out: list[str] = []
    year, month = today.year, today.month
    step = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    for _ in range(count + 1):
        out.append(period_of(dt.date(year, month, 1), kind))
        month -= step
        while month < 1:
            month += 12
            year -= 1
    return out


def valid_period(label: str) -> bool:
    """Any period label of the supported kinds (a department may file for an older period)."""
    import re

    return bool(re.fullmatch(r"(19|20)\d{2}(Q[1-4]|H[12]|-(0[1-9]|1[0-2]))?", label))
