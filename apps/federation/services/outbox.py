"""Everything we send: one place builds the deliveries (``activity_send``), a task sends each.

Every outgoing activity is an ``OutboxActivity`` (the public ones make the community's
outbox) and one ``Delivery`` per target inbox, unique by (activity id, inbox): sending
the same activity to the same inbox twice stores one row and posts once. A delivery is
claimed with a lease before it is posted, so two workers never post it at once and a
worker killed half-way is retaken when the lease runs out; failures are retried with
backoff (``RETRY_DELAYS``) and then given up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from p2pcommons.enqueue import enqueue_on_commit

from ..models import Delivery, LocalActor, OutboxActivity

logger = logging.getLogger(__name__)

RETRY_DELAYS = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
]
LEASE = timedelta(minutes=2)


def activity_send(*, local: LocalActor, activity: dict, inboxes: Iterable[str], public: bool = False) -> list[Delivery]:
    """Record ``activity`` as sent by ``local`` and queue one delivery per inbox (after
    commit). Inboxes on the same shared inbox are not deduplicated: each is one row."""
    from ..tasks import deliver

    try:
        with transaction.atomic():
            OutboxActivity.objects.create(
                activity_uri=activity["id"], local=local, kind=activity["type"], payload=activity, public=public
            )
    except IntegrityError:
        pass  # the same activity again: its deliveries below are the same rows
    rows = []
    for inbox in dict.fromkeys(i for i in inboxes if i):
        delivery, created = Delivery.objects.get_or_create(
            activity_uri=activity["id"],
            inbox=inbox,
            defaults={"local": local, "kind": activity["type"], "payload": activity},
        )
        rows.append(delivery)
        if created:
            enqueue_on_commit(deliver, delivery.pk, waits_for="the federation delivery sweep")
    return rows


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    """Take the delivery for LEASE if it is due and not held by a live lease."""
    claimed = Delivery.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        state__in=(Delivery.State.PENDING, Delivery.State.SENDING),
    ).update(state=Delivery.State.SENDING, lease_until=now + LEASE)
    if not claimed:
        return None
    return Delivery.objects.select_related("local").get(pk=delivery_id)


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Post one delivery (signed by its community's key); retried later on failure."""
    from ..http import RemoteError, post_activity

    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "not_due"
    local = delivery.local
    if not local.enabled:
        # The organizers closed the community to other servers: nothing more leaves it.
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED, last_error="community closed to other servers", lease_until=None
        )
        return "failed"
    status, error = None, ""
    try:
        status = post_activity(
            delivery.inbox, delivery.payload, key_id=local.key_id, private_key_pem=local.private_key_pem
        )
    except RemoteError as exc:
        status, error = exc.status, str(exc.reason or exc)[:300]
    attempts = delivery.attempts + 1
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.SENT, sent_at=now, attempts=attempts, last_status=status, lease_until=None
        )
        return "sent"
    gone = status is not None and 400 <= status < 500 and status not in (401, 408, 429)
    if gone or attempts > len(RETRY_DELAYS):
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED,
            attempts=attempts,
            last_status=status,
            last_error=error or f"status {status}",
            lease_until=None,
        )
        logger.warning("Delivery %s to %s given up (%s)", delivery.activity_uri, delivery.inbox, status or error)
        return "failed"
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.PENDING,
        attempts=attempts,
        last_status=status,
        last_error=error or f"status {status}",
        next_attempt_at=now + RETRY_DELAYS[attempts - 1],
        lease_until=None,
    )
    return "retry"


def deliveries_due(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Ids of deliveries waiting (their next attempt due, or a lease run out)."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            Q(state=Delivery.State.PENDING, next_attempt_at__isnull=True)
            | Q(state=Delivery.State.PENDING, next_attempt_at__lte=now)
            | Q(state=Delivery.State.SENDING, lease_until__lt=now)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
