"""Races in a design challenge, run for real with threads on PostgreSQL (separate
connections, committed transactions): each is settled by a row lock or a conditional
update, never by luck."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.codesign import services
from apps.codesign.models import BallotEntry, Challenge, PhaseEvent, Project, Volunteer
from apps.codesign.services import voting as voting_module
from apps.ledger.chain import verify_community
from apps.ledger.models import Currency, Transfer
from apps.ledger.services import account_set_limit
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

from .conftest import hours

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def codes(results) -> list[str]:
    return sorted("ok" if not isinstance(r, Exception) else getattr(r, "code", repr(r)) for r in results)


def to_voting(challenge, organizer, authors, costs):
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposals = []
    for index, cost in enumerate(costs):
        proposal = services.proposal_create(challenge=challenge, author=authors[index % len(authors)],
                                            title=f"Design {'ABCDEF'[index]}", description="A design.",
                                            cost=Decimal(cost), submit=True)  # fmt: skip
        proposals.append(services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True))
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return challenge, proposals


def to_building(challenge, organizer, neighbors):
    challenge, (bench,) = to_voting(challenge, organizer, neighbors[:1], ["250"])
    services.vote_set(proposal=bench, voter=neighbors[1], dots=1)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    return challenge, Project.objects.get(proposal=bench)


def test_one_member_setting_dots_on_five_proposals_from_ten_requests_at_once_never_spends_more_than_five(
    organizer, neighbors, challenge
):
    ana, bo, cy = neighbors
    challenge, proposals = to_voting(challenge, organizer, [ana, bo], ["10"] * 5)

    results = run_together(*[lambda p=p: services.vote_set(proposal=p, voter=cy, dots=3) for p in proposals * 2])

    placed = services.ballot_of(challenge=challenge, voter=cy)
    assert sum(placed.values()) <= challenge.dots
    assert list(placed.values()) == [3]  # the first to lock the ballot took 3; no second 3 fits in 5
    assert codes(results) == ["ok"] * 2 + ["too_many_dots"] * 8  # the same 3 on the same proposal twice is fine
    assert BallotEntry.objects.count() == 1


def test_many_members_and_one_member_voting_at_once_each_keep_their_own_limit(
    organizer, community, neighbors, challenge
):
    ana, bo, _cy = neighbors
    challenge, proposals = to_voting(challenge, organizer, [ana, bo], ["10"] * 3)
    voters = [MembershipFactory(community=community).user for _ in range(4)]

    calls = [lambda p=p, v=v: services.vote_set(proposal=p, voter=v, dots=2) for v in voters for p in proposals]
    run_together(*calls)

    for voter in voters:
        ballot = services.ballot_of(challenge=challenge, voter=voter)
        assert sum(ballot.values()) == 4, ballot  # two of the three 2-dot votes fit in 5
        assert len(ballot) == 2


def test_two_members_taking_the_last_place_on_a_task_one_is_refused(organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, project = to_building(challenge, organizer, neighbors)
    task = services.task_create(project=project, actor=organizer, title="Carry", hours=Decimal("1"), places=2)
    services.task_join(task=task, member=ana)

    results = run_together(lambda: services.task_join(task=task, member=bo),
                           lambda: services.task_join(task=task, member=cy))  # fmt: skip

    assert codes(results) == ["full", "ok"]
    assert Volunteer.objects.filter(task=task, status=Volunteer.Status.JOINED).count() == 2


def test_one_place_confirmed_by_five_clicks_at_once_and_a_retry_pays_the_hours_once(
    community, organizer, neighbors, challenge
):
    cy = neighbors[2]
    second = OrganizerMembershipFactory(community=community).user
    challenge, project = to_building(challenge, organizer, neighbors)
    task = services.task_create(project=project, actor=organizer, title="Sand", hours=Decimal("3"))
    volunteer = services.task_join(task=task, member=cy)

    results = run_together(*[lambda a=a: services.volunteer_confirm(volunteer=volunteer, actor=a)
                             for a in (organizer, second) * 3])  # fmt: skip
    with pytest.raises(RuleViolation):
        services.volunteer_confirm(volunteer=volunteer, actor=organizer)

    assert codes(results) == ["illegal_transition"] * 5 + ["ok"]
    assert Transfer.objects.filter(idempotency_key=f"codesign-volunteer-{volunteer.pk}").count() == 1
    assert Transfer.objects.count() == 1
    assert hours(cy, community) == Decimal("3.00")
    assert Volunteer.objects.get(pk=volunteer.pk).transfer is not None
    assert verify_community(community=community).ok


def test_spending_the_budget_from_five_requests_at_once_never_goes_beyond_it(
    community, organizer, neighbors, challenge
):
    challenge, _ = to_building(challenge, organizer, neighbors)
    account_set_limit(account=services.fund(challenge=challenge, currency=Currency.CREDIT), actor=organizer,
                      limit="-500", reason="The fund pays budgets.")  # fmt: skip

    results = run_together(*[
        lambda i=i: services.budget_spend(challenge=challenge, actor=organizer, amount=Decimal("100.00"),
                                          recipient=neighbors[i % 3], memo="Planks", idempotency_key=f"planks-{i}")
        for i in range(5)
    ])  # fmt: skip

    assert codes(results) == ["ok"] * 3 + ["over_budget"] * 2
    challenge.refresh_from_db()
    assert challenge.spent == Decimal("300.00")
    assert Transfer.objects.filter(currency=Currency.CREDIT).count() == 3
    assert verify_community(community=community).ok


def test_two_organizers_closing_the_vote_at_once_make_one_set_of_projects(community, organizer, neighbors, challenge):
    second = OrganizerMembershipFactory(community=community).user
    challenge, (a, b) = to_voting(challenge, organizer, neighbors[:2], ["100", "100"])
    services.vote_set(proposal=a, voter=neighbors[2], dots=3)
    services.vote_set(proposal=b, voter=neighbors[2], dots=1)

    results = run_together(*[lambda o=o: services.challenge_step(challenge=challenge, actor=o, step="close_voting")
                             for o in (organizer, second, organizer, second)])  # fmt: skip

    assert codes(results) == ["illegal_transition"] * 3 + ["ok"]
    assert sorted(Project.objects.values_list("proposal__title", "votes")) == [("Design A", 3), ("Design B", 1)]
    assert PhaseEvent.objects.filter(challenge=challenge, target=Challenge.Phase.BUILDING).count() == 1


def test_a_ballot_changed_while_the_vote_closes_is_either_counted_or_refused(
    organizer, neighbors, challenge, monkeypatch
):
    """Cy changes her ballot just as an organizer closes the vote: her change passes the
    phase check, then the close runs before she writes. Either the close waits for her
    and counts her dots, or her change is refused: the projects made at the close are
    the winners of the ballots as they stand."""
    ana, bo, cy = neighbors
    challenge, (bench, planter) = to_voting(challenge, organizer, [ana, bo], ["250", "100"])
    services.vote_set(proposal=bench, voter=ana, dots=2)
    services.vote_set(proposal=planter, voter=cy, dots=1)  # Cy's ballot exists already; she raises it to 3

    checked, closed = threading.Event(), threading.Event()
    real = voting_module.BallotEntry

    class Entries:
        def __getattr__(self, name):
            return getattr(real.objects, name)

        def filter(self, *args, **kwargs):
            if threading.current_thread().name == "cy" and not checked.is_set():
                checked.set()  # past the phase check: now let the organizer close
                closed.wait(timeout=3)
            return real.objects.filter(*args, **kwargs)

    class PausingBallotEntry:
        objects = Entries()

    monkeypatch.setattr(voting_module, "BallotEntry", PausingBallotEntry)
    outcome: list[object] = []

    def cy_votes():
        try:
            outcome.append(services.vote_set(proposal=planter, voter=cy, dots=3))
        except Exception as exc:
            outcome.append(exc)
        finally:
            connection.close()

    voter = threading.Thread(target=cy_votes, name="cy")
    voter.start()
    assert checked.wait(timeout=10)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    closed.set()
    voter.join(timeout=30)
    monkeypatch.undo()

    assert checked.is_set() and outcome, outcome
    winners = {r.proposal.pk for r in services.results(challenge=challenge) if r.won}
    assert set(Project.objects.values_list("proposal", flat=True)) == winners, outcome
