"""The one export helper: every Excel and CSV file the platform writes goes through it.

* :func:`xlsx_response` / :func:`xlsx_bytes` — a table as an Excel download (every list page);
* :func:`put` / :func:`append` — cells of a styled workbook (205-1 form, ledger, bulletins);
* :func:`csv_writer` / :class:`DictWriter` / :func:`csv_text` — CSV files (published tables,
  command output).

What it guarantees (issue 13, "formula injection", OWASP *CSV Injection*):

* **Text is text.**  A string is never written as a formula: in a workbook it is a string cell
  (openpyxl would otherwise turn ``=HYPERLINK(…)`` into a live formula and ``#N/A`` into an error
  value); one that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return also gets Excel's
  own "quote prefix" style — exactly what Excel stores when a user types ``'=…`` — so the text is
  shown unchanged and stays text when the cell is edited.  CSV has no cell types, so there such a
  string is written with a leading apostrophe (``'=HYPERLINK(…)``).  A string that is a plain
  number (``-0.1``, ``+5``, ``12%``) cannot be a formula and is left alone.
* **Numbers stay numbers**: ``int``, ``float`` and ``Decimal`` are written as numbers, negative
  ones included; only strings are neutralised.
* **Control characters are stripped** (C0 controls except tab, line feed and carriage return, DEL,
  lone surrogates, U+FFFE/U+FFFF): XML 1.0 cannot hold them, and one ``\\x01`` in a stored text
  would otherwise make the export fail for good.

No Django at import time: the file-format writers (``dualcontrol.formats``) use the cell helpers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: characters a spreadsheet reads as the start of a formula (or a DDE payload)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?$")


def clean_text(text: str) -> str:
    """``text`` without the characters a workbook or CSV cannot hold (see the module docstring)."""
    return _CONTROL.sub("", text)


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula?  (Plain numbers and a lone sign: no.)"""
    if not text.startswith(FORMULA_START):
        return False
    return not (_PLAIN_NUMBER.match(text) or text in {"-", "+"})


def cell_value(value: Any) -> Any:
    """The value as written: numbers as numbers, None as empty, anything else as clean text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else str(value)
    return clean_text(str(value))


def put(ws: Any, row: int, column: int, value: Any) -> Any:
    """Write ``value`` into the cell at (row, column) of an openpyxl worksheet; returns the cell."""
    cell = ws.cell(row=row, column=column)
    write(cell, value)
    return cell


def write(cell: Any, value: Any) -> None:
    """Write ``value`` into an openpyxl cell (see the module docstring)."""
    v = cell_value(value)
    cell.value = v
    if isinstance(v, str):
        cell.data_type = "s"  # never a formula ("=…") nor an error value ("#N/A")
        if is_formula_like(v):
            cell.quotePrefix = True


def append(ws: Any, values: Iterable[Any]) -> int:
    """Append a row to an openpyxl worksheet (like ``ws.append``, safely); returns its number."""
    row = int(ws._current_row) + 1  # the row ``ws.append`` would write
    for column, value in enumerate(values, start=1):
        put(ws, row, column, value)
    ws._current_row = row  # an empty row still takes its line, as with ``ws.append``
    return row


def csv_value(value: Any) -> Any:
    """A value for a CSV file: numbers and None as they are, text clean and neutralised."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = clean_text(str(value))
    return "'" + text if is_formula_like(text) else text


class _SafeWriter:
    """``csv.writer`` whose rows go through :func:`csv_value`."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_value(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **kwargs: Any) -> _SafeWriter:
    """A CSV writer (same arguments as :func:`csv.writer`) that neutralises every cell."""
    return _SafeWriter(out, **kwargs)


class DictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """``csv.DictWriter`` whose values go through :func:`csv_value`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: csv_value(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def csv_text(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
    lineterminator: str = "\r\n",
) -> str:
    """A whole CSV file (UTF-8 BOM for Excel by default)."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv_writer(out, lineterminator=lineterminator)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


class _Counted:
    """Iterates ``rows`` once and remembers how many there were (for the export's audit entry)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Any:
        for row in self.rows:
            self.count += 1
            yield row


def _table_value(value: Any) -> Any:
    # dates and other objects are written as their text, as every export always has
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    return str(value)


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = clean_text(title)[:31] or "sheet"
    append(ws, [str(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append(ws, [_table_value(v) for v in row])
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
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

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
