"""THE table: every endpoint of the site, the API and the admin, and who may use it.

One entry per API route and method, per page, and per ModelAdmin. Each names the subject
it acts on (a row of community A in world.py), a harmless body that the endpoint would
accept if allowed, and a rule from rules.py: one letter per persona. A new endpoint without
an entry here fails ``test_every_endpoint_has_an_entry``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from tests.tools.images import png_upload

from .rules import (
    COUNTERPART,
    COUNTERPART_FORM,
    COUNTERPART_NOT_NOW,
    MEMBERS,
    MEMBERS_AND_SUSPENDED,
    MEMBERS_POST,
    ORGANIZER,
    ORGANIZER_FORM,
    ORGANIZER_OR_SUPERUSER,
    ORGANIZER_STEP,
    OWNER,
    OWNER_FORM,
    OWNER_NOT_NOW,
    PARTIES,
    PARTIES_NOT_NOW,
    PUBLIC,
    SIGNED_IN,
)
from .world import World


@dataclass(frozen=True)
class Entry:
    """One cell row of the matrix: ``name`` is the URL name (API route names have no
    namespace), ``kw`` gives path parameters other than the subject's ``pk``."""

    name: str
    method: str
    rule: str
    subject: str | None = None
    body: dict | list | Callable[[World], dict] | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    bug: str = ""
    visit_as: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}"


# A body marked so is sent as a multipart form (file uploads), not JSON.
MULTIPART = {"__multipart__": True}


def _later(days: int, hours: int = 0) -> str:
    return (timezone.now() + timedelta(days=days, hours=hours)).isoformat()


def _a(world: World) -> int:
    return world.a.community.pk


def _pk(key: str) -> Callable[[World], int]:
    return lambda world: world.subject(key).pk


def _signed(world: World) -> int:
    """Community A's id, once its ledger log has a signed checkpoint (the world has fewer
    entries than LEDGER_CHECKPOINT_EVERY); signing again at the same head does nothing."""
    from apps.ledger import log

    log.publish_checkpoint(community=world.a.community)
    return world.a.community.pk


class _Sizes(str):
    """A query naming ``{size}``, the newest checkpoint's size of community ``{a}``: known only
    once the world is built and signed (``_signed`` runs first, for the path)."""

    def format(self, *args, **kwargs) -> str:
        from apps.ledger.models import Checkpoint

        sizes = Checkpoint.objects.filter(community_id=kwargs["a"]).order_by("-size").values_list("size", flat=True)
        return str.format(self, *args, size=sizes.first(), **kwargs)


def E(
    name: str,
    method: str,
    rule: str,
    subject=None,
    body=None,
    why="",
    query="",
    headers=None,
    bug="",
    visit_as=(),
    **kw,
) -> Entry:
    """One entry, short enough that the table reads as a table: path parameters by name."""
    return Entry(name, method, rule, subject, body, kw, why, query, headers or {}, bug, visit_as)


# Holes found by the matrix get ``bug="why"`` on their entry: xfail(strict=True) until
# fixed. None is open (the superuser's challenge create was one: apps/codesign/api.py).


def _suggestion(world: World) -> int:
    """A suggestion the front door made for the counterpart while the world was built."""
    from apps.front.models import Suggestion

    return Suggestion.objects.filter(user=world.people["counterpart"]).values_list("pk", flat=True).first() or 0


def _skills(world: World) -> list[int]:
    return list(world.subject("offer").skills.values_list("pk", flat=True))


def _request_body(world: World) -> dict:
    start = timezone.localdate() + timedelta(days=2)
    return {
        "title": "Help with my bike",
        "description": "Flat.",
        "community": _a(world),
        "skills": _skills(world),
        "wanted_from": start.isoformat(),
        "wanted_until": (start + timedelta(days=3)).isoformat(),
    }


# Rules are written in full where they are not one of the named ones (rules.py has the
# letters and the persona order); ``why`` says what is special where it is not plain.

