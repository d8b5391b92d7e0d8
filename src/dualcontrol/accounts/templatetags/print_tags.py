"""Tags of the print header in base.html (issue 14: printed pages carry their title and date)."""

from __future__ import annotations

from django import template
from django.template.base import NodeList
from django.template.loader_tags import BlockNode

register = template.Library()


@register.simple_tag(takes_context=True)
def page_title(context: template.Context) -> str:
    """The page's ``{% block title %}`` rendered a second time, for the print-only header.

    Django renders a block once; an empty ``BlockNode`` named "title" renders the most derived
    definition from the block context (the page's own title, else base.html's default) and puts
    it back, so the ``<title>`` and the printed header always say the same thing.
    """
    return BlockNode("title", NodeList()).render(context)
