"""Benchmark: clearing one solar slot with 1k, 10k and 100k orders (not part of `make test`).

    .venv/bin/python -m bench.solar_clearing                 # the rule alone
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2p .venv/bin/python -m bench.solar_clearing

Two parts, in one run:

1. **The rule alone** (``apps.solar.clearing.clear``: two sorts and one walk) per book
   size, against the bare cost of sorting the same rows with no clearing, and the ratio
   between sizes (n log n grows a little over 10x per 10x). Target: 100k orders in at
   most 0.5 s.
2. **End to end on PostgreSQL**: the slot's orders bulk-inserted, then the time of
   ``services.slot_clear`` for that slot (claim, read the book, clear, write the trades,
   the orders' fills, the slot's price, one notification per trader, commit), against the
   bare cost of the same database work any clearing needs: reading that slot's orders
   (``values_list`` of the same columns) and bulk-inserting as many trade rows, in a
   transaction rolled back. Target: end to end within 3x bare. One more clearing of a
   copy of the book runs with every query timed, to say where the time goes.

Part 2 needs PostgreSQL (SQLite's single writer and in-process speed would say nothing
about production). With ``DATABASE_URL`` naming a PostgreSQL database, a throwaway
database is created next to it on the same server, migrated, and dropped at the end
(``BENCH_KEEP_DATABASE=1`` keeps it); ``BENCH_DATABASE_URL`` names an existing, migrated
database to use as it is (each run adds a community), like the other benches. Each
trader places one order (the realistic case: one household, one order per slot), so a
100k book tells 100k traders.

The figures go to stdout and to ``var/bench/solar_clearing.json`` and ``.md`` (or
``BENCH_REPORT_DIR``).
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from apps.solar.clearing import Order, clear

ROOT = Path(__file__).resolve().parent.parent
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(","))
RUNS = 5  # the rule alone: median of 5
E2E_RUNS = int(os.environ.get("BENCH_E2E_RUNS", "3"))  # end to end: median of 3 (each on its own copy of the book)
ALGORITHM_TARGET_S = 0.5
E2E_TARGET_RATIO = 3.0
_SERVER_URL = os.environ.get("DATABASE_URL", "")  # where a throwaway database is made and dropped


def book(n: int, rng: random.Random) -> tuple[list[Order], list[Order]]:
    """Half buys, half sells, limits around 0.25 credits/kWh, 50 Wh to 2 kWh each."""
    buys = [
        Order(key=k, quantity_wh=rng.randint(50, 2000), limit_price=Decimal(rng.randint(1500, 3500)).scaleb(-4), seq=k)
        for k in range(n // 2)
    ]
    sells = [
        Order(
            key=-k - 1,
            quantity_wh=rng.randint(50, 2000),
            limit_price=Decimal(rng.randint(1000, 3000)).scaleb(-4),
            seq=k,
        )
        for k in range(n - n // 2)
    ]
    return buys, sells


def timed(call, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- part 1: the rule alone --------------------------------------------------------------
def algorithm() -> list[dict]:
    rng = random.Random(2026)
    rows = []
    print(f"{'orders':>8} {'clear (s)':>10} {'sort only (s)':>14} {'clear/sort':>11} {'trades':>8} {'price':>8}")
    previous, previous_n = None, 0
    for n in SIZES:
        buys, sells = book(n, rng)
        result = clear(buys, sells)
        seconds = timed(lambda buys=buys, sells=sells: clear(buys, sells))
        bare = timed(
            lambda buys=buys, sells=sells: (
                sorted(buys, key=lambda o: (-o.limit_price, o.seq)),
                sorted(sells, key=lambda o: (o.limit_price, o.seq)),
            )
        )
        growth = seconds / previous if previous else None
        print(
            f"{n:>8} {seconds:>10.4f} {bare:>14.4f} {seconds / bare:>11.2f} {len(result.trades):>8} "
            f"{result.price!s:>8}" + (f"  x{growth:.1f} for x{n // previous_n} orders" if growth else "")
        )
        rows.append(
            {
                "orders": n,
                "clear_s": round(seconds, 5),
                "sort_only_s": round(bare, 5),
                "clear_over_sort": round(seconds / bare, 2),
                "growth_vs_previous_size": round(growth, 2) if growth else None,
                "trades": len(result.trades),
                "price": str(result.price),
            }
        )
        previous, previous_n = seconds, n
    print(f"median of {RUNS} runs each; target: 100k orders <= {ALGORITHM_TARGET_S} s for the rule alone")
    return rows


# --- part 2: end to end on PostgreSQL ----------------------------------------------------
def _postgres_url() -> tuple[str | None, bool, str]:
    """(the URL to use, whether it is a throwaway database made here, why not if None)."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        if not given.startswith(("postgres://", "postgresql://")):
            return None, False, "BENCH_DATABASE_URL is not a PostgreSQL database"
        return given, False, ""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return None, False, "DATABASE_URL is not a PostgreSQL database (postgres://...)"
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'p2p'}_bench_solar_{os.getpid()}"
    _admin_sql(base, f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), True, ""


