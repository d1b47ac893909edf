"""A loan's steps after the request (declared in apps.tools.transitions; side effects here), expiry and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.models import Membership, User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when
from p2pcommons.i18n import Message

from ..models import (
    Reminder,
    Reservation,
)
from ..transitions import LOAN, PICKUP_GRACE, is_borrower
from ._common import S
from .waitlist import waitlist_offer_next


def _tell_federation(reservation: Reservation) -> None:
    """A loan to a neighbour from another server: its community hears of each step (sent
    after commit by ``apps.federation``; nothing for a loan between members here)."""
    from apps.federation.services import local_exchange_changed

    local_exchange_changed(obj=reservation)


def _locked(reservation: Reservation) -> Reservation:
    """The reservation row under SELECT FOR UPDATE: the state and fee a step reads are
    those it changes (two clicks, or a click and the expiry task, take turns)."""
    return Reservation.objects.select_for_update().select_related("tool", "borrower").get(pk=reservation.pk)


@transaction.atomic
def reservation_approve(*, reservation: Reservation, actor: User, now: datetime | None = None) -> Reservation:
    """The owner says yes (``LOAN`` "approve": not once the pickup window has closed:
    such a loan could only expire, so approving it would tell the borrower something false)."""
    reservation = LOAN.apply("approve", _locked(reservation), actor, now=now)
    _tell_federation(reservation)
    notify(
        recipients=[reservation.borrower],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=Message("{name} approved your request for {tool}", name=actor.public_name, tool=reservation.tool.title),
    )
    return reservation


@transaction.atomic
def reservation_decline(*, reservation: Reservation, actor: User, note: str = "") -> Reservation:
    """The owner says no to a request, maybe with a note (at most 300 characters kept)."""
    reservation = LOAN.apply("decline", _locked(reservation), actor, note=note[:300])
    _tell_federation(reservation)
    notify(
        recipients=[reservation.borrower],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=Message("{name} declined your request for {tool}", name=actor.public_name, tool=reservation.tool.title),
    )
    waitlist_offer_next(tool=reservation.tool)
    return reservation


@transaction.atomic
def reservation_cancel(*, reservation: Reservation, actor: User, note: str = "") -> Reservation:
    """The borrower takes a request back, or either party calls off an approved loan
    before pickup (``LOAN`` "cancel"); the other party is told."""
    reservation = LOAN.apply("cancel", _locked(reservation), actor, note=note[:300])
    _tell_federation(reservation)
    other = reservation.tool.owner if is_borrower(reservation, actor) else reservation.borrower
    notify(
        recipients=[other],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=Message("{name} cancelled the loan of {tool}", name=actor.public_name, tool=reservation.tool.title),
    )
    waitlist_offer_next(tool=reservation.tool)
    return reservation


def pickup_refusal(*, reservation: Reservation, actor: User, now: datetime | None = None) -> RuleViolation | None:
    """Why ``actor`` may not record the pickup now, or None (``LOAN`` "pickup": when a fee
    is due the borrower only, since recording it pays the fee fixed at request; a free
    loan either party; an approved loan, from PICKUP_EARLY before its start until
    PICKUP_GRACE after it)."""
    return LOAN.refusal("pickup", reservation, actor, now=now)


def return_refusal(*, reservation: Reservation, actor: User, now: datetime | None = None) -> RuleViolation | None:
    """Why ``actor`` may not record the return now, or None (``LOAN`` "return": the
    owner, of a picked-up loan, no earlier than its pickup)."""
    return LOAN.refusal("return", reservation, actor, now=now)


@transaction.atomic
def reservation_pickup(*, reservation: Reservation, actor: User, now: datetime | None = None) -> Reservation:
    """The handoff, within the pickup window (``LOAN`` "pickup" says who and when).

    The fee fixed at request (``fee_total``), if any, is paid borrower -> owner through
    the ledger now, once (idempotency key: the reservation); the tool's current fee plays
    no part. Holds SELECT FOR UPDATE on the reservation row, so the fee and the state read
    are those the transition applies to; ``now`` is for the demo and tests.
    """
    now = now or timezone.now()
    locked = _locked(reservation)
    if locked.has_fee and hasattr(locked.borrower, "remote_actor"):
        raise RuleViolation(
            _("The borrower records this pickup in their own community, where the fee is paid."), code="forbidden"
        )
    reservation = LOAN.apply("pickup", locked, actor, now=now, picked_up_at=now)
    _tell_federation(reservation)
    if reservation.has_fee:
        from apps.ledger import services as ledger

        tool = reservation.tool
        ledger.transfer_create(
            source=ledger.account_for(user=reservation.borrower, community=tool.community, currency="CREDIT"),
            target=ledger.account_for(user=tool.owner, community=tool.community, currency="CREDIT"),
            amount=reservation.fee_total,
            memo=f"Fee for {tool.title} ({reservation.fee_days} day(s))",
            idempotency_key=f"tool-fee:{reservation.pk}",
            kind="exchange",
            related=reservation,
            created_by=actor,
        )
    return reservation


@transaction.atomic
def reservation_return(*, reservation: Reservation, actor: User, now: datetime | None = None) -> Reservation:
    """The owner confirms the tool is back (``LOAN`` "return" says who and when): the
    loan is a completed exchange, and both parties are invited to review it. Holds
    SELECT FOR UPDATE on the reservation row; ``now`` is for the demo and tests."""
    now = now or timezone.now()
    reservation = LOAN.apply("return", _locked(reservation), actor, now=now, returned_at=now)
    _tell_federation(reservation)
    from apps.reputation.services import review_invite

    review_invite(exchange=reservation)
    return reservation


@transaction.atomic
def reservation_pickup_remote(*, reservation: Reservation, borrower: User, now: datetime | None = None) -> Reservation:
    """The pickup of a loan to a neighbour from another server, recorded by their side
    (``apps.federation``: ``borrower`` is the stand-in). The same ``LOAN`` "pickup" rules
    (an approved loan, within its pickup window); no fee moves in this ledger: the
    borrower's community paid it across the clearing accounts. Holds SELECT FOR UPDATE on
    the reservation row."""
    now = now or timezone.now()
    locked = _locked(reservation)
    if locked.borrower_id != borrower.pk or not hasattr(locked.borrower, "remote_actor"):
        raise RuleViolation(_("Only the borrower can record the pickup."), code="forbidden")
    return LOAN.apply("pickup", locked, borrower, now=now, picked_up_at=now)


def reservations_expire(*, now: datetime | None = None) -> int:
    """Loans whose pickup window has closed (starts_at + PICKUP_GRACE before ``now``)
    expire (a beat task): approved ones that were not picked up, and requests the owner
    never answered, whose borrower is told. A conditional UPDATE per row: running twice
    expires each once."""
    now = now or timezone.now()
    expired = 0
    stale = Reservation.objects.filter(status__in=(S.APPROVED, S.REQUESTED), starts_at__lt=now - PICKUP_GRACE)
    for reservation in stale.select_related("tool__owner__profile", "borrower"):
        was = reservation.status
        try:
            with transaction.atomic():
                LOAN.apply("expire", reservation, None, now=now)
                _tell_federation(reservation)
                if was == S.REQUESTED:
                    notify(
                        recipients=[reservation.borrower],
                        kind="tools.decided",
                        target=reservation,
                        text=Message(
                            "Your request for {tool} lapsed: {owner} did not answer before the pickup time",
                            tool=reservation.tool.title,
                            owner=reservation.tool.owner.public_name,
                        ),
                    )
                waitlist_offer_next(tool=reservation.tool, now=now)
                expired += 1
        except RuleViolation:
            continue
    return expired


OVERDUE_ESCALATION = timedelta(days=2)


def _reminder_texts(reservation: Reservation, kind: str) -> tuple[list[User], Message]:
    tool, borrower = reservation.tool, reservation.borrower
    owner = tool.owner.public_name
    if kind == Reminder.Kind.PICKUP_TOMORROW:
        when = format_when(reservation.starts_at)
        return [borrower], Message("Pickup of {tool} from {owner}: {when}", tool=tool.title, owner=owner, when=when)
    if kind == Reminder.Kind.RETURN_TOMORROW:
        when = format_when(reservation.ends_at)
        return [borrower], Message("{tool} is due back to {owner}: {when}", tool=tool.title, owner=owner, when=when)
    if kind == Reminder.Kind.OVERDUE:
        when = format_when(reservation.ends_at)
        return [borrower], Message("{tool} was due back {when}; please return it.", tool=tool.title, when=when)
    organizers = User.objects.filter(
        memberships__community_id=tool.community_id,
        memberships__role=Membership.Role.ORGANIZER,
        memberships__status=Membership.Status.ACTIVE,
    )
    return [tool.owner, *organizers], Message(
        "{tool} lent to {borrower} is more than {days} days overdue.",
        tool=tool.title,
        borrower=borrower.public_name,
        days=OVERDUE_ESCALATION.days,
    )


def reminders_send(*, now: datetime | None = None) -> int:
    """Send the loan reminders that are due (a beat task every 15 minutes).

    Each is claimed by inserting its (loan, kind) row under a unique constraint in the
    same transaction as its notification: running twice, or two workers at once, sends
    each reminder once.
    """
    now = now or timezone.now()
    due = [
        (
            Reminder.Kind.PICKUP_TOMORROW,
            Q(status=S.APPROVED, starts_at__gt=now, starts_at__lte=now + timedelta(days=1)),
        ),
        (Reminder.Kind.RETURN_TOMORROW, Q(status=S.PICKED_UP, ends_at__gt=now, ends_at__lte=now + timedelta(days=1))),
        (Reminder.Kind.OVERDUE, Q(status=S.PICKED_UP, ends_at__lte=now)),
        (Reminder.Kind.OVERDUE_ESCALATED, Q(status=S.PICKED_UP, ends_at__lte=now - OVERDUE_ESCALATION)),
    ]
    sent = 0
    for kind, condition in due:
        candidates = (
            Reservation.objects.filter(condition)
            .exclude(reminders__kind=kind)
            .select_related("tool__owner__profile", "borrower__profile")
        )
        for reservation in candidates:
            try:
                with transaction.atomic():
                    Reminder.objects.create(reservation=reservation, kind=kind, sent_at=now)
                    recipients, text = _reminder_texts(reservation, kind)
                    notify(recipients=recipients, kind="tools.reminder", text=text, target=reservation)
            except IntegrityError:
                continue  # another run sent it
            sent += 1
    return sent
