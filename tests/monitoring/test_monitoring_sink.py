"""The database sink: batched, durable, idempotent on (MN, CN, DataTime), never failing a batch on
content; and end to end behind the HJ 212 receiver (issue 6: count sent = count stored).

Runs on SQLite and on PostgreSQL (COPY path) — the same assertions on both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection

from dualcontrol.core.hj212 import parse_packet
from dualcontrol.core.hj212_stream import DataRecord, records_of
from dualcontrol.ingest.hj212_server import Hj212Server, ServerConfig, run_load, station_packet
from dualcontrol.monitoring.models import (
    HourReading,
    MinuteReading,
    OtherReading,
    RealtimeReading,
    Receipt,
    ReceiptVersion,
    Station,
)
from dualcontrol.monitoring.sink import DatabaseSink
from dualcontrol.reference.hj212 import hj212_tables
from tests.monitoring.helpers import make_outlet

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 1, 0, tzinfo=UTC)  # 08:00 Beijing time


def rec(
    mn: str = "MN0001",
    cn: str = "2061",
    when: dt.datetime = dt.datetime(2026, 3, 1, 8),
    values: dict | None = None,
    **kw,
) -> DataRecord:
    return DataRecord(
        mn=mn,
        st="32",
        cn=cn,
        data_time=when,
        values=values
        if values is not None
        else {
            "w01018": {"Avg": Decimal("40.1"), "Min": Decimal("38"), "Flag": "N"},
            "w21003": {"Avg": Decimal("2.31"), "Flag": "M"},
        },
        source_codes=kw.get("source_codes", {}),
        qn=kw.get("qn", "20260301080000000"),
        flag=kw.get("flag", 5),
        version=kw.get("version", "HJ 212-2017"),
    )


@pytest.mark.django_db
def test_store_writes_receipts_readings_and_station():
    sink = DatabaseSink()
    result = sink.store([rec(), rec(when=dt.datetime(2026, 3, 1, 9)), rec(cn="2051")])
    assert (result.records, result.stored, result.duplicates, result.refused) == (3, 3, 0, 0)
    assert Receipt.objects.count() == 3
    assert HourReading.objects.count() == 4 and MinuteReading.objects.count() == 2
    row = HourReading.objects.get(mn="MN0001", code="w01018", data_time=T0)
    # DataTime is Beijing time: 08:00 local = 00:00 UTC
    assert row.data_time == dt.datetime(2026, 3, 1, 0, tzinfo=UTC)
    assert (row.avg, row.min, row.max, row.flag, row.extra) == (40.1, 38.0, None, "N", None)
    station = Station.objects.get(mn="MN0001")
    assert station.records == 3
    assert station.last_data_time == dt.datetime(2026, 3, 1, 1, tzinfo=UTC)
    receipt = Receipt.objects.get(mn="MN0001", cn="2061", data_time=row.data_time)
    assert (receipt.st, receipt.flag, receipt.version, receipt.codes) == ("32", 5, "HJ 212-2017", 2)


@pytest.mark.django_db
def test_store_is_idempotent_on_the_record_key():
    sink = DatabaseSink()
    sink.store([rec()])
    # a retransmission (same values, another QN) is not stored again; new keys in the batch are
    again = sink.store([rec(qn="20260301090000000"), rec(when=dt.datetime(2026, 3, 1, 10))])
    assert (again.stored, again.duplicates, again.corrected) == (1, 1, 0)
    assert Receipt.objects.count() == 2
    assert HourReading.objects.get(code="w01018", data_time=T0).avg == 40.1
    assert Station.objects.get(mn="MN0001").records == 2
    assert sink.stats.stored == 2 and sink.stats.duplicates == 1
    assert not ReceiptVersion.objects.exists()
    # the station's newest data time never goes back
    sink.store([rec(when=dt.datetime(2026, 2, 1))])
    assert Station.objects.get().last_data_time == dt.datetime(2026, 3, 1, 2, tzinfo=UTC)


@pytest.mark.django_db
def test_other_values_for_a_stored_key_are_a_correction_kept_as_a_version():
    sink = DatabaseSink()
    sink.store([rec(), rec(cn="2021", values={"w01018": {"RS": Decimal("1")}})])
    again = sink.store(
        [
            rec(values={"w01018": {"Avg": Decimal("99"), "Flag": "N"}}, qn="20260301083000000"),
            rec(cn="2021", values={"w01018": {"RS": Decimal("0")}}),
            rec(when=dt.datetime(2026, 3, 1, 10)),
        ]
    )
    assert (again.stored, again.duplicates, again.corrected) == (1, 0, 2)
    assert HourReading.objects.get(code="w01018", data_time=T0).avg == 99.0
    assert not HourReading.objects.filter(code="w21003", data_time=T0).exists()
    assert OtherReading.objects.get(cn="2021").extra == {"RS": "0"} or (
        OtherReading.objects.get(cn="2021").extra is None
    )
    receipt = Receipt.objects.get(mn="MN0001", cn="2061", data_time=T0)
    assert (receipt.revision, receipt.qn, receipt.codes) == (2, "20260301083000000", 1)
    old = ReceiptVersion.objects.get(cn="2061")
    assert old.revision == 1 and old.values == {
        "w01018": {"avg": 40.1, "min": 38.0, "flag": "N"},
        "w21003": {"avg": 2.31, "flag": "M"},
    }
    assert ReceiptVersion.objects.count() == 2
    assert Station.objects.get(mn="MN0001").records == 3  # corrections are not new records
    # the correction sent again is a duplicate; a second correction is revision 3
    third = sink.store([rec(values={"w01018": {"Avg": Decimal("99"), "Flag": "N"}})])
    assert (third.duplicates, third.corrected) == (1, 0)
    sink.store([rec(values={"w01018": {"Avg": Decimal("98.5"), "Flag": "N"}})])
    assert Receipt.objects.get(mn="MN0001", cn="2061", data_time=T0).revision == 3
    assert list(
        ReceiptVersion.objects.filter(cn="2061")
        .order_by("revision")
        .values_list("revision", flat=True)
    ) == [1, 2]


@pytest.mark.django_db
def test_the_same_values_under_another_fingerprint_are_a_duplicate_not_a_version():
    """A station resending its CP fields in another order: another digest, the same values."""
    sink = DatabaseSink()
    first = replace(rec(), content="w01018-Avg=40.1,w01018-Min=38;w21003-Avg=2.31")
    again = replace(rec(), content="w21003-Avg=2.31;w01018-Min=38,w01018-Avg=40.1")
    assert first.digest != again.digest
    sink.store([first])
    result = sink.store([again])
    assert (result.stored, result.duplicates, result.corrected) == (0, 1, 0)
    assert not ReceiptVersion.objects.exists()


@pytest.mark.django_db
def test_readings_already_there_without_a_receipt_do_not_fail_the_batch():
    # e.g. loaded by another tool: the direct COPY would collide; the batch still goes in
    HourReading.objects.create(mn="MN0001", data_time=T0, code="w01018", avg=1.0, flag="N")
    result = DatabaseSink().store([rec(), rec(when=dt.datetime(2026, 3, 1, 9))])
    assert result.stored == 2
    assert HourReading.objects.get(data_time=T0, code="w01018").avg == 1.0  # kept
    assert HourReading.objects.count() == 4


@pytest.mark.django_db
def test_other_fields_other_commands_and_odd_text():
    sink = DatabaseSink()
    values = {
        "w01018": {
            "Avg": Decimal("1E+400"),  # no double holds it: kept as text
            "Flag": "TOOLONG",
            "SampleTime": "tab\there\\back\nline",
            "EFlag": "A1",
        },
        "a" * 40: {"Rtd": Decimal("1")},  # a code the table cannot key: skipped, record kept
        "w00000": {"Rtd": Decimal("-0.5"), "Flag": "N"},
    }
    sink.store(
        [
            rec(cn="2011", values=values, source_codes={"w01018": "011"}),
            rec(cn="2021", values={"a21026": {"RS": Decimal("1")}}),
        ]
    )
    r = RealtimeReading.objects.get(code="w01018")
    assert r.avg is None and r.flag == ""
    assert r.extra == {
        "Avg": "1E+400",
        "Flag": "TOOLONG",
        "SampleTime": "tab\there\\back\nline",
        "EFlag": "A1",
        "source_code": "011",
    }
    assert RealtimeReading.objects.get(code="w00000").rtd == -0.5
    assert RealtimeReading.objects.count() == 2
    other = OtherReading.objects.get()
    assert (other.cn, other.code, other.extra) == ("2021", "a21026", {"RS": "1"})
    assert Receipt.objects.get(cn="2011").codes == 2


@pytest.mark.django_db
def test_content_the_tables_cannot_hold_is_refused_per_record(caplog):
    sink = DatabaseSink()
    result = sink.store(
        [
            rec(mn="M" * 30),
            rec(when=dt.datetime(1, 1, 1)),
            rec(when=dt.datetime(9999, 12, 31, 23)),
            rec(mn="NUL\x00MN"),
            rec(cn="20611"),
            rec(qn="1\x002", version="v\x00", flag=None),
        ]
    )
    assert (result.records, result.refused, result.stored) == (6, 5, 1)
    assert Receipt.objects.get().qn == "1\ufffd2"
    assert Receipt.objects.count() == 1
    assert "refused" in caplog.text


@pytest.mark.django_db
def test_unregistered_mns_are_stored_and_counted(world, caplog):
    make_outlet(world.unit, mn="REG0001")
    sink = DatabaseSink()
    sink.store([rec(mn="REG0001"), rec(mn="UNKNOWN1"), rec(mn="UNKNOWN1", cn="2051")])
    assert Receipt.objects.filter(mn="UNKNOWN1").count() == 2
    assert sink.stats.unregistered == 2 and sink.stats.unregistered_mns == {"UNKNOWN1"}
    assert "UNKNOWN1" in caplog.text


# --------------------------------------------------------------------------------------------
# Behind the receiver (a separate connection in the sink's thread: transactional tests)
# --------------------------------------------------------------------------------------------

QUICK = ServerConfig(
    batch_delay_s=0.01,
    batch_size=200,
    sink_retry_delay_s=0.01,
    shutdown_timeout_s=10,
    close_linger_s=0.05,
)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.django_db(transaction=True)
def test_receiver_with_database_sink_stores_every_packet_once():
    async def scenario():
        sink = DatabaseSink()
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        try:
            load = await run_load(
                "127.0.0.1", server.port, stations=5, packets_per_station=40, window=8
            )
            # a station resends its first packets (no answer seen, say) and sends junk
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            resend = b"".join(station_packet("LOAD000000", i) for i in range(5))
            writer.write(b"garbage\r\n" + resend + b"##0010QN=1;ST=32\r\n")
            await writer.drain()
            got = b""
            while got.count(b"CN=9014") < 5:
                got += await asyncio.wait_for(reader.read(65536), 10)
            writer.close()
        finally:
            await server.stop()
            await sink.aclose()
        return load, server.stats, sink.stats

    load, stats, sink_stats = run(scenario())
    assert not load.errors and load.answers_received == load.packets_sent == 200
    assert Receipt.objects.count() == 200  # count sent = count stored
    assert MinuteReading.objects.count() == 200 * 4
    assert Station.objects.count() == 5
    assert sum(Station.objects.values_list("records", flat=True)) == 200
    assert sum(stats.packets_bad.values()) >= 2
    assert sink_stats.stored == 200 and sink_stats.refused == 0


@pytest.mark.django_db(transaction=True)
def test_a_restarted_receiver_does_not_store_a_retransmission_twice():
    packets = [station_packet("RESTART001", i) for i in range(30)]

    async def once():
        sink = DatabaseSink()
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"".join(packets))
            await writer.drain()
            got = b""
            while got.count(b"CN=9014") < 30:
                got += await asyncio.wait_for(reader.read(65536), 10)
            writer.close()
        finally:
            await server.stop()
            await sink.aclose()
        return sink.stats

    first = run(once())
    second = run(once())  # a new receiver remembers nothing: the database dedupes
    assert (first.stored, first.duplicates) == (30, 0)
    assert (second.stored, second.duplicates) == (0, 30)
    assert Receipt.objects.filter(mn="RESTART001").count() == 30


@pytest.mark.django_db(transaction=True)
def test_a_failing_write_is_not_acknowledged_and_the_sink_recovers(monkeypatch):
    async def scenario():
        sink = DatabaseSink()
        calls = {"n": 0}
        original = sink.store

        def flaky(records):
            calls["n"] += 1
            if calls["n"] == 1:
                with connection.cursor() as cur:  # a real database error inside the batch
                    cur.execute("SELECT * FROM no_such_table")
            return original(records)

        monkeypatch.setattr(sink, "store", flaky)
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(station_packet("FLAKY00001", 0))
            await writer.drain()
            got = await asyncio.wait_for(reader.read(65536), 10)
            writer.close()
        finally:
            await server.stop()
            await sink.aclose()
        return got, server.stats

    got, stats = run(scenario())
    assert b"CN=9014" in got  # the retry stored it, then it was answered
    assert stats.sink_errors == 1 and stats.records_stored == 1
    assert Receipt.objects.filter(mn="FLAKY00001").count() == 1


def test_copy_text_escaping():
    from dualcontrol.monitoring.sink import _escape

    assert _escape("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"


# --------------------------------------------------------------------------------------------
# Whatever a record holds, the sink stores or refuses it record by record — never fails
# --------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

texts = st.text(min_size=1, max_size=30)
numbers = st.decimals(allow_nan=True, allow_infinity=True) | st.builds(
    lambda m, e: Decimal(m).scaleb(e),
    st.integers(-(10**20), 10**20),
    st.integers(-500, 500),
)
entries = st.dictionaries(
    st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsAvg", "Flag", "EFlag"]) | texts,
    numbers | texts,
    max_size=6,
)
records = st.builds(
    DataRecord,
    mn=texts,
    st=st.text(max_size=3),
    cn=st.sampled_from(["2011", "2051", "2061", "2031", "2021", "9999"]) | st.text(max_size=6),
    data_time=st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    values=st.dictionaries(texts, entries, max_size=4),
    source_codes=st.dictionaries(texts, texts, max_size=2),
    qn=st.none() | st.text(max_size=25),
    flag=st.none() | st.integers(0, 255),
    version=st.none() | texts,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(records, max_size=8))
def test_any_record_content_is_stored_or_refused_never_failing(batch):
    sink = DatabaseSink()
    first = sink.store(batch)
    keys = {r.key for r in batch}
    assert first.stored + first.duplicates + first.corrected + first.refused == len(batch)
    assert first.stored <= len(keys)
    again = sink.store(batch)  # nothing new the second time (same key, other values: versions)
    assert again.stored == 0
    assert again.duplicates + again.corrected + again.refused == len(batch)
    if len(keys) == len(batch):  # no key twice in the batch: the same batch is all duplicates
        assert again.corrected == 0


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_on_two_connections():
    packets = [station_packet(f"CONC{i % 3:06d}", i) for i in range(60)]
    records = [r for p in packets for r in records_of([parse_packet(p, hj212_tables())])]

    async def scenario():
        sink = DatabaseSink(workers=2)
        try:
            await asyncio.gather(sink.write(records[::2]), sink.write(records[1::2]))
        finally:
            await sink.aclose()
        return sink

    sink = run(scenario())
    expected = 2 if connection.vendor == "postgresql" else 1  # SQLite has one writer
    assert sink.max_concurrent_writes == expected and sink.stats.batches == 2
    assert sink.stats.stored == 60 and Receipt.objects.filter(mn__startswith="CONC").count() == 60
    assert (
        sum(Station.objects.filter(mn__startswith="CONC").values_list("records", flat=True)) == 60
    )
    expected = 2 if connection.vendor == "postgresql" else 1
    assert DatabaseSink().max_concurrent_writes == expected  # SQLite has one writer
