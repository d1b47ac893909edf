"""Production: every secret and host from the environment; `check --deploy` clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# The secret the ledger logs' signing keys come from (apps/ledger/log.py): its own, so
# that rotating SECRET_KEY never changes a published log key.
LEDGER_LOG_SECRET = env.str("LEDGER_LOG_SECRET")

# A shared cache, or nothing starts: login limits and API throttles count in the cache,
# and a per-process cache lets each gunicorn worker count on its own (2 workers let 10
# password guesses through where 5 were allowed).
_PER_PROCESS_CACHES = ("locmem", "dummy", "filebased")
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache("CACHE_URL")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # The same outage behaviour as REDIS_URL's cache (p2pcommons/resilience.py).
        CACHES["default"]["BACKEND"] = "p2pcommons.resilience.ResilientRedisCache"
elif not REDIS_URL:
    raise ImproperlyConfigured(
        "Production settings need a shared cache: set REDIS_URL (e.g. redis://redis:6379/0) or CACHE_URL, "
        "so that login limits and API throttles count across all web processes."
    )
if any(kind in CACHES["default"]["BACKEND"].lower() for kind in _PER_PROCESS_CACHES):
    raise ImproperlyConfigured(
        f"CACHE_URL names a per-process cache ({CACHES['default']['BACKEND']}); production settings need a "
        "shared one such as Redis or Memcached."
    )

# Email from EMAIL_URL, never a default: the console backend would print password-reset
# links into the container logs.
if not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "Production settings need EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.org:587): "
        "sign-up and password-reset emails must reach people, not the logs."
    )
EMAIL_CONFIG = env.email_url("EMAIL_URL")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    raise ImproperlyConfigured(
        "EMAIL_URL is console email, which prints password-reset links into the logs: give a real mail server."
    )
vars().update(EMAIL_CONFIG)

ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")  # noqa: F405
# JSON lines for the log collector unless LOG_FORMAT says otherwise (docs/operations.md).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
