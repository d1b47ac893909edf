"""The Celery heartbeats' shared pieces: where the worker's file is, how often it is
touched, the cache key of beat's heartbeat, and the two checks that read them.

Used by p2pcommons/celery.py (which writes them) and p2pcommons/healthcheck.py (the
command-line check for docker-compose); imports neither Django nor Celery at the top.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

HEARTBEAT_CACHE_KEY = "p2pcommons:celery:heartbeat"
DEFAULT_MAX_AGE = {"worker": 60.0, "beat": 180.0}


def worker_heartbeat_file() -> Path:
    """``CELERY_WORKER_HEARTBEAT_FILE``, else a file in the temporary folder (one per
    container in docker-compose)."""
    default = Path(tempfile.gettempdir()) / "p2pcommons-celery-worker.heartbeat"
    return Path(os.environ.get("CELERY_WORKER_HEARTBEAT_FILE") or default)


def worker_heartbeat_interval() -> float:
    """Seconds between touches of the worker's file (``CELERY_WORKER_HEARTBEAT_INTERVAL``, 10)."""
    return float(os.environ.get("CELERY_WORKER_HEARTBEAT_INTERVAL") or 10)


def check_worker(max_age: float) -> tuple[bool, str]:
    path = worker_heartbeat_file()
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"no worker heartbeat file at {path}: the worker is not running (or has not started yet)"
    if age > max_age:
        return False, f"the worker's last heartbeat is {age:.0f} s old (limit {max_age:.0f} s): it is stuck or cut off"
    return True, f"worker heartbeat {age:.1f} s ago"


def check_beat(max_age: float) -> tuple[bool, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.local")
    import django

    django.setup()
    from django.core.cache import cache

    try:
        beat = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception as exc:  # any cache error means "cannot tell": unhealthy, with its kind
        return False, f"the cache cannot be read ({type(exc).__name__})"
    if not beat:
        return False, "no worker has run the beat heartbeat yet: beat, the broker or every worker is down"
    age = time.time() - float(beat["at"])
    if age > max_age:
        return False, f"beat's last heartbeat ran {age:.0f} s ago (limit {max_age:.0f} s): beat or the workers stopped"
    return True, f"beat heartbeat run by {beat.get('worker')} {age:.1f} s ago"
