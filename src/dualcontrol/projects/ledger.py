"""The key-project reduction ledger (重点工程减排量台账) per measure and year, and its Excel form.

Only 已认可 projects are counted: the verified figure of ``measure`` of each project whose
核算年度 is ``year``, summed per region (the children of the ledger's top division; projects of the
top division itself form a “本级” row) and for the top.  Late (建设滞后), rejected (不予认可, counted
nowhere) and waiting (待核查) projects are shown beside the figures, never in them.

Pages, the API and ``dualcontrol projects ledger`` all build it here; who may see which top is
decided by :func:`dualcontrol.projects.project_access.ledger_top`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q
from django.utils.translation import gettext as _

from dualcontrol.projects import queries
from dualcontrol.projects.models import (
    Decision,
    Project,
    ProjectFigure,
    Status,
    Verification,
)
from dualcontrol.projects.rules import Measure, project_rules
from dualcontrol.regions.models import Division


@dataclass(frozen=True)
class LedgerLine:
    """One 已认可 project's verified figure in the ledger."""

    project_id: int
    name: str
    type_code: str
    type_label: str
    owner: str
    division_code: str
    division_name: str
    region_code: str
    region_name: str
    amount: Decimal
    accounting_year: int
    completed_on: dt.date | None
    verified_at: dt.datetime | None
    verified_by: str
    is_synthetic: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "project": self.name,
            "type": self.type_code,
            "type_name": self.type_label,
            "unit": self.owner,
            "division_code": self.division_code,
            "division": self.division_name,
            "region_code": self.region_code,
            "region": self.region_name,
            "amount": float(self.amount),
            "accounting_year": self.accounting_year,
            "completed_on": self.completed_on.isoformat() if self.completed_on else None,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "verified_by": self.verified_by,
            "is_synthetic": self.is_synthetic,
        }


@dataclass
class LedgerRegion:
    code: str
    name: str
    is_top: bool = False
    amount: Decimal = Decimal(0)
    projects: int = 0
    late: int = 0
    rejected: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "own_level": self.is_top,
            "amount": float(self.amount),
            "projects": self.projects,
            "late": self.late,
            "rejected": self.rejected,
            "waiting": self.waiting,
        }


@dataclass
class Ledger:
    measure: Measure
    year: int
    top: Division
    today: dt.date
    rules_version: str
    total: Decimal = Decimal(0)
    regions: list[LedgerRegion] = field(default_factory=list)
    lines: list[LedgerLine] = field(default_factory=list)

    @property
    def late(self) -> int:
        return sum(r.late for r in self.regions)

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in self.regions)

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.regions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure.code,
            "measure_name": self.measure.name_zh,
            "unit": self.measure.unit,
            "year": self.year,
            "region_code": self.top.code,
            "region": self.top.name,
            "total": float(self.total),
            "projects": len(self.lines),
            "late": self.late,
            "rejected_not_counted": self.rejected,
            "waiting_for_verification": self.waiting,
            "counted": "verified projects (已认可) only",
            "rules_version": self.rules_version,
            "regions": [r.as_dict() for r in self.regions],
            "lines": [line.as_dict() for line in self.lines],
        }


def _rows_of(top: Division) -> tuple[list[Division], dict[str, LedgerRegion]]:
    children = list(Division.objects.filter(parent=top).order_by("code"))
    regions = {d.path: LedgerRegion(code=d.code, name=d.name) for d in children}
    return children, regions


def _region_key(path: str, top: Division, children: list[Division]) -> str:
    for d in children:
        if path.startswith(d.path):
            return d.path
    return top.path


def _planning(measure: Measure) -> Q:
    return Q(figures__measure=measure.code, figures__planned_amount__gt=0)


