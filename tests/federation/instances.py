"""Two real p2pcommons instances on loopback, for the end-to-end federation tests.

Each instance is what a small server runs: a gunicorn web server and a Celery worker
(filesystem broker in the instance's folder), on a database of its own, with settings
``p2pcommons.settings.instance`` and its own SECRET_KEY and LEDGER_LOG_SECRET. In front
of each web server sits a recording proxy (``RecordingProxy``): the instance's SITE_URL
is the proxy's address, so every request the other instance (or the test) sends to it
passes through the proxy, is recorded, and is forwarded unchanged (Host header kept).

The API (the fixture ``two_instances`` in conftest.py gives a started pair per module):

- ``with two_instances(tmp_path) as (a, b): ...``: a started pair; everything stopped,
  the databases dropped, at the end, also when the block fails (then the instances'
  logs are printed).
- ``Instance``: ``name``, ``base_url`` (== its SITE_URL, the proxy), ``port`` (the
  proxy's), ``server_port`` (gunicorn's), ``env``, ``dir``, ``database_url``;
  ``manage(*args) -> str``; ``run_python(code) -> Any`` (the JSON value the code prints
  on its last line; runs in a long-lived Django process of the instance);
  ``api(method, path, *, json=None, token=None, headers=None) -> (status, body)``;
  ``login(email, password) -> session token`` (allauth headless "app" client, for
  ``X-Session-Token``); ``recorded() -> list[RecordedRequest]``; ``clear_recorded()``;
  ``emails() -> list[email.message.Message]``; ``logs() -> str``; ``pids()``; ``stop()``.
- ``HarnessUnavailable``: raised when this machine can't run instances (the fixture
  skips with its reason).

Databases: SQLite files when DATABASE_URL is unset; otherwise PostgreSQL databases on
DATABASE_URL's server named ``<its database>_fed_<pid>_<name>_<random>``, dropped at the
end (and, at the next start, any a killed test process left). Each is a copy (SQLite's
backup API, or CREATE DATABASE ... TEMPLATE) of a migrated template kept between runs
and rebuilt when a migration, a settings module or an installed package changes
(``p2p_fedtpl_<hash>`` on PostgreSQL, ``var/federation-templates/<hash>.sqlite3``): a
cold start migrates (20-60 s on a busy machine), a warm one takes 10-15 s.

This module is also the instance's Python runner: ``python -m tests.federation.instances
--runner`` (started by ``Instance``) reads code on stdin and answers on stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import email
import hashlib
import http.client
import io
import json as jsonlib
import os
import queue
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
SETTINGS = "p2pcommons.settings.instance"
START_TIMEOUT = 60.0
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
}  # fmt: skip


class HarnessUnavailable(Exception):
    """This machine can't start instances (a missing program or server); the reason says which."""


class InstanceError(AssertionError):
    """An instance failed to start, or a command in it failed; the message has its output."""


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


