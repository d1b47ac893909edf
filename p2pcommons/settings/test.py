"""Test settings: the same stack as production where the machine has it.

SQLite unless DATABASE_URL is set (then PostgreSQL), Celery tasks run eagerly unless
a test starts a real worker (see tests/test_celery_worker.py).
"""

import os

from .base import *  # noqa: F403
from .base import env

# A stand-in exchange type (tests/exchanges) that the core apps' tests register with
# the reputation registry, since core apps never import domain apps.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.exchanges"]  # noqa: F405

# On SQLite the test database is a file, not shared-cache memory: separate connections
# then wait for the write lock (busy timeout) as they do in production, which the
# race tests rely on.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test process, so two test runs side by side never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
else:
    # A test database needs no durability: without waiting for the WAL flush at every
    # commit (the flush after each transactional test commits a TRUNCATE of every table)
    # the PostgreSQL run is much faster. Transactions, locks and visibility between
    # connections are unchanged, so the race tests still test what they test.
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _options["options"] = f"{_options.get('options', '')} -c synchronous_commit=off".strip()

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdefghijklmnop"  # noqa: S105 - tests only
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="memory://"))
CELERY_BROKER_TRANSPORT_OPTIONS = dict(PUBLISH_RETRY)  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCOUNT_RATE_LIMITS = False

# No API throttling by default: counts live in the cache and would carry over from one
# test to the next (user ids repeat after each rollback). Tests of the throttles set
# their own low rates with override_settings (tests/platform/test_throttling.py).
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}  # noqa: F405
