"""API throttles: anonymous callers, members, and each kind of write on its own budget.

Rates live in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on every request
(so a test may override them). Counts live in the default cache: Redis, shared by every
web process, when ``REDIS_URL`` is set (production settings require it).

The write throttle needs no per-view code: for an unsafe method it derives the scope
from the view, ``write.<basename>.<action>`` for a viewset (``write.ledger-transfer.create``,
``write.reservation.cancel``) and ``write.<url name>.<method>`` for a plain API view
(``write.notification-preferences.put``). A scope without a rate of its own uses the
rate of ``write.<basename>`` if set, else ``write``. So 20 gifts in a row or 10
request/cancel cycles hit a limit without touching any app's ``api.py``.
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings


def _rates() -> dict[str, str]:
    return api_settings.DEFAULT_THROTTLE_RATES or {}


class _LiveRateMixin:
    """Read the rate at request time rather than at import (DRF's default)."""

    scope: str

    def __init__(self) -> None:
        self.rate = _rates().get(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)


class AnonRateThrottle(_LiveRateMixin, throttling.AnonRateThrottle):
    """Callers who are not signed in, counted by address."""


class UserRateThrottle(_LiveRateMixin, throttling.UserRateThrottle):
    """Every request of a signed-in member (anonymous ones by address)."""


def write_scope(request, view) -> str:
    """``write.<basename>.<action>`` for viewsets, ``write.<url name>.<method>`` otherwise."""
    basename = getattr(view, "basename", None)
    action = getattr(view, "action", None)
    if basename and action:
        return f"write.{basename}.{action}"
    match = getattr(request, "resolver_match", None)
    name = (match.url_name if match else None) or type(view).__name__
    return f"write.{name}.{request.method.lower()}"


class WriteRateThrottle(throttling.SimpleRateThrottle):
    """Each kind of unsafe request (POST, PUT, PATCH, DELETE) per member, or per address."""

    scope = "write"

    def __init__(self) -> None:
        self.rate = None

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        self.scope = write_scope(request, view)
        rates = _rates()
        family = self.scope.rsplit(".", 1)[0]
        self.rate = rates.get(self.scope) or rates.get(family) or rates.get("write")
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
