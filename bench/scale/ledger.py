"""The ledger: transfers and entries built with the ledger's own hash chain, and each
community's Merkle log over them (the subtrees ``apps.ledger.log.append`` stores), so proofs
and checkpoints of the scale data work (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .base import CENT, Ctx, next_id, reset_sequences, write


@dataclass(slots=True)
class _Transfer:
    """The transfer fields the canonical entry document reads (``apps.ledger.chain``)."""

    pk: int
    community_id: int
    source_id: int
    target_id: int
    amount: Decimal
    currency: str
    kind: str
    memo: str
    idempotency_key: str
    created_at: datetime
    reverses_id: int | None = None


TRANSFER_COLUMNS = [
    "id",
    "community_id",
    "currency",
    "source_id",
    "target_id",
    "amount",
    "kind",
    "memo",
    "idempotency_key",
    "fingerprint",
    "created_at",
]
ENTRY_COLUMNS = [
    "id",
    "transfer_id",
    "account_id",
    "community_id",
    "seq",
    "amount",
    "balance_after",
    "prev_hash",
    "hash",
]
MEMOS = ("Thanks for the help!", "For the ladder", "Bike repair", "Babysitting", "Garden work", "", "", "Groceries")


def _gift(rng: random.Random, ids: dict, members: list[int], currency: str) -> tuple[list, list, Decimal]:
    """A sender, a receiver and an amount the sender can afford: when the first pick
    can't, the richer of the two sends what it can (a balance never goes below its limit)."""
    while True:
        amount = Decimal(rng.randint(2, 16)) / 4 if currency == "HOUR" else Decimal(rng.randint(100, 3000)) * CENT
        src, dst = rng.sample(members, 2)
        src, dst = ids[(src, currency)], ids[(dst, currency)]
        if src[1] - amount < src[2]:
            if dst[1] - dst[2] > src[1] - src[2]:
                src, dst = dst, src
            amount = min(amount, src[1] - src[2])
        if amount > 0:
            return src, dst, amount


def seed_ledger(ctx: Ctx) -> dict[str, int]:
    """Accounts (each member, both currencies, the community's default limits) and gifts
    between members of one community, chained exactly as ``transfer_create`` does:
    the same canonical document, link hash and fingerprint, a balance never below its
    limit, and each chain head at its last entry."""
    from django.db import connection

    from apps.ledger import log, merkle
    from apps.ledger.chain import entry_document, link_hash
    from apps.ledger.models import Account, Chain, Entry, LogNode, Transfer
    from apps.ledger.services import _fingerprint

    # LogNode.hash is bytea: COPY's text form of it is \x and hex; bulk_create takes the bytes.
    as_bytea = (lambda digest: "\\x" + digest.hex()) if connection.vendor == "postgresql" else bytes

    rng, now = ctx.rng, ctx.now
    account_id, transfer_id, entry_id = next_id(Account), next_id(Transfer), next_id(Entry)
    accounts, chains = [], []
    totals = {"transfers": 0, "entries": 0, "log_nodes": 0}
    span = timedelta(days=365).total_seconds()
    for index, entries in enumerate(ctx.split(ctx.total("ledger_entries"))):
        community = ctx.communities[index]
        ids = {}  # (member, currency) -> [account id, balance, limit]
        for member in ctx.members[index]:
            for currency, limit in (("HOUR", community.default_hour_limit), ("CREDIT", community.default_credit_limit)):
                ids[(member, currency)] = [account_id, Decimal("0.00"), limit]
                account_id += 1
        transfers, legs, nodes = [], [], []
        compact = merkle.CompactRange()  # the community's Merkle log (apps.ledger.log), as append writes it
        seq, prev = 0, Chain._meta.get_field("last_hash").default
        n = entries // 2
        members = ctx.members[index]
        for k in range(n):
            currency = "HOUR" if rng.random() < 0.5 else "CREDIT"
            src, dst, amount = _gift(rng, ids, members, currency)
            created = now - timedelta(seconds=span * (n - k) / n + rng.random())
            t = _Transfer(
                transfer_id,
                community.pk,
                src[0],
                dst[0],
                amount,
                currency,
                "gift",
                rng.choice(MEMOS),
                f"scale-{community.pk}-{k}",
                created,
            )
            fingerprint = _fingerprint(
                source=t.source_id,
                target=t.target_id,
                amount=f"{amount:.2f}",
                memo=t.memo,
                kind=t.kind,
                related=None,
                reverses=None,
            )
            transfers.append(
                (
                    t.pk,
                    t.community_id,
                    currency,
                    t.source_id,
                    t.target_id,
                    amount,
                    t.kind,
                    t.memo,
                    t.idempotency_key,
                    fingerprint,
                    created,
                )
            )
            for account, delta in ((src, -amount), (dst, amount)):
                account[1] += delta
                seq += 1
                doc = entry_document(seq=seq, transfer=t, account_id=account[0], amount=delta, balance_after=account[1])
                digest = link_hash(prev, doc)
                legs.append((entry_id, t.pk, account[0], community.pk, seq, delta, account[1], prev, digest))
                for node in compact.append(merkle.leaf_hash(log.leaf_bytes(doc))):
                    nodes.append((community.pk, node.level, node.index, as_bytea(node.hash)))
                prev = digest
                entry_id += 1
            transfer_id += 1
        holders = {acc[0]: (member, currency) for (member, currency), acc in ids.items()}
        accounts += [
            (pk, community.pk, holders[pk][1], holders[pk][0], bal, limit, now - timedelta(days=366))
            for pk, bal, limit in ids.values()
        ]
        # Foreign keys are checked at commit, so the entries may go in before their accounts,
        # whose final balances are known only now; one community's rows at a time in memory.
        write(Transfer, TRANSFER_COLUMNS, transfers)
        write(Entry, ENTRY_COLUMNS, legs)
        write(LogNode, ["community_id", "level", "index", "hash"], nodes)
        chains.append((community.pk, seq, prev))
        totals["transfers"] += len(transfers)
        totals["entries"] += len(legs)
        totals["log_nodes"] += len(nodes)
    write(Account, ["id", "community_id", "currency", "owner_id", "balance", "limit", "created_at"], accounts)
    for community_id, last_seq, last_hash in chains:
        Chain.objects.update_or_create(
            community_id=community_id, defaults={"last_seq": last_seq, "last_hash": last_hash}
        )
    reset_sequences([Account, Transfer, Entry])
    return {"accounts": len(accounts), **totals}
