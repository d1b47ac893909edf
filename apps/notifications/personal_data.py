"""What apps/notifications holds about a member, for their data download (apps.privacy)."""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import Notification, Preference


def export(user) -> dict[str, list[dict]]:
    return {
        "notifications": rows(
            Notification.objects.filter(recipient=user),
            ["id", "kind", "text", "url", "created_at", "read_at", "email", "emailed_at"],
        ),
        "notification_preferences": rows(Preference.objects.filter(user=user), ["id", "kind", "delivery"]),
    }


register_exporter("notifications", export)
