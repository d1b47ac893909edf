"""Structured logs with a request id that follows the request into its tasks.

The id is checked where an operator would look for it: the X-Request-ID header and the
JSON lines the real formatter writes, from the web side and from a real Celery worker
(in-process, on Redis) that ran the task the request enqueued."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from apps.peers.models import Membership
from p2pcommons.celery import app as celery_app
from p2pcommons.observability import JsonFormatter, request_id_var
from tests import reliability
from tests.celery_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]
FIGURES: Counter = Counter()
GENERATED = re.compile(r"[0-9a-f]{32}")


reliability_line = reliability.summary_fixture(
    "request-id",
    lambda: (
        f"requests={FIGURES['requests']} json_lines={FIGURES['lines']} forged_ids_replaced={FIGURES['replaced']} "
        f"ids_followed_into_worker={FIGURES['followed']}"
    ),
)


@pytest.fixture
def json_log():
    """The JSON lines the project's formatter writes, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    FIGURES["lines"] += len(lines())  # every line parsed as one JSON object
    root.removeHandler(handler)
    root.setLevel(saved_level)


def test_each_log_line_is_one_json_object_with_the_fields_an_operator_filters_on(json_log):
    token = request_id_var.set("trace-0123456789")
    try:
        logging.getLogger("apps.tools").warning("Reminder for %s could not be sent\nsecond line", "Olive")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("apps.tools").exception("Crashed", extra={"tool_id": 7})
    finally:
        request_id_var.reset(token)

    first, second = json_log()
    assert first["level"] == "WARNING" and first["logger"] == "apps.tools"
    assert first["message"] == "Reminder for Olive could not be sent\nsecond line"  # escaped: still one line
    assert first["request_id"] == "trace-0123456789"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert second["tool_id"] == 7 and "ValueError: boom" in second["exc_info"]


@pytest.mark.django_db
def test_every_response_carries_a_new_request_id_and_the_access_line_has_it(client, json_log):
    first = client.get("/healthz/")
    second = client.get("/healthz/")
    FIGURES["requests"] += 2

    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(GENERATED.fullmatch(i) for i in ids) and ids[0] != ids[1]
    access = [line for line in json_log() if line["logger"] == "p2pcommons.request"]
    assert [(a["request_id"], a["status"], a["path"]) for a in access] == [(i, 200, "/healthz/") for i in ids]


@pytest.mark.django_db
def test_a_safe_incoming_request_id_is_kept(client, json_log):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="app-7f3a9c.call:42")
    FIGURES["requests"] += 1

    assert response["X-Request-ID"] == "app-7f3a9c.call:42"
    assert json_log()[-1]["request_id"] == "app-7f3a9c.call:42"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        'x" , "level": "CRITICAL',  # tries to inject JSON fields
        "abc\r\nX-Admin: 1",  # header splitting / a fake second log line
        "short",  # too short to be unique
        "a" * 65,  # too long
        "../../etc/passwd",
        "id with spaces",
    ],
)
def test_an_unsafe_incoming_request_id_is_replaced_by_a_new_one(client, json_log, forged):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID=forged)
    FIGURES["requests"] += 1
    FIGURES["replaced"] += 1

    assert GENERATED.fullmatch(response["X-Request-ID"])
    lines = json_log()
    assert len(lines) == 1  # no forged second line
    assert lines[0]["request_id"] == response["X-Request-ID"] and lines[0]["level"] == "INFO"


# --- into the worker ---------------------------------------------------------------------
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis (set REDIS_URL): a real broker between the web side and the worker"
)


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_by_a_request_logs_with_that_requests_id_in_the_worker(
    real_worker, json_log, client, community, stranger
):
    client.force_login(stranger)
    response = client.post(f"/api/v1/communities/{community.pk}/join/", HTTP_X_REQUEST_ID="join-req-20261202")
    FIGURES["requests"] += 1
    assert response.status_code in (200, 201), response.content
    assert response["X-Request-ID"] == "join-req-20261202"

    assert wait_for(lambda: Membership.objects.filter(user=stranger, welcomed_at__isnull=False).exists())
    done = "apps.peers.tasks.membership_send_welcome"
    assert wait_for(lambda: any(line.get("task") == done and "succeeded" in line["message"] for line in json_log()))

    lines = json_log()
    web = [line for line in lines if line["logger"] == "p2pcommons.request"]
    worker = [line for line in lines if line.get("task") == done]
    assert [w["request_id"] for w in web] == ["join-req-20261202"]
    assert worker and all(w["request_id"] == "join-req-20261202" for w in worker)
    assert all(w["task_id"] for w in worker)
    FIGURES["followed"] += 1


