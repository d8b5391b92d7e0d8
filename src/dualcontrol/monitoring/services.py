"""The only writers of monitoring configuration and alarms (validated, one transaction, audited).

Data records are written by :class:`dualcontrol.monitoring.sink.DatabaseSink` (batches; the
receiver's run is audited as a summary by :func:`record_ingest_run`, never per value).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.audit.services import record, snapshot
from dualcontrol.entities.models import Entity
from dualcontrol.monitoring import evaluation as ev
from dualcontrol.monitoring.models import (
    MN_LENGTH,
    Alarm,
    AnalyserRange,
    DataType,
    LimitField,
    Outlet,
    OutletKind,
    PollutantLimit,
    Receipt,
    reading_model,
)
from dualcontrol.monitoring.queries import (
    can_manage,
    day_start,
    limits_on,
    primary_field,
    value_of,
)
from dualcontrol.monitoring.rules import MonitoringRules, monitoring_rules
from dualcontrol.reference.hj212 import hj212_tables

MN_PATTERN = re.compile(rf"[0-9A-Za-z_\-.]{{1,{MN_LENGTH}}}")
PERMIT_PATTERN = re.compile(r"[0-9A-Z]{18,32}")
OUTLET_FIELDS = (
    "mn",
    "name",
    "kind",
    "permit_number",
    "connected_on",
    "active",
    "note",
    "is_synthetic",
)


def _require(user: Any, entity: Entity) -> None:
    if user is not None and not can_manage(user, entity):
        raise PermissionDenied


def _clean_outlet(values: dict[str, Any], *, exclude_pk: int | None = None) -> None:
    errors: dict[str, str] = {}
    mn = values.get("mn", "")
    if not MN_PATTERN.fullmatch(mn or ""):
        errors["mn"] = _("MN 为 1–24 位字母、数字或 _ - .（HJ 212 数采仪编码）")
    elif Outlet.objects.filter(mn=mn).exclude(pk=exclude_pk).exists():
        errors["mn"] = _("该 MN 已登记到其他排放口")
    if not (values.get("name") or "").strip():
        errors["name"] = _("请填写排放口名称")
    if values.get("kind") not in OutletKind.values:
        errors["kind"] = _("类型须为废水或废气")
    permit = values.get("permit_number") or ""
    if permit and not PERMIT_PATTERN.fullmatch(permit):
        errors["permit_number"] = _("排污许可证编号为 18–32 位大写字母或数字")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_outlet(
    *,
    user: Any,
    entity: Entity,
    mn: str,
    name: str,
    kind: str,
    permit_number: str = "",
    connected_on: dt.date | None = None,
    active: bool = True,
    note: str = "",
    is_synthetic: bool = False,
) -> Outlet:
    """Register an outlet (排放口) of ``entity`` under its data logger's MN."""
    _require(user, entity)
    values = dict(
        mn=mn.strip(),
        name=name.strip(),
        kind=kind,
        permit_number=permit_number.strip().upper(),
        connected_on=connected_on,
        active=active,
        note=note.strip(),
        is_synthetic=is_synthetic,
    )
    _clean_outlet(values)
    outlet = Outlet.objects.create(entity=entity, **values)
    record(
        actor=user,
        action="monitoring.outlet.create",
        obj=outlet,
        after=snapshot(outlet, ["entity", *OUTLET_FIELDS]),
    )
    return outlet


