"""Co-Design Mini Projects as the front door, the dashboard, unified search and the profile
see it: the open challenges, what waits for a member (votes, tasks, hours and proposals
to answer), their coming tasks, what is new, what a search finds, their record; and a
community that stopped using the exchange takes no new challenges, ideas, proposals or
volunteers, while the build already under way carries on.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import dateformat, timezone

from apps.codesign import services
from apps.codesign.blueprint import BLUEPRINT, DEFAULT_RULES, plain
from apps.codesign.factories import (
    ChallengeFactory,
    IdeaFactory,
    ProjectFactory,
    ProposalFactory,
    TaskFactory,
    VolunteerFactory,
)
from apps.codesign.models import Challenge, Proposal, Volunteer
from apps.moderation.services import content_hide
from apps.peers.exchanges import exchange_start, exchange_stop
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when_short
from tests.querycount import assert_queries_do_not_grow, count_queries

PH = Challenge.Phase


def project_in(community, **task):
    """A project being built in ``community`` and one task of it (dated in 3 days unless said)."""
    project = ProjectFactory(proposal__challenge__community=community, proposal__challenge__title="Courtyard bench")
    return TaskFactory(project=project, **task)


def url(name: str, pk: int) -> str:
    return reverse(name, args=[pk])


def day(value) -> str:
    return dateformat.format(value, "D j M")


@pytest.fixture
def ana(neighbors):
    return neighbors[0]


@pytest.fixture
def bo(neighbors):
    return neighbors[1]


# --- the figure ------------------------------------------------------------------------
def test_the_figure_counts_challenges_still_open_in_communities_using_the_exchange(
    community, organizer, other_community
):
    for phase in (PH.IDEAS, PH.PROPOSALS, PH.VOTING, PH.BUILDING, PH.DONE):
        ChallengeFactory(community=community, phase=phase)
    ChallengeFactory(community=other_community)
    ChallengeFactory(community=CommunityFactory(slug="no-design", exchanges=["tools"]))
    stopper = OrganizerMembershipFactory(community=other_community).user
    exchange_stop(community=other_community, key="codesign", actor=stopper)

    shown = BLUEPRINT.figure()

    assert (shown.value, shown.label) == ("4", "challenges open")


def test_the_cached_figure_changes_when_a_challenge_moves_to_its_next_phase(
    organizer, challenge, django_capture_on_commit_callbacks
):
    from apps.front.figures import figures

    assert figures()["codesign"].value == "1"
    Challenge.objects.filter(pk=challenge.pk).update(phase=PH.BUILDING)  # as the vote closed
    with django_capture_on_commit_callbacks(execute=True):
        services.challenge_step(challenge=challenge, actor=organizer, step="finish")
    assert figures()["codesign"].value == "0"


# --- actions ---------------------------------------------------------------------------
def test_actions_ask_me_to_vote_where_voting_is_open_and_i_have_not_voted(community, ana, bo, other_community):
    voting = ChallengeFactory(community=community, phase=PH.VOTING, title="Play corner")
    bench = ProposalFactory(challenge=voting, status=Proposal.Status.ACCEPTED)
    ChallengeFactory(community=other_community, phase=PH.VOTING)
    ChallengeFactory(community=community, phase=PH.PROPOSALS)

    items = BLUEPRINT.actions(user=ana)

    assert [(i.text, i.url, i.verb, i.when) for i in items] == [
        (
            f"Voting on “Play corner” is open until {format_when_short(voting.voting_until)}, "
            "and you have not voted yet",
            url("codesign:ballot", voting.pk),
            "Vote",
            voting.voting_until,
        )
    ]
    services.vote_set(proposal=bench, voter=ana, dots=2)
    assert BLUEPRINT.actions(user=ana) == []
    assert len(BLUEPRINT.actions(user=bo)) == 1


def test_actions_remind_me_of_my_task_today_or_tomorrow(community, ana, bo):
    today = timezone.localdate()
    tomorrow = project_in(community, title="Sand the planks", date=today + timedelta(days=1))
    VolunteerFactory(task=tomorrow, member=ana)
    VolunteerFactory(task=project_in(community, date=today + timedelta(days=4)), member=ana)  # not yet
    VolunteerFactory(task=project_in(community, date=today), member=ana, status=Volunteer.Status.LEFT)

    items = BLUEPRINT.actions(user=ana)

    assert [i.text for i in items] == ["Your task “Sand the planks” for Courtyard bench is tomorrow"]
    assert items[0].url == url("codesign:board", tomorrow.project.challenge_id)
    assert BLUEPRINT.actions(user=bo) == []


def test_actions_ask_an_organizer_to_confirm_hours_of_tasks_done(community, organizer, ana, bo):
    today = timezone.localdate()
    done = project_in(community, title="Paint the legs", date=today - timedelta(days=1))
    VolunteerFactory(task=done, member=ana)
    VolunteerFactory(task=done, member=bo)
    VolunteerFactory(task=project_in(community, date=today + timedelta(days=2)), member=ana)  # not done yet
    VolunteerFactory(task=project_in(CommunityFactory(slug="far-away"), date=today))  # not theirs to confirm

    items = BLUEPRINT.actions(user=organizer)

    assert [(i.text, i.verb) for i in items] == [
        ("Hours to confirm: 2 volunteers on “Paint the legs” (Courtyard bench)", "Confirm hours")
    ]
    assert items[0].url == url("codesign:board", done.project.challenge_id)
    services.volunteer_confirm(volunteer=Volunteer.objects.get(task=done, member=ana), actor=organizer)
    assert BLUEPRINT.actions(user=organizer)[0].text.startswith("Hours to confirm: 1 volunteer on")
    assert not [i for i in BLUEPRINT.actions(user=ana) if i.verb == "Confirm hours"]


def test_actions_ask_an_organizer_to_answer_submitted_proposals_not_hidden(community, organizer, ana):
    open_call = ChallengeFactory(community=community, phase=PH.PROPOSALS, title="Herb garden")
    waiting = ProposalFactory(challenge=open_call, title="Herb spiral")
    hidden = ProposalFactory(challenge=open_call, title="Spam")
    content_hide(target=hidden, actor=organizer, reason="Advertising.")
    ProposalFactory(challenge=open_call, status=Proposal.Status.DRAFT)
    ProposalFactory(challenge=open_call, status=Proposal.Status.ACCEPTED)
    ProposalFactory(challenge=ChallengeFactory(phase=PH.PROPOSALS))  # another community

    items = BLUEPRINT.actions(user=organizer)

    assert [(i.text, i.url, i.verb) for i in items] == [
        (
            "The proposal “Herb spiral” for Herb garden waits for your answer",
            url("codesign:proposal", waiting.pk),
            "Answer",
        )
    ]
    assert BLUEPRINT.actions(user=ana) == []
    assert BLUEPRINT.actions(user=AnonymousUser()) == []


def test_actions_run_four_queries_whatever_the_rows(community, organizer):
    today = timezone.localdate()
    organizer_too = OrganizerMembershipFactory(community=community).user

    def add(n: int) -> None:
        for _ in range(n):
            voting = ChallengeFactory(community=community, phase=PH.VOTING)
            ProposalFactory(challenge=voting, status=Proposal.Status.ACCEPTED)
            task = project_in(community, date=today)
            VolunteerFactory(task=task, member=organizer)
            VolunteerFactory(task=task, member=organizer_too)
            ProposalFactory(challenge=ChallengeFactory(community=community, phase=PH.PROPOSALS))

    count = assert_queries_do_not_grow(lambda: BLUEPRINT.actions(user=organizer), add, large=6)
    assert count == 4


# --- upcoming --------------------------------------------------------------------------
def test_upcoming_lists_the_tasks_i_joined_soonest_first(community, ana, bo):
    today = timezone.localdate()
    later = project_in(community, title="Oil the wood", date=today + timedelta(days=9), hours=Decimal("1.5"))
    sooner = project_in(community, title="Sand the planks", date=today + timedelta(days=2))
    for task in (later, sooner):
        VolunteerFactory(task=task, member=ana)
    VolunteerFactory(task=project_in(community, date=today - timedelta(days=1)), member=ana)  # past
    VolunteerFactory(task=project_in(community, date=today + timedelta(days=1)), member=ana, status="left")
    VolunteerFactory(task=project_in(community, date=today + timedelta(days=1)), member=bo)

    items = BLUEPRINT.upcoming(user=ana)

    assert [i.text for i in items] == [
        f"“Sand the planks” for Courtyard bench, {day(sooner.date)} (2 hours)",
        f"“Oil the wood” for Courtyard bench, {day(later.date)} (1.50 hours)",
    ]
    assert items[0].url == url("codesign:board", sooner.project.challenge_id) and items[0].kind == "codesign"
    assert timezone.localtime(items[0].when).date() == sooner.date


def test_upcoming_runs_one_query_and_shows_ten_at_most(community, ana):
    today = timezone.localdate()

    def add(n: int) -> None:
        for i in range(n):
            VolunteerFactory(task=project_in(community, date=today + timedelta(days=i + 1)), member=ana)

    assert assert_queries_do_not_grow(lambda: BLUEPRINT.upcoming(user=ana), add, large=12) == 1
    assert len(BLUEPRINT.upcoming(user=ana)) == 10


# --- activity --------------------------------------------------------------------------
def test_activity_shows_new_challenges_and_proposals_i_may_read_newest_first(
    community, organizer, ana, bo, other_community
):
    now = timezone.now()
    older = ChallengeFactory(community=community, title="Herb garden", created_at=now - timedelta(days=3))
    call = ChallengeFactory(
        community=community, phase=PH.PROPOSALS, title="Courtyard bench", created_at=now - timedelta(days=2)
    )
    bench = ProposalFactory(challenge=call, author=bo, title="Oak bench", submitted_at=now - timedelta(days=1))
    ProposalFactory(challenge=call, author=bo, title="My draft", status=Proposal.Status.DRAFT, submitted_at=None)
    hidden = ProposalFactory(challenge=call, title="Spam", submitted_at=now - timedelta(hours=1))
    content_hide(target=hidden, actor=organizer, reason="Advertising.")
    ChallengeFactory(community=other_community, title="Not my street")

    items = BLUEPRINT.activity(user=ana, community_ids=[community.pk, other_community.pk], limit=10)

    assert [(i.text, i.url) for i in items] == [
        (f"{bo.public_name} proposed “Oak bench” for Courtyard bench", url("codesign:proposal", bench.pk)),
        ("New design challenge in Sunnyside Commons: Courtyard bench", url("codesign:challenge", call.pk)),
        ("New design challenge in Sunnyside Commons: Herb garden", url("codesign:challenge", older.pk)),
    ]
    assert items[0].when == bench.submitted_at and items[0].kind == "codesign"
    assert len(BLUEPRINT.activity(user=ana, community_ids=[community.pk], limit=2)) == 2
    assert "Spam" in " ".join(i.text for i in BLUEPRINT.activity(user=organizer, community_ids=[community.pk]))
    assert BLUEPRINT.activity(user=ana, community_ids=[other_community.pk], limit=10) == []


def test_activity_runs_two_queries_whatever_the_rows(community, ana):
    def add(n: int) -> None:
        for _ in range(n):
            ProposalFactory(challenge=ChallengeFactory(community=community, phase=PH.PROPOSALS))

    count = assert_queries_do_not_grow(
        lambda: BLUEPRINT.activity(user=ana, community_ids=[community.pk], limit=20), add, large=10
    )
    assert count == 2


# --- search ----------------------------------------------------------------------------
@pytest.fixture
def garden(community, bo):
    """A challenge that names rosemary in its brief, and a proposal with it in its title."""
    challenge = ChallengeFactory(
        community=community, phase=PH.PROPOSALS, title="Herb garden by the gate",
        brief="Plant **rosemary** and thyme where the bins were.\n\n- easy to water\n- sunny",
    )  # fmt: skip
    ProposalFactory(
        challenge=challenge, author=bo, title="Rosemary spiral", description="A _spiral_ of stones, herbs on top."
    )
    return challenge


def test_search_finds_challenges_and_proposals_by_title_and_body_words_title_first(ana, garden):
    hits = BLUEPRINT.search(user=ana, query="rosemary", kinds=None, near=None, within_km=None, limit=10)

    assert [(h.kind, h.kind_label, h.title) for h in hits] == [
        ("proposal", "Proposals", "Rosemary spiral"),
        ("challenge", "Challenges", "Herb garden by the gate"),
    ]
    assert hits[0].rank > hits[1].rank
    assert hits[1].snippet == "Plant rosemary and thyme where the bins were. easy to water sunny"
    assert hits[0].snippet == "A spiral of stones, herbs on top."
    assert hits[1].url == url("codesign:challenge", garden.pk) and hits[1].community == "Sunnyside Commons"
    assert hits[1].distance_km is None and hits[1].when == garden.created_at
    words = BLUEPRINT.search(user=ana, query="stones", kinds=None, near=None, within_km=None, limit=10)
    assert [h.title for h in words] == ["Rosemary spiral"]


def test_search_honours_kinds_and_limit(ana, garden):
    def titles(**kwargs):
        found = BLUEPRINT.search(user=ana, query="rosemary", near=None, within_km=None, **kwargs)
        return [h.title for h in found]

    assert titles(kinds=["challenge"], limit=10) == ["Herb garden by the gate"]
    assert titles(kinds=["proposal"], limit=10) == ["Rosemary spiral"]
    assert titles(kinds=[], limit=10) == ["Rosemary spiral", "Herb garden by the gate"]
    assert titles(kinds=["tool"], limit=10) == []
    assert titles(kinds=None, limit=1) == ["Rosemary spiral"]


def test_search_finds_nothing_i_may_not_read(community, organizer, ana, bo, garden, other_community):
    ProposalFactory(challenge=garden, author=bo, title="Rosemary draft", status=Proposal.Status.DRAFT)
    hidden = ProposalFactory(challenge=garden, title="Rosemary spam")
    content_hide(target=hidden, actor=organizer, reason="Advertising.")
    ChallengeFactory(community=other_community, title="Rosemary hedge")

    def titles(user):
        return sorted(h.title for h in BLUEPRINT.search(user=user, query="rosemary", limit=20))

    assert titles(ana) == ["Herb garden by the gate", "Rosemary spiral"]
    assert titles(bo) == ["Herb garden by the gate", "Rosemary draft", "Rosemary spiral"]
    assert titles(AnonymousUser()) == []


def test_search_measures_distance_and_keeps_challenges_without_a_place(community, ana):
    ChallengeFactory(community=community, title="Bench near", approx_latitude=Decimal("52.36"),
                            approx_longitude=Decimal("4.90"))  # fmt: skip
    ChallengeFactory(community=community, title="Bench far", approx_latitude=Decimal("52.50"),
                     approx_longitude=Decimal("4.90"))  # fmt: skip
    ChallengeFactory(community=community, title="Bench anywhere", approx_latitude=None, approx_longitude=None)

    hits = BLUEPRINT.search(user=ana, query="bench", kinds=["challenge"], near=(52.361, 4.90), within_km=2, limit=10)

    found = {h.title: h.distance_km for h in hits}
    assert set(found) == {"Bench near", "Bench anywhere"}
    assert found["Bench anywhere"] is None and 0.05 < found["Bench near"] < 0.2
    everywhere = BLUEPRINT.search(user=ana, query="bench", kinds=["challenge"], near=(52.361, 4.90), limit=10)
    assert {h.title for h in everywhere} == {"Bench near", "Bench far", "Bench anywhere"}
    assert 15 < next(h.distance_km for h in everywhere if h.title == "Bench far") < 16


def test_search_runs_one_query_per_kind(community, ana):
    def add(n: int) -> None:
        for i in range(n):
            ProposalFactory(challenge=ChallengeFactory(community=community, title=f"Bench {i}"), title=f"Bench {i}")

    count = assert_queries_do_not_grow(lambda: BLUEPRINT.search(user=ana, query="bench", limit=50), add, large=10)
    assert count == 2


def test_plain_text_of_markdown_is_short_and_has_no_markup():
    text = plain("# Title\n\nSome **bold** & <b>raw</b> [link](https://example.org) " + "word " * 60)
    assert text.startswith("Title Some bold & <b>raw</b> link word")
    assert len(text) <= 140 and text.endswith("…")


# --- history ---------------------------------------------------------------------------
def test_history_counts_the_challenges_contributed_to_and_the_build_hours_confirmed(
    community, organizer, ana, bo, stranger
):
    first = ChallengeFactory(community=community, phase=PH.PROPOSALS)
    IdeaFactory(challenge=first, author=ana)
    ProposalFactory(challenge=first, author=ana)  # the same challenge again
    coauthored = ProposalFactory(challenge=ChallengeFactory(community=community, phase=PH.PROPOSALS), author=bo)
    coauthored.coauthors.add(ana)
    hidden = IdeaFactory(challenge=ChallengeFactory(community=community), author=ana)
    content_hide(target=hidden, actor=organizer, reason="Off topic.")
    ProposalFactory(challenge=ChallengeFactory(community=community, phase=PH.PROPOSALS), author=ana, status="draft")
    today = timezone.localdate()
    for hours in (Decimal("2"), Decimal("1.5")):
        place = VolunteerFactory(task=project_in(community, date=today, hours=hours), member=ana)
        services.volunteer_confirm(volunteer=place, actor=organizer)
    VolunteerFactory(task=project_in(community, date=today), member=ana, status=Volunteer.Status.LEFT)

    def shown(viewer):
        return [(r.label, r.value) for r in BLUEPRINT.history(subject=ana, viewer=viewer)]

    assert shown(bo) == [("Challenges contributed to", "4"), ("Build hours given", "3.50")]
    assert shown(ana)[0] == ("Challenges contributed to", "5")  # her hidden idea too
    assert shown(organizer)[0] == ("Challenges contributed to", "5")
    assert shown(stranger) == [("Challenges contributed to", "0"), ("Build hours given", "3.50")]
    assert [r.value for r in BLUEPRINT.history(subject=bo, viewer=ana)] == ["1", "0"]


def test_history_runs_two_queries(community, ana, bo):
    def add(n: int) -> None:
        for _ in range(n):
            IdeaFactory(challenge=ChallengeFactory(community=community), author=ana)

    assert assert_queries_do_not_grow(lambda: BLUEPRINT.history(subject=ana, viewer=bo), add, large=8) == 2


# --- turning the exchange off ----------------------------------------------------------
def test_a_community_that_stopped_the_exchange_takes_no_new_challenge_idea_proposal_or_volunteer(
    community, organizer, ana
):
    ideas = ChallengeFactory(community=community, phase=PH.IDEAS)
    call = ChallengeFactory(community=community, phase=PH.PROPOSALS)
    task = project_in(community)
    exchange_stop(community=community, key="codesign", actor=organizer)
    now = timezone.now()

    attempts = {
        "challenge": lambda: services.challenge_create(
            community=community,
            actor=organizer,
            title="Play corner",
            brief="Swings.",
            space="The green",
            ideas_until=now + timedelta(days=1),
            proposals_until=now + timedelta(days=2),
            voting_until=now + timedelta(days=3),
        ),
        "idea": lambda: services.idea_post(challenge=ideas, author=ana, text="A swing"),
        "proposal": lambda: services.proposal_create(challenge=call, author=ana, title="Swing", description="Oak."),
        "volunteer": lambda: services.task_join(task=task, member=ana),
    }
    for what, attempt in attempts.items():
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.code == "exchange_off", what
        assert "does not use the Co-Design Mini Projects exchange" in str(refused.value)
    assert Challenge.objects.count() == 3 and not Volunteer.objects.exists()


def test_the_build_and_the_vote_under_way_carry_on_after_the_exchange_stopped(community, organizer, ana, bo):
    today = timezone.localdate()
    task = project_in(community, date=today)
    joined = VolunteerFactory(task=task, member=ana)
    voting = ChallengeFactory(community=community, phase=PH.VOTING)
    bench = ProposalFactory(challenge=voting, status=Proposal.Status.ACCEPTED)
    exchange_stop(community=community, key="codesign", actor=organizer)

    assert services.volunteer_confirm(volunteer=joined, actor=organizer).status == Volunteer.Status.CONFIRMED
    services.vote_set(proposal=bench, voter=bo, dots=1)
    comment = services.comment_post(challenge=voting, author=bo, text="Lovely.")
    assert comment.pk is not None

    exchange_start(community=community, key="codesign", actor=organizer)
    assert services.task_join(task=TaskFactory(project=task.project), member=bo).status == Volunteer.Status.JOINED


def test_starting_the_exchange_sets_its_rules_and_nothing_else(organizer):
    quiet = CommunityFactory(slug="quiet", exchanges=[])
    MembershipFactory(community=quiet, user=organizer, role="organizer")
    row = exchange_start(community=quiet, key="codesign", actor=organizer)
    again = exchange_start(community=quiet, key="codesign", actor=organizer)
    assert row.pk == again.pk and row.rules == DEFAULT_RULES
    assert "one ballot" in DEFAULT_RULES and "time credits" in DEFAULT_RULES
    assert BLUEPRINT.search_kinds == (("challenge", "Challenges"), ("proposal", "Proposals"))


def test_loaders_run_few_queries_for_a_member_of_nothing(stranger):
    count, _ = count_queries(lambda: BLUEPRINT.actions(user=stranger))
    assert count == 4


def test_a_community_that_stopped_co_design_leaves_search_and_the_feed(community, member, organizer):
    from apps.codesign.blueprint import activity, search
    from apps.codesign.factories import ChallengeFactory
    from apps.peers.exchanges import exchange_stop

    challenge = ChallengeFactory(community=community, created_by=organizer, title="A courtyard bench")
    assert [hit.title for hit in search(user=member, query="bench")] == [challenge.title]
    assert any(item.url == challenge.get_absolute_url() for item in activity(user=member, community_ids=[community.pk]))
    exchange_stop(community=community, key="codesign", actor=organizer)
    assert search(user=member, query="bench") == []
    assert activity(user=member, community_ids=[community.pk]) == []
