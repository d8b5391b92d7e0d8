"""Use cases of 205-1 reporting: the only code that writes reports.

Three ways in (web form, Excel/CSV upload, REST API) end in :func:`save_report`, which
validates the whole report with the core rules, writes one revision in one transaction and
records an audit entry.  Workflow: draft → submitted → returned (reason required) or
accepted; editing a submitted/returned report creates a new revision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dualcontrol.access.scope import can_file_for, can_review
from dualcontrol.audit.services import record
from dualcontrol.core.report205 import QUANTITY_FIELDS, ProductSpec, Row205, validate_report
from dualcontrol.entities.models import Entity
from dualcontrol.formats.report205 import (
    CellError,
    ParsedReport,
    ReportFormatError,
    file_period,
    read_report,
)
from dualcontrol.reference.energy_products import rules_205
from dualcontrol.reporting.accounting import account_rows
from dualcontrol.reporting.models import (
    EnergyProduct,
    EnergyReport,
    PeriodType,
    ReportEvent,
    ReportLine,
    ReportRevision,
    Source,
    Status,
)


class PermissionDenied(Exception):
    """The user may not do this to this report."""


class WorkflowError(Exception):
    """The action does not fit the report's state (e.g. accepting a draft)."""


@dataclass(frozen=True)
class Problem:
    """A validation problem addressed by sheet/row/column (uploads) or row/field (form, API)."""

    sheet: str
    row: int
    column: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = (
            f"{self.sheet}!{self.column}{self.row}"
            if self.sheet
            else _("第%(row)s行 %(field)s") % {"row": self.row, "field": self.field}
        )
        return f"{where}: {self.reason}"


class ReportRejected(Exception):
    """The report was refused as a whole; ``problems`` lists every reason. Nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]))


def catalogue(on: dt.date | None = None) -> dict[str, EnergyProduct]:
    qs = EnergyProduct.objects.all()
    if on is not None:
        qs = qs.exclude(valid_from__gt=on).exclude(valid_to__lt=on)
    return {p.code: p for p in qs}


def product_spec(p: EnergyProduct) -> ProductSpec:
    return ProductSpec(
        code=p.code,
        name_zh=p.name_zh,
        unit=p.unit,
        coefficient_tce_per_unit=p.coefficient_tce_per_unit,
        plausible_low=p.plausible_low,
        plausible_high=p.plausible_high,
    )


def period_start(year: int, month: int | None) -> dt.date:
    return dt.date(year, month or 1, 1)


def _check_period(period_type: str, year: int, month: int | None) -> None:
    if period_type not in PeriodType.values:
        raise ReportRejected(
            [Problem("", 0, "", "period_type", _("未知报表类型 %(v)s") % {"v": period_type})]
        )
    if period_type == PeriodType.MONTHLY and not (month and 1 <= month <= 12):
        raise ReportRejected([Problem("", 0, "", "month", _("月报必须填写 1–12 月"))])
    if period_type == PeriodType.ANNUAL and month:
        raise ReportRejected([Problem("", 0, "", "month", _("年报不填月份"))])
    today = timezone.localdate()
    if period_start(year, month) > today or year < 2000:
        raise ReportRejected(
            [
                Problem(
                    "",
                    0,
                    "",
                    "year",
                    _("报告期 %(period)s 不在可填报范围内") % {"period": f"{year}-{month or ''}"},
                )
            ]
        )


def validate_rows(
    rows: Sequence[Row205],
    products: dict[str, EnergyProduct],
    unreadable: dict[int, frozenset[str]] | None = None,
) -> list[Any]:
    specs = {code: product_spec(p) for code, p in products.items()}
    return validate_report(rows, specs, rules_205(), unreadable)


def _rule_problems(issues: Sequence[Any], parsed: ParsedReport | None) -> list[Problem]:
    problems = []
    for issue in issues:
        if parsed is not None:
            sheet, row_no, col = parsed.locate(issue.row, issue.field)
        else:
            sheet, row_no, col = "", issue.row + 1, ""
        problems.append(Problem(sheet, row_no, col, issue.field, issue.message(_lang())))
    return problems


def _lang() -> str:
    return get_language() or "zh-hans"


def save_report(
    *,
    entity: Entity,
    period_type: str,
    year: int,
    month: int | None,
    rows: Sequence[Row205],
    user: Any,
    source: str = Source.FORM,
    filename: str = "",
    parsed: ParsedReport | None = None,
    submit: bool = False,
) -> EnergyReport:
    """Validate and store a report's content as a revision (and submit it when asked)."""
    if not can_file_for(user, entity) and source != Source.DEMO:
        raise PermissionDenied("only the unit's own reporter files its reports")
    _check_period(period_type, year, month)
    products = catalogue(period_start(year, month))
    issues = validate_rows(rows, products)
    if issues:
        raise ReportRejected(_rule_problems(issues, parsed))
    totals = account_rows(rows, products, year, entity.division.path.split("/")[0])
    with transaction.atomic():
        report, created = EnergyReport.objects.select_for_update().get_or_create(
            entity=entity,
            period_type=period_type,
            year=year,
            month=month if period_type == PeriodType.MONTHLY else None,
        )
        if report.status == Status.ACCEPTED:
            raise WorkflowError(_("已通过的报表不能修改；如需更正请联系审核人员退回"))
        before = _report_state(report) if not created else None
        current = report.revisions.filter(number=report.current_revision).first()
        if current is not None and current.submitted is None:
            revision = current  # still a draft: replace its content
            revision.lines.all().delete()
            revision.source, revision.filename, revision.created_by = source, filename, user
        else:
            revision = ReportRevision(
                report=report,
                number=report.current_revision + 1,
                source=source,
                filename=filename,
                created_by=user if getattr(user, "pk", None) else None,
            )
        revision.energy_tce = totals.energy_tce
        revision.energy_equiv_tce = totals.energy_equiv_tce
        revision.co2_t = totals.co2_t
        revision.provenance = totals.provenance
        revision.save()
        ReportLine.objects.bulk_create(
            [
                ReportLine(
                    revision=revision,
                    product=products[r.product_code],
                    unit=r.unit,
                    coefficient_used=r.coefficient_used,
                    **{f: getattr(r, f) for f in QUANTITY_FIELDS},
                )
                for r in rows
            ]
        )
        report.current_revision = revision.number
        report.status = Status.DRAFT
        report.energy_tce = totals.energy_tce
        report.energy_equiv_tce = totals.energy_equiv_tce
        report.co2_t = totals.co2_t
        report.save()
        ReportEvent.objects.create(
            report=report, revision=revision.number, action="saved", actor=_actor(user)
        )
        record(
            actor=user,
            action="report.save",
            obj=report,
            before=before,
            after=_report_state(report),
            note=f"source={source} {filename}".strip(),
        )
        if submit:
            _submit(report, user)
    return report


