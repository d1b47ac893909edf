"""The signed-in front door in a real browser: the dashboard lists what waits for the
member in every exchange and each button leads to the page where it is done; one word in
the search box finds a tool, a skill offer and a proposal; a neighbor's profile shows
their record across the exchanges. The dashboard and search fit a phone and a laptop
screen, pass axe-core, and leave screenshots in test-artifacts/ (not committed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from apps.codesign.factories import ChallengeFactory, ProposalFactory
from apps.codesign.models import Challenge
from apps.front.dashboard import dashboard_for
from apps.peers.blueprints import all_blueprints
from apps.skills.factories import OfferFactory
from apps.tools.factories import ToolFactory
from tests.front.test_dashboard import EXCHANGES, make_pending
from tests.test_phone_layout import LAPTOP, PHONE, axe_problems, overflow, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SIZES = {"phone": PHONE, "laptop": LAPTOP}


@pytest.fixture
def neighborhood(owner, member, organizer, community):
    """Something waits for Olive in every exchange, and "ladder" is in a tool, a skill
    offer and a proposal of her community."""
    pending = make_pending(me=owner, neighbor=member, organizer=organizer, community=community)
    ToolFactory(owner=member, community=community, title="Aluminium ladder")
    OfferFactory(member=member, community=community, title="Ladder work on gutters")
    ProposalFactory(
        challenge=ChallengeFactory(community=community, title="The shed", phase=Challenge.Phase.PROPOSALS),
        author=member,
        title="A ladder rack for the shed",
    )
    return pending


def test_the_dashboard_lists_an_action_from_each_exchange_and_each_button_leads_to_its_page(neighborhood, open_as):
    page = open_as(neighborhood.me)
    page.goto("/")
    actions = page.get_by_role("region", name="Needs your action")
    expect(actions).to_be_visible()
    by_kind = {}
    for item in dashboard_for(neighborhood.me).actions:
        by_kind.setdefault(item.kind, item)
    assert set(EXCHANGES) <= set(by_kind)
    for kind in EXCHANGES:
        item = by_kind[kind]
        button = actions.locator(f'a[role="button"][href="{item.url}"]').first
        expect(button).to_have_text(item.verb)
        button.click()
        expect(page).to_have_url(re.compile(re.escape(item.url) + "$"))
        expect(page.locator("main")).to_contain_text(neighborhood.marks[kind])
        page.go_back()
    review = actions.locator(f'a[href="{neighborhood.review_url}"]')
    expect(review).to_have_text("Write a review")
    review.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review")


def test_one_word_in_the_search_box_finds_a_tool_an_offer_and_a_proposal(neighborhood, open_as):
    page = open_as(neighborhood.me)
    page.goto("/")
    page.get_by_role("searchbox", name="Search tools, skills, challenges and neighbors").fill("ladder")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=ladder$"))
    results = page.locator("ol.hit-list")
    for title in ("Aluminium ladder", "Ladder work on gutters", "A ladder rack for the shed"):
        expect(results.get_by_role("link", name=title, exact=True)).to_be_visible()
    page.get_by_label("Tools", exact=True).check()
    page.get_by_role("button", name="Search").click()
    expect(results.get_by_role("link", name="Aluminium ladder", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name="Ladder work on gutters", exact=True)).to_have_count(0)
    results.get_by_role("link", name="Aluminium ladder", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aluminium ladder")


def test_a_neighbors_profile_shows_their_record_across_the_exchanges(neighborhood, open_as):
    page = open_as(neighborhood.me)
    page.goto(reverse("peers:profile", args=[neighborhood.neighbor.pk]))
    history = page.get_by_role("region", name="In the exchanges")
    for bp in all_blueprints():
        expect(history.get_by_role("heading", name=bp.title, exact=True)).to_be_visible()
        for row in bp.history(subject=neighborhood.neighbor, viewer=neighborhood.me):
            expect(history.locator("dt", has_text=row.label).first).to_be_visible()
    expect(history).to_contain_text("Challenges contributed to")


@pytest.mark.parametrize("size", SIZES)
def test_the_dashboard_and_search_fit_the_screen_pass_axe_and_leave_screenshots(
    browser, live_server, neighborhood, size
):
    ARTIFACTS.mkdir(exist_ok=True)
    context = signed_in(browser, live_server, neighborhood.me, SIZES[size])
    page = context.new_page()
    problems, layout = [], []
    try:
        for name, url in (("dashboard", "/"), ("search", f"{reverse('front:search')}?q=ladder")):
            response = page.goto(url)
            assert response is not None and response.ok, f"{url} answered {response and response.status}"
            page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
            if (extra := overflow(page)) > 0:
                layout.append(f"{name}: {extra} px wider than the {SIZES[size]['width']} px screen")
            problems += axe_problems(page)
    finally:
        context.close()
    assert layout == [], "\n".join(layout)
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)
