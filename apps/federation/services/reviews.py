"""Reviews of cross-community exchanges land in both reputations.

Each side keeps its own exchange for reviews: the lender's community the local object
(the Reservation: the owner reviews the stand-in of the borrower), the borrower's the
``RemoteExchange`` (registered with ``apps.reputation.registry``: the member reviews the
stand-in of the lender). A review written on one side is sent to the other as
``Create{Note}`` and stored there through ``review_create`` as written by the stand-in,
so the subject's reputation at home shows it; each side's blind rule (hidden until both
wrote theirs or the window closed) holds.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction

from p2pcommons.errors import RuleViolation

from .. import activities
from ..models import RemoteActor, RemoteExchange
from .inbox import Ignored, _id_of
from .outbox import activity_send


def _exchange_of_review(review) -> RemoteExchange | None:
    own = ContentType.objects.get_for_model(RemoteExchange)
    if review.content_type_id == own.pk:
        return (
            RemoteExchange.objects.select_related("local__community", "peer", "remote_person")
            .filter(pk=review.object_id, side=RemoteExchange.Side.BORROWER)
            .first()
        )
    return (
        RemoteExchange.objects.select_related("local__community", "peer", "remote_person")
        .filter(content_type_id=review.content_type_id, object_id=review.object_id, side=RemoteExchange.Side.LENDER)
        .first()
    )


def review_written(*, review) -> None:
    """A review was written here: if it is about a cross-community exchange and our member
    wrote it, send it to the other side (after commit, with the review's transaction)."""
    exchange = _exchange_of_review(review)
    if exchange is None or review.author_id != exchange.member_id:
        return  # not federated, or it came from the other side
    role = "borrower" if exchange.side == RemoteExchange.Side.BORROWER else "lender"
    local = exchange.local
    note = {
        "id": f"{local.uri}/reviews/{review.pk}",
        "type": "Note",
        "attributedTo": activities.member_ref(user=review.author, local=local, exchange_uri=exchange.uri, role=role),
        "reviewOf": exchange.uri,
        "rating": review.rating,
        "content": review.comment,
        "published": activities.iso(review.created_at),
    }
    activity_send(
        local=local,
        activity=activities.activity(local=local, type="Create", object=note, to=[exchange.peer.uri]),
        inboxes=[exchange.peer.inbox or exchange.peer.shared_inbox],
    )


def on_review(*, activity: dict, sender: RemoteActor) -> None:
    """The other side's party reviewed our member: stored here as the stand-in's review."""
    from apps.reputation.services import review_create

    note = activity.get("object")
    exchange = (
        RemoteExchange.objects.select_related("remote_person__user")
        .filter(uri=_id_of(note.get("reviewOf")), peer=sender)
        .first()
    )
    if exchange is None:
        raise Ignored("review of an unknown exchange")
    author = exchange.remote_person.user
    if author is None or exchange.remote_person.kind != RemoteActor.Kind.PERSON:
        raise Ignored("review by nobody taking part")
    rating = note.get("rating")
    if not isinstance(rating, int) or isinstance(rating, bool):
        raise Ignored("rating: not a number")
    from ..vocab import MAX_CONTENT, VocabError, plain_text

    try:
        comment = plain_text(note.get("content"), limit=MAX_CONTENT, what="content")
    except VocabError as exc:
        raise Ignored(f"content: {exc.reason}") from None
    target = exchange if exchange.side == RemoteExchange.Side.BORROWER else exchange.local_object
    if target is None:
        raise Ignored("no local exchange")
    try:
        with transaction.atomic():
            review_create(author=author, exchange=target, rating=rating, comment=comment[:2000])
    except (RuleViolation, ValidationError) as exc:
        raise Ignored(f"review refused: {exc}") from None
