"""Reads for the federation: remote listings a member may browse, follows, exchanges, peers."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.peers.models import Community, User
from apps.peers.selectors import member_community_ids

from .models import Follow, LocalActor, RemoteActor, RemoteExchange, RemoteListing


def local_actor_of(*, community: Community) -> LocalActor | None:
    """The community's actor, or None when it never opened to other servers."""
    return LocalActor.objects.filter(community=community).first()


def following_origins(*, community_ids) -> QuerySet[RemoteActor]:
    """Remote communities that one of ``community_ids`` follows (accepted)."""
    return RemoteActor.objects.filter(
        follows__local__community_id__in=community_ids,
        follows__local__enabled=True,
        follows__direction=Follow.Direction.OUT,
        follows__state=Follow.State.ACCEPTED,
    )


def remote_listings_for(*, user: User, kind: str | None = None, q: str | None = None) -> QuerySet[RemoteListing]:
    """Listings of remote communities followed by one of the member's communities (not
    deleted), newest first, with their home community (one query for a page)."""
    if not user.is_authenticated:
        return RemoteListing.objects.none()
    community_ids = member_community_ids(user=user)
    listings = RemoteListing.objects.filter(
        deleted_at__isnull=True, origin__in=following_origins(community_ids=community_ids).values("pk")
    ).select_related("origin")
    if kind:
        listings = listings.filter(kind=kind)
    if q:
        listings = listings.filter(Q(name__icontains=q) | Q(summary__icontains=q) | Q(category__icontains=q))
    return listings.order_by("-updated_at", "-id")


def follows_of(*, community: Community) -> QuerySet[Follow]:
    """Every follow of the community, both ways, newest first."""
    return (
        Follow.objects.filter(local__community=community)
        .select_related("remote", "local")
        .order_by("-created_at", "-id")
    )


def remote_exchanges_for(*, user: User) -> QuerySet[RemoteExchange]:
    """The member's cross-community exchanges (as borrower or lender), newest first."""
    return (
        RemoteExchange.objects.filter(member=user)
        .select_related("peer", "remote_person", "listing", "local__community")
        .order_by("-created_at", "-id")
    )


def clearing_peers_of(*, community: Community) -> list[RemoteActor]:
    """The remote communities ours has exchanged with across (those a clearing account
    may exist for): the peers of its cross-community exchanges and its follows."""
    exchange_peers = RemoteExchange.objects.filter(local__community=community).values("peer_id")
    follow_peers = Follow.objects.filter(local__community=community, state=Follow.State.ACCEPTED).values("remote_id")
    return list(
        RemoteActor.objects.filter(kind=RemoteActor.Kind.GROUP)
        .filter(Q(pk__in=exchange_peers) | Q(pk__in=follow_peers))
        .order_by("name", "id")
    )


def stand_in_user_ids() -> QuerySet:
    """Ids of the local stand-ins of remote people (for lists that must leave them out)."""
    return RemoteActor.objects.filter(user__isnull=False).values("user_id")
