"""Page-number pagination of the API lists, with the page number bounded.

Django Ninja's own class accepts any page ≥ 1; a page number past 64 bits then reaches the
database as an offset it cannot hold and the list answers 500 (issue 13).  Here a page beyond
``MAX_PAGE`` is refused with 422 like any other invalid parameter.  The bound is technical, not a
domain figure: ten million pages of 50 rows is more than any list of the platform holds.
"""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination

MAX_PAGE = 10_000_000


class PageNumberPagination(NinjaPageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE)
