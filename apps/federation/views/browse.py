"""Listings of neighbouring communities inside the exchanges' own browse pages (tools,
skill offers and requests): a few, clearly marked with their home community, and a link
to all of them (``federation:listings``). One query, whatever the number of listings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from apps.peers.models import User

from .. import selectors
from ..models import RemoteListing

SHOWN_IN_BROWSE = 6


@dataclass
class RemoteSection:
    """What a browse page shows under "From neighbouring communities"."""

    listings: list[RemoteListing]
    more_url: str | None


def remote_section(*, user: User, kind: str, q: str = "", limit: int = SHOWN_IN_BROWSE) -> RemoteSection:
    """The first ``limit`` remote listings of ``kind`` the member may see (matching ``q``),
    newest first, and the link to the rest when there are more (one query)."""
    listings = selectors.remote_listings_for(user=user, kind=kind, q=q.strip() or None).select_related("origin")
    rows = list(listings[: limit + 1])
    more_url = None
    if len(rows) > limit:
        params = {"kind": kind, **({"q": q.strip()} if q.strip() else {})}
        more_url = f"{reverse('federation:listings')}?{urlencode(params)}"
    return RemoteSection(listings=rows[:limit], more_url=more_url)
