"""Reads for identity and communities, with their query budgets."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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


def membership_of(*, user: User, community: Community) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, community=community).first()


def is_active_member(*, user: User, community: Community) -> bool:
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, community=community, status=Membership.Status.ACTIVE).exists()


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


def community_organizers(*, community_id: int) -> list[User]:
    """The active organizers of a community (active accounts, with their profiles): the
    people every app tells about things that need an organizer."""
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
