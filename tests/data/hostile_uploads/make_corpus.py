"""Write the hostile upload corpus (issue 13) into this directory, with ``manifest.json``.

    .venv/bin/python tests/data/hostile_uploads/make_corpus.py

Every file is small (the bombs are small *compressed*); the output is deterministic (fixed ZIP
timestamps, a seeded random generator), so re-running it gives the same bytes.  ``manifest.json``
says, per file, whether the upload readers must refuse it (and a fragment of the message) or read
it completely (and how many energy rows a 205-1 reader finds; the last row with data).
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
STAMP = (2026, 1, 1, 0, 0, 0)
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
    '<sheets><sheet name="205-1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/>'
    "</Relationships>"
)
EMPTY_STRINGS = (
    f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="0" uniqueCount="0"/>'
)

PRINTED = ["甲", "乙", "丙", *[str(i) for i in range(1, 11)], "丁"]
#: three balanced energy rows (raw coal, natural gas, electricity) of a 205-1 report for 2026-10
ENERGY = [
    ["原煤", "吨", "01", 200, 1000, 650, 1000, 990, 0, 10, 0, 200],
    ["天然气", "万立方米", "10", 0, 50, 100, 50, 50, 0, 0, 0, 0],
    ["电力", "万千瓦时", "23", 0, 100, 60, 100, 100, 0, 0, 0, 0],
]


def col(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def cell(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def report_grid(period: str = "2026-10") -> dict[int, list[Any]]:
    """Rows (1-based) of a 205-1 sheet: title, unit line with the period, column numbers, data."""
    grid: dict[int, list[Any]] = {
        1: ["能源购进、消费与库存"],
        3: [
            "单位详细名称：",
            "示例单位",
            None,
            None,
            "统一社会信用代码：",
            None,
            None,
            None,
            "报告期：",
            period,
        ],
        6: PRINTED,
    }
    for i, row in enumerate(ENERGY):
        grid[7 + i] = row
    return grid


def sheet_xml(
    grid: dict[int, list[Any]],
    *,
    dimension: str | None = "A1:N9",
    replace: dict[str, str] | None = None,
    before_data: str = "",
    extra_rows: str = "",
    prolog: str = "",
) -> bytes:
    """A worksheet part; ``replace`` maps a cell reference to the raw XML written instead."""
    replace = dict(replace or {})
    extra: dict[int, list[str]] = {}
    for ref in list(replace):
        r = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        letters = ref[: len(ref) - len(str(r))]
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        if index > len(grid.get(r, [])):  # not a cell of the grid: written after its row's cells
            extra.setdefault(r, []).append(replace.pop(ref))
    rows = []
    for r in sorted(set(grid) | set(extra)):
        cells = []
        for c, value in enumerate(grid.get(r, [])):
            ref = f"{col(c)}{r}"
            cells.append(replace.pop(ref, None) or cell(ref, value))
        cells.extend(extra.get(r, []))
        rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="{NS}">{dim}{before_data}<sheetData>{"".join(rows)}{extra_rows}'
        "</sheetData></worksheet>"
    ).encode()


def package(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.encode() if isinstance(data, str) else data)
    return out.getvalue()


def xlsx(sheet: bytes, **over: bytes | str) -> bytes:
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/sharedStrings.xml": EMPTY_STRINGS,
        "xl/worksheets/sheet1.xml": sheet,
    }
    parts.update(over)
    return package(parts)


def padded_sheet(megabytes: int) -> bytes:
    """The good sheet with ``megabytes`` MiB of whitespace inside ``sheetData``."""
    good = sheet_xml(report_grid())
    head, tail = good.split(b"</sheetData>")
    return head + b" " * (megabytes * 1024 * 1024) + b"</sheetData>" + tail


def lying_sizes(data: bytes, part: str, declared: int) -> bytes:
    """The archive with ``part``'s declared uncompressed size replaced (local and central)."""
    buf = bytearray(data)
    name = part.encode()
    # local file header: signature, ..., uncompressed size at offset 22, name at offset 30
    pos = 0
    while True:
        pos = buf.find(b"PK\x03\x04", pos)
        if pos < 0:
            break
        n = struct.unpack_from("<H", buf, pos + 26)[0]
        if bytes(buf[pos + 30 : pos + 30 + n]) == name:
            struct.pack_into("<I", buf, pos + 22, declared)
        pos += 4
    # central directory header: uncompressed size at offset 24, name at offset 46
    pos = 0
    while True:
        pos = buf.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + n]) == name:
            struct.pack_into("<I", buf, pos + 24, declared)
        pos += 4
    return bytes(buf)


