"""C2SP signed notes and checkpoints (apps/ledger/checkpoint.py) against the reference vectors.

Why: a checkpoint is only useful if other tools read it. Known answers come from golang/mod's
sumdb/note (signed by Go's crypto/ed25519) and the C2SP spec examples (tests/ledger/note_vectors/);
signatures we make are checked by the raw ``cryptography`` primitive and by PyNaCl (libsodium), and
every single-byte change is refused. No database or Django needed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.ledger import merkle
from apps.ledger.checkpoint import (
    AmbiguousKeyError,
    Checkpoint,
    CheckpointError,
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    Signature,
    Signer,
    UnverifiedNoteError,
    Verifier,
    cosign_note,
    format_checkpoint,
    generate_key,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    sign_checkpoint,
    sign_note,
    split_note,
)

VECTORS = Path(__file__).parent / "note_vectors"
GO = json.loads((VECTORS / "golang_mod_note.json").read_text(encoding="utf-8"))
C2SP = json.loads((VECTORS / "c2sp.json").read_text(encoding="utf-8"))
TD = json.loads((VECTORS / "transparency_dev_formats.json").read_text(encoding="utf-8"))
COUNTS = {"notes_checked": 0, "mutations_refused": 0}

LOG_SKEY, LOG_VKEY = generate_key("timebank.example/ledger")
WITNESS_SKEY, WITNESS_VKEY = generate_key("neighbours.example/witness")


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    print(
        f"\nRELIABILITY: signed-note checkpoints notes_checked={COUNTS['notes_checked']} "
        f"mutations_refused={COUNTS['mutations_refused']} vectors=golang/mod+C2SP invariants=ok"
    )


def _raw_sig(note: str, name: str) -> tuple[bytes, bytes]:
    """(key id, 64-byte signature) of ``name``'s line, decoded by hand (not through the module)."""
    for line in note.split("\n"):
        if line.startswith(f"\u2014 {name} "):
            raw = base64.b64decode(line.split(" ")[2])
            return raw[:4], raw[4:]
    raise AssertionError(f"no line for {name}")


# --- Known answers -----------------------------------------------------------------------------------


def test_go_keys_parse_and_agree():
    peter = Verifier.from_vkey(GO["peter_vkey"])
    signer = Signer.from_skey(GO["peter_skey"])
    assert peter.name == "PeterNeumann" and peter.key_id == 0xC74F20A3
    assert signer.verifier == peter
    assert peter.vkey == GO["peter_vkey"] and signer.skey == GO["peter_skey"]
    assert key_id("PeterNeumann", b"\x01" + peter.public_key) == 0xC74F20A3
    for bad in GO["bad_vkeys"]:
        with pytest.raises(NoteError):
            Verifier.from_vkey(bad)


@pytest.mark.parametrize("key", ["peter_vkey", "peter_skey"])
def test_go_key_manglings_refused(key):
    """note_test.go TestNewVerifier/TestNewSigner: every proper substring and every byte + 1 is refused."""
    good = GO[key]
    parse = Verifier.from_vkey if key == "peter_vkey" else Signer.from_skey
    refused = 0
    for i in range(len(good) + 1):
        for j in range(i + 1, len(good) + 1):
            if (i, j) != (0, len(good)):
                with pytest.raises(NoteError):
                    parse(good[i:j])
                refused += 1
    for i in range(len(good)):
        with pytest.raises(NoteError):
            parse(good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :])
        refused += 1
    COUNTS["mutations_refused"] += refused


def test_go_sign_is_byte_identical():
    assert sign_note(GO["text"], [GO["peter_skey"]]) == GO["signed_by_peter"]
    # An existing line of the same key is replaced, as note.go Sign does.
    stale = Signature("PeterNeumann", 0xC74F20A3, base64.b64encode(bytes.fromhex("c74f20a3") + b"x" * 64).decode())
    assert sign_note(GO["text"], [GO["peter_skey"]], keep=[stale]) == GO["signed_by_peter"]
    with pytest.raises(MalformedNoteError):
        sign_note("abc", [GO["peter_skey"]])
    with pytest.raises(MalformedNoteError):
        sign_note(GO["text"], [], keep=[Signature("a+b", 0, "ABCD")])
    with pytest.raises(MalformedNoteError):
        sign_note(GO["text"], [], keep=[Signature("PeterNeumann", 0xC74F20A3, "BADHASH=")])


