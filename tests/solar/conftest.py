"""Personas of the solar market: a producer with panels and two neighbors who buy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.ledger.models import Currency
from apps.ledger.services import account_for
from apps.peers.factories import MembershipFactory
from apps.solar.factories import MeterFactory
from apps.solar.models import Meter


@pytest.fixture
def producer(community):
    return MembershipFactory(
        community=community, user__email="pia@example.org", user__profile__display_name="Pia Producer"
    ).user


@pytest.fixture
def buyer(community):
    return MembershipFactory(
        community=community, user__email="ben@example.org", user__profile__display_name="Ben Buyer"
    ).user


@pytest.fixture
def buyer2(community):
    return MembershipFactory(
        community=community, user__email="cleo@example.org", user__profile__display_name="Cleo Consumer"
    ).user


@pytest.fixture
def panels(producer, community) -> Meter:
    return MeterFactory(
        owner=producer, community=community, name="Roof panels", kind=Meter.Kind.PRODUCER, peak_capacity_w=4000
    )


@pytest.fixture
def home(buyer, community) -> Meter:
    return MeterFactory(owner=buyer, community=community, name="Flat 2", kind=Meter.Kind.CONSUMER, peak_capacity_w=8000)


@pytest.fixture
def home2(buyer2, community) -> Meter:
    return MeterFactory(
        owner=buyer2, community=community, name="Flat 3", kind=Meter.Kind.CONSUMER, peak_capacity_w=8000
    )


def balance(user, community) -> Decimal:
    account = account_for(user=user, community=community, currency=Currency.CREDIT)
    account.refresh_from_db()
    return account.balance
