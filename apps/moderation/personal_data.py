"""What apps/moderation holds about a member, for their data download (apps.privacy):
the reports they made; the reports about them and what moderators did about them,
without saying who reported (a reporter's identity and words stay with the organizers);
and, for organizers, the moderation actions they took."""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import Flag, ModerationAction

ACTION = ["id", "action", "community_id", "target_label", "reason", "created_at"]


def export(user) -> dict[str, list[dict]]:
    return {
        "reports_made": rows(
            Flag.objects.filter(reporter=user),
            ["id", "community_id", "target_label", "reason", "text", "status", "created_at", "handled_at"],
        ),
        "reports_about_me": rows(
            Flag.objects.filter(target_author=user).exclude(reporter=user),
            ["id", "community_id", "target_label", "reason", "status", "created_at", "handled_at"],
        ),
        "moderation_about_me": rows(ModerationAction.objects.filter(subject=user), ACTION),
        "moderation_taken": rows(ModerationAction.objects.filter(actor=user), ACTION),
    }


register_exporter("moderation", export)
