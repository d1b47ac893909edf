"""Canonical form v2: the hash covers the transfer rows too; the golden vector; the
verifier's checks of entries against their transfers; the chain head; the cached verify;
the re-hash migration; the offline script's own edges."""

import importlib
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.ledger import services
from apps.ledger.chain import entry_document, export_community, verify_community, verify_community_cached
from apps.ledger.models import Account, Chain, Entry, Transfer
from scripts import verify_ledger_export as script
from tests.ledger.test_chain import tamper

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_ledger_export.py"
pytestmark = pytest.mark.django_db

GOLDEN_CANONICAL = (
    '{"account":11,"amount":"-2.50","balance_after":"-2.50","community":3,'
    '"created_at":"2026-03-01T12:30:00.000250+00:00","currency":"HOUR","idempotency_key":"gift:4:ä",'
    '"kind":"gift","memo":"Café für alle ✓ «merci»","reverses":5,"seq":1,"source":11,"target":12,'
    '"transfer":7,"transfer_amount":"2.50","v":2}'
)
GOLDEN_FIRST = "62ad940bf3275c22e2eb1bec2e4e6dd5136916c9ea70e38f54c99a5b273dc0d4"
GOLDEN_SECOND = "72c8580e9ed10e887a604b8e0054d95d249fdb6f56fbb71ae83337d0d6f21114"


def golden_transfer() -> Transfer:
    return Transfer(
        pk=7,
        community_id=3,
        amount=Decimal("2.5"),
        source_id=11,
        target_id=12,
        currency="HOUR",
        kind="gift",
        memo="Café für alle ✓ «merci»",
        idempotency_key="gift:4:ä",
        reverses_id=5,
        created_at=datetime(2026, 3, 1, 13, 30, 0, 250, tzinfo=timezone(timedelta(hours=1))),
    )


def golden_export() -> dict:
    transfer = golden_transfer()
    first = entry_document(
        seq=1, transfer=transfer, account_id=11, amount=Decimal("-2.5"), balance_after=Decimal("-2.5")
    )
    second = entry_document(
        seq=2, transfer=transfer, account_id=12, amount=Decimal("2.5"), balance_after=Decimal("2.5")
    )
    first.update(id=1, prev_hash="0" * 64, hash=GOLDEN_FIRST)
    second.update(id=2, prev_hash=GOLDEN_FIRST, hash=GOLDEN_SECOND)
    accounts = [
        {"id": 11, "currency": "HOUR", "holder": "Ana", "limit": "-10.00", "balance": "-2.50"},
        {"id": 12, "currency": "HOUR", "holder": "Bo", "limit": "-10.00", "balance": "2.50"},
    ]
    return {"format": "p2pcommons-ledger-export/2", "accounts": accounts, "entries": [first, second]}


def run_script(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, check=False
    )


def check_offline(export: dict) -> subprocess.CompletedProcess:
    return run_script(["-"], stdin=json.dumps(export))


# --- the golden vector -----------------------------------------------------------------


def test_the_canonical_form_and_link_hash_match_the_golden_vector_on_the_server():
    doc = entry_document(
        seq=1, transfer=golden_transfer(), account_id=11, amount=Decimal("-2.5"), balance_after=Decimal("-2.5")
    )
    assert script.canonical(doc) == GOLDEN_CANONICAL
    assert script.link_hash("0" * 64, doc) == GOLDEN_FIRST


def test_the_offline_script_accepts_the_golden_vector_and_refuses_it_changed():
    export = golden_export()
    assert script.verify_export(export).ok
    result = check_offline(export)
    assert (result.returncode, result.stdout.strip()) == (0, "OK: 2 entries, chain intact, balances consistent.")
    export["entries"][0]["memo"] = "Cafe fur alle"
    result = check_offline(export)
    assert result.returncode == 1 and "BROKEN at entry #1 (id 1): hash does not match" in result.stdout


# --- tampering with a transfer row ------------------------------------------------------


