"""The time series policy (``reference/data/timeseries_policy.yaml``): retention and roll-ups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dualcontrol.reference import ReferenceDataError, load_yaml

POLICY_FILE = "timeseries_policy.yaml"

#: the raw tables the policy may name, and what their roll-ups are (technical, not policy)
KNOWN_TABLES = ("monitoring_minute", "monitoring_rtd", "metering_reading")


@dataclass(frozen=True)
class TablePolicy:
    table: str
    title_zh: str
    raw_months: int
    hour_months: int | None
    day_months: int | None
    source: str


@dataclass(frozen=True)
class TimeseriesPolicy:
    version: str
    premake_months: int
    late_hours: int
    chunk_days: int
    delete_batch_rows: int
    raw_up_to_days: int
    hour_up_to_days: int
    tables: tuple[TablePolicy, ...]
    source: str

    def table(self, name: str) -> TablePolicy:
        for t in self.tables:
            if t.table == name:
                return t
        raise KeyError(name)


def _int(
    d: Any, key: str, where: str, problems: list[str], *, low: int = 1, optional: bool = False
) -> int | None:
    value = d.get(key) if isinstance(d, dict) else None
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        problems.append(f"{where}.{key}: an integer ≥ {low} is required, not {value!r}")
        return None
    return value


def parse_policy(data: Any, version: str = "") -> TimeseriesPolicy:
    """Validate the policy mapping; a :class:`ReferenceDataError` lists every problem."""
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{POLICY_FILE}: a mapping is required")
    problems: list[str] = []
    for key in ("source", "valid_from"):
        if not data.get(key):
            problems.append(f"{key}: required")
    sections = {}
    for name in ("partitions", "rollups", "sqlite", "reads"):
        section = data.get(name)
        if not isinstance(section, dict):
            problems.append(f"{name}: a mapping is required")
            section = {}
        elif not section.get("source"):
            problems.append(f"{name}.source: required")
        sections[name] = section
    premake = _int(sections["partitions"], "premake_months", "partitions", problems)
    late = _int(sections["rollups"], "late_hours", "rollups", problems, low=0)
    chunk = _int(sections["rollups"], "chunk_days", "rollups", problems)
    batch = _int(sections["sqlite"], "delete_batch_rows", "sqlite", problems)
    raw_days = _int(sections["reads"], "raw_up_to_days", "reads", problems)
    hour_days = _int(sections["reads"], "hour_up_to_days", "reads", problems)
    tables: list[TablePolicy] = []
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, dict) or not raw_tables:
        problems.append("tables: a mapping of table -> policy is required")
        raw_tables = {}
    for name, spec in raw_tables.items():
        where = f"tables.{name}"
        if name not in KNOWN_TABLES:
            problems.append(f"{where}: unknown table (known: {', '.join(KNOWN_TABLES)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: a mapping is required")
            continue
        if not spec.get("source"):
            problems.append(f"{where}.source: required")
        raw = _int(spec, "raw_months", where, problems)
        hour = _int(spec, "hour_months", where, problems, optional=True)
        day = _int(spec, "day_months", where, problems, optional=True)
        for label, kept in (("hour_months", hour), ("day_months", day)):
            if kept is not None and raw is not None and kept < raw:
                problems.append(f"{where}.{label}: roll-ups must outlive the raw data ({raw})")
        if raw is not None:
            tables.append(
                TablePolicy(
                    name, str(spec.get("title_zh") or name), raw, hour, day, str(spec["source"])
                )
            )
    if problems:
        raise ReferenceDataError(f"{POLICY_FILE}: " + "; ".join(problems))
    assert premake and late is not None and chunk and batch and raw_days and hour_days
    return TimeseriesPolicy(
        version=version,
        premake_months=premake,
        late_hours=late,
        chunk_days=chunk,
        delete_batch_rows=batch,
        raw_up_to_days=raw_days,
        hour_up_to_days=hour_days,
        tables=tuple(tables),
        source=str(data["source"]),
    )


def timeseries_policy() -> TimeseriesPolicy:
    version, data = load_yaml(POLICY_FILE)
    return parse_policy(data, version)