def build_ledger(*, top: Division, measure: Measure, year: int, today: dt.date) -> Ledger:
    """The ledger of ``measure`` for ``year`` below ``top`` (see the module docstring)."""
    rules = project_rules()
    ledger = Ledger(measure=measure, year=year, top=top, today=today, rules_version=rules.version)
    children, regions = _rows_of(top)
    own = LedgerRegion(code=top.code, name=_("%(name)s本级") % {"name": top.name}, is_top=True)
    regions[top.path] = own
    figures = (
        ProjectFigure.objects.filter(
            measure=measure.code,
            verified_amount__gt=0,
            project__status=Status.VERIFIED,
            project__accounting_year=year,
            project__division__path__startswith=top.path,
        )
        .select_related("project", "project__division", "project__entity")
        .order_by("project__division__code", "project__name", "project_id")
    )
    figures_list = list(figures)
    latest: dict[int, Verification] = {}
    for v in Verification.objects.filter(
        project_id__in=[f.project_id for f in figures_list], decision=Decision.VERIFIED
    ).order_by("decided_at", "pk"):
        latest[v.project_id] = v
    for f in figures_list:
        p = f.project
        assert f.verified_amount is not None and p.accounting_year is not None
        key = _region_key(p.division.path, top, children)
        region = regions[key]
        region.amount += f.verified_amount
        region.projects += 1
        v = latest.get(p.pk)
        ledger.lines.append(
            LedgerLine(
                project_id=p.pk,
                name=p.name,
                type_code=p.type_code,
                type_label=rules.type_label(p.type_code),
                owner=p.owner_label,
                division_code=p.division.code,
                division_name=p.division.name,
                region_code=region.code,
                region_name=region.name,
                amount=f.verified_amount,
                accounting_year=p.accounting_year,
                completed_on=p.actual_completion,
                verified_at=v.decided_at if v else None,
                verified_by=v.decided_by_name if v else "",
                is_synthetic=p.is_synthetic,
            )
        )
        ledger.total += f.verified_amount
    within = Project.objects.filter(division__path__startswith=top.path).filter(_planning(measure))
    late = queries.with_late(within, today).filter(is_late=True)
    for path in late.values_list("division__path", flat=True):
        regions[_region_key(path, top, children)].late += 1
    rejected = within.filter(status=Status.REJECTED, actual_completion__year=year)
    for path in rejected.values_list("division__path", flat=True):
        regions[_region_key(path, top, children)].rejected += 1
    for path in within.filter(status=Status.COMPLETED).values_list("division__path", flat=True):
        regions[_region_key(path, top, children)].waiting += 1
    ordered = [regions[d.path] for d in children]
    if own.projects or own.late or own.rejected or own.waiting:
        ordered.insert(0, own)
    ledger.regions = ordered
    return ledger


def default_year(top: Division, today: dt.date) -> int:
    """The latest 核算年度 with a 已认可 project below ``top``, else last year."""
    found = Project.objects.filter(
        status=Status.VERIFIED, division__path__startswith=top.path
    ).aggregate(y=Max("accounting_year"))["y"]
    return int(found) if found else today.year - 1


@dataclass
class RegionDetail:
    """“Which projects make up our reduction, and which are late” for one region."""

    ledger: Ledger
    late: list[tuple[Project, queries.Lateness, Decimal]]
    rejected: list[tuple[Project, Decimal]]
    pipeline: list[tuple[Project, Decimal, bool]]


def region_detail(
    *, division: Division, measure: Measure, year: int, today: dt.date
) -> RegionDetail:
    ledger = build_ledger(top=division, measure=measure, year=year, today=today)
    within = (
        Project.objects.filter(division__path__startswith=division.path)
        .filter(_planning(measure))
        .select_related("division", "entity")
        .prefetch_related("milestones", "figures")
        .order_by("division__code", "name", "pk")
    )

    def planned(p: Project) -> Decimal:
        return next(
            (f.planned_amount for f in p.figures.all() if f.measure == measure.code), Decimal(0)
        )

    late_rows = []
    for p in queries.with_late(within, today).filter(is_late=True):
        why = queries.lateness(p, today)
        if why is not None:
            late_rows.append((p, why, planned(p)))
    late_rows.sort(key=lambda r: (-r[1].days, r[0].name))
    rejected = [
        (p, planned(p)) for p in within.filter(status=Status.REJECTED, actual_completion__year=year)
    ]
    late_ids = {p.pk for p, _w, _a in late_rows}
    pipeline = [
        (p, planned(p), p.pk in late_ids)
        for p in within.filter(status__in=[Status.PLANNED, Status.CONSTRUCTION, Status.COMPLETED])
    ]
    return RegionDetail(ledger=ledger, late=late_rows, rejected=rejected, pipeline=pipeline)


