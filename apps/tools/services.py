"""Writes for tool sharing: one service per reservation transition, rules enforced here."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications.services import notify
from apps.peers.models import Membership, User
from apps.peers.services import membership_refuse_if_suspended
from p2pcommons.errors import RuleViolation

from .models import Reminder, Reservation, ReservationEvent, Tool

PICKUP_GRACE = timedelta(hours=12)
S = Reservation.Status


def next_free_start(*, tool: Tool, wanted_start: datetime, duration: timedelta) -> datetime:
    """The earliest start at or after ``wanted_start`` where ``duration`` plus the tool's
    buffer fits between its live reservations."""
    candidate = wanted_start
    needed = duration + timedelta(hours=tool.buffer_hours)
    for start, blocked_until in (
        Reservation.objects.filter(tool=tool, status__in=Reservation.LIVE, blocked_until__gt=wanted_start)
        .order_by("starts_at")
        .values_list("starts_at", "blocked_until")
    ):
        if start >= candidate + needed:
            break
        candidate = max(candidate, blocked_until)
    return candidate


def _conflict(tool: Tool, starts_at: datetime, ends_at: datetime) -> RuleViolation:
    free = next_free_start(tool=tool, wanted_start=starts_at, duration=ends_at - starts_at)
    local = timezone.localtime(free)
    return RuleViolation(
        f"{tool.title} is already booked then. The next free window of that length starts {local:%a %d %b %Y %H:%M}.",
        code="conflict",
    )


def reservation_request(
    *, tool: Tool, borrower: User, starts_at: datetime, ends_at: datetime, message: str = ""
) -> Reservation:
    """Ask to borrow ``tool`` for [starts_at, ends_at).

    Rules: an active tool, not your own, you an active member of its community, enough
    notice, within its maximum loan. No double booking: holds SELECT FOR UPDATE on the
    tool row (requests for one tool are serialized; on SQLite the IMMEDIATE transaction
    takes the write lock at BEGIN), checks the live reservations, and on PostgreSQL the
    exclusion constraint refuses an overlap whatever the code does.
    """
    errors = {}
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError({"starts_at": "Give times with their timezone."})
    if ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    elif ends_at - starts_at > timedelta(days=tool.max_loan_days):
        errors["ends_at"] = f"{tool.title} can be borrowed for at most {tool.max_loan_days} day(s)."
    if starts_at < timezone.now() + timedelta(hours=tool.min_notice_hours):
        errors["starts_at"] = f"{tool.owner.public_name} needs {tool.min_notice_hours} hour(s) notice."
    if len(message) > 500:
        errors["message"] = "At most 500 characters."
    if errors:
        raise ValidationError(errors)
    if borrower.pk == tool.owner_id:
        raise RuleViolation("You can't borrow your own tool.", code="own_tool")
    if not Membership.objects.filter(user=borrower, community_id=tool.community_id).exists():
        raise RuleViolation("Join the tool's community to borrow it.", code="not_member")
    membership_refuse_if_suspended(user=borrower, community_id=tool.community_id, doing="borrow tools")

    try:
        with transaction.atomic():
            tool = Tool.objects.select_for_update().get(pk=tool.pk)
            if tool.status != Tool.Status.ACTIVE:
                raise RuleViolation(f"{tool.title} is not available to borrow right now.", code="not_active")
            blocked_until = ends_at + timedelta(hours=tool.buffer_hours)
            if Reservation.objects.filter(
                tool=tool, status__in=Reservation.LIVE, starts_at__lt=blocked_until, blocked_until__gt=starts_at
            ).exists():
                raise _conflict(tool, starts_at, ends_at)
            reservation = Reservation.objects.create(
                tool=tool,
                borrower=borrower,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                message=message,
            )
            ReservationEvent.objects.create(reservation=reservation, actor=borrower, to_status=S.REQUESTED)
            notify(
                recipients=[tool.owner],
                kind="tools.requested",
                actor=borrower,
                target=reservation,
                text=f"{borrower.public_name} asks to borrow {tool.title}",
            )
    except IntegrityError:
        # The exclusion constraint (PostgreSQL) caught what the check above could not see.
        raise _conflict(tool, starts_at, ends_at) from None
    return reservation


def _transition(
    *,
    reservation: Reservation,
    actor: User | None,
    allowed_from: tuple[str, ...],
    to: str,
    note: str = "",
    **stamps,
) -> Reservation:
    """Move a reservation between states with a conditional UPDATE (two clicks or two
    workers can't both succeed) and record the event."""
    changed = Reservation.objects.filter(pk=reservation.pk, status__in=allowed_from).update(status=to, **stamps)
    if changed != 1:
        current = Reservation.objects.filter(pk=reservation.pk).values_list("status", flat=True).first()
        raise RuleViolation(
            f"This reservation is {S(current).label.lower() if current else 'gone'}; it can't become "
            f"{S(to).label.lower()} now.",
            code="illegal_transition",
        )
    ReservationEvent.objects.create(
        reservation=reservation, actor=actor, from_status=reservation.status, to_status=to, note=note
    )
    reservation.refresh_from_db()
    return reservation


def _require(actor: User, allowed: bool, what: str) -> None:
    if not allowed:
        raise RuleViolation(f"Only {what} can do that.", code="forbidden")


def _is_owner(actor: User, reservation: Reservation) -> bool:
    return actor.pk == reservation.tool.owner_id


def _is_borrower(actor: User, reservation: Reservation) -> bool:
    return actor.pk == reservation.borrower_id


@transaction.atomic
def reservation_approve(*, reservation: Reservation, actor: User) -> Reservation:
    _require(actor, _is_owner(actor, reservation), "the tool's owner")
    reservation = _transition(reservation=reservation, actor=actor, allowed_from=(S.REQUESTED,), to=S.APPROVED)
    notify(
        recipients=[reservation.borrower],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=f"{actor.public_name} approved your request for {reservation.tool.title}",
    )
    return reservation


@transaction.atomic
def reservation_decline(*, reservation: Reservation, actor: User, note: str = "") -> Reservation:
    _require(actor, _is_owner(actor, reservation), "the tool's owner")
    reservation = _transition(
        reservation=reservation, actor=actor, allowed_from=(S.REQUESTED,), to=S.DECLINED, note=note[:300]
    )
    notify(
        recipients=[reservation.borrower],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=f"{actor.public_name} declined your request for {reservation.tool.title}",
    )
    return reservation


@transaction.atomic
def reservation_cancel(*, reservation: Reservation, actor: User, note: str = "") -> Reservation:
    """The borrower or the owner calls off a request or an approved loan before pickup."""
    _require(actor, _is_owner(actor, reservation) or _is_borrower(actor, reservation), "the owner or the borrower")
    reservation = _transition(
        reservation=reservation,
        actor=actor,
        allowed_from=(S.REQUESTED, S.APPROVED),
        to=S.CANCELLED,
        note=note[:300],
    )
    other = reservation.tool.owner if _is_borrower(actor, reservation) else reservation.borrower
    notify(
        recipients=[other],
        kind="tools.decided",
        actor=actor,
        target=reservation,
        text=f"{actor.public_name} cancelled the loan of {reservation.tool.title}",
    )
    return reservation


@transaction.atomic
def reservation_pickup(*, reservation: Reservation, actor: User) -> Reservation:
    """The handoff, recorded by either party. A fee, if the tool has one, is paid borrower -> owner through the
    ledger now, once (idempotency key: the reservation)."""
    _require(actor, _is_owner(actor, reservation) or _is_borrower(actor, reservation), "the owner or the borrower")
    reservation = _transition(
        reservation=reservation,
        actor=actor,
        allowed_from=(S.APPROVED,),
        to=S.PICKED_UP,
        picked_up_at=timezone.now(),
    )
    tool = reservation.tool
    if tool.fee_per_day:
        from apps.ledger import services as ledger

        days = max(1, -(-(reservation.ends_at - reservation.starts_at) // timedelta(days=1)))
        ledger.transfer_create(
            source=ledger.account_for(user=reservation.borrower, community=tool.community, currency="CREDIT"),
            target=ledger.account_for(user=tool.owner, community=tool.community, currency="CREDIT"),
            amount=tool.fee_per_day * days,
            memo=f"Fee for {tool.title} ({days} day(s))",
            idempotency_key=f"tool-fee:{reservation.pk}",
            kind="exchange",
            related=reservation,
            created_by=actor,
        )
    return reservation


@transaction.atomic
def reservation_return(*, reservation: Reservation, actor: User) -> Reservation:
    """The owner confirms the tool is back: the loan is a completed exchange, and both
    parties are invited to review it."""
    _require(actor, _is_owner(actor, reservation), "the tool's owner")
    reservation = _transition(
        reservation=reservation, actor=actor, allowed_from=(S.PICKED_UP,), to=S.RETURNED, returned_at=timezone.now()
    )
    return reservation


def reservations_expire(*, now: datetime | None = None) -> int:
    """Approved loans not picked up within the grace period after their start expire
    (a beat task). A conditional UPDATE per row: running twice expires each once."""
    now = now or timezone.now()
    expired = 0
    for reservation in Reservation.objects.filter(status=S.APPROVED, starts_at__lt=now - PICKUP_GRACE):
        try:
            with transaction.atomic():
                _transition(reservation=reservation, actor=None, allowed_from=(S.APPROVED,), to=S.EXPIRED)
                expired += 1
        except RuleViolation:
            continue
    return expired


OVERDUE_ESCALATION = timedelta(days=2)


def _reminder_texts(reservation: Reservation, kind: str) -> tuple[list[User], str]:
    tool, borrower = reservation.tool, reservation.borrower
    when = timezone.localtime
    if kind == Reminder.Kind.PICKUP_TOMORROW:
        return [
            borrower
        ], f"Pickup of {tool.title} from {tool.owner.public_name}: {when(reservation.starts_at):%a %H:%M}"
    if kind == Reminder.Kind.RETURN_TOMORROW:
        return [borrower], f"{tool.title} is due back to {tool.owner.public_name}: {when(reservation.ends_at):%a %H:%M}"
    if kind == Reminder.Kind.OVERDUE:
        return [borrower], f"{tool.title} was due back {when(reservation.ends_at):%a %d %b %H:%M}; please return it."
    organizers = User.objects.filter(
        memberships__community_id=tool.community_id,
        memberships__role=Membership.Role.ORGANIZER,
        memberships__status=Membership.Status.ACTIVE,
    )
    return [tool.owner, *organizers], (
        f"{tool.title} lent to {borrower.public_name} is more than {OVERDUE_ESCALATION.days} days overdue."
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
