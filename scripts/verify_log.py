#!/usr/bin/env python3
"""Check a p2pcommons community's signed ledger log without the server, its database or Django.

Usage (each prints OK ... or the reason, and exits 0 when it holds, 1 when it does not, 2 when
the input is not what it should be: unreadable, not JSON, a field missing, a malformed key):

    python3 scripts/verify_log.py checkpoint NOTE_FILE --key VKEY [--witness VKEY ...] [--witnesses-needed K]
    python3 scripts/verify_log.py inclusion PROOF.json --key VKEY [--witness VKEY ...] [--witnesses-needed K]
    python3 scripts/verify_log.py consistency PROOF.json --key VKEY [--witness VKEY ...] [--witnesses-needed K]
    python3 scripts/verify_log.py export EXPORT.json [--checkpoint NOTE_FILE --key VKEY [--witness VKEY ...]]

``-`` reads standard input. VKEY is the community log's public key as its ledger page shows it
(``<origin>+<key id>+<base64>``, the C2SP signed-note verifier key); a witness key is another
community's (or server's) key that co-signs the log's checkpoints.

- ``checkpoint``: the note is signed by the log's key, and is a checkpoint of that log (its origin
  is the key's name). Witnesses that co-signed are reported; by default every ``--witness`` given
  must have co-signed, ``--witnesses-needed K`` accepts K of them.
- ``inclusion``: one entry (a proof from ``/api/v1/ledger/logs/<community id>/inclusion/?seq=``,
  format ``INCLUSION_FORMAT``) is in the ledger the signed checkpoint describes: the checkpoint
  verifies, the entry's text gives the leaf hash, and the audit path leads from it to the checkpoint's root at its size.
- ``consistency``: the newer checkpoint extends the older one (format ``CONSISTENCY_FORMAT``): the
  ledger only grew between them, nothing in the older one was changed or removed.
- ``export``: a whole export (``scripts/verify_ledger_export.py``'s format): its hash chain and
  balances (``verify_export``), and with ``--checkpoint``, that its first ``size`` entries give the
  very root the checkpoint signed.

Why a separate script: a member or a neighbouring community checks the server's claims with what
they hold, trusting nothing the server says beyond the key they noted once. The Merkle tree
(RFC 9162) and the note format (C2SP) are the standard ones, so other tools can check the same
files. It needs Python 3.11+ and the ``cryptography`` package (Ed25519), nothing else: it runs
from a clone of the repository, or from any folder that holds ``scripts/verify_log.py``,
``scripts/verify_ledger_export.py`` and ``apps/__init__.py``, ``apps/ledger/__init__.py``
(both empty), ``apps/ledger/merkle.py`` and ``apps/ledger/checkpoint.py``. The server builds
and checks the same structures with those same modules.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from apps.ledger import checkpoint as notes  # noqa: E402 - after the repository root is on the path
from apps.ledger import merkle  # noqa: E402
from scripts.verify_ledger_export import FORMAT as EXPORT_FORMAT  # noqa: E402
from scripts.verify_ledger_export import canonical, verify_export  # noqa: E402

INCLUSION_FORMAT = "p2pcommons-log-inclusion/1"
"""An entry's inclusion proof, as the API serves it and ``inclusion`` reads it."""
CONSISTENCY_FORMAT = "p2pcommons-log-consistency/1"
"""A proof that one checkpoint extends another, as the API serves it and ``consistency`` reads it."""

OK, FAILED, UNUSABLE = 0, 1, 2


