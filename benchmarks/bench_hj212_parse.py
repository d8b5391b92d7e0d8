"""HJ 212 codec: parse + validate throughput on one core, then a fuzz run.

Goal (issue 6): >= 50 000 packets/s for typical 2011 (real-time) and 2051 (minute) packets.
The fuzz run feeds mutated and random bytes to the parser for HJ212_FUZZ_SECONDS (default 10)
and reports the outcomes by error code; anything other than a packet or the codec's own error
is a crash and is printed.

    .venv/bin/python -m benchmarks hj212_parse
"""

from __future__ import annotations

import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal

from dualcontrol.core.hj212 import Hj212Error, crc16, frame, parse_packet
from dualcontrol.ingest.hj212_server import station_packet
from dualcontrol.reference.hj212 import hj212_tables


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


def throughput() -> None:
    tables = hj212_tables()
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
    for name, packets in sets.items():
        size = sum(map(len, packets)) / len(packets)
        parsed = rate(lambda raw: parse_packet(raw, tables), packets)
        bare = rate(parse_packet, packets)
        crc = rate(lambda raw: crc16(raw[6:-6]), packets)
        verdict = "meets" if parsed >= 50_000 else "below"
        print(f"{name}: {size:.0f} bytes/packet")
        print(f"  parse+validate with tables   {parsed:>9,.0f} packets/s  ({verdict} the 50k goal)")
        print(f"  parse+validate without tables{bare:>9,.0f} packets/s")
        print(f"  CRC16 alone                  {crc:>9,.0f} packets/s")


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


def fuzz(seconds: float) -> None:
    tables = hj212_tables()
    rng = random.Random(212)
    seeds = [station_packet(f"MN{i:04d}", i, cn=cn) for i in range(20) for cn in ("2011", "2051")]
    seeds.append(
        b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
        b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
    )
    outcomes: Counter[str] = Counter()
    crashes = 0
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
    total = sum(outcomes.values()) + crashes
    print(f"fuzz: {total:,} inputs in {seconds:g} s, {crashes} crashes")
    for code, count in outcomes.most_common():
        print(f"  {code:<22} {count:>9,}")


def main() -> None:
    throughput()
    fuzz(float(os.environ.get("HJ212_FUZZ_SECONDS", "10")))