API: list[Entry] = [
    # --- peers ----------------------------------------------------------------------------
    E("api-root", "GET", SIGNED_IN),
    E("me", "GET", SIGNED_IN),
    E("me", "PATCH", SIGNED_IN, body={"display_name": "Renamed"}),
    E("me", "PUT", SIGNED_IN, body={"display_name": "Renamed", "bio": ""}),
    E("community-list", "GET", SIGNED_IN),
    E("community-detail", "GET", SIGNED_IN, "community"),
    E(
        "community-join",
        "POST",
        "LRROOOOROR",
        "community",
        why="sunnyside approves each newcomer: joining outright is refused (409)",
    ),
    E("community-leave", "POST", "LRRROOORRR", "community", why="the last organizer may not leave"),
    E("community-join-requests", "GET", ORGANIZER_OR_SUPERUSER, "community"),
    E(
        "community-join-requests",
        "POST",
        "LOORRRRORO",
        "community",
        body={"message": "Hello"},
        why="anyone not in it may ask",
    ),
    E("community-approve-join-request", "POST", ORGANIZER_OR_SUPERUSER, "community", request_pk=_pk("join_request")),
    E("community-decline-join-request", "POST", ORGANIZER_OR_SUPERUSER, "community", request_pk=_pk("join_request")),
    E("community-members", "GET", "LHHHOOOHOO", community_pk=_a, why="a suspended member does not see the list"),
    E(
        "community-member-promote",
        "POST",
        "LRRRRRRROO",
        "membership",
        community_pk=_a,
        why="organizers and the superuser",
    ),
    E("community-exchanges", "GET", "LHHHOOOHOO", community_pk=_a),
    E("community-exchanges", "POST", "LHHHDDDHOO", community_pk=_a, body={"key": "solar"}, why="members 403"),
    E("community-exchange", "DELETE", "LHHHDDDHOO", community_pk=_a, key="tools"),
    E("blueprint-list", "GET", PUBLIC),
    E("search", "GET", SIGNED_IN, query="q=drill"),
    E("me-dashboard", "GET", SIGNED_IN),
    E("me-export", "GET", OWNER),
    E("me-export", "POST", SIGNED_IN),
    E(
        "me-import",
        "POST",
        "LVVVVVVVVV",
        body=MULTIPART,
        why="an empty upload: moving is tested in tests/privacy/test_move_house.py",
    ),
    # --- neighbouring communities on other servers (apps/federation): what members see of them ---
    E("federation-listing-list", "GET", SIGNED_IN, why="each sees the listings of the communities theirs follow"),
    E("federation-listing-detail", "GET", MEMBERS, "remote_listing"),
    E(
        "federation-listing-borrow",
        "POST",
        "LHHHVVVHVH",
        "remote_listing",
        body={},
        why="members of a community that follows its home may ask; an empty body is a 400",
    ),
    E("federation-exchange-list", "GET", SIGNED_IN),
    E("federation-exchange-detail", "GET", COUNTERPART, "remote_exchange"),
    E("federation-exchange-cancel", "POST", COUNTERPART, "remote_exchange"),
    E("federation-exchange-pickup", "POST", COUNTERPART_NOT_NOW, "remote_exchange", why="not accepted yet"),
    E("me-export-download", "GET", OWNER, "export"),
    E("me-delete", "GET", SIGNED_IN),
    E(
        "me-delete",
        "POST",
        "LVVVVVVVVV",
        body={"confirm": True, "password": "wrong"},
        why="a wrong password: deleting is tested in tests/privacy",
    ),
    # --- ledger, reputation, notifications, moderation ------------------------------------
    E(
        "ledger-verify",
        "GET",
        "LDDOOOODOO",
        query="community={a}",
        why="the chain of a community its members (suspended too) may check",
    ),
    E("ledger-export", "GET", "LDDOOOODOO", query="community={a}"),
    E("ledger-account-list", "GET", SIGNED_IN),
    E("ledger-account-detail", "GET", "LHHHOHHHOH", "account", why="the holder and the organizers"),
    E("ledger-transfer-list", "GET", SIGNED_IN),
    E(
        "ledger-transfer-list",
        "POST",
        "LRRROROROR",
        headers={"Idempotency-Key": "perm-1"},
        body=lambda w: {
            "community": _a(w),
            "currency": "HOUR",
            "to": w.people["counterpart"].pk,
            "amount": "0.50",
            "memo": "Thanks",
        },
    ),
    E("ledger-transfer-detail", "GET", PARTIES, "transfer"),
    # --- ledger log (members) ---
    # The log, its checkpoints and consistency proofs hold only names, keys, sizes and hashes:
    # public (anyone may watch a log). Inclusion proofs and leaves carry the entries: as ledger-verify.
    E("ledger-log", "GET", PUBLIC, community_pk=_a),
    E("ledger-log-checkpoints", "GET", PUBLIC, community_pk=_signed),
    E("ledger-log-checkpoint", "GET", PUBLIC, community_pk=_signed, number=1),
    E("ledger-log-consistency", "GET", PUBLIC, community_pk=_signed, query=_Sizes("first={size}&second={size}")),
    E("ledger-log-inclusion", "GET", "LDDOOOODOO", community_pk=_signed, query="seq=1"),
    E("ledger-log-leaves", "GET", "LDDOOOODOO", community_pk=_signed, query="start=0&end=1"),
    E("review-list", "GET", SIGNED_IN),
    E(
        "review-list",
        "POST",
        "LRRRORRRRR",
        body=lambda w: {
            "exchange_type": "exchanges.exchange",
            "exchange_id": w.subject("review").object_id,
            "rating": 5,
        },
        why="the provider reviews the receiver of a finished exchange; the receiver already has",
    ),
    E("notification-list", "GET", SIGNED_IN),
    E("notification-read-all", "POST", SIGNED_IN),
    E("notification-detail", "GET", OWNER, "notification"),
    E("notification-read", "POST", OWNER, "notification"),
    E("notification-preferences", "GET", SIGNED_IN),
    E("notification-preferences", "PUT", SIGNED_IN, body=[{"kind": "ledger.received", "delivery": "digest"}]),
    E("flag-list", "GET", SIGNED_IN),
    E(
        "flag-list",
        "POST",
        "LRRRRROROR",
        body=lambda w: {"target_type": "tools.tool", "target_id": w.subject("tool").pk, "reason": "scam"},
    ),
    E("flag-detail", "GET", "LHHHHOHHOO", "flag", why="the reporter and the organizers, never the reported member"),
    # --- tools ----------------------------------------------------------------------------
    E("tool-category-list", "GET", SIGNED_IN),
    E("tool-list", "GET", SIGNED_IN),
    E(
        "tool-list",
        "POST",
        "LVVVOOOVOV",
        body=lambda w: {
            "title": "Ladder",
            "description": "Long.",
            "community": _a(w),
            "category": w.subject("tool").category.slug,
        },
    ),
    E("tool-detail", "GET", MEMBERS, "tool"),
    E("tool-detail", "PATCH", OWNER, "tool", body={"title": "Renamed drill"}),
    E(
        "tool-detail",
        "PUT",
        OWNER,
        "tool",
        body=lambda w: {
            "title": "Renamed drill",
            "description": "Short.",
            "community": _a(w),
            "category": w.subject("tool").category.slug,
        },
    ),
    E("tool-availability", "GET", MEMBERS, "tool"),
    E(
        "tool-photos",
        "POST",
        OWNER,
        "tool",
        body=lambda w: MULTIPART | {"image": png_upload(size=(64, 48)), "alt_text": "A drill"},
    ),
    E("tool-photo-remove", "DELETE", OWNER, "tool", photo_id=_pk("photo")),
    E("reservation-list", "GET", SIGNED_IN),
    E(
        "reservation-list",
        "POST",
        "LVVVRROVOV",
        body=lambda w: {"tool": w.subject("tool").pk, "starts_at": _later(20), "ends_at": _later(21)},
    ),
    E("reservation-detail", "GET", PARTIES, "loan_requested"),
    E("reservation-approve", "POST", "LHHHORHHHH", "loan_requested"),
    E("reservation-decline", "POST", "LHHHORHHHH", "loan_requested", body={"note": "Away"}),
    E("reservation-cancel", "POST", "LHHHROHHHH", "loan_requested"),
    E("reservation-pickup", "POST", PARTIES_NOT_NOW, "loan_approved"),
    E("reservation-return", "POST", "LHHHORHHHH", "loan_picked_up"),
    E(
        "reservation-condition",
        "POST",
        PARTIES,
        "loan_picked_up",
        body=MULTIPART | {"stage": "return", "condition": "good", "note": "Fine"},
    ),
    E("waitlist-list", "GET", SIGNED_IN),
    E(
        "waitlist-list",
        "POST",
        "LVVVRROVOV",
        body=lambda w: {"tool": w.subject("tool").pk, "starts_at": _later(3, 1), "ends_at": _later(3, 3)},
    ),
    E("waitlist-detail", "GET", COUNTERPART, "waitlist"),
    E("waitlist-accept", "POST", COUNTERPART_NOT_NOW, "waitlist"),
    E("waitlist-withdraw", "POST", COUNTERPART, "waitlist"),
    # --- skills ---------------------------------------------------------------------------
    E("skill-category-list", "GET", SIGNED_IN),
    E("skill-offer-list", "GET", SIGNED_IN),
    E(
        "skill-offer-list",
        "POST",
        "LVVVOOOVOV",
        body=lambda w: {"title": "I fix bikes", "description": "Any bike.", "community": _a(w), "skills": _skills(w)},
    ),
    E("skill-offer-detail", "GET", MEMBERS, "offer"),
    E("skill-offer-detail", "PATCH", OWNER, "offer", body={"title": "I fix old bikes"}),
    E(
        "skill-offer-detail",
        "PUT",
        OWNER,
        "offer",
        body=lambda w: {"title": "I fix old bikes", "description": "Any.", "community": _a(w), "skills": _skills(w)},
    ),
    E("skill-offer-close", "POST", OWNER, "offer"),
    E("skill-offer-reopen", "POST", OWNER_NOT_NOW, "offer"),
    E("skill-offer-renew", "POST", OWNER_NOT_NOW, "offer"),
    E("skill-request-list", "GET", SIGNED_IN),
    E("skill-request-list", "POST", "LVVVOOOVOV", body=lambda w: _request_body(w)),
    E("skill-request-detail", "GET", MEMBERS, "request"),
    E("skill-request-detail", "PATCH", COUNTERPART, "request", body={"title": "Help with my bike"}),
    E("skill-request-detail", "PUT", COUNTERPART, "request", body=lambda w: _request_body(w)),
    E("skill-request-close", "POST", COUNTERPART, "request"),
    E("skill-request-reopen", "POST", COUNTERPART_NOT_NOW, "request"),
    E("skill-match-list", "GET", SIGNED_IN),
    E("skill-match-detail", "GET", PARTIES, "match"),
    E("skill-session-list", "GET", SIGNED_IN),
    E(
        "skill-session-list",
        "POST",
        "LRRROORRRR",
        body=lambda w: {
            "community": _a(w),
            "title": "Bikes",
            "helper": w.people["owner"].pk,
            "learner": w.people["counterpart"].pk,
            "starts_at": _later(4),
            "planned_hours": "1.00",
            "place": "Here",
        },
    ),
    E("skill-session-detail", "GET", PARTIES, "session"),
    E("skill-session-accept", "POST", PARTIES_NOT_NOW, "session"),
    E("skill-session-cancel", "POST", PARTIES, "session", body={"note": "Ill"}),
    E("skill-session-confirm", "POST", PARTIES_NOT_NOW, "session", body={"hours": "2.00"}),
    E("skill-session-dispute", "POST", PARTIES_NOT_NOW, "session", body={"note": "Did not happen"}),
    E("skill-session-join", "POST", "LHHHHOOHOH", "group"),
    E("skill-session-leave", "POST", PARTIES_NOT_NOW, "session"),
    # --- solar ----------------------------------------------------------------------------
    E("solar-meter-list", "GET", SIGNED_IN),
    E(
        "solar-meter-list",
        "POST",
        "LRRROOOROR",
        body=lambda w: {"name": "Roof", "kind": "producer", "peak_capacity_w": 3000, "community": _a(w)},
    ),
    E("solar-meter-detail", "GET", OWNER, "meter"),
    E("solar-meter-retire", "POST", OWNER, "meter"),
    E("solar-meter-tokens", "GET", OWNER, "meter"),
    E("solar-meter-tokens", "POST", OWNER, "meter", body={"label": "Pi 2"}),
    E("solar-meter-token-revoke", "POST", OWNER, "meter", token_id=_pk("token")),
    E("solar-reading-list", "GET", SIGNED_IN),
    E(
        "solar-reading-list",
        "POST",
        "LVVVOVVVVV",
        body=lambda w: {
            "meter": w.subject("meter").pk,
            "readings": [{"interval_start": "2026-01-05T10:00:00Z", "imported_wh": 0, "exported_wh": 5}],
        },
    ),
    E(
        "solar-reading-p1",
        "POST",
        "LVVVVVVVVV",
        body={"meter": 0, "telegrams": []},
        why="a device posts here with its token (tests/solar); a session is only checked to be refused",
    ),
    E("solar-order-list", "GET", SIGNED_IN),
    E(
        "solar-order-list",
        "POST",
        "LVVVOVVVVV",
        body=lambda w: {
            "meter": w.subject("meter").pk,
            "slot_start": w.subject("slot").start.isoformat(),
            "side": "sell",
            "quantity_wh": 50,
            "limit_price": "0.30",
        },
    ),
    E("solar-order-detail", "GET", OWNER, "order"),
    E("solar-order-cancel", "POST", OWNER, "order"),
    E("solar-order-change", "POST", OWNER, "order", body={"quantity_wh": 80, "limit_price": "0.26"}),
    E("solar-standing-order-list", "GET", SIGNED_IN),
    E(
        "solar-standing-order-list",
        "POST",
        "LVVVOVVVVV",
        body=lambda w: {
            "meter": w.subject("meter").pk,
            "side": "sell",
            "quantity_wh": 100,
            "limit_price": "0.2",
            "from_time": "11:00",
            "until_time": "12:00",
        },
    ),
    E("solar-standing-order-detail", "GET", OWNER, "standing"),
    E("solar-standing-order-pause", "POST", OWNER, "standing"),
    E("solar-standing-order-resume", "POST", OWNER_NOT_NOW, "standing"),
    E("solar-standing-order-end", "POST", OWNER, "standing"),
    E("solar-slot-list", "GET", SIGNED_IN),
    E("solar-slot-detail", "GET", MEMBERS, "slot"),
    E("solar-slot-cancel", "POST", "LHHHRRRHOH", "slot", body={"note": "Grid works"}),
    E("solar-trade-list", "GET", SIGNED_IN),
    E("solar-trade-detail", "GET", PARTIES, "trade"),
    # --- co-design ------------------------------------------------------------------------
    E("challenge-list", "GET", SIGNED_IN),
    E(
        "challenge-list",
        "POST",
        "LRRRRRRROO",
        body=lambda w: {
            "community": _a(w),
            "title": "A shed",
            "brief": "Bikes.",
            "space": "Yard",
            "ideas_until": _later(3),
            "proposals_until": _later(6),
            "voting_until": _later(9),
            "budget": "100",
        },
    ),
    E("challenge-detail", "GET", MEMBERS_AND_SUSPENDED, "challenge"),
    E("challenge-ballot", "GET", MEMBERS_AND_SUSPENDED, "voting_challenge"),
    E("challenge-results", "GET", MEMBERS_AND_SUSPENDED, "building_challenge"),
    E("challenge-comments", "GET", MEMBERS_AND_SUSPENDED, "proposals_challenge"),
    E("challenge-comments", "POST", MEMBERS_POST, "proposals_challenge", body={"text": "Nice."}),
    E("challenge-ideas", "GET", MEMBERS_AND_SUSPENDED, "challenge"),
    E("challenge-ideas", "POST", MEMBERS_POST, "challenge", body={"text": "A swing."}),
    E("challenge-proposals", "GET", MEMBERS_AND_SUSPENDED, "proposals_challenge"),
    E(
        "challenge-proposals",
        "POST",
        MEMBERS_POST,
        "proposals_challenge",
        body={"title": "Bench", "description": "Oak."},
    ),
    E("challenge-tasks", "GET", MEMBERS_AND_SUSPENDED, "building_challenge"),
    E(
        "challenge-tasks",
        "POST",
        ORGANIZER_STEP,
        "building_challenge",
        body=lambda w: {"project": w.subject("project").pk, "title": "Paint", "hours": "1", "places": 2},
    ),
    E("challenge-follow", "POST", MEMBERS_POST, "challenge"),
    E("challenge-follow", "DELETE", MEMBERS_AND_SUSPENDED, "challenge"),
    E("challenge-unfollow", "POST", MEMBERS_AND_SUSPENDED, "challenge"),
    E("challenge-open_proposals", "POST", ORGANIZER_STEP, "challenge"),
    E("challenge-open_voting", "POST", ORGANIZER_STEP, "proposals_challenge"),
    E("challenge-close_voting", "POST", ORGANIZER_STEP, "voting_challenge"),
    E("challenge-finish", "POST", ORGANIZER_STEP, "building_challenge"),
    E(
        "challenge-spend",
        "POST",
        ORGANIZER_STEP,
        "building_challenge",
        body=lambda w: {
            "amount": "5.00",
            "memo": "Paint",
            "recipient": w.people["counterpart"].pk,
            "idempotency_key": "perm-spend",
        },
    ),
    E("proposal-detail", "GET", MEMBERS_AND_SUSPENDED, "proposal"),
    E("proposal-detail", "PATCH", OWNER, "draft", body={"title": "Better bench"}),
    E("proposal-submit", "POST", OWNER, "draft"),
    E("proposal-withdraw", "POST", "LHHRORRHRH", "proposal"),
    E("proposal-accept", "POST", ORGANIZER_STEP, "proposal"),
    E("proposal-decline", "POST", ORGANIZER_STEP, "proposal", body={"note": "Too big"}),
    E("proposal-publish-answer", "POST", "LHHRRRRHRH", "proposal"),
    E("proposal-coauthors", "POST", OWNER, "draft", body=lambda w: {"coauthor": w.people["member"].pk}),
    E("proposal-comments", "GET", MEMBERS_AND_SUSPENDED, "proposal"),
    E("proposal-comments", "POST", MEMBERS_POST, "proposal", body={"text": "Nice."}),
    E("proposal-vote", "POST", MEMBERS_POST, "ballot_proposal", body={"dots": 1}),
    E("idea-plus-one", "POST", "LHHROROHOH", "idea"),
    E("task-detail", "GET", MEMBERS_AND_SUSPENDED, "task"),
    E("task-join", "POST", "LHHROROHOH", "task"),
    E("volunteer-detail", "GET", MEMBERS_AND_SUSPENDED, "volunteer"),
    E("volunteer-confirm", "POST", ORGANIZER_STEP, "volunteer"),
    E("volunteer-leave", "POST", "LHHRRORHRH", "volunteer"),
    # --- outside /api/v1/: the schema and its docs are public ------------------------------
    # The schema is one document for everyone (about a second to build): read as a visitor
    # and as a member only.
    E("schema", "GET", PUBLIC, visit_as=("anonymous", "owner")),
    E("api-docs", "GET", PUBLIC),
    E("api-redoc", "GET", PUBLIC),
]


