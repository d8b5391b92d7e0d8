"""The login policy (lockout, password rules, session limits, API rates) from reference data.

Read by ``settings.py`` at start-up, so this module imports nothing from Django: it turns
``reference/data/login_policy.yaml`` into one frozen dataclass and refuses a malformed file with
every problem listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dualcontrol.reference import ReferenceDataError, load_yaml

POLICY_FILE = "login_policy.yaml"
_RATE = re.compile(r"^\d+/(s|sec|m|min|h|hour|d|day)$")
_LOCK_PARAMS = {"username", "ip_address", "user_agent"}


@dataclass(frozen=True)
class LoginPolicy:
    version: str
    failure_limit: int
    cool_off_minutes: int
    lock_by: tuple[str, ...]
    reset_on_success: bool
    min_length: int
    min_classes: int
    history: int
    refuse_username: bool
    refuse_common: bool
    idle_minutes: int
    absolute_hours: float
    rates: dict[str, str]


def _positive_int(section: dict[str, Any], key: str, where: str, problems: list[str]) -> int:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{where}.{key}: a whole number ≥ 1 is required, not {value!r}")
        return 1
    return value


def load_login_policy(name: str = POLICY_FILE) -> LoginPolicy:
    version, data = load_yaml(name)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{name}: a mapping is required")
    for key in ("source", "valid_from"):
        if not data.get(key):
            problems.append(f"{key}: missing")
    sections: dict[str, dict[str, Any]] = {}
    for key in ("lockout", "password", "session", "api_throttle"):
        section = data.get(key)
        if not isinstance(section, dict):
            problems.append(f"{key}: missing section")
            section = {}
        elif not section.get("source"):
            problems.append(f"{key}.source: missing")
        sections[key] = section
    lock, pw, sess, rates = (
        sections[k] for k in ("lockout", "password", "session", "api_throttle")
    )

    lock_by = lock.get("lock_by")
    if not isinstance(lock_by, list) or not lock_by or not set(lock_by) <= _LOCK_PARAMS:
        problems.append(f"lockout.lock_by: a list of {sorted(_LOCK_PARAMS)} is required")
        lock_by = ["username", "ip_address"]
    min_classes = _positive_int(pw, "min_classes", "password", problems)
    if min_classes > 4:
        problems.append("password.min_classes: at most 4 (there are four character classes)")
    absolute = sess.get("absolute_hours")
    if isinstance(absolute, bool) or not isinstance(absolute, int | float) or absolute <= 0:
        problems.append(f"session.absolute_hours: a positive number is required, not {absolute!r}")
        absolute = 8
    rate_values: dict[str, str] = {}
    for scope in ("anon", "auth", "login"):
        rate = rates.get(scope)
        if not isinstance(rate, str) or not _RATE.match(rate):
            problems.append(
                f"api_throttle.{scope}: a rate like '120/min' is required, not {rate!r}"
            )
            rate = "1/s"
        rate_values[scope] = rate
    policy = LoginPolicy(
        version=version,
        failure_limit=_positive_int(lock, "failure_limit", "lockout", problems),
        cool_off_minutes=_positive_int(lock, "cool_off_minutes", "lockout", problems),
        lock_by=tuple(lock_by),
        reset_on_success=bool(lock.get("reset_on_success", True)),
        min_length=_positive_int(pw, "min_length", "password", problems),
        min_classes=min_classes,
        history=_positive_int(pw, "history", "password", problems),
        refuse_username=bool(pw.get("refuse_username", True)),
        refuse_common=bool(pw.get("refuse_common", True)),
        idle_minutes=_positive_int(sess, "idle_minutes", "session", problems),
        absolute_hours=float(absolute),
        rates=rate_values,
    )
    if problems:
        raise ReferenceDataError(f"{name}: " + "; ".join(problems))
    return policy