def test_go_open():
    """note_test.go TestOpen, case by case."""
    text, peter_line, enoch_line = GO["text"], GO["peter_sig_line"], GO["enoch_sig_line"]
    both = text + "\n" + peter_line + enoch_line
    n = open_note(both, [GO["peter_vkey"]])
    assert n.text == text
    assert [(s.name, s.key_id) for s in n.sigs] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in n.unverified_sigs] == [("EnochRoot", 0xAF0CFE78)]
    n = open_note(both.encode("utf-8"), [GO["peter_vkey"], GO["enoch_vkey"]])
    assert [s.name for s in n.sigs] == ["PeterNeumann", "EnochRoot"] and not n.unverified_sigs
    with pytest.raises(UnverifiedNoteError) as exc:
        open_note(both, [])
    assert len(exc.value.note.unverified_sigs) == 2 and not exc.value.note.sigs
    # Too many signatures.
    with pytest.raises(MalformedNoteError):
        open_note(text + "\n" + peter_line * 101, [GO["peter_vkey"]])
    # A known key's corrupted signature refuses the note.
    with pytest.raises(InvalidSignatureError):
        open_note(text + "\n" + peter_line[:60] + "ABCD" + peter_line[60:], [GO["peter_vkey"]])
    # Stricter than note.go (which skips repeats of a verified key unchecked): a bad repeat refuses.
    with pytest.raises(InvalidSignatureError):
        open_note(text + "\n" + peter_line + peter_line[:60] + "ABCD" + peter_line[60:], [GO["peter_vkey"]])
    # Repeats collapse; the unknown key's corrupted line is only unverified.
    enoch_abcd = enoch_line[:60] + "ABCD" + enoch_line[60:]
    n = open_note(text + "\n" + peter_line * 2 + enoch_line * 2 + enoch_abcd, [GO["peter_vkey"]])
    assert len(n.sigs) == 1 and len(n.unverified_sigs) == 2
    bad = [
        text,
        text + "\n",
        text + "\n" + peter_line[:-1],
        "\x01" + text + "\n" + peter_line,
        b"\xff" + (text + "\n" + peter_line).encode(),  # not UTF-8
        text + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
        "gKvqfqdngotpRZb6KE6RyyBwJnAM=",
        text + "\n" + peter_line + "Unexpected line.\n",
    ]
    for msg in bad:
        with pytest.raises(MalformedNoteError):
            open_note(msg, [GO["peter_vkey"]])
    COUNTS["notes_checked"] += 6 + len(bad)


def test_ambiguous_key_refused_only_when_used():
    peter = Verifier.from_vkey(GO["peter_vkey"])
    impostor = Verifier(peter.name, peter.key_id, Verifier.from_vkey(GO["enoch_vkey"]).public_key)
    with pytest.raises(AmbiguousKeyError):
        open_note(GO["signed_by_peter"], [peter, impostor])
    enoch_note = GO["text"] + "\n" + GO["enoch_sig_line"]
    assert open_note(enoch_note, [peter, impostor, GO["enoch_vkey"]]).sigs[0].name == "EnochRoot"


def test_c2sp_examples():
    assert open_note(C2SP["note"], [C2SP["vkey"]]).text == "This is an example message.\n"
    text, sigs = split_note(C2SP["checkpoint_example"])
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert format_checkpoint(cp) == text and sigs[0].name == cp.origin
    with pytest.raises(UnverifiedNoteError):  # no key of ours: its text must be ignored
        open_checkpoint(C2SP["checkpoint_example"], [C2SP["vkey"]])
    COUNTS["notes_checked"] += 2


