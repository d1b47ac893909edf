"""Benchmark: skill matching with 10,000 offers and 10,000 requests (not part of `make test`).

    .venv/bin/python -m bench.skills_matching              # a throwaway SQLite database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2pcommons_bench .venv/bin/python -m bench.skills_matching

Fills one community of a city about 20 km across with BENCH_MEMBERS members,
BENCH_LISTINGS offers and as many requests (skills from the real taxonomy, weekly
windows, locations), then reports:
- incremental matching, the path a new request takes: per-request latency (median and
  95th percentile), the candidate offers read (bounded by ``MAX_CANDIDATES``, never the
  table) and the queries per run (notifications are written, and their delivery is
  queued for another worker, as in production);
- matches per second over a batch of existing requests (the nightly path).
A PostgreSQL database named in BENCH_DATABASE_URL must exist; each run adds a community.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "2000"))
LISTINGS = int(os.environ.get("BENCH_LISTINGS", "10000"))
NEW_REQUESTS = int(os.environ.get("BENCH_NEW_REQUESTS", "200"))
BATCH = int(os.environ.get("BENCH_BATCH", "500"))
CENTER = (52.37, 4.89)


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="p2p-bench-")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "p2pcommons.settings.test"
    os.environ["P2P_VAR_DIR"] = tmp
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from p2pcommons.celery import app as celery_app

    # As in production, notification delivery is another worker's job, not part of a
    # matching run: tasks go to the in-memory broker instead of running inline.
    celery_app.conf.task_always_eager = False
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from apps.peers.factories import CommunityFactory
    from apps.peers.geo import approximate
    from apps.peers.models import Membership, Profile, User
    from apps.skills import services
    from apps.skills.models import AvailabilityWindow, Match, Offer, Request, Skill

    rng = random.Random(7)
    started = time.perf_counter()
    community = CommunityFactory(slug=f"bench-skills-{int(time.time())}", name=f"Skills bench {time.time():.0f}")
    stamp = int(time.time())
    users = User.objects.bulk_create(
        User(email=f"bench{stamp}-{i}@example.org", is_active=True) for i in range(MEMBERS)
    )

    def spot():
        lat = CENTER[0] + rng.uniform(-0.09, 0.09)  # about 10 km each way
        lng = CENTER[1] + rng.uniform(-0.15, 0.15)
        return approximate(lat, lng)

    places = {u.pk: spot() for u in users}
    Profile.objects.bulk_create(
        Profile(user=u, display_name=f"Neighbor {i}", approx_latitude=places[u.pk][0], approx_longitude=places[u.pk][1])
        for i, u in enumerate(users)
    )
    Membership.objects.bulk_create(Membership(user=u, community=community) for u in users)
    skills = list(Skill.objects.filter(community__isnull=True).values_list("pk", flat=True))
    now = timezone.now()
    today = timezone.localdate()

    offers = Offer.objects.bulk_create(
        Offer(
            member=(member := rng.choice(users)),
            community=community,
            title=f"Offer {i}",
            travel_km=Decimal(rng.choice(["1.0", "2.0", "3.0", "5.0", "8.0"])),
            remote_ok=rng.random() < 0.15,
            latitude=places[member.pk][0],
            longitude=places[member.pk][1],
            expires_at=now + Offer.LIFETIME,
        )
        for i in range(LISTINGS)
    )
    Offer.skills.through.objects.bulk_create(
        Offer.skills.through(offer_id=o.pk, skill_id=s) for o in offers for s in rng.sample(skills, rng.randint(1, 3))
    )
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(offer=o, weekday=rng.randint(0, 6), start=clock(h := rng.randint(8, 18)), end=clock(h + 2))
        for o in offers
        for _ in range(rng.randint(1, 3))
    )

    def new_request(i: int) -> Request:
        member = rng.choice(users)
        start = today + timedelta(days=rng.randint(1, 20))
        return Request(
            member=member,
            community=community,
            title=f"Request {i}",
            wanted_from=start,
            wanted_until=start + timedelta(days=rng.randint(0, 6)),
            remote_ok=rng.random() < 0.1,
            latitude=places[member.pk][0],
            longitude=places[member.pk][1],
            expires_at=now + timedelta(days=30),
        )

    requests = Request.objects.bulk_create(new_request(i) for i in range(LISTINGS + NEW_REQUESTS))
    Request.skills.through.objects.bulk_create(
        Request.skills.through(request_id=r.pk, skill_id=s)
        for r in requests
        for s in rng.sample(skills, rng.randint(1, 2))
    )
    print(f"database: {connection.vendor}")
    print(
        f"setup: {MEMBERS} members, {Offer.objects.filter(community=community).count()} offers, "
        f"{Request.objects.filter(community=community).count()} requests in {time.perf_counter() - started:.1f} s"
    )

    # Incremental: the path of one new request (its matching task after commit).
    latencies, candidates, queries, stored = [], [], [], 0
    for request in requests[LISTINGS:]:
        side = services._sides(Request, [request.pk], community.pk)[request.pk][1]
        candidates.append(len(services.candidate_offers(request, side, now=now)))
        connection.queries_log.clear()  # the log keeps 9,000 queries; start each count empty
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            stored += len(services.match_request(request_id=request.pk, now=now))
            latencies.append(time.perf_counter() - t0)
        queries.append(len(ctx))
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"incremental: {len(latencies)} new requests, median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms; candidates read: median {statistics.median(candidates):.0f}, "
        f"max {max(candidates)} (cap {services.MAX_CANDIDATES}, table {LISTINGS}); "
        f"queries per run: max {max(queries)}; {stored / len(latencies):.1f} matches kept per request"
    )

    # The same requests again: scores and candidates unchanged, nobody to tell (the rematch path).
    again = []
    for request in requests[LISTINGS:]:
        t0 = time.perf_counter()
        services.match_request(request_id=request.pk, now=now)
        again.append(time.perf_counter() - t0)
    again.sort()
    print(
        f"rematch (nothing new to notify): median {statistics.median(again) * 1000:.1f} ms, "
        f"p95 {again[int(len(again) * 0.95) - 1] * 1000:.1f} ms"
    )

    # Batch: the nightly path over existing requests.
    batch = requests[:BATCH]
    before = Match.objects.filter(request__community=community).count()
    t0 = time.perf_counter()
    for request in batch:
        services.match_request(request_id=request.pk, now=now)
    elapsed = time.perf_counter() - t0
    made = Match.objects.filter(request__community=community).count() - before
    print(
        f"batch: {len(batch)} requests in {elapsed:.1f} s = {len(batch) / elapsed:.1f} requests/s, "
        f"{made / elapsed:.0f} matches/s ({made} matches)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
