"""Which handler an incoming activity goes to (by its type and its object's type)."""

from __future__ import annotations

from ..models import Follow, InboxItem, RemoteActor, RemoteExchange
from . import exchanges, follows, listings, reviews
from .inbox import Ignored, _id_of


def _object_type(activity: dict) -> str:
    """The type of the activity's object; for a bare id, what it names here."""
    obj = activity.get("object")
    if isinstance(obj, dict):
        return str(obj.get("type") or "")
    if isinstance(obj, str):
        if Follow.objects.filter(activity_uri=obj).exists():
            return "Follow"
        if RemoteExchange.objects.filter(offer_uri=obj).exists():
            return "Offer"
    return ""


def handle(*, item: InboxItem, sender: RemoteActor) -> None:
    activity = item.payload
    kind = activity.get("type")
    object_type = _object_type(activity)
    if kind == "Follow":
        follows.on_follow(activity=activity, sender=sender)
    elif kind in ("Accept", "Reject") and object_type == "Follow":
        if isinstance(activity.get("object"), str):
            activity = {**activity, "object": {"id": activity["object"]}}
        follows.on_follow_answer(activity=activity, sender=sender, accept=kind == "Accept")
    elif kind in ("Accept", "Reject") and object_type == "Offer":
        exchanges.on_offer_answer(activity=activity, sender=sender, accept=kind == "Accept")
    elif kind == "Reject" and object_type == "Update":
        exchanges.on_reject_update(activity=activity, sender=sender)
    elif kind == "Undo" and object_type == "Follow":
        follows.on_undo_follow(activity=activity, sender=sender)
    elif kind == "Announce":
        listings.on_announce(activity=activity, sender=sender)
    elif kind == "Offer" and object_type == "Agreement":
        exchanges.on_offer(activity=activity, sender=sender)
    elif kind == "Update" and object_type == "Agreement":
        exchanges.on_update(activity=activity, sender=sender)
    elif kind == "Create" and object_type == "Note" and _id_of(activity["object"].get("reviewOf")):
        reviews.on_review(activity=activity, sender=sender)
    else:
        raise Ignored(f"unsupported: {kind} {object_type}".strip())
