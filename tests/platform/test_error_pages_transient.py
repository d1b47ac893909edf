"""A service briefly away outside a view (a session saved by a middleware, say) is the
same clear 503 as inside one: Django's 500 handler hands such errors to
p2pcommons/resilience.py; anything else stays a 500."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from p2pcommons import views


def _handled(request, error: Exception):
    try:
        raise error
    except type(error):
        return views.server_error(request)


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), RedisConnectionError("refused")])
def test_a_service_that_is_away_answers_503_json_under_the_api(rf, error):
    response = _handled(rf.get("/api/v1/tools/"), error)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Content-Type"].startswith("application/json")
    assert "try again" in json.loads(response.content)["detail"]


def test_a_service_that_is_away_answers_a_plain_page_on_the_site(rf):
    response = _handled(rf.get("/tools/"), OperationalError("server closed the connection"))
    assert response.status_code == 503
    assert b"try again" in response.content
    assert b"server closed" not in response.content  # no error text reaches the neighbour


def test_a_real_bug_is_still_a_500(rf):
    response = _handled(rf.get("/api/v1/tools/"), ZeroDivisionError("bug"))
    assert response.status_code == 500
