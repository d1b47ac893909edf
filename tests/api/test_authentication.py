"""An app must tell "log in again" (401) from "you may not" (403): a missing, invalid or
expired session token is a 401 with a challenge; a signed-in member refused stays a 403.
Before, all three token cases were a 403 "Authentication credentials were not provided."
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from apps.peers.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def app_token(user) -> str:
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        data=json.dumps({"email": user.email, "password": DEFAULT_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def assert_log_in_again(response) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-Session-Token"
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_no_token_at_all_is_a_401_with_a_challenge(client):
    response = client.get(ME)

    assert_log_in_again(response)
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_an_invalid_token_is_a_401(client, member):
    assert_log_in_again(client.get(ME, HTTP_X_SESSION_TOKEN="no-such-session"))


def test_an_expired_token_is_a_401(client, member):
    token = app_token(member)
    assert client.get(ME, HTTP_X_SESSION_TOKEN=token).status_code == 200

    Session.objects.filter(session_key=token).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert_log_in_again(client.get(ME, HTTP_X_SESSION_TOKEN=token))


def test_a_token_logged_out_of_is_a_401(client, member):
    token = app_token(member)
    assert client.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token).status_code == 401

    assert_log_in_again(client.get(ME, HTTP_X_SESSION_TOKEN=token))


def test_a_write_without_a_token_is_a_401_too(client, community):
    response = client.post(f"/api/v1/communities/{community.pk}/join/")

    assert_log_in_again(response)


def test_a_signed_in_member_refused_is_still_a_403(client, member, other_community):
    token = app_token(member)

    response = client.get("/api/v1/ledger/verify/", {"community": other_community.pk}, HTTP_X_SESSION_TOKEN=token)

    assert response.status_code == 403
    assert response.json() == {"detail": "Only members of this community can audit its ledger."}
