"""System check: the audit retention must keep entries at least six months."""

from __future__ import annotations

from typing import Any

from django.core import checks


def retention_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from dualcontrol.audit.policy import configured_retention, retention_problems

    where, days = configured_retention()
    return [
        checks.Error(f"{where}: {problem}", id="dualcontrol.audit.E001")
        for problem in retention_problems(days)
    ]
