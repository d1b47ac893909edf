"""What each exchange federates: its listings (as FEP-0837 Proposals) and, for those that
can be used across communities, how a remote neighbour's request becomes a local one.

The federation app is core and never imports an exchange; each exchange registers here
in its ``AppConfig.ready()`` (``apps/tools/federation.py``, ``apps/skills/federation.py``):

    register_listing(ListingType(kind="tool", model=Tool, community="community", ...))

A listing's public uri is ``<community actor>/listings/<kind>/<pk>``: the lender side
reads the kind and the key back from it (``listing_from_uri``), never trusting any other
part of an incoming activity to name a local object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class ProposalData:
    """The public fields of a listing, in the words of ``vocab.proposal``."""

    name: str
    content: str
    category: str
    url: str
    published: datetime
    updated: datetime
    unit: str
    fee_amount: Decimal | None
    fee_unit: str | None


@dataclass(frozen=True)
class BorrowAdapter:
    """How a remote neighbour uses a listing here (only exchanges that lend register one).

    - ``exchange_model``: the model of the local exchange object (e.g. Reservation).
    - ``request(listing, borrower, starts_at, ends_at, message)`` -> the local exchange
      object (e.g. a Reservation), run through the exchange's own rules; ``borrower`` is
      the stand-in user of the remote person.
    - ``status(obj)`` -> the object's state in RemoteExchange words ("offered",
      "accepted", "rejected", "picked_up", "returned", "cancelled") or "" (no news).
    - ``pickup(obj, borrower)``: the remote borrower recorded the pickup (the fee is
      settled across, not in the local ledger).
    - ``cancel(obj, borrower)``: the remote borrower called it off.
    - ``fee_total(obj)`` -> the fee fixed at request, ``currency``: its currency.
    - ``owner(obj)`` -> the local member who lends.
    """

    exchange_model: type[Model]
    request: Callable[..., Model]
    status: Callable[[Model], str]
    pickup: Callable[..., Model]
    cancel: Callable[..., Model]
    fee_total: Callable[[Model], Decimal]
    owner: Callable[[Model], Any]
    currency: str = "CREDIT"


@dataclass(frozen=True)
class ListingType:
    """One kind of federated listing: where its community is, whether it is public now,
    its Proposal fields, the public listings of some communities (``public_in(ids)``, one
    query), and (for loans) the borrow adapter."""

    kind: str
    model: type[Model]
    community_id: Callable[[Model], int]
    is_public: Callable[[Model], bool]
    fields: Callable[[Model], ProposalData]
    public_in: Callable[[list[int]], QuerySet]
    borrow: BorrowAdapter | None = None


KINDS = ("tool", "skill_offer", "skill_request")
_by_kind: dict[str, ListingType] = {}


def register_listing(listing_type: ListingType) -> ListingType:
    """Declare a kind of listing federated (once per kind and per model)."""
    if listing_type.kind not in KINDS:
        raise ImproperlyConfigured(f"Unknown listing kind {listing_type.kind!r}; expected one of {KINDS}.")
    if listing_type.kind in _by_kind:
        raise ImproperlyConfigured(f"{listing_type.kind} is already registered for federation.")
    _by_kind[listing_type.kind] = listing_type
    return listing_type


def listing_type(kind: str) -> ListingType | None:
    return _by_kind.get(kind)


def listing_type_of(obj: Model) -> ListingType | None:
    for candidate in _by_kind.values():
        if isinstance(obj, candidate.model):
            return candidate
    return None


def lending_type_of(obj: Model) -> ListingType | None:
    """The listing type whose borrow adapter makes objects like ``obj`` (a Reservation)."""
    for candidate in _by_kind.values():
        if candidate.borrow is not None and isinstance(obj, candidate.borrow.exchange_model):
            return candidate
    return None


def registered() -> list[ListingType]:
    return list(_by_kind.values())


def listing_uri(*, actor_uri: str, kind: str, pk: int) -> str:
    return f"{actor_uri}/listings/{kind}/{pk}"


def listing_from_uri(*, actor_uri: str, uri: str) -> tuple[ListingType, Model] | None:
    """The local listing ``uri`` names under ``actor_uri`` (None if it names nothing here)."""
    prefix = f"{actor_uri}/listings/"
    if not uri.startswith(prefix):
        return None
    kind, _sep, pk = uri[len(prefix) :].partition("/")
    found = _by_kind.get(kind)
    if found is None or not pk.isdigit():
        return None
    obj = found.model._default_manager.filter(pk=int(pk)).first()
    return (found, obj) if obj is not None else None
