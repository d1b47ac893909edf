"""Proposals and comments: who reads a draft, who edits, versions, the organizers'
answer and when the authors read it, withdrawal, and one-level comment threads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.codesign import selectors, services
from apps.codesign.models import Challenge, Comment, Proposal, ProposalVersion
from apps.moderation import services as moderation
from apps.notifications.models import Notification
from p2pcommons.errors import RuleViolation

P = Proposal.Status


@pytest.fixture
def open_challenge(organizer, challenge) -> Challenge:
    return services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")


def propose(challenge, author, title="Oak bench", *, submit=True, cost="100") -> Proposal:
    return services.proposal_create(
        challenge=challenge, author=author, title=title, description=f"**{title}** for everyone.",
        cost=Decimal(cost), hours=Decimal("4"), submit=submit,
    )  # fmt: skip


def readable_titles(user) -> list[str]:
    return sorted(selectors.proposals_readable(Proposal.objects.all(), user).values_list("title", flat=True))


def texts(user, kind) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk").values_list("text", flat=True))


# --- drafts and readers ------------------------------------------------------------------
def test_a_draft_is_read_by_its_author_and_co_authors_only(organizer, neighbors, stranger, open_challenge):
    ana, bo, cy = neighbors
    draft = propose(open_challenge, ana, "Secret sketch", submit=False)
    services.proposal_add_coauthor(proposal=draft, actor=ana, coauthor=bo)
    propose(open_challenge, cy, "Planter seats")

    assert readable_titles(ana) == ["Planter seats", "Secret sketch"]
    assert readable_titles(bo) == ["Planter seats", "Secret sketch"]
    assert readable_titles(cy) == ["Planter seats"]
    assert readable_titles(organizer) == ["Planter seats"]
    assert readable_titles(stranger) == []
    assert selectors.proposal_visible(user=cy, pk=draft.pk) is None
    assert selectors.proposal_visible(user=bo, pk=draft.pk) == draft


def test_a_withdrawn_proposal_is_read_by_its_authors_only(organizer, neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    services.proposal_withdraw(proposal=bench, actor=ana)

    assert readable_titles(ana) == ["Oak bench"]
    assert readable_titles(bo) == []
    assert [p.title for p in selectors.proposals_of(challenge=open_challenge, user=bo)] == []


def test_the_organizers_are_told_of_a_submitted_proposal_not_of_a_draft(organizer, neighbors, open_challenge):
    ana = neighbors[0]
    draft = propose(open_challenge, ana, "Pine bench", submit=False)
    assert texts(organizer, "codesign.proposal") == []

    services.proposal_submit(proposal=draft, actor=ana)

    assert texts(organizer, "codesign.proposal") == ["New proposal for A bench for the courtyard: Pine bench"]
    assert Proposal.objects.get(pk=draft.pk).submitted_at is not None


def test_only_its_author_submits_a_draft(neighbors, open_challenge):
    ana, bo, _ = neighbors
    draft = propose(open_challenge, ana, submit=False)
    services.proposal_add_coauthor(proposal=draft, actor=ana, coauthor=bo)
    with pytest.raises(RuleViolation) as refusal:
        services.proposal_submit(proposal=draft, actor=bo)
    assert refusal.value.code == "forbidden"
    assert Proposal.objects.get(pk=draft.pk).status == P.DRAFT


# --- edits and versions ---------------------------------------------------------------------
def test_an_edit_before_anyone_else_commented_keeps_no_version(neighbors, open_challenge):
    ana = neighbors[0]
    bench = propose(open_challenge, ana)
    services.comment_post(challenge=open_challenge, author=ana, text="Sketch coming.", proposal=bench)

    services.proposal_edit(proposal=bench, actor=ana, title="Oak bench, longer", description="Three metres.")

    bench.refresh_from_db()
    assert (bench.title, bench.description) == ("Oak bench, longer", "Three metres.")
    assert not ProposalVersion.objects.exists()


def test_an_edit_after_a_neighbor_commented_keeps_the_earlier_text(neighbors, open_challenge):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    services.proposal_add_coauthor(proposal=bench, actor=ana, coauthor=cy)
    services.comment_post(challenge=open_challenge, author=bo, text="Too long for the corner?", proposal=bench)

    services.proposal_edit(proposal=bench, actor=cy, title="Oak bench, shorter", description="Two metres.",
                           cost=Decimal("80"))  # fmt: skip

    bench.refresh_from_db()
    assert (bench.title, bench.description, bench.cost) == ("Oak bench, shorter", "Two metres.", Decimal("80.00"))
    assert list(bench.versions.values_list("title", "description")) == [("Oak bench", "**Oak bench** for everyone.")]


def test_a_neighbor_who_is_not_an_author_cannot_edit_a_proposal(neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    with pytest.raises(RuleViolation) as refusal:
        services.proposal_edit(proposal=bench, actor=bo, title="Mine now", description="Hijacked.")
    assert refusal.value.code == "forbidden"
    assert Proposal.objects.get(pk=bench.pk).title == "Oak bench"


def test_only_the_author_names_co_authors(neighbors, stranger, open_challenge):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    with pytest.raises(RuleViolation):
        services.proposal_add_coauthor(proposal=bench, actor=bo, coauthor=cy)
    with pytest.raises(RuleViolation) as outsider:
        services.proposal_add_coauthor(proposal=bench, actor=ana, coauthor=stranger)
    assert outsider.value.code == "not_member"
    assert list(bench.coauthors.all()) == []


def test_an_accepted_proposal_can_no_longer_be_edited(organizer, neighbors, open_challenge):
    ana = neighbors[0]
    bench = propose(open_challenge, ana)
    services.proposal_answer(proposal=bench, actor=organizer, accept=True)
    with pytest.raises(RuleViolation) as refusal:
        services.proposal_edit(proposal=bench, actor=ana, title="Changed", description="After acceptance.")
    assert refusal.value.code == "illegal_transition"


# --- answers ---------------------------------------------------------------------------------
def test_a_proposal_is_not_declined_without_a_reason(organizer, neighbors, open_challenge):
    bench = propose(open_challenge, neighbors[0])
    with pytest.raises(ValidationError) as refusal:
        services.proposal_answer(proposal=bench, actor=organizer, accept=False, reason="   ")
    assert "reason" in refusal.value.message_dict
    assert Proposal.objects.get(pk=bench.pk).status == P.SUBMITTED


def test_a_neighbor_cannot_answer_a_proposal(neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    with pytest.raises(RuleViolation) as refusal:
        services.proposal_answer(proposal=bench, actor=bo, accept=True)
    assert refusal.value.code == "forbidden"


def test_the_authors_read_the_answer_and_are_told_once_when_it_is_published(organizer, neighbors, open_challenge):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    services.proposal_add_coauthor(proposal=bench, actor=ana, coauthor=bo)

    bench = services.proposal_answer(proposal=bench, actor=organizer, accept=False, reason="The corner floods.")
    assert bench.status == P.NOT_FEASIBLE
    assert not selectors.answer_visible(proposal=bench, user=ana)
    assert not selectors.answer_visible(proposal=bench, user=cy)
    assert selectors.answer_visible(proposal=bench, user=organizer)
    assert texts(ana, "codesign.proposal") == []

    bench = services.proposal_publish_answer(proposal=bench, actor=organizer)
    services.proposal_publish_answer(proposal=bench, actor=organizer)  # a second click

    assert selectors.answer_visible(proposal=bench, user=ana)
    told = "Your proposal “Oak bench” is not feasible: The corner floods."
    assert texts(ana, "codesign.proposal") == [told]
    assert texts(bo, "codesign.proposal") == [told]
    assert texts(cy, "codesign.proposal") == []


def test_a_neighbor_cannot_publish_an_answer(organizer, neighbors, open_challenge):
    ana = neighbors[0]
    bench = services.proposal_answer(proposal=propose(open_challenge, ana), actor=organizer, accept=True)
    with pytest.raises(RuleViolation) as refusal:
        services.proposal_publish_answer(proposal=bench, actor=ana)
    assert refusal.value.code == "not_organizer"
    assert Proposal.objects.get(pk=bench.pk).answer_published_at is None


def test_a_changed_answer_waits_to_be_published_again_and_the_authors_are_told_of_it(
    organizer, neighbors, open_challenge
):
    """Accepted and published, then found not feasible: the new answer is the
    organizers' until they publish it, and then the authors are told."""
    ana = neighbors[0]
    bench = services.proposal_answer(proposal=propose(open_challenge, ana), actor=organizer, accept=True, publish=True)

    bench = services.proposal_answer(proposal=bench, actor=organizer, accept=False, reason="Over the fire exit.")
    assert not selectors.answer_visible(proposal=bench, user=ana)

    services.proposal_publish_answer(proposal=bench, actor=organizer)
    assert texts(ana, "codesign.proposal") == [
        "Your proposal “Oak bench” is accepted for voting.",
        "Your proposal “Oak bench” is not feasible: Over the fire exit.",
    ]


