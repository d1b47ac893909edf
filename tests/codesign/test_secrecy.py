"""The secret ballot: before voting closes nobody but the voter reads a ballot, totals
are given out only when ``totals_visible`` says so (after the close, or with live totals
on), and no notification carries a count."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.codesign import services
from apps.codesign.models import Challenge, Project
from apps.notifications.models import Notification
from p2pcommons.errors import RuleViolation


@pytest.fixture
def voting(organizer, neighbors, challenge):
    """Voting open on two accepted designs; Ana and Bo have voted, Cy follows."""
    ana, bo, cy = neighbors
    for person in neighbors:
        services.challenge_follow(challenge=challenge, member=person)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.",
                                     cost=Decimal("250"), submit=True)  # fmt: skip
    planter = services.proposal_create(challenge=challenge, author=bo, title="Planters", description="Green.",
                                       cost=Decimal("40"), submit=True)  # fmt: skip
    services.comment_post(challenge=challenge, author=cy, text="Both look good.", proposal=bench)
    for proposal in (bench, planter):
        services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    services.vote_set(proposal=bench, voter=ana, dots=3)
    services.vote_set(proposal=planter, voter=ana, dots=2)
    services.vote_set(proposal=planter, voter=bo, dots=3)
    services.comment_post(challenge=challenge, author=bo, text="I voted!", proposal=planter)
    return challenge, bench, planter


def test_each_voter_reads_their_own_ballot_and_nothing_of_anyone_elses(neighbors, voting):
    ana, bo, cy = neighbors
    challenge, bench, planter = voting
    assert services.ballot_of(challenge=challenge, voter=ana) == {bench.pk: 3, planter.pk: 2}
    assert services.ballot_of(challenge=challenge, voter=bo) == {planter.pk: 3}
    assert services.ballot_of(challenge=challenge, voter=cy) == {}


def test_totals_are_hidden_while_voting_unless_live_totals_are_on_and_shown_after_the_close(organizer, voting):
    challenge, _, _ = voting
    assert services.totals_visible(challenge=challenge) is False

    Challenge.objects.filter(pk=challenge.pk).update(live_totals=True)
    challenge.refresh_from_db()
    assert services.totals_visible(challenge=challenge) is True

    Challenge.objects.filter(pk=challenge.pk).update(live_totals=False)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    assert services.totals_visible(challenge=challenge) is True
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="finish")
    assert services.totals_visible(challenge=challenge) is True


@pytest.mark.parametrize("phase", ["ideas", "proposals"])
def test_there_are_no_totals_before_voting_even_with_live_totals_on(community, organizer, phase):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    challenge = services.challenge_create(
        community=community, actor=organizer, title="Live", brief="b", space="s", live_totals=True,
        ideas_until=now + timedelta(days=1), proposals_until=now + timedelta(days=2),
        voting_until=now + timedelta(days=3),
    )  # fmt: skip
    if phase == "proposals":
        challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    assert services.totals_visible(challenge=challenge) is False


def test_the_results_of_a_secret_vote_still_open_are_not_given_out(voting):
    """``results`` is the one place totals come from: while they are secret it refuses,
    so no page, endpoint or admin can show them by forgetting to ask first."""
    challenge, _, _ = voting
    with pytest.raises(RuleViolation):
        services.results(challenge=challenge)


def test_live_totals_give_the_running_results_while_voting(voting):
    challenge, _, _ = voting
    Challenge.objects.filter(pk=challenge.pk).update(live_totals=True)
    challenge.refresh_from_db()
    assert [(r.proposal.title, r.votes, r.voters) for r in services.results(challenge=challenge)] == [
        ("Planters", 5, 2),
        ("Oak bench", 3, 1),
    ]
    assert not Project.objects.exists()  # live totals decide nothing


def test_no_notification_sent_before_the_close_carries_a_count_or_a_ballot(organizer, neighbors, voting):
    challenge, _, _ = voting
    before_close = list(Notification.objects.values_list("kind", "text"))
    assert {kind for kind, _ in before_close} >= {"codesign.phase", "codesign.proposal", "codesign.comment"}
    for kind, text in before_close:
        assert not re.search(r"\b(dot|dots|vote|votes|voters?|ballots?|approvals?)\b", text.lower().replace(
            "voting is open", ""
        )), (kind, text)  # fmt: skip
        assert not re.search(r"\b[0-9]+ (dots?|votes?|voters?)\b", text), (kind, text)

    services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    at_close = Notification.objects.exclude(text__in=[t for _, t in before_close])
    for text in at_close.values_list("text", flat=True):
        assert not re.search(r"\b[0-9]+ (dots?|votes?|voters?)\b", text), text
