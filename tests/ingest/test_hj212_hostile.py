"""HJ 212 receiver under hostile input (issue 13): authenticated stations, the DataTime window,
corrections as versions, per-address and overall connection limits, header timeouts,
rate-limited logging, the open-file limit — and 2 000 idle sockets that do not lock honest
stations out.

Real TCP on loopback (127.0.0.0/8: attackers and stations use different source addresses),
in-memory sink, the limits of ``hj212_receiver.yaml`` where the test is about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import resource
import socket
import time
from dataclasses import replace
from decimal import Decimal

import pytest

from dualcontrol.core.hj212 import build_packet, encode_cp, parse_packet
from dualcontrol.ingest.hj212_server import (
    Hj212Server,
    MemorySink,
    ServerConfig,
    raise_open_file_limit,
    receiver_policy,
    run_load,
    station_packet,
)
from dualcontrol.reference.hj212 import hj212_tables
from tests.ingest.test_hj212_server import QUICK, Station, run

NOW = dt.datetime(2026, 12, 5, 12, 0)  # the receiver's clock (station local time) in these tests
POLICY = receiver_policy()


class Registry:
    """StationCredentials of the tests: MN -> PW, counting refreshes."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = dict(passwords)
        self.loaded: dict[str, str] = {}
        self.refreshes = 0

    def password_of(self, mn: str) -> str | None:
        return self.loaded.get(mn)

    async def refresh(self) -> None:
        self.refreshes += 1
        self.loaded = dict(self.passwords)


def config(**over: object) -> ServerConfig:
    """The policy's limits with the test's quick timings."""
    values: dict[str, object] = {
        "batch_delay_s": 0.01,
        "sink_retry_delay_s": 0.01,
        "shutdown_timeout_s": 5,
        "close_linger_s": 0.05,
        "raise_open_files": False,
    }
    values.update(over)
    return POLICY.config(**values)


async def until(condition, seconds: float = 10.0) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def upload(mn: str, pw: str, cod: str, *, when: dt.datetime = NOW, qn: str = "1") -> bytes:
    cp = encode_cp(data_time=when, values={"w01018": {"Avg": cod, "Flag": "N"}})
    return build_packet(
        qn=f"20261205120000{int(qn):03d}", st="32", cn="2061", pw=pw, mn=mn, flag=5, cp=cp
    )


async def start(sink: MemorySink, registry: Registry | None, cfg: ServerConfig) -> Hj212Server:
    server = Hj212Server(
        sink, tables=hj212_tables(), config=cfg, credentials=registry, station_clock=lambda: NOW
    )
    await server.start("127.0.0.1", 0)
    return server


async def connect(server: Hj212Server, source: str = "127.0.0.1") -> Station:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(source, 0))
    return Station(reader, writer)


def test_policy_file_gives_every_limit_with_its_source():
    assert POLICY.qn_rtn == {"unknown_mn": 4, "wrong_pw": 3, "data_time_out_of_window": 2}
    assert POLICY.correction_window_s == 10 * 86_400  # formats.md §5.2: 修约/补遗 within 10 days
    assert POLICY.max_ahead_s == 3600
    cfg = POLICY.config()
    assert cfg.max_connections_per_address == POLICY.max_connections_per_address >= 1
    assert cfg.header_timeout_s and cfg.bad_log_interval_s and cfg.raise_open_files
    assert "S1" in POLICY.sources["correction_window_source"]


