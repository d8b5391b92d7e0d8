"""Registry writes for reporting entities: create/update one, or import a CSV/Excel file whole."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dualcontrol.audit.services import record, snapshot
from dualcontrol.core.codes import CodeError, validate_uscc
from dualcontrol.dbstats import analyze_after_commit
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.formats.report205 import CellError, ReportFormatError, column_letter
from dualcontrol.formats.upload_tables import TableRefused, read_upload
from dualcontrol.reference import load_csv
from dualcontrol.regions.models import Division

REQUIRED = ("uscc", "name", "division_code", "industry_code")
OPTIONAL = (
    "is_key_discharger",
    "annual_energy_tce",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
)
TRUE = {"1", "true", "yes", "y", "是", "√", "✓"}


def thresholds() -> dict[str, Decimal]:
    return {r["key"]: Decimal(r["value"]) for r in load_csv("entity_thresholds.csv").rows}


def _grid(data: bytes, filename: str) -> tuple[str, list[list[str]]]:
    """The first sheet (or the CSV) as text, through the bounded reader (limits ``entities``)."""
    try:
        table = read_upload(data, filename, kind="entities", first_sheet_only=True)
    except TableRefused as exc:
        raise ReportFormatError(exc.errors) from exc
    sheet = table.sheets[0]
    return sheet.title, [["" if v is None else str(v).strip() for v in row] for row in sheet.rows]


def import_entities(*, data: bytes, filename: str, user: Any) -> int:
    """Create or update units from a file with columns uscc,name,division_code,industry_code[,…].

    Every row is checked first (USCC check digit, known division and industry, numbers);
    any error rejects the whole file with sheet/row/column/reason. Each write is audited.
    """
    sheet, grid = _grid(data, filename)
    if not grid:
        raise ReportFormatError([CellError(sheet, 1, "", _("文件为空"))])
    header = grid[0]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ReportFormatError(
            [CellError(sheet, 1, "", _("缺少列：%(cols)s") % {"cols": ", ".join(missing)})]
        )
    col = {h: i for i, h in enumerate(header)}
    divisions = {d.code: d for d in Division.objects.all()}
    industries = {i.code: i for i in Industry.objects.all()}
    errors: list[CellError] = []
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    limits = thresholds()
    for r, raw in enumerate(grid[1:], start=2):
        row = {h: (raw[i] if i < len(raw) else "") for h, i in col.items()}
        if not any(row.values()):
            continue

        def err(field: str, reason: str, r: int = r) -> None:
            errors.append(CellError(sheet, r, column_letter(col[field]), reason, field))

        try:
            uscc = validate_uscc(row["uscc"])
            if uscc in seen:
                err("uscc", _("统一社会信用代码重复"))
            seen.add(uscc)
        except CodeError as exc:
            err("uscc", _("统一社会信用代码无效：%(reason)s") % {"reason": exc})
            uscc = ""
        if not row["name"]:
            err("name", _("单位名称不能为空"))
        if row["division_code"] not in divisions:
            err("division_code", _("区划代码 %(v)s 不存在") % {"v": row["division_code"]})
        if row["industry_code"] not in industries:
            err("industry_code", _("行业代码 %(v)s 不存在") % {"v": row["industry_code"]})
        energy = None
        if row.get("annual_energy_tce"):
            try:
                energy = Decimal(row["annual_energy_tce"].replace(",", ""))
                if energy < 0:
                    err("annual_energy_tce", _("不能为负数"))
            except InvalidOperation:
                err("annual_energy_tce", _("不是数字"))
        # the model's own field checks (lengths, e-mail …) on this row now, not at the first
        # failing save: every problem of the file is listed at once
        texts = [f for f in ("name", *OPTIONAL[2:]) if f in col and row.get(f)]
        try:
            Entity(**{f: row[f] for f in texts}).clean_fields(
                exclude=[f.name for f in Entity._meta.fields if f.name not in texts]
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                err(field, "；".join(messages))
        parsed.append({**row, "uscc": uscc, "annual_energy_tce": energy})
    if errors:
        raise ReportFormatError(errors)
    with transaction.atomic():
        for row in parsed:
            existing = Entity.objects.filter(uscc=row["uscc"]).first()
            before = snapshot(existing) if existing else None
            e = existing or Entity(uscc=row["uscc"])
            e.name = row["name"]
            e.division = divisions[row["division_code"]]
            e.industry = industries[row["industry_code"]]
            e.is_key_discharger = str(row.get("is_key_discharger", "")).lower() in TRUE
            e.annual_energy_tce = row["annual_energy_tce"]
            if e.annual_energy_tce is not None:
                e.is_key_energy_unit = e.annual_energy_tce >= limits["key_energy_unit_min_tce"]
                e.online_monitoring = e.annual_energy_tce >= limits["online_monitoring_min_tce"]
            for f in ("address", "contact_name", "contact_phone", "contact_email"):
                setattr(e, f, row.get(f, "") or "")
            e.full_clean()
            e.save()
            record(
                actor=user,
                action="entity.update" if existing else "entity.create",
                obj=e,
                before=before,
                after=snapshot(e),
            )
    analyze_after_commit(Entity)
    return len(parsed)
