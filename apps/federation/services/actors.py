"""Our communities as actors, members' opt-in, and the remote actors we know (keys cached)."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.guards import require_organizer
from apps.peers.models import Community, Profile, User
from p2pcommons.errors import RuleViolation

from ..activities import actor_uri_for
from ..models import FederatedMember, LocalActor, RemoteActor

KEY_REFRESH_AFTER = timezone.timedelta(days=1)


@transaction.atomic
def federation_enable(*, community: Community, actor: User) -> LocalActor:
    """An organizer opens the community to neighbour communities on other servers.

    The key pair is made once and kept when the community is turned off and on again
    (neighbours keep recognising it). Holds SELECT FOR UPDATE on the community's actor row.
    """
    require_organizer(user=actor, community_id=community.pk, doing=_("open the community to other servers"))
    local = LocalActor.objects.select_for_update().filter(community=community).first()
    if local is None:
        from ..httpsig import generate_rsa_keypair

        private_pem, public_pem = generate_rsa_keypair()
        try:
            with transaction.atomic():
                local = LocalActor.objects.create(
                    community=community,
                    uri=actor_uri_for(community.slug),
                    private_key_pem=private_pem,
                    public_key_pem=public_pem,
                )
        except IntegrityError:
            local = LocalActor.objects.select_for_update().get(community=community)
    if not local.enabled:
        local.enabled = True
        local.enabled_at = timezone.now()
        local.save(update_fields=["enabled", "enabled_at"])
    return local


@transaction.atomic
def federation_disable(*, community: Community, actor: User) -> LocalActor | None:
    """An organizer closes the community to other servers: its actor answers 404, nothing
    more is sent or accepted; follows are kept (turning it on again resumes them)."""
    require_organizer(user=actor, community_id=community.pk, doing=_("close the community to other servers"))
    local = LocalActor.objects.select_for_update().filter(community=community).first()
    if local is not None and local.enabled:
        local.enabled = False
        local.save(update_fields=["enabled"])
    return local


@transaction.atomic
def federation_set_auto_accept(*, community: Community, actor: User, auto_accept: bool) -> LocalActor:
    """Organizers choose "anyone may follow" (accepted at once) or to decide each follow."""
    require_organizer(user=actor, community_id=community.pk, doing=_("change who may follow the community"))
    local = LocalActor.objects.select_for_update().filter(community=community).first()
    if local is None:
        raise RuleViolation(_("Open the community to other servers first."), code="not_federated")
    local.auto_accept_followers = auto_accept
    local.save(update_fields=["auto_accept_followers"])
    return local


@transaction.atomic
def member_opt_in(*, user: User, opt_in: bool) -> FederatedMember | None:
    """A member chooses whether neighbour communities may see their public name."""
    if opt_in:
        member, _created = FederatedMember.objects.get_or_create(user=user)
        return member
    FederatedMember.objects.filter(user=user).delete()
    return None


# --- remote actors ------------------------------------------------------------------------


def _scheme() -> str:
    return "http" if settings.FEDERATION_ALLOW_HTTP else "https"


def local_actor_by_uri(uri: str) -> LocalActor | None:
    return LocalActor.objects.select_related("community").filter(uri=uri, enabled=True).first()


def _update_from_document(actor: RemoteActor, doc: dict) -> RemoteActor:
    kind = doc.get("type")
    actor.kind = kind if kind in RemoteActor.Kind.values else RemoteActor.Kind.OTHER
    actor.name = str(doc.get("name") or "")[:200]
    actor.summary = str(doc.get("summary") or "")[:5000]
    url = doc.get("url")
    actor.url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""
    actor.inbox = str(doc.get("inbox") or "")[:500]
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    actor.shared_inbox = str(endpoints.get("sharedInbox") or "")[:500]
    actor.outbox = str(doc.get("outbox") or "")[:500]
    key = doc.get("publicKey") if isinstance(doc.get("publicKey"), dict) else {}
    if key.get("owner") == actor.uri and isinstance(key.get("publicKeyPem"), str):
        actor.key_id = str(key.get("id") or "")[:600]
        actor.public_key_pem = key["publicKeyPem"]
    actor.log_origin = str(doc.get("p2p:logOrigin") or "")[:500]
    actor.log_vkey = str(doc.get("p2p:logKey") or "")[:500]
    username = doc.get("preferredUsername")
    if isinstance(username, str) and username:
        actor.handle = f"{username}@{actor.host}"[:300]
    actor.fetched_at = timezone.now()
    for field in ("inbox", "shared_inbox", "outbox"):
        value = getattr(actor, field)
        if value and urlsplit(value).netloc != actor.host:
            setattr(actor, field, "")  # an actor's endpoints live on its own server
    return actor


def _document_of_local(local: LocalActor) -> dict:
    from ..activities import group_document

    return group_document(local)


def remote_actor_fetch(*, uri: str, via: LocalActor | None = None) -> RemoteActor:
    """Fetch (signed, when we know who asks) and cache the actor at ``uri``.

    An actor of this server is read from the database, not over the network.
    Raises ``RemoteError`` (http) when the fetch fails; ``ValidationError`` when the
    document is not the actor it claims to be.
    """
    uri = uri.split("#", 1)[0]
    local = local_actor_by_uri(uri)
    if local is not None:
        doc = _document_of_local(local)
    else:
        from ..http import fetch_json

        if via is not None:
            doc = fetch_json(uri, key_id=via.key_id, private_key_pem=via.private_key_pem)
        else:
            doc = fetch_json(uri)
        if doc.get("owner") and doc.get("publicKeyPem") and doc.get("id", "").split("#")[0] == uri:
            # A key document (some servers serve the key at its own address): its owner.
            return remote_actor_fetch(uri=doc["owner"], via=via)
    if doc.get("id") != uri:
        raise ValidationError(_("The actor's document names another address."))
    # Two requests signed by a new actor may fetch it at once: the row is made once (the
    # unique uri settles it), then updated under SELECT FOR UPDATE.
    RemoteActor.objects.get_or_create(uri=uri)
    with transaction.atomic():
        actor = RemoteActor.objects.select_for_update().get(uri=uri)
        _update_from_document(actor, doc)
        actor.save()
    return actor


def remote_actor_get(*, uri: str, via: LocalActor | None = None, refresh: bool = False) -> RemoteActor:
    """The cached actor at ``uri``, fetched when unknown, keyless or a day old (or ``refresh``)."""
    actor = RemoteActor.objects.filter(uri=uri).first()
    if (
        actor is None
        or refresh
        or not actor.public_key_pem
        or actor.fetched_at is None
        or actor.fetched_at < timezone.now() - KEY_REFRESH_AFTER
    ):
        actor = remote_actor_fetch(uri=uri, via=via)
    return actor


def remote_actor_for_key(*, key_id: str, via: LocalActor | None = None, refresh: bool = False) -> RemoteActor | None:
    """The actor owning ``key_id``: the cached one unless ``refresh`` (a key rotation)."""
    if not refresh:
        cached = RemoteActor.objects.filter(key_id=key_id).exclude(public_key_pem="").first()
        if cached is not None:
            return cached
    actor = remote_actor_fetch(uri=key_id.split("#", 1)[0], via=via)
    return actor if actor.key_id == key_id else None


def webfinger_lookup(*, handle: str, via: LocalActor | None = None) -> RemoteActor:
    """``slug@host`` (or an actor's address) -> the remote community, fetched and cached."""
    from ..http import fetch_json

    handle = handle.strip().removeprefix("@").removeprefix("acct:")
    if handle.startswith(("https://", "http://")):
        return remote_actor_get(uri=handle, via=via, refresh=True)
    user, sep, host = handle.partition("@")
    if not sep or not user or not host or "/" in host:
        raise ValidationError({"handle": _("Write the community's address as name@server.")})
    url = f"{_scheme()}://{host}/.well-known/webfinger?resource={quote(f'acct:{user}@{host}')}"
    jrd = fetch_json(url)
    for link in jrd.get("links") or []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and link.get("type")
            in ("application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
            and isinstance(link.get("href"), str)
        ):
            actor = remote_actor_get(uri=link["href"], via=via, refresh=True)
            if actor.host != host:
                raise ValidationError({"handle": _("That server named a community on another server.")})
            return actor
    raise ValidationError({"handle": _("No community by that name on that server.")})


def remote_person(*, ref: dict, home: RemoteActor) -> RemoteActor:
    """The Person an activity of ``home`` names (an opted-in member's actor or an opaque
    per-exchange one): only on ``home``'s own server; its name as given."""
    uri = ref.get("id") if isinstance(ref, dict) else None
    if not isinstance(uri, str) or urlsplit(uri).netloc != home.host:
        raise ValidationError(_("The person named is not on the sending community's server."))
    name = str(ref.get("name") or "")[:200] or _("A neighbour of %(community)s") % {"community": home.name}
    actor, created = RemoteActor.objects.get_or_create(
        uri=uri[:500], defaults={"kind": RemoteActor.Kind.PERSON, "name": name, "home": home}
    )
    if not created and (actor.name != name or actor.home_id != home.pk):
        actor.name, actor.home = name, home
        actor.save(update_fields=["name", "home"])
    return actor


def stand_in_user(*, person: RemoteActor) -> User:
    """The local account standing in for a remote person taking part in an exchange here.

    No password, an address that cannot receive mail (``.invalid``), inactive (so it
    never signs in and no notification or digest is sent to it), no membership (so no
    member list, search or profile page lists it). Holds SELECT FOR UPDATE on the person.
    """
    person = RemoteActor.objects.select_for_update().get(pk=person.pk)
    if person.user_id:
        return person.user
    user = User.objects.create_user(email=f"remote-{uuid.uuid4().hex}@federation.invalid", password=None)
    user.is_active = False
    user.save(update_fields=["is_active"])
    Profile.objects.create(user=user, display_name=(person.name or _("A neighbour"))[:80])
    person.user = user
    person.save(update_fields=["user"])
    return user


def is_stand_in(user: User) -> bool:
    return RemoteActor.objects.filter(user=user).exists()
