"""The quarterly exceedance list (重点排污单位自动监测数据超标名单) from the monitoring data.

Read side (nothing here writes; the draft, review and publication are in
:mod:`dualcontrol.publishing.services`):

* :func:`list_rules` — ``reference/data/exceedance_list.yaml`` as a plain value (sources there);
* :func:`collect` — the quarter's exceedance alarms (every status), each with its exceeding
  records re-read from the readings tables (valid flags only, value above the alarm's limit),
  and the accepted shutdown reports of their outlets;
* :func:`compute` — the document: rows per outlet and pollutant from
  :func:`dualcontrol.core.exceedances.exceedance_list`, in the published columns, each row
  naming the alarms it counted (``alarms``) — and every alarm not counted with the reason
  (``not_counted``), the footnotes and the rule versions.

Times are the station's local time (``monitoring_rules.yaml`` station_time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Min
from django.utils import timezone

from dualcontrol.core import exceedances as core
from dualcontrol.monitoring.models import (
    Alarm,
    AlarmKind,
    AlarmStatus,
    Outlet,
    Shutdown,
    ShutdownKind,
    ShutdownStatus,
    reading_model,
)
from dualcontrol.monitoring.queries import pollutant_name, value_of
from dualcontrol.monitoring.rules import monitoring_rules
from dualcontrol.reference import ReferenceDataError, load_yaml

RULES_FILE = "exceedance_list.yaml"
COLUMN_KEYS = (
    "region",
    "unit_name",
    "uscc",
    "outlet",
    "pollutant",
    "limit",
    "max_value",
    "unit",
    "multiple",
    "days",
    "hours",
    "treatment",
)
NUMERIC_KEYS = {"limit": None, "max_value": "value", "multiple": "multiple", "days": 0, "hours": 0}
#: relative widths of the columns in the PDF (landscape A4)
PDF_WIDTHS = {
    "region": 1.3,
    "unit_name": 2.0,
    "uscc": 2.1,
    "outlet": 2.2,
    "pollutant": 1.0,
    "limit": 0.8,
    "max_value": 0.8,
    "unit": 0.8,
    "multiple": 0.9,
    "days": 0.7,
    "hours": 0.8,
    "treatment": 1.6,
}
BASIS_ZH = {"2061": "小时均值", "2031": "日均值"}
REASON_ZH = {
    "status": "报警已撤销（数据已不支持）",
    "struck": "经审核剔除",
    "excused": "停运报备期间",
    "outside": "不在本季度",
    "below_entry": "未达列入条件",
    "data_type": "不计入的数据类型",
}


class ExceedanceListError(ValueError):
    """The list cannot be produced; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


@dataclass(frozen=True)
class ListRules:
    """``exceedance_list.yaml`` as a value."""

    version: str
    counting: core.CountingRules
    publish_after_quarter_end: bool
    deadline_days: int
    only_valid_flags: bool
    shutdown_statuses: frozenset[str]
    shutdown_kinds: frozenset[str]
    reviewer_strike: bool
    value_places: int
    treatment_labels: dict[str, str]
    columns: tuple[tuple[str, str], ...]  # (key, header)
    title: str
    sources: dict[str, str]

    def deadline(self, year: int, quarter: int) -> dt.date:
        return core.deadline(year, quarter, self.deadline_days)


