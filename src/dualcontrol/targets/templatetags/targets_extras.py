"""Template helpers of the targets pages: the section navigation and number formats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from dualcontrol.access.targets import alerts_for, is_province
from dualcontrol.reference.number_formats import fmt as format_value
from dualcontrol.targets.insight import colour

register = template.Library()

SECTIONS = [
    ("dashboard", "targets:dashboard"),
    ("list", "targets:list"),
    ("warnings", "targets:warnings"),
    ("alerts", "targets:alerts"),
    ("letters", "targets:letters"),
    ("statistics", "targets:statistics"),
]


@register.inclusion_tag("targets/_nav.html", takes_context=True)
def targets_nav(context: Any, current: str) -> dict[str, Any]:
    request = context["request"]
    return {
        "current": current,
        "unread": alerts_for(request.user).filter(read_at__isnull=True).count(),
        "province": is_province(request.user),
    }


@register.filter
def pct(value: Any, places: int = 2) -> str:
    """A fraction shown as a percentage: 0.0321 → 3.21."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(places)}f}"


@register.filter
def wan(value: Any, places: Any = None) -> str:
    """tce → 万吨标准煤, the number only, with the precision of ``number_formats.yaml``
    (``energy_10k_tce``; issue 14: "0.0 万吨" beside "2 %").  ``places`` is ignored: the
    precision is reference data, not a template's choice."""
    return format_value(value, "energy_10k_tce", unit=False)


@register.filter
def num(value: Any, places: int = 0) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.{int(places)}f}"


@register.filter
def fig(value: Any, unit: str) -> str:
    """A warning figure in its unit: a fraction as %, tce as 万tce, others as the catalogue
    prints them (:func:`dualcontrol.targets.indicators.figure`)."""
    if value is None:
        return "—"
    if unit == "frac":
        return format_value(value, "frac_pct")
    if unit == "tce":
        return format_value(value, "energy_10k_tce")
    from dualcontrol.targets.indicators import figure

    return figure(value, unit)


@register.filter
def fill(colour_name: Any) -> str:
    return colour(str(colour_name) if colour_name else None)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def short(text: Any) -> str:
    """A level name without its parenthesis: 一级预警（红灯） → 一级预警,
    level 1 warning (red) → level 1 warning."""
    return str(text or "").split("（")[0].split(" (")[0]


@register.filter
def plain(value: Any) -> str:
    """A decimal without trailing zeros: 13.5000 → 13.5, 15.0000 → 15."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(d.normalize(), "f")


# what an officer reads for a stored band ("0 < gap_frac_of_required <= 1/10"): the measure's
# name and the bounds as percentages where the measure is a fraction (issue 14: no formulas as code)
_MEASURES = {
    "gap_frac_of_required": (_("差距/目标值"), True),
    "completion_frac": (_("完成进度"), True),
    "gap_pp": (_("差距（百分点）"), False),
    "gap": (_("差距"), False),
}
_BOUND = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")


@register.filter
def band_label(text: Any) -> str:
    """A stored band in words and symbols, e.g. "0 < 差距/目标值 ≤ 10%"."""
    s = str(text or "")
    for code, (label, as_pct) in _MEASURES.items():
        if code not in s.split():
            continue
        words = []
        for token in s.split():
            if token == code:
                words.append(str(label))
            elif token in ("<=", ">="):
                words.append("≤" if token == "<=" else "≥")
            elif as_pct and _BOUND.fullmatch(token):
                words.append(f"{_fraction_pct(token)}%")
            else:
                words.append(token)
        return " ".join(words)
    return s


def _fraction_pct(token: str) -> str:
    from fractions import Fraction

    value = Fraction(token) * 100
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


@register.filter
def short_region(name: Any) -> str:
    """A division's short name where its full name does not fit (怒江傈僳族自治州 → 怒江州)."""
    from dualcontrol.core.region_names import short_name

    groups, suffixes = _ethnic_groups()
    return short_name(str(name or ""), groups, suffixes)


@cache
def _ethnic_groups() -> tuple[tuple[str, ...], dict[str, str]]:
    from dualcontrol.reference import load_yaml

    _version, data = load_yaml("ethnic_groups.yaml")
    return tuple(data["groups"]), dict(data["suffixes"])