# --- The recording proxy -----------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request that reached an instance through its proxy, and the answer's status.

    ``url`` is absolute, as the sender addressed it (the proxy's base URL and the path);
    ``headers`` has lower-case names (repeated headers joined by ", "), ``raw_headers``
    the names and values exactly as sent, in order; ``body`` the exact bytes."""

    method: str
    url: str
    path: str
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


class RecordingProxy:
    """A threaded HTTP proxy on its own loopback port in front of one web server: records
    each request (method, url, headers, body, status of the answer) and forwards it
    unchanged, Host header included, to ``upstream_port``."""

    def __init__(self, *, log_path: Path) -> None:
        self.upstream_port: int | None = None
        self.log_path = log_path
        self._records: list[RecordedRequest] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy._forward(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

            def log_message(self, format: str, *args) -> None:
                proxy._log(format % args)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # to the proxy's log, not the test's output
                proxy._log(f"error serving {client_address}: {traceback.format_exc()}")

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"proxy-{self.port}", daemon=True)
        self._thread.start()

    def _log(self, line: str) -> None:
        with self._lock, self.log_path.open("a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    @staticmethod
    def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        body = self._read_body(handler)
        raw_headers = list(handler.headers.items())
        status, reason, response_headers, response_body = 502, "Bad Gateway", [], b"upstream unreachable"
        try:
            upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port or 9, timeout=120)
            upstream.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
            for name, value in raw_headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    upstream.putheader(name, value)
            if body or "content-length" in {name.lower() for name, _ in raw_headers}:
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            status, reason = response.status, response.reason
            response_headers = response.getheaders()
            response_body = response.read()
            upstream.close()
        except OSError as exc:
            self._log(f"upstream error for {handler.command} {handler.path}: {exc!r}")
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record = RecordedRequest(
            method=handler.command,
            url=f"{self.base_url}{handler.path}",
            path=handler.path,
            headers=headers,
            raw_headers=raw_headers,
            body=body,
            status=status,
            response_headers={name.lower(): value for name, value in response_headers},
            response_body=response_body,
        )
        with self._lock:  # recorded before the answer goes out: a sender that has its answer finds it here
            self._records.append(record)
        try:
            handler.send_response_only(status, reason)
            for name, value in response_headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(response_body)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(response_body)
        except OSError as exc:  # the sender gave up waiting (a timeout): its loss, logged
            handler.close_connection = True
            self._log(f"answer to {handler.command} {handler.path} not delivered: {exc!r}")
        handler.log_request(status, len(response_body))

    def recorded(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()


# --- Processes ---------------------------------------------------------------------

_live: set[Process] = set()
_live_lock = threading.Lock()


class Process:
    """One program in a process group of its own (stopped with all its children), its
    output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, **popen) -> None:
        self.name = name
        self.log_path = log_path
        self.stopped = False
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, cwd=BASE_DIR, env=env, stderr=log, start_new_session=True, preexec_fn=_die_with_parent,
                **({"stdout": log} | popen),
            )  # fmt: skip
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 8.0) -> None:
        """SIGTERM to the whole group, SIGKILL after ``timeout`` seconds; then SIGKILL to
        whatever is left in the group (children whose parent is gone). Once: a second call
        does nothing (the group's id may belong to someone else by then)."""
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with _live_lock:
            _live.discard(self)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies, even killed without a
    chance to clean up (Linux); the at-exit hook below covers an ordinary exit everywhere."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@atexit.register
def _stop_everything() -> None:
    with _live_lock:
        left = list(_live)
    for process in left:
        process.stop(timeout=3)


