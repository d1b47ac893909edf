"""The waitlist: members waiting for a taken window, offered it in turn when it frees up."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers import blueprints
from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when
from p2pcommons.i18n import Message

from ..models import (
    Reservation,
    Tool,
    WaitlistEntry,
)
from ..transitions import WAITLIST
from ._common import W
from .booking import _check_borrower, _check_window, _held_offer, reservation_request

WAITLIST_OFFER_HOLD = timedelta(hours=6)


# --- waitlist --------------------------------------------------------------------------
def waitlist_join(*, tool: Tool, member: User, starts_at: datetime, ends_at: datetime) -> WaitlistEntry:
    """Wait for a window that is taken now. One active entry per member and tool; the
    line is first come, first served."""
    _check_window(tool=tool, starts_at=starts_at, ends_at=ends_at)
    _check_borrower(tool=tool, borrower=member)
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool.pk)
        if tool.status != Tool.Status.ACTIVE or tool.is_hidden:
            raise RuleViolation(
                _("%(tool)s is not available to borrow right now.") % {"tool": tool.title}, code="not_active"
            )
        if WaitlistEntry.objects.filter(tool=tool, member=member, status__in=WaitlistEntry.ACTIVE).exists():
            raise RuleViolation(
                _("You are already on the waitlist for %(tool)s; withdraw that first.") % {"tool": tool.title},
                code="already_waiting",
            )
        blocked_until = ends_at + timedelta(hours=tool.buffer_hours)
        taken = Reservation.objects.filter(
            tool=tool, status__in=Reservation.LIVE, starts_at__lt=blocked_until, blocked_until__gt=starts_at
        ).exists() or _held_offer(tool=tool, starts_at=starts_at, blocked_until=blocked_until, for_member=member)
        if not taken:
            raise RuleViolation(_("That window is free: request it instead of waiting."), code="window_free")
        return WaitlistEntry.objects.create(tool=tool, member=member, starts_at=starts_at, ends_at=ends_at)


@transaction.atomic
def waitlist_withdraw(*, entry: WaitlistEntry, actor: User) -> WaitlistEntry:
    """Leave the line (``WAITLIST`` "withdraw"); an open offer passes to the next in line."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    was = entry.status
    entry = WAITLIST.apply("withdraw", entry, actor)
    if was == W.OFFERED:
        waitlist_offer_next(tool=entry.tool)
    return entry


def waitlist_accept(*, entry: WaitlistEntry, actor: User, message: str = "") -> Reservation:
    """Book the window offered to you (a normal request, with the hold on your side)."""
    entry = WaitlistEntry.objects.select_related("tool__owner__profile").get(pk=entry.pk)
    WAITLIST.check("accept", entry, actor)
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
    Nothing is offered in a community that stopped tool sharing (accepting would be a new
    loan, which it refuses).
    """
    now = now or timezone.now()
    offered = []
    in_use = None
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
            if in_use is None:  # asked once, and only when there is a window to offer
                in_use = blueprints.in_use(community_id=tool.community_id, key="tools")
            if not in_use:  # the community stopped tool sharing: no new loans to offer
                return offered
            expires = min(now + WAITLIST_OFFER_HOLD, entry.starts_at - notice)
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=W.OFFERED, offered_at=now, offer_expires_at=expires)
            entry.refresh_from_db()
            notify(
                recipients=[entry.member],
                kind="tools.waitlist",
                target=entry,
                text=Message(
                    "{tool} is available from {start}: it is held for you until {until}.",
                    tool=tool.title,
                    start=format_when(entry.starts_at),
                    until=format_when(expires),
                ),
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
