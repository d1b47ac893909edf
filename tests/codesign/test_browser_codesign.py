"""A design challenge in a real browser (headless Chromium against the live test server):
an organizer opens it, two neighbors propose, three vote with dots, the organizer closes
voting, the winner becomes a project, a neighbor joins a task, the organizer confirms
it, and the neighbor's hour balance rises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.codesign.models import Challenge, Project, Proposal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def step(page: Page, challenge: Challenge, label: str) -> None:
    """An organizer's phase button, then its confirmation."""
    page.goto(reverse("codesign:challenge", args=[challenge.pk]))
    page.get_by_role("button", name=label).click()
    page.get_by_role("button", name=f"Yes, {label.lower()}").click()


def propose(page: Page, challenge: Challenge, title: str) -> Proposal:
    page.goto(reverse("codesign:proposal-create", args=[challenge.pk]))
    page.get_by_label("Title of your design").fill(title)
    page.get_by_label("Describe your design").fill(f"**{title}**, built from reclaimed oak.")
    page.get_by_label("Materials cost, in credits").fill("80")
    page.get_by_label("Volunteer hours to build it").fill("4")
    page.get_by_role("button", name="Submit to the organizers").click()
    expect(page.get_by_role("main")).to_contain_text("Your design is submitted")
    return Proposal.objects.get(title=title)


def accept(page: Page, proposal: Proposal) -> None:
    page.goto(reverse("codesign:proposal", args=[proposal.pk]))
    page.get_by_label("Accept for voting").check()
    page.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_role("main")).to_contain_text("Accepted for voting")


def vote(page: Page, challenge: Challenge, proposal: Proposal, dots: int) -> None:
    page.goto(reverse("codesign:ballot", args=[challenge.pk]))
    page.locator(f"#dots-{proposal.pk}").select_option(str(dots))
    page.locator("form.codesign-vote").filter(has=page.locator(f"#dots-{proposal.pk}")).get_by_role(
        "button", name="Set the dots"
    ).click()
    expect(page.get_by_role("main")).to_contain_text("dots left")


def test_an_organizer_runs_a_challenge_from_ideas_to_a_confirmed_task_and_the_volunteer_earns_hours(
    open_as, community, organizer, member, owner
):
    from apps.peers.factories import MembershipFactory

    cleo = MembershipFactory(community=community, user__profile__display_name="Cleo Voter").user
    olga, max_, olive, cleo_page = open_as(organizer), open_as(member), open_as(owner), open_as(cleo)

    # The organizer opens the challenge.
    now = timezone.now()
    olga.goto(reverse("codesign:challenge-create"))
    olga.get_by_label("Title").fill("A bench for the courtyard")
    olga.get_by_label("Where is the space?").fill("The courtyard behind number 12")
    olga.get_by_label("What does the space need?").fill("Somewhere to sit in the afternoon sun.")
    olga.get_by_label("Ideas close on").fill(local(now + timedelta(days=7)))
    olga.get_by_label("Proposals close on").fill(local(now + timedelta(days=14)))
    olga.get_by_label("Voting closes on").fill(local(now + timedelta(days=21)))
    olga.get_by_role("button", name="Post the challenge").click()
    challenge = Challenge.objects.get(title="A bench for the courtyard")
    step(olga, challenge, "Open proposals")

    # Two neighbors propose; the organizer accepts both for voting and opens the vote.
    bench = propose(max_, challenge, "Oak bench")
    planter = propose(olive, challenge, "Planter with seats")
    accept(olga, bench)
    accept(olga, planter)
    step(olga, challenge, "Open voting")

    # Three neighbors spread their dots.
    vote(max_, challenge, bench, 3)
    vote(olive, challenge, planter, 2)
    vote(cleo_page, challenge, bench, 2)
    vote(cleo_page, challenge, planter, 1)
    expect(cleo_page.get_by_role("main")).to_contain_text("2 of 5 dots left")

    # The organizer closes the vote: the bench (5 dots) becomes the project.
    step(olga, challenge, "Close voting")
    olga.goto(reverse("codesign:results", args=[challenge.pk]))
    expect(olga.locator("table")).to_contain_text("Oak bench")
    assert Project.objects.get().proposal == bench

    # A task on the board; a neighbor joins it; the organizer confirms it done.
    olga.goto(reverse("codesign:board", args=[challenge.pk]))
    olga.get_by_label("What needs doing").fill("Sand the planks")
    olga.get_by_label("Hours each").fill("2")
    olga.get_by_role("button", name="Add the task").click()
    cleo_page.goto(reverse("codesign:board", args=[challenge.pk]))
    cleo_page.get_by_role("button", name="Join this task").click()
    expect(cleo_page.get_by_role("main")).to_contain_text("Cleo Voter")
    olga.goto(reverse("codesign:board", args=[challenge.pk]))
    olga.get_by_role("button", name="Confirm done").click()
    olga.get_by_role("button", name="Yes, confirm done").click()

    cleo_page.goto(reverse("ledger:mine"))
    expect(cleo_page.get_by_test_id(f"balance-{community.slug}-HOUR")).to_have_text("2 hours")


def test_a_comment_appears_in_place_without_reloading_the_page(open_as, community, organizer, member, challenge):
    page = open_as(member)
    page.goto(reverse("codesign:challenge", args=[challenge.pk]))
    page.evaluate("window.stayedOnPage = true")

    page.get_by_label("Your comment").fill("Could it face the afternoon sun?")
    page.get_by_role("button", name="Post the comment").click()

    expect(page.locator("#comments")).to_contain_text("Could it face the afternoon sun?")
    assert page.evaluate("window.stayedOnPage === true")  # htmx swapped the section; no reload
