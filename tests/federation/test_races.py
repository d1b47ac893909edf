"""Races on PostgreSQL: an inbox item processed by several workers at once acts once, and
the same activity delivered several times at once is stored once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.federation import services
from apps.federation.httpsig import sign_request
from apps.federation.models import Follow, InboxItem
from apps.peers.factories import OrganizerMembershipFactory
from tests.concurrency import run_together
from tests.federation.helpers import as_meta

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def pair(community, other_community, organizer):
    rio = OrganizerMembershipFactory(community=other_community, user__email="rio@example.org").user
    return (
        services.federation_enable(community=community, actor=organizer),
        services.federation_enable(community=other_community, actor=rio),
    )


def test_an_inbox_item_taken_by_eight_workers_at_once_is_processed_once(pair):
    a, b = pair
    follow = {"id": f"{b.uri}/activities/raced", "type": "Follow", "actor": b.uri, "object": a.uri}
    services.remote_actor_get(uri=b.uri)  # as the signature check cached it
    # Stored as the inbox stores it (the task it enqueues is what the eight workers race for).
    item = InboxItem.objects.create(
        activity_uri=follow["id"], local=a, actor_uri=b.uri, kind="Follow", object_uri=a.uri, payload=follow
    )
    results = run_together(*[lambda: services.inbox_process(item_id=item.pk) for _ in range(8)])
    assert sorted(results) == ["done"] + ["not_due"] * 7, results
    assert Follow.objects.filter(local=a, direction="in").count() == 1


def test_the_same_activity_delivered_eight_times_at_once_is_stored_once(pair):
    a, b = pair
    follow = {"id": f"{b.uri}/activities/twice", "type": "Follow", "actor": b.uri, "object": a.uri}
    body = json.dumps(follow).encode()
    # Eight deliveries of one activity (retries), each signed at its own moment beforehand.
    signed = [
        as_meta(
            sign_request(
                method="POST",
                url=a.inbox_url,
                body=body,
                key_id=b.key_id,
                private_key_pem=b.private_key_pem,
                now=timezone.now() + timedelta(seconds=10 * n),
            ),
            a.inbox_url,
        )
        for n in range(8)
    ]

    def deliver(meta):
        response = Client().post(
            "/federation/c/sunnyside/inbox", data=body, content_type="application/activity+json", **meta
        )
        return response.status_code, response.json()["detail"]

    results = run_together(*[lambda meta=meta: deliver(meta) for meta in signed])
    assert sorted(results) == [(202, "accepted")] + [(202, "already received")] * 7, results
    assert InboxItem.objects.filter(activity_uri=follow["id"]).count() == 1
    assert Follow.objects.filter(local=a, direction="in").count() == 1
