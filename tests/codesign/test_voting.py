"""Ballots and results: dot limits, approvals, changing and removing, who may vote on
what, and the ranking and winners on fixed data (CONSUL's budget rule)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.codesign import services
from apps.codesign.models import Ballot, BallotEntry, Challenge, Project, Proposal
from apps.moderation import services as moderation
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation


def new_challenge(community, organizer, *, budget="300.00", method="dots", **kwargs) -> Challenge:
    now = timezone.now()
    return services.challenge_create(
        community=community, actor=organizer, title="A bike rack", brief="Bikes everywhere.", space="Number 12",
        ideas_until=now + timedelta(days=1), proposals_until=now + timedelta(days=2),
        voting_until=now + timedelta(days=3), budget=Decimal(budget) if budget is not None else None,
        method=method, **kwargs,
    )  # fmt: skip


def on_ballot(challenge, organizer, authors, costs, *, accept=None) -> tuple[Challenge, list[Proposal]]:
    """Open proposals, submit one proposal per cost (in that order), accept them (or only
    those whose index is in ``accept``) and open voting."""
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposals = []
    for index, cost in enumerate(costs):
        proposal = services.proposal_create(
            challenge=challenge, author=authors[index % len(authors)], title=f"Design {'ABCDEFG'[index]}",
            description="A design.", cost=Decimal(cost), submit=True,
        )  # fmt: skip
        if accept is None or index in accept:
            proposal = services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
        proposals.append(proposal)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return challenge, proposals


@pytest.fixture
def voters(community) -> list:
    return [MembershipFactory(community=community).user for _ in range(6)]


def vote(proposal, voter, dots):
    return services.vote_set(proposal=proposal, voter=voter, dots=dots)


def table(challenge) -> list[tuple[str, int, int, bool]]:
    return [(r.proposal.title, r.votes, r.voters, r.won) for r in services.results(challenge=challenge)]


def close(challenge, organizer) -> Challenge:
    return services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")


# --- dots ----------------------------------------------------------------------------------
def test_a_member_spreads_their_dots_and_is_told_how_many_are_left_when_they_run_out(organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, (a, b, c) = on_ballot(challenge, organizer, [ana, bo], ["10", "10", "10"])
    vote(a, cy, 3)
    vote(b, cy, 1)

    with pytest.raises(RuleViolation) as refusal:
        vote(c, cy, 2)

    assert refusal.value.code == "too_many_dots"
    assert refusal.value.data == {"dots_left": 1}
    assert "1 left" in str(refusal.value)
    assert services.ballot_of(challenge=challenge, voter=cy) == {a.pk: 3, b.pk: 1}
    vote(c, cy, 1)
    assert services.ballot_of(challenge=challenge, voter=cy) == {a.pk: 3, b.pk: 1, c.pk: 1}


def test_a_member_puts_no_more_than_the_per_proposal_limit_on_one_proposal(organizer, neighbors, challenge):
    ana, _bo, cy = neighbors
    challenge, (a,) = on_ballot(challenge, organizer, [ana], ["10"])
    with pytest.raises(RuleViolation) as refusal:
        vote(a, cy, 4)
    assert refusal.value.code == "too_many_dots"
    assert services.ballot_of(challenge=challenge, voter=cy) == {}


def test_changing_dots_on_a_proposal_replaces_them_and_zero_takes_them_off(organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, (a, b) = on_ballot(challenge, organizer, [ana, bo], ["10", "10"])
    vote(a, cy, 3)
    vote(b, cy, 2)
    vote(a, cy, 1)  # 3 -> 1 frees two dots
    vote(b, cy, 3)  # 1 + 3 = 4 of 5
    vote(a, cy, 0)
    vote(a, cy, 0)  # nothing on it: still nothing

    assert services.ballot_of(challenge=challenge, voter=cy) == {b.pk: 3}
    assert Ballot.objects.filter(challenge=challenge, voter=cy).count() == 1
    assert BallotEntry.objects.count() == 1


@pytest.mark.parametrize("dots", [-1, 1.5, "2", True])
def test_dots_are_a_whole_number_of_zero_or_more(organizer, neighbors, challenge, dots):
    challenge, (a,) = on_ballot(challenge, organizer, neighbors[:1], ["10"])
    with pytest.raises(ValidationError):
        vote(a, neighbors[1], dots)
    assert not BallotEntry.objects.exists()


# --- approval -------------------------------------------------------------------------------
def test_approval_voting_takes_one_or_zero_on_each_proposal_and_no_total_limit(community, organizer, neighbors):
    ana, bo, cy = neighbors
    challenge = new_challenge(community, organizer, method="approval")
    challenge, proposals = on_ballot(challenge, organizer, [ana, bo], ["10"] * 7)
    for proposal in proposals:
        vote(proposal, cy, 1)
    with pytest.raises(ValidationError):
        vote(proposals[0], cy, 2)
    vote(proposals[1], cy, 0)

    assert services.ballot_of(challenge=challenge, voter=cy) == {p.pk: 1 for p in proposals if p != proposals[1]}


# --- who and on what --------------------------------------------------------------------------
def test_only_proposals_accepted_for_voting_are_on_the_ballot(organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, (accepted, waiting) = on_ballot(challenge, organizer, [ana, bo], ["10", "10"], accept={0})
    with pytest.raises(RuleViolation) as refusal:
        vote(waiting, cy, 1)
    assert refusal.value.code == "not_on_ballot"
    vote(accepted, cy, 1)
    assert services.ballot_of(challenge=challenge, voter=cy) == {accepted.pk: 1}


def test_a_hidden_proposal_takes_no_dots_and_is_not_in_the_results(organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, (a, b) = on_ballot(challenge, organizer, [ana, bo], ["10", "10"])
    moderation.content_hide(target=a, actor=organizer, reason="Copied design")
    with pytest.raises(RuleViolation) as refusal:
        vote(a, cy, 1)
    assert refusal.value.code == "not_on_ballot"
    vote(b, cy, 1)
    challenge = close(challenge, organizer)
    assert table(challenge) == [("Design B", 1, 1, True)]


def test_dots_on_a_proposal_hidden_during_voting_can_be_taken_back(organizer, neighbors, challenge):
    """A member put three dots on a design that an organizer then hides: they get their
    dots back to spread on the others."""
    ana, bo, cy = neighbors
    challenge, (a, b) = on_ballot(challenge, organizer, [ana, bo], ["10", "10"])
    vote(a, cy, 3)
    moderation.content_hide(target=a, actor=organizer, reason="Copied design")

    vote(a, cy, 0)
    vote(b, cy, 3)

    assert services.ballot_of(challenge=challenge, voter=cy) == {b.pk: 3}


def test_a_suspended_member_cannot_vote_or_change_their_ballot(community, organizer, neighbors, challenge):
    ana, _bo, cy = neighbors
    challenge, (a,) = on_ballot(challenge, organizer, [ana], ["10"])
    vote(a, cy, 2)
    moderation.membership_suspend(membership=Membership.objects.get(user=cy, community=community),
                                  actor=organizer, reason="Spam")  # fmt: skip
    for dots in (3, 0):
        with pytest.raises(RuleViolation) as refusal:
            vote(a, cy, dots)
        assert refusal.value.code == "suspended"
    assert services.ballot_of(challenge=challenge, voter=cy) == {a.pk: 2}


def test_someone_outside_the_community_cannot_vote(organizer, neighbors, stranger, challenge):
    challenge, (a,) = on_ballot(challenge, organizer, neighbors[:1], ["10"])
    with pytest.raises(RuleViolation) as refusal:
        vote(a, stranger, 1)
    assert refusal.value.code == "not_member"
    assert not Ballot.objects.exists()


# --- results on fixed data ------------------------------------------------------------------
def test_dot_results_rank_by_dots_with_voters_and_pass_over_a_winner_that_does_not_fit_the_budget(
    organizer, neighbors, voters, challenge
):
    """300 credits. A (250) has 7 dots, B (120) 6, C (30) 2, D (20) none: A wins and
    leaves 50; B does not fit and is passed over; C still fits and wins, leaving 20; D,
    with no vote, never wins though it would fit."""
    challenge, (a, b, c, _d) = on_ballot(challenge, organizer, neighbors, ["250", "120", "30", "20"])
    v1, v2, v3, v4 = voters[:4]
    vote(a, v1, 3)
    vote(a, v2, 3)
    vote(a, v3, 1)
    vote(b, v3, 3)
    vote(b, v4, 3)
    vote(c, v1, 2)

    challenge = close(challenge, organizer)

    assert table(challenge) == [
        ("Design A", 7, 3, True),
        ("Design B", 6, 2, False),
        ("Design C", 2, 1, True),
        ("Design D", 0, 0, False),
    ]
    assert [r.fits for r in services.results(challenge=challenge)] == [True, False, True, True]
    assert sorted(Project.objects.values_list("proposal__title", "votes")) == [("Design A", 7), ("Design C", 2)]


def test_without_a_budget_the_proposal_with_most_votes_is_the_single_winner(community, organizer, neighbors, voters):
    challenge = new_challenge(community, organizer, budget=None)
    challenge, (a, b) = on_ballot(challenge, organizer, neighbors, ["900", "10"])
    vote(a, voters[0], 1)
    vote(b, voters[0], 3)
    vote(b, voters[1], 1)

    challenge = close(challenge, organizer)

    assert table(challenge) == [("Design B", 4, 2, True), ("Design A", 1, 1, False)]
    assert list(Project.objects.values_list("proposal__title", flat=True)) == ["Design B"]


def test_a_tie_goes_to_the_proposal_submitted_first(community, organizer, neighbors, voters):
    challenge = new_challenge(community, organizer, budget=None)
    challenge, (a, b, c) = on_ballot(challenge, organizer, neighbors, ["10", "10", "10"])
    vote(c, voters[0], 2)
    vote(b, voters[1], 2)
    vote(a, voters[2], 1)

    challenge = close(challenge, organizer)

    assert table(challenge) == [("Design B", 2, 1, True), ("Design C", 2, 1, False), ("Design A", 1, 1, False)]


def test_with_no_votes_at_all_nothing_wins(organizer, neighbors, challenge):
    challenge, _ = on_ballot(challenge, organizer, neighbors, ["10", "20"])
    challenge = close(challenge, organizer)
    assert table(challenge) == [("Design A", 0, 0, False), ("Design B", 0, 0, False)]
    assert not Project.objects.exists()


def test_approval_results_count_approvals_and_voters_and_keep_the_budget_rule(community, organizer, neighbors, voters):
    """200 credits. A (150) approved by 4, B (100) by 3, C (50) by 3: A wins, B no longer
    fits, C (tied with B, submitted later) fits and wins."""
    challenge = new_challenge(community, organizer, budget="200.00", method="approval")
    challenge, (a, b, c) = on_ballot(challenge, organizer, neighbors, ["150", "100", "50"])
    for voter in voters[:4]:
        vote(a, voter, 1)
    for voter in voters[2:5]:
        vote(b, voter, 1)
        vote(c, voter, 1)

    challenge = close(challenge, organizer)

    assert table(challenge) == [("Design A", 4, 4, True), ("Design B", 3, 3, False), ("Design C", 3, 3, True)]


def test_closing_the_vote_makes_the_winners_projects_once(organizer, neighbors, voters, challenge):
    challenge, (a, b) = on_ballot(challenge, organizer, neighbors, ["100", "100"])
    vote(a, voters[0], 3)
    vote(b, voters[1], 1)

    challenge = close(challenge, organizer)
    with pytest.raises(RuleViolation) as refusal:
        close(challenge, organizer)
    services.results_publish(challenge=challenge)  # a retried publication

    assert refusal.value.code == "illegal_transition"
    assert list(Project.objects.values_list("proposal__title", "votes")) == [("Design A", 3), ("Design B", 1)]
