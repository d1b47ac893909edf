"""The members' API of the provable ledger (apps/ledger/log_api.py): the log, its checkpoints,
inclusion and consistency proofs, and the leaves, checked with the standard's own algorithms
(apps.ledger.merkle / checkpoint) on the real database."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle, services
from apps.ledger.log_api import CONSISTENCY_FORMAT, INCLUSION_FORMAT, MAX_LEAVES
from apps.ledger.models import Chain, Checkpoint, Entry, LogWitness

pytestmark = pytest.mark.django_db

LOGS = "/api/v1/ledger/logs/"
INCLUSION_KEYS = {"format", "origin", "seq", "leaf_index", "tree_size", "leaf", "leaf_hash", "proof", "checkpoint"}
CONSISTENCY_KEYS = {"format", "origin", "first", "second", "first_note", "second_note", "proof"}


def pay(community, a, b, times: int, *, start: int = 0) -> None:
    """``times`` transfers of 0.50 back and forth between a and b (2 entries each)."""
    for i in range(times):
        src, dst = (a, b) if i % 2 == 0 else (b, a)
        services.transfer_create(
            source=services.account_for(user=src, community=community, currency="HOUR"),
            target=services.account_for(user=dst, community=community, currency="HOUR"),
            amount="0.50",
            idempotency_key=f"log-{community.slug}-{start + i}",
        )


@pytest.fixture
def no_auto_checkpoints(settings):
    """Checkpoints only when a test publishes one (the every-N trigger is tested on its own)."""
    settings.LEDGER_CHECKPOINT_EVERY = 0


@pytest.fixture
def signed(community, owner, member, no_auto_checkpoints):
    """A log with checkpoints of 6 and 14 entries, and 2 entries after the newest one."""
    pay(community, owner, member, 3)
    first = log.publish_checkpoint(community=community)
    pay(community, owner, member, 4, start=3)
    second = log.publish_checkpoint(community=community)
    pay(community, owner, member, 1, start=7)
    assert (first.size, second.size) == (6, 14)
    return first, second


def vkey(community) -> str:
    return Chain.objects.get(community=community).log_vkey


def cosign(checkpoint: Checkpoint, witness_community) -> None:
    """A neighbouring community's witness key co-signs the checkpoint (as apps.ledger.witness would)."""
    signer = log.witness_signer(witness_community)
    LogWitness.objects.get_or_create(
        community=checkpoint.community, name=signer.name, vkey=signer.verifier.vkey, witness=witness_community
    )
    cosigned = notes.cosign_note(checkpoint.note, [signer], [vkey(checkpoint.community)])
    log.add_cosignature(checkpoint=checkpoint, name=signer.name, vkey=signer.verifier.vkey, cosigned_note=cosigned)


# --- The log and its checkpoints: public ----------------------------------------------------------


