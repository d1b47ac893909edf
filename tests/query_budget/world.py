"""The neighbourhood a query-budget entry adds its rows to: one community, the persona
who looks (a member, or the organizer), and a new neighbour for every row, so a query
per owner, borrower or counterparty shows as growth instead of hiding behind one person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory
from apps.peers.models import Community, User


@dataclass
class World:
    """What the rows and urls of one entry share; ``subject`` holds the object a detail
    page shows (a challenge, a meter), made by the entry's ``setup``."""

    community: Community
    member: User
    organizer: User
    subject: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    serial: count = field(default_factory=lambda: count(1))

    @classmethod
    def build(cls) -> World:
        community = CommunityFactory(slug="budget", name="Budget Street")
        member = MembershipFactory(community=community, user__profile__display_name="Mia Member").user
        organizer = OrganizerMembershipFactory(community=community, user__profile__display_name="Otto Organizer").user
        return cls(community=community, member=member, organizer=organizer)

    def neighbour(self) -> User:
        """A new member of the community: the owner or counterparty of one row."""
        return MembershipFactory(community=self.community).user

    def next(self) -> int:
        """A number not used before in this world (idempotency keys, slot offsets)."""
        return next(self.serial)
