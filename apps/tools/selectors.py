"""Reads for tool sharing: search with availability and distance, busy windows."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.peers.geo import bounding_box, distance_km_expression, within_box_q
from apps.peers.models import User
from apps.peers.selectors import active_community_ids, member_community_ids

from .models import Category, ConditionReport, Reservation, Tool, ToolPhoto, WaitlistEntry

PHOTOS = Prefetch("photos", queryset=ToolPhoto.objects.order_by("position", "id"))


# What each list filters and sorts on, and the index that serves it (migration 0009). The
# figures: EXPLAIN ANALYZE of the page query on PostgreSQL, 50k tools (bench-50k, who sees
# 45.7k active ones; bench-1k sees 921), before -> after, on a shared 2-core machine:
# - browse, order (title, id) of active unhidden tools: tools_tool_browse_idx, partial on
#   (title, id). A page is the first rows of an index scan instead of a seq scan of every
#   tool, hash joins and a top-N heapsort: execution 113.7 -> 0.6-0.8 ms (50k);
# - one community (a member of one, ?community=): tools_tool_comm_browse_idx on
#   (community, title, id), same partial: 12.6 -> 0.2-0.4 ms (1k);
# - category: tools_tool_cat_browse_idx on (category, title, id), same partial;
# - availability: NOT EXISTS on tools_res_live_window_idx, (tool, starts_at) INCLUDE
#   (blocked_until) of live reservations only, one index probe per candidate tool:
#   115.9 -> 0.7-5 ms (50k);
# - distance: a bounding box on peers_profile_approx_loc_idx (approx_latitude,
#   approx_longitude) before the great-circle distance, computed then only for the owners
#   in the box (2 km: 416 of 10k profiles): 25.5-180 -> 7-34 ms (50k; what remains grows
#   with the tools inside the radius, which all have to be sorted by distance).
# Membership as literal ids (member_community_ids, one query per request) instead of an
# IN (subquery): planning 8-14 -> 1.4-1.7 ms (plain), 38-48 -> 2.6-6.6 ms (availability).
# The page's count is capped (p2pcommons.api.pagination): 25-55 ms -> 0.2 ms (50k).


def tools_search(
    *,
    user: User,
    community_id: int | None = None,
    category: str | None = None,
    q: str = "",
    available_from: datetime | None = None,
    available_to: datetime | None = None,
    near: tuple[float, float, float] | None = None,
    read_ids: bool = True,
) -> QuerySet[Tool]:
    """Active, unhidden tools of the communities the user belongs to, with owner and
    trust joined and photos prefetched (two queries whatever the page size).

    The browse lists scope by the member's community ids as literals, read once per
    request (``member_community_ids``); ``read_ids=False`` keeps the membership a
    subquery for callers that must not add that query.

    ``near`` is (lat, lng, radius_km): great-circle distance from the owner's
    approximate location, computed in the database and annotated as ``distance_km``,
    only for the owners inside the radius's bounding box.
    """
    if community_id is not None or not read_ids:
        # One community (a suggestion, ?community=), or a caller that must stay one query
        # (the dashboard feed, unified search): the membership stays a subquery there.
        mine = active_community_ids(user=user)
    else:
        mine = member_community_ids(user=user)
    qs = (
        Tool.objects.filter(status=Tool.Status.ACTIVE, community_id__in=mine, is_hidden=False)
        .select_related("owner__profile", "owner__trust", "category", "community")
        .prefetch_related(PHOTOS)
        .order_by("title", "id")
    )
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if category:
        qs = qs.filter(category__slug=category)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(category__name__icontains=q))
    if available_from and available_to:
        qs = qs.filter(~Exists(_busy_between(available_from, available_to)))
    if near is not None:
        qs = _nearest_first(qs, *near)
    return qs


def _busy_between(available_from: datetime, available_to: datetime) -> QuerySet[Reservation]:
    """The live bookings of the outer tool that overlap the window (tools_res_live_window_idx)."""
    return Reservation.objects.filter(
        tool=OuterRef("pk"),
        status__in=Reservation.LIVE,
        starts_at__lt=available_to,
        blocked_until__gt=available_from,
    )


def _nearest_first(qs: QuerySet[Tool], lat: float, lng: float, radius: float) -> QuerySet[Tool]:
    """Tools whose owner is within ``radius`` km, nearest first: the bounding box narrows
    the owners with an index range scan, the great-circle distance decides and sorts."""
    box = within_box_q(
        "owner__profile__approx_latitude", "owner__profile__approx_longitude", bounding_box(lat, lng, radius)
    )
    distance = distance_km_expression("owner__profile__approx_latitude", "owner__profile__approx_longitude", lat, lng)
    return qs.filter(box).annotate(distance_km=distance).filter(distance_km__lte=radius).order_by("distance_km", "id")


def tools_visible_to(*, user: User) -> QuerySet[Tool]:
    """Tools a user may open: active ones of their communities, and all of their own;
    hidden by moderation only for their owner and the community's organizers."""
    mine = member_community_ids(user=user)
    return (
        Tool.objects.visible_to(user)
        .filter(Q(owner=user) | Q(status=Tool.Status.ACTIVE, community_id__in=mine))
        .select_related("owner__profile", "owner__trust", "category", "community")
        .prefetch_related(PHOTOS)
    )


