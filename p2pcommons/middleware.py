"""Project middleware: early refusal of oversized requests, and the Permissions-Policy header."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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
                    message=f"This request is too large: the limit is {megabytes} MB.",
                    title="Too large",
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
