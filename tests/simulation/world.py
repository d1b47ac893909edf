"""The neighborhood the simulation walks through: a few communities, their members and
organizers, tools, meters, skills and a co-design challenge each, set up through the
services (people and communities through the factories, as every test does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import factory.random
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.models import Challenge
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory
from apps.peers.models import Community, User
from apps.skills.factories import SkillFactory
from apps.skills.models import Skill
from apps.solar import services as solar
from apps.solar.models import Meter
from apps.tools import services as tools
from apps.tools.factories import CategoryFactory
from apps.tools.models import Tool

COMMUNITIES = 3
MEMBERS = 7  # per community, besides its organizer; two of them also belong to the next community


@dataclass
class Neighborhood:
    """Who and what the walk can pick from, each list in the order it was made."""

    communities: list[Community] = field(default_factory=list)
    members: dict[int, list[User]] = field(default_factory=dict)  # community id -> members (organizer first)
    organizers: dict[int, User] = field(default_factory=dict)
    tools: list[Tool] = field(default_factory=list)
    meters: list[Meter] = field(default_factory=list)
    skills: list[Skill] = field(default_factory=list)
    challenges: list[Challenge] = field(default_factory=list)


def build(rng) -> Neighborhood:
    """The neighborhood for one walk, the same for the same ``rng`` state."""
    factory.random.reseed_random(rng.randrange(2**32))
    world = Neighborhood()
    category = CategoryFactory(slug="sim-tools", name="Simulated tools")
    world.skills = [SkillFactory(slug=f"sim-{name}", name=name) for name in ("Bike repair", "Sewing", "Tutoring")]
    for index in range(COMMUNITIES):
        community = CommunityFactory(slug=f"sim-{index}", name=f"Simulated street {index}")
        organizer = OrganizerMembershipFactory(
            community=community, user__email=f"organizer{index}@sim.example.org"
        ).user
        members = [organizer]
        for number in range(MEMBERS):
            members.append(
                MembershipFactory(community=community, user__email=f"n{index}-{number}@sim.example.org").user
            )
        world.communities.append(community)
        world.members[community.pk] = members
        world.organizers[community.pk] = organizer
    for index, community in enumerate(world.communities):
        # Two neighbors of the previous community live here too (one identity, two streets).
        previous = world.communities[index - 1]
        for user in world.members[previous.pk][1:3]:
            MembershipFactory(community=community, user=user)
            world.members[community.pk].append(user)
    for community in world.communities:
        members = world.members[community.pk]
        for number in range(4):
            owner = members[1 + rng.randrange(len(members) - 1)]
            world.tools.append(
                tools.tool_create(
                    owner=owner,
                    community=community,
                    title=f"Tool {number} of {community.slug}",
                    category=category,
                    fee_per_day=rng.choice([None, Decimal("2.50"), Decimal("5.00")]),
                    max_loan_days=3,
                    min_notice_hours=rng.choice([0, 1, 2]),
                    buffer_hours=rng.choice([0, 0, 2]),
                )
            )
        for number, kind in enumerate(["producer"] * 3 + ["consumer"] * 3 + ["both"]):
            owner = members[1 + (number % (len(members) - 1))]
            world.meters.append(
                solar.meter_register(
                    owner=owner,
                    community=community,
                    name=f"Meter {number}",
                    kind=kind,
                    peak_capacity_w=rng.choice([2000, 4000, 6000]),
                )
            )
        world.challenges.append(_challenge_in_voting(community, world, rng))
    return world


def _challenge_in_voting(community: Community, world: Neighborhood, rng) -> Challenge:
    """A dot-voting challenge taken by its organizer through ideas and proposals to
    voting, with three proposals on the ballot; voting closes 12 to 36 hours later."""
    organizer = world.organizers[community.pk]
    now = timezone.now()
    challenge = codesign.challenge_create(
        community=community,
        actor=organizer,
        title=f"A bench for {community.name}",
        brief="Nowhere to sit.",
        space="The corner by the bakery",
        ideas_until=now + timedelta(hours=1),
        proposals_until=now + timedelta(hours=2),
        voting_until=now + timedelta(hours=2 + rng.randint(12, 36)),
        dots=5,
        max_dots_per_proposal=3,
    )
    challenge = codesign.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    for number, author in enumerate(world.members[community.pk][1:4]):
        proposal = codesign.proposal_create(
            challenge=challenge,
            author=author,
            title=f"Design {number}",
            description="A bench of oak.",
            cost=Decimal("100.00"),
            hours=Decimal("4.00"),
            submit=True,
        )
        codesign.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
    return codesign.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
