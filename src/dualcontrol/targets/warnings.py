"""The barometer (晴雨表): rule sets, observations of every catalogue indicator, warnings, alerts.

Every target on the barometer is rated month by month from the regional statistics (of its
sector, for a sector target): :func:`observe` computes the actuals and the requirement of the
target's indicator with :mod:`dualcontrol.core.tracking` (the catalogue says the kind, the
metric, the pace), and the rule set rates the pair with the rule for the indicator's rating class
(``barometer.rate_as``).  The rule set is the target's own, else the indicator's default
(``barometer.default_rule_set``), else the platform's default; a rule set without a rule for the
class falls back to the indicator's default rule set.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dualcontrol.access.targets import is_province
from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.services import record, snapshot
from dualcontrol.core import tracking
from dualcontrol.core.warning import Observation, WarningInputError, rate
from dualcontrol.reference import load_yaml
from dualcontrol.reference.catalogue import deductions
from dualcontrol.reference.warning_rules import (
    DEFAULT_RULE_SET,
    available_rule_sets,
    rule_set_from_mapping,
)
from dualcontrol.targets import analysis
from dualcontrol.targets.errors import NotAllowed, TargetError
from dualcontrol.targets.models import (
    Alert,
    CompareWith,
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
    WarningRecord,
    WarningRuleSet,
)
from dualcontrol.targets.statistics import load_series

# ---------------------------------------------------------------------------------------------
# rule sets


def _compares_with(data: Mapping[str, Any]) -> str:
    text = str(data.get("required_means_zh", ""))
    return CompareWith.PACE if ("序时" in text or "进度" in text) else CompareWith.ANNUAL


def sync_rule_sets(*, user: Any = None) -> int:
    """Seed or refresh the built-in rule sets from ``reference/data/warning_*.yaml``."""
    changed = 0
    with transaction.atomic():
        for name, fname in sorted(available_rule_sets().items()):
            version, data = load_yaml(fname)
            rule_set_from_mapping(data, version=version, where=fname)  # validates
            existing = WarningRuleSet.objects.filter(name=name).first()
            if existing is not None and existing.version == version:
                continue
            if existing is not None and not existing.is_builtin:
                continue  # an admin-defined set of that name wins
            fields = dict(
                title_zh=str(data.get("title_zh", name)),
                source=str(data.get("source", fname)),
                definition=json.loads(json.dumps(data, default=str)),
                version=version,
                is_builtin=True,
            )
            if existing is None:
                obj = WarningRuleSet.objects.create(
                    name=name,
                    compares_with=_compares_with(data),
                    is_default=name == DEFAULT_RULE_SET
                    and not WarningRuleSet.objects.filter(is_default=True).exists(),
                    **fields,
                )
                before = None
            else:
                before = snapshot(existing, ["version"])
                for k, v in fields.items():
                    setattr(existing, k, v)
                existing.save()
                obj = existing
            record(
                actor=user,
                action="warning_rule_set.sync",
                obj=obj,
                before=before,
                after=snapshot(obj, ["name", "version", "compares_with", "is_default"]),
            )
            changed += 1
    return changed


def rule_set_for(target: Target, rule_sets: Mapping[int, WarningRuleSet] | None = None) -> Any:
    """The rule set that rates ``target``: its own, else its indicator's default, else the
    platform's default."""
    if target.rule_set_id:
        rs = (rule_sets or {}).get(target.rule_set_id) or target.rule_set
        if rs is not None and rs.active:
            return rs
    name = target.definition.default_rule_set
    if name:
        rs = next((r for r in (rule_sets or {}).values() if r.name == name), None)
        if rs is None:
            rs = WarningRuleSet.objects.filter(name=name).first()
            if rs is None:
                sync_rule_sets()
                rs = WarningRuleSet.objects.filter(name=name).first()
        if rs is not None and rs.active:
            return rs
    return default_rule_set()


def default_rule_set() -> WarningRuleSet:
    rs = WarningRuleSet.objects.filter(is_default=True, active=True).first()
    if rs is None:
        sync_rule_sets()
        rs = WarningRuleSet.objects.filter(is_default=True).first() or WarningRuleSet.objects.get(
            name=DEFAULT_RULE_SET
        )
    return rs


