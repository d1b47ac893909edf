"""scripts/verify_log.py, the offline verifier of a community's signed log, run as a neighbour would:
a separate process, isolated (``python -I``, an empty environment, another working directory), on
files built from a real ledger (transfers through the services, checkpoints through apps.ledger.log).
Every tampering a server or a thief could try is refused with exit 1 and a sentence."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.ledger import checkpoint as notes
from apps.ledger import log, merkle, services
from apps.ledger.chain import _entries, export_community, link_hash
from apps.ledger.models import Checkpoint
from apps.peers.factories import CommunityFactory
from scripts.verify_ledger_export import GENESIS_HASH
from scripts.verify_log import CONSISTENCY_FORMAT, INCLUSION_FORMAT

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "verify_log.py"


@dataclass
class World:
    """A community's ledger of 14 entries, checkpoint 1 at 8 entries, checkpoint 2 at 14 (co-signed
    by a neighbouring community's witness key); the leaves, keys and export, as a neighbour gets them."""

    community: object
    origin: str
    vkey: str
    witness_vkey: str
    first: Checkpoint
    second: Checkpoint
    leaves: list[str]
    export: dict


@pytest.fixture
def world(community, owner, member, organizer) -> World:
    accounts = [services.account_for(user=u, community=community, currency="HOUR") for u in (owner, member, organizer)]
    for i in range(7):
        if i == 4:
            first = log.publish_checkpoint(community=community)
        source, target = accounts[i % 3], accounts[(i + 1) % 3]
        services.transfer_create(
            source=source, target=target, amount="1.50", memo=f"Thanks {i} — ça va", idempotency_key=f"k{i}"
        )
    second = log.publish_checkpoint(community=community)
    origin, vkey = log.log_identity(community)
    neighbour = CommunityFactory(slug="riverside", name="Riverside Neighbors")
    witness = log.witness_signer(neighbour)
    log.add_cosignature(
        checkpoint=second,
        name=witness.name,
        vkey=witness.verifier.vkey,
        cosigned_note=notes.cosign_note(second.note, [witness], [vkey]),
    )
    leaves = [log.leaf_bytes(doc).decode("utf-8") for doc in _entries(community, upto=14)]
    return World(
        community, origin, vkey, witness.verifier.vkey, first, second, leaves, export_community(community=community)
    )


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def inclusion_doc(w: World, seq: int, cp: Checkpoint) -> dict:
    """What the API serves for entry ``seq`` under checkpoint ``cp`` (built here from apps.ledger.log)."""
    proof = log.inclusion_proof(community_id=w.community.pk, seq=seq, size=cp.size)
    leaf = w.leaves[seq - 1]
    return {
        "format": INCLUSION_FORMAT,
        "origin": w.origin,
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": cp.size,
        "leaf": leaf,
        "leaf_hash": b64(merkle.leaf_hash(leaf.encode("utf-8"))),
        "proof": [b64(p) for p in proof],
        "checkpoint": {"number": cp.number, "size": cp.size, "note": log.signed_note(cp)},
    }


def consistency_doc(w: World, old: Checkpoint, new: Checkpoint) -> dict:
    proof = log.consistency_proof(community_id=w.community.pk, size1=old.size, size2=new.size)
    return {
        "format": CONSISTENCY_FORMAT,
        "origin": w.origin,
        "first": old.size,
        "second": new.size,
        "first_note": log.signed_note(old),
        "second_note": log.signed_note(new),
        "proof": [b64(p) for p in proof],
    }


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """The script in a process of its own: isolated mode, nothing but PATH in the environment, and
    a working directory that holds only the test's files (so no settings, no Django, no repo)."""
    result = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def write(tmp_path: Path, name: str, content: dict | str) -> str:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return name


def flip(text: str) -> str:
    """A base64 hash with one bit of its first byte flipped (still well-formed base64)."""
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return b64(bytes(raw))


def refused(outcome: tuple[int, str], *words: str) -> None:
    code, output = outcome
    assert code == 1, output
    assert output.startswith("REFUSED: "), output
    for word in words:
        assert word in output, output


# --- checkpoint --------------------------------------------------------------------------------------


