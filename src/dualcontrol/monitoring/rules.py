"""Monitoring rules (``reference/data/monitoring_rules.yaml``) as a plain, versioned value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dualcontrol.reference import ReferenceDataError, load_yaml

RULES_FILE = "monitoring_rules.yaml"


@dataclass(frozen=True)
class MonitoringRules:
    """Thresholds of alarms, data validity and the effective-transmission rate, with sources."""

    version: str
    time_zone: str
    accepted_years: tuple[int, int]
    valid_flags: frozenset[str]
    missing_flag_valid: bool
    effective_min_frac: float
    basis_cn: str
    expected_per_day: int
    assessed_pollutants: dict[str, tuple[str, ...]]
    exceedance_only_valid: bool
    offline_after_minutes: int
    offline_cns: tuple[str, ...]
    offline_lookback_days: int
    abnormal_cns: tuple[str, ...]
    negative_allowed: frozenset[str]
    range_flags: frozenset[str]
    stuck_min_records: int
    stuck_ignore_zero: bool
    shutdown_deadline_day: int  # 停运报备 filed by this day of the next month
    shutdown_counted_statuses: frozenset[str]
    shutdown_document_extensions: tuple[str, ...]
    shutdown_document_max_bytes: int
    shutdown_max_days: int
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_valid_flag(self, flag: str | None) -> bool:
        """数据有效: the flag is a valid one (or absent, when absent counts as valid)."""
        if flag is None or flag == "":
            return self.missing_flag_valid
        return flag in self.valid_flags

    def accepts(self, when: dt.datetime) -> bool:
        return self.accepted_years[0] <= when.year <= self.accepted_years[1]

    def shutdown_deadline(self, year: int, month: int) -> dt.datetime:
        """End of the day by which a shutdown report for hours of (year, month) must be filed
        (station local time): the deadline day of the following month, 24:00."""
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        day = nxt.replace(day=self.shutdown_deadline_day) + dt.timedelta(days=1)
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)


def _rules_from(version: str, d: dict[str, Any]) -> MonitoringRules:
    st, va, et = d["station_time"], d["validity"], d["effective_transmission"]
    ex, off, ab = d["exceedance"], d["offline"], d["abnormal"]
    sd = d["shutdown"]
    if not 1 <= int(sd["document_deadline_day"]) <= 28:
        raise ReferenceDataError(f"{RULES_FILE}: shutdown.document_deadline_day must be 1-28")
    years = tuple(int(y) for y in st["accepted_years"])
    if len(years) != 2 or years[0] > years[1] or years[0] < 1900:
        raise ReferenceDataError(f"{RULES_FILE}: accepted_years must be [first, last]")
    try:
        ZoneInfo(str(st["time_zone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}: unknown time zone {st['time_zone']!r}") from exc
    min_frac = float(et["min_frac"])
    if not 0 < min_frac <= 1:
        raise ReferenceDataError(f"{RULES_FILE}: effective_transmission.min_frac must be in (0, 1]")
    assessed = {str(k): tuple(str(c) for c in v) for k, v in et["assessed_pollutants"].items()}
    if set(assessed) != {"water", "gas"}:
        raise ReferenceDataError(f"{RULES_FILE}: assessed_pollutants needs water and gas")
    for key, value in (
        ("expected_per_day", et["expected_per_day"]),
        ("offline.after_minutes", off["after_minutes"]),
        ("stuck_min_records", ab["stuck_min_records"]),
        ("offline.lookback_days", off["lookback_days"]),
        ("shutdown.document_max_bytes", sd["document_max_bytes"]),
        ("shutdown.max_days", sd["max_days"]),
    ):
        if int(value) < 1:
            raise ReferenceDataError(f"{RULES_FILE}: {key} must be >= 1")
    return MonitoringRules(
        version=version,
        time_zone=str(st["time_zone"]),
        accepted_years=(years[0], years[1]),
        valid_flags=frozenset(str(f) for f in va["valid_flags"]),
        missing_flag_valid=bool(va["missing_flag_valid"]),
        effective_min_frac=min_frac,
        basis_cn=str(et["basis_cn"]),
        expected_per_day=int(et["expected_per_day"]),
        assessed_pollutants=assessed,
        exceedance_only_valid=bool(ex["only_valid_flags"]),
        offline_after_minutes=int(off["after_minutes"]),
        offline_cns=tuple(str(c) for c in off["data_cns"]),
        offline_lookback_days=int(off["lookback_days"]),
        abnormal_cns=tuple(str(c) for c in ab["cns"]),
        negative_allowed=frozenset(str(c) for c in ab["negative_allowed"]),
        range_flags=frozenset(str(f) for f in ab["range_flags"]),
        stuck_min_records=int(ab["stuck_min_records"]),
        stuck_ignore_zero=bool(ab["stuck_ignore_zero"]),
        shutdown_deadline_day=int(sd["document_deadline_day"]),
        shutdown_counted_statuses=frozenset(str(x) for x in sd["counted_statuses"]),
        shutdown_document_extensions=tuple(str(x).lower() for x in sd["document_extensions"]),
        shutdown_document_max_bytes=int(sd["document_max_bytes"]),
        shutdown_max_days=int(sd["max_days"]),
        sources={
            "station_time": str(st["source"]),
            "accepted_years": str(st["accepted_years_source"]),
            "validity": str(va["source"]),
            "effective_min": str(et["min_source"]),
            "effective_basis": str(et["basis_source"]),
            "assessed": str(et["assessed_source"]),
            "exceedance": str(ex["source"]),
            "offline": str(off["source"]),
            "abnormal": str(ab["source"]),
            "shutdown": str(sd["source"]),
            "shutdown_offline": str(sd["offline_source"]),
        },
    )


@cache
def monitoring_rules() -> MonitoringRules:
    """The rules in force (one file; its version stamp goes on every alarm)."""
    version, d = load_yaml(RULES_FILE)
    try:
        return _rules_from(version, d)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ReferenceDataError):
            raise
        raise ReferenceDataError(f"{RULES_FILE}: {exc!r}") from exc
