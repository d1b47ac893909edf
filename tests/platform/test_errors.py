"""Every answer under /api/ is JSON with a message; the site keeps its HTML error pages."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_an_unknown_route_under_the_api_is_a_json_404(api_as, member):
    response = api_as(member).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_route_under_the_api_is_json_for_anonymous_callers_too(client):
    response = client.get("/api/v2/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_an_unknown_page_of_the_site_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@override_settings(ROOT_URLCONF="tests.platform.urls")
def test_a_crash_under_the_api_is_a_json_500_with_a_message():
    response = Client(raise_request_exception=False).get("/api/v1/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side. Please try again later."}


@override_settings(ROOT_URLCONF="tests.platform.urls")
def test_a_crash_on_a_page_is_still_an_html_500():
    response = Client(raise_request_exception=False).get("/pages/crash/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_csrf_failure_under_the_api_is_json(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post("/api/v1/notifications/read-all/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_csrf_failure_of_the_app_login_api_is_json_and_of_a_page_is_html(member):
    from django.test import RequestFactory

    from p2pcommons.views import csrf_failure

    api = csrf_failure(RequestFactory().post("/_allauth/browser/v1/auth/login"), reason="no token")
    page = csrf_failure(RequestFactory().post("/tools/new/"), reason="no token")
    assert (api.status_code, api["Content-Type"]) == (403, "application/json")
    assert "reload the page" in api.content.decode()
    assert page["Content-Type"].startswith("text/html")


def test_a_csrf_failure_on_a_page_is_refused_with_the_html_page(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
