"""Unified search: one box across every exchange and the neighbors, behind one selector.

``search(user=, query=, kinds=, within_km=, limit=)`` asks each blueprint used by the
member's communities for its hits (``Blueprint.search``: tools, skill offers and
requests, challenges and proposals, each through its exchange's own visibility rules),
adds the members of the member's communities whose name, neighborhood or bio match,
and merges them by rank (``apps.peers.search.ranked_match``: PostgreSQL full-text
search, or the SQLite fallback; a match in a title outranks one in a description).

``kinds`` narrows it to some kinds (``all_kinds()``); ``within_km`` to what lies that
close to the member's own place (their profile's rounded location; without one there is
no distance to filter by, see ``location_of``). The result is one list, best first, at
most ``limit`` long; the page and the API cut it into pages.

Listings of neighbouring communities on other servers that the member's communities
follow (``remote_hits``) come in as the kind they are ("tool", "offer", "request"),
marked with their home community; they have no place, so a distance filter leaves them out.
"""

from __future__ import annotations

import math
from collections.abc import Collection

from django.db.models import Q
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from apps.federation.selectors import remote_listings_for
from apps.peers import geo
from apps.peers.blueprints import Blueprint, SearchHit, all_blueprints
from apps.peers.models import User
from apps.peers.search import ranked_match, words_of
from apps.peers.selectors import neighbor_profiles

from .dashboard import blueprints_for

MEMBER_KIND = ("member", gettext_lazy("Neighbors"))
# The most results one search gives (the pages and the API page through these).
SEARCH_LIMIT = 200
MAX_QUERY_LENGTH = 200
SNIPPET_CHARS = 160
MEMBER_FIELDS = ("display_name", "neighborhood", "bio")


def all_kinds() -> list[tuple[str, str]]:
    """Every kind unified search knows (key, label): each blueprint's, then neighbors."""
    kinds: list[tuple[str, str]] = []
    for bp in all_blueprints():
        kinds += [kind for kind in bp.search_kinds if kind not in kinds]
    return [*kinds, MEMBER_KIND]


def kinds_for(*, user: User, blueprints: list[Blueprint] | None = None) -> list[tuple[str, str]]:
    """The kinds worth offering ``user`` as filters: those of the exchanges their
    communities use (``blueprints_for``, one query, unless given), then neighbors."""
    kinds: list[tuple[str, str]] = []
    for bp in blueprints_for(user=user) if blueprints is None else blueprints:
        kinds += [kind for kind in bp.search_kinds if kind not in kinds]
    return [*kinds, MEMBER_KIND]


def location_of(user: User) -> tuple[float, float] | None:
    """The member's place for distances: their profile's rounded location, if set
    (free when the profile is already loaded, one query otherwise)."""
    profile = getattr(user, "profile", None) if user.is_authenticated else None
    if profile is None or not profile.has_location:
        return None
    return float(profile.approx_latitude), float(profile.approx_longitude)


def member_hits(
    *, user: User, query: str, near: tuple[float, float] | None, within_km: float | None, limit: int
) -> list[SearchHit]:
    """Neighbors (active members of the member's communities) whose name, neighborhood
    or bio match, best first (one query). With ``within_km``, those farther are left out
    (those who gave no place are kept, as every exchange's search does)."""
    profiles = ranked_match(neighbor_profiles(viewer=user), query, MEMBER_FIELDS)
    if near is not None:
        profiles = profiles.annotate(
            distance_km=geo.distance_km_expression("approx_latitude", "approx_longitude", *near)
        )
        if within_km is not None:  # people who gave no place are kept, as in every exchange's search
            profiles = profiles.filter(Q(distance_km__lte=within_km) | Q(approx_latitude__isnull=True))
    hits = []
    for profile in profiles.order_by("-search_rank", "display_name", "user_id")[:limit]:
        snippet = " · ".join(part for part in (profile.neighborhood, profile.bio) if part)
        distance = getattr(profile, "distance_km", None)
        hits.append(
            SearchHit(
                kind=MEMBER_KIND[0],
                kind_label=MEMBER_KIND[1],
                title=profile.display_name,
                snippet=Truncator(" ".join(snippet.split())).chars(SNIPPET_CHARS),
                url=profile.get_absolute_url(),
                rank=float(profile.search_rank),
                community=profile.shared_community or "",
                distance_km=None if distance is None else round(float(distance), 1),
            )
        )
    return hits


