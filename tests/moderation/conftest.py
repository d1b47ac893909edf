"""Moderation fixtures: a revealed review by the member about the owner in sunnyside,
three more neighbors in good standing who may report it (members for a month, one
completed exchange each), newcomers whose reports don't count, and a ``report`` helper
(commit callbacks run)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

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


def member_in_good_standing(community, name: str = "Neighbor"):
    """A member of ``community`` for a month with one completed exchange there."""
    user = MembershipFactory(
        community=community,
        user__profile__display_name=name,
        joined_at=timezone.now() - timedelta(days=30),
    ).user
    ExchangeFactory(community=community, provider=user, receiver=MembershipFactory(community=community).user)
    return user


@pytest.fixture
def neighbors(community) -> list:
    return [member_in_good_standing(community, f"Neighbor {name}") for name in ("Ana", "Ben", "Cas")]


@pytest.fixture
def newcomers(community) -> list:
    """Three accounts that joined sunnyside today and have exchanged nothing."""
    return [
        MembershipFactory(community=community, user__profile__display_name=f"Newcomer {name}").user
        for name in ("Dee", "Eli", "Fay")
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
