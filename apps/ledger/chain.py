"""The hash chain: canonical entry documents, the export, and verification.

The canonical form and the checks are those of ``scripts/verify_ledger_export.py``,
imported here, so the server and the standalone verifier share one definition.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.peers.models import Community
from scripts.verify_ledger_export import (
    CANONICAL_VERSION,
    FORMAT,
    GENESIS_HASH,
    Report,
    link_hash,
    verify_export,
)

from . import log, merkle
from .models import Account, Chain, Checkpoint, Entry, Transfer

__all__ = [
    "GENESIS_HASH",
    "Report",
    "entry_document",
    "export_community",
    "export_stream",
    "link_hash",
    "verify_community",
    "verify_community_cached",
]

# How long a verification answer is reused while the chain head stays the same. A new
# entry changes the head and so the key; the management command never uses the cache.
VERIFY_CACHE_SECONDS = 300


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_document(*, seq: int, transfer: Transfer, account_id: int, amount: Decimal, balance_after: Decimal) -> dict:
    """The fields an entry's hash covers (canonical form v2), as they appear in the export:
    the entry's own, and everything a person reads about its transfer."""
    return {
        "v": CANONICAL_VERSION,
        "seq": seq,
        "community": transfer.community_id,
        "account": account_id,
        "amount": money(amount),
        "balance_after": money(balance_after),
        "transfer": transfer.pk,
        "transfer_amount": money(transfer.amount),
        "source": transfer.source_id,
        "target": transfer.target_id,
        "currency": transfer.currency,
        "kind": transfer.kind,
        "memo": transfer.memo,
        "idempotency_key": transfer.idempotency_key,
        "reverses": transfer.reverses_id,
        "created_at": instant(transfer.created_at),
    }


@dataclass(frozen=True)
class Snapshot:
    """One consistent moment of a community's ledger: its accounts (with balances), the
    chain head and the last entry, read together under the chain head's lock."""

    accounts: list[dict]
    head: tuple[int, str]
    last: tuple[int, str]


def _snapshot(community: Community) -> Snapshot:
    """Read accounts, head and last entry under the chain head's row lock, held only for
    these three queries: every transfer takes that lock first, so none is half-seen."""
    with transaction.atomic():
        head = Chain.objects.select_for_update().filter(community=community).values_list("last_seq", "last_hash")
        last = Entry.objects.filter(community=community).order_by("-seq").values_list("seq", "hash")
        accounts = Account.objects.filter(community=community).select_related("owner__profile").order_by("id")
        head_row = head.first() or (0, GENESIS_HASH)
        last_row = last.first() or (0, GENESIS_HASH)
        rows = [
            {
                "id": a.pk,
                "currency": a.currency,
                "holder": a.holder_name,
                "limit": money(a.limit),
                "balance": money(a.balance),
            }
            for a in accounts
        ]
    return Snapshot(accounts=rows, head=tuple(head_row), last=tuple(last_row))


