"""What apps/peers holds about a member, for their data download (apps.privacy)."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from apps.privacy.export import plain, rows
from apps.privacy.registry import register_exporter

from .models import CommunityExchange, JoinRequest, Membership, Profile, User


def export(user: User) -> dict[str, list[dict]]:
    profile = Profile.objects.filter(user=user).first()
    return {
        "account": rows(User.objects.filter(pk=user.pk), ["id", "email", "date_joined", "last_login", "is_active"]),
        "email_addresses": rows(EmailAddress.objects.filter(user=user), ["id", "email", "verified", "primary"]),
        "profile": [_profile(profile)] if profile else [],
        "memberships": rows(
            Membership.objects.filter(user=user),
            {
                "id": "id",
                "community_id": "community_id",
                "community": "community__name",
                "community_slug": "community__slug",
                "role": "role",
                "status": "status",
                "status_reason": "status_reason",
                "joined_at": "joined_at",
            },
        ),
        "join_requests": rows(
            JoinRequest.objects.filter(user=user),
            {
                "id": "id",
                "community_id": "community_id",
                "community": "community__name",
                "message": "message",
                "status": "status",
                "decided_at": "decided_at",
                "created_at": "created_at",
            },
        ),
        "exchanges_started": rows(
            CommunityExchange.objects.filter(started_by=user),
            ["id", "community_id", "key", "started_at", "stopped_at"],
        ),
    }


def _profile(profile: Profile) -> dict:
    return {
        "id": profile.pk,
        "display_name": profile.display_name,
        "bio": profile.bio,
        "neighborhood": profile.neighborhood,
        "approx_latitude": plain(profile.approx_latitude),
        "approx_longitude": plain(profile.approx_longitude),
        "exact_address": profile.exact_address,
        "phone": profile.phone,
        "language": profile.language,
        "avatar_file": profile.avatar.name or "",
        "updated_at": plain(profile.updated_at),
    }


register_exporter("peers", export)
