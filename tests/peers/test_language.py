"""Choosing a language: the footer switcher (visitors: a cookie; members: also their
profile and session, so every later page, email and notification follows), the API's
profile field, and sign-in restoring the saved choice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from apps.ledger.services import gift_send
from p2pcommons.i18n import SESSION_LANGUAGE, SESSION_TIMEZONE

pytestmark = pytest.mark.django_db


def test_a_visitor_switches_to_dutch_and_the_next_pages_are_dutch(client):
    response = client.post("/language/", {"language": "nl", "next": "/guide/"})
    assert response.status_code == 302 and response["Location"] == "/guide/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    page = client.get("/guide/")
    assert page["Content-Language"] == "nl"
    assert '<html lang="nl"' in page.content.decode()


def test_a_visitors_browser_language_is_used_until_they_choose(client):
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9")["Content-Language"] == "nl"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr")["Content-Language"] == "en"


def test_a_members_choice_is_saved_on_the_profile_and_follows_them_to_a_new_session(member):
    browser = Client()
    browser.force_login(member)
    browser.post("/language/", {"language": "nl", "next": "/"})
    member.profile.refresh_from_db()
    assert member.profile.language == "nl"
    assert browser.session[SESSION_LANGUAGE] == "nl"

    elsewhere = Client()  # another device: no cookie, an English browser
    elsewhere.force_login(member)
    assert elsewhere.session[SESSION_LANGUAGE] == "nl"
    assert elsewhere.session[SESSION_TIMEZONE] == member.memberships.first().community.time_zone
    assert elsewhere.get("/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "nl"


def test_an_unknown_language_or_an_outside_next_changes_nothing(client, member):
    client.force_login(member)
    response = client.post("/language/", {"language": "xx", "next": "/"}, follow=True)
    member.profile.refresh_from_db()
    assert member.profile.language == ""
    assert "Choose one of the languages in the list." in response.content.decode()
    response = client.post("/language/", {"language": "nl", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get("/language/").status_code == 405


def test_the_api_reads_and_sets_the_language_and_answers_in_it(api_as, member):
    api = api_as(member)
    assert api.get("/api/v1/me/").json()["language"] == ""
    assert api.patch("/api/v1/me/", {"language": "nl"}, format="json").json()["language"] == "nl"
    bad = api.patch("/api/v1/me/", {"language": "klingon"}, format="json")
    assert bad.status_code == 400 and "language" in bad.json()
    # Apps say which language they want with Accept-Language.
    answer = api.patch("/api/v1/me/", {"display_name": ""}, format="json", HTTP_ACCEPT_LANGUAGE="nl")
    assert answer.status_code == 400 and "Dit veld mag niet leeg zijn." in str(answer.json())


def test_a_dutch_members_email_is_dutch_whatever_language_the_sender_reads(
    owner, member, django_capture_on_commit_callbacks
):
    member.profile.language = "nl"
    member.profile.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _gift(owner, member)
    sent = [m for m in mail.outbox if member.email in m.to]
    assert sent and "1,50 uur" in sent[-1].body
    assert "1.50 hours" not in sent[-1].body


def _gift(owner, member):
    gift_send(
        sender=owner,
        recipient=member,
        community=member.memberships.first().community,
        currency="HOUR",
        amount=Decimal("1.5"),
        memo="",
        idempotency_key="dutch-email",
    )
