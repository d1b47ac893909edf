"""C2SP checkpoints (c2sp.org/tlog-checkpoint) in C2SP signed notes (c2sp.org/signed-note), Ed25519.

Why: a community's log head (origin, tree size, RFC 9162 root) must be signed in the format that the
Go checksum database, Sigstore and the transparency-dev witnesses already read, so that any of their
tools checks our checkpoints, and neighbouring communities can add co-signatures (several signature
lines on one note). golang.org/x/mod/sumdb/note is the reference; tests/ledger/test_checkpoint.py holds
this file to its vectors byte for byte.

Deliberate differences from note.go, all stricter, none affecting notes that Go itself writes:
- base64 (signatures, keys, root hash) must be canonical (Go accepts non-zero trailing bits), so one
  note has exactly one spelling and a changed character can never leave a signature valid;
- every signature line of a known key is verified, repeated ones too (Go skips repeats unchecked);
- a known key listed twice with the same public key is one key, not "ambiguous".

Standard library plus ``cryptography`` only, no Django import: the offline verifier can import this
file. Errors are ``ValueError`` subclasses in developer English; callers facing members translate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.ledger.merkle import HASH_SIZE

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 in c2sp.org/signed-note."""

MAX_SIGNATURES = 100
"""note.go's limit; the spec asks verifiers to accept at least 16."""

MAX_TREE_SIZE = 2**63 - 1
"""Go parses sizes as int64; a bigger size would be refused by every Go client."""

SIG_PREFIX = "\u2014 "
"""Em dash and space: the start of every signature line."""

_HEX8 = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key or checkpoint was refused."""


class MalformedNoteError(NoteError):
    """The bytes are not a well-formed signed note."""

    def __init__(self, why: str = "malformed note") -> None:
        super().__init__(why)


class InvalidSignatureError(NoteError):
    """A known key's signature does not verify: the whole note is refused (the spec's SHOULD)."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class AmbiguousKeyError(NoteError):
    """Two different known keys share a name and key id, so a signature cannot be attributed."""


class UnverifiedNoteError(NoteError):
    """No signature of a known key: the text must be ignored. ``note`` lists what was there."""

    def __init__(self, note: Note) -> None:
        super().__init__("note has no verifiable signatures")
        self.note = note


class CheckpointError(NoteError):
    """A checkpoint body does not follow c2sp.org/tlog-checkpoint."""


# --- Encodings --------------------------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    """Strict standard base64 with padding, canonical only (re-encoding gives back the same text)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError("bad base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_valid_name(name: str) -> bool:
    """Key names: non-empty, no Unicode space, no plus (note.go isValidName)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _check_text_chars(text: str) -> None:
    """Signed notes carry no ASCII control character except newline."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise MalformedNoteError("control character in note")


def key_id(name: str, typed_public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type byte || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + typed_public_key).digest()
    return int.from_bytes(digest[:4], "big")


