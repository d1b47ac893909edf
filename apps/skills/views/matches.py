"""Matches: helpers for my requests and people my offers could help."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.peers.models import User
from p2pcommons.viewkit import paginate

from .. import selectors
from ..matching import reasons_message
from ..models import Match, Offer, Request

MATCHES_PER_PAGE = 20


@dataclass
class MatchView:
    match: Match
    side: str  # "requester": I asked; "helper": I offered
    other: User
    percent: int
    mine: Offer | Request
    theirs: Offer | Request
    reasons: str = ""  # why, in the reader's language


def _match_view(match: Match, user: User) -> MatchView:
    asked = match.request.member_id == user.pk
    return MatchView(
        match=match,
        side="requester" if asked else "helper",
        other=match.offer.member if asked else match.request.member,
        percent=round(float(match.score) * 100),
        mine=match.request if asked else match.offer,
        theirs=match.offer if asked else match.request,
        reasons=str(reasons_message(match.reasons)),
    )


@login_required
@require_GET
def matches(request: HttpRequest) -> HttpResponse:
    """Helpers for my requests and people my offers could help, best first."""
    page = paginate(request, selectors.matches_of(user=request.user), MATCHES_PER_PAGE)
    page.object_list = [_match_view(match, request.user) for match in page.object_list]
    return render(request, "skills/matches.html", {"page": page})