# A neighbouring community's listing shows up as the local kind it is (so the kind
# filters keep working), marked with where it comes from.
REMOTE_KINDS = {
    "tool": ("tool", gettext_lazy("Tool from a neighbouring community")),
    "skill_offer": ("offer", gettext_lazy("Skill offered in a neighbouring community")),
    "skill_request": ("request", gettext_lazy("Help asked in a neighbouring community")),
}
REMOTE_FIELDS = ("name", "category", "summary")


def remote_hits(*, user: User, query: str, kinds: Collection[str] | None, limit: int) -> list[SearchHit]:
    """Listings of the neighbouring communities the member's communities follow
    (``apps.federation.selectors.remote_listings_for``) that match, best first, marked
    with their home community (one query). ``kinds`` are local kinds ("tool", "offer",
    "request"); None is every kind."""
    remote = [key for key, (local, _label) in REMOTE_KINDS.items() if kinds is None or local in kinds]
    if not remote:
        return []
    listings = ranked_match(
        remote_listings_for(user=user).filter(kind__in=remote).select_related("origin"), query, REMOTE_FIELDS
    )
    hits = []
    for listing in listings.order_by("-search_rank", "name", "id")[:limit]:
        local, label = REMOTE_KINDS[listing.kind]
        origin = listing.origin.name or listing.origin.host
        hits.append(
            SearchHit(
                kind=local,
                kind_label=str(label),
                title=listing.name,
                snippet=Truncator(" ".join(listing.summary.split())).chars(SNIPPET_CHARS),
                url=reverse("federation:listing", args=[listing.pk]),
                rank=float(listing.search_rank),
                community=f"{origin} ({listing.origin.host})" if listing.origin.name else origin,
            )
        )
    return hits


def _order(hit: SearchHit) -> tuple:
    distance = math.inf if hit.distance_km is None else hit.distance_km
    return (-hit.rank, distance, hit.title.casefold(), hit.url)


def search(
    *,
    user: User,
    query: str,
    kinds: Collection[str] | None = None,
    within_km: float | None = None,
    limit: int = SEARCH_LIMIT,
    blueprints: list[Blueprint] | None = None,
) -> list[SearchHit]:
    """What ``user`` may see that matches ``query``, best first (see the module
    docstring). No words, or an anonymous visitor: nothing. ``within_km`` needs the
    member's location and is ignored without one (the page offers it only then, the
    API refuses it). ``blueprints``: those in use for ``user`` when the caller has them
    already (``blueprints_for``), else read here."""
    if not user.is_authenticated or not words_of(query):
        return []
    query = query[:MAX_QUERY_LENGTH]
    wanted = set(kinds) if kinds else None
    near = location_of(user)
    if near is None:
        within_km = None
    hits: list[SearchHit] = []
    for bp in blueprints_for(user=user) if blueprints is None else blueprints:
        own = [key for key, _label in bp.search_kinds]
        chosen = None if wanted is None else [key for key in own if key in wanted]
        if chosen is not None and not chosen:
            continue
        hits += bp.search(user=user, query=query, kinds=chosen, near=near, within_km=within_km, limit=limit)
    if wanted is None or MEMBER_KIND[0] in wanted:
        hits += member_hits(user=user, query=query, near=near, within_km=within_km, limit=limit)
    if within_km is None:  # a neighbouring community's listing has no place to measure
        hits += remote_hits(user=user, query=query, kinds=wanted, limit=limit)
    hits.sort(key=_order)
    return hits[:limit]
