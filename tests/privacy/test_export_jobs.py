"""Download my data, the journey: one job at a time, built once, the member told, the
link for its owner only until it expires, the sweep deleting the file; the ledger files
check against the community's chain with the offline verifier; the page and the API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.ledger.chain import export_community
from apps.ledger.models import Currency
from apps.ledger.services import account_for, transfer_create
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.privacy import export
from apps.privacy.export import export_build, export_expire, export_request
from apps.privacy.models import ExportJob
from scripts.verify_ledger_export import link_hash, verify_entries

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_ledger_export.py"


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.fixture
def ledger_world(community, owner, member):
    """Olive and Max trade hours; a third neighbor's transfer sits between theirs."""
    third = MembershipFactory(community=community).user
    olive = account_for(user=owner, community=community, currency=Currency.HOUR)
    max_ = account_for(user=member, community=community, currency=Currency.HOUR)
    theirs = account_for(user=third, community=community, currency=Currency.HOUR)
    transfer_create(source=olive, target=max_, amount="1.50", idempotency_key="j1", memo="Hedge")
    transfer_create(source=max_, target=theirs, amount="1.00", idempotency_key="j2")
    transfer_create(source=max_, target=olive, amount="0.25", idempotency_key="j3")
    return community


def ready_job(user) -> ExportJob:
    job = export_request(user=user)
    export_build(job.pk)
    job.refresh_from_db()
    return job


def run_verifier(tmp_path, community_export: dict, mine: dict) -> subprocess.CompletedProcess:
    (tmp_path / "community.json").write_text(json.dumps(community_export), encoding="utf-8")
    (tmp_path / "mine.json").write_text(json.dumps(mine), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "community.json"), "--entries", str(tmp_path / "mine.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the ledger files ---------------------------------------------------------------------
def test_the_zips_ledger_entries_verify_against_the_community_chain_offline(ledger_world, owner, tmp_path):
    job = ready_job(owner)
    with zipfile.ZipFile(export.export_path(job)) as archive:
        mine = json.loads(archive.read("ledger/sunnyside.json"))
    assert [e["seq"] for e in mine["entries"]] == [1, 6]  # 2 entries per transfer; 3-4 are not hers
    result = run_verifier(tmp_path, export_community(community=ledger_world), mine)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 2 of your entries")


def test_a_tampered_entry_fails_the_offline_check(ledger_world, owner, tmp_path):
    job = ready_job(owner)
    with zipfile.ZipFile(export.export_path(job)) as archive:
        mine = json.loads(archive.read("ledger/sunnyside.json"))
    community_export = export_community(community=ledger_world)

    changed = json.loads(json.dumps(mine))
    changed["entries"][0]["amount"] = "-15.00"
    result = run_verifier(tmp_path, community_export, changed)
    assert result.returncode == 1 and "BROKEN at entry #1" in result.stdout and "was changed" in result.stdout

    # rehashed after the change, it hashes fine but is not the chain's entry
    forged = json.loads(json.dumps(mine))
    forged["entries"][1]["memo"] = "A gift"
    forged["entries"][1]["hash"] = link_hash(forged["entries"][1]["prev_hash"], forged["entries"][1])
    result = run_verifier(tmp_path, community_export, forged)
    assert result.returncode == 1 and "holds another entry" in result.stdout

    # an entry the chain never had
    extra = json.loads(json.dumps(mine))
    extra["entries"][0]["seq"] = 99
    extra["entries"][0]["hash"] = link_hash(extra["entries"][0]["prev_hash"], extra["entries"][0])
    assert "no entry at this sequence" in run_verifier(tmp_path, community_export, extra).stdout


def test_the_entries_check_refuses_a_broken_community_chain_and_other_formats(ledger_world, owner):
    mine = export.collect(owner)[1]["sunnyside"]
    community_export = export_community(community=ledger_world)
    assert verify_entries(community_export, mine).ok
    broken = json.loads(json.dumps(community_export))
    broken["entries"][2]["memo"] = "rewritten"
    report = verify_entries(broken, mine)
    assert not report.ok and report.broken_seq == 3
    assert "unknown entries format" in verify_entries(community_export, {"entries": []}).problem
    assert "of community" in verify_entries(community_export, {**mine, "community": {"id": 999}}).problem


def test_the_verifier_without_entries_works_as_before(ledger_world, tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(export_community(community=ledger_world)), encoding="utf-8")
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "c.json")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("OK: 6 entries")
    missing = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "c.json"), "--entries", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "Can't read" in missing.stderr


