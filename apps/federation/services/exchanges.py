"""The cross-community loan: Offer{Agreement} -> Accept/Reject -> Update (pickup, return,
cancel), the fee across clearing accounts, and reviews landing on both sides.

Borrower side (B, our member uses their listing): ``remote_borrow_request`` records a
``RemoteExchange`` and sends the Offer; B mirrors the lender's answers and updates.
Lender side (A, their member uses ours): the Offer becomes a real local exchange object
through the exchange's borrow adapter (for tools: a ``Reservation`` with the tools rules:
no double booking, notice, maximum loan), for the stand-in of the remote borrower;
the owner approves or declines it as any request, and each change of that object
(``local_exchange_changed``, called by the exchange's services) goes back as an activity.

The fee: recording the pickup of a loan with a fee pays it (as at home), so the borrower
records it, at B: B pays member -> clearing(A) (``clearing_pay_in``) and sends
``Update{Agreement picked_up}`` with the payment; A records the pickup without charging
anyone in its ledger and pays clearing(B) -> owner (``clearing_pay_out``, same key), or,
when a rule refuses (the neighbour's limit, the pickup window), answers ``Reject`` with
the reason and changes nothing; B then reverses its transfer. A free loan's pickup may be
recorded by the owner at A (B mirrors it; if B still owes a fee, it pays then).

Statuses only move forward (``RANK``): an update that would move an exchange backwards
is ignored with the reason recorded; one about an exchange not known yet is deferred
until its Offer arrives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.models import User
from apps.peers.selectors import is_active_member
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from .. import activities, registry
from ..models import Follow, LocalActor, RemoteActor, RemoteExchange, RemoteListing
from .actors import remote_person, stand_in_user
from .inbox import Deferred, Ignored, _id_of, inbox_reprocess_deferred
from .outbox import activity_send

X = RemoteExchange.Status
RANK = {X.OFFERED: 0, X.ACCEPTED: 1, X.PICKED_UP: 2, X.RETURNED: 3, X.REJECTED: 3, X.CANCELLED: 3}
FINAL = {X.RETURNED, X.REJECTED, X.CANCELLED}
MAX_AHEAD = timedelta(days=2 * 365)


def _inbox(remote: RemoteActor) -> str:
    return remote.inbox or remote.shared_inbox


def _moves_forward(current: str, new: str) -> bool:
    return current not in FINAL and RANK[new] > RANK[current]


def _set_status(exchange: RemoteExchange, status: str, now: datetime, **fields) -> None:
    exchange.status, exchange.status_changed_at = status, now
    for name, value in fields.items():
        setattr(exchange, name, value)
    exchange.save(update_fields=["status", "status_changed_at", *fields])


def _clearing_args(exchange: RemoteExchange) -> dict:
    """Our side of the exchange's fee in our ledger: the clearing account kept for the peer."""
    return {
        "community": exchange.local.community,
        "peer_uri": exchange.peer.uri,
        "peer_name": exchange.peer.name or exchange.peer.handle,
        "member": exchange.member,
        "amount": exchange.fee_total,
        "currency": exchange.currency,
    }


def _send(exchange: RemoteExchange, type: str, obj, **extra) -> dict:
    local = exchange.local
    doc = activities.activity(local=local, type=type, object=obj, to=[exchange.peer.uri], **extra)
    activity_send(local=local, activity=doc, inboxes=[_inbox(exchange.peer)])
    return doc


def _send_update(exchange: RemoteExchange, status: str, **extra) -> dict:
    return _send(exchange, "Update", activities.exchange_agreement(exchange, status), **extra)


# --- borrower side -------------------------------------------------------------------------


def _tell_member(exchange: RemoteExchange, text: Message) -> None:
    """Our member hears what the lender's community did (their "my exchanges" page)."""
    from django.urls import reverse

    from apps.notifications.services import notify

    notify(recipients=[exchange.member], kind="federation.exchange", text=text, url=reverse("federation:exchanges"))


def _what(exchange: RemoteExchange) -> str:
    return exchange.listing.name if exchange.listing_id else exchange.peer.name


