"""Personas of a design challenge: the organizer who posts it and neighbors who take part."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.codesign import services
from apps.codesign.models import Challenge
from apps.ledger.models import Currency
from apps.ledger.services import account_for
from apps.peers.factories import MembershipFactory


@pytest.fixture
def neighbors(community):
    """Three neighbors: Ana, Bo and Cy."""
    return [
        MembershipFactory(community=community, user__email=f"{name.lower()}@example.org",
                          user__profile__display_name=name).user
        for name in ("Ana", "Bo", "Cy")
    ]  # fmt: skip


@pytest.fixture
def challenge(community, organizer) -> Challenge:
    now = timezone.now()
    return services.challenge_create(
        community=community,
        actor=organizer,
        title="A bench for the courtyard",
        brief="The courtyard has nowhere to sit.",
        space="The courtyard behind number 12",
        ideas_until=now + timedelta(days=7),
        proposals_until=now + timedelta(days=14),
        voting_until=now + timedelta(days=21),
        budget=Decimal("300.00"),
    )


def hours(user, community) -> Decimal:
    account = account_for(user=user, community=community, currency=Currency.HOUR)
    account.refresh_from_db()
    return account.balance