def _unsubscribe(world: World) -> str:
    from apps.notifications.services import unsubscribe_url

    return unsubscribe_url(user=world.people["owner"], kind="ledger.received").rstrip("/").rsplit("/", 1)[-1]


PAGES: list[Entry] = [
    # --- the federation protocol (apps/federation/views_ap.py): for other servers, no sign-in ---
    E("activitypub:webfinger", "GET", PUBLIC, query=f"resource=acct:sunnyside@{urlsplit(settings.SITE_URL).netloc}"),
    E("activitypub:nodeinfo-index", "GET", PUBLIC),
    E("activitypub:nodeinfo", "GET", PUBLIC),
    E("activitypub:actor", "GET", PUBLIC, slug="sunnyside", headers={"Accept": "application/activity+json"}),
    E("activitypub:outbox", "GET", PUBLIC, slug="sunnyside"),
    E("activitypub:followers", "GET", PUBLIC, slug="sunnyside"),
    E("activitypub:following", "GET", PUBLIC, slug="sunnyside"),
    E(
        "activitypub:listing",
        "GET",
        "LLLLLLLLLL",
        "tool",
        slug="sunnyside",
        kind="tool",
        why="only to a neighbour it accepted, signed",
    ),
    E(
        "activitypub:person",
        "GET",
        "HHHHHHHHHH",
        handle="8d4f0b8e-8a8c-4a52-9d0e-2b6a3c1f4e21",
        why="nobody in the world opted in: an unknown person is 404",
    ),
    E(
        "activitypub:inbox",
        "POST",
        "LLLLLLLLLL",
        slug="sunnyside",
        why="unsigned: 401 (tests/federation/test_protocol.py)",
    ),
    E("activitypub:shared-inbox", "POST", "LLLLLLLLLL", why="unsigned: 401"),
    E("activitypub:clearing", "GET", "LLLLLLLLLL", slug="sunnyside", why="only for a signed request of that neighbour"),
    # --- neighbouring communities: the organizers' page, opting in, remote listings and exchanges ---
    E("federation:community", "GET", ORGANIZER_OR_SUPERUSER, slug="sunnyside"),
    E("federation:on", "POST", ORGANIZER_OR_SUPERUSER, slug="sunnyside"),
    E("federation:off", "GET", ORGANIZER_OR_SUPERUSER, slug="sunnyside"),
    E("federation:off", "POST", ORGANIZER_OR_SUPERUSER, slug="sunnyside"),
    E("federation:follow", "POST", "LHHHHHHHFF", slug="sunnyside", body={}),
    E("federation:follow-accept", "POST", ORGANIZER_OR_SUPERUSER, "follow_in", slug="sunnyside"),
    E("federation:follow-reject", "POST", ORGANIZER_OR_SUPERUSER, "follow_in", slug="sunnyside"),
    E("federation:follow-end", "GET", ORGANIZER_OR_SUPERUSER, "follow_out", slug="sunnyside"),
    E("federation:follow-end", "POST", ORGANIZER_OR_SUPERUSER, "follow_out", slug="sunnyside"),
    E("federation:limit", "POST", "LHHHHHHHFF", slug="sunnyside", body={}),
    E("federation:me", "GET", SIGNED_IN),
    E("federation:me", "POST", SIGNED_IN, body={"opt_in": "0"}),
    E("federation:listings", "GET", SIGNED_IN),
    E("federation:exchanges", "GET", SIGNED_IN),
    E("federation:listing", "GET", MEMBERS, "remote_listing"),
    E("federation:listing-borrow", "POST", "LHHHFFFHFH", "remote_listing", body={}),
    E("federation:exchange-cancel", "GET", COUNTERPART, "remote_exchange"),
    E("federation:exchange-cancel", "POST", COUNTERPART, "remote_exchange"),
    E("federation:exchange-pickup", "POST", COUNTERPART_NOT_NOW, "remote_exchange", why="not accepted yet"),
    E("privacy:move", "GET", SIGNED_IN),
    E("privacy:move", "POST", "LVVVVVVVVV", why="an empty form: the form again (400)"),
    E("healthz", "GET", PUBLIC),
    E("readyz", "GET", PUBLIC),
    E("service-worker", "GET", PUBLIC),
    E("offline", "GET", PUBLIC),
    E("front:home", "GET", PUBLIC),
    E("front:guide", "GET", PUBLIC),
    E("front:blueprint", "GET", PUBLIC, key="tools"),
    E("front:blueprint-use", "GET", SIGNED_IN, key="tools"),
    E("front:search", "GET", SIGNED_IN),
    E("front:suggestion-dismiss", "POST", COUNTERPART, suggestion_id=_suggestion),
    E("peers:list", "GET", PUBLIC),
    E("peers:community", "GET", PUBLIC, slug="sunnyside"),
    E("peers:community-join", "POST", SIGNED_IN, slug="sunnyside"),
    E("peers:join-request-withdraw", "POST", SIGNED_IN, slug="sunnyside"),
    E("peers:community-leave", "POST", "LOOROOOORO", "community", slug="sunnyside"),
    E("peers:member-promote", "POST", "LRRRRRRROO", "membership", slug="sunnyside", membership_id=_pk("membership")),
    E(
        "peers:profile",
        "GET",
        "HHHHOOOHOO",
        user_id=lambda w: w.people["owner"].pk,
        why="only people who share a community (DESIGN 5) and the superuser",
    ),
    E("peers:profile-edit", "GET", SIGNED_IN),
    E("peers:language", "POST", PUBLIC, body={"language": "en"}),
    E("peers:about-developers", "GET", PUBLIC),
    E("ledger:mine", "GET", SIGNED_IN),
    E("ledger:community", "GET", SIGNED_IN, slug="sunnyside"),
    # --- ledger log (members) ---
    E("ledger:entry-proof", "GET", SIGNED_IN, slug="sunnyside", seq=1, why="as ledger:community: others go there"),
    # --- ledger log (witness protocol) ---
    # A machine protocol for witnesses and auditors: no sign-in, the same answer for everyone.
    E("ledger-log:discovery", "GET", PUBLIC, slug="sunnyside"),
    E(
        "ledger-log:checkpoint",
        "GET",
        "HHHHHHHHHH",
        slug="sunnyside",
        why="the world publishes no checkpoint: 404 for everyone (tests/ledger/test_witness.py serves one)",
    ),
    E(
        "ledger-log:consistency",
        "GET",
        "VVVVVVVVVV",
        slug="sunnyside",
        first="1",
        second="2",
        why="only sizes of published checkpoints: 400 for everyone",
    ),
    E(
        "ledger-log:cosignature",
        "POST",
        "VVVVVVVVVV",
        slug="sunnyside",
        body={"note": "x"},
        why="a form is not a co-signed checkpoint: 400 for everyone (accepted ones: test_witness.py)",
    ),
    E(
        "reputation:review-create",
        "GET",
        PARTIES,
        exchange_type="exchanges.exchange",
        exchange_id=lambda w: w.subject("review").object_id,
    ),
    E("notifications:list", "GET", SIGNED_IN),
    E("notifications:bell", "GET", SIGNED_IN),
    E("notifications:read", "POST", OWNER, "notification"),
    E("notifications:read-all", "POST", SIGNED_IN),
    E("notifications:preferences", "GET", SIGNED_IN),
    E("notifications:unsubscribe", "GET", PUBLIC, token=_unsubscribe),
    E(
        "moderation:report",
        "POST",
        "LRRRRROROR",
        body=lambda w: {"target_type": "tools.tool", "target_id": w.subject("tool").pk, "reason": "scam", "text": ""},
        why="as flag-list POST: the owner can't report their own tool, the counterpart already did",
    ),
    E("privacy:page", "GET", SIGNED_IN),
    E("privacy:status", "GET", SIGNED_IN),
    E("privacy:prepare", "POST", SIGNED_IN),
    E("privacy:download", "GET", "LHHHHHHHHH", token=lambda w: "not-a-token"),
    E("account_delete:start", "GET", SIGNED_IN),
    E("account_delete:done", "GET", PUBLIC),
    # --- tools ----------------------------------------------------------------------------
    E("tools:list", "GET", SIGNED_IN),
    E("tools:create", "GET", SIGNED_IN),
    E("tools:mine", "GET", SIGNED_IN),
    E("tools:loans", "GET", SIGNED_IN),
    E("tools:requests", "GET", SIGNED_IN),
    E("tools:waitlist", "GET", SIGNED_IN),
    E("tools:waitlist-accept", "POST", COUNTERPART_NOT_NOW, "waitlist"),
    E("tools:waitlist-withdraw", "POST", COUNTERPART, "waitlist"),
    E("tools:loan", "GET", PARTIES, "loan_requested"),
    E(
        "tools:loan-condition",
        "POST",
        PARTIES,
        "loan_picked_up",
        body={"stage": "return", "condition": "good", "note": "Fine"},
    ),
    E("tools:loan-action", "POST", "LHHHORHHHH", "loan_requested", action="approve"),
    E("tools:detail", "GET", MEMBERS, "tool"),
    E(
        "tools:book",
        "POST",
        "LHHHFFOHOH",
        "tool",
        body={"starts_at": "2027-01-20T10:00", "ends_at": "2027-01-21T10:00"},
    ),
    E(
        "tools:waitlist-join",
        "POST",
        "LHHHRRRHRH",
        "tool",
        body={"starts_at": "2027-01-20T10:00", "ends_at": "2027-01-21T10:00"},
    ),
    E("tools:edit", "GET", OWNER, "tool"),
    E("tools:pause", "POST", OWNER, "tool"),
    E("tools:resume", "POST", OWNER_NOT_NOW, "tool"),
    E("tools:retire", "POST", OWNER, "tool"),
    E("tools:photos", "GET", OWNER, "tool"),
    E("tools:photo-remove", "POST", OWNER, "tool", photo_id=_pk("photo")),
    # --- skills ---------------------------------------------------------------------------
    E("skills:directory", "GET", SIGNED_IN),
    E("skills:mine", "GET", SIGNED_IN),
    E("skills:matches", "GET", SIGNED_IN),
    E("skills:offer-create", "GET", SIGNED_IN),
    E("skills:offer", "GET", MEMBERS, "offer"),
    E("skills:offer-edit", "GET", OWNER, "offer"),
    E("skills:offer-close", "POST", OWNER, "offer"),
    E("skills:offer-reopen", "POST", OWNER_NOT_NOW, "offer"),
    E("skills:offer-renew", "POST", OWNER_NOT_NOW, "offer"),
    E("skills:request-create", "GET", SIGNED_IN),
    E("skills:request", "GET", MEMBERS, "request"),
    E("skills:request-edit", "GET", COUNTERPART, "request"),
    E("skills:request-close", "POST", COUNTERPART, "request"),
    E("skills:request-reopen", "POST", COUNTERPART_NOT_NOW, "request"),
    E("skills:sessions", "GET", SIGNED_IN),
    E("skills:session-create", "GET", SIGNED_IN),
    E("skills:group-session-create", "GET", SIGNED_IN),
    E("skills:session", "GET", PARTIES, "session"),
    E("skills:session-accept", "POST", PARTIES_NOT_NOW, "session"),
    E("skills:session-cancel", "POST", PARTIES, "session"),
    E("skills:session-join", "POST", "LHHHROOHOH", "group"),
    E("skills:session-leave", "POST", PARTIES_NOT_NOW, "session"),
    E("skills:seat-confirm", "POST", PARTIES_NOT_NOW, "session", seat_pk=_pk("seat"), body={"hours": "2.00"}),
    E("skills:seat-dispute", "POST", PARTIES_NOT_NOW, "session", seat_pk=_pk("seat"), body={"reason": "No"}),
    # --- solar ----------------------------------------------------------------------------
    E("solar:market", "GET", SIGNED_IN),
    E("solar:slot", "GET", MEMBERS, "slot"),
    E(
        "solar:slot-cancel",
        "POST",
        "LHHHFFFHOH",
        "slot",
        body={"reason": "Grid works"},
        why="members: the form, refused",
    ),
    E("solar:orders", "GET", SIGNED_IN),
    E("solar:order-create", "GET", SIGNED_IN),
    E("solar:order-change", "POST", OWNER, "order", body={"quantity_kwh": "0.08", "limit_price": "0.26"}),
    E("solar:order-cancel", "POST", OWNER, "order"),
    E("solar:standing-create", "GET", SIGNED_IN),
    E("solar:standing-step", "POST", OWNER, "standing", action="pause"),
    E("solar:meters", "GET", SIGNED_IN),
    E("solar:meter-create", "GET", SIGNED_IN),
    E("solar:meter", "GET", OWNER, "meter"),
    E("solar:meter-retire", "POST", OWNER, "meter"),
    E(
        "solar:reading-create",
        "POST",
        OWNER,
        "meter",
        body={"interval_start": "2026-01-01T10:00", "imported_wh": 0, "exported_wh": 5},
    ),
    E("solar:reading-upload", "POST", "LHHHFHHHHH", "meter", body={}, why="no file: the owner gets the form back"),
    E(
        "solar:token-create",
        "POST",
        "LHHHFHHHHH",
        "meter",
        body={"label": "Pi 2"},
        why="the new token is shown once, on a 200 page",
    ),
    E("solar:token-revoke", "POST", OWNER, "meter", token_pk=_pk("token")),
    E("solar:trades", "GET", SIGNED_IN),
    # --- co-design ------------------------------------------------------------------------
    E("codesign:list", "GET", SIGNED_IN),
    E("codesign:challenge-create", "GET", "LRRRRRROOR", why="organizers (of any community) get the form"),
    E("codesign:challenge", "GET", MEMBERS_AND_SUSPENDED, "challenge"),
    E("codesign:challenge-step", "POST", ORGANIZER_STEP, "challenge", step="open_proposals", body={"note": ""}),
    E("codesign:challenge-follow", "POST", MEMBERS_POST, "challenge"),
    E("codesign:challenge-photo-add", "GET", ORGANIZER, "challenge"),
    E("codesign:idea-post", "POST", "LHHFOOOHOH", "challenge", body={"text": "A swing."}),
    E("codesign:idea-plus-one", "POST", "LHHROROHOH", "idea"),
    E("codesign:proposals", "GET", MEMBERS_AND_SUSPENDED, "proposals_challenge"),
    E("codesign:proposal-create", "GET", MEMBERS_AND_SUSPENDED, "proposals_challenge"),
    E("codesign:proposal", "GET", MEMBERS_AND_SUSPENDED, "proposal"),
    E("codesign:proposal-edit", "GET", OWNER, "draft"),
    E("codesign:proposal-photo-add", "GET", OWNER, "draft"),
    E("codesign:proposal-step", "POST", OWNER, "draft", step="submit"),
    E("codesign:proposal-answer", "POST", ORGANIZER, "proposal", body={"decision": "accept", "publish": "on"}),
    E("codesign:proposal-coauthor", "POST", OWNER, "draft", body=lambda w: {"coauthor": w.people["member"].pk}),
    E("codesign:comment-post", "POST", "LHHFOOOHOH", "proposals_challenge", body={"text": "Nice."}),
    E("codesign:ballot", "GET", MEMBERS_AND_SUSPENDED, "voting_challenge"),
    E("codesign:results", "GET", MEMBERS_AND_SUSPENDED, "building_challenge"),
    E("codesign:board", "GET", MEMBERS_AND_SUSPENDED, "building_challenge"),
    E(
        "codesign:task-create",
        "POST",
        ORGANIZER,
        "building_challenge",
        body=lambda w: {"project": w.subject("project").pk, "title": "Paint", "hours": "1", "places": 2},
    ),
    E(
        "codesign:budget-spend",
        "POST",
        ORGANIZER,
        "building_challenge",
        body=lambda w: {"recipient": w.people["counterpart"].pk, "amount": "5.00", "memo": "Paint", "key": "perm"},
    ),
    E("codesign:task-join", "POST", "LHHROROHOH", "task"),
    E("codesign:volunteer-step", "POST", ORGANIZER_STEP, "volunteer", step="confirm"),
]

