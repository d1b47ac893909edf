"""Asking to borrow: the window, the borrower, the fee quoted and fixed, the request caps."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.guards import require_active_member, require_exchange_in_use
from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when
from p2pcommons.i18n import Amount, Message

from ..models import (
    Reservation,
    ReservationEvent,
    Tool,
    WaitlistEntry,
    loan_days,
)
from ..transitions import LOAN
from ._common import S, W

# At most this many requests waiting for an owner's answer per member, across all tools.
MAX_OPEN_REQUESTS = 5
# At most this many requests by one member for one tool per REPEAT_WINDOW (request and
# cancel cycles would otherwise notify the owner again and again).
MAX_REQUESTS_PER_TOOL = 3
REPEAT_WINDOW = timedelta(hours=24)
MAX_AHEAD = timedelta(days=2 * 365)


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
        _("%(tool)s is already booked then. It is next available for that long from %(when)s.")
        % {"tool": tool.title, "when": format_when(free)},
        code="conflict",
        data={"next_free_start": free},
    )


def _check_window(*, tool: Tool, starts_at: datetime, ends_at: datetime, message: str = "") -> None:
    errors = {}
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError({"starts_at": _("Give times with their timezone.")})
    if starts_at > timezone.now() + MAX_AHEAD or ends_at > timezone.now() + MAX_AHEAD:
        raise ValidationError(
            {"starts_at": _("Book at most %(years)s years ahead.") % {"years": MAX_AHEAD.days // 365}}
        )
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    elif ends_at - starts_at > timedelta(days=tool.max_loan_days):
        errors["ends_at"] = _("%(tool)s can be borrowed for at most %(days)s day(s).") % {
            "tool": tool.title,
            "days": tool.max_loan_days,
        }
    if starts_at < timezone.now():
        errors["starts_at"] = _("The start can't be in the past.")
    elif starts_at < timezone.now() + timedelta(hours=tool.min_notice_hours):
        errors["starts_at"] = _("%(owner)s needs %(hours)s hour(s) notice.") % {
            "owner": tool.owner.public_name,
            "hours": tool.min_notice_hours,
        }
    if len(message) > 500:
        errors["message"] = _("At most 500 characters.")
    if errors:
        raise ValidationError(errors)


def _check_borrower(*, tool: Tool, borrower: User) -> None:
    """Who may ask for (or wait for) a window: not the owner, an active member, in a
    community that still uses tool sharing (loans agreed before it stopped run on)."""
    if borrower.pk == tool.owner_id:
        raise RuleViolation(_("You can't borrow your own tool."), code="own_tool")
    require_active_member(user=borrower, community_id=tool.community_id, doing="borrow tools")
    require_exchange_in_use(community_id=tool.community_id, key="tools", doing="borrow tools")


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
    return _("%(fee)s a day") % {"fee": format_amount(fee_per_day, "CREDIT")} if fee_per_day else _("no fee")


def _check_request_caps(*, tool: Tool, borrower: User, now: datetime) -> None:
    """The caps that keep one member from flooding owners with requests (call holding the
    borrower's row lock, so two requests at once can't both pass)."""
    mine = Reservation.objects.filter(borrower=borrower)
    if mine.filter(status=S.REQUESTED, starts_at__gt=now).count() >= MAX_OPEN_REQUESTS:
        raise RuleViolation(
            _(
                "You already have %(count)s requests waiting for an answer. Wait for the owners to answer, "
                "or cancel one, before you ask for something else."
            )
            % {"count": MAX_OPEN_REQUESTS},
            code="too_many_open_requests",
        )
    recent = mine.filter(tool=tool, created_at__gt=now - REPEAT_WINDOW).order_by("created_at")
    if recent.count() >= MAX_REQUESTS_PER_TOOL:
        again = recent.first().created_at + REPEAT_WINDOW
        raise RuleViolation(
            _("You asked for %(tool)s %(count)s times in the last day. You can ask again from %(when)s.")
            % {"tool": tool.title, "count": MAX_REQUESTS_PER_TOOL, "when": format_when(again)},
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
    return _request(
        tool=tool,
        borrower=borrower,
        starts_at=starts_at,
        ends_at=ends_at,
        message=message,
        waitlist_entry=waitlist_entry,
        expected_fee_per_day=expected_fee_per_day,
    )


def reservation_request_remote(
    *,
    tool: Tool,
    borrower: User,
    starts_at: datetime,
    ends_at: datetime,
    message: str = "",
    expected_fee_per_day: Decimal | _NotGiven | None = NOT_GIVEN,
) -> Reservation:
    """A neighbour from another server asks to borrow ``tool`` (``apps.federation``: their
    community follows ours and we accepted it; ``borrower`` is the local stand-in of the
    remote person). Every rule of ``reservation_request`` holds (an active tool, notice,
    maximum loan, no double booking, the fee fixed now, the request caps) except
    membership, which the federation checked: the follow stands for it. Tool sharing must
    still be in use in the tool's community."""
    _check_window(tool=tool, starts_at=starts_at, ends_at=ends_at, message=message)
    if borrower.pk == tool.owner_id or not hasattr(borrower, "remote_actor"):
        raise RuleViolation(_("Only a neighbour from another community can ask this way."), code="forbidden")
    require_exchange_in_use(community_id=tool.community_id, key="tools", doing="borrow tools")
    return _request(
        tool=tool,
        borrower=borrower,
        starts_at=starts_at,
        ends_at=ends_at,
        message=message,
        waitlist_entry=None,
        expected_fee_per_day=expected_fee_per_day,
    )