def test_a_checkpoint_verifies_with_the_log_key_and_names_its_witness(world, tmp_path):
    name = write(tmp_path, "cp.txt", log.signed_note(world.second))
    code, output = run(tmp_path, "checkpoint", name, "--key", world.vkey, "--witness", world.witness_vkey)
    assert code == 0, output
    witness = notes.Verifier.from_vkey(world.witness_vkey).name
    assert output == f"OK: checkpoint of {world.origin}, signed by its key: 14 entries. Co-signed by {witness}.\n"


def test_the_script_runs_from_a_folder_of_six_files_without_importing_django(world, tmp_path):
    """The neighbour's copy: scripts/ and apps/ledger/{merkle,checkpoint}.py only, and ``-X importtime``
    lists every module the process imported: no Django among them."""
    clone = tmp_path / "clone"
    for part in ("scripts/verify_log.py", "scripts/verify_ledger_export.py", "apps/__init__.py",
                 "apps/ledger/__init__.py", "apps/ledger/merkle.py", "apps/ledger/checkpoint.py"):  # fmt: skip
        (clone / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / part, clone / part)
    write(tmp_path, "proof.json", inclusion_doc(world, 3, world.second))
    result = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", str(clone / "scripts/verify_log.py"), "inclusion", "proof.json",
         "--key", world.vkey],
        cwd=tmp_path, env={"PATH": os.environ.get("PATH", "")}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: entry #3 ")
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "apps.ledger.merkle" in imported and "cryptography" in imported
    assert not [name for name in imported if name.startswith(("django", "rest_framework", "celery"))]


def test_a_checkpoint_refused_when_changed_wrongly_keyed_or_not_witnessed(world, tmp_path):
    note = log.signed_note(world.second)
    text, sigs = notes.split_note(note)
    _, size, root = text.splitlines()
    changed = note.replace(f"\n{size}\n", f"\n{int(size) + 1}\n", 1)
    assert run(tmp_path, "checkpoint", "-", "--key", world.vkey, stdin=note)[0] == 0
    refused(run(tmp_path, "checkpoint", "-", "--key", world.vkey, stdin=changed), "changed after it was signed")
    _, other_vkey = log.log_identity(CommunityFactory(slug="elsewhere"))
    refused(run(tmp_path, "checkpoint", "-", "--key", other_vkey, stdin=note), "not signed by the log's key")
    # A key of the right name but not the log's (someone made their own key for this origin).
    _, impostor = notes.generate_key(world.origin)
    refused(run(tmp_path, "checkpoint", "-", "--key", impostor, stdin=note), "not signed by the log's key")
    # The log's key signing a checkpoint that names another log: not a checkpoint of this log.
    foreign = notes.sign_checkpoint(
        notes.Checkpoint("example.org/ledger/fake", 14, base64.b64decode(root)), [log.log_signer(world.origin)]
    )
    refused(
        run(tmp_path, "checkpoint", "-", "--key", world.vkey, stdin=foreign), "is of the log example.org/ledger/fake"
    )
    _, absent = notes.generate_key("example.org/witness/nobody")
    refused(
        run(tmp_path, "checkpoint", "-", "--key", world.vkey, "--witness", world.witness_vkey, "--witness", absent,
            stdin=note),
        "Only 1 of the 2 witnesses", "example.org/witness/nobody",
    )  # fmt: skip
    code, output = run(tmp_path, "checkpoint", "-", "--key", world.vkey, "--witness", world.witness_vkey,
                       "--witness", absent, "--witnesses-needed", "1", stdin=note)  # fmt: skip
    assert code == 0 and "Not (yet) co-signed by example.org/witness/nobody" in output, output
    # The first checkpoint was never co-signed: a neighbour who requires the witness refuses it.
    refused(
        run(tmp_path, "checkpoint", "-", "--key", world.vkey, "--witness", world.witness_vkey, stdin=world.first.note),
        "Only 0 of the 1 witnesses",
    )
    assert len(sigs) == 2  # the log's line, then the witness's
    # The witness's line damaged (its key id kept, one bit of its signature flipped).
    raw = bytearray(base64.b64decode(sigs[1].base64))
    raw[10] ^= 1
    damaged = note.replace(sigs[1].base64, b64(bytes(raw)))
    refused(
        run(tmp_path, "checkpoint", "-", "--key", world.vkey, "--witness", world.witness_vkey, stdin=damaged),
        f"Witness {sigs[1].name}'s signature does not match",
    )


# --- inclusion ---------------------------------------------------------------------------------------


