"""The account pages (allauth's sign-in, sign-up, passwords, email addresses), their emails,
the developers page and the profile's location words look and speak like the rest of the site."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse

from apps.peers.forms import ProfileForm
from apps.peers.geo import approximate

pytestmark = pytest.mark.django_db

SITE_NAV = 'aria-label="Main"'
SITE_FOOTER = "neighbors sharing directly with each other"
SIGNED_OUT_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/password/reset/key/1-not-a-real-key/",
    "/accounts/confirm-email/not-a-real-key/",
]
SIGNED_IN_PAGES = ["/accounts/logout/", "/accounts/email/", "/accounts/password/change/"]
# allauth's stock words that the site writes differently.
STOCK_WORDS = [
    "Sign In", "Sign Up", "Sign Out", "Remember Me", "Password Reset", "Change Password", "Bad Token",
    "Confirm Email Address", "Email Addresses", "Make Primary",
]  # fmt: skip


class Labels(HTMLParser):
    """The text of every <label> on a page, and what comes first inside each one."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, dict] = {}
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._current = {"text": "", "first": None}
            self.labels[attrs.get("for", f"#{len(self.labels)}")] = self._current
        elif self._current is not None and self._current["first"] is None and tag == "input":
            self._current["first"] = f"input:{attrs.get('type')}"

    def handle_endtag(self, tag):
        if tag == "label":
            self._current = None

    def handle_data(self, data):
        if self._current is not None:
            if self._current["first"] is None and data.strip():
                self._current["first"] = "text"
            self._current["text"] += data

    @classmethod
    def of(cls, html: str) -> dict[str, str]:
        parser = cls()
        parser.feed(html)
        return parser.labels


def label_texts(html: str) -> dict[str, str]:
    return {key: " ".join(value["text"].replace("*", "").split()) for key, value in Labels.of(html).items()}


def signup(client, email="newcomer-7f3a@example.org", name="Nell Newcomer"):
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "display_name": name,
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )


@pytest.mark.parametrize("url", SIGNED_OUT_PAGES)
def test_signed_out_account_pages_use_the_site_layout_and_its_words(client, url):
    html = client.get(url).content.decode()
    assert SITE_NAV in html and SITE_FOOTER in html
    assert [word for word in STOCK_WORDS if word in html] == []
    assert [text for text in label_texts(html).values() if text.endswith(":")] == []


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_account_pages_use_the_site_layout_and_its_words(web_as, member, url):
    html = web_as(member).get(url).content.decode()
    assert SITE_NAV in html and SITE_FOOTER in html
    assert [word for word in STOCK_WORDS if word in html] == []
    assert [text for text in label_texts(html).values() if text.endswith(":")] == []


def test_the_sign_in_page_says_sign_in_with_remember_me_after_its_checkbox(client):
    html = client.get("/accounts/login/").content.decode()
    assert re.search(r"<h1>\s*Sign in\s*</h1>", html)
    assert re.search(r'<button type="submit">\s*Sign in\s*</button>', html)
    remember = Labels.of(html)["id_remember"]
    assert remember["first"] == "input:checkbox"
    assert " ".join(remember["text"].split()) == "Remember me"
    assert label_texts(html)["id_login"] == "Email" and label_texts(html)["id_password"] == "Password"


def test_sign_up_asks_the_name_neighbors_will_see(client):
    html = client.get("/accounts/signup/").content.decode()
    assert re.search(r"<h1>\s*Sign up\s*</h1>", html)
    assert label_texts(html)["id_display_name"] == "Your name for neighbors"


def test_the_sign_up_email_greets_by_display_name_in_the_sites_words(client):
    signup(client)
    (message,) = mail.outbox
    assert message.subject == "[p2pcommons] Confirm your email address to finish signing up"
    assert message.body.startswith("Hello Nell Newcomer,")
    assert "Hello from" not in message.body and "testserver!" not in message.body
    assert "newcomer-7f3a" not in message.body
    assert "p2pcommons" in message.body
    assert re.search(r"http://testserver/accounts/confirm-email/\S+/", message.body)


