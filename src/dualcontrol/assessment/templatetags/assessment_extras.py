"""Template helpers of the assessment pages: section navigation and figures."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from dualcontrol.accounts.scope import role_of

register = template.Library()


@register.inclusion_tag("assessment/_nav.html", takes_context=True)
def assessment_nav(context: Any, current: str) -> dict[str, Any]:
    role = role_of(context["request"].user)
    return {"current": current, "role": role}


@register.filter
def figure(value: Any, unit: str = "frac") -> str:
    """A stored figure for reading: fractions as percentages (4 decimals), tce as is."""
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if unit == "frac":
        return f"{d * 100:.4f}%"
    return f"{d:,.2f} tce"


@register.filter
def plain(value: Any) -> str:
    """40.00 → 40, 36.50 → 36.5."""
    if value in (None, ""):
        return "—"
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def pretty(value: Any) -> str:
    """A JSON value shown indented (provenance)."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


ACTIONS = {
    "create": "创建",
    "compute_target": "重新计算目标部分",
    "self_assess": "保存自评",
    "evidence": "上传佐证材料",
    "submit": "提交自评",
    "score": "评审评分",
    "certify": "录入核定节能量",
    "sign_off": "审定",
    "reopen": "重新打开",
    "interview": "约谈",
}


@register.filter
def action_label(action: str) -> str:
    from django.utils.translation import gettext

    return gettext(ACTIONS.get(action, action))
