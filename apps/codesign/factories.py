"""Factories for co-design (tests and the demo): rows written directly, in the state asked
for, for tests that need a challenge, proposal or task without walking the whole journey.
The rules live in the services; use them where the journey is what a test is about.

Each factory's people are members of the challenge's community (the organizer who posted
it an organizer), so the services accept them when a test carries on from there.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory

from .models import Challenge, Comment, Idea, Project, Proposal, Task, Volunteer


def _member_of(community):
    return MembershipFactory(community=community).user


class ChallengeFactory(DjangoModelFactory):
    """A challenge in its ideas phase, posted by an organizer of its community, with a
    week for each phase ahead (pass ``phase`` and dates to have it elsewhere)."""

    class Meta:
        model = Challenge

    community = factory.SubFactory(CommunityFactory)
    created_by = factory.LazyAttribute(lambda o: OrganizerMembershipFactory(community=o.community).user)
    title = factory.Sequence(lambda n: f"A bench for courtyard {n}")
    brief = "The courtyard has nowhere to sit in the sun."
    space = "The courtyard behind number 12"
    constraints = "Nothing fixed to the wall; the bins must still get through."
    ideas_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    proposals_until = factory.LazyAttribute(lambda o: o.ideas_until + timedelta(days=7))
    voting_until = factory.LazyAttribute(lambda o: o.proposals_until + timedelta(days=7))
    budget = Decimal("300.00")


class IdeaFactory(DjangoModelFactory):
    class Meta:
        model = Idea

    challenge = factory.SubFactory(ChallengeFactory)
    author = factory.LazyAttribute(lambda o: _member_of(o.challenge.community))
    text = factory.Sequence(lambda n: f"Somewhere to sit in the sun, idea {n}.")


class ProposalFactory(DjangoModelFactory):
    """A submitted proposal (its challenge in the proposals phase)."""

    class Meta:
        model = Proposal

    challenge = factory.SubFactory(ChallengeFactory, phase=Challenge.Phase.PROPOSALS)
    author = factory.LazyAttribute(lambda o: _member_of(o.challenge.community))
    title = factory.Sequence(lambda n: f"Oak bench {n}")
    description = "An **oak** bench along the south wall, seats six."
    cost = Decimal("120.00")
    hours = Decimal("6.00")
    status = Proposal.Status.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class CommentFactory(DjangoModelFactory):
    """A comment on a proposal (``proposal=None`` comments on the challenge itself)."""

    class Meta:
        model = Comment

    challenge = factory.SubFactory(ChallengeFactory, phase=Challenge.Phase.PROPOSALS)
    proposal = factory.LazyAttribute(lambda o: ProposalFactory(challenge=o.challenge))
    author = factory.LazyAttribute(lambda o: _member_of(o.challenge.community))
    text = factory.Sequence(lambda n: f"Could it have a back rest? ({n})")


class ProjectFactory(DjangoModelFactory):
    """The winner of a challenge being built."""

    class Meta:
        model = Project

    proposal = factory.SubFactory(
        ProposalFactory,
        status=Proposal.Status.ACCEPTED,
        challenge=factory.SubFactory(ChallengeFactory, phase=Challenge.Phase.BUILDING),
    )
    challenge = factory.SelfAttribute("proposal.challenge")
    votes = 5


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Sand the planks ({n})")
    hours = Decimal("2.00")
    date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=3))
    places = 2


class VolunteerFactory(DjangoModelFactory):
    """A member who joined a task (not confirmed: confirming pays, through the service)."""

    class Meta:
        model = Volunteer

    task = factory.SubFactory(TaskFactory)
    member = factory.LazyAttribute(lambda o: _member_of(o.task.project.challenge.community))