def _drop(url: str) -> None:
    from django.db import connections

    connections.close_all()
    _admin_sql(_SERVER_URL, f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}"')


def _admin_sql(url: str, sql: str) -> None:
    """CREATE or DROP DATABASE: outside a transaction, on a connection of its own."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def _setup_django(url: str) -> None:
    tmp = tempfile.mkdtemp(prefix="p2p-bench-")
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "p2pcommons.settings.test"
    os.environ["P2P_VAR_DIR"] = tmp
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from p2pcommons.celery import app as celery_app

    # As in production, delivering the notifications is another worker's job: the
    # clearing queues one task (to the in-memory broker here), it doesn't email.
    celery_app.conf.task_always_eager = False


class _Phases:
    """Wall time of the named steps of ``slot_clear``, by wrapping what it calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._undo: list = []

    def wrap(self, owner, name: str, label) -> None:
        original = getattr(owner, name)
        seconds = self.seconds

        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args, **kwargs) if callable(label) else label
                seconds[key] += time.perf_counter() - started

        setattr(owner, name, timed_call)
        self._undo.append((owner, name, original))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def _table_of(sql: str) -> str:
    words = sql.replace('"', "").split()
    verb = words[0].upper() if words else "?"
    for keyword in ("INTO", "UPDATE", "FROM"):
        if keyword in (w.upper() for w in words):
            index = [w.upper() for w in words].index(keyword)
            if index + 1 < len(words):
                return f"{verb} {words[index + 1]}"
    return verb


