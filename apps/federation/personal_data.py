"""What apps/federation holds about a member, for their data download (apps.privacy):
whether they chose to appear on other servers, and their exchanges with members of
communities on other servers (the other side by the name their server gave, never more)."""

from __future__ import annotations

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import FederatedMember, RemoteExchange


def export(user) -> dict[str, list[dict]]:
    return {
        "federation_opt_in": rows(
            FederatedMember.objects.filter(user=user), {"id": "id", "opted_in_at": "opted_in_at"}
        ),
        "federation_exchanges": rows(
            RemoteExchange.objects.filter(member=user),
            {
                "id": "id",
                "side": "side",
                "status": "status",
                "what": "listing__name",
                "neighbour_community": "peer__name",
                "other_person": "remote_person__name",
                "starts_at": "starts_at",
                "ends_at": "ends_at",
                "fee_total": "fee_total",
                "currency": "currency",
                "created_at": "created_at",
            },
        ),
    }


register_exporter("federation", export)
