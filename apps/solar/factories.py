"""Factories for the solar exchange (tests and the demo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from apps.peers.factories import MembershipFactory

from .models import SLOT, Meter


class MeterFactory(DjangoModelFactory):
    class Meta:
        model = Meter

    owner = factory.LazyAttribute(lambda o: MembershipFactory(community=o.community).user)
    community = factory.SubFactory("apps.peers.factories.CommunityFactory")
    name = factory.Sequence(lambda n: f"Meter {n}")
    kind = Meter.Kind.BOTH
    peak_capacity_w = 4000
    approx_latitude = Decimal("52.36000")
    approx_longitude = Decimal("4.90000")


def next_slot_start(now: datetime, *, ahead: int = 1) -> datetime:
    """The start of the ``ahead``-th quarter hour after ``now`` whose gate is still open."""
    base = now.astimezone(UTC).replace(second=0, microsecond=0)
    base = base.replace(minute=base.minute - base.minute % 15)
    start = base + SLOT * ahead
    while start - timedelta(minutes=5) <= now:
        start += SLOT
    return start