def end_to_end(url: str) -> list[dict]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from apps.peers.factories import CommunityFactory
    from apps.peers.models import Membership, Profile, User
    from apps.solar import services
    from apps.solar.models import Meter, Slot, Trade
    from apps.solar.models import Order as OrderRow
    from apps.solar.services import market

    started = time.perf_counter()
    stamp = int(time.time())
    community = CommunityFactory(slug=f"bench-solar-{stamp}", name=f"Solar bench {stamp}")
    traders = max(SIZES)
    users = User.objects.bulk_create(
        (User(email=f"solar{stamp}-{i}@example.org", is_active=True) for i in range(traders)), batch_size=5000
    )
    Profile.objects.bulk_create(
        (Profile(user=u, display_name=f"Neighbor {i}") for i, u in enumerate(users)), batch_size=5000
    )
    Membership.objects.bulk_create((Membership(user=u, community=community) for u in users), batch_size=5000)
    meters = Meter.objects.bulk_create(
        (Meter(community=community, owner=u, name="Home", kind=Meter.Kind.BOTH, peak_capacity_w=8000) for u in users),
        batch_size=5000,
    )
    print(f"setup: {traders:,} traders with a meter each in {time.perf_counter() - started:.1f} s")

    rng = random.Random(2026)
    first_start = datetime(2030, 1, 1, tzinfo=UTC)
    copies = 0

    def new_slot(buys, sells) -> Slot:
        """A copy of the book in a slot of its own (one trader per order)."""
        nonlocal copies
        start = first_start + timedelta(minutes=15 * copies)
        copies += 1
        slot = Slot.objects.create(community=community, start=start)
        placed = start - timedelta(days=1)
        rows = []
        for i, order in enumerate([*buys, *sells]):
            side = OrderRow.Side.BUY if i < len(buys) else OrderRow.Side.SELL
            at = placed + timedelta(microseconds=i)
            rows.append(
                OrderRow(
                    slot=slot,
                    member_id=users[i].pk,
                    meter_id=meters[i].pk,
                    side=side,
                    quantity_wh=order.quantity_wh,
                    limit_price=order.limit_price,
                    created_at=at,
                    priority_at=at,
                )
            )
        OrderRow.objects.bulk_create(rows, batch_size=5000)
        return slot

    def clear_it(slot: Slot) -> float:
        began = time.perf_counter()
        assert services.slot_clear(slot_id=slot.pk, now=slot.start - timedelta(minutes=4))
        return time.perf_counter() - began

    def bare(slot: Slot) -> float:
        """Read the slot's orders as slot_clear does and insert as many trades as its
        clearing makes (the pairs worked out beforehand), in a transaction rolled back."""
        book_rows = market.open_book(slot)
        member_of = {pk: member for pk, _, _, _, _, member in book_rows}
        result = market.clear_book(book_rows)
        began = time.perf_counter()
        rows = market.open_book(slot)
        with transaction.atomic():
            Trade.objects.bulk_create(market.trade_rows(slot, result, member_of), batch_size=1000)
            transaction.set_rollback(True)
        assert len(rows) == len(book_rows)
        return time.perf_counter() - began

    # One small clearing first, untimed: the first one in a process also imports and
    # connects what later ones reuse (the broker for the notification task, caches).
    warm_buys, warm_sells = book(20, rng)
    clear_it(new_slot(warm_buys, warm_sells))

    results = []
    previous, previous_n = None, 0
    header = f"{'orders':>8} {'end to end (s)':>15} {'bare (s)':>9} {'e2e/bare':>9} {'trades':>8} {'queries':>8}"
    print(header)
    for n in SIZES:
        buys, sells = book(n, rng)
        slots = [new_slot(buys, sells) for _ in range(E2E_RUNS + 1)]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE solar_order")  # fresh statistics, as a live table has
        bare_s = timed(lambda slot=slots[-1]: bare(slot), runs=E2E_RUNS)
        e2e_s = statistics.median(clear_it(slot) for slot in slots[:-1])
        detail = _diagnose(slots[-1], clear_it, CaptureQueriesContext, connection, market)
        trades = Trade.objects.filter(slot=slots[0]).count()
        ratio = e2e_s / bare_s
        growth = e2e_s / previous if previous else None
        print(
            f"{n:>8} {e2e_s:>15.3f} {bare_s:>9.3f} {ratio:>9.2f} {trades:>8} {detail['queries']:>8}"
            + (f"  x{growth:.1f} for x{n // previous_n} orders" if growth else "")
        )
        results.append(
            {
                "orders": n,
                "end_to_end_s": round(e2e_s, 4),
                "bare_s": round(bare_s, 4),
                "end_to_end_over_bare": round(ratio, 2),
                "growth_vs_previous_size": round(growth, 2) if growth else None,
                "trades": trades,
                "within_target": ratio <= E2E_TARGET_RATIO,
                "where_the_time_goes": detail,
            }
        )
        previous, previous_n = e2e_s, n
    print(
        f"median of {E2E_RUNS} clearings each (a fresh copy of the book each time); "
        f"target: end to end <= {E2E_TARGET_RATIO:g}x bare"
    )
    for row in results:
        parts = ", ".join(f"{k} {v:.3f} s" for k, v in row["where_the_time_goes"]["steps_s"].items())
        detail = row["where_the_time_goes"]
        print(f"  {row['orders']:>7,} orders, one clearing timed in detail ({detail['total_s']:.3f} s): {parts}")
        sql = ", ".join(f"{k} {v['s']:.3f} s/{v['queries']}q" for k, v in detail["sql"].items())
        print(f"           SQL by statement: {sql}")
    return results


def _diagnose(slot, clear_it, CaptureQueriesContext, connection, market) -> dict:
    """One more clearing (of its own copy of the book) with its steps and queries timed."""
    from django.db.models import query

    from apps.solar import clearing

    phases = _Phases()
    phases.wrap(market.SLOT, "apply", "claim the slot (UPDATE + event)")
    phases.wrap(clearing, "clear", "the rule (clearing.clear)")
    phases.wrap(market, "_tell_traders", "notifications (users + insert)")
    phases.wrap(query.QuerySet, "bulk_create", lambda qs, *a, **k: f"bulk_create {qs.model._meta.model_name}s")
    phases.wrap(query.QuerySet, "bulk_update", lambda qs, *a, **k: f"bulk_update {qs.model._meta.model_name}s (fills)")
    connection.queries_log.clear()
    try:
        with CaptureQueriesContext(connection) as ctx:
            total = clear_it(slot)
    finally:
        phases.undo()
    sql: dict[str, dict] = defaultdict(lambda: {"s": 0.0, "queries": 0})
    for q in ctx.captured_queries:
        key = _table_of(q["sql"])
        sql[key]["s"] += float(q["time"])
        sql[key]["queries"] += 1
    top = dict(sorted(sql.items(), key=lambda kv: -kv[1]["s"])[:6])
    steps = {k: round(v, 4) for k, v in sorted(phases.seconds.items(), key=lambda kv: -kv[1])}
    return {
        "total_s": round(total, 4),
        "queries": len(ctx.captured_queries),
        "sql_s": round(sum(float(q["time"]) for q in ctx.captured_queries), 4),
        "steps_s": steps,
        "sql": {k: {"s": round(v["s"], 4), "queries": v["queries"]} for k, v in top.items()},
        "note": "queries timed by Django's debug cursor (it adds a little); the steps overlap "
        "(bulk_create notifications is inside notifications)",
    }


