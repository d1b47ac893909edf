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
