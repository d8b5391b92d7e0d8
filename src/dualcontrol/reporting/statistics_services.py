"""Use cases of self-reported statistics: the only code that writes statistics filings.

A city (or county) officer files a table of ``statistics_tables.yaml`` for its own division, a
province officer for the province.  Submitting checks the whole form (every problem at once: the
import's rule for each column, required, bounds, counts, the table's cross-column rules; nothing is
written on refusal); plausibility warnings are kept for the filer and the reviewer.  The level above
reviews: province staff a prefecture's filing (and a county's, with the county's city), a province
administrator other than the filer the province's.  Accepting writes the figures into the regional
statistics through :func:`dualcontrol.targets.statistics.merge_reported_columns` (audited; the row's
source gets “自报：<表> <地区> <年> 第N版”).  Editing an accepted filing starts a new revision; its
figures replace the accepted ones only when it is accepted in turn.

A region without an annual statistics row (energy consumption and GDP, from the statistics office)
cannot take the figures: the platform does not invent energy or GDP, so the accepted figures are
*held* on the filing and merged by the import that creates the row (or by “并入统计数据” later).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access.statistics import (
    can_file,
    can_merge,
    can_review,
    filing_divisions,
    may_merge,
    review_queue,
    visible_filings,
)
from dualcontrol.audit.services import record
from dualcontrol.regions.models import Division
from dualcontrol.reporting.services import PermissionDenied, Problem, ReportRejected, WorkflowError
from dualcontrol.reporting.statistics_models import (
    StatisticsReport,
    StatisticsReportEvent,
    StatisticsStatus,
)
from dualcontrol.reporting.statistics_tables import (
    ColumnSpec,
    RuleSpec,
    StatisticsTable,
    statistics_table,
    statistics_tables,
)
from dualcontrol.targets.errors import StatisticsRejected
from dualcontrol.targets.statistics import check_value, merge_reported_columns

__all__ = [
    "Finding",
    "PermissionDenied",
    "Problem",
    "ReportRejected",
    "WorkflowError",
    "accept_filing",
    "can_file",
    "can_merge",
    "can_review",
    "check_values",
    "filing_divisions",
    "findings",
    "merge_held",
    "merge_held_filings",
    "return_filing",
    "review_queue",
    "save_filing",
    "submit_filing",
    "visible_filings",
]

FIRST_YEAR = 2000


# ---------------------------------------------------------------------------------------------
# the whole-form check


@dataclass(frozen=True)
class Finding:
    """A plausibility warning of a filing (a ``ratio_range`` rule of severity warning)."""

    rule: str
    value: Decimal
    low: Decimal | None
    high: Decimal | None
    unit: str
    source: str

    def __str__(self) -> str:
        band = f"{self.low if self.low is not None else '—'}–{self.high if self.high is not None else '—'}"
        return _(
            "%(rule)s %(v)s %(unit)s，超出合理范围 %(band)s %(unit)s，请核实（不影响提交）"
        ) % {
            "rule": self.rule,
            "v": _fmt(self.value.quantize(Decimal("0.01"))),
            "unit": self.unit,
            "band": band,
        }


def _fmt(v: Decimal) -> str:
    """A decimal as plain text, no exponent, no trailing zeros (``1000``, ``0.5``)."""
    text = format(v.normalize(), "f")
    return text


def _problem(col: ColumnSpec | None, field: str, reason: str) -> Problem:
    label = col.label if col is not None else field
    return Problem(
        "", 0, "", field, _("%(label)s：%(reason)s") % {"label": label, "reason": reason}
    )


def _check_year(table: StatisticsTable, year: Any) -> list[Problem]:
    last = timezone.localdate().year - 1
    if not isinstance(year, int) or not FIRST_YEAR <= year <= last:
        return [
            Problem(
                "",
                0,
                "",
                "year",
                _("年份“%(y)s”不可填报：年报在年度结束后填报（%(first)s–%(last)s 年）")
                % {"y": year, "first": FIRST_YEAR, "last": last},
            )
        ]
    if not table.valid_for_year(year):
        return [
            Problem(
                "",
                0,
                "",
                "year",
                _("%(table)s不适用于 %(y)s 年") % {"table": table.name, "y": year},
            )
        ]
    return []


def _rule_values(rule: RuleSpec, values: Mapping[str, Decimal]) -> tuple[Decimal, Decimal] | None:
    a, b = rule.columns
    if a not in values or b not in values:
        return None
    return values[a], values[b]


def check_values(
    table: StatisticsTable, raw: Mapping[str, Any], *, complete: bool
) -> tuple[dict[str, Decimal], list[Problem]]:
    """The figures of a form and every problem with them, at once.  ``complete``: the check of a
    submission (required columns and the table's error rules); a draft only needs valid numbers."""
    problems: list[Problem] = []
    values: dict[str, Decimal] = {}
    for key in raw:
        if key not in table.column_codes:
            problems.append(
                _problem(None, str(key), _("不是%(table)s的数据项") % {"table": table.name})
            )
    for col in table.columns:
        given = raw.get(col.code)
        text = "" if given is None else str(given).strip()
        if not text:
            if complete and col.required:
                problems.append(_problem(col, col.code, _("必须填写")))
            continue
        v, reason = check_value(col.code, text)
        if reason is not None or v is None:
            problems.append(_problem(col, col.code, reason or ""))
            continue
        if col.integer and v != v.to_integral_value():
            problems.append(_problem(col, col.code, _("应为整数（%(v)s）") % {"v": text}))
            continue
        if col.min is not None and v < col.min:
            problems.append(
                _problem(
                    col,
                    col.code,
                    _("不能小于 %(min)s（填写为 %(v)s）") % {"min": _fmt(col.min), "v": text},
                )
            )
            continue
        if col.max is not None and v > col.max:
            problems.append(
                _problem(
                    col,
                    col.code,
                    _("不能大于 %(max)s（填写为 %(v)s）") % {"max": _fmt(col.max), "v": text},
                )
            )
            continue
        values[col.code] = v
    if complete:
        for rule in table.rules:
            if rule.severity != "error":
                continue
            pair = _rule_values(rule, values)
            if pair is None:
                continue
            left, right = pair
            if rule.kind == "le" and left > right * rule.scale:
                lc, rc = table.column(rule.left), table.column(rule.right)
                problems.append(
                    _problem(
                        lc,
                        rule.left,
                        _("%(rule)s：%(left)s 大于 %(right)s（%(rname)s%(scale)s）")
                        % {
                            "rule": rule.name,
                            "left": _fmt(left),
                            "right": _fmt(right * rule.scale),
                            "rname": rc.label if rc else rule.right,
                            "scale": "" if rule.scale == 1 else f" × {_fmt(rule.scale)}",
                        },
                    )
                )
            elif rule.kind == "ratio_range":
                f = _ratio_finding(rule, left, right)
                if f is not None:
                    problems.append(_problem(table.column(rule.numerator), rule.numerator, str(f)))
    return values, problems


def _ratio_finding(rule: RuleSpec, num: Decimal, den: Decimal) -> Finding | None:
    if den == 0:
        return None
    ratio = num / den * rule.scale
    if (rule.min is not None and ratio < rule.min) or (rule.max is not None and ratio > rule.max):
        return Finding(rule.name, ratio, rule.min, rule.max, rule.unit, rule.source)
    return None


def findings(table: StatisticsTable, values: Mapping[str, Any]) -> list[Finding]:
    """The plausibility warnings of a filing's figures (shown to the filer and the reviewer)."""
    parsed: dict[str, Decimal] = {}
    for code in table.column_codes:
        v = values.get(code)
        if v not in (None, ""):
            try:
                parsed[code] = Decimal(str(v))
            except ArithmeticError:
                continue
    out = []
    for rule in table.rules:
        if rule.severity != "warning" or rule.kind != "ratio_range":
            continue
        pair = _rule_values(rule, parsed)
        if pair is not None:
            f = _ratio_finding(rule, *pair)
            if f is not None:
                out.append(f)
    return out


# ---------------------------------------------------------------------------------------------
# workflow


def _table_of(code: str) -> StatisticsTable:
    table = statistics_table(code)
    if table is None:
        raise ReportRejected(
            [
                Problem(
                    "",
                    0,
                    "",
                    "table",
                    _("未知统计报表“%(t)s”（可填：%(all)s）")
                    % {"t": code, "all": "、".join(statistics_tables())},
                )
            ]
        )
    return table


def _texts(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: _fmt(v) for k, v in values.items()}


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _state(report: StatisticsReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "revision": report.revision,
        "values": dict(report.values or {}),
        "accepted_revision": report.accepted_revision,
        "merged_revision": report.merged_revision,
    }


def _event(report: StatisticsReport, action: str, user: Any, **extra: Any) -> None:
    StatisticsReportEvent.objects.create(
        report=report, revision=report.revision, action=action, actor=_actor(user), **extra
    )


def source_of(report: StatisticsReport, revision: int | None = None) -> str:
    """“自报：<表> <地区> <年> 第N版” — how the regional statistics name a filing's figures."""
    table = statistics_table(report.table)
    name = table.name_zh if table else report.table
    return f"{_source_prefix(report, name)}第{revision or report.revision}版"


def _source_prefix(report: StatisticsReport, table_name: str) -> str:
    return f"自报：{table_name} {report.division.name} {report.year} "


def save_filing(
    *,
    user: Any,
    division: Division,
    table: str,
    year: Any,
    values: Mapping[str, Any],
    submit: bool = False,
    is_synthetic: bool = False,
) -> StatisticsReport:
    """Store a filing's figures (a draft, or submitted with ``submit``) — or refuse them all.

    A draft needs valid numbers; a submission the whole check.  Editing a returned or accepted
    filing starts a new revision; a submitted one waits for its review."""
    spec = _table_of(table)
    if not can_file(user, division, spec):
        raise PermissionDenied(_("无权为%(d)s填报%(t)s") % {"d": division.name, "t": spec.name})
    problems = _check_year(spec, year)
    parsed, more = check_values(spec, values, complete=submit)
    problems += more
    if problems:
        raise ReportRejected(problems)
    with transaction.atomic():
        report, created = StatisticsReport.objects.select_for_update().get_or_create(
            division=division,
            table=spec.code,
            year=year,
            defaults={"created_by": _actor(user), "is_synthetic": is_synthetic},
        )
        if report.status == StatisticsStatus.SUBMITTED:
            raise WorkflowError(_("该报表已提交，正在审核，审核前不能修改"))
        before = None if created else _state(report)
        if not created and report.status in {StatisticsStatus.RETURNED, StatisticsStatus.ACCEPTED}:
            report.revision += 1  # the returned/accepted revision stays as it was submitted
        report.values = _texts(parsed)
        report.status = StatisticsStatus.DRAFT
        report.tables_version = spec.version
        report.is_synthetic = report.is_synthetic or is_synthetic
        report.save()
        _event(report, "saved", user, values=report.values)
        record(
            actor=user,
            action="statistics_report.save",
            obj=report,
            before=before,
            after=_state(report),
            note=spec.version,
        )
        if submit:
            _submit(report, user, spec)
    return report


def _submit(report: StatisticsReport, user: Any, spec: StatisticsTable) -> None:
    before = _state(report)
    report.status = StatisticsStatus.SUBMITTED
    report.submitted_by = _actor(user)
    report.submitted_at = timezone.now()
    report.save()
    warned = [str(f) for f in findings(spec, report.values)]
    _event(report, "submitted", user, values=report.values, reason="\n".join(warned))
    record(
        actor=user,
        action="statistics_report.submit",
        obj=report,
        before=before,
        after={**_state(report), "warnings": warned},
    )


def submit_filing(*, report: StatisticsReport, user: Any) -> StatisticsReport:
    """Submit a draft (or a returned filing, as a new revision) after the whole-form check."""
    spec = _table_of(report.table)
    if not can_file(user, report.division, spec):
        raise PermissionDenied(_("只有填报地区的填报人员可以提交"))
    with transaction.atomic():
        report = (
            StatisticsReport.objects.select_for_update()
            .select_related("division")
            .get(pk=report.pk)
        )
        if report.status not in {StatisticsStatus.DRAFT, StatisticsStatus.RETURNED}:
            raise WorkflowError(
                _("状态为「%(s)s」的报表不能提交") % {"s": report.get_status_display()}
            )
        problems = _check_year(spec, report.year)
        problems += check_values(spec, report.values or {}, complete=True)[1]
        if problems:
            raise ReportRejected(problems)
        if report.status == StatisticsStatus.RETURNED:
            report.revision += 1
        _submit(report, user, spec)
    return report


def _locked_submitted(report: StatisticsReport, refusal: str) -> StatisticsReport:
    """The filing, locked for the review (inside a transaction); ``refusal`` (with ``%(s)s`` for
    its status) unless it is submitted."""
    report = (
        StatisticsReport.objects.select_for_update().select_related("division").get(pk=report.pk)
    )
    if report.status != StatisticsStatus.SUBMITTED:
        raise WorkflowError(refusal % {"s": report.get_status_display()})
    return report


def return_filing(*, report: StatisticsReport, user: Any, reason: str) -> StatisticsReport:
    if not can_review(user, report):
        raise PermissionDenied(_("不是该报表的审核人员"))
    if not reason or not reason.strip():
        raise WorkflowError(_("退回必须填写原因"))
    with transaction.atomic():
        report = _locked_submitted(report, _("状态为「%(s)s」的报表不能退回"))
        before = _state(report)
        report.status = StatisticsStatus.RETURNED
        report.save()
        _event(report, "returned", user, reason=reason.strip())
        record(
            actor=user,
            action="statistics_report.return",
            obj=report,
            before=before,
            after=_state(report),
            note=reason.strip(),
        )
    return report


def accept_filing(*, report: StatisticsReport, user: Any) -> StatisticsReport:
    """Accept the submitted revision and write its figures into the regional statistics (or hold
    them on the filing while the region has no annual statistics row)."""
    if not can_review(user, report):
        raise PermissionDenied(_("不是该报表的审核人员"))
    with transaction.atomic():
        report = _locked_submitted(report, _("状态为「%(s)s」的报表不能通过"))
        before = _state(report)
        report.status = StatisticsStatus.ACCEPTED
        report.accepted_revision = report.revision
        report.accepted_values = dict(report.values or {})
        report.save()
        _event(report, "accepted", user, values=report.accepted_values)
        record(
            actor=user,
            action="statistics_report.accept",
            obj=report,
            before=before,
            after=_state(report),
        )
        _merge(report, user, only_missing=False)
    return report


def _merge(report: StatisticsReport, user: Any, *, only_missing: bool) -> bool:
    """Write the accepted figures into the region's annual statistics row; False when held."""
    spec = statistics_table(report.table)
    name = spec.name_zh if spec else report.table
    revision = report.accepted_revision or report.revision
    try:
        result = merge_reported_columns(
            division=report.division,
            year=report.year,
            columns=report.accepted_values,
            source=source_of(report, revision),
            replaces=_source_prefix(report, name),
            user=user,
            is_synthetic=report.is_synthetic,
            only_missing=only_missing,
        )
    except StatisticsRejected as exc:
        raise ReportRejected([Problem("", 0, "", e.field, e.reason) for e in exc.errors]) from exc
    if result is None:
        StatisticsReportEvent.objects.create(
            report=report,
            revision=revision,
            action="held",
            actor=_actor(user),
            reason=_(
                "该地区该年度尚无地区统计数据（能源消费量、地区生产总值），数据暂存，待统计数据导入后并入"
            ),
        )
        return False
    before = _state(report)
    report.merged_revision = revision
    report.merged_at = timezone.now()
    report.save()
    kept = ", ".join(sorted(result.kept))
    StatisticsReportEvent.objects.create(
        report=report,
        revision=revision,
        action="merged",
        actor=_actor(user),
        values={k: _fmt(Decimal(str(v))) for k, v in result.written.items()},
        reason=_("已有统计数据，保留不变：%(cols)s") % {"cols": kept} if kept else "",
    )
    record(
        actor=user,
        action="statistics_report.merge",
        obj=report,
        before=before,
        after={**_state(report), "statistic": result.statistic.pk, "kept": sorted(result.kept)},
        note=source_of(report, revision),
    )
    return True


def merge_held(*, report: StatisticsReport, user: Any) -> StatisticsReport:
    """Retry writing an accepted filing's held figures (the region's annual row now exists)."""
    if not may_merge(user, report):
        raise PermissionDenied(_("不是该报表的审核人员"))
    with transaction.atomic():
        report = (
            StatisticsReport.objects.select_for_update()
            .select_related("division")
            .get(pk=report.pk)
        )
        if not report.held:
            raise WorkflowError(_("该报表没有待并入的数据"))
        if not _merge(report, user, only_missing=False):
            raise WorkflowError(
                _("该地区 %(y)s 年尚无地区统计数据（能源消费量、地区生产总值），暂不能并入")
                % {"y": report.year}
            )
    return report


def merge_held_filings(keys: Iterable[tuple[int, int]], *, user: Any) -> int:
    """Merge the held filings of (division id, year) — called by the statistics import that has
    just created those annual rows (in its transaction; the import's own columns win)."""
    wanted = set(keys)
    if not wanted:
        return 0
    q = Q()
    for division_id, year in wanted:
        q |= Q(division_id=division_id, year=year)
    merged = 0
    for report in (
        StatisticsReport.objects.select_for_update()
        .select_related("division")
        .filter(q, accepted_revision__isnull=False)
    ):
        if report.held and _merge(report, user, only_missing=True):
            merged += 1
    return merged
