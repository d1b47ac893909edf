"""Everything we receive: signature checked, stored once by activity id, processed by a task.

``inbox_receive`` runs in the request: it checks the HTTP signature (the key of the
signing actor is fetched once and cached; a bad signature with a cached key refetches it
once, for a key rotation), that the activity's actor owns that key, that the signature
was not seen before (replay), and stores an ``InboxItem``. Any refusal stores nothing
(``InboxRefused``: a 401 with the reason). A second delivery of the same activity id
stores nothing and changes nothing.

``inbox_process`` (a task) claims the item and hands it to the handler of its type.
An activity about an exchange we do not know yet (an ``Update`` before its ``Offer``) is
kept ``deferred`` and processed again when the ``Offer`` arrives; one that would move an
exchange backwards is ``ignored`` with the reason recorded.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation

from ..models import InboxItem, LocalActor, RemoteActor, SeenSignature
from .actors import remote_actor_for_key

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
LEASE = timedelta(minutes=5)
SEEN_KEPT = timedelta(days=2)


class InboxRefused(Exception):
    """The request is refused (401); ``reason`` says why, in a word a program can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Deferred(Exception):
    """The activity needs an earlier one first (kept and processed again later)."""


class Ignored(Exception):
    """The activity changes nothing (stale, unknown object, not allowed); the reason is kept."""


def _id_of(value) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _verify(*, method: str, url: str, headers, body: bytes, via: LocalActor | None) -> tuple[RemoteActor, list[str]]:
    """Check the signature; return the signing actor and the tokens to record as seen."""
    from ..http import RemoteError
    from ..httpsig import SignatureRefused, verify_request

    for refresh in (False, True):
        found: dict[str, RemoteActor] = {}
        tokens: list[str] = []

        def resolve_key(key_id: str, refresh=refresh, found=found) -> str | None:
            try:
                actor = remote_actor_for_key(key_id=key_id, via=via, refresh=refresh)
            except (RemoteError, ValidationError, ValueError):
                return None
            if actor is None or not actor.public_key_pem:
                return None
            found["actor"] = actor
            return actor.public_key_pem

        def seen(token: str, tokens=tokens) -> bool:
            if token in tokens or SeenSignature.objects.filter(token=token[:128]).exists():
                return True
            tokens.append(token[:128])
            return False

        try:
            verify_request(method=method, url=url, headers=headers, body=body, resolve_key=resolve_key, seen=seen)
        except SignatureRefused as exc:
            if exc.reason == "bad_signature" and not refresh and "actor" in found:
                continue  # the key may have been rotated: fetch it again, once
            raise InboxRefused(exc.reason) from None
        if "actor" not in found:
            raise InboxRefused("unknown_key")
        return found["actor"], tokens
    raise InboxRefused("bad_signature")


def inbox_receive(*, method: str, url: str, headers, body: bytes, local: LocalActor | None) -> tuple[InboxItem, bool]:
    """Check and store one incoming activity; (item, created). Raises ``InboxRefused``."""
    if len(body) > MAX_BODY:
        raise InboxRefused("too_large")
    sender, tokens = _verify(method=method, url=url, headers=headers, body=body, via=local)
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboxRefused("malformed") from None
    if not isinstance(activity, dict):
        raise InboxRefused("malformed")
    if _id_of(activity.get("actor")) != sender.uri:
        raise InboxRefused("actor_mismatch")
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or urlsplit(activity_id).netloc != sender.host or len(activity_id) > 500:
        raise InboxRefused("malformed")
    kind = activity.get("type")
    if not isinstance(kind, str):
        raise InboxRefused("malformed")
    from ..tasks import process_inbox_item

    with transaction.atomic():
        try:
            with transaction.atomic():
                SeenSignature.objects.bulk_create([SeenSignature(token=t) for t in tokens])
        except IntegrityError:
            raise InboxRefused("replayed") from None
        item, created = InboxItem.objects.get_or_create(
            activity_uri=activity_id,
            defaults={
                "local": local,
                "actor_uri": sender.uri,
                "kind": kind[:40],
                "object_uri": _id_of(activity.get("object"))[:500],
                "payload": activity,
                "key_id": sender.key_id,
            },
        )
        if created:
            enqueue_on_commit(process_inbox_item, item.pk, waits_for="the federation inbox sweep")
    return item, created