def group_alive(pgid: int) -> bool:
    """Whether a living process (not a zombie waiting to be reaped) is left in the process
    group ``pgid``."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


# --- Databases ---------------------------------------------------------------------


class Databases:
    """Creates the instances' databases from one migrated template, drops them at the end."""

    def __init__(self, *, workdir: Path) -> None:
        self.url = os.environ.get("DATABASE_URL", "")
        self.workdir = workdir
        self.created: list[str] = []
        if self.url and not self.url.startswith(("postgres://", "postgresql://")):
            raise HarnessUnavailable(f"DATABASE_URL is neither unset (SQLite) nor PostgreSQL: {self.url.split(':')[0]}")
        if self.url:
            parts = urlsplit(self.url)
            self._parts = parts
            self.prefix = f"{parts.path.lstrip('/') or 'p2p'}_fed_{os.getpid()}"
            try:
                self._admin().close()
            except Exception as exc:  # DATABASE_URL asks for PostgreSQL: not finding it is a failure
                raise InstanceError(f"PostgreSQL at DATABASE_URL is unreachable ({exc})") from exc
            self._drop_orphans()

    @property
    def postgres(self) -> bool:
        return bool(self.url)

    def _pg_url(self, name: str) -> str:
        """The URL of database ``name`` on DATABASE_URL's server. Commits don't wait for the
        WAL flush (as in the test settings): no durability needed, much faster; locks and
        visibility between connections are unchanged."""
        query = self._parts.query
        if "options=" not in query:
            query = "&".join(filter(None, [query, "options=-c%20synchronous_commit%3Doff"]))
        return urlunsplit(self._parts._replace(path=f"/{quote(name)}", query=query))

    def _drop_orphans(self) -> None:
        """Instance databases left by a test process that died without its teardown."""
        pattern = self.prefix.rsplit("_", 1)[0].replace("_", "\\_") + "\\_%"
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [pattern])
                names = [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()
        base = self.prefix.rsplit("_", 1)[0]
        for name in names:
            pid = name.removeprefix(base + "_").split("_", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
                with contextlib.suppress(Exception):
                    self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self):
        import psycopg2

        parts = self._parts
        connection = psycopg2.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
            password=parts.password or None, dbname="postgres", connect_timeout=5,
        )  # fmt: skip
        connection.autocommit = True
        return connection

    def _pg(self, sql: str) -> None:
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def template(self, *, env: dict[str, str]) -> str:
        """The URL of a database with every migration applied, kept between test runs under
        a name made from the migrations' hash (migrating takes most of a cold start: 20-45
        s): a PostgreSQL database ``p2p_fedtpl_<hash>``, or a SQLite file in
        ``var/federation-templates/``. Built under a temporary name and renamed when
        complete, so concurrent runs never copy a half-migrated template."""
        key = migrations_hash()
        if key in _templates:
            return _templates[key]
        if self.postgres:
            name = f"p2p_fedtpl_{key}"
            if not self._pg_exists(name):
                building = f"p2p_fedbuild_{key}_{os.getpid()}"
                self._pg(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                self._pg(f'CREATE DATABASE "{building}"')
                try:
                    self._migrate(env, self._pg_url(building))
                    with contextlib.suppress(Exception):  # another run finished first: keep theirs
                        self._pg(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                finally:
                    self._pg(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                self._prune_pg(keep=name)
            url = self._pg_url(name)
        else:
            folder = Path(os.environ.get("P2P_VAR_DIR") or BASE_DIR / "var") / "federation-templates"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{key}.sqlite3"
            if not path.exists():
                building = folder / f"building-{key}-{os.getpid()}.sqlite3"
                try:
                    self._migrate(env, f"sqlite:///{building}")
                    _sqlite_copy(building, folder / f"ready-{key}-{os.getpid()}.sqlite3")  # WAL folded in
                    os.replace(folder / f"ready-{key}-{os.getpid()}.sqlite3", path)
                finally:
                    for leftover in folder.glob(f"*-{key}-{os.getpid()}.sqlite3*"):
                        leftover.unlink(missing_ok=True)
                for stale in folder.glob("*.sqlite3"):  # older migrations' templates, unused for an hour
                    if stale != path and time.time() - stale.stat().st_mtime > 3600:
                        stale.unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        _templates[key] = url
        return url

    @staticmethod
    def _migrate(env: dict[str, str], url: str) -> None:
        result = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env={**env, "DATABASE_URL": url},
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            raise InstanceError(f"migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")

    def _pg_exists(self, name: str) -> bool:
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                return cursor.fetchone() is not None
        finally:
            connection.close()

    def _prune_pg(self, *, keep: str) -> None:
        """Templates of older migrations go (one in use by a copy right now stays)."""
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ["p2p\\_fedtpl\\_%"])
                stale = [row[0] for row in cursor.fetchall() if row[0] != keep]
        finally:
            connection.close()
        for name in stale:
            with contextlib.suppress(Exception):
                self._pg(f'DROP DATABASE IF EXISTS "{name}"')

    def create(self, *, name: str, template_url: str, folder: Path) -> str:
        """A database of the instance's own, a copy of the template; its URL."""
        if self.postgres:
            database = f"{self.prefix}_{name}_{uuid.uuid4().hex[:6]}"
            template = urlsplit(template_url).path.lstrip("/")
            for attempt in range(50):  # another run may be copying the same template this instant
                try:
                    self._pg(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
                    break
                except Exception as exc:
                    if "being accessed by other users" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.2)
            self.created.append(database)
            return self._pg_url(database)
        path = folder / "db.sqlite3"
        _sqlite_copy(_sqlite_path(template_url), path)
        return f"sqlite:///{path}"

    def exists(self, url: str) -> bool:
        if not self.postgres:
            return _sqlite_path(url).exists()
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [urlsplit(url).path.lstrip("/")])
                return cursor.fetchone() is not None
        finally:
            connection.close()

    def drop_all(self) -> None:
        for database in self.created:
            self._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.created.clear()


_templates: dict[str, str] = {}


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the WAL included)."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)  # a missing template fails, never copies as empty
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the instance turns WAL on)
    finally:
        reader.close()
        writer.close()