def upload_report(
    *,
    entity: Entity,
    period_type: str,
    year: int,
    month: int | None,
    data: bytes,
    filename: str,
    user: Any,
    submit: bool = False,
) -> EnergyReport:
    """An Excel/CSV upload: read, validate, store — or reject whole with cell references."""
    if not can_file_for(user, entity):
        raise PermissionDenied("only the unit's own reporter files its reports")
    products = catalogue(period_start(year, month))
    try:
        parsed = read_report(
            data, filename, {p.name_zh: p.code for p in products.values()}, collect=True
        )
    except ReportFormatError as exc:
        raise ReportRejected([_cell_problem(e) for e in exc.errors]) from exc
    # every problem of the file at once (issue 14): the frame (USCC, period), the cells that
    # could not be read, and the rules on every row that could — then refused whole
    problems = [_cell_problem(e) for e in parsed.errors]
    uscc = parsed.meta.get("uscc", "")
    if uscc and uscc != entity.uscc:
        problems.append(
            Problem(
                parsed.sheet,
                *parsed.meta_cells.get("uscc", (3, "F")),
                "uscc",
                _("表中统一社会信用代码 %(uscc)s 与本单位 %(own)s 不一致")
                % {"uscc": uscc, "own": entity.uscc},
            )
        )
    period_problem = _file_period_problem(
        parsed, year, month if period_type == PeriodType.MONTHLY else None
    )
    if period_problem is not None:
        problems.append(period_problem)
    if parsed.rows or not problems:
        problems += _rule_problems(validate_rows(parsed.rows, products, parsed.unreadable), parsed)
    if problems:
        raise ReportRejected(sorted(problems, key=_file_order))
    return save_report(
        entity=entity,
        period_type=period_type,
        year=year,
        month=month,
        rows=parsed.rows,
        user=user,
        source=Source.EXCEL,
        filename=filename,
        parsed=parsed,
        submit=submit,
    )


def _file_order(p: Problem) -> tuple[int, int, str]:
    """Problems in the order of the file: by row, then by column (A … Z, AA …)."""
    return (p.row, len(p.column), p.column)


def _file_period_problem(parsed: ParsedReport, year: int, month: int | None) -> Problem | None:
    """The period written in the file (报告期) must be the one chosen on the form: a file of
    another period is refused, not filed under the wrong month."""
    text = parsed.meta.get("period", "")
    if not text:
        return None
    row, column = parsed.meta_cells.get("period", (0, ""))
    chosen = f"{year}-{month:02d}" if month else str(year)
    found = file_period(text)
    if found is None:
        reason = _("表中报告期“%(text)s”无法识别（应写作 %(chosen)s，或留空以所选报告期为准）") % {
            "text": text,
            "chosen": chosen,
        }
    elif found != (year, month):
        in_file = f"{found[0]}-{found[1]:02d}" if found[1] else str(found[0])
        reason = _("表中报告期 %(file)s 与所选报告期 %(chosen)s 不一致") % {
            "file": in_file,
            "chosen": chosen,
        }
    else:
        return None
    return Problem(parsed.sheet, row, column, "period", reason)


