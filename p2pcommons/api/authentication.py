"""Who is calling: the app's session token (allauth headless) or the browser's session.

A mobile app must tell "log in again" from "you may not": a missing, invalid or expired
token answers 401 with a ``WWW-Authenticate`` header, a refusal 403. DRF answers 401
only when the *first* authentication class names a challenge for that header, and
allauth's class names one only when it refuses bad tokens (by default it lets them
through as anonymous, and every refusal became a 403 "credentials were not provided").

A token costs the same queries as the browser's cookie: allauth's session-token strategy
asks the session table twice (``exists()``, then a load), so a token request ran one
query more than a cookie request. We load the session once instead (a missing, expired
or logged-out session loads as empty and loses its key), which refuses the same tokens.
"""

from __future__ import annotations

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless.adapter import get_adapter
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication, _get_http_request
from allauth.headless.internal import sessionkit
from allauth.usersessions.internal import usersessionkit
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """``X-Session-Token`` from ``POST /_allauth/app/v1/auth/login``; a token that is not
    (or no longer) a signed-in session is refused with 401 instead of being ignored.

    Listed first in ``DEFAULT_AUTHENTICATION_CLASSES``, so its challenge
    (``WWW-Authenticate: X-Session-Token``) is the one every 401 carries, also for a
    browser whose session ended (session authentication names no challenge of its own).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False

    def authenticate(self, request: HttpRequest) -> tuple[AbstractBaseUser, SessionBase] | None:
        """The signed-in user and session of the token, in two queries (session, user), like
        the cookie; no token leaves the request to the next class, a bad one is a 401."""
        token = self.get_session_token(request)
        if not token:
            return None
        # One SELECT: a missing or expired session comes back without a key (None here).
        session = sessionkit.lookup_session(token)
        if session is None:
            raise AuthenticationFailed(get_adapter().error_messages["invalid_token"])
        user = get_session_user(session)
        if user is None:
            # A session that exists but holds no signed-in user (deactivated, or signed out).
            raise AuthenticationFailed()
        usersessionkit.track_activity(_get_http_request(request), user=user, session=session)
        return user, session
