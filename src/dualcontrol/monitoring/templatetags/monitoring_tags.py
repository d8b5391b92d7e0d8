"""Template tags of the monitoring pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

from dualcontrol.access.rules import allows
from dualcontrol.monitoring.models import Shutdown, ShutdownStatus
from dualcontrol.monitoring.queries import visible_outlets

register = template.Library()


@register.simple_tag(takes_context=True)
def shutdowns_to_review(context: dict[str, Any]) -> int:
    """Filed shutdown reports the signed-in officer may accept or return (0 for others)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not allows(user, "monitoring.manage"):
        return 0
    return Shutdown.objects.filter(
        status=ShutdownStatus.FILED, outlet__in=visible_outlets(user).values("pk")
    ).count()


# <, > and & as JSON escapes: the text of a <script type="application/json"> element can then
# never close the element or open another, whatever a packet's pollutant code or name holds
# (what django.utils.html.json_script does, for an element with a class instead of an id).
_SCRIPT_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter
def script_json(value: Any) -> str:
    """``value`` as JSON safe to put inside a ``<script type="application/json">`` element."""
    return mark_safe(  # escaped above: no <, > or & remain
        json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder).translate(_SCRIPT_JSON_ESCAPES)
    )
