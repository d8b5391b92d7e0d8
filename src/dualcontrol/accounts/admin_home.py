"""Start pages of the three administrators (separated duties): each sees its own work only.

- system administrator: background jobs and the outbox, accounts by role;
- security administrator: lockouts, accounts that must enrol a second factor and have not,
  live API tokens;
- auditor: what the audit log recorded in the last day and week, by kind of event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.access.rules import allows


def system_admin() -> dict[str, Any]:
    from dualcontrol.accounts.models import Role, User
    from dualcontrol.jobs.models import Job, JobStatus, OutboxStatus
    from dualcontrol.jobs.services import outbox_counts

    since = timezone.now() - dt.timedelta(days=7)
    jobs = dict(
        Job.objects.filter(created__gte=since)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    roles = dict(
        User.objects.filter(is_active=True)
        .order_by()
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    return {
        "jobs": [(s.label, jobs.get(s.value, 0), s.value) for s in JobStatus],
        "outbox": [(s.label, outbox_counts().get(s.value, 0), s.value) for s in OutboxStatus],
        "accounts": [(r.label, roles.get(r.value, 0)) for r in Role],
    }


def security_admin() -> dict[str, Any]:
    from dualcontrol.accounts import lockout, second_factor, tokens
    from dualcontrol.accounts.models import User

    attempts = list(lockout.current_attempts()[:500])
    required = [u for u in User.objects.filter(is_active=True) if second_factor.required_for(u)]
    missing = [u for u in required if not second_factor.has_device(u)]
    return {
        "locked": sum(1 for a in attempts if lockout.is_locked(a)),
        "counting": len(attempts),
        "required": len(required),
        "missing": missing[:20],
        "missing_count": len(missing),
        "live_tokens": tokens.live().count(),
    }


# (label, action prefix) of the events an auditor watches first
AUDIT_KINDS = (
    (_("登录失败"), "login.failed"),
    (_("账号锁定"), "login.locked_out"),
    (_("动态口令（验证失败、重置、启用）"), "second_factor."),
    (_("API 令牌签发与吊销"), "api_token."),
    (_("管理员重设密码"), "password.admin_set"),
    (_("权限与分组变更"), "m2m."),
    (_("数据导出"), "export"),
)


def auditor() -> dict[str, Any]:
    from dualcontrol.audit.models import AuditEntry
    from dualcontrol.audit.services import chain_status

    now = timezone.now()
    rows = []
    for label, prefix in AUDIT_KINDS:
        qs = AuditEntry.objects.filter(action__startswith=prefix)
        rows.append(
            (
                label,
                qs.filter(at__gte=now - dt.timedelta(days=1)).count(),
                qs.filter(at__gte=now - dt.timedelta(days=7)).count(),
            )
        )
    return {
        "audit_rows": rows,
        "total_day": AuditEntry.objects.filter(at__gte=now - dt.timedelta(days=1)).count(),
        "total_week": AuditEntry.objects.filter(at__gte=now - dt.timedelta(days=7)).count(),
        "latest": AuditEntry.objects.order_by("-id")[:10],
        "chain": chain_status(),
    }


def context_for(user: Any) -> dict[str, Any] | None:
    """The start page of an administrator, or None for every other role."""
    if allows(user, "jobs.manage"):
        return {"duty": "system", **system_admin()}
    if allows(user, "security.manage"):
        return {"duty": "security", **security_admin()}
    if allows(user, "audit.read"):
        return {"duty": "audit", **auditor()}
    return None
