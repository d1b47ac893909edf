"""Visiting one cell: a persona's request to one endpoint, inside a savepoint rolled back
afterwards (every persona meets the same rows), its answer read as one rule letter, the
subject row compared before and after a refused write, and the body scanned for what
the persona must not read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from apps.peers.models import User

from .endpoints import route
from .table import Entry
from .world import World, secrets_of


@dataclass
class Visit:
    """What one persona got from one endpoint."""

    entry: Entry
    persona: str
    url: str
    status: int
    letter: str
    body: str
    changed: str = ""

    def describe(self) -> str:
        return f"{self.entry.key} as {self.persona}: {self.status} ({self.letter}) {self.url} {self.body[:160]!r}"


def url_of(entry: Entry, world: World) -> str:
    """The entry's address: ``pk`` is its subject's, other path parameters come from ``kw``."""
    kwargs: dict[str, Any] = {}
    for name in route(entry.name).kwargs:
        if name == "format":
            continue
        if name in entry.kw:
            value = entry.kw[name]
            kwargs[name] = value(world) if callable(value) else value
        elif name == "pk":
            kwargs[name] = world.subject(entry.subject).pk
        else:
            raise KeyError(f"{entry.key}: no value for path parameter {name!r}")
    url = reverse(entry.name, kwargs=kwargs)
    return f"{url}?{entry.query.format(a=world.a.community.pk)}" if entry.query else url


def letter(status: int, response: HttpResponse, *, api: bool, anonymous: bool) -> str:
    """The rule letter an answer stands for (rules.py)."""
    if 200 <= status < 300:
        return "O"
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        if location.startswith("/admin/login/"):
            return "A"
        if location == "/admin/":
            return "H"  # the admin's answer to a row it does not show: back to its index
        if location.startswith((settings.LOGIN_URL, "/accounts/login")):
            return "L"
        return "O"
    if status == 401 or (status == 403 and api and anonymous):
        return "L"
    return {403: "D", 404: "H", 409: "R", 400: "V", 405: "M"}.get(status, f"<{status}>")


def _refused_with_a_message(response: HttpResponse) -> bool:
    """A page refuses a rule with an error message and a redirect (p2pcommons/viewkit.py's
    ``attempt``), not an error status: read the messages the request queued."""
    storage = getattr(getattr(response, "wsgi_request", None), "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return any(message.level >= messages.ERROR for message in queued)


def _read(response: HttpResponse) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def snapshot(obj: Any) -> dict | None:
    """The subject's row as the database holds it now."""
    if obj is None:
        return None
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone afterwards: the next persona meets the same rows."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def visit(client: Client, entry: Entry, world: World, persona: str, url: str) -> Visit:
    """One request as ``persona``; the client's cookies are put back afterwards (a view
    may log out or cycle the session; the savepoint restores the rows, not the cookie)."""
    api = url.startswith("/api/")
    body = entry.body(world) if callable(entry.body) else entry.body
    cookies = deepcopy(client.cookies)
    subject = world.subject(entry.subject) if entry.subject else None
    with rolled_back():
        before = snapshot(subject) if entry.method != "GET" else None
        if entry.method == "GET":
            response = client.get(url)
        elif isinstance(body, dict) and body.get("__multipart__"):
            response = client.post(url, {k: v for k, v in body.items() if k != "__multipart__"})
        elif api:
            headers = entry.headers
            response = client.generic(
                entry.method,
                url,
                json.dumps(body if body is not None else {}),
                content_type="application/json",
                headers=headers,
            )
        else:
            response = client.generic(
                entry.method, url, _form(body or {}), content_type="application/x-www-form-urlencoded"
            )
        text = _read(response)
        if response.status_code >= 500 and getattr(response, "exc_info", None):
            text = f"{response.exc_info[0].__name__}: {response.exc_info[1]} " + text
        found = letter(response.status_code, response, api=api, anonymous=persona == "anonymous")
        if found == "O" and not api and _refused_with_a_message(response):
            found = "R"
        elif found == "O" and not api and entry.method == "POST" and response.status_code == 200:
            found = "F"
        after = snapshot(subject) if entry.method != "GET" else None
    client.cookies = cookies
    changed = "" if before == after else f"{before} -> {after}"
    return Visit(entry, persona, url, response.status_code, found, text, changed)


def _form(body: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(body, doseq=True)


MARKERS = ("secret-email-", "Verborgenstraat", "+31 6 7", "&#x2B;31 6 7", "\\u002b31 6 7")


def leaks(text: str, viewer: User | None, users: list[User], allowed: frozenset[str] = frozenset()) -> list[str]:
    """The private strings of other people found in ``text`` (but those ``allowed``)."""
    found: list[str] = []
    if not any(marker in text for marker in MARKERS):
        return found
    for user in users:
        if viewer is not None and user.pk == viewer.pk:
            continue
        for secret in secrets_of(user):
            if secret in allowed:
                continue
            if secret in text or secret.replace("+", "&#x2B;") in text or json.dumps(secret)[1:-1] in text:
                found.append(f"{secret} (of {user.profile.display_name})")
    return found


def hrefs(text: str, urls: dict[str, str]) -> list[str]:
    """Which of ``urls`` (url -> label) the body links to (quoted, or followed by ? or #)."""
    return [label for url, label in urls.items() if re.search(re.escape(url) + r"""["'?#]""", text)]
