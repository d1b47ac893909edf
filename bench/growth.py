"""Benchmark: how lists and searches grow with the rows they consider (section "growth").

    BENCH_ONLY=growth make bench        # or: python -m bench.growth with the bench env

One database, three members (bench/personas.py): bench-1k sees 2% of every kind of
listing, bench-10k 20%, bench-50k all of it (1k, 10k and 50k of the 50k tools at
scale 1). Each list and search is asked as each of them, in process (Django's test
client, the bench settings, the same middleware as the server): the median
``Server-Timing`` app time over several runs after a warm-up, and the query count.

Rows per list: the server time at 50k beside the time at 1k (the 10k time in the
note), the growth per 10x more rows, ``(t50k / t1k) ** (1 / log10(50))`` (target
<= 1.3x for the tools search: plain, within a distance, available in a window), and
whether the query count is the same at all three sizes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

RUNS = int(os.environ.get("BENCH_GROWTH_RUNS", "5"))  # measured, after one warm-up
SLOW_RUNS = 3  # for a list whose answers take more than SLOW_MS
SLOW_MS = 500
BUDGET_S = 135  # the section's limit is 150 s
GROWTH_TARGET = 1.3


def _setup_django() -> None:
    """Bench settings, with a throwaway static folder holding the manifest the HTML pages need."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.bench")
    from bench.server import collectstatic

    var_dir = tempfile.mkdtemp(prefix="p2p-bench-growth-")
    atexit.register(shutil.rmtree, var_dir, True)
    collectstatic(var_dir)
    os.environ["P2P_VAR_DIR"] = var_dir
    import django

    django.setup()


def lists(word: str) -> list[tuple[str, str, bool]]:
    """(name, path, the tools search growth target applies)."""
    from django.utils import timezone

    from bench.personas import CENTRE

    start = (timezone.localtime() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=4)
    lat, lng = CENTRE
    avail_api = f"available_from={start.isoformat()}&available_to={end.isoformat()}".replace("+", "%2B")
    avail_html = f"available_from={start:%Y-%m-%dT%H:%M}&available_to={end:%Y-%m-%dT%H:%M}"
    return [
        ("API tools search", "/api/v1/tools/", True),
        ("API tools search within 3 km", f"/api/v1/tools/?lat={lat}&lng={lng}&radius_km=3", True),
        ("API tools search available 3 days ahead", f"/api/v1/tools/?{avail_api}", True),
        ("HTML /tools/", "/tools/", True),
        ("HTML /tools/ within 3 km", "/tools/?radius_km=3", True),
        ("HTML /tools/ available 3 days ahead", f"/tools/?{avail_html}", True),
        ("API skill offers directory", "/api/v1/skills/offers/", False),
        ("HTML skill directory", "/skills/", False),
        ("API solar slots", "/api/v1/solar/slots/", False),
        ("API challenges", "/api/v1/challenges/", False),
        ("HTML challenges", "/design/", False),
        (f"API search '{word}'", f"/api/v1/search/?q={word}", False),
    ]


def time_it(clients: dict, path: str) -> dict[str, tuple[float, float]]:
    """Per persona: the median server time (ms) over RUNS after a warm-up (SLOW_RUNS for
    a list slower than SLOW_MS), and the most
    queries an answer made. The personas take turns within each run, so a burst of
    load on this shared machine falls on every size alike rather than on one."""
    from bench.timing import parse_server_timing

    times: dict[str, list] = {label: [] for label in clients}
    queries: dict[str, list] = {label: [] for label in clients}
    for run in range(RUNS + 1):
        if run > SLOW_RUNS and max(max(t) for t in times.values()) > SLOW_MS:
            break  # a slow list (the search): SLOW_RUNS runs, so the section keeps within its time
        for label, client in clients.items():
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} as {label} answered {response.status_code}: {response.content[:300]!r}")
            timing = parse_server_timing(response["Server-Timing"])
            if run:
                times[label].append(timing["app"])
                queries[label].append(timing["queries"])
    return {label: (statistics.median(times[label]), max(queries[label])) for label in clients}


