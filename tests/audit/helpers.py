"""Tampering with the audit table the way an intruder with database access would (raw SQL)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from dualcontrol.audit.models import AuditEntry
from dualcontrol.audit.services import record

TRIGGER = "audit_auditentry_append_only"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def tamper(sql: str, params: Any = ()) -> None:
    """Run ``sql`` on the audit table; on PostgreSQL with its append-only trigger disabled for the
    statement (as the table owner / a superuser could: ALTER TABLE … DISABLE TRIGGER)."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"ALTER TABLE audit_auditentry DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if is_postgres():
            cursor.execute(f"ALTER TABLE audit_auditentry ENABLE TRIGGER {TRIGGER}")


def entries(n: int = 5, actor: Any = None) -> list[AuditEntry]:
    """``n`` new entries with varied content (nested JSON, numbers, dates, Chinese text)."""
    import datetime as dt
    from decimal import Decimal

    out = []
    for i in range(n):
        out.append(
            record(
                actor=actor,
                action=f"test.step{i}",
                object_type="tests.thing",
                object_id=str(i),
                object_repr=f"测试对象 {i}",
                before={"n": i, "ratio": 0.1 * i, "big": 1e20, "when": dt.date(2026, 1, i + 1)},
                after={"n": i + 1, "amount": Decimal("12.50"), "rows": [1, 2.5, {"x": None}]},
                note=f"第 {i} 步",
            )
        )
    return out


def row(entry_id: int) -> dict[str, Any]:
    return AuditEntry.objects.filter(pk=entry_id).values().get()
