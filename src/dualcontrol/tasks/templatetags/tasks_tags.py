"""Small renderers for the tracking pages: status badges, progress bars, targets."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

from dualcontrol.tasks.models import Effective

register = template.Library()
LABELS = dict(Effective.choices)


@register.filter
def status_badge(status: str) -> str:
    return format_html('<span class="st {}">{}</span>', status, LABELS.get(status, status))


@register.filter
def status_label(status: str) -> str:
    return str(LABELS.get(status, status))


@register.filter
def bar(percent: int | None) -> str:
    p = max(0, min(100, int(percent or 0)))
    return format_html('<span class="bar"><span style="width:{}%"></span><em>{}%</em></span>', p, p)


@register.filter
def targets(items: list[dict[str, Any]]) -> str:
    def text(t: dict[str, Any]) -> tuple[str, str]:
        upper = f"–{t['value_max']}" if t.get("value_max") is not None else ""
        year = f" · {t['year']}" if t.get("year") else ""
        return (t.get("text", ""), f"{t['value']}{upper} {t['unit']}{year}")

    return format_html_join(
        "", '<span class="target" title="{}">{}</span>', (text(t) for t in items)
    )


@register.simple_tag
def departments(task: Any) -> str:
    """The task's departments as chips, leads first (prefetched assignments)."""
    items = sorted(task.assignments.all(), key=lambda a: (a.role != "lead", a.position))
    return format_html_join(
        "",
        '<span class="dept{}" title="{}">{}</span>',
        (
            (" lead" if a.role == "lead" else "", a.get_role_display(), a.department.name)
            for a in items
        ),
    )
