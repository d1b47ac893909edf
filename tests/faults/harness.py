"""Real Celery worker and beat processes for the fault tests, and the means to kill them.

The API, kept small (other fault modules import it):

- ``CeleryStack(queue=..., workdir=...)``: the environment shared by the processes of one
  test module: its own queue on the Redis db of ``REDIS_URL``, the pytest test database
  (its name read from the test's connection), and a work folder with ``hooks/`` (pause
  points, tests/faults/hooks.py), ``emails/`` (the file email backend) and ``exports/``.
- ``stack.worker(pool="prefork"|"solo", hooks=True)`` and ``stack.beat(scheduler=...)``
  return a started ``CeleryProcess``; ``.wait_ready()``, ``.kill()`` (SIGKILL to the whole
  process group, no clean-up of any kind), ``.restart()``, ``.stop()`` (SIGTERM, then SIGKILL),
  ``.log()``. Every process is stopped at teardown and at interpreter exit: no orphans.
- ``stack.arm(point, let_through=0)`` / ``stack.wait_reached(point)``: pause a worker in
  the middle of a named function (see ``PAUSE_POINTS`` in tests/faults/hooks.py).
- ``stack.emails()``: the messages the workers sent, parsed.
- ``stack.publishing()``: a context manager in which this (test) process publishes
  tasks to the stack's queue through the broker instead of running them eagerly.
- ``celery_stack`` (module-scoped fixture factory, ``make_stack_fixture()``) and
  ``requires_redis`` (a skip mark with a reason when REDIS_URL is unset).
- ``wait_for(predicate, timeout)``.

The worker runs ``tests.faults.worker_settings``: the test settings with a real broker, a
visibility timeout of ``VISIBILITY_TIMEOUT`` seconds (``CELERY_VISIBILITY_TIMEOUT``) so a
message a killed worker left unacknowledged comes back quickly, and file-based email.
"""

from __future__ import annotations

import atexit
import contextlib
import email
import os
import signal
import subprocess
import sys
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
VISIBILITY_TIMEOUT = 3  # seconds before a dead worker's unacknowledged message is delivered again
READY_TIMEOUT = 45.0

requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis for a real Celery broker (set REDIS_URL=redis://...)"
)

_live: weakref.WeakSet[CeleryProcess] = weakref.WeakSet()


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


