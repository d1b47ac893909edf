"""A real Celery worker, on the configured broker (Redis in CI, in-memory otherwise),
runs a task that the web side enqueued on commit, and its effect lands in the database."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core import mail

from apps.peers import services
from apps.peers.models import Membership
from p2pcommons.celery import app as celery_app
from tests.celery_worker import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_welcome_email_enqueued_when_someone_joins(real_worker, community, stranger):
    membership = services.community_join(community=community, user=stranger)  # enqueues on commit

    assert wait_for(lambda: Membership.objects.filter(pk=membership.pk, welcomed_at__isnull=False).exists()), (
        f"the worker did not run the task within 20 s (broker: {celery_app.conf.broker_url})"
    )
    assert [m.to for m in mail.outbox] == [["stranger@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_the_welcome_task_sends_once_however_often_it_runs(real_worker, community, stranger):
    from apps.peers.tasks import membership_send_welcome

    membership = Membership.objects.create(user=stranger, community=community)
    for _ in range(3):
        membership_send_welcome.delay(membership.pk)
    assert wait_for(lambda: Membership.objects.filter(pk=membership.pk, welcomed_at__isnull=False).exists())
    time.sleep(0.5)  # let the duplicates arrive and be claimed-out
    assert len(mail.outbox) == 1


def test_the_suite_uses_redis_for_celery_when_redis_is_configured():
    redis_url = settings.REDIS_URL
    if redis_url:
        assert celery_app.conf.broker_url.startswith("redis")
    else:
        assert celery_app.conf.broker_url == "memory://"
