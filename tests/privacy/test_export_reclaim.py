"""An export whose worker died mid-build is taken over, not left running: by the
redelivery of the same task at once, or by any build (the hourly sweep sends one) once
the dead build's lease ran out; the files the dead build left are deleted, a partial file
is never offered, and a build that lost its claim changes nothing.

The state a killed worker leaves (the job running under its task's claim, a ``.part``
file half written) is written as the dead build left it; the real kill -9 is in
tests/faults/test_worker_kill.py. Builds run as eager tasks with the id a redelivery keeps.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.notifications.models import Notification
from apps.privacy import export
from apps.privacy.models import ExportJob
from apps.privacy.registry import _EXPORTERS, register_exporter
from apps.privacy.tasks import build_export
from tests import reliability

pytestmark = pytest.mark.django_db
FIGURES = {"tests": 0, "builds": 0, "invariants": 0}


reliability_line = reliability.summary_fixture(
    "export-reclaim",
    lambda: f"tests={FIGURES['tests']} builds={FIGURES['builds']} invariants={FIGURES['invariants']}",
)


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path) -> Path:
    FIGURES["tests"] += 1
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


def left_running(job: ExportJob, root: Path, *, by: str, lease_left: timedelta = export.LEASE) -> Path:
    """The job as a worker running task ``by`` left it when it was killed mid-zip: running
    under its claim, its ``.part`` file half written. Returns that file."""
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING,
        started_at=now,
        progress=80,
        step="photos",
        claimed_by=f"{by}/0123abcd",
        lease_until=now + lease_left,
    )
    partial = root / str(job.user_id) / f"{job.pk}-deadbeef.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"PK\x03\x04 half a zip")
    return partial


def files_under(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def build(job: ExportJob, task_id: str) -> bool:
    FIGURES["builds"] += 1
    return build_export.apply(args=[job.pk], task_id=task_id).get()


def test_the_redelivered_task_takes_over_its_dead_build_and_offers_one_whole_file(member, export_root):
    job = export.export_request(user=member)
    partial = left_running(job, export_root, by="task-1")
    assert build(job, "task-1") is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY and job.claimed_by.startswith("task-1/")
    assert not partial.exists() and files_under(export_root) == [Path(job.file).name]
    assert export.downloadable_job(user=member, token=job.token)[1] is True
    assert Notification.objects.filter(recipient=member, kind="privacy.export_ready").count() == 1
    FIGURES["invariants"] += 3


def test_another_build_leaves_a_live_claim_alone(member, export_root):
    job = export.export_request(user=member)
    partial = left_running(job, export_root, by="task-1")
    assert build(job, "task-2") is False
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.claimed_by.startswith("task-1/")
    assert partial.exists(), "a live build's file is not touched"
    assert export.downloadable_job(user=member, token=job.token)[1] is False
    FIGURES["invariants"] += 2


def test_a_build_after_the_lease_ran_out_takes_the_job_over(member, export_root):
    job = export.export_request(user=member)
    partial = left_running(job, export_root, by="task-1", lease_left=timedelta(seconds=-1))
    first_started = ExportJob.objects.get(pk=job.pk).started_at
    assert build(job, "task-2") is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY and not partial.exists()
    assert job.started_at == first_started, "a takeover keeps the start: STUCK_AFTER bounds the whole job"
    assert files_under(export_root) == [Path(job.file).name]
    FIGURES["invariants"] += 2


def test_the_sweep_sends_a_job_whose_build_stopped_renewing_its_lease_to_a_new_build(
    member, export_root, django_capture_on_commit_callbacks
):
    job = export.export_request(user=member)
    partial = left_running(job, export_root, by="task-1")
    with (
        time_machine.travel(timezone.now() + export.LEASE + timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        export.export_expire()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY and not partial.exists()
    assert files_under(export_root) == [Path(job.file).name]
    FIGURES["invariants"] += 2


def test_the_sweep_fails_a_job_stuck_past_the_limit_and_deletes_what_it_left(member, export_root):
    job = export.export_request(user=member)
    partial = left_running(job, export_root, by="task-1")
    with time_machine.travel(timezone.now() + export.STUCK_AFTER + timedelta(minutes=1)):
        export.export_expire()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.error
    assert not partial.exists() and files_under(export_root) == []
    FIGURES["invariants"] += 1


@pytest.fixture
def taken_over_mid_build():
    """An exporter that, while the first build collects, lets a second build (another
    task, the lease of the first having run out) take the job over: a slow build and the
    sweep's replacement, one after the other in the same job."""
    taken: list[str] = []

    def export_and_be_overtaken(user) -> dict:
        if not taken:
            job = ExportJob.objects.get(user=user, status=ExportJob.Status.RUNNING)
            ExportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
            taken.append(job.claimed_by)
            assert build(job, "task-2") is True  # the replacement builds the whole job
        return {}

    register_exporter("zz_overtaken", export_and_be_overtaken)
    yield taken
    _EXPORTERS.pop("zz_overtaken", None)


def test_a_build_that_lost_its_claim_changes_nothing(member, export_root, taken_over_mid_build):
    job = export.export_request(user=member)
    assert build(job, "task-1") is False
    job.refresh_from_db()
    assert taken_over_mid_build[0].startswith("task-1/")
    assert job.status == ExportJob.Status.READY and job.claimed_by.startswith("task-2/")
    assert files_under(export_root) == [Path(job.file).name], "the first build's file is gone"
    assert export.downloadable_job(user=member, token=job.token)[1] is True
    assert Notification.objects.filter(recipient=member, kind="privacy.export_ready").count() == 1
    FIGURES["invariants"] += 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_builds_racing_for_a_job_with_a_lapsed_lease_build_it_once(member, export_root):
    """Six builds at once on PostgreSQL, each another task: the claim is one conditional
    UPDATE that re-reads the row it waited for, so exactly one builds."""
    job = export.export_request(user=member)
    left_running(job, export_root, by="task-1", lease_left=timedelta(seconds=-1))
    start = threading.Barrier(6)
    built: list[bool] = []

    def race(n: int) -> None:
        try:
            start.wait()
            built.append(build(job, f"racer-{n}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    job.refresh_from_db()
    assert sorted(built) == [False] * 5 + [True]
    assert job.status == ExportJob.Status.READY and files_under(export_root) == [Path(job.file).name]
    FIGURES["invariants"] += 2
