"""Published documents as PDF, Excel and CSV (the HTML is a template).

Every document's content has ``title``, ``header``, ``rows`` (each with its printed ``cells``)
and ``footnotes``; the bulletin's rows also carry ``values_pct`` (numbers as printed).  A
bulletin with CO2 data also has ``co2``, a second table of the same shape (title, header,
columns, rows, footnotes): the workbook gets it as a second sheet, the PDF below the energy
table and its notes, the CSV on request (``to_csv(content, table="co2")``; one table per CSV).
A bulletin with pollutant data likewise has ``pollutants`` (third sheet, after the CO2 table in
the PDF, ``table="pollutants"``).  Without them the output is the energy bulletin's alone.

A list with many columns (the quarterly exceedance list) says ``landscape: true`` (A4 landscape
PDF, smaller type) and gives ``column_places`` — per column the decimals of a numeric column
(None: text): Excel keeps those cells as numbers, the PDF aligns them right — and may give
``column_widths`` (relative widths of the PDF columns).

PDF: fpdf2 (pure Python) with Noto Sans CJK SC, which the project installs from PyPI
(``noto-cjk-sans-otc``, SIL OFL 1.1): the face is taken from the OpenType collection and only the
glyphs used are embedded (subset, CID-keyed CFF), so the PDF shows Chinese on a machine with no
CJK font.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from dualcontrol.core.bulletin import NATIONAL_PLACES
from dualcontrol.exports import append, clean_text, csv_text, put

FONT_FAMILY = "NotoSansSC"
FONT_FACE_NAME = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    """The CJK font package is not installed."""


@cache
def cjk_font() -> tuple[Path, int]:
    """(path of the Noto Sans CJK collection, index of its Simplified Chinese face)."""
    try:
        import noto_cjk_sans_otc
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise FontMissing("the CJK font package is missing: pip install noto-cjk-sans-otc") from exc
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        for i, face in enumerate(collection.fonts):
            if face["name"].getDebugName(4) == FONT_FACE_NAME:
                return path, i
    finally:
        collection.close()
    raise FontMissing(f"{path} has no face named {FONT_FACE_NAME!r}")


def _numeric(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


TABLES = ("energy", "co2", "pollutants")
#: the bulletin's further tables (key in the content, worksheet suffix), in printing order
EXTRA_TABLES = (("co2", "CO2"), ("pollutants", "污染物"))


def table_of(content: Mapping[str, Any], table: str = "energy") -> Mapping[str, Any] | None:
    """One table of a document: the document itself (``energy``, the main table), its CO2
    table (``co2``) or its pollutant table (``pollutants``; None when the document has none)."""
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}")
    if table != "energy":
        extra = content.get(table)
        return None if extra is None else {**extra, "year": content.get("year")}
    return content


def to_csv(content: Mapping[str, Any], *, table: str = "energy") -> str:
    """UTF-8 CSV (with BOM for Excel) of the table: the printed cells, as published.
    ``table="co2"``: the bulletin's CO2 table instead (ValueError when it has none)."""
    chosen = table_of(content, table)
    if chosen is None:
        raise ValueError(f"the document has no {'CO2' if table == 'co2' else table} table")
    content = chosen
    return csv_text(content["header"], (row["cells"] for row in content["rows"]))


