"""The co-design API's proposals (/api/v1/challenges/{id}/proposals/ and
/api/v1/proposals/{id}/...): drafts, steps, answers, votes and comments; what a member
sees and what the database holds after."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from apps.codesign import services
from apps.codesign.models import BallotEntry, Challenge, Comment, Proposal, ProposalVersion
from apps.peers.factories import MembershipFactory
from tests.querycount import assert_queries_do_not_grow

from .test_api import url, voting_with

pytestmark = pytest.mark.django_db
PROPOSALS = "/api/v1/proposals/"


def purl(proposal, tail: str = "") -> str:
    return f"{PROPOSALS}{proposal.pk}/{tail}"


@pytest.fixture
def proposing(challenge, organizer) -> Challenge:
    return services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")


def draft(challenge, author, **extra) -> Proposal:
    fields = {"title": "Oak bench", "description": "An **oak** bench.", "cost": Decimal("250"), **extra}
    return services.proposal_create(challenge=challenge, author=author, **fields)


# --- writing ------------------------------------------------------------------------------
def test_a_member_saves_a_draft_only_they_see_then_submits_it(api_as, neighbors, proposing):
    ana, bo = neighbors[:2]
    created = api_as(ana).post(
        url(proposing, "proposals/"), {"title": "Oak bench", "description": "Oak.", "cost": "250.00", "hours": "6"}
    )
    assert created.status_code == 201, created.json()
    proposal = Proposal.objects.get(title="Oak bench")
    assert (proposal.status, proposal.author, proposal.cost) == ("draft", ana, Decimal("250.00"))
    assert created.json()["actions"] == ["submit", "withdraw"]
    assert api_as(bo).get(purl(proposal)).status_code == 404
    assert api_as(bo).get(url(proposing, "proposals/")).json()["results"] == []

    submitted = api_as(ana).post(purl(proposal, "submit/"))

    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert Proposal.objects.get(pk=proposal.pk).submitted_at is not None
    assert [p["title"] for p in api_as(bo).get(url(proposing, "proposals/")).json()["results"]] == ["Oak bench"]


def test_a_proposal_can_be_submitted_at_once(api_as, neighbors, proposing):
    response = api_as(neighbors[0]).post(
        url(proposing, "proposals/"), {"title": "Planter", "description": "Seats.", "submit": True}
    )

    assert response.status_code == 201
    assert Proposal.objects.get(title="Planter").status == "submitted"


def test_proposals_are_refused_outside_the_proposals_phase(api_as, neighbors, challenge):
    response = api_as(neighbors[0]).post(url(challenge, "proposals/"), {"title": "Early", "description": "Too."})

    assert response.status_code == 409 and response.json()["code"] == "wrong_phase"
    assert not Proposal.objects.exists()


def test_only_its_authors_edit_a_proposal_and_an_edit_after_comments_keeps_a_version(api_as, neighbors, proposing):
    ana, bo, cy = neighbors
    proposal = draft(proposing, ana, submit=True)
    services.comment_post(challenge=proposing, author=bo, text="Too pricey?", proposal=proposal)

    refused = api_as(bo).patch(purl(proposal), {"title": "Mine now"})
    edited = api_as(ana).patch(purl(proposal), {"title": "Pine bench", "cost": "120.00"})

    assert refused.status_code == 409 and refused.json()["code"] == "forbidden"
    assert edited.status_code == 200, edited.json()
    proposal.refresh_from_db()
    assert (proposal.title, proposal.cost, proposal.description) == (
        "Pine bench",
        Decimal("120.00"),
        "An **oak** bench.",
    )
    assert ProposalVersion.objects.get(proposal=proposal).title == "Oak bench"
    assert api_as(cy).put(purl(proposal), {"title": "X"}).status_code == 405


def test_the_description_is_rendered_and_sanitized(api_as, neighbors, proposing):
    nasty = (
        "# Plan\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
        '<img src=x onerror="alert(1)"> [ok](https://example.org)'
    )
    proposal = draft(proposing, neighbors[0], description=nasty, submit=True)

    body = api_as(neighbors[1]).get(purl(proposal)).json()

    html = body["description_html"]
    assert body["description"] == nasty
    assert "<h3>Plan</h3>" in html
    # What a writer typed as HTML shows as text; no tag, handler or script link survives.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">ok</a>' in html


# --- the organizers' answer ---------------------------------------------------------------
def test_an_organizer_declines_with_a_reason_the_authors_read_once_published(api_as, organizer, neighbors, proposing):
    ana, bo = neighbors[:2]
    proposal = draft(proposing, ana, submit=True)
    assert api_as(organizer).get(purl(proposal)).json()["actions"] == ["accept", "decline"]

    no_reason = api_as(organizer).post(purl(proposal, "decline/"), {"note": " "})
    declined = api_as(organizer).post(purl(proposal, "decline/"), {"note": "Oak is beyond the budget."})

    assert no_reason.status_code == 400 and "note" in no_reason.json()
    assert declined.status_code == 200 and declined.json()["answer_reason"] == "Oak is beyond the budget."
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answer_reason, proposal.answered_by) == (
        "not_feasible", "Oak is beyond the budget.", organizer
    )  # fmt: skip
    assert api_as(ana).get(purl(proposal)).json()["answer_reason"] is None
    assert api_as(bo).get(purl(proposal)).json()["answer_reason"] is None

    published = api_as(organizer).post(purl(proposal, "publish-answer/"))

    assert published.status_code == 200 and published.json()["answer_published_at"]
    assert api_as(ana).get(purl(proposal)).json()["answer_reason"] == "Oak is beyond the budget."
    assert api_as(bo).get(purl(proposal)).json()["answer_reason"] == "Oak is beyond the budget."


def test_an_author_withdraws_a_proposal_before_voting(api_as, neighbors, proposing):
    proposal = draft(proposing, neighbors[0], submit=True)

    withdrawn = api_as(neighbors[0]).post(purl(proposal, "withdraw/"))

    assert withdrawn.status_code == 200 and withdrawn.json()["actions"] == []
    assert Proposal.objects.get(pk=proposal.pk).status == "withdrawn"


def test_members_cannot_answer_or_publish(api_as, neighbors, proposing):
    proposal = draft(proposing, neighbors[0], submit=True)

    accept = api_as(neighbors[1]).post(purl(proposal, "accept/"))
    publish = api_as(neighbors[1]).post(purl(proposal, "publish-answer/"))

    assert accept.status_code == 409 and accept.json()["code"] == "forbidden"
    assert publish.status_code == 409 and publish.json()["code"] == "not_organizer"
    assert Proposal.objects.get(pk=proposal.pk).status == "submitted"


def test_an_author_cannot_withdraw_once_voting_started(api_as, organizer, neighbors, challenge):
    challenge, (design, _) = voting_with(challenge, organizer, neighbors[:2])

    late = api_as(neighbors[0]).post(purl(design, "withdraw/"))

    assert late.status_code == 409 and late.json()["code"] == "wrong_phase"
    assert Proposal.objects.get(pk=design.pk).status == "accepted"


# --- votes --------------------------------------------------------------------------------
def test_a_member_spreads_dots_and_gets_their_ballot_back(api_as, organizer, neighbors, challenge):
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2])
    cy = api_as(neighbors[2])

    first = cy.post(purl(design, "vote/"), {"dots": 3})
    second = cy.post(purl(other, "vote/"), {"dots": 2})

    assert first.status_code == 200, first.json()
    assert second.json() == {
        "challenge": challenge.pk, "method": "dots", "ballot": {str(design.pk): 3, str(other.pk): 2}, "dots_left": 0,
    }  # fmt: skip
    assert BallotEntry.objects.aggregate(total=Sum("dots"))["total"] == 5
    taken_off = cy.post(purl(design, "vote/"), {"dots": 0})
    assert taken_off.json()["ballot"] == {str(other.pk): 2} and taken_off.json()["dots_left"] == 3


def test_too_many_dots_are_refused_with_the_dots_left(api_as, organizer, neighbors, challenge):
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2])
    cy = api_as(neighbors[2])
    cy.post(purl(design, "vote/"), {"dots": 3})

    over_total = cy.post(purl(other, "vote/"), {"dots": 3})
    over_cap = cy.post(purl(other, "vote/"), {"dots": 4})

    assert over_total.status_code == 409
    assert over_total.json()["code"] == "too_many_dots" and over_total.json()["dots_left"] == 2
    assert over_cap.status_code == 409 and over_cap.json()["code"] == "too_many_dots"
    assert list(BallotEntry.objects.values_list("proposal_id", "dots")) == [(design.pk, 3)]


def test_approval_voting_takes_one_or_nothing(api_as, organizer, neighbors, challenge):
    Challenge.objects.filter(pk=challenge.pk).update(method="approval", max_dots_per_proposal=1)
    challenge, (design, other) = voting_with(challenge, organizer, neighbors[:2])
    cy = api_as(neighbors[2])

    two = cy.post(purl(design, "vote/"), {"dots": 2})
    yes = cy.post(purl(design, "vote/"), {"dots": 1})
    also = cy.post(purl(other, "vote/"), {"dots": 1})
    no = cy.post(purl(design, "vote/"), {"dots": 0})

    assert two.status_code == 400 and "dots" in two.json()
    assert yes.status_code == 200 and also.status_code == 200
    assert no.json() == {
        "challenge": challenge.pk,
        "method": "approval",
        "ballot": {str(other.pk): 1},
        "dots_left": None,
    }
    assert list(BallotEntry.objects.values_list("proposal_id", "dots")) == [(other.pk, 1)]


def test_votes_are_refused_outside_voting_and_off_the_ballot(api_as, organizer, neighbors, proposing):
    accepted = draft(proposing, neighbors[0], submit=True)
    services.proposal_answer(proposal=accepted, actor=organizer, accept=True)
    pending = draft(proposing, neighbors[1], title="Planter", submit=True)

    early = api_as(neighbors[2]).post(purl(accepted, "vote/"), {"dots": 1})
    services.challenge_step(challenge=proposing, actor=organizer, step="open_voting")
    off = api_as(neighbors[2]).post(purl(pending, "vote/"), {"dots": 1})
    services.challenge_step(challenge=proposing, actor=organizer, step="close_voting")
    late = api_as(neighbors[2]).post(purl(accepted, "vote/"), {"dots": 1})

    assert early.status_code == 409 and early.json()["code"] == "wrong_phase"
    assert off.status_code == 409 and off.json()["code"] == "not_on_ballot"
    assert late.status_code == 409 and late.json()["code"] == "wrong_phase"
    assert not BallotEntry.objects.exists()


def test_outsiders_and_anonymous_callers_cannot_vote(api_as, stranger, organizer, neighbors, challenge):
    challenge, (design, _) = voting_with(challenge, organizer, neighbors[:2])

    assert api_as(stranger).post(purl(design, "vote/"), {"dots": 1}).status_code == 404
    assert api_as(stranger).get(purl(design)).status_code == 404
    assert APIClient().post(purl(design, "vote/"), {"dots": 1}, format="json").status_code == 401
    assert not BallotEntry.objects.exists()


# --- comments -----------------------------------------------------------------------------
def test_members_comment_on_a_proposal_but_not_on_a_draft(api_as, neighbors, proposing):
    ana, bo = neighbors[:2]
    proposal = draft(proposing, ana, submit=True)
    mine = draft(proposing, ana, title="Secret sketch")

    posted = api_as(bo).post(purl(proposal, "comments/"), {"text": "Lovely."})
    on_draft = api_as(ana).post(purl(mine, "comments/"), {"text": "Note to self."})

    assert posted.status_code == 201 and posted.json()["proposal"] == proposal.pk
    assert on_draft.status_code == 409 and on_draft.json()["code"] == "illegal_transition"
    assert list(Comment.objects.values_list("text", "proposal_id")) == [("Lovely.", proposal.pk)]
    listed = api_as(ana).get(purl(proposal, "comments/")).json()["results"]
    assert [(c["author"]["display_name"], c["text"]) for c in listed] == [("Bo", "Lovely.")]
    assert api_as(ana).get(url(proposing, "comments/")).json()["results"] == []  # the challenge's own are apart


# --- query counts -------------------------------------------------------------------------
def test_the_gallery_and_a_proposals_comments_run_the_same_queries_for_one_or_thirty(
    api_as, community, neighbors, proposing
):
    writers = [MembershipFactory(community=community).user for _ in range(30)]
    reader = api_as(neighbors[0])
    target = draft(proposing, neighbors[1], submit=True)
    done = []

    def add_proposals(n):
        for user in writers[len(done) : len(done) + n]:
            proposal = draft(proposing, user, submit=True)
            proposal.coauthors.add(neighbors[2])
            done.append(proposal)

    def add_comments(n):
        for user in writers[:n]:
            top = services.comment_post(challenge=proposing, author=user, text="Top.", proposal=target)
            services.comment_post(challenge=proposing, author=neighbors[0], text="Re.", proposal=target, parent=top)

    gallery = assert_queries_do_not_grow(lambda: reader.get(url(proposing, "proposals/")), add_proposals, large=20)
    comments = assert_queries_do_not_grow(lambda: reader.get(purl(target, "comments/")), add_comments, large=20)
    assert gallery <= 8 and comments <= 8


def test_an_answer_not_yet_published_reads_as_submitted_to_everyone_but_the_organizers(
    api_as, neighbors, organizer, proposing
):
    ana, bo, _ = neighbors
    proposal = draft(proposing, ana, submit=True)
    services.proposal_answer(proposal=proposal, actor=organizer, accept=False, reason="No room for it.")
    gallery = url(proposing, "proposals/")

    seen_by = {
        who: {row["id"]: row["status"] for row in api_as(user).get(gallery).json()["results"]}
        for who, user in (("author", ana), ("neighbor", bo), ("organizer", organizer))
    }
    detail = api_as(bo).get(purl(proposal)).json()

    assert seen_by == {
        "author": {proposal.pk: "submitted"},
        "neighbor": {proposal.pk: "submitted"},
        "organizer": {proposal.pk: "not_feasible"},
    }
    assert (detail["status"], detail["answer_reason"]) == ("submitted", None)
    services.proposal_publish_answer(proposal=proposal, actor=organizer)
    assert api_as(bo).get(purl(proposal)).json()["status"] == "not_feasible"
