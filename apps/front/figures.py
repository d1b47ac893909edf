"""The live figures on the blueprint cards, cached.

Counting tools or summing a month of trades on every visit to the home page would cost
one aggregate query per blueprint per visitor; the figures are cached instead, under a
generation number that any save or delete of a blueprint's ``figure_models`` bumps (and
that expires after ``FIGURE_TTL`` seconds anyway, so month boundaries and time-based
changes show within minutes). A cached home page runs no figure queries.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.peers.blueprints import Figure, all_blueprints

FIGURE_TTL = 300
_GENERATION_KEY = "front:figures:generation"


def _generation() -> int:
    return cache.get_or_set(_GENERATION_KEY, 1, timeout=None)


def generation() -> int:
    """The figures' current generation: pages that show the figures (apps.front.page_cache)
    key their cached copies by it, so a change that bumps it drops those copies too."""
    return _generation()


def invalidate(**kwargs) -> None:
    """Drop the cached figures (after the change commits, so no reader caches the
    figures from before it)."""

    def bump() -> None:
        try:
            cache.incr(_GENERATION_KEY)
        except ValueError:  # not set yet (or evicted): the next read starts a new one
            cache.set(_GENERATION_KEY, 2, timeout=None)

    transaction.on_commit(bump)


def figures() -> dict[str, Figure]:
    """Each blueprint's live figure, by key: from the cache, or counted and cached."""
    key = f"front:figures:{_generation()}"
    found = cache.get(key)
    if found is None:
        found = {bp.key: bp.figure() for bp in all_blueprints()}
        cache.set(key, found, timeout=FIGURE_TTL)
    return found


def connect_invalidation() -> None:
    """Listen to every blueprint's ``figure_models`` (called from ``ready()``, after the
    exchanges registered their blueprints: ``apps.front`` is installed after them)."""
    for bp in all_blueprints():
        for model in bp.figure_models:
            post_save.connect(invalidate, sender=model, dispatch_uid=f"front-figures-save-{model._meta.label}")
            post_delete.connect(invalidate, sender=model, dispatch_uid=f"front-figures-delete-{model._meta.label}")