@transaction.atomic
def update_outlet(*, user: Any, outlet: Outlet, **changes: Any) -> Outlet:
    """Change an outlet's fields (``mn``, ``name``, ``kind``, ``permit_number``, ``active`` …)."""
    _require(user, outlet.entity)
    unknown = set(changes) - set(OUTLET_FIELDS)
    if unknown:
        raise ValueError(f"not outlet fields: {sorted(unknown)}")
    before = snapshot(outlet, list(OUTLET_FIELDS))
    values = {f: getattr(outlet, f) for f in OUTLET_FIELDS}
    values.update(changes)
    for key in ("mn", "name", "permit_number", "note"):
        values[key] = (values[key] or "").strip()
    values["permit_number"] = values["permit_number"].upper()
    _clean_outlet(values, exclude_pk=outlet.pk)
    for key, value in values.items():
        setattr(outlet, key, value)
    outlet.save()
    after = snapshot(outlet, list(OUTLET_FIELDS))
    if after != before:
        record(
            actor=user, action="monitoring.outlet.update", obj=outlet, before=before, after=after
        )
    return outlet


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field_name: _("请输入数值")}) from exc
    if not number.is_finite():
        raise ValidationError({field_name: _("请输入数值")})
    return number


def _known_code(code: str) -> str:
    code = (code or "").strip()
    if code not in hj212_tables().pollutants:
        raise ValidationError({"code": _("不是 HJ 212-2017 污染物编码：%(code)s") % {"code": code}})
    return code


@transaction.atomic
def set_limit(
    *,
    user: Any,
    outlet: Outlet,
    code: str,
    limit_value: Any,
    unit: str,
    standard: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    cn: str = DataType.HOUR,
    field: str = LimitField.AVG,
) -> PollutantLimit:
    """Add a version of a limit (排放限值); the open version before it ends the day before."""
    _require(user, outlet.entity)
    code = _known_code(code)
    value = _decimal(limit_value, "limit_value")
    errors: dict[str, str] = {}
    if value <= 0:
        errors["limit_value"] = _("限值须大于 0")
    if cn not in DataType.values:
        errors["cn"] = _("数据类型无效")
    if field not in LimitField.values:
        errors["field"] = _("比较字段无效")
    if not (unit or "").strip():
        errors["unit"] = _("请填写单位")
    if not (standard or "").strip():
        errors["standard"] = _("请填写执行标准或依据")
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = _("失效日期早于生效日期")
    if errors:
        raise ValidationError(errors)
    same = PollutantLimit.objects.select_for_update().filter(
        outlet=outlet, code=code, cn=cn, field=field
    )
    closed = []
    for other in same:
        if other.valid_from >= valid_from:
            if valid_to is None or other.valid_from <= valid_to:
                raise ValidationError(
                    {"valid_from": _("与 %(d)s 起的已有限值重叠") % {"d": other.valid_from}}
                )
            continue
        if other.valid_to is None or other.valid_to >= valid_from:
            before = snapshot(other)
            other.valid_to = valid_from - dt.timedelta(days=1)
            other.save(update_fields=["valid_to"])
            closed.append({"before": before, "after": snapshot(other)})
    limit = PollutantLimit.objects.create(
        outlet=outlet,
        code=code,
        cn=cn,
        field=field,
        limit_value=value,
        unit=unit.strip(),
        standard=standard.strip(),
        valid_from=valid_from,
        valid_to=valid_to,
    )
    record(
        actor=user,
        action="monitoring.limit.set",
        obj=limit,
        after=snapshot(limit),
        before={"closed": closed} if closed else None,
    )
    return limit


@transaction.atomic
def set_analyser_range(
    *, user: Any, outlet: Outlet, code: str, low: Any, high: Any, unit: str
) -> AnalyserRange:
    """Set the analyser range (仪器量程) of an item of an outlet (replaces the previous one)."""
    _require(user, outlet.entity)
    code = _known_code(code)
    lo, hi = _decimal(low, "low"), _decimal(high, "high")
    if hi <= lo:
        raise ValidationError({"high": _("量程上限须大于下限")})
    if not (unit or "").strip():
        raise ValidationError({"unit": _("请填写单位")})
    existing = AnalyserRange.objects.select_for_update().filter(outlet=outlet, code=code).first()
    before = snapshot(existing) if existing else None
    rng, _created = AnalyserRange.objects.update_or_create(
        outlet=outlet, code=code, defaults={"low": lo, "high": hi, "unit": unit.strip()}
    )
    record(actor=user, action="monitoring.range.set", obj=rng, before=before, after=snapshot(rng))
    return rng


