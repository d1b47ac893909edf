"""The site under gunicorn on loopback, for the HTTP benchmarks (bench/http.py).

    with Server() as server:
        server.url("/healthz/")   # http://127.0.0.1:<port>/healthz/

The issue measured 2 workers x 4 threads (gthread) on this 2-core machine; so does this.
The server runs with the environment of the benchmark (DJANGO_SETTINGS_MODULE,
DATABASE_URL, REDIS_URL from bench/run.py), except ``P2P_VAR_DIR``: the HTML pages
need the static files' manifest (CompressedManifestStaticFilesStorage with DEBUG off
refuses a name it does not know), so ``collectstatic`` runs first into a throwaway
folder the server alone uses; the repository's var/ is left alone.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bench.report import ROOT

WORKERS = 2
THREADS = 4
START_TIMEOUT_S = 60


class ServerError(RuntimeError):
    """The server did not start or died: the benchmark cannot run."""


def free_port() -> int:
    """A port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collectstatic(var_dir: str) -> None:
    """The static files and their manifest, into ``var_dir``/staticfiles (about 4 s): what the HTML
    pages' ``{% static %}`` needs with the manifest storage and DEBUG off."""
    env = {**os.environ, "P2P_VAR_DIR": var_dir, "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.bench")
    cmd = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ServerError(f"collectstatic failed: {done.stderr[-2000:]}")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the benchmark process dies, so a
    benchmark killed at its time limit (bench/run.py) leaves no server behind (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Server:
    """gunicorn serving p2pcommons.wsgi on 127.0.0.1, started and stopped as a context."""

    def __init__(self, *, workers: int = WORKERS, threads: int = THREADS) -> None:
        self.workers = workers
        self.threads = threads
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.var_dir = ""
        self.log = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["P2P_VAR_DIR"] = self.var_dir
        env["PYTHONPATH"] = str(ROOT)
        env.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.bench")
        return env

    def _collectstatic(self) -> None:
        collectstatic(self.var_dir)

    def __enter__(self) -> Server:
        self.var_dir = tempfile.mkdtemp(prefix="p2p-bench-server-")
        self._collectstatic()
        self.port = free_port()
        cmd = [
            sys.executable, "-m", "gunicorn", "p2pcommons.wsgi",
            "--bind", f"{self.host}:{self.port}",
            "--workers", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads),
            "--keep-alive", "30", "--timeout", "60", "--graceful-timeout", "10", "--log-level", "warning",
        ]  # fmt: skip
        # Its log (a warning per 409 of the contention runs) goes to a file, shown if it fails.
        self.log = open(os.path.join(self.var_dir, "gunicorn.log"), "w+b")
        self.process = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=ROOT,
            env=self._env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited with {self.process.returncode} while starting: {self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                conn.request("GET", "/healthz/", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise ServerError(f"gunicorn did not answer /healthz/ within {START_TIMEOUT_S} s: {self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        """The end of the server's log."""
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM (gunicorn finishes what it is doing), then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.var_dir:
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir = ""

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and self.log is not None:
            print(f"gunicorn's log ends:\n{self.log_tail()}", file=sys.stderr)
        self.stop()
