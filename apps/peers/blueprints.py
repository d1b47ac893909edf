"""Blueprints: the four exchanges as the front door, the dashboard and search see them.

The peer core never imports the apps built on it, so each exchange registers one
``Blueprint`` from its ``AppConfig.ready()`` (in its own ``blueprint.py``): what it is
called and promises, its live figure, and the loaders the member's dashboard, the
activity feed, unified search and the profile call. ``apps.front`` renders them and
knows no exchange by name; a fifth exchange is one more registration.

Every loader runs a fixed number of queries whatever the rows (the dashboard and
search pin their counts) and applies the exchange's own visibility rules (moderation,
membership, privacy) through its selectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from .models import Community, CommunityExchange, Membership, User


@dataclass(frozen=True)
class Figure:
    """A live number for the blueprint's card: ``value`` already formatted for people
    ("1,204", "38.5"), ``label`` what it counts ("tools to borrow")."""

    value: str
    label: str


@dataclass(frozen=True)
class Item:
    """One line on the dashboard or in the activity feed.

    ``text`` is the sentence ("Sam asks to borrow your Cordless drill"), ``url`` the page
    where it is done or seen, ``verb`` the call to action ("Approve or decline"), ``when``
    its time (sorting and "in 2 hours"), ``kind`` the blueprint key (set by the loader).
    """

    text: str
    url: str
    kind: str
    when: datetime | None = None
    verb: str = ""


@dataclass(frozen=True)
class SearchHit:
    """One result of unified search. ``kind`` is one of the blueprint's ``search_kinds``
    keys ("tool", "offer", ...), ``rank`` higher is better (``apps.peers.search``),
    ``distance_km`` from the searcher when both places are known."""

    kind: str
    kind_label: str
    title: str
    snippet: str
    url: str
    rank: float
    community: str
    when: datetime | None = None
    distance_km: float | None = None


@dataclass(frozen=True)
class HistoryRow:
    """One figure of a member's history on their profile ("Tools lent", "12")."""

    label: str
    value: str
    url: str | None = None


def _nothing(*args: Any, **kwargs: Any) -> list:
    return []


@dataclass(frozen=True)
class Blueprint:
    """One exchange as a ready-to-use model for a community.

    Loaders (all keyword-only):
    - ``figure()`` -> ``Figure``: across all communities (cached by the front door,
      invalidated when any of ``figure_models`` is saved or deleted);
    - ``actions(user=)`` -> ``list[Item]``: what waits for the member to act;
    - ``upcoming(user=)`` -> ``list[Item]``: the member's coming loans, sessions, slots...;
    - ``activity(user=, community_ids=, limit=)`` -> ``list[Item]``: what is new in those
      communities, newest first, as the member may see it;
    - ``search(user=, query=, kinds=, near=, within_km=, limit=)`` -> ``list[SearchHit]``:
      ``near`` is (latitude, longitude) or None, ``within_km`` None for any distance;
    - ``history(subject=, viewer=)`` -> ``list[HistoryRow]``: the subject's record here,
      as the viewer may see it;
    - ``start(community=, actor=)``: sets the exchange's defaults when a community starts
      using it (categories, limits; idempotent).
    """

    key: str
    category: str
    title: str
    description: str
    tags: tuple[str, str]
    nav_label: str
    nav_url: str
    order: int
    default_rules: str
    figure: Callable[[], Figure]
    figure_models: tuple[type, ...] = ()
    search_kinds: tuple[tuple[str, str], ...] = ()
    actions: Callable[..., list[Item]] = _nothing
    upcoming: Callable[..., list[Item]] = _nothing
    activity: Callable[..., list[Item]] = _nothing
    search: Callable[..., list[SearchHit]] = _nothing
    history: Callable[..., list[HistoryRow]] = _nothing
    start: Callable[..., None] = field(default=lambda **kwargs: None)


_BLUEPRINTS: dict[str, Blueprint] = {}


def register_blueprint(blueprint: Blueprint) -> None:
    _BLUEPRINTS[blueprint.key] = blueprint


def all_blueprints() -> list[Blueprint]:
    """Every registered blueprint, in their order."""
    return sorted(_BLUEPRINTS.values(), key=lambda b: (b.order, b.key))


def blueprint(key: str) -> Blueprint | None:
    return _BLUEPRINTS.get(key)


def blueprint_keys() -> list[str]:
    return [b.key for b in all_blueprints()]


# --- Which communities use which exchange -------------------------------------------


def in_use(*, community_id: int, key: str) -> bool:
    return CommunityExchange.objects.filter(community_id=community_id, key=key, stopped_at__isnull=True).exists()


def keys_in_use(*, community_id: int) -> set[str]:
    """The keys of the exchanges the community uses (one query)."""
    return set(
        CommunityExchange.objects.filter(community_id=community_id, stopped_at__isnull=True).values_list(
            "key", flat=True
        )
    )


def keys_in_use_for(*, user: User) -> set[str]:
    """The exchanges used by any community the member is active in (one query): the
    member's menus show these. A visitor (or a member of none) sees them all."""
    if not user.is_authenticated:
        return set(blueprint_keys())
    return set(
        CommunityExchange.objects.filter(
            stopped_at__isnull=True,
            community__memberships__user=user,
            community__memberships__status=Membership.Status.ACTIVE,
        )
        .order_by()
        .values_list("key", flat=True)
        .distinct()
    )


def communities_using(key: str) -> QuerySet[Community]:
    return Community.objects.filter(exchanges__key=key, exchanges__stopped_at__isnull=True)


def uses_of(*, community_ids: Sequence[int]) -> dict[int, set[str]]:
    """For each community id, the keys it uses (one query)."""
    result: dict[int, set[str]] = {cid: set() for cid in community_ids}
    rows = CommunityExchange.objects.filter(community_id__in=community_ids, stopped_at__isnull=True)
    for community_id, key in rows.values_list("community_id", "key"):
        result[community_id].add(key)
    return result
