"""Template filters for 205-1 figures: quantities as entered, without padding zeros."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def qty(value: Any) -> str:
    """1038.4000 → 1038.4; 0E-4 → 0; None → —."""
    if value is None or value == "":
        return "—"
    d = Decimal(str(value))
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text
