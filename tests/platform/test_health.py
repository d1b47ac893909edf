"""Health endpoints: /healthz/ (the process and its database) and /readyz/ (database,
cache and Celery broker). Faults are real: the cache and the broker are pointed at a
port where nothing listens, so the check meets a refused connection, as when Redis dies.
These run on SQLite too (a dead port needs no server); with REDIS_URL set the healthy
case checks the real Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import override_settings

from p2pcommons.celery import app as celery_app
from tests import reliability

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FIGURES: Counter = Counter()


reliability_line = reliability.summary_fixture(
    "health",
    lambda: (
        f"requests={FIGURES['requests']} faults={FIGURES['faults']} failing_checks_named={FIGURES['named']} "
        f"worker_checks={FIGURES['worker_checks']} beat_checks={FIGURES['beat_checks']} leaks=0"
    ),
)


def dead_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_redis_url() -> str:
    return f"redis://127.0.0.1:{dead_port()}/0"


@pytest.fixture
def broker_at():
    """Points the Celery app's broker elsewhere for one test, then back."""
    saved = celery_app.conf.broker_url

    def point(url: str) -> None:
        celery_app.conf.broker_url = url

    yield point
    celery_app.conf.broker_url = saved


def get(client, path: str, **headers):
    FIGURES["requests"] += 1
    return client.get(path, **headers)


def test_the_liveness_check_answers_ok_with_the_database_reached(client):
    response = get(client, "/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_every_check_ok_when_database_cache_and_broker_answer(client):
    response = get(client, "/readyz/")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}
    assert response["Cache-Control"] == "no-store"
    if settings.REDIS_URL:  # the real thing was asked, not an in-process stand-in
        assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
        assert celery_app.conf.broker_url.startswith("redis")


# Django's own backend raises; the project's (p2pcommons/resilience.py) acts as an empty
# cache instead, which the check must still see through.
REDIS_BACKENDS = ["django.core.cache.backends.redis.RedisCache", "p2pcommons.resilience.ResilientRedisCache"]


@pytest.mark.parametrize("backend", REDIS_BACKENDS)
def test_readiness_answers_503_naming_the_cache_when_redis_is_unreachable(client, dead_redis_url, backend):
    caches = {"default": {"BACKEND": backend, "LOCATION": dead_redis_url}}
    with override_settings(CACHES=caches):
        response = get(client, "/readyz/")
    FIGURES["faults"] += 1

    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "checks": {"database": "ok", "cache": "failing", "broker": "ok"}}
    FIGURES["named"] += 1
    assert dead_redis_url.rsplit(":", 1)[1].split("/")[0] not in response.content.decode()


def test_readiness_answers_503_naming_the_broker_when_it_is_unreachable(client, broker_at, dead_redis_url):
    broker_at(dead_redis_url)
    response = get(client, "/readyz/")
    FIGURES["faults"] += 1

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "failing"}
    FIGURES["named"] += 1


def test_a_failing_readiness_answer_reveals_no_host_password_or_error_text(client, broker_at):
    secret_url = f"redis://:hunter2-secret@127.0.0.1:{dead_port()}/3"
    broker_at(secret_url)
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": secret_url}}
    with override_settings(CACHES=caches):
        response = get(client, "/readyz/")
    FIGURES["faults"] += 2

    text = response.content.decode()
    assert response.status_code == 503
    assert json.loads(text)["checks"] == {"database": "ok", "cache": "failing", "broker": "failing"}
    for leak in ("hunter2", "127.0.0.1", "redis://", "Error", "refused", "Traceback"):
        assert leak not in text


@override_settings(
    REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "2/minute"}}
)
def test_health_checks_are_anonymous_unthrottled_and_write_no_session(client):
    responses = [get(client, path) for path in ("/healthz/", "/readyz/") * 5]

    assert [r.status_code for r in responses] == [200] * 10
    assert all("sessionid" not in r.cookies and "csrftoken" not in r.cookies for r in responses)
    assert not any(r.has_header("Set-Cookie") for r in responses)


def test_health_checks_answer_only_get(client):
    response = client.post("/readyz/")
    assert response.status_code == 405


# --- Celery heartbeats: a real worker (in-process, on Redis) ------------------------------
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="needs Redis (set REDIS_URL): on the in-memory broker the worker has no event loop to stall",
)


@celery_app.task(name="tests.platform.hold_the_worker")
def hold_the_worker(seconds: float) -> None:
    """Test-only: keeps a solo worker's one thread, and so its event loop, busy."""
    from django.core.cache import cache

    cache.set("tests:held", True, 60)
    time.sleep(seconds)


