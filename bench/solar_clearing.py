"""Benchmark: clearing one solar slot with 1k, 10k and 100k orders (not part of `make test`).

    .venv/bin/python -m bench.solar_clearing

Reports the clearing rule alone (``apps.solar.clearing.clear``: two sorts and one walk)
per book size, the ratio between sizes (n log n grows a little over 10x per 10x), and,
in the same run, the bare cost of sorting the same rows with no clearing, so the
numbers can be read against this machine's speed. The end-to-end figure (reading a
slot's orders from PostgreSQL and bulk-inserting its trades) comes with the solar
models; the target for the rule alone is 100k orders in at most 0.5 s.
"""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal

from apps.solar.clearing import Order, clear

SIZES = (1_000, 10_000, 100_000)
RUNS = 5


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


def timed(call) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    rng = random.Random(2026)
    print(f"{'orders':>8} {'clear (s)':>10} {'sort only (s)':>14} {'clear/sort':>11} {'trades':>8} {'price':>8}")
    previous = None
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
        growth = f"  x{seconds / previous:.1f} for x10 orders" if previous else ""
        print(
            f"{n:>8} {seconds:>10.4f} {bare:>14.4f} {seconds / bare:>11.2f} {len(result.trades):>8} "
            f"{result.price!s:>8}{growth}"
        )
        previous = seconds
    print(f"median of {RUNS} runs each; target: 100k orders <= 0.5 s for the rule alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
