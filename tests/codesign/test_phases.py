"""Phases of a challenge, from the transition declarations: who moves them, in what
order, how the planned dates follow, what the beat does, who is told, and what each
phase allows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.codesign import services
from apps.codesign.models import Challenge, Follow, Idea, PhaseEvent, Proposal
from apps.codesign.transitions import CHALLENGE, NEXT_STEP
from apps.notifications.models import Notification
from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from tests.querycount import count_queries

PH = Challenge.Phase
STEPS = ["open_proposals", "open_voting", "close_voting", "finish"]


def step(challenge, actor, name, **kwargs) -> Challenge:
    return services.challenge_step(challenge=challenge, actor=actor, step=name, **kwargs)


def to_phase(challenge, organizer, phase: str) -> Challenge:
    """Step the challenge on from where it is until it is in ``phase``."""
    order = list(PH.values)
    challenge = Challenge.objects.get(pk=challenge.pk)
    while order.index(challenge.phase) < order.index(phase):
        challenge = step(challenge, organizer, STEPS[order.index(challenge.phase)])
    return challenge


# --- the declaration ---------------------------------------------------------------------
def test_the_declared_phases_follow_one_another_in_order_and_each_is_left_by_one_step():
    path = [(a.source, a.target) for a in CHALLENGE.actions]
    assert path == [
        ((PH.IDEAS,), PH.PROPOSALS),
        ((PH.PROPOSALS,), PH.VOTING),
        ((PH.VOTING,), PH.BUILDING),
        ((PH.BUILDING,), PH.DONE),
    ]
    assert {phase: CHALLENGE.by_name[name].target for phase, name in NEXT_STEP.items()} == {
        PH.IDEAS: PH.PROPOSALS,
        PH.PROPOSALS: PH.VOTING,
        PH.VOTING: PH.BUILDING,
    }


def test_a_neighbor_is_offered_no_phase_step_and_an_organizer_only_the_next_one(organizer, neighbors, challenge):
    assert CHALLENGE.allowed_names(challenge, neighbors[0]) == []
    assert CHALLENGE.allowed_names(challenge, organizer) == ["open_proposals"]


@pytest.mark.parametrize("name", STEPS)
def test_a_neighbor_cannot_move_a_challenge_to_any_phase(neighbors, challenge, name):
    with pytest.raises(RuleViolation) as refusal:
        step(challenge, neighbors[0], name)
    assert refusal.value.code == "forbidden"
    assert Challenge.objects.get(pk=challenge.pk).phase == PH.IDEAS
    assert not PhaseEvent.objects.exists()


def test_an_organizer_of_another_community_cannot_move_the_challenge(other_community, challenge):
    from apps.peers.factories import OrganizerMembershipFactory

    elsewhere = OrganizerMembershipFactory(community=other_community).user
    with pytest.raises(RuleViolation) as refusal:
        step(challenge, elsewhere, "open_proposals")
    assert refusal.value.code == "forbidden"


@pytest.mark.parametrize("name", ["open_voting", "close_voting", "finish"])
def test_an_organizer_cannot_skip_a_phase(organizer, challenge, name):
    with pytest.raises(RuleViolation) as refusal:
        step(challenge, organizer, name)
    assert refusal.value.code == "illegal_transition"
    assert Challenge.objects.get(pk=challenge.pk).phase == PH.IDEAS


def test_an_organizer_moves_the_challenge_through_every_phase_and_each_move_is_recorded(organizer, challenge):
    before = timezone.now()
    for name in STEPS:
        challenge = step(challenge, organizer, name, note=f"moving on: {name}")
    after = timezone.now()

    assert Challenge.objects.get(pk=challenge.pk).phase == PH.DONE
    events = list(PhaseEvent.objects.filter(challenge=challenge))
    assert [(e.source, e.target, e.actor_id, e.note) for e in events] == [
        (PH.IDEAS, PH.PROPOSALS, organizer.pk, "moving on: open_proposals"),
        (PH.PROPOSALS, PH.VOTING, organizer.pk, "moving on: open_voting"),
        (PH.VOTING, PH.BUILDING, organizer.pk, "moving on: close_voting"),
        (PH.BUILDING, PH.DONE, organizer.pk, "moving on: finish"),
    ]
    assert all(before <= e.created_at <= after for e in events)
    with pytest.raises(RuleViolation) as refusal:
        step(challenge, organizer, "finish")
    assert refusal.value.code == "illegal_transition"
    assert PhaseEvent.objects.count() == 4


# --- dates ---------------------------------------------------------------------------------
def test_closing_ideas_early_brings_every_later_date_forward_and_keeps_each_phase_length(organizer, challenge):
    planned = (challenge.ideas_until, challenge.proposals_until, challenge.voting_until)
    now = challenge.ideas_until - timedelta(days=3)

    challenge = step(challenge, organizer, "open_proposals", now=now)

    assert challenge.ideas_until == now
    assert challenge.proposals_until == planned[1] - timedelta(days=3)
    assert challenge.voting_until == planned[2] - timedelta(days=3)
    assert challenge.proposals_until - challenge.ideas_until == planned[1] - planned[0]
    assert challenge.voting_until - challenge.proposals_until == planned[2] - planned[1]


def test_closing_proposals_late_moves_the_voting_end_later_but_leaves_the_ideas_end(organizer, challenge):
    challenge = step(challenge, organizer, "open_proposals", now=challenge.ideas_until)
    planned = (challenge.ideas_until, challenge.proposals_until, challenge.voting_until)
    now = challenge.proposals_until + timedelta(days=2)

    challenge = step(challenge, organizer, "open_voting", now=now)

    assert (challenge.ideas_until, challenge.proposals_until) == (planned[0], now)
    assert challenge.voting_until == planned[2] + timedelta(days=2)


def test_closing_voting_early_ends_voting_now(organizer, challenge):
    challenge = to_phase(challenge, organizer, PH.VOTING)
    now = challenge.voting_until - timedelta(days=5)
    ideas, proposals = challenge.ideas_until, challenge.proposals_until

    challenge = step(challenge, organizer, "close_voting", now=now)

    assert (challenge.ideas_until, challenge.proposals_until, challenge.voting_until) == (ideas, proposals, now)


# --- the beat ------------------------------------------------------------------------------
def test_the_beat_moves_only_the_challenges_whose_phase_ended_and_records_no_person(community, organizer, challenge):
    due_time = challenge.ideas_until + timedelta(minutes=1)
    later = services.challenge_create(
        community=community, actor=organizer, title="A garden bed", brief="Plants.", space="The corner",
        ideas_until=challenge.ideas_until + timedelta(days=1), proposals_until=challenge.proposals_until,
        voting_until=challenge.voting_until,
    )  # fmt: skip

    assert services.challenges_advance_due(now=due_time) == 1

    assert Challenge.objects.get(pk=challenge.pk).phase == PH.PROPOSALS
    assert Challenge.objects.get(pk=later.pk).phase == PH.IDEAS
    event = PhaseEvent.objects.get()
    assert (event.challenge_id, event.actor_id, event.source, event.target) == (
        challenge.pk,
        None,
        PH.IDEAS,
        PH.PROPOSALS,
    )


def test_the_beat_run_twice_moves_a_challenge_once(challenge):
    due_time = challenge.ideas_until + timedelta(minutes=1)

    assert services.challenges_advance_due(now=due_time) == 1
    assert services.challenges_advance_due(now=due_time) == 0
    assert services.challenges_advance_due(now=due_time + timedelta(minutes=15)) == 0

    assert Challenge.objects.get(pk=challenge.pk).phase == PH.PROPOSALS
    assert PhaseEvent.objects.count() == 1
    assert Notification.objects.filter(kind="codesign.phase").count() == 1  # the organizer, who follows


def test_the_beat_long_down_moves_a_challenge_one_phase_and_the_later_phases_keep_their_length(challenge):
    planned = (challenge.ideas_until, challenge.proposals_until, challenge.voting_until)
    long_after = planned[2] + timedelta(days=1)

    assert services.challenges_advance_due(now=long_after) == 1

    challenge.refresh_from_db()
    assert challenge.phase == PH.PROPOSALS
    assert challenge.ideas_until == long_after
    assert challenge.proposals_until == long_after + (planned[1] - planned[0])
    assert challenge.voting_until == long_after + (planned[2] - planned[0])


def test_the_beat_takes_each_timed_phase_and_never_finishes_a_build(organizer, challenge):
    challenge = to_phase(challenge, organizer, PH.VOTING)
    challenge = services.challenges_advance_due(now=challenge.voting_until) and Challenge.objects.get(pk=challenge.pk)
    assert challenge.phase == PH.BUILDING

    assert services.challenges_advance_due(now=challenge.voting_until + timedelta(days=365)) == 0
    assert Challenge.objects.get(pk=challenge.pk).phase == PH.BUILDING


def test_the_beat_leaves_a_challenge_an_organizer_moved_since_it_looked(organizer, challenge, monkeypatch):
    """The beat lists the due challenges, then moves each: one an organizer moved in
    between is left where the organizer put it."""
    due_time = challenge.ideas_until + timedelta(minutes=1)
    real_step = services.challenges.challenge_step

    def organizer_first(**kwargs):
        real_step(challenge=challenge, actor=organizer, step="open_proposals", now=due_time)
        return real_step(**kwargs)

    monkeypatch.setattr(services.challenges, "challenge_step", organizer_first)

    assert services.challenges_advance_due(now=due_time) == 0
    assert Challenge.objects.get(pk=challenge.pk).phase == PH.PROPOSALS
    assert list(PhaseEvent.objects.values_list("actor", flat=True)) == [organizer.pk]


# --- followers -------------------------------------------------------------------------------
def test_followers_are_told_once_of_each_phase_change_but_not_the_organizer_who_moved_it(
    organizer, neighbors, challenge
):
    ana, bo, _cy = neighbors
    services.challenge_follow(challenge=challenge, member=ana)
    services.challenge_follow(challenge=challenge, member=ana)  # twice: still one follow
    services.challenge_follow(challenge=challenge, member=bo)
    services.challenge_unfollow(challenge=challenge, member=bo)

    step(challenge, organizer, "open_proposals")

    told = list(Notification.objects.filter(kind="codesign.phase").values_list("recipient", "text"))
    assert len(told) == 1
    assert told[0][0] == ana.pk
    assert told[0][1].startswith("A bench for the courtyard: ideas are closed; propose a design until ")


def test_a_stranger_cannot_follow_a_challenge(stranger, challenge):
    with pytest.raises(RuleViolation) as refusal:
        services.challenge_follow(challenge=challenge, member=stranger)
    assert refusal.value.code == "not_member"
    assert not Follow.objects.filter(member=stranger).exists()


def _add_followers(challenge, how_many: int, start: int) -> None:
    users = User.objects.bulk_create(
        [User(email=f"follower{start + i}@example.org", password="!") for i in range(how_many)]
    )
    Follow.objects.bulk_create([Follow(challenge=challenge, member=u) for u in users])


def test_two_thousand_followers_are_told_of_a_phase_change_in_as_many_queries_as_twenty(organizer, challenge):
    """Telling followers is one insert (and no task per follower), however many they are."""
    _add_followers(challenge, 20, 0)
    few, _ = count_queries(lambda: step(challenge, organizer, "open_proposals"))
    _add_followers(challenge, 1980, 20)
    many, sql = count_queries(lambda: step(challenge, organizer, "open_voting"))

    assert Notification.objects.filter(kind="codesign.phase", text__contains="voting is open").count() == 2000
    if connection.vendor == "postgresql":  # SQLite splits a big insert by its parameter limit
        assert many == few, "\n".join(sql)
        assert sum(1 for q in sql if q.startswith('INSERT INTO "notifications_notification"')) == 1
    else:
        assert many <= few + 30


def test_two_thousand_followers_are_told_with_a_bounded_number_of_queries(
    organizer, challenge, django_assert_max_num_queries
):
    _add_followers(challenge, 2000, 0)
    bound = 30 if connection.vendor == "postgresql" else 60
    with django_assert_max_num_queries(bound):
        step(challenge, organizer, "open_proposals")
    assert Notification.objects.filter(kind="codesign.phase").count() == 2000


# --- what each phase allows -----------------------------------------------------------------
def test_ideas_are_posted_and_plus_oned_only_during_ideas(organizer, neighbors, challenge):
    ana, bo, _ = neighbors
    idea = services.idea_post(challenge=challenge, author=ana, text="A bench in the shade.")
    challenge = step(challenge, organizer, "open_proposals")

    with pytest.raises(RuleViolation) as late_idea:
        services.idea_post(challenge=challenge, author=bo, text="A swing.")
    with pytest.raises(RuleViolation) as late_plus_one:
        services.idea_plus_one(idea=Idea.objects.get(pk=idea.pk), member=bo)

    assert (late_idea.value.code, late_plus_one.value.code) == ("wrong_phase", "wrong_phase")
    assert list(Idea.objects.values_list("text", "plus_ones")) == [("A bench in the shade.", 0)]


def test_an_idea_posted_from_a_page_loaded_before_ideas_closed_is_refused(organizer, neighbors, challenge):
    step(challenge, organizer, "open_proposals")
    with pytest.raises(RuleViolation) as refusal:
        services.idea_post(challenge=challenge, author=neighbors[0], text="Too late.")  # challenge still says ideas
    assert refusal.value.code == "wrong_phase"
    assert not Idea.objects.exists()


@pytest.mark.parametrize("phase", [PH.IDEAS, PH.VOTING, PH.BUILDING, PH.DONE])
def test_no_proposal_is_written_or_submitted_outside_the_proposals_phase(organizer, neighbors, challenge, phase):
    ana = neighbors[0]
    if phase == PH.IDEAS:
        draft = None
    else:
        challenge = step(challenge, organizer, "open_proposals")
        draft = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.")
        challenge = to_phase(challenge, organizer, phase)

    with pytest.raises(RuleViolation) as create:
        services.proposal_create(challenge=challenge, author=ana, title="Pine bench", description="Pine.")
    assert create.value.code == "wrong_phase"
    if draft is not None:
        with pytest.raises(RuleViolation) as submit:
            services.proposal_submit(proposal=draft, actor=ana)
        assert submit.value.code == "wrong_phase"
    assert list(Proposal.objects.values_list("status", flat=True)) == ([Proposal.Status.DRAFT] if draft else [])


def test_a_proposal_written_on_a_page_loaded_before_voting_opened_is_refused(organizer, neighbors, challenge):
    """The page held the challenge as it was (proposals); voting opened meanwhile."""
    loaded = step(challenge, organizer, "open_proposals")
    step(loaded, organizer, "open_voting")

    with pytest.raises(RuleViolation) as refusal:
        services.proposal_create(challenge=loaded, author=neighbors[0], title="Late bench", description="Late.")
    assert refusal.value.code == "wrong_phase"
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("phase", [PH.PROPOSALS, PH.BUILDING])
def test_no_vote_is_cast_outside_voting(organizer, neighbors, challenge, phase):
    challenge = step(challenge, organizer, "open_proposals")
    bench = services.proposal_create(challenge=challenge, author=neighbors[0], title="Oak bench",
                                     description="Oak.", cost=Decimal("100"), submit=True)  # fmt: skip
    services.proposal_answer(proposal=bench, actor=organizer, accept=True, publish=True)
    if phase == PH.BUILDING:
        challenge = step(challenge, organizer, "open_voting")
        services.vote_set(proposal=bench, voter=neighbors[1], dots=2)
        step(challenge, organizer, "close_voting")

    with pytest.raises(RuleViolation) as refusal:
        services.vote_set(proposal=bench, voter=neighbors[2], dots=1)
    assert refusal.value.code == "wrong_phase"
    if phase == PH.BUILDING:
        for dots in (0, 3):  # no change and no removal after the close
            with pytest.raises(RuleViolation):
                services.vote_set(proposal=bench, voter=neighbors[1], dots=dots)
        challenge.refresh_from_db()
        assert services.ballot_of(challenge=challenge, voter=neighbors[1]) == {bench.pk: 2}
    assert services.ballot_of(challenge=challenge, voter=neighbors[2]) == {}


def test_no_task_is_joined_once_the_build_is_done(organizer, neighbors, challenge):
    challenge = step(challenge, organizer, "open_proposals")
    bench = services.proposal_create(challenge=challenge, author=neighbors[0], title="Oak bench",
                                     description="Oak.", cost=Decimal("100"), submit=True)  # fmt: skip
    services.proposal_answer(proposal=bench, actor=organizer, accept=True, publish=True)
    challenge = step(challenge, organizer, "open_voting")
    services.vote_set(proposal=bench, voter=neighbors[1], dots=1)
    challenge = step(challenge, organizer, "close_voting")
    task = services.task_create(project=bench.project, actor=organizer, title="Sand", hours=Decimal("1"))
    step(challenge, organizer, "finish")

    with pytest.raises(RuleViolation) as refusal:
        services.task_join(task=task.__class__.objects.get(pk=task.pk), member=neighbors[2])
    assert refusal.value.code == "wrong_phase"
    assert not task.volunteers.exists()
