"""Bare baseline views: what an API list costs with nothing but the rows (bench settings only).

For each API list that bench/http.py measures, a plain Django view answers
``JsonResponse(list(qs.values(<the columns the serializer shows>)[:25]), safe=False)``
over the *same rows*: the same selector with the same filters (the API's own filter
serializer reads the query string), the same authentication (the session cookie, by
Django's middleware), the same page size. What the API adds on top (DRF's request and
permission machinery, the page count, nested serializers, prefetches, actions) is the
difference between the two in the same server and the same run; the issue's target is
that each API list keeps at least 0.8x the bare view's throughput.

bench/urls.py mounts ``urlpatterns`` under /bench/bare/.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path

PAGE = 25  # REST_FRAMEWORK["PAGE_SIZE"]

TOOL_COLUMNS = (
    "id", "title", "description", "category__slug", "community_id", "owner_id", "owner__profile__display_name",
    "condition", "usage_rules", "deposit_note", "fee_per_day", "max_loan_days", "min_notice_hours", "buffer_hours",
    "status", "auto_approve", "auto_approve_min_score", "auto_approve_min_exchanges", "created_at",
)  # fmt: skip
LOAN_COLUMNS = (
    "id", "tool_id", "tool__title", "borrower_id", "borrower__profile__display_name", "tool__owner_id",
    "tool__owner__profile__display_name", "starts_at", "ends_at", "status", "message", "fee_per_day", "fee_total",
    "created_at", "picked_up_at", "returned_at",
)  # fmt: skip
OFFER_COLUMNS = (
    "id", "member_id", "member__profile__display_name", "community_id", "title", "description", "remote_ok",
    "status", "expires_at", "created_at", "updated_at", "travel_km",
)  # fmt: skip
MATCH_COLUMNS = (
    "id", "score", "parts", "reasons", "request_id", "request__title", "offer_id", "offer__title",
    "request__member_id", "request__member__profile__display_name", "offer__member_id",
    "offer__member__profile__display_name", "created_at",
)  # fmt: skip
SLOT_COLUMNS = (
    "id", "community_id", "start", "status", "clearing_price", "volume_wh", "buy_orders", "sell_orders",
    "cleared_at", "settled_at", "cancelled_at",
)  # fmt: skip
PROPOSAL_COLUMNS = (
    "id", "challenge_id", "title", "status", "cost", "hours", "author_id", "author__profile__display_name",
    "created_at", "submitted_at",
)  # fmt: skip


def _bare(rows: Callable[[HttpRequest], object], columns: tuple[str, ...]):
    """A view answering the first page of ``rows(request)`` as plain dicts; members only
    (a 403 like the API's for someone signed out)."""

    def view(request: HttpRequest, **kwargs) -> JsonResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "not signed in"}, status=403)
        qs = rows(request, **kwargs)
        return JsonResponse(list(qs.prefetch_related(None).values(*columns)[:PAGE]), safe=False)

    return view


def _tools(request: HttpRequest):
    """The tools API's list: its filter serializer, its selector."""
    from apps.tools import selectors
    from apps.tools.api import ToolFilterSerializer

    params = ToolFilterSerializer(data=request.GET)
    params.is_valid(raise_exception=True)
    f = params.validated_data
    return selectors.tools_search(
        user=request.user,
        community_id=f.get("community"),
        category=f.get("category"),
        q=f.get("q", ""),
        available_from=f.get("available_from"),
        available_to=f.get("available_to"),
        near=(f["lat"], f["lng"], f["radius_km"]) if "lat" in f else None,
    )


def _loans(request: HttpRequest):
    from apps.tools import selectors

    return selectors.reservations_of(user=request.user)


def _offers(request: HttpRequest):
    from apps.skills import selectors
    from apps.skills.models import Offer

    return selectors.listings_search(model=Offer, user=request.user)


def _matches(request: HttpRequest):
    from apps.skills import selectors

    return selectors.matches_of(user=request.user)


def _slots(request: HttpRequest):
    from apps.solar import selectors

    return selectors.slots_visible(user=request.user).order_by("-start", "community_id")


def _proposals(request: HttpRequest, pk: int):
    from apps.codesign import selectors

    challenge = get_object_or_404(selectors.challenges_visible(user=request.user), pk=pk)
    return selectors.proposals_of(challenge=challenge, user=request.user)


urlpatterns = [
    path("bench/bare/tools/", _bare(_tools, TOOL_COLUMNS), name="bench-bare-tools"),
    path("bench/bare/reservations/", _bare(_loans, LOAN_COLUMNS), name="bench-bare-reservations"),
    path("bench/bare/skills/offers/", _bare(_offers, OFFER_COLUMNS), name="bench-bare-offers"),
    path("bench/bare/skills/matches/", _bare(_matches, MATCH_COLUMNS), name="bench-bare-matches"),
    path("bench/bare/solar/slots/", _bare(_slots, SLOT_COLUMNS), name="bench-bare-slots"),
    path("bench/bare/challenges/<int:pk>/proposals/", _bare(_proposals, PROPOSAL_COLUMNS), name="bench-bare-proposals"),
]
