"""The one export helper: every Excel and CSV file the platform writes goes through it.

* :func:`xlsx_response` / :func:`xlsx_bytes` — a table as a styled Excel download (every list
  page; issue 14): a title row with the scope and the export date, the header row bold, filled,
  frozen and filtered, each number column in the number format of its quantity kind
  (``reference/data/number_formats.yaml``, read from the unit the header names or given as
  ``kinds``), columns as wide as their content, A4 landscape print set-up, and the sheet and file
  named in the interface language (:func:`export_title`, :func:`export_filename`);
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


# ---------------------------------------------------------------------------------------------
# styled tables (issue 14): title row, units in headers, widths, number formats, frozen header,
# sheet and file names in the interface language

#: the table titles callers pass as short English keys: (Chinese, English), shown in the active
#: interface language.  A key of the file name (its words without numbers, e.g.
#: ``project-alerts``) is looked up first, then the title key.  (Kept here in both languages, like
#: the unit labels of number_formats.yaml: a key is a name of the export, not a sentence of a page.)
TITLE_KEYS: dict[str, tuple[str, str]] = {
    "alarms": ("超标报警", "Exceedance alarms"),
    "alerts": ("预警提醒", "Alerts"),
    "api-tokens": ("接口令牌", "API tokens"),
    "assessment": ("考核结果", "Assessment results"),
    "audit": ("审计日志", "Audit log"),
    "barometer-ranking": ("晴雨表排名", "Barometer ranking"),
    "batches": ("在线监测数据批次", "Monitoring data batches"),
    "comparison": ("目标分解方案比较", "Decomposition comparison"),
    "consequences": ("考核结果运用", "Consequences"),
    "counties": ("差距下钻（县市区）", "Gap drill-down (counties)"),
    "credit": ("信用记录", "Credit records"),
    "department-tasks": ("部门责任分工", "Department tasks"),
    "departments": ("部门", "Departments"),
    "drilldown-counties": ("差距下钻（县市区）", "Gap drill-down (counties)"),
    "drilldown-sectors": ("差距下钻（行业）", "Gap drill-down (sectors)"),
    "drilldown-units": ("差距下钻（重点用能单位）", "Gap drill-down (key energy-using units)"),
    "entities": ("用能单位", "Energy-using units"),
    "faults": ("故障报备", "Fault reports"),
    "imported-departments": ("导入方案中的部门", "Departments in imported plans"),
    "instruments": ("计量器具", "Measuring instruments"),
    "items": ("采集数据项", "Data items"),
    "ledger-projects": ("减排项目台账", "Reduction project ledger"),
    "letters": ("目标责任书", "Target responsibility letters"),
    "matrix": ("责任分工矩阵", "Division-of-labour matrix"),
    "metering": ("能耗在线监测", "Energy online monitoring"),
    "metering-alerts": ("在线监测预警", "Online monitoring alerts"),
    "outbox": ("邮件发件箱", "Mail outbox"),
    "outlets": ("排放口", "Discharge outlets"),
    "plan-matrix": ("责任分工矩阵", "Division-of-labour matrix"),
    "plans": ("规划方案", "Plans"),
    "progress": ("目标进度", "Target progress"),
    "project-alerts": ("项目预警", "Project alerts"),
    "projects": ("减排项目", "Reduction projects"),
    "ranking": ("晴雨表排名", "Barometer ranking"),
    "regional-statistics": ("地区统计数据", "Regional statistics"),
    "reports": ("205-1 报表", "205-1 reports"),
    "second-factor": ("第二因素认证", "Second factor"),
    "sectors": ("差距下钻（行业）", "Gap drill-down (sectors)"),
    "shutdowns": ("停运报备", "Shutdown reports"),
    "statistics": ("统计数据", "Statistics"),
    "targets": ("目标", "Targets"),
    "task-progress": ("任务进展", "Task progress"),
    "task-warnings": ("任务预警", "Task warnings"),
    "tasks": ("责任分工任务", "Tasks"),
    "units": ("差距下钻（重点用能单位）", "Gap drill-down (key energy-using units)"),
    "warnings": ("预警记录", "Warnings"),
}

_KEY_WORD = re.compile(r"^[a-z]+$")
_KEEP_TOKEN = re.compile(r"\d|^[A-Z][A-Z0-9]*$")  # years, ids, USCCs, months, codes (COD)
_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')
_BAD_SHEET_CHARS = re.compile(r"[\\/:*?\[\]]")
_HEADER_UNIT = re.compile(r"[（(]([^（）()]+)[）)]\s*$")
_CJK = re.compile(
    r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)

#: header style: bold on a light fill with a thin border (one place for the look of every export)
HEADER_FILL = "DCE6F1"
TITLE_FONT_SIZE = 13
MIN_WIDTH, MAX_WIDTH = 6, 60


def _stem_parts(filename: str) -> tuple[list[str], list[str], str]:
    """A file name's words (no digits), its kept tokens (numbers, codes) and its extension."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    tokens = [t for t in re.split(r"[-_\s]+", stem) if t]
    words = [t for t in tokens if _KEY_WORD.match(t)]
    kept = [t for t in tokens if _KEEP_TOKEN.search(t) and not _KEY_WORD.match(t)]
    return words, kept, ext