def _rules_from(version: str, d: dict[str, Any], time_zone: str) -> ListRules:
    problems: list[str] = []
    period, counted, excl = d["period"], d["counted"], d["exclusions"]
    entry, figures, treatment = d["entry"], d["figures"], d["treatment"]
    statuses = frozenset(str(s) for s in counted["alarm_statuses"])
    unknown = statuses - set(AlarmStatus.values)
    if unknown:
        problems.append(f"counted.alarm_statuses: unknown {sorted(unknown)}")
    sd_statuses = frozenset(str(s) for s in excl["shutdown_statuses"])
    if sd_statuses - set(ShutdownStatus.values):
        problems.append(f"exclusions.shutdown_statuses: unknown {sorted(sd_statuses)}")
    sd_kinds = frozenset(str(s) for s in excl["shutdown_kinds"])
    if sd_kinds - set(ShutdownKind.values):
        problems.append(f"exclusions.shutdown_kinds: unknown {sorted(sd_kinds)}")
    counting = core.CountingRules(
        data_types={str(k): str(v) for k, v in counted["data_types"].items()},
        counted_statuses=statuses,
        min_days=int(entry["min_days"]),
        min_hours=int(entry["min_hours"]),
        multiple=str(figures["multiple"]),
        multiple_places=int(figures["multiple_places"]),
        time_zone=time_zone,
    )
    problems += counting.problems()
    columns = tuple((str(c["key"]), str(c["header"])) for c in d["columns"])
    bad = [k for k, _h in columns if k not in COLUMN_KEYS]
    if bad or not columns:
        problems.append(f"columns: unknown keys {bad} (known: {', '.join(COLUMN_KEYS)})")
    labels = {str(k): str(v) for k, v in treatment["labels"].items()}
    if statuses - set(labels):
        problems.append(f"treatment.labels: missing {sorted(statuses - set(labels))}")
    days = int(period["deadline_days_after_quarter_end"])
    if days < 1:
        problems.append("period.deadline_days_after_quarter_end must be >= 1")
    if not 0 <= int(figures["value_places"]) <= 6:
        problems.append("figures.value_places must be 0–6")
    title = str(d["title"])
    if "{year}" not in title or "{quarter_zh}" not in title:
        problems.append("title needs {year} and {quarter_zh}")
    if problems:
        raise ReferenceDataError(f"{RULES_FILE}: " + "; ".join(problems))
    return ListRules(
        version=version,
        counting=counting,
        publish_after_quarter_end=bool(period["publish_after_quarter_end"]),
        deadline_days=days,
        only_valid_flags=bool(counted["only_valid_flags"]),
        shutdown_statuses=sd_statuses,
        shutdown_kinds=sd_kinds,
        reviewer_strike=bool(excl["reviewer_strike"]),
        value_places=int(figures["value_places"]),
        treatment_labels=labels,
        columns=columns,
        title=title,
        sources={
            "period": str(period["source"]),
            "deadline": str(period["deadline_source"]),
            "data_types": str(counted["data_types_source"]),
            "statuses": str(counted["alarm_statuses_source"]),
            "validity": str(counted["only_valid_flags_source"]),
            "shutdown": str(excl["shutdown_source"]),
            "strike": str(excl["reviewer_strike_source"]),
            "entry": str(entry["source"]),
            "figures": str(figures["source"]),
            "treatment": str(treatment["source"]),
            "columns": str(d["columns_source"]),
        },
    )


@cache
def list_rules() -> ListRules:
    """The rules in force (their version stamp goes into every list)."""
    version, d = load_yaml(RULES_FILE)
    try:
        return _rules_from(version, d, monitoring_rules().time_zone)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ReferenceDataError):
            raise
        raise ReferenceDataError(f"{RULES_FILE}: {exc!r}") from exc


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class Collected:
    """What the quarter's list is computed from."""

    year: int
    quarter: int
    start: dt.datetime
    end: dt.datetime
    alarms: dict[int, Alarm]
    outlets: dict[str, Outlet]  # by MN
    episodes: list[core.Episode]
    excused: list[core.ExcusedPeriod]
    shutdowns: dict[int, Shutdown]


def _check_period(year: int, quarter: int) -> None:
    try:
        core.check_quarter(year, quarter)
    except core.ExceedanceInputError as exc:
        raise ExceedanceListError(list(exc.problems)) from exc


