"""Listings both ways: ours announced to accepted followers as FEP-0837 Proposals
(FEP-1b12: the Group announces), theirs stored as ``RemoteListing``.

An exchange calls ``listing_changed(obj=...)`` when a listing is created, edited,
paused, hidden, shown again or deleted (``apps/tools/federation.py`` connects it); after
the transaction commits, a public listing is sent as ``Announce{Create|Update{Proposal}}``
and one that is no longer public (paused, retired, hidden by a moderator, deleted) as
``Announce{Delete}``, so it leaves the neighbours' browse and search.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .. import activities, registry
from ..models import Follow, LocalActor, RemoteActor, RemoteListing
from .inbox import Deferred, Ignored, _id_of
from .outbox import activity_send


def _followers(local: LocalActor, only: Follow | None = None) -> list[str]:
    if only is not None:
        return [only.remote.inbox or only.remote.shared_inbox]
    remotes = RemoteActor.objects.filter(
        follows__local=local, follows__direction=Follow.Direction.IN, follows__state=Follow.State.ACCEPTED
    ).values_list("inbox", "shared_inbox")
    return [shared or inbox for inbox, shared in remotes]


def proposal_of(*, local: LocalActor, listing_type: registry.ListingType, obj) -> dict:
    """The Proposal of one of our public listings (no person in it: the Group is its author)."""
    from ..vocab import PUBLIC, proposal

    data = listing_type.fields(obj)
    return proposal(
        id=registry.listing_uri(actor_uri=local.uri, kind=listing_type.kind, pk=obj.pk),
        attributed_to=local.uri,
        kind=listing_type.kind,
        name=data.name,
        content=data.content,
        category=data.category,
        url=data.url,
        published=data.published,
        updated=data.updated,
        unit=data.unit,
        fee_amount=data.fee_amount,
        fee_unit=data.fee_unit,
        to=[PUBLIC, local.followers_url],
    )


def _announce(*, local: LocalActor, inner_type: str, inner_object, inboxes: list[str]) -> None:
    from ..vocab import PUBLIC

    to = [PUBLIC, local.followers_url]
    inner = activities.activity(local=local, type=inner_type, object=inner_object, to=to)
    inner.pop("@context", None)
    activity_send(
        local=local,
        activity=activities.activity(local=local, type="Announce", object=inner, to=to),
        inboxes=inboxes,
        public=True,
    )


def listing_send(*, local: LocalActor, listing_type: registry.ListingType, obj, created: bool = False) -> None:
    """Announce one listing's current state to every accepted follower."""
    inboxes = _followers(local)
    if not inboxes:
        return
    uri = registry.listing_uri(actor_uri=local.uri, kind=listing_type.kind, pk=obj.pk)
    if listing_type.is_public(obj):
        doc = proposal_of(local=local, listing_type=listing_type, obj=obj)
        doc.pop("@context", None)
        _announce(local=local, inner_type="Create" if created else "Update", inner_object=doc, inboxes=inboxes)
    else:
        _announce(local=local, inner_type="Delete", inner_object={"id": uri, "type": "Tombstone"}, inboxes=inboxes)


def listing_deleted(*, community_id: int, kind: str, pk: int) -> None:
    local = LocalActor.objects.filter(community_id=community_id, enabled=True).first()
    if local is None:
        return
    inboxes = _followers(local)
    if inboxes:
        uri = registry.listing_uri(actor_uri=local.uri, kind=kind, pk=pk)
        _announce(local=local, inner_type="Delete", inner_object={"id": uri, "type": "Tombstone"}, inboxes=inboxes)


def listing_changed(*, obj, created: bool = False) -> None:
    """A listing changed: announce it after commit (nothing if its community is not federated)."""
    listing_type = registry.listing_type_of(obj)
    if listing_type is None:
        return
    community_id = listing_type.community_id(obj)
    model, pk = type(obj), obj.pk

    def send() -> None:
        local = LocalActor.objects.select_related("community").filter(community_id=community_id, enabled=True).first()
        if local is None:
            return
        fresh = model._default_manager.filter(pk=pk).first()
        with transaction.atomic():
            if fresh is None:
                listing_deleted(community_id=community_id, kind=listing_type.kind, pk=pk)
            else:
                listing_send(local=local, listing_type=listing_type, obj=fresh, created=created)

    transaction.on_commit(send)


def listings_send_all(*, local: LocalActor, follow: Follow) -> int:
    """A new follower receives every current public listing (Announce{Create})."""
    sent = 0
    inboxes = _followers(local, only=follow)
    for listing_type in registry.registered():
        for obj in listing_type.public_in([local.community_id]):
            doc = proposal_of(local=local, listing_type=listing_type, obj=obj)
            doc.pop("@context", None)
            _announce(local=local, inner_type="Create", inner_object=doc, inboxes=inboxes)
            sent += 1
    return sent


# --- incoming ---------------------------------------------------------------------------


def on_announce(*, activity: dict, sender: RemoteActor) -> None:
    """A followed community's listing, created, changed or gone."""
    from ..vocab import VocabError, parse_proposal

    states = set(Follow.objects.filter(remote=sender, direction="out").values_list("state", flat=True))
    if Follow.State.ACCEPTED not in states:
        if Follow.State.PENDING in states:
            raise Deferred("waits_for_accept")  # the Accept of our follow is on its way
        raise Ignored("not_following")
    inner = activity.get("object")
    if not isinstance(inner, dict):
        raise Ignored("announced activity not embedded")
    if _id_of(inner.get("actor")) != sender.uri:
        raise Ignored("announced activity of another actor")
    kind = inner.get("type")
    if kind == "Delete":
        uri = _id_of(inner.get("object"))
        RemoteListing.objects.filter(uri=uri, origin=sender, deleted_at__isnull=True).update(deleted_at=timezone.now())
        return
    if kind not in ("Create", "Update"):
        raise Ignored(f"unsupported announced {kind}")
    try:
        fields = parse_proposal(inner.get("object"))
    except VocabError as exc:
        raise Ignored(f"proposal: {exc.reason}") from None
    for value in (fields.id, fields.attributed_to):
        if not value.startswith(f"{sender.uri.split('://')[0]}://{sender.host}/"):
            raise Ignored("proposal not on the sender's server")
    existing = RemoteListing.objects.select_for_update().filter(uri=fields.id).first()
    if existing is not None and existing.origin_id != sender.pk:
        raise Ignored("proposal of another community")
    if existing is not None and existing.updated_at and fields.updated < existing.updated_at:
        raise Ignored("stale: an older version of the listing")
    values = {
        "origin": sender,
        "kind": fields.kind,
        "name": fields.name,
        "summary": fields.content,
        "category": fields.category,
        "url": fields.url if fields.url.startswith(("https://", "http://")) else "",
        "fee_amount": fields.fee_amount,
        "fee_unit": fields.fee_unit or "",
        "published_at": fields.published,
        "updated_at": fields.updated,
        "deleted_at": None,
        "payload": inner.get("object"),
    }
    RemoteListing.objects.update_or_create(uri=fields.id, defaults=values)