@pytest.fixture
def two_gifts(community, owner, member):
    src = services.account_for(user=owner, community=community, currency="HOUR")
    dst = services.account_for(user=member, community=community, currency="HOUR")
    first = services.transfer_create(source=src, target=dst, amount="3", idempotency_key="a", memo="Ladder")
    second = services.transfer_create(source=dst, target=src, amount="1", idempotency_key="b", memo="Soup")
    return first, second


TRANSFER_UPDATES = {
    name: f"UPDATE ledger_transfer SET {name} = %s WHERE id = %s"  # noqa: S608 - fixed column names
    for name in ("amount", "memo", "idempotency_key", "kind")
}


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", "4.00"), ("memo", "Something else"), ("idempotency_key", "other"), ("kind", "exchange")],
)
def test_changing_a_transfer_row_is_named_by_verify_as_its_first_entry(two_gifts, community, column, value, capsys):
    first, _ = two_gifts
    tamper(TRANSFER_UPDATES[column], [value, first.pk])
    report = verify_community(community=community)
    entry = Entry.objects.get(transfer=first, seq=1)
    assert not report.ok and (report.broken_seq, report.broken_entry_id) == (1, entry.pk)
    assert "hash does not match" in report.problem
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"BROKEN at entry #1 (id {entry.pk})" in capsys.readouterr().out
    result = check_offline(export_community(community=community))
    assert result.returncode == 1 and f"BROKEN at entry #1 (id {entry.pk})" in result.stdout


def test_swapping_a_transfers_accounts_is_named_by_verify(two_gifts, community):
    first, _ = two_gifts
    tamper(
        "UPDATE ledger_transfer SET source_id = %s, target_id = %s WHERE id = %s",
        [first.target_id, first.source_id, first.pk],
    )
    report = verify_community(community=community)
    assert not report.ok and report.broken_seq == 1


def test_the_api_transfer_and_the_chain_tell_the_same_amount(two_gifts, community):
    first, _ = two_gifts
    export = export_community(community=community)
    assert [e["transfer_amount"] for e in export["entries"][:2]] == ["3.00", "3.00"]
    assert {e["source"] for e in export["entries"][:2]} == {first.source_id}


# --- the chain head ---------------------------------------------------------------------


def test_a_chain_head_with_another_hash_is_reported_while_balances_agree(two_gifts, community):
    Chain.objects.filter(community=community).update(last_hash="f" * 64)
    report = verify_community(community=community)
    assert not report.ok and report.balance_problems == []
    assert report.problem.startswith("the chain head records 4 entries ending in hash ffffffffffff")
    assert report.broken_seq is None


def test_a_chain_head_with_another_length_is_reported(two_gifts, community):
    Chain.objects.filter(community=community).update(last_seq=3)
    report = verify_community(community=community)
    assert not report.ok and "the chain head records 3 entries" in report.problem
    assert "the last entry is #4" in report.problem


# --- the cache ------------------------------------------------------------------------


def test_a_cached_verify_is_recomputed_when_the_head_hash_changes(two_gifts, community):
    assert verify_community_cached(community=community).ok
    Chain.objects.filter(community=community).update(last_hash="e" * 64)
    report = verify_community_cached(community=community)
    assert not report.ok and "chain head" in report.problem


def test_a_cached_verify_is_per_community(community, other_community, owner):
    assert verify_community_cached(community=community).ok  # empty chain: head (0, genesis)
    account = services.account_for(user=owner, community=other_community, currency="HOUR")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_account SET balance = 1 WHERE id = %s", [account.pk])
    report = verify_community_cached(community=other_community)
    assert not report.ok and "entries sum to 0" in report.problem


def test_a_cached_answer_is_the_same_report(two_gifts, community):
    first = verify_community_cached(community=community)
    again = verify_community_cached(community=community)
    assert again.as_dict() == first.as_dict() and str(again) == "OK: 4 entries, chain intact, balances consistent."


# --- the re-hash migration --------------------------------------------------------------


