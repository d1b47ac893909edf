"""Reads for identity and communities, with their query budgets.

The membership vocabulary every app uses to ask who belongs where (``active_community_ids``,
``is_active_member``, ``is_organizer``, ``organizers_of``, ...) lives here, and the guards
that refuse with one code and one message in ``guards.py``: no other app queries
``Membership`` itself, so "member" and "organizer" mean the same thing everywhere.
"""

from __future__ import annotations

import contextlib
import threading

from django.core.signals import request_started
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from .models import Community, JoinRequest, Membership, Profile, User


def community_list() -> QuerySet[Community]:
    """Communities with their active member count, in one query."""
    return Community.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE))
    ).order_by("name")


def community_members(*, community: Community) -> QuerySet[Membership]:
    """A community's memberships with each member's public profile and trust score, organizers first."""
    return (
        Membership.objects.filter(community=community)
        .select_related("user__profile", "user__trust")
        .order_by("-role", "user__profile__display_name", "user_id")
    )


def memberships_of(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("community")


def membership_of(
    *, user: User, community: Community | None = None, community_id: int | None = None
) -> Membership | None:
    """The membership of ``user`` in the community (given by object or id), whatever its
    status (a suspended one too), or None when they don't belong (never joined, or left)."""
    if not user.is_authenticated:
        return None
    if community_id is None:
        community_id = community.pk
    return Membership.objects.filter(user=user, community_id=community_id).first()


def organized_community_ids(*, user: User) -> list[int]:
    """Ids of the communities this user actively organizes (the scope of their admin)."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(
            user=user, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
        ).values_list("community_id", flat=True)
    )


def shares_a_community(*, viewer: User, user_id: int) -> bool:
    """Whether ``viewer`` is an active member of a community the person belongs to."""
    if not viewer.is_authenticated:
        return False
    return Membership.objects.filter(
        user_id=user_id,
        community__memberships__user=viewer,
        community__memberships__status=Membership.Status.ACTIVE,
    ).exists()


def can_see_profile(*, viewer: User, user_id: int) -> bool:
    """A profile is seen by the person themselves, by members who share a community with
    them, and by site superusers; nobody else (anonymous visitors included)."""
    if not viewer.is_authenticated:
        return False
    return viewer.pk == user_id or viewer.is_superuser or shares_a_community(viewer=viewer, user_id=user_id)


def visible_profile(*, viewer: User, user_id: int) -> Profile | None:
    """The profile of ``user_id`` if ``viewer`` may see it (``can_see_profile``), else None,
    exactly as for a missing one."""
    if not can_see_profile(viewer=viewer, user_id=user_id):
        return None
    return Profile.objects.select_related("user__trust").filter(user_id=user_id, user__is_active=True).first()


def neighbor_profiles(*, viewer: User) -> QuerySet[Profile]:
    """Profiles of the people who are active members of a community ``viewer`` is active
    in (active accounts, ``viewer`` left out), each annotated with ``shared_community``:
    the name of one community they share (the first by name). A lazy query, for unified
    search's "Neighbors"; nobody for anonymous visitors."""
    if not viewer.is_authenticated:
        return Profile.objects.none()
    mine = active_community_ids(user=viewer)
    shared = Membership.objects.filter(
        user_id=OuterRef("user_id"), status=Membership.Status.ACTIVE, community_id__in=mine
    ).order_by("community__name", "community_id")
    neighbors = Membership.objects.filter(status=Membership.Status.ACTIVE, community_id__in=mine).values("user_id")
    return (
        Profile.objects.filter(user__is_active=True, user_id__in=neighbors)
        .exclude(user_id=viewer.pk)
        .annotate(shared_community=Subquery(shared.values("community__name")[:1]))
    )


def open_join_request(*, user: User, community: Community) -> JoinRequest | None:
    """The person's request to join that is waiting for an organizer, if any."""
    if not user.is_authenticated:
        return None
    return JoinRequest.objects.filter(user=user, community=community, status=JoinRequest.Status.REQUESTED).first()


def join_requests_for(*, community: Community) -> QuerySet[JoinRequest]:
    """A community's requests to join, open ones first, with each person's public profile."""
    return (
        JoinRequest.objects.filter(community=community)
        .select_related("user__profile", "decided_by__profile")
        .order_by("-status", "-created_at", "-id")
    )


# --- the membership vocabulary -----------------------------------------------------------
def active_community_ids(*, user: User, as_organizer: bool = False) -> QuerySet[Membership]:
    """Ids of the communities ``user`` is an active member (or, ``as_organizer``, an active
    organizer) of, as a lazy query: used in ``community_id__in=`` it is a subquery, so it
    costs no query of its own. None for anonymous visitors."""
    if not user.is_authenticated:
        return Membership.objects.none().values_list("community_id", flat=True)
    memberships = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)
    if as_organizer:
        memberships = memberships.filter(role=Membership.Role.ORGANIZER)
    return memberships.values_list("community_id", flat=True)


# Cached on the user object for the request that loaded it: one query per request however
# many lists ask, and a member who leaves or is suspended no longer sees the community's
# listings from the next request on. Django and DRF load the user afresh for each request;
# the request counter also retires the ids where one user object outlives a request (a
# test client's forced authentication), so nothing needs invalidating across requests or
# processes. Within one request, ``forget_member_community_ids`` drops them.
_MEMBER_IDS_ATTR = "_p2p_active_community_ids"
_requests = threading.local()


def _count_request(**_signal) -> None:
    _requests.number = getattr(_requests, "number", 0) + 1