def record_ingest_run(*, summary: dict[str, Any], listen: str, note: str = "") -> None:
    """Audit a receiver run (start or stop) with its counters: one entry, not one per value."""
    with transaction.atomic():
        record(
            actor=None,
            action="monitoring.ingest",
            object_type="monitoring.receipt",
            object_repr=f"HJ 212 receiver {listen}"[:255],
            after=summary,
            note=note,
        )


# --------------------------------------------------------------------------------------------
# Alarm evaluation
# --------------------------------------------------------------------------------------------

#: two records of a data type are consecutive when at most this far apart (minute and
#: real-time intervals vary by station: the offline threshold is used for them)
STEPS = {DataType.HOUR: dt.timedelta(hours=1), DataType.DAY: dt.timedelta(days=1)}


def _step(cn: str, rules: MonitoringRules) -> dt.timedelta:
    return STEPS.get(cn, dt.timedelta(minutes=rules.offline_after_minutes))


@dataclass
class EvaluationSummary:
    day: dt.date
    outlets: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    rules_version: str = ""


def _points(rows: list[dict[str, Any]], code: str, field_name: str) -> list[ev.Point]:
    return [
        ev.Point(r["data_time"], value_of(r, field_name), r["flag"])
        for r in rows
        if r["code"] == code
    ]


def outlet_episodes(
    outlet: Outlet,
    day: dt.date,
    *,
    now: dt.datetime,
    rules: MonitoringRules | None = None,
) -> list[tuple[ev.Episode, str, str, str]]:
    """Alarm episodes of ``outlet`` on ``day`` as (episode, cn, field, unit)."""
    rules = rules or monitoring_rules()
    start = day_start(day, rules)
    day_end = start + dt.timedelta(days=1)
    end = min(day_end, now)
    out: list[tuple[ev.Episode, str, str, str]] = []
    if end <= start:
        return out
    limits = limits_on(outlet, day)
    cns = {lim.cn for lim in limits} | set(rules.abnormal_cns)
    rows: dict[str, list[dict[str, Any]]] = {}
    for cn in cns:
        rows[cn] = list(
            reading_model(cn)
            .objects.filter(mn=outlet.mn, data_time__gte=start, data_time__lt=end)
            .values("code", "data_time", "rtd", "avg", "max", "zs_avg", "zs_rtd", "flag")
        )
    for lim in limits:
        for episode in ev.exceedances(
            _points(rows[lim.cn], lim.code, lim.field),
            limit=float(lim.limit_value),
            step=_step(lim.cn, rules),
            code=lim.code,
            is_valid=rules.is_valid_flag,
            only_valid=rules.exceedance_only_valid,
        ):
            out.append((episode, lim.cn, lim.field, lim.unit))
    ranges = {r.code: r for r in outlet.ranges.all()}
    for cn in rules.abnormal_cns:
        field_name = primary_field(cn)
        step = _step(cn, rules)
        for code in sorted({r["code"] for r in rows[cn]}):
            points = _points(rows[cn], code, field_name)
            rng = ranges.get(code)
            found = ev.negatives(
                points, step=step, code=code, allowed=code in rules.negative_allowed
            )
            found += ev.out_of_range(
                points,
                step=step,
                code=code,
                low=float(rng.low) if rng else None,
                high=float(rng.high) if rng else None,
                range_flags=rules.range_flags,
            )
            found += ev.stuck_runs(
                points,
                step=step,
                code=code,
                min_records=rules.stuck_min_records,
                is_valid=rules.is_valid_flag,
                ignore_zero=rules.stuck_ignore_zero,
            )
            unit = rng.unit if rng else ""
            out.extend((episode, cn, field_name, unit) for episode in found)
    receipts = Receipt.objects.filter(mn=outlet.mn, cn__in=rules.offline_cns)
    times = list(
        receipts.filter(data_time__gte=start, data_time__lt=end)
        .order_by("data_time")
        .values_list("data_time", flat=True)
        .distinct()
    )
    before = (
        receipts.filter(
            data_time__lt=start,
            data_time__gte=start - dt.timedelta(days=rules.offline_lookback_days),
        )
        .order_by("-data_time")
        .values_list("data_time", flat=True)
        .first()
    )
    after = None
    if day_end <= now:
        after = (
            receipts.filter(data_time__gte=day_end, data_time__lte=now)
            .order_by("data_time")
            .values_list("data_time", flat=True)
            .first()
        )
    for episode in ev.offline_gaps(
        times,
        start=start,
        end=end,
        threshold=dt.timedelta(minutes=rules.offline_after_minutes),
        before=before,
        after=after,
    ):
        out.append((episode, "", "", _("分钟")))
    return out