# --- one job, built once ------------------------------------------------------------------
def test_a_second_request_while_one_is_open_returns_the_same_job(member):
    first = export_request(user=member)
    assert export_request(user=member).pk == first.pk
    ExportJob.objects.filter(pk=first.pk).update(status=ExportJob.Status.RUNNING)
    assert export_request(user=member).pk == first.pk
    assert ExportJob.objects.filter(user=member).count() == 1


def test_a_new_request_after_the_last_finished_is_a_new_job(member):
    first = ready_job(member)
    second = export_request(user=member)
    assert second.pk != first.pk and second.status == ExportJob.Status.QUEUED


def test_the_request_hands_the_build_to_a_worker_after_commit(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(user=member)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY  # eager Celery in tests ran the task


def test_a_duplicate_task_builds_once(member, export_root):
    job = export_request(user=member)
    from apps.privacy.tasks import build_export

    assert build_export(job.pk) is True
    assert build_export(job.pk) is False
    assert export_build(job.pk) is False
    assert len(list(Path(export_root).rglob("*.zip"))) == 1
    assert Notification.objects.filter(recipient=member, kind="privacy.export_ready").count() == 1


def test_the_member_is_notified_when_it_is_ready(member):
    job = ready_job(member)
    note = Notification.objects.get(recipient=member, kind="privacy.export_ready")
    assert note.url == reverse("privacy:page")
    assert note.message["id"].startswith("Your data download is ready")
    assert job.expires_at == job.finished_at + timedelta(hours=48)


def test_a_failure_marks_the_job_failed_and_leaves_no_file(member, export_root, monkeypatch):
    from apps.privacy import registry

    def broken(user):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(registry._EXPORTERS, "front", registry.Exporter("front", broken))
    job = export_request(user=member)
    assert export_build(job.pk) is False
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "RuntimeError" in job.error and not job.file
    assert [p for p in Path(export_root).rglob("*") if p.is_file()] == []
    assert export_request(user=member).pk != job.pk  # they can ask again


# --- the link: its owner only, until it expires ---------------------------------------------
def test_the_owner_downloads_the_zip_as_an_attachment(member, web_as):
    job = ready_job(member)
    response = web_as(member).get(reverse("privacy:download", args=[job.token]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None


def test_another_member_cannot_download_it(member, owner, web_as, client):
    job = ready_job(member)
    url = reverse("privacy:download", args=[job.token])
    assert web_as(owner).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_the_link_expires_and_the_sweep_deletes_the_file(member, web_as):
    job = ready_job(member)
    path = export.export_path(job)
    assert path.is_file()
    with time_machine.travel(job.expires_at + timedelta(minutes=1)):
        response = web_as(member).get(reverse("privacy:download", args=[job.token]))
        assert response.status_code == 410
        assert "no longer available" in response.content.decode()
        assert export_expire() == 1
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and not path.exists() and job.file == ""
    assert export_expire() == 0


def test_the_sweep_requeues_forgotten_jobs_and_fails_stuck_ones(member, owner, django_capture_on_commit_callbacks):
    forgotten = export_request(user=member)
    stuck = export_request(user=owner)
    ExportJob.objects.filter(pk=stuck.pk).update(status=ExportJob.Status.RUNNING, started_at=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        export_expire()
    forgotten.refresh_from_db()
    stuck.refresh_from_db()
    assert forgotten.status == ExportJob.Status.READY
    assert stuck.status == ExportJob.Status.FAILED and stuck.error


def test_the_sweep_is_on_the_beat_schedule(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="apps.privacy.tasks.expire_exports")
    assert task.interval.every == 1 and task.interval.period == "hours"
