"""Moderation fixtures: a revealed review by the member about the owner in sunnyside,
three more neighbors who may report it, and a ``report`` helper (commit callbacks run)."""

from __future__ import annotations

import pytest

from apps.moderation import services
from apps.peers.factories import MembershipFactory
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review
from tests.exchanges.factories import ExchangeFactory


@pytest.fixture
def review(community, owner, member) -> Review:
    """Max Member's revealed review of Olive Owner."""
    exchange = ExchangeFactory(community=community, provider=member, receiver=owner)
    return ReviewFactory(exchange=exchange, author=member, comment="Rude and late, avoid")


@pytest.fixture
def neighbors(community) -> list:
    return [
        MembershipFactory(community=community, user__profile__display_name=f"Neighbor {name}").user
        for name in ("Ana", "Ben", "Cas")
    ]


@pytest.fixture
def report(django_capture_on_commit_callbacks):
    """``report(reporter, target, reason="harassment", **kwargs)`` through the service."""

    def make(reporter, target, reason: str = "harassment", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.flag_create(reporter=reporter, target=target, reason=reason, **kwargs)

    return make


@pytest.fixture
def riverside_review(other_community):
    """A revealed review in riverside, between two riverside members."""
    author = MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside").user
    subject = MembershipFactory(community=other_community, user__profile__display_name="Ray Riverside").user
    return ReviewFactory(exchange=ExchangeFactory(community=other_community, provider=author, receiver=subject))
