"""Server time per request, measured inside the server process (bench settings only).

``ServerTimingMiddleware`` is the outermost middleware: it times the whole of Django's
handling of a request (every other middleware, the view, the template or serializer)
and, through a database execute wrapper, the time spent in SQL and the number of
queries. It answers in a standard ``Server-Timing`` header, which the load generator
reads, so the server's own cost is told apart from the network and the client:

    Server-Timing: app;dur=12.41, db;dur=3.20, q;desc="5"
"""

from __future__ import annotations

import time

from django.db import connection


class _DbTimer:
    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timer = _DbTimer()
        started = time.perf_counter()
        with connection.execute_wrapper(timer):
            response = self.get_response(request)
            # A template response renders after the view returns; Django has already
            # rendered it by here (middleware sees the final content).
        elapsed = time.perf_counter() - started
        response["Server-Timing"] = (
            f'app;dur={elapsed * 1000:.2f}, db;dur={timer.seconds * 1000:.2f}, q;desc="{timer.count}"'
        )
        return response


def parse_server_timing(value: str) -> dict[str, float]:
    """``{"app": ms, "db": ms, "queries": n}`` from a Server-Timing header."""
    out: dict[str, float] = {}
    for part in value.split(","):
        name, _, rest = part.strip().partition(";")
        if name in ("app", "db") and rest.startswith("dur="):
            out[name] = float(rest[4:])
        elif name == "q" and rest.startswith("desc="):
            out["queries"] = float(rest[5:].strip('"'))
    return out
