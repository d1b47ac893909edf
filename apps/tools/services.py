"""Writes for tool sharing: one service per reservation transition, rules enforced here."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications.services import notify
from apps.peers.models import Membership, User
from apps.peers.services import membership_refuse_if_suspended
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when

from . import images
from .models import (
    ConditionReport,
    Reminder,
    Reservation,
    ReservationEvent,
    Tool,
    ToolPhoto,
    WaitlistEntry,
    loan_days,
)

# The pickup window of an approved loan: from PICKUP_EARLY before its start until
# PICKUP_GRACE after it; a loan not picked up by then expires (``reservations_expire``).
PICKUP_EARLY = timedelta(hours=2)
PICKUP_GRACE = timedelta(hours=12)
# At most this many requests waiting for an owner's answer per member, across all tools.
MAX_OPEN_REQUESTS = 5
# At most this many requests by one member for one tool per REPEAT_WINDOW (request and
# cancel cycles would otherwise notify the owner again and again).
MAX_REQUESTS_PER_TOOL = 3
REPEAT_WINDOW = timedelta(hours=24)
MAX_AHEAD = timedelta(days=2 * 365)
WAITLIST_OFFER_HOLD = timedelta(hours=6)
S = Reservation.Status
W = WaitlistEntry.Status

TOOL_FIELDS = (
    "title",
    "description",
    "category",
    "condition",
    "usage_rules",
    "deposit_note",
    "fee_per_day",
    "max_loan_days",
    "min_notice_hours",
    "buffer_hours",
    "status",
    "auto_approve",
    "auto_approve_min_score",
    "auto_approve_min_exchanges",
)


# --- the catalog -------------------------------------------------------------------
def _require_lister(*, user: User, community_id: int) -> None:
    if not Membership.objects.filter(user=user, community_id=community_id, status=Membership.Status.ACTIVE).exists():
        membership_refuse_if_suspended(user=user, community_id=community_id, doing="list tools")
        raise ValidationError({"community": "You can only list tools in a community you are an active member of."})


@transaction.atomic
def tool_create(*, owner: User, community, **fields) -> Tool:
    """List a tool in one of the owner's communities (validated like the model says)."""
    _require_lister(user=owner, community_id=community.pk)
    unknown = set(fields) - set(TOOL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown tool fields: {sorted(unknown)}")
    tool = Tool(owner=owner, community=community, **fields)
    tool.full_clean()
    tool.save()
    return tool


@transaction.atomic
def tool_update(*, tool: Tool, actor: User, **fields) -> Tool:
    """The owner edits their listing (pausing or retiring it is ``status``)."""
    _require(actor, actor.pk == tool.owner_id, "the tool's owner")
    unknown = set(fields) - set(TOOL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown tool fields: {sorted(unknown)}")
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    was = tool.status
    for name, value in fields.items():
        setattr(tool, name, value)
    tool.full_clean()
    tool.save()
    if was != Tool.Status.ACTIVE and tool.status == Tool.Status.ACTIVE:
        waitlist_offer_next(tool=tool)  # windows that freed while it was paused
    return tool


@transaction.atomic
def tool_set_status_by_organizer(*, tool: Tool, actor: User, status: str) -> Tool:
    """An organizer pauses, resumes or retires a tool of their community (e.g. after a
    damage report); resuming offers freed windows to the waitlist."""
    from apps.peers.services import is_organizer

    if not (actor.is_superuser or is_organizer(user=actor, community_id=tool.community_id)):
        raise RuleViolation("Only an organizer of the tool's community can do that.", code="forbidden")
    if status not in Tool.Status.values:
        raise ValidationError({"status": "Choose one of the listed statuses."})
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    was = tool.status
    Tool.objects.filter(pk=tool.pk).update(status=status)
    tool.refresh_from_db()
    if was != Tool.Status.ACTIVE and status == Tool.Status.ACTIVE:
        waitlist_offer_next(tool=tool)
    return tool


@transaction.atomic
def photo_add(*, tool: Tool, actor: User, upload, alt_text: str = "") -> ToolPhoto:
    """Add a photo to the owner's tool: checked, re-encoded, thumbnailed (``images``)."""
    _require(actor, actor.pk == tool.owner_id, "the tool's owner")
    if len(alt_text) > 200:
        raise ValidationError({"alt_text": "At most 200 characters."})
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    count = tool.photos.count()
    if count >= ToolPhoto.MAX_PER_TOOL:
        raise ValidationError({"image": f"A tool can have at most {ToolPhoto.MAX_PER_TOOL} photos."})
    full, thumb = images.process_upload(upload, field="image")
    photo = ToolPhoto(tool=tool, alt_text=alt_text.strip() or tool.title, position=count)
    photo.image.save("photo.jpg", full, save=False)
    photo.thumbnail.save("thumb.jpg", thumb, save=False)
    photo.save()
    return photo


@transaction.atomic
def photo_remove(*, photo: ToolPhoto, actor: User) -> None:
    _require(actor, actor.pk == photo.tool.owner_id, "the tool's owner")
    image, thumbnail = photo.image.name, photo.thumbnail.name
    storage = photo.image.storage
    photo.delete()
    for position, remaining in enumerate(ToolPhoto.objects.filter(tool_id=photo.tool_id).order_by("position", "id")):
        if remaining.position != position:
            ToolPhoto.objects.filter(pk=remaining.pk).update(position=position)

    def _delete_files():
        for name in (image, thumbnail):
            if name:
                storage.delete(name)

    transaction.on_commit(_delete_files)


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
    return RuleViolation(
        f"{tool.title} is already booked then. It is next available for that long from {format_when(free)}.",
        code="conflict",
    )


def _check_window(*, tool: Tool, starts_at: datetime, ends_at: datetime, message: str = "") -> None:
    errors = {}
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError({"starts_at": "Give times with their timezone."})
    if starts_at > timezone.now() + MAX_AHEAD or ends_at > timezone.now() + MAX_AHEAD:
        raise ValidationError({"starts_at": f"Book at most {MAX_AHEAD.days // 365} years ahead."})
    if ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    elif ends_at - starts_at > timedelta(days=tool.max_loan_days):
        errors["ends_at"] = f"{tool.title} can be borrowed for at most {tool.max_loan_days} day(s)."
    if starts_at < timezone.now():
        errors["starts_at"] = "The start can't be in the past."
    elif starts_at < timezone.now() + timedelta(hours=tool.min_notice_hours):
        errors["starts_at"] = f"{tool.owner.public_name} needs {tool.min_notice_hours} hour(s) notice."
    if len(message) > 500:
        errors["message"] = "At most 500 characters."
    if errors:
        raise ValidationError(errors)


def _check_borrower(*, tool: Tool, borrower: User) -> None:
    if borrower.pk == tool.owner_id:
        raise RuleViolation("You can't borrow your own tool.", code="own_tool")
    if not Membership.objects.filter(user=borrower, community_id=tool.community_id).exists():
        raise RuleViolation("Join the tool's community to borrow it.", code="not_member")
    membership_refuse_if_suspended(user=borrower, community_id=tool.community_id, doing="borrow tools")


def _held_offer(*, tool: Tool, starts_at: datetime, blocked_until: datetime, for_member: User | None):
    """An unexpired waitlist offer on an overlapping window, held for someone else."""
    offers = WaitlistEntry.objects.filter(
        tool=tool,
        status=W.OFFERED,
        offer_expires_at__gt=timezone.now(),
        starts_at__lt=blocked_until,
        ends_at__gt=starts_at - timedelta(hours=tool.buffer_hours),
    )
    if for_member is not None:
        offers = offers.exclude(member=for_member)
    return offers.order_by("offer_expires_at").first()


def auto_approve_reason(*, tool: Tool, borrower: User) -> str | None:
    """Why ``borrower`` is approved at once for ``tool``, or None when the owner decides.

    The reputation app's standing decides: the trust score against the tool's lowest
    score, and the number of different neighbors the borrower completed exchanges with
    (repeated exchanges with one person count once, brand-new accounts count little)
    against its fewest exchanges; a pair of accounts trading with each other can't reach it.
    """
    if not tool.auto_approve:
        return None
    from apps.reputation.selectors import trust_standing

    standing = trust_standing(user=borrower)
    if standing.score is None or standing.score < tool.auto_approve_min_score:
        return None
    if standing.counterparts < tool.auto_approve_min_exchanges:
        return None
    reason = f"Approved automatically: trust {standing.score} (at least {tool.auto_approve_min_score})"
    if not tool.auto_approve_min_exchanges:
        return reason + "."
    return (
        f"{reason} and completed exchanges with {standing.counterparts} different neighbors "
        f"(at least {tool.auto_approve_min_exchanges})."
    )


class _NotGiven:
    """The borrower's client did not say which fee it showed (older API clients)."""


NOT_GIVEN = _NotGiven()


def fee_quote(*, tool: Tool, starts_at: datetime, ends_at: datetime) -> tuple[Decimal | None, Decimal]:
    """The fee per day and the total a loan of ``tool`` for that window costs if requested now."""
    if not tool.fee_per_day:
        return None, Decimal("0.00")
    return tool.fee_per_day, tool.fee_per_day * loan_days(starts_at, ends_at)


def _fee_words(fee_per_day: Decimal | None) -> str:
    return f"{format_amount(fee_per_day, 'CREDIT')} a day" if fee_per_day else "no fee"


def _check_request_caps(*, tool: Tool, borrower: User, now: datetime) -> None:
    """The caps that keep one member from flooding owners with requests (call holding the
    borrower's row lock, so two requests at once can't both pass)."""
    mine = Reservation.objects.filter(borrower=borrower)
    if mine.filter(status=S.REQUESTED, starts_at__gt=now).count() >= MAX_OPEN_REQUESTS:
        raise RuleViolation(
            f"You already have {MAX_OPEN_REQUESTS} requests waiting for an answer. Wait for the owners to answer, "
            "or cancel one, before you ask for something else.",
            code="too_many_open_requests",
        )
    recent = mine.filter(tool=tool, created_at__gt=now - REPEAT_WINDOW).order_by("created_at")
    if recent.count() >= MAX_REQUESTS_PER_TOOL:
        again = recent.first().created_at + REPEAT_WINDOW
        raise RuleViolation(
            f"You asked for {tool.title} {MAX_REQUESTS_PER_TOOL} times in the last day. "
            f"You can ask again from {format_when(again)}.",
            code="too_many_requests_for_tool",
        )


def reservation_request(
    *,
    tool: Tool,
    borrower: User,
    starts_at: datetime,
    ends_at: datetime,
    message: str = "",
    waitlist_entry: WaitlistEntry | None = None,
    expected_fee_per_day: Decimal | _NotGiven | None = NOT_GIVEN,
) -> Reservation:
    """Ask to borrow ``tool`` for [starts_at, ends_at).

    Rules: an active tool, not your own, you an active member of its community, enough
    notice, within its maximum loan; at most MAX_OPEN_REQUESTS requests of yours waiting
    for an answer, and at most MAX_REQUESTS_PER_TOOL requests for one tool per REPEAT_WINDOW.

    The fee is fixed here: the tool's fee per day now, times the days begun
    (``fee_per_day`` and ``fee_total`` on the reservation); it is what the owner approves
    and the only amount ever charged, whatever the tool's fee later becomes. A client that
    showed the borrower a fee passes it as ``expected_fee_per_day`` (None: free); if the
    tool's fee changed in between, the request is refused rather than fixed at a fee the
    borrower never saw.

    Locking: holds SELECT FOR UPDATE on the borrower's user row (the request caps) and
    then on the tool row (requests for one tool are serialized; on SQLite the IMMEDIATE
    transaction takes the write lock at BEGIN); on PostgreSQL the exclusion constraint
    refuses an overlap whatever the code does.
    """
    _check_window(tool=tool, starts_at=starts_at, ends_at=ends_at, message=message)
    _check_borrower(tool=tool, borrower=borrower)

    try:
        with transaction.atomic():
            User.objects.select_for_update().only("pk").get(pk=borrower.pk)
            tool = Tool.objects.select_for_update().get(pk=tool.pk)
            if tool.status != Tool.Status.ACTIVE or tool.is_hidden:
                raise RuleViolation(f"{tool.title} is not available to borrow right now.", code="not_active")
            if not isinstance(expected_fee_per_day, _NotGiven) and (expected_fee_per_day or None) != (
                tool.fee_per_day or None
            ):
                raise RuleViolation(
                    f"The fee of {tool.title} has changed (now: {_fee_words(tool.fee_per_day)}). Check it and "
                    "send your request again.",
                    code="fee_changed",
                )
            _check_request_caps(tool=tool, borrower=borrower, now=timezone.now())
            blocked_until = ends_at + timedelta(hours=tool.buffer_hours)
            if Reservation.objects.filter(
                tool=tool, status__in=Reservation.LIVE, starts_at__lt=blocked_until, blocked_until__gt=starts_at
            ).exists():
                raise _conflict(tool, starts_at, ends_at)
            held = _held_offer(tool=tool, starts_at=starts_at, blocked_until=blocked_until, for_member=borrower)
            if held is not None:
                raise RuleViolation(
                    f"{tool.title} is held for a neighbor on its waitlist until "
                    f"{format_when(held.offer_expires_at)}. Join the waitlist to be next.",
                    code="held",
                )
            fee_per_day, fee_total = fee_quote(tool=tool, starts_at=starts_at, ends_at=ends_at)
            reservation = Reservation.objects.create(
                tool=tool,
                borrower=borrower,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                message=message,
                fee_per_day=fee_per_day,
                fee_total=fee_total,
            )
            ReservationEvent.objects.create(reservation=reservation, actor=borrower, to_status=S.REQUESTED)
            if waitlist_entry is not None:
                WaitlistEntry.objects.filter(pk=waitlist_entry.pk).update(status=W.BOOKED, reservation=reservation)
            fee = f" for {format_amount(fee_total, 'CREDIT')}" if fee_total else ""
            reason = auto_approve_reason(tool=tool, borrower=borrower)
            if reason:
                reservation = _transition(
                    reservation=reservation, actor=None, allowed_from=(S.REQUESTED,), to=S.APPROVED, note=reason[:300]
                )
                notify(
                    recipients=[tool.owner],
                    kind="tools.requested",
                    actor=borrower,
                    target=reservation,
                    text=f"{borrower.public_name} booked {tool.title}{fee} (approved automatically)",
                )
                notify(
                    recipients=[borrower],
                    kind="tools.decided",
                    target=reservation,
                    text=f"Your request for {tool.title} was approved automatically",
                )
            else:
                notify(
                    recipients=[tool.owner],
                    kind="tools.requested",
                    actor=borrower,
                    target=reservation,
                    text=f"{borrower.public_name} asks to borrow {tool.title}{fee}",
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
def reservation_approve(*, reservation: Reservation, actor: User, now: datetime | None = None) -> Reservation:
    """The owner says yes. Refused once the loan's pickup window has closed: such a loan
    could only expire, so approving it would tell the borrower something false."""
    _require(actor, _is_owner(actor, reservation), "the tool's owner")
    if (now or timezone.now()) > pickup_closes_at(reservation):
        raise RuleViolation(
            f"This request can no longer be approved: its pickup window closed {_when(pickup_closes_at(reservation))}.",
            code="too_late",
        )
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
    waitlist_offer_next(tool=reservation.tool)
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
    waitlist_offer_next(tool=reservation.tool)
    return reservation


def pickup_opens_at(reservation: Reservation) -> datetime:
    return reservation.starts_at - PICKUP_EARLY


def pickup_closes_at(reservation: Reservation) -> datetime:
    return reservation.starts_at + PICKUP_GRACE


def return_opens_at(reservation: Reservation) -> datetime:
    """A return is recorded no earlier than the pickup (a loan without a recorded pickup
    time: no earlier than its pickup window opened)."""
    return reservation.picked_up_at or pickup_opens_at(reservation)


def _when(moment: datetime) -> str:
    return format_when(moment)


def pickup_refusal(*, reservation: Reservation, actor: User, now: datetime | None = None) -> RuleViolation | None:
    """Why ``actor`` may not record the pickup of ``reservation`` now, or None: the one
    pickup rule, which the service enforces and the pages ask before offering the button.

    Who: when a fee is due, the borrower only (recording the pickup pays the fee fixed at
    request, so it is their act); a free loan, either party. When: an approved loan, from
    PICKUP_EARLY before its start until PICKUP_GRACE after it.
    """
    now = now or timezone.now()
    is_borrower = _is_borrower(actor, reservation)
    if not (is_borrower or _is_owner(actor, reservation)):
        return RuleViolation("Only the owner or the borrower can do that.", code="forbidden")
    if reservation.has_fee and not is_borrower:
        return RuleViolation(
            f"Only the borrower can record the pickup of a loan with a fee: recording it pays the "
            f"{format_amount(reservation.fee_total, 'CREDIT')}.",
            code="forbidden",
        )
    if reservation.status != S.APPROVED:
        return RuleViolation(
            f"This reservation is {S(reservation.status).label.lower()}; it can't become picked up now.",
            code="illegal_transition",
        )
    if now < pickup_opens_at(reservation):
        return RuleViolation(
            f"The pickup can be recorded from {_when(pickup_opens_at(reservation))}, "
            f"{PICKUP_EARLY.seconds // 3600} hours before the loan starts.",
            code="too_early",
        )
    if now > pickup_closes_at(reservation):
        return RuleViolation(
            f"The pickup time ended {_when(pickup_closes_at(reservation))}; the loan expires.", code="too_late"
        )
    return None


def return_refusal(*, reservation: Reservation, actor: User, now: datetime | None = None) -> RuleViolation | None:
    """Why ``actor`` may not record the return now, or None: the owner, of a picked-up
    loan, no earlier than its pickup (``return_opens_at``)."""
    now = now or timezone.now()
    if not _is_owner(actor, reservation):
        return RuleViolation("Only the tool's owner can do that.", code="forbidden")
    if reservation.status != S.PICKED_UP:
        return RuleViolation(
            f"This reservation is {S(reservation.status).label.lower()}; it can't become returned now.",
            code="illegal_transition",
        )
    if now < return_opens_at(reservation):
        return RuleViolation(
            f"The return can be recorded from {_when(return_opens_at(reservation))}.", code="too_early"
        )
    return None


def _locked(reservation: Reservation) -> Reservation:
    return Reservation.objects.select_for_update().select_related("tool").get(pk=reservation.pk)


@transaction.atomic
def reservation_pickup(*, reservation: Reservation, actor: User, now: datetime | None = None) -> Reservation:
    """The handoff, within the pickup window (``pickup_refusal`` says who and when).

    The fee fixed at request (``fee_total``), if any, is paid borrower -> owner through
    the ledger now, once (idempotency key: the reservation); the tool's current fee plays
    no part. Holds SELECT FOR UPDATE on the reservation row, so the fee and the state read
    are those the transition applies to; ``now`` is for the demo and tests.
    """
    now = now or timezone.now()
    reservation = _locked(reservation)
    refusal = pickup_refusal(reservation=reservation, actor=actor, now=now)
    if refusal is not None:
        raise refusal
    reservation = _transition(
        reservation=reservation, actor=actor, allowed_from=(S.APPROVED,), to=S.PICKED_UP, picked_up_at=now
    )
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
    """The owner confirms the tool is back (``return_refusal`` says who and when): the
    loan is a completed exchange, and both parties are invited to review it. Holds
    SELECT FOR UPDATE on the reservation row; ``now`` is for the demo and tests."""
    now = now or timezone.now()
    reservation = _locked(reservation)
    refusal = return_refusal(reservation=reservation, actor=actor, now=now)
    if refusal is not None:
        raise refusal
    reservation = _transition(
        reservation=reservation, actor=actor, allowed_from=(S.PICKED_UP,), to=S.RETURNED, returned_at=now
    )
    from apps.reputation.services import review_invite

    review_invite(exchange=reservation)
    return reservation


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
                _transition(reservation=reservation, actor=None, allowed_from=(was,), to=S.EXPIRED)
                if was == S.REQUESTED:
                    notify(
                        recipients=[reservation.borrower],
                        kind="tools.decided",
                        target=reservation,
                        text=f"Your request for {reservation.tool.title} lapsed: "
                        f"{reservation.tool.owner.public_name} did not answer before the pickup time",
                    )
                waitlist_offer_next(tool=reservation.tool, now=now)
                expired += 1
        except RuleViolation:
            continue
    return expired


OVERDUE_ESCALATION = timedelta(days=2)


def _reminder_texts(reservation: Reservation, kind: str) -> tuple[list[User], str]:
    tool, borrower = reservation.tool, reservation.borrower
    if kind == Reminder.Kind.PICKUP_TOMORROW:
        return [borrower], f"Pickup of {tool.title} from {tool.owner.public_name}: {format_when(reservation.starts_at)}"
    if kind == Reminder.Kind.RETURN_TOMORROW:
        return [borrower], f"{tool.title} is due back to {tool.owner.public_name}: {format_when(reservation.ends_at)}"
    if kind == Reminder.Kind.OVERDUE:
        return [borrower], f"{tool.title} was due back {format_when(reservation.ends_at)}; please return it."
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


# --- condition reports ---------------------------------------------------------------
@transaction.atomic
def condition_report_create(
    *,
    reservation: Reservation,
    author: User,
    stage: str,
    condition: str,
    note: str = "",
    photo=None,
    damage: bool = False,
) -> ConditionReport:
    """Record the tool's state at pickup or return. Either party, once per stage; at
    pickup while the loan is approved or picked up, at return once picked up or returned.

    A damage report (the owner only, at return) also opens a moderation report about
    the borrower for the community's organizers, naming the tool and the note.
    """
    errors = {}
    if stage not in ConditionReport.Stage.values:
        errors["stage"] = "Choose pickup or return."
    if condition not in ConditionReport.Condition.values:
        errors["condition"] = "Choose one of the listed conditions."
    if len(note) > 1000:
        errors["note"] = "At most 1000 characters."
    if damage and not note.strip():
        errors["note"] = "Describe the damage for the organizers."
    if errors:
        raise ValidationError(errors)
    is_owner, is_borrower = _is_owner(author, reservation), _is_borrower(author, reservation)
    _require(author, is_owner or is_borrower, "the owner or the borrower")
    reservation = Reservation.objects.select_for_update().select_related("tool").get(pk=reservation.pk)
    allowed = (S.APPROVED, S.PICKED_UP) if stage == ConditionReport.Stage.PICKUP else (S.PICKED_UP, S.RETURNED)
    if reservation.status not in allowed:
        raise RuleViolation(
            f"A condition report {ConditionReport.Stage(stage).label.lower()} can't be made while the loan is "
            f"{S(reservation.status).label.lower()}.",
            code="illegal_transition",
        )
    if damage and not (is_owner and stage == ConditionReport.Stage.RETURN):
        raise RuleViolation("Only the owner reports damage, at return.", code="forbidden")
    if ConditionReport.objects.filter(reservation=reservation, stage=stage, author=author).exists():
        raise RuleViolation("You already recorded the condition at this stage.", code="already_reported")
    report = ConditionReport(
        reservation=reservation,
        stage=stage,
        author=author,
        condition=ConditionReport.Condition.DAMAGED if damage else condition,
        note=note.strip(),
        damage=damage,
    )
    if photo:
        full, _ = images.process_upload(photo, field="photo", thumbnail=False)
        report.photo.save("report.jpg", full, save=False)
    if damage:
        report.flag = _damage_flag(reservation=reservation, owner=author, note=note.strip())
    report.save()
    return report


def _damage_flag(*, reservation: Reservation, owner: User, note: str):
    """Open (or reuse) the owner's report about the borrower in the tool's community."""
    from apps.moderation.models import Flag, Reason
    from apps.moderation.services import flag_create

    tool = reservation.tool
    text = f"Damage to {tool.title} on loan #{reservation.pk} ({timezone.localtime(reservation.starts_at):%d %b %Y}): "
    try:
        return flag_create(
            reporter=owner,
            target=reservation.borrower,
            reason=Reason.OTHER,
            text=(text + note)[:1000],
            community=tool.community,
        )
    except RuleViolation as exc:
        if exc.code != "already_flagged":
            raise
        return (
            Flag.objects.filter(reporter=owner, status=Flag.Status.OPEN, target_author=reservation.borrower)
            .order_by("-created_at")
            .first()
        )


# --- waitlist --------------------------------------------------------------------------
def waitlist_join(*, tool: Tool, member: User, starts_at: datetime, ends_at: datetime) -> WaitlistEntry:
    """Wait for a window that is taken now. One active entry per member and tool; the
    line is first come, first served."""
    _check_window(tool=tool, starts_at=starts_at, ends_at=ends_at)
    _check_borrower(tool=tool, borrower=member)
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool.pk)
        if tool.status != Tool.Status.ACTIVE or tool.is_hidden:
            raise RuleViolation(f"{tool.title} is not available to borrow right now.", code="not_active")
        if WaitlistEntry.objects.filter(tool=tool, member=member, status__in=WaitlistEntry.ACTIVE).exists():
            raise RuleViolation(
                f"You are already on the waitlist for {tool.title}; withdraw that first.", code="already_waiting"
            )
        blocked_until = ends_at + timedelta(hours=tool.buffer_hours)
        taken = Reservation.objects.filter(
            tool=tool, status__in=Reservation.LIVE, starts_at__lt=blocked_until, blocked_until__gt=starts_at
        ).exists() or _held_offer(tool=tool, starts_at=starts_at, blocked_until=blocked_until, for_member=member)
        if not taken:
            raise RuleViolation("That window is free: request it instead of waiting.", code="window_free")
        return WaitlistEntry.objects.create(tool=tool, member=member, starts_at=starts_at, ends_at=ends_at)


@transaction.atomic
def waitlist_withdraw(*, entry: WaitlistEntry, actor: User) -> WaitlistEntry:
    _require(actor, actor.pk == entry.member_id, "the member who is waiting")
    was = WaitlistEntry.objects.filter(pk=entry.pk).values_list("status", flat=True).first()
    if not WaitlistEntry.objects.filter(pk=entry.pk, status__in=WaitlistEntry.ACTIVE).update(status=W.WITHDRAWN):
        raise RuleViolation("You are no longer waiting for this.", code="illegal_transition")
    if was == W.OFFERED:
        waitlist_offer_next(tool=entry.tool)
    entry.refresh_from_db()
    return entry


def waitlist_accept(*, entry: WaitlistEntry, actor: User, message: str = "") -> Reservation:
    """Book the window offered to you (a normal request, with the hold on your side)."""
    _require(actor, actor.pk == entry.member_id, "the member it was offered to")
    entry = WaitlistEntry.objects.select_related("tool__owner__profile").get(pk=entry.pk)
    if entry.status != W.OFFERED or entry.offer_expires_at <= timezone.now():
        raise RuleViolation("This offer is no longer open.", code="offer_closed")
    return reservation_request(
        tool=entry.tool,
        borrower=actor,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        message=message,
        waitlist_entry=entry,
    )


def waitlist_offer_next(*, tool: Tool, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer freed windows to the members waiting for them, first in line first.

    Runs inside the caller's transaction (a decline, cancel or expiry) or from the beat
    task. Holds the tool row, so two runs offer each window once. An entry whose window
    can no longer be booked in time passes; an entry whose window is still taken waits on.
    """
    now = now or timezone.now()
    offered = []
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool.pk)
        if tool.status != Tool.Status.ACTIVE or tool.is_hidden:
            return offered
        notice = timedelta(hours=tool.min_notice_hours)
        for entry in WaitlistEntry.objects.filter(tool=tool, status=W.WAITING).order_by("created_at", "id"):
            if entry.starts_at - notice <= now:
                WaitlistEntry.objects.filter(pk=entry.pk, status=W.WAITING).update(status=W.PASSED)
                continue
            blocked_until = entry.ends_at + timedelta(hours=tool.buffer_hours)
            if Reservation.objects.filter(
                tool=tool, status__in=Reservation.LIVE, starts_at__lt=blocked_until, blocked_until__gt=entry.starts_at
            ).exists():
                continue
            if _held_offer(tool=tool, starts_at=entry.starts_at, blocked_until=blocked_until, for_member=None):
                continue
            expires = min(now + WAITLIST_OFFER_HOLD, entry.starts_at - notice)
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=W.OFFERED, offered_at=now, offer_expires_at=expires)
            entry.refresh_from_db()
            notify(
                recipients=[entry.member],
                kind="tools.waitlist",
                target=entry,
                text=f"{tool.title} is available from {format_when(entry.starts_at)}: "
                f"it is held for you until {format_when(expires)}.",
            )
            offered.append(entry)
    return offered


def waitlist_lapse_offers(*, now: datetime | None = None) -> int:
    """Offers not taken in time lapse and go to the next in line (a beat task)."""
    now = now or timezone.now()
    lapsed = 0
    tools = set()
    for entry in WaitlistEntry.objects.filter(status=W.OFFERED, offer_expires_at__lte=now).select_related("tool"):
        with transaction.atomic():
            if WaitlistEntry.objects.filter(pk=entry.pk, status=W.OFFERED).update(status=W.LAPSED):
                lapsed += 1
                tools.add(entry.tool)
    for tool in tools:
        waitlist_offer_next(tool=tool, now=now)
    return lapsed