def collect(year: int, quarter: int, province: Any = None) -> Collected:
    """The quarter's exceedance alarms with their exceeding records, and the excusing periods;
    ``province``: of its outlets only (several provinces in one installation, issue 22)."""
    _check_period(year, quarter)
    rules, mrules = list_rules(), monitoring_rules()
    start, end = core.quarter_bounds(year, quarter, mrules.time_zone)
    alarms = {
        a.pk: a
        for a in Alarm.objects.filter(
            kind=AlarmKind.EXCEEDANCE, started_at__lt=end, ended_at__gte=start
        )
        .filter(
            **(
                {"outlet__entity__division__path__startswith": province.path}
                if province is not None
                else {}
            )
        )
        .select_related("outlet", "outlet__entity", "outlet__entity__division__parent")
        .order_by("pk")
    }
    outlets = {a.outlet.mn: a.outlet for a in alarms.values()}
    # the exceeding records of each alarm, one query per outlet, data type and pollutant
    groups: dict[tuple[str, str, str], list[Alarm]] = defaultdict(list)
    for a in alarms.values():
        groups[(a.outlet.mn, a.cn, a.code)].append(a)
    values: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for (mn, cn, code), group in groups.items():
        if cn not in rules.counting.data_types:
            continue
        lo = max(start, min(a.started_at for a in group))
        hi = min(end, max((a.ended_at or end) for a in group) + dt.timedelta(microseconds=1))
        rows = (
            reading_model(cn)
            .objects.filter(mn=mn, code=code, data_time__gte=lo, data_time__lt=hi)
            .values("data_time", "rtd", "avg", "max", "zs_avg", "zs_rtd", "flag")
        )
        for row in rows:
            when = row["data_time"]
            if rules.only_valid_flags and not mrules.is_valid_flag(row["flag"]):
                continue
            for a in group:
                if not (a.started_at <= when <= (a.ended_at or when)):
                    continue
                value = value_of(row, a.field)
                if value is not None and a.limit_value is not None and value > a.limit_value:
                    values[a.pk].append((when, value))
    episodes = [
        core.Episode(
            alarm_id=a.pk,
            outlet=a.outlet.mn,
            code=a.code,
            cn=a.cn,
            status=a.status,
            limit=float(a.limit_value) if a.limit_value is not None else 0.0,
            unit=a.unit,
            values=tuple(sorted(values.get(a.pk, []))),
        )
        for a in alarms.values()
    ]
    shutdowns = {
        s.pk: s
        for s in Shutdown.objects.filter(
            outlet__mn__in=list(outlets),
            status__in=rules.shutdown_statuses,
            kind__in=rules.shutdown_kinds,
            started_at__lt=end,
            ended_at__gt=start,
        ).select_related("outlet")
    }
    excused = [
        core.ExcusedPeriod(s.outlet.mn, s.started_at, s.ended_at, f"shutdown:{s.pk}")
        for s in shutdowns.values()
    ]
    return Collected(year, quarter, start, end, alarms, outlets, episodes, excused, shutdowns)


# ---------------------------------------------------------------------------------------------
# The document


def region_of(outlet: Outlet) -> str:
    """所在地区: the unit's prefecture and county (``昆明市五华区``), or its division's name."""
    division = outlet.entity.division
    parent = division.parent
    if division.level == "county" and parent is not None and parent.level == "prefecture":
        return f"{parent.name}{division.name}"
    return division.name


def _num(value: Any, places: int | None) -> str:
    return core.format_decimal(value, places)


def treatment_text(statuses: dict[str, int], labels: dict[str, str]) -> str:
    """处置情况: ``已核实办结 2；未处置 1`` in the order of the labels."""
    return "；".join(f"{labels[s]} {statuses[s]}" for s in labels if statuses.get(s))


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when, monitoring_rules().tz).strftime("%Y-%m-%d %H:%M")


def quarter_title(year: int, quarter: int) -> str:
    return list_rules().title.format(
        year=year, quarter=quarter, quarter_zh=core.QUARTER_ZH[quarter]
    )


