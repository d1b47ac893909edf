"""The hash chain: verification, the export, the standalone script, tampering."""

import itertools
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.ledger import services
from apps.ledger.chain import export_community, verify_community
from apps.ledger.models import Entry

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_ledger_export.py"
pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_ledger(community, owner, member, organizer):
    accounts = [services.account_for(user=u, community=community, currency="HOUR") for u in (owner, member, organizer)]
    for i in range(6):
        services.transfer_create(
            source=accounts[i % 3],
            target=accounts[(i + 1) % 3],
            amount=f"{i + 1}.25",
            idempotency_key=f"t{i}",
            memo=f"Help #{i} ✓",
        )
    return community


def tamper(sql: str, params: list) -> None:
    """Change a ledger row behind the application's back, as an attacker with database
    access would (on PostgreSQL a superuser must switch the append-only triggers off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # triggers off for this session
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def run_script(export: dict, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(export))
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False, cwd=tmp_path
    )


def test_an_untouched_ledger_verifies(busy_ledger, tmp_path):
    report = verify_community(community=busy_ledger)
    assert report.ok and report.checked == 12
    result = run_script(export_community(community=busy_ledger), tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "OK: 12 entries, chain intact, balances consistent."


def test_each_entry_links_to_the_previous_hash(busy_ledger):
    entries = list(Entry.objects.filter(community=busy_ledger).order_by("seq"))
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert [e.seq for e in entries] == list(range(1, 13))


def test_changing_one_entrys_amount_is_named_by_verify_and_the_script(busy_ledger, tmp_path, capsys):
    victim = Entry.objects.get(community=busy_ledger, seq=7)
    tamper("UPDATE ledger_entry SET amount = %s WHERE id = %s", [str(victim.amount + 100), victim.pk])

    report = verify_community(community=busy_ledger)
    assert not report.ok
    assert (report.broken_seq, report.broken_entry_id) == (7, victim.pk)
    assert "hash does not match" in report.problem

    with pytest.raises(CommandError):
        call_command("verify_ledger")
    assert f"BROKEN at entry #7 (id {victim.pk})" in capsys.readouterr().out

    result = run_script(export_community(community=busy_ledger), tmp_path)
    assert result.returncode == 1
    assert f"BROKEN at entry #7 (id {victim.pk})" in result.stdout


def test_an_edited_export_is_caught_by_the_script_alone(busy_ledger, tmp_path):
    export = export_community(community=busy_ledger)
    export["entries"][2]["memo"] = "Something else"
    result = run_script(export, tmp_path)
    assert result.returncode == 1 and "entry #3" in result.stdout


def test_a_balance_that_disagrees_with_its_entries_is_reported(busy_ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET balance = balance + 1 WHERE id = (SELECT MIN(id) FROM ledger_account)"
        )
    report = verify_community(community=busy_ledger)
    assert not report.ok
    assert any("entries sum to" in p for p in report.balance_problems)
    assert any("HOUR balances sum to 1.00" in p for p in report.balance_problems)


def test_dropping_the_last_entries_is_noticed_through_the_chain_head(busy_ledger):
    tamper("DELETE FROM ledger_entry WHERE seq > %s AND community_id = %s", [10, busy_ledger.pk])
    report = verify_community(community=busy_ledger)
    assert not report.ok


def test_verify_ledger_reports_ok_per_community(busy_ledger, other_community, capsys):
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "sunnyside: OK: 12 entries" in out and "riverside: OK: 0 entries" in out


def test_the_export_shows_display_names_and_no_private_data(busy_ledger, owner):
    text = json.dumps(export_community(community=busy_ledger))
    assert "Olive Owner" in text
    assert "owner@example.org" not in text and owner.profile.exact_address not in text


def test_the_script_refuses_something_that_is_not_an_export(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2")
    result = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "Not a JSON ledger export" in result.stderr


def test_the_script_uses_only_the_standard_library():
    imports = [line for line in SCRIPT.read_text().splitlines() if line.startswith(("import ", "from "))]
    stdlib = {"__future__", "hashlib", "json", "sys", "collections", "dataclasses", "decimal"}
    assert {line.split()[1].split(".")[0] for line in imports} <= stdlib


def test_balances_are_kept_in_decimal_cents(busy_ledger):
    assert sum(e.amount for e in Entry.objects.all()) == Decimal("0.00")
