"""Every page and list endpoint runs a fixed number of queries, whatever its rows: the
same at 1 and 50 rows with distinct owners and counterparties, pinned, the same with the
browser's session cookie and the app's ``X-Session-Token``, and at most seven for an API
list (issue 17). The table is entries.py; the URL conf and the API router are walked so a
new page or endpoint without an entry fails here."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from apps.peers.factories import DEFAULT_PASSWORD
from tests.querycount import count_queries

from . import rows
from .entries import API_LIST_BUDGET, ENTRIES, NOT_PAGES, Entry
from .world import World

pytestmark = pytest.mark.django_db

SMALL, LARGE = 1, 50
# Not the site's pages: Django's admin and allauth's own screens (tested by their
# projects and tests/peers), the API schema and docs, static files and the offline shell.
OUTSIDE = ("admin/", "accounts/", "_allauth/", "api/schema/", "api/docs/", "api/redoc/", "^media/")
OUTSIDE_NAMES = {"healthz", "readyz", "service-worker", "offline", ""}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, namespace + (pattern.name or ""), pattern.callback


def _gets(callback) -> bool:
    """Whether a view answers GET: an API view by its actions or methods; a page unless
    it is listed in NOT_PAGES (a function view's decorators do not say)."""
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return "get" in actions
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return any("get" in vars(klass) for klass in view_class.__mro__)
    return True


def site_pages() -> set[str]:
    """The URL names of every page and API endpoint that answers GET."""
    names = set()
    for route, name, callback in _walk(get_resolver()):
        if route.startswith(OUTSIDE) or name in OUTSIDE_NAMES or not _gets(callback):
            continue
        names.add(name)
    return names


def test_every_page_and_list_endpoint_has_a_budget():
    listed = {entry.name for entry in ENTRIES}
    missing = site_pages() - listed - set(NOT_PAGES)
    assert not missing, f"pages and endpoints without a query budget in tests/query_budget/entries.py: {missing}"
    assert not listed & set(NOT_PAGES)
    assert len(listed) == len(ENTRIES), "an entry is listed twice"


def app_token(user) -> str:
    """The session token an app gets from allauth's login, exactly as a phone would."""
    response = Client().post("/_allauth/app/v1/auth/login", content_type="application/json",
                             data=json.dumps({"email": user.email, "password": DEFAULT_PASSWORD}))  # fmt: skip
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def _clients(entry: Entry, user) -> dict[str, Client]:
    """The persona signed in with a session cookie, and for the API also with a token."""
    cookie = APIClient() if _is_api(entry) else Client()
    cookie.force_login(user)
    clients = {"cookie": cookie}
    if _is_api(entry):
        token = APIClient()
        token.credentials(HTTP_X_SESSION_TOKEN=app_token(user))
        clients["token"] = token
    return clients


def _is_api(entry: Entry) -> bool:
    return ":" not in entry.name


def _get(client: Client, url: str):
    """GET the page and read it all: a streamed answer runs its queries while it is read."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, getattr(response, "content", b"")[:300])
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def _measure(clients: dict[str, Client], url: str) -> dict[str, tuple[int, list[str]]]:
    """Each client's queries for one visit, after one uncounted visit: the steady cost, with
    what the page caches (content types, the menu, a verified chain head) already cached."""
    measured = {}
    for how, client in clients.items():
        _get(client, url)
        measured[how] = count_queries(lambda c=client: _get(c, url))
    return measured


def _shown(response) -> int | None:
    """How many rows an API list says it has, where it says so."""
    if not response.streaming and response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "count" in body:
            return body["count"]
    return None


def _assert_budget(entry: Entry, few: dict, many: dict) -> None:
    """Constant in rows for each client, the token no dearer than the cookie, the pinned
    count, and the list budget for the API; each failure shows the SQL."""
    for how in many:
        assert few[how][0] == many[how][0], (
            f"{how}: {few[how][0]} queries with {SMALL} rows, {many[how][0]} with {LARGE}:\n"
            + "\n".join(few[how][1]) + "\n---\n" + "\n".join(many[how][1])
        )  # fmt: skip
    counts = {how: measured[0] for how, measured in many.items()}
    sql = "\n".join(many["cookie"][1])
    assert len(set(counts.values())) == 1, f"the token costs more than the cookie: {counts}\n" + "\n---\n".join(
        "\n".join(many[how][1]) for how in many
    )
    assert counts["cookie"] == entry.queries, f"{entry.name}: pinned {entry.queries}, runs {counts['cookie']}:\n{sql}"
    if _is_api(entry) and entry.is_list:
        assert counts["cookie"] <= API_LIST_BUDGET, f"{entry.name}: {counts['cookie']} queries:\n{sql}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_the_query_count_is_pinned_and_does_not_grow_with_rows(entry: Entry):
    world = World.build()
    if entry.setup is not None:
        world.subject = entry.setup(world)
    clients = _clients(entry, getattr(world, entry.persona))
    url = entry.url(world)
    entry.rows(world, SMALL)
    few = _measure(clients, url)
    entry.rows(world, LARGE - SMALL)
    many = _measure(clients, url)

    _assert_budget(entry, few, many)
    shown = _shown(_get(clients["cookie"], url))
    if shown is not None and entry.is_list and entry.rows is not rows.none:
        assert shown >= LARGE, f"{entry.name} shows {shown} rows of the {LARGE} added: not the persona's rows"
