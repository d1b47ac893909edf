"""The site on a phone (360x740) and on a laptop (1280x800), as a neighbor and as an organizer.

Headless Chromium visits the main pages and checks what a person would notice: nothing is
wider than the screen, every top-menu item can be reached (visible, or one tap on "Menu"),
and axe-core (vendored in static/vendor/axe-core, injected by this test only, never served
to neighbors) finds no serious or critical WCAG 2.2 A/AA violation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, expect

from apps.codesign.factories import ChallengeFactory
from apps.ledger import services as ledger
from apps.ledger.models import Currency
from apps.notifications.services import notify
from apps.peers.models import User
from apps.skills.factories import SeatFactory, SessionFactory
from apps.solar.factories import MeterFactory
from apps.tools.factories import ReservationFactory, ToolFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "laptop": LAPTOP}
NEIGHBOR_MENU = [
    "Communities",
    "Tools",
    "Skills",
    "Energy",
    "Design",
    "My loans",
    "My balance",
    "My profile",
    "Sign out",
]


@dataclass
class Place:
    """The people and things the pages show."""

    member: User
    organizer: User
    pages: dict[str, list[str]]


@pytest.fixture
def place(community, member, organizer) -> Place:
    """An organizer lends a tool that the member asked to borrow; both share a skill
    session, sent each other credits and have notifications."""
    tool = ToolFactory(owner=organizer, community=community, title="Cordless drill")
    loan = ReservationFactory(tool=tool, borrower=member, message="For the shelves in the hall.")
    session = SessionFactory(helper=organizer, community=community, title="Fix a bike")
    SeatFactory(session=session, learner=member)
    ledger.gift_send(
        sender=organizer, recipient=member, community=community, currency=Currency.HOUR,
        amount="1.50", memo="Thanks for the ladder", idempotency_key="phone-1",
    )  # fmt: skip
    ledger.gift_send(
        sender=member, recipient=organizer, community=community, currency=Currency.CREDIT,
        amount="3", memo="Soup", idempotency_key="phone-2",
    )  # fmt: skip
    notify(recipients=[member, organizer], kind="ledger.received", text="A neighbor sent you credits", url="/")
    meter = MeterFactory(owner=member, community=community, name="Roof panels", kind="producer")
    challenge = ChallengeFactory(community=community, created_by=organizer, title="A bench for the courtyard")
    common = [
        "/",
        reverse("tools:list"),
        reverse("tools:detail", args=[tool.pk]),
        reverse("tools:loans"),
        reverse("tools:loan", args=[loan.pk]),
        reverse("skills:directory"),
        reverse("skills:sessions"),
        reverse("skills:session", args=[session.pk]),
        reverse("skills:mine"),
        reverse("tools:waitlist"),
        reverse("peers:about-developers"),
        reverse("ledger:mine"),
        reverse("notifications:list"),
        reverse("notifications:preferences"),
        reverse("peers:community", args=[community.slug]),
        reverse("solar:market"),
        reverse("solar:orders"),
        reverse("solar:order-create"),
        reverse("solar:trades"),
        reverse("solar:meters"),
        reverse("codesign:list"),
        reverse("codesign:challenge", args=[challenge.pk]),
        reverse("codesign:proposals", args=[challenge.pk]),
        reverse("codesign:results", args=[challenge.pk]),
    ]
    return Place(
        member=member,
        organizer=organizer,
        pages={
            "neighbor": [
                *common,
                reverse("peers:profile", args=[member.pk]),
                reverse("solar:meter", args=[meter.pk]),
            ],
            "organizer": [
                *common,
                reverse("tools:requests"),
                reverse("tools:mine"),
                reverse("peers:profile", args=[organizer.pk]),
                reverse("admin:index"),
            ],
        },
    )


def signed_in(browser: Browser, live_server, user: User, viewport: dict, **options) -> BrowserContext:
    """A browser context carrying ``user``'s session (the sign-in form has its own tests)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip
    return context


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def axe_problems(page: Page) -> list[str]:
    # Evaluated through the DevTools protocol: the page's Content-Security-Policy stays on
    # (add_script_tag would be an inline script, which the policy rightly refuses).
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    problems = []
    for violation in result["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        for node in violation["nodes"]:
            problems.append(
                f"{page.url} [{violation['impact']}] {violation['id']}: {violation['help']}\n"
                f"    at {', '.join(map(str, node['target']))}\n    {node['failureSummary'].replace(chr(10), ' ')}"
            )
    return problems


def menu_items_reachable(page: Page, names: list[str]) -> list[str]:
    """The names that are neither visible nor visible after one tap on "Menu"."""
    nav = page.get_by_role("navigation", name="Main")
    hidden = [name for name in names if not nav.get_by_text(name, exact=True).is_visible()]
    if hidden:
        nav.get_by_text("Menu", exact=True).click()
        hidden = [name for name in hidden if not nav.get_by_text(name, exact=True).is_visible()]
    return hidden


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["neighbor", "organizer"])
def test_no_main_page_is_wider_than_the_screen_and_axe_finds_nothing_serious(browser, live_server, place, role, size):
    user = place.member if role == "neighbor" else place.organizer
    context = signed_in(browser, live_server, user, SIZES[size])
    page = context.new_page()
    layout_problems, problems = [], []
    try:
        for url in place.pages[role]:
            response = page.goto(url)
            assert response is not None and response.ok, f"{url} answered {response and response.status}"
            if (extra := overflow(page)) > 0:
                layout_problems.append(f"{url}: {extra} px wider than the {SIZES[size]['width']} px screen")
            if "{#" in page.inner_text("body"):
                layout_problems.append(f"{url}: a template comment shows on the page")
            problems += axe_problems(page)
    finally:
        context.close()
    assert layout_problems == [], "\n".join(layout_problems)
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["neighbor", "organizer"])
def test_every_top_menu_item_is_visible_or_one_tap_away(browser, live_server, place, role, size):
    user = place.member if role == "neighbor" else place.organizer
    names = NEIGHBOR_MENU + (["Admin"] if role == "organizer" else [])
    context = signed_in(browser, live_server, user, SIZES[size])
    page = context.new_page()
    try:
        for url in ("/", reverse("tools:list"), reverse("ledger:mine")):
            page.goto(url)
            assert menu_items_reachable(page, names) == [], f"unreachable on {url} at {size} size"
            expect(page.get_by_role("link", name=re.compile("^Notifications"))).to_be_visible()
    finally:
        context.close()


