"""Accounts through django-allauth: signup creates a profile, reset mails, rate limits."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from apps.peers.models import Profile, User
from p2pcommons.settings import base

pytestmark = pytest.mark.django_db


def test_signing_up_creates_the_account_and_its_profile_and_sends_a_verification_email(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.org",
            "display_name": "Nell New",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert Profile.objects.get(user=user).display_name == "Nell New"
    assert EmailAddress.objects.get(user=user).verified is False
    assert any("new@example.org" in m.to for m in mail.outbox)


def test_signup_with_bad_input_shows_the_form_again_and_creates_nothing(client):
    response = client.post("/accounts/signup/", {"email": "not-an-email", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not User.objects.filter(email="not-an-email").exists()


def test_password_reset_mails_a_link(client, member):
    response = client.post("/accounts/password/reset/", {"email": "member@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/password/reset/key/" in mail.outbox[0].body


def test_login_rate_limits_are_on_outside_tests():
    assert base.ACCOUNT_RATE_LIMITS["login_failed"]
    assert settings.ACCOUNT_RATE_LIMITS is False  # only the test settings turn them off


def test_repeated_failed_logins_are_throttled(client, member):
    cache.clear()
    with override_settings(ACCOUNT_RATE_LIMITS=base.ACCOUNT_RATE_LIMITS):
        pages = [
            client.post("/accounts/login/", {"login": "member@example.org", "password": "wrong"}).content.decode()
            for _ in range(6)
        ]
        right_password = client.post(
            "/accounts/login/", {"login": "member@example.org", "password": "correct-horse-battery-staple"}
        )
    cache.clear()
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    assert right_password.status_code == 200  # still refused while throttled: no redirect into the site
    assert "_auth_user_id" not in client.session
