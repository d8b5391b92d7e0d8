"""The one reader of uploaded table files (.xlsx workbooks, CSV text): bounded and whole.

Every upload path that takes a table from a user goes through :func:`read_upload` (205-1
reports, regional statistics, the unit registry); .docx plan documents go through
:func:`check_archive`.  The limits are data (``reference/data/upload_limits.yaml``, per kind).

A file is refused whole (:class:`TableRefused`, every problem with sheet, row, column and reason)
or read completely:

* the size is checked before anything is parsed; a workbook's archive directory is checked
  before anything is decompressed (total declared size, number of parts, compression ratio,
  encryption) — the zip reader never yields more than a part declares, so the declared sizes
  bound the work;
* XML parts with a DTD or entity declarations (XXE, "billion laughs") are refused;
* sheets are read by streaming their XML (openpyxl's cell parser over a defusedxml ``iterparse``),
  row by row, ignoring the sheet's *declared* dimension: a sheet declaring ``A1:XFD1048576`` costs
  what its real cells cost, and a sheet that under-declares its range is still read to its last
  row.  The caps on rows and columns count cells that hold a value;
* a formula cell without a stored result is refused with its address (reading it as empty or 0
  would lose the value silently);
* renamed files (an old .xls, a PDF, a ZIP named .csv …), UTF-16/32 text, binary content and
  malformed XML are refused with a message that says what the file is.

Text is read as UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312).

Hand-written rather than openpyxl's ``iter_rows`` because that pads every row to the declared
dimension (the memory exhaustion of issue 13) and cannot tell a formula without a value from an
empty cell.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import PurePath
from typing import Any

LIMITS_FILE = "upload_limits.yaml"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
#: text control characters a CSV may contain (tab, line feed, carriage return)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
#: the start of an element (the prolog, where a DTD may stand, ends there)
_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _(message: str) -> str:
    """gettext when Django is configured (pages, CLI), the Chinese source text otherwise: this
    package has no Django dependency."""
    try:
        from django.conf import settings

        if settings.configured:
            from django.utils.translation import gettext

            return gettext(message)
    except ImportError:  # pragma: no cover - Django is a dependency of the platform
        pass
    return message


@dataclass(frozen=True)
class CellError:
    """One problem in an uploaded file, addressed as a person would find it."""

    sheet: str
    row: int
    column: str
    reason: str
    field: str = ""

    def __str__(self) -> str:
        where = (
            f"{self.sheet}!{self.column}{self.row}"
            if self.column
            else f"{self.sheet} row {self.row}"
        )
        return f"{where}: {self.reason}"


class TableRefused(ValueError):
    """The file is refused whole; ``errors`` lists every problem found."""

    def __init__(self, errors: list[CellError] | tuple[CellError, ...]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))


@dataclass(frozen=True)
class UploadLimits:
    """The limits of one kind of upload (``upload_limits.yaml``)."""

    kind: str
    version: str
    max_bytes: int
    max_uncompressed_bytes: int
    max_archive_entries: int
    max_compression_ratio: int
    ratio_min_bytes: int
    max_rows: int
    max_columns: int
    max_errors_listed: int


@cache
def upload_limits(kind: str) -> UploadLimits:
    """The limits of ``kind`` (the file's defaults overridden by its ``kinds`` entry)."""
    from dualcontrol.reference import ReferenceDataError, load_yaml

    version, data = load_yaml(LIMITS_FILE)
    values = dict(data.get("defaults") or {})
    kinds = data.get("kinds") or {}
    if kind not in kinds:
        raise ReferenceDataError(f"{LIMITS_FILE}: no upload kind {kind!r}")
    values.update(kinds[kind] or {})
    names = [f.name for f in fields(UploadLimits) if f.name not in {"kind", "version"}]
    try:
        numbers = {n: int(values[n]) for n in names}
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{LIMITS_FILE}: missing or invalid limit ({exc})") from exc
    if any(v <= 0 for v in numbers.values()):
        raise ReferenceDataError(f"{LIMITS_FILE}: limits of {kind!r} must be positive")
    return UploadLimits(kind=kind, version=version, **numbers)


@dataclass
class Sheet:
    """A sheet's cells as rows: ``rows[i]`` is the file's row ``i + 1`` (blank rows are empty
    lists, trailing empty cells are dropped).  Workbook values keep their types (numbers, dates,
    text); CSV values are text."""

    title: str
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class UploadedTable:
    format: str  # "xlsx" | "csv"
    sheets: list[Sheet]


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _refuse(sheet: str, reason: str, row: int = 0, column: str = "") -> TableRefused:
    return TableRefused([CellError(sheet, row, column, reason)])


def _mib(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:.0f} MB" if mib >= 10 or mib == int(mib) else f"{mib:.2f} MB"


def check_size(size: int, limits: UploadLimits, *, name: str = "") -> None:
    """Refuse a file larger than the kind's limit (call it before reading the upload)."""
    if size > limits.max_bytes:
        raise _refuse(
            name,
            _("文件大小 %(size)s 超过上限 %(limit)s")
            % {"size": _mib(size), "limit": _mib(limits.max_bytes)},
        )


def read_limited(upload: Any, kind: str) -> bytes:
    """The bytes of an uploaded file (Django ``UploadedFile`` or any object with ``size``, ``name``
    and ``read``), refused before reading when larger than the kind's limit."""
    limits = upload_limits(kind)
    size = getattr(upload, "size", None)
    name = PurePath(str(getattr(upload, "name", "") or "").replace("\\", "/")).name
    if size is not None:
        check_size(int(size), limits, name=name)
    data: bytes = upload.read(limits.max_bytes + 1)
    check_size(len(data), limits, name=name)
    return data


def sniff(data: bytes) -> str:
    """What the leading bytes say the file is: zip | ole | pdf | utf16 | utf32 | text | empty."""
    if not data:
        return "empty"
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    head = data[:4096]
    # UTF-16 without a BOM: ASCII text interleaved with NUL bytes
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "utf16"
    return "text"


def gettext_noop(message: str) -> str:
    """Marks a message for translation where it is defined; :func:`_` translates it on use."""
    return message


_WHAT = {
    "ole": gettext_noop(
        "旧版 Excel 97-2003 (.xls) 或其他 Office 二进制文件；请在 Excel 中另存为 .xlsx 后上传"
    ),
    "pdf": gettext_noop("PDF 文件，不是表格；请上传 .xlsx 或 CSV 文件"),
    "utf16": gettext_noop("UTF-16 编码的文本；请另存为 UTF-8 或 GB18030 编码的 CSV"),
    "utf32": gettext_noop("UTF-32 编码的文本；请另存为 UTF-8 或 GB18030 编码的 CSV"),
}


def read_upload(
    data: bytes,
    filename: str,
    *,
    kind: str,
    csv_sheet: str = "csv",
    sheet_names: tuple[str, ...] = (),
    first_sheet_only: bool = False,
) -> UploadedTable:
    """Read an uploaded table (see the module docstring).  ``sheet_names``: when the workbook has
    one of these sheets only it is read; ``first_sheet_only``: only the first sheet is read."""
    limits = upload_limits(kind)
    name = PurePath((filename or "").replace("\\", "/")).name
    suffix = PurePath(name).suffix.lower()
    check_size(len(data), limits, name=name)
    what = sniff(data)
    if what == "empty" or not data.strip():
        raise _refuse(name, _("文件为空"))
    if what in _WHAT:
        raise _refuse(name, _("文件内容是：%(what)s") % {"what": _(_WHAT[what])})
    if suffix in {".xls", ".et", ".ods", ".numbers"} and what != "zip":
        raise _refuse(
            name, _("不支持 %(ext)s 文件：请另存为 .xlsx 或 CSV 后上传") % {"ext": suffix}
        )
    if what == "zip":
        if suffix not in {"", ".xlsx", ".xlsm", ".csv", ".txt"}:
            raise _refuse(
                name, _("不支持 %(ext)s 文件：请上传 .xlsx 或 CSV 文件") % {"ext": suffix}
            )
        return UploadedTable(
            "xlsx",
            read_workbook(
                data, limits, name=name, sheet_names=sheet_names, first_sheet_only=first_sheet_only
            ),
        )
    if suffix in {".xlsx", ".xlsm"}:
        raise _refuse(name, _("扩展名为 %(ext)s，但文件内容不是 Excel 工作簿") % {"ext": suffix})
    return UploadedTable("csv", [read_text(data, limits, sheet=csv_sheet)])


# ------------------------------------------------------------------------------------------
# text


def decode_text(data: bytes, *, sheet: str = "csv") -> str:
    """UTF-8 (with or without BOM), else GB18030; refused when neither decodes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse(
            sheet, _("文件既不是 UTF-8 也不是 GB18030/GBK 编码的文本（是二进制文件吗？）"), 1
        ) from None


def read_text(data: bytes, limits: UploadLimits, *, sheet: str = "csv") -> Sheet:
    """A CSV file's rows (text cells), within the row and column caps."""
    text = decode_text(data, sheet=sheet)
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise _refuse(
            sheet,
            _("第 %(line)s 行含控制字符 %(char)s：这不是文本表格（是二进制文件吗？）")
            % {"line": line, "char": repr(bad.group(0))},
            line,
        )
    if text.count("\n") > limits.max_rows + 1:
        raise _refuse(sheet, _("行数超过上限 %(n)s") % {"n": limits.max_rows}, limits.max_rows + 1)
    out = Sheet(sheet)
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            if len(row) > limits.max_columns:
                raise _refuse(
                    sheet,
                    _("列数 %(n)s 超过上限 %(max)s") % {"n": len(row), "max": limits.max_columns},
                    reader.line_num,
                    column_letter(limits.max_columns),
                )
            out.rows.append(row)
    except csv.Error as exc:
        raise _refuse(sheet, _("CSV 格式错误：%(e)s") % {"e": exc}, reader.line_num) from exc
    if len(out.rows) > limits.max_rows + 1:
        raise _refuse(sheet, _("行数超过上限 %(n)s") % {"n": limits.max_rows}, limits.max_rows + 1)
    return out


# ------------------------------------------------------------------------------------------
# archives


def check_archive(data: bytes, limits: UploadLimits, *, name: str = "") -> zipfile.ZipFile:
    """Open ``data`` as a ZIP archive and check its directory (parts, declared sizes, ratio,
    encryption, DTDs in XML parts) before anything is decompressed; refused whole otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,  # a directory entry naming a ZIP version or method not supported
    ) as exc:
        raise _refuse(
            name, _("不是有效的 Excel/Office 文件（压缩包已损坏：%(e)s）") % {"e": exc}
        ) from exc
    if len(infos) > limits.max_archive_entries:
        raise _refuse(
            name,
            _("压缩包有 %(n)s 个部件，超过上限 %(max)s")
            % {"n": len(infos), "max": limits.max_archive_entries},
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse(
                name, _("文件已加密（%(part)s）：请去掉密码后上传") % {"part": info.filename}
            )
        total += info.file_size
        if (
            info.file_size > limits.ratio_min_bytes
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise _refuse(
                name,
                _("部件 %(part)s 解压后 %(size)s，压缩比超过 %(ratio)s:1（压缩炸弹？）")
                % {
                    "part": info.filename,
                    "size": _mib(info.file_size),
                    "ratio": limits.max_compression_ratio,
                },
            )
    if total > limits.max_uncompressed_bytes:
        raise _refuse(
            name,
            _("解压后共 %(size)s，超过上限 %(limit)s")
            % {"size": _mib(total), "limit": _mib(limits.max_uncompressed_bytes)},
        )
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            try:
                with archive.open(info) as part:
                    has_dtd = _prolog_has_dtd(part)
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                ValueError,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                raise _refuse(
                    name, _("部件 %(part)s 已损坏：%(e)s") % {"part": info.filename, "e": exc}
                ) from exc
            if has_dtd:
                raise _refuse(
                    name,
                    _("部件 %(part)s 含有 DTD 或实体声明（XXE），拒绝读取")
                    % {"part": info.filename},
                )
    return archive


def _prolog_has_dtd(part: Any, chunk: int = 65536) -> bool:
    """Does the XML part declare a DTD or entities before its first element?  Read in chunks up
    to the first element (the prolog may be padded to hide a DOCTYPE past a fixed window)."""
    tail = b""
    while True:
        block = part.read(chunk)
        if not block:
            return bool(_DTD.search(tail))
        text = tail + block
        element = _ELEMENT.search(text)
        if _DTD.search(text if element is None else text[: element.start()]):
            return True
        if element is not None:
            return False
        tail = text[-16:]


# ------------------------------------------------------------------------------------------
# workbooks


@dataclass
class _Workbook:
    """What the cell parser needs of a workbook (openpyxl's reader, without its worksheets)."""

    archive: zipfile.ZipFile
    shared_strings: Any
    epoch: Any
    date_formats: Any
    timedelta_formats: Any
    sheets: list[tuple[str, str]]  # (title, part name) of each worksheet, in workbook order


def _open_workbook(data: bytes) -> _Workbook:
    """The workbook's parts read by openpyxl (manifest, shared strings, workbook, styles) — but
    not its worksheets: ``load_workbook(read_only=True)`` parses every sheet once just to find
    its dimension when the sheet does not declare one first."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
    except BaseException:
        reader.archive.close()
        raise
    wb = reader.wb
    return _Workbook(
        reader.archive,
        reader.shared_strings,
        wb.epoch,
        wb._date_formats,
        wb._timedelta_formats,
        sheets,
    )


def read_workbook(
    data: bytes,
    limits: UploadLimits,
    *,
    name: str = "",
    sheet_names: tuple[str, ...] = (),
    first_sheet_only: bool = False,
) -> list[Sheet]:
    """The sheets of an .xlsx workbook, streamed (see the module docstring)."""
    check_archive(data, limits, name=name).close()
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation, slicers …): not the data
        warnings.simplefilter("ignore")
        try:
            workbook = _open_workbook(data)
        except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
            raise _refuse(
                name, _("不是有效的 Excel (.xlsx) 文件：%(e)s") % {"e": _short(exc)}
            ) from exc
        try:
            chosen = [s for s in workbook.sheets if s[0] in sheet_names] or workbook.sheets
            if first_sheet_only:
                chosen = chosen[:1]
            sheets = [_read_sheet(workbook, title, part, limits) for title, part in chosen]
        finally:
            workbook.archive.close()
    if not sheets:
        raise _refuse(name, _("工作簿没有工作表"))
    return sheets


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:199] + "…"


def _iterparse(source: Any) -> Any:
    """lxml's streaming parser with entities unresolved, no DTD loaded, no network (the C parser:
    defusedxml's pure-Python one reads a 20 000-row sheet ~5× slower).  A DTD is refused by
    :func:`_read_sheet` on the first element (and by :func:`check_archive` before)."""
    from lxml import etree

    return etree.iterparse(
        source,
        events=("end",),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _read_sheet(workbook: _Workbook, title: str, part: str, limits: UploadLimits) -> Sheet:
    """Stream one worksheet's ``sheetData``.  Uses openpyxl's cell parser (types, shared
    strings, dates) but not its row iterator (which pads to the declared dimension)."""
    from openpyxl.worksheet._reader import (
        CELL_TAG,
        DATA_TAG,
        FORMULA_TAG,
        ROW_TAG,
        VALUE_TAG,
        WorkSheetParser,
    )

    parser = WorkSheetParser(
        None,
        workbook.shared_strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook.date_formats,
        timedelta_formats=workbook.timedelta_formats,
    )
    sheet = Sheet(title)
    errors: list[CellError] = []
    missing_values = 0
    row_number = 0
    checked = False
    try:
        with workbook.archive.open(part) as source:
            for _event, element in _iterparse(source):
                if not checked:
                    docinfo = element.getroottree().docinfo
                    if docinfo.doctype or docinfo.internalDTD is not None:
                        raise _refuse(title, _("工作表含有 DTD 或实体声明（XXE），拒绝读取"))
                    checked = True
                if element.tag == DATA_TAG:
                    break  # nothing after the cells matters to a reader of values
                if element.tag != ROW_TAG:
                    continue
                row_number = _row_index(element.get("r"), row_number)
                parser.row_counter = row_number
                parser.col_counter = 0
                values: dict[int, Any] = {}
                for cell_element in element:
                    if cell_element.tag != CELL_TAG:
                        continue
                    tags = [child.tag for child in cell_element]
                    has_formula = FORMULA_TAG in tags
                    cell = (None if has_formula else _fast_cell(cell_element)) or parser.parse_cell(
                        cell_element
                    )
                    column = int(cell["column"])
                    row = int(cell["row"])
                    if row != row_number:
                        raise _refuse(
                            title,
                            _("工作表 XML 损坏：单元格 %(cell)s 写在第 %(row)s 行中")
                            % {"cell": f"{column_letter(column - 1)}{row}", "row": row_number},
                            row_number,
                        )
                    value = cell["value"]
                    if has_formula and VALUE_TAG not in tags:
                        missing_values += 1
                        if len(errors) < limits.max_errors_listed:
                            errors.append(
                                CellError(
                                    title,
                                    row,
                                    column_letter(column - 1),
                                    _(
                                        "公式单元格没有保存计算结果：请在 Excel 中打开、重新计算并"
                                        "保存，或将公式粘贴为数值后再上传"
                                    ),
                                )
                            )
                        continue
                    if value is None or value == "":
                        continue  # an empty (styled) cell is not a cell of the table
                    if row > limits.max_rows + 1:
                        raise _refuse(
                            title,
                            _("有数据的行超过上限 %(n)s 行（单元格 %(cell)s）")
                            % {"n": limits.max_rows, "cell": f"{column_letter(column - 1)}{row}"},
                            row,
                            column_letter(column - 1),
                        )
                    if column > limits.max_columns:
                        raise _refuse(
                            title,
                            _("有数据的列超过上限 %(n)s 列（单元格 %(cell)s）")
                            % {
                                "n": limits.max_columns,
                                "cell": f"{column_letter(column - 1)}{row}",
                            },
                            row,
                            column_letter(column - 1),
                        )
                    values[column] = value
                # processed rows are dropped, not kept by the tree (lxml's streaming idiom)
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
                if values:
                    while len(sheet.rows) < row_number - 1:
                        sheet.rows.append([])
                    width = max(values)
                    cells = [values.get(c) for c in range(1, width + 1)]
                    if len(sheet.rows) >= row_number:  # a row number repeated or going back
                        raise _refuse(
                            title,
                            _("工作表 XML 损坏：第 %(row)s 行重复或顺序颠倒") % {"row": row_number},
                            row_number,
                        )
                    sheet.rows.append(cells)
    except TableRefused:
        raise
    except Exception as exc:  # expat / defusedxml / openpyxl cell parsing: a damaged sheet
        where = _("第 %(row)s 行附近") % {"row": row_number} if row_number else _("第一行之前")
        raise _refuse(
            title,
            _("工作表 XML 损坏或含禁止的内容（%(where)s）：%(e)s")
            % {"where": where, "e": _short(exc)},
            row_number,
        ) from exc
    if missing_values:
        if missing_values > len(errors):
            errors.append(
                CellError(
                    title,
                    0,
                    "",
                    _("另有 %(n)s 个公式单元格没有计算结果") % {"n": missing_values - len(errors)},
                )
            )
        raise TableRefused(errors)
    return sheet


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_COORDINATE = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
_IS, _RPH, _T, _V, _F = (f"{_NS}{t}" for t in ("is", "rPh", "t", "v", "f"))


def _fast_cell(element: Any) -> dict[str, Any] | None:
    """The common cells (a plain number, an inline string) without openpyxl's general parser,
    which builds rich-text objects for every inline string; None: let openpyxl parse it
    (shared strings, booleans, errors, formulas, styled cells such as dates, phonetic text)."""
    kind = element.get("t")
    if kind not in (None, "n", "inlineStr") or element.get("s") not in (None, "0"):
        return None
    match = _COORDINATE.match(element.get("r") or "")
    if match is None:
        return None
    letters, digits = match.groups()
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    value: Any = None
    for child in element:
        tag = child.tag
        if kind == "inlineStr" and tag == _IS:
            parts = []
            for part in child.iter():
                if part.tag == _RPH:
                    return None
                if part.tag == _T:
                    parts.append(part.text or "")
            value = "".join(parts) or None
        elif kind != "inlineStr" and tag == _V:
            text = child.text
            if text:
                value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        elif tag == _F:
            return None
    return {"row": int(digits), "column": column, "value": value}


def _row_index(attribute: str | None, previous: int) -> int:
    if attribute is None:
        return previous + 1
    number = float(attribute)
    if not number.is_integer() or number < 1:
        raise ValueError(f"row number {attribute!r}")
    return int(number)
