"""What a user must do next (issue 14, role homes): each line counts the items waiting for this
user in one capability, with a link to the list that holds them.  Officers: reports and status
reports to review, self-assessments to score, consequences to carry out (with the overdue ones),
alarms to verify, red warnings, overdue plan tasks, ledger requests waiting for a second officer,
unread alerts.  A unit: this month's 205-1 report and its due date, reports returned, alarms to
explain, its annual status report, its self-assessment and consequences.  A verifier: emission
reports assigned for verification.  Only what the user's role may act on, and only lines with
something waiting; every count comes from the same visibility rules as the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from dualcontrol.access.rules import allows


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    url: str
    note: str = ""
    urgent: bool = False  # past a deadline or a red warning


def for_user(user: Any, today: dt.date) -> list[Todo]:
    out: list[Todo] = []
    parts = (
        _filing,
        _reports,
        _assessment,
        _monitoring,
        _warnings,
        _tasks,
        _keyunits,
        _status_report,
        _verification,
        _ledger,
    )
    for part in parts:
        out.extend(t for t in part(user, today) if t.count)
    return out


def _filing(user: Any, today: dt.date) -> list[Todo]:
    """A unit's monthly 205-1 report: the month being filed now, due on the rule's day (a
    platform rule, labelled as such), and the reports returned to it."""
    from dualcontrol.reference.report_filing import filing_rule
    from dualcontrol.reference.sources import official_source
    from dualcontrol.reporting.models import EnergyReport, Status

    if not allows(user, "reports.file") or not user.entity_id:
        return []
    rule = filing_rule()
    year, month = rule.current_period(today)
    due = rule.monthly_due(year, month)
    filed = EnergyReport.objects.filter(
        entity_id=user.entity_id,
        period_type="monthly",
        year=year,
        month=month,
        status__in=(Status.SUBMITTED, Status.ACCEPTED),
    ).exists()
    returned = EnergyReport.objects.filter(entity_id=user.entity_id, status=Status.RETURNED)
    return [
        Todo(
            _("%(y)d年%(m)d月 205-1 月报待报送") % {"y": year, "m": month},
            0 if filed else 1,
            reverse("reporting:new"),
            # the rule's source as officers see it: 平台规则，未找到官方来源 until a province
            # records its statistics bureau's document in report_filing.yaml
            note=_("截止 %(d)s（依据：%(s)s）")
            % {"d": due.isoformat(), "s": official_source(rule.source)},
            urgent=today > due,
        ),
        Todo(
            _("被退回的报表待修改"),
            returned.count(),
            reverse("reporting:list") + "?status=returned",
        ),
    ]


def _reports(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.reporting.queries import review_queue

    if not allows(user, "reports.review"):
        return []
    n = review_queue(user).count()
    return [Todo(_("205-1 报表待审核"), n, reverse("reporting:review"))]


def _assessment(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.access.assessment import (
        assessor_rounds,
        consequences_to_carry_out,
        own_self_assessments,
        visible_records,
    )
    from dualcontrol.assessment.models import RecordStatus, RoundStatus

    out = []
    mine = own_self_assessments(user)
    first = mine.order_by("-round__year", "pk").first()
    if first is not None:
        out.append(
            Todo(
                _("年度考核自评待提交"),
                mine.count(),
                reverse("assessment:record", args=[first.pk]),
                note=first.round.title,
            )
        )
    rounds = assessor_rounds(user).exclude(status=RoundStatus.SIGNED_OFF)
    waiting = visible_records(user).filter(round__in=rounds, status=RecordStatus.SUBMITTED)
    out.append(Todo(_("考核自评待评审评分"), waiting.count(), reverse("assessment:list")))
    consequences = consequences_to_carry_out(user)
    overdue = consequences.filter(due_on__lt=today).count()
    out.append(
        Todo(
            _("考核结果运用事项待落实"),
            consequences.count(),
            reverse("assessment:consequences"),
            note=_("其中 %(n)d 项已逾期") % {"n": overdue} if overdue else "",
            urgent=overdue > 0,
        )
    )
    return out


def _monitoring(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.monitoring.models import AlarmStatus
    from dualcontrol.monitoring.queries import visible_alarms

    if not allows(user, "monitoring.view"):
        return []
    alarms = visible_alarms(user)
    if not allows(user, "monitoring.manage") and not allows(user, "reports.file"):
        return []  # a verifier or a reader: nothing to act on
    if allows(user, "reports.file"):  # the unit itself explains its alarms
        return [
            Todo(
                _("自动监测报警待说明原因"),
                alarms.filter(status=AlarmStatus.OPEN).count(),
                reverse("monitoring:alarms") + "?status=open",
                urgent=True,
            )
        ]
    return [
        Todo(
            _("自动监测报警待企业说明"),
            alarms.filter(status=AlarmStatus.OPEN).count(),
            reverse("monitoring:alarms") + "?status=open",
        ),
        Todo(
            _("已说明的报警待核实办结"),
            alarms.filter(status=AlarmStatus.EXPLAINED).count(),
            reverse("monitoring:alarms") + "?status=explained",
        ),
    ]


def _warnings(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.access.targets import visible_targets
    from dualcontrol.targets.models import Alert, WarningRecord

    out = []
    records = WarningRecord.objects.filter(target__in=visible_targets(user))
    latest = records.aggregate(y=Max("year"))["y"]
    if latest is not None:
        month = records.filter(year=latest).aggregate(m=Max("month"))["m"]
        red = (
            records.filter(year=latest, month=month, is_warning=True, colour="red")
            .values("division_id")
            .distinct()
            .count()
        )
        out.append(
            Todo(
                _("红色预警地区"),
                red,
                reverse("targets:dashboard"),
                note=_("%(y)d年1–%(m)d月") % {"y": latest, "m": month},
                urgent=True,
            )
        )
    unread = Alert.objects.filter(recipient=user, read_at__isnull=True).count()
    out.append(Todo(_("预警提醒未读"), unread, reverse("targets:alerts")))
    return out


def _tasks(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.access.tasks import warning_scope
    from dualcontrol.tasks import queries
    from dualcontrol.tasks.models import Effective, PlanTask
    from dualcontrol.tasks.rules import load_rules

    if not allows(user, "tasks.view"):
        return []
    qs = queries.with_effective(PlanTask.objects.all(), today, load_rules().stalled_after_days)
    overdue = warning_scope(user, qs).filter(effective=Effective.OVERDUE.value).count()
    return [
        Todo(
            _("方案任务已逾期"),
            overdue,
            reverse("tasks:warnings") + "?kind=overdue",
            urgent=True,
        )
    ]


def _keyunits(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.access.keyunits import scoped
    from dualcontrol.keyunits.models import AuditOrder, AuditStatus, StatusReport
    from dualcontrol.reporting.models import Status

    if not allows(user, "keyunits.manage"):
        return []
    submitted = scoped(user, StatusReport.objects.filter(status=Status.SUBMITTED))
    year = submitted.aggregate(y=Max("year"))["y"]
    audits = scoped(user, AuditOrder.objects.filter(status=AuditStatus.REPORT_RECEIVED)).count()
    return [
        Todo(
            _("能源利用状况报告待审核"),
            submitted.count(),
            reverse("keyunits:reports") + f"?status=submitted&year={year}",
        ),
        Todo(_("能源审计报告待办结"), audits, reverse("keyunits:home")),
    ]


def _status_report(user: Any, today: dt.date) -> list[Todo]:
    """A designated key unit's annual 能源利用状况报告 for last year, until it is submitted."""
    from dualcontrol.keyunits.models import Designation, DesignationStatus, StatusReport
    from dualcontrol.keyunits.rules import load_rules
    from dualcontrol.reporting.models import Status

    if not allows(user, "keyunits.file") or not user.entity_id:
        return []
    year = today.year - 1
    designated = Designation.objects.filter(
        entity_id=user.entity_id, year=year, status=DesignationStatus.CONFIRMED
    ).exists()
    filed = StatusReport.objects.filter(
        entity_id=user.entity_id, year=year, status__in=(Status.SUBMITTED, Status.ACCEPTED)
    ).exists()
    rules = load_rules()
    deadline = rules.status_deadline(year)
    return [
        Todo(
            _("%(y)d 年度能源利用状况报告待报送") % {"y": year},
            1 if designated and not filed else 0,
            reverse("keyunits:reports"),
            note=_("截止 %(d)s") % {"d": deadline.isoformat()},
            urgent=today > deadline,
        )
    ]


def _verification(user: Any, today: dt.date) -> list[Todo]:
    """A verifier's emission reports waiting for its verification."""
    from dualcontrol.access.carbon import visible_reports
    from dualcontrol.carbonmarket.models import ReportStatus

    if not allows(user, "carbon.verify"):
        return []
    waiting = visible_reports(user).filter(status=ReportStatus.VERIFYING)
    return [Todo(_("排放报告待核查"), waiting.count(), reverse("carbonmarket:reports"))]


def _ledger(user: Any, today: dt.date) -> list[Todo]:
    from dualcontrol.access.carbon import sees_ledger, visible_pending
    from dualcontrol.carbonmarket.models import PendingStatus

    if not sees_ledger(user) or not allows(user, "carbon.manage"):
        return []
    pending = (
        visible_pending(user)
        .filter(status=PendingStatus.PENDING)
        .exclude(requested_by=user)
        .count()
    )
    return [Todo(_("登记簿操作待复核（四眼原则）"), pending, reverse("carbonmarket:ledger"))]
