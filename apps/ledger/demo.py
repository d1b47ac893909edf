"""Demo data for the ledger: neighbors thanking each other in hours and credits.

Idempotent: a community that already has its demo transfers is left as it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from apps.peers.models import Community
from apps.peers.selectors import active_members_of
from p2pcommons.errors import RuleViolation

from . import services
from .log import log_identity, publish_checkpoint
from .models import Transfer, WitnessedLog
from .witness import witness_once

# What neighbors thank each other for: time given (hours) and things shared (credits).
MEMOS = {
    "HOUR": [
        "Fixed my bike's brakes",
        "Watered the plants while we were away",
        "Helped put up the fence",
        "Carried the sofa up three floors",
        "Spanish practice, thank you!",
        "Set up my new phone",
        "Walked Bruno all week",
        "Hemmed my trousers",
    ],
    "CREDIT": [
        "For the jar of plum jam",
        "Half the compost bag",
        "Seedlings for the balcony",
        "The leftover paint",
        "Soup when I was ill, thank you",
        "Bread from Sunday's baking",
    ],
}


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    before = Transfer.objects.count()
    for community in communities:
        if Transfer.objects.filter(community=community, idempotency_key__contains=f":demo:{community.slug}:").exists():
            continue
        members = active_members_of(community_id=community.pk)
        if len(members) < 2:
            continue
        for n in range(len(members) * 2):
            sender, recipient = rng.sample(members, 2)
            currency = "HOUR" if n % 3 else "CREDIT"
            amount = Decimal(rng.choice([50, 100, 150, 200, 300])) / 100
            try:
                services.gift_send(
                    sender=sender,
                    recipient=recipient,
                    community=community,
                    currency=currency,
                    amount=amount,
                    memo=rng.choice(MEMOS[currency]),
                    idempotency_key=f"demo:{community.slug}:{n}",
                )
            except RuleViolation:
                continue  # a sender at their limit: skip, as a neighbor would
    log(f"  {Transfer.objects.count() - before} new transfers, {Transfer.objects.count()} in all")
    _witness_each_other(communities, log)


def _witness_each_other(communities: list[Community], say: Callable[[str], object]) -> None:
    """The demo communities witness each other's ledgers, and their first checkpoints are
    signed and co-signed now, so "proven in checkpoint 1" shows at once; the exchanges
    seeded after this one add entries that the 5-minute sweep signs (``make run`` runs it)."""
    for community in communities:
        publish_checkpoint(community=community)
    for witness_community in communities:
        for other in communities:
            if other == witness_community:
                continue
            origin, vkey = log_identity(other)
            witnessed, _created = WitnessedLog.objects.get_or_create(
                witness=witness_community, origin=origin, defaults={"log_vkey": vkey}
            )
            witness_once(witnessed)
    say(f"  {len(communities)} ledgers signed and witnessed by each other")