def evaluate_alarms(
    *,
    day: dt.date,
    user: Any = None,
    outlets: QuerySet[Outlet] | None = None,
    now: dt.datetime | None = None,
) -> EvaluationSummary:
    """Evaluate ``day`` for the active outlets (or ``outlets``): create, update or remove alarms.

    Idempotent: an episode is keyed by (outlet, kind, code, data type, field, start); running
    the day again updates those keys and removes the day's alarms the data no longer show.
    """
    rules = monitoring_rules()
    now = now or timezone.now()
    start = day_start(day, rules)
    if start >= now:
        raise ValidationError(_("不能评估尚未开始的日期 %(day)s") % {"day": day})
    qs = outlets if outlets is not None else Outlet.objects.filter(active=True)
    qs = qs.select_related("entity").prefetch_related("limits", "ranges")
    summary = EvaluationSummary(day=day, rules_version=rules.version)
    found = [(outlet, outlet_episodes(outlet, day, now=now, rules=rules)) for outlet in qs]
    lookback = start - dt.timedelta(days=rules.offline_lookback_days)
    day_end = start + dt.timedelta(days=1)
    with transaction.atomic():
        for outlet, episodes in found:
            summary.outlets += 1
            existing = {
                (a.kind, a.code, a.cn, a.field, a.started_at): a
                for a in Alarm.objects.select_for_update().filter(
                    outlet=outlet, started_at__gte=lookback, started_at__lt=day_end
                )
            }
            keep = set()
            for episode, cn, field_name, unit in episodes:
                key = (episode.kind, episode.code, cn, field_name, episode.started_at)
                keep.add(key)
                values = dict(
                    ended_at=episode.ended_at,
                    ongoing=episode.ongoing,
                    records=episode.records,
                    peak_value=episode.peak,
                    limit_value=episode.threshold,
                    unit=unit[:16],
                    detail=episode.detail[:255],
                    rules_version=rules.version,
                )
                summary.by_kind[episode.kind] = summary.by_kind.get(episode.kind, 0) + 1
                alarm = existing.get(key)
                if alarm is None:
                    Alarm.objects.create(
                        outlet=outlet,
                        kind=episode.kind,
                        code=episode.code,
                        cn=cn,
                        field=field_name,
                        started_at=episode.started_at,
                        evaluated_at=now,
                        **values,
                    )
                    summary.created += 1
                elif any(getattr(alarm, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(alarm, k, v)
                    alarm.evaluated_at = now
                    alarm.save()
                    summary.updated += 1
            stale = [
                a.pk
                for key, a in existing.items()
                if key not in keep and start <= a.started_at < day_end
            ]
            if stale:
                Alarm.objects.filter(pk__in=stale).delete()
                summary.removed += len(stale)
        record(
            actor=user,
            action="monitoring.alarms.evaluate",
            object_type="monitoring.alarm",
            object_repr=f"{day.isoformat()}",
            after={
                "day": day.isoformat(),
                "outlets": summary.outlets,
                "created": summary.created,
                "updated": summary.updated,
                "removed": summary.removed,
                "by_kind": summary.by_kind,
            },
            note=rules.version,
        )
    return summary
