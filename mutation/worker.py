"""A pytest plugin that runs one worker's share of the mutation run in one test session.

Loaded with ``-p mutation.worker`` by mutation/run.py, in a private copy of the project.
The test database is created once; then, for each mutant, the mutated function's code
object replaces the live function's (so every module that imported it sees the mutant)
and the mutated module is written to disk (so tests that start the script as a
subprocess see it too); the tests that execute the mutated line run until one fails.

Job (JSON, path in MUTATION_JOB):
  {"mode": "baseline", "targets": [abs paths], "out": path}
      run every collected test once, tracing which lines of the targets each executes;
  {"mode": "mutants", "out": path, "mutants": [{"id", "path", "module", "function",
   "source", "tests": [nodeid, ...]}]}
      run the mutants; one JSON line per mutant in ``out``: {"id", "status"} where status
      is "killed" (by the named test) or "survived".
"""

from __future__ import annotations

import importlib
import json
import os
import time
import types

import pytest
from _pytest.runner import runtestprotocol

_JOB = os.environ.get("MUTATION_JOB")


class _Anchor:
    """Stands for "the next test" in teardown: keeps only session-wide fixtures (the test
    database) set up between tests run out of their usual order."""

    def __init__(self, session) -> None:
        self.session = session

    def listchain(self):
        return [self.session]


def _run(item, anchor) -> tuple[bool, float]:
    """Run one test; (passed or skipped, seconds spent in setup, call and teardown).

    The caches are emptied first: tests run here out of their usual order, and ids are
    reused after each test's rollback, so an entry left by another test could answer."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    reports = runtestprotocol(item, log=False, nextitem=anchor)
    if os.environ.get("MUTATION_DEBUG"):
        for report in reports:
            if report.failed:
                print(f"\n--- {item.nodeid} failed ({report.when}):\n{report.longreprtext}", flush=True)
    return not any(r.failed for r in reports), sum(r.duration for r in reports)


def _baseline(session, job) -> None:
    """Line coverage per test (coverage.py, one dynamic context per test)."""
    import coverage

    anchor = _Anchor(session)
    failing: list[str] = []
    durations: dict[str, float] = {}
    if session.items:
        # Create the test database before timing anything.
        first = session.items[0]
        ok, _ = _run(first, anchor)
    cov = coverage.Coverage(data_file=None, include=job["targets"], config_file=False)
    cov.start()
    try:
        for item in session.items:
            cov.switch_context(item.nodeid)
            ok, seconds = _run(item, anchor)
            durations[item.nodeid] = seconds
            if not ok:
                failing.append(item.nodeid)
    finally:
        cov.stop()
    data = cov.get_data()
    coverage_map: dict[str, dict[str, list[int]]] = {}
    for path in data.measured_files():
        for line, contexts in data.contexts_by_lineno(path).items():
            for nodeid in contexts:
                coverage_map.setdefault(nodeid, {}).setdefault(path, []).append(line)
    for nodeid in durations:
        coverage_map.setdefault(nodeid, {})
    with open(job["out"], "w", encoding="utf-8") as out:
        json.dump({"coverage": coverage_map, "failing": failing, "durations": durations}, out)


def _live_function(module_name: str, qualname: str):
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    while not isinstance(obj, types.FunctionType) or obj.__code__.co_qualname != qualname:
        obj = obj.__wrapped__
    return obj


def _closure_swaps(code: types.CodeType, path: str) -> list[tuple[types.FunctionType, types.CodeType]]:
    """(live function, its mutated code) for each function object made earlier from a
    function nested in ``code`` (same qualified name, same file, same closure variables)."""
    import gc

    nested = {}
    stack = [code]
    while stack:
        for const in stack.pop().co_consts:
            if isinstance(const, types.CodeType):
                nested[const.co_qualname] = const
                stack.append(const)
    if not nested:
        return []
    real = os.path.realpath(path)
    swaps = []
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_qualname in nested:
            new = nested[obj.__code__.co_qualname]
            if os.path.realpath(obj.__code__.co_filename) == real and obj.__code__.co_freevars == new.co_freevars:
                swaps.append((obj, new))
    return swaps


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_qualname == qualname:
                return const
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None


def _mutants(session, job) -> None:
    anchor = _Anchor(session)
    items = {item.nodeid: item for item in session.items}
    originals: dict[str, str] = {}
    killers: dict[str, list[str]] = {}
    with open(job["out"], "a", encoding="utf-8") as out:
        for mutant in job["mutants"]:
            path = mutant["path"]
            originals.setdefault(path, open(path, encoding="utf-8").read())  # noqa: SIM115
            out.write(json.dumps({"id": mutant["id"], "status": "started"}) + "\n")
            out.flush()
            code = _find_code(compile(mutant["source"], path, "exec"), mutant["function"])
            func = _live_function(mutant["module"], mutant["function"])
            # The function itself, and every closure already made from a function nested in
            # it (rules declared at import time are such closures: ``only(...)``'s check).
            swaps = [(func, code), *_closure_swaps(code, path)]
            saved = [(target, target.__code__) for target, _ in swaps]
            status, killer, started = "survived", "", time.monotonic()
            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(mutant["source"])
                for target, new in swaps:
                    target.__code__ = new
                # The tests that killed this function's latest mutants go first.
                recent = [t for t in killers.get(mutant["function"], []) if t in mutant["tests"]]
                for nodeid in recent + [t for t in mutant["tests"] if t not in recent]:
                    item = items.get(nodeid)
                    if item is not None and not _run(item, anchor)[0]:
                        status, killer = "killed", nodeid
                        order = killers.setdefault(mutant["function"], [])
                        if nodeid in order:
                            order.remove(nodeid)
                        order.insert(0, nodeid)
                        break
            finally:
                for target, original in saved:
                    target.__code__ = original
                with open(path, "w", encoding="utf-8") as f:
                    f.write(originals[path])
            if status == "killed" and not _run(items[killer], anchor)[0]:
                # The test fails without the mutant too: an earlier mutant left this process
                # in a bad state. Say so and stop; the runner retries in a fresh process.
                out.write(json.dumps({"id": mutant["id"], "status": "tainted", "by": killer}) + "\n")
                out.flush()
                os._exit(3)
            record = {"id": mutant["id"], "status": status, "by": killer}
            out.write(json.dumps({**record, "seconds": round(time.monotonic() - started, 2)}) + "\n")
            out.flush()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    if _JOB is None or session.config.option.collectonly:
        return None
    with open(_JOB, encoding="utf-8") as f:
        job = json.load(f)
    if job["mode"] == "baseline":
        _baseline(session, job)
    else:
        _mutants(session, job)
    return True
