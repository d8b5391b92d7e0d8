"""HJ 212 codec: parse + validate throughput on one core, then a fuzz run.

Goals: the pure-Python codec >= 50 000 packets/s for typical 2011 (real-time) and 2051 (minute)
packets (issue 6); the compiled codec (issue 18, ``_hj212_fast``, built when a C compiler is
there) >= 450 000 packets/s for the 2011 set — 3x the fastest open implementation measured on
one core of this machine (flash520/hj212, Go, about 147 000 packets/s).  Both codecs run in the
same process, so their figures compare.  The compiled codec keeps the Decimals of plain numbers
it has seen (a bounded cache); the "all values distinct" set shows it without cache hits.

The fuzz run feeds mutated and random bytes to the parser in use for HJ212_FUZZ_SECONDS (default
10) and reports the outcomes by error code; anything other than a packet or the codec's own error
is a crash and is printed.  With the compiled codec every input is also parsed by the Python
codec, and any difference (packet, error class, code, message or field) is a mismatch.

    .venv/bin/python -m benchmarks hj212_parse
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal

from dualcontrol.core import hj212
from dualcontrol.core.hj212 import (
    Hj212Error,
    build_packet,
    crc16,
    encode_cp,
    frame,
    parse_packet,
    parse_packet_python,
)
from dualcontrol.ingest.hj212_server import LOAD_POLLUTANTS, station_packet
from dualcontrol.reference.hj212 import hj212_tables

PYTHON_GOAL = 50_000  # packets/s, issue 6
COMPILED_GOAL = 450_000  # packets/s, issue 18: 3x the Go figure below
GO_REFERENCE = 147_000  # packets/s, flash520/hj212 (Go) on one core of this machine


def rate(func: Callable[[bytes], object], packets: Sequence[bytes], seconds: float = 0.5) -> float:
    """Best of 5 runs of ``func`` over ``packets`` (each run at least ``seconds``), per second."""
    best = 0.0
    for _ in range(5):
        count = 0
        start = time.process_time()
        while True:
            for raw in packets:
                func(raw)
            count += len(packets)
            elapsed = time.process_time() - start
            if elapsed >= seconds:
                break
        best = max(best, count / elapsed)
    return best


def distinct_values(count: int) -> list[bytes]:
    """2011 packets of 6 pollutants whose numbers all differ (no cache hit for the compiled codec
    even when the set is run through again: far more numbers than cache slots)."""
    rng = random.Random(18)
    start = dt.datetime(2026, 1, 1)
    out = []
    for i in range(count):
        when = start + dt.timedelta(minutes=i)
        values = {
            code: {"Rtd": f"{rng.uniform(0, 5000):.3f}", "Flag": "N"}
            for code in LOAD_POLLUTANTS[:6]
        }
        cp = encode_cp(data_time=when, values=values)
        qn = f"{when:%Y%m%d%H%M%S}{i % 1000:03d}"
        out.append(build_packet(qn=qn, st="32", cn="2011", pw="123456", mn=f"MN{i % 50:04d}",
                                flag=5, cp=cp))  # fmt: skip
    return out


def throughput() -> None:
    tables = hj212_tables()
    compiled = hj212.CODEC == "compiled"
    sets = {
        "2011 real-time, 6 pollutants (Rtd, Flag)": [
            station_packet(f"MN{i % 50:04d}", i, cn="2011", pollutants=6) for i in range(1000)
        ],
        "2051 minute, 4 pollutants (Avg, Min, Max, Cou, Flag)": [
            station_packet(f"MN{i % 50:04d}", i, cn="2051", pollutants=4) for i in range(1000)
        ],
    }
    calibration = rate(lambda _: Decimal("40.12"), [b""] * 1000)
    print(f"calibration: Decimal('40.12') {calibration / 1e6:.2f} M/s on this machine")
    print(f"codec in use: {hj212.CODEC}")
    first = True
    for name, packets in sets.items():
        size = sum(map(len, packets)) / len(packets)
        parsed = rate(lambda raw: parse_packet_python(raw, tables), packets)
        bare = rate(parse_packet_python, packets)
        crc = rate(lambda raw: crc16(raw[6:-6]), packets)
        verdict = "meets" if parsed >= PYTHON_GOAL else "below"
        print(f"{name}: {size:.0f} bytes/packet")
        print(f"  Python   parse+validate with tables    {parsed:>9,.0f} packets/s  "
              f"({verdict} the {PYTHON_GOAL:,} goal)")  # fmt: skip
        print(f"  Python   parse+validate without tables {bare:>9,.0f} packets/s")
        if compiled:
            fast = rate(lambda raw: parse_packet(raw, tables), packets)
            fast_bare = rate(parse_packet, packets)
            print(f"  compiled parse+validate with tables    {fast:>9,.0f} packets/s  "
                  f"({fast / parsed:.1f}x Python)")  # fmt: skip
            print(f"  compiled parse+validate without tables {fast_bare:>9,.0f} packets/s")
            if first:
                verdict = "meets" if fast >= COMPILED_GOAL else "below"
                print(f"  goal >= {COMPILED_GOAL:,} packets/s (3x flash520/hj212 Go, "
                      f"~{GO_REFERENCE:,}/s on one core): {verdict}")  # fmt: skip
        elif first:
            print("  compiled codec not built (no C compiler at install): no compiled figure")
        print(f"  Python   CRC16 alone                   {crc:>9,.0f} packets/s")
        first = False
    if compiled:
        packets = distinct_values(20_000)
        size = sum(map(len, packets)) / len(packets)
        parsed = rate(lambda raw: parse_packet_python(raw, tables), packets)
        fast = rate(lambda raw: parse_packet(raw, tables), packets)
        print(f"2011 real-time, 6 pollutants, all values distinct: {size:.0f} bytes/packet")
        print(f"  Python   parse+validate with tables    {parsed:>9,.0f} packets/s")
        print(f"  compiled parse+validate with tables    {fast:>9,.0f} packets/s  "
              f"({fast / parsed:.1f}x Python)")  # fmt: skip


def mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        i = rng.randrange(len(data)) if data else 0
        if choice < 0.5 and data:
            data[i] = rng.choice(b";,=&-#\r\n0aZ.\xff\x00 e+")
        elif choice < 0.7 and data:
            del data[i : i + rng.randint(1, 8)]
        elif choice < 0.9:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        else:
            j = rng.randrange(len(data)) if data else 0
            data[i:i] = data[j : j + rng.randint(1, 20)]
    out = bytes(data)
    if rng.random() < 0.5 and len(out) > 12:
        out = frame(out[6:-6])  # valid frame, so the fuzz reaches the segment parser
    return out


def outcome(func: Callable[..., object], raw: bytes, tables: object) -> object:
    """What ``func`` makes of ``raw``: the packet (as its repr), the codec's error, or a crash."""
    try:
        return repr(func(raw, tables))
    except Hj212Error as exc:
        return (type(exc), exc.code, exc.message, exc.field)