# --- withdrawal ------------------------------------------------------------------------------
def test_an_author_withdraws_an_accepted_proposal_before_voting_but_not_during_it(organizer, neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = services.proposal_answer(proposal=propose(open_challenge, ana), actor=organizer, accept=True)
    planter = services.proposal_answer(proposal=propose(open_challenge, bo, "Planters"), actor=organizer,
                                       accept=True)  # fmt: skip
    assert services.proposal_withdraw(proposal=bench, actor=ana).status == P.WITHDRAWN
    services.challenge_step(challenge=open_challenge, actor=organizer, step="open_voting")

    with pytest.raises(RuleViolation) as refusal:
        services.proposal_withdraw(proposal=planter, actor=bo)
    assert refusal.value.code == "wrong_phase"
    assert Proposal.objects.get(pk=planter.pk).status == P.ACCEPTED


def test_only_the_author_withdraws_a_proposal(organizer, neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    for actor in (bo, organizer):
        with pytest.raises(RuleViolation) as refusal:
            services.proposal_withdraw(proposal=bench, actor=actor)
        assert refusal.value.code == "forbidden"
    assert Proposal.objects.get(pk=bench.pk).status == P.SUBMITTED


# --- comments --------------------------------------------------------------------------------
def test_a_reply_to_a_reply_joins_the_thread_of_the_first_comment(neighbors, open_challenge):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    first = services.comment_post(challenge=open_challenge, author=bo, text="Which wood?", proposal=bench)
    reply = services.comment_post(challenge=open_challenge, author=ana, text="Oak.", proposal=bench, parent=first)
    again = services.comment_post(challenge=open_challenge, author=cy, text="Oak lasts.", proposal=bench, parent=reply)

    assert (reply.parent_id, again.parent_id) == (first.pk, first.pk)
    thread = selectors.comments_of(challenge=open_challenge, user=cy, proposal=bench)
    assert [(c.text, [r.text for r in c.replies.all()]) for c in thread] == [("Which wood?", ["Oak.", "Oak lasts."])]
    assert selectors.comments_of(challenge=open_challenge, user=cy) == []  # the challenge's own page: none


def test_a_reply_must_answer_a_comment_of_the_same_page(neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    on_challenge = services.comment_post(challenge=open_challenge, author=bo, text="Nice space.")
    with pytest.raises(ValidationError):
        services.comment_post(challenge=open_challenge, author=ana, text="Hi", proposal=bench, parent=on_challenge)
    assert Comment.objects.count() == 1


def test_a_draft_takes_no_comments(neighbors, open_challenge):
    ana, _bo, _ = neighbors
    draft = propose(open_challenge, ana, submit=False)
    with pytest.raises(RuleViolation) as refusal:
        services.comment_post(challenge=open_challenge, author=ana, text="Note to self.", proposal=draft)
    assert refusal.value.code == "illegal_transition"
    assert not Comment.objects.exists()


def test_a_stranger_cannot_comment(stranger, open_challenge):
    with pytest.raises(RuleViolation) as refusal:
        services.comment_post(challenge=open_challenge, author=stranger, text="Hello from elsewhere.")
    assert refusal.value.code == "not_member"


def test_the_authors_the_followers_and_the_replied_to_are_told_of_a_comment_once_each(
    organizer, neighbors, open_challenge
):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    services.proposal_add_coauthor(proposal=bench, actor=ana, coauthor=bo)
    services.challenge_follow(challenge=open_challenge, member=ana)  # author and follower: told once
    first = services.comment_post(challenge=open_challenge, author=cy, text="Which wood?", proposal=bench)
    Notification.objects.filter(kind="codesign.comment").delete()

    services.comment_post(challenge=open_challenge, author=bo, text="Oak, we think.", proposal=bench, parent=first)

    told = sorted(Notification.objects.filter(kind="codesign.comment").values_list("recipient", "text"))
    text = "Bo commented on “Oak bench”: Oak, we think."
    assert told == sorted([(ana.pk, text), (cy.pk, text), (organizer.pk, text)])  # never Bo, who wrote it


def test_a_hidden_comment_is_gone_for_neighbors_but_seen_by_its_author_and_organizers(
    community, organizer, neighbors, open_challenge
):
    ana, bo, cy = neighbors
    bench = propose(open_challenge, ana)
    kind = services.comment_post(challenge=open_challenge, author=bo, text="Looks solid.", proposal=bench)
    rude = services.comment_post(challenge=open_challenge, author=cy, text="Rude words.", proposal=bench)
    reply = services.comment_post(challenge=open_challenge, author=cy, text="More rude words.", proposal=bench,
                                  parent=kind)  # fmt: skip

    moderation.content_hide(target=rude, actor=organizer, reason="Personal attack")
    moderation.content_hide(target=reply, actor=organizer, reason="Personal attack")

    def seen(user):
        return [(c.text, [r.text for r in c.replies.all()])
                for c in selectors.comments_of(challenge=open_challenge, user=user, proposal=bench)]  # fmt: skip

    assert seen(ana) == [("Looks solid.", [])]
    assert seen(bo) == [("Looks solid.", [])]
    assert seen(cy) == [("Looks solid.", ["More rude words."]), ("Rude words.", [])]
    assert seen(organizer) == [("Looks solid.", ["More rude words."]), ("Rude words.", [])]


def test_a_hidden_proposal_is_gone_from_the_gallery_of_neighbors(organizer, neighbors, open_challenge):
    ana, bo, _ = neighbors
    bench = propose(open_challenge, ana)
    propose(open_challenge, bo, "Planters")
    moderation.content_hide(target=bench, actor=organizer, reason="Copied from a catalog")

    assert [p.title for p in selectors.proposals_of(challenge=open_challenge, user=bo)] == ["Planters"]
    assert [p.title for p in selectors.proposals_of(challenge=open_challenge, user=ana)] == ["Oak bench", "Planters"]
    assert selectors.proposal_visible(user=bo, pk=bench.pk) is None
