"""Issue 18: the admin's part of the permission matrix. Every ModelAdmin registered, its
changelist, add, change and delete views (GET: the delete view's GET is its confirmation
page, refused without the delete permission), visited by every persona; the answer must
be the letter table.ADMIN's rule gives. Where the rule refuses, the change form is also
submitted and the deletion confirmed (POST): the row must stay as it was. An organizer
sees their own community's rows only (another community's row is "not found", DESIGN.md
invariant 5), and no page shows a person's private data to anyone but the superuser."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from django.urls import reverse

from tests import reliability

from .endpoints import admin_models
from .rules import expand
from .table import ADMIN, ADMIN_VIEWS
from .visit import leaks, letter, rolled_back, snapshot
from .world import PERSONAS, World

pytestmark = pytest.mark.django_db

OBSERVE = os.environ.get("PERMISSIONS_OBSERVE")
TALLY: Counter = Counter()


reliability_line = reliability.summary_fixture(
    "permission-matrix-admin",
    lambda: (
        f"model-admins={len(ADMIN)} views={TALLY['views']} personas={len(PERSONAS)} cells={TALLY['cells']} "
        f"refused-posts-unchanged={TALLY['refused-posts']} scans={TALLY['scans']} no-row={TALLY['no-row']}"
    ),
)


def test_every_model_admin_has_an_entry():
    registered = set(admin_models())
    assert not registered - set(ADMIN), (
        f"ModelAdmins without an entry in tests/permissions/table.py ADMIN: {registered - set(ADMIN)}"
    )
    assert not set(ADMIN) - registered, f"ADMIN entries for models no longer registered: {set(ADMIN) - registered}"


def subject_of(label: str, world: World):
    """A row of community A for a scoped admin (its ``community_path``), else any row."""
    model_admin = admin_models()[label]
    rows = model_admin.model._base_manager.order_by("pk")
    path = getattr(model_admin, "community_path", None)
    if path is not None:
        rows = rows.filter(**{path or "pk": world.a.community.pk})
    return rows.first()


def admin_url(label: str, view: str, obj) -> str | None:
    app, model = label.lower().split(".")
    if view in ("changelist", "add"):
        return reverse(f"admin:{app}_{model}_{view}")
    return None if obj is None else reverse(f"admin:{app}_{model}_{view}", args=[obj.pk])


def _post_refused(client, url: str, view: str, obj) -> str:
    """Submit the change form (empty) or confirm the deletion as a persona the admin
    refuses: the row must be there, unchanged, afterwards. Returns what went wrong."""
    with rolled_back():
        before = snapshot(obj)
        response = client.post(url, {"post": "yes"} if view == "delete" else {})
        after = snapshot(obj)
    if response.status_code < 300 or response.status_code >= 500:
        return f"answered {response.status_code}"
    return "" if before == after else f"the row changed: {before} -> {after}"


@pytest.mark.parametrize("label", sorted(ADMIN))
def test_each_persona_gets_the_admin_answer_the_table_gives(label, world, clients):
    obj = subject_of(label, world)
    wrong, leaked, seen = [], [], []
    for view in ADMIN_VIEWS:
        url = admin_url(label, view, obj)
        if url is None:
            seen.append(f"{view}:-")
            TALLY["no-row"] += 1
            continue
        TALLY["views"] += 1
        expected = expand(ADMIN[label][view])
        row = ""
        for persona in PERSONAS:
            with rolled_back():
                response = clients[persona].get(url)
                body = response.content.decode("utf-8", "replace")
            got = letter(response.status_code, response, api=False, anonymous=persona == "anonymous")
            row += got if len(got) == 1 else "E"
            TALLY["cells"] += 1
            if expected[persona] != "?" and got != expected[persona]:
                wrong.append(f"{view} as {persona}: want {expected[persona]}, got {response.status_code} ({got}) {url}")
            if view in ("change", "delete") and expected[persona] != "O":
                refused_post = _post_refused(clients[persona], url, view, obj)
                TALLY["refused-posts"] += 1
                if refused_post:
                    wrong.append(f"{view} POST as {persona}: {refused_post}")
            if persona != "superuser":
                TALLY["scans"] += 1
                found = leaks(body, world.people[persona], world.users)
                if found:
                    leaked.append(f"{view} as {persona} {url}: {found}")
        seen.append(f"{view}:{row}")
    if OBSERVE:
        with open(OBSERVE + ".admin", "a") as out:
            out.write(f"{label:35} {' '.join(seen)}\n")
    assert not leaked, "private data in the admin:\n" + "\n".join(leaked)
    assert not wrong, "\n".join(wrong)


def test_the_coverage_check_fails_for_a_model_admin_without_an_entry(monkeypatch):
    """The guard itself: drop one ModelAdmin's entry, and it names it."""
    import sys

    monkeypatch.setattr(sys.modules[__name__], "ADMIN", {k: v for k, v in ADMIN.items() if k != "tools.Tool"})
    with pytest.raises(AssertionError, match=r"tools\.Tool"):
        test_every_model_admin_has_an_entry()