# Forms that save: the page above is their GET; their POST is visited too, where it acts
# on someone's row (a body with a changed title: refused, the row must stay as it was).
FORMS: list[Entry] = [
    E("tools:edit", "POST", OWNER_FORM, "tool", body={"title": "Renamed drill"}),
    E("tools:photos", "POST", OWNER_FORM, "tool", body={}),
    E("skills:offer-edit", "POST", OWNER_FORM, "offer", body={"title": "Renamed offer"}),
    E("skills:request-edit", "POST", COUNTERPART_FORM, "request", body={"title": "Renamed request"}),
    E("codesign:proposal-edit", "POST", OWNER_FORM, "draft", body={"title": "Renamed proposal"}),
    E("codesign:proposal-photo-add", "POST", OWNER_FORM, "draft", body={}),
    E("codesign:challenge-photo-add", "POST", ORGANIZER_FORM, "challenge", body={}),
    E(
        "codesign:ballot",
        "POST",
        MEMBERS_POST,
        "voting_challenge",
        body=lambda w: {"proposal": w.subject("ballot_proposal").pk, "dots": 1},
    ),
    E("peers:profile-edit", "POST", SIGNED_IN, body={"display_name": "Renamed"}),
]

# The admin: every ModelAdmin by model label, with one rule for its changelist, add,
# change and delete views (GET; the delete view's GET is the confirmation page, which
# Django refuses without the delete permission).
ADMIN_VIEWS = ("changelist", "add", "change", "delete")