def test_on_a_phone_the_menu_opens_without_javascript_and_fits_the_screen(browser, live_server, place):
    context = signed_in(browser, live_server, place.member, PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="My balance")).to_be_hidden()
        nav.get_by_text("Menu", exact=True).click()
        for name in NEIGHBOR_MENU[:-1]:
            link = nav.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name} is off-screen"
        expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
        assert overflow(page) <= 0
        nav.get_by_role("link", name="My balance").click()
        expect(page).to_have_url(re.compile(r"/ledger/|/balance"))
    finally:
        context.close()


def test_the_availability_calendar_shows_all_seven_days_on_a_phone_without_scrolling(browser, live_server, place):
    tool = place.organizer.tools.get()
    context = signed_in(browser, live_server, place.member, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("tools:detail", args=[tool.pk]))
        table = page.locator("table.calendar-grid")
        expect(table).to_be_visible()
        heads = table.locator("thead th")
        assert heads.all_inner_texts() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        for head in heads.all():
            box = head.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "a day column is off-screen"
        # No day name or state word is broken mid-word: every word fits inside its cell.
        squeezed = page.evaluate(
            """() => [...document.querySelectorAll('.calendar-grid th, .calendar-grid td')]
                 .filter(cell => cell.scrollWidth > cell.clientWidth).map(cell => cell.textContent.trim())"""
        )
        assert squeezed == []
        scrolling = page.evaluate(
            """() => [...document.querySelectorAll('#calendar, #calendar *')]
                 .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
                 .filter(e => e.scrollWidth > e.clientWidth)
                 .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert scrolling == [], "something in the calendar scrolls sideways"
        assert overflow(page) <= 0
    finally:
        context.close()


def test_on_a_phone_the_tool_filters_fold_behind_one_control_and_the_first_tool_shows_first(
    browser, live_server, place
):
    context = signed_in(browser, live_server, place.member, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("tools:list"))
        expect(page.get_by_label("Category")).to_be_hidden()
        first_tool = page.get_by_role("link", name="Cordless drill")
        expect(first_tool).to_be_in_viewport()
        page.get_by_text("Filter", exact=True).click()
        expect(page.get_by_label("Category")).to_be_visible()
        # The tools sub-menu takes two lines at most, whichever entry is the current (bold) one.
        for url in (reverse("tools:list"), reverse("tools:requests")):
            page.goto(url)
            links = page.get_by_role("navigation", name="Tool sharing").get_by_role("link")
            tops = {round(link.bounding_box()["y"]) for link in links.all()}
            assert len(tops) <= 2, f"the tools sub-menu wraps onto {len(tops)} lines on {url}"
    finally:
        context.close()

    context = signed_in(browser, live_server, place.member, LAPTOP)
    page = context.new_page()
    try:
        page.goto(reverse("tools:list"))
        expect(page.get_by_label("Category")).to_be_visible()
        expect(page.get_by_text("Filter", exact=True)).to_be_hidden()
    finally:
        context.close()


def test_a_decline_note_has_its_own_form_and_reaches_the_loan_timeline(browser, live_server, place):
    loan = place.organizer.tools.get().reservations.get()
    context = signed_in(browser, live_server, place.organizer, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("tools:loan", args=[loan.pk]))
        row_buttons = page.locator(".loan-actions .button-row button")
        for button in row_buttons.all():
            assert button.bounding_box()["width"] < 250, f"{button.inner_text()} is stretched"
        page.get_by_text("Decline with a note to Max Member").click()
        note = page.get_by_label("Decline: note to Max Member (optional)")
        expect(note).to_be_visible()
        note.fill("Sorry, it is at the repair shop that week.")
        page.get_by_role("button", name="Decline and send the note").click()
        expect(page.get_by_text("Sorry, it is at the repair shop that week.")).to_be_visible()
    finally:
        context.close()
    loan.refresh_from_db()
    assert loan.status == "declined"
    assert loan.events.filter(note="Sorry, it is at the repair shop that week.").exists()


def test_the_details_link_under_loan_buttons_is_a_comfortable_touch_target(browser, live_server, place):
    context = signed_in(browser, live_server, place.member, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("tools:loans"))
        details = page.get_by_role("link", name="Details")
        box = details.bounding_box()
        assert box["height"] >= 24
        button = page.locator(".loan-actions button").last.bounding_box()
        assert box["y"] >= button["y"] + button["height"] + 8, "the link sits too close to the buttons"
    finally:
        context.close()


def test_notification_times_have_no_stray_dot_and_mark_read_stays_on_one_line(browser, live_server, place):
    context = signed_in(browser, live_server, place.member, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("notifications:list"))
        times = page.locator(".notification-time").all_inner_texts()
        assert times and all(re.match(r"^(\d|just now|[A-Z][a-z]{2} \d)", text.strip()) for text in times), times
        for button in page.get_by_role("button", name="Mark read").all():
            assert button.bounding_box()["height"] < 50, "Mark read wraps"
    finally:
        context.close()


def test_every_aria_describedby_points_at_an_element_on_the_page(browser, live_server, place):
    context = signed_in(browser, live_server, place.member, PHONE)
    page = context.new_page()
    try:
        for url in (reverse("notifications:preferences"), reverse("peers:profile-edit"), reverse("tools:create")):
            page.goto(url)
            missing = page.evaluate(
                """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(e =>
                     e.getAttribute('aria-describedby').split(/\\s+/)
                      .filter(id => id && !document.getElementById(id)))"""
            )
            assert missing == [], f"{url} refers to missing ids {missing}"
    finally:
        context.close()


def test_every_page_links_an_icon_and_a_web_app_manifest_that_exist(browser, live_server, place):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        hrefs = page.evaluate(
            "[...document.querySelectorAll('link[rel~=icon], link[rel=manifest], link[rel=apple-touch-icon]')]"
            ".map(l => l.getAttribute('href'))"
        )
        assert any(href.endswith(".svg") for href in hrefs) and any(href.endswith(".png") for href in hrefs)
        assert any(href.endswith(".webmanifest") for href in hrefs)
        for href in [*hrefs, "/static/favicon.ico"]:
            assert page.request.get(href).ok, f"{href} is missing"
        manifest = page.request.get(next(h for h in hrefs if h.endswith(".webmanifest"))).json()
        assert manifest["name"] == "p2pcommons" and {icon["sizes"] for icon in manifest["icons"]} >= {"192x192"}
    finally:
        context.close()


@pytest.mark.parametrize("role", ["neighbor", "organizer"])
def test_in_dutch_every_main_page_fits_a_phone_and_axe_finds_nothing_serious(browser, live_server, place, role):
    """Dutch words run longer than English ones: the same pages, read in Dutch on a phone,
    plus the pages of one's own data."""
    user = place.member if role == "neighbor" else place.organizer
    context = signed_in(browser, live_server, user, PHONE, locale="nl-NL")
    page = context.new_page()
    extra_pages = [
        reverse("peers:profile-edit"),
        reverse("privacy:page"),
        reverse("account_delete:start"),
        reverse("front:guide"),
    ]
    layout_problems, problems = [], []
    try:
        for url in place.pages[role] + extra_pages:
            response = page.goto(url)
            assert response is not None and response.ok, f"{url} answered {response and response.status}"
            assert page.locator("html").get_attribute("lang") == "nl", url
            if (extra := overflow(page)) > 0:
                layout_problems.append(f"{url}: {extra} px wider than the 360 px screen")
            problems += axe_problems(page)
    finally:
        context.close()
    assert layout_problems == [], "\n".join(layout_problems)
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)
