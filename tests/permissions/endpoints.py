"""What the code serves, read from the code: every page of the URL conf, every API route
with each method it answers (list, create, retrieve, update, partial_update, destroy and
every @action), and every ModelAdmin registered. The test compares this with table.py, so
a new endpoint without an entry fails there."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

API = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
# Third-party screens with their own tests (allauth's, in tests/peers), and the uploaded
# files (served by the web server in production, only in development by Django).
OUTSIDE = ("accounts/", "_allauth/", "^media/")
ADMIN = "admin/"


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name, route text, and the methods an API view answers."""

    name: str
    route: str
    methods: tuple[str, ...]
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.route.startswith(API)


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, object, URLPattern]]:
    """Every leaf pattern with its full route and namespaced name (as query_budget walks)."""
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            yield route, namespace + (pattern.name or ""), pattern.callback, pattern


def _methods(callback) -> tuple[str, ...]:
    """The methods an API view answers: a viewset's bound actions, or the handlers its
    class defines. Function views (the pages) do not say: ``()``."""
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return tuple(m for m in METHODS if m in actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return tuple(m for m in METHODS if hasattr(view_class, m))
    return ()


@cache
def routes() -> tuple[Route, ...]:
    """Every named site and API route, once (DRF's ``.json`` suffix twins are skipped)."""
    seen: dict[str, Route] = {}
    for route, name, callback, pattern in _walk(get_resolver()):
        if route.startswith(OUTSIDE) or route.startswith(ADMIN) or "(?P<format>" in route or "<drf_format" in route:
            continue
        if not name or name in seen:
            continue
        kwargs = tuple(pattern.pattern.regex.groupindex)
        outer = tuple(k for k in _outer_kwargs(route))
        seen[name] = Route(
            name=name, route=route, methods=_methods(callback), kwargs=tuple(dict.fromkeys(outer + kwargs))
        )
    return tuple(seen.values())


def _outer_kwargs(route: str) -> list[str]:
    """Path parameters of the including patterns (``<slug:slug>`` before an include)."""
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def api_cells() -> set[tuple[str, str]]:
    """``(route name, METHOD)`` for every API route and method it answers."""
    return {(r.name, m.upper()) for r in routes() if r.is_api for m in r.methods}


def page_names() -> set[str]:
    return {r.name for r in routes() if not r.is_api}


def admin_models() -> dict[str, admin.ModelAdmin]:
    """``app_label.Model`` -> its ModelAdmin, for every model registered in the admin."""
    return {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


def route(name: str) -> Route:
    return {candidate.name: candidate for candidate in routes()}[name]