@pytest.mark.parametrize(("skey", "vkey"), TD["key_pairs"])
def test_transparency_dev_key_pairs(skey, vkey):
    """Go derived these public keys and key ids from the seeds; we derive the same, and sign for them."""
    signer = Signer.from_skey(skey)
    assert signer.verifier.vkey == vkey and signer.skey == skey
    cp = Checkpoint("TestParseCheckpoint", 42, merkle.EMPTY_ROOT)
    got, opened = open_checkpoint(sign_checkpoint(cp, [skey]), [vkey])
    assert got == cp and opened.sigs[0].name == signer.name


def test_transparency_dev_bodies():
    for body in TD["invalid_bodies"] + TD["lax_bodies_we_refuse"]:
        with pytest.raises(CheckpointError):
            parse_checkpoint(body)
        COUNTS["mutations_refused"] += 1


# --- Checkpoint bodies -------------------------------------------------------------------------------

ROOT = merkle.root([b"a", b"b", b"c"])
GOOD = f"timebank.example/ledger\n3\n{base64.b64encode(ROOT).decode()}\n"


@pytest.mark.parametrize(
    "body",
    [
        "",
        GOOD[:-1],  # no final newline
        "\n3\n" + GOOD.split("\n")[2] + "\n",  # empty origin
        GOOD.replace("\n3\n", "\n03\n"),  # leading zero
        GOOD.replace("\n3\n", "\n+3\n"),
        GOOD.replace("\n3\n", "\n-3\n"),
        GOOD.replace("\n3\n", "\n 3\n"),
        GOOD.replace("\n3\n", "\n3.0\n"),
        GOOD.replace("\n3\n", "\n\u0663\n"),  # Arabic-Indic three: int() would take it
        GOOD.replace("\n3\n", f"\n{2**63}\n"),
        GOOD.replace("\n3\n", "\n\n"),
        f"o\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte hash
        f"o\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33-byte hash
        f"o\n1\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",  # unpadded
        "o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",  # URL alphabet
        f"o\n1\n{base64.b64encode(ROOT).decode()[:-2]}B=\n",  # non-canonical trailing bits
        "timebank.example/ledger\n3\n",  # no root line
        GOOD + "\n",  # empty extension line
        GOOD.replace("ledger", "led\rger"),
        GOOD.replace("\n", "\r\n"),
    ],
)
def test_malformed_checkpoints_refused(body):
    with pytest.raises(CheckpointError):
        parse_checkpoint(body)
    COUNTS["mutations_refused"] += 1


def test_checkpoint_format_refusals_and_empty_tree():
    assert parse_checkpoint(GOOD) == Checkpoint("timebank.example/ledger", 3, ROOT)
    empty = Checkpoint("o", 0, merkle.EMPTY_ROOT, ("ext one",))
    assert parse_checkpoint(format_checkpoint(empty)) == empty
    for bad in [
        Checkpoint("", 1, ROOT),
        Checkpoint("has space", 1, ROOT),
        Checkpoint("a+b", 1, ROOT),
        Checkpoint("o", -1, ROOT),
        Checkpoint("o", True, ROOT),
        Checkpoint("o", 1, ROOT[:31]),
        Checkpoint("o", 1, ROOT, ("",)),
        Checkpoint("o", 1, ROOT, ("two\nlines",)),
        Checkpoint("o", 1, ROOT, ("tab\there",)),
    ]:
        with pytest.raises(CheckpointError):
            format_checkpoint(bad)


# --- Independent verification and tampering ----------------------------------------------------------


def _signed_checkpoint() -> tuple[Checkpoint, str]:
    cp = Checkpoint("timebank.example/ledger", 3, ROOT)
    return cp, sign_checkpoint(cp, [LOG_SKEY])