request_started.connect(_count_request, dispatch_uid="peers.selectors.count_request")


def member_community_ids(*, user: User) -> list[int]:
    """Ids of the communities ``user`` is an active member of, as a sorted list of literals,
    read once per request (cached on the user object): lists filter on
    ``community_id__in=<literals>``, which PostgreSQL plans several times faster than the
    ``IN (subquery)`` of ``active_community_ids`` (issue 17: 7.5 -> 2.6 ms planning on the
    tools list) and lets it pick an index per community. Empty for anonymous visitors."""
    if not user.is_authenticated:
        return []
    request_number = getattr(_requests, "number", 0)
    cached = getattr(user, _MEMBER_IDS_ATTR, None)
    if cached is None or cached[0] != request_number:
        cached = (request_number, sorted(active_community_ids(user=user)))
        setattr(user, _MEMBER_IDS_ATTR, cached)
    return cached[1]


def forget_member_community_ids(*, user: User) -> None:
    """Drop the ids ``member_community_ids`` cached on this user object (call it after a
    membership of theirs changes within the same request or task)."""
    with contextlib.suppress(AttributeError):
        delattr(user, _MEMBER_IDS_ATTR)


def community_ids_of(*, user: User) -> QuerySet[Membership]:
    """Ids of every community ``user`` belongs to, suspended memberships included (what
    they may still read, unlike ``active_community_ids``: where they may act), as a lazy
    query, a subquery in ``community_id__in=``. None for anonymous visitors."""
    if not user.is_authenticated:
        return Membership.objects.none().values_list("community_id", flat=True)
    return Membership.objects.filter(user=user).values_list("community_id", flat=True)


def organizer_scope(*, user: User) -> QuerySet[Membership] | None:
    """Where ``user`` acts as an organizer, for filtering lists (what ``is_organizer``
    answers for one community): None means every community (a site superuser, so the
    list needs no filter); otherwise the ids of the communities they actively organize,
    as a lazy subquery (none for anonymous visitors)."""
    if user.is_authenticated and user.is_superuser:
        return None
    return active_community_ids(user=user, as_organizer=True)


def is_active_member(*, user: User, community_id: int | None = None, community: Community | None = None) -> bool:
    """Whether ``user`` is an active member of the community (given by id or object); a
    suspended member is not. Superusers are not members by their rank alone."""
    if not user.is_authenticated:
        return False
    if community_id is None:
        community_id = community.pk
    return Membership.objects.filter(user=user, community_id=community_id, status=Membership.Status.ACTIVE).exists()


def is_organizer(*, user: User, community_id: int) -> bool:
    """Whether ``user`` may act as an organizer of the community: an active organizer of
    it, or a site superuser (who may do what any organizer may, everywhere)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, community_id=community_id, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
    ).exists()


def organizers_of(*, community_id: int) -> list[User]:
    """The active organizers of a community (active accounts, with their profiles): the
    people every app tells about things that need an organizer. Superusers are not
    listed: they are not told about every community."""
    return list(
        User.objects.filter(
            memberships__community_id=community_id,
            memberships__role=Membership.Role.ORGANIZER,
            memberships__status=Membership.Status.ACTIVE,
            is_active=True,
        )
        .select_related("profile")
        .distinct()
    )


# The name the apps used before the vocabulary; kept while peers' services still call it
# (issue 12 moves them to ``organizers_of``).
community_organizers = organizers_of


def active_member(*, community_id: int, user_id: int) -> User | None:
    """The person with that id if they are an active member of the community with an
    active account, else None (one query; unknown ids included)."""
    return User.objects.filter(
        pk=user_id,
        is_active=True,
        memberships__community_id=community_id,
        memberships__status=Membership.Status.ACTIVE,
    ).first()


def active_members_of(*, community_id: int) -> list[User]:
    """The active members of a community, with their profiles, in a fixed order (by account)."""
    return list(
        User.objects.filter(memberships__community_id=community_id, memberships__status=Membership.Status.ACTIVE)
        .select_related("profile")
        .order_by("pk")
    )


def active_members_in(*, community_ids=None) -> QuerySet[User]:
    """People with an active membership in any of ``community_ids`` (a list or a lazy
    subquery; None: in any community), for pickers such as the admin's: a lazy query."""
    memberships = Membership.objects.filter(status=Membership.Status.ACTIVE)
    if community_ids is not None:
        memberships = memberships.filter(community_id__in=community_ids)
    return User.objects.filter(pk__in=memberships.values("user_id"))


def membership_for_update(*, user: User, community_id: int) -> Membership | None:
    """The membership row of ``user`` in the community (any status), locked with SELECT
    FOR UPDATE; call it inside a transaction. Services lock it to count one member's
    writes one after the other (e.g. a cap on open requests)."""
    return Membership.objects.select_for_update().filter(user=user, community_id=community_id).first()


def membership_for_update_by_id(*, membership_id: int) -> Membership:
    """The membership with that id, locked with SELECT FOR UPDATE (its row only), with the
    member's profile and the community joined; call it inside a transaction. Moderation
    locks it to warn, suspend or reinstate one member one decision after the other."""
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user__profile", "community")
        .get(pk=membership_id)
    )


def home_time_zone(*, user_id: int | None) -> str | None:
    """The time zone of the first community the member joined and is still in (their
    times are shown in it where no page names a community); None when they have none."""
    if user_id is None:
        return None
    return (
        Membership.objects.filter(user_id=user_id, status=Membership.Status.ACTIVE)
        .order_by("joined_at", "pk")
        .values_list("community__time_zone", flat=True)
        .first()
    )
