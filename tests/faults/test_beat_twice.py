"""Two beat processes by mistake: periodic work still happens once per period.

Real ``celery beat`` processes with the project's scheduler (``p2pcommons.beat``) read a
periodic task from the test database that runs every ``PERIOD`` seconds; a real worker
runs it, and each run appends its time to a file (``beat_tick`` in tests/faults/hooks.py).
Over a window of several periods the task must run once a period (the count, and no two
runs closer than half a period), though two beats are running. Then the active beat is
killed with SIGKILL and the standby must take over within ``TAKEOVER_BOUND`` seconds,
still without doubling. A control run with django-celery-beat's own scheduler shows the
same count catches the doubling.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from p2pcommons.beat import FileLock, PostgresLock, beat_lock
from tests import reliability
from tests.faults.harness import CeleryProcess, CeleryStack, make_stack_fixture, requires_redis, wait_for

# The process tests need PostgreSQL and Redis; the file-lock tests (SQLite's lock) run anywhere.
processes = [pytest.mark.postgres, requires_redis, pytest.mark.django_db(transaction=True)]

celery_stack = make_stack_fixture()
PERIOD = 2  # seconds between runs of the periodic task
WINDOW = 8.0  # seconds over which runs are counted (4 periods)
CONTROL_WINDOW = 6.0  # the control run's window (3 periods: one beat ~3 runs, two ~6)
TAKEOVER_BOUND = 6.0  # seconds from the kill of the active beat to the standby's first run
TOOK = "Beat took the lock"
STANDS_BY = "stands by"
FIGURES = {"beats": 0, "periods": 0, "runs": 0, "faults": 0, "invariants": 0, "takeover": 0.0}


reliability_line = reliability.summary_fixture(
    "beat-twice",
    lambda: (
        f"beats={FIGURES['beats']} periods={FIGURES['periods']} runs={FIGURES['runs']} faults={FIGURES['faults']} "
        f"takeover={FIGURES['takeover']:.1f}s invariants={FIGURES['invariants']}"
    ),
)


@pytest.fixture(scope="module")
def worker(celery_stack):
    return celery_stack.worker(pool="solo", name="beat-worker")


@pytest.fixture
def beats(celery_stack: CeleryStack, worker):
    """``beats(n, scheduler)`` starts ``n`` beat processes; all are stopped after the test."""
    started: list[CeleryProcess] = []

    def start(n: int, scheduler: str = "p2pcommons.beat:LockedDatabaseScheduler") -> list[CeleryProcess]:
        for _ in range(n):
            started.append(celery_stack.beat(scheduler=scheduler))
        FIGURES["beats"] += n
        for beat in started:
            beat.wait_ready()
        return started

    celery_stack.purge()
    yield start
    for beat in started:
        beat.stop(timeout=5)


def every(stack: CeleryStack | None, label: str) -> PeriodicTask:
    """The periodic task, every PERIOD seconds, on the stack's queue; nothing else enabled."""
    PeriodicTask.objects.update(enabled=False)
    interval, _ = IntervalSchedule.objects.get_or_create(every=PERIOD, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name=f"faults-{label}", task="tests.faults.hooks.beat_tick", args=json.dumps([label]), interval=interval,
        queue=stack.queue if stack else None,
    )  # fmt: skip


def runs(stack: CeleryStack, label: str) -> list[float]:
    path = stack.hook_dir / f"ticks-{label}"
    return [float(line) for line in path.read_text().split()] if path.exists() else []


def runs_in(times: list[float], start: float, end: float) -> list[float]:
    return [t for t in times if start <= t < end]


def assert_once_per_period(times: list[float], window: float) -> None:
    """About one run a period over ``window``, and never two in one period."""
    periods = window / PERIOD
    assert periods - 1 <= len(times) <= periods + 1, f"{len(times)} runs in {window:.0f} s ({periods:.0f} periods)"
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= PERIOD / 2 for gap in gaps), f"two runs in one period: gaps {gaps}"
    FIGURES["periods"] += round(periods)
    FIGURES["runs"] += len(times)
    FIGURES["invariants"] += 2


@processes[0]
@processes[1]
@processes[2]
def test_with_two_beats_the_periodic_task_runs_once_a_period_and_the_standby_takes_over(celery_stack, beats):
    every(celery_stack, "locked")
    pair = beats(2)
    assert wait_for(lambda: sum(TOOK in b.log() for b in pair) == 1, 15), "no beat took the lock"
    active, standby = pair if TOOK in pair[0].log() else pair[::-1]
    assert wait_for(lambda: STANDS_BY in standby.log(), 10), f"the standby never said so:\n{standby.log()[-2000:]}"

    assert wait_for(lambda: runs(celery_stack, "locked"), 15), f"the task never ran:\n{active.log()[-2000:]}"
    start = time.time()
    time.sleep(WINDOW)
    assert_once_per_period(runs_in(runs(celery_stack, "locked"), start, start + WINDOW), WINDOW)
    assert TOOK not in standby.log()  # it stood by all along

    active.kill()
    killed_at = time.time()
    FIGURES["faults"] += 1
    assert wait_for(lambda: runs_in(runs(celery_stack, "locked"), killed_at, killed_at + 60), 30)
    first_after = runs_in(runs(celery_stack, "locked"), killed_at, killed_at + 60)[0]
    FIGURES["takeover"] = first_after - killed_at
    assert TOOK in standby.log()
    assert first_after - killed_at <= TAKEOVER_BOUND, f"the standby took {first_after - killed_at:.1f} s"

    time.sleep(WINDOW)
    after = runs_in(runs(celery_stack, "locked"), first_after, first_after + WINDOW)
    assert_once_per_period(after, WINDOW)
    # Across the takeover too: the standby did not send again what the dead beat had sent.
    around = runs_in(runs(celery_stack, "locked"), killed_at - 2 * PERIOD, first_after + 0.1)
    gaps = [b - a for a, b in itertools.pairwise(around)]
    assert all(gap >= PERIOD / 2 for gap in gaps), f"doubled at the takeover: gaps {gaps}"


