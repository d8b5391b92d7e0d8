"""Template tags of the monitoring pages."""

from __future__ import annotations

from typing import Any

from django import template

from dualcontrol.accounts.scope import is_staff_role
from dualcontrol.monitoring.models import Shutdown, ShutdownStatus
from dualcontrol.monitoring.queries import visible_outlets

register = template.Library()


@register.simple_tag(takes_context=True)
def shutdowns_to_review(context: dict[str, Any]) -> int:
    """Filed shutdown reports the signed-in officer may accept or return (0 for others)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not is_staff_role(user):
        return 0
    return Shutdown.objects.filter(
        status=ShutdownStatus.FILED, outlet__in=visible_outlets(user).values("pk")
    ).count()
