"""What each app holds about a member, declared once in the app itself.

``apps/<app>/personal_data.py`` registers an exporter::

    register_exporter("tools", export)        # export(user) -> {"tools": [row, ...], ...}

``apps/<app>/erasure.py`` registers what deleting an account does there::

    register_eraser("tools", cancel=cancel_open, erase=erase)
    # cancel_open(user) -> int   cancels open commitments (the other parties are told)
    # erase(user, pseudonym) -> None   removes or blanks personal data, keeps records

and, to take listings in again when a member moves house from another server, an
importer for the listing kinds it owns::

    register_importer("tools", kinds=("tool",), create=create)
    # create(*, user, community, item: ImportItem, paused: bool) -> the object it made
    # (through the app's own services; ValidationError / RuleViolation if it may not)

Both modules are imported by ``apps.privacy`` at start-up (``autodiscover_modules``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Exporter:
    app: str
    export: Callable[[Any], Rows]


@dataclass(frozen=True)
class Eraser:
    app: str
    cancel: Callable[[Any], int] | None
    erase: Callable[[Any, str], None] | None
    order: int = 100


@dataclass(frozen=True)
class ImportItem:
    """One listing read from a "move house" file, checked and cleaned: ``fields`` is the
    Proposal as ``apps.federation.vocab.ProposalFields`` (plain text, limits applied),
    ``extra`` the p2pcommons terms it carried, validated (``condition``,
    ``usage_rules``, ``max_loan_days``, ``remote_ok``, ``wanted_from``,
    ``wanted_until``, ``estimated_hours``; each present only when given and valid)."""

    source: str
    kind: str
    fields: Any
    extra: dict[str, Any]


@dataclass(frozen=True)
class Importer:
    app: str
    kinds: tuple[str, ...]
    create: Callable[..., Any]


_EXPORTERS: dict[str, Exporter] = {}
_IMPORTERS: dict[str, Importer] = {}
_ERASERS: dict[str, Eraser] = {}


def register_exporter(app: str, export: Callable[[Any], Rows]) -> None:
    _EXPORTERS[app] = Exporter(app, export)


def register_eraser(
    app: str,
    *,
    cancel: Callable[[Any], int] | None = None,
    erase: Callable[[Any, str], None] | None = None,
    order: int = 100,
) -> None:
    """``order``: erasers run in ascending order (the core apps, peers last)."""
    _ERASERS[app] = Eraser(app, cancel, erase, order)


def register_importer(app: str, *, kinds: tuple[str, ...], create: Callable[..., Any]) -> None:
    """``create(*, user, community, item, paused)`` makes one listing of a kind in
    ``kinds`` for ``user`` in ``community`` and returns it (a model instance)."""
    for kind in kinds:
        owner = _IMPORTERS.get(kind)
        if owner is not None and owner.app != app:
            raise ValueError(f"listing kind {kind!r} is imported by both {owner.app} and {app}")
        _IMPORTERS[kind] = Importer(app, tuple(kinds), create)


def importer_for(kind: str) -> Importer | None:
    return _IMPORTERS.get(kind)


def exporters() -> list[Exporter]:
    return [_EXPORTERS[k] for k in sorted(_EXPORTERS)]


def erasers() -> list[Eraser]:
    return sorted(_ERASERS.values(), key=lambda e: (e.order, e.app))
