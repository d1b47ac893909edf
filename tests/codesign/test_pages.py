"""The co-design pages, as a neighbor and an organizer use them: what each page shows,
what each form does to the database, and what stays secret (drafts, ballots, totals).
Helpers here are shared with the other test_pages*.py files."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from apps.codesign import services
from apps.codesign.models import Challenge, Comment, Idea, Project, Proposal, Task, Volunteer
from apps.ledger.services import account_set_limit

from .conftest import hours

pytestmark = pytest.mark.django_db


def words(response) -> str:
    """The page's text without its tags, spaces collapsed: what a reader reads."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def to_proposals(challenge, organizer) -> Challenge:
    return services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")


def propose(challenge, author, title, cost="100", submit=True) -> Proposal:
    return services.proposal_create(
        challenge=challenge, author=author, title=title, description=f"{title}, described.", cost=Decimal(cost),
        hours=Decimal("4"), submit=submit,
    )  # fmt: skip


def to_voting(challenge, organizer, neighbors) -> tuple[Challenge, Proposal, Proposal]:
    """Two designs accepted for voting (Ana's bench, 250; Bo's planter, 120), voting open."""
    ana, bo, _ = neighbors
    challenge = to_proposals(challenge, organizer)
    bench, planter = propose(challenge, ana, "Oak bench", "250"), propose(challenge, bo, "Planter seats", "120")
    for proposal in (bench, planter):
        services.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return challenge, bench, planter


# --- the list and posting a challenge -------------------------------------------------------
def test_the_list_shows_each_challenge_with_its_phase_and_counts_and_only_organizers_may_post(
    web_as, organizer, neighbors, challenge
):
    services.idea_post(challenge=challenge, author=neighbors[0], text="Sun seats.")
    page = words(web_as(neighbors[1]).get(reverse("codesign:list")))
    assert "A bench for the courtyard" in page
    assert "Ideas" in page and "1 idea · 0 designs" in page
    assert "Post a challenge" not in page
    assert "Post a challenge" in words(web_as(organizer).get(reverse("codesign:list")))


def test_an_empty_list_tells_an_organizer_to_post_the_first_challenge(web_as, organizer):
    page = words(web_as(organizer).get(reverse("codesign:list")))
    assert "No design challenge yet" in page and "Post a challenge" in page


def test_a_member_is_refused_the_challenge_form_in_words(web_as, neighbors):
    client = web_as(neighbors[0])
    response = client.get(reverse("codesign:challenge-create"), follow=True)
    assert "Only a community's organizers post design challenges" in words(response)
    response = client.post(reverse("codesign:challenge-create"), {"title": "Mine"}, follow=True)
    assert not Challenge.objects.exists()


def test_an_organizer_posts_a_challenge_with_local_phase_ends_and_a_budget(web_as, organizer, community):
    soon = timezone.localtime() + timedelta(days=3)
    fmt = "%Y-%m-%dT%H:%M"
    response = web_as(organizer).post(
        reverse("codesign:challenge-create"),
        {
            "community": community.pk, "title": "Garden bed", "space": "By the gate", "brief": "Needs **plants**.",
            "ideas_until": soon.strftime(fmt), "proposals_until": (soon + timedelta(days=7)).strftime(fmt),
            "voting_until": (soon + timedelta(days=14)).strftime(fmt), "budget": "80", "method": "dots",
            "dots": "4", "max_dots_per_proposal": "2", "live_totals": "on",
        },
    )  # fmt: skip
    challenge = Challenge.objects.get()
    assert response.status_code == 302 and response["Location"] == challenge.get_absolute_url()
    assert (challenge.budget, challenge.dots, challenge.max_dots_per_proposal, challenge.live_totals) == (
        Decimal("80.00"), 4, 2, True,
    )  # fmt: skip
    assert timezone.localtime(challenge.ideas_until).strftime(fmt) == soon.strftime(fmt)


