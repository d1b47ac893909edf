"""The federation's pages: the organizers' "Neighbouring communities" page
(``organizer``) and a member's pages (``member``)."""

from .member import exchange_cancel, exchange_pickup, exchanges, listing_borrow, listing_detail, listings, me
from .organizer import (
    community_page,
    federation_off,
    federation_on,
    follow,
    follow_accept,
    follow_end,
    follow_reject,
    set_limit,
)

__all__ = [
    "community_page",
    "exchange_cancel",
    "exchange_pickup",
    "exchanges",
    "federation_off",
    "federation_on",
    "follow",
    "follow_accept",
    "follow_end",
    "follow_reject",
    "listing_borrow",
    "listing_detail",
    "listings",
    "me",
    "set_limit",
]