def test_every_entry_is_proven_in_the_checkpoints_that_contain_it(world, tmp_path):
    for cp in (world.first, world.second):
        for seq in range(1, cp.size + 1):
            code, output = run(
                tmp_path, "inclusion", "-", "--key", world.vkey, stdin=json.dumps(inclusion_doc(world, seq, cp))
            )
            assert code == 0, output
            assert (
                output.startswith(f"OK: entry #{seq} (account ")
                and f"checkpoint {cp.number} ({cp.size} entries)" in output
            )


def _tamper(doc: dict, how: str, world: World) -> dict:
    doc = copy.deepcopy(doc)
    if how == "leaf":  # the amount of the entry, its hash left as it was
        doc["leaf"] = doc["leaf"].replace('"amount":"-1.50"', '"amount":"-9.50"')
    elif how == "leaf and its hash":  # an attacker who recomputes the leaf hash too
        doc["leaf"] = doc["leaf"].replace('"amount":"-1.50"', '"amount":"-9.50"')
        doc["leaf_hash"] = b64(merkle.leaf_hash(doc["leaf"].encode()))
    elif how == "proof":
        doc["proof"][1] = flip(doc["proof"][1])
    elif how == "shorter proof":
        doc["proof"] = doc["proof"][:-1]
    elif how == "note":
        text, _ = notes.split_note(doc["checkpoint"]["note"])
        root = text.splitlines()[2]
        doc["checkpoint"]["note"] = doc["checkpoint"]["note"].replace(root, flip(root))
    elif how == "root, re-signed by another key":
        body = notes.parse_checkpoint(notes.split_note(doc["checkpoint"]["note"])[0])
        forged = notes.Checkpoint(body.origin, body.size, merkle.root([world.leaves[0].encode()] * body.size))
        doc["checkpoint"]["note"] = notes.sign_checkpoint(forged, [notes.generate_key(body.origin)[0]])
    elif how == "tree size":
        doc["tree_size"] -= 1
    elif how == "seq":
        doc["seq"] += 1
    elif how == "another entry's text":
        doc["leaf"] = world.leaves[doc["seq"]]
        doc["leaf_hash"] = b64(merkle.leaf_hash(doc["leaf"].encode()))
    elif how == "not canonical":
        doc["leaf"] = doc["leaf"].replace(",", ", ", 1)
        doc["leaf_hash"] = b64(merkle.leaf_hash(doc["leaf"].encode()))
    return doc


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("leaf", "does not give the fingerprint"),
        ("leaf and its hash", "is not in the ledger that checkpoint 2 signed"),
        ("proof", "is not in the ledger that checkpoint 2 signed"),
        ("shorter proof", "the proof is shorter"),
        ("note", "The log's signature does not match this checkpoint"),
        ("root, re-signed by another key", "not signed by the log's key"),
        ("tree size", "the proof was changed"),
        ("seq", "names place 4"),
        ("another entry's text", "is not entry #5"),
        ("not canonical", "not in its canonical form"),
    ],
)
def test_a_changed_inclusion_proof_is_refused_with_a_sentence(world, tmp_path, how, words):
    doc = inclusion_doc(world, 5, world.second)
    assert run(tmp_path, "inclusion", write(tmp_path, "ok.json", doc), "--key", world.vkey)[0] == 0
    refused(run(tmp_path, "inclusion", write(tmp_path, "p.json", _tamper(doc, how, world)), "--key", world.vkey), words)


def test_an_inclusion_proof_under_the_wrong_key_or_without_its_witness_is_refused(world, tmp_path):
    name = write(tmp_path, "p.json", inclusion_doc(world, 2, world.first))
    _, other = log.log_identity(CommunityFactory(slug="elsewhere"))
    refused(run(tmp_path, "inclusion", name, "--key", other), "not signed by the log's key")
    refused(run(tmp_path, "inclusion", name, "--key", world.vkey, "--witness", world.witness_vkey), "Only 0 of the 1")
    second = write(tmp_path, "p2.json", inclusion_doc(world, 2, world.second))
    code, output = run(tmp_path, "inclusion", second, "--key", world.vkey, "--witness", world.witness_vkey)
    assert code == 0 and "Co-signed by " in output, output


# --- consistency -------------------------------------------------------------------------------------


