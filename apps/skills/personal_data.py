"""What apps/skills holds about a member, for their data download (apps.privacy): their
offers (with weekly availability) and requests, the matches made for them, the sessions
they gave or joined with their seats and timelines, and their match-notice counts.

Other people are named by their public display name.

When a member moves house (``apps.privacy.move_house``), ``import_listing`` opens an offer
or request from their download again, through ``offer_create`` / ``request_create``."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.privacy.export import rows
from apps.privacy.registry import ImportItem, register_exporter, register_importer

from .models import (
    MAX_SKILLS,
    AvailabilityWindow,
    Match,
    MatchNoticeQuota,
    Offer,
    Request,
    Seat,
    Session,
    SessionEvent,
    Skill,
)

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


def _skills_here(names: tuple[str, ...], community) -> list[Skill]:
    """The active skills of ``community`` (or site-wide) with those names or slugs."""
    names = tuple(n for n in names if n)[:MAX_SKILLS]
    if not names:
        return []
    wanted = reduce(or_, (Q(name__iexact=n) | Q(slug=slugify(n)[:80]) for n in names))
    return list(
        Skill.objects.filter(wanted, Q(community=None) | Q(community=community), is_active=True).order_by("pk")[
            :MAX_SKILLS
        ]
    )


def import_listing(*, user, community, item: ImportItem, paused: bool):
    """An offer or request of help from a member's download (``item``, checked by
    ``read_container``), opened again in ``community`` with the skills of the same names
    here (``ValidationError`` when none is). ``paused`` is for tools: a listing of help
    opens at once, as one made here would. The rules are ``offer_create``'s and
    ``request_create``'s (dates passed, too many open requests, ...)."""
    from .services.listings import offer_create, request_create

    fields = item.fields
    skills = _skills_here(fields.categories or (fields.category,), community)
    if not skills:
        names = ", ".join(fields.categories or (fields.category,))
        raise ValidationError({"skills": _("None of its skills (%(names)s) is offered here.") % {"names": names}})
    common = {
        "member": user,
        "community": community,
        "title": fields.name,
        "description": fields.content,
        "skills": skills,
        "remote_ok": bool(item.extra.get("remote_ok", False)),
    }
    if item.kind == "skill_offer":
        return offer_create(**common)
    if "wanted_from" not in item.extra or "wanted_until" not in item.extra:
        raise ValidationError({"wanted_from": _("It does not say on which days help is wanted.")})
    extra = {"estimated_hours": item.extra["estimated_hours"]} if "estimated_hours" in item.extra else {}
    return request_create(
        **common, wanted_from=item.extra["wanted_from"], wanted_until=item.extra["wanted_until"], **extra
    )


register_exporter("skills", export)
register_importer("skills", kinds=("skill_offer", "skill_request"), create=import_listing)
