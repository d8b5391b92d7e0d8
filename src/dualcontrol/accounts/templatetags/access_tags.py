"""``{% if user|may:"publishing.manage" %}``: templates ask the access rules, never compare roles.

A builtin of the template engine (settings ``TEMPLATES``), so no ``{% load %}`` is needed.
"""

from __future__ import annotations

from typing import Any

from django import template

from dualcontrol.access.rules import allows

register = template.Library()


@register.filter
def may(user: Any, rule: str) -> bool:
    return allows(user, rule)