def _independent_case() -> tuple[bytes, bytes, bytes, list[bytes]]:
    """(public key, note text, raw signature, changed texts) of a fresh signed checkpoint, decoded by hand."""
    cp, note = _signed_checkpoint()
    text = format_checkpoint(cp).encode()
    assert note.startswith(text.decode() + "\n\u2014 timebank.example/ledger ")
    kid, sig = _raw_sig(note, "timebank.example/ledger")
    pub = base64.b64decode(LOG_VKEY.split("+", 2)[2])
    assert pub[0] == 1 and len(pub) == 33
    assert kid == hashlib.sha256(b"timebank.example/ledger\n" + pub).digest()[:4]
    assert kid.hex() == LOG_VKEY.split("+")[1]
    changed = [
        text.replace(b"\n3\n", b"\n4\n"),
        text.replace(b"timebank", b"timebanc"),
        format_checkpoint(Checkpoint(cp.origin, 3, merkle.root([b"a", b"b", b"d"]))).encode(),
    ]
    changed += [text[:i] + bytes([text[i] ^ 1]) + text[i + 1 :] for i in range(len(text))]
    return pub[1:], text, sig, changed


def test_checkpoint_signature_verifies_with_raw_cryptography():
    """The raw Ed25519 primitive, over the exact note text, without our Verifier or note parser."""
    pub, text, sig, changed = _independent_case()
    key = Ed25519PublicKey.from_public_bytes(pub)
    key.verify(sig, text)  # raises if wrong
    for other in changed:
        with pytest.raises(InvalidSignature):
            key.verify(sig, other)
    for i in range(len(sig)):
        with pytest.raises(InvalidSignature):
            key.verify(sig[:i] + bytes([sig[i] ^ 0x80]) + sig[i + 1 :], text)
    COUNTS["mutations_refused"] += len(changed) + len(sig)


def test_checkpoint_signature_verifies_with_pynacl():
    """A second implementation (libsodium through PyNaCl)."""
    nacl_signing = pytest.importorskip("nacl.signing", reason="PyNaCl not installed: second implementation")
    nacl_exc = pytest.importorskip("nacl.exceptions")
    pub, text, sig, changed = _independent_case()
    key = nacl_signing.VerifyKey(pub)
    assert key.verify(text, sig) == text
    for other in changed:
        with pytest.raises(nacl_exc.BadSignatureError):
            key.verify(other, sig)
    for i in range(len(sig)):
        with pytest.raises(nacl_exc.BadSignatureError):
            key.verify(text, sig[:i] + bytes([sig[i] ^ 0x80]) + sig[i + 1 :])
    COUNTS["mutations_refused"] += len(changed) + len(sig)


def test_pynacl_signature_opens_with_our_code():
    """The other direction: a note signed by libsodium is byte-identical to ours and opens."""
    nacl_signing = pytest.importorskip("nacl.signing", reason="PyNaCl not installed: second implementation")
    signer = Signer.from_skey(GO["peter_skey"])
    text = GO["text"].encode()
    sig = nacl_signing.SigningKey(signer.seed).sign(text).signature
    line = "\u2014 PeterNeumann " + base64.b64encode(signer.key_id.to_bytes(4, "big") + sig).decode() + "\n"
    assert GO["text"] + "\n" + line == GO["signed_by_peter"]


def test_every_byte_flip_of_signed_checkpoint_refused():
    cp, note = _signed_checkpoint()
    raw = note.encode()
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            mutated = raw[:i] + bytes([raw[i] ^ bit]) + raw[i + 1 :]
            _assert_not_verified(mutated, cp)


def _assert_not_verified(mutated: bytes, cp: Checkpoint) -> None:
    """Refused, or at least the log key no longer verifies the same checkpoint."""
    try:
        got, opened = open_checkpoint(mutated, [LOG_VKEY], origin=cp.origin)
    except (NoteError, ValueError):
        COUNTS["mutations_refused"] += 1
        return
    raise AssertionError(f"mutation accepted: {mutated!r} -> {got} {opened.sigs}")


