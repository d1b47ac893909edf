"""One report format for every benchmark (`make bench`, bench/run.py).

Each benchmark module writes one *section*: a JSON file under
``$BENCH_REPORT_DIR/sections/<key>.json`` (default ``var/bench``) holding rows. A row is
one figure measured **beside its baseline in the same run**, so it holds on a noisy
machine: ``value`` and ``baseline`` in the same unit, ``ratio = value / baseline``. A
row may carry a target (``target`` in words, ``met`` true or false) and a note saying
why a target is missed. bench/run.py gathers the sections into ``report.json`` and
``report.md`` and prints the Markdown.

    from bench.report import Row, write_section
    write_section("tools_search", "Tools search", rows, notes=["..."])
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    name: str  # what was measured, in words ("API tools list, 50k tools")
    value: float
    unit: str  # "ms", "s", "req/s", "queries", "x" ...
    baseline: float | None = None  # the same-run baseline, same unit
    baseline_name: str = ""  # what the baseline is ("bare JsonResponse view")
    target: str = ""  # "<= 20 ms", ">= 0.8x bare" ...
    met: bool | None = None  # None when the row has no target
    note: str = ""  # why a target is missed, or what the figure means
    extra: dict = field(default_factory=dict)  # anything else (p50/p95/p99, counts)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


def growth_per_10x(small_n: float, small_t: float, large_n: float, large_t: float) -> float:
    """How many times a cost grows per 10x more rows, from two measurements:
    (t2/t1) ** (1 / log10(n2/n1)). 1.0 is flat; 10.0 is linear."""
    if small_t <= 0 or large_n <= small_n:
        return float("nan")
    return (large_t / small_t) ** (1 / math.log10(large_n / small_n))


def load_note() -> str:
    """The machine's load when a section ends: other processes slow every figure, its
    same-run baseline too, so ratios hold better than absolute times on a busy machine."""
    one, five, _ = os.getloadavg()
    return f"Load average at the end: {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores."


def report_dir() -> Path:
    path = Path(os.environ.get("BENCH_REPORT_DIR") or ROOT / "var" / "bench")
    (path / "sections").mkdir(parents=True, exist_ok=True)
    return path


def write_section(
    key: str, title: str, rows: list[Row], *, notes: list[str] = (), elapsed_s: float | None = None
) -> Path:
    """Write one section for bench/run.py to gather; returns its path."""
    data = {
        "key": key,
        "title": title,
        "rows": [r.as_dict() for r in rows],
        "notes": list(notes),
        "elapsed_s": elapsed_s,
    }
    path = report_dir() / "sections" / f"{key}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def machine() -> dict:
    """The machine the figures were measured on."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            info["memory_gib"] = round(kb / 1024 / 1024, 1)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    return info


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if abs(v) >= 0.1 else f"{v:.3f}"


def render_markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# p2pcommons benchmark report",
        "",
        f"Commit {m.get('commit', '?')}, {report.get('started_at', '')}; {m.get('cpu', '?')}, {m.get('cpus')} cores, "
        f"{m.get('memory_gib', '?')} GiB, Python {m.get('python')}, {report.get('database', '')}.",
        f"Total time {report.get('elapsed_s', 0) / 60:.1f} min. "
        "Every figure beside a baseline measured in the same run.",
        "",
    ]
    missed = [(s["title"], r) for s in report["sections"] for r in s.get("rows", []) if r.get("met") is False]
    met = sum(1 for s in report["sections"] for r in s.get("rows", []) if r.get("met") is True)
    lines += [f"Targets: {met} met, {len(missed)} missed.", ""]
    for title, r in missed:
        lines.append(
            f"- MISSED ({title}) {r['name']}: {_fmt(r['value'])} {r['unit']}, target {r['target']}. {r['note']}"
        )
    if missed:
        lines.append("")
    for s in report["sections"]:
        lines += [f"## {s['title']}", ""]
        if s.get("error"):
            lines += [f"**Did not complete:** {s['error']}", ""]
        rows = s.get("rows", [])
        if rows:
            lines.append("| Measured | Value | Baseline | Ratio | Target | Met | Note |")
            lines.append("|---|---:|---|---:|---|:-:|---|")
            for r in rows:
                base = f"{_fmt(r.get('baseline'))} ({r['baseline_name']})" if r.get("baseline") is not None else "-"
                met_mark = {True: "yes", False: "**no**", None: ""}[r.get("met")]
                lines.append(
                    f"| {r['name']} | {_fmt(r['value'])} {r['unit']} | {base} | {_fmt(r.get('ratio'))} | "
                    f"{r.get('target', '')} | {met_mark} | {r.get('note', '')} |"
                )
            lines.append("")
        for note in s.get("notes", []):
            lines.append(f"- {note}")
        if s.get("notes"):
            lines.append("")
        if s.get("elapsed_s") is not None:
            lines += [f"_{s['elapsed_s']:.0f} s_", ""]
    return "\n".join(lines)