def test_the_log_is_public_and_names_its_key_and_newest_checkpoint(api_client, community, signed, other_community):
    second = signed[1]
    cosign(second, other_community)
    response = api_client.get(f"{LOGS}{community.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["origin"] == "testserver/ledger/sunnyside" or body["origin"].endswith("/ledger/sunnyside")
    assert body["public_key"] == vkey(community)
    latest = body["latest"]
    assert (latest["number"], latest["size"]) == (2, 14)
    assert base64.b64decode(latest["root"]) == log.root(community_id=community.pk, size=14)
    witness = log.witness_signer(other_community)
    assert latest["cosigned_by"] == [witness.name]
    # The note opens with the log's key, and carries the witness's line too.
    known = [body["public_key"], witness.verifier.vkey]
    cp, opened = notes.open_checkpoint(latest["note"], known, origin=body["origin"])
    assert (cp.size, cp.root_hash) == (14, bytes(second.root))
    assert [s.name for s in opened.sigs] == [body["origin"], witness.name]


def test_an_empty_log_has_no_checkpoint_yet_but_already_its_key(api_client, community):
    body = api_client.get(f"{LOGS}{community.pk}/").json()
    assert body["latest"] is None
    assert body["public_key"] == log.log_identity(community)[1]
    assert notes.Verifier.from_vkey(body["public_key"]).name == body["origin"]


@pytest.mark.parametrize("suffix", ["", "checkpoints/", "checkpoints/1/", "consistency/?first=1&second=1"])
def test_an_unknown_community_is_a_404(api_client, suffix):
    assert api_client.get(f"{LOGS}999999/{suffix}").status_code == 404


def test_checkpoints_are_listed_newest_first_and_read_one_by_one(api_client, community, signed):
    first = signed[0]
    body = api_client.get(f"{LOGS}{community.pk}/checkpoints/").json()
    assert body["count"] == 2
    assert [(c["number"], c["size"]) for c in body["results"]] == [(2, 14), (1, 6)]
    one = api_client.get(f"{LOGS}{community.pk}/checkpoints/1/").json()
    assert one == body["results"][1]
    assert one["note"] == first.note and one["cosigned_by"] == []
    assert api_client.get(f"{LOGS}{community.pk}/checkpoints/3/").status_code == 404
    assert api_client.get(f"{LOGS}{community.pk}/checkpoints/999999999999999999/").status_code == 404
    assert api_client.get(f"{LOGS}{community.pk}/checkpoints/9999999999999999999/").status_code == 404


def test_another_communitys_checkpoint_is_not_read_through_this_one(api_client, community, other_community, signed):
    assert api_client.get(f"{LOGS}{other_community.pk}/checkpoints/1/").status_code == 404
    assert api_client.get(f"{LOGS}{other_community.pk}/checkpoints/").json()["count"] == 0


# --- Consistency: public, between two checkpoints -------------------------------------------------


def test_a_consistency_proof_verifies_between_the_two_signed_roots(api_client, community, signed):
    response = api_client.get(f"{LOGS}{community.pk}/consistency/", {"first": 6, "second": 14})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == CONSISTENCY_KEYS
    assert (body["format"], body["first"], body["second"]) == (CONSISTENCY_FORMAT, 6, 14)
    key = vkey(community)
    cp1, _ = notes.open_checkpoint(body["first_note"], [key], origin=body["origin"])
    cp2, _ = notes.open_checkpoint(body["second_note"], [key], origin=body["origin"])
    proof = [base64.b64decode(h) for h in body["proof"]]
    assert merkle.verify_consistency(cp1.size, cp2.size, cp1.root_hash, cp2.root_hash, proof)
    # ...and it proves nothing about another root.
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 14, bytes(32), cp2.root_hash, proof)


def test_a_consistency_proof_of_a_checkpoint_with_itself_is_empty(api_client, community, signed):
    body = api_client.get(f"{LOGS}{community.pk}/consistency/", {"first": 14, "second": 14}).json()
    assert body["proof"] == [] and body["first_note"] == body["second_note"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"first": 6}, "second"),
        ({"second": 14}, "first"),
        ({"first": 0, "second": 14}, "first"),
        ({"first": 14, "second": 6}, "second"),
        ({"first": 7, "second": 14}, "first"),  # not a checkpoint's size: nothing signed to end in
        ({"first": 6, "second": 16}, "second"),  # the head, not signed yet
        ({"first": "x", "second": 14}, "first"),
        ({"first": "6", "second": str(2**64)}, "second"),
        ({"first": "-1", "second": "14"}, "first"),
    ],
)
def test_bad_consistency_sizes_are_400s_with_field_errors(api_client, community, signed, query, field):
    response = api_client.get(f"{LOGS}{community.pk}/consistency/", query)
    assert response.status_code == 400 and field in response.json(), response.content


# --- Inclusion: members who may audit the ledger --------------------------------------------------


