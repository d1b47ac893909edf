"""What apps/skills holds about a member, for their data download (apps.privacy): their
offers (with weekly availability) and requests, the matches made for them, the sessions
they gave or joined with their seats and timelines, and their match-notice counts.

Other people are named by their public display name."""

from __future__ import annotations

from django.db.models import Q

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import AvailabilityWindow, Match, MatchNoticeQuota, Offer, Request, Seat, Session, SessionEvent

LISTING = [
    "id",
    "community_id",
    "title",
    "description",
    "remote_ok",
    "status",
    "latitude",
    "longitude",
    "expires_at",
    "created_at",
    "updated_at",
    "is_hidden",
]


def _with_names(listing_rows: list[dict], queryset) -> list[dict]:
    """Add each listing's skill and tag names (lists) to its row."""
    skills: dict[int, list[str]] = {}
    tags: dict[int, list[str]] = {}
    for pk, name in queryset.values_list("pk", "skills__name"):
        if name:
            skills.setdefault(pk, []).append(name)
    for pk, name in queryset.values_list("pk", "tags__name"):
        if name:
            tags.setdefault(pk, []).append(name)
    for row in listing_rows:
        row["skills"] = sorted(skills.get(row["id"], []))
        row["tags"] = sorted(tags.get(row["id"], []))
    return listing_rows


def export(user) -> dict[str, list[dict]]:
    offers = Offer.objects.filter(member=user)
    requests = Request.objects.filter(member=user)
    sessions = Session.objects.filter(Q(helper=user) | Q(seats__learner=user) | Q(proposed_by=user)).distinct()
    return {
        "skill_offers": _with_names(rows(offers, [*LISTING, "travel_km"]), offers),
        "skill_offer_availability": rows(
            AvailabilityWindow.objects.filter(offer__member=user), ["id", "offer_id", "weekday", "start", "end"]
        ),
        "skill_requests": _with_names(
            rows(requests, [*LISTING, "wanted_from", "wanted_until", "estimated_hours"]), requests
        ),
        "skill_matches": rows(
            Match.objects.filter(Q(request__member=user) | Q(offer__member=user)),
            ["id", "request_id", "offer_id", "score", "reasons", "created_at", "updated_at", "notified_at"],
        ),
        "skill_sessions": rows(
            sessions,
            {
                "id": "id",
                "community_id": "community_id",
                "title": "title",
                "helper": "helper__profile__display_name",
                "request_id": "request_id",
                "offer_id": "offer_id",
                "starts_at": "starts_at",
                "planned_hours": "planned_hours",
                "place": "place",
                "remote": "remote",
                "capacity": "capacity",
                "status": "status",
                "created_at": "created_at",
            },
        ),
        "skill_session_seats": rows(
            Seat.objects.filter(Q(learner=user) | Q(session__helper=user)),
            {
                "id": "id",
                "session_id": "session_id",
                "learner": "learner__profile__display_name",
                "status": "status",
                "learner_hours": "learner_hours",
                "helper_hours": "helper_hours",
                "hours": "hours",
                "transfer_id": "transfer_id",
                "dispute_reason": "dispute_reason",
                "created_at": "created_at",
                "completed_at": "completed_at",
                "settled_at": "settled_at",
            },
        ),
        "skill_session_events": rows(
            SessionEvent.objects.filter(session__in=sessions),
            {
                "id": "id",
                "session_id": "session_id",
                "from_status": "from_status",
                "to_status": "to_status",
                "note": "note",
                "by": "actor__profile__display_name",
                "created_at": "created_at",
            },
        ),
        "skill_match_notices": rows(MatchNoticeQuota.objects.filter(user=user), ["id", "day", "used"]),
    }


register_exporter("skills", export)