def test_phase_ends_out_of_order_are_shown_on_the_form(web_as, organizer, community):
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    response = web_as(organizer).post(
        reverse("codesign:challenge-create"),
        {
            "community": community.pk, "title": "Garden bed", "space": "By the gate", "brief": "Plants.",
            "ideas_until": (now + timedelta(days=9)).strftime(fmt),
            "proposals_until": (now + timedelta(days=2)).strftime(fmt),
            "voting_until": (now + timedelta(days=14)).strftime(fmt), "method": "dots", "dots": "5",
            "max_dots_per_proposal": "3",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "The phases end in order" in words(response)
    assert 'aria-invalid="true"' in response.content.decode()


# --- the challenge page: ideas, +1, follow, comments, phase steps ---------------------------
def test_the_challenge_page_shows_the_brief_the_timeline_and_the_ideas_form(web_as, neighbors, challenge):
    Challenge.objects.filter(pk=challenge.pk).update(brief="The courtyard has **nowhere** to sit.")
    response = web_as(neighbors[0]).get(challenge.get_absolute_url())
    page = words(response)
    assert "<strong>nowhere</strong>" in response.content.decode()
    assert "Ideas Now" in page and "Proposals" in page and "Voting" in page and "Building" in page
    assert "No ideas yet" in page and "Post the idea" in page
    assert "Open proposals" not in page  # the organizers' button


def test_a_neighbor_posts_an_idea_and_another_plus_ones_it(web_as, neighbors, challenge):
    ana, bo, _ = neighbors
    web_as(ana).post(reverse("codesign:idea-post", args=[challenge.pk]), {"text": "A bench in the sun."})
    idea = Idea.objects.get()
    assert idea.author == ana
    client = web_as(bo)
    client.post(reverse("codesign:idea-plus-one", args=[idea.pk]))
    client.post(reverse("codesign:idea-plus-one", args=[idea.pk]))
    idea.refresh_from_db()
    assert idea.plus_ones == 1
    assert "You +1'd it" in words(client.get(challenge.get_absolute_url()))


def test_an_empty_idea_is_shown_on_the_form_again(web_as, neighbors, challenge):
    response = web_as(neighbors[0]).post(reverse("codesign:idea-post", args=[challenge.pk]), {"text": ""})
    assert response.status_code == 200 and "This field is required" in words(response)
    assert not Idea.objects.exists()


def test_an_organizer_moves_the_phase_after_a_confirmation_page(web_as, organizer, challenge):
    client = web_as(organizer)
    assert "Open proposals" in words(client.get(challenge.get_absolute_url()))
    url = reverse("codesign:challenge-step", args=[challenge.pk, "open_proposals"])
    assert "Open proposals for “A bench for the courtyard”?" in words(client.get(url))
    client.post(url, {"note": "Plenty of ideas."})
    challenge.refresh_from_db()
    assert challenge.phase == Challenge.Phase.PROPOSALS
    page = words(client.get(challenge.get_absolute_url()))
    assert "Proposals, by Orla Organizer: “Plenty of ideas.”" in page


def test_a_member_cannot_move_the_phase(web_as, neighbors, challenge):
    client = web_as(neighbors[0])
    url = reverse("codesign:challenge-step", args=[challenge.pk, "open_proposals"])
    assert "Only an organizer" in words(client.get(url, follow=True))
    client.post(url)
    challenge.refresh_from_db()
    assert challenge.phase == Challenge.Phase.IDEAS


def test_follow_and_unfollow(web_as, neighbors, challenge):
    client = web_as(neighbors[0])
    url = reverse("codesign:challenge-follow", args=[challenge.pk])
    client.post(url, {"follow": "1"})
    assert challenge.follows.filter(member=neighbors[0]).exists()
    assert "Stop following" in words(client.get(challenge.get_absolute_url()))
    client.post(url, {"follow": "0"})
    assert not challenge.follows.filter(member=neighbors[0]).exists()


def test_a_comment_and_a_reply_post_without_javascript(web_as, neighbors, challenge):
    ana, bo, _ = neighbors
    web_as(ana).post(reverse("codesign:comment-post", args=[challenge.pk]), {"text": "Is there shade?"})
    first = Comment.objects.get()
    response = web_as(bo).post(
        reverse("codesign:comment-post", args=[challenge.pk]), {"text": "Only after four.", "parent": first.pk}
    )
    reply = Comment.objects.exclude(pk=first.pk).get()
    assert reply.parent == first
    assert response["Location"].endswith(f"#comment-{reply.pk}")
    page = words(web_as(bo).get(challenge.get_absolute_url()))
    assert "Is there shade?" in page and "Only after four." in page


# --- proposals ------------------------------------------------------------------------------
def test_a_neighbor_submits_a_design_with_tools_and_skills_from_the_form(web_as, organizer, neighbors, challenge):
    from apps.skills.factories import SkillFactory
    from apps.tools.factories import ToolFactory

    challenge = to_proposals(challenge, organizer)
    ana = neighbors[0]
    tool = ToolFactory(community=challenge.community, title="Orbital sander")
    skill = SkillFactory(name="Woodwork")
    client = web_as(ana)
    form = client.get(reverse("codesign:proposal-create", args=[challenge.pk]))
    assert "Orbital sander" in words(form) and "Woodwork" in words(form) and "Markdown" in words(form)
    client.post(
        reverse("codesign:proposal-create", args=[challenge.pk]),
        {"title": "Oak bench", "description": "**Oak**.", "cost": "250", "hours": "6", "tools": [tool.pk],
         "skills": [skill.pk], "submit": "1"},
    )  # fmt: skip
    proposal = Proposal.objects.get()
    assert proposal.status == Proposal.Status.SUBMITTED
    assert list(proposal.tools.all()) == [tool] and list(proposal.skills.all()) == [skill]
    page = words(client.get(proposal.get_absolute_url()))
    assert "Oak bench" in page and "250 credits" in page and "Orbital sander" in page and "Woodwork" in page


def test_a_draft_is_in_its_authors_gallery_only(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    ana, bo, _ = neighbors
    web_as(ana).post(
        reverse("codesign:proposal-create", args=[challenge.pk]),
        {"title": "Secret bench", "description": "Not yet.", "cost": "10", "hours": "1", "submit": "0"},
    )
    draft = Proposal.objects.get()
    assert draft.status == Proposal.Status.DRAFT
    gallery = reverse("codesign:proposals", args=[challenge.pk])
    assert "Secret bench" in words(web_as(ana).get(gallery))
    assert "Secret bench" not in words(web_as(bo).get(gallery))
    assert web_as(bo).get(draft.get_absolute_url()).status_code == 404


def test_an_author_submits_a_draft_after_a_confirmation_page(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    draft = propose(challenge, neighbors[0], "Bench", submit=False)
    client = web_as(neighbors[0])
    url = reverse("codesign:proposal-step", args=[draft.pk, "submit"])
    assert "Submit “Bench”?" in words(client.get(url))
    client.post(url)
    draft.refresh_from_db()
    assert draft.status == Proposal.Status.SUBMITTED


def test_an_organizer_declines_with_a_reason_and_the_author_reads_it_once_published(
    web_as, organizer, neighbors, challenge
):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Stone wall")
    url = reverse("codesign:proposal-answer", args=[proposal.pk])
    web_as(organizer).post(url, {"decision": "decline", "reason": "Too heavy for the roof garden."})
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.NOT_FEASIBLE and proposal.answer_published_at is None
    author_page = words(web_as(neighbors[0]).get(proposal.get_absolute_url()))
    assert "Too heavy" not in author_page and "Submitted" in author_page
    web_as(organizer).post(url, {"publish_only": "1"})
    assert "Not feasible: Too heavy for the roof garden." in words(
        web_as(neighbors[0]).get(proposal.get_absolute_url())
    )


def test_not_feasible_needs_a_reason_on_the_form(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Stone wall")
    response = web_as(organizer).post(reverse("codesign:proposal-answer", args=[proposal.pk]), {"decision": "decline"})
    assert response.status_code == 200 and "Say why it is not feasible" in words(response)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED


def test_a_member_cannot_answer_a_proposal(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    client = web_as(neighbors[1])
    assert "Your answer as an organizer" not in words(client.get(proposal.get_absolute_url()))
    response = client.post(reverse("codesign:proposal-answer", args=[proposal.pk]), {"decision": "accept"})
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SUBMITTED


def test_markdown_on_the_proposal_page_runs_nothing(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    Proposal.objects.filter(pk=proposal.pk).update(
        description='**Oak** <script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3))'
    )
    html = web_as(neighbors[1]).get(proposal.get_absolute_url()).content.decode().lower()
    assert "<strong>oak</strong>" in html
    # What was typed may show as text (escaped), never as a tag, a handler or a link that runs.
    assert not re.search(r"<script[^>]*>\s*alert", html)
    assert not re.search(r"<[a-z]+[^>]*\sonerror=", html)
    assert not re.search(r"href=[\"']?javascript:", html)
    assert "&lt;script&gt;" in html


def test_an_edit_after_comments_keeps_the_earlier_version_in_details(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    ana, bo, _ = neighbors
    proposal = propose(challenge, ana, "Bench")
    services.comment_post(challenge=challenge, author=bo, text="Make it longer?", proposal=proposal)
    web_as(ana).post(
        reverse("codesign:proposal-edit", args=[proposal.pk]),
        {"title": "Long bench", "description": "Three metres.", "cost": "100", "hours": "4", "submit": "0"},
    )
    page = words(web_as(bo).get(proposal.get_absolute_url()))
    assert "Long bench" in page and "Earlier versions (1)" in page and "Bench, described." in page


# --- voting and results ---------------------------------------------------------------------
def test_the_ballot_sets_dots_and_says_how_many_are_left(web_as, organizer, neighbors, challenge):
    challenge, bench, planter = to_voting(challenge, organizer, neighbors)
    client = web_as(neighbors[2])
    url = reverse("codesign:ballot", args=[challenge.pk])
    assert "You have 5 of 5 dots left." in words(client.get(url))
    client.post(url, {"proposal": bench.pk, "dots": "3"})
    client.post(url, {"proposal": planter.pk, "dots": "2"})
    assert "You have 0 of 5 dots left." in words(client.get(url))
    assert services.ballot_of(challenge=challenge, voter=neighbors[2]) == {bench.pk: 3, planter.pk: 2}


def test_a_refused_vote_is_said_in_words(web_as, organizer, neighbors, challenge):
    challenge, bench, planter = to_voting(challenge, organizer, neighbors)
    client = web_as(neighbors[2])
    url = reverse("codesign:ballot", args=[challenge.pk])
    client.post(url, {"proposal": bench.pk, "dots": "3"})
    response = client.post(url, {"proposal": planter.pk, "dots": "3"}, follow=True)
    assert "2 left to place here" in words(response)
    assert services.ballot_of(challenge=challenge, voter=neighbors[2]) == {bench.pk: 3}


def test_another_members_ballot_and_the_totals_stay_secret_until_voting_closes(web_as, organizer, neighbors, challenge):
    challenge, bench, _planter = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=3)
    client = web_as(neighbors[1])
    ballot = words(client.get(reverse("codesign:ballot", args=[challenge.pk])))
    assert "Your dots here: 0" in ballot and "Your dots here: 3" not in ballot and "Total so far" not in ballot
    results = client.get(reverse("codesign:results", args=[challenge.pk]))
    assert "Results appear when voting closes" in words(results)
    assert "codesign-chart" not in results.content.decode() and "Winner" not in words(results)


def test_live_totals_show_during_voting(web_as, organizer, neighbors, challenge):
    Challenge.objects.filter(pk=challenge.pk).update(live_totals=True)
    challenge, bench, _planter = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=3)
    client = web_as(neighbors[1])
    assert "Total so far: 3" in words(client.get(reverse("codesign:ballot", args=[challenge.pk])))
    page = words(client.get(reverse("codesign:results", args=[challenge.pk])))
    assert "Totals so far" in page and "Winner" not in page


def test_the_results_rank_the_designs_mark_the_winner_and_draw_an_accessible_chart(
    web_as, organizer, neighbors, challenge
):
    challenge, bench, planter = to_voting(challenge, organizer, neighbors)
    ana, bo, cy = neighbors
    services.vote_set(proposal=bench, voter=ana, dots=3)
    services.vote_set(proposal=planter, voter=bo, dots=3)
    services.vote_set(proposal=bench, voter=cy, dots=2)
    services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    response = web_as(cy).get(reverse("codesign:results", args=[challenge.pk]))
    page, html = words(response), response.content.decode()
    assert "Oak bench Winner 5 2 250 credits" in page
    assert "Planter seats (did not fit the budget left) 3 1 120 credits" in page
    assert "With a budget of 300 credits" in page
    assert 'role="img"' in html and "<title" in html and "<desc" in html and 'width="100%"' in html
    assert "Oak bench: 5 dots, wins; Planter seats: 3 dots." in page


# --- the project board ----------------------------------------------------------------------
def test_a_neighbor_joins_a_task_and_the_organizer_confirms_it_paying_the_hours(
    web_as, organizer, neighbors, challenge, community
):
    from apps.tools.factories import ToolFactory

    challenge, bench, _ = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=3)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    project = Project.objects.get()
    tool = ToolFactory(community=community, title="Orbital sander")
    board = reverse("codesign:board", args=[challenge.pk])
    web_as(organizer).post(
        reverse("codesign:task-create", args=[challenge.pk]),
        {"project": project.pk, "title": "Sand the planks", "hours": "2", "places": "1", "tool": tool.pk},
    )
    task = Task.objects.get()
    cy = neighbors[2]
    client = web_as(cy)
    page = words(client.get(board))
    assert "Sand the planks" in page and "1 place left" in page and "Orbital sander" in page
    assert f'href="{reverse("tools:detail", args=[tool.pk])}"' in client.get(board).content.decode()
    client.post(reverse("codesign:task-join", args=[task.pk]))
    volunteer = Volunteer.objects.get()
    assert "full" in words(client.get(board)) and "Leave the task" in words(client.get(board))
    account_set_limit(account=services.fund(challenge=challenge, currency="HOUR"), actor=organizer, limit="-40",
                      reason="The co-design fund pays volunteers.")  # fmt: skip
    client = web_as(organizer)
    url = reverse("codesign:volunteer-step", args=[volunteer.pk, "confirm"])
    assert "Confirm Cy did “Sand the planks”?" in words(client.get(url))
    client.post(url)
    assert hours(cy, community) == Decimal("2.00")
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.CONFIRMED


def test_a_member_cannot_add_tasks_and_sees_no_task_form(web_as, organizer, neighbors, challenge):
    challenge, bench, _ = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=3)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    client = web_as(neighbors[1])
    assert "Add a task" not in words(client.get(reverse("codesign:board", args=[challenge.pk])))
    response = client.post(
        reverse("codesign:task-create", args=[challenge.pk]),
        {"project": Project.objects.get().pk, "title": "Mine", "hours": "1", "places": "1"},
    )
    assert response.status_code == 404 and not Task.objects.exists()


def test_a_task_needing_a_skill_links_to_a_skill_request(web_as, organizer, neighbors, challenge):
    from apps.skills.factories import SkillFactory

    challenge, bench, _ = to_voting(challenge, organizer, neighbors)
    services.vote_set(proposal=bench, voter=neighbors[0], dots=3)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")
    services.task_create(project=Project.objects.get(), actor=organizer, title="Join the legs", hours=Decimal("1"),
                         skill=SkillFactory(name="Joinery"))  # fmt: skip
    response = web_as(neighbors[1]).get(reverse("codesign:board", args=[challenge.pk]))
    assert "Needs: Joinery" in words(response) and reverse("skills:request-create") in response.content.decode()


def test_pages_of_another_communitys_challenge_are_not_found(web_as, stranger, challenge):
    client = web_as(stranger)
    for name in ("challenge", "proposals", "ballot", "results", "board"):
        assert client.get(reverse(f"codesign:{name}", args=[challenge.pk])).status_code == 404