# ---------------------------------------------------------------------------------------------
# barometer


@dataclass
class RunSummary:
    year: int
    month: int
    rated: int = 0
    created: int = 0
    updated: int = 0
    alerts: int = 0
    emails: int = 0
    by_colour: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "month": self.month,
            "rated": self.rated,
            "created": self.created,
            "updated": self.updated,
            "alerts": self.alerts,
            "emails": self.emails,
            "by_colour": dict(self.by_colour),
            "skipped": len(self.skipped),
        }


def applies(target: Target, year: int, month: int) -> bool:
    """Is the target rated at January…``month`` of ``year``?"""
    if target.period_kind == PeriodKind.FIVE_YEAR:
        return target.base_year < year <= target.end_year
    if target.period_kind == PeriodKind.YEAR:
        return year == target.end_year
    return year == target.end_year and month == 3 * (target.quarter or 0)


def observe(
    target: Target,
    series: tracking.StatSeries,
    *,
    year: int,
    month: int,
    compares_with: str,
) -> tuple[tracking.Actuals, analysis.Requirement]:
    """The actuals and the requirement the barometer rates for ``target`` (pure after loading).

    Raises :class:`tracking.ObservationError` when statistics are missing (or
    :class:`tracking.NotDue` when the target is not rated yet, e.g. a peak year ahead)."""
    ind = target.definition
    act = observe_actuals(target, series, year=year, month=month)
    req = tracking.requirement(
        ind,
        act,
        target=target.target_core,
        period_kind=target.period_kind,
        base_year=target.base_year,
        end_year=target.end_year,
        compares_with=compares_with,
        pace=target.pace if ind.kind == "reduction" else None,
    )
    return act, analysis.Requirement.of(req)


def observe_actuals(
    target: Target, series: tracking.StatSeries, *, year: int, month: int
) -> tracking.Actuals:
    """What the statistics say about the target's metric at (year, month), whether or not the
    target is rated then."""
    ind = target.definition
    base = target.base_year if target.period_kind == PeriodKind.FIVE_YEAR else year - 1
    if ind.kind == "peak_year":
        base = min(target.base_year, int(target.base_value))
    return tracking.actuals(
        series, ind.metric, base_year=base, year=year, month=month, deductions=deductions()
    )


def target_progress(target: Target, act: tracking.Actuals) -> tracking.ProgressFigure:
    """完成进度 of ``target`` at ``act`` under the target's definition (labelled)."""
    return tracking.progress(
        target.definition, act, target=target.target_core, definition=target.progress
    )


def series_for(target: Target, years: tuple[int, int] | None = None) -> tracking.StatSeries:
    """The statistics the target is tracked with: its region's, or its sector's."""
    holder = target.holder_division
    return load_series([holder.pk], years, industry_id=target.industry_id).get(
        holder.pk, tracking.StatSeries()
    )


def _stage_for(core: Any, month: int) -> tuple[bool, str | None]:
    """(rated this month?, stage): staged rule sets rate in the month before they issue."""
    if not core.stages:
        return True, None
    for s in core.stages:
        if s.issued_in_month and s.issued_in_month - 1 == month:
            return True, s.id
    return False, None


def _catalogue_version() -> str:
    from dualcontrol.reference.catalogue import catalogue

    return catalogue().version


