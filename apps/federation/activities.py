"""The JSON documents this server shows to other servers: actors, people, activities, the
Agreement of a cross-community loan.

Who appears, and how (the rule the payload-scanning test checks):
- a community that opted in: its ``Group`` actor (name, description, page, keys, the
  ledger log's origin and key);
- a member who opted in (``FederatedMember``): a ``Person`` at ``/federation/p/<uuid>``
  with their public name only;
- any other member taking part in a cross-community exchange: an opaque per-exchange
  ``Person`` with no document of its own, ``<exchange uri>#borrower`` or ``#lender``,
  named "A neighbour of <community>". Nothing else about them (no name, email, phone,
  address or location) is in any payload; outside an exchange they are not named at all.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import FederatedMember, LocalActor, RemoteExchange

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
P2P = "https://p2pcommons.org/ns#"


def site() -> str:
    return settings.SITE_URL.rstrip("/")


def actor_uri_for(slug: str) -> str:
    return f"{site()}/federation/c/{slug}"


def person_uri(member: FederatedMember) -> str:
    return f"{site()}/federation/p/{member.handle}"


def new_activity_id(local: LocalActor) -> str:
    return f"{local.uri}/activities/{uuid.uuid4()}"


def new_exchange_uri() -> str:
    return f"{site()}/federation/x/{uuid.uuid4()}"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def context() -> list:
    from .vocab import CONTEXT

    return CONTEXT


def group_document(local: LocalActor) -> dict:
    """The community as an ActivityPub Group (public facts only)."""
    from apps.ledger.log import log_identity

    community = local.community
    origin, vkey = log_identity(community)
    return {
        "@context": context(),
        "id": local.uri,
        "type": "Group",
        "preferredUsername": community.slug,
        "name": community.name,
        "summary": community.description,
        "url": f"{site()}{community.get_absolute_url()}",
        "inbox": local.inbox_url,
        "outbox": local.outbox_url,
        "followers": local.followers_url,
        "following": local.following_url,
        "endpoints": {"sharedInbox": f"{site()}/federation/inbox"},
        "manuallyApprovesFollowers": not local.auto_accept_followers,
        "publicKey": {"id": local.key_id, "owner": local.uri, "publicKeyPem": local.public_key_pem},
        "p2p:logOrigin": origin,
        "p2p:logKey": vkey,
    }


def person_document(member: FederatedMember) -> dict:
    """An opted-in member: their public name, nothing else."""
    return {
        "@context": context(),
        "id": person_uri(member),
        "type": "Person",
        "name": member.user.public_name,
    }


def member_ref(*, user, local: LocalActor, exchange_uri: str, role: str) -> dict:
    """How ``user`` (our member) is named in an exchange's activities (module docstring)."""
    opted_in = FederatedMember.objects.filter(user=user).first()
    if opted_in is not None:
        return {"type": "Person", "id": person_uri(opted_in), "name": user.public_name}
    return {
        "type": "Person",
        "id": f"{local.uri}/x/{hashlib.sha256(exchange_uri.encode()).hexdigest()[:32]}#{role}",
        "name": _("A neighbour of %(community)s") % {"community": local.community.name},
    }


def activity(*, local: LocalActor, type: str, object, to: list[str], id: str | None = None, **extra) -> dict:
    """An activity sent by the community's Group actor (every activity we send is)."""
    doc = {
        "@context": context(),
        "id": id or new_activity_id(local),
        "type": type,
        "actor": local.uri,
        "to": to,
        "object": object,
        "published": iso(timezone.now()),
    }
    doc.update(extra)
    return doc


def agreement(*, exchange: RemoteExchange, borrower: dict, lender: dict | None = None, status: str) -> dict:
    """The Agreement of a loan (ValueFlows): the Proposal used, the window, the fee, the people."""
    doc = {
        "id": exchange.uri,
        "type": "Agreement",
        "p2p:proposal": exchange.listing_uri,
        "startTime": iso(exchange.starts_at),
        "endTime": iso(exchange.ends_at),
        "p2p:borrower": borrower,
        "p2p:status": status,
        "content": exchange.message,
    }
    if lender is not None:
        doc["p2p:lender"] = lender
    if exchange.fee_total:
        doc["p2p:fee"] = {"p2p:amount": str(exchange.fee_total), "p2p:currency": exchange.currency}
    return doc


def fee_key(agreement_uri: str) -> str:
    """The idempotency key of a loan's fee on both sides' clearing accounts."""
    return f"fed:{hashlib.sha256(agreement_uri.encode()).hexdigest()[:40]}:fee"


def decimal_or_none(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def exchange_agreement(exchange: RemoteExchange, status: str) -> dict:
    """The Agreement of a cross-community exchange as this side states it: our member by our
    rules (``member_ref``), theirs as they named them."""

    def person(actor) -> dict:
        return {"type": "Person", "id": actor.uri, "name": actor.name}

    ours = member_ref(user=exchange.member, local=exchange.local, exchange_uri=exchange.uri, role=exchange.side)
    if exchange.side == RemoteExchange.Side.BORROWER:
        theirs = person(exchange.remote_person) if exchange.remote_person.kind == "Person" else None
        return agreement(exchange=exchange, borrower=ours, lender=theirs, status=status)
    return agreement(exchange=exchange, borrower=person(exchange.remote_person), lender=ours, status=status)
