"""Registry writes for divisions and departments (import from CSV/Excel)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from dualcontrol.audit.services import record, snapshot
from dualcontrol.core.codes import CodeError, division_level
from dualcontrol.dbstats import analyze_after_commit
from dualcontrol.formats.report205 import CellError, ReportFormatError
from dualcontrol.regions.models import Department, Division

DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "source")


def import_divisions(*, data: bytes, user: Any) -> int:
    """Create or update divisions from a CSV (columns: code,name,level,parent_code,source[,longitude,latitude,valid_from,valid_to]).

    All rows are checked first; any error rejects the whole file (ReportFormatError with cells).
    """
    text = data.decode("utf-8-sig")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    header = reader.fieldnames or []
    missing = [c for c in DIVISION_COLUMNS if c not in header]
    if missing:
        raise ReportFormatError(
            [CellError("csv", 1, "", _("缺少列：%(cols)s") % {"cols": ", ".join(missing)})]
        )
    rows = list(reader)
    errors: list[CellError] = []
    known = set(Division.objects.values_list("code", flat=True))
    codes = {r["code"].strip() for r in rows}
    for i, r in enumerate(rows, start=2):
        code = r["code"].strip()
        try:
            level = division_level(code)
            if level != r["level"].strip():
                errors.append(
                    CellError(
                        "csv",
                        i,
                        "level",
                        _("代码 %(code)s 对应级别为 %(level)s") % {"code": code, "level": level},
                    )
                )
        except CodeError as exc:
            errors.append(CellError("csv", i, "code", str(exc)))
        parent = r["parent_code"].strip()
        if parent and parent not in known and parent not in codes:
            errors.append(
                CellError("csv", i, "parent_code", _("上级代码 %(v)s 不存在") % {"v": parent})
            )
        if not r["source"].strip():
            errors.append(CellError("csv", i, "source", _("来源不能为空")))
        for col in ("valid_from", "valid_to"):
            if r.get(col):
                try:
                    dt.date.fromisoformat(r[col])
                except ValueError:
                    errors.append(CellError("csv", i, col, _("日期格式应为 YYYY-MM-DD")))
    if errors:
        raise ReportFormatError(errors)
    order = {"province": 0, "prefecture": 1, "county": 2}
    rows.sort(key=lambda r: (order[r["level"].strip()], r["code"]))
    with transaction.atomic():
        by_code = {d.code: d for d in Division.objects.all()}
        for r in rows:
            code = r["code"].strip()
            existing = by_code.get(code)
            before = None
            if existing is not None:
                before = snapshot(existing)
            div = existing or Division(code=code)
            div.name = r["name"].strip()
            div.level = r["level"].strip()
            div.parent = by_code.get(r["parent_code"].strip()) if r["parent_code"].strip() else None
            div.source = r["source"].strip()
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