def test_forged_packet_refused_genuine_stored_and_correction_kept_as_version():
    """The attack of issue 13: a forged packet (wrong PW, registered outlet, COD 5.0) used to be
    stored and the genuine 250.0 of the same hour then thrown away as a duplicate."""

    async def main() -> None:
        sink = MemorySink()
        registry = Registry({"OUT0001": "a1b2c3"})
        server = await start(sink, registry, config())
        try:
            attacker = await connect(server, "127.0.0.9")
            await attacker.send(upload("OUT0001", "000000", "5.0"))
            [answer] = await attacker.answers(1)
            refusal = parse_packet(answer)
            assert (refusal.cn, refusal.st, refusal.params["QnRtn"]) == ("9011", "91", "3")
            station = await connect(server, "127.0.0.2")
            await station.send(upload("OUT0001", "a1b2c3", "250.0"))
            [ok] = await station.answers(1)
            assert parse_packet(ok).cn == "9014"
            key = ("OUT0001", "2061", NOW)
            assert sink.records[key].values["w01018"]["Avg"] == Decimal("250.0")
            # the same data again (another QN): a duplicate; other data: a correction
            await station.send(upload("OUT0001", "a1b2c3", "250.0", qn="2"))
            await station.send(upload("OUT0001", "a1b2c3", "260.0", qn="3"))
            assert [parse_packet(a).cn for a in await station.answers(2)] == ["9014", "9014"]
            assert sink.records[key].values["w01018"]["Avg"] == Decimal("260.0")
            assert [r.values["w01018"]["Avg"] for r in sink.versions[key]] == [Decimal("250.0")]
            assert server.stats.records_duplicate == 1 and server.stats.records_corrected == 1
            # an unknown MN
            await attacker.send(upload("NOBODY01", "a1b2c3", "1.0"))
            [answer] = await attacker.answers(1)
            assert parse_packet(answer).params["QnRtn"] == "4"
            assert server.stats.packets_refused == {"wrong_pw": 1, "unknown_mn": 1}
            assert server.stats.refused_by_source == {"127.0.0.9": {"wrong_pw": 1, "unknown_mn": 1}}
            for s in (attacker, station):
                await s.close()
        finally:
            await server.stop()

    run(main())


def test_correction_sent_while_the_original_is_being_written_is_written_after_it():
    async def main() -> None:
        gate = asyncio.Event()
        sink = MemorySink(gate=gate)
        server = await start(sink, Registry({"OUT0002": "pw2"}), config())
        try:
            station = await connect(server)
            await station.send(upload("OUT0002", "pw2", "250.0"))
            await asyncio.sleep(0.1)  # the first write waits at the gate
            await station.send(upload("OUT0002", "pw2", "251.5", qn="2"))
            await asyncio.sleep(0.1)
            gate.set()
            answers = await station.answers(2)
            assert [parse_packet(a).cn for a in answers] == ["9014", "9014"]
            key = ("OUT0002", "2061", NOW)
            assert sink.records[key].values["w01018"]["Avg"] == Decimal("251.5")
            assert [r.values["w01018"]["Avg"] for r in sink.versions[key]] == [Decimal("250.0")]
            await station.close()
        finally:
            await server.stop()

    run(main())


@pytest.mark.parametrize(
    ("when", "accepted"),
    [
        (NOW + dt.timedelta(minutes=59), True),
        (NOW + dt.timedelta(minutes=61), False),  # more than an hour ahead
        (NOW - dt.timedelta(days=9, hours=23), True),
        (NOW - dt.timedelta(days=10, minutes=1), False),  # older than the correction window
        (dt.datetime(2099, 1, 1), False),
    ],
)
def test_data_time_outside_the_window_is_refused(when, accepted):
    async def main() -> None:
        sink = MemorySink()
        server = await start(sink, Registry({"OUT0003": "pw3"}), config())
        try:
            station = await connect(server)
            await station.send(upload("OUT0003", "pw3", "10", when=when))
            [answer] = await station.answers(1)
            reply = parse_packet(answer)
            if accepted:
                assert reply.cn == "9014" and len(sink.records) == 1
            else:
                assert (reply.cn, reply.params["QnRtn"]) == ("9011", "2")
                assert not sink.records
                assert server.stats.packets_refused == {"data_time_out_of_window": 1}
            await station.close()
        finally:
            await server.stop()

    run(main())


