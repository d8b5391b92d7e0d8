"""The status-report workbook (能源利用状况报告): the template a unit downloads and the reader of
the filled file.

Three sheets, after the report's tables as listed in the 2008 填报说明 (河北省节能监察监测中心,
《重点用能单位能源利用状况报告填报说明及系统操作手册》, 2008-12): 表1 基本情况, 表2 能源消费结构,
表4 单位产品综合能耗 — the current national column set was not found, so the columns are the fields
the platform stores.  On 产品能耗, every column after the named ones is a correction input of the
limit standard (its key as header, e.g. ``clinker_ratio_pct``).

The file goes through the platform's one upload reader (bounded, whole); every problem is listed
with its sheet, row and column, and nothing is written when there is one.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from dualcontrol.entities.models import Entity
from dualcontrol.exports import append
from dualcontrol.formats.upload_tables import TableRefused, column_letter, read_upload
from dualcontrol.keyunits.services import (
    EnergyUseRow,
    Problem,
    ProductRow,
    StatusContent,
)

SHEET_BASIC = "基本情况"
SHEET_ENERGY = "能源消费"
SHEET_PRODUCTS = "产品能耗"
BASIC_LABELS = {
    "单位名称": "unit_name",
    "统一社会信用代码": "uscc",
    "报告年度": "year",
    "能源管理负责人": "manager_name",
    "证书编号": "manager_certificate",
    "节能量（吨标准煤）": "savings_tce",
    "节能措施": "measures",
}
ENERGY_COLUMNS = {
    "能源品种": "kind",
    "计量单位": "unit",
    "消费量": "quantity",
    "折标准煤（吨）": "energy_tce",
}
PRODUCT_COLUMNS = {
    "产品": "product",
    "指标": "indicator",
    "产量": "output",
    "产量单位": "output_unit",
    "单位产品能耗": "value",
    "单位": "unit",
    "生产用电量（千瓦时）": "electricity_kwh",
}
UPLOAD_KIND = "report205"  # the size class of a 205-1 workbook (upload_limits.yaml)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header(rows: list[list[Any]], first: str) -> tuple[int, list[str]] | None:
    for i, row in enumerate(rows[:20]):
        cells = [_text(c) for c in row]
        if cells and cells[0] == first:
            return i, cells
    return None


def read_status_workbook(
    data: bytes, filename: str, *, entity: Entity, year: int
) -> tuple[StatusContent, list[Problem]]:
    """The content of an uploaded status report and the problems of its frame (sheets, headers,
    unit, year); the content's own checks are the service's."""
    from dualcontrol.keyunits.services import ReportRejected

    try:
        table = read_upload(data, filename, kind=UPLOAD_KIND)
    except TableRefused as exc:
        raise ReportRejected(
            [Problem(e.sheet, e.row, e.column, e.field, e.reason) for e in exc.errors]
        ) from exc
    problems: list[Problem] = []
    content = StatusContent(energy_uses=[], product_lines=[])
    if table.format != "xlsx":
        raise ReportRejected(
            [Problem(filename, 0, "", "file", _("能源利用状况报告请使用 Excel 模板（.xlsx）上传"))]
        )
    sheets = {s.title: s for s in table.sheets}
    for name in (SHEET_BASIC, SHEET_ENERGY, SHEET_PRODUCTS):
        if name not in sheets:
            problems.append(Problem(name, 0, "", "sheet", _("缺少工作表“%(s)s”") % {"s": name}))
    if problems:
        raise ReportRejected(problems)

    basic = sheets[SHEET_BASIC]
    for r, row in enumerate(basic.rows, start=1):
        label = _text(row[0]) if row else ""
        key = BASIC_LABELS.get(label)
        if key is None:
            continue
        value = row[1] if len(row) > 1 else None
        content.cells[key] = (SHEET_BASIC, r, "B")
        if key == "uscc" and _text(value) and _text(value) != entity.uscc:
            problems.append(
                Problem(
                    SHEET_BASIC,
                    r,
                    "B",
                    "uscc",
                    _("表中统一社会信用代码 %(uscc)s 与本单位 %(own)s 不一致")
                    % {"uscc": _text(value), "own": entity.uscc},
                )
            )
        elif key == "year" and _text(value) and _text(value) != str(year):
            problems.append(
                Problem(
                    SHEET_BASIC,
                    r,
                    "B",
                    "year",
                    _("表中报告年度 %(file)s 与所选年度 %(chosen)s 不一致")
                    % {"file": _text(value), "chosen": year},
                )
            )
        elif key == "savings_tce":
            content.savings_tce = value
        elif key in ("measures", "manager_name", "manager_certificate"):
            setattr(content, key, _text(value))

    def table_rows(
        sheet_name: str, columns: dict[str, str]
    ) -> tuple[list[tuple[int, dict[str, Any], dict[str, Any]]], dict[str, str]]:
        sheet = sheets[sheet_name]
        first = next(iter(columns))
        found = _header(sheet.rows, first)
        if found is None:
            problems.append(
                Problem(sheet_name, 1, "A", "header", _("找不到表头“%(h)s”") % {"h": first})
            )
            return [], {}
        at, cells = found
        letters: dict[str, str] = {}
        index: dict[int, str] = {}
        extra: dict[int, str] = {}
        for c, head in enumerate(cells):
            if not head:
                continue
            if head in columns:
                index[c] = columns[head]
                letters[columns[head]] = column_letter(c)
            else:
                extra[c] = head
                letters[f"corr:{head}"] = column_letter(c)
        for head, key in columns.items():
            if key not in letters and key not in ("unit", "output_unit", "electricity_kwh"):
                problems.append(
                    Problem(sheet_name, at + 1, "", key, _("缺少列“%(h)s”") % {"h": head})
                )
        out = []
        for r, row in enumerate(sheet.rows[at + 1 :], start=at + 2):
            if not any(_text(v) for v in row):
                continue
            values = {key: (row[c] if c < len(row) else None) for c, key in index.items()}
            extras = {head: row[c] for c, head in extra.items() if c < len(row) and _text(row[c])}
            out.append((r, values, extras))
        return out, letters

    energy, e_letters = table_rows(SHEET_ENERGY, ENERGY_COLUMNS)
    for i, (r, values, _extras) in enumerate(energy, start=1):
        content.energy_uses.append(
            EnergyUseRow(
                kind=_text(values.get("kind")),
                unit=_text(values.get("unit")),
                quantity=values.get("quantity"),
                energy_tce=values.get("energy_tce"),
            )
        )
        for key in ("kind", "unit", "quantity", "energy_tce"):
            content.cells[f"energy.{i}.{key}"] = (SHEET_ENERGY, r, e_letters.get(key, ""))
    if not energy and e_letters:
        content.cells["energy_uses"] = (SHEET_ENERGY, 2, "A")
    products, p_letters = table_rows(SHEET_PRODUCTS, PRODUCT_COLUMNS)
    for i, (r, values, extras) in enumerate(products, start=1):
        content.product_lines.append(
            ProductRow(
                product=_text(values.get("product")),
                indicator=_text(values.get("indicator")),
                output=values.get("output"),
                value=values.get("value"),
                output_unit=_text(values.get("output_unit")),
                unit=_text(values.get("unit")),
                electricity_kwh=values.get("electricity_kwh"),
                corrections=extras,
            )
        )
        for key in PRODUCT_COLUMNS.values():
            content.cells[f"product.{i}.{key}"] = (SHEET_PRODUCTS, r, p_letters.get(key, ""))
        first_extra = next((p_letters[k] for k in p_letters if k.startswith("corr:")), "")
        content.cells[f"product.{i}.corrections"] = (SHEET_PRODUCTS, r, first_extra)
    return content, problems


def template_bytes(*, entity: Entity | None, year: int) -> bytes:
    """The empty template (with the unit's name, USCC and year filled in)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dualcontrol.keyunits import efficiency as eff

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_BASIC
    values = {
        "单位名称": entity.name if entity else "",
        "统一社会信用代码": entity.uscc if entity else "",
        "报告年度": year,
    }
    for label in BASIC_LABELS:
        append(ws, [label, values.get(label, "")])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 40
    energy = wb.create_sheet(SHEET_ENERGY)
    append(energy, list(ENERGY_COLUMNS))
    products = wb.create_sheet(SHEET_PRODUCTS)
    corrections: list[str] = []
    for info in eff.lines():
        for c in info.line.corrections:
            if c.name not in corrections:
                corrections.append(c.name)
    append(products, [*PRODUCT_COLUMNS, *corrections])
    for sheet in (energy, products):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
