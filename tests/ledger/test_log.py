"""The Merkle log kept with the ledger (apps/ledger/log.py): appended in the entries' own
transaction, O(log n) per transfer, signed in checkpoints with a key nobody stores, and
checked by the ledger's verification together with the chain."""

from __future__ import annotations

import importlib
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle, services
from apps.ledger.chain import _entries, verify_community
from apps.ledger.models import Chain, Checkpoint, LogNode
from apps.peers.factories import MembershipFactory
from p2pcommons.errors import RuleViolation
from scripts.verify_ledger_export import canonical

pytestmark = pytest.mark.django_db


def _pair(community):
    a, b = (MembershipFactory(community=community).user for _ in range(2))
    return [services.account_for(user=u, community=community, currency="HOUR") for u in (a, b)]


def _send(accounts, n: int, *, start: int = 0, amount: str = "0.50") -> None:
    for i in range(start, start + n):
        src, dst = (accounts[0], accounts[1]) if i % 2 else (accounts[1], accounts[0])
        services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=f"log:{src.community_id}:{i}")


def _leaves(community) -> list[bytes]:
    size = Chain.objects.get(community=community).last_seq
    return [log.leaf_bytes(doc) for doc in _entries(community, upto=size)]


@pytest.fixture
def no_auto_checkpoints(settings):
    settings.LEDGER_CHECKPOINT_EVERY = 0


def test_every_transfer_adds_its_two_entries_as_leaves_and_the_stored_root_is_the_recomputed_one(
    community, no_auto_checkpoints
):
    accounts = _pair(community)
    for n in range(1, 8):
        _send(accounts, 1, start=n)
        leaves = _leaves(community)
        assert len(leaves) == 2 * n
        assert log.root(community_id=community.pk, size=len(leaves)) == merkle.root(leaves)
    # Every entry is provable from the stored subtrees alone, in every earlier tree too.
    leaves = _leaves(community)
    for size in range(1, len(leaves) + 1):
        digest = log.root(community_id=community.pk, size=size)
        for seq in range(1, size + 1):
            proof = log.inclusion_proof(community_id=community.pk, seq=seq, size=size)
            assert merkle.verify_inclusion(seq - 1, size, merkle.leaf_hash(leaves[seq - 1]), proof, digest)
    # A leaf is exactly the text the hash chain hashes for that entry.
    first = next(_entries(community, upto=1))
    assert leaves[0] == canonical(first).encode("utf-8")


def test_a_refused_transfer_leaves_no_subtree_behind(community, no_auto_checkpoints):
    accounts = _pair(community)
    _send(accounts, 2)
    before = LogNode.objects.filter(community=community).count()
    with pytest.raises(RuleViolation):
        services.transfer_create(source=accounts[0], target=accounts[1], amount="100000", idempotency_key="too-much")
    assert LogNode.objects.filter(community=community).count() == before
    leaves = _leaves(community)
    assert log.root(community_id=community.pk, size=len(leaves)) == merkle.root(leaves)


def test_a_transfer_costs_the_same_queries_whatever_the_length_of_the_log(community, no_auto_checkpoints):
    """O(log n) hashing, and one read of the right edge plus one insert: the number of
    queries of a transfer does not grow with the log (here from 2 to 130 entries)."""
    accounts = _pair(community)
    counts = []
    for n in range(65):
        with CaptureQueriesContext(connection) as ctx:
            _send(accounts, 1, start=n)
        counts.append(len(ctx.captured_queries))
    assert max(counts[8:]) == min(counts[8:]), counts
    assert LogNode.objects.filter(community=community).count() < 2 * 130


