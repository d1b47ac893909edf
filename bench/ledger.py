"""Benchmark section "ledger": verifying the hash chain, the cached verify API, transfers/s.

    BENCH_ONLY=ledger make bench          (or: python -m bench.ledger with the bench settings)

On the seeded database in DATABASE_URL (1M entries at scale 1; `manage.py seed_scale`):

1. **Verify per 10k entries**: ``chain.verify_community`` of the community with the
   longest chain (every link rehashed, every balance recomputed), against the bare cost
   of reading the same rows (``values_list`` of the columns the chain hashes, entries
   joined to their transfers) and hashing each with ``hashlib.sha256``. Without scale
   data (fewer than ``MIN_ENTRIES`` in every chain) a community of its own with a valid
   chain of ``MIN_ENTRIES`` is written first, in bulk.
2. **The verify API** (``GET /api/v1/ledger/verify/?community=``, in process through the
   whole middleware stack, as a member): the first call recomputes, the second is
   answered from the cache (keyed by the chain head), and after one new transfer the
   head moves, so the cache misses again, and the call after that hits again.
3. **Transfers per second** in process through ``services.transfer_create`` (chain-head
   lock, account locks, double entry, hash chain, one transaction each) in a community of
   its own, against as many bare inserts: per transfer one transaction of one transfer
   row and two entry rows into copies of the ledger tables (same columns and indexes, no
   locks, no hashing, no ORM), committed like the real ones. The two alternate in blocks
   of ``BLOCK`` (both see the same machine), up to ``TRANSFERS`` or the section's time.

The HTTP throughput with 8 concurrent writers is measured by the http section.
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from decimal import Decimal

from bench.report import load_note

MIN_ENTRIES = 20_000  # the shortest chain worth timing per 10k entries
TRANSFERS = 800  # at most, in blocks of BLOCK alternating with as many bare inserts
MIN_TRANSFERS = 100
BLOCK = 50
TIME_LIMIT_S = 150
API_CHAIN = 20_000  # the verify API is called on the chain nearest this length (it recomputes twice)
MEMBERS = 20


def _setup_django() -> None:
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)


def _members(community, count: int, stamp: int) -> list:
    """``count`` active members of ``community`` with an hour account each (bulk)."""
    from apps.ledger import services
    from apps.peers.models import Membership, Profile, User

    users = User.objects.bulk_create(
        User(email=f"ledger{stamp}-{community.pk}-{i}@bench.invalid", is_active=True) for i in range(count)
    )
    Profile.objects.bulk_create(Profile(user=u, display_name=f"Neighbor {i}") for i, u in enumerate(users))
    Membership.objects.bulk_create(Membership(user=u, community=community) for u in users)
    return [services.account_for(user=u, community=community, currency="HOUR") for u in users]


def _write_chain(community, accounts: list, entries: int) -> None:
    """A valid chain of ``entries`` entries, written in bulk: transfers round the ring of
    accounts (each balance stays within one hour of zero), hashed and logged (Merkle subtrees)
    as apps.ledger does."""
    from django.db import transaction
    from django.utils import timezone

    from apps.ledger import log
    from apps.ledger.chain import GENESIS_HASH, entry_document, link_hash
    from apps.ledger.models import Account, Chain, Entry, Transfer

    amount = Decimal("1.00")
    now = timezone.now()
    with transaction.atomic():
        transfers = Transfer.objects.bulk_create(
            (
                Transfer(
                    community=community,
                    currency="HOUR",
                    source=accounts[i % len(accounts)],
                    target=accounts[(i + 1) % len(accounts)],
                    amount=amount,
                    kind=Transfer.Kind.GIFT,
                    memo=f"Chain {i}",
                    idempotency_key=f"bench-chain:{community.pk}:{i}",
                    fingerprint="0" * 64,
                    created_at=now,
                )
                for i in range(entries // 2)
            ),
            batch_size=5000,
        )
        balance = {a.pk: Decimal(0) for a in accounts}
        rows, docs, seq, prev = [], [], 0, GENESIS_HASH
        for t in transfers:
            for account_id, delta in ((t.source_id, -amount), (t.target_id, amount)):
                balance[account_id] += delta
                seq += 1
                doc = entry_document(
                    seq=seq, transfer=t, account_id=account_id, amount=delta, balance_after=balance[account_id]
                )
                digest = link_hash(prev, doc)
                docs.append(doc)
                rows.append(
                    Entry(
                        transfer=t,
                        account_id=account_id,
                        community=community,
                        seq=seq,
                        amount=delta,
                        balance_after=balance[account_id],
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
        Entry.objects.bulk_create(rows, batch_size=5000)
        # The same entries' Merkle log (apps.ledger.log), so proofs and checkpoints of this chain work.
        log.rebuild(community_id=community.pk, documents=iter(docs))
        for pk, value in balance.items():
            Account.objects.filter(pk=pk).update(balance=value)
        Chain.objects.update_or_create(community=community, defaults={"last_seq": seq, "last_hash": prev})


def _longest_chain(stamp: int):
    """The community with the longest chain, or (without scale data) one made for it."""
    from apps.ledger.models import Chain
    from apps.peers.factories import CommunityFactory

    head = Chain.objects.select_related("community").order_by("-last_seq").first()
    if head is not None and head.last_seq >= MIN_ENTRIES:
        return head.community, False
    community = CommunityFactory(slug=f"bench-chain-{stamp}", name=f"Ledger chain bench {stamp}")
    _write_chain(community, _members(community, MEMBERS, stamp), MIN_ENTRIES)
    return community, True


def _api_community(longest):
    """The community whose chain is nearest ``API_CHAIN`` entries (the longest one when
    none is that long): the API recomputes it twice, within the section's time."""
    from django.db.models import F, Func

    from apps.ledger.models import Chain

    nearest = (
        Chain.objects.filter(last_seq__gte=min(API_CHAIN // 2, longest.ledger_chain.last_seq))
        .annotate(distance=Func(F("last_seq") - API_CHAIN, function="ABS"))
        .order_by("distance", "community_id")
        .select_related("community")
        .first()
    )
    return nearest.community if nearest else longest


def _bare_read_and_hash(community) -> tuple[float, int]:
    """Read the columns the chain hashes (one query, streamed) and sha256 each row
    chained to the previous hash: what any verification must at least do."""
    from apps.ledger.models import Entry

    columns = (
        "seq",
        "account_id",
        "amount",
        "balance_after",
        "prev_hash",
        "hash",
        "transfer_id",
        "transfer__amount",
        "transfer__source_id",
        "transfer__target_id",
        "transfer__currency",
        "transfer__kind",
        "transfer__memo",
        "transfer__idempotency_key",
        "transfer__reverses_id",
        "transfer__created_at",
    )
    began = time.perf_counter()
    prev, count = "0" * 64, 0
    rows = Entry.objects.filter(community=community).order_by("seq").values_list(*columns)
    for row in rows.iterator(chunk_size=2000):
        prev = hashlib.sha256((prev + "|".join(map(str, row))).encode()).hexdigest()
        count += 1
    return time.perf_counter() - began, count


def _verify(community) -> tuple[float, object]:
    from apps.ledger.chain import verify_community

    began = time.perf_counter()
    report = verify_community(community=community)
    return time.perf_counter() - began, report


def _api_calls(community, accounts: list) -> list[tuple[str, float, dict, bool]]:
    """The verify API as a member: first (cache emptied), cached, after one new transfer,
    cached again. Each: label, ms in process, Server-Timing figures, whether ok."""
    from django.core.cache import cache
    from django.test import Client

    from apps.ledger import chain, services
    from apps.ledger.models import Chain
    from apps.peers.models import Membership
    from bench.timing import parse_server_timing

    member = Membership.objects.filter(community=community, status=Membership.Status.ACTIVE).first().user
    client = Client(HTTP_HOST="localhost")
    client.force_login(member)
    head = Chain.objects.filter(community=community).values_list("last_seq", "last_hash").first()
    cache.delete(chain._cache_key(community, tuple(head)))
    url = f"/api/v1/ledger/verify/?community={community.pk}"

    def call(label: str) -> tuple[str, float, dict, bool]:
        began = time.perf_counter()
        response = client.get(url)
        took = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content[:300]
        return label, took, parse_server_timing(response["Server-Timing"]), response.json()["ok"]

    calls = [call("first call (recomputes the chain)"), call("second call (cached by chain head)")]
    source, target = accounts[0], accounts[1]
    services.transfer_create(
        source=source, target=target, amount="0.50", idempotency_key=f"bench-verify:{time.time_ns()}"
    )
    calls.append(call("after one new transfer (head moved: recomputes)"))
    calls.append(call("the call after that (cached again)"))
    return calls


BARE_TRANSFER = (
    "INSERT INTO bench_ledger_transfer (community_id, currency, source_id, target_id, amount, kind, memo, "
    "idempotency_key, fingerprint, created_at) VALUES (%s, 'HOUR', %s, %s, 0.25, 'gift', '', %s, %s, now()) "
    "RETURNING id"
)
BARE_ENTRY = (
    "INSERT INTO bench_ledger_entry (transfer_id, account_id, community_id, seq, amount, balance_after, "
    "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, 0, %s, %s)"
)


def _transfer_block(pairs: list, first: int, stamp: int) -> tuple[float, int]:
    """These transfers through the service, one transaction each; seconds, refused."""
    from apps.ledger import services
    from p2pcommons.errors import RuleViolation

    refused = 0
    began = time.perf_counter()
    for i, (src, dst) in enumerate(pairs, start=first):
        try:
            services.transfer_create(source=src, target=dst, amount="0.25", idempotency_key=f"bench:{stamp}:{i}")
        except RuleViolation:  # a limit refusal is part of the workload
            refused += 1
    return time.perf_counter() - began, refused


def _bare_block(pairs: list, first: int) -> float:
    """The same number of transactions of one transfer row and its two entry rows, into
    copies of the ledger tables (same columns and indexes), each committed."""
    from django.db import connection, transaction

    community_id = pairs[0][0].community_id
    began = time.perf_counter()
    for i, (src, dst) in enumerate(pairs, start=first):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BARE_TRANSFER, [community_id, src.pk, dst.pk, f"bare:{i}", "0" * 64])
            transfer_id = cursor.fetchone()[0]
            for leg, (account, amount) in enumerate(((src, "-0.25"), (dst, "0.25"))):
                digest = hashlib.sha256(f"{i}:{leg}".encode()).hexdigest()
                cursor.execute(
                    BARE_ENTRY, [transfer_id, account.pk, community_id, 2 * i + leg + 1, amount, "0" * 64, digest]
                )
    return time.perf_counter() - began


def _throughput(accounts: list, deadline: float) -> dict:
    """Transfers through the service and bare inserts, in alternating blocks of BLOCK
    (so both see the same machine), up to TRANSFERS each or until the deadline."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("transfer", "entry"):
            cursor.execute(f"DROP TABLE IF EXISTS bench_ledger_{table}")
            cursor.execute(f"CREATE TABLE bench_ledger_{table} (LIKE ledger_{table} INCLUDING ALL)")
    rng, stamp = random.Random(1), time.time_ns()
    out = {"done": 0, "real_s": 0.0, "bare_s": 0.0, "refused": 0}
    try:
        while out["done"] < TRANSFERS and (out["done"] < MIN_TRANSFERS or time.perf_counter() < deadline):
            pairs = [tuple(rng.sample(accounts, 2)) for _ in range(BLOCK)]
            out["bare_s"] += _bare_block(pairs, out["done"])
            took, refused = _transfer_block(pairs, out["done"], stamp)
            out["real_s"] += took
            out["refused"] += refused
            out["done"] += BLOCK
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_ledger_transfer, bench_ledger_entry")
    return out


def _rows_verify(community, made: bool, verify_s: float, report, bare_s: float, bare_n: int) -> list:
    from bench.report import Row

    per = 10_000 / max(report.checked, 1)
    return [
        Row(
            f"verify_community, per 10k entries ({report.checked:,} entries)",
            verify_s * per,
            "s",
            baseline=bare_s * 10_000 / max(bare_n, 1),
            baseline_name="read the hashed columns + sha256 each",
            note=f"whole chain {verify_s:.1f} s, ok={report.ok}"
            + (" (a chain written for the bench: no scale data)" if made else f" (community {community.slug})"),
            extra={
                "entries": report.checked,
                "ok": report.ok,
                "verify_s": round(verify_s, 3),
                "bare_s": round(bare_s, 3),
            },
        )
    ]


def _rows_api(calls: list, entries: int) -> list:
    from bench.report import Row

    first_ms = calls[0][1]
    rows = []
    for label, ms, timing, ok in calls:
        rows.append(
            Row(
                f"verify API ({entries:,} entries), {label}",
                ms,
                "ms",
                baseline=first_ms if rows else None,
                baseline_name="first call" if rows else "",
                note=f"{timing.get('queries', 0):.0f} queries, {timing.get('db', 0):.1f} ms in the database, ok={ok}",
                extra={"server_timing": timing},
            )
        )
    return rows


def main() -> int:
    started = time.perf_counter()
    _setup_django()
    from apps.peers.factories import CommunityFactory
    from bench.report import Row, write_section

    stamp = int(time.time())
    community, made = _longest_chain(stamp)
    print(f"longest chain: {community.slug} (written for the bench: {made}) in {time.perf_counter() - started:.1f} s")
    bare_verify_s, bare_n = _bare_read_and_hash(community)
    verify_s, report = _verify(community)
    print(
        f"verify: {report.checked} entries in {verify_s:.2f} s (bare {bare_verify_s:.2f} s), ok={report.ok}", flush=True
    )
    rows = _rows_verify(community, made, verify_s, report, bare_verify_s, bare_n)

    from apps.ledger.models import Account

    api_community = _api_community(community)
    chain_accounts = list(Account.objects.filter(community=api_community, currency="HOUR", owner__isnull=False)[:2])
    calls = _api_calls(api_community, chain_accounts)
    for label, ms, timing, ok in calls:
        print(f"verify API {label}: {ms:.1f} ms {timing} ok={ok}", flush=True)
    rows += _rows_api(calls, api_community.ledger_chain.last_seq)

    write_section("ledger", "Ledger: verification and transfers", rows, elapsed_s=time.perf_counter() - started)

    own = CommunityFactory(slug=f"bench-ledger-{stamp}", name=f"Ledger bench {stamp}")
    accounts = _members(own, MEMBERS, stamp)
    t = _throughput(accounts, deadline=started + TIME_LIMIT_S - 20)
    done = t["done"]
    print(f"transfers: {done / t['real_s']:.0f}/s ({t['refused']} refused); bare {done / t['bare_s']:.0f}/s")
    rows.append(
        Row(
            f"transfers/s in process through transfer_create ({done:,}, one writer)",
            done / t["real_s"],
            "transfers/s",
            baseline=done / t["bare_s"],
            baseline_name="bare inserts: 1 transfer + 2 entry rows per transaction",
            note=f"{t['real_s'] / done * 1000:.2f} ms each; {t['refused']} refused by a limit",
            extra=t,
        )
    )
    own_report = _verify(own)[1]
    notes = [
        f"Transfers between {MEMBERS} members of a community of their own; its chain verifies afterwards: "
        f"ok={own_report.ok} ({own_report.checked:,} entries).",
        "Verify API timed in process through Django's test client and the whole middleware stack (Server-Timing: "
        "queries and database time); the cache is the bench's Redis.",
    ]
    notes.append(load_note())
    write_section(
        "ledger", "Ledger: verification and transfers", rows, notes=notes, elapsed_s=time.perf_counter() - started
    )
    return 0 if report.ok and own_report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