def compute(
    year: int,
    quarter: int,
    *,
    struck: dict[int, str] | None = None,
    issuers: str = "",
    now: dt.datetime | None = None,
    province: Any = None,
) -> dict[str, Any]:
    """The quarter's list as a document (header, rows with cells, footnotes, provenance)."""
    rules, mrules = list_rules(), monitoring_rules()
    now = now or timezone.now()
    data = collect(year, quarter, province)
    struck = {int(k): str(v) for k, v in (struck or {}).items()}
    try:
        result = core.exceedance_list(
            data.episodes,
            year=year,
            quarter=quarter,
            rules=rules.counting,
            excused=data.excused,
            struck={k: v for k, v in struck.items() if k in data.alarms},
        )
    except core.ExceedanceInputError as exc:
        raise ExceedanceListError(list(exc.problems)) from exc
    header = [h for _k, h in rules.columns]
    rows = []
    for r in result.rows:
        outlet = data.outlets[r.outlet]
        entity = outlet.entity
        values = {
            "region": region_of(outlet),
            "unit_name": entity.name,
            "uscc": entity.uscc,
            "outlet": f"{outlet.name}（{outlet.mn}）",
            "pollutant": pollutant_name(r.code),
            "limit": _num(r.limit, None) + ("*" if r.limits_differ else ""),
            "max_value": _num(r.max_value, rules.value_places),
            "unit": r.unit,
            "multiple": _num(r.multiple, rules.counting.multiple_places),
            "days": str(r.days),
            "hours": str(r.hours),
            "treatment": treatment_text(dict(r.statuses), rules.treatment_labels),
        }
        rows.append(
            {
                "cells": [values[k] for k, _h in rules.columns],
                "fields": values,
                "code": entity.uscc,
                "entity_id": entity.pk,
                "outlet_id": outlet.pk,
                "outlet_mn": outlet.mn,
                "pollutant_code": r.code,
                "figures": {
                    "days": r.days,
                    "hours": r.hours,
                    "records": r.records,
                    "max_value": _num(r.max_value, rules.value_places),
                    "limit": _num(r.limit, None),
                    "unit": r.unit,
                    "multiple": _num(r.multiple, rules.counting.multiple_places),
                    "basis": BASIS_ZH.get(r.max_cn, r.max_cn),
                    "max_time": _local(r.max_time),
                    "first": _local(r.first),
                    "last": _local(r.last),
                    "limits_differ": r.limits_differ,
                },
                "alarms": [
                    {
                        "id": c.alarm_id,
                        "status": c.status,
                        "status_zh": rules.treatment_labels.get(c.status, c.status),
                        "cn": c.cn,
                        "started_at": _local(data.alarms[c.alarm_id].started_at),
                        "records": c.records,
                        "excused_records": c.excused_records,
                        "excused_by": list(c.excused_by),
                    }
                    for c in r.alarms
                ],
            }
        )
    not_counted = []
    for n in result.not_counted:
        alarm = data.alarms[n.alarm_id]
        not_counted.append(
            {
                "alarm": n.alarm_id,
                "unit_name": alarm.outlet.entity.name,
                "outlet": f"{alarm.outlet.name}（{alarm.outlet.mn}）",
                "pollutant": pollutant_name(n.code),
                "started_at": _local(alarm.started_at),
                "reason": n.reason,
                "reason_zh": REASON_ZH.get(n.reason, n.reason),
                "detail": n.detail,
                "excused_by": list(n.excused_by),
            }
        )
    synthetic = bool(data.outlets) and all(o.is_synthetic for o in data.outlets.values())
    if not data.outlets:
        synthetic = (
            Outlet.objects.exists() and not Outlet.objects.filter(is_synthetic=False).exists()
        )
    first, last = core.quarter_dates(year, quarter)
    content: dict[str, Any] = {
        "kind": "exceedances",
        "year": year,
        "quarter": quarter,
        "title": quarter_title(year, quarter),
        "issuers": issuers,
        "header": header,
        "rows": rows,
        "landscape": True,
        "column_places": [
            _places(k, rules) if k in NUMERIC_KEYS else None for k, _h in rules.columns
        ],
        "column_widths": [PDF_WIDTHS[k] for k, _h in rules.columns],
        "not_counted": not_counted,
        "struck": {str(k): v for k, v in sorted(struck.items())},
        "shutdowns": [
            {
                "id": s.pk,
                "outlet": f"{s.outlet.name}（{s.outlet.mn}）",
                "kind": s.get_kind_display(),
                "started_at": _local(s.started_at),
                "ended_at": _local(s.ended_at),
            }
            for s in sorted(data.shutdowns.values(), key=lambda s: s.pk)
        ],
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "quarter_complete": now >= data.end,
        "deadline": rules.deadline(year, quarter).isoformat(),
        "computed_at": timezone.localtime(now, mrules.tz).isoformat(timespec="seconds"),
        "rules": {"exceedance_list": rules.version, "monitoring": mrules.version},
        "synthetic": synthetic,
    }
    content["footnotes"] = _footnotes(content, rules, result)
    return content


