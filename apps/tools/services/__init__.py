"""Writes for tool sharing, one module per part of a loan's life; rules are enforced here.

Who may take which step of a loan, and when, is declared once in
``apps.tools.transitions`` (``LOAN``); these services check it, change the state and
do what follows (the fee through the ledger, notifications, the waitlist).

- ``catalog``: tools and their photos
- ``booking``: asking to borrow (window, fee fixed at request, request caps)
- ``loans``: approve, decline, cancel, pickup, return; expiry and reminders
- ``reports``: condition reports and the damage report they may open
- ``waitlist``: waiting for a taken window, offered in turn
"""

from ..transitions import PICKUP_EARLY, PICKUP_GRACE, pickup_closes_at, pickup_opens_at, return_opens_at
from ._common import S, W
from .booking import (
    MAX_AHEAD,
    MAX_OPEN_REQUESTS,
    MAX_REQUESTS_PER_TOOL,
    NOT_GIVEN,
    REPEAT_WINDOW,
    auto_approve_reason,
    fee_quote,
    next_free_start,
    reservation_request,
    reservation_request_remote,
)
from .catalog import (
    TOOL_FIELDS,
    photo_add,
    photo_remove,
    tool_create,
    tool_set_status_by_organizer,
    tool_step,
    tool_update,
)
from .loans import (
    OVERDUE_ESCALATION,
    pickup_refusal,
    reminders_send,
    reservation_approve,
    reservation_cancel,
    reservation_decline,
    reservation_pickup,
    reservation_pickup_remote,
    reservation_return,
    reservations_expire,
    return_refusal,
)
from .reports import condition_report_create
from .waitlist import (
    WAITLIST_OFFER_HOLD,
    waitlist_accept,
    waitlist_join,
    waitlist_lapse_offers,
    waitlist_offer_next,
    waitlist_withdraw,
)

__all__ = [
    "MAX_AHEAD",
    "MAX_OPEN_REQUESTS",
    "MAX_REQUESTS_PER_TOOL",
    "NOT_GIVEN",
    "OVERDUE_ESCALATION",
    "PICKUP_EARLY",
    "PICKUP_GRACE",
    "REPEAT_WINDOW",
    "TOOL_FIELDS",
    "WAITLIST_OFFER_HOLD",
    "S",
    "W",
    "auto_approve_reason",
    "condition_report_create",
    "fee_quote",
    "next_free_start",
    "photo_add",
    "photo_remove",
    "pickup_closes_at",
    "pickup_opens_at",
    "pickup_refusal",
    "reminders_send",
    "reservation_approve",
    "reservation_cancel",
    "reservation_decline",
    "reservation_pickup",
    "reservation_pickup_remote",
    "reservation_request",
    "reservation_request_remote",
    "reservation_return",
    "reservations_expire",
    "return_opens_at",
    "return_refusal",
    "tool_create",
    "tool_set_status_by_organizer",
    "tool_step",
    "tool_update",
    "waitlist_accept",
    "waitlist_join",
    "waitlist_lapse_offers",
    "waitlist_offer_next",
    "waitlist_withdraw",
]