def rows_for(name: str, target: bool, sizes: list[tuple[str, float]], measured: dict) -> list:
    """The time row (50k beside 1k), the growth per 10x, and the query count row."""
    from bench.report import Row, growth_per_10x

    (small, small_share), (large, large_share) = sizes[0], sizes[-1]
    t = {label: measured[label][0] for label, _ in sizes}
    q = {label: measured[label][1] for label, _ in sizes}
    detail = ", ".join(f"{label} {t[label]:.1f} ms" for label, _ in sizes)
    growth = growth_per_10x(small_share, t[small], large_share, t[large])
    g = Row(f"{name}: growth per 10x rows", round(growth, 2), "x", note=detail)
    if target:
        g.target = f"<= {GROWTH_TARGET}x"
        g.met = growth <= GROWTH_TARGET
        if not g.met:
            g.note += f"; {growth / GROWTH_TARGET:.2f}x the target: the cost still follows the rows considered"
    same = len(set(q.values())) == 1
    return [
        Row(f"{name}: server time at {large}", round(t[large], 2), "ms", baseline=round(t[small], 2),
            baseline_name=f"the same list at {small}", note=detail, extra={"ms": t, "queries": q}),
        g,
        Row(f"{name}: query count constant", q[large], "queries", baseline=q[small],
            baseline_name=f"at {small}", target="same at every size", met=same,
            note=", ".join(f"{label} {q[label]:.0f}" for label, _ in sizes)),
    ]  # fmt: skip


def main() -> int:
    started = time.perf_counter()
    _setup_django()
    from django.test import Client

    from apps.peers.models import User
    from apps.tools import selectors
    from bench.personas import GROWTH
    from bench.report import write_section

    users = {label: User.objects.filter(email=email).first() for label, email, _, _ in GROWTH}
    missing = [label for label, user in users.items() if user is None]
    if missing:
        print(f"no persona for {', '.join(missing)}: seed the scale data first (manage.py seed_scale)", file=sys.stderr)
        return 2
    small_tool = selectors.tools_search(user=users[GROWTH[0][0]]).first()
    if small_tool is None:
        print("the smallest persona sees no tool: is the scale data seeded?", file=sys.stderr)
        return 2
    word = next((w for w in small_tool.title.split() if w.isalpha() and len(w) > 3), "tool").lower()
    clients = {}
    for label, user in users.items():
        clients[label] = Client(HTTP_HOST="127.0.0.1")
        clients[label].force_login(user)
    sizes = [(label, share) for label, _, _, share in GROWTH]
    seen = {label: selectors.tools_search(user=user).count() for label, user in users.items()}
    rows, skipped = [], []
    for name, path, target in lists(word):
        if time.perf_counter() - started > BUDGET_S:
            skipped.append(name)
            continue
        measured = time_it(clients, path)
        rows += rows_for(name, target, sizes, measured)
        print(name, {k: f"{v[0]:.1f} ms/{v[1]:.0f} q" for k, v in measured.items()}, flush=True)
    notes = [
        f"In process (Django test client, bench settings): median Server-Timing app time of {RUNS} runs after "
        "a warm-up, as bench-1k, bench-10k and bench-50k (2%, 20% and 100% of every kind of listing).",
        "Growth per 10x = (t50k / t1k) ** (1 / log10(50)): 1.0 is flat, 10.0 linear in the rows considered.",
        "Tools each persona sees in this database: " + ", ".join(f"{k} {v:,}" for k, v in seen.items()) + ".",
    ]
    if skipped:
        notes.append(f"Not measured (time budget of {BUDGET_S} s spent): {', '.join(skipped)}.")
    write_section("growth", "Growth: lists and searches at 1k, 10k and 50k rows", rows, notes=notes,
                  elapsed_s=time.perf_counter() - started)  # fmt: skip
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
