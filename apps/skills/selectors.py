"""Reads for the skill swap: directory search, my matches, my sessions."""

from __future__ import annotations

from django.db import connection
from django.db.models import Aggregate, CharField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from apps.peers.geo import distance_km_expression
from apps.peers.models import User
from apps.peers.selectors import active_community_ids

from .models import AvailabilityWindow, Match, Offer, Request, Seat, Session, Skill, SkillCategory

# A listing's skills with their categories (the API and the cards show both).
SKILLS = Prefetch("skills", queryset=Skill.objects.select_related("category"))


def skills_for(*, community_id: int | None = None) -> QuerySet[Skill]:
    """Active skills: site-wide ones and, with ``community_id``, that community's own."""
    local = Q(community__isnull=True)
    if community_id is not None:
        local |= Q(community_id=community_id)
    return Skill.objects.filter(local, is_active=True).select_related("category")


def categories() -> QuerySet[SkillCategory]:
    return SkillCategory.objects.prefetch_related(
        Prefetch("skills", queryset=Skill.objects.filter(is_active=True, community__isnull=True))
    )


def listings_search(
    *,
    model: type[Offer] | type[Request],
    user: User,
    community_id: int | None = None,
    skill: str | None = None,
    category: str | None = None,
    q: str = "",
    near: tuple[float, float, float] | None = None,
) -> QuerySet:
    """Open, unexpired offers or requests of the user's communities (not hidden by
    moderation, not even for organizers: the directory is the same for all), with their member,
    skills and tags (a fixed number of queries per page). ``near`` = (lat, lng, km)
    annotates ``distance_km`` from the listing's approximate location."""
    qs = (
        model.objects.filter(
            community_id__in=active_community_ids(user=user),
            status=model.Status.OPEN,
            expires_at__gt=timezone.now(),
            is_hidden=False,
        )
        .select_related("member__profile", "member__trust", "community")
        .prefetch_related(SKILLS, "tags")
    )
    if model is Offer:
        qs = qs.prefetch_related(Prefetch("windows", queryset=AvailabilityWindow.objects.order_by("weekday", "start")))
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if skill:
        qs = qs.filter(skills__slug=skill)
    if category:
        qs = qs.filter(skills__category__slug=category)
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(skills__name__icontains=q) | Q(tags__name=q.lower())
        )
    if skill or category or q:
        qs = qs.distinct()
    if near is not None:
        lat, lng, radius = near
        qs = (
            qs.filter(latitude__isnull=False)
            .annotate(distance_km=distance_km_expression("latitude", "longitude", lat, lng))
            .filter(distance_km__lte=radius)
            .order_by("distance_km", "-id")
        )
    else:
        qs = qs.order_by("-updated_at", "-id")
    return qs


def listings_readable(queryset: QuerySet, user: User) -> QuerySet:
    """Of ``queryset`` (offers or requests), what ``user`` may open at all: their own, and
    open ones of their communities. Moderation narrows it further (``visible_to``)."""
    return queryset.filter(
        Q(member=user)
        | Q(community_id__in=active_community_ids(user=user), status=Offer.Status.OPEN, expires_at__gt=timezone.now())
    )


def listing_for_viewer(*, model: type[Offer] | type[Request], user: User) -> QuerySet:
    """Offers or requests ``user`` may open on their own page: their own (any state), and
    open ones of their communities; hidden ones only for their member and the
    community's organizers."""
    qs = (
        listings_readable(model.objects.visible_to(user), user)
        .select_related("member__profile", "member__trust", "community")
        .prefetch_related(SKILLS, "tags")
    )
    if model is Offer:
        qs = qs.prefetch_related(Prefetch("windows", queryset=AvailabilityWindow.objects.order_by("weekday", "start")))
    return qs


def offers_of(*, user: User) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(member=user)
        .select_related("community")
        .prefetch_related(SKILLS, "tags", "windows")
        .order_by("status", "-updated_at", "-id")
    )


