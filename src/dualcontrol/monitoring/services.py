"""The only writers of monitoring configuration and alarms (validated, one transaction, audited).

Data records are written by :class:`dualcontrol.monitoring.sink.DatabaseSink` (batches; the
receiver's run is audited as a summary by :func:`record_ingest_run`, never per value).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access.scope import can_file_for
from dualcontrol.audit.services import record, snapshot
from dualcontrol.entities.models import Entity
from dualcontrol.monitoring import evaluation as ev
from dualcontrol.monitoring.models import (
    MN_LENGTH,
    PW_LENGTH,
    Alarm,
    AlarmStatus,
    AnalyserRange,
    DataType,
    LimitField,
    Outlet,
    OutletKind,
    PollutantLimit,
    Receipt,
    Shutdown,
    ShutdownKind,
    ShutdownStatus,
    reading_model,
)
from dualcontrol.monitoring.queries import (
    accepted_shutdowns,
    can_manage,
    day_start,
    limits_on,
    primary_field,
    value_of,
)
from dualcontrol.monitoring.rules import MonitoringRules, monitoring_rules
from dualcontrol.reference.hj212 import hj212_tables
from dualcontrol.uploads import refusal

MN_PATTERN = re.compile(rf"[0-9A-Za-z_\-.]{{1,{MN_LENGTH}}}")
PERMIT_PATTERN = re.compile(r"[0-9A-Z]{18,32}")
# HJ 212 PW: up to 6 characters, none of the segment separators ; = & , (core.hj212 bad_field)
PW_PATTERN = re.compile(rf"[!-~]{{1,{PW_LENGTH}}}")
PW_FORBIDDEN = frozenset(";=&,")
OUTLET_FIELDS = (
    "mn",
    "name",
    "kind",
    "permit_number",
    "connected_on",
    "active",
    "note",
    "is_synthetic",
    "station_password",  # redacted in the audit log (audit_policy.yaml)
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
    pw = values.get("station_password") or ""
    if pw and (not PW_PATTERN.fullmatch(pw) or PW_FORBIDDEN & set(pw)):
        errors["station_password"] = _(
            "访问密码（PW）为 1–6 位可见 ASCII 字符，不含 ; = & ,（HJ 212）"
        )
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
    station_password: str = "",
) -> Outlet:
    """Register an outlet (排放口) of ``entity`` under its data logger's MN and password (PW):
    the receiver refuses data of outlets without a password."""
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
        station_password=station_password,
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
    withdrawn: int = 0
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
    lookback = start - dt.timedelta(days=rules.offline_lookback_days)
    shutdowns = accepted_shutdowns([outlet.pk], lookback, max(now, day_end), rules)
    for episode in ev.offline_gaps(
        times,
        start=start,
        end=end,
        threshold=dt.timedelta(minutes=rules.offline_after_minutes),
        before=before,
        after=after,
        excused=[period for period, _filed in shutdowns.get(outlet.pk, [])],
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
                else:
                    if alarm.status == AlarmStatus.WITHDRAWN:  # the data show it again
                        values["status"] = (
                            AlarmStatus.CLOSED
                            if alarm.closed_at
                            else AlarmStatus.EXPLAINED
                            if alarm.explanation
                            else AlarmStatus.OPEN
                        )
                    if any(getattr(alarm, k) != v for k, v in values.items()):
                        for k, v in values.items():
                            setattr(alarm, k, v)
                        alarm.evaluated_at = now
                        alarm.save()
                        summary.updated += 1
            stale = [
                a
                for key, a in existing.items()
                if key not in keep and start <= a.started_at < day_end
            ]
            # An open alarm the data no longer show goes; a handled one stays, as withdrawn.
            gone = [a.pk for a in stale if a.status == AlarmStatus.OPEN]
            if gone:
                Alarm.objects.filter(pk__in=gone).delete()
                summary.removed += len(gone)
            kept = [a.pk for a in stale if a.status in (AlarmStatus.EXPLAINED, AlarmStatus.CLOSED)]
            if kept:
                Alarm.objects.filter(pk__in=kept).update(
                    status=AlarmStatus.WITHDRAWN, ongoing=False, evaluated_at=now
                )
                summary.withdrawn += len(kept)
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
                "withdrawn": summary.withdrawn,
                "by_kind": summary.by_kind,
            },
            note=rules.version,
        )
    return summary


# --------------------------------------------------------------------------------------------
# Alarm handling (报警处置)
# --------------------------------------------------------------------------------------------

ALARM_HANDLING_FIELDS = [
    "status",
    "explanation",
    "explained_by",
    "explained_at",
    "closed_by",
    "closed_at",
    "close_note",
]


def can_explain(user: Any, alarm: Alarm) -> bool:
    """The unit of the outlet, and staff who manage it, explain an alarm (None: the system)."""
    if user is None:
        return True
    entity = alarm.outlet.entity
    return can_file_for(user, entity) or can_manage(user, entity)


def can_close(user: Any, alarm: Alarm) -> bool:
    """Staff who manage the outlet verify and close (or reopen) an alarm (None: the system)."""
    return user is None or can_manage(user, alarm.outlet.entity)


def _handle(alarm: Alarm, user: Any, action: str, note: str, change: Any) -> Alarm:
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().select_related("outlet__entity").get(pk=alarm.pk)
        before = snapshot(alarm, ALARM_HANDLING_FIELDS)
        change(alarm)
        alarm.save(update_fields=ALARM_HANDLING_FIELDS)
        record(
            actor=user,
            action=action,
            obj=alarm,
            before=before,
            after=snapshot(alarm, ALARM_HANDLING_FIELDS),
            note=note,
        )
    return alarm


def explain_alarm(*, user: Any, alarm: Alarm, text: str, now: dt.datetime | None = None) -> Alarm:
    """The unit (or an officer) states the cause and what was done; may be said again until closed."""
    if not can_explain(user, alarm):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError(_("请填写原因及处理情况。"))
    if alarm.status in (AlarmStatus.CLOSED, AlarmStatus.WITHDRAWN):
        raise ValidationError(
            _("状态为「%(status)s」的报警不能再说明。") % {"status": alarm.get_status_display()}
        )
    when = now or timezone.now()

    def change(a: Alarm) -> None:
        a.status = AlarmStatus.EXPLAINED
        a.explanation, a.explained_by, a.explained_at = text, user, when

    return _handle(alarm, user, "monitoring.alarm.explain", "", change)


def close_alarm(*, user: Any, alarm: Alarm, note: str, now: dt.datetime | None = None) -> Alarm:
    """An officer verifies the alarm and closes it (办结) with a note."""
    if not can_close(user, alarm):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ValidationError(_("请填写核实意见。"))
    if alarm.status not in (AlarmStatus.OPEN, AlarmStatus.EXPLAINED):
        raise ValidationError(
            _("状态为「%(status)s」的报警不能办结。") % {"status": alarm.get_status_display()}
        )
    when = now or timezone.now()

    def change(a: Alarm) -> None:
        a.status = AlarmStatus.CLOSED
        a.closed_by, a.closed_at, a.close_note = user, when, note

    return _handle(alarm, user, "monitoring.alarm.close", note, change)


def reopen_alarm(*, user: Any, alarm: Alarm, note: str) -> Alarm:
    """An officer reopens a closed alarm (the unit's explanation stays on record)."""
    if not can_close(user, alarm):
        raise PermissionDenied
    note = note.strip()
    if not note:
        raise ValidationError(_("请填写重新打开的理由。"))
    if alarm.status != AlarmStatus.CLOSED:
        raise ValidationError(_("只有已办结的报警可以重新打开。"))

    def change(a: Alarm) -> None:
        a.status = AlarmStatus.EXPLAINED if a.explanation else AlarmStatus.OPEN
        a.closed_by, a.closed_at, a.close_note = None, None, ""

    return _handle(alarm, user, "monitoring.alarm.reopen", note, change)


# --------------------------------------------------------------------------------------------
# Shutdown reports (停运报备)
# --------------------------------------------------------------------------------------------

SHUTDOWN_FIELDS = [
    "outlet",
    "kind",
    "started_at",
    "ended_at",
    "reason",
    "document",
    "document_name",
    "status",
    "filed_by",
    "filed_at",
    "reviewed_by",
    "reviewed_at",
    "review_note",
]


def can_file_shutdown(user: Any, outlet: Outlet) -> bool:
    """The unit files its outlets' shutdown reports (staff may file for it, e.g. from paper)."""
    if user is None:
        return True
    return can_file_for(user, outlet.entity) or can_manage(user, outlet.entity)


def can_review_shutdown(user: Any, shutdown: Shutdown) -> bool:
    return user is None or can_manage(user, shutdown.outlet.entity)


def file_shutdown(
    *,
    user: Any,
    outlet: Outlet,
    kind: str,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    reason: str,
    document: UploadedFile,
    now: dt.datetime | None = None,
    is_synthetic: bool = False,
) -> Shutdown:
    """停运报备 with its document; waits for review.  Refused whole with the reasons."""
    if not can_file_shutdown(user, outlet):
        raise PermissionDenied
    rules = monitoring_rules()
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if kind not in ShutdownKind.values:
        errors.setdefault("kind", []).append(_("停运类型无效。"))
    if ended_at <= started_at:
        errors.setdefault("ended_at", []).append(_("结束时间须晚于开始时间。"))
    elif ended_at - started_at > dt.timedelta(days=rules.shutdown_max_days):
        errors.setdefault("ended_at", []).append(
            _("一次报备最长 %(days)d 天；更长的停运请分次报备。")
            % {"days": rules.shutdown_max_days}
        )
    if not reason.strip():
        errors.setdefault("reason", []).append(_("请填写停运原因。"))
    problem = refusal(
        document,
        extensions=rules.shutdown_document_extensions,
        max_bytes=rules.shutdown_document_max_bytes,
    )
    if problem:
        errors.setdefault("document", []).append(problem)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        shutdown = Shutdown(
            outlet=outlet,
            kind=kind,
            started_at=started_at,
            ended_at=ended_at,
            reason=reason.strip(),
            document_name=PurePath(document.name or "").name[:255],
            filed_by=user,
            filed_at=now,
            is_synthetic=is_synthetic,
        )
        shutdown.document.save(document.name or "document", document, save=False)
        shutdown.save()
        record(
            actor=user,
            action="monitoring.shutdown.file",
            obj=shutdown,
            after=snapshot(shutdown, SHUTDOWN_FIELDS),
        )
    return shutdown


def review_shutdown(
    *, user: Any, shutdown: Shutdown, accept: bool, note: str = "", reevaluate: bool = True
) -> Shutdown:
    """An officer accepts (确认) or returns (退回, with a reason) a filed report.

    Accepting re-evaluates the alarms of the days it covers (up to yesterday), so that 断线
    alarms the report explains go away.
    """
    if not can_review_shutdown(user, shutdown):
        raise PermissionDenied
    note = note.strip()
    if not accept and not note:
        raise ValidationError(_("退回必须填写意见。"))
    with transaction.atomic():
        shutdown = Shutdown.objects.select_for_update().get(pk=shutdown.pk)
        if shutdown.status != ShutdownStatus.FILED:
            raise ValidationError(
                _("状态为「%(status)s」的报备不能审核。")
                % {"status": shutdown.get_status_display()}
            )
        before = snapshot(shutdown, SHUTDOWN_FIELDS)
        shutdown.status = ShutdownStatus.ACCEPTED if accept else ShutdownStatus.RETURNED
        shutdown.reviewed_by, shutdown.reviewed_at = user, timezone.now()
        shutdown.review_note = note
        shutdown.save()
        record(
            actor=user,
            action="monitoring.shutdown.accept" if accept else "monitoring.shutdown.return",
            obj=shutdown,
            before=before,
            after=snapshot(shutdown, SHUTDOWN_FIELDS),
            note=note,
        )
    if accept and reevaluate:
        rules = monitoring_rules()
        tz = rules.tz
        first = shutdown.started_at.astimezone(tz).date()
        last = min(
            shutdown.ended_at.astimezone(tz).date(), timezone.localdate() - dt.timedelta(days=1)
        )
        outlets = Outlet.objects.filter(pk=shutdown.outlet_id)
        day = first
        while day <= last:
            evaluate_alarms(day=day, user=user, outlets=outlets)
            day += dt.timedelta(days=1)
    return shutdown
