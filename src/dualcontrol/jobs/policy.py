"""The jobs policy (``reference/data/jobs_policy.yaml``): outbox back-off and the job timetable."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from dualcontrol.reference import ReferenceDataError, load_yaml

POLICY_FILE = "jobs_policy.yaml"
EVERY = ("minute", "hour", "day", "month")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class OutboxPolicy:
    base_seconds: int
    factor: float
    cap_seconds: int
    max_attempts: int
    claim_seconds: int
    batch: int
    source: str

    def delay_after(self, attempts: int) -> dt.timedelta:
        """Wait before the next attempt after ``attempts`` failed ones (≥ 1)."""
        seconds = self.base_seconds * self.factor ** max(attempts - 1, 0)
        return dt.timedelta(seconds=min(float(self.cap_seconds), seconds))


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    task: str
    title_zh: str
    every: str
    minutes: int = 1
    minute: int = 0
    day: int = 1
    at: dt.time = dt.time(0, 0)
    source: str = ""

    @property
    def func(self) -> str:
        return f"dualcontrol.jobs.tasks.{self.task}"


@dataclass(frozen=True)
class ExportsPolicy:
    inline_max_rows: int
    keep_days: int
    source: str


@dataclass(frozen=True)
class JobsPolicy:
    version: str
    outbox: OutboxPolicy
    schedules: tuple[ScheduleSpec, ...]
    exports: ExportsPolicy = ExportsPolicy(20000, 7, "platform rule")


def _int(d: dict[str, Any], key: str, where: str, problems: list[str], low: int = 1) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        problems.append(f"{where}.{key}: an integer ≥ {low} is required, not {value!r}")
        return low
    return value


def parse_policy(data: Any, version: str = "") -> JobsPolicy:
    """Validate the policy mapping; a :class:`ReferenceDataError` lists every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{POLICY_FILE}: a mapping is required")
    for key in ("source", "valid_from"):
        if not data.get(key):
            problems.append(f"{key}: required")
    ob = data.get("outbox")
    if not isinstance(ob, dict):
        problems.append("outbox: a mapping is required")
        ob = {}
    factor = ob.get("factor")
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 1:
        problems.append(f"outbox.factor: a number ≥ 1 is required, not {factor!r}")
        factor = 1
    outbox = OutboxPolicy(
        base_seconds=_int(ob, "base_seconds", "outbox", problems),
        factor=float(factor),
        cap_seconds=_int(ob, "cap_seconds", "outbox", problems),
        max_attempts=_int(ob, "max_attempts", "outbox", problems),
        claim_seconds=_int(ob, "claim_seconds", "outbox", problems),
        batch=_int(ob, "batch", "outbox", problems),
        source=str(ob.get("source") or ""),
    )
    if not outbox.source:
        problems.append("outbox.source: required")
    if outbox.cap_seconds < outbox.base_seconds:
        problems.append("outbox.cap_seconds: must not be below base_seconds")
    specs: list[ScheduleSpec] = []
    raw = data.get("schedules")
    if not isinstance(raw, list):
        problems.append("schedules: a list is required")
        raw = []
    seen: set[str] = set()
    for i, s in enumerate(raw):
        where = f"schedules[{i}]"
        if not isinstance(s, dict):
            problems.append(f"{where}: a mapping is required")
            continue
        name, task, every = str(s.get("name") or ""), str(s.get("task") or ""), s.get("every")
        if not name:
            problems.append(f"{where}.name: required")
        elif name in seen:
            problems.append(f"{where}.name: {name!r} appears twice")
        seen.add(name)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", task):
            problems.append(
                f"{where}.task: a function name of dualcontrol.jobs.tasks, not {task!r}"
            )
        if every not in EVERY:
            problems.append(f"{where}.every: one of {', '.join(EVERY)}, not {every!r}")
        for key in ("title_zh", "source"):
            if not s.get(key):
                problems.append(f"{where}.{key}: required")
        at = dt.time(0, 0)
        if every in ("day", "month"):
            m = _TIME.match(str(s.get("at") or ""))
            if m is None:
                problems.append(f'{where}.at: a time "HH:MM" is required, not {s.get("at")!r}')
            else:
                at = dt.time(int(m.group(1)), int(m.group(2)))
        minutes = _int(s, "minutes", where, problems) if every == "minute" else 1
        minute = _int(s, "minute", where, problems, low=0) if every == "hour" else 0
        if minute > 59:
            problems.append(f"{where}.minute: 0–59, not {minute}")
        day = _int(s, "day", where, problems) if every == "month" else 1
        if day > 28:
            problems.append(f"{where}.day: 1–28 (every month has it), not {day}")
        specs.append(
            ScheduleSpec(
                name=name,
                task=task,
                title_zh=str(s.get("title_zh") or ""),
                every=str(every),
                minutes=minutes,
                minute=minute,
                day=day,
                at=at,
                source=str(s.get("source") or ""),
            )
        )
    ex = data.get("exports")
    if not isinstance(ex, dict):
        problems.append("exports: a mapping is required")
        ex = {}
    exports = ExportsPolicy(
        inline_max_rows=_int(ex, "inline_max_rows", "exports", problems),
        keep_days=_int(ex, "keep_days", "exports", problems),
        source=str(ex.get("source") or ""),
    )
    if not exports.source:
        problems.append("exports.source: required")
    if problems:
        raise ReferenceDataError(f"{POLICY_FILE}: " + "; ".join(problems))
    return JobsPolicy(version=version, outbox=outbox, schedules=tuple(specs), exports=exports)


def jobs_policy() -> JobsPolicy:
    version, data = load_yaml(POLICY_FILE)
    return parse_policy(data, version)