def test_bad_packets_are_logged_once_per_reason_and_source_then_summed_up(caplog):
    async def main() -> None:
        clock = [0.0]
        server = Hj212Server(
            MemorySink(),
            config=replace(config(), bad_log_interval_s=60.0),
            credentials=Registry({"OUT0004": "pw4"}),
            station_clock=lambda: NOW,
            clock=lambda: clock[0],
        )
        await server.start("127.0.0.1", 0)
        try:
            station = await connect(server, "127.0.0.5")
            await station.send(b"##junk\r\n" * 500 + upload("OUT0004", "nope", "1") * 300)
            await station.answers(300)
            clock[0] = 61.0  # the interval is over: the summary lines come
            await station.send(b"##junk\r\n")
            await asyncio.sleep(0.2)
            await station.close()
        finally:
            await server.stop()
        return server

    with caplog.at_level(logging.WARNING, logger="dualcontrol.ingest.hj212"):
        server = asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "dualcontrol.ingest.hj212"]
    assert server.stats.packets_bad["too_short"] == 501
    assert server.stats.packets_refused["wrong_pw"] == 300
    assert sum("bad packet (too_short" in line for line in lines) == 2  # one per interval
    assert sum("packet refused (wrong_pw)" in line for line in lines) == 1
    assert "127.0.0.5: 499 more too_short" in "\n".join(lines)
    assert "127.0.0.5: 299 more wrong_pw" in "\n".join(lines)
    assert len(lines) <= 8  # not 801


def test_connections_limited_per_address_and_overall_and_timed_out_without_a_packet():
    async def main() -> None:
        cfg = config(max_connections_per_address=3, max_connections=5, header_timeout_s=0.5)
        sink = MemorySink()
        server = await start(sink, Registry({"OUT0005": "pw5"}), cfg)
        try:
            same = [await connect(server, "127.0.0.7") for _ in range(4)]
            await until(lambda: server.stats.connections_refused == 1)
            assert server.stats.connections_refused_by == {"too_many_from_address": 1}
            others = [await connect(server, f"127.0.1.{n}") for n in range(1, 4)]
            await until(lambda: server.stats.connections_refused == 2)
            assert server.stats.connections_refused_by["too_many_connections"] == 1
            assert server.stats.connections_open == 5
            # nobody sent a packet: all closed by the header timeout
            await asyncio.sleep(0.8)
            assert server.stats.connections_open == 0
            assert server.stats.connections_timed_out == 5
            # a station that sends half a packet and stops is closed as well
            slow = await connect(server, "127.0.0.8")
            packet = upload("OUT0005", "pw5", "1")
            await slow.send(packet)
            assert len(await slow.answers(1)) == 1
            await slow.send(packet[:20])
            assert await slow.nothing_within(2.0)  # closed (EOF), no answer
            assert server.stats.connections_timed_out == 6
            for s in [*same, *others, slow]:
                await s.close()
        finally:
            await server.stop()

    run(main())


def test_open_file_limit_is_raised_to_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 64:
        pytest.skip(f"hard RLIMIT_NOFILE {hard}: nothing to raise to")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        assert raise_open_file_limit() == (hard, hard)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_max_connections_shrinks_to_what_the_open_file_limit_allows(caplog):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no finite hard RLIMIT_NOFILE to test against")

    async def main() -> int:
        cfg = config(raise_open_files=True, max_connections=10 * hard, open_files_reserve=100)
        server = Hj212Server(MemorySink(), config=cfg)
        await server.start("127.0.0.1", 0)
        await server.stop()
        return server.max_connections

    try:
        with caplog.at_level(logging.WARNING, logger="dualcontrol.ingest.hj212"):
            assert asyncio.run(main()) == hard - 100
        assert "raise LimitNOFILE" in caplog.text
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


IDLE_SOCKETS = 2_000