def _claim(item_id: int, now: datetime) -> InboxItem | None:
    claimed = InboxItem.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=item_id,
        state__in=(InboxItem.State.PENDING, InboxItem.State.PROCESSING),
    ).update(state=InboxItem.State.PROCESSING, lease_until=now + LEASE)
    return InboxItem.objects.filter(pk=item_id).first() if claimed else None


def inbox_process(*, item_id: int, now: datetime | None = None) -> str:
    """Process one stored activity, once (claimed by a conditional UPDATE with a lease).

    Activities of one sender are processed one at a time: the transaction first takes
    SELECT FOR UPDATE on the sender's row, and the item's outcome (done, deferred,
    ignored) is written in that same transaction. So an activity deferred for an earlier
    one (an Announce before the Accept of the follow, an Update before its Offer) is
    always seen, committed, by the earlier one's reprocessing.
    """
    from .dispatch import handle

    now = now or timezone.now()
    item = _claim(item_id, now)
    if item is None:
        return "not_due"
    state, reason = InboxItem.State.DONE, ""
    with transaction.atomic():
        sender = RemoteActor.objects.select_for_update().get(uri=item.actor_uri)
        try:
            with transaction.atomic():
                handle(item=item, sender=sender)
        except Deferred as exc:
            state, reason = InboxItem.State.DEFERRED, str(exc)
        except (Ignored, RuleViolation, ValidationError) as exc:
            state, reason = InboxItem.State.IGNORED, _reason(exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A shape no handler expected: kept with the reason, never retried forever.
            logger.warning("Inbox item %s is malformed: %r", item.activity_uri, exc)
            state, reason = InboxItem.State.IGNORED, f"malformed: {exc!r}"
        InboxItem.objects.filter(pk=item.pk).update(
            state=state, reason=reason[:300], processed_at=now, lease_until=None, attempts=item.attempts + 1
        )
    return state


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    code = getattr(exc, "code", "")
    return f"{code}: {exc}" if code else str(exc)


def inbox_reprocess_deferred(*, object_uri: str | None = None, actor_uri: str | None = None) -> int:
    """Activities kept waiting for an earlier one (about ``object_uri``, or from
    ``actor_uri``): processed again after the current transaction commits."""
    from ..tasks import process_inbox_item

    waiting = InboxItem.objects.filter(state=InboxItem.State.DEFERRED)
    if object_uri is not None:
        waiting = waiting.filter(object_uri=object_uri)
    if actor_uri is not None:
        waiting = waiting.filter(actor_uri=actor_uri)
    ids = list(waiting.order_by("received_at", "id").values_list("pk", flat=True))
    InboxItem.objects.filter(pk__in=ids).update(state=InboxItem.State.PENDING)
    for pk in ids:
        enqueue_on_commit(process_inbox_item, pk, waits_for="the federation inbox sweep")
    return len(ids)


def inbox_due(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Items waiting (never processed, or a worker died holding them)."""
    now = now or timezone.now()
    return list(
        InboxItem.objects.filter(
            Q(state=InboxItem.State.PENDING) | Q(state=InboxItem.State.PROCESSING, lease_until__lt=now)
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )


def seen_signatures_prune(*, now: datetime | None = None) -> int:
    """Forget replay tokens older than any signature we would still accept as fresh."""
    now = now or timezone.now()
    deleted, _rows = SeenSignature.objects.filter(seen_at__lt=now - SEEN_KEPT).delete()
    return deleted