def test_the_second_checkpoint_extends_the_first(world, tmp_path):
    name = write(tmp_path, "c.json", consistency_doc(world, world.first, world.second))
    code, output = run(tmp_path, "consistency", name, "--key", world.vkey)
    assert code == 0, output
    assert output == f"OK: the ledger of {world.origin} only grew from 8 to 14 entries; nothing before was changed.\n"


def test_a_rewritten_history_is_caught_by_the_consistency_proof(world, tmp_path):
    """The log's own key signs a first checkpoint over other entries (a history shown to someone
    else, or rewritten since): the proof to the real second checkpoint can't hold."""
    doc = consistency_doc(world, world.first, world.second)
    fork = list(world.leaves[:8])
    fork[2] = fork[2].replace('"amount":', '"amount":"0.00","x":', 1)
    doc["first_note"] = notes.sign_checkpoint(
        notes.Checkpoint(world.origin, 8, merkle.root([s.encode() for s in fork])), [log.log_signer(world.origin)]
    )
    refused(run(tmp_path, "consistency", write(tmp_path, "c.json", doc), "--key", world.vkey),
            "The ledger was changed after the checkpoint of 8 entries was signed")  # fmt: skip


@pytest.mark.parametrize("how", ["proof byte", "sizes", "swapped", "other origin"])
def test_a_changed_consistency_proof_is_refused(world, tmp_path, how):
    doc = consistency_doc(world, world.first, world.second)
    words = "does not extend it"
    if how == "proof byte":
        doc["proof"][0] = flip(doc["proof"][0])
    elif how == "sizes":
        doc["first"], words = 7, "but the proof claims 7 and 14"
    elif how == "swapped":
        doc["first"], doc["second"] = doc["second"], doc["first"]
        doc["first_note"], doc["second_note"] = doc["second_note"], doc["first_note"]
        words = "The ledger shrank from 14 to 8 entries"
    else:
        doc["origin"], words = "example.org/ledger/other", "The proof is for the log example.org/ledger/other"
    refused(run(tmp_path, "consistency", write(tmp_path, "c.json", doc), "--key", world.vkey), words)


# --- export ------------------------------------------------------------------------------------------


def test_the_export_rebuilds_to_both_checkpoints_roots(world, tmp_path):
    export = write(tmp_path, "export.json", world.export)
    assert run(tmp_path, "export", export) == (0, "OK: 14 entries, chain intact, balances consistent.\n")
    for cp in (world.first, world.second):
        note = write(tmp_path, f"cp{cp.number}.txt", log.signed_note(cp))
        code, output = run(tmp_path, "export", export, "--checkpoint", note, "--key", world.vkey)
        assert code == 0, output
        assert f"Its first {cp.size} entries are exactly the ones {world.origin}'s checkpoint signed." in output
    code, output = run(
        tmp_path, "export", "-", "--checkpoint", "cp2.txt", "--key", world.vkey, stdin=json.dumps(world.export)
    )
    assert code == 0, output


def _rechain(export: dict) -> dict:
    """Recompute every link of the hash chain, as an attacker with the database would."""
    prev = GENESIS_HASH
    for entry in export["entries"]:
        entry["prev_hash"] = prev
        entry["hash"] = prev = link_hash(prev, entry)
    return export


def test_a_rewritten_export_with_a_recomputed_chain_is_caught_only_by_the_checkpoint(world, tmp_path):
    """Change a transfer's memo in both its entries and recompute the hash chain: the chain alone
    can't tell, the signed checkpoint can."""
    export = copy.deepcopy(world.export)
    for entry in export["entries"]:
        if entry["transfer"] == export["entries"][2]["transfer"]:
            entry["memo"] = "Nothing happened"
    name = write(tmp_path, "export.json", _rechain(export))
    assert run(tmp_path, "export", name)[0] == 0  # the hash chain alone is fooled
    note = write(tmp_path, "cp.txt", log.signed_note(world.first))
    refused(run(tmp_path, "export", name, "--checkpoint", note, "--key", world.vkey),
            "The ledger was changed after the checkpoint of 8 entries was signed")  # fmt: skip


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("drop entry 6", "Entry #6 is missing"),
        ("swap entries 3 and 4", "out of order: #4 stands where #3 should"),
        ("repeat entry 2", "Entry #2 appears twice"),
        ("drop the last 8", "The checkpoint signs 14 entries but the export holds only 6"),
        ("change an amount", "was changed after the checkpoint of 14 entries"),
    ],
)
def test_a_damaged_export_is_refused_against_the_checkpoint(world, tmp_path, how, words):
    export = copy.deepcopy(world.export)
    entries = export["entries"]
    if how == "drop entry 6":
        del entries[5]
    elif how == "swap entries 3 and 4":
        entries[2], entries[3] = entries[3], entries[2]
    elif how == "repeat entry 2":
        entries[2] = copy.deepcopy(entries[1])
    elif how == "drop the last 8":
        del entries[6:]
    else:
        entries[9]["amount"] = "-1.49"
    note = write(tmp_path, "cp.txt", log.signed_note(world.second))
    refused(
        run(tmp_path, "export", write(tmp_path, "e.json", export), "--checkpoint", note, "--key", world.vkey), words
    )
    if how != "change an amount":  # a damaged chain is refused without a checkpoint too
        assert run(tmp_path, "export", "e.json")[0] == 1


