"""Mutation testing of the trust-critical code: ``make mutate`` (or ``python -m mutation.run``).

For each module in mutation/modules.toml: every small change the operators in
mutation/operators.py can make to its functions is tried, and the module's tests that
execute the changed lines run against it until one fails (the mutant is killed) or all
pass (it survived). Score = killed / (mutants - equivalent ones), where the equivalent
ones (changes that cannot alter behaviour) are listed in mutation/equivalent.txt.

The project is never changed in place: each worker mutates its own copy under
$MUTATION_WORKDIR (default /tmp/mutation-work), with its own SQLite test database.
Survivors are written to mutation/report.txt.

Options: --module NAME (repeatable, a part of the name or path), -n WORKERS (default 2),
--min PERCENT (exit 1 below it; default 90), --list (print the mutants and stop).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mutation.operators import Mutant, mutants

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "mutation"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "*.pyc", "node_modules", ".pytest_cache", ".ruff_cache",
    ".hypothesis", "db.sqlite3*", "mutants", "test-results", "*.egg-info",
)  # fmt: skip
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q", "-p", "mutation.worker", "--no-header", "-o", "addopts="]


@dataclass
class Module:
    name: str
    path: str
    import_name: str
    functions: str
    tests: list[str]
    always: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    mutants: list[Mutant] = field(default_factory=list)

    def test_files(self) -> list[str]:
        files: list[str] = []
        for entry in self.tests:
            p = ROOT / entry
            found = sorted(p.rglob("test_*.py")) if p.is_dir() else ([p] if p.exists() else [])
            files += [str(f.relative_to(ROOT)) for f in found]
        return [f for f in files if f not in self.exclude]

    def excluded(self, nodeid: str) -> bool:
        return any(nodeid == e or nodeid.startswith((e + "::", e + "[")) for e in self.exclude)


def load_modules(selected: list[str]) -> list[Module]:
    with open(HERE / "modules.toml", "rb") as f:
        config = tomllib.load(f)
    modules = [
        Module(
            name=m["name"],
            path=m["path"],
            import_name=m["import"],
            functions=m["functions"],
            tests=m["tests"],
            always=m.get("always", []),
            exclude=m.get("exclude", []),
        )
        for m in config["module"]
    ]
    if selected:
        modules = [m for m in modules if any(s in m.name or s in m.path for s in selected)]
    return modules


POSTGRES_ONLY = "[SQLite]"


def load_equivalents() -> dict[str, str]:
    """``key || reason`` lines; the key is the one printed in report.txt."""
    equivalents: dict[str, str] = {}
    path = HERE / "equivalent.txt"
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, _, reason = line.partition("||")
            equivalents[key.strip()] = reason.strip()
    return equivalents


def make_copy(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
    (dest / "var").mkdir(exist_ok=True)


def worker_env(job: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "P2P_VAR_DIR", "MEDIA_ROOT", "PYTEST_ADDOPTS"):
        env.pop(name, None)  # SQLite in the copy's own var/, an in-process cache and broker
    env.update(MUTATION_JOB=str(job), PYTHONDONTWRITEBYTECODE="1", DJANGO_SETTINGS_MODULE="p2pcommons.settings.test")
    return env


DESELECT: list[str] = []  # single tests every module that runs their file excludes


def start(copy: Path, job: Path, tests: list[str], log: Path) -> subprocess.Popen:
    deselect = [arg for nodeid in DESELECT for arg in ("--deselect", nodeid)]
    cmd = ["nice", "-n", "10", sys.executable, "-m", "pytest", *PYTEST_ARGS, *deselect, *tests]
    if shutil.which("nice") is None:
        cmd = cmd[3:]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        cmd, cwd=copy, env=worker_env(job), stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def baseline(modules: list[Module], copies: list[Path], work: Path) -> dict:
    """Run every test once in the workers, tracing which target lines each executes."""
    files = sorted({f for m in modules for f in m.test_files()})
    shares: list[list[str]] = [files[i :: len(copies)] for i in range(len(copies))]
    procs = []
    for i, (copy, share) in enumerate(zip(copies, shares, strict=False)):
        if not share:
            continue
        job, out = work / f"baseline-{i}.json", work / f"baseline-{i}.out.json"
        targets = [str(copy / m.path) for m in modules]
        job.write_text(json.dumps({"mode": "baseline", "targets": targets, "out": str(out)}))
        procs.append((copy, out, start(copy, job, share, work / f"baseline-{i}.log")))
    merged: dict = {"coverage": {}, "failing": [], "durations": {}}
    for copy, out, proc in procs:
        proc.wait()
        if not out.exists():
            sys.exit(f"The baseline test run failed; see {work}/baseline-*.log")
        data = json.loads(out.read_text())
        prefix = str(copy) + os.sep
        for nodeid, cov in data["coverage"].items():
            merged["coverage"][nodeid] = {p.removeprefix(prefix): set(lines) for p, lines in cov.items()}
        merged["failing"] += data["failing"]
        merged["durations"].update(data["durations"])
    return merged


def tests_for(mutant: Mutant, module: Module, base: dict) -> list[str]:
    files = set(module.test_files())
    usable = [n for n in base["coverage"] if n not in base["failing"] and not module.excluded(n)]
    lines = set(range(mutant.line, mutant.end_line + 1))
    chosen = [
        nodeid
        for nodeid in usable
        if nodeid.split("::")[0] in files and lines & base["coverage"][nodeid].get(module.path, set())
    ]
    always = [nodeid for nodeid in usable if any(nodeid.startswith(a) for a in module.always) and nodeid not in chosen]
    return sorted(chosen, key=lambda n: base["durations"].get(n, 1.0)) + always


TIMEOUT_FLOOR = 60.0


def run_mutants(jobs: list[list[dict]], copies: list[Path], work: Path) -> dict[str, dict]:
    """Each worker runs its list; a mutant that runs too long (an endless loop) is stopped
    and counted as killed, and the worker restarts with the rest of its list."""
    results: dict[str, dict] = {}
    pending = [list(j) for j in jobs]
    running: dict[int, tuple[subprocess.Popen, Path]] = {}
    restarts = [0] * len(copies)
    total = sum(len(j) for j in jobs)

    def launch(i: int) -> None:
        todo = [m for m in pending[i] if m["id"] not in results]
        pending[i] = todo
        if not todo:
            return
        restarts[i] += 1
        job, out = work / f"mutants-{i}-{restarts[i]}.json", work / f"mutants-{i}-{restarts[i]}.out"
        job.write_text(json.dumps({"mode": "mutants", "out": str(out), "mutants": todo}))
        tests = sorted({t.split("::")[0] for m in todo for t in m["tests"]})
        running[i] = (start(copies[i], job, tests, work / f"mutants-{i}-{restarts[i]}.log"), out)

    for i in range(len(copies)):
        launch(i)
    try:
        return _watch(running, results, pending, launch, jobs, total)
    finally:
        for proc, _ in running.values():
            stop(proc)


def _watch(running, results, pending, launch, jobs, total) -> dict[str, dict]:
    timeout_floor = TIMEOUT_FLOOR
    last_print = 0.0
    by_id = {m["id"]: m for j in jobs for m in j}
    started_at: dict[str, float] = {}
    tainted: set[tuple[Path, str]] = set()
    taints: dict[str, int] = {}
    while running:
        time.sleep(0.5)
        for i, (proc, out) in list(running.items()):
            current = None
            if out.exists():
                lines = out.read_text().splitlines()
                for line in lines:
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:  # a line still being written
                        break
                    if rec["status"] == "started":
                        current = rec["id"]
                        started_at.setdefault(current, time.monotonic())
                    elif rec["status"] == "tainted":
                        current = None
                        if (out, rec["id"]) not in tainted:
                            tainted.add((out, rec["id"]))
                            taints[rec["id"]] = taints.get(rec["id"], 0) + 1
                            print(f"  {rec['id']}: its killing test failed unmutated too; retrying in a fresh process")
                        if taints[rec["id"]] > 1:  # it fails unmutated even in a fresh process
                            results[rec["id"]] = {**rec, "status": "killed", "by": rec["by"] + " (fails unmutated too)"}
                    else:
                        results[rec["id"]] = rec
                        current = None
            if current is not None:
                limit = max(timeout_floor, 5 * by_id[current]["cost"] + 20)
                if time.monotonic() - started_at[current] > limit:
                    stop(proc)
                    results[current] = {"id": current, "status": "killed", "by": "timeout"}
                    del running[i]
                    launch(i)
                    continue
            if proc.poll() is not None:
                del running[i]
                if current is not None:  # the test process died under this mutant
                    results[current] = {"id": current, "status": "killed", "by": f"crash (exit {proc.returncode})"}
                    launch(i)
                elif any(m["id"] not in results for m in pending[i]):
                    if not out.exists():
                        sys.exit(f"A mutation worker failed to start; see {proc.args}")
                    launch(i)
        if time.monotonic() - last_print > 30:
            last_print = time.monotonic()
            print(f"  {len(results)}/{total} mutants done", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[])
    parser.add_argument("-n", "--workers", type=int, default=2)
    parser.add_argument("--min", type=float, default=90.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="floor of the per-mutant time limit (s)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--selfcheck",
        action="store_true",
        help="also run each function unchanged: any such 'mutant' killed means tests that depend on their order",
    )
    args = parser.parse_args(argv)

    modules = load_modules(args.module)
    if not modules:
        parser.error("no module matches")
    for k, m in enumerate(modules, start=1):
        source = (ROOT / m.path).read_text(encoding="utf-8")
        for n, mutant in enumerate(mutants(m.path, source, m.functions), start=1):
            mutant.mutant_id = f"{k}.{n}"
            m.mutants.append(mutant)
    if args.list:
        for m in modules:
            for mu in m.mutants:
                print(f"{mu.line:5} {mu.key}")
        return 0

    for m in modules:
        for nodeid in (e for e in m.exclude if "::" in e):
            holders = [o for o in modules if nodeid.split("::")[0] in o.test_files()]
            if all(o.excluded(nodeid) for o in holders) and nodeid not in DESELECT:
                DESELECT.append(nodeid)

    started = time.monotonic()
    work = Path(os.environ.get("MUTATION_WORKDIR", "/tmp/mutation-work")) / f"run-{os.getpid()}"  # noqa: S108
    work.mkdir(parents=True, exist_ok=True)
    print(f"Copying the project for {args.workers} workers into {work} ...", flush=True)
    copies = [work / f"w{i}" for i in range(args.workers)]
    for c in copies:
        make_copy(c)
    print("Baseline: running the tests once, tracing which lines each one executes ...", flush=True)
    base = baseline(modules, copies, work)
    for nodeid in base["failing"]:
        print(f"  warning: {nodeid} fails without any mutation; it is left out", flush=True)

    records = []
    for m in modules:
        for mu in m.mutants:
            tests = tests_for(mu, m, base)
            cost = sum(base["durations"].get(t, 1.0) for t in tests)
            records.append(
                {
                    "id": mu.mutant_id,
                    "path": str(mu.module),
                    "module": m.import_name,
                    "function": mu.function,
                    "source": mu.source,
                    "tests": tests,
                    "cost": cost,
                }
            )
    if args.selfcheck:
        for m in modules:
            source = (ROOT / m.path).read_text(encoding="utf-8")
            for function in sorted({mu.function for mu in m.mutants}):
                mine = [r for r in records if r["function"] == function and r["path"] == m.path]
                tests = sorted({t for r in mine for t in r["tests"]})
                cost = sum(base["durations"].get(t, 1.0) for t in tests)
                records.append(
                    {"id": f"null:{m.path}:{function}", "path": m.path, "module": m.import_name, "function": function,
                     "source": source, "tests": tests, "cost": cost}
                )  # fmt: skip
    untested = {r["id"] for r in records if not r["tests"]}
    runnable = sorted((r for r in records if r["tests"]), key=lambda r: -r["cost"])
    jobs: list[list[dict]] = [[] for _ in copies]
    loads = [0.0] * len(copies)
    for r in runnable:  # longest first, to the least loaded worker
        i = loads.index(min(loads))
        jobs[i].append({**r, "path": str(copies[i] / r["path"])})
        loads[i] += r["cost"]
    print(f"Mutants: {len(records)} ({len(untested)} run by no test); running ...", flush=True)
    global TIMEOUT_FLOOR
    TIMEOUT_FLOOR = args.timeout
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    results = run_mutants(jobs, copies, work)
    for mid in untested:
        results[mid] = {"id": mid, "status": "survived", "by": "", "untested": True}

    for mid, res in sorted(results.items()):
        if mid.startswith("null:") and res["status"] == "killed":
            print(f"  selfcheck: {mid} unchanged was 'killed' by {res['by']}: that test depends on test order or state")
    equivalents = load_equivalents()
    used: set[str] = set()
    lines_out = [
        "Surviving mutants of `make mutate` (regenerated each run). Each is a change to the code",
        "that no test noticed. Kill it with a test, or, if it cannot change behaviour, add its",
        "key with a reason to mutation/equivalent.txt as `key || reason`.",
        "",
    ]
    print()
    print(f"{'module':34} {'mutants':>7} {'killed':>7} {'survived':>8} {'pg-only':>7} {'equiv.':>7} {'score':>7}")
    failed = False
    for m in modules:
        killed = survived = equivalent = postgres_only = 0
        for mu in m.mutants:
            res = results.get(mu.mutant_id, {"status": "survived"})
            if res["status"] == "killed":
                killed += 1
                if mu.key in equivalents:
                    used.add(mu.key)
                    print(f"  note: listed as equivalent but killed: {mu.key}")
            elif mu.key in equivalents and equivalents[mu.key].startswith(POSTGRES_ONLY):
                # Not equivalent: a lock SQLite can't show. It survives here and counts
                # against the score; the PostgreSQL concurrency tests are its guard.
                postgres_only += 1
                used.add(mu.key)
            elif mu.key in equivalents:
                equivalent += 1
                used.add(mu.key)
            else:
                survived += 1
                why = " (no test runs this line)" if res.get("untested") else ""
                lines_out.append(f"{m.path}:{mu.line} in {mu.function}(){why}")
                lines_out.append(f"    {mu.before}  ->  {mu.after}")
                lines_out.append(f"    key: {mu.key}")
                lines_out.append("")
        considered = len(m.mutants) - equivalent
        score = 100.0 * killed / considered if considered else 100.0
        failed |= score < args.min
        print(f"{m.path:34} {len(m.mutants):7} {killed:7} {survived:8} {postgres_only:7} {equivalent:7} {score:6.1f}%")
    stale = [k for k in equivalents if k not in used and any(k.startswith(m.path + " |") for m in modules)]
    for key in stale:
        print(f"  note: equivalent.txt lists a mutant that no longer exists: {key}")
    (HERE / "report.txt").write_text("\n".join(lines_out) + "\n", encoding="utf-8")
    minutes = (time.monotonic() - started) / 60
    print(
        f"\nScore = killed / (mutants - equivalent); target {args.min:.0f}% per module. {minutes:.1f} min.\n"
        "pg-only: row-lock changes SQLite cannot show (listed [SQLite] in equivalent.txt); they count\n"
        "as survivors here, and the PostgreSQL concurrency tests guard them."
    )
    print("Survivors: mutation/report.txt")
    if os.environ.get("MUTATION_KEEP") is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
