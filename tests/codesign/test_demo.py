"""The co-design demo: one challenge in each phase in the first community, with ideas,
proposals, comments, ballots, a project board whose confirmed hours the ledger paid, and
before and after pictures; a second run adds nothing.

Seeded once for the module inside a transaction rolled back at the end, on the demo's
own kind of people (seed_demo's profiles and organizer), like the other demo tests.
"""

from __future__ import annotations

import io
import random
import time

import pytest
from django.db import transaction
from django.utils import timezone

from apps.codesign import demo, services
from apps.codesign.models import (
    Ballot,
    Challenge,
    ChallengePhoto,
    Comment,
    Idea,
    PhaseEvent,
    Project,
    Proposal,
    ProposalPhoto,
    Task,
    Volunteer,
)
from apps.ledger.chain import verify_community
from apps.ledger.models import Currency, Transfer
from apps.ledger.services import account_for
from apps.notifications.models import Notification
from apps.peers import demo_people
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Community

pytestmark = pytest.mark.django_db
PH = Challenge.Phase
MODELS = (Challenge, PhaseEvent, ChallengePhoto, Idea, Proposal, ProposalPhoto, Comment, Ballot, Project, Task,
          Volunteer, Transfer, Notification)  # fmt: skip


def _neighborhood() -> list[Community]:
    """Two communities of demo people, as seed_demo makes them: an organizer and 16
    neighbors in the first, 8 in the second."""
    sunnyside = CommunityFactory(slug="sunnyside", name="Sunnyside Commons", center_latitude="52.36000",
                                 center_longitude="4.90000")  # fmt: skip
    riverside = CommunityFactory(slug="riverside", name="Riverside Neighbors")
    OrganizerMembershipFactory(
        community=sunnyside, user__email="organizer@example.org", user__is_staff=True,
        user__profile__display_name="Olivia Brandt",
    )  # fmt: skip
    for i in range(1, 25):
        profile = {f"profile__{k}": v for k, v in demo_people.neighbor(i, in_both=False).items()}
        user = UserFactory(email=f"neighbor{i:02d}@example.org", **profile)
        MembershipFactory(user=user, community=sunnyside if i <= 16 else riverside)
    return [sunnyside, riverside]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed twice; yield (communities, counts after each run, the second run's log, the
    seconds the first took)."""
    with django_db_blocker.unblock(), transaction.atomic():
        communities = _neighborhood()
        first_log, second_log = io.StringIO(), io.StringIO()
        began = time.perf_counter()
        demo.seed(communities=communities, rng=random.Random("p2pcommons-demo"),
                  log=lambda line: first_log.write(line + "\n"))  # fmt: skip
        seconds = time.perf_counter() - began
        first = _counts()
        demo.seed(communities=communities, rng=random.Random("p2pcommons-demo"),
                  log=lambda line: second_log.write(line + "\n"))  # fmt: skip
        yield communities, first, _counts(), first_log.getvalue(), second_log.getvalue(), seconds
        transaction.set_rollback(True)


def test_the_first_community_has_one_challenge_in_each_phase(seeded):
    communities, *_ = seeded
    sunnyside, riverside = communities
    phases = sorted(Challenge.objects.filter(community=sunnyside).values_list("phase", flat=True))
    assert phases == sorted(PH.values)
    assert not Challenge.objects.filter(community=riverside).exists()


def test_each_phase_has_what_neighbors_did_in_it(seeded):
    by_phase = {c.phase: c for c in Challenge.objects.all()}
    ideas = Idea.objects.filter(challenge=by_phase[PH.IDEAS])
    assert ideas.count() >= 4 and ideas.filter(plus_ones__gt=0).exists()
    racks = by_phase[PH.PROPOSALS]
    assert Proposal.objects.filter(challenge=racks, status=Proposal.Status.SUBMITTED).exists()
    assert Proposal.objects.filter(challenge=racks, status=Proposal.Status.ACCEPTED).exists()
    assert ProposalPhoto.objects.filter(proposal__challenge=racks).count() == 3
    assert Comment.objects.filter(challenge=racks, parent__isnull=False).exists()  # a reply
    beds = by_phase[PH.VOTING]
    assert Ballot.objects.filter(challenge=beds).count() == 7
    assert not services.totals_visible(challenge=beds)  # the ballots stay secret until the close
    declined = Proposal.objects.get(challenge=beds, status=Proposal.Status.NOT_FEASIBLE)
    assert declined.answer_reason and declined.answer_published_at is not None
    bench = by_phase[PH.BUILDING]
    project = Project.objects.get(challenge=bench)
    assert project.proposal.title == "Oak bench along the south wall"
    assert Task.objects.filter(project=project).count() == 4
    assert Volunteer.objects.filter(task__project=project, status=Volunteer.Status.CONFIRMED).count() == 4
    assert Volunteer.objects.filter(task__project=project, status=Volunteer.Status.JOINED).count() >= 3
    assert bench.spent > 0
    assert ChallengePhoto.objects.filter(challenge=bench, kind=ChallengePhoto.Kind.BEFORE).exists()


def test_the_dates_are_in_order_and_the_open_phases_end_in_the_future(seeded):
    now = timezone.now()
    for challenge in Challenge.objects.all():
        events = list(PhaseEvent.objects.filter(challenge=challenge).order_by("created_at"))
        assert [e.target for e in events] == PH.values[1 : PH.values.index(challenge.phase) + 1]
        assert all(challenge.created_at < e.created_at <= now for e in events)
        assert Idea.objects.filter(challenge=challenge, created_at__lt=challenge.created_at).count() == 0
        if challenge.phase in (PH.IDEAS, PH.PROPOSALS, PH.VOTING):
            # The beat has nothing to move yet.
            until = {PH.IDEAS: challenge.ideas_until, PH.PROPOSALS: challenge.proposals_until}
            assert until.get(challenge.phase, challenge.voting_until) > now
    assert not Notification.objects.filter(created_at__gt=now).exists()
    assert services.challenges_advance_due() == 0


def test_confirmed_hours_are_paid_from_the_fund_and_the_ledger_verifies(seeded):
    communities, *_ = seeded
    sunnyside = communities[0]
    confirmed = Volunteer.objects.filter(status=Volunteer.Status.CONFIRMED).select_related("task", "member")
    assert confirmed.count() == 9
    for volunteer in confirmed:
        assert volunteer.transfer.amount == volunteer.task.hours
        assert volunteer.transfer.idempotency_key == f"codesign-volunteer-{volunteer.pk}"
    volunteer = confirmed.first()
    assert account_for(user=volunteer.member, community=sunnyside, currency=Currency.HOUR).balance > 0
    for community in communities:
        assert verify_community(community=community).ok


def test_the_done_challenge_has_before_and_after_pictures(seeded):
    done = Challenge.objects.get(phase=PH.DONE)
    kinds = list(done.photos.values_list("kind", flat=True))
    assert kinds.count(ChallengePhoto.Kind.BEFORE) == 2 and kinds.count(ChallengePhoto.Kind.AFTER) == 2
    photo = done.photos.filter(kind=ChallengePhoto.Kind.AFTER).first()
    assert photo.image.name.endswith(".jpg") and photo.alt_text.startswith("After")
    with photo.image.open("rb") as image:
        assert image.read(3) == b"\xff\xd8\xff"  # re-encoded by the pipeline as JPEG


def test_a_second_seed_adds_nothing(seeded):
    _, first, second, first_log, second_log, _ = seeded
    assert first == second
    assert first["Challenge"] == 5
    assert "5 challenges" in first_log and "nothing new" in second_log