def test_an_inclusion_proof_verifies_against_the_signed_root(api_as, member, community, signed):
    response = api_as(member).get(f"{LOGS}{community.pk}/inclusion/", {"seq": 5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == INCLUSION_KEYS
    assert (body["format"], body["seq"], body["leaf_index"], body["tree_size"]) == (INCLUSION_FORMAT, 5, 4, 14)
    assert body["checkpoint"]["number"] == 2 and body["checkpoint"]["size"] == 14
    # The leaf is the entry's canonical text: the one its chain link hashes.
    entry = Entry.objects.get(community=community, seq=5)
    leaf = json.loads(body["leaf"])
    assert (leaf["seq"], leaf["account"], leaf["amount"]) == (5, entry.account_id, f"{entry.amount:.2f}")
    leaf_hash = merkle.leaf_hash(body["leaf"].encode("utf-8"))
    assert base64.b64decode(body["leaf_hash"]) == leaf_hash
    cp, _ = notes.open_checkpoint(body["checkpoint"]["note"], [vkey(community)], origin=body["origin"])
    proof = [base64.b64decode(h) for h in body["proof"]]
    assert len(proof) <= 4  # ceil(log2 14)
    assert merkle.verify_inclusion(4, cp.size, leaf_hash, proof, cp.root_hash)
    # Another leaf does not verify with this path.
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(4, cp.size, merkle.leaf_hash(b"another entry"), proof, cp.root_hash)


def test_an_inclusion_proof_in_an_earlier_checkpoint(api_as, member, community, signed):
    body = api_as(member).get(f"{LOGS}{community.pk}/inclusion/", {"seq": 6, "size": 6}).json()
    assert (body["tree_size"], body["checkpoint"]["number"]) == (6, 1)
    cp, _ = notes.open_checkpoint(body["checkpoint"]["note"], [vkey(community)])
    proof = [base64.b64decode(h) for h in body["proof"]]
    assert merkle.verify_inclusion(5, 6, base64.b64decode(body["leaf_hash"]), proof, cp.root_hash)


def test_every_entry_of_every_checkpoint_is_proven(api_as, member, community, signed):
    client = api_as(member)
    for size in (6, 14):
        for seq in range(1, size + 1):
            body = client.get(f"{LOGS}{community.pk}/inclusion/", {"seq": seq, "size": size}).json()
            cp = notes.parse_checkpoint(notes.split_note(body["checkpoint"]["note"])[0])
            proof = [base64.b64decode(h) for h in body["proof"]]
            assert merkle.verify_inclusion(seq - 1, size, base64.b64decode(body["leaf_hash"]), proof, cp.root_hash)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "seq"),
        ({"seq": 0}, "seq"),
        ({"seq": -3}, "seq"),
        ({"seq": "x"}, "seq"),
        ({"seq": str(2**70)}, "seq"),
        ({"seq": 15}, "seq"),  # after the newest checkpoint: in the next one
        ({"seq": 7, "size": 6}, "seq"),  # not in that checkpoint
        ({"seq": 3, "size": 10}, "size"),  # not a checkpoint's size
        ({"seq": 3, "size": 16}, "size"),  # the unsigned head
        ({"seq": 3, "size": "0"}, "size"),
    ],
)
def test_bad_seq_or_size_are_400s_with_field_errors(api_as, member, community, signed, query, field):
    response = api_as(member).get(f"{LOGS}{community.pk}/inclusion/", query)
    assert response.status_code == 400 and field in response.json(), response.content


def test_no_inclusion_proof_before_the_first_checkpoint(api_as, owner, member, community, no_auto_checkpoints):
    pay(community, owner, member, 1)
    response = api_as(member).get(f"{LOGS}{community.pk}/inclusion/", {"seq": 1})
    assert response.status_code == 400 and "few minutes" in response.json()["seq"][0]


def test_inclusion_and_leaves_are_for_those_who_may_audit(api_client, api_as, stranger, organizer, community, signed):
    for suffix in ("inclusion/?seq=1", "leaves/?start=0&end=2"):
        url = f"{LOGS}{community.pk}/{suffix}"
        assert api_client.get(url).status_code in (401, 403)  # not signed in
        refused = api_as(stranger).get(url)
        assert refused.status_code == 403 and "members" in refused.json()["detail"]  # as ledger/verify/ answers
        assert api_as(organizer).get(url).status_code == 200
        assert api_as(stranger).get(f"{LOGS}999999/{suffix}").status_code == 404


def test_a_suspended_member_may_still_prove_their_entries(api_as, member, community, signed):
    from apps.peers.models import Membership

    Membership.objects.filter(user=member, community=community).update(status=Membership.Status.SUSPENDED)
    assert api_as(member).get(f"{LOGS}{community.pk}/inclusion/", {"seq": 1}).status_code == 200


# --- Leaves -------------------------------------------------------------------------------------


