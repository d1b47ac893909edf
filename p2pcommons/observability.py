"""Logs you can follow: one JSON object per line, each carrying the id of the request
(and, in a worker, the task) it belongs to.

- ``RequestIdMiddleware`` gives every request an id: the caller's ``X-Request-ID`` when it
  is a safe token (a proxy or a mobile app may set one to follow its own call), a new one
  otherwise. The id goes back in the ``X-Request-ID`` response header and into a context
  variable, so every log line written while the request runs carries it.
- Celery signals carry it on: ``before_task_publish`` puts the current id in the task's
  message headers, ``task_prerun`` restores it in the worker (with the task's name and id),
  ``task_postrun`` puts back what was there. A task's log lines thus carry the id of the
  request that enqueued it, and one grep finds the request and all the work it caused.
- ``JsonFormatter`` writes the lines (``LOG_FORMAT=json``, the default in production).

Nothing here imports Django models: the formatter is loaded while settings configure
logging, before apps are ready.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery import signals

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("task", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller may choose as its id: letters, digits and ``-_.:``, 8 to 64 of them. Anything
# else (spaces, quotes, newlines that would forge a log line, a 10 kB header) is replaced.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")
# The message header that carries the id from the web process to the worker.
TASK_HEADER = "p2p_request_id"

access_logger = logging.getLogger("p2pcommons.request")

# The attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The caller's id if it is a safe token, else a new one."""
    if value and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    """Assigns the request id (see the module docstring) and writes one access line per
    request, with method, path, status and duration, which the proxy's log cannot tie to
    the application's own lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    task and task_id in a worker, the exception's traceback, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        task = task_var.get()
        if task is not None:
            entry["task"], entry["task_id"] = task
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- Celery: the id travels with the task ------------------------------------------------
@signals.before_task_publish.connect(weak=False)
def add_request_id_to_task(headers: dict | None = None, **kwargs) -> None:
    """Publishing side (a web request, or a task enqueuing another): the current id goes
    into the message headers."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _header(task, name: str) -> str | None:
    request = getattr(task, "request", None)
    value = getattr(request, name, None) or (getattr(request, "headers", None) or {}).get(name)
    return value if isinstance(value, str) else None


@signals.task_prerun.connect(weak=False)
def restore_request_id(task_id: str | None = None, task=None, **kwargs) -> None:
    """Worker side: the task's log lines carry the enqueuing request's id and the task's
    own name and id. A task run eagerly keeps the id of the request it runs in."""
    if task is None:
        return
    incoming = _header(task, TASK_HEADER)
    request_token = request_id_var.set(clean_request_id(incoming)) if incoming else None
    task_token = task_var.set((task.name, task_id or ""))
    task.request.p2p_log_tokens = (request_token, task_token)


@signals.task_postrun.connect(weak=False)
def forget_request_id(task=None, **kwargs) -> None:
    """Puts back what was there before the task, so the next task on this worker thread
    starts clean (and an eager task leaves its request's id in place)."""
    tokens = getattr(getattr(task, "request", None), "p2p_log_tokens", None)
    if not tokens:
        return
    request_token, task_token = tokens
    task_var.reset(task_token)
    if request_token is not None:
        request_id_var.reset(request_token)
    task.request.p2p_log_tokens = None
