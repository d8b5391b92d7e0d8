"""Page-number pagination of the API lists: bounded page numbers, one page read from the database.

Django Ninja's own class accepts any page ≥ 1; a page number past 64 bits then reaches the
database as an offset it cannot hold and the list answers 500 (issue 13).  Here a page beyond
``MAX_PAGE`` is refused with 422 like any other invalid parameter.  The bound is technical, not a
domain figure: ten million pages of 50 rows is more than any list of the platform holds.

A list endpoint hands the paginator a queryset, never a list (issue 18): the database counts the
rows and returns one page (``LIMIT``/``OFFSET``).  When the items need shaping, the endpoint
returns :class:`Mapped` — the queryset plus a function applied to the rows of the page only
(``per_page`` for shaping that needs the whole page at once, e.g. one status query for its
outlets).  A plain list is refused with ``TypeError``: it would mean every visible row was read
to show one page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination

MAX_PAGE = 10_000_000


class Mapped:
    """A queryset whose page is shaped after it is read: ``fn`` per row, or ``per_page`` per page."""

    def __init__(
        self,
        queryset: QuerySet[Any],
        fn: Callable[[Any], Any] | None = None,
        *,
        per_page: Callable[[list[Any]], Sequence[Any]] | None = None,
        count: int | None = None,
    ) -> None:
        if (fn is None) == (per_page is None):
            raise TypeError("Mapped takes exactly one of fn and per_page")
        self.queryset = queryset
        self._per_page = per_page or (lambda rows: [fn(r) for r in rows])  # type: ignore[misc]
        self._count = count

    def count(self) -> int:
        """``count`` when the caller knows it exactly (e.g. from current roll-ups), else the
        database's ``COUNT``."""
        return self._count if self._count is not None else self.queryset.count()

    def page(self, offset: int, size: int) -> list[Any]:
        return list(self._per_page(list(self.queryset[offset : offset + size])))


class Counted:
    """A queryset whose row count is already known exactly (from current roll-ups): Django's
    ``Paginator`` takes its ``count()`` and slices the queryset for the page."""

    def __init__(self, queryset: QuerySet[Any], count: int | None) -> None:
        self.queryset = queryset
        self._count = count

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered

    def count(self) -> int:
        return self._count if self._count is not None else self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: Any) -> Any:
        return self.queryset[index]


class Ranked:
    """A ranking computed from aggregates (e.g. the metering units by this month's completeness,
    from the daily roll-ups): sorted by figures the database does not hold, so it is computed
    whole; only the page is shaped and sent.  Opt-in, for lists bounded by their registry."""

    def __init__(self, rows: Sequence[Any], fn: Callable[[Any], Any]) -> None:
        self.rows = rows
        self.fn = fn

    def count(self) -> int:
        return len(self.rows)

    def page(self, offset: int, size: int) -> list[Any]:
        return [self.fn(r) for r in self.rows[offset : offset + size]]


class PageNumberPagination(NinjaPageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE)

    def paginate_queryset(
        self,
        queryset: Any,
        pagination: Any,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        if isinstance(queryset, Mapped | Ranked):
            return {
                self.items_attribute: queryset.page(offset, page_size),
                "count": queryset.count(),
            }
        if not isinstance(queryset, QuerySet):
            raise TypeError(
                f"a paginated list must return a queryset or Mapped, not {type(queryset).__name__}"
                " (a list reads every visible row to show one page)"
            )
        return {
            self.items_attribute: list(queryset[offset : offset + page_size]),
            "count": queryset.count(),
        }
