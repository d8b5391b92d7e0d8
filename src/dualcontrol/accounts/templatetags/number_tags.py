"""Numbers as published on every page (issue 14): ``{% load number_tags %}``, then

* ``{{ value|fmt:"energy_10k_tce" }}`` → ``1.23 万吨标准煤`` (number and unit label);
* ``{{ value|fmtn:"frac_pct" }}`` → ``14.74`` (the number only, for a table whose header
  names the unit);
* ``{% unit "energy_10k_tce" %}`` → ``万吨标准煤`` (the label in the active language).

The kinds and their precision are reference data (``reference/data/number_formats.yaml``); the
same function formats exports and bulletins (:mod:`dualcontrol.reference.number_formats`).
"""

from __future__ import annotations

from typing import Any

from django import template

from dualcontrol.core.numbers import NumberFormatError
from dualcontrol.reference.number_formats import active_language, kind_for_unit, number_format
from dualcontrol.reference.number_formats import fmt as format_value

register = template.Library()


def _safe(value: Any, kind: str, *, unit: bool) -> str:
    number_format(str(kind))  # an unknown kind is a template error, never hidden
    try:
        return format_value(value, str(kind), unit=unit)
    except NumberFormatError:
        if value in (None, ""):
            return "—"
        return str(value)  # a text where a number was expected is shown as it is


@register.filter
def fmt(value: Any, kind: str) -> str:
    """The value with its unit label, as the kind prints it."""
    return _safe(value, kind, unit=True)


@register.filter
def fmtn(value: Any, kind: str) -> str:
    """The number only, as the kind prints it (the header names the unit)."""
    return _safe(value, kind, unit=False)


@register.simple_tag
def unit(kind: str) -> str:
    """The unit label of a kind in the active language."""
    return number_format(str(kind)).unit(active_language())


@register.filter
def fmtu(value: Any, stored_unit: str) -> str:
    """A figure stored with a unit label (a target's ``unit``: ``%``, ``tce`` …) shown in the kind
    ``number_formats.yaml`` ``stored_units`` names for it (``tce`` → ``万吨标准煤``); a unit not
    listed: the number as stored, then the label."""
    kind = kind_for_unit(stored_unit)
    if kind is not None:
        return _safe(value, kind, unit=True)
    if value in (None, ""):
        return "—"
    return f"{value} {stored_unit}".strip()


@register.filter
def fmtun(value: Any, stored_unit: str) -> str:
    """As :func:`fmtu`, the number only (the column header or a unit column names the unit)."""
    kind = kind_for_unit(stored_unit)
    if kind is not None:
        return _safe(value, kind, unit=False)
    return "—" if value in (None, "") else str(value)


@register.filter
def shown_unit(stored_unit: str) -> str:
    """The label a figure stored in ``stored_unit`` is shown with (``tce`` → ``万吨标准煤``)."""
    kind = kind_for_unit(stored_unit)
    if kind is None:
        return str(stored_unit or "")
    return number_format(kind).unit(active_language())
