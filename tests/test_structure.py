"""The shape of the code, checked from its source: the core apps import each other
without cycles, no module grows past ~600 lines, and only ``apps.peers`` queries
memberships (every other app asks its selectors and guards).

Each check has an explicit list of today's known exceptions, so it passes now and fails
for any new one; an exception that no longer holds fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_APPS = ("peers", "ledger", "reputation", "moderation", "notifications")
MAX_LINES = 600

# Module-level imports that still close a cycle between core apps, as (file, imported
# app). Each goes once its file is reworked; then delete it here.
ALLOWED_UNTIL_API_REWORK: set[tuple[str, str]] = set()
ALLOWED_EDGES = ALLOWED_UNTIL_API_REWORK

# Modules past MAX_LINES today, with their length: they may shrink, not grow; split them.
KNOWN_LONG: dict[str, int] = {}

# Files outside apps/peers that still query Membership themselves, with how many times.
KNOWN_MEMBERSHIP_QUERIES: dict[str, int] = {}


def _sources(*folders: str) -> list[Path]:
    """The .py files under ``folders`` (relative to the project), migrations left out."""
    files = []
    for folder in folders:
        files += [p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(path: Path) -> list[str]:
    """The absolute names a module imports when it is loaded: its top level, class bodies
    and module-level ``if``/``try`` blocks; not function bodies (imported when called)
    nor ``if TYPE_CHECKING:`` blocks (never imported at run time)."""
    package = list(path.relative_to(ROOT).parent.parts)  # what a relative import starts from
    names: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                names.append(module)
                names.extend(f"{module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return names


def _core_edges() -> dict[tuple[str, str], set[str]]:
    """(importing app, imported app) -> the files that make the edge, between core apps."""
    edges: dict[tuple[str, str], set[str]] = {}
    for app in CORE_APPS:
        for path in _sources(f"apps/{app}"):
            for name in _module_level_imports(path):
                parts = name.split(".")
                if len(parts) < 2 or parts[0] != "apps" or parts[1] not in CORE_APPS or parts[1] == app:
                    continue
                if (_rel(path), parts[1]) not in ALLOWED_EDGES:
                    edges.setdefault((app, parts[1]), set()).add(_rel(path))
    return edges


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Each elementary cycle once, as the apps along it (a small graph: plain DFS)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                i = path.index(min(path))
                found.add(tuple(path[i:] + path[:i]))
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return [list(cycle) for cycle in sorted(found)]


def test_the_core_apps_import_each_other_without_cycles():
    edges = _core_edges()
    cycles = _cycles(set(edges))
    described = []
    for cycle in cycles:
        steps = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        by = "; ".join(f"{a}->{b} by {', '.join(sorted(edges[a, b]))}" for a, b in steps)
        described.append(f"{' -> '.join([*cycle, cycle[0]])}: {by}")
    assert not cycles, "Import cycles between core apps (move the shared piece down, or import it where used):\n" + (
        "\n".join(described)
    )


def test_the_import_cycles_still_allowed_still_exist():
    stale = []
    for file, app in sorted(ALLOWED_EDGES):
        names = _module_level_imports(ROOT / file) if (ROOT / file).exists() else []
        if not any(name.split(".")[:2] == ["apps", app] for name in names):
            stale.append(f"{file} -> apps.{app}")
    assert not stale, f"These no longer import across: remove them from the allowed edges: {stale}"


def test_the_cycle_finder_finds_a_cycle_through_three_apps():
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")}) == [["a", "b", "c"]]
    assert _cycles({("a", "b"), ("b", "c")}) == []


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_grows_past_600_lines():
    too_long = {}
    for path in _sources("apps", "p2pcommons"):
        rel, length = _rel(path), _lines(path)
        if length > MAX_LINES and length > KNOWN_LONG.get(rel, 0):
            too_long[rel] = length
    assert not too_long, f"Split these modules by topic (at most {MAX_LINES} lines): {too_long}"


def test_the_known_long_modules_are_still_long():
    shorter = {rel: _lines(ROOT / rel) if (ROOT / rel).exists() else 0 for rel in KNOWN_LONG}
    done = sorted(rel for rel, length in shorter.items() if length <= MAX_LINES)
    assert not done, f"Split already: remove them from KNOWN_LONG: {done}"


def _membership_queries() -> dict[str, int]:
    found = {}
    for path in _sources("apps", "p2pcommons"):
        rel = _rel(path)
        if rel.startswith("apps/peers/"):
            continue
        count = path.read_text(encoding="utf-8").count("Membership.objects")
        if count:
            found[rel] = count
    return found


def test_only_the_peers_app_queries_memberships():
    found = _membership_queries()
    new = {rel: n for rel, n in found.items() if n > KNOWN_MEMBERSHIP_QUERIES.get(rel, 0)}
    assert not new, (
        "Ask apps.peers.selectors or apps.peers.guards (active_community_ids, is_active_member, "
        f"is_organizer, organizers_of, require_active_member, require_organizer) instead: {new}"
    )


def test_the_known_membership_queries_are_still_there():
    found = _membership_queries()
    gone = sorted(rel for rel, n in KNOWN_MEMBERSHIP_QUERIES.items() if found.get(rel, 0) < n)
    assert not gone, f"Fewer direct Membership queries now: lower or remove their entries: {gone}"
