"""A whole tool loan in a real browser: a neighbor lists a drill with a photo, another
finds it, books it, picks it up and returns it, and both review each other until their
trust scores show.

Uploaded photos are written to a temporary folder and served by the live server, so the
test sees the pictures load like a neighbor would.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from apps.reputation.models import Review, TrustScore
from apps.tools.factories import CategoryFactory
from apps.tools.models import Reservation, Tool
from tests.test_browser import SIGN_OUT, log_in, page  # noqa: F401 - page is a fixture, by its name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_on_disk(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return settings.MEDIA_ROOT


@pytest.fixture
def drill_png(tmp_path):
    picture = tmp_path / "drill.png"
    Image.new("RGB", (800, 600), (200, 60, 40)).save(picture, format="PNG")
    return picture


def image_loaded(tab: Page, selector: str) -> None:
    """Wait until the image has really arrived and decoded (a broken one never does)."""
    tab.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; }",
        arg=selector,
    )


def sign_out(tab: Page) -> None:
    tab.get_by_role("button", name=SIGN_OUT).click()


def trust_label(user) -> str:
    trust = TrustScore.objects.get(user=user)
    assert trust.rating_count == 1
    return f"{trust.rounded_score} out of 5 from 1 review"


def test_a_drill_is_listed_found_borrowed_returned_and_both_neighbors_review(
    page: Page,  # noqa: F811 - the fixture imported above, by its name
    media_on_disk,
    drill_png,
    community,
    owner,
    member,
):
    owner.profile.exact_address = "12 Hidden Lane"
    owner.profile.phone = "+31 6 5555 0101"
    owner.profile.save()
    CategoryFactory(slug="power", name="Power tools")

    # Olive lists her drill and adds a photo.
    log_in(page, email=owner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tools").click()
    page.get_by_role("link", name="List a tool").click()
    page.get_by_role("textbox", name="Title").fill("Cordless hammer drill")
    page.get_by_label("Notice needed (hours)").fill("0")
    page.get_by_label("Category").select_option(label="Power tools")
    page.get_by_label("Description").fill("18 V with two batteries.")
    page.get_by_role("button", name="List it").click()
    expect(page.get_by_text("Cordless hammer drill is listed.")).to_be_visible()
    tool = Tool.objects.get(title="Cordless hammer drill")
    assert (tool.owner, tool.community, tool.status) == (owner, community, "active")
    expect(page).to_have_url(re.compile(rf"/tools/{tool.pk}/photos/$"))

    page.get_by_label(re.compile(r"^Photo")).set_input_files(drill_png)
    page.get_by_label("Describe the photo").fill("Red drill in its case")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("The photo is added.")).to_be_visible()
    page.get_by_role("link", name="See the listing").click()
    expect(page.get_by_role("img", name="Red drill in its case")).to_be_visible()
    image_loaded(page, "[data-testid=main-photo]")
    assert (media_on_disk / tool.photos.get().image.name).exists()
    sign_out(page)

    # Max finds it by a word of its title and asks for a window.
    log_in(page, email=member.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tools").click()
    page.get_by_label("Search", exact=True).fill("hammer")
    page.get_by_role("button", name="Search").click()
    image_loaded(page, ".tool-card img")
    page.get_by_role("link", name="Cordless hammer drill").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cordless hammer drill")
    image_loaded(page, "[data-testid=main-photo]")
    expect(page.get_by_text("12 Hidden Lane")).to_have_count(0)

    # The calendar moves a week on with htmx: the page itself stays where it is.
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    calendar = page.get_by_role("region", name="Availability")
    expect(calendar.locator(f'td[data-date="{monday.isoformat()}"]')).to_have_count(1)
    calendar.get_by_role("link", name="Later week").click()
    expect(calendar.locator(f'td[data-date="{monday.isoformat()}"]')).to_have_count(0)
    expect(calendar.locator(f'td[data-date="{(monday + timedelta(weeks=4)).isoformat()}"]')).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"/tools/{tool.pk}/$"))

    # Within two hours: the pickup can be recorded from two hours before the start, and the
    # address shows from a day before it.
    start = (timezone.localtime() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    page.get_by_label("From").fill(f"{start:%Y-%m-%dT%H:%M}")
    page.get_by_label("Until").fill(f"{start - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Request to borrow").click()
    expect(page.get_by_text("The end must be after the start.")).to_be_visible()  # swapped in by htmx
    expect(page).to_have_url(re.compile(rf"/tools/{tool.pk}/$"))
    expect(page.get_by_label("From")).to_have_value(f"{start:%Y-%m-%dT%H:%M}")
    page.get_by_label("Until").fill(f"{start + timedelta(days=1):%Y-%m-%dT%H:%M}")
    page.get_by_label("Message to the owner (optional)").fill("For the bookshelf, thank you!")
    page.get_by_role("button", name="Request to borrow").click()
    expect(page).to_have_url(re.compile(r"/tools/loans/$"))
    expect(page.get_by_text("Your request for Cordless hammer drill was sent to Olive Owner.")).to_be_visible()
    loan = Reservation.objects.get()
    assert (loan.borrower, loan.status, loan.starts_at) == (member, "requested", start)
    sign_out(page)

    # Olive approves it on "Requests for my tools".
    log_in(page, email=owner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tools").click()
    page.get_by_role("link", name="Requests for my tools").click()
    expect(page.get_by_text("For the bookshelf, thank you!")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Cordless hammer drill: approved.")).to_be_visible()
    sign_out(page)

    # Max now sees where to pick it up, and records the pickup.
    log_in(page, email=member.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My loans").click()
    page.get_by_role("link", name="Cordless hammer drill").click()
    handoff = page.get_by_role("region", name="Pickup details")
    expect(handoff.get_by_text("12 Hidden Lane")).to_be_visible()
    expect(handoff.get_by_text("+31 6 5555 0101")).to_be_visible()
    page.get_by_role("button", name="Mark picked up").click()
    expect(page.get_by_text("Cordless hammer drill: picked up.")).to_be_visible()
    sign_out(page)

    # Olive records the return and reviews Max.
    log_in(page, email=owner.email)
    page.goto("/tools/requests/")
    page.get_by_role("button", name="Mark returned").click()
    expect(page.get_by_text("Cordless hammer drill: returned.")).to_be_visible()
    page.get_by_role("link", name="Details and review").click()
    page.get_by_role("link", name="Review this loan").click()
    page.get_by_label("5 stars: excellent").check()
    page.get_by_label("Comment (optional)").fill("Careful borrower, brought it back clean.")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Thank you: your review is saved.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Your review stays hidden until Max Member has reviewed too"))).to_be_visible()
    sign_out(page)

    # Max reviews Olive: both reviews are revealed and both trust scores recomputed.
    log_in(page, email=member.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My loans").click()
    page.get_by_role("link", name="Cordless hammer drill").click()
    expect(page.get_by_role("region", name="Pickup details")).to_have_count(0)  # returned: private again
    page.get_by_role("link", name="Review this loan").click()
    page.get_by_label("4 stars: good").check()
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Your review is visible to everyone since")).to_be_visible()
    expect(page.get_by_text("Careful borrower, brought it back clean.")).to_be_visible()
    assert Review.objects.filter(revealed_at__isnull=False).count() == 2

    owner_label, member_label = trust_label(owner), trust_label(member)
    page.goto(f"/people/{owner.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olive Owner")
    expect(page.get_by_role("img", name=owner_label)).to_be_visible()
    page.goto(f"/people/{member.pk}/")
    expect(page.get_by_role("img", name=member_label)).to_be_visible()
    page.goto(f"/tools/{tool.pk}/")
    badge = page.get_by_role("img", name=owner_label)
    expect(badge).to_contain_text(f"{TrustScore.objects.get(user=owner).rounded_score} (1)")
