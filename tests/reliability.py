"""The figures of docs/reliability.md: what the fault, simulation, permission and
stateful-API tests did in this run (operations, faults injected, invariants checked).

A module records its line with ``record(name, render)``, usually from a module-scoped
autouse fixture made by ``summary_fixture``; ``render`` is called when the run ends, so
the figures are complete. tests/conftest.py prints every recorded line in pytest's
closing summary (no ``-s`` needed) and writes them to ``var/reliability.txt``, which
``make reliability`` shows. Only modules that ran record a line.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_LINES: dict[str, Callable[[], str]] = {}


def record(name: str, render: Callable[[], str]) -> None:
    """Record (or replace) the line ``RELIABILITY: <name> <render()>``."""
    _LINES[name] = render


def lines() -> list[str]:
    return [f"RELIABILITY: {name} {render()}" for name, render in _LINES.items()]


def summary_fixture(name: str, render: Callable[[], str]):
    """A module-scoped autouse fixture recording the module's line when its first test runs."""

    @pytest.fixture(scope="module", autouse=True)
    def reliability_line():
        record(name, render)
        yield

    return reliability_line
