"""API throttles: per member, per anonymous address, and per kind of write; 429 in plain JSON.

Test settings turn throttling off (counts would carry over between tests); each test
here sets low rates and starts from an empty cache.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from apps.ledger.models import Transfer
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def rates(**scopes: str):
    """override_settings for REST_FRAMEWORK with only these throttle rates."""
    from django.conf import settings

    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict(scopes.items())})


def send_gift(client: APIClient, community, to, n: int):
    return client.post(
        "/api/v1/ledger/transfers/",
        {"community": community.pk, "currency": "HOUR", "to": to.pk, "amount": "0.01", "memo": "hi"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"gift-{n}",
    )


def test_gifts_beyond_the_write_limit_are_refused_with_a_plain_json_429_and_notify_nobody(
    api_as, owner, member, community
):
    client = api_as(owner)
    with rates(**{"write.ledger-transfer.create": "3/hour"}):
        answers = [send_gift(client, community, member, n) for n in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    refused = answers[3]
    assert refused.json() == {"detail": "Too many requests of this kind. Please wait 60 minutes and try again."}
    assert 3500 < int(refused["Retry-After"]) <= 3600
    assert Transfer.objects.filter(memo="hi").count() == 3
    assert Notification.objects.filter(recipient=member).count() == 3


def test_each_kind_of_write_has_its_own_budget_and_reads_are_not_counted(api_as, owner, member, community):
    client = api_as(owner)
    with rates(write="2/hour"):
        gifts = [send_gift(client, community, member, n).status_code for n in range(3)]
        reads = [client.get("/api/v1/ledger/transfers/").status_code for _ in range(5)]
        marks = [client.post("/api/v1/notifications/read-all/").status_code for _ in range(3)]
    assert gifts == [201, 201, 429]
    assert reads == [200] * 5
    assert marks == [200, 200, 429]


def test_the_write_limit_counts_per_member(api_as, owner, member, organizer, community):
    with rates(write="1/hour"):
        first = send_gift(api_as(owner), community, member, 1).status_code
        again = send_gift(api_as(owner), community, member, 2).status_code
        other = send_gift(api_as(organizer), community, member, 3).status_code
    assert (first, again, other) == (201, 429, 201)


def test_a_scope_without_its_own_rate_uses_the_general_write_rate(api_as, member):
    with rates(write="1/hour", **{"write.ledger-transfer.create": "100/hour"}):
        answers = [api_as(member).post("/api/v1/notifications/read-all/").status_code for _ in range(2)]
    assert answers == [200, 429]


def test_a_plain_api_view_is_throttled_per_url_name_and_method(api_as, member):
    body = [{"kind": "ledger.received", "delivery": "off"}]
    with rates(**{"write.notification-preferences.put": "1/hour"}, write="100/hour"):
        client = api_as(member)
        answers = [client.put("/api/v1/notifications/preferences/", body, format="json").status_code for _ in range(2)]
    assert answers == [200, 429]


def test_a_member_is_limited_on_all_requests_by_the_user_rate(api_as, member):
    with rates(user="3/minute"):
        answers = [api_as(member).get("/api/v1/notifications/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_anonymous_callers_are_limited_by_address(client):
    with rates(anon="2/minute"):
        answers = [client.get("/api/schema/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(3)]
        elsewhere = client.get("/api/schema/", REMOTE_ADDR="198.51.100.8").status_code
    assert answers == [200, 200, 429]
    assert elsewhere == 200


def test_a_forged_forwarded_for_header_does_not_give_an_anonymous_caller_a_fresh_budget(client):
    with rates(anon="1/minute"):
        first = client.get("/api/schema/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code
        forged = client.get("/api/schema/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code
    assert (first, forged) == (200, 429)


def test_throttle_counts_are_kept_in_the_shared_cache(api_as, member):
    with rates(write="5/hour"):
        api_as(member).post("/api/v1/notifications/read-all/")
    assert len(cache.get(f"throttle_write.notification.read_all_user-{member.pk}")) == 1
