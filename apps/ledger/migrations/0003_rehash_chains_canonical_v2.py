"""Re-hash every community's chain in canonical form v2.

v1 hashed an entry with its transfer's kind, memo, currency and time only, so a changed
transfer amount, source or target went unnoticed. v2 (see scripts/verify_ledger_export.py
and the README) also covers the transfer's amount, both accounts, idempotency key and
reversal link, and carries "v": 2. The format was not yet published, so the chains are
re-hashed in place rather than kept in two forms. Backwards re-hashes in v1.

The documents are built here, frozen, not imported: a later canonical form must not
change what this migration wrote. A chain that was already broken is re-hashed only up
to its first broken link (see ``_rehash``). On PostgreSQL the append-only trigger of the entry
table is switched off for the re-hash (by the table's owner) and back on after it.
"""

import hashlib
import json
from datetime import UTC

from django.db import migrations

GENESIS_HASH = "0" * 64


def _document(version: int, row: tuple) -> dict:
    (
        seq,
        community,
        account,
        amount,
        balance_after,
        transfer,
        transfer_amount,
        source,
        target,
        currency,
        kind,
        memo,
        key,
        reverses,
        created_at,
    ) = row
    doc = {
        "seq": seq,
        "community": community,
        "transfer": transfer,
        "kind": kind,
        "memo": memo,
        "currency": currency,
        "account": account,
        "amount": f"{amount:.2f}",
        "balance_after": f"{balance_after:.2f}",
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    if version == 2:
        doc.update(
            v=2,
            transfer_amount=f"{transfer_amount:.2f}",
            source=source,
            target=target,
            idempotency_key=key,
            reverses=reverses,
        )
    return doc


def _link(version: int, prev: str, row: tuple) -> str:
    text = json.dumps(_document(version, row), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


def _rehash(apps, schema_editor, *, old: int, new: int) -> None:
    """Re-hash each chain from form ``old`` to form ``new``, but only as far as it still
    verifies in ``old``: a link that was already broken (and everything after it) is
    left as it was, so the re-hash never launders a tampered entry and verification
    keeps naming the first broken link. The head follows only a wholly intact chain."""
    Entry = apps.get_model("ledger", "Entry")
    Chain = apps.get_model("ledger", "Chain")
    connection = schema_editor.connection
    on_postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if on_postgres:
            # Check deferred constraints now: ALTER TABLE refuses while checks are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        for chain in Chain.objects.order_by("community_id"):
            rows = (
                Entry.objects.filter(community_id=chain.community_id)
                .order_by("seq")
                .values_list(
                    "id",
                    "prev_hash",
                    "hash",
                    "seq",
                    "community_id",
                    "account_id",
                    "amount",
                    "balance_after",
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
            )
            old_prev = new_prev = GENESIS_HASH
            last_seq = 0
            intact = True
            updates = []
            for entry_id, prev_hash, stored, *row in rows.iterator(chunk_size=2000):
                if prev_hash != old_prev or stored != _link(old, old_prev, row) or row[0] != last_seq + 1:
                    intact = False
                    break
                digest = _link(new, new_prev, row)
                updates.append((new_prev, digest, entry_id))
                old_prev, new_prev, last_seq = stored, digest, row[0]
            cursor.executemany("UPDATE ledger_entry SET prev_hash = %s, hash = %s WHERE id = %s", updates)
            if intact and (chain.last_seq, chain.last_hash) == (last_seq, old_prev):
                Chain.objects.filter(pk=chain.pk).update(last_hash=new_prev)
        if on_postgres:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")


def forwards(apps, schema_editor):
    _rehash(apps, schema_editor, old=1, new=2)


def backwards(apps, schema_editor):
    _rehash(apps, schema_editor, old=2, new=1)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_triggers")]

    operations = [migrations.RunPython(forwards, backwards)]
