"""Overdue and stalled tasks as rows for the command line (``task_warnings``, ``plans warnings``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dualcontrol.tasks import queries
from dualcontrol.tasks.models import AssignmentRole, Effective, PlanTask
from dualcontrol.tasks.rules import load_rules


def warning_rows(
    *,
    today: dt.date,
    plan_id: int | None = None,
    division_code: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Every overdue / stalled task (all plans, or one plan / one division and below)."""
    rules = load_rules()
    qs = queries.with_effective(PlanTask.objects.all(), today, rules.stalled_after_days)
    kinds = [kind] if kind in queries.WARNING_KINDS else list(queries.WARNING_KINDS)
    qs = qs.filter(effective__in=kinds)
    if plan_id is not None:
        qs = qs.filter(plan_id=plan_id)
    if division_code:
        qs = qs.filter(plan__division__path__contains=f"{division_code}/")
    qs = (
        qs.select_related("plan")
        .prefetch_related("assignments__department")
        .order_by("effective", "deadline", "last_activity_on", "plan_id", "position")
    )
    labels = dict(Effective.choices)
    rows = []
    for t in qs:
        assignments = sorted(t.assignments.all(), key=lambda a: a.position)
        rows.append(
            {
                "kind": t.effective,
                "label": str(labels[t.effective]),
                "plan_id": t.plan_id,
                "plan": t.plan.title,
                "task_id": t.pk,
                "key": t.key,
                "title": t.title,
                "lead_departments": [
                    a.department.name for a in assignments if a.role == AssignmentRole.LEAD
                ],
                "participating_departments": [
                    a.department.name for a in assignments if a.role == AssignmentRole.PARTICIPATING
                ],
                "deadline": t.deadline.isoformat() if t.deadline else None,
                "last_activity_on": t.last_activity_on.isoformat(),
                "percent_complete": t.percent_complete,
                "reason": queries.warning_reason(t, today),
            }
        )
    return rows


def as_text(rows: list[dict[str, Any]], today: dt.date) -> str:
    lines = [f"# {today.isoformat()}: {len(rows)} warnings"]
    for r in rows:
        leads = "、".join(r["lead_departments"]) or "—"
        lines.append(f"[{r['label']}] {r['plan']} {r['key']} {r['title']}")
        lines.append(f"    牵头: {leads}  期限: {r['deadline'] or '—'}  {r['reason']}")
    return "\n".join(lines)
