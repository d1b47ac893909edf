"""Benchmark: the site over HTTP (section "http"): gunicorn on PostgreSQL + Redis, loopback.

    BENCH_ONLY=http make bench          # or: python -m bench.http with the bench env

As the persona who sees everything (bench-50k, 20 communities, 50k tools at scale 1),
for each main page and API list, and for the main writes:

- **capacity**: the best throughput of a closed loop at 1, 2, 4 and 8 clients (req/s);
- **latency at half of capacity**: an open loop at that arrival rate, latencies measured
  from each request's scheduled time (bench/load.py): p50/p95/p99 (target p95 <= 100 ms);
- **server time**: the median ``Server-Timing`` app time at half of capacity, i.e. Django's
  own time in the server process (targets: API tools page <= 20 ms, HTML /tools/ <= 30 ms),
  and the query count (target <= 7 for API lists, with the cookie and with X-Session-Token);
- for API lists, the **bare view** (bench/baseline.py: the same rows as plain dicts, checked
  to be the same ids) in the same server, each concurrency level run for the bare view
  and then the API back to back: API capacity / bare capacity (target >= 0.8x).

Writes (booking, transfer, solar order, vote) need data of their own; it is made with
the ORM in a fresh community (``bench-http-<time>``) before the server starts, and each
request of a write carries a fresh body so that every one is a real, accepted write.
Then two contention runs:

- 8 writers sending transfers over HTTP in ONE community (all on one hash chain:
  target >= 300/s), after which ``verify_community`` must find the ledger intact;
- 8 clients asking at once for overlapping windows of the same few tools, round after
  round: exactly one wins each window, the others get 409 ``conflict``, and no two
  live bookings overlap in the database afterwards.

Sessions are made directly in the session store (as Django's test client does), so
the benchmark does not spend its time hashing passwords; the X-Session-Token variant
logs in for real through ``POST /_allauth/app/v1/auth/login``.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

CAP_LEVELS = (1, 2, 4, 8)
CAP_SECONDS = float(os.environ.get("BENCH_HTTP_CAP_SECONDS", "1.0"))  # per concurrency level
OPEN_SECONDS = float(os.environ.get("BENCH_HTTP_OPEN_SECONDS", "3.0"))  # the open loop at half capacity
CONTENTION_SECONDS = float(os.environ.get("BENCH_HTTP_CONTENTION_SECONDS", "10"))
BUDGET_S = 350  # the section's limit is 420 s: no new page after this (the contention runs take ~25 s)
P95_TARGET_MS = 100
API_QUERY_TARGET = 7
BARE_RATIO_TARGET = 0.8
BORROWERS = 150  # the booking write: each borrower asks at most 5 times (MAX_OPEN_REQUESTS)
BOOKING_TOOLS = 7  # coprime with BORROWERS, so a borrower's 5 asks go to 5 different tools
WRITERS = 16
CONTENTION_GROUPS = 25  # the contention run: 8 x 25 borrowers, each in at most 5 rounds
CONTENTION_TOOLS = 4  # 25 = 1 (mod 4): a borrower meets one tool at most twice (cap 3 a day)


@dataclass
class Target:
    """One page or API call to measure; ``make(seq)`` gives its request number ``seq``."""

    name: str
    make: object  # bench.load.RequestMaker
    kind: str  # "api list", "api", "html", "write"
    bare: object | None = None  # the bare view's RequestMaker, for API lists
    server_target_ms: float | None = None
    ok_statuses: tuple = (200,)


@dataclass
class Writes:
    """What the write benchmarks act on, made with the ORM before the server starts."""

    community: object
    run: str
    borrower_headers: list = field(default_factory=list)
    booking_tools: list = field(default_factory=list)
    writer_ids: list = field(default_factory=list)
    writer_headers: list = field(default_factory=list)
    meter_ids: list = field(default_factory=list)
    seller_headers: list = field(default_factory=list)
    proposal_ids: list = field(default_factory=list)
    contention_headers: list = field(default_factory=list)
    contention_tools: list = field(default_factory=list)


def _setup_django() -> None:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.bench")
    import django

    django.setup()


# --- sessions -----------------------------------------------------------------------
def session_headers(user) -> dict:
    """Cookie and CSRF headers of a signed-in session of ``user``, written straight into
    the session store (what ``Client.force_login`` does; no password hashing)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    csrf = get_random_string(32)
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