def healthcheck(component: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m p2pcommons.healthcheck``, as the compose healthcheck runs it."""
    return subprocess.run(
        [sys.executable, "-m", "p2pcommons.healthcheck", component, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.test", **env},
        timeout=60,
    )


@pytest.fixture
def heartbeat_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "worker.heartbeat"
    monkeypatch.setenv("CELERY_WORKER_HEARTBEAT_FILE", str(path))
    monkeypatch.setenv("CELERY_WORKER_HEARTBEAT_INTERVAL", "0.3")
    return path


@pytest.fixture
def start_real_worker(heartbeat_file):
    """``start_real_worker()`` is a context manager: a solo worker on a queue of its own."""
    queue = f"test-health-{uuid.uuid4().hex[:8]}"
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue

    def start():
        return start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=15)

    yield start
    celery_app.conf.update(saved)


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@needs_redis
def test_the_worker_check_passes_while_a_worker_runs_and_fails_once_it_stops(start_real_worker, heartbeat_file):
    before = healthcheck("worker", "--max-age", "2")
    assert before.returncode == 1 and "not running" in before.stderr

    with start_real_worker():
        assert wait_for(heartbeat_file.exists)
        first = heartbeat_file.stat().st_mtime
        assert wait_for(lambda: heartbeat_file.stat().st_mtime > first), "the worker does not touch its file"
        running = healthcheck("worker", "--max-age", "2")
        assert running.returncode == 0, running.stderr
        assert running.stdout.startswith("worker: ok")

    FIGURES["faults"] += 1  # the worker stopped
    after = healthcheck("worker", "--max-age", "2")
    assert after.returncode == 1 and "not running" in after.stderr
    FIGURES["worker_checks"] += 3


@needs_redis
def test_the_worker_check_fails_while_the_worker_is_stuck_and_recovers_after(start_real_worker, heartbeat_file):
    from django.core.cache import cache

    with start_real_worker():
        assert wait_for(heartbeat_file.exists)
        hold_the_worker.delay(4.0)
        assert wait_for(lambda: cache.get("tests:held"))
        time.sleep(2.5)  # the loop is blocked: no touch for 2.5 s
        stuck = healthcheck("worker", "--max-age", "1.5")
        FIGURES["faults"] += 1
        assert stuck.returncode == 1, stuck.stdout
        assert "stuck or cut off" in stuck.stderr

        assert wait_for(lambda: time.time() - heartbeat_file.stat().st_mtime < 1.0, timeout=10)
        recovered = healthcheck("worker", "--max-age", "1.5")
        assert recovered.returncode == 0, recovered.stderr
    FIGURES["worker_checks"] += 2


@needs_redis
def test_the_beat_check_passes_only_after_a_worker_ran_beats_heartbeat_recently(start_real_worker):
    from django.core.cache import cache

    from p2pcommons.heartbeat import HEARTBEAT_CACHE_KEY

    env = {"REDIS_URL": settings.REDIS_URL}
    never = healthcheck("beat", **env)
    assert never.returncode == 1 and "no worker has run the beat heartbeat" in never.stderr

    with start_real_worker():
        celery_app.send_task("p2pcommons.heartbeat", queue=celery_app.conf.task_default_queue)  # as beat sends it
        assert wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY))
    fresh = healthcheck("beat", **env)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("beat: ok: beat heartbeat run by ")  # names the worker that ran it

    # Ten minutes without a heartbeat (beat or every worker gone) is unhealthy.
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    cache.set(HEARTBEAT_CACHE_KEY, {**beat, "at": beat["at"] - 600}, 60)
    stale = healthcheck("beat", **env)
    FIGURES["faults"] += 1
    assert stale.returncode == 1 and "s ago (limit 180 s)" in stale.stderr
    FIGURES["beat_checks"] += 3


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection, as beat does between syncs
def test_beat_installs_the_heartbeat_schedule_without_a_migration():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    assert not PeriodicTask.objects.filter(name="p2pcommons-heartbeat").exists()
    DatabaseScheduler(app=celery_app)  # what `celery beat` does at start-up

    entry = PeriodicTask.objects.select_related("interval").get(name="p2pcommons-heartbeat")
    assert entry.task == "p2pcommons.heartbeat" and entry.enabled
    assert (entry.interval.every, entry.interval.period) == (60, "seconds")
    assert "p2pcommons.heartbeat" in celery_app.tasks
