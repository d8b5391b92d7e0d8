"""A small HTTP load generator for ``bench_load``: open-loop and closed-loop runs on loopback.

Standard library only (``http.client`` and threads). Every request opens its own connection:
gunicorn's sync workers answer ``Connection: close`` anyway, so keep-alive would not help.

- **Open loop** (:func:`open_loop`): requests leave on a schedule fixed in advance (Poisson or
  evenly spaced arrivals at ``rate`` per second), whether or not earlier ones were answered. The
  latency of a request counts from its *scheduled* time, so a server that falls behind shows it
  (no coordinated omission).
- **Closed loop** (:func:`closed_loop`): ``users`` threads each send a request, wait for the
  answer and send the next at once (no think time) until the time is up.

Both stop sending after ``seconds`` and then wait for the answers still outstanding.
"""

from __future__ import annotations

import http.client
import math
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# technical: one request may take at most gunicorn's --timeout (120 s) plus this margin
REQUEST_TIMEOUT_S = 130.0
# technical: at most this many requests in flight in an open-loop run (threads of the client);
# beyond it the schedule slips and the slip is counted in the latency
OPEN_LOOP_MAX_IN_FLIGHT = 256


@dataclass(frozen=True)
class Request:
    """One GET with its headers (cookie or bearer token)."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    latency_s: float
    status: int  # 0: no answer (connection refused, timeout …)
    nbytes: int


@dataclass
class Run:
    """The samples of one run and its wall time (first send to last answer)."""

    samples: list[Sample]
    wall_s: float

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status != 200)

    def statuses(self) -> Counter[int]:
        return Counter(s.status for s in self.samples if s.status != 200)

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of all latencies (answered or not), in milliseconds."""
        values = sorted(s.latency_s for s in self.samples)
        if not values:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(values)))
        return values[rank - 1] * 1000

    @property
    def mean_kb(self) -> float:
        """Mean size of the answers with status 200, in KiB."""
        sizes = [s.nbytes for s in self.samples if s.status == 200]
        return sum(sizes) / len(sizes) / 1024 if sizes else math.nan

    @property
    def throughput(self) -> float:
        """Answers with status 200 per second of wall time."""
        ok = self.count - self.errors
        return ok / self.wall_s if self.wall_s > 0 else math.nan


def fetch(host: str, port: int, request: Request) -> Sample:
    """GET ``request`` and read the whole body; latency from now to the last byte."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("GET", request.path, headers=request.headers)
        response = conn.getresponse()
        body = response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        return Sample(time.perf_counter() - started, 0, 0)
    finally:
        conn.close()
    return Sample(time.perf_counter() - started, status, len(body))


def arrival_offsets(rate: float, seconds: float, *, poisson: bool, seed: int) -> list[float]:
    """Send times (seconds from the start) of an open-loop run: Poisson or evenly spaced."""
    offsets: list[float] = []
    if rate <= 0:
        return offsets
    rng = random.Random(seed)
    t = rng.expovariate(rate) if poisson else 0.0
    while t < seconds:
        offsets.append(t)
        t += rng.expovariate(rate) if poisson else 1.0 / rate
    return offsets


def open_loop(
    host: str,
    port: int,
    request: Request,
    *,
    rate: float,
    seconds: float,
    poisson: bool = True,
    seed: int = 18,
) -> Run:
    """Requests on a fixed schedule; latency from each request's scheduled time."""
    offsets = arrival_offsets(rate, seconds, poisson=poisson, seed=seed)
    samples: list[Sample] = []
    lock = threading.Lock()
    last_done = [0.0]

    def one(scheduled: float) -> None:
        sample = fetch(host, port, request)
        done = time.perf_counter()
        sample.latency_s = done - scheduled  # waiting for a free client thread counts too
        with lock:
            samples.append(sample)
            last_done[0] = max(last_done[0], done)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=OPEN_LOOP_MAX_IN_FLIGHT) as pool:
        for offset in offsets:
            due = start + offset
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, due)
    return Run(samples, max(last_done[0] - start, seconds))


def closed_loop(host: str, port: int, request: Request, *, users: int, seconds: float) -> Run:
    """``users`` threads, each sending its next request as soon as the last one is answered."""
    samples: list[Sample] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds
    last_done = [start]

    def user() -> None:
        mine: list[Sample] = []
        while time.perf_counter() < deadline:
            mine.append(fetch(host, port, request))
        with lock:
            samples.extend(mine)
            last_done[0] = max(last_done[0], time.perf_counter())

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Run(samples, last_done[0] - start)


def warm_up(host: str, port: int, request: Request, *, count: int, parallel: int) -> Run:
    """``count`` requests, ``parallel`` at a time, so that every server process has seen the page."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        samples = list(pool.map(lambda _: fetch(host, port, request), range(count)))
    return Run(samples, time.perf_counter() - started)
