"""Browser pages of the skill swap: the directory, my offers and requests, matches,
sessions (proposing, agreeing, joining, confirming the hours, disputing) and my time
balance.

Every write goes through ``services``; what a service refuses is shown on the form (with
what was typed) or as a message, never as an error page. Sessions exist only for their
parties (others get a 404), except open group sessions, which every member of their
community may see and join.

One module per part of the site: ``listings`` (the directory, offers and requests),
``matches``, ``proposals`` (proposing sessions) and ``sessions``; this package
re-exports the views ``urls.py`` routes to.
"""

from .listings import (
    directory,
    mine,
    offer_close,
    offer_create,
    offer_detail,
    offer_edit,
    offer_renew,
    offer_reopen,
    request_close,
    request_create,
    request_detail,
    request_edit,
    request_reopen,
)
from .matches import matches
from .proposals import group_session_create, session_create
from .sessions import (
    session_accept,
    session_buttons,
    session_cancel,
    session_confirm,
    session_detail,
    session_dispute,
    session_join,
    session_leave,
    session_list,
    time_account,
    time_accounts,
)

__all__ = [
    "directory",
    "group_session_create",
    "matches",
    "mine",
    "offer_close",
    "offer_create",
    "offer_detail",
    "offer_edit",
    "offer_renew",
    "offer_reopen",
    "request_close",
    "request_create",
    "request_detail",
    "request_edit",
    "request_reopen",
    "session_accept",
    "session_buttons",
    "session_cancel",
    "session_confirm",
    "session_create",
    "session_detail",
    "session_dispute",
    "session_join",
    "session_leave",
    "session_list",
    "time_account",
    "time_accounts",
]
