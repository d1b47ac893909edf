"""The installable web app: the service worker, served at /sw.js so that it may look
after the whole site, and the page it shows when the site cannot be reached.

The worker does three things and nothing cleverer (templates/pwa/sw.js):
- on install it keeps the shell: the offline page, the style sheets, htmx and the icons;
- static files (their names carry a content hash) are answered from its cache first;
- a page is always asked of the server; only when the server cannot be reached does the
  offline page show. Pages are never kept: they hold members' own data.

A new deploy changes the hashed static names and so the worker's text and cache name:
browsers install the new worker and drop the old cache.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# What a phone keeps so the site's frame opens at once (names resolved through the
# static files storage, hashed in production).
SHELL_STATIC = (
    "vendor/pico/pico.min.css",
    "css/site.css",
    "css/front.css",
    "css/dashboard.css",
    "vendor/htmx/htmx.min.js",
    "js/sw-register.js",
    "icons/favicon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "manifest.webmanifest",
)


def shell_urls() -> list[str]:
    return [reverse("offline"), *(static(name) for name in SHELL_STATIC)]


@require_GET
@cache_control(no_cache=True, max_age=0)
def service_worker(request: HttpRequest) -> HttpResponse:
    urls = shell_urls()
    version = hashlib.sha256("\n".join(urls).encode()).hexdigest()[:12]
    body = render_to_string(
        "pwa/sw.js",
        {"version": version, "urls": urls, "offline_url": reverse("offline"), "static_prefix": static("")},
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows when a page cannot be loaded."""
    return render(request, "pwa/offline.html")
