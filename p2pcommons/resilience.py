"""Staying up when Redis or a database connection goes away.

Two pieces, both in settings (``CACHES`` and ``MIDDLEWARE``):

``ResilientRedisCache``: Django's ``RedisCache``, except that a connection error (Redis
stopped, restarting, unreachable) is not raised into the request. The first failure logs
one warning and opens a circuit breaker: for ``BREAKER_SECONDS`` (5 by default) no call
tries the dead server at all, and the cache behaves as an empty one (``get`` gives the
default, ``set``/``delete`` do nothing, ``add`` says it stored, ``incr`` says the key is
missing, as every caller already handles). After that time one call tries Redis again;
when it answers, a line in the log says so and the cache is shared again. The breaker
is per process (each web process finds out for itself, within one failed call).

What is cached here is only ever a copy (menus, figures, filter fields, the ledger's
verify answer, rendered pages), so an empty cache costs database work, never a wrong
answer. One thing does not hold: an invalidation made while Redis is unreachable (a
generation bump, a ``delete``) is lost, so when the same Redis comes back it may serve
an entry that should have been dropped, until that entry expires (its TTL: the menu
within an hour, figures and filter fields within ten minutes). The ledger's verify
answer is keyed by the chain head and cannot go stale this way.

Rate limits while Redis is down (thinking as an attacker). API throttles and allauth's
login/sign-up limits keep their counts in the cache; with an empty cache they would let
everything through ("fail open"), and anyone able to make Redis unreachable (or who
simply notices an outage) could then guess passwords or flood neighbors with requests
without limit. Refusing every write with a 503 instead ("fail closed") would turn a cache
outage into a site outage for everyone. The middle way taken here: keys that hold rate
counts (``LOCAL_FALLBACK_PREFIXES``: DRF's ``throttle_`` and allauth's ``allauth:rl:``)
are counted in this process's own memory while Redis is down. Limits keep holding, per
web process: with N processes an attacker gets at most N times the normal budget for
the length of the outage, never an unlimited one. (allauth's cache lock also works on
this local memory, so sign-in keeps working instead of waiting on a lock it can never
take.) When Redis answers again the shared counts take over; local counts are dropped.

``ServiceUnavailableMiddleware``: whatever still fails because a service is unreachable
(a database connection terminated mid-request, a deadlock, a broker publish that was not
made through ``p2pcommons.enqueue``) answers a clear 503 with ``Retry-After`` (JSON
``{"detail": ...}`` under the API, a plain page elsewhere) instead of a 500 traceback
page. The request's transaction has rolled back by then (``transaction.atomic`` closes a
connection it cannot roll back, and Django opens a fresh one, after a health check, for
the next request on that thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.exceptions
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerOperationalError

logger = logging.getLogger(__name__)

# Redis unreachable, timing out, still loading its data, failed over to a read-only
# replica, or out of memory: for the cache, all mean "not usable just now".
REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.OutOfMemoryError,
)
# Errors that say "a service is unreachable or the database gave up on this attempt":
# trying again later can succeed. A bug (a missing column, a bad query) is not one of them
# on PostgreSQL (ProgrammingError); SQLite reports some bugs as OperationalError too, and
# those still reach the log at ERROR level, with the traceback.
TRANSIENT = (OperationalError, InterfaceError, BrokerOperationalError, ConnectionError, *REDIS_DOWN)
RETRY_AFTER_SECONDS = 5
# What a Celery task retries on (``autoretry_for``, with backoff; acks_late): the database
# connection was lost (a terminated backend, a failover) or the database gave up on this
# attempt (a deadlock, a serialization failure). Each task's own claim or idempotency key
# makes the retry act once.
DATABASE_LOST = (OperationalError, InterfaceError)

# Per Redis location: the monotonic time until which the breaker is open, and whether
# the server is known to be down (so the warning is logged once per outage).
_open_until: dict[str, float] = {}
_down: set[str] = set()


def _without_password(url: str) -> str:
    """``redis://:secret@host:6379/0`` as ``redis://host:6379/0``: logs never carry the password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class ResilientRedisCache(RedisCache):
    """``RedisCache`` that degrades to an empty cache (rate counts: a local one) while
    Redis is unreachable. Options, besides redis-py's: ``BREAKER_SECONDS`` and
    ``LOCAL_FALLBACK_PREFIXES``; socket timeouts default to 0.5 s (connect) and 2 s, so
    an unreachable host costs one short wait, not a hung request."""

    def __init__(self, server, params: dict) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.breaker_seconds = float(options.pop("BREAKER_SECONDS", 5))
        self.local_prefixes = tuple(options.pop("LOCAL_FALLBACK_PREFIXES", ("throttle_", "allauth:rl:")))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, {**params, "OPTIONS": options})
        self.location = ",".join(self._servers)
        self.shown = ",".join(_without_password(server) for server in self._servers)  # for the log
        # LocMemCache stores by name at module level: every thread of this process shares it.
        self.local = LocMemCache(f"resilient-fallback:{self.location}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})

    # --- the breaker ------------------------------------------------------------------
    def redis_is_skipped(self) -> bool:
        """True while the breaker is open: don't spend a connection attempt on a dead server."""
        return time.monotonic() < _open_until.get(self.location, 0.0)

    def _trip(self, exc: Exception) -> None:
        _open_until[self.location] = time.monotonic() + self.breaker_seconds
        if self.location not in _down:
            _down.add(self.location)
            logger.warning(
                "Redis unreachable at %s (%s): the cache acts empty (rate counts kept per process) "
                "and Redis is tried again every %s s",
                self.shown,
                exc,
                self.breaker_seconds,
            )

    def _recovered(self) -> None:
        if self.location in _down:
            _down.discard(self.location)
            _open_until.pop(self.location, None)
            self.local.clear()
            logger.warning("Redis reachable again at %s: the shared cache is back", self.shown)

    def _guard(self, key: str | None, shared: Callable[[], Any], local: Callable[[], Any], empty: Callable[[], Any]):
        """Run ``shared`` against Redis; while Redis is down, ``local`` for rate-count keys
        and ``empty`` (what an empty cache answers) for the rest. Calls on several keys pass
        no ``key`` and split rate-count keys from the rest in their ``empty``."""
        if not self.redis_is_skipped():
            try:
                result = shared()
            except REDIS_DOWN as exc:
                self._trip(exc)
            else:
                self._recovered()
                return result
        if key is not None and isinstance(key, str) and key.startswith(self.local_prefixes):
            return local()
        return empty()

    # --- the cache API ----------------------------------------------------------------
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
            lambda: self.local.add(key, value, timeout, version),
            lambda: True,
        )

    def get(self, key, default=None, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: self.local.get(key, default, version),
            lambda: default,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            lambda: self.local.set(key, value, timeout, version),
            lambda: None,
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).touch(key, timeout, version),
            lambda: self.local.touch(key, timeout, version),
            lambda: False,
        )

    def delete(self, key, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).delete(key, version),
            lambda: self.local.delete(key, version),
            lambda: False,
        )

    def has_key(self, key, version=None):
        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).has_key(key, version),
            lambda: self.local.has_key(key, version),
            lambda: False,
        )

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found.")

        return self._guard(
            key,
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            lambda: self.local.incr(key, delta, version),
            missing,
        )

    def get_many(self, keys: Iterable, version=None):
        keys = list(keys)
        return self._guard(
            None,
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
            dict,
            lambda: self.local.get_many([k for k in keys if str(k).startswith(self.local_prefixes)], version),
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            None,
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            list,
            list,
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._guard(
            None,
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            lambda: None,
            lambda: self.local.delete_many(keys, version),
        )

    def clear(self):
        self.local.clear()
        return self._guard(None, lambda: super(ResilientRedisCache, self).clear(), lambda: False, lambda: False)


class ServiceUnavailableMiddleware:
    """Turn a view's "service unreachable" error into a 503 the neighbor (or app) can act
    on: try again in a moment. Everything else is left to Django's error handling."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, TRANSIENT):
            return None
        level = logging.WARNING if isinstance(exception, (InterfaceError, *REDIS_DOWN)) else logging.ERROR
        logger.log(level, "503 for %s %s: %s", request.method, request.path, exception, exc_info=exception)
        return service_unavailable(request)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: ``{"detail": ...}`` under the API, a plain page elsewhere, with ``Retry-After``."""
    from .views import error_response

    response = error_response(
        request,
        status=503,
        message=_("Part of the site is briefly unavailable. Please try again in a moment."),
        title=_("Please try again"),
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
