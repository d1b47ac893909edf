"""Settings: production passes `check --deploy`; the embedded default needs nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.production",
    "SECRET_KEY": "k7#Qv2$LmZp9!xR4wT8@yB6^nC1&dF5*gH3(jK0)sE-uI_oP=aV+",
    "ALLOWED_HOSTS": "p2pcommons.example.org",
    "DATABASE_URL": "postgres://p2pcommons:secret@db:5432/p2pcommons",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "LEDGER_LOG_SECRET": "a-secret-of-its-own-for-the-ledger-log-keys-0123456789",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_a_ledger_log_secret():
    """The log keys must not silently follow SECRET_KEY in production: rotating it would
    change every published log key."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "LEDGER_LOG_SECRET"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "LEDGER_LOG_SECRET" in result.stderr


def test_production_makes_email_verification_mandatory():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.ACCOUNT_EMAIL_VERIFICATION, settings.DEBUG, settings.DATABASES['default']['ENGINE'], "
        "settings.CELERY_BROKER_URL)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["mandatory", "False", "django.db.backends.postgresql", "redis://redis:6379/0"]


def test_the_embedded_default_is_sqlite_with_wal_immediate_and_a_serverless_broker(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['OPTIONS']['transaction_mode'], 'WAL' in d['OPTIONS']['init_command'], "
        "settings.CELERY_BROKER_URL, settings.EMAIL_BACKEND, settings.CELERY_TASK_ACKS_LATE, "
        "settings.CELERY_TASK_REJECT_ON_WORKER_LOST, settings.CELERY_ACCEPT_CONTENT)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.local", "P2P_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "IMMEDIATE",
        "True",
        "filesystem://",
        "django.core.mail.backends.console.EmailBackend",
        "True",
        "True",
        "['json']",
    ]


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CACHE_URL", "EMAIL_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SETUP = "import django; django.setup(); from django.conf import settings; "


def test_production_settings_refuse_to_start_without_a_shared_cache():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = _python(SETUP, env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Production settings need a shared cache: set REDIS_URL" in result.stderr


def test_production_settings_refuse_a_per_process_cache_url():
    env = {**{k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}, "CACHE_URL": "locmemcache://"}
    result = _python(SETUP, env)
    assert result.returncode != 0
    assert "per-process cache" in result.stderr


def test_production_settings_accept_an_explicit_shared_cache_url():
    env = {**{k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}, "CACHE_URL": "pymemcache://cache:11211"}
    result = _python(SETUP + "print(settings.CACHES['default']['BACKEND'])", env)
    assert result.stdout.strip().startswith("django.core.cache.backends.memcached."), result.stderr


def test_production_settings_refuse_to_start_without_an_email_server():
    result = _python(SETUP, {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"})
    assert result.returncode != 0
    assert "Production settings need EMAIL_URL" in result.stderr
    console = _python(SETUP, {**PRODUCTION_ENV, "EMAIL_URL": "consolemail://"})
    assert console.returncode != 0
    assert "prints password-reset links into the logs" in console.stderr


# Under production settings, with no database and no Redis: a page, the API docs, and
# JSON errors under /api/. Static file URLs come from plain storage (no collectstatic
# here) and throttle counts from a local cache (the shared-cache rule has its own test).
PRODUCTION_REQUESTS = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
setup_test_environment()
storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
from django.conf import settings
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": storage}, CACHES=local):
    c = Client(HTTP_HOST="p2pcommons.example.org", raise_request_exception=False)
    out = {}
    for name, path in (("page", "/accounts/login/"), ("docs", "/api/docs/"), ("missing", "/api/v1/no-such-thing/")):
        r = c.get(path, secure=True)
        out[name] = {"status": r.status_code, "type": r["Content-Type"], "body": r.content.decode()[:300],
                     "csp": r.get("Content-Security-Policy"), "pp": r.get("Permissions-Policy"),
                     "hsts": r.get("Strict-Transport-Security"), "xfo": r.get("X-Frame-Options")}
    r = c.generic("POST", "/api/v1/ledger/transfers/", b"{}", "application/json", secure=True,
                  CONTENT_LENGTH=str(50 * 1024 * 1024))
    out["big"] = {"status": r.status_code, "type": r["Content-Type"], "body": r.content.decode()}
print(json.dumps(out))
"""


def test_production_sends_security_headers_and_answers_api_errors_in_json(tmp_path):
    import json

    result = _python(PRODUCTION_REQUESTS, {**PRODUCTION_ENV, "P2P_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    page, docs = out["page"], out["docs"]
    assert page["status"] == 200, page
    assert "script-src 'self';" in page["csp"] + ";" and "'unsafe-inline'" not in page["csp"]
    assert "geolocation=(self)" in page["pp"] and "camera=()" in page["pp"]
    assert page["hsts"].startswith("max-age=") and page["xfo"] == "DENY"
    assert docs["status"] == 200, docs
    assert "script-src 'self';" in docs["csp"] + ";" and "style-src 'self' 'unsafe-inline'" in docs["csp"]
    assert docs["pp"] == page["pp"]
    assert (out["missing"]["status"], out["missing"]["type"]) == (404, "application/json")
    assert json.loads(out["missing"]["body"]) == {"detail": "Not found."}
    assert (out["big"]["status"], out["big"]["type"]) == (413, "application/json")
    assert json.loads(out["big"]["body"]) == {"detail": "This request is too large: the limit is 1 MB."}


def test_production_settings_configure_throttles_in_the_shared_redis_cache():
    code = SETUP + (
        "r = settings.REST_FRAMEWORK; print(settings.CACHES['default']['BACKEND']); "
        "print(len(r['DEFAULT_THROTTLE_CLASSES'])); "
        "print(sorted(k for k in r['DEFAULT_THROTTLE_RATES'] if k in ('anon', 'user', 'write')))"
    )
    result = _python(code, PRODUCTION_ENV)
    assert result.stdout.split("\n")[:3] == [
        "p2pcommons.resilience.ResilientRedisCache",
        "3",
        "['anon', 'user', 'write']",
    ], result.stderr


def test_a_redis_cache_url_gets_the_same_outage_behaviour_as_redis_url():
    """CACHE_URL=redis://... is the resilient cache too (p2pcommons/resilience.py): an
    outage of Redis is an empty cache, not a 500 on every page."""
    env = {**{k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}, "CACHE_URL": "redis://cache:6379/1"}
    result = _python(SETUP + "print(settings.CACHES['default']['BACKEND'])", env)
    assert result.stdout.strip() == "p2pcommons.resilience.ResilientRedisCache", result.stderr
