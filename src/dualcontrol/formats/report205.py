"""NBS 205-1 (能源购进、消费与库存) workbooks and CSV files: read, and write the template.

Layout (as printed on the form, shared/reference/formats.md §1.2): a title, the table number,
the reporting unit's name, USCC and period, two header rows, then the row of printed column
numbers ``甲 乙 丙 1 2 … 10 丁`` and one row per energy product.  The reader finds that
column-number row, so extra title rows or a moved table still read.  Rows whose code is
``40`` or whose name is ``能源合计`` are the computed total and are skipped.

Every cell problem becomes a :class:`CellError` (sheet, row, column, reason); a file with any
error is rejected whole by raising :class:`ReportFormatError` with the complete list.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dualcontrol.core.report205 import COLUMNS, Row205
from dualcontrol.formats.upload_tables import (
    CellError,
    TableRefused,
    column_letter,
    read_text,
    read_upload,
    upload_limits,
)

__all__ = [
    "CellError",
    "ParsedReport",
    "ReportFormatError",
    "TemplateProduct",
    "column_letter",
    "read_report",
    "write_workbook",
]

TOTAL_CODES = {"40"}
TOTAL_NAMES = {"能源合计", "合计"}
PRINTED_COLUMNS = [col for _, col, _, _ in COLUMNS] + ["丁"]
FIELD_BY_COLUMN = {col: f for f, col, _, _ in COLUMNS}
ZH_BY_FIELD = {f: zh for f, _, zh, _ in COLUMNS}
META_LABELS = {
    "单位详细名称": "unit_name",
    "单位名称": "unit_name",
    "统一社会信用代码": "uscc",
    "报告期": "period",
}
SHEET_TITLE = "205-1"


class ReportFormatError(TableRefused):
    """The file cannot be read as a 205-1 report; ``errors`` lists every problem found."""


@dataclass
class ParsedReport:
    rows: list[Row205]
    meta: dict[str, str] = field(default_factory=dict)
    sheet: str = SHEET_TITLE
    # for each parsed row: the file row number and the column letter of each field
    row_numbers: list[int] = field(default_factory=list)
    column_letters: dict[str, str] = field(default_factory=dict)
    # where each ``meta`` value was found: (row, column letter)
    meta_cells: dict[str, tuple[int, str]] = field(default_factory=dict)
    # read with ``collect=True``: the cell problems of the file (a row without a product code, text
    # in a number cell) and, per parsed row, the fields that could not be read (stored as 0 / None,
    # to be skipped by the checks that need them)
    errors: list[CellError] = field(default_factory=list)
    unreadable: dict[int, frozenset[str]] = field(default_factory=dict)

    def locate(self, index: int, field_name: str) -> tuple[str, int, str]:
        """(sheet, row, column) of a parsed row's field, for validation messages."""
        row = self.row_numbers[index] if 0 <= index < len(self.row_numbers) else 0
        return self.sheet, row, self.column_letters.get(field_name, "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _normalise_code(value: Any) -> str:
    code = _text(value)
    if code.isdigit() and len(code) < 2:
        code = code.zfill(2)
    return code


def _number(value: Any) -> Decimal | None:
    """Parse a cell as a number; None for empty; raises ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip().replace(",", "").replace("，", "")
    if text in {"", "-", "—"}:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _rows_to_report(
    grid: Sequence[Sequence[Any]],
    sheet: str,
    header_index: int,
    col_index: Mapping[str, int],
    meta: dict[str, str],
    name_to_code: Mapping[str, str],
    first_row_number: int,
    collect: bool = False,
) -> ParsedReport:
    """The rows under the header.  Every cell of every row is read, so a text cell hides no other
    problem; with ``collect`` the problems are returned with the rows (``errors``,
    ``unreadable``), otherwise they are raised as :class:`ReportFormatError`."""
    errors: list[CellError] = []
    rows: list[Row205] = []
    numbers: list[int] = []
    unreadable: dict[int, frozenset[str]] = {}
    letters = {
        FIELD_BY_COLUMN[c]: column_letter(i) for c, i in col_index.items() if c in FIELD_BY_COLUMN
    }
    for offset, raw in enumerate(grid[header_index + 1 :], start=header_index + 1):
        row_number = first_row_number + offset
        cells = {c: (raw[i] if i < len(raw) else None) for c, i in col_index.items()}
        data_cells = [v for c, v in cells.items() if c not in {"甲", "乙", "丙", "丁"}]
        if all(_text(v) == "" for v in data_cells):
            continue  # blank line, or a template product row left unfilled
        name = _text(cells.get("甲"))
        code = _normalise_code(cells.get("丙"))
        if code in TOTAL_CODES or name in TOTAL_NAMES:
            continue
        if not code and name in name_to_code:
            code = name_to_code[name]
        values: dict[str, Any] = {
            "product_code": code,
            "product_name": name,
            "unit": _text(cells.get("乙")),
        }
        bad: set[str] = set()
        for f, col, zh, _ in COLUMNS:
            if f in {"product_code", "product_name", "unit"} or col not in col_index:
                continue
            try:
                number = _number(cells.get(col))
            except ValueError:
                errors.append(
                    CellError(
                        sheet,
                        row_number,
                        letters[f],
                        f"{zh}（第{col}栏）不是数字：{_text(cells.get(col))!r}",
                        f,
                    )
                )
                bad.add(f)
                number = None
            if f == "coefficient_used":
                values[f] = number
            else:
                values[f] = number if number is not None else Decimal(0)
        if not code:
            errors.append(
                CellError(
                    sheet,
                    row_number,
                    letters.get("product_code", ""),
                    "能源品种代码为空",
                    "product_code",
                )
            )
            continue
        if bad:
            unreadable[len(rows)] = frozenset(bad)
        rows.append(Row205(**values))
        numbers.append(row_number)
    if errors and not collect:
        raise ReportFormatError(errors)
    return ParsedReport(
        rows=rows,
        meta=meta,
        sheet=sheet,
        row_numbers=numbers,
        column_letters=letters,
        errors=errors,
        unreadable=unreadable,
    )


def _find_header(grid: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]] | None:
    for r, raw in enumerate(grid[:40]):
        cells = [_text(v) for v in raw]
        if "甲" in cells and "1" in cells and "4" in cells:
            return r, {c: i for i, c in enumerate(cells) if c in PRINTED_COLUMNS}
    return None


def _is_label(cell: str) -> bool:
    return cell.rstrip("：:") in META_LABELS or any(
        cell.startswith(lab + sep) for lab in META_LABELS for sep in ("：", ":")
    )


def _find_meta(
    grid: Sequence[Sequence[Any]], until: int
) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """The unit name, USCC and period printed above the table, and where each was found."""
    meta: dict[str, str] = {}
    where: dict[str, tuple[int, str]] = {}
    for r, raw in enumerate(grid[:until], start=1):
        cells = [_text(v) for v in raw]
        for i, cell in enumerate(cells):
            label = cell.rstrip("：:")
            if label in META_LABELS:
                # the next filled cell, unless it is the next label (an empty value)
                j = next((k for k in range(i + 1, len(cells)) if cells[k]), None)
                if j is not None and _is_label(cells[j]):
                    j = None
                meta[META_LABELS[label]] = cells[j] if j is not None else ""
                where[META_LABELS[label]] = (r, column_letter(j if j is not None else i))
            else:
                for lab, key in META_LABELS.items():
                    for sep in ("：", ":"):
                        if cell.startswith(lab + sep) and cell[len(lab) + 1 :].strip():
                            meta[key] = cell[len(lab) + 1 :].strip()
                            where[key] = (r, column_letter(i))
    return meta, where


def _parse_grid(
    grid: Sequence[Sequence[Any]],
    sheet: str,
    name_to_code: Mapping[str, str],
    collect: bool = False,
) -> ParsedReport | None:
    """The report on one sheet, or None when the sheet has no column-number row."""
    found = _find_header(grid)
    if found is None:
        return None
    header_index, col_index = found
    missing = [c for c in ("甲", "乙", "丙", "1", "2", "4", "5", "7", "9") if c not in col_index]
    if missing:
        raise ReportFormatError(
            [CellError(sheet, header_index + 1, "", f"缺少栏目：{'、'.join(missing)}")]
        )
    meta, where = _find_meta(grid, header_index)
    parsed = _rows_to_report(
        grid, sheet, header_index, col_index, meta, name_to_code, 1, collect=collect
    )
    parsed.meta_cells = where
    return parsed


NO_HEADER = "找不到 205-1 表的栏次行（甲 乙 丙 1 2 … 10）：请使用平台提供的模板"


def read_xlsx(data: bytes, name_to_code: Mapping[str, str] | None = None) -> ParsedReport:
    """A 205-1 workbook (the sheet named ``205-1``, else the first sheet with the table), read
    through the bounded streaming reader (:mod:`dualcontrol.formats.upload_tables`)."""
    return read_report(data, "report.xlsx", name_to_code)


def read_csv(data: bytes, name_to_code: Mapping[str, str] | None = None) -> ParsedReport:
    """CSV: a header row of field names (``product_code,unit,…``) or of printed column numbers."""
    try:
        sheet = read_text(data, upload_limits("report205"), sheet="csv")
    except TableRefused as exc:
        raise ReportFormatError(exc.errors) from exc
    return _read_csv_grid(sheet.rows, name_to_code)


def _read_csv_grid(
    grid: Sequence[Sequence[Any]], name_to_code: Mapping[str, str] | None, collect: bool = False
) -> ParsedReport:
    if not grid:
        raise ReportFormatError([CellError("csv", 1, "", "文件为空")])
    header = [str(h).strip() for h in grid[0]]
    by_name = {f: col for f, col, _, _ in COLUMNS}
    by_zh = {zh: col for _, col, zh, _ in COLUMNS}
    col_index: dict[str, int] = {}
    unknown = []
    for i, h in enumerate(header):
        col = by_name.get(h) or by_zh.get(h) or (h if h in PRINTED_COLUMNS else None)
        if col is None:
            unknown.append(CellError("csv", 1, column_letter(i), f"未知列名：{h!r}"))
        else:
            col_index[col] = i
    missing = [
        f for f in ("product_code", "unit", "consumption_total") if by_name[f] not in col_index
    ]
    errors = unknown + [
        CellError("csv", 1, "", f"缺少列：{f}（{ZH_BY_FIELD[f]}）") for f in missing
    ]
    if errors:
        raise ReportFormatError(errors)
    return _rows_to_report(grid, "csv", 0, col_index, {}, name_to_code or {}, 1, collect=collect)


def read_report(
    data: bytes,
    filename: str,
    name_to_code: Mapping[str, str] | None = None,
    *,
    collect: bool = False,
) -> ParsedReport:
    """Read a 205-1 report from an .xlsx or .csv file's bytes: refused whole
    (:class:`ReportFormatError`) or read completely, within the ``report205`` upload limits.
    With ``collect`` the problems of the rows' cells come back in ``errors`` (with the rows that
    could be read, to be checked further) instead of being raised; a file that cannot be read
    as a table is still refused."""
    lower = filename.lower()
    if not lower.endswith((".xlsx", ".csv")):
        raise ReportFormatError(
            [CellError("", 0, "", f"不支持的文件类型：{filename}（请上传 .xlsx 或 .csv）")]
        )
    try:
        table = read_upload(data, filename, kind="report205", sheet_names=(SHEET_TITLE,))
    except TableRefused as exc:
        raise ReportFormatError(exc.errors) from exc
    if table.format == "csv":
        return _read_csv_grid(table.sheets[0].rows, name_to_code, collect)
    for sheet in table.sheets:
        parsed = _parse_grid(sheet.rows, sheet.title, name_to_code or {}, collect)
        if parsed is not None:
            return parsed
    raise ReportFormatError([CellError("", 0, "", NO_HEADER)])


@dataclass(frozen=True)
class TemplateProduct:
    code: str
    name_zh: str
    unit: str
    reference_coefficient: Decimal


def write_workbook(
    products: Iterable[TemplateProduct],
    *,
    unit_name: str = "",
    uscc: str = "",
    period: str = "",
    rows: Mapping[str, Row205] | None = None,
) -> bytes:
    """The 205-1 workbook: an empty template, or a filed report when ``rows`` is given."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    from dualcontrol.exports import put

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ncols = len(PRINTED_COLUMNS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    put(ws, 1, 1, "能源购进、消费与库存").font = Font(size=14, bold=True)
    ws.cell(1, 1).alignment = centre
    put(ws, 2, 1, "表号：205-1表")
    put(ws, 2, 6, "制定机关：国家统计局")
    put(ws, 3, 1, "单位详细名称：")
    put(ws, 3, 2, unit_name)
    put(ws, 3, 5, "统一社会信用代码：")
    put(ws, 3, 6, uscc)
    put(ws, 3, 9, "报告期：")
    put(ws, 3, 10, period)
    top = [
        "能源名称",
        "计量单位",
        "代码",
        "期初库存量",
        "购进量",
        "",
        "消费量",
        "",
        "",
        "",
        "",
        "期末库存量",
        "采用折标系数",
        "参考折标系数",
    ]
    sub = [
        "",
        "",
        "",
        "",
        "实物量",
        "金额(千元)",
        "合计",
        "工业生产消费",
        "用于原材料",
        "非工业生产消费",
        "合计中：运输工具消费",
        "",
        "",
        "",
    ]
    for i, (a, b, c) in enumerate(zip(top, sub, PRINTED_COLUMNS, strict=True), start=1):
        for r, v in ((4, a), (5, b), (6, c)):
            cell = put(ws, r, i, v)
            cell.alignment = centre
            cell.border = box
            cell.font = Font(bold=r < 6)
            cell.fill = PatternFill("solid", fgColor="EEF2F7")
    ws.merge_cells("E4:F4")
    ws.merge_cells("G4:K4")
    for col in (1, 2, 3, 4, 12, 13, 14):
        ws.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
    r = 7
    filled = rows or {}
    for p in products:
        row = filled.get(p.code)
        values: list[Any] = [p.name_zh, p.unit, p.code]
        for f, _col, _, _ in COLUMNS[3:]:
            v = getattr(row, f) if row is not None else None
            values.append(float(v) if v is not None else None)
        values.append(float(p.reference_coefficient))
        for i, v in enumerate(values, start=1):
            cell = put(ws, r, i, v)
            cell.border = box
        r += 1
    put(ws, r, 1, "能源合计").font = Font(bold=True)
    put(ws, r, 2, "吨标准煤")
    put(ws, r, 3, "40")
    widths = [16, 10, 6, 12, 12, 12, 12, 14, 12, 14, 14, 12, 12, 12]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[column_letter(i - 1)].width = w
    ws.freeze_panes = "D7"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_PERIOD = re.compile(
    r"^\s*((?:19|20)\d{2})\s*(?:年度?)?\s*"
    r"(?:(?:1\s*[-－—~至]\s*)?(\d{1,2})\s*月?(?:份)?)?\s*(?:报|报告期)?\s*$"
)
_PERIOD_SEPARATED = re.compile(r"^\s*((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})\s*$")
_PERIOD_COMPACT = re.compile(r"^\s*((?:19|20)\d{2})(\d{2})\s*$")
# a period cell Excel turned into a date (shown as 2026-10-01 00:00:00): its month
_PERIOD_DATE = re.compile(r"^\s*((?:19|20)\d{2})-(\d{2})-01(?: 00:00:00)?\s*$")


def file_period(text: str) -> tuple[int, int | None] | None:
    """(year, month or None for a year) of a period as written in the file's 报告期 cell:
    ``2026``, ``2026年``, ``2026年度``, ``2026-10``, ``2026/10``, ``2026.10``, ``202610``,
    ``2026年10月``, ``2026年1-10月`` (cumulative to October); None when it says neither."""
    for pattern in (_PERIOD_SEPARATED, _PERIOD_COMPACT, _PERIOD_DATE, _PERIOD):
        match = pattern.match(text)
        if match:
            year = int(match.group(1))
            month = int(match.group(2)) if match.group(2) else None
            if month is not None and not 1 <= month <= 12:
                return None
            return year, month
    return None