def test_the_leaves_rebuild_the_signed_root(api_as, member, community, signed):
    client = api_as(member)
    body = client.get(f"{LOGS}{community.pk}/leaves/", {"start": 0, "end": 14}).json()
    assert (body["start"], body["end"], len(body["leaves"])) == (0, 14, 14)
    assert [json.loads(text)["seq"] for text in body["leaves"]] == list(range(1, 15))
    rebuilt = merkle.root([text.encode("utf-8") for text in body["leaves"]])
    assert rebuilt == bytes(signed[1].root)
    # A page from the middle is the same texts.
    middle = client.get(f"{LOGS}{community.pk}/leaves/", {"start": 5, "end": 7}).json()["leaves"]
    assert middle == body["leaves"][5:7]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": 0}, "end"),
        ({"end": 3}, "start"),
        ({"start": 3, "end": 3}, "end"),
        ({"start": 4, "end": 2}, "end"),
        ({"start": -1, "end": 2}, "start"),
        ({"start": 0, "end": 15}, "end"),  # past the newest checkpoint
        ({"start": 0, "end": MAX_LEAVES + 1}, "end"),  # too many at once
        ({"start": "a", "end": 2}, "start"),
    ],
)
def test_bad_leaf_ranges_are_400s(api_as, member, community, signed, query, field):
    response = api_as(member).get(f"{LOGS}{community.pk}/leaves/", query)
    assert response.status_code == 400 and field in response.json(), response.content


def test_no_leaves_before_the_first_checkpoint(api_as, owner, member, community, no_auto_checkpoints):
    pay(community, owner, member, 1)
    response = api_as(member).get(f"{LOGS}{community.pk}/leaves/", {"start": 0, "end": 1})
    assert response.status_code == 400 and "end" in response.json()


# --- Checkpoints every N entries ----------------------------------------------------------------


def test_transfers_publish_a_checkpoint_every_n_entries(
    settings, django_capture_on_commit_callbacks, api_client, community, owner, member
):
    """With CELERY_TASK_ALWAYS_EAGER (tests), the task runs on commit of the transfer that crosses
    a multiple of LEDGER_CHECKPOINT_EVERY."""
    settings.LEDGER_CHECKPOINT_EVERY = 4
    with django_capture_on_commit_callbacks(execute=True):
        pay(community, owner, member, 1)
    assert not Checkpoint.objects.filter(community=community).exists()
    for i in range(1, 5):  # each transfer commits on its own, as in a request
        with django_capture_on_commit_callbacks(execute=True):
            pay(community, owner, member, 1, start=i)
    sizes = list(Checkpoint.objects.filter(community=community).order_by("size").values_list("size", flat=True))
    assert sizes == [4, 8]
    body = api_client.get(f"{LOGS}{community.pk}/checkpoints/").json()
    assert [c["size"] for c in body["results"]] == [8, 4]
    proof = api_client.get(f"{LOGS}{community.pk}/consistency/", {"first": 4, "second": 8}).json()
    cp1, _ = notes.open_checkpoint(proof["first_note"], [vkey(community)])
    cp2, _ = notes.open_checkpoint(proof["second_note"], [vkey(community)])
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    assert merkle.verify_consistency(4, 8, cp1.root_hash, cp2.root_hash, hashes)


# --- The offline verifier reads what the API serves ----------------------------------------------

VERIFY_LOG = Path(__file__).resolve().parents[2] / "scripts" / "verify_log.py"


def verify_log(*args: str, tmp_path) -> subprocess.CompletedProcess:
    """scripts/verify_log.py in its own process, from an empty folder, without Django's settings."""
    env = {"PATH": os.environ.get("PATH", "")}
    return subprocess.run(
        [sys.executable, str(VERIFY_LOG), *args], capture_output=True, text=True, cwd=tmp_path, env=env, check=False
    )


def test_the_offline_verifier_accepts_the_apis_proofs_and_refuses_a_changed_one(
    api_as, member, community, signed, tmp_path
):
    client = api_as(member)
    key = vkey(community)
    inclusion = client.get(f"{LOGS}{community.pk}/inclusion/", {"seq": 9}).content
    (tmp_path / "proof.json").write_bytes(inclusion)
    ok = verify_log("inclusion", "proof.json", "--key", key, tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    consistency = client.get(f"{LOGS}{community.pk}/consistency/", {"first": 6, "second": 14}).content
    (tmp_path / "consistency.json").write_bytes(consistency)
    ok = verify_log("consistency", "consistency.json", "--key", key, tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # The same proof with another amount in the entry's text is refused.
    doc = json.loads(inclusion)
    doc["leaf"] = (
        doc["leaf"].replace('"amount":"0.50"', '"amount":"5.00"').replace('"amount":"-0.50"', '"amount":"-5.00"')
    )
    (tmp_path / "changed.json").write_text(json.dumps(doc))
    refused = verify_log("inclusion", "changed.json", "--key", key, tmp_path=tmp_path)
    assert refused.returncode == 1, refused.stdout + refused.stderr
