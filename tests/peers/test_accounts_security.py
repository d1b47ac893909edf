"""Sign-in and sign-up hold against guessing, lock-outs and address probing."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from apps.peers.models import Profile, User
from p2pcommons.settings import base

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"


@pytest.fixture
def rate_limits_on():
    cache.clear()
    with override_settings(ACCOUNT_RATE_LIMITS=base.ACCOUNT_RATE_LIMITS):
        yield
    cache.clear()


def _login(client, password: str, ip: str):
    return client.post(LOGIN, {"login": "member@example.org", "password": password}, REMOTE_ADDR=ip)


# --- item 3: the admin login is rate limited -------------------------------------------


def test_the_admin_login_goes_through_the_rate_limited_sign_in(client, member, rate_limits_on):
    admin_login = client.get("/admin/login/?next=/admin/")
    assert admin_login.status_code == 302 and admin_login["Location"].startswith("/accounts/login/")
    # The admin has no password form of its own any more: posting one signs nobody in.
    client.post("/admin/login/", {"username": "member@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_refuses_the_right_password_after_too_many_wrong_ones(client, organizer, rate_limits_on):
    start = client.get("/admin/login/?next=/admin/")["Location"]
    for _ in range(5):
        client.post(start, {"login": "organizer@example.org", "password": "wrong"})
    page = client.post(start, {"login": "organizer@example.org", "password": PASSWORD})
    assert page.status_code == 200
    assert "Too many failed login attempts" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still not in the admin


# --- item 10: the lockout is per account and source together --------------------------


def test_wrong_guesses_from_elsewhere_do_not_lock_the_member_out(client, member, rate_limits_on):
    for _ in range(5):
        _login(client, "wrong", ip="203.0.113.66")
    from_the_attacker = _login(client, PASSWORD, ip="203.0.113.66")
    assert "Too many failed login attempts" in from_the_attacker.content.decode()
    assert "_auth_user_id" not in client.session

    from_home = _login(client, PASSWORD, ip="198.51.100.7")
    assert from_home.status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)


# --- item 5: sign-up asks for a display name, never derived from the email -------------


def test_sign_up_asks_for_the_name_neighbors_see(client):
    page = client.get(SIGNUP).content.decode()
    assert "Your name for neighbors" in page
    missing = client.post(
        SIGNUP,
        {"email": "jane.doe@example.org", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
    )
    assert missing.status_code == 200 and "This field is required." in missing.content.decode()
    assert not User.objects.filter(email="jane.doe@example.org").exists()

    client.post(
        SIGNUP,
        {
            "email": "jane.doe@example.org",
            "display_name": "Jane from Elm Street",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )
    assert Profile.objects.get(user__email="jane.doe@example.org").display_name == "Jane from Elm Street"


def test_an_app_sign_up_keeps_the_chosen_name(client):
    response = client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "app.user@example.org", "display_name": "Robin", "password": "a-long-pass-phrase-42"},
        content_type="application/json",
    )
    assert response.status_code in (200, 401)
    assert Profile.objects.get(user__email="app.user@example.org").display_name == "Robin"


# --- item 14: a taken and a free address get the same answer, in every mode -------------


def _sign_up(client, email: str):
    client.logout()
    return client.post(
        SIGNUP,
        {
            "email": email,
            "display_name": "Someone",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
        follow=True,
    )


def _page_text(response, email: str) -> str:
    """The page with the address typed in and the per-request CSRF token taken out."""
    page = response.content.decode().replace(email, "ADDRESS")
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r"\1", page)


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_sign_up_answers_the_same_for_a_taken_and_a_free_address(client, member, mode):
    with override_settings(ACCOUNT_EMAIL_VERIFICATION=mode):
        taken = _sign_up(client, "member@example.org")
        taken_signed_in = "_auth_user_id" in client.session
        free = _sign_up(client, "newcomer@example.org")
        free_signed_in = "_auth_user_id" in client.session
    assert taken.redirect_chain == free.redirect_chain == [("/accounts/confirm-email/", 302)]
    assert _page_text(taken, "member@example.org") == _page_text(free, "newcomer@example.org")
    assert "already registered" not in taken.content.decode()
    assert taken_signed_in is free_signed_in is False
    assert User.objects.filter(email="member@example.org").count() == 1
    assert User.objects.filter(email="newcomer@example.org").exists()
    to_owner = [m for m in mail.outbox if "member@example.org" in m.to]
    assert len(to_owner) == 1 and "already" in (to_owner[0].subject + to_owner[0].body).lower()


def test_in_optional_mode_a_new_member_may_still_sign_in_before_verifying(client, db):
    with override_settings(ACCOUNT_EMAIL_VERIFICATION="optional"):
        _sign_up(client, "newcomer@example.org")
        response = client.post(LOGIN, {"login": "newcomer@example.org", "password": "a-long-pass-phrase-42"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_app_sign_up_answers_the_same_for_a_taken_and_a_free_address(client, member, mode):
    def sign_up(email):
        client.cookies.clear()
        response = client.post(
            "/_allauth/app/v1/auth/signup",
            {"email": email, "display_name": "Someone", "password": "a-long-pass-phrase-42"},
            content_type="application/json",
        )
        body = response.json()
        body.get("meta", {}).pop("session_token", None)
        return response.status_code, body

    with override_settings(ACCOUNT_EMAIL_VERIFICATION=mode):
        taken, free = sign_up("member@example.org"), sign_up("newcomer@example.org")
    assert taken == free
    assert taken[0] == 401 and not taken[1]["meta"]["is_authenticated"]
    assert User.objects.filter(email="member@example.org").count() == 1
