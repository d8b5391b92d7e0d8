"""Registry writes for divisions and departments (import from CSV/Excel)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from dualcontrol.audit.services import record, snapshot
from dualcontrol.core.codes import CodeError, division_level
from dualcontrol.dbstats import analyze_after_commit
from dualcontrol.formats.report205 import CellError, ReportFormatError, column_letter
from dualcontrol.formats.upload_tables import TableRefused, decode_text
from dualcontrol.regions.models import Department, Division

DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "source")


def _division_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header, [(row number in the file, cells by column)]) of a divisions CSV in UTF-8 or
    GB18030.  Comment lines (``#``) and blank lines are skipped but keep the numbering, so every
    problem names the row a person finds in the file."""
    try:
        text = decode_text(data, sheet="csv")
    except TableRefused as exc:
        raise ReportFormatError(exc.errors) from exc
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    try:
        grid = list(csv.reader(lines))
    except csv.Error as exc:
        raise ReportFormatError([CellError("csv", 1, "", str(exc))]) from exc
    numbered = [(n, row) for n, row in enumerate(grid, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise ReportFormatError([CellError("csv", 1, "", _("文件为空"))])
    header_row, raw_header = numbered[0]
    header = [h.strip() for h in raw_header]
    missing = [c for c in DIVISION_COLUMNS if c not in header]
    if missing:
        raise ReportFormatError(
            [CellError("csv", header_row, "", _("缺少列：%(cols)s") % {"cols": ", ".join(missing)})]
        )
    rows = [
        (n, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)})
        for n, row in numbered[1:]
    ]
    return header, rows


def import_divisions(*, data: bytes, user: Any) -> int:
    """Create or update divisions from a CSV (columns: code,name,level,parent_code,source[,longitude,latitude,valid_from,valid_to]).

    All rows are checked first, every cell of every row; any error rejects the whole file
    (ReportFormatError with every cell: sheet, row, column letter, reason).
    """
    header, numbered = _division_rows(data)
    letter = {h: column_letter(i) for i, h in enumerate(header)}
    rows = [r for _n, r in numbered]
    errors: list[CellError] = []

    def err(row: int, field: str, reason: str) -> None:
        errors.append(CellError("csv", row, letter.get(field, ""), reason, field))

    known = set(Division.objects.values_list("code", flat=True))
    codes = {r["code"] for r in rows}
    for i, r in numbered:
        code = r["code"]
        try:
            level = division_level(code)
            if level != r["level"]:
                err(
                    i,
                    "level",
                    _("代码 %(code)s 对应级别为 %(level)s") % {"code": code, "level": level},
                )
        except CodeError as exc:
            err(i, "code", str(exc))
        if not r["name"]:
            err(i, "name", _("名称不能为空"))
        parent = r["parent_code"]
        if parent and parent not in known and parent not in codes:
            err(i, "parent_code", _("上级代码 %(v)s 不存在") % {"v": parent})
        if not r["source"]:
            err(i, "source", _("来源不能为空"))
        for col, low, high in (("longitude", -180, 180), ("latitude", -90, 90)):
            if r.get(col):
                try:
                    value = float(r[col])
                    if not low <= value <= high:
                        raise ValueError
                except ValueError:
                    err(
                        i,
                        col,
                        _("“%(v)s”不是 %(low)s 至 %(high)s 之间的数")
                        % {"v": r[col], "low": low, "high": high},
                    )
        for col in ("valid_from", "valid_to"):
            if r.get(col):
                try:
                    dt.date.fromisoformat(r[col])
                except ValueError:
                    err(i, col, _("日期格式应为 YYYY-MM-DD"))
    if errors:
        raise ReportFormatError(errors)
    order = {"province": 0, "prefecture": 1, "county": 2}
    rows.sort(key=lambda r: (order[r["level"]], r["code"]))
    with transaction.atomic():
        by_code = {d.code: d for d in Division.objects.all()}
        for r in rows:
            code = r["code"]
            existing = by_code.get(code)
            before = None
            if existing is not None:
                before = snapshot(existing)
            div = existing or Division(code=code)
            div.name = r["name"]
            div.level = r["level"]
            div.parent = by_code.get(r["parent_code"]) if r["parent_code"] else None
            div.source = r["source"]
            div.longitude = float(r["longitude"]) if r.get("longitude") else None
            div.latitude = float(r["latitude"]) if r.get("latitude") else None
            div.valid_from = dt.date.fromisoformat(r["valid_from"]) if r.get("valid_from") else None
            div.valid_to = dt.date.fromisoformat(r["valid_to"]) if r.get("valid_to") else None
            div.save()
            by_code[code] = div
            record(
                actor=user,
                action="division.update" if existing else "division.create",
                obj=div,
                before=before,
                after=snapshot(div),
            )
    analyze_after_commit(Division)
    return len(rows)


def create_department(
    *, division: Division, name: str, short_name: str = "", user: Any
) -> Department:
    with transaction.atomic():
        dept = Department.objects.create(division=division, name=name, short_name=short_name)
        record(actor=user, action="department.create", obj=dept, after=snapshot(dept))
    return dept
