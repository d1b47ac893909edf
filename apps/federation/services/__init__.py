"""Writes for the federation, by part (every rule is here):

- ``actors``: turning a community's federation on and off, members' opt-in, remote
  actors (fetched, keys cached), stand-ins of remote people
- ``outbox``: the one place outgoing activities become deliveries; sending them
- ``inbox``: signature check and storing incoming activities; processing them once
- ``follows``: Follow / Accept / Reject / Undo between communities
- ``listings``: our listings announced as Proposals; theirs stored
- ``exchanges``: the cross-community loan and its fee across clearing accounts
- ``reviews``: reviews landing in both reputations
- ``clearing``: limits per neighbour, statements, reconciliation
"""

from .actors import (
    federation_disable,
    federation_enable,
    federation_set_auto_accept,
    is_stand_in,
    member_opt_in,
    remote_actor_fetch,
    remote_actor_get,
    stand_in_user,
    webfinger_lookup,
)
from .clearing import clearing_limit_set, clearing_reconcile_all, clearing_reconcile_with, clearing_statement_for
from .exchanges import local_exchange_changed, remote_borrow_request, remote_exchange_cancel, remote_exchange_pickup
from .follows import follow_decide, follow_end, follow_request
from .inbox import InboxRefused, inbox_due, inbox_process, inbox_receive, seen_signatures_prune
from .listings import listing_changed, listings_send_all
from .outbox import activity_send, deliveries_due, delivery_send
from .reviews import review_written

__all__ = [
    "InboxRefused",
    "activity_send",
    "clearing_limit_set",
    "clearing_reconcile_all",
    "clearing_reconcile_with",
    "clearing_statement_for",
    "deliveries_due",
    "delivery_send",
    "federation_disable",
    "federation_enable",
    "federation_set_auto_accept",
    "follow_decide",
    "follow_end",
    "follow_request",
    "inbox_due",
    "inbox_process",
    "inbox_receive",
    "is_stand_in",
    "listing_changed",
    "listings_send_all",
    "local_exchange_changed",
    "member_opt_in",
    "remote_actor_fetch",
    "remote_actor_get",
    "remote_borrow_request",
    "remote_exchange_cancel",
    "remote_exchange_pickup",
    "review_written",
    "seen_signatures_prune",
    "stand_in_user",
    "webfinger_lookup",
]
