"""What apps/front holds about a member, for their data download (apps.privacy)."""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import Suggestion


def export(user) -> dict[str, list[dict]]:
    return {
        "suggestions": rows(
            Suggestion.objects.filter(user=user),
            ["id", "pair", "title", "reason", "url", "created_at", "dismissed_at"],
        ),
    }


register_exporter("front", export)
