"""Pin query counts: the number a page or endpoint runs must not grow with its rows."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(func: Callable[[], object]) -> tuple[int, list[str]]:
    """Run ``func`` and return how many SQL queries it made, and their SQL."""
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def assert_queries_do_not_grow(
    request: Callable[[], object], add_rows: Callable[[int], object], *, small: int = 1, large: int = 30
) -> int:
    """Add ``small`` rows, run ``request`` once to warm caches, count its queries; add up
    to ``large`` rows and count again. Fails with both query lists when the counts differ. Returns the count.
    """
    add_rows(small)
    # Once first, uncounted: a cold per-process cache (content types, the member's menu)
    # is filled on the first request and is not what grows with rows.
    request()
    few, few_sql = count_queries(request)
    add_rows(large - small)
    many, many_sql = count_queries(request)
    assert few == many, (
        f"{few} queries with {small} rows but {many} with {large}:\n"
        + "\n".join(few_sql)
        + "\n---\n"
        + "\n".join(many_sql)
    )
    return many
