"""``{% statistics_filings_link target %}``: from an indicator's progress page to the
self-reported statistics filings that feed it (officers only; nothing when no table feeds it)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dualcontrol.access.rules import allows
from dualcontrol.reporting.statistics_tables import tables_for_indicator

register = template.Library()


@register.simple_tag(takes_context=True)
def statistics_filings_link(context: dict[str, Any], target: Any) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not allows(user, "statistics.file"):
        return ""
    tables = tables_for_indicator(getattr(target, "indicator", ""))
    if not tables:
        return ""
    query = {"indicator": target.indicator}
    division = getattr(target, "division", None)
    if division is not None and getattr(target, "industry_id", None) is None:
        query["division"] = division.code
    return format_html(
        '<a href="{}?{}">{}</a>',
        reverse("reporting:statistics"),
        urlencode(query),
        _("本指标的统计数据由%(tables)s自报，查看填报与审核")
        % {"tables": "、".join(f"《{t.name}》" for t in tables)},
    )