def to_xlsx(content: Mapping[str, Any]) -> bytes:
    """The document as a workbook: title, header, rows (numbers kept with the printed decimals),
    then the footnotes; a bulletin's CO2 table on a second sheet ("<year> CO2")."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = clean_text(str(content.get("year", "sheet")))[:31]
    _write_table(ws, content)
    for key, suffix in EXTRA_TABLES:
        extra = content.get(key)
        if extra:
            name = clean_text(f"{content.get('year', '')} {suffix}".strip())[:31]
            _write_table(wb.create_sheet(name), extra)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_table(ws: Any, content: Mapping[str, Any]) -> None:
    """One table on a worksheet: title, issuers, header, rows, footnotes."""
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    ncol = len(content["header"])
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    append(ws, [content["title"]])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    r = 2
    if content.get("issuers"):
        append(ws, [content["issuers"]])
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        ws.cell(r, 1).alignment = Alignment(horizontal="center")
        r += 1
    append(ws, list(content["header"]))
    for c in range(1, ncol + 1):
        cell = ws.cell(r, c)
        cell.font = Font(bold=True)
        cell.border = box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header_row = r
    places = content.get("column_places") or [
        None,
        *(c["places"] for c in content.get("columns", [])),
    ]
    for row in content["rows"]:
        r += 1
        for c, text in enumerate(row["cells"], 1):
            value: Any = text
            p = places[c - 1] if c - 1 < len(places) else None
            if p is not None and row.get("level") == "national":
                p = min(p, NATIONAL_PLACES)  # 全国 as NBS publishes it: "-0.1"
            if p is not None and text != "":
                number = _numeric(text)
                value = number if number is not None else text
            cell = put(ws, r, c, value if value != "" else None)
            cell.border = box
            if p is not None:
                cell.number_format = "0." + "0" * p if p else "0"
                cell.alignment = Alignment(horizontal="right")
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    r += 1
    for note in content.get("footnotes", []):
        r += 1
        put(ws, r, 1, note)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        ws.cell(r, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 30
    ws.column_dimensions["A"].width = 22
    for c in range(2, ncol + 1):
        ws.column_dimensions[get_column_letter(c)].width = 24
    ws.row_dimensions[header_row].height = 36


def to_pdf(content: Mapping[str, Any], *, published_on: str = "", draft: bool = False) -> bytes:
    """The document in the official layout on A4, Chinese in Noto Sans CJK SC (embedded).

    Published documents are frozen, so the bytes are cached by content (embedding the CJK font
    subset costs about a second)."""
    key = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return _pdf_cached(key, published_on, draft)


@lru_cache(maxsize=64)
def _pdf_cached(key: str, published_on: str, draft: bool) -> bytes:
    return _render_pdf(json.loads(key), published_on=published_on, draft=draft)


def _render_pdf(content: Mapping[str, Any], *, published_on: str, draft: bool) -> bytes:
    from fpdf import FPDF

    path, index = cjk_font()
    pdf = FPDF(orientation="L" if content.get("landscape") else "P", unit="mm", format="A4")
    pdf.set_creator("dualcontrol")
    pdf.set_title(str(content["title"]))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font(FONT_FAMILY, "", str(path), collection_font_number=index)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, size=15)
    if draft:
        pdf.set_text_color(192, 57, 43)
        pdf.cell(0, 6, "草稿（未发布）", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 8, str(content["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)
    if content.get("issuers"):
        pdf.cell(0, 7, str(content["issuers"]), align="C", new_x="LMARGIN", new_y="NEXT")
    if published_on:
        pdf.cell(0, 6, published_on, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _pdf_table(pdf, content, size=7.5 if len(content["header"]) > 8 else 9.5)
    for key, _suffix in EXTRA_TABLES:
        extra = content.get(key)
        if not extra:
            continue
        pdf.ln(8)
        pdf.set_font(FONT_FAMILY, size=12.5)
        pdf.multi_cell(0, 7, str(extra["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        _pdf_table(pdf, extra, size=7 if len(extra["header"]) > 6 else 9.5)
    return bytes(pdf.output())


def _pdf_table(pdf: Any, content: Mapping[str, Any], *, size: float = 9.5) -> None:
    """A table and its footnotes (附注) at the current position."""
    from fpdf.enums import TableCellFillMode
    from fpdf.fonts import FontFace

    ncol = len(content["header"])
    first = (40 if ncol <= 6 else 22) if ncol > 2 else 60
    widths = (first, *([(pdf.epw - first) / (ncol - 1)] * (ncol - 1))) if ncol > 1 else (pdf.epw,)
    weights = content.get("column_widths")
    if weights and len(weights) == ncol:
        widths = tuple(pdf.epw * w / sum(weights) for w in weights)
    numeric = [False, *(True for _ in content.get("columns", []))]
    column_places = content.get("column_places")
    if column_places:
        numeric = [p is not None for p in column_places]
    aligns = tuple("RIGHT" if (i < len(numeric) and numeric[i]) else "CENTER" for i in range(ncol))
    aligned = bool(content.get("columns") or column_places)
    pdf.set_font(FONT_FAMILY, size=size)
    pdf.set_draw_color(0, 0, 0)
    with pdf.table(
        col_widths=widths,
        text_align=aligns if aligned else "LEFT",
        headings_style=FontFace(emphasis="", fill_color=(232, 238, 247)),
        line_height=6.5,
        cell_fill_mode=TableCellFillMode.NONE,
        first_row_as_headings=True,
        padding=(1.2, 2),
    ) as table:
        head = table.row()
        for h in content["header"]:
            head.cell(str(h), align="CENTER")
        for row in content["rows"]:
            tr = table.row()
            for i, text in enumerate(row["cells"]):
                tr.cell(str(text), align=aligns[i] if aligned else "LEFT")
    if content.get("footnotes"):
        pdf.ln(4)
        pdf.set_font(FONT_FAMILY, size=10)
        pdf.cell(0, 6, "附注：", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT_FAMILY, size=8.5)
        for note in content["footnotes"]:
            text = str(note).replace(". ", ".\u00a0", 1)  # keep "2." with its text
            pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