class Refused(Exception):
    """The claim does not hold (exit 1) or the input can't be checked (exit 2); ``str`` is the sentence."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


def _unusable(message: str) -> Refused:
    return Refused(message, UNUSABLE)


# --- Reading input --------------------------------------------------------------------------------


def _read_text(name: str) -> str:
    try:
        if name == "-":
            return sys.stdin.read()
        with open(name, encoding="utf-8", newline="") as source:
            return source.read()
    except OSError as exc:
        raise _unusable(f"Can't read {name}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise _unusable(f"{name} is not text (UTF-8).") from None


def _read_json(name: str, what: str) -> dict:
    text = _read_text(name)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise _unusable(f"{name} is not {what}: it is not JSON.") from None
    if not isinstance(data, dict):
        raise _unusable(f"{name} is not {what}: expected a JSON object.")
    return data


def _field(doc: dict, name: str, kind: type, what: str):
    value = doc.get(name)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise _unusable(f"This is not {what}: {name!r} must be a whole number.")
    if kind is not int and not isinstance(value, kind):
        raise _unusable(f"This is not {what}: {name!r} is missing or of the wrong kind.")
    return value


def _hashes(values: Sequence, what: str) -> list[bytes]:
    """Base64 hashes of a proof; a damaged one is a refusal (exit 1): the proof was changed."""
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise _unusable(f"This is not {what}: the proof must be a list of base64 texts.")
        try:
            raw = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise Refused(f"Step {i + 1} of the proof is damaged (not base64): the proof was changed.") from None
        if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw).decode("ascii") != value:
            raise Refused(f"Step {i + 1} of the proof is damaged (not a 32-byte hash): the proof was changed.")
        out.append(raw)
    return out


def _key(vkey: str, whose: str) -> notes.Verifier:
    try:
        return notes.Verifier.from_vkey(vkey)
    except notes.NoteError:
        raise _unusable(f"That is not a public key ({whose}): expected <name>+<8 hex digits>+<base64>.") from None


# --- Checkpoints ----------------------------------------------------------------------------------


def open_checkpoint(
    note: str, log_key: str, witness_keys: Sequence[str] = (), needed: int | None = None
) -> tuple[notes.Checkpoint, list[str], list[str]]:
    """Check a signed checkpoint note: the log's signature with ``log_key``, the origin is the key's
    name, and at least ``needed`` of the witnesses co-signed (all of them when None). Returns the
    checkpoint, the witnesses that co-signed and those that did not; raises ``Refused``."""
    log = _key(log_key, "--key")
    witnesses = list(dict.fromkeys(_key(w, "--witness") for w in witness_keys))  # one key counts once
    if any(w.name == log.name for w in witnesses):
        raise _unusable("A witness key can't be the log's own: a log does not witness itself.")
    if needed is None:
        needed = len(witnesses)
    if needed > len(witnesses):
        raise _unusable(f"{needed} witnesses are needed but only {len(witnesses)} witness keys were given.")
    try:
        opened = notes.open_note(note, [log, *witnesses])
    except notes.InvalidSignatureError as exc:
        if (exc.name, exc.key_id) == (log.name, log.key_id):
            raise Refused(
                "The log's signature does not match this checkpoint: it was changed after it was signed."
            ) from None
        raise Refused(f"Witness {exc.name}'s signature does not match this checkpoint: it was changed.") from None
    except notes.UnverifiedNoteError:
        raise Refused(f"This checkpoint is not signed by the log's key ({log.name}).") from None
    except notes.NoteError as exc:
        raise Refused(f"This is not a signed checkpoint, or it was damaged ({exc}).") from None
    if not any((s.name, s.key_id) == (log.name, log.key_id) for s in opened.sigs):
        raise Refused(f"This checkpoint is not signed by the log's key ({log.name}).")
    try:
        body = notes.parse_checkpoint(opened.text)
    except notes.NoteError as exc:
        raise Refused(f"The signed text is not a checkpoint ({exc}).") from None
    if body.origin != log.name:
        raise Refused(f"This checkpoint is of the log {body.origin}, but the key is of the log {log.name}.")
    signed = {(s.name, s.key_id) for s in opened.sigs}
    cosigned = [w.name for w in witnesses if (w.name, w.key_id) in signed]
    missing = [w.name for w in witnesses if (w.name, w.key_id) not in signed]
    if len(cosigned) < needed:
        raise Refused(
            f"Only {len(cosigned)} of the {needed} witnesses needed co-signed this checkpoint"
            f" (missing: {', '.join(missing)}): nobody independent has confirmed that everyone sees this ledger."
        )
    return body, cosigned, missing


def _witness_words(cosigned: list[str], missing: list[str]) -> str:
    words = f" Co-signed by {', '.join(cosigned)}." if cosigned else ""
    if missing:
        words += f" Not (yet) co-signed by {', '.join(missing)}."
    return words


def check_checkpoint(note: str, log_key: str, witness_keys: Sequence[str] = (), needed: int | None = None) -> str:
    body, cosigned, missing = open_checkpoint(note, log_key, witness_keys, needed)
    return f"OK: checkpoint of {body.origin}, signed by its key: {body.size} entries." + _witness_words(
        cosigned, missing
    )


# --- Inclusion --------------------------------------------------------------------------------------


def check_inclusion(doc: dict, log_key: str, witness_keys: Sequence[str] = (), needed: int | None = None) -> str:
    """One entry is in the ledger that the signed checkpoint describes."""
    what = "an entry's proof"
    if doc.get("format") != INCLUSION_FORMAT:
        raise _unusable(f"This is not {what}: its format is {doc.get('format')!r}, expected {INCLUSION_FORMAT}.")
    origin = _field(doc, "origin", str, what)
    seq = _field(doc, "seq", int, what)
    leaf_index = _field(doc, "leaf_index", int, what)
    tree_size = _field(doc, "tree_size", int, what)
    leaf = _field(doc, "leaf", str, what)
    leaf_hash_text = _field(doc, "leaf_hash", str, what)
    path = _field(doc, "proof", list, what)
    cp = _field(doc, "checkpoint", dict, what)
    number = _field(cp, "number", int, what)
    cp_size = _field(cp, "size", int, what)
    note = _field(cp, "note", str, what)

    body, cosigned, missing = open_checkpoint(note, log_key, witness_keys, needed)
    if origin != body.origin:
        raise Refused(f"The proof is for the log {origin}, but the checkpoint is of the log {body.origin}.")
    if body.size != cp_size or body.size != tree_size:
        raise Refused(
            f"Checkpoint {number} signs a ledger of {body.size} entries, but the proof claims {tree_size}"
            f" (and {cp_size}): the proof was changed."
        )
    if seq != leaf_index + 1:
        raise Refused(f"The proof is for entry #{seq} but names place {leaf_index} (entry #{leaf_index + 1}).")
    if seq > body.size:
        raise Refused(f"Entry #{seq} came after checkpoint {number} ({body.size} entries): ask for a newer proof.")
    try:
        entry = json.loads(leaf)
    except (json.JSONDecodeError, RecursionError):
        entry = None
    if not isinstance(entry, dict) or entry.get("seq") != seq:
        raise Refused(f"The entry's text is not entry #{seq}: it was changed.")
    try:
        if canonical(entry) != leaf:
            raise Refused("The entry's text is not in its canonical form: it was changed.")
    except KeyError as exc:
        raise Refused(f"The entry's text lacks {exc}: it was changed.") from None
    computed = merkle.leaf_hash(leaf.encode("utf-8"))
    if base64.b64encode(computed).decode("ascii") != leaf_hash_text:
        raise Refused(f"The text of entry #{seq} does not give the fingerprint the proof names: one was changed.")
    try:
        merkle.verify_inclusion(leaf_index, body.size, computed, _hashes(path, what), body.root_hash)
    except merkle.ProofError as exc:
        raise Refused(
            f"Entry #{seq} as given is not in the ledger that checkpoint {number} signed"
            f" ({body.size} entries): the entry or the proof was changed ({exc})."
        ) from None
    return (
        f"OK: entry #{seq} (account {entry.get('account')}, {entry.get('amount')} {entry.get('currency')},"
        f" transfer {entry.get('transfer')}) is in the ledger of {body.origin} as signed in checkpoint {number}"
        f" ({body.size} entries)." + _witness_words(cosigned, missing)
    )


# --- Consistency ------------------------------------------------------------------------------------


def check_consistency(doc: dict, log_key: str, witness_keys: Sequence[str] = (), needed: int | None = None) -> str:
    """The newer checkpoint's ledger extends the older one's: nothing was rewritten or removed."""
    what = "a proof between two checkpoints"
    if doc.get("format") != CONSISTENCY_FORMAT:
        raise _unusable(f"This is not {what}: its format is {doc.get('format')!r}, expected {CONSISTENCY_FORMAT}.")
    origin = _field(doc, "origin", str, what)
    first = _field(doc, "first", int, what)
    second = _field(doc, "second", int, what)
    first_note = _field(doc, "first_note", str, what)
    second_note = _field(doc, "second_note", str, what)
    path = _field(doc, "proof", list, what)
    old, _, _ = open_checkpoint(first_note, log_key, witness_keys, needed)
    new, cosigned, missing = open_checkpoint(second_note, log_key, witness_keys, needed)
    if not origin == old.origin == new.origin:
        raise Refused(f"The proof is for the log {origin}, the checkpoints are of {old.origin} and {new.origin}.")
    if (old.size, new.size) != (first, second):
        raise Refused(
            f"The checkpoints sign {old.size} and {new.size} entries, but the proof claims {first} and {second}."
        )
    if old.size > new.size:
        raise Refused(f"The ledger shrank from {old.size} to {new.size} entries: entries were removed.")
    try:
        merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, _hashes(path, what))
    except merkle.ProofError as exc:
        raise Refused(
            f"The ledger was changed after the checkpoint of {old.size} entries was signed: the checkpoint of"
            f" {new.size} entries does not extend it ({exc})."
        ) from None
    return (
        f"OK: the ledger of {new.origin} only grew from {old.size} to {new.size} entries; nothing before was"
        " changed." + _witness_words(cosigned, missing)
    )


# --- Export -----------------------------------------------------------------------------------------


def _check_numbering(entries: list) -> None:
    """Entries numbered 1..n in order: the leaf at place i is entry #i + 1, so a dropped, repeated or
    moved entry is named as such before any hash is compared."""
    seqs = []
    for place, entry in enumerate(entries, start=1):
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise Refused(f"The entry at place {place} is damaged: it has no number.")
        seqs.append(seq)
    if seqs == list(range(1, len(seqs) + 1)):
        return
    seen = set()
    for seq in seqs:
        if seq in seen:
            raise Refused(f"Entry #{seq} appears twice.")
        seen.add(seq)
    missing = next((n for n in range(1, len(seqs) + 1) if n not in seen), None)
    if missing is not None:
        raise Refused(f"Entry #{missing} is missing: the export skips from #{missing - 1} to a later entry.")
    place = next(i for i, seq in enumerate(seqs) if seq != i + 1)
    raise Refused(f"The entries are out of order: #{seqs[place]} stands where #{place + 1} should.")


def check_export(
    export: dict,
    note: str | None = None,
    log_key: str | None = None,
    witness_keys: Sequence[str] = (),
    needed: int | None = None,
) -> str:
    """The export's chain and balances hold; with a checkpoint, its first ``size`` entries give the
    root that checkpoint signed."""
    if export.get("format") != EXPORT_FORMAT:
        raise _unusable(
            f"This is not a ledger export: its format is {export.get('format')!r}, expected {EXPORT_FORMAT}."
        )
    entries = export.get("entries")
    if not isinstance(entries, list):
        raise _unusable("This is not a ledger export: it has no list of entries.")
    body = None
    if note is not None:
        body, cosigned, missing = open_checkpoint(note, log_key or "", witness_keys, needed)
    _check_numbering(entries)
    compact = merkle.CompactRange()
    root_at_checkpoint = merkle.EMPTY_ROOT if body is not None and body.size == 0 else None
    for entry in entries:
        try:
            leaf = canonical(entry).encode("utf-8")
        except KeyError as exc:
            raise Refused(f"Entry #{entry['seq']} lacks {exc}: it was changed.") from None
        compact.append(merkle.leaf_hash(leaf))
        if body is not None and compact.size == body.size:
            root_at_checkpoint = compact.root()
    if body is not None and body.size > compact.size:
        raise Refused(
            f"The checkpoint signs {body.size} entries but the export holds only {compact.size}: entries are missing."
        )
    if body is not None and root_at_checkpoint != body.root_hash:
        raise Refused(
            f"The ledger was changed after the checkpoint of {body.size} entries was signed: its first"
            f" {body.size} entries are not the ones the checkpoint signed."
        )
    report = verify_export(export)
    if not report.ok:
        raise Refused(f"The ledger's own chain does not hold: {report}")
    words = f"OK: {report.checked} entries, chain intact, balances consistent."
    if body is None:
        return words
    return (
        f"{words} Its first {body.size} entries are exactly the ones {body.origin}'s checkpoint signed."
        + _witness_words(cosigned, missing)
    )


# --- Command line -----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too, with its usage: keep that
        self.print_usage(sys.stderr)
        self.exit(UNUSABLE, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="verify_log.py", description="Check a community's signed ledger log offline.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def keys(p: argparse.ArgumentParser, key_required: bool = True) -> None:
        p.add_argument("--key", required=key_required, help="the log's public key (<origin>+<id>+<base64>)")
        p.add_argument("--witness", action="append", default=[], help="a witness's public key (repeatable)")
        p.add_argument(
            "--witnesses-needed", type=int, default=None, help="how many witnesses must have co-signed (default: all)"
        )

    p = sub.add_parser("checkpoint", help="a signed checkpoint note")
    p.add_argument("note")
    keys(p)
    p = sub.add_parser("inclusion", help="one entry's inclusion proof (JSON)")
    p.add_argument("proof")
    keys(p)
    p = sub.add_parser("consistency", help="a consistency proof between two checkpoints (JSON)")
    p.add_argument("proof")
    keys(p)
    p = sub.add_parser("export", help="a ledger export (JSON), optionally against a checkpoint")
    p.add_argument("export")
    p.add_argument("--checkpoint", help="a signed checkpoint note file to compare the export with")
    keys(p, key_required=False)
    return parser


def run(args: argparse.Namespace) -> str:
    needed = args.witnesses_needed
    if needed is not None and needed < 0:
        raise _unusable("--witnesses-needed can't be negative.")
    if args.command == "checkpoint":
        return check_checkpoint(_read_text(args.note), args.key, args.witness, needed)
    if args.command == "inclusion":
        return check_inclusion(_read_json(args.proof, "an entry's proof"), args.key, args.witness, needed)
    if args.command == "consistency":
        return check_consistency(
            _read_json(args.proof, "a proof between two checkpoints"), args.key, args.witness, needed
        )
    if args.checkpoint is not None and not args.key:
        raise _unusable("--checkpoint needs the log's --key to check it with.")
    if args.checkpoint == "-" and args.export == "-":
        raise _unusable("Only one of the export and the checkpoint can come from standard input.")
    export = _read_json(args.export, "a ledger export")
    note = _read_text(args.checkpoint) if args.checkpoint is not None else None
    return check_export(export, note, args.key, args.witness, needed)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 it holds, 1 it does not (the reason on standard output), 2 unusable input."""
    args = _parser().parse_args(argv)
    try:
        print(run(args))
    except Refused as refused:
        if refused.code == UNUSABLE:
            print(str(refused), file=sys.stderr)
        else:
            print(f"REFUSED: {refused}")
        return refused.code
    return OK


if __name__ == "__main__":
    sys.exit(main())
