"""TEST-ONLY settings: one real, running instance among several on loopback.

Used only by the federation harness (tests/federation/instances.py), which starts two
instances side by side (each a gunicorn web server and a Celery worker) to test how two
servers talk to each other. Never use it for `make run` or in production: it talks plain
HTTP to loopback addresses, hashes passwords with MD5 and writes email to files.

Everything runs as the embedded/production stack would (DEBUG off, a real Celery worker,
the real database), except:

- every file of the instance lives in its own folder, ``P2P_INSTANCE_DIR`` (required, so
  this module cannot start by accident): ``var/`` (static, media, exports, the Celery
  filesystem broker) and ``emails/`` (each email sent, one file per connection);
- the database is ``DATABASE_URL`` (the harness gives each instance its own), else a
  SQLite file in the instance folder;
- the Celery broker is always kombu's filesystem transport in the instance folder, also
  when ``REDIS_URL`` is set: two instances never share a queue. Redis, when set, is only
  the cache, under a key prefix of the instance's own (``CACHE_KEY_PREFIX``);
- other servers may be reached over plain HTTP and at loopback addresses
  (``FEDERATION_ALLOW_HTTP``, ``FEDERATION_ALLOW_PRIVATE_ADDRESSES``,
  ``LEDGER_WITNESS_ALLOW_HTTP``);
- no API throttles and no login limits (a test is one client asking a lot), MD5 password
  hashing (fast), static files served from the source folders (no collectstatic step).
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, PUBLISH_RETRY, REDIS_URL, env

_instance_dir = env.str("P2P_INSTANCE_DIR", default="")
if not _instance_dir:
    raise ImproperlyConfigured(
        "p2pcommons.settings.instance is for the federation tests only and needs P2P_INSTANCE_DIR "
        "(the instance's own folder); use p2pcommons.settings.local for `make run`."
    )
INSTANCE_DIR = Path(_instance_dir).resolve()
SITE_URL = env.str("SITE_URL").rstrip("/")  # required: the address other instances reach this one at

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
CSRF_TRUSTED_ORIGINS = [SITE_URL]

# --- Files: all in the instance's folder -----------------------------------------
VAR_DIR = INSTANCE_DIR / "var"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
EXPORT_ROOT = VAR_DIR / "exports"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # static files straight from the source folders: no collectstatic

if not env.str("DATABASE_URL", default=""):
    DATABASES["default"]["NAME"] = str(INSTANCE_DIR / "db.sqlite3")

# --- Cache: Redis when set, under this instance's own prefix ----------------------
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default=f"p2p-instance-{INSTANCE_DIR.name}")  # noqa: F405

# --- Celery: a real worker on a filesystem broker of the instance's own -----------
_broker_dir = VAR_DIR / "celery-broker"
(_broker_dir / "control").mkdir(parents=True, exist_ok=True)
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **PUBLISH_RETRY,
    "data_folder_in": str(_broker_dir),
    "data_folder_out": str(_broker_dir),
    "control_folder": str(_broker_dir / "control"),
    "store_processed": False,
    "polling_interval": 0.1,  # a test waits for the worker: look for new messages often
}
CELERY_TASK_ALWAYS_EAGER = False

# --- Email: one file per connection in the instance's folder (tests read them) ----
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(INSTANCE_DIR / "emails")

# --- Other servers on loopback, over plain HTTP -----------------------------------
FEDERATION_ALLOW_HTTP = True
FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
LEDGER_WITNESS_ALLOW_HTTP = True

# --- Speed: no throttles, no login limits, a fast password hash -------------------
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNT_RATE_LIMITS = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": [], "DEFAULT_THROTTLE_RATES": {}}  # noqa: F405
