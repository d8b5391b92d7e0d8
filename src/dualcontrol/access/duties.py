"""Duties of province departments (review, scoring, publishing) as data: ``duties.yaml``.

Separated duties of 等保 2.0: a province officer reviews, scores or publishes only when their
department carries that duty; the province administrator carries every duty; city officers are
scoped by region, not by department (see :mod:`dualcontrol.access.scope`); the gates that use them are in :mod:`dualcontrol.access.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from dualcontrol.accounts.models import Role
from dualcontrol.reference import load_yaml

REVIEW_REPORTS = "review_reports"
SCORE_ASSESSMENT = "score_assessment"
PUBLISH_RESULTS = "publish_results"


@dataclass(frozen=True)
class Duty:
    code: str
    name_zh: str
    name_en: str
    department_keywords: tuple[str, ...]


@cache
def duties() -> dict[str, Duty]:
    _, data = load_yaml("duties.yaml")
    return {
        code: Duty(
            code=code,
            name_zh=str(d["name_zh"]),
            name_en=str(d["name_en"]),
            department_keywords=tuple(str(k) for k in d["department_keywords"]),
        )
        for code, d in data["duties"].items()
    }


def department_has(department_name: str, duty: str) -> bool:
    return any(k in department_name for k in duties()[duty].department_keywords)


def has_duty(user: Any, duty: str) -> bool:
    """Whether a province user may carry out ``duty`` (city scope is decided elsewhere)."""
    from dualcontrol.access.rules import role_of

    if duty not in duties():
        raise KeyError(f"unknown duty {duty!r}: not in duties.yaml")
    role = role_of(user)
    if role == Role.PROVINCE_ADMIN:
        return True
    if role != Role.PROVINCE_OFFICER or not getattr(user, "department_id", None):
        return False
    return department_has(user.department.name, duty)
