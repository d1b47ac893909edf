#!/usr/bin/env python3
"""Verify a p2pcommons ledger export without the server or its database.

Usage:
    python3 verify_ledger_export.py ledger.json     (or - for standard input)

Get the export from /api/v1/ledger/export/?community=<id> (or the community ledger
page's "Download" link). Python 3.11's standard library is all this needs.

It recomputes every link of the hash chain (sha256 over the previous hash and the
entry's canonical JSON), checks that every transfer's entries sum to zero, that each
account's running balance matches the recorded one and its final balance, that the
balances of each currency sum to zero and that none is below its limit. It prints OK,
or the first broken link, and exits 0 or 1.

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

FORMAT = "p2pcommons-ledger-export/1"
GENESIS_HASH = "0" * 64
# The fields of an entry that its hash covers, in the export's own words.
CANONICAL_FIELDS = (
    "seq",
    "community",
    "transfer",
    "kind",
    "memo",
    "currency",
    "account",
    "amount",
    "balance_after",
    "created_at",
)


def canonical(entry: dict) -> str:
    """The exact text that is hashed for an entry: sorted-key compact JSON of its
    canonical fields, amounts as strings with two decimals."""
    return json.dumps(
        {k: entry[k] for k in CANONICAL_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def link_hash(prev_hash: str, entry: dict) -> str:
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


def verify_export(export: dict) -> Report:
    """Check a whole export; stop at the first broken link, then check balances."""
    report = Report()
    if export.get("format") != FORMAT:
        return report.fail(f"unknown format {export.get('format')!r} (expected {FORMAT})")
    accounts = {a["id"]: a for a in export.get("accounts", [])}
    running: dict[int, Decimal] = defaultdict(Decimal)
    per_transfer: dict[int, Decimal] = defaultdict(Decimal)
    legs: dict[int, int] = defaultdict(int)
    prev = GENESIS_HASH
    for expected_seq, entry in enumerate(export.get("entries", []), start=1):
        try:
            if entry["seq"] != expected_seq:
                return report.fail(f"sequence jumps from {expected_seq - 1} to {entry['seq']}", entry)
            if entry["prev_hash"] != prev:
                return report.fail("prev_hash does not match the previous entry's hash", entry)
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
        except (KeyError, ValueError, TypeError) as exc:
            return report.fail(f"malformed entry: {exc}", entry if isinstance(entry, dict) else None)
        per_transfer[entry["transfer"]] += amount
        legs[entry["transfer"]] += 1
        prev = entry["hash"]
        report.checked += 1

    for transfer_id, total in per_transfer.items():
        if total != 0 or legs[transfer_id] != 2:
            report.balance_problems.append(f"transfer {transfer_id} has {legs[transfer_id]} legs summing to {total}")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account_id, account in accounts.items():
        balance = _dec(account["balance"])
        totals[account["currency"]] += balance
        if balance != running.get(account_id, Decimal("0")):
            report.balance_problems.append(
                f"account {account_id} holds {balance} but its entries sum to {running.get(account_id, 0)}"
            )
        if balance < _dec(account["limit"]):
            report.balance_problems.append(f"account {account_id} is below its limit {account['limit']}")
    for currency, total in totals.items():
        if total != 0:
            report.balance_problems.append(f"{currency} balances sum to {total}, not 0")
    if report.balance_problems and report.ok:
        report.fail(report.balance_problems[0])
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    source = sys.stdin if argv[1] == "-" else open(argv[1], encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        export = json.load(source)
    except json.JSONDecodeError as exc:
        print(f"Not a JSON ledger export: {exc}", file=sys.stderr)
        return 2
    finally:
        if source is not sys.stdin:
            source.close()
    report = verify_export(export)
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
