"""The front door in a real browser: a visitor sees the four blueprint cards with their live
numbers and follows them; an organizer turns the solar exchange on for their community and
finds "Energy" in their menu; the home page, the guide and a blueprint page fit a phone and
a laptop screen, pass axe-core, and leave screenshots in test-artifacts/ (not committed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from apps.front.figures import figures
from apps.peers.factories import CommunityFactory, OrganizerMembershipFactory
from apps.peers.models import CommunityExchange
from apps.tools.factories import ToolFactory
from tests.test_phone_layout import LAPTOP, PHONE, axe_problems, overflow, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SIZES = {"phone": PHONE, "laptop": LAPTOP}
CARDS = {
    "tools": ("Collaboration", "Community Tool Sharing", "DIY", "Shared"),
    "solar": ("Sustainability", "Micro Solar Exchange", "Energy", "Green"),
    "skills": ("Learning", "Skill Swap Network", "Education", "P2P"),
    "codesign": ("Design", "Co-Design Mini Projects", "Home", "Creative"),
}
DESCRIPTIONS = {
    "tools": "An organized system for sharing home tools and resources between neighbors.",
    "solar": "A simple peer model for sharing extra solar power locally.",
    "skills": "A community-driven way to exchange home, garden, and repair skills.",
    "codesign": "Small design challenges people can join to improve a shared space.",
}


@pytest.fixture
def oak_lane():
    """A community that does not use the solar exchange, and its organizer; a few tools to
    borrow so the cards show real numbers."""
    community = CommunityFactory(name="Oak Lane", slug="oak-lane", exchanges=["tools", "skills", "codesign"])
    organizer = OrganizerMembershipFactory(
        community=community, user__email="oona@example.org", user__profile__display_name="Oona Organizer"
    ).user
    ToolFactory.create_batch(3, community=community, owner=organizer)
    return community, organizer


def test_signed_out_the_home_page_shows_the_four_cards_and_each_leads_to_its_page(browser, live_server, oak_lane):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("neighbors")
        live = figures()
        assert live["tools"].value == "3"
        for key, (category, title, *tags) in CARDS.items():
            card = page.locator(f"article.blueprint-card.bp-{key}")
            expect(card.locator(".blueprint-category")).to_have_text(category)
            expect(card.get_by_role("heading", level=3)).to_have_text(title)
            expect(card.locator(".blueprint-description")).to_have_text(DESCRIPTIONS[key])
            expect(card.locator(".blueprint-tags li")).to_have_text(tags)
            expect(card.locator(".blueprint-figure")).to_have_text(f"{live[key].value} {live[key].label}")
        for key, (_category, title, *_tags) in CARDS.items():
            page.get_by_role("link", name=re.compile(rf"^Explore the blueprint\W+{title}$")).click()
            expect(page).to_have_url(re.compile(rf"/blueprints/{key}/$"))
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
            page.go_back()
        page.get_by_role("link", name="Read the full guide").click()
        expect(page).to_have_url(re.compile(r"/guide/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("A guide to peer-to-peer projects")
        page.get_by_role("navigation", name="Contents").get_by_role("link", name=re.compile("Challenges")).click()
        expect(page).to_have_url(re.compile(r"/guide/#challenges$"))
        expect(page.locator("#challenges-heading")).to_be_in_viewport()
    finally:
        context.close()


def test_an_organizer_uses_the_solar_blueprint_and_energy_appears_in_their_menu(open_as, oak_lane):
    community, organizer = oak_lane
    page = open_as(organizer)
    page.goto(reverse("front:blueprint", args=["solar"]))
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Menu", exact=True).click()
    expect(nav.get_by_role("link", name="Tools", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Energy", exact=True)).to_have_count(0)
    nav.get_by_text("Menu", exact=True).click()
    use = page.locator("#use")
    expect(use.get_by_label("Community")).to_have_value(str(community.pk))
    expect(use.get_by_label("Rules your members will read")).not_to_be_empty()
    use.get_by_role("button", name="Use this blueprint").click()
    expect(page).to_have_url(re.compile(rf"{community.get_absolute_url()}$"))
    expect(page.get_by_text("Oak Lane now uses Micro Solar Exchange.")).to_be_visible()
    nav.get_by_text("Menu", exact=True).click()
    nav.get_by_role("link", name="Energy", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{reverse('solar:market')}$"))
    assert CommunityExchange.objects.get(community=community, key="solar").in_use


@pytest.mark.parametrize("size", SIZES)
def test_home_guide_and_a_blueprint_page_fit_the_screen_pass_axe_and_are_photographed(
    browser, live_server, oak_lane, size
):
    community, organizer = oak_lane
    ARTIFACTS.mkdir(exist_ok=True)
    visitor = browser.new_context(base_url=live_server.url, viewport=SIZES[size])
    visitor.set_default_timeout(10_000)
    member = signed_in(browser, live_server, organizer, SIZES[size])
    pages = [
        (visitor, "/", "home"),
        (visitor, reverse("front:guide"), "guide"),
        (visitor, reverse("front:blueprint", args=["tools"]), None),
        (member, reverse("front:blueprint", args=["solar"]), "blueprint-solar"),
        (member, reverse("front:blueprint", args=["tools"]), None),
        (member, reverse("front:blueprint-use", args=["tools"]) + f"?community={community.pk}", None),
    ]
    layout, problems = [], []
    try:
        for context, url, shot in pages:
            page = context.new_page()
            response = page.goto(url)
            assert response is not None and response.ok, f"{url} answered {response and response.status}"
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            if not fits:
                layout.append(f"{url}: {overflow(page)} px wider than the {SIZES[size]['width']} px screen")
            problems += axe_problems(page)
            if shot:
                path = ARTIFACTS / f"front-{shot}-{size}.png"
                page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 0
            page.close()
    finally:
        visitor.close()
        member.close()
    assert layout == [], "\n".join(layout)
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)