# --- report ------------------------------------------------------------------------------
def write_report(report: dict) -> Path:
    folder = Path(os.environ.get("BENCH_REPORT_DIR") or ROOT / "var" / "bench")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solar_clearing.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Solar clearing benchmark",
        "",
        f"{report['when']} on {report['machine']}, Python {report['python']}.",
        "",
        f"## The rule alone (median of {RUNS})",
        "",
        "| orders | clear (s) | sort only (s) | clear/sort | growth per 10x | trades |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["algorithm"]:
        growth = f"x{r['growth_vs_previous_size']}" if r["growth_vs_previous_size"] else ""
        lines.append(
            f"| {r['orders']:,} | {r['clear_s']:.4f} | {r['sort_only_s']:.4f} | {r['clear_over_sort']} "
            f"| {growth} | {r['trades']:,} |"
        )
    top = report["algorithm"][-1]
    lines += [
        "",
        f"Target: 100k orders <= {ALGORITHM_TARGET_S} s, growing about n log n: "
        f"**{'met' if top['clear_s'] <= ALGORITHM_TARGET_S else 'missed'}** ({top['clear_s']:.3f} s).",
        "",
        "## End to end on PostgreSQL",
        "",
    ]
    if not report["end_to_end"]:
        lines.append(f"Not run: {report['end_to_end_skipped']}.")
    else:
        lines += [
            f"`services.slot_clear` for one slot (median of {E2E_RUNS}), against reading the slot's orders and "
            "bulk-inserting as many trades in a transaction rolled back (bare).",
            "",
            "| orders | end to end (s) | bare (s) | e2e/bare | growth per 10x | trades | queries |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in report["end_to_end"]:
            growth = f"x{r['growth_vs_previous_size']}" if r["growth_vs_previous_size"] else ""
            lines.append(
                f"| {r['orders']:,} | {r['end_to_end_s']:.3f} | {r['bare_s']:.3f} | {r['end_to_end_over_bare']} "
                f"| {growth} | {r['trades']:,} | {r['where_the_time_goes']['queries']} |"
            )
        met = all(r["within_target"] for r in report["end_to_end"])
        lines += ["", f"Target: end to end <= {E2E_TARGET_RATIO:g}x bare: **{'met' if met else 'missed'}**.", ""]
        lines += ["### Where the time goes (one more clearing, every query timed)", ""]
        for r in report["end_to_end"]:
            d = r["where_the_time_goes"]
            steps = "; ".join(f"{k} {v:.3f} s" for k, v in d["steps_s"].items())
            sql = "; ".join(f"{k} {v['s']:.3f} s ({v['queries']} queries)" for k, v in d["sql"].items())
            lines += [f"- {r['orders']:,} orders, {d['total_s']:.3f} s: {steps}.", f"  SQL: {sql}."]
    path = folder / "solar_clearing.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    report = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "targets": {"algorithm_100k_s": ALGORITHM_TARGET_S, "end_to_end_over_bare": E2E_TARGET_RATIO},
        "algorithm": algorithm(),
        "end_to_end": [],
        "end_to_end_skipped": "",
    }
    print()
    url, throwaway, why = _postgres_url()
    if url is None:
        report["end_to_end_skipped"] = f"needs PostgreSQL: {why}"
        print(f"End to end not run: it needs PostgreSQL ({why}).")
    else:
        try:
            _setup_django(url)
            from django.core.management import call_command
            from django.db import connection

            began = time.perf_counter()
            call_command("migrate", verbosity=0)
            print(
                f"database: {connection.vendor} {connection.pg_version // 10000} "
                f"({'throwaway, migrated' if throwaway else 'as given'} in {time.perf_counter() - began:.0f} s)"
            )
            report["database"] = f"PostgreSQL {connection.pg_version // 10000}"
            report["end_to_end"] = end_to_end(url)
        finally:
            if throwaway and not os.environ.get("BENCH_KEEP_DATABASE"):
                _drop(url)
    path = write_report(report)
    print(f"\nreport: {path} (and .json)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
