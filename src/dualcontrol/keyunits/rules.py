"""The workflow rules of the key-unit registry (``reference/data/keyunit_rules.yaml``).

Deadlines, reminder days, the audit time limit, the frontrunner rule, upgrade deadlines for units
below the 基准 level and the capacity-share target are data; where no official figure was found
the file says "platform rule".  Thresholds, limit lines, 标杆/基准 levels and surcharge rules come
from :mod:`dualcontrol.reference.efficiency`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from dualcontrol.reference import ReferenceDataError, load_yaml

RULES_FILE = "keyunit_rules.yaml"


@dataclass(frozen=True)
class KeyUnitRules:
    version: str
    deadline_month: int
    deadline_day: int
    deadline_source: str
    remind_days_before: tuple[int, ...]
    remind_days_after: tuple[int, ...]
    audit_due_days: int
    audit_due_source: str
    audit_grades: tuple[str, ...]
    upgrade_deadlines: dict[str, dt.date]
    upgrade_default_years: int
    upgrade_source: str
    benchmark_target_frac: Decimal
    benchmark_target_year: int
    benchmark_source: str
    frontrunner_min_energy_tce: Decimal
    frontrunner_grades: tuple[str, ...]
    frontrunner_per_product: int
    frontrunner_source: str

    def status_deadline(self, year: int) -> dt.date:
        """The due date of the status report on ``year`` (filed in the following year)."""
        return dt.date(year + 1, self.deadline_month, self.deadline_day)

    def upgrade_deadline(self, product: str, year: int) -> dt.date:
        """改造升级时限 of a line below the 基准 level graded for ``year``."""
        fixed = self.upgrade_deadlines.get(product)
        if fixed is not None:
            return fixed
        return dt.date(year + self.upgrade_default_years, 12, 31)

    def audit_due(self, ordered: dt.date) -> dt.date:
        return ordered + dt.timedelta(days=self.audit_due_days)


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
        raise ReferenceDataError(f"{RULES_FILE}: {where} must be a list of whole days")
    return tuple(sorted(value, reverse=True))


@cache
def load_rules() -> KeyUnitRules:
    version, data = load_yaml(RULES_FILE)
    try:
        sr, au, up = data["status_report"], data["audit"], data["upgrade"]
        bs, fr = data["benchmark_share"], data["frontrunner"]
        deadlines: dict[str, dt.date] = {}
        for product, day in (up.get("deadlines") or {}).items():
            if not isinstance(day, dt.date):
                raise ReferenceDataError(f"{RULES_FILE}: upgrade.deadlines.{product} is no date")
            deadlines[str(product)] = day
        rules = KeyUnitRules(
            version=version,
            deadline_month=int(sr["deadline_month"]),
            deadline_day=int(sr["deadline_day"]),
            deadline_source=str(sr["deadline_source"]),
            remind_days_before=_ints(sr["remind_days_before"], "remind_days_before"),
            remind_days_after=_ints(sr["remind_days_after"], "remind_days_after"),
            audit_due_days=int(au["due_days"]),
            audit_due_source=str(au["due_source"]),
            audit_grades=tuple(str(g) for g in au["propose_for_grades"]),
            upgrade_deadlines=deadlines,
            upgrade_default_years=int(up["default_years"]),
            upgrade_source=f"{up['deadlines_source']}; {up['default_source']}",
            benchmark_target_frac=Decimal(str(bs["target_frac"])),
            benchmark_target_year=int(bs["target_year"]),
            benchmark_source=str(bs["target_source"]),
            frontrunner_min_energy_tce=Decimal(str(fr["min_energy_tce"])),
            frontrunner_grades=tuple(str(g) for g in fr["grades"]),
            frontrunner_per_product=int(fr["per_product"]),
            frontrunner_source=str(fr["source"]),
        )
        dt.date(2001, rules.deadline_month, rules.deadline_day)
    except ReferenceDataError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}: missing or invalid value ({exc})") from exc
    if rules.audit_due_days < 1 or rules.frontrunner_per_product < 1:
        raise ReferenceDataError(f"{RULES_FILE}: audit.due_days and per_product must be positive")
    if not Decimal(0) < rules.benchmark_target_frac <= 1:
        raise ReferenceDataError(f"{RULES_FILE}: benchmark_share.target_frac must be in (0, 1]")
    return rules