def _places(key: str, rules: ListRules) -> int | None:
    kind = NUMERIC_KEYS[key]
    if kind == "value":
        return rules.value_places
    if kind == "multiple":
        return rules.counting.multiple_places
    return kind


def _footnotes(content: dict[str, Any], rules: ListRules, result: core.ListResult) -> list[str]:
    p = content["period"]
    how = (
        "（最大值 − 排放限值）÷ 排放限值"
        if rules.counting.multiple == "excess"
        else "最大值 ÷ 排放限值"
    )
    notes = [
        f"本名单根据污染源自动监控系统（HJ 212）接收的自动监测数据及超标报警汇总，统计期为 {p['start']} 至 "
        f"{p['end']}（北京时间）。",
        "超标指数据标记为有效的小时均值或日均值超过排放口执行的排放限值；超标小时数为超标的小时数据条数，"
        "超标天数为有超标小时数据或日数据的日数；最大值为超标倍数最高的一条数据，排放限值为该数据适用的限值，"
        f"最大超标倍数 = {how}。",
    ]
    if any(r.limits_differ for r in result.rows):
        notes.append("排放限值标 * 的，本季度内该排放口该污染物的限值有变更。")
    reasons: dict[str, int] = defaultdict(int)
    for n in result.not_counted:
        reasons[n.reason] += 1
    parts = []
    excused = sum(c.excused_records for r in result.rows for c in r.alarms)
    excused += sum(n.records for n in result.not_counted if n.reason == "excused")
    if excused:
        parts.append(f"已确认的停运报备期间的超标数据 {excused} 条不计入")
    if reasons.get("status"):
        parts.append(f"数据已不支持的报警 {reasons['status']} 条不计入")
    if parts:
        notes.append("；".join(parts) + "。")
    struck_rows = [n for n in content["not_counted"] if n["reason"] == "struck"]
    if struck_rows:
        notes.append(
            "经审核剔除的报警："
            + "；".join(
                f"{n['unit_name']} {n['outlet']} {n['pollutant']}（{n['started_at']} 起）：{n['detail']}"
                for n in struck_rows
            )
            + "。"
        )
    notes.append(
        "处置情况为名单生成时各报警的处置状态（未处置、单位已说明、已核实办结）及报警次数。"
    )
    if not content["rows"]:
        notes.append("本季度无列入名单的排放口。")
    if not content["quarter_complete"]:
        notes.append("本季度尚未结束，名单为截至生成时的数据。")
    notes.append(
        f"规则版本：{content['rules']['exceedance_list']}；监控规则：{content['rules']['monitoring']}。"
    )
    if content["synthetic"]:
        notes.append("本名单为平台演示，监测数据为合成数据，非官方发布，不代表真实情况。")
    return [f"{i}. {n}" for i, n in enumerate(notes, 1)]


def quarters_with_alarms(limit: int = 12, today: dt.date | None = None) -> list[tuple[int, int]]:
    """Quarters from the first exceedance alarm (at most ``limit``) up to today's, newest first."""
    today = today or timezone.localdate()
    first = Alarm.objects.filter(kind=AlarmKind.EXCEEDANCE).aggregate(m=Min("started_at"))["m"]
    year, quarter = core.quarter_of(today)
    out = [(year, quarter)]
    if first is None:
        return out
    fy, fq = core.quarter_of(timezone.localtime(first, monitoring_rules().tz).date())
    while (year, quarter) > (fy, fq) and len(out) < limit:
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
        out.append((year, quarter))
    return out
