"""'Use my location' on the profile page (static/js/place-picker.js), in headless Chromium
on a phone-sized screen: the browser's position fills the two fields, saving keeps the
rounded area, a refusal gets a plain message, and without JavaScript the button stays away."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, expect

from apps.peers.geo import approximate
from apps.peers.models import Profile, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
HERE = {"latitude": 52.358472, "longitude": 4.888931}


def signed_in(browser: Browser, live_server, user: User, **options) -> BrowserContext:
    """A phone-sized browser context carrying ``user``'s session."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, **options)
    context.set_default_timeout(10_000)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    return context


def test_use_my_location_fills_both_fields_and_saving_shows_the_rounded_area(browser, live_server, member):
    Profile.objects.filter(user=member).update(neighborhood="")  # the area then reads as a point on a map
    context = signed_in(browser, live_server, member, geolocation=HERE)
    context.grant_permissions(["geolocation"], origin=live_server.url)
    page = context.new_page()
    try:
        page.goto(reverse("peers:profile-edit"))
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_role("status").filter(has_text="your position is filled in")).to_be_visible()
        expect(page.get_by_label("North-south position (latitude)")).to_have_value("52.3585")
        expect(page.get_by_label("East-west position (longitude)")).to_have_value("4.8889")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Your profile is saved.")).to_be_visible()
        page.goto(reverse("peers:profile-edit"))
        area = page.get_by_test_id("profile-area")
        expect(area).to_contain_text(
            "Neighbors see you as living somewhere within about 500 m of this point on the map"
        )
        lat, lng = approximate(Decimal("52.3585"), Decimal("4.8889"))
        link = area.get_by_role("link", name=re.compile("^this point on the map"))
        expect(link).to_have_attribute("href", re.compile(rf"mlat={lat}&mlon={lng}"))
    finally:
        context.close()
    profile = Profile.objects.get(user=member)
    assert (profile.approx_latitude, profile.approx_longitude) == (lat, lng)


def test_a_refused_location_gets_a_plain_message_and_leaves_the_fields_to_type_in(browser, live_server, member):
    context = signed_in(browser, live_server, member, geolocation=HERE)
    context.clear_permissions()
    page = context.new_page()
    try:
        page.goto(reverse("peers:profile-edit"))
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_role("status").filter(has_text="did not share your location")).to_be_visible()
        expect(page.get_by_label("North-south position (latitude)")).to_be_visible()
        expect(page.get_by_label("North-south position (latitude)")).to_have_value("")
    finally:
        context.close()


def test_without_javascript_there_is_no_location_button_and_the_fields_still_work(browser, live_server, member):
    Profile.objects.filter(user=member).update(approx_latitude=None, approx_longitude=None)
    context = signed_in(browser, live_server, member, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(reverse("peers:profile-edit"))
        expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
        page.get_by_text(re.compile("your area by hand")).click()
        page.get_by_label("North-south position (latitude)").fill("52.3585")
        page.get_by_label("East-west position (longitude)").fill("4.8889")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    finally:
        context.close()
    profile = Profile.objects.get(user=member)
    assert (profile.approx_latitude, profile.approx_longitude) == approximate(Decimal("52.3585"), Decimal("4.8889"))
