"""When a monthly 205-1 report is due (``reference/data/report_filing.yaml``, a platform rule)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import cache

from dualcontrol.reference import ReferenceDataError, load_yaml

FILE = "report_filing.yaml"


@dataclass(frozen=True)
class FilingRule:
    version: str
    monthly_due_day: int
    source: str

    def monthly_due(self, year: int, month: int) -> dt.date:
        """The due date of the report for ``year``-``month``: the rule's day of the next month."""
        y, m = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(y, m, min(self.monthly_due_day, calendar.monthrange(y, m)[1]))

    @staticmethod
    def current_period(today: dt.date) -> tuple[int, int]:
        """The month whose report the units are filing now: the month before ``today``'s."""
        return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


@cache
def filing_rule() -> FilingRule:
    version, data = load_yaml(FILE)
    day = data.get("monthly_due_day")
    if not isinstance(day, int) or not 1 <= day <= 31:
        raise ReferenceDataError(f"{FILE}: monthly_due_day must be a day of the month (1–31)")
    return FilingRule(version=version, monthly_due_day=day, source=str(data["source"]))
