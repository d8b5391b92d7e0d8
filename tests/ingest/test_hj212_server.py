"""HJ 212 receiver engine: real TCP on 127.0.0.1 with an ephemeral port, in-memory sink.

Behaviour specified by issue 6: framing across TCP reads, answers where the Flag asks for one
(9014 数据应答, HJ 212-2017 交互命令), answers only after the durable write, one stored record per
(MN, CN, DataTime) however often it is resent, bad packets counted by reason without dropping
the connection, and a shutdown that stores and answers what was received.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from dualcontrol.core.hj212 import build_packet, frame, parse_packet
from dualcontrol.core.hj212_stream import Framer
from dualcontrol.ingest.hj212_server import (
    Hj212Server,
    MemorySink,
    ServerConfig,
    parse_listen,
    run_load,
    serve,
    station_packet,
)
from dualcontrol.reference.hj212 import hj212_tables

QUICK = ServerConfig(
    batch_delay_s=0.01, sink_retry_delay_s=0.01, shutdown_timeout_s=5, close_linger_s=0.05
)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


async def serving(
    body: Callable[[Hj212Server, MemorySink], Awaitable[None]],
    *,
    sink: MemorySink | None = None,
    config: ServerConfig = QUICK,
) -> Hj212Server:
    sink = sink or MemorySink()
    server = Hj212Server(sink, tables=hj212_tables(), config=config)
    await server.start("127.0.0.1", 0)
    try:
        await body(server, sink)
    finally:
        await server.stop()
    return server


class Station:
    """A test station: sends bytes, reads answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = Framer()
        self.frames: list[bytes] = []

    @classmethod
    async def connect(cls, server: Hj212Server) -> Station:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answers(self, count: int, timeout: float = 5.0) -> list[bytes]:
        async with asyncio.timeout(timeout):
            while len(self.frames) < count:
                try:
                    data = await self.reader.read(65_536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                self.frames += [f for f in self.framer.feed(data) if isinstance(f, bytes)]
        out, self.frames = self.frames[:count], self.frames[count:]
        return out

    async def nothing_within(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                data = await self.reader.read(65_536)
        except TimeoutError:
            return True
        return not data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


UPLOAD = station_packet("MN0001", 0)  # CN=2051, Flag=5 (answer wanted)


def test_upload_is_stored_and_answered_with_9014() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(UPLOAD)
        [answer] = await station.answers(1)
        sent = parse_packet(UPLOAD)
        assert answer == build_packet(
            qn=sent.qn, st="91", cn="9014", pw="123456", mn="MN0001", flag=4
        )
        record = sink.records[("MN0001", "2051", dt.datetime(2026, 1, 1))]
        assert record.values["w01018"] == {
            "Avg": Decimal("10.00"),
            "Min": Decimal("9.00"),
            "Max": Decimal("11.00"),
            "Cou": Decimal("0.1000"),
            "Flag": "N",
        }
        assert record.version == "HJ 212-2017"
        await station.close()

    server = asyncio.run(serving(body))
    assert server.stats.packets_ok == 1
    assert server.stats.records_stored == 1
    assert server.stats.replies_sent == 1


def test_packet_split_over_many_reads_is_framed() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        data = UPLOAD + station_packet("MN0001", 1)
        for i in range(0, len(data), 7):
            await station.send(data[i : i + 7])
            await asyncio.sleep(0)
        assert len(await station.answers(2)) == 2
        assert len(sink.records) == 2
        await station.close()

    run(serving(body))


def test_retransmission_is_answered_again_but_stored_once() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(UPLOAD)
        first = await station.answers(1)
        await station.send(UPLOAD)  # the station did not get (or trust) the answer
        await station.send(UPLOAD)
        assert await station.answers(2) == first * 2
        assert len(sink.records) == 1
        assert sum(sink.batches) == 1
        await station.close()

    server = asyncio.run(serving(body))
    assert server.stats.records_duplicate == 2


def test_bad_packets_are_counted_by_reason_and_the_connection_survives() -> None:
    good = station_packet("MN0002", 0)
    bad_crc = good[:-6] + b"0000\r\n"
    bad_time = frame("ST=32;CN=2051;PW=123456;MN=MN0002;Flag=5;CP=&&DataTime=20261301000000&&")

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(b"hello\r\n" + bad_crc + bad_time + good)
        assert len(await station.answers(1)) == 1  # only the good one is answered
        assert list(sink.records) == [("MN0002", "2051", dt.datetime(2026, 1, 1))]
        await station.close()

    server = asyncio.run(serving(body))
    assert server.stats.packets_bad == {"junk": 1, "crc_mismatch": 1, "bad_timestamp": 1}
    assert server.stats.packets_ok == 1


def test_no_answer_when_the_flag_does_not_ask_for_one() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(station_packet("MN0003", 0, flag=4))
        assert await station.nothing_within(0.3)
        assert len(sink.records) == 1
        await station.close()

    run(serving(body))


def test_answer_only_after_the_durable_write() -> None:
    gate = asyncio.Event()

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(UPLOAD)
        assert await station.nothing_within(0.3)  # the sink has not finished writing
        assert sink.writes_seen == 1 and not sink.records
        gate.set()
        assert len(await station.answers(1)) == 1
        await station.close()

    async def main() -> None:
        await serving(body, sink=MemorySink(gate=gate))

    run(main())


def test_failed_write_is_not_answered_and_the_resend_is_stored() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        sink.fail_next = 1
        station = await Station.connect(server)
        await station.send(UPLOAD)
        assert await station.nothing_within(0.3)
        assert not sink.records
        await station.send(UPLOAD)  # the station resends after its timeout
        assert len(await station.answers(1)) == 1
        assert len(sink.records) == 1
        await station.close()

    server = asyncio.run(serving(body, config=replace(QUICK, sink_retries=0)))
    assert server.stats.sink_errors == 1
    assert server.stats.records_failed == 1


def test_sink_failure_is_retried() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        sink.fail_next = 2
        station = await Station.connect(server)
        await station.send(UPLOAD)
        assert len(await station.answers(1)) == 1
        await station.close()

    server = asyncio.run(serving(body))
    assert server.stats.sink_errors == 2
    assert server.stats.records_stored == 1


def test_writes_are_batched_by_size() -> None:
    config = replace(QUICK, batch_size=10, batch_delay_s=0.05)

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(b"".join(station_packet("MN0004", i) for i in range(25)))
        assert len(await station.answers(25)) == 25
        await station.close()

    async def main() -> None:
        sink = MemorySink()
        await serving(body, sink=sink, config=config)
        assert sum(sink.batches) == 25
        assert max(sink.batches) <= 10
        assert len(sink.batches) <= 5

    run(main())


def test_split_message_is_reassembled_and_every_part_answered() -> None:
    head = {"qn": "20260101000000000", "st": "32", "cn": "2051", "pw": "123456", "mn": "MN0005"}
    part1 = build_packet(**head, flag=7, pnum=2, pno=1, cp="DataTime=20260101000000;w01018-Avg=1")
    part2 = build_packet(**head, flag=7, pnum=2, pno=2, cp="DataTime=20260101000000;w21003-Avg=2")

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(part2)
        assert await station.nothing_within(0.2)  # incomplete: nothing stored, nothing answered
        await station.send(part1)
        answers = await station.answers(2)
        assert [parse_packet(a).cn for a in answers] == ["9014", "9014"]
        record = sink.records[("MN0005", "2051", dt.datetime(2026, 1, 1))]
        assert record.values == {"w01018": {"Avg": Decimal("1")}, "w21003": {"Avg": Decimal("2")}}
        await station.send(part2)  # a late resend of a part is answered again
        assert len(await station.answers(1)) == 1
        await station.close()

    run(serving(body))


def test_incomplete_split_message_expires_and_is_counted() -> None:
    config = replace(QUICK, reassembly_timeout_s=0.0)
    head = {"qn": "20260101000000000", "st": "32", "cn": "2051", "pw": "123456", "mn": "MN0006"}

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(
            build_packet(**head, flag=7, pnum=3, pno=1, cp="DataTime=20260101000000")
        )
        await asyncio.sleep(0.05)
        await station.send(station_packet("MN0006", 5, flag=4))  # triggers the expiry check
        await asyncio.sleep(0.1)
        await station.close()

    server = asyncio.run(serving(body, config=config))
    assert server.stats.packets_bad == {"incomplete_message": 1}


def test_many_concurrent_stations() -> None:
    async def main() -> None:
        sink = MemorySink()
        server = Hj212Server(sink, tables=hj212_tables(), config=QUICK)
        await server.start("127.0.0.1", 0)
        try:
            result = await run_load(
                "127.0.0.1", server.port, stations=20, packets_per_station=15, window=4
            )
        finally:
            await server.stop()
        assert result.errors == ()
        assert result.answers_received == result.answers_expected == 300
        assert len(sink.records) == 300
        assert server.stats.connections_total == 20
        assert server.stats.connections_open == 0

    run(main())


def test_shutdown_stores_and_answers_what_was_received() -> None:
    async def main() -> None:
        sink = MemorySink(delay_s=0.05)
        config = replace(QUICK, batch_size=5, batch_delay_s=1.0)
        server = Hj212Server(sink, config=config)
        await server.start("127.0.0.1", 0)
        station = await Station.connect(server)
        await station.send(b"".join(station_packet("MN0007", i) for i in range(12)))
        await asyncio.sleep(0.1)  # received, not all written yet (batch delay 1 s)
        stopping = asyncio.create_task(server.stop())
        answers = await station.answers(12)
        await stopping
        assert len(answers) == 12
        assert len(sink.records) == 12
        assert await station.reader.read() == b""  # then the receiver closed the connection
        await station.close()

    run(main())


def test_connections_after_stop_are_refused() -> None:
    async def main() -> None:
        server = Hj212Server(MemorySink(), config=QUICK)
        await server.start("127.0.0.1", 0)
        port = server.port
        await server.stop()
        with pytest.raises(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()

    run(main())


def test_load_generator_is_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(run_load("192.0.2.1", 9000, stations=1, packets_per_station=1))


def test_station_packet_is_valid() -> None:
    packet = parse_packet(station_packet("MN9", 61, cn="2011", pollutants=6), hj212_tables())
    assert packet.data_time == dt.datetime(2026, 1, 1, 1, 1)
    assert packet.qn == "20260101000000061"
    assert len(packet.values) == 6 and packet.warnings == ()


def test_connection_closed_inside_a_packet_is_counted() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        await station.send(UPLOAD[:50])
        await station.close()
        await asyncio.sleep(0.1)

    server = asyncio.run(serving(body))
    assert server.stats.packets_bad == {"truncated": 1}


def test_idle_connection_is_closed() -> None:
    config = replace(QUICK, idle_timeout_s=0.1)

    async def body(server: Hj212Server, sink: MemorySink) -> None:
        station = await Station.connect(server)
        async with asyncio.timeout(5):
            assert await station.reader.read() == b""
        await station.close()

    run(serving(body, config=config))


def test_stop_while_stations_keep_sending_loses_no_answered_packet() -> None:
    """Every answered packet is stored, whatever the station was doing when the receiver stopped."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        problems: list[object] = []
        loop.set_exception_handler(lambda _loop, context: problems.append(context))
        sink = MemorySink(delay_s=0.01)
        config = replace(QUICK, batch_size=8, batch_delay_s=0.05, close_linger_s=0.2)
        server = Hj212Server(sink, config=config)
        await server.start("127.0.0.1", 0)
        station = await Station.connect(server)
        sent: dict[str, bytes] = {}

        async def keep_sending() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                for i in range(10_000):
                    raw = station_packet("MN0008", i)
                    sent[parse_packet(raw).qn or ""] = raw
                    await station.send(raw)
                    await asyncio.sleep(0.001)

        sender = asyncio.create_task(keep_sending())
        receiver = asyncio.create_task(station.answers(10_000, timeout=10))
        await asyncio.sleep(0.2)
        await server.stop()
        answered = [parse_packet(a).qn for a in await receiver]
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        await station.close()
        stored_qns = {record.qn for record in sink.records.values()}
        assert answered, "some packets were answered before the stop"
        assert set(answered) <= stored_qns
        assert problems == []

    run(main())


def test_connections_beyond_the_limit_are_closed() -> None:
    async def body(server: Hj212Server, sink: MemorySink) -> None:
        first = await Station.connect(server)
        await first.send(UPLOAD)
        assert len(await first.answers(1)) == 1
        second = await Station.connect(server)
        async with asyncio.timeout(5):
            assert await second.reader.read() == b""
        await first.close()
        await second.close()

    server = asyncio.run(serving(body, config=replace(QUICK, max_connections=1)))
    assert server.stats.connections_refused == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:7000", ("127.0.0.1", 7000)),
        (":7000", ("0.0.0.0", 7000)),
        ("[::1]:7000", ("::1", 7000)),
        ("station-gw.local:0", ("station-gw.local", 0)),
    ],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["7000", "host:", "host:http", "::1:7000", "h:70000"])
def test_parse_listen_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(value)


def test_serve_until_stopped() -> None:
    async def main() -> None:
        sink = MemorySink()
        server = Hj212Server(sink, config=QUICK)
        stop = asyncio.Event()
        serving_task = asyncio.create_task(serve(server, "127.0.0.1", 0, stop=stop))
        while not server.addresses:
            await asyncio.sleep(0.01)
        station = await Station.connect(server)
        await station.send(UPLOAD)
        assert len(await station.answers(1)) == 1
        stop.set()
        await serving_task
        await station.close()
        assert len(sink.records) == 1

    run(main())


class ConcurrentSink(MemorySink):
    """A sink that takes two batches at once and records how many were being written."""

    max_concurrent_writes = 2

    def __init__(self, *, gate: asyncio.Event) -> None:
        super().__init__(gate=gate)
        self.active = 0
        self.most_active = 0
        self.keys_in_flight: set[tuple[str, str, dt.datetime]] = set()
        self.overlaps = 0

    async def write(self, records):  # type: ignore[no-untyped-def]
        keys = {r.key for r in records}
        self.overlaps += len(keys & self.keys_in_flight)
        self.keys_in_flight |= keys
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await super().write(records)
        finally:
            self.active -= 1
            self.keys_in_flight -= keys


def test_sink_concurrency_writes_batches_at_once_never_the_same_key_twice() -> None:
    config = replace(QUICK, batch_size=5, batch_delay_s=0.01)

    async def main() -> None:
        gate = asyncio.Event()
        sink = ConcurrentSink(gate=gate)

        async def body(server: Hj212Server, _: MemorySink) -> None:
            station = await Station.connect(server)
            packets = [station_packet("MN0100", i) for i in range(20)]
            await station.send(b"".join(packets) + b"".join(packets[:5]))  # 5 resent at once
            while sink.writes_seen < 2:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            assert sink.active == 2  # two batches in the sink, the rest waits for a writer
            assert sink.writes_seen == 2
            gate.set()
            assert len(await station.answers(25)) == 25
            await station.close()

        await serving(body, sink=sink, config=config)
        assert sink.most_active == 2 and sink.overlaps == 0
        assert len(sink.records) == 20 and max(sink.batches) <= 5

    run(main())


def test_one_read_of_many_packets_is_one_submission_and_one_write_of_answers() -> None:
    async def main() -> None:
        sink = MemorySink()

        async def body(server: Hj212Server, _: MemorySink) -> None:
            writes: list[int] = []
            station = await Station.connect(server)
            await station.send(b"".join(station_packet("MN0101", i) for i in range(30)))
            while len(sink.records) < 30:
                await asyncio.sleep(0.01)
            conn = next(iter(server._connections.values()))
            original = conn.writer.write
            conn.writer.write = lambda data: (writes.append(len(data)), original(data))  # type: ignore[method-assign]
            await station.send(b"".join(station_packet("MN0101", i) for i in range(30, 60)))
            assert len(await station.answers(60)) == 60
            assert 1 <= len(writes) <= 3  # answers go out together, not one send per packet
            await station.close()

        server = await serving(body, sink=sink)
        assert server.stats.replies_sent == 60 and len(sink.records) == 60

    run(main())


def test_receivers_share_a_port_with_reuse_port() -> None:
    async def main() -> None:
        sinks = [MemorySink(), MemorySink()]
        servers = [Hj212Server(s, tables=hj212_tables(), config=QUICK) for s in sinks]
        await servers[0].start("127.0.0.1", 0, reuse_port=True)
        port = servers[0].port
        await servers[1].start("127.0.0.1", port, reuse_port=True)
        try:
            result = await run_load(
                "127.0.0.1", port, stations=40, packets_per_station=5, window=4, mn_prefix="RP"
            )
        finally:
            for server in servers:
                await server.stop()
        assert result.errors == () and result.answers_received == 200
        assert sum(len(s.records) for s in sinks) == 200
        assert all(s.records for s in sinks)  # the kernel gave both of them stations

    run(main())