# --------------------------------------------------------------------------------------------
# Excel (one workbook: by region, by project)
# --------------------------------------------------------------------------------------------


def region_headers(measure: Measure) -> list[str]:
    return [
        _("区划代码"),
        _("地区"),
        _("核定%(m)s（%(u)s）") % {"m": measure.label, "u": measure.unit},
        _("已认可项目数"),
        _("建设滞后项目数"),
        _("不予认可项目数（不计入）"),
        _("待核查项目数"),
    ]


def line_headers(measure: Measure) -> list[str]:
    return [
        _("地区"),
        _("所在区划代码"),
        _("所在区划"),
        _("项目编号"),
        _("项目名称"),
        _("项目类型"),
        _("项目单位"),
        _("核算年度"),
        _("完成（验收）日期"),
        _("核定%(m)s（%(u)s）") % {"m": measure.label, "u": measure.unit},
        _("核查时间"),
        _("核查人"),
        _("演示数据"),
    ]


def region_row(r: LedgerRegion) -> list[Any]:
    return [r.code, r.name, float(r.amount), r.projects, r.late, r.rejected, r.waiting]


def line_row(line: LedgerLine) -> list[Any]:
    return [
        line.region_name,
        line.division_code,
        line.division_name,
        line.project_id,
        line.name,
        line.type_label,
        line.owner,
        line.accounting_year,
        line.completed_on.isoformat() if line.completed_on else "",
        float(line.amount),
        line.verified_at.strftime("%Y-%m-%d %H:%M") if line.verified_at else "",
        line.verified_by,
        _("是") if line.is_synthetic else "",
    ]


def title(ledger: Ledger) -> str:
    return _("%(region)s%(year)s年%(measure)s重点工程减排量台账") % {
        "region": ledger.top.name,
        "year": ledger.year,
        "measure": ledger.measure.label,
    }


def workbook_bytes(ledger: Ledger) -> bytes:
    """The ledger as the province would file it: sheet 1 by region, sheet 2 by project."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dualcontrol.exports import append, clean_text

    wb = Workbook()
    note = _("只计入已认可项目；不予认可项目不计入。单位：%(u)s。规则版本：%(v)s") % {
        "u": ledger.measure.unit,
        "v": ledger.rules_version,
    }
    sheets = [
        (_("按地区"), region_headers(ledger.measure), [region_row(r) for r in ledger.regions]),
        (_("按项目"), line_headers(ledger.measure), [line_row(x) for x in ledger.lines]),
    ]
    for i, (name, headers, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = clean_text(name)[:31]
        append(ws, [title(ledger)])
        ws["A1"].font = Font(bold=True, size=13)
        append(ws, [note])
        append(ws, [str(h) for h in headers])
        for cell in ws[3]:
            cell.font = Font(bold=True)
        for row in rows:
            append(ws, row)
        if i == 0:
            append(
                ws,
                [
                    ledger.top.code,
                    _("合计"),
                    float(ledger.total),
                    len(ledger.lines),
                    ledger.late,
                    ledger.rejected,
                    ledger.waiting,
                ],
            )
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        ws.freeze_panes = "A4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def totals_by_region(ledger: Ledger) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for line in ledger.lines:
        out[line.region_code] += line.amount
    return dict(out)