def _cell_problem(e: CellError) -> Problem:
    return Problem(e.sheet, e.row, e.column, e.field, e.reason)


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _report_state(report: EnergyReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "revision": report.current_revision,
        "energy_tce": None if report.energy_tce is None else str(report.energy_tce),
    }


def _submit(report: EnergyReport, user: Any) -> None:
    revision = report.revisions.get(number=report.current_revision)
    revision.submitted = timezone.now()
    revision.save(update_fields=["submitted"])
    report.status = Status.SUBMITTED
    report.save(update_fields=["status", "current_revision", "updated"])
    ReportEvent.objects.create(
        report=report, revision=revision.number, action="submitted", actor=_actor(user)
    )


def submit_report(*, report: EnergyReport, user: Any) -> EnergyReport:
    if not can_file_for(user, report.entity):
        raise PermissionDenied("only the unit's own reporter submits its reports")
    with transaction.atomic():
        report = EnergyReport.objects.select_for_update().get(pk=report.pk)
        if report.status not in {Status.DRAFT, Status.RETURNED} or report.current_revision == 0:
            raise WorkflowError(
                _("状态为「%(status)s」的报表不能提交") % {"status": report.get_status_display()}
            )
        before = _report_state(report)
        if report.status == Status.RETURNED:
            # a returned revision was already submitted once: resubmission is a new revision
            _copy_revision(report, user)
        _submit(report, user)
        record(
            actor=user,
            action="report.submit",
            obj=report,
            before=before,
            after=_report_state(report),
        )
    return report


def _copy_revision(report: EnergyReport, user: Any) -> None:
    old = report.revisions.get(number=report.current_revision)
    new = ReportRevision.objects.create(
        report=report,
        number=old.number + 1,
        source=old.source,
        filename=old.filename,
        created_by=_actor(user),
        energy_tce=old.energy_tce,
        energy_equiv_tce=old.energy_equiv_tce,
        co2_t=old.co2_t,
        provenance=old.provenance,
    )
    lines = list(old.lines.all())
    for line in lines:
        line.pk = None
        line.revision = new
    ReportLine.objects.bulk_create(lines)
    report.current_revision = new.number


def return_report(*, report: EnergyReport, user: Any, reason: str) -> EnergyReport:
    if not can_review(user, report.entity):
        raise PermissionDenied("not a reviewer of this unit")
    if not reason or not reason.strip():
        raise WorkflowError(_("退回必须填写原因"))
    with transaction.atomic():
        report = EnergyReport.objects.select_for_update().get(pk=report.pk)
        if report.status != Status.SUBMITTED:
            raise WorkflowError(
                _("状态为「%(status)s」的报表不能退回") % {"status": report.get_status_display()}
            )
        before = _report_state(report)
        report.status = Status.RETURNED
        report.save(update_fields=["status", "updated"])
        ReportEvent.objects.create(
            report=report,
            revision=report.current_revision,
            action="returned",
            actor=_actor(user),
            reason=reason.strip(),
        )
        record(
            actor=user,
            action="report.return",
            obj=report,
            before=before,
            after=_report_state(report),
            note=reason.strip(),
        )
    return report


def accept_report(*, report: EnergyReport, user: Any) -> EnergyReport:
    if not can_review(user, report.entity):
        raise PermissionDenied("not a reviewer of this unit")
    with transaction.atomic():
        report = EnergyReport.objects.select_for_update().get(pk=report.pk)
        if report.status != Status.SUBMITTED:
            raise WorkflowError(
                _("状态为「%(status)s」的报表不能通过") % {"status": report.get_status_display()}
            )
        before = _report_state(report)
        report.status = Status.ACCEPTED
        report.save(update_fields=["status", "updated"])
        ReportEvent.objects.create(
            report=report, revision=report.current_revision, action="accepted", actor=_actor(user)
        )
        record(
            actor=user,
            action="report.accept",
            obj=report,
            before=before,
            after=_report_state(report),
        )
    return report


def rows_of(report: EnergyReport, number: int | None = None) -> list[Row205]:
    """The 205-1 rows of a revision (the current one by default)."""
    revision = report.revisions.get(number=number or report.current_revision)
    return [
        Row205(
            product_code=line.product.code,
            product_name=line.product.name_zh,
            unit=line.unit,
            coefficient_used=line.coefficient_used,
            **{f: getattr(line, f) for f in QUANTITY_FIELDS},
        )
        for line in revision.lines.select_related("product")
    ]


def zero_row(p: EnergyProduct) -> Row205:
    return Row205(product_code=p.code, unit=p.unit, product_name=p.name_zh)


def decimal_or_zero(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)