def token_login(host: str, port: int, email: str, password: str) -> dict:
    """X-Session-Token headers from a real login through the app API."""
    from bench.load import Connection, Request

    body = json.dumps({"email": email, "password": password}).encode()
    status, _, raw = Connection(host, port).send(
        Request("POST", "/_allauth/app/v1/auth/login", body=body), keep_body=True
    )
    if status != 200:
        raise RuntimeError(f"app login of {email} answered {status}: {raw[:300]!r}")
    return {"X-Session-Token": json.loads(raw)["meta"]["session_token"]}


# --- the data the reads ask for ------------------------------------------------------
def _get(path: str, headers: dict):
    from bench.load import Request

    req = Request("GET", path, headers=headers)
    return lambda seq: req


def read_targets(persona, cookie: dict, token: dict) -> list[Target]:
    """The pages and API lists, with paths chosen from the data (a tool the persona sees,
    the challenge with the most proposals, a word of a real tool title)."""
    from django.db.models import Count
    from django.utils import timezone

    from apps.codesign.models import Proposal
    from apps.peers.selectors import active_community_ids
    from apps.tools import selectors as tools
    from bench.personas import CENTRE

    tool = tools.tools_search(user=persona).first()
    if tool is None:
        raise RuntimeError("the persona sees no tool: is the scale data seeded (manage.py seed_scale)?")
    word = next((w for w in tool.title.split() if w.isalpha() and len(w) > 3), tool.title.split()[0]).lower()
    challenge_id = (
        Proposal.objects.filter(challenge__community_id__in=active_community_ids(user=persona))
        .values("challenge_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("challenge_id", flat=True)
        .first()
    )
    start = (timezone.localtime() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=4)
    lat, lng = CENTRE
    near_api = f"lat={lat}&lng={lng}&radius_km=3"
    avail_api = f"available_from={start.isoformat()}&available_to={end.isoformat()}".replace("+", "%2B")
    avail_html = f"available_from={start:%Y-%m-%dT%H:%M}&available_to={end:%Y-%m-%dT%H:%M}"
    c = cookie
    targets = [
        Target("API tools list", _get("/api/v1/tools/", c), "api list", _get("/bench/bare/tools/", c), 20),
        Target("API tools list (X-Session-Token)", _get("/api/v1/tools/", token), "api list"),
        Target("API tools, within 3 km", _get(f"/api/v1/tools/?{near_api}", c), "api list",
               _get(f"/bench/bare/tools/?{near_api}", c)),
        Target("API tools, available 3 days ahead", _get(f"/api/v1/tools/?{avail_api}", c), "api list",
               _get(f"/bench/bare/tools/?{avail_api}", c)),
        Target("HTML /tools/", _get("/tools/", c), "html", server_target_ms=30),
        Target("HTML /tools/ within 3 km", _get("/tools/?radius_km=3", c), "html"),
        Target("HTML /tools/ available 3 days ahead", _get(f"/tools/?{avail_html}", c), "html"),
        Target("API tool detail", _get(f"/api/v1/tools/{tool.pk}/", c), "api"),
        Target("HTML tool detail", _get(f"/tools/{tool.pk}/", c), "html"),
        Target("API my loans", _get("/api/v1/reservations/", c), "api list", _get("/bench/bare/reservations/", c)),
        Target("HTML my loans", _get("/tools/loans/", c), "html"),
        Target("API skill offers", _get("/api/v1/skills/offers/", c), "api list",
               _get("/bench/bare/skills/offers/", c)),
        Target("API skill offers (X-Session-Token)", _get("/api/v1/skills/offers/", token), "api list"),
        Target("HTML skill directory", _get("/skills/", c), "html"),
        Target("API skill matches", _get("/api/v1/skills/matches/", c), "api list",
               _get("/bench/bare/skills/matches/", c)),
        Target("HTML skill matches", _get("/skills/matches/", c), "html"),
        Target("API solar slots", _get("/api/v1/solar/slots/", c), "api list", _get("/bench/bare/solar/slots/", c)),
        Target("HTML solar market", _get("/solar/", c), "html"),
    ]  # fmt: skip
    if challenge_id is not None:
        targets += [
            Target("API challenge proposals", _get(f"/api/v1/challenges/{challenge_id}/proposals/", c), "api list",
                   _get(f"/bench/bare/challenges/{challenge_id}/proposals/", c)),
            Target("HTML challenge proposals", _get(f"/design/{challenge_id}/proposals/", c), "html"),
        ]  # fmt: skip
    targets += [
        Target("API dashboard", _get("/api/v1/me/dashboard/", c), "api"),
        Target("HTML dashboard", _get("/", c), "html"),
        Target(f"API search '{word}'", _get(f"/api/v1/search/?q={word}", c), "api"),
        Target(f"HTML search '{word}'", _get(f"/search/?q={word}", c), "html"),
    ]
    return targets


# --- the data the writes need ---------------------------------------------------------
def _members(community, n: int) -> list:
    """``n`` new active members of ``community`` with an unusable password (no hashing)."""
    from apps.peers.factories import MembershipFactory

    return [MembershipFactory(community=community, user__password=None).user for _ in range(n)]


def prepare_writes() -> Writes:
    """A fresh community with tools owned by someone else, borrowers, ledger writers,
    sellers with meters and a challenge in its vote: all a write needs, before the server starts."""
    from apps.codesign.factories import ChallengeFactory, ProposalFactory
    from apps.codesign.models import Challenge, Proposal
    from apps.peers.factories import CommunityFactory
    from apps.solar.factories import MeterFactory
    from apps.solar.models import Meter
    from apps.tools.factories import ToolFactory

    run = str(int(time.time()))
    community = CommunityFactory(slug=f"bench-http-{run}", name=f"HTTP bench {run}")
    w = Writes(community=community, run=run)
    owner = _members(community, 1)[0]
    w.booking_tools = [
        ToolFactory(owner=owner, community=community, title=f"Bench ladder {i}", max_loan_days=3).pk
        for i in range(BOOKING_TOOLS)
    ]
    w.contention_tools = [
        ToolFactory(owner=owner, community=community, title=f"Bench drill {i}", max_loan_days=3).pk
        for i in range(CONTENTION_TOOLS)
    ]
    w.borrower_headers = [session_headers(u) for u in _members(community, BORROWERS)]
    w.contention_headers = [session_headers(u) for u in _members(community, 8 * CONTENTION_GROUPS)]
    writers = _members(community, WRITERS)
    w.writer_ids = [u.pk for u in writers]
    w.writer_headers = [session_headers(u) for u in writers]
    for u in writers[:8]:
        w.meter_ids.append(MeterFactory(owner=u, community=community, kind=Meter.Kind.BOTH, peak_capacity_w=40000).pk)
        w.seller_headers.append(w.writer_headers[w.writer_ids.index(u.pk)])
    challenge = ChallengeFactory(community=community, phase=Challenge.Phase.VOTING)
    w.proposal_ids = [
        ProposalFactory(challenge=challenge, author=writers[i], status=Proposal.Status.ACCEPTED).pk for i in range(3)
    ]
    return w


def write_targets(w: Writes) -> list[Target]:
    """One accepted write per request: distinct windows, keys and slots."""
    from django.utils import timezone

    from bench.load import Request

    base = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot0 = (timezone.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)

    def booking(seq: int) -> Request:
        tool = w.booking_tools[seq % BOOKING_TOOLS]
        # Three-hour steps, wrapping well inside the two years a booking may look ahead
        # (``seq`` counts every request of the run, not only this target's).
        start = base + timedelta(hours=3 * ((seq // BOOKING_TOOLS) % 4000))
        body = {"tool": tool, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
        return Request("POST", "/api/v1/reservations/", w.borrower_headers[seq % BORROWERS], json.dumps(body).encode())

    def transfer(seq: int) -> Request:
        return _transfer(w, seq, WRITERS)

    def order(seq: int) -> Request:
        i = seq % len(w.meter_ids)
        start = slot0 + timedelta(minutes=15 * ((seq // len(w.meter_ids)) % 500))
        body = {"meter": w.meter_ids[i], "slot_start": start.isoformat(), "side": "sell",
                "quantity_wh": 1, "limit_price": "0.10"}  # fmt: skip
        return Request("POST", "/api/v1/solar/orders/", w.seller_headers[i], json.dumps(body).encode())

    def vote(seq: int) -> Request:
        proposal = w.proposal_ids[seq % len(w.proposal_ids)]
        body = json.dumps({"dots": 1}).encode()
        return Request("POST", f"/api/v1/proposals/{proposal}/vote/", w.writer_headers[seq % WRITERS], body)

    return [
        Target("API booking a tool (write)", booking, "write", ok_statuses=(201,)),
        Target("API ledger transfer (write)", transfer, "write", ok_statuses=(201,)),
        Target("API solar sell order (write)", order, "write", ok_statuses=(201,)),
        Target("API vote (write)", vote, "write", ok_statuses=(200,)),
    ]


def _transfer(w: Writes, seq: int, ring: int):
    """Writer ``seq % ring`` gives 0.01 hour to the next one round the ring: balances stay
    near zero however many transfers the run makes."""
    from bench.load import Request

    i = seq % ring
    body = {"community": w.community.pk, "currency": "HOUR", "to": w.writer_ids[(i + 1) % ring], "amount": "0.01"}
    headers = {**w.writer_headers[i], "Idempotency-Key": f"bench-{w.run}-{seq}"}
    return Request("POST", "/api/v1/ledger/transfers/", headers, json.dumps(body).encode())


# --- measuring ----------------------------------------------------------------------
def _check(host: str, port: int, target: Target, seq: int) -> None:
    """The request answers as it should before it is measured: a benchmark of error pages is no benchmark."""
    from bench.load import Connection

    status, _, body = Connection(host, port).send(target.make(seq), keep_body=True)
    if status not in target.ok_statuses:
        raise RuntimeError(f"{target.name}: answered {status}, expected {target.ok_statuses}: {body[:400]!r}")


def same_rows(host: str, port: int, target: Target) -> int:
    """The API list and its bare view answer the same rows in the same order (else the
    ratio between them would compare different work); returns how many."""
    from bench.load import Connection

    conn = Connection(host, port)
    api = json.loads(conn.send(target.make(0), keep_body=True)[2])
    bare = json.loads(conn.send(target.bare(0), keep_body=True)[2])
    conn.close()
    api_ids = [row["id"] for row in api["results"]]
    bare_ids = [row["id"] for row in bare]
    if api_ids != bare_ids:
        raise RuntimeError(f"{target.name}: the bare view answers other rows: {bare_ids[:5]}... vs {api_ids[:5]}...")
    return len(api_ids)


def _throughput(host: str, port: int, target: Target, clients: int, seq0: int) -> tuple[float, int]:
    """Answers with an ok status per second in a closed loop, and the next free sequence number."""
    from bench.load import closed_loop

    result = closed_loop(host, port, target.make, clients=clients, seconds=CAP_SECONDS, seq0=seq0)
    good = sum(1 for a in result.answers if a.status in target.ok_statuses)
    return good / result.seconds, seq0 + len(result.answers) + clients


def measure(host: str, port: int, target: Target, seq0: int = 0, bare: Target | None = None) -> dict:
    """Capacity over the concurrency levels, then an open loop at half of it.

    With a ``bare`` view, each level runs the bare view and then the API back to back, so
    that a burst of other load on the machine falls on both alike and their ratio holds."""
    from bench.load import open_loop

    _check(host, port, target, seq0)
    if bare is not None:
        _check(host, port, bare, 0)
    per_level, bare_level, seq = {}, {}, seq0 + 1
    for n in CAP_LEVELS:
        if bare is not None:
            bare_level[n], _ = _throughput(host, port, bare, n, 0)
        per_level[n], seq = _throughput(host, port, target, n, seq)
    cap = max(per_level.values())
    result = open_loop(host, port, target.make, rate=max(cap / 2, 1.0), seconds=OPEN_SECONDS, seq0=seq)
    summary = result.summary()
    ok = sum(n for s, n in summary["statuses"].items() if s in target.ok_statuses)
    if ok < 0.95 * summary["requests"]:
        raise RuntimeError(f"{target.name}: only {ok} of {summary['requests']} answers were {target.ok_statuses}: "
                           f"{summary['statuses']}")  # fmt: skip
    m = {"capacity": cap, "per_level": per_level, "half": summary, "next_seq": seq + summary["requests"] + 1}
    if bare is not None:
        m["bare"] = {"capacity": max(bare_level.values()), "per_level": bare_level}
    return m


def rows_for(target: Target, m: dict, rows_on_page: int | None = None) -> list:
    """The report rows of one target."""
    from bench.report import Row

    h = m["half"]
    extra = {"per_level_req_s": {k: round(v, 1) for k, v in m["per_level"].items()}, **h}
    rows = []
    cap = Row(f"{target.name}: capacity", round(m["capacity"], 1), "req/s", extra=extra)
    bare = m.get("bare")
    if bare is not None:
        cap.baseline = round(bare["capacity"], 1)
        cap.baseline_name = "bare JsonResponse view, same rows"
        cap.target = f">= {BARE_RATIO_TARGET}x bare"
        cap.met = cap.ratio >= BARE_RATIO_TARGET
        cap.extra["bare_per_level_req_s"] = {k: round(v, 1) for k, v in bare["per_level"].items()}
        cap.extra["rows_on_page"] = rows_on_page
        if not rows_on_page:
            cap.note = "an empty page: the persona has no such rows in this data; "
        if not cap.met:
            cap.note += (f"{cap.ratio:.2f}x: DRF, the page count and the serializer cost "
                        f"{(1 / cap.ratio - 1) * 100:.0f}% more per request than the bare rows")  # fmt: skip
    rows.append(cap)
    p95 = Row(f"{target.name}: p95 at half capacity ({h['rate']:.0f} req/s)", h["p95_ms"], "ms",
              target=f"<= {P95_TARGET_MS} ms", met=h["p95_ms"] <= P95_TARGET_MS,
              note=f"p50 {h['p50_ms']:.1f} ms, p99 {h['p99_ms']:.1f} ms")  # fmt: skip
    if not p95.met:
        p95.note += f"; {h['p95_ms'] - P95_TARGET_MS:.0f} ms over: server time {h['app_ms']:.1f} ms a request"
    rows.append(p95)
    app = Row(f"{target.name}: server time in process", h["app_ms"], "ms",
              note=f"db {h['db_ms']:.1f} ms in {h['queries']:.0f} queries (median)")  # fmt: skip
    if target.server_target_ms is not None:
        app.target = f"<= {target.server_target_ms} ms"
        app.met = h["app_ms"] <= target.server_target_ms
        if not app.met:
            app.note += f"; {h['app_ms'] / target.server_target_ms:.1f}x the target"
    rows.append(app)
    if target.kind == "api list":
        q = Row(f"{target.name}: queries", h["queries_max"], "queries", target=f"<= {API_QUERY_TARGET}",
                met=h["queries_max"] <= API_QUERY_TARGET)  # fmt: skip
        if not q.met:
            q.note = f"{h['queries_max'] - API_QUERY_TARGET:.0f} over"
        rows.append(q)
    return rows


# --- contention -----------------------------------------------------------------------
def ledger_contention(host: str, port: int, w: Writes, seq0: int) -> tuple[list, int]:
    """8 writers, one community, one chain head: transfers/s over HTTP; then verify."""
    from apps.ledger.chain import verify_community
    from bench.load import closed_loop
    from bench.report import Row

    result = closed_loop(host, port, lambda s: _transfer(w, s, 8), clients=8, seconds=CONTENTION_SECONDS, seq0=seq0)
    created = result.statuses.get(201, 0)
    rate = created / result.seconds
    started = time.perf_counter()
    report = verify_community(community=w.community)
    took = time.perf_counter() - started
    rows = [
        Row("Ledger transfers over HTTP, 8 writers in one community", round(rate, 1), "transfers/s",
            target=">= 300/s", met=rate >= 300, extra=result.summary(),
            note="" if rate >= 300 else f"{rate / 300:.2f}x the target: each transfer locks the community's "
            f"chain head, so they are serial; the server's time per transfer is {result.server_median('app'):.1f} "
            f"ms (median), {result.server_median('queries'):.0f} queries"),
        Row("Ledger verifies after the HTTP transfers (verify_community)", report.checked, "entries",
            target="ok", met=bool(report.ok), note=f"{'OK' if report.ok else 'BROKEN'}, {took:.2f} s"),
    ]  # fmt: skip
    return rows, seq0 + len(result.answers) + 8


def booking_contention(host: str, port: int, w: Writes) -> list:
    """8 clients ask at once for pairwise overlapping windows of one tool, round after
    round (a barrier between rounds): exactly one may win each window."""
    import threading

    from django.utils import timezone

    from apps.tools.models import Reservation
    from bench.load import Connection, Request
    from bench.report import Row

    base = (timezone.now() + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    rounds = 5 * CONTENTION_GROUPS
    outcome: dict[int, list] = {r: [] for r in range(rounds)}
    stop = threading.Event()
    deadline = time.perf_counter() + CONTENTION_SECONDS
    barrier = threading.Barrier(8, action=lambda: stop.set() if time.perf_counter() > deadline else None)
    lock = threading.Lock()
    done = [0]

    def client(i: int) -> None:
        conn = Connection(host, port)
        for r in range(rounds):
            barrier.wait()
            if stop.is_set():
                break
            start = base + timedelta(days=r // CONTENTION_TOOLS, minutes=10 * i)
            body = {"tool": w.contention_tools[r % CONTENTION_TOOLS], "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=2)).isoformat()}  # fmt: skip
            headers = w.contention_headers[(r % CONTENTION_GROUPS) * 8 + i]
            status, _, raw = conn.send(Request("POST", "/api/v1/reservations/", headers, json.dumps(body).encode()),
                                       keep_body=True)  # fmt: skip
            code = json.loads(raw).get("code", "") if status == 409 else ""
            with lock:
                outcome[r].append((status, code))
                done[0] = max(done[0], r + 1)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(8)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    played = [outcome[r] for r in range(done[0]) if len(outcome[r]) == 8]
    requests = sum(len(o) for o in played)
    one_winner = sum(1 for o in played if sum(s == 201 for s, _ in o) == 1)
    conflicts = sum(1 for o in played for s, c in o if s == 409 and c == "conflict")
    other = sum(1 for o in played for s, c in o if s != 201 and not (s == 409 and c == "conflict"))
    live = list(
        Reservation.objects.filter(tool_id__in=w.contention_tools, status__in=Reservation.LIVE)
        .order_by("tool_id", "starts_at")
        .values_list("tool_id", "starts_at", "blocked_until")
    )
    overlaps = sum(1 for a, b in itertools.pairwise(live) if a[0] == b[0] and b[1] < a[2])
    return [
        Row("Booking under contention: 8 clients, overlapping windows", round(requests / took, 1), "req/s",
            extra={"rounds": len(played), "requests": requests, "conflicts": conflicts, "other_answers": other,
                   "seconds": round(took, 2)},
            note=f"{len(played)} windows, each asked for by 8 members at once"),
        Row("Booking under contention: windows with exactly one winner", one_winner, "windows",
            target=f"all {len(played)}", met=one_winner == len(played) and other == 0,
            note=f"{conflicts} answers 409 conflict, {other} other answers"),
        Row("Booking under contention: overlapping live bookings afterwards", overlaps, "pairs", target="0",
            met=overlaps == 0, note=f"{len(live)} live bookings of the {CONTENTION_TOOLS} tools checked"),
    ]  # fmt: skip


# --- the section ------------------------------------------------------------------------
def main() -> int:
    started = time.perf_counter()
    _setup_django()
    from apps.peers.models import User
    from bench.personas import LARGE, PASSWORD
    from bench.report import write_section
    from bench.server import Server

    persona = User.objects.filter(email=LARGE).first()
    if persona is None:
        print(f"no persona {LARGE}: seed the scale data first (manage.py seed_scale)", file=sys.stderr)
        return 2
    writes = prepare_writes()
    cookie = session_headers(persona)
    prepared = time.perf_counter() - started
    rows, notes, skipped = [], [], []
    with Server() as server:
        host, port = server.host, server.port
        token = token_login(host, port, LARGE, PASSWORD)
        targets = read_targets(persona, cookie, token) + write_targets(writes)
        seq = 0
        for target in targets:
            if time.perf_counter() - started > BUDGET_S:
                skipped.append(target.name)
                continue
            bare, rows_on_page = None, None
            if target.bare is not None:
                rows_on_page = same_rows(host, port, target)
                bare = Target(f"{target.name} (bare)", target.bare, "bare")
            m = measure(host, port, target, seq0=seq, bare=bare)
            seq = m["next_seq"]
            rows += rows_for(target, m, rows_on_page)
            print(f"{target.name}: {m['capacity']:.0f} req/s, p95 {m['half']['p95_ms']:.0f} ms, "
                  f"app {m['half']['app_ms']:.1f} ms, {m['half']['queries']:.0f} q", flush=True)  # fmt: skip
        ledger_rows, seq = ledger_contention(host, port, writes, seq)
        rows += ledger_rows
        rows += booking_contention(host, port, writes)
    notes += [
        f"gunicorn {server.workers} workers x {server.threads} threads (gthread) on 127.0.0.1, bench settings "
        "(DEBUG off, Redis cache, PostgreSQL); the load generator (bench/load.py) runs on the same 2 cores.",
        f"Capacity: best closed-loop throughput at {', '.join(map(str, CAP_LEVELS))} clients, {CAP_SECONDS:.1f} s "
        f"each. Latency: open loop at half of it for {OPEN_SECONDS:.1f} s, from each request's scheduled time "
        "(p99 of a few hundred requests is rough).",
        "Server time: median Server-Timing app time at half capacity (Django's whole handling in the server "
        "process); queries: the most any answer made.",
        f"Writes in a fresh community bench-http-{writes.run}: {prepared:.0f} s to prepare them with the ORM.",
    ]
    if skipped:
        notes.append(f"Not measured (time budget of {BUDGET_S} s spent): {', '.join(skipped)}.")
    write_section("http", "HTTP: pages, API lists and writes under load", rows, notes=notes,
                  elapsed_s=time.perf_counter() - started)  # fmt: skip
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