def test_witness_cosignature():
    cp, note = _signed_checkpoint()
    cosigned = cosign_note(note, [WITNESS_SKEY], [LOG_VKEY])
    assert cosigned.startswith(note)  # the log's line stays first, untouched
    got, opened = open_checkpoint(cosigned, [LOG_VKEY, WITNESS_VKEY], origin=cp.origin)
    assert got == cp and [s.name for s in opened.sigs] == ["timebank.example/ledger", "neighbours.example/witness"]
    # A member who only knows the log ignores the witness line; one who knows only the witness still checks.
    assert len(open_note(cosigned, [LOG_VKEY]).unverified_sigs) == 1
    assert open_note(cosigned, [WITNESS_VKEY]).sigs[0].name == "neighbours.example/witness"
    with pytest.raises(CheckpointError):
        open_checkpoint(cosigned, [LOG_VKEY], origin="other.example/ledger")
    # A witness refuses to co-sign what the log did not sign.
    forged = note.replace("\n3\n", "\n4\n")
    with pytest.raises(InvalidSignatureError):
        cosign_note(forged, [WITNESS_SKEY], [LOG_VKEY])
    # A valid witness signature cannot save a note where the log's signature is bad.
    text, sigs = split_note(cosigned)
    log_line, witness_line = sigs[0].line, sigs[1].line

    def swap(line: str, i: int) -> str:
        return line[:i] + ("A" if line[i] != "A" else "B") + line[i + 1 :]

    with pytest.raises(InvalidSignatureError):  # a character of the Ed25519 signature itself
        open_note(text + "\n" + swap(log_line, 60) + witness_line, [LOG_VKEY, WITNESS_VKEY])
    # A character of the key id makes the line another (unknown) key's: ignored, and the log's key is
    # then missing from what verified, so a caller requiring the log's signature refuses.
    opened = open_note(text + "\n" + swap(log_line, 27) + witness_line, [LOG_VKEY, WITNESS_VKEY])
    assert [s.name for s in opened.sigs] == ["neighbours.example/witness"] and len(opened.unverified_sigs) == 1
    COUNTS["notes_checked"] += 6


def test_generate_key_round_trip():
    skey, vkey = generate_key("a.example/log")
    signer, verifier = Signer.from_skey(skey), Verifier.from_vkey(vkey)
    assert signer.verifier == verifier and skey.startswith("PRIVATE+KEY+a.example/log+")
    assert generate_key("a.example/log") != (skey, vkey)
    assert base64.b64encode(signer.seed).decode() not in repr(signer) and signer.seed.hex() not in repr(signer)
    for bad in ["", "has space", "a+b", "tab\t"]:
        with pytest.raises(NoteError):
            generate_key(bad)


# --- Properties --------------------------------------------------------------------------------------

ORIGINS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="+\x85"),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(ch.isspace() for ch in s))
CHECKPOINTS = st.builds(
    Checkpoint,
    ORIGINS,
    st.integers(min_value=0, max_value=2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(min_size=1, max_size=20).filter(lambda s: "\n" not in s and s.isprintable()), max_size=2).map(
        tuple
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHECKPOINTS)
def test_checkpoint_round_trip(cp):
    text = format_checkpoint(cp)
    assert parse_checkpoint(text) == cp
    signer = Signer.from_seed(cp.origin, hashlib.sha256(cp.origin.encode()).digest())
    got, opened = open_checkpoint(sign_checkpoint(cp, [signer]), [signer.verifier], origin=cp.origin)
    assert got == cp and len(opened.sigs) == 1
    COUNTS["notes_checked"] += 1


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_single_byte_change_never_verifies(data):
    cp, note = _signed_checkpoint()
    cosigned = cosign_note(note, [WITNESS_SKEY], [LOG_VKEY]).encode()
    i = data.draw(st.integers(min_value=0, max_value=len(cosigned) - 1))
    new = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != cosigned[i]))
    mutated = cosigned[:i] + bytes([new]) + cosigned[i + 1 :]
    try:
        opened = open_note(mutated, [LOG_VKEY, WITNESS_VKEY])
    except NoteError:
        COUNTS["mutations_refused"] += 1
        return
    # Still opened: the change must have left the text alone and unverified the touched key.
    assert opened.text == format_checkpoint(cp)
    assert len(opened.sigs) < 2
    COUNTS["mutations_refused"] += 1
