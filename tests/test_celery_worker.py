"""A real Celery worker, on the configured broker (Redis in CI, in-memory otherwise),
runs a task that the web side enqueued on commit, and its effect lands in the database."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail

from apps.peers import services
from apps.peers.models import Membership
from p2pcommons.celery import app as celery_app


@pytest.fixture
def real_worker():
    """A worker thread consuming a queue of its own, so nothing else's messages mix in."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=15):
            yield queue
    finally:
        celery_app.conf.update(saved)


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_welcome_email_enqueued_when_someone_joins(real_worker, community, stranger):
    membership = services.community_join(community=community, user=stranger)  # enqueues on commit

    assert _wait_for(lambda: Membership.objects.filter(pk=membership.pk, welcomed_at__isnull=False).exists()), (
        f"the worker did not run the task within 20 s (broker: {celery_app.conf.broker_url})"
    )
    assert [m.to for m in mail.outbox] == [["stranger@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_the_welcome_task_sends_once_however_often_it_runs(real_worker, community, stranger):
    from apps.peers.tasks import membership_send_welcome

    membership = Membership.objects.create(user=stranger, community=community)
    for _ in range(3):
        membership_send_welcome.delay(membership.pk)
    assert _wait_for(lambda: Membership.objects.filter(pk=membership.pk, welcomed_at__isnull=False).exists())
    time.sleep(0.5)  # let the duplicates arrive and be claimed-out
    assert len(mail.outbox) == 1


def test_the_suite_uses_redis_for_celery_when_redis_is_configured():
    redis_url = settings.REDIS_URL
    if redis_url:
        assert celery_app.conf.broker_url.startswith("redis")
    else:
        assert celery_app.conf.broker_url == "memory://"
