"""Clearing and settling slots: each exactly once, whoever runs it and however often.

Both start by claiming the slot with a conditional UPDATE from the state they expect
(``SLOT.apply``: ``open -> cleared``, ``cleared -> settled``) inside the transaction that
writes the results. Two workers, or a retried task, race for that row: the loser's
UPDATE waits for the winner's commit, then matches nothing, and it stops. So one set
of trades per slot, one payment per trade (and the ledger's idempotency key per trade
would refuse a second payment anyway).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.ledger.models import Currency, Transfer
from apps.ledger.services import account_for, transfer_create
from apps.notifications.services import notify_each
from apps.peers.models import User
from apps.reputation.services import trust_recompute_on_commit
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when_short
from p2pcommons.i18n import Amount, Message, When, zone

from .. import clearing
from ..models import MeterReading, Order, Slot, Trade, TradingDay
from ..transitions import SLOT
from .orders import cost


def kwh(wh: int) -> str:
    """'1.25 kWh' for 1250 Wh (no trailing zeros)."""
    value = (Decimal(wh) / 1000).quantize(Decimal("0.001")).normalize()
    return f"{value:f} kWh"


def price_words(price: Decimal) -> str:
    return _("%(price)s credits per kWh") % {"price": f"{price.normalize():f}"}


# --- clearing ---------------------------------------------------------------------------
ORDER_COLUMNS = ("pk", "side", "quantity_wh", "limit_price", "priority_at", "member_id")


def open_book(slot: Slot) -> list[tuple]:
    """The slot's open orders as plain rows (``ORDER_COLUMNS``): what the clearing reads."""
    return list(Order.objects.filter(slot=slot, status=Order.Status.OPEN).values_list(*ORDER_COLUMNS))


def clear_book(rows: list[tuple]) -> clearing.Clearing:
    """The rule applied to rows of ``open_book``; ties by (priority, id)."""
    buys = [clearing.Order(pk, q, p, (at, pk)) for pk, side, q, p, at, _ in rows if side == Order.Side.BUY]
    sells = [clearing.Order(pk, q, p, (at, pk)) for pk, side, q, p, at, _ in rows if side == Order.Side.SELL]
    return clearing.clear(buys, sells)


def trade_rows(slot: Slot, result: clearing.Clearing, member_of: dict[int, int]) -> list[Trade]:
    """The unsaved ``Trade`` rows of a clearing, numbered in trade order."""
    return [
        Trade(
            slot=slot,
            seq=seq,
            buy_order_id=trade.buy,
            sell_order_id=trade.sell,
            buyer_id=member_of[trade.buy],
            seller_id=member_of[trade.sell],
            quantity_wh=trade.quantity_wh,
            price=result.price,
        )
        for seq, trade in enumerate(result.trades, start=1)
    ]


def slot_clear(*, slot_id: int, now: datetime | None = None) -> bool:
    """Clear one slot past gate closure with the rule of ``apps.solar.clearing``: trades
    in bulk, the orders' fills, the slot's price and volume, and one notification per
    trader, in a fixed number of queries whatever the size of the book. True if this
    call cleared it; False if it was not due or someone else already did."""
    now = now or timezone.now()
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None or slot.status != Slot.Status.OPEN or now < slot.gate_closes_at:
        return False
    with transaction.atomic():
        try:
            slot = SLOT.apply("clear", slot, None, checked=True, cleared_at=now)
        except RuleViolation:
            return False  # another worker claimed it first
        rows = open_book(slot)
        result = clear_book(rows)
        member_of = {pk: member for pk, _, _, _, _, member in rows}
        Trade.objects.bulk_create(trade_rows(slot, result, member_of), batch_size=1000)
        filled: dict[int, int] = defaultdict(int)
        for trade in result.trades:
            filled[trade.buy] += trade.quantity_wh
            filled[trade.sell] += trade.quantity_wh
        _write_fills(slot, rows, filled)
        Slot.objects.filter(pk=slot.pk).update(
            clearing_price=result.price,
            volume_wh=result.volume_wh,
            buy_orders=sum(1 for row in rows if row[1] == Order.Side.BUY),
            sell_orders=sum(1 for row in rows if row[1] == Order.Side.SELL),
        )
        # Telling a thousand traders is not part of the clearing: it runs after the
        # commit, in its own task, so the slot's row is held no longer than needed.
        from .. import tasks

        enqueue_on_commit(tasks.tell_traders, slot.pk, waits_for="the one-minute clearing sweep")
    return True


