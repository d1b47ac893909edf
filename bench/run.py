"""`make bench`: every benchmark in one run on PostgreSQL + Redis, one report.

    make bench                        # about 15-20 minutes on 2 cores
    BENCH_SCALE=0.1 make bench        # a tenth of the scale data, for trying things out
    BENCH_ONLY=http,growth make bench # some sections only (the data is seeded all the same)
    BENCH_REUSE=1 make bench          # keep the seeded database of the last run

1. A fresh database (``p2pcommons_bench`` next to BENCH_DATABASE_URL's server; dropped
   and created), migrated and filled by ``manage.py seed_scale`` (50k tools, 1M ledger
   entries, ...: see apps/peers/management/commands/seed_scale.py).
2. Each section runs as its own process (``python -m bench.<module>``) with the bench
   settings (p2pcommons/settings/bench.py) and a time limit; a section that fails or
   overruns is reported as such and the run exits non-zero.
3. The sections (bench/report.py) are gathered into ``var/bench/report.json`` and
   ``report.md`` (BENCH_REPORT_DIR), and the Markdown is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from bench.report import ROOT, machine, render_markdown, report_dir

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/p2pcommons_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"

# (key, module, time limit in seconds). Reads of the pristine data first, then the
# benchmarks that add data of their own.
SECTIONS = [
    ("tools_search", "bench.tools_search", 120),
    ("growth", "bench.growth", 150),
    ("http", "bench.http", 420),
    ("ledger", "bench.ledger", 150),
    ("merkle_log", "bench.merkle_log", 240),
    ("skills_matching", "bench.skills_matching", 90),
    ("notify", "bench.notify", 90),
    ("solar_clearing", "bench.solar_clearing", 180),
]


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="p2pcommons.settings.bench",
        DATABASE_URL=database_url,
        BENCH_DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        BENCH_REPORT_DIR=str(report_dir()),
        PYTHONPATH=str(ROOT),
    )
    env.pop("CACHE_URL", None)
    return env


def _admin(database_url: str, sql: str) -> None:
    import psycopg2

    parts = urlsplit(database_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _run(cmd: list[str], env: dict, limit: float) -> tuple[int | None, float]:
    started = time.perf_counter()
    try:
        rc = subprocess.run(cmd, env=env, cwd=ROOT, timeout=limit, check=False).returncode  # noqa: S603
    except subprocess.TimeoutExpired:
        rc = None
    return rc, time.perf_counter() - started


def main() -> int:
    started = time.perf_counter()
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    if not database_url.startswith("postgres"):
        print("make bench needs PostgreSQL: set BENCH_DATABASE_URL=postgres://... (and Redis: BENCH_REDIS_URL)")
        return 2
    env = _env(database_url, redis_url)
    name = urlsplit(database_url).path.lstrip("/")
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    out = report_dir()
    for old in (out / "sections").glob("*.json"):
        old.unlink()
    py = sys.executable

    import redis

    redis.Redis.from_url(redis_url).flushdb()  # the bench's own Redis database: cache and queue
    reuse = os.environ.get("BENCH_REUSE") == "1"
    setup_rows = []
    if not reuse:
        print(f"== database {name}: dropped, created, migrated", flush=True)
        _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(database_url, f'CREATE DATABASE "{name}"')
        rc, took = _run([py, "manage.py", "migrate", "--noinput", "-v", "0"], env, 600)
        if rc != 0:
            print("migrate failed")
            return 1
        setup_rows.append(("migrate", took))
        scale = os.environ.get("BENCH_SCALE", "1")
        print(f"== seed_scale --scale {scale}", flush=True)
        rc, took = _run([py, "manage.py", "seed_scale", "--scale", scale, "--seed", "1"], env, 900)
        if rc != 0:
            print("seed_scale failed")
            return 1
        setup_rows.append(("seed_scale", took))

    failures = []
    ran = []
    for key, module, limit in SECTIONS:
        if only and key not in only:
            continue
        print(f"\n== {key} ({module}, at most {limit} s)", flush=True)
        rc, took = _run([py, "-m", module], env, limit)
        ran.append((key, rc, took))
        if rc != 0:
            why = f"timed out after {limit} s" if rc is None else f"exited with {rc}"
            failures.append(key)
            section = out / "sections" / f"{key}.json"
            data = json.loads(section.read_text()) if section.exists() else {"key": key, "title": key, "rows": []}
            data["error"] = why
            section.write_text(json.dumps(data, indent=2))

    sections = []
    order = {key: i for i, (key, _, _) in enumerate(SECTIONS)}
    for path in sorted((out / "sections").glob("*.json"), key=lambda p: order.get(p.stem, 99)):
        sections.append(json.loads(path.read_text()))
    report = {
        "started_at": started_at,
        "machine": machine(),
        "database": f"PostgreSQL ({name}) + Redis",
        "scale": os.environ.get("BENCH_SCALE", "1"),
        "setup": [{"step": s, "seconds": round(t, 1)} for s, t in setup_rows],
        "sections": sections,
        "elapsed_s": time.perf_counter() - started,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    md = render_markdown(report)
    setup = ", ".join(f"{s} {t:.0f} s" for s, t in setup_rows)
    if setup:
        md = md.replace("\n\nTargets:", f"\n\nSet-up: {setup}.\n\nTargets:", 1)
    (out / "report.md").write_text(md)
    print("\n" + md)
    print(f"\nreport: {out / 'report.md'} (and report.json); {(time.perf_counter() - started) / 60:.1f} min in all")
    if failures:
        print(f"sections that did not complete: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