def test_a_checkpoint_signs_the_head_once_and_is_kept_with_every_earlier_one(community, no_auto_checkpoints):
    assert log.publish_checkpoint(community=community) is None  # nothing to sign yet
    accounts = _pair(community)
    _send(accounts, 3)
    first = log.publish_checkpoint(community=community)
    assert (first.number, first.size) == (1, 6)
    assert log.publish_checkpoint(community=community) is None  # the head is signed already
    _send(accounts, 2, start=3)
    second = log.publish_checkpoint(community=community)
    assert (second.number, second.size) == (2, 10)
    chain = Chain.objects.get(community=community)
    assert chain.origin.endswith(f"/ledger/{community.slug}")
    for cp in (first, second):
        checkpoint, opened = notes.open_checkpoint(cp.note, [chain.log_vkey], origin=chain.origin)
        assert (checkpoint.size, checkpoint.root_hash) == (cp.size, bytes(cp.root))
        assert checkpoint.root_hash == merkle.root(_leaves(community)[: cp.size])
        assert [s.name for s in opened.sigs] == [chain.origin]
    proof = log.consistency_proof(community_id=community.pk, size1=6, size2=10)
    assert merkle.verify_consistency(6, 10, bytes(first.root), bytes(second.root), proof)
    assert list(Checkpoint.objects.filter(community=community).values_list("number", flat=True)) == [2, 1]


def test_the_signature_verifies_with_an_independent_ed25519_and_fails_after_any_change(community, no_auto_checkpoints):
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    _send(_pair(community), 2)
    cp = log.publish_checkpoint(community=community)
    chain = Chain.objects.get(community=community)
    text, (sig,) = notes.split_note(cp.note)
    raw_key = notes.Verifier.from_vkey(chain.log_vkey)
    public = VerifyKey(raw_key.public_key)
    signature = __import__("base64").b64decode(sig.base64)[4:]
    public.verify(text.encode(), signature)
    for position in range(len(text)):
        changed = text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1 :]
        with pytest.raises(BadSignatureError):
            public.verify(changed.encode(), signature)


def test_the_origin_stays_fixed_when_the_community_is_renamed(community, no_auto_checkpoints):
    _send(_pair(community), 1)
    log.publish_checkpoint(community=community)
    origin = Chain.objects.get(community=community).origin
    community.slug = "sunnyside-renamed"
    community.save()
    _send(_pair(community), 1, start=1)
    cp = log.publish_checkpoint(community=community)
    assert notes.parse_checkpoint(notes.split_note(cp.note)[0]).origin == origin
    assert log.log_identity(community)[0] == origin


def test_a_changed_secret_refuses_to_sign_instead_of_signing_with_an_unknown_key(
    community, settings, no_auto_checkpoints
):
    _send(_pair(community), 1)
    log.publish_checkpoint(community=community)
    settings.LEDGER_LOG_SECRET = "a different secret than the one the key was published with"
    _send(_pair(community), 1, start=1)
    with pytest.raises(log.LogKeyMismatch):
        log.publish_checkpoint(community=community)
    assert Checkpoint.objects.filter(community=community).count() == 1


def test_each_community_has_its_own_log_key_and_a_separate_witness_key(community, other_community):
    origin_a, key_a = log.log_identity(community)
    origin_b, key_b = log.log_identity(other_community)
    assert origin_a != origin_b and key_a != key_b
    witness = log.witness_signer(community).verifier.vkey
    assert witness not in (key_a, key_b)
    assert notes.Verifier.from_vkey(key_a).name == origin_a


def test_a_checkpoint_is_signed_every_n_entries_by_the_task(community, settings, django_capture_on_commit_callbacks):
    settings.LEDGER_CHECKPOINT_EVERY = 4
    accounts = _pair(community)
    with django_capture_on_commit_callbacks(execute=True):
        _send(accounts, 1)
    assert not Checkpoint.objects.filter(community=community).exists()
    with django_capture_on_commit_callbacks(execute=True):
        _send(accounts, 1, start=1)  # entries 3 and 4: the fourth crosses the mark
    assert list(Checkpoint.objects.filter(community=community).values_list("size", flat=True)) == [4]
    for n in range(2, 5):  # up to 10 entries, one transfer (commit) at a time: the 8th crosses the next mark
        with django_capture_on_commit_callbacks(execute=True):
            _send(accounts, 1, start=n)
    assert list(Checkpoint.objects.filter(community=community).values_list("size", flat=True)) == [8, 4]