def migrations_hash() -> str:
    """What the migrated schema depends on: every migration file of the project, the
    settings modules, and the installed packages' versions (their own migrations)."""
    from importlib import metadata

    digest = hashlib.sha256()
    files = [*sorted(BASE_DIR.glob("apps/*/migrations/*.py")), *sorted(BASE_DIR.glob("p2pcommons/settings/*.py"))]
    for path in files:
        digest.update(str(path.relative_to(BASE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    versions = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()[:16]


# --- One instance ------------------------------------------------------------------


class Instance:
    """One running instance: web server, worker, Python runner, and its recording proxy."""

    def __init__(self, *, name: str, folder: Path, database_url: str, proxy: RecordingProxy, env: dict[str, str]):
        self.name = name
        self.dir = folder
        self.database_url = database_url
        self.proxy = proxy
        self.port = proxy.port
        self.base_url = proxy.base_url
        self.env = env
        self.server_port: int | None = None
        self.web: Process | None = None
        self.worker: Process | None = None
        self.runner: Process | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        # Seconds the pair's start took: "databases" (template and copies), "processes"
        # (until every web server answers and every worker is ready), "total".
        self.start_timings: dict[str, float] = {}
        self._runner_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Instance {self.name} at {self.base_url}>"

    # --- start and stop ---------------------------------------------------------------
    def start(self) -> None:
        """Starts the web server, the worker and the runner (without waiting: see ``wait_ready``)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        self.server_port = listener.getsockname()[1]
        self.proxy.upstream_port = self.server_port
        try:  # gunicorn takes over the bound socket: no window for another program to take the port
            self.web = Process(
                "web",
                [str(BIN / "gunicorn"), "p2pcommons.wsgi", "-w", "1", "--threads", "8", "-b",
                 f"fd://{listener.fileno()}", "--graceful-timeout", "3", "--timeout", "120",
                 "--error-logfile", "-"],
                self.env, self.dir / "web.log", pass_fds=(listener.fileno(),),
            )  # fmt: skip
        finally:
            listener.close()
        self.worker = Process(
            "worker",
            [str(BIN / "celery"), "-A", "p2pcommons", "worker", "--pool=threads", "--concurrency=4",
             "-n", f"{self.name}@%h", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            self.env, self.dir / "worker.log",
        )  # fmt: skip
        self._start_runner()

    def _start_runner(self) -> None:
        """The long-lived Django process ``run_python`` sends code to (a new one, with a
        queue of its own, after a call timed out: a late answer never reaches the next call)."""
        self.runner = Process(
            "runner",
            [PYTHON, "-m", "tests.federation.instances", "--runner"],
            self.env, self.dir / "runner.log", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        stdout, replies = self.runner.proc.stdout, queue.Queue()
        self._replies = replies

        def read_replies() -> None:
            with contextlib.suppress(ValueError, OSError):  # closed at stop
                for line in iter(stdout.readline, b""):
                    replies.put(line.decode())
            replies.put(None)

        threading.Thread(target=read_replies, name=f"runner-{self.name}", daemon=True).start()

    def wait_ready(self, deadline: float) -> None:
        """Until /healthz/ answers 200 through the proxy and the worker says it is ready."""

        def healthy() -> bool:
            self._check_alive()
            with contextlib.suppress(OSError):
                return self.api("GET", "/healthz/", timeout=15)[0] == 200
            return False

        def worker_ready() -> bool:
            self._check_alive()
            return " ready." in self.worker.log()

        for what, check in (("the web server", healthy), ("the worker", worker_ready)):
            if not wait_for(check, max(deadline - time.monotonic(), 0.1), 0.1):
                raise InstanceError(f"{what} of instance {self.name} did not start in time\n{self.logs()}")

    def _check_alive(self) -> None:
        for process in (self.web, self.worker, self.runner):
            if process is not None and not process.alive():
                raise InstanceError(f"the {process.name} of instance {self.name} exited\n{self.logs()}")

    def processes(self) -> list[Process]:
        return [p for p in (self.web, self.worker, self.runner) if p is not None]

    def pids(self) -> list[int]:
        """The process (group) ids of the web server, worker and runner."""
        return [process.pid for process in self.processes()]

    def stop(self) -> None:
        """Stops every process of the instance (whole process groups) and its proxy."""
        if self.runner is not None and self.runner.alive():
            with contextlib.suppress(OSError):
                self.runner.proc.stdin.close()  # the runner ends at end of input
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.runner.proc.wait(timeout=3)
        for process in self.processes():
            process.stop()
        self.proxy.stop()

    def logs(self, tail: int = 6000) -> str:
        parts = []
        for label, path in (("web", "web.log"), ("worker", "worker.log"), ("runner", "runner.log"),
                            ("proxy", "proxy.log")):  # fmt: skip
            text = (self.dir / path).read_bytes().decode(errors="replace") if (self.dir / path).exists() else ""
            parts.append(f"----- instance {self.name}: {label} ({self.dir / path}) -----\n{text[-tail:]}")
        return "\n".join(parts)

    # --- talking to it ----------------------------------------------------------------
    def manage(self, *args: str, timeout: float = 120) -> str:
        """``manage.py <args>`` in the instance; its output (stdout). Fails with the output
        when the command fails."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise InstanceError(f"manage.py {' '.join(args)} failed in {self.name}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def run_python(self, code: str, *, timeout: float = 60) -> Any:
        """Runs ``code`` in the instance (Django set up, autocommit, its database, broker
        and cache) and returns the JSON value of the last line it printed (None when it
        printed nothing). Names defined by one call are not kept for the next. An
        exception in the code fails here with its traceback."""
        with self._runner_lock:
            if self.runner is None or not self.runner.alive():
                raise InstanceError(f"the Python runner of {self.name} is not running\n{self.logs()}")
            self.runner.proc.stdin.write((jsonlib.dumps({"code": code}) + "\n").encode())
            self.runner.proc.stdin.flush()
            try:
                line = self._replies.get(timeout=timeout)
            except queue.Empty:
                message = f"run_python in {self.name} took over {timeout} s (runner restarted)\n{self.logs()}"
                self.runner.stop(timeout=2)
                self._start_runner()
                raise InstanceError(message) from None
        if line is None:
            raise InstanceError(f"the Python runner of {self.name} exited\n{self.logs()}")
        reply = jsonlib.loads(line)
        if not reply["ok"]:
            raise InstanceError(f"run_python in {self.name} failed:\n{reply['output']}\n{reply['error']}")
        lines = [text for text in reply["output"].splitlines() if text.strip()]
        if not lines:
            return None
        try:
            return jsonlib.loads(lines[-1])
        except ValueError:
            raise InstanceError(f"run_python in {self.name}: the last line is not JSON: {lines[-1]!r}") from None

    def api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[int, Any]:
        """One request through the instance's proxy (so it is recorded too): the status and
        the body (parsed JSON when the answer is JSON, else text). ``json`` is sent as JSON,
        ``data`` as these exact bytes (with your ``headers``, e.g. a signed activity);
        ``token`` as ``X-Session-Token``; ``path`` may also be an absolute URL of this instance."""
        if path.startswith("http"):
            path = urlsplit(path)._replace(scheme="", netloc="").geturl()
        sent = {"Accept": "application/json", **(headers or {})}
        body = data
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent.setdefault("Content-Type", "application/json")
        if token:
            sent["X-Session-Token"] = token
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method.upper(), path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            content_type = response.getheader("Content-Type", "")
        finally:
            connection.close()
        if "json" in content_type and data:
            return response.status, jsonlib.loads(data)
        return response.status, data.decode(errors="replace")

    def login(self, email: str, password: str) -> str:
        """A session token for the member (allauth headless "app" client), to pass as ``token``."""
        status, body = self.api("POST", "/_allauth/app/v1/auth/login", json={"email": email, "password": password})
        if status != 200:
            raise InstanceError(f"login of {email} at {self.name} answered {status}: {body}")
        return body["meta"]["session_token"]

    def recorded(self) -> list[RecordedRequest]:
        """Every request that reached this instance through its proxy, oldest first."""
        return self.proxy.recorded()

    def clear_recorded(self) -> None:
        self.proxy.clear()

    def emails(self) -> list[Message]:
        """Every email the instance sent (the file backend: one file per connection)."""
        separator = "\n" + "-" * 79 + "\n"
        messages = []
        for path in sorted((self.dir / "emails").glob("*.log"), key=lambda p: p.stat().st_mtime):
            for chunk in path.read_text(errors="replace").split(separator):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages


class InstancePair(NamedTuple):
    a: Instance
    b: Instance


def _instance_env(*, name: str, folder: Path, site_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "EMAIL_URL", "LEDGER_LOG_HOST", "MEDIA_ROOT", "EXPORT_ROOT",
                       "SECRET_KEY", "LEDGER_LOG_SECRET", "ALLOWED_HOSTS", "CACHE_URL", "DEBUG"}
        and not key.startswith("PYTEST")
    }  # fmt: skip
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        P2P_INSTANCE_DIR=str(folder),
        P2P_VAR_DIR=str(folder / "var"),
        SITE_URL=site_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        LEDGER_LOG_SECRET=secrets.token_urlsafe(32),
        CACHE_KEY_PREFIX=f"p2p-fed-{os.getpid()}-{name}-{uuid.uuid4().hex[:6]}",
        CELERY_WORKER_HEARTBEAT_FILE=str(folder / "worker.heartbeat"),
        PYTHONUNBUFFERED="1",
    )
    return env


def check_machine() -> None:
    """Raises HarnessUnavailable when a program the instances need is missing."""
    for program in ("gunicorn", "celery"):
        if not (BIN / program).exists():
            raise HarnessUnavailable(f"{program} is not installed in {BIN} (pip install -e '.[dev]')")


@contextlib.contextmanager
def two_instances(tmp_path: Path, *, names: tuple[str, str] = ("a", "b")) -> Iterator[InstancePair]:
    """Two started instances (see the module docstring); all stopped and their databases
    dropped on the way out, the logs printed when the block failed."""
    check_machine()
    started = time.monotonic()
    databases = Databases(workdir=tmp_path)
    instances: list[Instance] = []
    failed = True
    try:
        for name in names:
            folder = tmp_path / name
            (folder / "emails").mkdir(parents=True, exist_ok=True)
            proxy = RecordingProxy(log_path=folder / "proxy.log")
            env = _instance_env(name=name, folder=folder, site_url=proxy.base_url)
            instances.append(Instance(name=name, folder=folder, database_url="", proxy=proxy, env=env))
        template = databases.template(env=instances[0].env)
        if not databases.exists(template):  # pruned by a run on newer migrations: build it again
            _templates.clear()
            template = databases.template(env=instances[0].env)
        for instance in instances:
            instance.database_url = databases.create(name=instance.name, template_url=template, folder=instance.dir)
            instance.env["DATABASE_URL"] = instance.database_url
        databases_done = time.monotonic()
        for instance in instances:
            instance.start()
        deadline = time.monotonic() + START_TIMEOUT
        for instance in instances:
            instance.wait_ready(deadline)
        done = time.monotonic()
        timings = {"databases": databases_done - started, "processes": done - databases_done, "total": done - started}
        for instance in instances:
            instance.clear_recorded()  # the readiness checks: each test sees only its own requests
            instance.start_timings = timings
        yield InstancePair(*instances)
        failed = False
    finally:
        if failed:
            for instance in instances:
                sys.stderr.write(instance.logs() + "\n")
        for instance in instances:
            with contextlib.suppress(Exception):
                instance.stop()
        databases.drop_all()
        _forget_cache_keys(instances)


def _forget_cache_keys(instances: list[Instance]) -> None:
    """The instances' keys in the shared Redis cache (each instance has a prefix of its own)."""
    url = os.environ.get("REDIS_URL")
    if not url or not instances:
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        for instance in instances:
            for key in client.scan_iter(match=f"{instance.env['CACHE_KEY_PREFIX']}:*", count=500):
                client.delete(key)
    except redis.RedisError:
        pass  # Redis went away: nothing left to forget
    finally:
        client.close()


# --- The runner: Python code run inside an instance ---------------------------------


def _runner() -> None:
    """Reads one JSON request a line on stdin ({"code": ...}), runs the code with Django
    set up, answers one JSON line on stdout: {"ok", "output", "error"}. Anything else the
    process writes to its stdout goes to its log instead."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (and C-level writes) go to the log, never into the replies
    sys.stdout = os.fdopen(1, "w", buffering=1)
    import django

    django.setup()
    from django.db import connections

    for line in sys.stdin:
        request = jsonlib.loads(line)
        output, error, ok = io.StringIO(), "", True
        try:
            with contextlib.redirect_stdout(output):
                exec(compile(request["code"], "<run_python>", "exec"), {"__name__": "__run_python__"})  # noqa: S102
        except BaseException:  # the test sees every failure, SystemExit included
            ok, error = False, traceback.format_exc()
        finally:
            connections.close_all()  # no connection (or transaction) held between calls
        protocol.write(jsonlib.dumps({"ok": ok, "output": output.getvalue(), "error": error}) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--runner"]:
    _runner()
