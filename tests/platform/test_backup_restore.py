"""Backups that restore: scripts/backup.sh dumps the test database (with a ledger in it)
and the media folder, scripts/restore.sh brings both back into a NEW database and folder,
and ``manage.py verify_ledger`` run against the copy passes with the same row counts.
Then one ledger row of the copy is changed behind the application's back and
verify_ledger fails, so the check is not vacuous. PostgreSQL only (pg_dump/pg_restore)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from apps.ledger import services
from apps.ledger.models import Entry, Transfer
from tests import reliability

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump/pg_restore are not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"
TABLES = ("peers_user", "peers_community", "peers_membership", "ledger_account", "ledger_transfer", "ledger_entry")
FIGURES: Counter = Counter()


reliability_line = reliability.summary_fixture(
    "backup-restore",
    lambda: (
        f"transfers={FIGURES['transfers']} entries={FIGURES['entries']} tables_compared={FIGURES['tables']} "
        f"restores={FIGURES['restores']} faults={FIGURES['faults']} refused={FIGURES['refused']} "
        f"invariants={'ok' if FIGURES['verified'] else 'not-checked'}"
    ),
)


def database_url(name: str | None = None) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name or s['NAME']}"


def psql(url: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", "--no-password", "-X", "-tAq", "-v", "ON_ERROR_STOP=1", "--dbname", url],
        input=sql,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def row_counts(url: str) -> dict[str, int]:
    return {table: int(psql(url, f"SELECT count(*) FROM {table};")) for table in TABLES}  # noqa: S608 - fixed names


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
    )


def verify_ledger(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.test"}
    env.pop("REDIS_URL", None)  # verify_ledger needs the database only
    return subprocess.run(
        [sys.executable, "manage.py", "verify_ledger"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def ledger_world(community, other_community, owner, member, organizer):
    """Two communities with transfers in both currencies, committed (pg_dump sees them)."""
    from apps.peers.factories import MembershipFactory

    neighbor = MembershipFactory(community=other_community).user
    other_member = MembershipFactory(community=other_community).user
    people = [owner, member, organizer]
    for currency in ("HOUR", "CREDIT"):
        accounts = [services.account_for(user=u, community=community, currency=currency) for u in people]
        for i in range(9):
            services.transfer_create(
                source=accounts[i % 3],
                target=accounts[(i + 1) % 3],
                amount=f"{i % 4 + 1}.50",
                idempotency_key=f"backup-{currency}-{i}",
                memo=f"Lent a ladder #{i}",
            )
    a = services.account_for(user=neighbor, community=other_community, currency="HOUR")
    b = services.account_for(user=other_member, community=other_community, currency="HOUR")
    for i in range(5):
        services.transfer_create(source=a, target=b, amount="1", idempotency_key=f"backup-river-{i}")
    FIGURES["transfers"] = Transfer.objects.count()
    FIGURES["entries"] = Entry.objects.count()
    return community


@pytest.fixture
def media_root(tmp_path) -> Path:
    root = tmp_path / "media"
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "ladder.jpg").write_bytes(bytes(range(256)) * 40)
    (root / "avatars").mkdir()
    (root / "avatars" / "olive.png").write_bytes(b"\x89PNG fake but stable bytes")
    return root


@pytest.fixture
def restored_name():
    """A new database for the restore, dropped at teardown whatever happened."""
    name = f"{connection.settings_dict['NAME']}_restored_{os.getpid()}"
    yield name
    psql(database_url("postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_new_database_whose_ledger_verifies_and_then_catches_tampering(
    ledger_world, media_root, restored_name, tmp_path
):
    source_url = database_url()
    backed_up = run(BACKUP, str(tmp_path / "backups"), DATABASE_URL=source_url, MEDIA_ROOT=str(media_root))
    assert backed_up.returncode == 0, backed_up.stderr
    folder = Path(backed_up.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "database.dump", "manifest.txt", "media.tar.gz"]
    assert "postgresql://" not in (folder / "manifest.txt").read_text()  # no credentials written beside the dump

    restored_url = database_url(restored_name)
    restored_media = tmp_path / "restored-media"
    restored = run(RESTORE, str(folder), DATABASE_URL=restored_url, MEDIA_ROOT=str(restored_media))
    assert restored.returncode == 0, restored.stderr
    FIGURES["restores"] += 1

    source_counts = row_counts(source_url)
    assert source_counts["ledger_entry"] == FIGURES["entries"] > 0
    assert row_counts(restored_url) == source_counts
    FIGURES["tables"] = len(source_counts)
    # Every hash of every chain is the same: the copy is the same chain, not just as long.
    head_sql = "SELECT community_id, string_agg(hash, '' ORDER BY seq) FROM ledger_entry GROUP BY 1 ORDER BY 1;"
    assert psql(restored_url, head_sql) == psql(source_url, head_sql)
    for original in media_root.rglob("*"):
        copy = restored_media / original.relative_to(media_root)
        assert copy.exists() and (original.is_dir() or copy.read_bytes() == original.read_bytes())

    verified = verify_ledger(restored_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "sunnyside" in verified.stdout and "riverside" in verified.stdout
    FIGURES["verified"] += 1

    # One entry's amount changed in the copy (triggers off, as only a superuser can).
    psql(
        restored_url,
        "SET session_replication_role = replica;"
        " UPDATE ledger_entry SET amount = amount + 1"
        " WHERE id = (SELECT min(e.id) FROM ledger_entry e JOIN peers_community c ON c.id = e.community_id"
        " WHERE c.slug = 'sunnyside');",
    )
    FIGURES["faults"] += 1
    tampered = verify_ledger(restored_url)
    assert tampered.returncode != 0
    assert "Ledger verification failed for: sunnyside" in tampered.stderr
    assert "riverside" not in tampered.stderr
    # The original is untouched by all of this.
    assert verify_ledger(source_url).returncode == 0


@pytest.mark.django_db(transaction=True)
def test_a_restore_never_writes_over_a_database_that_has_tables(ledger_world, media_root, tmp_path):
    source_url = database_url()
    backed_up = run(BACKUP, str(tmp_path / "backups"), DATABASE_URL=source_url, MEDIA_ROOT=str(media_root))
    folder = Path(backed_up.stdout.strip().splitlines()[-1])
    before = row_counts(source_url)

    refused = run(RESTORE, str(folder), DATABASE_URL=source_url, MEDIA_ROOT=str(tmp_path / "elsewhere"))

    assert refused.returncode != 0
    assert "already has" in refused.stderr and "new, empty database" in refused.stderr
    assert row_counts(source_url) == before
    assert not (tmp_path / "elsewhere").exists()
    FIGURES["refused"] += 1


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_before_anything_is_created(ledger_world, media_root, restored_name, tmp_path):
    backed_up = run(BACKUP, str(tmp_path / "backups"), DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root))
    folder = Path(backed_up.stdout.strip().splitlines()[-1])
    dump = folder / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, as a bad disk would
    dump.write_bytes(bytes(data))
    FIGURES["faults"] += 1

    refused = run(RESTORE, str(folder), DATABASE_URL=database_url(restored_name), MEDIA_ROOT=str(tmp_path / "m"))

    assert refused.returncode != 0
    assert "checksums do not match" in refused.stderr
    exists = f"SELECT count(*) FROM pg_database WHERE datname = '{restored_name}';"  # noqa: S608 - our own name
    assert psql(database_url("postgres"), exists) == "0"
    FIGURES["refused"] += 1
