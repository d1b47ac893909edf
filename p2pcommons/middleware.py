"""Project middleware: early refusal of oversized requests, and the Permissions-Policy header."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .i18n import SESSION_LANGUAGE, SESSION_TIMEZONE
from .views import error_response


def _content_length(request: HttpRequest) -> int:
    """The declared body size; 0 when absent or not a number (as Django reads it)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is too large before anything reads it.

    Multipart bodies (photo uploads) may reach ``REQUEST_MAX_UPLOAD_SIZE``, every other
    body ``REQUEST_MAX_BODY_SIZE``. Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` would
    only refuse the non-file part after reading it, and an 80 MB upload was received in
    full before the image checks said no; this answers 413 from the headers alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = _content_length(request)
        if size:
            multipart = request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/")
            limit = settings.REQUEST_MAX_UPLOAD_SIZE if multipart else settings.REQUEST_MAX_BODY_SIZE
            if size > limit:
                megabytes = max(round(limit / (1024 * 1024)), 1)
                return error_response(
                    request,
                    status=413,
                    message=_("This request is too large: the limit is %(megabytes)s MB.") % {"megabytes": megabytes},
                    title=_("Too large"),
                )
        return self.get_response(request)


def _origin(origin: str) -> str:
    """``self`` and ``*`` are keywords; an origin is quoted (Structured Field syntax)."""
    return origin if origin in ("self", "*") else f'"{origin}"'


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY`` on every response.

    Each feature maps to its allowed origins: ``[]`` turns it off for everyone,
    ``["self"]`` allows this site only.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(_origin(o) for o in origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


class MemberLocaleMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (cookie, then ``Accept-Language``), except that a
    signed-in member's saved language comes first, and their community's time zone is
    activated for the request (a page about one community may override it)."""

    def process_request(self, request: HttpRequest) -> None:
        session = getattr(request, "session", None)
        saved = session.get(SESSION_LANGUAGE) if session is not None and session.session_key else None
        if saved and saved in dict(settings.LANGUAGES):
            translation.activate(saved)
            request.LANGUAGE_CODE = translation.get_language()
        else:
            super().process_request(request)
        zone = session.get(SESSION_TIMEZONE) if session is not None and session.session_key else None
        if zone:
            from .i18n import zone as zone_named

            timezone.activate(zone_named(zone))
        else:
            timezone.deactivate()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        # The page is rendered by now: leave the thread as it was found (a worker thread
        # serves the next request, a test its next assertions, in the default language).
        timezone.deactivate()
        translation.deactivate()
        return response
