"""A challenge from idea to build, through the services: the spine of co-design."""

from __future__ import annotations

from decimal import Decimal

from apps.codesign import services
from apps.codesign.models import Challenge, Project, Proposal
from apps.ledger.chain import verify_community
from apps.ledger.services import account_set_limit

from .conftest import hours


def test_a_challenge_goes_from_ideas_to_a_built_project_and_pays_the_volunteers_hours(
    community, organizer, neighbors, challenge
):
    ana, bo, cy = neighbors
    idea = services.idea_post(challenge=challenge, author=ana, text="Something to sit on in the sun.")
    services.idea_plus_one(idea=idea, member=bo)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="**Oak**.",
                                     cost=Decimal("250"), hours=Decimal("6"), submit=True)  # fmt: skip
    planter = services.proposal_create(challenge=challenge, author=bo, title="Planter seats", description="Seats.",
                                       cost=Decimal("120"), hours=Decimal("4"), submit=True)  # fmt: skip
    for proposal in (bench, planter):
        services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    services.vote_set(proposal=bench, voter=ana, dots=3)
    services.vote_set(proposal=planter, voter=bo, dots=3)
    services.vote_set(proposal=bench, voter=cy, dots=2)
    services.vote_set(proposal=planter, voter=cy, dots=1)

    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")

    assert challenge.phase == Challenge.Phase.BUILDING
    ranking = [(r.proposal.title, r.votes, r.won) for r in services.results(challenge=challenge)]
    # 300 credits: the bench (5 dots, 250) wins; the planter (4 dots, 120) no longer fits.
    assert ranking == [("Oak bench", 5, True), ("Planter seats", 4, False)]
    project = Project.objects.get()
    assert project.proposal == bench
    task = services.task_create(project=project, actor=organizer, title="Sand the planks", hours=Decimal("2"))
    volunteer = services.task_join(task=task, member=cy)
    fund = services.fund(challenge=challenge, currency="HOUR")
    account_set_limit(account=fund, actor=organizer, limit="-40", reason="The co-design fund pays volunteers.")
    services.volunteer_confirm(volunteer=volunteer, actor=organizer)
    assert hours(cy, community) == Decimal("2.00")
    assert verify_community(community=community).ok
    assert Proposal.objects.get(pk=bench.pk).status == Proposal.Status.ACCEPTED
