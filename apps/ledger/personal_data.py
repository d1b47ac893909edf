"""What apps/ledger holds about a member, for their data download (apps.privacy): their
accounts, every entry on them with its sequence number and hash, and the limit changes.

``ledger_documents(user)`` gives one document per community in the format
``scripts/verify_ledger_export.py --entries`` checks against the community's export.
"""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter
from scripts.verify_ledger_export import ENTRIES_FORMAT

from .chain import entry_document
from .models import Account, Entry, LimitChange


def _entries(user):
    return (
        Entry.objects.filter(account__owner=user)
        .select_related("transfer", "community", "account")
        .order_by("community_id", "seq")
    )


def _entry_doc(entry: Entry) -> dict:
    doc = entry_document(
        seq=entry.seq,
        transfer=entry.transfer,
        account_id=entry.account_id,
        amount=entry.amount,
        balance_after=entry.balance_after,
    )
    doc.update(id=entry.pk, prev_hash=entry.prev_hash, hash=entry.hash)
    return doc


def export(user) -> dict[str, list[dict]]:
    accounts = Account.objects.filter(owner=user)
    names = {
        a.pk: a.holder_name
        for a in Account.objects.filter(
            pk__in=set(Entry.objects.filter(account__owner=user).values_list("transfer__source_id", flat=True))
            | set(Entry.objects.filter(account__owner=user).values_list("transfer__target_id", flat=True))
        ).select_related("owner__profile")
    }
    entries = []
    for entry in _entries(user):
        doc = _entry_doc(entry)
        other = doc["target"] if doc["account"] == doc["source"] else doc["source"]
        entries.append(
            {
                "id": entry.pk,
                "community_id": entry.community_id,
                "community_slug": entry.community.slug,
                "seq": entry.seq,
                "account_id": entry.account_id,
                "currency": doc["currency"],
                "amount": doc["amount"],
                "balance_after": doc["balance_after"],
                "transfer_id": doc["transfer"],
                "kind": doc["kind"],
                "memo": doc["memo"],
                "counterparty": names.get(other, ""),
                "created_at": doc["created_at"],
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            }
        )
    return {
        "ledger_accounts": rows(
            accounts,
            {
                "id": "id",
                "community_id": "community_id",
                "community_slug": "community__slug",
                "currency": "currency",
                "balance": "balance",
                "limit": "limit",
                "created_at": "created_at",
            },
        ),
        "ledger_entries": entries,
        "ledger_limit_changes": rows(
            LimitChange.objects.filter(account__owner=user),
            ["id", "account_id", "old_limit", "new_limit", "reason", "created_at"],
        ),
    }


def ledger_documents(user) -> dict[str, dict]:
    """Community slug -> the member's entries there, as ``verify_ledger_export.py
    --entries`` reads them (each entry the community export's own form)."""
    out: dict[str, dict] = {}
    for entry in _entries(user):
        community = entry.community
        doc = out.setdefault(
            community.slug,
            {
                "format": ENTRIES_FORMAT,
                "community": {"id": community.pk, "slug": community.slug, "name": community.name},
                "accounts": sorted(
                    Account.objects.filter(owner=user, community=community).values_list("pk", flat=True)
                ),
                "entries": [],
            },
        )
        doc["entries"].append(_entry_doc(entry))
    return out


register_exporter("ledger", export)