def test_a_sign_up_with_a_taken_address_mails_its_owner_in_plain_words_without_a_name(client, member):
    signup(client, email="member@example.org", name="Somebody Else")
    (message,) = mail.outbox
    assert message.subject == "[p2pcommons] Someone tried to sign up with your email address"
    assert message.body.startswith("Hello,")
    assert "Somebody Else" not in message.body and "Max Member" not in message.body
    assert "/accounts/password/reset/" in message.body


def test_the_password_reset_email_greets_by_display_name_in_the_sites_words(client, member):
    client.post("/accounts/password/reset/", {"email": "member@example.org"})
    (message,) = mail.outbox
    assert message.subject == "[p2pcommons] Choose a new password"
    assert message.body.startswith("Hello Max Member,")
    assert "Hello from" not in message.body and "username" not in message.body
    assert "/accounts/password/reset/key/" in message.body


def test_the_footer_leads_to_the_developers_page_and_it_to_the_api_docs_and_the_ledger_check(client):
    developers = reverse("peers:about-developers")
    home = client.get("/").content.decode()
    assert re.search(rf'<a href="{developers}">For developers</a>', home)
    assert f'href="{reverse("api-docs")}"' not in home
    page = client.get(developers).content.decode()
    assert SITE_NAV in page
    assert f'href="{reverse("api-docs")}"' in page and f'href="{reverse("schema")}"' in page
    assert "scripts/verify_ledger_export.py" in page and "/api/v1/ledger/export/" in page


def test_the_profile_form_names_the_two_position_numbers_in_plain_words(web_as, member):
    form = ProfileForm()
    assert form.fields["latitude"].label == "North-south position (latitude)"
    assert form.fields["longitude"].label == "East-west position (longitude)"
    labels = label_texts(web_as(member).get(reverse("peers:profile-edit")).content.decode())
    assert labels["id_latitude"] == "North-south position (latitude)"
    assert labels["id_longitude"] == "East-west position (longitude)"


def test_the_profile_page_offers_use_my_location_only_to_javascript(web_as, member):
    html = web_as(member).get(reverse("peers:profile-edit")).content.decode()
    assert re.search(r"<div class=\"place-picker\" data-place-picker [^>]*hidden>", html)
    assert "js/place-picker.js" in html
    assert re.search(r'id="place-status" role="status" aria-live="polite"', html)


def save_area(client, *, neighborhood: str = ""):
    return client.post(
        reverse("peers:profile-edit"),
        {"display_name": "Max Member", "neighborhood": neighborhood, "latitude": "52.3585", "longitude": "4.8889"},
    )


def test_a_saved_area_without_a_neighborhood_reads_within_about_500_m_of_a_point_on_the_map(web_as, member):
    client = web_as(member)
    save_area(client)
    area = re.search(
        r'data-testid="profile-area">(.*?)</p>', client.get(reverse("peers:profile-edit")).content.decode(), re.S
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", area.group(1)).split())
    lat, lng = approximate(Decimal("52.3585"), Decimal("4.8889"))
    assert text.startswith("Neighbors see you as living somewhere within about 500 m of this point on the map")
    assert f"mlat={lat}&amp;mlon={lng}" in area.group(1)


def test_a_saved_area_with_a_neighborhood_reads_as_the_neighborhood_name_first(web_as, member):
    client = web_as(member)
    save_area(client, neighborhood="Oud-West")
    area = re.search(
        r'data-testid="profile-area">(.*?)</p>', client.get(reverse("peers:profile-edit")).content.decode(), re.S
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", area.group(1)).split())
    assert "Neighbors see you as living in <strong>Oud-West</strong>," in area.group(1)
    assert "somewhere within about 500 m of this point on the map" in text
