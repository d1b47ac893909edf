"""A real Celery worker thread for tests that need one (on Redis in CI, in-memory
otherwise), and polling until what it does lands in the database. Worker *processes*
that a test can kill are in tests/faults/harness.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from p2pcommons.celery import app as celery_app


@pytest.fixture
def real_worker() -> Iterator[str]:
    """A worker thread consuming a queue of its own, so nothing else's messages mix in;
    yields the queue's name."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "task_default_queue")}
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=15):
            yield queue
    finally:
        celery_app.conf.update(saved)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
