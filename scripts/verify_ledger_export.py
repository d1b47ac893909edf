#!/usr/bin/env python3
"""Verify a p2pcommons ledger export without the server or its database.

Usage:
    python3 verify_ledger_export.py ledger.json     (or - for standard input)
    python3 verify_ledger_export.py ledger.json --entries my-ledger.json

Get the export from /api/v1/ledger/export/?community=<id> (or the community ledger
page's "Download" link). Python 3.11's standard library is all this needs.

It recomputes every link of the hash chain (sha256 over the previous hash and the
entry's canonical JSON, canonical form v2: see ``canonical``), checks that every entry
agrees with its transfer (the transfer's source loses the transfer's amount, its target
gains it, and both entries of a transfer tell the same transfer), that every transfer
has those two entries summing to zero, that each account's running balance matches the
recorded one and its final balance, that the balances of each currency sum to zero and
that none is below its limit. It prints OK, or the first broken link, and exits 0 or 1
(2 when the input is not a ledger export at all).

With ``--entries``, it also checks a member's own entries (the ``ledger/<community>.json``
file of their "Download my data" zip, format ``ENTRIES_FORMAT``) against the community's
export: the community's chain must be intact, and each of the member's entries must hash
with its ``prev_hash`` to its ``hash``, and be the very entry the community's chain holds
at its ``seq`` (same hash, same previous hash). So a member can show that the history
they were given is the one everybody's chain contains. In Python, ``verify_entries``
does the same.

The server verifies with this same code (apps.ledger.chain imports it), so the two can
never disagree about what a valid ledger is.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

USAGE = "usage: python3 verify_ledger_export.py ledger.json   (or - for standard input)"
FORMAT = "p2pcommons-ledger-export/2"
# A member's own entries of one community, as their data download holds them.
ENTRIES_FORMAT = "p2pcommons-ledger-entries/1"
CANONICAL_VERSION = 2
GENESIS_HASH = "0" * 64
# What one transfer says; both of its entries carry these, identically.
TRANSFER_FIELDS = (
    "transfer",
    "transfer_amount",
    "source",
    "target",
    "currency",
    "kind",
    "memo",
    "idempotency_key",
    "reverses",
    "created_at",
)
# The fields of an entry that its hash covers, in the export's own words: the version,
# the entry's own fields, then its transfer's.
CANONICAL_FIELDS = ("v", "seq", "community", "account", "amount", "balance_after", *TRANSFER_FIELDS)


def canonical(entry: dict) -> str:
    """The exact text that is hashed for an entry (canonical form v2).

    The JSON object of exactly ``CANONICAL_FIELDS``, keys sorted, no whitespace, non-ASCII
    characters as themselves (UTF-8), ids as integers, amounts as strings with two
    decimals, ``reverses`` an id or null, ``created_at`` ISO 8601 in UTC with microseconds.
    """
    return json.dumps(
        {k: entry[k] for k in CANONICAL_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def link_hash(prev_hash: str, entry: dict) -> str:
    """sha256, as 64 lowercase hex digits, of the UTF-8 bytes of the previous entry's
    hash (64 zeros for the first entry) followed by the entry's canonical text."""
    return hashlib.sha256((prev_hash + canonical(entry)).encode("utf-8")).hexdigest()


@dataclass
class Report:
    """The outcome: ``ok``, how many entries were checked, and the first problem."""

    ok: bool = True
    checked: int = 0
    broken_seq: int | None = None
    broken_entry_id: int | None = None
    problem: str = ""
    balance_problems: list[str] = field(default_factory=list)

    def fail(self, problem: str, entry: dict | None = None) -> Report:
        """Record ``problem`` unless an earlier one is recorded already (the first counts)."""
        if self.ok:
            self.ok = False
            self.problem = problem
            if entry is not None:
                self.broken_seq = entry.get("seq")
                self.broken_entry_id = entry.get("id")
        return self

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_seq": self.broken_seq,
            "broken_entry_id": self.broken_entry_id,
            "problem": self.problem,
            "balance_problems": self.balance_problems,
        }

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.checked} entries, chain intact, balances consistent."
        where = f"entry #{self.broken_seq} (id {self.broken_entry_id}): " if self.broken_seq is not None else ""
        return f"BROKEN at {where}{self.problem}"


