"""Review races settled by the database, run for real with threads on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.reputation import services
from apps.reputation.models import Review, TrustScore
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_both_parties_reviewing_at_once_reveal_both(exchange, owner, member):
    results = run_together(
        lambda: services.review_create(author=owner, exchange=exchange, rating=5),
        lambda: services.review_create(author=member, exchange=exchange, rating=4),
    )

    assert all(isinstance(r, Review) for r in results), results
    assert Review.objects.filter(revealed_at__isnull=False).count() == 2
    # Committed for real, so the on-commit recomputes ran (eagerly) for both.
    assert TrustScore.objects.filter(user__in=[owner, member], rating_count=1).count() == 2


def test_a_double_submit_makes_one_review(exchange, owner):
    results = run_together(*[lambda: services.review_create(author=owner, exchange=exchange, rating=5)] * 4)

    assert sum(isinstance(r, Review) for r in results) == 1, results
    assert all(r.code == "already_reviewed" for r in results if isinstance(r, RuleViolation))
    assert Review.objects.count() == 1


def test_two_reveal_runs_at_once_reveal_each_review_once(exchange, owner):
    services.review_create(author=owner, exchange=exchange, rating=5)
    later = timezone.now() + timedelta(days=15)

    results = run_together(*[lambda: services.reviews_reveal_expired(now=later)] * 3)

    assert sorted(results) == [0, 0, 1], results
