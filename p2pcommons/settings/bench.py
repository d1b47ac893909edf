"""Benchmark settings (`make bench`, bench/run.py): production's stack on loopback.

PostgreSQL and Redis from DATABASE_URL and REDIS_URL, DEBUG off, templates cached,
the real password hasher, tasks queued to Redis (nothing runs them unless a benchmark
starts a worker). What differs from production, and why:
- plain HTTP on loopback (no TLS redirect, no secure cookies);
- no API throttles and no login limits (a load generator is one member asking a lot);
- email goes nowhere (the notification benchmark renders it, nobody receives it);
- ``bench.timing.ServerTimingMiddleware`` first: every response says how long the server
  spent on it, in the database and in how many queries (a ``Server-Timing`` header);
- ``bench.urls`` adds the bare baseline views the API lists are compared with.
"""

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
ACCOUNT_RATE_LIMITS = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
MIDDLEWARE = ["bench.timing.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405
ROOT_URLCONF = "bench.urls"
SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
LOGGING["root"]["level"] = "ERROR"  # noqa: F405
