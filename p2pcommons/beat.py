"""One beat sends the periodic tasks, however many are started.

Two ``celery beat`` processes with django-celery-beat's ``DatabaseScheduler`` (a second
container by mistake, a deploy that overlaps the old one) would each send every periodic
task, so each would run twice a period. ``LockedDatabaseScheduler`` sends only while it
holds a lock that only one process can hold:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection of its
  own. The server releases it when that session ends, so when the active beat dies (even
  by ``kill -9``) a standby takes over at its next tick.
- SQLite (embedded mode): an exclusive ``fcntl`` lock on a file in ``VAR_DIR``, which the
  kernel releases when the process dies.

A beat without the lock logs that it stands by and tries again every tick (at most
``max_interval`` seconds, 5 by default). On taking over it reads the schedule again, with
the last run times the other beat saved, which it saves after every task it sends: at a
takeover a task runs again only if the old beat died between sending it and saving that.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import Error, connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Advisory locks live per database, so one fixed key serves every deployment.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"p2pcommons.beat").digest()[:8], "big", signed=True)


class PostgresLock:
    """A session advisory lock held on a connection no other code uses or closes."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self.wrapper = None

    def acquire(self) -> bool:
        try:
            if self.wrapper is None:
                self.wrapper = connections.create_connection(self.alias)
            with self.wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
                return bool(cursor.fetchone()[0])
        except Error:
            logger.warning("Beat lock: the database cannot be reached; trying again", exc_info=True)
            self.release()
            return False

    def still_held(self) -> bool:
        """The lock lasts as long as its session: a live connection still holds it."""
        try:
            with self.wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except (Error, AttributeError):
            self.release()
            return False

    def release(self) -> None:
        if self.wrapper is not None:
            with contextlib.suppress(Error):
                self.wrapper.close()  # ends the session, which releases the lock
            self.wrapper = None


class FileLock:
    """An exclusive ``flock`` on a file named after the database it guards."""

    def __init__(self, alias: str = "default") -> None:
        name = str(settings.DATABASES[alias]["NAME"])
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        self.path = Path(settings.VAR_DIR) / f"celery-beat-{digest}.lock"
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def beat_lock(alias: str = "default") -> PostgresLock | FileLock:
    """The lock for the database beat reads its schedule from."""
    if connections[alias].vendor == "postgresql":
        return PostgresLock(alias)
    return FileLock(alias)


class LockedDatabaseScheduler(DatabaseScheduler):
    """``DatabaseScheduler`` that sends only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = beat_lock()
        self.holding = False
        self.standing_by = False
        super().__init__(*args, **kwargs)
        # Save last_run_at after every task sent, so a standby that takes over knows
        # what the dead beat already sent.
        self.sync_every_tasks = 1

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.holding and not self.lock.still_held():
            logger.warning("Beat lost its lock (database connection lost); standing by")
            self.holding = False
        if not self.holding:
            if not self.lock.acquire():
                if not self.standing_by:
                    logger.info("Another beat holds the lock: this beat stands by and tries again every tick")
                    self.standing_by = True
                else:
                    logger.debug("Beat still standing by")
                return self.max_interval
            logger.info("Beat took the lock: this beat sends the periodic tasks (pid %s)", os.getpid())
            self.holding = True
            self.standing_by = False
            self.reload()
        return super().tick(*args, **kwargs)

    def reserve(self, entry):
        """Keep the entry just sent, with its new last run time, in the schedule too.
        django-celery-beat's own ``reserve`` leaves the old entry there, and whenever the
        heap is rebuilt from the schedule (a change seen in the table; at every start,
        since its "heap invalidated" flag outlives the rebuild) that old entry is due
        again and the task is sent twice within milliseconds."""
        new_entry = super().reserve(entry)
        if self._schedule is not None and new_entry.name in self._schedule:
            self._schedule[new_entry.name] = new_entry
        return new_entry

    def reload(self) -> None:
        """Forget what was read while standing by: the last run times in the database are
        the other beat's, and they decide what is due now."""
        self._dirty.clear()
        self._schedule = self.all_as_schedule()
        self._heap = None

    def close(self) -> None:
        super().close()
        self.lock.release()