def fuzz(seconds: float) -> None:
    tables = hj212_tables()
    differential = parse_packet is not parse_packet_python
    rng = random.Random(212)
    seeds = [station_packet(f"MN{i:04d}", i, cn=cn) for i in range(20) for cn in ("2011", "2051")]
    seeds.append(
        b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
        b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
    )
    outcomes: Counter[str] = Counter()
    crashes = mismatches = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(500):
            if rng.random() < 0.1:
                raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
            else:
                raw = mutate(rng, rng.choice(seeds))
            try:
                parse_packet(raw, tables)
            except Hj212Error as exc:
                outcomes[exc.code.value] += 1
            except Exception:
                crashes += 1
                if crashes <= 5:
                    print(f"CRASH on {raw!r}")
                    traceback.print_exc()
            else:
                outcomes["(valid packet)"] += 1
            if differential:
                try:
                    same = outcome(parse_packet, raw, tables) == outcome(
                        parse_packet_python, raw, tables
                    )
                except Exception:
                    same = True  # a crash, counted above
                if not same:
                    mismatches += 1
                    if mismatches <= 5:
                        print(f"MISMATCH (compiled vs Python) on {raw!r}")
    total = sum(outcomes.values()) + crashes
    print(f"fuzz ({hj212.CODEC} codec): {total:,} inputs in {seconds:g} s, {crashes} crashes")
    if differential:
        print(f"  {mismatches} mismatches between the compiled and the Python codec")
    for code, count in outcomes.most_common():
        print(f"  {code:<22} {count:>9,}")


def main() -> None:
    throughput()
    fuzz(float(os.environ.get("HJ212_FUZZ_SECONDS", "10")))
