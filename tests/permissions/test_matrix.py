"""Issue 18: the permission matrix, generated from the code. Every API route and method,
every page, visited by every persona; the answer must be the letter table.py's rule gives
(rules.py), a refused write must leave its subject row as it was, and no answer may carry
another person's email, phone or exact address."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests import reliability

from . import fences as fences_module
from .endpoints import api_cells, page_names
from .rules import expand
from .table import API, ENTRIES, PAGES
from .visit import leaks, url_of, visit
from .world import PERSONAS, World, secrets_of

pytestmark = pytest.mark.django_db

OBSERVE = os.environ.get("PERMISSIONS_OBSERVE")
TALLY: Counter = Counter()


def test_every_endpoint_has_an_entry():
    listed_api = {(e.name, e.method) for e in API}
    listed_pages = {e.name for e in PAGES}
    missing_api = api_cells() - listed_api
    assert not missing_api, f"API routes and methods without an entry in tests/permissions/table.py: {missing_api}"
    missing_pages = page_names() - listed_pages - {e.name for e in API}
    assert not missing_pages, f"pages without an entry in tests/permissions/table.py: {missing_pages}"
    served = api_cells() | {(name, "GET") for name in page_names()}
    stale = listed_api - served
    assert not stale, f"entries for routes the code no longer serves: {stale}"
    keys = [e.key for e in ENTRIES]
    assert len(keys) == len(set(keys)), "an entry is listed twice"


@pytest.fixture(scope="module")
def fences(world, django_db_blocker):
    with django_db_blocker.unblock():
        return fences_module.build(world)


reliability_line = reliability.summary_fixture(
    "permission-matrix",
    lambda: (
        f"endpoints={len(ENTRIES)} personas={len(PERSONAS)} cells={TALLY['cells']} lists={TALLY['lists']} "
        f"scans={TALLY['scans']} refused-writes-unchanged={TALLY['unchanged']}"
    ),
)


def handoff(world: World, persona: str, entry) -> frozenset[str]:
    """The one exception DESIGN.md makes: the borrower of a loan that has started (the
    counterpart's picked-up loan) reads its owner's address and phone until it is returned:
    on that loan's own endpoints and on lists and dashboards that show it, never on another
    subject's (the requested loan's page must not carry them)."""
    if persona != "counterpart" or entry.subject not in (None, "loan_picked_up"):
        return frozenset()
    _, phone, address = secrets_of(world.people["owner"])
    return frozenset({phone, address})


def _cases(entries):
    """Each entry a case; an entry naming a bug is expected to fail until it is fixed."""
    return [
        pytest.param(e, id=e.key, marks=[pytest.mark.xfail(strict=True, reason=e.bug)] if e.bug else [])
        for e in entries
    ]


@pytest.mark.parametrize("entry", _cases(ENTRIES))
def test_each_persona_gets_the_answer_the_table_gives(entry, world, clients, fences):
    expected = expand(entry.rule)
    wrong, changed, leaked, foreign, seen = [], [], [], [], ""
    url = url_of(entry, world)
    for persona in PERSONAS:
        if entry.visit_as and persona not in entry.visit_as:
            seen += "-"
            continue
        got = visit(clients[persona], entry, world, persona, url)
        seen += got.letter[0] if len(got.letter) == 1 else "E"
        TALLY["cells"] += 1
        if OBSERVE and (got.letter not in "OLDHRAM" or got.letter == "V"):
            with open(OBSERVE + ".detail", "a") as out:
                out.write(got.describe()[:400] + "\n")
        want = expected[persona]
        if got.status >= 500:
            wrong.append(f"a server error: {got.describe()}")
        elif want != "?" and got.letter != want:
            wrong.append(f"want {want}: {got.describe()}")
        if got.letter != "O" and entry.method != "GET" and entry.subject:
            TALLY["unchanged"] += 1
            if got.changed:
                changed.append(f"{got.describe()}\n   changed {got.changed}")
        if entry.method == "GET" and got.letter == "O":
            TALLY["lists"] += 1
            rows = fences_module.foreign_rows(got.body, url, fences_module.forbidden(fences, world, persona))
            if rows:
                foreign.append(f"{got.describe()}\n   rows of another community: {sorted(rows)}")
        found = leaks(got.body, world.people[persona], world.users, allowed=handoff(world, persona, entry))
        TALLY["scans"] += 1
        if found:
            leaked.append(f"{got.describe()}\n   leaks {found}")
    if OBSERVE:
        with open(OBSERVE, "a") as out:
            out.write(f"{entry.key:55} {seen}  {entry.rule}\n")
    assert not leaked, "private data of other people in the answer:\n" + "\n".join(leaked)
    assert not changed, "a refused write changed its subject:\n" + "\n".join(changed)
    assert not foreign, "rows the persona may not see:\n" + "\n".join(foreign)
    assert not wrong, "\n".join(wrong)


def test_the_scans_see_private_data_and_foreign_rows_where_they_are(world, clients, fences):
    """The scans are not vacuous: the owner's own settings page carries their phone and
    address (read as someone else, the scan flags them), and the outsider's tool list
    carries riverside's tool (read as a sunnyside member, the fence flags it)."""
    own = clients["owner"].get("/me/").content.decode()
    assert leaks(own, None, [world.people["owner"]]), "the secrets scan did not find the owner's data on their page"
    assert not leaks(own, world.people["owner"], [world.people["owner"]])
    riverside = clients["outsider"].get("/api/v1/tools/").content.decode()
    rows = fences_module.foreign_rows(riverside, "/api/v1/tools/", fences_module.forbidden(fences, world, "owner"))
    assert f"tools.Tool {world.b.subjects['tool'].pk}" in rows
    page = clients["outsider"].get("/tools/").content.decode()
    rows = fences_module.foreign_rows(page, "/tools/", fences_module.forbidden(fences, world, "owner"))
    assert f"tools.Tool {world.b.subjects['tool'].pk}" in rows


def test_the_coverage_check_fails_for_an_endpoint_without_an_entry(monkeypatch):
    """The guard itself: drop one API entry and one page entry, and it names them."""
    import sys

    module, api, pages = sys.modules[__name__], API, PAGES
    monkeypatch.setattr(module, "API", [e for e in api if e.name != "tool-detail"])
    with pytest.raises(AssertionError, match="tool-detail"):
        test_every_endpoint_has_an_entry()
    monkeypatch.setattr(module, "API", api)
    monkeypatch.setattr(module, "PAGES", [e for e in pages if e.name != "tools:edit"])
    with pytest.raises(AssertionError, match="tools:edit"):
        test_every_endpoint_has_an_entry()
