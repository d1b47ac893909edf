"""The Celery application: configured from Django settings (``CELERY_*``).

Besides the app itself this module keeps the worker observable (docs/operations.md):

- logging stays Django's (``LOGGING``, JSON in production) instead of Celery's own, so a
  worker's lines look like the web's and carry the request id (p2pcommons/observability.py);
- ``WorkerLiveness`` touches a file every few seconds from the worker's event loop: the
  file stays fresh only while the worker runs and its consumer is connected and looping;
- the ``p2pcommons.heartbeat`` task, scheduled by beat every minute, is run by whichever
  worker takes it and records the time in the shared cache: proof that beat publishes,
  the broker delivers and a worker consumes.

``python -m p2pcommons.healthcheck worker|beat`` reads both (the compose healthchecks).
"""

from __future__ import annotations

import logging
import os
import time

from celery import Celery, bootsteps, signals

from . import observability  # noqa: F401  (connects the request-id signals in every process)
from .heartbeat import HEARTBEAT_CACHE_KEY, worker_heartbeat_file, worker_heartbeat_interval

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.local")

app = Celery("p2pcommons")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@signals.setup_logging.connect(weak=False)
def keep_django_logging(**kwargs) -> None:
    """A receiver here stops Celery from replacing the root logger's handlers with its own
    (``worker_hijack_root_logger``); Django's ``LOGGING`` applies, configured once."""
    if not logging.getLogger().handlers:
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)


class WorkerLiveness(bootsteps.StartStopStep):
    """Touches the worker's heartbeat file every few seconds (``worker_heartbeat_interval``)
    from the worker's timer (its event loop), and removes it when the worker stops."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.path = worker_heartbeat_file()
        self.interval = worker_heartbeat_interval()
        self.tref = None

    def start(self, worker) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.touch()
        self.tref = worker.timer.call_repeatedly(self.interval, self.touch, priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        self.path.unlink(missing_ok=True)

    terminate = stop  # a cold shutdown too: the base class would only stop a service object

    def touch(self) -> None:
        try:
            self.path.touch()
        except OSError:  # a full or read-only disk must not stop the worker; the check will say so
            logger.warning("Cannot touch the worker heartbeat file %s", self.path, exc_info=True)


app.steps["worker"].add(WorkerLiveness)


@app.task(name="p2pcommons.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Records when a worker last ran a beat-scheduled task (read by the beat healthcheck)."""
    from django.core.cache import cache

    cache.set(HEARTBEAT_CACHE_KEY, {"at": time.time(), "worker": heartbeat.request.hostname}, timeout=24 * 3600)


# Beat's DatabaseScheduler copies this entry into its table at start-up: no migration.
# Added lazily (kept until the app is configured) and merged with any other schedule. A
# heartbeat nobody consumed within the minute is dropped, not piled up.
app.add_periodic_task(60.0, app.signature("p2pcommons.heartbeat"), name="p2pcommons-heartbeat", expires=55)
