"""What a neighbor does in a real browser: headless Chromium against the live test server.

Each test follows one person through the site and asserts on what they see. The pages
may load nothing from another host (no CDN at run time), so every off-site request a
page makes is refused and fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from apps.peers.factories import DEFAULT_PASSWORD
from apps.peers.models import Membership, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIGN_IN = re.compile(r"^sign in$", re.IGNORECASE)
SIGN_OUT = re.compile(r"^sign out$", re.IGNORECASE)


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose base URL is the live server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    off_site: list[str] = []

    def refuse_off_site(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    context.route("**/*", refuse_off_site)
    page = context.new_page()
    yield page
    context.close()
    assert off_site == [], f"pages loaded resources from other hosts: {off_site}"


def log_in(page: Page, *, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name=SIGN_IN).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password")).fill(password)
    page.get_by_role("main").get_by_role("button", name=SIGN_IN).click()
    expect(page.get_by_role("link", name="My profile")).to_be_visible()


def test_a_newcomer_signs_up_and_renames_themselves_on_their_profile(page: Page):
    page.goto("/")
    page.get_by_role("navigation").get_by_text("Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    page.get_by_label("Your name for neighbors").fill("Nia Newcomer")
    page.get_by_label("Email").fill("newcomer@example.org")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a-long-and-unusual-passphrase")
    page.get_by_label(re.compile(r"again", re.IGNORECASE)).fill("a-long-and-unusual-passphrase")
    page.get_by_role("main").get_by_role("button", name="Sign up").click()

    # Every sign-up ends on the same page, whether or not the address already has an
    # account (no enumeration); the newcomer then signs in.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("button", name=SIGN_OUT)).to_have_count(0)
    log_in(page, email="newcomer@example.org", password="a-long-and-unusual-passphrase")
    page.get_by_role("link", name="My profile").click()
    newcomer = User.objects.get(email="newcomer@example.org")
    expect(page).to_have_url(re.compile(rf"/people/{newcomer.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia Newcomer")

    page.get_by_text("Edit my profile", exact=True).click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    page.get_by_label("Display name").fill("Nia from Elm Street")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(rf"/people/{newcomer.pk}/$"))
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia from Elm Street")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia from Elm Street")


def test_a_member_logs_in_and_sees_their_membership_on_the_community_page(page: Page, member, community):
    log_in(page, email=member.email)

    page.get_by_role("link", name="Sunnyside Commons").click()
    expect(page).to_have_url(re.compile(r"/c/sunnyside/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sunnyside Commons")
    expect(page.get_by_text("You are a member of this community since")).to_be_visible()
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_role("link", name="Max Member")).to_be_visible()
    expect(page.get_by_role("button", name="Join Sunnyside Commons")).to_have_count(0)


def test_a_member_who_logs_out_no_longer_sees_the_member_list(page: Page, member, community):
    log_in(page, email=member.email)

    page.get_by_role("button", name=SIGN_OUT).click()
    expect(page.get_by_role("navigation").get_by_role("link", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_role("link", name="My profile")).to_have_count(0)
    page.goto(community.get_absolute_url())
    expect(page.get_by_text("to join and see its members")).to_be_visible()
    expect(page.get_by_role("link", name="Max Member")).to_have_count(0)


def test_a_neighbor_joins_a_community_with_one_click(page: Page, stranger, community):
    log_in(page, email=stranger.email)
    page.goto(community.get_absolute_url())

    page.get_by_role("button", name="Join Sunnyside Commons").click()

    expect(page.get_by_text("Welcome to Sunnyside Commons!")).to_be_visible()
    expect(page.get_by_text("You are a member of this community since")).to_be_visible()
    expect(page.get_by_role("region", name="Members").get_by_role("link", name="Sam Stranger")).to_be_visible()
    assert Membership.objects.filter(user=stranger, community=community, role=Membership.Role.MEMBER).exists()


def test_a_member_sends_credits_and_both_neighbors_see_the_new_balance(
    page: Page, browser: Browser, live_server, owner, member, community
):
    log_in(page, email=owner.email)
    page.get_by_role("link", name="My balance").click()
    page.get_by_label("To", exact=False).and_(page.locator("select")).select_option(label="Max Member")
    page.get_by_label("Currency").select_option("HOUR")
    page.get_by_label("Amount").fill("1.75")
    page.get_by_label("What for").fill("Borrowed the ladder")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_text("Sent 1.75 hours to Max Member.")).to_be_visible()
    expect(page.get_by_test_id("balance-sunnyside-HOUR")).to_have_text("-1.75 hours")

    other = browser.new_context(base_url=live_server.url)
    try:
        member_page = other.new_page()
        log_in(member_page, email=member.email)
        member_page.get_by_role("link", name="My balance").click()
        expect(member_page.get_by_test_id("balance-sunnyside-HOUR")).to_have_text("1.75 hours")
        expect(member_page.get_by_text("from Olive Owner")).to_be_visible()
    finally:
        other.close()


def test_three_neighbors_report_a_review_it_disappears_and_the_organizer_restores_it(
    page: Page, community, owner, member, organizer
):
    from apps.notifications.models import Notification
    from apps.reputation.factories import ReviewFactory
    from tests.exchanges.factories import ExchangeFactory
    from tests.moderation.conftest import member_in_good_standing

    ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=member, receiver=owner),
        author=member,
        comment="Never returned my ladder on time",
    )
    # Reports count toward hiding only from members in good standing (a month in, an exchange done).
    reporters = [member_in_good_standing(community, f"Reporter {i}") for i in range(3)]
    review_text = page.get_by_text("Never returned my ladder on time")

    for reporter in reporters:
        log_in(page, email=reporter.email)
        page.goto(f"/people/{owner.pk}/")
        expect(review_text).to_be_visible()
        reviews = page.get_by_role("region", name="Reviews")
        reviews.get_by_text("Report this review").click()
        reviews.get_by_label("Reason").select_option("harassment")
        reviews.get_by_label("What happened (optional)").fill("Unfair and personal")
        reviews.get_by_role("button", name="Send report").click()
        expect(page.get_by_text("Thank you: your report was sent to the organizers.")).to_be_visible()
        page.get_by_role("button", name=SIGN_OUT).click()

    # Three reports from three members: hidden from everyone but its author and organizers.
    log_in(page, email=reporters[0].email)
    page.goto(f"/people/{owner.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olive Owner")
    expect(review_text).to_have_count(0)
    page.get_by_role("button", name=SIGN_OUT).click()

    log_in(page, email=organizer.email)
    page.goto("/admin/moderation/moderationqueueitem/")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("restore")
    page.get_by_role("button", name=re.compile(r"^(Go|Run)$")).click()
    page.get_by_label(re.compile(r"^Reason")).fill("Harsh but a fair account of the exchange")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Restored 1 item(s).")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"log out", re.IGNORECASE)).click()

    log_in(page, email=reporters[0].email)
    page.goto(f"/people/{owner.pk}/")
    expect(review_text).to_be_visible()
    assert Notification.objects.filter(recipient=member, kind="moderation.restored").exists()
    page.get_by_role("button", name=SIGN_OUT).click()

    log_in(page, email=member.email)
    page.goto("/notifications/")
    expect(page.get_by_text(re.compile(r"An organizer restored your review"))).to_be_visible()
