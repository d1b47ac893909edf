"""Solar: meters, the last 30 days of slots cleared by the clearing rule, today's open
slots (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from .base import SOLAR_COMMUNITIES, SOLAR_DAYS, Ctx, next_id, reset_sequences, write

QUARTER = timedelta(minutes=15)
CLEARING_LAG = timedelta(seconds=30)  # the clearing sweep runs every minute after gate closure


def _solar_book(ctx: Ctx, start: datetime, buyers: list, sellers: list) -> list[tuple]:
    """One slot's orders as (member, meter, side, quantity, limit): buyers at any hour,
    sellers while the sun is up (about 07:00-17:00 UTC in the Netherlands)."""
    rng = ctx.rng
    book = []
    for member, meter in rng.sample(buyers, min(len(buyers), rng.randint(3, 12))):
        book.append((member, meter, "buy", rng.randint(50, 1500), Decimal(rng.randint(1500, 3500)).scaleb(-4)))
    if 7 <= start.hour < 17:
        for member, meter in rng.sample(sellers, min(len(sellers), rng.randint(2, 8))):
            book.append((member, meter, "sell", rng.randint(100, 2500), Decimal(rng.randint(1000, 3000)).scaleb(-4)))
    return book


def seed_solar(ctx: Ctx) -> dict[str, int]:
    """Meters in the first communities, the last days of quarter-hour slots cleared by
    ``apps.solar.clearing.clear`` (orders filled as it says, its trades), and open slots
    with orders for the rest of today."""
    from apps.solar import clearing
    from apps.solar.models import Meter, Order, Slot, Trade, gate_closes_at

    rng, now = ctx.rng, ctx.now
    days = max(1, round(SOLAR_DAYS * min(1.0, ctx.scale)))
    first = now.replace(hour=0, minute=0) - timedelta(days=days)
    meter_id, slot_id, order_id = next_id(Meter), next_id(Slot), next_id(Order)
    meters, slots, orders, trades = [], [], [], []
    for index in range(SOLAR_COMMUNITIES):
        community, people = ctx.communities[index].pk, ctx.members[index]
        sellers, buyers = [], []
        for member in people:
            roll = rng.random()
            if roll < 0.5:
                kind, group = ("producer", sellers) if roll < 0.15 else ("consumer", buyers)
                lat, lng = ctx.location[member]
                meters.append(
                    (
                        meter_id,
                        community,
                        member,
                        "Roof panels" if kind == "producer" else "Home",
                        kind,
                        rng.randint(1500, 6000) if kind == "producer" else rng.randint(3000, 11000),
                        lat,
                        lng,
                        now - timedelta(days=days + 30),
                    )
                )
                group.append((member, meter_id))
                meter_id += 1
        if not sellers or not buyers:
            continue
        start = first
        while start < now + timedelta(hours=24 - now.hour):
            cleared = gate_closes_at(start) + CLEARING_LAG <= now
            book = []
            for member, meter, side, quantity, limit in _solar_book(ctx, start, buyers, sellers):
                created = min(start - timedelta(minutes=rng.randint(20, 600)), now - timedelta(minutes=1))
                book.append([order_id, slot_id, member, meter, side, quantity, limit, "open", 0, created, created])
                order_id += 1
            row = [slot_id, community, start, "open", None, 0, 0, 0, None, None, start - timedelta(hours=12)]
            if cleared:
                _clear_slot(clearing, row, book, trades)
            slots.append(tuple(row))
            orders += [tuple(o) for o in book]
            slot_id += 1
            start += QUARTER
    write(
        Meter,
        [
            "id",
            "community_id",
            "owner_id",
            "name",
            "kind",
            "peak_capacity_w",
            "approx_latitude",
            "approx_longitude",
            "created_at",
        ],
        meters,
    )
    write(
        Slot,
        [
            "id",
            "community_id",
            "start",
            "status",
            "clearing_price",
            "volume_wh",
            "buy_orders",
            "sell_orders",
            "cleared_at",
            "traders_told_at",
            "created_at",
        ],
        slots,
    )
    write(
        Order,
        [
            "id",
            "slot_id",
            "member_id",
            "meter_id",
            "side",
            "quantity_wh",
            "limit_price",
            "status",
            "filled_wh",
            "created_at",
            "priority_at",
        ],
        orders,
    )
    write(
        Trade,
        ["slot_id", "seq", "buy_order_id", "sell_order_id", "buyer_id", "seller_id", "quantity_wh", "price", "status"],
        trades,
    )
    reset_sequences([Meter, Slot, Order, Trade])
    return {"meters": len(meters), "slots": len(slots), "orders": len(orders), "trades": len(trades)}


def _clear_slot(clearing, slot: list, book: list[list], trades: list[tuple]) -> None:
    """Clear one slot as ``slot_clear`` does: the rule's trades, each order filled, partly
    filled or not, and the slot's price, volume and order counts."""
    from apps.solar.models import gate_closes_at

    rows = {o[0]: o for o in book}
    buys = [clearing.Order(o[0], o[5], o[6], (o[10], o[0])) for o in book if o[4] == "buy"]
    sells = [clearing.Order(o[0], o[5], o[6], (o[10], o[0])) for o in book if o[4] == "sell"]
    result = clearing.clear(buys, sells)
    for seq, trade in enumerate(result.trades, start=1):
        buy, sell = rows[trade.buy], rows[trade.sell]
        trades.append((slot[0], seq, buy[0], sell[0], buy[2], sell[2], trade.quantity_wh, result.price, "cleared"))
        buy[8] += trade.quantity_wh
        sell[8] += trade.quantity_wh
    for o in book:
        o[7] = "filled" if o[8] == o[5] else ("partial" if o[8] else "unfilled")
    cleared_at = gate_closes_at(slot[2]) + CLEARING_LAG
    slot[3:10] = ["cleared", result.price, result.volume_wh, len(buys), len(sells), cleared_at, cleared_at]