def export_title(title: str, filename: str = "") -> str:
    """The table's title in the active language: a short English key (``"ranking"``) through
    :data:`TITLE_KEYS`, any other title as given (callers pass it translated)."""
    words, _kept, _ext = _stem_parts(filename)
    text = str(title)
    for key in ("-".join(words), f"{words[0]}-{text}" if words else "", text):
        if key and key in TITLE_KEYS:
            zh, en = TITLE_KEYS[key]
            return en if _language() == "en" else zh
    return text


def _language() -> str:
    from dualcontrol.reference.number_formats import active_language

    return active_language()


def export_filename(filename: str, title: str) -> str:
    """The download's name in the active language: the localised title plus the original name's
    numbers and codes (``barometer-ranking.xlsx`` → ``晴雨表排名.xlsx`` on Chinese pages,
    ``重点排放单位名录_2025.xlsx`` → ``Key-emitters-list_2025.xlsx`` on English ones)."""
    _words, kept, ext = _stem_parts(filename)
    label = _BAD_FILE_CHARS.sub("-" if _language() == "en" else "", clean_text(title)).strip("-")
    if not label:
        return filename
    stem = "_".join([label, "-".join(kept)]) if kept else label
    return f"{stem}.{ext}" if ext else stem


def sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: no ``\\ / : * ? [ ]``, at most 31 characters."""
    return _BAD_SHEET_CHARS.sub("", clean_text(title)).strip("'")[:31] or "sheet"


def _display_width(value: Any) -> int:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    longest = max((len(line) + len(_CJK.findall(line)) for line in text.split("\n")), default=0)
    return longest


def column_kinds(headers: Sequence[str], kinds: Sequence[str | None] | None = None) -> list[Any]:
    """Each column's :class:`~dualcontrol.core.numbers.NumberFormat`: the one given in ``kinds``,
    else the kind whose unit the header names in brackets (``能耗（万吨标准煤）``), else None."""
    from dualcontrol.core.numbers import unit_kind
    from dualcontrol.reference.number_formats import number_format, number_formats

    out: list[Any] = []
    for i, h in enumerate(headers):
        given = kinds[i] if kinds is not None and i < len(kinds) else None
        if given:
            out.append(number_format(given))
            continue
        m = _HEADER_UNIT.search(str(h))
        out.append(unit_kind(m.group(1), number_formats()) if m else None)
    return out


def xlsx_bytes(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    scope: str = "",
    kinds: Sequence[str | None] | None = None,
    when: Any = None,
) -> bytes:
    """The table as a styled workbook: row 1 the title (with ``scope`` and the export date),
    row 2 the headers (bold, filled, frozen, filtered, each naming its unit), then the rows with
    each number column in its kind's number format (reference/data/number_formats.yaml) and the
    columns as wide as their content.

    ``kinds`` names a column's quantity kind explicitly; its header then gets the kind's unit and
    its numbers are written in the printed unit (tce → 万吨标准煤 for ``energy_10k_tce``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from dualcontrol.core.numbers import excel_number_format, header

    lang = _language()
    title = export_title(title)  # a short key ("reports", from a background job) → its title
    headers = [str(h) for h in headers]
    fmts = column_kinds(headers, kinds)
    given = set(i for i, k in enumerate(kinds or []) if k)
    shown = [
        header(h, fmts[i], lang=lang) if i in given and fmts[i].unit(lang) not in h else h
        for i, h in enumerate(headers)
    ]
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(title)
    day = when or _today()
    stamp = f"Exported {day}" if lang == "en" else f"导出日期：{day}"
    heading = " · ".join(x for x in (clean_text(title), clean_text(scope or ""), stamp) if x)
    put(ws, 1, 1, heading).font = Font(bold=True, size=TITLE_FONT_SIZE)
    ws.row_dimensions[1].height = 22
    thin = Side(style="thin", color="A6A6A6")
    ws._current_row = 1
    append(ws, shown)
    widths = [_display_width(h) for h in shown]
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    number_formats = [excel_number_format(f) if f is not None else None for f in fmts]
    for values in rows:
        values = [_table_value(v) for v in values]
        for i in given:
            v = values[i] if i < len(values) else None
            if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
                values[i] = _scaled(v, fmts[i].scale) if fmts[i].scale != 1 else v
        r = append(ws, values)
        for i, v in enumerate(values):
            number = isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            if i < len(number_formats) and number_formats[i] and number:
                ws.cell(row=r, column=i + 1).number_format = number_formats[i]
                v = f"{v:,.{fmts[i].decimals}f}" if _finite(v) else v
            if i < len(widths):
                widths[i] = max(widths[i], _display_width(v))
            else:
                widths.append(_display_width(v))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(MIN_WIDTH, w + 2))
    ws.freeze_panes = "A3"
    if headers:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{max(ws.max_row, 2)}"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = clean_text(title)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _scaled(value: Any, scale: Decimal) -> Any:
    if isinstance(value, float):
        return value * float(scale) if math.isfinite(value) else value
    return Decimal(value) * scale if not isinstance(value, Decimal) or value.is_finite() else value


