"""Reads for tool sharing: search with availability and distance, busy windows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.peers.geo import distance_km_expression
from apps.peers.models import User
from apps.peers.selectors import active_community_ids

from .models import ConditionReport, Reservation, Tool, ToolPhoto, WaitlistEntry

PHOTOS = Prefetch("photos", queryset=ToolPhoto.objects.order_by("position", "id"))


def tools_search(
    *,
    user: User,
    community_id: int | None = None,
    category: str | None = None,
    q: str = "",
    available_from: datetime | None = None,
    available_to: datetime | None = None,
    near: tuple[float, float, float] | None = None,
) -> QuerySet[Tool]:
    """Active, unhidden tools of the communities the user belongs to, with owner and
    trust joined and photos prefetched (two queries whatever the page size).

    ``near`` is (lat, lng, radius_km): great-circle distance from the owner's
    approximate location, computed in the database and annotated as ``distance_km``.
    """
    mine = active_community_ids(user=user)
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
        busy = Reservation.objects.filter(
            tool=OuterRef("pk"),
            status__in=Reservation.LIVE,
            starts_at__lt=available_to,
            blocked_until__gt=available_from,
        )
        qs = qs.filter(~Exists(busy))
    if near is not None:
        lat, lng, radius = near
        qs = (
            qs.filter(owner__profile__approx_latitude__isnull=False)
            .annotate(
                distance_km=distance_km_expression(
                    "owner__profile__approx_latitude", "owner__profile__approx_longitude", lat, lng
                )
            )
            .filter(distance_km__lte=radius)
            .order_by("distance_km", "id")
        )
    return qs


def tools_visible_to(*, user: User) -> QuerySet[Tool]:
    """Tools a user may open: active ones of their communities, and all of their own;
    hidden by moderation only for their owner and the community's organizers."""
    mine = active_community_ids(user=user)
    return (
        Tool.objects.visible_to(user)
        .filter(Q(owner=user) | Q(status=Tool.Status.ACTIVE, community_id__in=mine))
        .select_related("owner__profile", "owner__trust", "category", "community")
        .prefetch_related(PHOTOS)
    )


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
    """Loans the user borrows or lends, newest first."""
    return (
        Reservation.objects.filter(Q(borrower=user) | Q(tool__owner=user))
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
