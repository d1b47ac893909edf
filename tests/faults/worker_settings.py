"""Settings for the worker and beat processes the fault tests start (tests/faults/harness.py).

The test settings, with what a real worker needs instead of what an in-process test
wants: tasks go through the broker (not eagerly), to the test's own queue; a message a
killed worker left unacknowledged comes back after a few seconds instead of an hour;
emails are written to files the test counts; and the test-only hooks are imported.
Everything comes from environment variables the harness sets.
"""

import os

from p2pcommons.settings.test import *  # noqa: F403
from p2pcommons.settings.test import PUBLISH_RETRY

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ["REDIS_URL"]
CELERY_TASK_DEFAULT_QUEUE = os.environ["FAULTS_QUEUE"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **PUBLISH_RETRY,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3")),
    # Look for messages of dead workers every second (kombu's default is ~100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_IMPORTS = ["tests.faults.hooks"]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["FAULTS_EMAIL_DIR"]
