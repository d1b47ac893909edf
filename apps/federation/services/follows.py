"""Following between communities: Follow, Accept/Reject, Undo.

A community's organizers follow another community by its handle; the other side's
organizers accept or decline, unless they chose "anyone may follow" (then it is accepted
at once). Once accepted, the followed community sends its current public listings.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.guards import require_organizer
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from .. import activities
from ..models import Follow, LocalActor, RemoteActor
from .actors import webfinger_lookup
from .inbox import Ignored, _id_of, inbox_reprocess_deferred
from .outbox import activity_send

F = Follow.State


def _local_of(community: Community) -> LocalActor:
    local = LocalActor.objects.select_related("community").filter(community=community, enabled=True).first()
    if local is None:
        raise RuleViolation(_("Open the community to other servers first."), code="not_federated")
    return local


def _inbox(remote: RemoteActor) -> str:
    return remote.inbox or remote.shared_inbox


def follow_request(*, community: Community, handle: str, actor: User) -> Follow:
    """Organizers ask to follow the community at ``handle`` (``name@server``).

    The remote community is looked up (WebFinger, then its actor) before the transaction;
    asking again after a decline or an end asks anew. Holds SELECT FOR UPDATE on the row.
    """
    require_organizer(user=actor, community_id=community.pk, doing=_("follow other communities"))
    local = _local_of(community)
    remote = webfinger_lookup(handle=handle, via=local)
    if remote.kind != RemoteActor.Kind.GROUP:
        raise RuleViolation(_("That address is not a community."), code="not_a_community")
    if remote.uri == local.uri:
        raise RuleViolation(_("A community can't follow itself."), code="self_follow")
    with transaction.atomic():
        follow = Follow.objects.select_for_update().filter(local=local, remote=remote, direction="out").first()
        if follow is not None and follow.state in (F.PENDING, F.ACCEPTED):
            return follow
        activity_id = activities.new_activity_id(local)
        if follow is None:
            try:
                with transaction.atomic():
                    follow = Follow.objects.create(
                        local=local, remote=remote, direction="out", activity_uri=activity_id, created_by=actor
                    )
            except IntegrityError:
                return Follow.objects.get(local=local, remote=remote, direction="out")
        else:
            follow.state, follow.activity_uri, follow.created_by, follow.decided_at = (
                F.PENDING,
                activity_id,
                actor,
                None,
            )
            follow.save(update_fields=["state", "activity_uri", "created_by", "decided_at"])
        activity_send(
            local=local,
            activity=activities.activity(
                local=local, type="Follow", id=activity_id, object=remote.uri, to=[remote.uri]
            ),
            inboxes=[_inbox(remote)],
        )
    return follow


def _forget_listings_unless_followed(remote: RemoteActor) -> None:
    """A community nobody here follows any more: its listings leave browse and search."""
    if not Follow.objects.filter(remote=remote, direction="out", state=F.ACCEPTED).exists():
        remote.listings.filter(deleted_at__isnull=True).update(deleted_at=timezone.now())


def _follow_object(follow: Follow) -> dict:
    return {"id": follow.activity_uri, "type": "Follow", "actor": follow.remote.uri, "object": follow.local.uri}


def _answer(*, follow: Follow, accept: bool) -> None:
    local = follow.local
    activity_send(
        local=local,
        activity=activities.activity(
            local=local, type="Accept" if accept else "Reject", object=_follow_object(follow), to=[follow.remote.uri]
        ),
        inboxes=[_inbox(follow.remote)],
    )
    if accept:
        from .listings import listings_send_all

        listings_send_all(local=local, follow=follow)


@transaction.atomic
def follow_decide(*, follow: Follow, actor: User, accept: bool) -> Follow:
    """Organizers accept or decline a community's request to follow theirs. Holds SELECT
    FOR UPDATE on the follow; only a waiting request is decided."""
    follow = Follow.objects.select_for_update().select_related("local__community", "remote").get(pk=follow.pk)
    require_organizer(user=actor, community_id=follow.local.community_id, doing=_("answer follow requests"))
    if follow.direction != Follow.Direction.IN or follow.state != F.PENDING:
        raise RuleViolation(_("This request was already answered."), code="already_decided")
    follow.state = F.ACCEPTED if accept else F.REJECTED
    follow.decided_at = timezone.now()
    follow.save(update_fields=["state", "decided_at"])
    _answer(follow=follow, accept=accept)
    return follow


@transaction.atomic
def follow_end(*, follow: Follow, actor: User) -> Follow:
    """Organizers stop following (out: Undo{Follow}) or remove a follower (in: Reject).
    Holds SELECT FOR UPDATE on the follow."""
    follow = Follow.objects.select_for_update().select_related("local__community", "remote").get(pk=follow.pk)
    require_organizer(user=actor, community_id=follow.local.community_id, doing=_("change follows"))
    if follow.state == F.ENDED:
        return follow
    was = follow.state
    follow.state, follow.decided_at = F.ENDED, timezone.now()
    follow.save(update_fields=["state", "decided_at"])
    local = follow.local
    if follow.direction == Follow.Direction.OUT:
        obj = {"id": follow.activity_uri, "type": "Follow", "actor": local.uri, "object": follow.remote.uri}
        activity_send(
            local=local,
            activity=activities.activity(local=local, type="Undo", object=obj, to=[follow.remote.uri]),
            inboxes=[_inbox(follow.remote)],
        )
        _forget_listings_unless_followed(follow.remote)
    elif was == F.ACCEPTED:
        _answer(follow=follow, accept=False)
    return follow


# --- incoming ---------------------------------------------------------------------------


def on_follow(*, activity: dict, sender: RemoteActor) -> None:
    local = (
        LocalActor.objects.select_related("community").filter(uri=_id_of(activity.get("object")), enabled=True).first()
    )
    if local is None:
        raise Ignored("unknown_object")
    if sender.kind != RemoteActor.Kind.GROUP:
        raise Ignored("only communities follow communities")
    follow = Follow.objects.select_for_update().filter(local=local, remote=sender, direction="in").first()
    if follow is None:
        follow = Follow.objects.create(local=local, remote=sender, direction="in", activity_uri=activity["id"])
    elif follow.state == F.ACCEPTED:
        follow.activity_uri = activity["id"]
        follow.save(update_fields=["activity_uri"])
        _answer(follow=follow, accept=True)
        return
    else:
        follow.state, follow.activity_uri, follow.decided_at = F.PENDING, activity["id"], None
        follow.save(update_fields=["state", "activity_uri", "decided_at"])
    if local.auto_accept_followers:
        follow.state, follow.decided_at = F.ACCEPTED, timezone.now()
        follow.save(update_fields=["state", "decided_at"])
        _answer(follow=follow, accept=True)
        return
    from django.urls import reverse

    from apps.notifications.services import notify
    from apps.peers.selectors import organizers_of

    notify(
        recipients=organizers_of(community_id=local.community_id),
        kind="federation.follow",
        text=Message(
            "{community} asks to follow {ours}", community=sender.name or sender.handle, ours=local.community.name
        ),
        url=reverse("federation:community", args=[local.community.slug]),
    )


def on_follow_answer(*, activity: dict, sender: RemoteActor, accept: bool) -> None:
    follow_id = _id_of(activity.get("object"))
    follow = Follow.objects.select_for_update().filter(activity_uri=follow_id, direction="out", remote=sender).first()
    if follow is None:
        raise Ignored("unknown_follow")
    if accept and follow.state != F.PENDING:
        raise Ignored("already_decided")
    if not accept and follow.state in (F.REJECTED, F.ENDED):
        raise Ignored("already_decided")
    follow.state = F.ACCEPTED if accept else F.REJECTED
    follow.decided_at = timezone.now()
    follow.save(update_fields=["state", "decided_at"])
    if accept:
        inbox_reprocess_deferred(actor_uri=sender.uri)  # listings announced before the Accept came
    else:
        _forget_listings_unless_followed(sender)


def on_undo_follow(*, activity: dict, sender: RemoteActor) -> None:
    obj = activity.get("object") if isinstance(activity.get("object"), dict) else {}
    follow = (
        Follow.objects.select_for_update()
        .filter(remote=sender, direction="in", local__uri=_id_of(obj.get("object")))
        .first()
    )
    if follow is None or follow.state == F.ENDED:
        raise Ignored("unknown_follow")
    follow.state, follow.decided_at = F.ENDED, timezone.now()
    follow.save(update_fields=["state", "decided_at"])
