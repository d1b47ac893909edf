"""Reads for identity and communities, with their query budgets."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import Community, Membership, Profile, User


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


def organized_community_ids(*, user: User) -> list[int]:
    """Ids of the communities this user actively organizes (the scope of their admin)."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(
            user=user, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
        ).values_list("community_id", flat=True)
    )


def public_profile(*, user_id: int) -> Profile | None:
    return Profile.objects.select_related("user__trust").filter(user_id=user_id, user__is_active=True).first()