@needs_redis
def test_a_task_sent_outside_any_request_carries_no_id_and_does_not_inherit_the_previous_one(real_worker, json_log):
    """Beat's tasks, one after a request's task on the same worker thread: no stale id."""
    token = request_id_var.set("earlier-request-1")
    try:
        celery_app.send_task("p2pcommons.heartbeat", queue=real_worker)
    finally:
        request_id_var.reset(token)
    celery_app.send_task("p2pcommons.heartbeat", queue=real_worker)

    def finished() -> list[dict]:
        return [
            line for line in json_log() if line.get("task") == "p2pcommons.heartbeat" and "succeeded" in line["message"]
        ]

    assert wait_for(lambda: len(finished()) == 2)
    assert [line["request_id"] for line in finished()] == ["earlier-request-1", None]
    FIGURES["followed"] += 1


@pytest.mark.django_db
def test_an_eager_task_keeps_the_id_of_the_request_it_runs_in(client, community, stranger, json_log):
    """The test settings (and CELERY_TASK_ALWAYS_EAGER setups) run tasks inside the request."""
    assert celery_app.conf.task_always_eager
    client.force_login(stranger)
    response = client.post(f"/api/v1/communities/{community.pk}/join/", HTTP_X_REQUEST_ID="eager-req-000001")
    FIGURES["requests"] += 1
    assert response.status_code in (200, 201)

    lines = json_log()
    assert lines and all(line["request_id"] == "eager-req-000001" for line in lines)


@needs_redis
def test_a_separate_worker_process_writes_json_lines_carrying_the_publishers_request_id(tmp_path):
    """The production shape: `celery worker` in its own process keeps the project's JSON
    logging (Celery does not take over the root logger) and restores the id from the
    message headers."""
    queue = f"test-log-proc-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.local",
        "LOG_FORMAT": "json",
        "CELERY_WORKER_HEARTBEAT_FILE": str(tmp_path / "worker.heartbeat"),
    }
    command = [sys.executable, "-m", "celery", "-A", "p2pcommons", "worker", "-l", "info", "-Q", queue]
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*command, "-c", "1", "--without-mingle", "--without-gossip", "--hostname", f"{queue}@%h"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    try:
        token = request_id_var.set("proc-req-0000001")
        eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
        try:
            celery_app.send_task("p2pcommons.heartbeat", queue=queue)
        finally:
            celery_app.conf.task_always_eager = eager
            request_id_var.reset(token)

        def succeeded() -> list[dict]:
            lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
            parsed = [json.loads(line) for line in lines]
            return [p for p in parsed if p.get("task") == "p2pcommons.heartbeat" and "succeeded" in p["message"]]

        assert wait_for(lambda: succeeded(), timeout=40), log_path.read_text()[-2000:]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    [line] = succeeded()
    assert line["request_id"] == "proc-req-0000001" and line["logger"] == "celery.app.trace"
    assert line["task_id"] and line["level"] == "INFO"
    FIGURES["followed"] += 1
    FIGURES["lines"] += sum(1 for text in log_path.read_text().splitlines() if text.startswith("{"))


def test_production_settings_log_json_and_the_other_modes_plain():
    """Production writes JSON unless LOG_FORMAT says otherwise; `make run` and tests stay plain."""
    code = "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    production = {
        "DJANGO_SETTINGS_MODULE": "p2pcommons.settings.production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.org",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "EMAIL_URL": "smtp://mail.example.org:25",
        "LEDGER_LOG_SECRET": "y" * 50,
    }
    base = {k: v for k, v in os.environ.items() if k != "LOG_FORMAT"}

    def formatter(**env: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**base, **env},
        )
        return result.stdout.strip()

    assert formatter(**production) == "json"
    assert formatter(**production, LOG_FORMAT="plain") == "plain"
    assert formatter(DJANGO_SETTINGS_MODULE="p2pcommons.settings.local") == "plain"
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "plain"  # this test run
