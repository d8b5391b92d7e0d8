"""The refusal body every write operation of the REST API answers with (422 bad input, 403 refused,
409 wrong state): ``{"detail": …, "problems": [{sheet, row, column, field, reason}, …]}``.

Pages show the same problems (a file upload: sheet, row, column; a form: the field); the API lists
every one, never only the first.  Services raise their own app's exceptions; each ``api.py`` maps
them here so the OpenAPI document describes one shape for all refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ninja import Schema
from ninja import Status as HttpStatus


class ProblemOut(Schema):
    sheet: str = ""
    row: int | None = None
    column: str = ""
    field: str = ""
    reason: str


class ProblemsOut(Schema):
    detail: str
    problems: list[ProblemOut]


#: the error responses of a write operation (merged into its ``response=`` mapping)
WRITE_ERRORS: dict[int, Any] = {403: ProblemsOut, 409: ProblemsOut, 422: ProblemsOut}


def refusal(
    status: int,
    detail: str,
    *,
    cells: Iterable[Any] = (),
    fields: Mapping[str, str] | None = None,
) -> HttpStatus:
    """A refusal: ``cells`` are CellError-like (sheet, row, column, reason, field); ``fields`` maps a
    field name to its reason (forms and JSON bodies)."""
    problems: list[dict[str, Any]] = [
        {
            "sheet": getattr(c, "sheet", ""),
            "row": getattr(c, "row", None),
            "column": getattr(c, "column", ""),
            "field": getattr(c, "field", ""),
            "reason": str(getattr(c, "reason", c)),
        }
        for c in cells
    ]
    problems += [{"field": k, "reason": str(v)} for k, v in (fields or {}).items()]
    if not problems:
        problems = [{"reason": detail}]
    return HttpStatus(status, {"detail": detail, "problems": problems})
