"""Reading a time series over any span: the raw rows while they are kept and the span is short,
the hourly or daily roll-ups otherwise (``timeseries_policy.yaml`` ``reads``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from dualcontrol.timeseries.models import MeteringRollup, MonitoringRollup, Period
from dualcontrol.timeseries.partitions import add_months
from dualcontrol.timeseries.policy import TimeseriesPolicy, timeseries_policy

RESOLUTIONS = ("auto", "raw", "hour", "day")


def raw_cutoff(
    table: str, *, now: dt.datetime | None = None, policy: TimeseriesPolicy | None = None
) -> dt.datetime:
    """Raw rows of ``table`` before this time may be gone (the retention)."""
    policy = policy or timeseries_policy()
    return add_months(now or timezone.now(), -policy.table(table).raw_months)


def resolution_for(
    table: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    policy: TimeseriesPolicy | None = None,
) -> str:
    """``raw`` for a short span within the retention, else ``hour`` or ``day`` by length."""
    policy = policy or timeseries_policy()
    span = end - start
    if start >= raw_cutoff(table, now=now, policy=policy) and span <= dt.timedelta(
        days=policy.raw_up_to_days
    ):
        return "raw"
    return "hour" if span <= dt.timedelta(days=policy.hour_up_to_days) else "day"


@dataclass(frozen=True)
class Point:
    key: int | str  # metering: item id; monitoring: pollutant code
    start: dt.datetime
    n: int
    total: float | None
    min_value: float | None
    max_value: float | None

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n and self.total is not None else None


@dataclass(frozen=True)
class Series:
    resolution: str
    points: list[Point]


def _resolve(table: str, start: dt.datetime, end: dt.datetime, resolution: str) -> str:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution: one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
    return resolution_for(table, start, end) if resolution == "auto" else resolution


def metering_series(
    item_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    resolution: str = "auto",
    limit: int | None = None,
) -> Series:
    """Readings of the items in [start, end): raw (n = 1) or their hourly/daily roll-ups (at
    most ``limit`` points, ordered by item and time)."""
    res = _resolve("metering_reading", start, end, resolution)
    if res == "raw":
        from dualcontrol.metering import storage

        rows = storage.series(list(item_ids), start, end, limit=limit)
        return Series(res, [Point(i, ts, 1, v, v, v) for i, ts, v, _ in rows])
    qs = MeteringRollup.objects.filter(
        item_id__in=list(item_ids), period=res, start__gte=start, start__lt=end
    ).order_by("item_id", "start")
    if limit:
        qs = qs[:limit]
    return Series(
        res,
        [
            Point(r.item_id, r.start, r.n, r.total, r.min_value, r.max_value)
            for r in qs.only("item_id", "start", "n", "total", "min_value", "max_value")
        ],
    )


def monitoring_series(
    mn: str,
    cn: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    resolution: str = "auto",
    codes: Sequence[str] | None = None,
) -> Series:
    """Minute (2051) or real-time (2011) values of a station in [start, end): raw rows (Avg of
    minute data, Rtd of real-time data) or their hourly/daily roll-ups."""
    from dualcontrol.monitoring.models import MinuteReading, RealtimeReading

    model = {"2051": MinuteReading, "2011": RealtimeReading}[cn]
    table = model._meta.db_table
    res = _resolve(table, start, end, resolution)
    if res == "raw":
        qs = model.objects.filter(mn=mn, data_time__gte=start, data_time__lt=end)
        if codes:
            qs = qs.filter(code__in=list(codes))
        points = []
        for code, when, avg, rtd, lo, hi in qs.order_by("code", "data_time").values_list(
            "code", "data_time", "avg", "rtd", "min", "max"
        ):
            v = avg if cn == "2051" and avg is not None else rtd
            points.append(
                Point(
                    code,
                    when,
                    int(v is not None),
                    v,
                    lo if lo is not None else v,
                    hi if hi is not None else v,
                )
            )
        return Series(res, points)
    rq = MonitoringRollup.objects.filter(mn=mn, cn=cn, period=res, start__gte=start, start__lt=end)
    if codes:
        rq = rq.filter(code__in=list(codes))
    return Series(
        res,
        [
            Point(r.code, r.start, r.n, r.total, r.min_value, r.max_value)
            for r in rq.order_by("code", "start")
        ],
    )


__all__ = ["Period", "Point", "Series", "metering_series", "monitoring_series", "resolution_for"]
