"""Project-level views: health checks (liveness, readiness), media, and the error pages.

Every answer under /api/ (and allauth's app API under /_allauth/) is JSON, whatever
went wrong: an unknown route, a refused body, a CSRF failure, a crash. Mobile apps
read ``detail``; HTML pages keep Django's error pages for the site.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

JSON_PREFIXES = ("/api/", "/_allauth/")

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    """A write read back: a cache that swallows its errors (answers "not found") fails too."""
    from django.core.cache import cache

    key, value = "p2pcommons:readyz", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        raise ConnectionError("the cache did not keep a value")


def _check_broker() -> None:
    """Opens a connection to the Celery broker (Redis answers a PING), no retries."""
    from p2pcommons.celery import app as celery_app

    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the cache and the Celery broker all answer. 200 with
    ``{"status": "ok", "checks": {...}}``, or 503 naming the failing check. The answer holds
    no error text (it could name hosts or carry a password); the log has it, with the
    request id. Anonymous, outside the API's throttles, and writes no session."""
    checks: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception:  # whatever the backend raises, the answer is "failing"; the log says what
            logger.warning("Readiness check %s failed", name, exc_info=True)
            checks[name] = "failing"
        else:
            checks[name] = "ok"
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def media(request: HttpRequest, path: str):
    """Uploaded files, when Django serves them itself (``SERVE_MEDIA``): from the
    ``MEDIA_ROOT`` of the moment, so a changed setting (a test's folder) is honored."""
    from django.conf import settings
    from django.views.static import serve

    return serve(request, path, document_root=settings.MEDIA_ROOT)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(request: HttpRequest, *, status: int, message: str, title: str) -> HttpResponse:
    """``{"detail": message}`` under the API, a plain page elsewhere."""
    if wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    lang = escape(get_language() or "en")
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
    )
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"detail": _("This request could not be understood.")}, status=400)
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"detail": _("You do not have permission to do this.")}, status=403)
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """A 500, unless what failed is a service that is briefly away (the database, Redis,
    the broker) outside a view, e.g. a session saved in a middleware: then the 503 of
    p2pcommons/resilience.py, which says to try again."""
    from p2pcommons import resilience

    if isinstance(sys.exc_info()[1], resilience.TRANSIENT):
        return resilience.service_unavailable(request)
    if wants_json(request):
        return JsonResponse({"detail": _("Something went wrong on our side. Please try again later.")}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: JSON under the API, Django's page elsewhere."""
    if wants_json(request):
        return JsonResponse(
            {"detail": _("The security check of this form failed: reload the page and try again.")}, status=403
        )
    return html_csrf_failure(request, reason=reason)
