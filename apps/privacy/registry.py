"""What each app holds about a member, declared once in the app itself.

``apps/<app>/personal_data.py`` registers an exporter::

    register_exporter("tools", export)        # export(user) -> {"tools": [row, ...], ...}

``apps/<app>/erasure.py`` registers what deleting an account does there::

    register_eraser("tools", cancel=cancel_open, erase=erase)
    # cancel_open(user) -> int   cancels open commitments (the other parties are told)
    # erase(user, pseudonym) -> None   removes or blanks personal data, keeps records

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


_EXPORTERS: dict[str, Exporter] = {}
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


def exporters() -> list[Exporter]:
    return [_EXPORTERS[k] for k in sorted(_EXPORTERS)]


def erasers() -> list[Eraser]:
    return sorted(_ERASERS.values(), key=lambda e: (e.order, e.app))
