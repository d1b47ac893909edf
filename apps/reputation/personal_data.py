"""What apps/reputation holds about a member, for their data download (apps.privacy):
the reviews they wrote, the reviews about them that are revealed (a review still blind
stays blind, to its subject too), and their trust score."""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import Review, TrustScore

REVIEW = {
    "id": "id",
    "domain": "domain",
    "community_id": "community_id",
    "exchange_id": "object_id",
    "rating": "rating",
    "comment": "comment",
    "created_at": "created_at",
    "revealed_at": "revealed_at",
    "is_hidden": "is_hidden",
}


def export(user) -> dict[str, list[dict]]:
    return {
        "reviews_written": rows(
            Review.objects.filter(author=user), {**REVIEW, "subject": "subject__profile__display_name"}
        ),
        "reviews_received": rows(
            Review.objects.filter(subject=user, revealed_at__isnull=False),
            {**REVIEW, "author": "author__profile__display_name"},
        ),
        "trust_score": rows(
            TrustScore.objects.filter(user=user),
            {
                "user_id": "user_id",
                "score": "score",
                "rating_count": "rating_count",
                "tools_count": "tools_count",
                "skills_count": "skills_count",
                "solar_count": "solar_count",
                "codesign_count": "codesign_count",
                "updated_at": "updated_at",
            },
        ),
    }


register_exporter("reputation", export)