def _admin(changelist: str, add: str, change: str, delete: str) -> dict[str, str]:
    return {"changelist": changelist, "add": add, "change": change, "delete": delete}


# Staff only: everyone else is sent to the admin's sign-in (A). An organizer (staff) sees
# their community's rows; another community's row is "not found" (H: the admin sends them
# back to its index with a warning, Django's answer to a missing row, not a 404 status).
# Adding and deleting: only where the ModelAdmin lets organizers, or the superuser.
SCOPED = _admin("AAAAAAAOOO", "AAAAAAADDO", "AAAAAAAHOO", "AAAAAAADDO")
# Records changed only through services (ledger, reviews, audit logs, exchanges' rows):
# nobody adds or deletes them in the admin, the superuser included.
SCOPED_RECORD = _admin("AAAAAAAOOO", "AAAAAAADDD", "AAAAAAAHOO", "AAAAAAADDD")
# Organizers may add these for their community (a challenge, a local skill, a suspension).
SCOPED_ORGANIZER_ADDS = _admin("AAAAAAAOOO", "AAAAAAAOOO", "AAAAAAAHOO", "AAAAAAADDD")
# The site's own tables (accounts' emails, schedules, profiles): the superuser only.
SUPERUSER = _admin("AAAAAAADDO", "AAAAAAADDO", "AAAAAAADDO", "AAAAAAADDO")
SUPERUSER_RECORD = _admin("AAAAAAADDO", "AAAAAAADDD", "AAAAAAADDO", "AAAAAAADDD")