def migration():
    return importlib.import_module("apps.ledger.migrations.0003_rehash_chains_canonical_v2")


def test_the_migration_rehashes_a_v1_chain_into_v2_and_back(two_gifts, community):
    v2_hashes = list(Entry.objects.order_by("seq").values_list("hash", flat=True))
    editor = SimpleNamespace(connection=connection)
    migration().backwards(global_apps, editor)
    v1_hashes = list(Entry.objects.order_by("seq").values_list("hash", flat=True))
    assert v1_hashes != v2_hashes and not verify_community(community=community).ok
    assert Chain.objects.get(community=community).last_hash == v1_hashes[-1]
    migration().forwards(global_apps, editor)
    assert list(Entry.objects.order_by("seq").values_list("hash", flat=True)) == v2_hashes
    assert Chain.objects.get(community=community).last_hash == v2_hashes[-1]
    assert verify_community(community=community).ok


def test_the_migration_does_not_launder_a_tampered_chain(two_gifts, community):
    editor = SimpleNamespace(connection=connection)
    migration().backwards(global_apps, editor)
    third = Entry.objects.get(community=community, seq=3)
    tamper("UPDATE ledger_entry SET amount = %s WHERE id = %s", ["5.00", third.pk])
    migration().forwards(global_apps, editor)
    report = verify_community(community=community)
    assert not report.ok and report.broken_seq == 3


def test_the_migration_leaves_a_head_that_disagrees(two_gifts, community):
    editor = SimpleNamespace(connection=connection)
    migration().backwards(global_apps, editor)
    Chain.objects.filter(community=community).update(last_seq=3)
    migration().forwards(global_apps, editor)
    report = verify_community(community=community)
    assert not report.ok and "chain head records 3" in report.problem


# --- the offline script: crafted exports --------------------------------------------------


def craft(legs: list[tuple[dict, int, str]], *, limits: dict | None = None, v: int = 2, tweak=None) -> dict:
    """A hand-made export whose hashes are right: ``legs`` are (transfer, account, amount);
    ``tweak(doc)`` may change a document before it is hashed."""
    running: dict[int, Decimal] = {}
    entries, prev = [], "0" * 64
    for seq, (transfer, account, amount) in enumerate(legs, start=1):
        running[account] = running.get(account, Decimal("0")) + Decimal(amount)
        doc = {
            "v": v,
            "seq": seq,
            "community": 1,
            "account": account,
            "amount": amount,
            "balance_after": f"{running[account]:.2f}",
            "currency": "HOUR",
            "kind": "gift",
            "memo": "",
            "idempotency_key": f"k{transfer['transfer']}",
            "reverses": None,
            "created_at": "2026-03-01T12:00:00.000000+00:00",
            **transfer,
        }
        if tweak:
            tweak(doc)
        doc.update(id=seq, prev_hash=prev, hash=script.link_hash(prev, doc))
        prev = doc["hash"]
        entries.append(doc)
    limits = limits or {}
    accounts = [
        {"id": a, "currency": "HOUR", "holder": "x", "limit": limits.get(a, "-10.00"), "balance": f"{b:.2f}"}
        for a, b in running.items()
    ]
    return {"format": "p2pcommons-ledger-export/2", "accounts": accounts, "entries": entries}


T1 = {"transfer": 1, "transfer_amount": "3.00", "source": 1, "target": 2}


def test_a_crafted_well_formed_export_verifies():
    result = check_offline(craft([(T1, 1, "-3.00"), (T1, 2, "3.00")]))
    assert result.returncode == 0


def test_a_three_legged_transfer_summing_to_zero_is_refused():
    legs = [(T1, 1, "-3.00"), (T1, 2, "1.00"), (T1, 2, "2.00")]
    result = check_offline(craft(legs))
    assert result.returncode == 1
    assert "BROKEN at entry #2 (id 2): the entry moves 1.00 on account 2 but transfer 1 moves 3.00" in result.stdout


