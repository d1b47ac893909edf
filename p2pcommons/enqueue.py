"""Handing work to a Celery worker once the data it needs is committed: one way, one
retry policy, for every app.

    enqueue_on_commit(deliver_notifications, ids, waits_for="the outbox sweep")

After the current transaction commits (at once outside one), the task is published with
the broker retry policy ``settings.PUBLISH_RETRY`` (a couple of quick retries, well under
a second). If the broker is still unreachable the member's request goes on: the work is
already saved, and ``waits_for`` names the periodic task that picks it up instead, which
the warning in the log says. Nothing a member submitted depends on the broker being up.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_now(task, *args, waits_for: str) -> bool:
    """Publish ``task(*args)`` now; False (and a warning) if the broker can't be reached."""
    try:
        task.apply_async(args=list(args), retry=True, retry_policy=settings.PUBLISH_RETRY)
    except Exception:  # the broker's errors vary by transport; none may reach the member's request
        logger.warning("Broker unreachable; %s%s waits for %s", task.name, tuple(args), waits_for, exc_info=True)
        return False
    return True


def enqueue_on_commit(task, *args, waits_for: str) -> None:
    """``enqueue_now`` once the current transaction commits (see the module docstring)."""
    transaction.on_commit(lambda: enqueue_now(task, *args, waits_for=waits_for))


def current_task_id() -> str | None:
    """The id of the Celery task this code runs in, or None outside a task. A message the
    broker delivers again after its worker died (or a retry) keeps its id: that is how a
    redelivered run knows the claims it finds in flight are its own dead run's (the
    notification and export leases)."""
    from celery import current_task

    task_id = getattr(getattr(current_task, "request", None), "id", None)
    return str(task_id)[:150] if task_id else None
