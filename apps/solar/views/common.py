"""What the energy market's pages share: the words for states, the open quarter hours
with their order counts, and one row type per list.

States are said in words a neighbor reads ("Open for orders until 14:10", "Not paid:
..."), computed here once so the slot page, my orders and my trades say the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from apps.peers.models import Community, User
from p2pcommons.humanize import format_when_short
from p2pcommons.transitions import Button

from .. import selectors, services
from ..models import GATE_CLOSURE, Order, Slot, StandingOrder, Trade
from ..transitions import ORDER, STANDING

PER_PAGE = 20


def hhmm(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def open_slots(*, user: User, now: datetime, community: Community | None = None, limit: int = 8) -> list[Slot]:
    """The quarter hours of the member's communities still taking orders, soonest first,
    each with ``buys`` and ``sells``: how many open orders it has (one query)."""
    slots = selectors.slots_visible(user=user).filter(status=Slot.Status.OPEN, start__gt=now + GATE_CLOSURE)
    if community is not None:
        slots = slots.filter(community=community)
    open_order = Q(orders__status=Order.Status.OPEN)
    return list(
        slots.annotate(
            buys=Count("orders", filter=open_order & Q(orders__side=Order.Side.BUY)),
            sells=Count("orders", filter=open_order & Q(orders__side=Order.Side.SELL)),
        ).order_by("start", "community_id")[:limit]
    )


def slot_state(slot: Slot, now: datetime, cancel_reason: str = "") -> str:
    """Where a quarter hour stands, in one sentence."""
    if slot.status == Slot.Status.OPEN:
        if now < slot.gate_closes_at:
            return f"Open for orders until {format_when_short(slot.gate_closes_at)}."
        return f"Orders closed at {hhmm(slot.gate_closes_at)}; the market is matching them now."
    if slot.status == Slot.Status.CANCELLED:
        return "Cancelled by the organizers" + (f": {cancel_reason}" if cancel_reason else ".")
    if slot.volume_wh and slot.clearing_price is not None:
        result = f"{services.kwh(slot.volume_wh)} traded at {services.price_words(slot.clearing_price)}"
    else:
        result = "No trade: no buy and sell prices met"
    if slot.status == Slot.Status.SETTLED:
        return f"Settled from the meter readings. {result}."
    return f"Cleared: {result}. Payment follows the meter readings."


def order_state(order: Order, now: datetime) -> str:
    """An order's status in words; ``order.slot`` must be loaded."""
    S = Order.Status
    if order.status == S.OPEN:
        if now < order.slot.gate_closes_at:
            return f"Open: you can change it until {hhmm(order.slot.gate_closes_at)}"
        return "Waiting for the market to match it"
    if order.status == S.FILLED:
        return "Filled"
    if order.status == S.PARTIAL:
        return f"Partly filled: {services.kwh(order.filled_wh)} of {services.kwh(order.quantity_wh)}"
    if order.status == S.UNFILLED:
        other = "seller" if order.side == Order.Side.BUY else "buyer"
        return f"Not filled: no {other} met your price"
    return order.get_status_display()


def trade_state(trade: Trade) -> str:
    if trade.status == Trade.Status.UNPAID:
        return f"Not paid: {trade.note}" if trade.note else "Not paid"
    return trade.get_status_display()


@dataclass
class OrderRow:
    order: Order
    state: str
    buttons: list[Button] = field(default_factory=list)


def order_rows(orders: list[Order], user: User, now: datetime) -> list[OrderRow]:
    """Each order with its state and the buttons ``ORDER`` allows now (no queries: the
    orders come with their slots)."""
    return [OrderRow(order=o, state=order_state(o, now), buttons=ORDER.buttons(o, user, now=now)) for o in orders]


@dataclass
class TradeRow:
    trade: Trade
    sold: bool  # the viewer is the seller
    other: User
    state: str


def trade_rows(trades: list[Trade], user: User) -> list[TradeRow]:
    rows = []
    for trade in trades:
        sold = trade.seller_id == user.pk
        rows.append(
            TradeRow(trade=trade, sold=sold, other=trade.buyer if sold else trade.seller, state=trade_state(trade))
        )
    return rows


@dataclass
class StandingRow:
    standing: StandingOrder
    words: str
    buttons: list[Button]


def standing_words(standing: StandingOrder) -> str:
    """ "Sell 0.5 kWh every quarter hour from 10:00 to 16:00, at 0.2 credits per kWh or more"."""
    limit = "or more" if standing.side == StandingOrder.Side.SELL else "or less"
    return (
        f"{standing.get_side_display()} {services.kwh(standing.quantity_wh)} every quarter hour "
        f"from {standing.from_time:%H:%M} to {standing.until_time:%H:%M}, "
        f"at {services.price_words(standing.limit_price)} {limit}"
    )


def standing_rows(standings: list[StandingOrder], user: User) -> list[StandingRow]:
    return [StandingRow(standing=s, words=standing_words(s), buttons=STANDING.buttons(s, user)) for s in standings]