CATEGORY_CHOICES_KEY = "tools:category-choices:v1"
# Signals drop the cache on every save and delete; the timeout bounds what bulk writes
# (seed scripts, which send no signals) could leave stale.
CATEGORY_CHOICES_TTL = 300


def category_choices() -> list[tuple[str, str]]:
    """(slug, name) of every category by name, for the browse filter: cached, because every
    browse page shows them and they change only in the admin; a category saved or deleted
    drops the cache (signals in apps.tools.apps)."""
    choices = cache.get(CATEGORY_CHOICES_KEY)
    if choices is None:
        choices = [tuple(row) for row in Category.objects.order_by("name", "id").values_list("slug", "name")]
        cache.set(CATEGORY_CHOICES_KEY, choices, timeout=CATEGORY_CHOICES_TTL)
    return choices


FILTER_FIELDS_GENERATION_KEY = "tools:filter-fields:generation"


def forget_category_choices(**_signal) -> None:
    """A category changed: its choices and every cached filter form (filter_fields.filter_fields_html) go."""
    cache.delete(CATEGORY_CHOICES_KEY)
    forget_filter_fields()


def filter_fields_generation() -> int:
    """The generation the cached filter forms are keyed under; bumped to drop them all."""
    generation = cache.get(FILTER_FIELDS_GENERATION_KEY)
    if generation is None:
        generation = time.time_ns()
        cache.add(FILTER_FIELDS_GENERATION_KEY, generation, timeout=None)
        generation = cache.get(FILTER_FIELDS_GENERATION_KEY, generation)
    return generation


def forget_filter_fields(**_signal) -> None:
    """A community or a category changed (its name shows in the filter): a new generation."""
    cache.set(FILTER_FIELDS_GENERATION_KEY, time.time_ns(), timeout=None)


def tools_of_owner(*, user: User) -> QuerySet[Tool]:
    """The user's own listings, retired last, with photos."""
    return (
        Tool.objects.filter(owner=user)
        .select_related("category", "community")
        .prefetch_related(PHOTOS)
        .order_by("status", "title", "id")
    )


def busy_windows(*, tool: Tool, after: datetime) -> QuerySet[Reservation]:
    """The tool's live bookings that end after ``after`` (no borrower data)."""
    return (
        Reservation.objects.filter(tool=tool, status__in=Reservation.LIVE, blocked_until__gt=after)
        .order_by("starts_at")
        .only("starts_at", "ends_at", "blocked_until", "status")
    )


def reservations_of(*, user: User) -> QuerySet[Reservation]:
    """Loans the user borrows or lends, newest first.

    The user's own tool ids are read first (one indexed query; a member lends a handful of
    tools) and passed as literals: ``borrower = u OR tool.owner = u`` joins every loan to
    its tool before it can filter, so PostgreSQL read all 200k loans of the scale data
    for one member's page (the API "my loans" list: 112 ms in process at 50k tools, the
    bench's http section); with literals it is a BitmapOr of the borrower and tool indexes.
    """
    own_tools = list(Tool.objects.filter(owner=user).order_by().values_list("pk", flat=True))
    return (
        Reservation.objects.filter(Q(borrower=user) | Q(tool_id__in=own_tools))
        .select_related("tool__owner__profile", "borrower__profile", "tool__community")
        .order_by("-starts_at", "-id")
    )


def waitlist_of(*, user: User) -> QuerySet[WaitlistEntry]:
    """The user's waitlist entries, open ones first."""
    return (
        WaitlistEntry.objects.filter(member=user).select_related("tool__owner__profile").order_by("-created_at", "-id")
    )


def condition_reports_of(*, reservation: Reservation) -> QuerySet[ConditionReport]:
    return ConditionReport.objects.filter(reservation=reservation).select_related("author__profile")


# The owner's exact address and phone reach the borrower of an approved loan this long
# before its start, not at approval: a loan booked weeks ahead reveals nothing yet.
HANDOFF_RELEASE = timedelta(hours=24)


def handoff_released_at(reservation: Reservation) -> datetime:
    return reservation.starts_at - HANDOFF_RELEASE


def handoff_for(*, reservation: Reservation, user: User, now: datetime | None = None):
    """The owner's profile with the exact address and phone, for the borrower only, while
    the loan is approved (from HANDOFF_RELEASE before its start) or picked up (invariant 5);
    None for anyone else, at any other time."""
    now = now or timezone.now()
    if user.pk != reservation.borrower_id:
        return None
    if reservation.status == Reservation.Status.PICKED_UP or (
        reservation.status == Reservation.Status.APPROVED and now >= handoff_released_at(reservation)
    ):
        return reservation.tool.owner.profile
    return None


def handoff_pending_until(*, reservation: Reservation, user: User, now: datetime | None = None) -> datetime | None:
    """When the borrower will see the handoff of a requested or approved loan that does not
    show it yet (pages and the API say so); None when it shows, or never will."""
    now = now or timezone.now()
    if user.pk != reservation.borrower_id or reservation.status not in (
        Reservation.Status.REQUESTED,
        Reservation.Status.APPROVED,
    ):
        return None
    release = handoff_released_at(reservation)
    return release if now < release or reservation.status == Reservation.Status.REQUESTED else None
