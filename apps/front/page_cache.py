"""Anonymous copies of the public pages (the guide, the blueprint pages) in the shared cache.

A visitor who is not signed in sees the same guide and the same blueprint page as every
other visitor in their language, so the rendered page is kept in the cache and served
without rendering again. Three things keep a copy from being wrong:

- **Who**: only a request with no session cookie and no pending messages is served or
  stored. A signed-in member always carries a session cookie, so they never get the
  anonymous copy (their menu, their communities' rules); a visitor with a flash message
  ("You have signed out") gets a fresh page that shows and consumes it.
- **What changes**: the key carries the live figures' generation (``apps.front.figures``),
  which every save or delete of a blueprint's ``figure_models`` bumps, and the copy
  expires after the figures' own ``FIGURE_TTL``; the language and the full path are in
  the key too.
- **The CSRF token**: the page holds one (the language form, htmx's header). The stored
  copy has a mark in its place, and each visitor's copy gets a token of their own
  (``get_token``, which also sets their CSRF cookie), so no two visitors share one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from .figures import FIGURE_TTL, generation

# Where the visitor's own CSRF token goes in a stored page.
TOKEN_MARK = "@@p2p-csrf-token@@"  # noqa: S105 - a placeholder in a stored page, not a secret
# The token as base.html writes it for htmx; the same masked value fills every form of one render.
_TOKEN_IN_PAGE = re.compile(r'"X-CSRFToken": "([A-Za-z0-9]+)"')


def is_anonymous_visit(request: HttpRequest) -> bool:
    """A GET by someone with no session and no pending message: the page is the same for
    every such visitor in one language. Reading ``request.user`` costs no query here (no
    session cookie, no session to load)."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and getattr(settings, "MESSAGE_COOKIE_NAME", "messages") not in request.COOKIES
        and not request.user.is_authenticated
    )


def page_key(request: HttpRequest) -> str:
    """The cache key: the figures' generation, the language and the path with its query."""
    return f"front:page:{generation()}:{get_language()}:{request.get_full_path()}"


def _stored(response: HttpResponse) -> dict | None:
    """What to keep of a rendered page, its CSRF token replaced by the mark; None when
    the page is not one to keep (not a 200, streamed, or it sets cookies of its own)."""
    if response.status_code != 200 or response.streaming:
        return None
    content = response.content.decode(response.charset)
    found = _TOKEN_IN_PAGE.search(content)
    if found:
        content = content.replace(found.group(1), TOKEN_MARK)
    return {
        "content": content,
        "content_type": response["Content-Type"],
        "content_language": response.get("Content-Language"),
    }


def _served(request: HttpRequest, stored: dict) -> HttpResponse:
    response = HttpResponse(
        stored["content"].replace(TOKEN_MARK, get_token(request)), content_type=stored["content_type"]
    )
    if stored["content_language"]:
        response["Content-Language"] = stored["content_language"]
    return response


def anonymous_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view`` to anonymous visitors from the shared cache (see the module's notes);
    everyone else gets the view itself."""

    @wraps(view)
    def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_anonymous_visit(request):
            return view(request, *args, **kwargs)
        key = page_key(request)
        stored = cache.get(key)
        if stored is not None:
            response = _served(request, stored)
        else:
            response = view(request, *args, **kwargs)
            keep = _stored(response)
            if keep is not None:
                cache.set(key, keep, timeout=FIGURE_TTL)
        # The same address answers members differently, and each language differently.
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    return cached_view