def _dec(value: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def _disagreement(entry: dict, amount: Decimal, first: dict) -> str:
    """What is wrong between an entry and its transfer ("" when nothing is).

    ``first`` is the first entry seen of the same transfer (possibly ``entry`` itself).
    """
    differ = [name for name in TRANSFER_FIELDS if entry[name] != first[name]]
    if differ:
        return f"the entries of transfer {entry['transfer']} disagree about its {', '.join(differ)}"
    moved = _dec(entry["transfer_amount"])
    if (entry["account"], amount) not in ((entry["source"], -moved), (entry["target"], moved)):
        return (
            f"the entry moves {amount} on account {entry['account']} but transfer {entry['transfer']} "
            f"moves {moved} from account {entry['source']} to account {entry['target']}"
        )
    return ""


def verify_export(export: dict) -> Report:
    """Check a whole export; stop at the first broken link, then check balances.

    ``export["entries"]`` may be any iterable (the server streams it from the database).
    """
    report = Report()
    if export.get("format") != FORMAT:
        return report.fail(f"unknown format {export.get('format')!r} (expected {FORMAT})")
    try:
        accounts = {a["id"]: a for a in export.get("accounts", [])}
    except (KeyError, TypeError) as exc:
        return report.fail(f"malformed account list: {exc!r}")
    running: dict[int, Decimal] = defaultdict(Decimal)
    per_transfer: dict[int, Decimal] = defaultdict(Decimal)
    legs: dict[int, int] = defaultdict(int)
    first_leg: dict[int, dict] = {}
    prev = GENESIS_HASH
    for expected_seq, entry in enumerate(export.get("entries", []), start=1):
        try:
            if entry["seq"] != expected_seq:
                return report.fail(f"sequence jumps from {expected_seq - 1} to {entry['seq']}", entry)
            if entry["prev_hash"] != prev:
                return report.fail("prev_hash does not match the previous entry's hash", entry)
            if entry["v"] != CANONICAL_VERSION:
                return report.fail(f"canonical form v{entry['v']} is unknown (this verifier checks v2)", entry)
            if link_hash(prev, entry) != entry["hash"]:
                return report.fail("hash does not match the entry's content (it was changed)", entry)
            amount = _dec(entry["amount"])
            running[entry["account"]] += amount
            if running[entry["account"]] != _dec(entry["balance_after"]):
                return report.fail(
                    f"balance_after {entry['balance_after']} but the entries sum to {running[entry['account']]}",
                    entry,
                )
            account = accounts.get(entry["account"])
            if account is None or account["currency"] != entry["currency"]:
                return report.fail("entry names an unknown account or the wrong currency", entry)
            problem = _disagreement(entry, amount, first_leg.setdefault(entry["transfer"], entry))
            if problem:
                return report.fail(problem, entry)
        except (KeyError, ValueError, TypeError) as exc:
            return report.fail(f"malformed entry: {exc!r}", entry if isinstance(entry, dict) else None)
        per_transfer[entry["transfer"]] += amount
        legs[entry["transfer"]] += 1
        prev = entry["hash"]
        report.checked += 1

    for transfer_id, total in per_transfer.items():
        if total != 0 or legs[transfer_id] != 2:
            report.balance_problems.append(f"transfer {transfer_id} has {legs[transfer_id]} legs summing to {total}")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    try:
        for account_id, account in accounts.items():
            balance = _dec(account["balance"])
            totals[account["currency"]] += balance
            if balance != running[account_id]:
                report.balance_problems.append(
                    f"account {account_id} holds {balance} but its entries sum to {running[account_id]}"
                )
            if balance < _dec(account["limit"]):
                report.balance_problems.append(f"account {account_id} is below its limit {account['limit']}")
    except (KeyError, ValueError, TypeError) as exc:
        return report.fail(f"malformed account: {exc!r}")
    for currency, total in totals.items():
        if total != 0:
            report.balance_problems.append(f"{currency} balances sum to {total}, not 0")
    if report.balance_problems:
        report.fail(report.balance_problems[0])
    return report


def verify_entries(export: dict, mine: dict) -> Report:
    """Check a member's entries (``mine``, format ``ENTRIES_FORMAT``) against the community
    export they belong to: the export's whole chain first (``verify_export``), then each
    of the member's entries. ``checked`` counts the member's entries checked."""
    report = Report()
    if not isinstance(mine, dict) or mine.get("format") != ENTRIES_FORMAT:
        found = mine.get("format") if isinstance(mine, dict) else None
        return report.fail(f"unknown entries format {found!r} (expected {ENTRIES_FORMAT})")
    chain = verify_export(export)
    if not chain.ok:
        return chain  # the community's own chain is broken: its first problem stands
    by_seq = {}
    for entry in export.get("entries", []):
        by_seq[entry["seq"]] = entry
    try:
        mine_community = (mine.get("community") or {}).get("id")
        their_community = (export.get("community") or {}).get("id")
        if mine_community is not None and their_community is not None and mine_community != their_community:
            return report.fail(
                f"these entries are of community {mine_community}, the export is of community {their_community}"
            )
        for entry in mine.get("entries", []):
            if entry["v"] != CANONICAL_VERSION:
                return report.fail(f"canonical form v{entry['v']} is unknown (this verifier checks v2)", entry)
            if link_hash(entry["prev_hash"], entry) != entry["hash"]:
                return report.fail("hash does not match the entry's content (it was changed)", entry)
            theirs = by_seq.get(entry["seq"])
            if theirs is None:
                return report.fail("the community's chain has no entry at this sequence number", entry)
            if theirs["hash"] != entry["hash"] or theirs["prev_hash"] != entry["prev_hash"]:
                return report.fail("the community's chain holds another entry at this sequence number", entry)
            report.checked += 1
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return report.fail(f"malformed entries: {exc!r}")
    return report


def _load(name: str) -> dict | None:
    """The JSON object in file ``name`` ("-": standard input); None (and a message on
    standard error) when it can't be read or is not a JSON object."""
    try:
        if name == "-":
            data = json.load(sys.stdin)
        else:
            with open(name, encoding="utf-8") as source:
                data = json.load(source)
    except OSError as exc:
        print(f"Can't read {name}: {exc.strerror}", file=sys.stderr)
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"Not a JSON ledger export: {exc}", file=sys.stderr)
        return None
    if not isinstance(data, dict):
        print("Not a JSON ledger export: expected an object with format, accounts and entries", file=sys.stderr)
        return None
    return data


def main(argv: list[str]) -> int:
    """Verify the export named by ``argv[1]`` ("-": standard input); print the verdict.
    With ``--entries FILE`` after it, check that file's entries against the export too.

    Exit status: 0 intact, 1 broken, 2 not usable (no argument, unreadable, not an export).
    """
    if len(argv) == 4 and argv[2] == "--entries":
        export, mine = _load(argv[1]), _load(argv[3])
        if export is None or mine is None:
            return 2
        report = verify_entries(export, mine)
        if report.ok:
            print(f"OK: {report.checked} of your entries are in the community's chain, which is intact.")
        else:
            print(report)
        return 0 if report.ok else 1
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    export = _load(argv[1])
    if export is None:
        return 2
    report = verify_export(export)
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
