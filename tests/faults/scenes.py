"""Scenes the fault tests share: a skill session that took place, a challenge just posted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.models import Challenge
from apps.ledger.models import Currency
from apps.ledger.services import account_for
from apps.peers.models import Community, User
from apps.skills import services as skills
from apps.skills.models import Session


def session_that_took_place(*, community: Community, helper: User, learner: User) -> Session:
    """``helper`` helped ``learner`` for 2 hours, three hours ago (agreed, not yet confirmed);
    both have an HOUR account."""
    session = skills.session_propose(
        proposer=learner,
        helper=helper,
        learner=learner,
        community=community,
        title="Fix the bike",
        starts_at=timezone.now() + timedelta(days=1),
        planned_hours=Decimal("2"),
        place="Garage",
    )
    session = skills.session_accept(session=session, actor=helper)
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=3))
    for user in (helper, learner):
        account_for(user=user, community=community, currency=Currency.HOUR)
    session.refresh_from_db()
    return session


def bench_challenge(*, community: Community, organizer: User) -> Challenge:
    """ "A bench" for the courtyard, taking ideas for a week, with a budget of 300."""
    now = timezone.now()
    return codesign.challenge_create(
        community=community,
        actor=organizer,
        title="A bench",
        brief="Nowhere to sit.",
        space="The courtyard",
        ideas_until=now + timedelta(days=7),
        proposals_until=now + timedelta(days=14),
        voting_until=now + timedelta(days=21),
        budget=Decimal("300.00"),
    )
