"""A small load generator of our own: keep-alive HTTP/1.1 connections on threads (stdlib).

Two ways to load a server, both bounded in time:

- ``closed_loop``: N clients each send a request as soon as the previous answer came
  back, for T seconds: the throughput at that concurrency. ``capacity`` is the best
  throughput over a few concurrencies (1, 2, 4, 8): requests per second at saturation.
- ``open_loop``: requests are *scheduled* at a fixed arrival rate (request k at
  ``start + k / rate``) whatever the server does, and each latency is measured from its
  scheduled time, not from when a client got round to sending it. A server that falls
  behind therefore shows its queueing in the percentiles (no coordinated omission).
  Reports p50/p95/p99 and the medians of the server's own ``Server-Timing`` (app time,
  database time, query count).

What to send is a ``RequestMaker``: ``make(seq)`` returns the ``Request`` number
``seq`` (writes need a fresh body or key for every request), so one function serves
both loops.
"""

from __future__ import annotations

import http.client
import itertools
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.timing import parse_server_timing

CONNECT_TIMEOUT_S = 30


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


RequestMaker = Callable[[int], Request]


@dataclass
class Answer:
    status: int  # 0: no answer (connection error)
    latency_s: float
    server: dict  # parse_server_timing of the answer (app, db, queries)
    body: bytes = b""


class Connection:
    """One keep-alive connection; reconnects once when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=CONNECT_TIMEOUT_S)
        return self.conn

    def send(self, req: Request, *, keep_body: bool = False) -> tuple[int, dict, bytes]:
        headers = {"Host": self.host, **req.headers}
        if req.body is not None:
            headers.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            try:
                conn = self._open()
                conn.request(req.method, req.path, body=req.body, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                timing = parse_server_timing(resp.getheader("Server-Timing", ""))
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, timing, body if keep_body else b""
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    return 0, {}, b""
        return 0, {}, b""  # pragma: no cover

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Result:
    """What one run of a loop measured."""

    seconds: float
    answers: list[Answer]
    clients: int = 0
    rate: float = 0.0  # open loop: the scheduled arrival rate
    unsent: int = 0  # open loop: requests scheduled but never sent before the deadline

    @property
    def throughput(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    @property
    def statuses(self) -> dict[int, int]:
        return dict(Counter(a.status for a in self.answers))

    def percentile(self, p: float) -> float:
        """Latency percentile in ms (nearest rank)."""
        lat = sorted(a.latency_s for a in self.answers)
        if not lat:
            return float("nan")
        k = max(0, min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1))
        return lat[k] * 1000

    def server_median(self, key: str) -> float:
        values = [a.server[key] for a in self.answers if key in a.server]
        return statistics.median(values) if values else float("nan")

    def server_max(self, key: str) -> float:
        values = [a.server[key] for a in self.answers if key in a.server]
        return max(values) if values else float("nan")

    def summary(self) -> dict:
        return {
            "requests": len(self.answers),
            "seconds": round(self.seconds, 2),
            "clients": self.clients,
            "rate": round(self.rate, 1),
            "unsent": self.unsent,
            "statuses": self.statuses,
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "app_ms": round(self.server_median("app"), 2),
            "db_ms": round(self.server_median("db"), 2),
            "queries": self.server_median("queries"),
            "queries_max": self.server_max("queries"),
        }


class _Counter:
    """A thread-safe sequence number shared by the clients of one run."""

    def __init__(self, start: int) -> None:
        self._it = itertools.count(start)
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            return next(self._it)


def closed_loop(host: str, port: int, make: RequestMaker, *, clients: int, seconds: float, seq0: int = 0) -> Result:
    """``clients`` connections sending back to back for ``seconds``."""
    counter = _Counter(seq0)
    answers: list[Answer] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        conn = Connection(host, port)
        mine: list[Answer] = []
        while time.perf_counter() < stop_at:
            req = make(counter.next())
            started = time.perf_counter()
            status, timing, _ = conn.send(req)
            mine.append(Answer(status, time.perf_counter() - started, timing))
        conn.close()
        with lock:
            answers.extend(mine)

    started = time.perf_counter()
    _run_threads(client, clients)
    return Result(seconds=time.perf_counter() - started, answers=answers, clients=clients)


def capacity(
    host: str,
    port: int,
    make: RequestMaker,
    *,
    levels=(1, 2, 4, 8),
    seconds: float = 1.5,
    seq0: int = 0,
    ok: tuple[int, ...] = (200,),
) -> tuple[float, dict[int, float], int]:
    """Best throughput (req/s) of answers with an ``ok`` status over the concurrency
    ``levels``, each level's throughput, and the next free sequence number (so a write
    never repeats a request)."""
    per_level: dict[int, float] = {}
    seq = seq0
    for n in levels:
        result = closed_loop(host, port, make, clients=n, seconds=seconds, seq0=seq)
        seq += len(result.answers) + n
        good = sum(1 for a in result.answers if a.status in ok)
        per_level[n] = good / result.seconds if result.seconds else 0.0
    return max(per_level.values()), per_level, seq


def open_loop(
    host: str, port: int, make: RequestMaker, *, rate: float, seconds: float, workers: int = 16, seq0: int = 0
) -> Result:
    """Requests scheduled at ``rate`` per second for ``seconds``; latency from the schedule.

    ``workers`` connections take the scheduled requests in order; when all are busy the
    next request waits, and that wait is part of its latency. Requests still unsent a few
    seconds after the end (a server far behind) are counted as ``unsent``, not dropped
    silently, and the run stays bounded in time."""
    total = max(1, int(rate * seconds))
    counter = _Counter(0)
    answers: list[Answer] = []
    lock = threading.Lock()
    unsent = [0]
    t0 = time.perf_counter() + 0.05
    give_up_at = t0 + seconds + max(2.0, seconds)

    def worker() -> None:
        conn = Connection(host, port)
        mine: list[Answer] = []
        skipped = 0
        while True:
            k = counter.next()
            if k >= total:
                break
            scheduled = t0 + k / rate
            now = time.perf_counter()
            if now >= give_up_at:
                skipped += 1
                continue
            if scheduled > now:
                time.sleep(scheduled - now)
            status, timing, _ = conn.send(make(seq0 + k))
            mine.append(Answer(status, time.perf_counter() - scheduled, timing))
        conn.close()
        with lock:
            answers.extend(mine)
            unsent[0] += skipped

    _run_threads(worker, workers)
    return Result(seconds=seconds, answers=answers, clients=workers, rate=rate, unsent=unsent[0])


def _run_threads(target: Callable[[], None], n: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
