"""Reads of cross-exchange suggestions, as their member may still use them.

A suggestion is shown only while it still holds: not dismissed, its target still there
and visible to the member (a tool hidden or paused since, an offer closed or expired
drops out), and its source still open (a skill request closed, a waitlist window no
longer waited for, a co-design task done or past its day, a solar nudge older than a
day or answered by a standing order since). The checks read the exchanges' own
selectors, one query per kind of key present, so a list costs a fixed number of
queries whatever its length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.peers.models import User

from .models import Suggestion
from .suggestions import PRODUCER_COOLDOWN, key_of

DEFAULT_LIMIT = 5
# Read a few more rows than shown, so that stale ones dropped still leave a full list.
OVERFETCH = 3


def _split(keys: Iterable[str]) -> dict[str, set[int | str]]:
    """{"tools.tool": {5, 7}, ...} from "tools.tool:5" keys (non-numeric ids kept as text)."""
    found: dict[str, set] = defaultdict(set)
    for key in keys:
        kind, _, ident = key.partition(":")
        found[kind].add(int(ident) if ident.isdigit() else ident)
    return found


def _visible_targets(user: User, kinds: dict[str, set]) -> set[str]:
    """The target keys among ``kinds`` that ``user`` may still open and use."""
    live: set[str] = set()
    if ids := kinds.get("tools.tool"):
        from apps.tools.selectors import tools_search

        found = tools_search(user=user).filter(pk__in=ids).prefetch_related(None).values_list("pk", flat=True)
        live |= {f"tools.tool:{pk}" for pk in found}
    if ids := kinds.get("skills.offer"):
        from apps.skills.models import Offer
        from apps.skills.selectors import listings_search

        found = listings_search(model=Offer, user=user).filter(pk__in=ids).prefetch_related(None)
        live |= {f"skills.offer:{pk}" for pk in found.values_list("pk", flat=True)}
    if "new" in kinds.get("solar.standingorder", ()):
        live.add("solar.standingorder:new")
    return live


def _open_sources(user: User, kinds: dict[str, set], now: datetime) -> set[str]:
    """The source keys among ``kinds`` whose need is still there for ``user``."""
    live: set[str] = set()
    if ids := kinds.get("skills.request"):
        from apps.skills.models import Request

        found = Request.objects.filter(
            pk__in=ids, member=user, status=Request.Status.OPEN, expires_at__gt=now, is_hidden=False
        ).values_list("pk", flat=True)
        live |= {f"skills.request:{pk}" for pk in found}
    if ids := kinds.get("tools.waitlistentry"):
        from apps.tools.models import WaitlistEntry

        found = WaitlistEntry.objects.filter(
            pk__in=ids, member=user, status=WaitlistEntry.Status.WAITING, ends_at__gt=now
        ).values_list("pk", flat=True)
        live |= {f"tools.waitlistentry:{pk}" for pk in found}
    if ids := kinds.get("codesign.task"):
        from apps.codesign.models import Task

        found = (
            Task.objects.filter(pk__in=ids, status=Task.Status.OPEN, tool__isnull=False)
            .filter(Q(date__isnull=True) | Q(date__gte=timezone.localdate()))
            .values_list("pk", flat=True)
        )
        live |= {f"codesign.task:{pk}" for pk in found}
    if ids := kinds.get("solar.slot"):
        from apps.solar.models import StandingOrder

        sells_already = StandingOrder.objects.filter(
            member=user, side=StandingOrder.Side.SELL, status=StandingOrder.Status.ACTIVE
        ).exists()
        if not sells_already:
            live |= {f"solar.slot:{pk}" for pk in ids}
    return live


def _still_holding(user: User, rows: list[Suggestion], limit: int) -> list[Suggestion]:
    now = timezone.now()
    targets = _visible_targets(user, _split(row.target_key for row in rows))
    sources = _open_sources(user, _split(row.source_key for row in rows), now)
    kept = [
        row
        for row in rows
        if row.target_key in targets
        and row.source_key in sources
        and not (row.pair == Suggestion.Pair.UNFILLED_BUYS_PRODUCER and row.created_at <= now - PRODUCER_COOLDOWN)
    ]
    return kept[:limit]


def suggestions_for(user: User, *, source_key: str | None = None, limit: int = DEFAULT_LIMIT) -> list[Suggestion]:
    """The member's suggestions still worth showing, newest first (at most ``limit``),
    all of them or those about one source (``"skills.request:12"``). A fixed number of
    queries: one for the rows, one per kind of source and target among them."""
    if not user.is_authenticated:
        return []
    rows = Suggestion.objects.filter(user=user, dismissed_at__isnull=True)
    if source_key is not None:
        rows = rows.filter(source_key=source_key)
    return _still_holding(user, list(rows.order_by("-created_at", "-id")[: limit * OVERFETCH]), limit)


def source_keys_of(source: models.Model | Iterable[models.Model]) -> list[str]:
    """The source keys a page's object stands for: a skill request, a waitlist entry or a
    co-design task is itself a source; a list of them (a page of waitlist entries) is
    theirs; a co-design challenge stands for its tasks (one query)."""
    if isinstance(source, models.Model):
        from apps.codesign.models import Challenge, Task

        if isinstance(source, Challenge):
            ids = Task.objects.filter(project__challenge=source).values_list("pk", flat=True)
            return [f"codesign.task:{pk}" for pk in ids]
        return [key_of(source)]
    return [key_of(obj) for obj in source if isinstance(obj, models.Model)]


def suggestions_about(
    user: User, source: models.Model | Iterable[models.Model], *, limit: int = DEFAULT_LIMIT
) -> list[Suggestion]:
    """The member's suggestions (still holding, newest first) about what a page shows:
    ``source`` as ``source_keys_of`` reads it."""
    if not user.is_authenticated:
        return []
    keys = source_keys_of(source)
    if not keys:
        return []
    rows = Suggestion.objects.filter(user=user, dismissed_at__isnull=True, source_key__in=keys)
    return _still_holding(user, list(rows.order_by("-created_at", "-id")[: limit * OVERFETCH]), limit)
