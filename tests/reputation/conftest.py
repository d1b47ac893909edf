"""Reputation fixtures: a tool loan between the owner (lender) and the member (borrower)
in sunnyside, completed yesterday, and helpers to review it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.reputation import services
from tests.exchanges.factories import ExchangeFactory
from tests.exchanges.models import Exchange

EXCHANGE_TYPE = "exchanges.exchange"


@pytest.fixture
def exchange(community, owner, member) -> Exchange:
    return ExchangeFactory(
        community=community, provider=owner, receiver=member, completed_at=timezone.now() - timedelta(days=1)
    )


@pytest.fixture
def review(django_capture_on_commit_callbacks):
    """``review(author, exchange, rating=4, comment="")`` through the service, commit callbacks run."""

    def make(author, exchange, rating: int = 4, comment: str = "Great neighbor"):
        with django_capture_on_commit_callbacks(execute=True):
            return services.review_create(author=author, exchange=exchange, rating=rating, comment=comment)

    return make