class CeleryProcess:
    """One ``celery`` process (and its children), in a process group of its own."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, ready_text: str) -> None:
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.ready_text = ready_text
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0
        self._log_offset = 0

    def start(self) -> CeleryProcess:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the pool children
            )
        self.starts += 1
        _live.add(self)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self, *, since_start: bool = False) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_bytes()
        return text[self._log_offset :].decode(errors="replace") if since_start else text.decode(errors="replace")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> CeleryProcess:
        if not wait_for(lambda: self.ready_text in self.log(since_start=True) or not self.alive(), timeout, 0.1):
            raise AssertionError(f"{self.argv[3]} not ready within {timeout} s:\n{self.log(since_start=True)[-3000:]}")
        if not self.alive():
            raise AssertionError(f"{self.argv[3]} exited at start:\n{self.log(since_start=True)[-3000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL to the whole group (main process and pool children): no clean-up, no
        acknowledgement, open database transactions left for the server to abort."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reap_group(self.proc.pid)
        self.kills += 1

    def stop(self, timeout: float = 10.0) -> None:
        """A clean stop (SIGTERM, a warm shutdown), SIGKILL after ``timeout`` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._reap_group(self.proc.pid)
        _live.discard(self)

    def restart(self, *, env: dict[str, str] | None = None) -> CeleryProcess:
        if self.alive():
            self.stop()
        if env is not None:
            self.env = env
        return self.start().wait_ready()

    @staticmethod
    def _reap_group(pgid: int) -> None:
        """Pool children left in the group (their parent gone) are killed too."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


@atexit.register
def _stop_everything() -> None:
    for process in list(_live):
        process.stop(timeout=3)


class CeleryStack:
    """The environment of a module's worker and beat processes (see the module docstring)."""

    def __init__(self, *, workdir: Path, queue: str | None = None) -> None:
        from django.db import connection

        self.queue = queue or f"faults-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.hook_dir = workdir / "hooks"
        self.email_dir = workdir / "emails"
        self.export_dir = workdir / "exports"
        for folder in (self.hook_dir, self.email_dir, self.export_dir):
            folder.mkdir(parents=True, exist_ok=True)
        db = connection.settings_dict  # NAME is the test database pytest-django created
        self.database_url = (
            f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        self.processes: list[CeleryProcess] = []

    def env(self, *, hooks: bool = True) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DATABASE_URL": self.database_url,
            "FAULTS_QUEUE": self.queue,
            "FAULTS_EMAIL_DIR": str(self.email_dir),
            "EXPORT_ROOT": str(self.export_dir),
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_WORKER_HEARTBEAT_FILE": str(self.workdir / f"worker-{len(self.processes)}.heartbeat"),
            "P2P_VAR_DIR": str(self.workdir / "var"),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("FAULTS_HOOK_DIR", None)
        if hooks:
            env["FAULTS_HOOK_DIR"] = str(self.hook_dir)
        return env

    def worker(self, *, pool: str = "prefork", hooks: bool = True, name: str = "w") -> CeleryProcess:
        """A started, ready worker consuming only this stack's queue."""
        node = f"{name}-{self.queue}-{len(self.processes)}@%h"
        argv = [CELERY, "-A", "p2pcommons", "worker", f"--pool={pool}", "--concurrency=1", "-Q", self.queue,
                "-n", node, "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--prefetch-multiplier=1"]  # fmt: skip
        log = self.workdir / f"{name}-{len(self.processes)}.log"
        process = CeleryProcess(argv, self.env(hooks=hooks), log, ready_text=" ready.")
        self.processes.append(process)
        return process.start().wait_ready()

    def beat(self, *, scheduler: str = "p2pcommons.beat:LockedDatabaseScheduler", name: str = "beat",
             max_interval: int = 1) -> CeleryProcess:  # fmt: skip
        """A started beat (not waited for: see ``wait_ready`` with the text you expect)."""
        index = len(self.processes)
        argv = [CELERY, "-A", "p2pcommons", "beat", "-l", "info", "--scheduler", scheduler,
                "--max-interval", str(max_interval), "-s", str(self.workdir / f"{name}-{index}.schedule")]  # fmt: skip
        log = self.workdir / f"{name}-{index}.log"
        process = CeleryProcess(argv, self.env(hooks=False), log, ready_text="beat: Starting...")
        self.processes.append(process)
        return process.start()

    # --- pause points ---------------------------------------------------------------
    def arm(self, point: str, *, let_through: int = 0) -> None:
        for leftover in ("reached", "fired"):
            (self.hook_dir / f"{point}.{leftover}").unlink(missing_ok=True)
        (self.hook_dir / f"{point}.armed").write_text(str(let_through))

    def disarm(self, point: str) -> None:
        (self.hook_dir / f"{point}.armed").unlink(missing_ok=True)

    def wait_reached(self, point: str, timeout: float = 30.0) -> None:
        if not wait_for(lambda: (self.hook_dir / f"{point}.reached").exists(), timeout):
            logs = "\n".join(p.log()[-2000:] for p in self.processes if p.alive())
            raise AssertionError(f"no worker reached {point} within {timeout} s\n{logs}")

    # --- what the workers did -------------------------------------------------------
    def emails(self) -> list[Message]:
        """Every message written by the file email backend (one file may hold several)."""
        separator = "\n" + "-" * 79 + "\n"
        messages = []
        for path in sorted(self.email_dir.glob("*.log")):
            for chunk in path.read_text().split(separator):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages

    def purge(self) -> None:
        """Empty the queue (a test's leftovers must not reach the next test)."""
        from p2pcommons.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queue)

    @contextlib.contextmanager
    def publishing(self) -> Iterator[None]:
        """Tasks enqueued by this process go through the broker to this stack's queue."""
        from p2pcommons.celery import app

        saved = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
        app.conf.task_always_eager = False
        app.conf.task_default_queue = self.queue
        try:
            yield
        finally:
            app.conf.update(saved)

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop(timeout=5)


def make_stack_fixture(name: str = "celery_stack"):
    """A module-scoped fixture giving a ``CeleryStack`` (no process started yet), every
    process it started stopped at the end. Use: ``celery_stack = make_stack_fixture()``."""

    @pytest.fixture(scope="module", name=name)
    def fixture(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[CeleryStack]:
        with django_db_blocker.unblock():
            stack = CeleryStack(workdir=tmp_path_factory.mktemp("faults"))
        try:
            yield stack
        finally:
            stack.stop_all()

    return fixture
