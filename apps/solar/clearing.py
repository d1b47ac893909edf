"""The solar market's clearing rule, exactly (docs/DESIGN.md, "the clearing rule").

Pure Python, no database: ``clear(buys, sells)`` takes one slot's orders and returns
its trades and clearing price. The Celery task that clears a slot (to come with the
rest of the solar exchange) reads the slot's orders, calls this and writes the trades
in bulk; this module alone decides who trades with whom, how much, and at what price.

1. Buy orders sorted by limit price, highest first, then by creation order; sell orders
   by limit price, lowest first, then by creation order.
2. Walk both lists: while the current buy's limit >= the current sell's limit, trade
   ``min(remaining buy, remaining sell)`` Wh between them and move past whichever is
   used up (both, when equal).
3. With b* and a* the limits of the last buy and the last sell that traded, the clearing
   price is (a* + b*) / 2, rounded half-even to 4 decimal places; every trade of the slot
   is at that price.
4. Nothing trades when the best buy is below the best sell.

Exact and deterministic: quantities are integer Wh, prices ``Decimal`` credits per kWh
with at most 4 decimal places (compared as integers of 1/10,000 credit, never floats);
ties go by creation order (``Order.seq``), so the same book always clears the same way,
whatever order its rows were read in. O(n log n) for n orders (two sorts, one walk).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

PRICE_PLACES = Decimal("0.0001")
_SCALE = 10_000  # prices are compared as integers of 1/10,000 credit per kWh
_PRICE_THEN_SEQ = itemgetter(0, 1)


@dataclass(frozen=True, slots=True)
class Order:
    """One order of a slot: ``key`` names it in the trades (an id); ``seq`` is its
    creation order (anything sortable: ``(created_at, id)``), which breaks price ties."""

    key: Any
    quantity_wh: int
    limit_price: Decimal
    seq: Any


@dataclass(frozen=True, slots=True)
class Trade:
    buy: Any  # the buy order's key
    sell: Any  # the sell order's key
    quantity_wh: int


@dataclass(frozen=True, slots=True)
class Clearing:
    price: Decimal | None  # None when nothing trades
    volume_wh: int
    trades: tuple[Trade, ...]


def _ticks(order: Order) -> int:
    """The limit as an integer of 1/10,000 credit, refusing what the rule does not allow."""
    if type(order.quantity_wh) is not int or order.quantity_wh <= 0:
        raise ValueError(f"Order {order.key!r}: the quantity is a whole number of Wh above 0.")
    price = order.limit_price
    try:
        ticks = price * _SCALE
        if not isinstance(price, Decimal) or price < 0 or ticks != ticks.to_integral_value():
            raise InvalidOperation
    except (InvalidOperation, TypeError):
        raise ValueError(
            f"Order {order.key!r}: the limit is a Decimal of credits per kWh, 0 or more, at most 4 decimals."
        ) from None
    return int(ticks)


def clear(buys: Iterable[Order], sells: Iterable[Order]) -> Clearing:
    """Clear one slot by the rule in the module docstring."""
    # Sorted by (price in ticks, seq) only, stably; itemgetter builds the keys in C.
    bids = sorted(((-_ticks(o), o.seq, o) for o in buys), key=_PRICE_THEN_SEQ)
    asks = sorted(((_ticks(o), o.seq, o) for o in sells), key=_PRICE_THEN_SEQ)
    trades: list[Trade] = []
    i = j = 0
    left_buy = bids[0][2].quantity_wh if bids else 0
    left_sell = asks[0][2].quantity_wh if asks else 0
    last_bid = last_ask = None
    while i < len(bids) and j < len(asks) and -bids[i][0] >= asks[j][0]:
        quantity = min(left_buy, left_sell)
        buy, sell = bids[i][2], asks[j][2]
        trades.append(Trade(buy=buy.key, sell=sell.key, quantity_wh=quantity))
        last_bid, last_ask = buy.limit_price, sell.limit_price
        left_buy -= quantity
        left_sell -= quantity
        if left_buy == 0:
            i += 1
            left_buy = bids[i][2].quantity_wh if i < len(bids) else 0
        if left_sell == 0:
            j += 1
            left_sell = asks[j][2].quantity_wh if j < len(asks) else 0
    if not trades:
        return Clearing(price=None, volume_wh=0, trades=())
    price = ((last_bid + last_ask) / 2).quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)
    return Clearing(price=price, volume_wh=sum(t.quantity_wh for t in trades), trades=tuple(trades))