def requests_of(*, user: User) -> QuerySet[Request]:
    return (
        Request.objects.filter(member=user)
        .select_related("community")
        .prefetch_related(SKILLS, "tags")
        .order_by("status", "-updated_at", "-id")
    )


def matches_of(*, user: User) -> QuerySet[Match]:
    """Matches of my requests (helpers for me) and of my offers (people I could help), best first."""
    return (
        Match.objects.filter(Q(request__member=user) | Q(offer__member=user))
        .filter(
            request__status=Request.Status.OPEN,
            offer__status=Offer.Status.OPEN,
            request__is_hidden=False,
            offer__is_hidden=False,
            request__expires_at__gt=timezone.now(),
            offer__expires_at__gt=timezone.now(),
        )
        .select_related(
            "request__member__profile",
            "request__member__trust",
            "offer__member__profile",
            "offer__member__trust",
            "request__community",
        )
        .order_by("-score", "-id")
    )


def sessions_of(*, user: User) -> QuerySet[Session]:
    """Sessions I give or take part in, soonest first."""
    return (
        Session.objects.filter(Q(helper=user) | Q(seats__learner=user))
        .distinct()
        .select_related("helper__profile", "community", "proposed_by__profile")
        .prefetch_related(Prefetch("seats", queryset=Seat.objects.select_related("learner__profile")))
        .order_by("-starts_at", "-id")
    )


def _open_groups(user: User) -> QuerySet[Session]:
    return (
        Session.objects.filter(
            community_id__in=active_community_ids(user=user),
            status=Session.Status.SCHEDULED,
            capacity__gt=1,
            starts_at__gt=timezone.now(),
        )
        .exclude(helper=user)
        .select_related("helper__profile", "community", "proposed_by__profile")
        .prefetch_related(Prefetch("seats", queryset=Seat.objects.select_related("learner__profile")))
        .order_by("starts_at", "id")
    )


def group_sessions_open(*, user: User) -> QuerySet[Session]:
    """Upcoming group sessions of my communities that I could join (none hidden by moderation)."""
    return _open_groups(user).filter(is_hidden=False)


def group_sessions_viewable(*, user: User) -> QuerySet[Session]:
    """Upcoming group sessions of my communities I may open: hidden ones only for the
    community's organizers."""
    return _open_groups(user).visible_to(user)


def sessions_readable(queryset: QuerySet, user: User) -> QuerySet:
    """Of ``queryset``, the sessions ``user`` may see at all: theirs (helper or learner)
    and upcoming group sessions of their communities."""
    mine = Seat.objects.filter(learner=user).values("session_id")
    upcoming_groups = Q(
        community_id__in=active_community_ids(user=user),
        status=Session.Status.SCHEDULED,
        capacity__gt=1,
        starts_at__gt=timezone.now(),
    )
    return queryset.filter(Q(helper=user) | Q(pk__in=mine) | upcoming_groups)


class _GroupConcat(Aggregate):
    """SQLite's ``GROUP_CONCAT`` (PostgreSQL uses ``StringAgg``)."""

    function = "GROUP_CONCAT"
    output_field = CharField()


def with_skill_names(queryset: QuerySet) -> QuerySet:
    """``queryset`` (offers or requests) annotated with ``skill_names``: the names of its
    skills and of their categories in one text (a correlated subquery, no query of its own),
    so a text search can weigh them as one field without a row per skill."""
    through = queryset.model.skills.through
    owner = "offer_id" if queryset.model is Offer else "request_id"
    names = Concat("skill__name", Value(" "), "skill__category__name", output_field=CharField())
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import StringAgg

        joined = StringAgg(names, delimiter=" ")
    else:
        joined = _GroupConcat(names)
    subquery = (
        through.objects.filter(**{owner: OuterRef("pk")})
        .order_by()
        .values(owner)
        .annotate(names=joined)
        .values("names")
    )
    return queryset.annotate(skill_names=Subquery(subquery, output_field=CharField()))
