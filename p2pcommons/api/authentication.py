"""Who is calling: the app's session token (allauth headless) or the browser's session.

A mobile app must tell "log in again" from "you may not": a missing, invalid or expired
token answers 401 with a ``WWW-Authenticate`` header, a refusal 403. DRF answers 401
only when the *first* authentication class names a challenge for that header, and
allauth's class names one only when it refuses bad tokens (by default it lets them
through as anonymous, and every refusal became a 403 "credentials were not provided").
"""

from __future__ import annotations

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """``X-Session-Token`` from ``POST /_allauth/app/v1/auth/login``; a token that is not
    (or no longer) a signed-in session is refused with 401 instead of being ignored.

    Listed first in ``DEFAULT_AUTHENTICATION_CLASSES``, so its challenge
    (``WWW-Authenticate: X-Session-Token``) is the one every 401 carries, also for a
    browser whose session ended (session authentication names no challenge of its own).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False
