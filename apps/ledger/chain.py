"""The hash chain: canonical entry documents, the export, and verification.

The canonical form and the checks are those of ``scripts/verify_ledger_export.py``,
imported here, so the server and the standalone verifier share one definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from apps.peers.models import Community
from scripts.verify_ledger_export import FORMAT, GENESIS_HASH, Report, link_hash, verify_export

from .models import Account, Chain, Entry, Transfer

__all__ = ["GENESIS_HASH", "Report", "entry_document", "export_community", "link_hash", "verify_community"]


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_document(*, seq: int, transfer: Transfer, account_id: int, amount: Decimal, balance_after: Decimal) -> dict:
    """The fields an entry's hash covers, as they appear in the export."""
    return {
        "seq": seq,
        "community": transfer.community_id,
        "transfer": transfer.pk,
        "kind": transfer.kind,
        "memo": transfer.memo,
        "currency": transfer.currency,
        "account": account_id,
        "amount": money(amount),
        "balance_after": money(balance_after),
        "created_at": instant(transfer.created_at),
    }


def _entries(community: Community) -> Iterator[dict]:
    rows: QuerySet[Entry] = Entry.objects.filter(community=community).select_related("transfer").order_by("seq")
    for entry in rows.iterator(chunk_size=2000):
        doc = entry_document(
            seq=entry.seq,
            transfer=entry.transfer,
            account_id=entry.account_id,
            amount=entry.amount,
            balance_after=entry.balance_after,
        )
        doc.update(id=entry.pk, prev_hash=entry.prev_hash, hash=entry.hash)
        yield doc


def export_community(*, community: Community) -> dict:
    """The community's whole ledger as a self-verifiable document.

    Accounts carry the holder's public display name, never private data.
    """
    accounts = Account.objects.filter(community=community).select_related("owner__profile").order_by("id")
    return {
        "format": FORMAT,
        "community": {"id": community.pk, "slug": community.slug, "name": community.name},
        "exported_at": instant(timezone.now()),
        "accounts": [
            {
                "id": a.pk,
                "currency": a.currency,
                "holder": a.holder_name,
                "limit": money(a.limit),
                "balance": money(a.balance),
            }
            for a in accounts
        ],
        "entries": list(_entries(community)),
    }


def verify_community(*, community: Community) -> Report:
    """Recompute the community's chain and balances from the database, and check that
    the chain head agrees with the last entry (so dropped trailing entries show too)."""
    export = export_community(community=community)
    report = verify_export(export)
    head = Chain.objects.filter(community=community).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    entries = export["entries"]
    last_seq, last_hash = (entries[-1]["seq"], entries[-1]["hash"]) if entries else (0, GENESIS_HASH)
    if report.ok and (head_seq, head_hash) != (last_seq, last_hash):
        report.fail(f"the chain head records {head_seq} entries but the last entry is #{last_seq}")
    return report
