"""Writes for notifications: create, deliver (once), digest, read, preferences."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Model, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.models import User
from p2pcommons.enqueue import current_task_id, enqueue_now
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message, override_for

from .kinds import DELIVERIES, KINDS, get_kind
from .models import Notification, Preference

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
OUTBOX_GRACE = timedelta(seconds=30)


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    text: str | Message,
    target: Model | None = None,
    actor: User | None = None,
    url: str = "",
) -> list[Notification]:
    """Save one notification per recipient and schedule delivery after commit.

    Links to ``url``, or else to the target's ``get_absolute_url()`` when it has one.

    Never raises because of the broker: if enqueueing fails the rows stay unclaimed and
    the outbox task delivers them later. The actor is not notified of their own act.
    """
    return notify_each(messages=[(user, text) for user in recipients], kind=kind, target=target, actor=actor, url=url)


def notify_each(
    *,
    messages: Iterable[tuple[User, str | Message]],
    kind: str,
    target: Model | None = None,
    actor: User | None = None,
    url: str = "",
) -> list[Notification]:
    """``notify`` with a text of its own for each recipient (``(user, text)`` pairs),
    in one insert and one delivery task however many there are: a cleared market slot
    tells a thousand traders how their orders did in a handful of queries. A recipient
    named twice is told once (the first text)."""
    get_kind(kind)
    if not url and target is not None and hasattr(target, "get_absolute_url"):
        url = target.get_absolute_url()
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    seen: set[int] = set()
    rows = []
    now = timezone.now()
    for user, said in messages:
        if user is None or user.pk in seen or not user.is_active or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                text=(said.english() if isinstance(said, Message) else str(said))[:300],
                message=said.to_json() if isinstance(said, Message) else None,
                url=url[:500],
                actor=actor,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                created_at=now,
            )
        )
    if not rows:
        return []
    Notification.objects.bulk_create(rows)
    ids = [n.pk for n in rows]
    transaction.on_commit(lambda: enqueue_delivery(ids))  # the outbox sweep covers a broker that is down
    return rows


def enqueue_delivery(ids: list[int]) -> None:
    """Hand the ids to a worker; if the broker is unreachable, leave them to the outbox."""
    from .tasks import deliver_notifications

    enqueue_now(deliver_notifications, ids, waits_for=f"the outbox sweep ({len(ids)} notification(s))")


def delivery_for(*, user: User, kind: str) -> str:
    pref = Preference.objects.filter(user=user, kind=kind).values_list("delivery", flat=True).first()
    return pref or get_kind(kind).default


def _absolute(url: str) -> str:
    return url if url.startswith("http") else f"{settings.SITE_URL}{url}"


def unsubscribe_url(*, user: User, kind: str) -> str:
    token = signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT)
    return _absolute(reverse("notifications:unsubscribe", args=[token]))


def _send(*, user: User, subject: str, template: str, context: dict, kind: str | None) -> None:
    """Email ``user`` in their language and time zone (the subject is translated here too)."""
    with override_for(user):
        _send_now(user=user, subject=str(subject), template=template, context=context, kind=kind)


def _send_now(*, user: User, subject: str, template: str, context: dict, kind: str | None) -> None:
    context = {
        **context,
        "user": user,
        "site_url": settings.SITE_URL,
        "preferences_url": _absolute(reverse("notifications:preferences")),
        "unsubscribe_url": unsubscribe_url(user=user, kind=kind) if kind else None,
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[user.email],
        headers={"List-Unsubscribe": f"<{context['unsubscribe_url'] or context['preferences_url']}>"},
    )
    message.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    message.send()


# How long a delivery run's claim on a notification holds: longer than deciding and
# sending one email can take. A claim older than this, with the email still not sent,
# belongs to a run that died, and the outbox sweep takes it over.
SEND_LEASE = timedelta(minutes=5)
IN_FLIGHT = (Notification.Email.PENDING, Notification.Email.SENDING)
SENDER_WINDOW = timedelta(hours=1)


def _takeable(*, task_id: str | None, now: datetime) -> Q:
    """Rows a delivery run may claim: unclaimed ones; in-flight ones (claimed, email not
    yet sent) whose lease ran out; and in-flight ones claimed by this same task."""
    takeable = Q(delivered_at__isnull=True) | Q(email__in=IN_FLIGHT, delivered_at__lt=now - SEND_LEASE)
    if task_id:
        takeable |= Q(email__in=IN_FLIGHT, delivered_at__isnull=False, claimed_by__startswith=f"{task_id}/")
    return takeable


def deliver(*, notification_ids: Iterable[int], now: datetime | None = None) -> int:
    """Deliver each notification once: claim it with a conditional UPDATE, then email it
    now, keep it for the digest, or skip email, as the recipient prefers. A failed send
    releases the claim (and raises) so a retry or the outbox tries again. Returns the
    number of emails sent.

    The claim is a lease (``SEND_LEASE``): the row is marked ``sending`` before the email
    goes out and ``sent`` only after, so a worker killed in between leaves it in flight.
    The redelivered task (same task id) takes its own claims over at once; otherwise the
    outbox sweep takes the row once the lease ran out. A claim is taken by an UPDATE
    conditional on the claim time it read, so two runs or sweepers never both take a row.
    Delivery is therefore at least once: a neighbor gets a second copy only if the worker
    dies after the mail server accepted the email and before the row was marked sent
    (or if one send outlasts the lease).

    One member's notifications to one neighbor are emailed at once only up to
    ``NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR`` an hour; beyond that they wait for the
    daily digest (in-app they show at once), so gifts or request/cancel cycles cannot
    flood a neighbor's inbox. The subject line is the kind's fixed wording; the text,
    which may quote the sender, is only in the body.
    """
    task_id = current_task_id()
    sent = 0
    rows = (
        Notification.objects.filter(
            _takeable(task_id=task_id, now=now or timezone.now()), pk__in=list(notification_ids)
        )
        .select_related("recipient__profile")
        .order_by("created_at", "pk")  # oldest first: the first ones within a sender's limit go out now
    )
    for n in rows:
        claim_time = timezone.now()
        claim = f"{task_id or 'direct'}/{uuid.uuid4().hex}"
        as_read = Q(delivered_at__isnull=True) if n.delivered_at is None else Q(delivered_at=n.delivered_at)
        taken = Notification.objects.filter(_takeable(task_id=task_id, now=now or claim_time), as_read, pk=n.pk).update(
            delivered_at=claim_time, claimed_by=claim, email=Notification.Email.PENDING, emailed_at=None
        )
        if taken != 1:
            continue  # another run has it
        held = Notification.objects.filter(pk=n.pk, claimed_by=claim)
        delivery = delivery_for(user=n.recipient, kind=n.kind) if n.kind in KINDS else "off"
        if delivery == "off" or not n.recipient.email or n.read_at is not None:
            held.update(email=Notification.Email.SKIPPED)
            continue
        reserved = "digest" if delivery == "digest" else _reserve_email(notification=n, now=claim_time, claim=claim)
        if reserved == "digest":
            held.update(email=Notification.Email.DIGEST)
            continue
        if reserved == "lost":
            continue  # the lease ran out and another run took it over
        try:
            _send(
                user=n.recipient,
                subject=get_kind(n.kind).email_subject,
                template="notification",
                context={"notification": n, "url": _absolute(n.url) if n.url else ""},
                kind=n.kind,
            )
        except Exception:
            held.update(delivered_at=None, email=Notification.Email.PENDING, emailed_at=None, claimed_by="")
            raise
        held.filter(email=Notification.Email.SENDING).update(email=Notification.Email.SENT)
        sent += 1
    return sent


def _reserve_email(*, notification: Notification, now: datetime, claim: str) -> Literal["send", "digest", "lost"]:
    """Mark ``notification`` as being emailed now (``sending``), unless its actor already
    had ``NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR`` emails sent (or being sent) to this
    recipient within the last hour: then ``"digest"``. Holds SELECT FOR UPDATE on the
    recipient's user row while it counts and marks, so two workers delivering to the same
    member never both take the last slot. Notifications without an actor (reminders,
    system messages) are never held back. ``"lost"`` when this run no longer holds the
    claim ``claim`` (its lease ran out and another run took the row over).
    """
    held = Notification.objects.filter(pk=notification.pk, claimed_by=claim)
    if notification.actor_id is None:
        return "send" if held.update(email=Notification.Email.SENDING, emailed_at=now) else "lost"
    limit = settings.NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=notification.recipient_id).values_list("pk", flat=True))
        recent = (
            Notification.objects.filter(
                recipient_id=notification.recipient_id,
                actor_id=notification.actor_id,
                email__in=(Notification.Email.SENT, Notification.Email.SENDING),
                emailed_at__gt=now - SENDER_WINDOW,
            )
            .exclude(pk=notification.pk)
            .count()
        )
        if recent >= limit:
            return "digest"
        return "send" if held.update(email=Notification.Email.SENDING, emailed_at=now) else "lost"


def flush_outbox(*, now: datetime | None = None, batch: int = 500) -> int:
    """Deliver notifications nobody claimed (the broker was down) and those whose claim
    lapsed with the email unsent (a worker died while deciding or sending). Returns how
    many it picked up."""
    now = now or timezone.now()
    unclaimed = Notification.objects.filter(delivered_at__isnull=True, created_at__lte=now - OUTBOX_GRACE)
    lapsed = Notification.objects.filter(email__in=IN_FLIGHT, delivered_at__lt=now - SEND_LEASE)
    ids = list(unclaimed.order_by("created_at").values_list("pk", flat=True)[:batch])
    ids += list(lapsed.order_by("delivered_at").values_list("pk", flat=True)[: max(batch - len(ids), 0)])
    if ids:
        deliver(notification_ids=ids, now=now)
    return len(ids)


def send_digests(*, now: datetime | None = None) -> int:
    """One email per member with everything unread that waits for the digest.

    Claims each member's rows with a conditional UPDATE before sending, so two digest
    runs never send the same rows twice; read ones are skipped. Returns emails sent.
    """
    now = now or timezone.now()
    Notification.objects.filter(email=Notification.Email.DIGEST, read_at__isnull=False).update(
        email=Notification.Email.SKIPPED
    )
    waiting: dict[int, list[int]] = defaultdict(list)
    for pk, user_id in Notification.objects.filter(email=Notification.Email.DIGEST).values_list("pk", "recipient_id"):
        waiting[user_id].append(pk)
    sent = 0
    for user_id, ids in waiting.items():
        claimed = Notification.objects.filter(pk__in=ids, email=Notification.Email.DIGEST)
        if claimed.update(email=Notification.Email.DIGESTED, emailed_at=now) == 0:
            continue
        user = User.objects.get(pk=user_id)
        items = list(Notification.objects.filter(pk__in=ids, email=Notification.Email.DIGESTED, emailed_at=now))
        try:
            with override_for(user):  # the subject in the member's language
                subject = _("Your day in p2pcommons: %(count)s update(s)") % {"count": len(items)}
            _send(
                user=user,
                subject=subject,
                template="digest",
                context={"items": items},
                kind=None,
            )
        except Exception:
            Notification.objects.filter(pk__in=ids, emailed_at=now).update(
                email=Notification.Email.DIGEST, emailed_at=None
            )
            raise
        sent += 1
    return sent


def mark_read(*, notification: Notification, user: User) -> Notification:
    if notification.recipient_id != user.pk:
        raise RuleViolation(_("That notification is not yours."), code="not_recipient")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def preference_set(*, user: User, kind: str, delivery: str) -> Preference:
    if kind not in KINDS:
        raise ValidationError({"kind": _("Unknown notification kind %(kind)r.") % {"kind": kind}})
    if delivery not in DELIVERIES:
        raise ValidationError({"delivery": _("Choose one of: %(choices)s.") % {"choices": ", ".join(DELIVERIES)}})
    pref, _created = Preference.objects.update_or_create(user=user, kind=kind, defaults={"delivery": delivery})
    return pref


def unsubscribe(*, token: str) -> Preference:
    """Turn email off for the kind named in a signed link (no login needed)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=365))
    except signing.BadSignature as exc:
        raise RuleViolation(_("This unsubscribe link is not valid."), code="bad_token") from exc
    user = User.objects.filter(pk=data.get("u")).first()
    if user is None or data.get("k") not in KINDS:
        raise RuleViolation(_("This unsubscribe link is not valid."), code="bad_token")
    return preference_set(user=user, kind=data["k"], delivery="off")