ADMIN: dict[str, dict[str, str]] = {
    **dict.fromkeys(
        (
            "codesign.Comment",
            "codesign.Idea",
            "codesign.Project",
            "codesign.Task",
            "codesign.Volunteer",
            "ledger.Account",
            "ledger.Checkpoint",
            "ledger.Entry",
            "ledger.LimitChange",
            "ledger.LogAlarm",
            "ledger.ClearingCheck",
            "federation.Follow",
            "federation.RemoteExchange",
            "federation.Delivery",
            "federation.InboxItem",
            "ledger.Transfer",
            "ledger.WitnessView",
            "moderation.Flag",
            "moderation.ModerationQueueItem",
            "moderation.ModerationAction",
            "privacy.Erasure",
            "reputation.Review",
            "skills.Seat",
            "skills.Session",
            "solar.DeviceToken",
            "solar.Meter",
            "solar.MeterReading",
            "solar.Order",
            "solar.Slot",
            "solar.StandingOrder",
            "solar.Trade",
            "tools.Reservation",
            "tools.WaitlistEntry",
        ),
        SCOPED_RECORD,
    ),
    **dict.fromkeys(("peers.Community", "peers.Membership", "skills.Offer", "skills.Request", "tools.Tool"), SCOPED),
    **dict.fromkeys(("codesign.Challenge", "solar.TradingSuspension"), SCOPED_ORGANIZER_ADDS),
    # A local skill: organizers add them; the superuser may also delete one.
    "skills.Skill": _admin("AAAAAAAOOO", "AAAAAAAOOO", "AAAAAAAHOO", "AAAAAAADDO"),
    **dict.fromkeys(
        (
            "account.EmailAddress",
            "auth.Group",
            "django_celery_beat.ClockedSchedule",
            "django_celery_beat.CrontabSchedule",
            "django_celery_beat.IntervalSchedule",
            "django_celery_beat.PeriodicTask",
            "django_celery_beat.SolarSchedule",
            "peers.Profile",
            "skills.SkillCategory",
        ),
        SUPERUSER,
    ),
    **dict.fromkeys(
        ("front.Suggestion", "notifications.Notification", "notifications.Preference", "reputation.TrustScore"),
        SUPERUSER_RECORD,
    ),
    # A draft proposal is its authors' alone: the admin hides it from organizers too.
    "codesign.Proposal": _admin("AAAAAAAOOO", "AAAAAAADDD", "AAAAAAAHHO", "AAAAAAADDD"),
    # An organizer may delete a join request of their community (a spam one).
    "peers.JoinRequest": _admin("AAAAAAAOOO", "AAAAAAADDD", "AAAAAAAHOO", "AAAAAAADDO"),
    # Organizers may not open accounts: the change view sends them to the person's profile
    # page, which shows it only to people who share a community (peers:profile above).
    "peers.User": _admin("AAAAAAADDO", "AAAAAAADDO", "AAAAAAAOOO", "AAAAAAADDO"),
    # --- ledger log (witness protocol) ---: organizers add the witnesses their ledger accepts
    # (and remove one), and the neighbouring ledgers their community checks (switched off, not deleted).
    "ledger.LogWitness": _admin("AAAAAAAOOO", "AAAAAAAOOO", "AAAAAAAHOO", "AAAAAAAHOO"),
    "ledger.WitnessedLog": _admin("AAAAAAAOOO", "AAAAAAAOOO", "AAAAAAAHOO", "AAAAAAADDO"),
    # Tool categories are the site's, shared by every community: organizers read and edit.
    "tools.Category": _admin("AAAAAAAOOO", "AAAAAAADDO", "AAAAAAAOOO", "AAAAAAADDO"),
}

ENTRIES: list[Entry] = API + PAGES + FORMS
