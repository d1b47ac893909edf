"""Benchmark: ledger throughput and verification speed (not part of `make test`).

    make bench                                   # a throwaway SQLite database
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/p2pcommons_bench make bench

Reports transfers per second through ``transfer_create`` (locks, double entry, hash
chain) and how long ``verify_community`` takes per 1,000 entries. A PostgreSQL
database named in BENCH_DATABASE_URL must exist (`createdb p2pcommons_bench`); each run
adds a community of its own to it.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

TRANSFERS = int(os.environ.get("BENCH_TRANSFERS", "3000"))


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="p2p-bench-")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "p2pcommons.settings.test"
    os.environ["P2P_VAR_DIR"] = tmp
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from apps.ledger import services
    from apps.ledger.chain import verify_community
    from apps.peers.factories import CommunityFactory, MembershipFactory
    from p2pcommons.errors import RuleViolation

    community = CommunityFactory(slug=f"bench-{int(time.time())}", name=f"Ledger bench {time.time():.0f}")
    users = [MembershipFactory(community=community).user for _ in range(20)]
    accounts = [services.account_for(user=u, community=community, currency="HOUR") for u in users]
    rng = random.Random(1)
    started = time.perf_counter()
    refused = 0
    for i in range(TRANSFERS):
        src, dst = rng.sample(accounts, 2)
        try:
            services.transfer_create(source=src, target=dst, amount="0.25", idempotency_key=f"bench:{i}")
        except RuleViolation:  # a limit refusal is part of the workload
            refused += 1
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    report = verify_community(community=community)
    verify_elapsed = time.perf_counter() - started
    print(f"database: {connection.vendor}")
    print(
        f"transfers: {TRANSFERS - refused} written, {refused} refused, {TRANSFERS / elapsed:.0f} per second "
        f"({elapsed / TRANSFERS * 1000:.2f} ms each)"
    )
    print(
        f"verify: {report.checked} entries in {verify_elapsed:.2f} s "
        f"({verify_elapsed / max(report.checked, 1) * 1000 * 1000:.1f} ms per 1,000 entries), ok={report.ok}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
