"""The co-design part of a community's page (``apps.peers.sections``): its open
challenges, with the phase each is in."""

from __future__ import annotations

from apps.peers.models import Community, User

from .. import selectors
from ..models import Challenge


def community_challenges(*, user: User, community: Community, limit: int) -> list[Challenge]:
    """At most ``limit`` challenges of ``community`` not yet done, newest first, with
    their counts: one query."""
    challenges = selectors.challenge_list(user=user, community_id=community.pk).exclude(phase=Challenge.Phase.DONE)
    return list(challenges[:limit])
