"""What the energy market's pages share: the words for states, the open quarter hours
with their order counts, and one row type per list.

States are said in words a neighbor reads ("Open for orders until 14:10", "Not paid:
..."), computed here once so the slot page, my orders and my trades say the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

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
            return _("Open for orders until %(when)s.") % {"when": format_when_short(slot.gate_closes_at)}
        return _("Orders closed at %(when)s; the market is matching them now.") % {"when": hhmm(slot.gate_closes_at)}
    if slot.status == Slot.Status.CANCELLED:
        if cancel_reason:
            return _("Cancelled by the organizers: %(reason)s") % {"reason": cancel_reason}
        return _("Cancelled by the organizers.")
    if slot.volume_wh and slot.clearing_price is not None:
        result = _("%(quantity)s traded at %(price)s") % {
            "quantity": services.kwh(slot.volume_wh),
            "price": services.price_words(slot.clearing_price),
        }
    else:
        result = _("No trade: no buy and sell prices met")
    if slot.status == Slot.Status.SETTLED:
        return _("Settled from the meter readings. %(result)s.") % {"result": result}
    return _("Cleared: %(result)s. Payment follows the meter readings.") % {"result": result}


def order_state(order: Order, now: datetime) -> str:
    """An order's status in words; ``order.slot`` must be loaded."""
    S = Order.Status
    if order.status == S.OPEN:
        if now < order.slot.gate_closes_at:
            return _("Open: you can change it until %(when)s") % {"when": hhmm(order.slot.gate_closes_at)}
        return _("Waiting for the market to match it")
    if order.status == S.FILLED:
        return _("Filled")
    if order.status == S.PARTIAL:
        return _("Partly filled: %(filled)s of %(quantity)s") % {
            "filled": services.kwh(order.filled_wh),
            "quantity": services.kwh(order.quantity_wh),
        }
    if order.status == S.UNFILLED:
        if order.side == Order.Side.BUY:
            return _("Not filled: no seller met your price")
        return _("Not filled: no buyer met your price")
    return order.get_status_display()


def trade_state(trade: Trade) -> str:
    if trade.status == Trade.Status.UNPAID:
        return _("Not paid: %(reason)s") % {"reason": trade.note} if trade.note else _("Not paid")
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
    values = {
        "quantity": services.kwh(standing.quantity_wh),
        "from": f"{standing.from_time:%H:%M}",
        "until": f"{standing.until_time:%H:%M}",
        "price": services.price_words(standing.limit_price),
    }
    if standing.side == StandingOrder.Side.SELL:
        return _("Sell %(quantity)s every quarter hour from %(from)s to %(until)s, at %(price)s or more") % values
    return _("Buy %(quantity)s every quarter hour from %(from)s to %(until)s, at %(price)s or less") % values


def standing_rows(standings: list[StandingOrder], user: User) -> list[StandingRow]:
    return [StandingRow(standing=s, words=standing_words(s), buttons=STANDING.buttons(s, user)) for s in standings]
