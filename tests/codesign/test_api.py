"""The co-design API's challenges (/api/v1/challenges/...): who reads and moves them,
their ideas, follows, comments, the secret ballot and the results; what a member sees
and what the database holds after."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.codesign import services
from apps.codesign.models import Challenge, Comment, Follow, Idea, PhaseEvent, PlusOne
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
CHALLENGES = "/api/v1/challenges/"


def url(challenge, tail: str = "") -> str:
    return f"{CHALLENGES}{challenge.pk}/{tail}"


def voting_with(challenge, organizer, authors, *, live_totals: bool = False):
    """The challenge moved to voting with one accepted proposal by each of ``authors``."""
    if live_totals:
        Challenge.objects.filter(pk=challenge.pk).update(live_totals=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposals = []
    for index, author in enumerate(authors):
        proposal = services.proposal_create(
            challenge=challenge, author=author, title=f"Design {index + 1}", description="A design.",
            cost=Decimal("100"), submit=True,
        )  # fmt: skip
        services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
        proposals.append(proposal)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return challenge, proposals


# --- reading ----------------------------------------------------------------------------
def test_members_list_the_challenges_of_their_communities_only(api_as, neighbors, challenge, other_community):
    elsewhere = services.challenge_create(
        community=other_community,
        actor=MembershipFactory(community=other_community, role=Membership.Role.ORGANIZER).user,
        title="A river bench", brief="Somewhere to sit.", space="The river bank",
        ideas_until=timezone.now() + timedelta(days=1), proposals_until=timezone.now() + timedelta(days=2),
        voting_until=timezone.now() + timedelta(days=3),
    )  # fmt: skip

    body = api_as(neighbors[0]).get(CHALLENGES).json()

    assert [c["title"] for c in body["results"]] == ["A bench for the courtyard"]
    assert body["results"][0]["phase"] == "ideas" and body["results"][0]["following"] is False
    assert api_as(neighbors[0]).get(url(elsewhere)).status_code == 404


def test_the_list_filters_by_phase_and_community(api_as, neighbors, challenge, community):
    ana = api_as(neighbors[0])

    assert len(ana.get(CHALLENGES, {"phase": "ideas"}).json()["results"]) == 1
    assert ana.get(CHALLENGES, {"phase": "voting"}).json()["results"] == []
    assert len(ana.get(CHALLENGES, {"community": community.pk}).json()["results"]) == 1
    assert ana.get(CHALLENGES, {"phase": "someday"}).status_code == 400


def test_a_challenge_shows_its_phase_information_and_an_organizer_its_steps(api_as, organizer, neighbors, challenge):
    mine = api_as(organizer).get(url(challenge)).json()
    theirs = api_as(neighbors[0]).get(url(challenge)).json()

    assert mine["phase"] == "ideas" and mine["method"] == "dots"
    assert (mine["dots"], mine["max_dots_per_proposal"], mine["live_totals"]) == (5, 3, False)
    assert (mine["budget"], mine["spent"], mine["budget_left"]) == ("300.00", "0.00", "300.00")
    assert mine["ideas_until"] and mine["proposals_until"] and mine["voting_until"]
    assert mine["my_dots_left"] is None and mine["totals_visible"] is False
    assert mine["actions"] == ["open_proposals"] and mine["following"] is True
    assert theirs["actions"] == []


def test_outsiders_get_not_found_and_anonymous_callers_401(api_as, stranger, challenge):
    assert api_as(stranger).get(url(challenge)).status_code == 404
    assert api_as(stranger).get(CHALLENGES).json()["results"] == []
    assert api_as(stranger).post(url(challenge, "follow/")).status_code == 404
    assert APIClient().get(CHALLENGES).status_code == 401
    assert APIClient().get(url(challenge)).status_code == 401


# --- creating and moving ------------------------------------------------------------------
def challenge_body(community, **extra) -> dict:
    now = timezone.now()
    return {
        "community": community.pk,
        "title": "Planters for the square",
        "brief": "Green, **please**.",
        "space": "The square",
        "ideas_until": (now + timedelta(days=3)).isoformat(),
        "proposals_until": (now + timedelta(days=6)).isoformat(),
        "voting_until": (now + timedelta(days=9)).isoformat(),
        "budget": "150.00",
        "method": "approval",
        **extra,
    }


def test_an_organizer_posts_a_challenge_and_follows_it(api_as, organizer, community):
    response = api_as(organizer).post(CHALLENGES, challenge_body(community))

    assert response.status_code == 201, response.json()
    challenge = Challenge.objects.get(title="Planters for the square")
    assert (challenge.method, challenge.budget, challenge.phase) == ("approval", Decimal("150.00"), "ideas")
    assert Follow.objects.filter(challenge=challenge, member=organizer).exists()
    assert response.json()["brief_html"] == "<p>Green, <strong>please</strong>.</p>\n"


def test_a_member_cannot_post_a_challenge(api_as, neighbors, community):
    response = api_as(neighbors[0]).post(CHALLENGES, challenge_body(community))

    assert response.status_code == 409 and response.json()["code"] == "not_organizer"
    assert not Challenge.objects.filter(title="Planters for the square").exists()


def test_phases_out_of_order_are_refused_in_plain_words(api_as, organizer, community):
    body = challenge_body(community, voting_until=timezone.now().isoformat())

    response = api_as(organizer).post(CHALLENGES, body)

    assert response.status_code == 400
    assert "in order" in response.json()["ideas_until"][0]


def test_an_organizer_opens_proposals_early_and_the_step_is_recorded(api_as, organizer, challenge):
    response = api_as(organizer).post(url(challenge, "open_proposals/"))

    assert response.status_code == 200, response.json()
    assert response.json()["phase"] == "proposals" and response.json()["actions"] == ["open_voting"]
    challenge.refresh_from_db()
    assert challenge.phase == "proposals"
    assert PhaseEvent.objects.get(challenge=challenge).actor == organizer


def test_a_member_cannot_move_a_phase_and_a_wrong_step_is_refused(api_as, organizer, neighbors, challenge):
    refused = api_as(neighbors[0]).post(url(challenge, "open_proposals/"))
    wrong = api_as(organizer).post(url(challenge, "close_voting/"))

    assert refused.status_code == 409 and refused.json()["code"] == "forbidden"
    assert wrong.status_code == 409 and wrong.json()["code"] == "illegal_transition"
    challenge.refresh_from_db()
    assert challenge.phase == "ideas" and not PhaseEvent.objects.exists()


# --- following, ideas and comments ----------------------------------------------------------
def test_a_member_follows_and_unfollows_a_challenge(api_as, neighbors, challenge):
    ana = api_as(neighbors[0])

    assert ana.post(url(challenge, "follow/")).json() == {"following": True}
    assert ana.post(url(challenge, "follow/")).status_code == 200  # twice changes nothing
    assert Follow.objects.filter(challenge=challenge, member=neighbors[0]).count() == 1
    assert ana.get(url(challenge)).json()["following"] is True
    assert ana.delete(url(challenge, "follow/")).status_code == 204
    assert not Follow.objects.filter(challenge=challenge, member=neighbors[0]).exists()
    ana.post(url(challenge, "follow/"))
    assert ana.post(url(challenge, "unfollow/")).json() == {"following": False}
    assert not Follow.objects.filter(challenge=challenge, member=neighbors[0]).exists()


def test_ideas_are_posted_and_plus_oned_once_but_not_ones_own(api_as, neighbors, challenge):
    ana, bo = neighbors[:2]
    posted = api_as(ana).post(url(challenge, "ideas/"), {"text": "Something to sit on in the sun."})
    assert posted.status_code == 201, posted.json()
    idea_url = f"/api/v1/ideas/{posted.json()['id']}/plus-one/"

    own = api_as(ana).post(idea_url)
    first = api_as(bo).post(idea_url)
    again = api_as(bo).post(idea_url)

    assert own.status_code == 409 and own.json()["code"] == "own_idea"
    assert first.json()["plus_ones"] == 1 and again.json()["plus_ones"] == 1
    assert PlusOne.objects.count() == 1
    listed = api_as(bo).get(url(challenge, "ideas/")).json()["results"]
    assert [(i["text"], i["plus_ones"], i["author"]["display_name"]) for i in listed] == [
        ("Something to sit on in the sun.", 1, "Ana")
    ]


def test_ideas_are_refused_after_the_ideas_phase(api_as, organizer, neighbors, challenge):
    idea = services.idea_post(challenge=challenge, author=neighbors[0], text="A swing.")
    services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")

    posted = api_as(neighbors[1]).post(url(challenge, "ideas/"), {"text": "A slide."})
    plus = api_as(neighbors[1]).post(f"/api/v1/ideas/{idea.pk}/plus-one/")

    assert posted.status_code == 409 and posted.json()["code"] == "wrong_phase"
    assert plus.status_code == 409 and plus.json()["code"] == "wrong_phase"
    assert Idea.objects.count() == 1 and not PlusOne.objects.exists()


def test_a_suspended_member_reads_but_cannot_post_an_idea(api_as, community, neighbors, challenge):
    Membership.objects.filter(user=neighbors[2], community=community).update(status=Membership.Status.SUSPENDED)

    assert api_as(neighbors[2]).get(url(challenge)).status_code == 200
    response = api_as(neighbors[2]).post(url(challenge, "ideas/"), {"text": "A slide."})

    assert response.status_code == 409 and response.json()["code"] == "suspended"
    assert not Idea.objects.exists()


def test_members_comment_on_a_challenge_and_reply_one_level_deep(api_as, neighbors, challenge):
    ana, bo = neighbors[:2]
    top = api_as(ana).post(url(challenge, "comments/"), {"text": "Shade matters."}).json()
    reply = api_as(bo).post(url(challenge, "comments/"), {"text": "Agreed.", "parent": top["id"]})
    deeper = api_as(ana).post(url(challenge, "comments/"), {"text": "Thanks.", "parent": reply.json()["id"]})

    assert reply.status_code == 201 and deeper.status_code == 201
    assert Comment.objects.get(text="Thanks.").parent_id == top["id"]  # a reply to a reply joins the thread
    listed = api_as(bo).get(url(challenge, "comments/")).json()["results"]
    assert [(c["text"], [r["text"] for r in c["replies"]]) for c in listed] == [
        ("Shade matters.", ["Agreed.", "Thanks."])
    ]
    unknown = api_as(ana).post(url(challenge, "comments/"), {"text": "Hm.", "parent": 10**9})
    assert unknown.status_code == 400 and "parent" in unknown.json()


# --- the secret ballot and the results ----------------------------------------------------
def test_before_voting_closes_nobody_reads_results(api_as, organizer, neighbors, challenge):
    challenge, (design, _) = voting_with(challenge, organizer, neighbors[:2])
    services.vote_set(proposal=design, voter=neighbors[2], dots=3)

    for user in (organizer, *neighbors):
        response = api_as(user).get(url(challenge, "results/"))
        assert response.status_code == 409
        assert response.json()["code"] == "wrong_phase" and "secret" in response.json()["detail"]
    assert api_as(organizer).get(url(challenge)).json()["totals_visible"] is False


def test_my_ballot_is_mine_only(api_as, organizer, neighbors, challenge):
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2])
    services.vote_set(proposal=design, voter=neighbors[2], dots=3)
    services.vote_set(proposal=other, voter=neighbors[2], dots=1)

    cy = api_as(neighbors[2]).get(url(challenge, "ballot/")).json()
    ana = api_as(neighbors[0]).get(url(challenge, "ballot/")).json()
    boss = api_as(organizer).get(url(challenge, "ballot/")).json()

    assert cy == {"challenge": challenge.pk, "method": "dots", "ballot": {str(design.pk): 3, str(other.pk): 1},
                  "dots_left": 1}  # fmt: skip
    assert ana["ballot"] == {} and boss["ballot"] == {} and boss["dots_left"] == 5
    assert api_as(neighbors[2]).get(url(challenge)).json()["my_dots_left"] == 1
    assert api_as(neighbors[0]).get(url(challenge)).json()["my_dots_left"] == 5
    # Nothing about a proposal carries anyone's dots either.
    shown = api_as(neighbors[0]).get(f"/api/v1/proposals/{design.pk}/").json()
    assert not {"votes", "voters", "dots", "ballot"} & set(shown)


def test_with_live_totals_on_members_see_the_totals_while_voting(api_as, organizer, neighbors, challenge):
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2], live_totals=True)
    services.vote_set(proposal=design, voter=neighbors[2], dots=3)
    services.vote_set(proposal=design, voter=neighbors[1], dots=2)

    body = api_as(neighbors[0]).get(url(challenge, "results/")).json()

    assert body["final"] is False
    assert [(r["proposal"], r["votes"], r["voters"]) for r in body["ranking"]] == [(design.pk, 5, 2), (other.pk, 0, 0)]
    assert not {"ballots", "voter"} & set(body)


def test_after_the_close_the_ranking_shows_votes_voters_and_the_winner(api_as, organizer, neighbors, challenge):
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2])
    services.vote_set(proposal=other, voter=neighbors[0], dots=2)
    services.vote_set(proposal=design, voter=neighbors[1], dots=1)
    closed = api_as(organizer).post(url(challenge, "close_voting/"))
    assert closed.status_code == 200 and closed.json()["phase"] == "building"
    assert [p["proposal"] for p in closed.json()["projects"]] == [other.pk, design.pk]

    body = api_as(neighbors[2]).get(url(challenge, "results/")).json()

    assert body["final"] is True and body["budget"] == "300.00"
    assert [(r["title"], r["votes"], r["voters"], r["won"]) for r in body["ranking"]] == [
        ("Design 2", 2, 1, True),
        ("Design 1", 1, 1, True),  # 100 + 100 fit in 300
    ]


# --- query counts -------------------------------------------------------------------------
def test_the_challenge_list_runs_the_same_queries_for_one_or_thirty(api_as, organizer, community, neighbors):
    ana = api_as(neighbors[0])
    now = timezone.now()

    def add(n):
        for i in range(n):
            services.challenge_create(
                community=community, actor=organizer, title=f"Challenge {i}", brief="B.", space="S.",
                ideas_until=now + timedelta(days=1), proposals_until=now + timedelta(days=2),
                voting_until=now + timedelta(days=3),
            )  # fmt: skip

    count = assert_queries_do_not_grow(lambda: ana.get(CHALLENGES, {"page_size": 50}), add)
    assert count <= 4


def test_the_idea_and_comment_lists_run_the_same_queries_for_one_or_thirty(api_as, community, challenge):
    readers = [MembershipFactory(community=community).user for _ in range(30)]
    reader = api_as(readers[0])

    def add_ideas(n):
        for user in readers[:n] if n == 1 else readers[1 : n + 1]:
            services.idea_post(challenge=challenge, author=user, text="Shade.")

    def add_comments(n):
        for user in readers[:n]:
            top = services.comment_post(challenge=challenge, author=user, text="Top.")
            services.comment_post(challenge=challenge, author=readers[0], text="Reply.", parent=top)

    ideas = assert_queries_do_not_grow(lambda: reader.get(url(challenge, "ideas/")), add_ideas, large=20)
    comments = assert_queries_do_not_grow(lambda: reader.get(url(challenge, "comments/")), add_comments, large=20)
    assert ideas <= 6 and comments <= 8
