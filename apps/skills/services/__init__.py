"""Writes for the skill swap: listings, matching, sessions and the hours they move.

An hour of anyone's help is one time credit: when a learner and the helper have both
confirmed the hours a session took, those hours move learner -> helper in ``HOUR``
through the ledger, once.

One module per sub-domain: ``listings`` (offers and requests), ``matching`` (who could
help whom) and ``sessions`` (sessions, places, confirmations and disputes). Who may take each
step of a session, a place or a listing, and when, is declared in
``apps.skills.transitions``; the services ask it under their row locks. Callers use
the package (``from apps.skills import services``; ``services.session_confirm(...)``),
which re-exports each module's public names.
"""

from ..transitions import DISPUTE_WINDOW, headroom
from .listings import (
    MAX_OPEN_REQUESTS,
    REQUEST_LIFETIME_AFTER_WANTED,
    listing_set_status_by_organizer,
    listing_visibility_changed,
    listings_close_expired,
    offer_close,
    offer_create,
    offer_renew,
    offer_reopen,
    offer_update,
    request_close,
    request_create,
    request_reopen,
    request_update,
)
from .matching import (
    HELPER_MATCH_NOTICES_PER_DAY,
    MAX_CANDIDATES,
    MAX_TRAVEL_KM,
    NOTIFY_THRESHOLD,
    REQUESTER_MATCH_NOTICES,
    STORE_THRESHOLD,
    TOP_MATCHES,
    _sides,  # read by the matching tests, which check its query budget
    candidate_offers,
    candidate_requests,
    match_all,
    match_offer,
    match_request,
)
from .sessions import (
    HOURS_TOLERANCE,
    dispute_settle,
    group_session_create,
    seat_dispute,
    seat_join,
    seat_leave,
    session_accept,
    session_cancel,
    session_confirm,
    session_dispute,
    session_leave,
    session_propose,
    session_withdraw,
)

__all__ = [
    "DISPUTE_WINDOW",
    "HELPER_MATCH_NOTICES_PER_DAY",
    "HOURS_TOLERANCE",
    "MAX_CANDIDATES",
    "MAX_OPEN_REQUESTS",
    "MAX_TRAVEL_KM",
    "NOTIFY_THRESHOLD",
    "REQUESTER_MATCH_NOTICES",
    "REQUEST_LIFETIME_AFTER_WANTED",
    "STORE_THRESHOLD",
    "TOP_MATCHES",
    "_sides",
    "candidate_offers",
    "candidate_requests",
    "dispute_settle",
    "group_session_create",
    "headroom",
    "listing_set_status_by_organizer",
    "listing_visibility_changed",
    "listings_close_expired",
    "match_all",
    "match_offer",
    "match_request",
    "offer_close",
    "offer_create",
    "offer_renew",
    "offer_reopen",
    "offer_update",
    "request_close",
    "request_create",
    "request_reopen",
    "request_update",
    "seat_dispute",
    "seat_join",
    "seat_leave",
    "session_accept",
    "session_cancel",
    "session_confirm",
    "session_dispute",
    "session_leave",
    "session_propose",
    "session_withdraw",
]
