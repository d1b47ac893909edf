"""On PostgreSQL: requests at the same instant make one job (the partial unique
constraint), and builds of one job at the same instant build it once (the claim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.notifications.models import Notification
from apps.privacy import export
from apps.privacy.export import export_build, export_request
from apps.privacy.models import ExportJob
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_instant_make_one_job(member, monkeypatch):
    monkeypatch.setattr(export, "_enqueue_on_commit", lambda job_id: None)  # no eager build in between
    results = run_together(*[lambda: export_request(user=member) for _ in range(4)])
    assert all(isinstance(r, ExportJob) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert ExportJob.objects.filter(user=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_builds_of_one_job_at_the_same_instant_build_it_once(member, export_root):
    job = ExportJob.objects.create(user=member)
    results = run_together(*[lambda: export_build(job.pk) for _ in range(3)])
    assert sorted(results) == [False, False, True]
    assert len(list(Path(export_root).rglob("*.zip"))) == 1
    assert Notification.objects.filter(recipient=member, kind="privacy.export_ready").count() == 1
