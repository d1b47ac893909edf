"""The co-design pages on a phone (360x740) and a laptop, in headless Chromium: nothing
wider than the screen and no serious or critical axe-core (WCAG 2.2 A/AA) problem. The
same checks as tests/test_phone_layout.py, with its helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.codesign import services
from apps.codesign.models import Project
from apps.peers.models import User
from tests.test_phone_layout import SIZES, axe_problems, overflow, signed_in

from .test_pages import to_voting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class Design:
    member: User
    organizer: User
    pages: list[str]
    organizer_pages: list[str]


@pytest.fixture
def design(community, organizer, neighbors, challenge) -> Design:
    """One challenge being built (results, a board with a task and a volunteer) and one
    open for ideas, with an idea and a comment: every page has something to show."""
    ana, bo, cy = neighbors
    built, bench, planter = to_voting(challenge, organizer, neighbors)
    services.comment_post(challenge=built, author=bo, text="Could it have a back rest?", proposal=bench)
    services.vote_set(proposal=bench, voter=ana, dots=3)
    services.vote_set(proposal=planter, voter=cy, dots=1)
    built = services.challenge_step(challenge=built, actor=organizer, step="close_voting")
    task = services.task_create(project=Project.objects.get(), actor=organizer, title="Sand the planks",
                                hours=Decimal("2"))  # fmt: skip
    volunteer = services.task_join(task=task, member=cy)
    now = timezone.now()
    fresh = services.challenge_create(
        community=community, actor=organizer, title="Flowers by the gate", brief="**Colour**, please.",
        space="The gate", ideas_until=now + timedelta(days=3), proposals_until=now + timedelta(days=6),
        voting_until=now + timedelta(days=9),
    )  # fmt: skip
    services.idea_post(challenge=fresh, author=ana, text="Sunflowers along the fence.")
    services.comment_post(challenge=fresh, author=bo, text="Who waters them?")
    pages = [
        reverse("codesign:list"),
        fresh.get_absolute_url(),
        built.get_absolute_url(),
        reverse("codesign:proposals", args=[built.pk]),
        bench.get_absolute_url(),
        reverse("codesign:ballot", args=[built.pk]),
        reverse("codesign:results", args=[built.pk]),
        reverse("codesign:board", args=[built.pk]),
    ]
    organizer_pages = [
        reverse("codesign:challenge-create"),
        fresh.get_absolute_url(),
        reverse("codesign:challenge-step", args=[fresh.pk, "open_proposals"]),
        reverse("codesign:challenge-photo-add", args=[fresh.pk]),
        reverse("codesign:board", args=[built.pk]),
        reverse("codesign:volunteer-step", args=[volunteer.pk, "confirm"]),
    ]
    return Design(member=bo, organizer=organizer, pages=pages, organizer_pages=organizer_pages)


def check(page, urls: list[str], width: int) -> tuple[list[str], list[str]]:
    layout, problems = [], []
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.ok, f"{url} answered {response and response.status}"
        if (extra := overflow(page)) > 0:
            layout.append(f"{url}: {extra} px wider than the {width} px screen")
        problems += [f"{url}: {problem}" for problem in axe_problems(page)]
    return layout, problems


@pytest.mark.parametrize("size", SIZES)
def test_no_design_page_is_wider_than_the_screen_and_axe_finds_nothing_serious(browser, live_server, design, size):
    layout, problems = [], []
    for user, urls in ((design.member, design.pages), (design.organizer, design.organizer_pages)):
        context = signed_in(browser, live_server, user, SIZES[size])
        try:
            more_layout, more_problems = check(context.new_page(), urls, SIZES[size]["width"])
        finally:
            context.close()
        layout += more_layout
        problems += more_problems
    assert layout == []
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)
