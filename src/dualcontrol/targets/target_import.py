"""Targets from plain values: the REST API's create/edit and the ``dualcontrol import targets``
file (CSV in UTF-8 or GB18030, or .xlsx).

Both resolve official codes (division GB/T 2260 code, unit USCC, GB/T 4754 industry code, rule-set
name, parent target id) to records and then call the page's services
(:func:`dualcontrol.targets.services.create_target` / ``update_target``): the same checks, the same
access rules and the same audit entry.  A file is refused whole: every row is checked first (codes,
numbers, the model's own validation, who may set a target for whom) and every problem is listed with
its sheet, row, column and reason; nothing is written unless all rows pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dualcontrol.access.targets import can_create_for, visible_targets
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.formats.upload_tables import CellError, column_letter
from dualcontrol.regions.models import Division
from dualcontrol.targets.errors import NotAllowed, StatisticsRejected, TargetError
from dualcontrol.targets.models import Target, WarningRuleSet
from dualcontrol.targets.services import TARGET_FIELDS

#: the columns of a targets file: the target's own fields (not the demo flag), with codes
#: instead of record ids (division, entity, industry, rule_set by name; parent by target id)
COLUMNS = tuple(f for f in TARGET_FIELDS if f != "is_synthetic")
REQUIRED = ("indicator", "period_kind", "base_year", "end_year", "base_value", "source_document")
INTEGERS = ("base_year", "end_year", "quarter")
DECIMALS = ("base_value", "incentive_value", "base_level")
TRUE = {"1", "true", "yes", "y", "是"}
FALSE = {"0", "false", "no", "n", "否"}


class TargetsRejected(StatisticsRejected):
    """A targets file (or an API request) refused whole; ``errors`` lists every problem."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def resolve(raw: Mapping[str, Any], user: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(model values, problems by column) of one target given as codes; only the columns present
    in ``raw`` are resolved (an edit changes what it names).  Blank optional cells are ``None``."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for col, value in raw.items():
        if col not in COLUMNS:
            problems[col] = _("未知列“%(c)s”") % {"c": col}
            continue
        text = _text(value)
        if not text:
            if col in REQUIRED:
                problems[col] = _("必填")
            elif col in ("note", "unit", "pace_definition", "progress_definition"):
                values[col] = ""
            elif col == "barometer":
                values[col] = True
            elif col != "status":
                values[col] = None
            continue
        if col == "division":
            div = Division.objects.filter(code=text).order_by("-valid_from").first()
            if div is None:
                problems[col] = _("未知地区代码“%(v)s”") % {"v": text}
            values[col] = div
        elif col == "entity":
            ent = Entity.objects.filter(uscc=text).first()
            if ent is None:
                problems[col] = _("未知统一社会信用代码“%(v)s”") % {"v": text}
            values[col] = ent
        elif col == "industry":
            ind = Industry.objects.filter(code=text).first()
            if ind is None:
                problems[col] = _("未知行业代码“%(v)s”") % {"v": text}
            values[col] = ind
        elif col == "rule_set":
            rs = WarningRuleSet.objects.filter(name=text, active=True).first()
            if rs is None:
                problems[col] = _("未知或未启用的预警规则集“%(v)s”") % {"v": text}
            values[col] = rs
        elif col == "parent":
            parent = None
            if text.isdigit():
                parent = visible_targets(user).filter(pk=int(text)).first()
            if parent is None:
                problems[col] = _("未知上级目标“%(v)s”（应为可见目标的编号）") % {"v": text}
            values[col] = parent
        elif col in INTEGERS:
            try:
                values[col] = int(text)
            except ValueError:
                problems[col] = _("“%(v)s”不是整数") % {"v": text}
        elif col in DECIMALS:
            try:
                values[col] = Decimal(text.replace(",", ""))
            except InvalidOperation:
                problems[col] = _("“%(v)s”不是数字") % {"v": text}
            else:
                if not values[col].is_finite():
                    problems[col] = _("“%(v)s”不是数字") % {"v": text}
        elif col == "barometer":
            if text.lower() in TRUE:
                values[col] = True
            elif text.lower() in FALSE:
                values[col] = False
            else:
                problems[col] = _("应为 1/0（是/否）")
        else:
            values[col] = text
    return values, problems


def check(
    values: dict[str, Any], user: Any, *, system: bool = False, skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Problems (by column) the services would refuse: access and the model's validation.
    ``skip``: columns already refused (not checked again, so every other problem still shows)."""
    problems: dict[str, str] = {}
    holder = {"division", "entity"} - skip
    if (
        not system
        and holder == {"division", "entity"}
        and not can_create_for(user, values.get("division"), values.get("entity"))
    ):
        problems["division" if values.get("division") else "entity"] = _(
            "无权为该地区或单位设定目标"
        )
    unit = values.get("unit") or ""
    known = {k: v for k, v in values.items() if k not in skip}
    target = Target(**{**known, "unit": unit or "x"})
    try:
        target.full_clean(exclude=["decomposition", "created_by", *skip])
    except ValidationError as exc:
        for field, reasons in exc.message_dict.items():
            if field in skip:
                continue
            if field == "__all__" and skip:
                continue  # cross-field checks need every field
            problems.setdefault(field if field in COLUMNS else "", " ".join(reasons))
    return problems


def import_targets(*, data: bytes, user: Any, filename: str = "", system: bool = False) -> int:
    """Create every target of a file through :func:`services.create_target` (all or nothing);
    ``system``: a platform batch job (no user's access check; the audit names the system)."""
    from dualcontrol.targets import services
    from dualcontrol.targets.statistics import read_table

    if not system and not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("无权导入目标"))
    try:
        sheet, header, body = read_table(data, filename)
    except StatisticsRejected as exc:
        raise TargetsRejected(exc.errors) from exc
    errors: list[CellError] = []
    letter = {c: column_letter(i) for i, c in enumerate(header)}
    unknown = [h for h in header if h and h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        errors.append(CellError(sheet, 1, "", _("缺少列：%(c)s") % {"c": ", ".join(missing)}))
    for h in unknown:
        errors.append(CellError(sheet, 1, letter[h], _("未知列“%(c)s”") % {"c": h}, field=h))
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        errors.append(CellError(sheet, 1, "", _("列名重复：%(c)s") % {"c": ", ".join(dup)}))
    if errors:
        raise TargetsRejected(errors)
    rows: list[dict[str, Any]] = []
    for i, raw in enumerate(body, start=2):
        if len(raw) > len(header):
            errors.append(CellError(sheet, i, "", _("本行的列数多于表头")))
            continue
        cells = {h: (raw[j] if j < len(raw) else "") for j, h in enumerate(header) if h}
        values, problems = resolve(cells, user)
        problems.update(check(values, user, system=system, skip=frozenset(problems)))
        for col, reason in problems.items():
            errors.append(CellError(sheet, i, letter.get(col, ""), reason, field=col))
        rows.append(values)
    if not rows and not errors:
        errors.append(CellError(sheet, 2, "", _("文件没有数据行")))
    if errors:
        raise TargetsRejected(errors)
    created = 0
    with transaction.atomic():
        for i, values in enumerate(rows, start=2):
            try:
                services.create_target(user=user, system=system, **values)
            except TargetError as exc:  # checked above; a race is still refused whole
                raise TargetsRejected([CellError(sheet, i, "", str(exc))]) from exc
            created += 1
    return created