@processes[0]
@processes[1]
@processes[2]
def test_control_two_beats_with_the_stock_scheduler_run_it_twice_a_period(celery_stack, beats):
    """Without the lock the same count fails: the test above would catch a regression."""
    every(celery_stack, "stock")
    beats(2, scheduler="django_celery_beat.schedulers:DatabaseScheduler")
    assert wait_for(lambda: runs(celery_stack, "stock"), 15)
    start = time.time()
    time.sleep(CONTROL_WINDOW)
    times = runs_in(runs(celery_stack, "stock"), start, start + CONTROL_WINDOW)
    assert len(times) >= 1.6 * CONTROL_WINDOW / PERIOD, f"{len(times)} runs in {CONTROL_WINDOW:.0f} s: not doubled"
    FIGURES["invariants"] += 1


@processes[0]
@processes[1]
@processes[2]
def test_when_the_active_beats_lock_session_is_terminated_one_beat_carries_on_without_doubling(celery_stack, beats):
    """pg_terminate_backend on the lock's session (a failover, an admin's mistake): the
    lock is gone; the beat that held it notices at its next tick and stands by unless it
    wins the lock again; either way exactly one beat sends."""
    from django.db import connection

    every(celery_stack, "terminated")
    pair = beats(2)
    assert wait_for(lambda: sum(TOOK in b.log() for b in pair) == 1, 15), "no beat took the lock"
    assert wait_for(lambda: len(runs(celery_stack, "terminated")) >= 2, 15)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")
        (holder,) = (pid for (pid,) in cursor.fetchall())
        cursor.execute("SELECT pg_terminate_backend(%s)", [holder])
    terminated_at = time.time()
    FIGURES["faults"] += 1

    time.sleep(WINDOW)
    after = runs_in(runs(celery_stack, "terminated"), terminated_at, terminated_at + WINDOW)
    assert after and after[0] - terminated_at <= TAKEOVER_BOUND
    assert_once_per_period(runs_in(runs(celery_stack, "terminated"), after[0], after[0] + WINDOW - PERIOD),
                           WINDOW - PERIOD)  # fmt: skip
    around = runs_in(runs(celery_stack, "terminated"), terminated_at - 2 * PERIOD, after[0] + 0.1)
    gaps = [b - a for a, b in itertools.pairwise(around)]
    assert all(gap >= PERIOD / 2 for gap in gaps), f"doubled when the lock was lost: gaps {gaps}"
    assert any("lost its lock" in b.log() for b in pair), "the beat that held the lock never noticed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        assert cursor.fetchone()[0] == 1  # held again, by one session


# --- SQLite's lock: a file lock the kernel releases when its holder dies ---------------
HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(600)
"""


def test_the_beat_lock_follows_the_database(settings):
    lock = beat_lock()
    expected = PostgresLock if "postgresql" in settings.DATABASES["default"]["ENGINE"] else FileLock
    assert isinstance(lock, expected)


def test_the_file_lock_admits_one_beat_and_passes_to_the_standby_when_the_holder_is_killed(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    standby = FileLock()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(standby.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert standby.acquire() is False
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        assert standby.acquire() is True
        assert FileLock().acquire() is False  # and now it holds it against everyone else
    finally:
        standby.release()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert FileLock().acquire() is True


# --- the scheduler alone, in this process (any database) -------------------------------
@pytest.mark.django_db(transaction=True)  # the scheduler closes connections, as beat does
def test_a_beat_sends_a_task_that_is_due_once_not_twice_when_it_starts(settings, tmp_path, monkeypatch):
    """django-celery-beat's scheduler rebuilt its heap right after its first send and sent
    the same due task again within milliseconds (seen at every start and every takeover)."""
    from p2pcommons.beat import LockedDatabaseScheduler
    from p2pcommons.celery import app
    from tests.faults import hooks  # noqa: F401  (registers beat_tick; tasks run eagerly here)

    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("FAULTS_HOOK_DIR", str(tmp_path))
    task = every(None, "start")
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=timezone.now() - timedelta(seconds=10))
    scheduler = LockedDatabaseScheduler(app=app, max_interval=1)
    try:
        deadline = time.monotonic() + 1.0  # well within one period: one run is due, no more
        while time.monotonic() < deadline:
            time.sleep(min(scheduler.tick(), 0.05))
    finally:
        scheduler.close()
    ticks = (tmp_path / "ticks-start").read_text().split()
    assert len(ticks) == 1, f"sent {len(ticks)} times at start"
    FIGURES["invariants"] += 1
