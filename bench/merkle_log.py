"""Benchmark section "merkle_log": appending to the stored Merkle log, and proofs from it.

    BENCH_ONLY=merkle_log make bench          (or: python -m bench.merkle_log with the bench settings)
    BENCH_LOG_APPENDS=2000 python -m bench.merkle_log   (a smaller log, for trying it out and its test)

The claim of apps/ledger/log.py is that the log costs O(log n) per append and per proof, read from
stored subtrees with one query, so neither slows as a community's ledger grows. Measured here:

1. **Appends**: ``BENCH_LOG_APPENDS`` entries (100,000 by default; a little more, so the last
   window is centred on it) appended through ``apps.ledger.log.append`` to the real database log
   of a community of its own. Around 1,000, 10,000 and 100,000 entries (within ``WINDOW``), two
   entries per call in one transaction each, as a transfer does, each timed; in between, in
   batches of ``FILL`` per call (the same function writes the same rows, so the log at each window
   is the one 2-entry appends would have made; only the section's time is spared). The entries
   are documents of the very shape ``apps.ledger.chain.entry_document`` makes (made-up transfer
   ids: the log reads nothing else), not transfers through ``transfer_create``: that one is serial
   on the chain head's lock and measured, with this append inside it, by the ledger section.
   Time per append (µs) is the median of each window: it must be about flat. Queries per append are
   counted (without BEGIN/COMMIT, which only SQLite's driver sends as statements).
2. **Proofs** at the final size: 1,000 inclusion proofs of random entries and 1,000 consistency
   proofs from random earlier sizes, built from the stored subtrees (``log.inclusion_proof``,
   ``log.consistency_proof``), mean µs and queries per proof; a sample of each is verified.
3. **Baseline, same run**: the same documents through ``merkle.CompactRange`` alone (canonical
   text, leaf hash, right edge, all in memory) and the same proofs from an in-memory subtree
   store: what the database adds is the difference.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

from bench.report import Row, growth_per_10x, load_note, write_section

APPENDS = int(os.environ.get("BENCH_LOG_APPENDS", "100000"))  # entries, two per append
PROOFS = int(os.environ.get("BENCH_LOG_PROOFS", "1000"))
WINDOW = 100  # entries either side of each measuring point
POINTS = (1_000, 10_000, 100_000)
FILL = 2_000  # entries per transaction between the measuring windows
FLAT = 2.0  # the append at the last point may cost at most this many times the one at the first: O(log n)
# reads stay within it from 1k to 100k entries, a scan of the community's rows (O(n)) is ~100x


def _setup_django() -> None:
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)


def documents(community_id: int, count: int) -> list[dict]:
    """``count`` entry documents as ``entry_document`` makes them: two per transfer, in seq order."""
    from apps.ledger.chain import entry_document

    rng = random.Random(19)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    balances: dict[int, Decimal] = {}
    docs = []
    for t in range((count + 1) // 2):
        source, target = rng.sample(range(1, 201), 2)
        amount = Decimal(rng.randint(1, 12)) / 4
        transfer = SimpleNamespace(
            pk=t + 1,
            community_id=community_id,
            amount=amount,
            source_id=source,
            target_id=target,
            currency="HOUR",
            kind="gift",
            memo=rng.choice(("Thanks for the ladder", "Bike repair", "", "Soep voor de buren")),
            idempotency_key=f"bench-log-{t}",
            reverses_id=None,
            created_at=created,
        )
        for account, delta in ((source, -amount), (target, amount)):
            balances[account] = balances.get(account, Decimal(0)) + delta
            docs.append(
                entry_document(
                    seq=len(docs) + 1,
                    transfer=transfer,
                    account_id=account,
                    amount=delta,
                    balance_after=balances[account],
                )
            )
    return docs[:count]


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        if not _is_control(sql):
            self.count += 1
        return execute(sql, params, many, context)


def _points(total: int) -> list[int]:
    """The measuring points that fit a log of ``total`` entries (the last always: ``total``)."""
    return sorted({p for p in POINTS if p + WINDOW <= total} | {total - WINDOW})


def _window(times: list[tuple[int, float]], point: int) -> tuple[float, float]:
    """Median and mean seconds of the appends whose entries lie within WINDOW of ``point``: the
    median is the figure (one commit that waits on the disk or a garbage collection moves a mean
    of 100 appends by more than the log's growth would), the mean goes into the row's extra."""
    picked = [took for size, took in times if point - WINDOW < size <= point + WINDOW]
    return statistics.median(picked), statistics.fmean(picked)


def _is_control(sql: str) -> bool:
    """Transaction control (SQLite's BEGIN/COMMIT pass the wrapper, PostgreSQL's do not): not a query."""
    return sql.lstrip()[:9].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"))


def append_stored(community_id: int, docs: list[dict], points: list[int]) -> tuple[list[tuple[int, float]], int]:
    """Append the documents through ``log.append``: two per transaction, timed, within WINDOW of
    each measuring point; in batches of FILL per transaction in between (the same call and the
    same rows, so the log is the same; only the section's time is spared). Returns (size after,
    seconds) per timed append and the queries of the timed appends."""
    from django.db import connection, transaction

    from apps.ledger import log

    times: list[tuple[int, float]] = []
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        if not _is_control(sql):
            queries += 1
        return execute(sql, params, many, context)

    size = 0
    while size < len(docs):
        timed = any(p - WINDOW <= size < p + WINDOW for p in points)
        if timed:
            batch = docs[size : size + 2]
            began = time.perf_counter()
            with connection.execute_wrapper(count), transaction.atomic():
                new_size = log.append(community_id=community_id, size=size, documents=batch)
            times.append((new_size, time.perf_counter() - began))
        else:
            upto = min([len(docs)] + [p - WINDOW for p in points if p - WINDOW > size])
            batch = docs[size : min(upto, size + FILL)]
            with transaction.atomic():
                new_size = log.append(community_id=community_id, size=size, documents=batch)
        size = new_size
    return times, queries


def append_memory(docs: list[dict]) -> tuple[list[tuple[int, float]], object]:
    """The same appends with ``merkle.CompactRange`` alone, keeping the subtrees in memory."""
    from apps.ledger import log, merkle

    compact, store, times = merkle.CompactRange(), merkle.SubtreeStore(), []
    for i in range(0, len(docs), 2):
        began = time.perf_counter()
        for doc in docs[i : i + 2]:
            store.add(compact.append(merkle.leaf_hash(log.leaf_bytes(doc))))
        times.append((compact.size, time.perf_counter() - began))
    return times, store


def proofs(community_id: int, size: int, store, count: int) -> dict:
    """Mean seconds and queries per inclusion and consistency proof from the stored subtrees, and
    the same from the in-memory store; a sample of the stored ones verified against the root."""
    from django.db import connection

    from apps.ledger import log, merkle

    rng = random.Random(9162)
    seqs = [rng.randint(1, size) for _ in range(count)]
    firsts = [rng.randint(1, size - 1) for _ in range(count)]
    out: dict[str, float] = {}
    root = log.root(community_id=community_id, size=size)
    for kind, make, make_memory in (
        (
            "inclusion",
            lambda n: log.inclusion_proof(community_id=community_id, seq=n, size=size),
            lambda n: merkle.inclusion_proof_from_subtrees(n - 1, size, store),
        ),
        (
            "consistency",
            lambda n: log.consistency_proof(community_id=community_id, size1=n, size2=size),
            lambda n: merkle.consistency_proof_from_subtrees(n, size, store),
        ),
    ):
        args = seqs if kind == "inclusion" else firsts
        counter = _Counter()
        made = []
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            for n in args:
                made.append(make(n))
            out[f"{kind}_s"] = (time.perf_counter() - began) / count
        out[f"{kind}_queries"] = counter.count / count
        began = time.perf_counter()
        for n in args:
            make_memory(n)
        out[f"{kind}_memory_s"] = (time.perf_counter() - began) / count
        for n, proof in list(zip(args, made, strict=True))[:50]:
            if kind == "inclusion":
                merkle.verify_inclusion(n - 1, size, store(0, n - 1), proof, root)
            else:
                merkle.verify_consistency(n, size, merkle.root_from_subtrees(n, store), root, proof)
    return out


def rows_for(stored: list, memory: list, queries: int, proof: dict, total: int) -> tuple[list[Row], bool, float]:
    points = _points(total)
    windows = {p: _window(stored, p) for p in points}
    per = {p: windows[p][0] for p in points}
    base = {p: _window(memory, p)[0] for p in points}
    first, last = points[0], points[-1]
    flat = per[last] <= FLAT * per[first]
    rows = []
    for p in points:
        is_last = p == last and last != first
        rows.append(
            Row(
                f"log.append of 2 entries, one transaction, around {p:,} entries",
                per[p] * 1e6,
                "µs",
                baseline=base[p] * 1e6,
                baseline_name="merkle.CompactRange in memory",
                target=f"<= {FLAT}x the figure at {first:,}" if is_last else "",
                met=flat if is_last else None,
                note=f"median of the appends within {WINDOW} entries of {p:,}",
                extra={"mean_us": round(windows[p][1] * 1e6, 1)},
            )
        )
    appends = len(stored)
    rows.append(
        Row(
            "queries per append (read the right edge, insert the new subtrees)",
            queries / appends,
            "queries",
            target="<= 2",
            met=queries / appends <= 2,
            extra={"appends": appends, "queries": queries},
        )
    )
    for kind in ("inclusion", "consistency"):
        rows.append(
            Row(
                f"{kind} proof from stored subtrees at {total:,} entries",
                proof[f"{kind}_s"] * 1e6,
                "µs",
                baseline=proof[f"{kind}_memory_s"] * 1e6,
                baseline_name="the same from subtrees in memory",
                note=f"mean of {PROOFS:,} random proofs, {proof[f'{kind}_queries']:.1f} queries each",
                extra={"queries": proof[f"{kind}_queries"]},
            )
        )
    growth = growth_per_10x(first, per[first], last, per[last]) if last > first else float("nan")
    return rows, flat, growth


def main() -> int:
    started = time.perf_counter()
    _setup_django()
    from django.db import connection

    from apps.ledger import log, merkle
    from apps.peers.factories import CommunityFactory

    stamp = int(time.time())
    total = APPENDS + WINDOW
    community = CommunityFactory(slug=f"bench-log-{stamp}", name=f"Merkle log bench {stamp}")
    docs = documents(community.pk, total)
    memory, store = append_memory(docs)
    print(f"in memory: {total:,} entries in {sum(t for _, t in memory):.2f} s", flush=True)
    stored, queries = append_stored(community.pk, docs, _points(total))
    print(f"stored: {total:,} entries, {len(stored)} appends timed, {queries / len(stored):.2f} q/append", flush=True)
    root_ok = log.root(community_id=community.pk, size=total) == merkle.root_from_subtrees(total, store)
    proof = proofs(community.pk, total, store, PROOFS)
    print(f"proofs: {proof}", flush=True)
    rows, flat, growth = rows_for(stored, memory, queries, proof, total)
    notes = [
        f"A log of {total:,} entries of a community of its own on {connection.vendor}, all through "
        f"apps.ledger.log.append: two entries per transaction (timed) within {WINDOW} entries of each point, "
        f"batches of {FILL:,} in between (transfer_create, which calls it under the chain head's lock, is "
        "measured by the ledger section).",
        f"Cost per append grows {growth:.2f}x per 10x more entries (1.0 is flat); the stored root equals the "
        f"in-memory one: {root_ok}; sampled proofs verify.",
        load_note(),
    ]
    write_section(
        "merkle_log", "Ledger: the signed Merkle log", rows, notes=notes, elapsed_s=time.perf_counter() - started
    )
    for row in rows:
        print(f"{row.name}: {row.value:.1f} {row.unit} (baseline {row.baseline}) met={row.met}")
    return 0 if root_ok and flat else 1


if __name__ == "__main__":
    sys.exit(main())
