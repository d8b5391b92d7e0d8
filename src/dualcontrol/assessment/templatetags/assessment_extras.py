"""Template helpers of the assessment pages: section navigation and figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext_lazy

register = template.Library()


@register.inclusion_tag("assessment/_nav.html", takes_context=True)
def assessment_nav(context: Any, current: str) -> dict[str, Any]:
    return {"current": current, "request": context["request"]}


#: an assessment item's stored unit → the quantity kind it is printed in (number_formats.yaml)
FIGURE_KINDS = {"frac": "frac_pct", "tco2": "co2_t", "t": "pollutant_t", "tce": "energy_tce"}


@register.filter
def figure(value: Any, unit: str = "frac") -> str:
    """A stored figure for reading, as the publications print it (issue 14: not "17.0000%"):
    fractions as percentages, tce, tCO2 and tonnes with their unit (number_formats.yaml)."""
    from dualcontrol.core.numbers import NumberFormatError
    from dualcontrol.reference.number_formats import fmt

    if value in (None, ""):
        return "—"
    try:
        return fmt(value, FIGURE_KINDS.get(str(unit), "energy_tce"))
    except NumberFormatError:
        return str(value)


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
def means(basis: Any, which: str = "required") -> str:
    """What a figure of a target item is (``which`` = required | actual), in the active
    language: rebuilt from ``{which}_means_of`` when the basis has it, else the stored text
    (written in the platform's language) through the catalogue."""
    from django.conf import settings
    from django.utils.translation import get_language, gettext

    from dualcontrol.assessment.sources import means_text, stored_means

    if not hasattr(basis, "get"):
        return ""
    text = str(basis.get(f"{which}_means") or "")
    active = (get_language() or settings.LANGUAGE_CODE).lower()
    if active.split("-")[0] == settings.LANGUAGE_CODE.lower().split("-")[0]:
        return text
    try:
        of = stored_means(basis, which)
        if of:
            return means_text(of)
    except (KeyError, TypeError, ValueError):
        pass
    return gettext(text) if text else ""


@register.filter
def pretty(value: Any) -> str:
    """A JSON value shown indented (provenance), its texts without research paths and addresses
    of unofficial copies (issue 14; the record keeps them in full)."""
    import json

    from dualcontrol.reference.sources import scrub_tree

    return json.dumps(scrub_tree(value), ensure_ascii=False, indent=2, default=str)


ACTIONS = {
    "create": gettext_lazy("创建"),
    "compute_target": gettext_lazy("重新计算目标部分"),
    "self_assess": gettext_lazy("保存自评"),
    "evidence": gettext_lazy("上传佐证材料"),
    "submit": gettext_lazy("提交自评"),
    "score": gettext_lazy("评审评分"),
    "certify": gettext_lazy("录入核定节能量"),
    "sign_off": gettext_lazy("审定"),
    "reopen": gettext_lazy("重新打开"),
    "interview": gettext_lazy("约谈"),
}


@register.filter
def action_label(action: str) -> str:
    """A history entry's action in the active language (unknown actions as stored)."""
    return str(ACTIONS.get(action, action))


@register.filter
def basis_words(value: Any) -> str:
    """A scoring basis in the interface language (Chinese pages: :func:`core.assessment.basis_zh`)."""
    from django.utils.translation import get_language

    from dualcontrol.core.assessment import basis_zh

    text = "" if value is None else str(value)
    return text if (get_language() or "").startswith("en") else basis_zh(text)
