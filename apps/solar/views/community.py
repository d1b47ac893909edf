"""The energy market's part of a community's page (``apps.peers.sections``): the next
quarter hours taking orders there, with how many buy and sell orders each has."""

from __future__ import annotations

from django.utils import timezone

from apps.peers.models import Community, User

from ..models import Slot
from .common import open_slots


def community_slots(*, user: User, community: Community, limit: int) -> list[Slot]:
    """At most ``limit`` open quarter hours of ``community`` the member can see, soonest
    first, each with ``buys`` and ``sells`` counted: one query."""
    return open_slots(user=user, now=timezone.now(), community=community, limit=limit)