def _fraction(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def compute_warnings(
    *,
    year: int,
    month: int,
    user: Any = None,
    targets: Iterable[Target] | None = None,
    notify: bool = True,
    system: bool = False,
) -> RunSummary:
    """Rate every barometer target at January…``month`` of ``year`` and store the warnings
    (one per target and month, replaced on a re-run); new or worsened warnings alert the
    responsible officers (in-app; by email to those with an address, after commit)."""
    if not 1 <= month <= 12:
        raise TargetError(_("月份应为 1–12"))
    if not system and not is_province(user):
        raise NotAllowed(_("只有省级用户可以重新计算预警"))
    # the stored texts (level names, what "required" means, the alerts) are written in the
    # platform's language whoever runs it; the pages translate them when shown
    if targets is None and not system:
        from dualcontrol.access.targets import visible_targets

        targets = _barometer_targets(visible_targets(user))  # the officer's own province only
    with translation.override(settings.LANGUAGE_CODE):
        return _compute_warnings(year=year, month=month, user=user, targets=targets, notify=notify)


def _barometer_targets(qs: Any) -> Any:
    return qs.filter(barometer=True, division__isnull=False, entity__isnull=True).exclude(
        status=TargetStatus.DRAFT
    )


def _compute_warnings(
    *, year: int, month: int, user: Any, targets: Iterable[Target] | None, notify: bool
) -> RunSummary:
    summary = RunSummary(year, month)
    if targets is None:
        targets = _barometer_targets(Target.objects.all())
    if hasattr(targets, "select_related"):
        targets = targets.select_related("division", "rule_set", "industry")
    todo = [t for t in targets if t.division_id and applies(t, year, month)]
    if not todo:
        return summary
    rule_sets = {rs.pk: rs for rs in WarningRuleSet.objects.all()}
    cores: dict[int, Any] = {}
    first = min(t.base_year if t.period_kind == PeriodKind.FIVE_YEAR else year - 1 for t in todo)
    first = min([first] + [int(t.base_value) for t in todo if t.definition.kind == "peak_year"])
    series: dict[int | None, dict[int, tracking.StatSeries]] = {}
    for industry_id in {t.industry_id for t in todo}:
        series[industry_id] = load_series(
            {t.division_id for t in todo if t.industry_id == industry_id},
            (first, year),
            industry_id=industry_id,
        )
    existing = {
        w.target_id: w
        for w in WarningRecord.objects.filter(target__in=todo, year=year, month=month)
    }
    previous: dict[int, int] = {}
    for w in (
        WarningRecord.objects.filter(target__in=todo)
        .filter(Q(year__lt=year) | Q(year=year, month__lt=month))
        .order_by("target_id", "-year", "-month")
        .values("target_id", "severity")
    ):
        previous.setdefault(w["target_id"], w["severity"])
    new: list[WarningRecord] = []
    changed: list[WarningRecord] = []
    to_alert: list[tuple[WarningRecord, Target]] = []
    for t in todo:
        ind = t.definition
        rs = rule_set_for(t, rule_sets)
        if rs.pk not in cores:
            cores[rs.pk] = rs.to_core()
        core = cores[rs.pk]
        if not any(ind.rate_as in r.indicators for r in core.rules) and ind.default_rule_set:
            fallback = WarningRuleSet.objects.filter(name=ind.default_rule_set).first()
            if fallback is not None:
                rs = fallback
                cores.setdefault(rs.pk, rs.to_core())
                core = cores[rs.pk]
        rated, stage = _stage_for(core, month)
        if not rated:
            summary.skipped.append((t.pk, f"rule set {rs.name} does not rate month {month}"))
            continue
        try:
            act, req = observe(
                t,
                series.get(t.industry_id, {}).get(t.division_id, tracking.StatSeries()),
                year=year,
                month=month,
                compares_with=rs.compares_with,
            )
            progress = target_progress(t, act)
            result = rate(
                Observation(
                    t.division.code,
                    req.indicator,
                    _fraction(req.required),
                    _fraction(req.achieved),
                    stage,
                ),
                core,
            )
        except (tracking.ObservationError, WarningInputError) as exc:
            summary.skipped.append((t.pk, str(exc)))
            continue
        fig = result.figures
        day = dt.date(year, month, 1)
        validity = ""
        if (core.valid_from and day < core.valid_from) or (core.valid_to and day > core.valid_to):
            validity = f"rule set {core.name} is valid {core.valid_from}–{core.valid_to or '…'}"
        figures = {
            "indicator": {
                "code": ind.code,
                "kind": ind.kind.value,
                "metric": ind.metric.code,
                "rate_as": ind.rate_as,
                "catalogue_version": _catalogue_version(),
                "sector": t.industry.code if t.industry_id else None,
            },
            "progress": {
                "value_frac": progress.value_frac,
                "definition": progress.definition,
                "formula": progress.formula,
                "remaining": progress.remaining,
                "status": progress.status,
            },
            "deductions": [
                {"column": d.column, "excluded_from": list(d.excluded_from)} for d in deductions()
            ],
            "actuals": act.as_dict(),
            "requirement": {
                "basis": req.basis,
                "required": req.required,
                "achieved": req.achieved,
                "formula": req.formula,
                "required_means": req.required_means,
                "means": req.means,
            },
            "level": {
                "id": result.level.id,
                "name_zh": result.level.name_zh,
                "name_en": result.level.name_en,
            },
            "target": {
                "id": t.pk,
                "base_value": str(t.base_value),
                "unit": t.unit,
                "period": t.period_label,
                "pace_definition": t.pace,
                "progress_definition": t.progress,
            },
            "rule_set": {
                "name": core.name,
                "version": core.version,
                "compares_with": rs.compares_with,
                "required_means_zh": core.required_means_zh,
            },
            "completion_frac": None if fig.completion_frac is None else float(fig.completion_frac),
            "gap_pp": None if fig.gap_pp is None else float(fig.gap_pp),
            "validity_note": validity,
            "source": "regional statistics (统计部门) — targets.RegionalStatistic",
        }
        values = dict(
            division_id=t.division_id,
            indicator=t.barometer_indicator or ind.code,
            stage=stage or "",
            rule_set=rs,
            rule_set_name=core.name,
            rule_set_version=core.version,
            level_id=result.level.id,
            level_number=result.level.number or "",
            level_name=result.level.name_zh,
            colour=result.level.colour,
            severity=result.level.severity,
            is_warning=result.level.warning,
            unit=ind.warning_unit if fig.unit == "value" else fig.unit,
            required=float(fig.required),
            achieved=float(fig.achieved),
            gap=float(fig.gap),
            gap_frac_of_required=None
            if fig.gap_frac_of_required is None
            else float(fig.gap_frac_of_required),
            measure=result.measure.value,
            measure_value=float(result.measure_value),
            band=result.band_text[:128],
            required_means=req.required_means[:128],
            figures=figures,
            consequences=[
                {
                    "code": c.code,
                    "text_zh": c.text_zh,
                    "text_en": c.text_en,
                    "params": dict(c.params),
                }
                for c in result.consequences
            ],
        )
        w = existing.get(t.pk)
        if w is None:
            w = WarningRecord(target=t, year=year, month=month, **values)
            new.append(w)
        else:
            for k, v in values.items():
                setattr(w, k, v)
            changed.append(w)
        summary.rated += 1
        summary.by_colour[result.level.colour] += 1
        if result.level.warning and result.level.severity > previous.get(t.pk, 0):
            to_alert.append((w, t))
    with transaction.atomic():
        WarningRecord.objects.bulk_create(new, batch_size=500)
        if changed:
            now = timezone.now()
            for w in changed:
                w.computed_at = now
            WarningRecord.objects.bulk_update(changed, WARNING_FIELDS, batch_size=500)
        summary.created, summary.updated = len(new), len(changed)
        if new and any(w.pk is None for w in new):  # backends without RETURNING ids
            ids = {
                w.target_id: w.pk
                for w in WarningRecord.objects.filter(
                    target__in=[w.target_id for w in new], year=year, month=month
                )
            }
            for w in new:
                w.pk = ids[w.target_id]
        if notify and to_alert:
            summary.alerts, summary.emails = _alert(to_alert)
        record(
            actor=user,
            action="warnings.run",
            object_type="targets.warningrecord",
            object_repr=f"{year}-{month:02d}",
            after=summary.as_dict(),
        )
    return summary


WARNING_FIELDS = [
    "division_id",
    "indicator",
    "stage",
    "rule_set",
    "rule_set_name",
    "rule_set_version",
    "level_id",
    "level_number",
    "level_name",
    "colour",
    "severity",
    "is_warning",
    "unit",
    "required",
    "achieved",
    "gap",
    "gap_frac_of_required",
    "measure",
    "measure_value",
    "band",
    "required_means",
    "figures",
    "consequences",
    "computed_at",
]


def _recipients(target: Target) -> list[User]:
    holder = target.holder_division
    ancestors = [c for c in holder.path.strip("/").split("/") if c]
    qs = User.objects.filter(is_active=True).filter(
        Q(role=Role.CITY_OFFICER, division__code__in=ancestors)
    )
    if holder.level in ("province", "prefecture"):
        qs = qs | User.objects.filter(
            is_active=True, role__in=[Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER]
        )
    return list(qs.distinct().order_by("pk"))


def _alert(warnings: Sequence[tuple[WarningRecord, Target]]) -> tuple[int, int]:
    """Alert each responsible officer of each warning once (a re-run of the month with the same
    level alerts nobody again); officers with an address also get the alert by mail through the
    outbox (sent by the worker, retried while the mail server is down; ``Alert.emailed_at`` is
    set when it went out)."""
    from dualcontrol.jobs.services import enqueue_mail

    alerts: list[Alert] = []
    already = set(
        Alert.objects.filter(warning__in=[w for w, _t in warnings if w.pk]).values_list(
            "recipient_id", "warning_id", "subject"
        )
    )
    for w, t in warnings:
        unit = "%" if w.unit == "frac" else f" {w.unit}"
        scale = 100 if w.unit == "frac" else 1
        subject = f"【{w.level_name}】{t.division.name} {t.get_indicator_display()}（{w.year}年1–{w.month}月）"
        lines = [
            f"地区：{t.division.name}（{t.division.code}）",
            f"目标：{t} {format(t.base_value.normalize(), 'f')}{t.unit}",
            f"期间：{w.year}年1–{w.month}月",
            f"要求值（{w.required_means}）：{w.required * scale:.2f}{unit}",
            f"实际值：{w.achieved * scale:.2f}{unit}",
            f"差距：{w.gap * scale:.2f}{unit}"
            + (
                f"（占目标值 {w.gap_frac_of_required * 100:.1f}%）"
                if w.gap_frac_of_required is not None
                else ""
            ),
            f"预警规则：{w.rule_set_name}（{w.rule_set_version}），命中区间 {w.band}",
        ]
        if w.consequences:
            lines.append("附带措施：" + "；".join(c["text_zh"] for c in w.consequences))
        lines.append(f"查看：/targets/{t.pk}/progress/?year={w.year}&month={w.month}")
        body = "\n".join(lines)
        for u in _recipients(t):
            if (u.pk, w.pk, subject[:255]) in already:
                continue
            alerts.append(
                Alert(recipient=u, warning=w, subject=subject[:255], body=body, emailed_to=u.email)
            )
    Alert.objects.bulk_create(alerts, batch_size=500)
    if any(a.pk is None for a in alerts):  # backends without RETURNING ids
        ids = {
            (a.recipient_id, a.warning_id, a.subject): a.pk
            for a in Alert.objects.filter(warning__in=[w for w, _t in warnings]).order_by("pk")
        }
        for a in alerts:
            a.pk = ids[(a.recipient_id, a.warning_id, a.subject)]
    mails = 0
    for a in alerts:
        if not a.emailed_to:
            continue
        try:
            enqueue_mail(
                to=[a.emailed_to],
                subject=a.subject,
                body=a.body,
                origin=f"targets.alert:{a.pk}",
                on_sent="dualcontrol.targets.warnings.alert_emailed",
            )
        except ValidationError:  # an unusable address: the in-app alert is enough
            continue
        mails += 1
    return len(alerts), mails


def alert_emailed(message: Any) -> None:
    """Outbox callback: the mail of the alert named by ``message.origin`` went out."""
    label, _sep, pk = message.origin.partition(":")
    if label == "targets.alert" and pk.isdigit():
        Alert.objects.filter(pk=int(pk), emailed_at__isnull=True).update(emailed_at=message.sent_at)


def mark_alert_read(*, alert: Alert, user: Any) -> Alert:
    if alert.recipient_id != getattr(user, "pk", None):
        raise NotAllowed(_("只能处理自己的提醒"))
    if alert.read_at is None:
        with transaction.atomic():
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
            record(actor=user, action="alert.read", obj=alert, after={"read_at": alert.read_at})
    return alert


def latest_statistics_month(division_ids: Iterable[int] | None = None) -> tuple[int, int] | None:
    qs = RegionalStatistic.objects.filter(month__isnull=False)
    if division_ids is not None:
        qs = qs.filter(division_id__in=list(division_ids))
    row = qs.order_by("-year", "-month").values("year", "month").first()
    return (row["year"], row["month"]) if row else None


def months_between(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    y, m = start
    while (y, m) <= end:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
