"""The beat task that ends blindness after 14 days, and the trust recompute task."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.reputation import tasks
from apps.reputation.models import Review, TrustScore

pytestmark = pytest.mark.django_db

schedule_migration = importlib.import_module("apps.reputation.migrations.0002_reveal_expired_schedule")


def test_the_reveal_task_is_scheduled_hourly_by_the_migrations():
    task = PeriodicTask.objects.get(task="apps.reputation.tasks.reviews_reveal_expired")

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, IntervalSchedule.HOURS)
    assert tasks.reviews_reveal_expired.name == task.task


def test_scheduling_again_creates_nothing_new():
    schedule_migration.schedule(django_apps, None)

    assert PeriodicTask.objects.filter(task="apps.reputation.tasks.reviews_reveal_expired").count() == 1
    assert IntervalSchedule.objects.filter(every=1, period=IntervalSchedule.HOURS).count() == 1


def test_after_14_days_the_task_reveals_a_lone_review_and_updates_trust(
    exchange, owner, member, review, django_capture_on_commit_callbacks
):
    review(owner, exchange, rating=4)

    with time_machine.travel(exchange.completed_at + timedelta(days=14, hours=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.reviews_reveal_expired.delay().get() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.reviews_reveal_expired.delay().get() == 0

    assert Review.objects.get().revealed_at is not None
    assert TrustScore.objects.get(user=member).rating_count == 1


def test_the_trust_task_of_a_deleted_member_does_nothing(db):
    assert tasks.trust_recompute.delay(987654).get() is False