def test_a_four_legged_transfer_summing_to_zero_is_refused():
    legs = [(T1, 1, "-3.00"), (T1, 2, "3.00"), (T1, 1, "-3.00"), (T1, 2, "3.00")]
    report = script.verify_export(craft(legs))
    assert not report.ok and report.problem == "transfer 1 has 4 legs summing to 0.00"


def test_a_transfer_whose_two_legs_do_not_sum_to_zero_is_refused():
    report = script.verify_export(craft([(T1, 1, "-3.00"), (T1, 1, "-3.00")]))
    assert not report.ok and report.problem == "transfer 1 has 2 legs summing to -6.00"


def test_entries_that_disagree_about_their_transfer_are_refused():
    other = {**T1, "transfer_amount": "4.00"}
    report = script.verify_export(craft([(T1, 1, "-3.00"), (other, 2, "4.00")]))
    assert not report.ok and report.broken_seq == 2
    assert report.problem == "the entries of transfer 1 disagree about its transfer_amount"


def test_an_entry_on_the_wrong_side_of_its_transfer_is_refused():
    report = script.verify_export(craft([(T1, 2, "-3.00"), (T1, 1, "3.00")]))
    assert not report.ok and report.broken_seq == 1 and "moves -3.00 on account 2" in report.problem


def test_an_account_below_its_limit_is_refused():
    export = craft([(T1, 1, "-3.00"), (T1, 2, "3.00")], limits={1: "-2.00"})
    result = check_offline(export)
    assert result.returncode == 1 and "account 1 is below its limit -2.00" in result.stdout


def test_an_account_exactly_at_its_limit_is_fine():
    assert script.verify_export(craft([(T1, 1, "-3.00"), (T1, 2, "3.00")], limits={1: "-3.00"})).ok


def test_an_unknown_canonical_version_is_refused_even_with_a_right_hash():
    report = script.verify_export(craft([(T1, 1, "-3.00"), (T1, 2, "3.00")], v=3))
    assert not report.ok and report.problem == "canonical form v3 is unknown (this verifier checks v2)"


def test_an_export_of_another_format_is_refused():
    export = craft([(T1, 1, "-3.00"), (T1, 2, "3.00")])
    export["format"] = "p2pcommons-ledger-export/1"
    report = script.verify_export(export)
    assert not report.ok and "unknown format" in report.problem


def test_a_malformed_entry_is_named():
    export = craft([(T1, 1, "-3.00"), (T1, 2, "3.00")])
    del export["entries"][1]["target"]
    report = script.verify_export(export)
    assert not report.ok and report.broken_seq == 2 and report.problem.startswith("malformed entry")


def test_a_malformed_account_is_reported_not_a_crash():
    export = craft([(T1, 1, "-3.00"), (T1, 2, "3.00")])
    export["accounts"][0]["balance"] = "lots"
    report = script.verify_export(export)
    assert not report.ok and report.problem.startswith("malformed account")


# --- the offline script: its command line -------------------------------------------------


def test_the_script_without_an_argument_prints_its_usage_and_exits_2():
    result = run_script([])
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: python3 verify_ledger_export.py ledger.json   (or - for standard input)"


def test_the_script_reads_standard_input_with_a_dash(two_gifts, community):
    result = run_script(["-"], stdin=json.dumps(export_community(community=community)))
    assert (result.returncode, result.stdout.strip()) == (0, "OK: 4 entries, chain intact, balances consistent.")


def test_the_script_reads_a_file(two_gifts, community, tmp_path):
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(export_community(community=community)), encoding="utf-8")
    assert run_script([str(path)]).returncode == 0


def test_the_script_says_when_a_file_cannot_be_read(tmp_path):
    result = run_script([str(tmp_path / "missing.json")])
    assert result.returncode == 2 and "Can't read" in result.stderr


def test_the_script_refuses_json_that_is_not_an_export():
    result = run_script(["-"], stdin="[1, 2]")
    assert result.returncode == 2 and "expected an object" in result.stderr


