"""Issue 22: time series that live for years — partitions, retention as policy, roll-ups.

SQLite (the embedded default): expired rows are deleted in batches after the roll-ups are
computed.  PostgreSQL with pg_partman: the raw tables are pg_partman partition sets after
migrate, a record lands in its month's partition, the maintenance drops expired partitions and
keeps the roll-ups, and every row within the retention is still there (count in = count out).
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.db import connection

from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import main
from dualcontrol.metering import storage
from dualcontrol.monitoring.models import MinuteReading, RealtimeReading
from dualcontrol.monitoring.sink import DatabaseSink
from dualcontrol.reference import ReferenceDataError, load_yaml
from dualcontrol.timeseries import partitions
from dualcontrol.timeseries.models import MeteringRollup, MonitoringRollup, Period, RollupMark
from dualcontrol.timeseries.policy import POLICY_FILE, parse_policy, timeseries_policy
from dualcontrol.timeseries.services import maintain
from tests.monitoring.helpers import hour_record

pytestmark = pytest.mark.django_db

TZ = partitions.local_tz()
PG = connection.vendor == "postgresql"


def _policy(**tables: int):
    """The shipped policy with other raw_months (and a small SQLite batch)."""
    version, data = load_yaml(POLICY_FILE)
    data = copy.deepcopy(data)
    data["sqlite"]["delete_batch_rows"] = 7
    for table, months in tables.items():
        data["tables"][table]["raw_months"] = months
    return parse_policy(data, version)


def _now() -> dt.datetime:
    return dt.datetime.now(TZ).replace(microsecond=0)


def _minute_records(mn: str, start_local: dt.datetime, n: int, base: float = 10.0):
    """``n`` minute records (CN 2051) a minute apart from ``start_local`` (naive, local)."""
    return [
        hour_record(
            mn, start_local + dt.timedelta(minutes=k), {"w01018": (str(base + k), "N")}, "2051"
        )
        for k in range(n)
    ]


# ---- the policy ------------------------------------------------------------------------------


def test_the_shipped_policy_is_labelled_and_complete():
    policy = timeseries_policy()
    assert {t.table for t in policy.tables} == {
        "monitoring_minute",
        "monitoring_rtd",
        "metering_reading",
    }
    assert "platform rule" in policy.source
    for t in policy.tables:
        assert t.raw_months >= 1 and "platform rule" in t.source
        assert t.hour_months is None or t.hour_months > t.raw_months


def test_a_bad_policy_is_refused_with_every_problem():
    _, data = load_yaml(POLICY_FILE)
    data = copy.deepcopy(data)
    data["tables"]["monitoring_minute"]["raw_months"] = 0
    data["tables"]["metering_reading"]["hour_months"] = 1
    data["tables"]["nonsense"] = {"raw_months": 1, "source": "x"}
    del data["rollups"]["source"]
    with pytest.raises(ReferenceDataError) as exc:
        parse_policy(data)
    text = str(exc.value)
    for part in (
        "tables.monitoring_minute.raw_months",
        "tables.metering_reading.hour_months",
        "tables.nonsense: unknown table",
        "rollups.source",
    ):
        assert part in text


# ---- roll-ups (both engines) -----------------------------------------------------------------


def test_hourly_and_daily_rollups_of_minute_data():
    now = _now()
    day = (now - dt.timedelta(days=3)).date()
    start = dt.datetime.combine(day, dt.time(10, 0))  # station local time
    sink = DatabaseSink()
    sink.store(_minute_records("TSMN000000000000000001", start, 90))  # 10:00 … 11:29
    sink.store(_minute_records("TSMN000000000000000001", start.replace(hour=23), 30, 100.0))
    report = maintain(now=now, policy=_policy())
    minute = next(t for t in report.tables if t.table == "monitoring_minute")
    assert minute.hour_rows >= 3 and minute.day_rows >= 1
    hours = {
        r.start.astimezone(TZ).hour: r
        for r in MonitoringRollup.objects.filter(period=Period.HOUR, cn="2051")
    }
    assert (hours[10].n, hours[10].total) == (60, sum(10.0 + k for k in range(60)))
    assert (hours[10].min_value, hours[10].max_value) == (10.0, 69.0)
    assert (hours[11].n, hours[11].mean) == (30, sum(70.0 + k for k in range(30)) / 30)
    assert hours[23].n == 30
    days = MonitoringRollup.objects.filter(period=Period.DAY, cn="2051")
    assert len(days) == 1
    d = days[0]
    assert d.start == dt.datetime.combine(day, dt.time(), tzinfo=TZ)
    assert d.n == 120 and d.total == pytest.approx(sum(r.total for r in hours.values()))
    assert (d.min_value, d.max_value) == (10.0, 129.0)
    # a second run recomputes the late window: same figures, no duplicates
    maintain(now=now, policy=_policy())
    assert MonitoringRollup.objects.filter(period=Period.HOUR, cn="2051").count() == 3
    assert MonitoringRollup.objects.get(period=Period.DAY, cn="2051").n == 120
    assert RollupMark.objects.get(table="monitoring_minute").rolled_to <= now


def test_metering_rollups():
    now = _now()
    day = (now - dt.timedelta(days=2)).date()
    t0 = dt.datetime.combine(day, dt.time(0, 0), tzinfo=TZ)
    rows = [(1, t0 + dt.timedelta(minutes=15 * k), float(k), 4, None) for k in range(96)]
    storage.ensure_partitions(storage.months_of(r[1] for r in rows))
    storage.write(rows)
    maintain(now=now, policy=_policy(), tables=["metering_reading"])
    hours = MeteringRollup.objects.filter(item_id=1, period=Period.HOUR).order_by("start")
    assert hours.count() == 24 and hours[0].start == t0
    assert (hours[0].n, hours[0].total, hours[0].max_value) == (4, 0 + 1 + 2 + 3.0, 3.0)
    d = MeteringRollup.objects.get(item_id=1, period=Period.DAY)
    assert (d.start, d.n, d.total) == (t0, 96, float(sum(range(96))))


# ---- retention on SQLite: batch deletes --------------------------------------------------------


@pytest.mark.skipif(PG, reason="SQLite's retention path (PostgreSQL drops partitions)")
def test_sqlite_deletes_expired_rows_in_batches_and_keeps_rollups():
    now = _now()
    old = (now - dt.timedelta(days=250)).replace(tzinfo=None, hour=8, minute=0, second=0)
    recent = (now - dt.timedelta(days=20)).replace(tzinfo=None, hour=8, minute=0, second=0)
    sink = DatabaseSink()
    sink.store(_minute_records("TSMN000000000000000002", old, 30))
    sink.store(_minute_records("TSMN000000000000000002", recent, 25))
    assert MinuteReading.objects.count() == 55
    policy = _policy(monitoring_minute=6)

    dry = maintain(now=now, policy=policy, dry_run=True, tables=["monitoring_minute"])
    t = dry.tables[0]
    assert (t.mode, t.rows_deleted, t.rows_kept) == ("sqlite", 30, 25)
    assert MinuteReading.objects.count() == 55 and not MonitoringRollup.objects.exists()

    report = maintain(now=now, policy=policy, tables=["monitoring_minute"])
    t = report.tables[0]
    assert t.rows_deleted == 30 and t.rows_kept == 25
    # count in = count out within the retention
    assert MinuteReading.objects.count() == 25
    assert min(MinuteReading.objects.values_list("data_time", flat=True)) >= partitions.add_months(
        now, -6
    )
    # the expired minutes live on in their roll-ups
    old_hours = MonitoringRollup.objects.filter(
        period=Period.HOUR, start__lt=now - dt.timedelta(days=200)
    )
    assert sum(r.n for r in old_hours) == 30
    assert (
        MonitoringRollup.objects.filter(period=Period.DAY, start__lt=now - dt.timedelta(days=200))
        .get()
        .n
        == 30
    )
    entry = AuditEntry.objects.filter(action="timeseries.maintain").latest("id")
    assert entry.after["monitoring_minute"]["rows_deleted"] == 30


@pytest.mark.skipif(PG, reason="SQLite's retention path")
def test_sqlite_metering_and_realtime_retention():
    now = _now()
    old = now - dt.timedelta(days=800)
    rows = [(5, old + dt.timedelta(minutes=15 * k), 1.0, 4, None) for k in range(20)]
    rows += [(5, now - dt.timedelta(days=3, minutes=15 * k), 2.0, 4, None) for k in range(10)]
    storage.write(rows)
    sink = DatabaseSink()
    when = (now - dt.timedelta(days=120)).replace(tzinfo=None, second=0)
    sink.store([hour_record("TSMN000000000000000003", when, {"a01012": ("50", "N")}, "2011")])
    report = maintain(now=now, policy=_policy(metering_reading=25, monitoring_rtd=3))
    by = {t.table: t for t in report.tables}
    assert by["metering_reading"].rows_deleted == 20 and storage.count([5]) == 10
    assert by["monitoring_rtd"].rows_deleted == 1 and not RealtimeReading.objects.exists()
    assert sum(r.n for r in MeteringRollup.objects.filter(period=Period.DAY, item_id=5)) == 30


# ---- command line and job -----------------------------------------------------------------------


def test_cli_dry_run_changes_nothing_and_a_real_run_is_audited(capsys):
    now = _now()
    sink = DatabaseSink()
    sink.store(
        _minute_records(
            "TSMN000000000000000004", (now - dt.timedelta(days=2)).replace(tzinfo=None, second=0), 5
        )
    )
    assert main(["timeseries", "maintain", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "(dry run)" in out and "monitoring_minute" in out and "would" in out
    assert not MonitoringRollup.objects.exists()
    assert not AuditEntry.objects.filter(action="timeseries.maintain").exists()
    assert main(["timeseries", "maintain", "--json", "--table", "monitoring_minute"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["table"] for t in data["tables"]] == ["monitoring_minute"]
    assert data["tables"][0]["hour_rows"] >= 1
    entry = AuditEntry.objects.get(action="timeseries.maintain")
    assert entry.actor_name.startswith("cli")
    assert main(["timeseries", "maintain", "--table", "nonsense"]) != 0


def test_the_job_runs_the_policy():
    from dualcontrol.jobs import tasks

    result = tasks.timeseries_maintain(scheduled_for=_now().isoformat())
    assert set(result) == {"monitoring_minute", "monitoring_rtd", "metering_reading"}
    assert RollupMark.objects.count() == 3


# ---- PostgreSQL with pg_partman ------------------------------------------------------------------


pg = pytest.mark.skipif(not PG, reason="partitions are PostgreSQL's")


@pytest.fixture
def needs_partman(db):
    with connection.cursor() as cur:
        if partitions.partman_schema(cur) is None:
            pytest.skip("needs pg_partman on the PostgreSQL server (postgresql-15-partman)")


partman = pytest.mark.usefixtures("needs_partman")


def _where(table: str, **match) -> list[str]:
    cond = " AND ".join(f"{k} = %s" for k in match)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {cond}",
            list(match.values()),
        )
        return [r[0] for r in cur.fetchall()]


@pg
@partman
def test_partitions_exist_after_migrate():
    month = _now().date().replace(day=1)
    for table in ("monitoring_minute", "monitoring_rtd", "metering_reading"):
        assert partitions.mode(table) == "pg_partman"
        names = {p.name for p in partitions.list_partitions(table)}
        assert partitions.partman_name(table, month) in names
        assert f"{table}_default" in names
        current = next(
            p
            for p in partitions.list_partitions(table)
            if p.name == partitions.partman_name(table, month)
        )
        assert current.start == partitions.month_start(month)  # local midnight of the 1st
    assert partitions.mode("monitoring_hour") == "plain"


@pg
@partman
def test_a_record_lands_in_its_months_partition():
    now = _now()
    month = now.date().replace(day=1)
    first = dt.datetime.combine(month, dt.time(0, 30))  # local 00:30 on the 1st
    sink = DatabaseSink()
    sink.store(_minute_records("TSMN000000000000000005", first, 1))
    sink.store(_minute_records("TSMN000000000000000006", first - dt.timedelta(hours=1), 1))
    assert _where("monitoring_minute", mn="TSMN000000000000000005") == [
        partitions.partman_name("monitoring_minute", month)
    ]
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    assert _where("monitoring_minute", mn="TSMN000000000000000006") == [
        partitions.partman_name("monitoring_minute", previous)
    ]
    # the sink's ON CONFLICT path still works on the partitioned table: a re-send is a duplicate
    result = sink.store(_minute_records("TSMN000000000000000005", first, 1))
    assert (result.stored, result.duplicates) == (0, 1)


@pg
@partman
def test_maintenance_drops_expired_partitions_and_keeps_rollups():
    now = _now()
    old_local = (now - dt.timedelta(days=300)).replace(tzinfo=None, hour=9, minute=0, second=0)
    older_local = (now - dt.timedelta(days=420)).replace(tzinfo=None, hour=9, minute=0, second=0)
    recent_local = (now - dt.timedelta(days=40)).replace(tzinfo=None, hour=9, minute=0, second=0)
    sink = DatabaseSink()
    sink.store(_minute_records("TSMN000000000000000007", old_local, 30))
    sink.store(_minute_records("TSMN000000000000000007", recent_local, 40))
    old_month = old_local.date().replace(day=1)
    old_name = partitions.partman_name("monitoring_minute", old_month)
    assert old_name in {p.name for p in partitions.list_partitions("monitoring_minute")}
    # a row that reached the default partition (no partition of its month): moved, then expired
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO monitoring_minute_default (mn, data_time, code, avg, flag) "
            "VALUES ('TSMN000000000000000007', %s, 'w01018', 1.5, 'N')",
            [older_local.replace(tzinfo=TZ)],
        )
    policy = _policy(monitoring_minute=6)

    dry = maintain(now=now, policy=policy, dry_run=True, tables=["monitoring_minute"])
    assert old_name in [p.name for p in dry.tables[0].drop]
    assert MinuteReading.objects.count() == 71

    report = maintain(now=now, policy=policy, tables=["monitoring_minute"])
    t = report.tables[0]
    assert t.mode == "pg_partman" and t.moved_from_default == 1
    dropped = [p.name for p in t.drop]
    assert old_name in dropped
    assert (
        partitions.partman_name("monitoring_minute", older_local.date().replace(day=1)) in dropped
    )
    names = {p.name for p in partitions.list_partitions("monitoring_minute")}
    assert old_name not in names
    recent = partitions.partman_name("monitoring_minute", recent_local.date().replace(day=1))
    assert recent in names and recent in [p.name for p in t.keep]
    # count in = count out within the retention; the roll-ups of the dropped months remain
    assert MinuteReading.objects.count() == 40
    gone = MonitoringRollup.objects.filter(
        period=Period.HOUR, start__lt=now - dt.timedelta(days=200)
    )
    assert sum(r.n for r in gone) == 31
    assert (
        sum(
            r.n
            for r in MonitoringRollup.objects.filter(
                period=Period.DAY, start__lt=now - dt.timedelta(days=200)
            )
        )
        == 31
    )
    # premade months ahead
    ahead = partitions.partman_name(
        "monitoring_minute", partitions.add_months(now, policy.premake_months).date().replace(day=1)
    )
    assert ahead in names
    assert AuditEntry.objects.filter(action="timeseries.maintain").exists()


@pg
@partman
def test_metering_partitions_are_pg_partmans():
    month = dt.date(2031, 7, 1)
    created = storage.ensure_partitions([month])
    assert created == [storage.partition_name(month)] == ["metering_reading_p2031_07"]
    assert storage.ensure_partitions([month]) == []
    bounds = dict(storage.partitions())["metering_reading_p2031_07"]
    assert "2031-06-30 16:00:00+00" in bounds  # local midnight of 1 July in UTC


@pg
def test_hand_made_partitions_without_pg_partman(monkeypatch):
    """The fallback: a plain table becomes one with hand-made monthly partitions."""
    from django.db import connection as conn

    monkeypatch.setattr(partitions, "install_partman", lambda c: None)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE ts_probe (k int NOT NULL, t timestamptz NOT NULL, PRIMARY KEY (k, t))"
        )
        cur.execute(
            "INSERT INTO ts_probe VALUES (1, '2024-03-10 12:00+08'), (2, '2024-05-01 00:00+08')"
        )
    with conn.schema_editor() as editor:
        assert (
            partitions.convert_to_partitioned(
                editor, table="ts_probe", column="t", primary_key=("k", "t")
            )
            == "partitions"
        )
    assert partitions.mode("ts_probe") == "partitions"
    names = [p.name for p in partitions.list_partitions("ts_probe")]
    assert {"ts_probe_p202403", "ts_probe_p202405"} <= set(names)
    assert _where("ts_probe", k=2) == ["ts_probe_p202405"]
    now = dt.datetime(2025, 1, 15, tzinfo=TZ)
    assert partitions.drop_expired("ts_probe", months=9, now=now) == ["ts_probe_p202403"]
    with conn.cursor() as cur:
        cur.execute("SELECT k FROM ts_probe")
        assert [r[0] for r in cur.fetchall()] == [2]


# ---- reads over long spans ----------------------------------------------------------------------


def test_resolution_follows_the_policy():
    from dualcontrol.timeseries.queries import resolution_for

    now = _now()
    policy = _policy(metering_reading=25)
    week = dt.timedelta(days=policy.raw_up_to_days)
    recent = now - dt.timedelta(days=3)
    assert (
        resolution_for("metering_reading", recent, recent + week, now=now, policy=policy) == "raw"
    )
    old = partitions.add_months(now, -26)
    assert (
        resolution_for("metering_reading", old, old + dt.timedelta(days=1), now=now, policy=policy)
        == "hour"
    )
    long = dt.timedelta(days=policy.hour_up_to_days + 1)
    assert resolution_for("metering_reading", now - long, now, now=now, policy=policy) == "day"


def test_a_day_past_the_raw_retention_reads_the_hourly_rollups():
    """The metering load curve of a day whose raw readings are gone comes from the roll-ups."""
    from types import SimpleNamespace

    from dualcontrol.metering.queries import load_curve
    from dualcontrol.timeseries.queries import metering_series

    now = _now()
    day = partitions.add_months(now, -30).date()
    t0 = dt.datetime.combine(day, dt.time(), tzinfo=TZ)
    rows = [(9, t0 + dt.timedelta(minutes=15 * k), 1.0 + k % 4, 4, None) for k in range(96)]
    storage.ensure_partitions(storage.months_of(r[1] for r in rows))
    storage.write(rows)
    report = maintain(now=now, policy=_policy(metering_reading=25), tables=["metering_reading"])
    assert storage.count([9]) == 0  # the raw rows are gone …
    assert report.tables[0].rows_deleted == 96 or report.tables[0].drop
    item = SimpleNamespace(pk=9)
    [(_, curve)] = load_curve([item], day)
    assert len(curve) == 24 and curve[0] == ("00:00", 1.0 + 2.0 + 3.0 + 4.0)  # … the hours stay
    month = metering_series([9], t0, t0 + dt.timedelta(days=40))
    assert month.resolution == "hour" and sum(p.n for p in month.points) == 96
    year = metering_series([9], t0 - dt.timedelta(days=200), t0 + dt.timedelta(days=200))
    assert year.resolution == "day" and [(p.n, p.total) for p in year.points] == [(96, 240.0)]
