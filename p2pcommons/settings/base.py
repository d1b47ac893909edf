"""Settings shared by every run mode.

Everything comes from environment variables with safe embedded defaults: with no
variables at all the site runs on SQLite, with console email and a Celery broker that
needs no server. ``local``, ``test`` and ``production`` adjust from here.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("P2P_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-embedded-key-only-for-local-use-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where the site is reached from outside; used for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "apps.peers",
    "apps.ledger",
    "apps.reputation",
    "apps.notifications",
    "apps.moderation",
    "apps.federation",
    "apps.tools",
    "apps.skills",
    "apps.solar",
    "apps.codesign",
    "apps.front",
    "apps.privacy",
]

MIDDLEWARE = [
    # First, so every answer (redirects and refusals too) has an X-Request-ID and an access line.
    "p2pcommons.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "p2pcommons.middleware.PermissionsPolicyMiddleware",
    # Before anything reads the body: a request declaring too large a body is refused
    # from its headers alone (413, JSON under /api/).
    "p2pcommons.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, first asking the member's saved language (session).
    "p2pcommons.middleware.MemberLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees a view's errors first: an unreachable service is a 503 "try again".
    "p2pcommons.resilience.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "p2pcommons.urls"
WSGI_APPLICATION = "p2pcommons.wsgi.application"
ASGI_APPLICATION = "p2pcommons.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.front.context.exchanges_menu",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
# SQLite by default (WAL so readers never wait for the writer, IMMEDIATE so a write
# transaction takes the write lock at BEGIN instead of failing halfway through);
# PostgreSQL when DATABASE_URL says so.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Redis through p2pcommons.resilience: while Redis is unreachable the cache acts empty
# (rate counts are kept per process) instead of failing every request that touches it.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "p2pcommons.resilience.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="p2pcommons"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "peers.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "front:home"
LOGOUT_REDIRECT_URL = "front:home"

from .accounts import *  # noqa: E402, F403  (allauth settings live in accounts.py)

# --- Email ----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A send that hangs gives up well within the notification lease (5 minutes, see
# apps/notifications/services.py), so a sweep never takes over a send still under way.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=60)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="p2pcommons <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# One member's notifications to one neighbor are emailed at once up to this many an
# hour; the rest wait for the daily digest (they show in-app at once).
NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR = env.int("NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR", default=3)

# --- I18N / time ----------------------------------------------------------------
LANGUAGE_CODE = "en"
# The languages a member can choose (saved on their profile) and a visitor's browser
# can ask for (Accept-Language). Catalogs: locale/ and apps/<name>/locale/, kept by
# `manage.py messages` (p2pcommons/catalogs.py).
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
# Dates written for people the same way everywhere, the admin included (p2pcommons/formats).
FORMAT_MODULE_PATH = ["p2pcommons.formats"]

# --- Static and media -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploaded pictures are served by Django itself unless a web server or object storage
# in front takes that over (then set SERVE_MEDIA=false): fine at neighborhood scale.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# A member's data exports (apps/privacy): private files, never under MEDIA_ROOT; each
# is downloadable by its owner through a link that expires after EXPORT_LINK_HOURS.
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(VAR_DIR / "exports")))
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=48)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Request size ---------------------------------------------------------------
# Refused as early as possible: RequestSizeLimitMiddleware answers 413 from the
# Content-Length header alone, before Django reads a byte of the body; the proxy in
# docker-compose.yml refuses bodies over the upload limit before they reach gunicorn.
# Multipart bodies (photo uploads) may be up to REQUEST_MAX_UPLOAD_SIZE; every other
# body (JSON, forms) up to REQUEST_MAX_BODY_SIZE.
REQUEST_MAX_UPLOAD_SIZE = env.int("REQUEST_MAX_UPLOAD_SIZE", default=12 * 1024 * 1024)
REQUEST_MAX_BODY_SIZE = env.int("REQUEST_MAX_BODY_SIZE", default=1024 * 1024)
# Django's own limits, for bodies sent without a Content-Length: the non-file part of a
# request, the number of form fields and files, and the size above which an uploaded
# file is spooled to a temporary file instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # The app's session token first: its challenge makes a missing, invalid or expired
    # token (or an ended browser session) a 401, not a 403 (p2pcommons/api/authentication.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "p2pcommons.api.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON bodies only: one content type per operation is what client generators handle.
    # The upload endpoints declare MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "p2pcommons.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "p2pcommons.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "p2pcommons.api.exceptions.exception_handler",
    # Anonymous callers by address, members by account, and each kind of write (a gift,
    # a loan request, a report, ...) on its own budget: see p2pcommons/api/throttling.py.
    # Counts live in the default cache, which is Redis (shared by every process) when
    # REDIS_URL is set; production settings refuse to start without a shared cache.
    "DEFAULT_THROTTLE_CLASSES": [
        "p2pcommons.api.throttling.AnonRateThrottle",
        "p2pcommons.api.throttling.UserRateThrottle",
        "p2pcommons.api.throttling.WriteRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="600/minute"),
        # Any one kind of write, unless named below.
        "write": env.str("THROTTLE_WRITE", default="120/hour"),
        # Writes that notify or email someone else get a tighter budget.
        "write.ledger-transfer.create": "30/hour",
        "write.reservation.create": "30/hour",
        "write.reservation.cancel": "30/hour",
        "write.skill-request.create": "20/hour",
        "write.skill-offer.create": "20/hour",
        "write.flag.create": "30/hour",
        "write.review.create": "30/hour",
        # Reading notifications one by one is cheap and notifies nobody.
        "write.notification.read": "1000/hour",
        # A meter's device posts readings or telegrams, counted per device token: a
        # telegram every 10 seconds is 6 a minute; this leaves room for catching up.
        "solar-device": "120/minute",
        **env.dict("THROTTLE_RATES", default={}),
    },
    # How many proxies stand in front of the app (the one in docker-compose.yml: set
    # NUM_PROXIES=1 there), so anonymous callers are told apart by their real address
    # and a forged X-Forwarded-For is ignored.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "p2pcommons API",
    "DESCRIPTION": (
        "Neighbors sharing tools, solar power, skills and design projects. "
        "Mobile apps log in with POST /_allauth/app/v1/auth/login "
        '({"email": ..., "password": ...}) and send the returned '
        "meta.session_token as the X-Session-Token header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Enums whose field name (status, kind, ...) has other choices elsewhere too are named
    # here; an unnamed clash is a warning, and `make schema` fails on warnings.
    "ENUM_NAME_OVERRIDES": {
        "MovedToolsEnum": "apps.privacy.api_move.MOVED_TOOLS",
        "RemoteListingKindEnum": "apps.federation.models.RemoteListing.Kind",
        # The same two values as a reservation's role filter, so one enum under its older name.
        "ReservationsRoleEnum": "apps.federation.models.RemoteExchange.Side",
        "RemoteExchangeStatusEnum": "apps.federation.models.RemoteExchange.Status",
        "ToolConditionEnum": "apps.tools.models.Tool.Condition",
        "ReportedConditionEnum": "apps.tools.models.ConditionReport.Condition",
        "ListingStatusEnum": "apps.skills.models.Offer.Status",
        "ToolStatusEnum": "apps.tools.models.Tool.Status",
        "MembershipStatusEnum": "apps.peers.models.Membership.Status",
        "TransferKindEnum": "apps.ledger.models.Transfer.Kind",
        "SeatStatusEnum": "apps.skills.models.Seat.Status",
        "MatchSideEnum": "apps.skills.api.MY_SIDE_CHOICES",
        # Filled by the apps at start-up (registries), so read when the schema is made.
        "NotificationKindEnum": "apps.notifications.api.kind_choices",
        "ExchangeTypeEnum": "apps.reputation.api.exchange_type_choices",
        "TargetTypeEnum": "apps.moderation.api.target_type_choices",
        "DeliveryEnum": "apps.notifications.kinds.DELIVERIES",
    },
    # Named error shapes, the 401 on every operation, ids in paths (the ``id`` converter
    # and the routers' lookups, p2pcommons/converters.py) as integers, per-operation
    # conflict codes: see p2pcommons/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "p2pcommons.api.schema.postprocess",
    ],
}

# --- Celery ---------------------------------------------------------------------
# Redis when configured; otherwise kombu's filesystem transport, a real broker that
# needs no server, so `make run` has a real worker and beat.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# Publishing gives up after two quick retries instead of kombu's patient defaults: a web
# request that enqueues on commit must not hang on a dead broker. Nothing is lost: the
# rows wait in their outbox (see apps/notifications) for a periodic task.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS: dict = dict(PUBLISH_RETRY)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **PUBLISH_RETRY,
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # kombu keeps its exchange bindings in ./control by default: keep them in var/ too.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task not acknowledged within this time is delivered again (a worker killed
    # mid-task loses nothing: acks_late); longer than the hard time limit so a slow task
    # is never run twice while it still runs. The fault tests set a few seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **PUBLISH_RETRY,
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
# --- The provable ledger (apps/ledger/log.py) -------------------------------------
# Each community's log key is derived from this secret and the log's name; the private
# keys are never stored. Back it up with the database: a lost secret means new keys,
# and every witness would then see a log it can't trust. Empty: derived from SECRET_KEY
# (local use only; production settings require it).
LEDGER_LOG_SECRET = env.str("LEDGER_LOG_SECRET", default="")
# The host part of the logs' names (default: SITE_URL's host), e.g. "oak.example.org".
LEDGER_LOG_HOST = env.str("LEDGER_LOG_HOST", default="")
# A checkpoint is signed every this many entries (0: only by the 5-minute sweep).
LEDGER_CHECKPOINT_EVERY = env.int("LEDGER_CHECKPOINT_EVERY", default=100)
# Witnesses fetch logs on other servers over HTTPS only; tests allow plain HTTP.
LEDGER_WITNESS_ALLOW_HTTP = env.bool("LEDGER_WITNESS_ALLOW_HTTP", default=False)

# --- Federation (apps/federation): communities on other servers, over ActivityPub ----
# Other servers are reached over HTTPS only, and never at a private, loopback or
# link-local address (a remote actor must not make this server call its own network).
# Tests that start two instances on loopback allow both.
FEDERATION_ALLOW_HTTP = env.bool("FEDERATION_ALLOW_HTTP", default=False)
FEDERATION_ALLOW_PRIVATE_ADDRESSES = env.bool("FEDERATION_ALLOW_PRIVATE_ADDRESSES", default=False)

CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Only the beat holding the lock sends (p2pcommons/beat.py): a second beat stands by.
CELERY_BEAT_SCHEDULER = "p2pcommons.beat:LockedDatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- Security headers -----------------------------------------------------------
# Content-Security-Policy (django-csp): the pages load scripts, styles, fonts and
# pictures from this site only, and have no inline script or style. The API docs pages
# (p2pcommons/urls.py) add what Swagger UI and ReDoc need, on those pages alone.
_img_src = [SELF, "data:"]
if MEDIA_URL.startswith(("http://", "https://")):  # pictures served by object storage
    _img_src.append(MEDIA_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": _img_src,
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Permissions-Policy (p2pcommons.middleware): no camera, microphone, payment and the
# like; geolocation only for this site itself ("use my location").
PERMISSIONS_POLICY = {
    "geolocation": ["self"],
    "camera": [],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "midi": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}

# Errors: JSON under /api/ (and HTML pages elsewhere), CSRF failures included.
CSRF_FAILURE_VIEW = "p2pcommons.views.csrf_failure"

# Logs go to stderr, one line each: plain text for people (`make run`, tests), or with
# LOG_FORMAT=json (the production default) one JSON object a line with the request id
# that follows a request into the tasks it enqueues (p2pcommons/observability.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "p2pcommons.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One access line per request (method, path, status, duration, request id).
        "p2pcommons.request": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO")},
    },
}