def _write_fills(slot: Slot, rows: list, filled: dict[int, int]) -> None:
    """Every open order of the slot becomes filled, partly filled or not filled, in a
    few set-wise UPDATEs rather than one row each: by the rule at most one buy and one
    sell are partly filled (the last of each side that traded), so all the others are
    either filled to their quantity or not at all."""
    quantity = {pk: q for pk, _, q, _, _, _ in rows}
    full = [pk for pk, done in filled.items() if done == quantity[pk]]
    partial = [(pk, done) for pk, done in filled.items() if 0 < done < quantity[pk]]
    Order.objects.filter(slot=slot, status=Order.Status.OPEN).update(status=Order.Status.UNFILLED, filled_wh=0)
    for chunk in range(0, len(full), 10_000):
        Order.objects.filter(pk__in=full[chunk : chunk + 10_000]).update(
            status=Order.Status.FILLED, filled_wh=F("quantity_wh")
        )
    for pk, done in partial:
        Order.objects.filter(pk=pk).update(status=Order.Status.PARTIAL, filled_wh=done)


def slot_tell_traders(*, slot_id: int, now: datetime | None = None) -> int:
    """Tell each trader of a cleared slot how their orders did (one notification each,
    summing their orders: filled, partly filled or not filled, at the slot's price), in a
    fixed number of queries. Once: the slot's ``traders_told_at`` is claimed by a
    conditional UPDATE in the transaction that writes the notifications. Returns how
    many were told."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Slot.objects.filter(
            pk=slot_id, traders_told_at__isnull=True, status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED)
        ).update(traders_told_at=now)
        if not claimed:
            return 0
        slot = Slot.objects.get(pk=slot_id)
        rows = Order.objects.filter(
            slot=slot, status__in=(Order.Status.FILLED, Order.Status.PARTIAL, Order.Status.UNFILLED)
        ).values_list("member_id", "side", "quantity_wh", "filled_wh")
        per_member: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        for member, side, quantity, done in rows:
            per_member[member].append((side, quantity, done))
        return len(_tell_traders(slot, per_member))


def _joined(parts: list[Message]) -> Message:
    """Parts of a notification's sentence, joined with "; " when it is read."""
    joined = parts[0]
    for part in parts[1:]:
        joined = Message("{first}; {second}", first=joined, second=part)
    return joined


def _did(side: str, wanted: int, got: int) -> Message:
    """How one side of a trader's orders did: nothing, all or some of it traded."""
    if side == Order.Side.SELL:
        if got == 0:
            return Message("nothing sold of {wanted}", wanted=kwh(wanted))
        if got == wanted:
            return Message("all {got} sold", got=kwh(got))
        return Message("{got} of {wanted} sold", got=kwh(got), wanted=kwh(wanted))
    if got == 0:
        return Message("nothing bought of {wanted}", wanted=kwh(wanted))
    if got == wanted:
        return Message("all {got} bought", got=kwh(got))
    return Message("{got} of {wanted} bought", got=kwh(got), wanted=kwh(wanted))


def _tell_traders(slot: Slot, per_member: dict[int, list[tuple[str, int, int]]]) -> list:
    users = User.objects.in_bulk(list(per_member))
    when = When(slot.start)
    priced = slot.clearing_price is not None and slot.volume_wh
    price = f"{slot.clearing_price.normalize():f}" if priced else ""
    messages = []
    for member, orders in per_member.items():
        parts = []
        for side in (Order.Side.SELL, Order.Side.BUY):
            wanted = sum(q for s, q, _f in orders if s == side)
            got = sum(f for s, _q, f in orders if s == side)
            if wanted:
                parts.append(_did(side, wanted, got))
        if priced:
            text = Message(
                "Energy market, {when}: {parts} at {price} credits per kWh.",
                when=when,
                parts=_joined(parts),
                price=price,
            )
        else:
            text = Message("Energy market, {when}: {parts}.", when=when, parts=_joined(parts))
        messages.append((users.get(member), text))
    return notify_each(messages=messages, kind="solar.cleared", target=slot)