def _borrower_local(*, listing: RemoteListing, borrower: User) -> LocalActor:
    """A community of the borrower's that follows the listing's community (accepted)."""
    follow = (
        Follow.objects.select_related("local__community")
        .filter(
            remote=listing.origin,
            direction=Follow.Direction.OUT,
            state=Follow.State.ACCEPTED,
            local__enabled=True,
        )
        .order_by("id")
    )
    for candidate in follow:
        if is_active_member(user=borrower, community_id=candidate.local.community_id):
            return candidate.local
    raise RuleViolation(
        _("You can borrow from %(community)s through a community of yours that follows it.")
        % {"community": listing.origin.name},
        code="not_following",
    )


def remote_borrow_request(
    *, listing: RemoteListing, borrower: User, starts_at: datetime, ends_at: datetime, message: str = ""
) -> RemoteExchange:
    """Ask to borrow a remote tool for [starts_at, ends_at): an Offer of an Agreement to its
    community, whose own rules decide (we mirror its answer).

    Rules here: a tool listing still offered, the borrower an active member of one of our
    communities that follows the listing's community (accepted), a window in the future
    with an end after its start, a message of at most 500 characters.
    """
    errors = {}
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationError({"starts_at": _("Give times with their timezone.")})
    now = timezone.now()
    if starts_at < now:
        errors["starts_at"] = _("The start can't be in the past.")
    elif starts_at > now + MAX_AHEAD:
        errors["starts_at"] = _("Book at most two years ahead.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if len(message) > 500:
        errors["message"] = _("At most 500 characters.")
    if errors:
        raise ValidationError(errors)
    if listing.deleted_at is not None or listing.kind != RemoteListing.Kind.TOOL:
        raise RuleViolation(_("This listing can't be borrowed from here."), code="not_available")
    local = _borrower_local(listing=listing, borrower=borrower)
    with transaction.atomic():
        listing = RemoteListing.objects.select_related("origin").get(pk=listing.pk)
        days = max(1, -(-int((ends_at - starts_at).total_seconds()) // 86400))
        fee = (listing.fee_amount or Decimal("0")) * days
        exchange = RemoteExchange.objects.create(
            uri=activities.new_exchange_uri(),
            side=RemoteExchange.Side.BORROWER,
            local=local,
            peer=listing.origin,
            listing=listing,
            listing_uri=listing.uri,
            member=borrower,
            remote_person=listing.origin,  # the lender's person is named in their answer
            starts_at=starts_at,
            ends_at=ends_at,
            message=message,
            fee_total=fee,
            currency=listing.fee_unit or "CREDIT",
            status_changed_at=now,
        )
        agreement = activities.exchange_agreement(exchange, X.OFFERED)
        if listing.fee_amount:
            agreement["p2p:feePerDay"] = str(listing.fee_amount)
        offer = _send(exchange, "Offer", agreement, target=listing.uri)
        exchange.offer_uri = offer["id"]
        exchange.save(update_fields=["offer_uri"])
    return exchange


def _reverse_fee(exchange: RemoteExchange) -> None:
    from apps.ledger.models import Transfer
    from apps.ledger.services import transfer_create

    if exchange.fee_transfer_id is None:
        return
    paid = exchange.fee_transfer
    if not Transfer.objects.filter(reverses=paid).exists():
        transfer_create(
            source=paid.target,
            target=paid.source,
            amount=paid.amount,
            memo=f"Returned: {exchange.peer.name} did not take the fee"[:200],
            idempotency_key=f"reversal:{paid.pk}",
            kind=Transfer.Kind.REVERSAL,
            reverses=paid,
            enforce_membership=False,
        )


def _pay_fee(exchange: RemoteExchange) -> dict | None:
    """Borrower side: member -> clearing(peer), once; the payment as the activity states it."""
    from apps.ledger.clearing import clearing_pay_in

    if not exchange.fee_total:
        return None
    key = activities.fee_key(exchange.uri)
    transfer = clearing_pay_in(
        **_clearing_args(exchange),
        idempotency_key=key,
        memo=f"Fee for a loan from {exchange.peer.name}"[:200],
        related=exchange,
    )
    exchange.fee_transfer, exchange.paid_at, exchange.payment_state = transfer, timezone.now(), "sent"
    exchange.save(update_fields=["fee_transfer", "paid_at", "payment_state"])
    return {"p2p:amount": str(exchange.fee_total), "p2p:currency": exchange.currency, "p2p:key": key}


def remote_exchange_pickup(*, exchange: RemoteExchange, actor: User) -> RemoteExchange:
    """The borrower records the pickup of a remote tool: the fee (if any) is paid into our
    clearing account for the lender's community, and the lender's side is told (it may
    still refuse, and the fee then comes back). Holds SELECT FOR UPDATE on the exchange."""
    with transaction.atomic():
        exchange = (
            RemoteExchange.objects.select_for_update().select_related("local__community", "peer").get(pk=exchange.pk)
        )
        if exchange.side != RemoteExchange.Side.BORROWER or actor.pk != exchange.member_id:
            raise RuleViolation(_("Only the borrower can record the pickup."), code="forbidden")
        if exchange.status != X.ACCEPTED:
            raise RuleViolation(_("Only an accepted loan can be picked up."), code="illegal_transition")
        now = timezone.now()
        payment = _pay_fee(exchange)
        _set_status(exchange, X.PICKED_UP, now, picked_up_at=now)
        extra = {"p2p:payment": payment} if payment else {}
        _send_update(exchange, X.PICKED_UP, **extra)
    return exchange


def remote_exchange_cancel(*, exchange: RemoteExchange, actor: User) -> RemoteExchange:
    """Either party calls off a cross-community loan before pickup; the other side is told.

    Borrower side: the member, while it is asked or accepted. Lender side: through the
    local object's own cancel (its rules), whose change goes back by itself.
    """
    if exchange.side == RemoteExchange.Side.LENDER:
        listing_type, obj = _lender_object(exchange)
        listing_type.borrow.cancel(obj, actor)
        exchange.refresh_from_db()
        return exchange
    with transaction.atomic():
        exchange = RemoteExchange.objects.select_for_update().select_related("local", "peer").get(pk=exchange.pk)
        if actor.pk != exchange.member_id:
            raise RuleViolation(_("Only the borrower can cancel this request."), code="forbidden")
        if exchange.status not in (X.OFFERED, X.ACCEPTED):
            raise RuleViolation(_("This loan can no longer be cancelled."), code="illegal_transition")
        _set_status(exchange, X.CANCELLED, timezone.now())
        _send_update(exchange, X.CANCELLED)
    return exchange


# --- lender side ----------------------------------------------------------------------------


def _lender_object(exchange: RemoteExchange):
    obj = exchange.local_object
    listing_type = registry.lending_type_of(obj) if obj is not None else None
    if listing_type is None:
        raise RuleViolation(_("This loan has no local booking."), code="not_available")
    return listing_type, obj


def _local_for_listing(uri: str) -> LocalActor | None:
    for local in LocalActor.objects.select_related("community").filter(enabled=True):
        if uri.startswith(f"{local.uri}/listings/"):
            return local
    return None


def _parse_time(value, what: str) -> datetime:
    from ..vocab import VocabError, moment

    try:
        return moment(value, what=what)
    except VocabError as exc:
        raise Ignored(f"{what}: {exc.reason}") from None


def on_offer(*, activity: dict, sender: RemoteActor) -> None:
    """A neighbour community's member asks to borrow one of our listings."""
    agreement = activity.get("object")
    if not isinstance(agreement, dict) or agreement.get("type") != "Agreement":
        raise Ignored("offer of something other than an Agreement")
    uri = _id_of(agreement)
    if not uri.startswith(f"{sender.uri.split('://')[0]}://{sender.host}/") or len(uri) > 500:
        raise Ignored("agreement not on the sender's server")
    if RemoteExchange.objects.filter(uri=uri, side=RemoteExchange.Side.LENDER).exists():
        raise Ignored("agreement already known")
    proposal_uri = _id_of(agreement.get("p2p:proposal"))
    local = _local_for_listing(proposal_uri)
    found = registry.listing_from_uri(actor_uri=local.uri, uri=proposal_uri) if local else None
    if found is None or found[0].borrow is None:
        raise Ignored("unknown listing")
    listing_type, obj = found
    starts_at = _parse_time(agreement.get("startTime"), "startTime")
    ends_at = _parse_time(agreement.get("endTime"), "endTime")
    if not Follow.objects.filter(local=local, remote=sender, direction="in", state=Follow.State.ACCEPTED).exists():
        # Only communities we accepted as followers may ask: nobody else gets a stand-in here.
        refused = activities.activity(
            local=local,
            type="Reject",
            object={"id": activity["id"], "type": "Offer", "object": uri},
            to=[sender.uri],
            summary=_("Your community does not follow ours."),
        )
        activity_send(local=local, activity=refused, inboxes=[_inbox(sender)])
        return
    person = remote_person(ref=agreement.get("p2p:borrower"), home=sender)
    stand_in = stand_in_user(person=person)
    adapter = listing_type.borrow
    exchange = RemoteExchange.objects.create(
        uri=uri,
        side=RemoteExchange.Side.LENDER,
        local=local,
        peer=sender,
        member=adapter.owner(obj),
        remote_person=person,
        starts_at=starts_at,
        ends_at=ends_at,
        message=str(agreement.get("content") or "")[:500],
        currency=adapter.currency,
        offer_uri=activity["id"],
        listing_uri=proposal_uri,
        status_changed_at=timezone.now(),
    )
    fee_per_day = activities.decimal_or_none(agreement.get("p2p:feePerDay"))
    try:
        with transaction.atomic():
            local_obj = adapter.request(
                obj,
                borrower=stand_in,
                starts_at=starts_at,
                ends_at=ends_at,
                message=exchange.message,
                expected_fee_per_day=fee_per_day,
            )
    except (RuleViolation, ValidationError) as refusal:
        _set_status(exchange, X.REJECTED, timezone.now())
        reason = "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        _send(exchange, "Reject", {"id": exchange.offer_uri, "type": "Offer", "object": uri}, summary=reason[:500])
        return
    exchange.content_type = ContentType.objects.get_for_model(local_obj)
    exchange.object_id = local_obj.pk
    exchange.fee_total = adapter.fee_total(local_obj)
    exchange.save(update_fields=["content_type", "object_id", "fee_total"])
    _follow_local(exchange, local_obj, adapter)
    inbox_reprocess_deferred(object_uri=uri)


def _follow_local(exchange: RemoteExchange, obj, adapter: registry.BorrowAdapter) -> None:
    """Send what changed on the local object since the exchange's recorded status."""
    status = adapter.status(obj)
    if not status or not _moves_forward(exchange.status, status):
        return
    now = timezone.now()
    if status == X.ACCEPTED:
        _set_status(exchange, X.ACCEPTED, now)
        _send(
            exchange,
            "Accept",
            {"id": exchange.offer_uri, "type": "Offer", "object": activities.exchange_agreement(exchange, X.ACCEPTED)},
        )
    elif status == X.REJECTED:
        _set_status(exchange, X.REJECTED, now)
        _send(exchange, "Reject", {"id": exchange.offer_uri, "type": "Offer", "object": exchange.uri})
    elif status == X.PICKED_UP:
        _set_status(exchange, X.PICKED_UP, now, picked_up_at=now)
        _send_update(exchange, X.PICKED_UP)
    elif status == X.RETURNED:
        _set_status(exchange, X.RETURNED, now, returned_at=now)
        _send_update(exchange, X.RETURNED)
    elif status == X.CANCELLED:
        _set_status(exchange, X.CANCELLED, now)
        _send_update(exchange, X.CANCELLED)


def local_exchange_changed(*, obj) -> None:
    """An exchange's service changed a local object: if a remote neighbour takes part in
    it, tell their community (inside the caller's transaction; sent after commit)."""
    content_type = ContentType.objects.get_for_model(obj)
    exchange = (
        RemoteExchange.objects.select_for_update()
        .select_related("local__community", "peer", "remote_person")
        .filter(content_type=content_type, object_id=obj.pk, side=RemoteExchange.Side.LENDER)
        .first()
    )
    if exchange is None:
        return
    listing_type = registry.lending_type_of(obj)
    if listing_type is not None:
        _follow_local(exchange, obj, listing_type.borrow)


# --- incoming: answers and updates ------------------------------------------------------------


def _exchange_for(*, uri: str, sender: RemoteActor, side: str) -> RemoteExchange | None:
    return (
        RemoteExchange.objects.select_for_update()
        .select_related("local__community", "peer", "remote_person")
        .filter(uri=uri, peer=sender, side=side)
        .first()
    )


def on_offer_answer(*, activity: dict, sender: RemoteActor, accept: bool) -> None:
    """Borrower side: the lender's community accepted or declined our Offer."""
    offer = activity.get("object") if isinstance(activity.get("object"), dict) else {}
    agreement = offer.get("object")
    exchange = _exchange_for(uri=_id_of(agreement), sender=sender, side=RemoteExchange.Side.BORROWER)
    if exchange is None or exchange.offer_uri != _id_of(offer):
        raise Ignored("unknown offer")
    if not _moves_forward(exchange.status, X.ACCEPTED if accept else X.REJECTED):
        raise Ignored("stale_status")
    now = timezone.now()
    community = exchange.peer.name
    if not accept:
        _set_status(exchange, X.REJECTED, now)
        _tell_member(
            exchange, Message("{community} declined your request for {what}", community=community, what=_what(exchange))
        )
        return
    if not isinstance(agreement, dict):
        raise Ignored("accept without the agreement")
    fields = {}
    lender = agreement.get("p2p:lender")
    if lender is not None:
        fields["remote_person"] = remote_person(ref=lender, home=sender)
    fee = agreement.get("p2p:fee")
    amount = activities.decimal_or_none(fee.get("p2p:amount")) if isinstance(fee, dict) else Decimal("0")
    if amount is None or amount < 0:
        raise Ignored("fee: not an amount")
    fields["fee_total"] = amount or Decimal("0")
    _set_status(exchange, X.ACCEPTED, now, **fields)
    _tell_member(
        exchange, Message("{community} accepted your request for {what}", community=community, what=_what(exchange))
    )


def on_update(*, activity: dict, sender: RemoteActor) -> None:
    """A status change of an exchange from the other side (both sides)."""
    agreement = activity.get("object")
    if not isinstance(agreement, dict) or agreement.get("type") != "Agreement":
        raise Ignored("update of something other than an Agreement")
    uri = _id_of(agreement)
    status = agreement.get("p2p:status")
    if status not in RANK:
        raise Ignored("unknown status")
    exchange = (
        RemoteExchange.objects.select_for_update()
        .select_related("local__community", "peer", "remote_person")
        .filter(uri=uri, peer=sender)
        .first()
    )
    if exchange is None:
        if RemoteExchange.objects.filter(uri=uri).exists():
            raise Ignored("exchange of another community")
        raise Deferred("waits_for_offer")
    if exchange.side == RemoteExchange.Side.LENDER:
        _lender_update(exchange=exchange, status=status, activity=activity)
    else:
        _borrower_update(exchange=exchange, status=status)


def _lender_update(*, exchange: RemoteExchange, status: str, activity: dict) -> None:
    payment = activity.get("p2p:payment")
    if status == X.CANCELLED:
        if not _moves_forward(exchange.status, X.CANCELLED):
            raise Ignored("stale_status")
        listing_type, obj = _lender_object(exchange)
        _set_status(exchange, X.CANCELLED, timezone.now())
        listing_type.borrow.cancel(obj, exchange.remote_person.user)
        return
    if status != X.PICKED_UP:
        raise Ignored("only the lender records that")
    if exchange.status == X.PICKED_UP and exchange.payment_state in ("settled",):
        raise Ignored("stale_status")
    if exchange.status not in (X.ACCEPTED, X.PICKED_UP):
        raise Ignored("stale_status")
    refusal = None
    try:
        with transaction.atomic():
            listing_type, obj = _lender_object(exchange)
            now = timezone.now()
            if exchange.status == X.ACCEPTED:
                _set_status(exchange, X.PICKED_UP, now, picked_up_at=now)
                listing_type.borrow.pickup(obj, exchange.remote_person.user)
            if exchange.fee_total:
                _collect_fee(exchange=exchange, payment=payment, obj=obj)
    except (RuleViolation, ValidationError) as exc:
        refusal = exc
        exchange.refresh_from_db()
    if refusal is not None:
        reason = "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        code = getattr(refusal, "code", "") or "refused"
        _send(
            exchange,
            "Reject",
            {"id": activity["id"], "type": "Update", "object": exchange.uri},
            summary=reason[:500],
            **{"p2p:reason": str(code)[:60]},
        )


def _collect_fee(*, exchange: RemoteExchange, payment, obj) -> None:
    """Lender side: the borrower's community paid into its clearing account for us; we pay
    our member from ours for them (refused beyond the limit our organizers set)."""
    from apps.ledger.clearing import clearing_pay_out

    key = activities.fee_key(exchange.uri)
    if not isinstance(payment, dict) or payment.get("p2p:key") != key:
        raise RuleViolation(_("The fee was not paid with the pickup."), code="fee_missing")
    if (
        activities.decimal_or_none(payment.get("p2p:amount")) != exchange.fee_total
        or payment.get("p2p:currency") != exchange.currency
    ):
        raise RuleViolation(_("The fee paid is not the fee agreed."), code="fee_mismatch")
    transfer = clearing_pay_out(
        **_clearing_args(exchange),
        idempotency_key=key,
        memo=f"Fee for a loan to a neighbour of {exchange.peer.name}"[:200],
        related=obj,
    )
    exchange.fee_transfer, exchange.paid_at, exchange.payment_state = transfer, timezone.now(), "settled"
    exchange.save(update_fields=["fee_transfer", "paid_at", "payment_state"])


def _borrower_update(*, exchange: RemoteExchange, status: str) -> None:
    if status not in (X.PICKED_UP, X.RETURNED, X.CANCELLED):
        raise Ignored("only the borrower records that")
    if not _moves_forward(exchange.status, status):
        raise Ignored("stale_status")
    now = timezone.now()
    if status == X.PICKED_UP:
        _set_status(exchange, X.PICKED_UP, now, picked_up_at=now)
        if exchange.fee_total and exchange.fee_transfer_id is None:
            payment = _pay_fee(exchange)
            _send_update(exchange, X.PICKED_UP, **{"p2p:payment": payment})
    elif status == X.RETURNED:
        _set_status(exchange, X.RETURNED, now, returned_at=now, completed_at=now)
        if exchange.remote_person.kind == RemoteActor.Kind.PERSON:
            stand_in_user(person=exchange.remote_person)
            exchange.remote_person.refresh_from_db()
            from apps.reputation.services import review_invite

            review_invite(exchange=exchange)
    else:
        _set_status(exchange, X.CANCELLED, now)
        _tell_member(
            exchange,
            Message(
                "The loan of {what} from {community} was cancelled", what=_what(exchange), community=exchange.peer.name
            ),
        )


def on_reject_update(*, activity: dict, sender: RemoteActor) -> None:
    """Borrower side: the lender refused our pickup (and its payment): the fee comes back."""
    obj = activity.get("object") if isinstance(activity.get("object"), dict) else {}
    exchange = _exchange_for(uri=_id_of(obj.get("object")), sender=sender, side=RemoteExchange.Side.BORROWER)
    if exchange is None or exchange.status != X.PICKED_UP:
        raise Ignored("unknown or settled exchange")
    _reverse_fee(exchange)
    exchange.status, exchange.picked_up_at, exchange.payment_state = X.ACCEPTED, None, "reversed"
    exchange.status_changed_at = timezone.now()
    exchange.save(update_fields=["status", "picked_up_at", "payment_state", "status_changed_at"])
    reason = str(activity.get("summary") or "")[:300]
    _tell_member(
        exchange,
        Message(
            "{community} could not record the pickup of {what}; your fee was returned. {reason}",
            community=exchange.peer.name,
            what=_what(exchange),
            reason=reason,
        ),
    )
