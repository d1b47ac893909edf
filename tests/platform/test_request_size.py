"""Oversized requests are refused from their headers, before the body is read."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.notifications.models import Preference

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def test_a_json_body_over_the_limit_is_refused_with_a_json_413_before_anything_is_saved(api_as, member):
    rows = [{"kind": "ledger.received", "delivery": "off"}] * 30_000  # about 1.4 MB
    body = json.dumps(rows)
    assert len(body) > MB
    response = api_as(member).generic("PUT", "/api/v1/notifications/preferences/", body, "application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "This request is too large: the limit is 1 MB."}
    assert not Preference.objects.filter(user=member).exists()


def test_the_body_is_not_read_when_its_declared_size_is_over_the_limit(api_as, member):
    # The declared size is 80 MB but only two bytes follow: had anything read the body,
    # the test client's payload would have raised instead of this 413.
    response = api_as(member).generic(
        "POST", "/api/v1/tools/", b"{}", "multipart/form-data; boundary=x", CONTENT_LENGTH=str(80 * MB)
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "This request is too large: the limit is 12 MB."}


def test_an_upload_over_the_limit_on_a_page_gets_a_plain_html_413(member):
    client = Client()
    client.force_login(member)
    response = client.generic(
        "POST", "/tools/new/", b"--x--", "multipart/form-data; boundary=x", CONTENT_LENGTH=str(13 * MB)
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "the limit is 12 MB" in response.content.decode()


def test_a_multipart_upload_under_the_upload_limit_but_over_the_json_limit_gets_through(api_as, member):
    boundary = "x"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.bin"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"0" * (2 * MB)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = api_as(member).generic(
        "POST", "/api/v1/notifications/read-all/", body, f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 0}


def test_django_refuses_too_many_form_fields(member):
    from django.conf import settings

    client = Client()
    client.force_login(member)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/notifications/preferences/", fields)
    assert response.status_code == 400
