"""Organizers in the admin's co-design: their communities' challenges only, and what they
do (post a challenge, move its phase, answer proposals, confirm volunteers) goes through
the services. Ballots stay secret: not a page of the admin shows who voted what, or
totals before the close."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.codesign import services
from apps.codesign.factories import (
    ChallengeFactory,
    CommentFactory,
    IdeaFactory,
    ProjectFactory,
    ProposalFactory,
    TaskFactory,
    VolunteerFactory,
)
from apps.codesign.models import Challenge, Follow, PhaseEvent, Project, Proposal, Volunteer
from apps.ledger.chain import verify_community
from apps.ledger.models import Transfer
from apps.ledger.services import account_set_limit
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory, UserFactory
from tests.querycount import assert_queries_do_not_grow

from .conftest import hours

pytestmark = pytest.mark.django_db

CHALLENGES = reverse("admin:codesign_challenge_changelist")
PROPOSALS = reverse("admin:codesign_proposal_changelist")
VOLUNTEERS = reverse("admin:codesign_volunteer_changelist")
PH = Challenge.Phase


def _pks(response) -> set[int]:
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def _errors(response) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def _to_voting(challenge, organizer, neighbors) -> tuple[Challenge, Proposal, Proposal]:
    """Two proposals accepted for voting and voting open."""
    ana, bo, _ = neighbors
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.",
                                     cost=Decimal("250"), hours=Decimal("6"), submit=True)  # fmt: skip
    planter = services.proposal_create(challenge=challenge, author=bo, title="Planter seats", description="Seats.",
                                       cost=Decimal("120"), hours=Decimal("4"), submit=True)  # fmt: skip
    for proposal in (bench, planter):
        services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return challenge, bench, planter


@pytest.fixture
def riverside(other_community):
    """A challenge of the other community, with an idea, a proposal, a comment and a
    task someone joined, by people of that community."""
    organizer = OrganizerMembershipFactory(community=other_community, user__profile__display_name="Rex River").user
    challenge = ChallengeFactory(
        community=other_community, created_by=organizer, title="A jetty for the houseboats", phase=PH.BUILDING
    )
    rita = MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside").user
    IdeaFactory(challenge=challenge, author=rita)
    proposal = ProposalFactory(
        challenge=challenge, author=rita, title="Floating jetty", status=Proposal.Status.ACCEPTED
    )
    CommentFactory(challenge=challenge, proposal=proposal, author=rita)
    project = ProjectFactory(challenge=challenge, proposal=proposal)
    VolunteerFactory(task=TaskFactory(project=project), member=rita)
    return challenge


def test_an_organizer_sees_their_communitys_challenges_and_their_rows_and_not_the_others(
    web_as, organizer, neighbors, challenge, riverside
):
    ana = neighbors[0]
    services.idea_post(challenge=challenge, author=ana, text="Somewhere to sit in the sun.")
    client = web_as(organizer)

    page = client.get(CHALLENGES)
    assert _pks(page) == {challenge.pk}
    text = page.content.decode()
    assert "A bench for the courtyard" in text and "Orla Organizer" in text
    assert "A jetty for the houseboats" not in text and "Rex River" not in text
    assert "organizer@example.org" not in text  # names, never emails
    ideas = client.get(reverse("admin:codesign_idea_changelist"))
    assert len(_pks(ideas)) == 1 and "Ana" in ideas.content.decode() and "ana@example.org" not in ideas.content.decode()
    for name in ("proposal", "comment", "project", "task", "volunteer"):
        response = client.get(reverse(f"admin:codesign_{name}_changelist"))
        assert _pks(response) == set(), name
        assert "Rita Riverside" not in response.content.decode()
    # Another community's challenge by its address: "doesn't exist", like a missing one.
    assert client.get(reverse("admin:codesign_challenge_change", args=[riverside.pk])).status_code == 302
    # A superuser sees both.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert _pks(client.get(CHALLENGES)) == {challenge.pk, riverside.pk}
    assert len(_pks(client.get(reverse("admin:codesign_volunteer_changelist")))) == 1


def _challenge_form(community, **changes) -> dict:
    """The add form as an organizer fills it in: the phases end in 3, 10 and 17 days."""
    soon = timezone.localtime() + timedelta(days=3)
    data = {
        "community": community.pk,
        "title": "A mural for the stairwell",
        "brief": "The stairwell is grey.",
        "space": "The stairwell of number 8",
        "constraints": "",
        "budget": "150.00",
        "method": "dots",
        "dots": "5",
        "max_dots_per_proposal": "3",
    }
    for i, name in enumerate(("ideas_until", "proposals_until", "voting_until")):
        moment = soon + timedelta(days=7 * i)
        data[f"{name}_0"], data[f"{name}_1"] = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")
    return data | changes


def test_an_organizer_posts_a_challenge_from_the_add_form_through_the_service(web_as, organizer, community):
    client = web_as(organizer)
    add = reverse("admin:codesign_challenge_add")
    assert "Post a design challenge" in client.get(add).content.decode()

    # The service refuses an ideas phase that ended already: the form again, with why.
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%d")
    refused = client.post(add, _challenge_form(community, ideas_until_0=past))
    assert refused.status_code == 200
    assert "after now" in refused.content.decode()
    assert not Challenge.objects.exists()

    response = client.post(add, _challenge_form(community))
    assert response.status_code == 302
    challenge = Challenge.objects.get()
    assert (challenge.title, challenge.created_by, challenge.phase, challenge.budget) == (
        "A mural for the stairwell",
        organizer,
        PH.IDEAS,
        Decimal("150.00"),
    )
    assert Follow.objects.filter(challenge=challenge, member=organizer).exists()  # the service's doing


def test_an_organizer_cannot_post_a_challenge_for_another_community(web_as, organizer, other_community):
    response = web_as(organizer).post(reverse("admin:codesign_challenge_add"), _challenge_form(other_community))
    assert response.status_code == 200  # the form again: that community is no choice
    assert "community" in response.context["adminform"].form.errors
    assert not Challenge.objects.exists()


def test_moving_a_challenge_to_its_next_phase_goes_through_the_service_and_is_recorded(web_as, organizer, challenge):
    client = web_as(organizer)
    form = client.post(CHALLENGES, {"action": "move_to_next_phase", "_selected_action": [challenge.pk]})
    assert form.status_code == 200 and b"note" in form.content  # asks for a note first; nothing moved yet
    assert Challenge.objects.get(pk=challenge.pk).phase == PH.IDEAS

    done = client.post(
        CHALLENGES,
        {"action": "move_to_next_phase", "_selected_action": [challenge.pk], "apply": "1", "note": "Enough ideas"},
        follow=True,
    )
    assert "Moved 1 challenge(s)" in done.content.decode()
    challenge.refresh_from_db()
    assert challenge.phase == PH.PROPOSALS
    assert challenge.ideas_until <= timezone.now()  # moved early: its planned end is now
    event = PhaseEvent.objects.get(challenge=challenge)
    assert (event.actor, event.source, event.target, event.note) == (organizer, PH.IDEAS, PH.PROPOSALS, "Enough ideas")
    page = client.get(reverse("admin:codesign_challenge_change", args=[challenge.pk])).content.decode()
    assert "Enough ideas" in page and "Orla Organizer" in page and "organizer@example.org" not in page


def test_a_done_challenge_has_no_next_phase_and_another_communitys_is_not_moved(
    web_as, organizer, challenge, riverside
):
    Challenge.objects.filter(pk=challenge.pk).update(phase=PH.DONE)
    client = web_as(organizer)
    response = client.post(
        CHALLENGES,
        {"action": "move_to_next_phase", "_selected_action": [challenge.pk, riverside.pk], "apply": "1"},
        follow=True,
    )
    assert _errors(response) == ["A bench for the courtyard: It is done: there is no next phase."]
    assert Challenge.objects.get(pk=riverside.pk).phase == PH.BUILDING
    assert not PhaseEvent.objects.exists()


def test_an_organizer_answers_proposals_with_a_reason_when_not_feasible_and_publishes_the_answer(
    web_as, organizer, neighbors, challenge
):
    ana, bo, _ = neighbors
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.",
                                     cost=Decimal("250"), submit=True)  # fmt: skip
    swing = services.proposal_create(challenge=challenge, author=bo, title="A swing", description="Swing.",
                                     submit=True)  # fmt: skip
    draft = services.proposal_create(challenge=challenge, author=bo, title="Secret draft", description="Mine.")
    client = web_as(organizer)
    assert _pks(client.get(PROPOSALS)) == {bench.pk, swing.pk}  # drafts are their authors' own
    assert client.get(reverse("admin:codesign_proposal_change", args=[draft.pk])).status_code == 302

    client.post(PROPOSALS, {"action": "accept_for_voting", "_selected_action": [bench.pk], "apply": "1",
                            "publish": "on"})  # fmt: skip
    bench.refresh_from_db()
    assert (bench.status, bench.answered_by) == (Proposal.Status.ACCEPTED, organizer)
    assert bench.answer_published_at is not None
    assert Notification.objects.filter(recipient=ana, text__contains="accepted for voting").exists()

    # Not feasible asks why; without a reason nothing changes.
    asked = client.post(PROPOSALS, {"action": "not_feasible", "_selected_action": [swing.pk], "apply": "1"})
    assert asked.status_code == 200 and b"reason" in asked.content
    assert Proposal.objects.get(pk=swing.pk).status == Proposal.Status.SUBMITTED
    client.post(PROPOSALS, {"action": "not_feasible", "_selected_action": [swing.pk], "apply": "1",
                            "reason": "The courtyard is too small for a swing"})  # fmt: skip
    swing.refresh_from_db()
    assert (swing.status, swing.answer_reason, swing.answer_published_at) == (
        Proposal.Status.NOT_FEASIBLE,
        "The courtyard is too small for a swing",
        None,
    )
    assert not Notification.objects.filter(recipient=bo, text__contains="too small").exists()

    client.post(PROPOSALS, {"action": "publish_answers", "_selected_action": [swing.pk]})
    swing.refresh_from_db()
    assert swing.answer_published_at is not None
    assert Notification.objects.filter(recipient=bo, text__contains="too small").count() == 1


def test_an_organizer_sees_no_ballots_and_no_totals_before_voting_closes(web_as, organizer, neighbors, challenge):
    ana, bo, cy = neighbors
    challenge, bench, planter = _to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=ana, dots=3)
    services.vote_set(proposal=planter, voter=bo, dots=2)
    services.vote_set(proposal=bench, voter=cy, dots=1)
    for who in (organizer, UserFactory(is_staff=True, is_superuser=True)):
        client = web_as(who)
        with pytest.raises(NoReverseMatch):
            reverse("admin:codesign_ballot_changelist")
        with pytest.raises(NoReverseMatch):
            reverse("admin:codesign_ballotentry_changelist")
        index = client.get(reverse("admin:index")).content.decode()
        assert "Challenges" in index and "Ballot" not in index
        app = client.get(reverse("admin:app_list", args=["codesign"])).content.decode()
        assert "Ballot" not in app
        listing = client.get(PROPOSALS).content.decode()
        page = client.get(reverse("admin:codesign_proposal_change", args=[bench.pk])).content.decode()
        for text in (listing, page):
            assert "Oak bench" in text
            assert "vote" not in text.lower() or "accepted for voting" in text.lower()
            assert "dots" not in text.lower()
        assert _pks(client.get(reverse("admin:codesign_project_changelist"))) == set()
    # After the close the winners are projects, with their votes.
    services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    assert Project.objects.get().votes == 4


def test_confirming_a_volunteer_in_the_admin_pays_their_hours_once(web_as, organizer, community, neighbors, challenge):
    ana, _, cy = neighbors
    challenge, bench, _ = _to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=ana, dots=3)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    project = Project.objects.get(challenge=challenge)
    task = services.task_create(project=project, actor=organizer, title="Sand the planks", hours=Decimal("2"))
    volunteer = services.task_join(task=task, member=cy)
    client = web_as(organizer)
    fund = services.fund(challenge=challenge, currency="HOUR")
    account_set_limit(account=fund, actor=organizer, limit="0", reason="Nothing to pay with yet.")

    # The fund has no room: the ledger refuses, shown as a message, nothing paid.
    refused = client.post(VOLUNTEERS, {"action": "confirm_done", "_selected_action": [volunteer.pk]}, follow=True)
    assert len(_errors(refused)) == 1 and _errors(refused)[0].startswith("Cy on “Sand the planks”:")
    assert Volunteer.objects.get(pk=volunteer.pk).status == Volunteer.Status.JOINED
    assert hours(cy, community) == Decimal("0")

    account_set_limit(account=fund, actor=organizer, limit="-40", reason="The co-design fund pays volunteers.")
    done = client.post(VOLUNTEERS, {"action": "confirm_done", "_selected_action": [volunteer.pk]}, follow=True)
    assert "Confirmed 1 volunteer(s)" in done.content.decode()
    again = client.post(VOLUNTEERS, {"action": "confirm_done", "_selected_action": [volunteer.pk]}, follow=True)
    assert len(_errors(again)) == 1

    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.confirmed_by) == (Volunteer.Status.CONFIRMED, organizer)
    assert hours(cy, community) == Decimal("2.00")
    assert Transfer.objects.filter(idempotency_key=f"codesign-volunteer-{volunteer.pk}").count() == 1
    assert verify_community(community=community).ok
    listing = client.get(VOLUNTEERS).content.decode()
    assert "Cy" in listing and "cy@example.org" not in listing


def test_an_organizer_cannot_confirm_their_own_hours_or_another_communitys_volunteers(
    web_as, organizer, community, challenge, riverside
):
    Challenge.objects.filter(pk=challenge.pk).update(phase=PH.BUILDING)
    task = TaskFactory(project=ProjectFactory(challenge=challenge, proposal=ProposalFactory(challenge=challenge)))
    mine = VolunteerFactory(task=task, member=organizer)
    theirs = Volunteer.objects.get(task__project__challenge=riverside)
    response = web_as(organizer).post(
        VOLUNTEERS, {"action": "confirm_done", "_selected_action": [mine.pk, theirs.pk]}, follow=True
    )
    assert _errors(response) == ["Orla Organizer on “" + task.title + "”: Another organizer confirms your own hours."]
    assert set(Volunteer.objects.values_list("status", flat=True)) == {Volunteer.Status.JOINED}
    assert not Transfer.objects.exists()


def test_the_admin_edits_no_challenge_proposal_or_task_directly(web_as, organizer, neighbors, challenge):
    client = web_as(organizer)
    client.post(reverse("admin:codesign_challenge_change", args=[challenge.pk]), {"phase": "done", "title": "Mine"})
    challenge.refresh_from_db()
    assert (challenge.phase, challenge.title) == (PH.IDEAS, "A bench for the courtyard")
    for name in ("proposal", "idea", "comment", "project", "task", "volunteer"):
        assert client.get(reverse(f"admin:codesign_{name}_add")).status_code == 403, name


# --- every changelist renders, in a fixed number of queries ------------------------------
def _rows(community, count: int) -> None:
    """``count`` challenges of ``community``, each with an event, an idea, a proposal with
    a comment, and a project with a task and a volunteer."""
    for _ in range(count):
        challenge = ChallengeFactory(community=community, phase=PH.BUILDING)
        PhaseEvent.objects.create(challenge=challenge, actor=challenge.created_by, source=PH.IDEAS, target=PH.PROPOSALS)
        IdeaFactory(challenge=challenge)
        proposal = ProposalFactory(challenge=challenge, status=Proposal.Status.ACCEPTED)
        CommentFactory(challenge=challenge, proposal=proposal)
        task = TaskFactory(project=ProjectFactory(challenge=challenge, proposal=proposal))
        VolunteerFactory(task=task, status=Volunteer.Status.CONFIRMED, confirmed_by=challenge.created_by,
                         confirmed_at=timezone.now())  # fmt: skip


CHANGELISTS = ["challenge", "idea", "proposal", "comment", "project", "task", "volunteer"]


@pytest.mark.parametrize("name", CHANGELISTS)
@pytest.mark.parametrize("who", ["organizer", "superuser"])
def test_each_codesign_changelist_renders_in_a_fixed_number_of_queries(
    client, organizer, community, other_community, name, who
):
    viewer = organizer if who == "organizer" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(viewer)
    url = reverse(f"admin:codesign_{name}_changelist")

    def request():
        response = client.get(url)
        assert response.status_code == 200

    def add(count: int) -> None:
        _rows(community, count)
        _rows(other_community, count)

    assert assert_queries_do_not_grow(request, add, small=1, large=4) == PINNED[who][name]


# The organizer's pages also read which communities they organize (scope, filter, menu).
PINNED = {
    "organizer": dict.fromkeys(CHANGELISTS, 11),
    "superuser": dict.fromkeys(CHANGELISTS, 7),
}