def slots_with_traders_to_tell(*, limit: int = 500) -> list[int]:
    """Cleared slots whose traders were not told yet (their task was lost with the broker)."""
    return list(
        Slot.objects.filter(traders_told_at__isnull=True, status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED))
        .order_by("start", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def slots_due_for_clearing(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    from ..models import GATE_CLOSURE

    return list(
        Slot.objects.filter(status=Slot.Status.OPEN, start__lte=now + GATE_CLOSURE)
        .order_by("start", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- settlement -------------------------------------------------------------------------
def allocate(trades: list[Trade], measured: dict[int, int], meter_of) -> dict[int, int]:
    """Share each meter's measured Wh over its trades in trade order: a trade gets what
    is left, up to its quantity. ``meter_of(trade)`` names the meter on this side."""
    left = dict(measured)
    shares = {}
    for trade in sorted(trades, key=lambda t: t.seq):
        meter = meter_of(trade)
        share = min(trade.quantity_wh, left.get(meter, 0))
        left[meter] = left.get(meter, 0) - share
        shares[trade.pk] = share
    return shares


def slot_settle(*, slot_id: int, now: datetime | None = None) -> bool:
    """Settle a cleared slot from its meters' readings, once.

    Due when every meter that traded in it has a reading for its quarter hour, or at
    its deadline (two hours after it ends) with what arrived: a missing reading
    delivered nothing. A trade's delivered Wh is the smaller of the seller's export and
    the buyer's import allocated to it (docs/DESIGN.md); the buyer pays that at the
    clearing price through the ledger (idempotency key ``solar-trade-<id>``). A payment
    the ledger refuses (the buyer's account at its limit) leaves the trade unpaid, with
    the reason, and both are told. True if this call settled it."""
    now = now or timezone.now()
    slot = Slot.objects.filter(pk=slot_id).select_related("community").first()
    if slot is None or slot.status != Slot.Status.CLEARED or now < slot.end:
        return False
    local_zone = zone(slot.community.time_zone)  # a trading day is the community's day
    trades = list(
        Trade.objects.filter(slot=slot).select_related("buy_order", "sell_order", "buyer", "seller").order_by("seq")
    )
    meters = {t.buy_order.meter_id for t in trades} | {t.sell_order.meter_id for t in trades}
    readings = {r.meter_id: r for r in MeterReading.objects.filter(meter_id__in=meters, interval_start=slot.start)}
    if len(readings) < len(meters) and now < slot.settle_deadline:
        return False
    with transaction.atomic():
        try:
            slot = SLOT.apply("settle", slot, None, checked=True, settled_at=now)
        except RuleViolation:
            return False
        # Read again under the claim: a correction may have landed since the first look.
        readings = {r.meter_id: r for r in MeterReading.objects.filter(meter_id__in=meters, interval_start=slot.start)}
        exported = {meter: r.exported_wh for meter, r in readings.items()}
        imported = {meter: r.imported_wh for meter, r in readings.items()}
        sold = allocate(trades, exported, lambda t: t.sell_order.meter_id)
        bought = allocate(trades, imported, lambda t: t.buy_order.meter_id)
        days: dict[tuple[int, int], list[Trade]] = defaultdict(list)
        for trade in trades:
            trade.delivered_wh = min(sold[trade.pk], bought[trade.pk])
            trade.amount = cost(trade.delivered_wh, trade.price)
            trade.settled_at = now
            trade.status = Trade.Status.SETTLED
            if trade.amount > 0:
                _pay(slot, trade)
            if trade.delivered_wh and trade.status == Trade.Status.SETTLED:
                days[(trade.seller_id, trade.buyer_id)].append(trade)
        Trade.objects.bulk_update(
            trades, ["delivered_wh", "amount", "settled_at", "status", "transfer", "note"], batch_size=1000
        )
        _trading_days(slot, days, now, local_zone)
        _tell_settled(slot, trades)
    return True


def _pay(slot: Slot, trade: Trade) -> None:
    source = account_for(user=trade.buyer, community=slot.community, currency=Currency.CREDIT)
    target = account_for(user=trade.seller, community=slot.community, currency=Currency.CREDIT)
    try:
        with transaction.atomic():
            trade.transfer = transfer_create(
                source=source,
                target=target,
                amount=trade.amount,
                memo=f"Solar energy, {kwh(trade.delivered_wh)} on {format_when_short(slot.start)}"[:200],
                idempotency_key=f"solar-trade-{trade.pk}",
                kind=Transfer.Kind.EXCHANGE,
                related=trade,
                # An obligation from a cleared trade: paid even if the buyer has left or
                # been suspended since (the ledger still keeps the limit).
                enforce_membership=False,
            )
    except RuleViolation as refusal:
        trade.status = Trade.Status.UNPAID
        trade.note = str(refusal)[:300]


def _trading_days(slot: Slot, days: dict[tuple[int, int], list[Trade]], now: datetime, local_zone: tzinfo) -> None:
    """Add the slot's deliveries to each pair's day (in the community's time zone): the
    exchange reputation counts."""
    if not days:
        return
    day = timezone.localdate(slot.start, local_zone)
    for (seller, buyer), trades in sorted(days.items()):
        row, _created = TradingDay.objects.get_or_create(
            community_id=slot.community_id, seller_id=seller, buyer_id=buyer, day=day, defaults={"completed_at": now}
        )
        TradingDay.objects.filter(pk=row.pk).update(
            delivered_wh=F("delivered_wh") + sum(t.delivered_wh for t in trades),
            amount=F("amount") + sum(t.amount for t in trades),
        )
    trust_recompute_on_commit(user_ids={uid for pair in days for uid in pair})


def _tell_settled(slot: Slot, trades: list[Trade]) -> None:
    """One line per trader: what was delivered and paid, or why not."""
    lines: dict[int, dict[tuple, Message]] = defaultdict(dict)
    users = {}

    def add(uid: int, part: Message) -> None:
        # The same line twice is said once (keyed by its sentence and values).
        key = (part.msgid, *((name, str(value)) for name, value in sorted(part.params.items())))
        lines[uid].setdefault(key, part)

    for trade in trades:
        users[trade.buyer_id], users[trade.seller_id] = trade.buyer, trade.seller
        delivered = kwh(trade.delivered_wh)
        if trade.status == Trade.Status.UNPAID:
            add(
                trade.buyer_id,
                Message("your payment for {quantity} was refused ({reason})", quantity=delivered, reason=trade.note),
            )
            add(trade.seller_id, Message("{quantity} delivered but not paid", quantity=delivered))
        elif trade.delivered_wh:
            money = Amount(trade.amount, "CREDIT")
            add(trade.buyer_id, Message("received {quantity}, paid {money}", quantity=delivered, money=money))
            add(trade.seller_id, Message("delivered {quantity}, earned {money}", quantity=delivered, money=money))
        else:
            add(trade.buyer_id, Message("nothing measured, nothing paid"))
            add(trade.seller_id, Message("nothing measured, nothing paid"))
    when = When(slot.start)
    messages = [
        (users[uid], Message("Energy settled, {when}: {parts}.", when=when, parts=_joined(list(parts.values()))))
        for uid, parts in lines.items()
    ]
    notify_each(messages=messages, kind="solar.settled", target=slot)


def slots_due_for_settlement(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Cleared slots that have ended: each is settled if its readings are in or its
    deadline passed (``slot_settle`` decides)."""
    now = now or timezone.now()
    from ..models import SLOT as QUARTER

    return list(
        Slot.objects.filter(status=Slot.Status.CLEARED, start__lte=now - QUARTER)
        .order_by("start", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- organizers -------------------------------------------------------------------------
def slot_cancel(*, slot: Slot, actor: User, reason: str, now: datetime | None = None) -> Slot:
    """An organizer cancels a slot that is not settled: its orders and trades are void,
    nothing is paid, everyone with an order is told why. Recorded in the slot's events."""
    from django.core.exceptions import ValidationError

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"note": _("Say why, for the neighbors who traded in it.")})
    now = now or timezone.now()
    with transaction.atomic():
        slot = SLOT.apply("cancel", slot, actor, note=reason, now=now, cancelled_at=now)
        Trade.objects.filter(slot=slot, status=Trade.Status.CLEARED).update(status=Trade.Status.VOID, note=reason[:300])
        member_ids = set(
            Order.objects.filter(slot=slot).exclude(status=Order.Status.CANCELLED).values_list("member_id", flat=True)
        )
        Order.objects.filter(slot=slot).exclude(status=Order.Status.CANCELLED).update(status=Order.Status.VOID)
        users = User.objects.in_bulk(list(member_ids))
        text = Message(
            "The organizers cancelled the energy market slot {when}: {reason}", when=When(slot.start), reason=reason
        )
        notify_each(messages=[(u, text) for u in users.values()], kind="solar.cleared", target=slot, actor=actor)
        return slot