# What ``_entries`` reads per entry: the entry's columns and its transfer's, as tuples.
# Model instances for a long chain cost more than the hashing (about 40% of a verify).
_ENTRY_COLUMNS = (
    "pk",
    "seq",
    "account_id",
    "amount",
    "balance_after",
    "prev_hash",
    "hash",
    "transfer_id",
    "transfer__community_id",
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


def _entries(community: Community, *, upto: int, since: int = 1) -> Iterator[dict]:
    """The entries ``since`` to ``upto`` (seq), in chain order, streamed in chunks (one query):
    each the document ``entry_document`` makes (same keys, same order), then id and hashes."""
    rows = (
        Entry.objects.filter(community=community, seq__gte=since, seq__lte=upto)
        .order_by("seq")
        .values_list(*_ENTRY_COLUMNS)
    )
    for (
        pk,
        seq,
        account_id,
        amount,
        balance_after,
        prev_hash,
        digest,
        transfer_id,
        community_id,
        transfer_amount,
        source_id,
        target_id,
        currency,
        kind,
        memo,
        idempotency_key,
        reverses_id,
        created_at,
    ) in rows.iterator(chunk_size=2000):
        yield {
            "v": CANONICAL_VERSION,
            "seq": seq,
            "community": community_id,
            "account": account_id,
            "amount": money(amount),
            "balance_after": money(balance_after),
            "transfer": transfer_id,
            "transfer_amount": money(transfer_amount),
            "source": source_id,
            "target": target_id,
            "currency": currency,
            "kind": kind,
            "memo": memo,
            "idempotency_key": idempotency_key,
            "reverses": reverses_id,
            "created_at": instant(created_at),
            "id": pk,
            "prev_hash": prev_hash,
            "hash": digest,
        }


def export_stream(*, community: Community) -> Iterator[str]:
    """The community's whole ledger as a self-verifiable JSON document, in pieces, so a
    long chain is never held in memory. Four queries, however many entries.

    Accounts carry the holder's public display name, never private data.
    """
    snapshot = _snapshot(community)
    header = {
        "format": FORMAT,
        "community": {"id": community.pk, "slug": community.slug, "name": community.name},
        "exported_at": instant(timezone.now()),
        "accounts": snapshot.accounts,
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "entries": ['
    separator = ""
    for doc in _entries(community, upto=snapshot.last[0]):
        yield separator + json.dumps(doc, ensure_ascii=False)
        separator = ", "
    yield "]}"


def export_community(*, community: Community) -> dict:
    """The export as one dict (what ``export_stream`` sends, parsed)."""
    return json.loads("".join(export_stream(community=community)))


class _TreeOfEntries:
    """Feeds every entry verify_export reads into a Merkle tree of its own (the entry's
    canonical text as the leaf, as ``apps.ledger.log`` stores it), noting the root at each
    checkpoint's size on the way: one pass checks the chain and the signed log together."""

    def __init__(self, entries: Iterator[dict], sizes: set[int]) -> None:
        self.entries, self.sizes = entries, sizes
        self.compact = merkle.CompactRange()
        self.roots: dict[int, bytes] = {}

    def __iter__(self) -> Iterator[dict]:
        for entry in self.entries:
            self.compact.append(merkle.leaf_hash(log.leaf_bytes(entry)))
            if self.compact.size in self.sizes:
                self.roots[self.compact.size] = self.compact.root()
            yield entry


def _check_log(report: Report, community: Community, size: int, tree: _TreeOfEntries, signed: list) -> None:
    """The stored Merkle log and every checkpoint must agree with the entries as they are now."""
    if tree.compact.size != size:
        return  # the chain check has already failed (missing or extra entries)
    if log.root(community_id=community.pk, size=size) != tree.compact.root():
        report.fail(f"the stored Merkle log of {size} entries does not match the entries")
    for number, checkpoint_size, root in signed:
        if tree.roots.get(checkpoint_size) != bytes(root):
            report.fail(f"checkpoint {number} ({checkpoint_size} entries) was signed for other entries than these")
            return


def _verify(community: Community) -> tuple[Report, Snapshot]:
    snapshot = _snapshot(community)
    size = snapshot.last[0]
    signed = list(
        Checkpoint.objects.filter(community=community, size__lte=size)
        .order_by("size")
        .values_list("number", "size", "root")
    )
    tree = _TreeOfEntries(_entries(community, upto=size), {s for _, s, _ in signed})
    export = {"format": FORMAT, "accounts": snapshot.accounts, "entries": tree}
    report = verify_export(export)
    _check_log(report, community, size, tree, signed)
    if snapshot.head != snapshot.last:
        report.fail(
            f"the chain head records {snapshot.head[0]} entries ending in hash {snapshot.head[1][:12]}... "
            f"but the last entry is #{snapshot.last[0]} with hash {snapshot.last[1][:12]}..."
        )
    return report, snapshot


def verify_community(*, community: Community) -> Report:
    """Recompute the community's chain and balances from the database, and check that
    the chain head agrees with the last entry (so dropped trailing entries show too)."""
    return _verify(community)[0]


def _cache_key(community: Community, head: tuple[int, str]) -> str:
    return f"ledger:verify:v{CANONICAL_VERSION}:{community.pk}:{head[0]}:{head[1]}"


def verify_community_cached(*, community: Community) -> Report:
    """``verify_community``, answered from the cache while the chain head (its length and
    last hash) is the one that was verified: one query instead of the whole chain.

    For members' pages and the API; ``manage.py verify_ledger`` always recomputes.
    """
    head = Chain.objects.filter(community=community).values_list("last_seq", "last_hash").first()
    cached = cache.get(_cache_key(community, tuple(head or (0, GENESIS_HASH))))
    if cached is not None:
        return Report(**cached)
    report, snapshot = _verify(community)
    cache.set(_cache_key(community, snapshot.head), report.as_dict(), VERIFY_CACHE_SECONDS)
    return report