def test_main_answers_exit_codes_in_process(capsys, monkeypatch, tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(golden_export()), encoding="utf-8")
    assert script.main(["verify", str(path)]) == 0
    broken = golden_export()
    broken["entries"][1]["amount"] = "2.51"
    path.write_text(json.dumps(broken), encoding="utf-8")
    assert script.main(["verify", str(path)]) == 1
    assert script.main(["verify"]) == 2
    assert script.main(["verify", "a", "b"]) == 2
    out = capsys.readouterr().out
    assert "OK: 2 entries" in out and "BROKEN at entry #2" in out


def test_an_account_holding_what_its_entries_do_not_sum_to_is_reported():
    export = craft([(T1, 1, "-3.00"), (T1, 2, "3.00")])
    export["accounts"][1]["balance"] = "4.00"
    report = script.verify_export(export)
    assert not report.ok and report.problem == "account 2 holds 4.00 but its entries sum to 3.00"
    assert "HOUR balances sum to 1.00, not 0" in report.balance_problems


def test_the_server_keeps_transfers_whole_in_the_export(two_gifts, community):
    assert Account.objects.filter(community=community).count() == 2
    assert Transfer.objects.count() == 2
    assert script.verify_export(export_community(community=community)).ok


WELL_FORMED = [(T1, 1, "-3.00"), (T1, 2, "3.00")]


def test_a_missing_entry_is_named_as_a_jump_in_the_sequence():
    export = craft(WELL_FORMED)
    del export["entries"][0]
    report = script.verify_export(export)
    assert not report.ok and (report.broken_seq, report.problem) == (2, "sequence jumps from 0 to 2")


def test_an_entry_that_does_not_link_to_the_previous_hash_is_named():
    export = craft(WELL_FORMED)
    export["entries"][1]["prev_hash"] = "1" * 64
    report = script.verify_export(export)
    assert (report.broken_seq, report.problem) == (2, "prev_hash does not match the previous entry's hash")


def test_a_balance_after_that_disagrees_with_the_entries_is_named():
    def wrong_balance(doc):
        if doc["seq"] == 2:
            doc["balance_after"] = "4.00"

    report = script.verify_export(craft(WELL_FORMED, tweak=wrong_balance))
    assert (report.broken_seq, report.problem) == (2, "balance_after 4.00 but the entries sum to 3.00")


def test_an_entry_on_an_unknown_account_or_in_another_currency_is_named():
    export = craft(WELL_FORMED)
    export["accounts"] = export["accounts"][:1]
    report = script.verify_export(export)
    assert (report.broken_seq, report.problem) == (2, "entry names an unknown account or the wrong currency")
    export = craft(WELL_FORMED)
    export["accounts"][0]["currency"] = "CREDIT"
    report = script.verify_export(export)
    assert (report.broken_seq, report.problem) == (1, "entry names an unknown account or the wrong currency")


def test_an_account_list_without_ids_is_reported_not_a_crash():
    export = craft(WELL_FORMED)
    del export["accounts"][0]["id"]
    report = script.verify_export(export)
    assert not report.ok and report.problem.startswith("malformed account list")


def test_the_script_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "ledger.json"
    path.write_bytes(b'{"format": "\xff"}')
    result = run_script([str(path)])
    assert result.returncode == 2 and "Not a JSON ledger export" in result.stderr


def test_the_verify_query_count_does_not_grow_with_entries(community, owner, member):
    from tests.querycount import assert_queries_do_not_grow

    src = services.account_for(user=owner, community=community, currency="HOUR")
    dst = services.account_for(user=member, community=community, currency="HOUR")
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            services.transfer_create(source=src, target=dst, amount="0.1", idempotency_key=f"k{next(counter)}")

    # under the chain lock (a savepoint in tests): head, last entry, accounts; then the
    # checkpoints, the entries with their transfers in one chunked query, and the stored
    # Merkle log's subtrees for its root.
    assert assert_queries_do_not_grow(lambda: verify_community(community=community), add) == 8