def _request(
    *,
    tool: Tool,
    borrower: User,
    starts_at: datetime,
    ends_at: datetime,
    message: str,
    waitlist_entry: WaitlistEntry | None,
    expected_fee_per_day: Decimal | _NotGiven | None,
) -> Reservation:
    """The request itself, once the borrower's checks passed (see ``reservation_request``)."""
    try:
        with transaction.atomic():
            User.objects.select_for_update().only("pk").get(pk=borrower.pk)
            tool = Tool.objects.select_for_update().get(pk=tool.pk)
            if tool.status != Tool.Status.ACTIVE or tool.is_hidden:
                raise RuleViolation(
                    _("%(tool)s is not available to borrow right now.") % {"tool": tool.title}, code="not_active"
                )
            if not isinstance(expected_fee_per_day, _NotGiven) and (expected_fee_per_day or None) != (
                tool.fee_per_day or None
            ):
                raise RuleViolation(
                    _("The fee of %(tool)s has changed (now: %(fee)s). Check it and send your request again.")
                    % {"tool": tool.title, "fee": _fee_words(tool.fee_per_day)},
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
                    _("%(tool)s is held for a neighbor on its waitlist until %(when)s. Join the waitlist to be next.")
                    % {"tool": tool.title, "when": format_when(held.offer_expires_at)},
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
            fee = Amount(fee_total, "CREDIT") if fee_total else None
            reason = auto_approve_reason(tool=tool, borrower=borrower)
            if reason:
                reservation = LOAN.apply("auto_approve", reservation, None, note=reason[:300])
                notify(
                    recipients=[tool.owner],
                    kind="tools.requested",
                    actor=borrower,
                    target=reservation,
                    text=(
                        Message(
                            "{name} booked {tool} for {fee} (approved automatically)",
                            name=borrower.public_name,
                            tool=tool.title,
                            fee=fee,
                        )
                        if fee
                        else Message(
                            "{name} booked {tool} (approved automatically)", name=borrower.public_name, tool=tool.title
                        )
                    ),
                )
                notify(
                    recipients=[borrower],
                    kind="tools.decided",
                    target=reservation,
                    text=Message("Your request for {tool} was approved automatically", tool=tool.title),
                )
            else:
                notify(
                    recipients=[tool.owner],
                    kind="tools.requested",
                    actor=borrower,
                    target=reservation,
                    text=(
                        Message(
                            "{name} asks to borrow {tool} for {fee}",
                            name=borrower.public_name,
                            tool=tool.title,
                            fee=fee,
                        )
                        if fee
                        else Message("{name} asks to borrow {tool}", name=borrower.public_name, tool=tool.title)
                    ),
                )
    except IntegrityError:
        # The exclusion constraint (PostgreSQL) caught what the check above could not see.
        raise _conflict(tool, starts_at, ends_at) from None
    return reservation
