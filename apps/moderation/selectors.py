"""Reads for moderation, with their query budgets."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.peers.models import Community, Membership, User
from apps.peers.selectors import active_community_ids, community_ids_of, membership_of, organizer_scope

from .models import Flag

_FLAG_RELATED = ("reporter__profile", "community", "content_type", "target_author__profile")


def flags_visible_to(*, user: User) -> QuerySet[Flag]:
    """The reports ``user`` may read: their own, and those in communities they organize
    (all of them for site superusers). Newest first, one query per page."""
    flags = Flag.objects.select_related(*_FLAG_RELATED).order_by("-created_at", "-id")
    organized = organizer_scope(user=user)
    if organized is None:
        return flags
    return flags.filter(Q(reporter=user) | Q(community_id__in=organized))


def moderation_queue(queryset: QuerySet[Flag] | None = None) -> QuerySet[Flag]:
    """One row per reported target and community with open reports: its oldest open
    report, annotated with ``open_count`` (open reports) and ``counting_count`` (those
    from members in good standing, which count toward the automatic hide), ordered by
    the open count, most first, then oldest first. One query, whatever the number of reports.
    """
    queryset = Flag.objects.all() if queryset is None else queryset
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN).order_by()
    oldest = open_flags.values("community", "content_type", "object_id").annotate(first=Min("pk")).values("first")
    count = (
        open_flags.filter(
            community=OuterRef("community"), content_type=OuterRef("content_type"), object_id=OuterRef("object_id")
        )
        .values("community")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.filter(pk__in=Subquery(oldest))
        .annotate(open_count=Subquery(count), counting_count=Subquery(count.filter(counts=True)))
        .order_by("-open_count", "created_at", "pk")
    )


def shared_communities(*, user: User, other: User) -> QuerySet[Community]:
    """Communities where ``user`` is an active member and ``other`` belongs: where
    ``user`` can report ``other``. One query."""
    if not user.is_authenticated:
        return Community.objects.none()
    return (
        Community.objects.filter(pk__in=active_community_ids(user=user))
        .filter(pk__in=community_ids_of(user=other))
        .order_by("name")
    )


def reporter_has_standing(*, reporter: User, community: Community, now: datetime | None = None) -> bool:
    """Whether ``reporter``'s reports count toward hiding content in ``community``: an
    active membership at least ``community.flag_min_member_days`` days old and at least
    ``community.flag_min_exchanges`` exchanges completed there. One query, plus one per
    exchange type when exchanges are required."""
    from apps.reputation.selectors import completed_exchange_count

    now = now or timezone.now()
    membership = membership_of(user=reporter, community=community)
    if membership is None or membership.status != Membership.Status.ACTIVE:
        return False
    if membership.joined_at > now - timedelta(days=community.flag_min_member_days):
        return False
    if not community.flag_min_exchanges:
        return True
    return completed_exchange_count(user=reporter, community_id=community.pk) >= community.flag_min_exchanges