# --- keys from elsewhere, input that isn't ------------------------------------------------------------


def test_a_checkpoint_signed_with_pynacl_is_accepted(world, tmp_path):
    """The other direction of the ``cryptography`` independence: a key and signature made by
    PyNaCl (libsodium), the key id and note put together by hand from the C2SP spec."""
    from nacl.signing import SigningKey  # a dev dependency, only here

    key = SigningKey(hashlib.sha256(b"a neighbour's own key").digest())
    typed = b"\x01" + bytes(key.verify_key)
    key_id = hashlib.sha256(world.origin.encode() + b"\n" + typed).digest()[:4]
    vkey = f"{world.origin}+{key_id.hex()}+{b64(typed)}"
    root = log.root(community_id=world.community.pk, size=14)
    text = f"{world.origin}\n14\n{b64(root)}\n"
    note = f"{text}\n\u2014 {world.origin} {b64(key_id + key.sign(text.encode()).signature)}\n"
    code, output = run(tmp_path, "checkpoint", write(tmp_path, "cp.txt", note), "--key", vkey)
    assert code == 0, output
    doc = inclusion_doc(world, 9, world.second)
    doc["checkpoint"]["note"] = note
    assert run(tmp_path, "inclusion", write(tmp_path, "p.json", doc), "--key", vkey)[0] == 0
    bad = note.replace("\n14\n", "\n13\n")
    refused(run(tmp_path, "checkpoint", write(tmp_path, "bad.txt", bad), "--key", vkey), "changed after it was signed")


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("inclusion", "-", "--key", "KEY"), "not json", "is not JSON"),
        (("inclusion", "-", "--key", "KEY"), "[1, 2]", "expected a JSON object"),
        (
            ("inclusion", "-", "--key", "KEY"),
            '{"format": "p2pcommons-log-consistency/1"}',
            "expected p2pcommons-log-inclusion/1",
        ),
        (("inclusion", "-", "--key", "KEY"), '{"format": "p2pcommons-log-inclusion/1"}', "'origin' is missing"),
        (
            ("inclusion", "-", "--key", "KEY"),
            '{"format": "p2pcommons-log-inclusion/1", "origin": "o", "seq": true}',
            "'seq' must be",
        ),
        (
            ("consistency", "-", "--key", "KEY"),
            '{"format": "p2pcommons-log-consistency/1", "origin": "o", "first": 1}',
            "'second' must be",
        ),
        (("checkpoint", "-", "--key", "not-a-key"), "x", "That is not a public key (--key)"),
        (("checkpoint", "-", "--key", "KEY", "--witness", "KEY"), "x", "a log does not witness itself"),
        (("checkpoint", "-", "--key", "KEY", "--witnesses-needed", "2"), "x", "2 witnesses are needed but only 0"),
        (("export", "-"), '{"format": "x"}', "This is not a ledger export"),
        (("export", "-", "--checkpoint", "cp.txt"), "{}", "--checkpoint needs the log's --key"),
        (("checkpoint", "missing.txt", "--key", "KEY"), None, "Can't read missing.txt"),
        (("inclusion",), None, "the following arguments are required"),
    ],
)
def test_input_that_is_not_what_it_should_be_exits_2(world, tmp_path, args, stdin, words):
    args = tuple(world.vkey if a == "KEY" else a for a in args)
    code, output = run(tmp_path, *args, stdin=stdin)
    assert code == 2, output
    assert words in output and "Traceback" not in output, output