def test_the_sweep_signs_only_the_logs_that_grew(community, other_community, no_auto_checkpoints):
    from apps.ledger.tasks import publish_due_checkpoints

    _send(_pair(community), 1)
    assert publish_due_checkpoints() == 1
    assert publish_due_checkpoints() == 0
    _send(_pair(other_community), 1)
    _send(_pair(community), 1, start=1)
    assert publish_due_checkpoints() == 2


def test_verification_checks_the_log_and_every_checkpoint_with_the_chain(community, no_auto_checkpoints):
    _send(_pair(community), 4)
    log.publish_checkpoint(community=community)
    report = verify_community(community=community)
    assert report.ok, str(report)
    # A checkpoint signed for other entries (as a rewritten history would be) is named.
    chain = Chain.objects.get(community=community)
    forged_root = merkle.root([b"other"] * 4)
    note = notes.sign_checkpoint(notes.Checkpoint(chain.origin, 4, forged_root), [log.log_signer(chain.origin)])
    Checkpoint.objects.create(community=community, number=2, size=4, root=forged_root, note=note)
    report = verify_community(community=community)
    assert not report.ok and "checkpoint 2" in report.problem


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_tampered_entry_breaks_the_log_even_when_the_chain_is_rehashed(community, no_auto_checkpoints):
    """An operator who rewrites an entry and recomputes the whole hash chain still can't
    match the signed checkpoint (the log's root is signed, and witnesses hold it)."""
    accounts = _pair(community)
    _send(accounts, 3)
    log.publish_checkpoint(community=community)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # the append-only triggers sleep
        cursor.execute("UPDATE ledger_transfer SET memo = 'rewritten' WHERE community_id = %s", [community.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    report = verify_community(community=community)
    assert not report.ok


def test_the_migration_builds_the_log_of_entries_written_before_it(community, no_auto_checkpoints):
    """Entries recorded before the log existed get their subtrees from migration 0005."""
    from django.apps import apps as django_apps

    accounts = _pair(community)
    _send(accounts, 5)
    expected = log.root(community_id=community.pk, size=10)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM ledger_lognode WHERE community_id = %s", [community.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    assert not LogNode.objects.filter(community=community).exists()
    migration = importlib.import_module("apps.ledger.migrations.0005_merkle_log_backfill")
    migration.backfill(django_apps, None)
    assert log.root(community_id=community.pk, size=10) == expected
    assert verify_community(community=community).ok
    _send(accounts, 1, start=5)  # and the log goes on from there
    assert log.root(community_id=community.pk, size=12) == merkle.root(_leaves(community))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_transfers_build_one_tree_and_the_checkpoint_sweep_races_them_safely(community, settings):
    settings.LEDGER_CHECKPOINT_EVERY = 0
    accounts = _pair(community)
    barrier = threading.Barrier(9)
    errors: list[BaseException] = []

    def trade(n: int) -> None:
        try:
            barrier.wait()
            for i in range(12):
                src, dst = (accounts[0], accounts[1]) if (n + i) % 2 else (accounts[1], accounts[0])
                services.transfer_create(source=src, target=dst, amount="0.25", idempotency_key=f"tree:{n}:{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def sign() -> None:
        try:
            barrier.wait()
            for _ in range(20):
                log.publish_checkpoint(community=community)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trade, args=(n,)) for n in range(8)] + [threading.Thread(target=sign)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    log.publish_checkpoint(community=community)
    leaves = _leaves(community)
    assert len(leaves) == 8 * 12 * 2
    assert log.root(community_id=community.pk, size=len(leaves)) == merkle.root(leaves)
    sizes = list(Checkpoint.objects.filter(community=community).order_by("size").values_list("size", "root"))
    for size, digest in sizes:
        assert bytes(digest) == merkle.root(leaves[:size])
    assert verify_community(community=community).ok
    assert Decimal(sum(a.balance for a in type(accounts[0]).objects.filter(community=community))) == 0