def _today() -> Any:
    import datetime as dt

    try:
        from django.utils import timezone

        return timezone.localdate()
    except Exception:
        return dt.date.today()


def user_scope(user: Any) -> str:
    """The scope a user's export covers, for its title row: the unit, the division or the
    department the account belongs to ("" for none)."""
    for attr in ("entity", "division", "department"):
        obj = getattr(user, attr, None) if getattr(user, f"{attr}_id", None) else None
        if obj is not None:
            return str(getattr(obj, "name", obj))
    return ""


def xlsx_response(
    filename: str,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    user: Any = None,
    scope: str | None = None,
    kinds: Sequence[str | None] | None = None,
) -> HttpResponse:
    """The table as a styled Excel download (:func:`xlsx_bytes`), its sheet and file named in the
    active interface language (:func:`export_title`, :func:`export_filename`); the title row
    names ``scope`` (default: the user's unit, division or department) and the date.

    With ``user`` the export is recorded in the audit log (what, file name, row count).  Without
    it the audit middleware records it (it knows the row count from ``response.export_rows``)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    counted = _Counted(rows)
    shown = export_title(title, filename)
    name = export_filename(filename, shown)
    if scope is None:
        scope = user_scope(user) if user is not None else ""
    data = xlsx_bytes(shown, headers, counted, scope=scope, kinds=kinds)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response.export_rows = counted.count  # type: ignore[attr-defined]
    response.export_what = title  # type: ignore[attr-defined]
    if user is not None:
        from dualcontrol.audit.services import record_export

        # the audit keeps the platform's stable names (not the localised download name)
        record_export(user=user, what=title, filename=filename, fmt="xlsx", rows=counted.count)
        response.audit_recorded = True  # type: ignore[attr-defined]
    return response