# --- Keys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 verifier key: what a member or witness is configured with to trust a log."""

    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Verifier:
        if not is_valid_name(name):
            raise NoteError("invalid key name")
        if len(public_key) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")
        return cls(name, key_id(name, bytes([ALG_ED25519]) + public_key), bytes(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key id>+<base64(0x01 || public key)>`` (note.go NewVerifier)."""
        parts = vkey.split("+", 2)
        if len(parts) != 3 or not is_valid_name(parts[0]) or not _HEX8.fullmatch(parts[1]):
            raise NoteError("malformed verifier id")
        name, hex_id, key64 = parts
        try:
            typed = _b64decode(key64)
        except ValueError as exc:
            raise NoteError("malformed verifier id") from exc
        if not typed:
            raise NoteError("malformed verifier id")
        if int(hex_id, 16) != key_id(name, typed):
            raise NoteError("invalid verifier hash")
        if typed[0] != ALG_ED25519:
            raise NoteError("unknown verifier algorithm")
        if len(typed) != 33:
            raise NoteError("malformed verifier id")
        return cls(name, int(hex_id, 16), typed[1:])

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """RFC 8032 Ed25519 verification of ``signature`` (64 bytes, no key id) over ``message``."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signer key. ``seed`` is the secret: keep it out of the database and of logs."""

    name: str
    key_id: int
    seed: bytes = field(repr=False)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        if not is_valid_name(name):
            raise NoteError("invalid key name")
        if len(seed) != 32:
            raise NoteError("Ed25519 seed must be 32 bytes")
        public = _public_from_seed(seed)
        return cls(name, key_id(name, bytes([ALG_ED25519]) + public), bytes(seed))

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`` (note.go NewSigner)."""
        parts = skey.split("+", 4)
        if (
            len(parts) != 5
            or parts[0] != "PRIVATE"
            or parts[1] != "KEY"
            or not is_valid_name(parts[2])
            or not _HEX8.fullmatch(parts[3])
        ):
            raise NoteError("malformed signer id")
        name, hex_id, key64 = parts[2], parts[3], parts[4]
        try:
            typed = _b64decode(key64)
        except ValueError as exc:
            raise NoteError("malformed signer id") from exc
        if not typed:
            raise NoteError("malformed signer id")
        if typed[0] != ALG_ED25519:
            raise NoteError("unknown signer algorithm")
        if len(typed) != 33:
            raise NoteError("malformed signer id")
        signer = cls.from_seed(name, typed[1:])
        if signer.key_id != int(hex_id, 16):
            raise NoteError("invalid signer hash")
        return signer

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + self.seed)}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, _public_from_seed(self.seed))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature (deterministic, RFC 8032)."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _public_from_seed(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def generate_key(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair as (signer key string, verifier key string), as note.go GenerateKey."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = Signer.from_seed(name, seed)
    return signer.skey, signer.verifier.vkey


# --- Signed notes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key id and the line's base64 (key id || signature)."""

    name: str
    key_id: int
    base64: str

    @property
    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {self.base64}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures that verified, and those of keys we do not know."""

    text: str
    sigs: tuple[Signature, ...] = ()
    unverified_sigs: tuple[Signature, ...] = ()


def _as_signer(signer: Signer | str) -> Signer:
    return Signer.from_skey(signer) if isinstance(signer, str) else signer


def _as_verifier(verifier: Verifier | str) -> Verifier:
    return Verifier.from_vkey(verifier) if isinstance(verifier, str) else verifier


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Text and signature lines of a note, checked for form only, NOT verified: do not trust the text.

    Used by ``open_note`` and to add a co-signature to a note that was opened already."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError("note is not UTF-8") from exc
    _check_text_chars(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError()
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNoteError()
    sigs = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise MalformedNoteError()
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        try:
            raw = _b64decode(b64)
        except ValueError as exc:
            raise MalformedNoteError() from exc
        if not is_valid_name(name) or len(raw) < 5:
            raise MalformedNoteError()
        sigs.append(Signature(name, int.from_bytes(raw[:4], "big"), b64))
        if len(sigs) > MAX_SIGNATURES:
            raise MalformedNoteError("too many signatures")
    return text, sigs


def open_note(note: str | bytes, known: Iterable[Verifier | str]) -> Note:
    """Verify a signed note against the known keys; return its text and which signatures verified.

    Signatures of unknown keys (name or key id not both matching) are kept as unverified and ignored.
    A known key's bad signature refuses the note (InvalidSignatureError); no known signature at all
    refuses it too (UnverifiedNoteError)."""
    keys: dict[tuple[str, int], Verifier | None] = {}
    for item in known:
        verifier = _as_verifier(item)
        slot = (verifier.name, verifier.key_id)
        if slot in keys and keys[slot] != verifier:
            keys[slot] = None  # two different keys under one name and id: refuse to guess
        elif slot not in keys:
            keys[slot] = verifier
    text, sigs = split_note(note)
    message = text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for sig in sigs:
        slot = (sig.name, sig.key_id)
        if slot not in keys:
            if sig not in unverified:
                unverified.append(sig)
            continue
        verifier = keys[slot]
        if verifier is None:
            raise AmbiguousKeyError(f"ambiguous key {sig.name}+{sig.key_id:08x}")
        if not verifier.verify(message, _b64decode(sig.base64)[4:]):
            raise InvalidSignatureError(sig.name, sig.key_id)
        if all((s.name, s.key_id) != slot for s in verified):
            verified.append(sig)
    opened = Note(text, tuple(verified), tuple(unverified))
    if not verified:
        raise UnverifiedNoteError(opened)
    return opened


def sign_note(text: str, signers: Iterable[Signer | str], keep: Sequence[Signature] = ()) -> str:
    """The signed note of ``text``: the kept signatures (minus those the signers replace), then one new
    line per signer, in order (note.go Sign). ``keep`` lets a witness add its line to a log's note."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_text_chars(text)
    message = text.encode("utf-8")
    new_lines = []
    mine = set()
    for item in signers:
        signer = _as_signer(item)
        mine.add((signer.name, signer.key_id))
        raw = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        new_lines.append(Signature(signer.name, signer.key_id, _b64encode(raw)).line)
    kept = []
    for sig in keep:
        if not is_valid_name(sig.name):
            raise MalformedNoteError()
        try:
            raw = _b64decode(sig.base64)
        except ValueError as exc:
            raise MalformedNoteError() from exc
        if len(raw) < 5 or int.from_bytes(raw[:4], "big") != sig.key_id:
            raise MalformedNoteError()
        if (sig.name, sig.key_id) not in mine:
            kept.append(sig.line)
    if not kept and not new_lines:
        raise MalformedNoteError("a signed note needs at least one signature")
    return text + "\n" + "".join(kept) + "".join(new_lines)


def cosign_note(note: str, signers: Iterable[Signer | str], known: Iterable[Verifier | str]) -> str:
    """Add the signers' lines to a note after checking it against ``known`` (a witness's co-signature).

    All signatures already on the note are kept, unknown ones too (others may know them)."""
    opened = open_note(note, known)
    return sign_note(opened.text, signers, keep=opened.sigs + opened.unverified_sigs)


# --- Checkpoints ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The head of a log at one size: origin, tree size, RFC 9162 root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint's note text. We only write origins usable as key names (no space, no plus)."""
    cp = checkpoint
    if not is_valid_name(cp.origin):
        raise CheckpointError("origin must be non-empty, without spaces or plus")
    if isinstance(cp.size, bool) or not isinstance(cp.size, int) or not 0 <= cp.size <= MAX_TREE_SIZE:
        raise CheckpointError("tree size out of range")
    if not isinstance(cp.root_hash, bytes) or len(cp.root_hash) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    for line in cp.extensions:
        if not line or "\n" in line:
            raise CheckpointError("extension lines must be non-empty single lines")
    text = "".join(f"{line}\n" for line in (cp.origin, str(cp.size), _b64encode(cp.root_hash), *cp.extensions))
    try:
        _check_text_chars(text)
    except MalformedNoteError as exc:
        raise CheckpointError("control character in checkpoint") from exc
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (note text). Refuses anything c2sp.org/tlog-checkpoint does not allow.

    The origin is only required non-empty (clients MUST NOT assume more)."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint must end with a newline")
    try:
        _check_text_chars(text)
    except MalformedNoteError as exc:
        raise CheckpointError("control character in checkpoint") from exc
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("empty origin")
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError("tree size must be a decimal number without leading zeros")
    try:
        root_hash = _b64decode(root_text)
    except ValueError as exc:
        raise CheckpointError("root hash is not base64") from exc
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    if any(not line for line in extensions):
        raise CheckpointError("empty extension line")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Iterable[Signer | str]) -> str:
    """The signed note of a checkpoint; the log's own key should come first and be named as the origin."""
    return sign_note(format_checkpoint(checkpoint), signers)


def open_checkpoint(
    note: str | bytes, known: Iterable[Verifier | str], origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint, then parse it; with ``origin``, refuse another log's checkpoint.

    The caller still decides whose signatures it requires (the log's, a quorum of witnesses) from
    ``Note.sigs``."""
    opened = open_note(note, known)
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError("checkpoint is for another log")
    return checkpoint, opened
