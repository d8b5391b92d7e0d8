"""``{{ rule.source|official_source }}`` on every page (a builtin library, no ``{% load %}``): the
official titles, document numbers and quotation of a source text, or “平台规则，未找到官方来源”;
never a research path or the address of a document-sharing site (issue 14,
:mod:`dualcontrol.core.sources`)."""

from __future__ import annotations

from typing import Any

from django import template

from dualcontrol.reference.sources import official_source as _official_source

register = template.Library()


@register.filter
def official_source(value: Any) -> str:
    return _official_source(None if value is None else str(value))


@register.filter
def scrubbed(value: Any) -> str:
    """A provenance text in full, without research paths and addresses of unofficial copies."""
    from dualcontrol.reference.sources import scrubbed as _scrubbed

    return _scrubbed(None if value is None else str(value))
