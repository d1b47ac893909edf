"""Clearing between neighbour communities: organizers' limits, the signed statement a
neighbour may ask for, and the periodic reconciliation against theirs."""

from __future__ import annotations

import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from apps.peers.guards import require_organizer
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation

from ..models import LocalActor, RemoteActor
from ..selectors import clearing_peers_of

logger = logging.getLogger(__name__)


def clearing_limit_set(*, community: Community, peer: RemoteActor, currency: str, limit: Decimal, actor: User):
    """Organizers say how far members of a neighbour community may be paid here before the
    neighbour has paid (``apps.ledger.clearing.clearing_set_limit``)."""
    from apps.ledger.clearing import clearing_set_limit

    require_organizer(user=actor, community_id=community.pk, doing=_("set limits for neighbour communities"))
    if peer.kind != RemoteActor.Kind.GROUP:
        raise RuleViolation(_("Limits are set for communities."), code="not_a_community")
    with transaction.atomic():
        return clearing_set_limit(
            community=community, peer_uri=peer.uri, peer_name=peer.name, currency=currency, limit=limit, actor=actor
        )


def clearing_statement_for(*, local: LocalActor, requester: RemoteActor, currency: str) -> dict:
    """Our statement of the clearing account we keep for ``requester`` (who signed the request)."""
    from apps.ledger.clearing import clearing_statement

    return clearing_statement(community=local.community, peer_uri=requester.uri, currency=currency)


def _statement_url(peer: RemoteActor, our_uri: str, currency: str) -> str:
    return f"{peer.uri}/clearing?{urlencode({'peer': our_uri, 'currency': currency})}"


def clearing_reconcile_with(*, local: LocalActor, peer: RemoteActor, currency: str):
    """Fetch (signed) the neighbour's statement of its account for us and compare it with ours."""
    from apps.ledger.clearing import clearing_reconcile

    from ..http import fetch_json

    theirs = fetch_json(
        _statement_url(peer, local.uri, currency), key_id=local.key_id, private_key_pem=local.private_key_pem
    )
    return clearing_reconcile(
        community=local.community,
        peer_uri=peer.uri,
        peer_name=peer.name or peer.handle,
        currency=currency,
        theirs=theirs,
        their_log_vkey=peer.log_vkey,
    )


def clearing_reconcile_all() -> int:
    """Every federated community against every neighbour it holds a clearing account for
    (a beat task): one fetch per neighbour and currency; a failure is logged and retried
    at the next run."""
    from apps.ledger.clearing import clearing_accounts_of

    from ..http import RemoteError

    checked = 0
    for local in LocalActor.objects.select_related("community").filter(enabled=True):
        peers = {peer.uri: peer for peer in clearing_peers_of(community=local.community)}
        for account in clearing_accounts_of(community=local.community):
            peer = peers.get(account.peer)
            if peer is None:
                continue
            try:
                clearing_reconcile_with(local=local, peer=peer, currency=account.currency)
            except (RemoteError, ValueError) as exc:
                logger.warning("Clearing reconciliation of %s with %s failed: %s", local.uri, peer.uri, exc)
                continue
            checked += 1
    return checked