def build() -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    files: dict[str, bytes] = {}
    manifest: list[dict[str, Any]] = []

    def add(name: str, data: bytes, expect: str, note: str, **more: Any) -> None:
        files[name] = data
        manifest.append({"file": name, "expect": expect, "note": note, **more})

    def good(name: str, data: bytes, note: str, rows: int = 3, last_row: int = 9) -> None:
        add(name, data, "read", note, energy_rows=rows, last_row=last_row)

    def bad(name: str, data: bytes, note: str, reason: str, **where: Any) -> None:
        add(name, data, "refused", note, reason=reason, **where)

    grid = report_grid()
    good("good_205_1.xlsx", xlsx(sheet_xml(grid)), "a correct 205-1 workbook (the baseline)")
    good(
        "range_bomb_xfd1048576.xlsx",
        xlsx(sheet_xml(grid, dimension="A1:XFD1048576")),
        "declares A1:XFD1048576 (17 billion cells) around 3 rows of data",
    )
    good(
        "range_bomb_xfd20000.xlsx",
        xlsx(sheet_xml(grid, dimension="A1:XFD20000")),
        "declares A1:XFD20000",
    )
    good(
        "under_declared_range.xlsx",
        xlsx(sheet_xml(grid, dimension="A1:N7")),
        "declares A1:N7 but has energy rows down to row 9 (2 of 3 were dropped before)",
    )
    good(
        "no_dimension.xlsx",
        xlsx(sheet_xml(grid, dimension=None)),
        "declares no dimension at all",
    )
    empty_rows = "".join(f'<row r="{r}" ht="15" customHeight="1"/>' for r in range(10, 28_010))
    good(
        "styled_empty_rows_28k.xlsx",
        xlsx(sheet_xml(grid, extra_rows=empty_rows)),
        "28 000 formatted empty rows after the table",
    )
    empty_cells = "".join(f'<c r="{col(c)}9" s="0"/>' for c in range(14, 16384))
    good(
        "styled_empty_cells_to_xfd.xlsx",
        xlsx(sheet_xml(grid, replace={"N9": f'<c r="N9"/>{empty_cells}'})),
        "row 9 carries 16 370 empty formatted cells up to column XFD",
    )
    good(
        "formulas_with_stored_values.xlsx",
        xlsx(sheet_xml(grid, replace={"G7": '<c r="G7"><f>E7</f><v>1000</v></c>'})),
        "a formula whose result Excel stored: the result is read",
    )
    good(
        "formula_text_in_name.xlsx",
        xlsx(
            sheet_xml(
                grid,
                replace={"B1": cell("B1", '=HYPERLINK("http://x","y")')},
            )
        ),
        "a text cell that looks like a formula (it is text)",
    )
    good(
        "period_in_chinese.xlsx",
        xlsx(sheet_xml(report_grid(period="2026年10月"))),
        "the period written as 2026年10月",
    )
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="1" uniqueCount="1">'
        "<si><t>原煤</t></si></sst>"
    )
    good(
        "shared_strings.xlsx",
        xlsx(
            sheet_xml(grid, replace={"A7": '<c r="A7" t="s"><v>0</v></c>'}),
            **{"xl/sharedStrings.xml": shared},
        ),
        "product name from the shared-string table",
    )

    bad(
        "formulas_without_values.xlsx",
        xlsx(
            sheet_xml(
                grid,
                replace={
                    "G7": '<c r="G7"><f>E7</f></c>',
                    "H7": '<c r="H7"><f>G7-J7</f></c>',
                    "G8": '<c r="G8"><f>E8</f></c>',
                    "L9": '<c r="L9"><f>D9+E9-G9</f></c>',
                },
            )
        ),
        "4 formula cells saved without results (read as 0 before)",
        "公式单元格没有保存计算结果",
        cells=["G7", "H7", "G8", "L9"],
    )
    bad(
        "zip_bomb_whitespace.xlsx",
        xlsx(padded_sheet(100)),
        "the sheet padded with 100 MiB of whitespace (compresses ~1000:1)",
        "压缩比超过",
    )
    bad(
        "zip_bomb_lying_size.xlsx",
        lying_sizes(xlsx(padded_sheet(8)), "xl/worksheets/sheet1.xml", 4096),
        "8 MiB sheet whose archive entry claims 4 KiB (the reader stops at the claim)",
        "",
    )
    strings = "<si><t>a</t></si>" * 3_000_000
    bad(
        "zip_bomb_shared_strings.xlsx",
        xlsx(
            sheet_xml(grid),
            **{
                "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">'
                f"{strings}</sst>"
            },
        ),
        "51 MB of shared strings",
        "压缩比超过",
    )
    many = {f"xl/media/p{i}.xml": "<x/>" for i in range(600)}
    bad("too_many_parts.xlsx", xlsx(sheet_xml(grid), **many), "600 archive parts", "个部件")
    xxe = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    bad(
        "xxe_sheet.xlsx",
        xlsx(
            sheet_xml(
                grid,
                replace={"B1": '<c r="B1" t="inlineStr"><is><t>&xxe;</t></is></c>'},
                prolog=xxe,
            )
        ),
        "external entity (file:///etc/passwd) in the sheet",
        "DTD",
    )
    laughs = (
        '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    )
    bad(
        "billion_laughs_shared_strings.xlsx",
        xlsx(
            sheet_xml(grid),
            **{
                "xl/sharedStrings.xml": f'<?xml version="1.0"?>{laughs}<sst xmlns="{NS}">'
                "<si><t>&d;&d;&d;</t></si></sst>"
            },
        ),
        "entity expansion (billion laughs) in the shared strings",
        "DTD",
    )
    bad(
        "xxe_workbook.xlsx",
        xlsx(
            sheet_xml(grid),
            **{
                "xl/workbook.xml": WORKBOOK.replace(
                    "?>", '?><!DOCTYPE workbook [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', 1
                )
            },
        ),
        "external entity in workbook.xml",
        "DTD",
    )
    good_sheet = sheet_xml(grid)
    bad(
        "malformed_sheet_truncated.xlsx",
        xlsx(good_sheet[: len(good_sheet) // 2]),
        "the sheet XML cut in the middle",
        "XML",
    )
    bad(
        "malformed_sheet_tags.xlsx",
        xlsx(good_sheet.replace(b"</row>", b"</rw>", 1)),
        "mismatched tags in the sheet XML",
        "XML",
    )
    bad(
        "malformed_row_number.xlsx",
        xlsx(good_sheet.replace(b'<row r="7">', b'<row r="seven">')),
        "a row numbered 'seven'",
        "XML",
    )
    bad(
        "malformed_number.xlsx",
        xlsx(sheet_xml(grid, replace={"E7": '<c r="E7"><v>1e999999x</v></c>'})),
        "a numeric cell whose value is not a number",
        "XML",
    )
    bad(
        "shared_string_out_of_range.xlsx",
        xlsx(sheet_xml(grid, replace={"A7": '<c r="A7" t="s"><v>99999</v></c>'})),
        "a shared-string index past the table",
        "XML",
    )
    bad(
        "rows_out_of_order.xlsx",
        xlsx(
            good_sheet.replace(
                b"</sheetData>", b'<row r="8"><c r="A8"><v>1</v></c></row></sheetData>'
            )
        ),
        "row 8 written twice",
        "XML",
    )
    bad(
        "value_at_xfd1.xlsx",
        xlsx(sheet_xml(grid, replace={"XFD1": '<c r="XFD1"><v>1</v></c>'})),
        "a value in column XFD",
        "列超过上限",
        column="XFD",
    )
    bad(
        "value_at_row_1048576.xlsx",
        xlsx(sheet_xml(grid, replace={"A1048576": '<c r="A1048576"><v>1</v></c>'})),
        "a value in row 1 048 576",
        "行超过上限",
        row=1048576,
    )
    bad(
        "missing_workbook_part.xlsx",
        package({"[Content_Types].xml": CONTENT_TYPES, "xl/worksheets/sheet1.xml": good_sheet}),
        "an archive without workbook.xml",
        "不是有效的 Excel",
    )
    bad(
        "truncated_archive.xlsx",
        xlsx(good_sheet)[:700],
        "the first 700 bytes of a workbook",
        "压缩包已损坏",
    )
    bad(
        "renamed_xls.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Workbook" + bytes(1000),
        "an Excel 97-2003 (.xls) file renamed .xlsx",
        ".xls",
    )
    bad(
        "renamed_pdf.xlsx",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "a PDF renamed .xlsx",
        "PDF",
    )
    bad("text_named_xlsx.xlsx", "甲,乙,丙\n".encode(), "CSV text renamed .xlsx", "不是 Excel")
    bad("empty.xlsx", b"", "an empty file", "文件为空")

    # CSV
    header = ",".join(PRINTED)
    lines = [header] + [",".join(str(v) for v in row) for row in ENERGY]
    text = "\n".join(lines) + "\n"
    good("good_utf8.csv", text.encode("utf-8"), "UTF-8 CSV", last_row=4)
    good("good_utf8_bom.csv", text.encode("utf-8-sig"), "UTF-8 CSV with BOM", last_row=4)
    good("good_gb18030.csv", text.encode("gb18030"), "GB18030 CSV", last_row=4)
    good(
        "xlsx_named_csv.csv",
        xlsx(sheet_xml(grid)),
        "a workbook named .csv: read as the workbook it is",
    )
    bad("utf16_bom.csv", text.encode("utf-16"), "UTF-16 with BOM", "UTF-16")
    bad("utf16_no_bom.csv", text.encode("utf-16-le"), "UTF-16 without BOM", "UTF-16")
    bad("utf32.csv", text.encode("utf-32"), "UTF-32", "UTF-32")
    rng = random.Random(13)
    bad(
        "binary_junk.csv",
        bytes(rng.randrange(256) for _ in range(4096)),
        "4 KiB of random bytes",
        "",
    )
    bad(
        "nul_bytes.csv",
        text.replace("吨", "吨\x00").encode(),
        "NUL bytes inside the text",
        "控制字符",
        row=2,
    )
    bad(
        "control_chars.csv",
        text.replace("电力", "电\x01力").encode(),
        "a \\x01 control character",
        "控制字符",
        row=4,
    )
    bad(
        "renamed_xls.csv",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1500),
        ".xls renamed .csv",
        ".xls",
    )
    bad("renamed_pdf.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF renamed .csv", "PDF")
    bad(
        "huge_field.csv",
        (header + '\n"' + "x" * 135_000 + '",吨,01\n').encode(),
        "one quoted field of 135 000 characters (over the csv module's limit)",
        "CSV",
        row=2,
    )
    bad(
        "too_many_columns.csv",
        (header + "\n" + ",".join(["1"] * 300) + "\n").encode(),
        "a row of 300 columns",
        "列数",
        row=2,
    )
    return files, manifest


def main() -> None:
    files, manifest = build()
    for old in HERE.glob("*"):
        if old.suffix in {".xlsx", ".csv"}:
            old.unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    total = sum(len(d) for d in files.values())
    print(f"{len(files)} files, {total / 1024:.0f} KiB in {HERE}")


if __name__ == "__main__":
    main()
