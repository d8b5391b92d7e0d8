"""Excel export of any table (every list page offers it)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Counted:
    """Iterates ``rows`` once and remembers how many there were (for the export's audit entry)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Any:
        for row in self.rows:
            self.count += 1
            yield row


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append([str(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([v if v is None or isinstance(v, int | float) else str(v) for v in row])
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_response(
    filename: str,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    user: Any = None,
) -> HttpResponse:
    """The table as an Excel download; with ``user`` the export is recorded in the audit log (what,
    file name, row count).  Without it the audit middleware records it (it knows the row count from
    ``response.export_rows``)."""
    counted = _Counted(rows)
    response = HttpResponse(xlsx_bytes(title, headers, counted), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response.export_rows = counted.count  # type: ignore[attr-defined]
    response.export_what = title  # type: ignore[attr-defined]
    if user is not None:
        from dualcontrol.audit.services import record_export

        record_export(user=user, what=title, filename=filename, fmt="xlsx", rows=counted.count)
        response.audit_recorded = True  # type: ignore[attr-defined]
    return response