def test_2000_idle_sockets_do_not_lock_honest_stations_out():
    """Issue 13: ~1 000 idle connections used to exhaust the open files and lock every station
    out.  2 000 idle sockets from 20 attacker addresses (100 each: over the per-address limit)
    stay connected or are refused; 20 honest stations from other addresses are all answered."""
    needed = 2 * IDLE_SOCKETS + 500  # both ends of every socket live in this process
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"hard RLIMIT_NOFILE {hard} < {needed} descriptors this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))

    async def main() -> None:
        cfg = config(header_timeout_s=30.0)  # the idle sockets stay for the whole test
        assert cfg.max_connections_per_address is not None
        stations = 20
        registry = Registry({f"HONEST{n:06d}": "h0n3st" for n in range(stations)})
        sink = MemorySink()
        server = await start(sink, registry, cfg)
        idle: list[socket.socket] = []
        try:
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            for n in range(IDLE_SOCKETS):
                s = socket.socket()
                s.setblocking(False)
                s.bind((f"127.0.2.{n % 20 + 1}", 0))
                await loop.sock_connect(s, ("127.0.0.1", server.port))
                idle.append(s)
            per_address = cfg.max_connections_per_address
            await until(lambda: server.stats.connections_total + server.stats.connections_refused
                        == IDLE_SOCKETS)  # fmt: skip
            assert server.stats.connections_open == 20 * min(per_address, 100)
            load = await run_load(
                "127.0.0.1",
                server.port,
                stations=stations,
                packets_per_station=5,
                window=5,
                cn="2061",
                mn_prefix="HONEST",
                pw="h0n3st",
                start=NOW - dt.timedelta(hours=2),
                local_addr=("127.0.0.3", 0),
                timeout_s=30,
            )
            assert load.errors == ()
            assert load.answers_received == stations * 5 == len(sink.records)
            refused = server.stats.connections_refused_by["too_many_from_address"]
            assert refused == IDLE_SOCKETS - 20 * min(per_address, 100)
            assert time.perf_counter() - started < 60
        finally:
            for s in idle:
                with contextlib.suppress(OSError):
                    s.close()
            await server.stop()

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_2000_idle_sockets_from_one_address_each_are_bounded_by_the_overall_limit():
    """The same with a per-address limit high enough to let them all in: the overall limit
    (here 1 500) refuses the rest and honest stations are still answered; without a packet the
    idle sockets are closed by the header timeout (8 s here)."""
    needed = 2 * IDLE_SOCKETS + 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"hard RLIMIT_NOFILE {hard} < {needed} descriptors this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))

    async def main() -> None:
        cfg = config(max_connections=1_500, max_connections_per_address=None, header_timeout_s=8)
        registry = Registry({"HONEST000000": "h0n3st"})
        sink = MemorySink()
        server = await start(sink, registry, cfg)
        idle: list[socket.socket] = []
        try:
            loop = asyncio.get_running_loop()
            began = time.monotonic()
            for _ in range(IDLE_SOCKETS):
                s = socket.socket()
                s.setblocking(False)
                await loop.sock_connect(s, ("127.0.0.1", server.port))
                idle.append(s)
            await until(lambda: server.stats.connections_total + server.stats.connections_refused
                        >= IDLE_SOCKETS)  # fmt: skip
            connecting_s = time.monotonic() - began
            stats = server.stats
            assert stats.connections_open <= 1_500
            refused = stats.connections_refused_by["too_many_connections"]
            assert refused == IDLE_SOCKETS - stats.connections_total
            if connecting_s < 8:  # none timed out while the others connected
                assert refused == 500
            # the header timeout frees the places; an honest station then gets in
            await until(lambda: server.stats.connections_open == 0, 20)
            load = await run_load(
                "127.0.0.1",
                server.port,
                stations=1,
                packets_per_station=3,
                cn="2061",
                mn_prefix="HONEST",
                pw="h0n3st",
                start=NOW - dt.timedelta(hours=1),
                timeout_s=20,
            )
            assert load.errors == () and load.answers_received == 3
        finally:
            for s in idle:
                with contextlib.suppress(OSError):
                    s.close()
            await server.stop()

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_station_packet_sends_the_given_password():
    assert b";PW=s3cret;" in station_packet("MN1", 0, pw="s3cret")
    assert QUICK.max_connections_per_address is None  # the engine's own default: off
