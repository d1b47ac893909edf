"""Reads of the solar market, each in a fixed number of queries.

Visibility: a member sees the market (slots, anonymous order books, prices) of the
communities they are an active member of, and only their own meters, readings, orders
and trades. The order book never names who ordered.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from apps.peers.models import User
from apps.peers.selectors import active_community_ids

from .models import (
    GATE_CLOSURE,
    SETTLE_DEADLINE,
    SLOT,
    DeviceToken,
    Meter,
    MeterReading,
    Order,
    Slot,
    StandingOrder,
    Trade,
)

RELIABILITY_WINDOW = timedelta(days=30)


def meters_of(*, user: User) -> QuerySet[Meter]:
    return Meter.objects.filter(owner=user).select_related("community").order_by("status", "name", "pk")


def meter_of(*, user: User, pk: int) -> Meter | None:
    """The member's own meter, or None (someone else's is 'not found', not 'forbidden')."""
    return Meter.objects.select_related("community").filter(owner=user, pk=pk).first()


def tokens_of(*, meter: Meter) -> QuerySet[DeviceToken]:
    return DeviceToken.objects.filter(meter=meter).order_by("revoked_at", "-created_at", "-pk")


def readings_of(*, meter: Meter, since: datetime | None = None) -> QuerySet[MeterReading]:
    readings = MeterReading.objects.filter(meter=meter)
    if since is not None:
        readings = readings.filter(interval_start__gte=since)
    return readings.order_by("-interval_start")


def orders_of(*, user: User, status: str | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(member=user).select_related("slot", "slot__community", "meter")
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-slot__start", "-pk")


def standing_of(*, user: User) -> QuerySet[StandingOrder]:
    return StandingOrder.objects.filter(member=user).select_related("meter").order_by("status", "-created_at", "-pk")


def trades_of(*, user: User) -> QuerySet[Trade]:
    """The member's trades, newest slot first, with the other party's public name."""
    return (
        Trade.objects.filter(Q(buyer=user) | Q(seller=user))
        .select_related("slot", "slot__community", "buyer__profile", "seller__profile", "transfer")
        .order_by("-slot__start", "seq")
    )


def slots_visible(*, user: User) -> QuerySet[Slot]:
    """The slots of the member's communities (nothing for someone signed out)."""
    if not user.is_authenticated:
        return Slot.objects.none()
    return Slot.objects.filter(community_id__in=active_community_ids(user=user)).select_related("community")


def slot_visible(*, user: User, pk: int) -> Slot | None:
    return slots_visible(user=user).filter(pk=pk).first()


def upcoming_slots(*, user: User, now: datetime | None = None, limit: int = 8) -> list[Slot]:
    """Slots of the member's communities still taking orders, soonest first."""
    now = now or timezone.now()
    return list(
        slots_visible(user=user)
        .filter(status=Slot.Status.OPEN, start__gt=now + timedelta(minutes=5))
        .order_by("start", "community_id")[:limit]
    )


def order_book(*, slot: Slot) -> tuple[list[tuple[int, Decimal]], list[tuple[int, Decimal]]]:
    """The slot's anonymous book: (quantity Wh, limit price) of buys and of sells, the
    open ones before clearing, those that took part after."""
    statuses = (
        (Order.Status.OPEN,)
        if slot.status == Slot.Status.OPEN
        else (Order.Status.FILLED, Order.Status.PARTIAL, Order.Status.UNFILLED)
    )
    rows = Order.objects.filter(slot=slot, status__in=statuses).values_list("side", "quantity_wh", "limit_price")
    buys, sells = [], []
    for side, quantity, price in rows:
        (buys if side == Order.Side.BUY else sells).append((quantity, price))
    return buys, sells


def recent_slots(*, community_ids, now: datetime | None = None, hours: int = 24) -> list[Slot]:
    """The cleared and settled slots of the last ``hours``, oldest first (the charts)."""
    now = now or timezone.now()
    return list(
        Slot.objects.filter(
            community_id__in=community_ids,
            start__gte=now - timedelta(hours=hours),
            start__lte=now,
            status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED),
        ).order_by("start", "community_id")
    )


def daily_energy(*, user: User, days: int = 14, now: datetime | None = None) -> list[tuple[date, dict]]:
    """Per local day, oldest first: Wh sold and bought (cleared) and credits earned and
    spent (settled), over the last ``days`` days. One query."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    totals: dict[date, dict] = defaultdict(
        lambda: {"sold_wh": 0, "bought_wh": 0, "earned": Decimal(0), "spent": Decimal(0)}
    )
    rows = Trade.objects.filter(Q(buyer=user) | Q(seller=user), slot__start__gte=since).exclude(
        status=Trade.Status.VOID
    )
    for start, seller, buyer, quantity, amount in rows.values_list(
        "slot__start", "seller_id", "buyer_id", "quantity_wh", "amount"
    ):
        day = timezone.localdate(start)
        if seller == user.pk:
            totals[day]["sold_wh"] += quantity
            totals[day]["earned"] += amount or 0
        if buyer == user.pk:
            totals[day]["bought_wh"] += quantity
            totals[day]["spent"] += amount or 0
    return sorted(totals.items())


def production(*, meter: Meter, hours: int = 24, now: datetime | None = None) -> list[MeterReading]:
    """The meter's readings over the last ``hours``, oldest first (its production curve)."""
    now = now or timezone.now()
    return list(
        MeterReading.objects.filter(meter=meter, interval_start__gte=now - timedelta(hours=hours)).order_by(
            "interval_start"
        )
    )


def reliability(*, seller: User, now: datetime | None = None) -> Decimal | None:
    """Of the energy this seller sold in settled trades over the last 30 days, the share
    their meters delivered (0 to 1), or None when they sold nothing settled."""
    now = now or timezone.now()
    totals = Trade.objects.filter(
        seller=seller,
        status__in=(Trade.Status.SETTLED, Trade.Status.UNPAID),
        slot__start__gte=now - RELIABILITY_WINDOW,
    ).aggregate(sold=Sum("quantity_wh"), delivered=Sum("delivered_wh"))
    if not totals["sold"]:
        return None
    return (Decimal(totals["delivered"] or 0) / Decimal(totals["sold"])).quantize(Decimal("0.01"))


def next_open_starts(*, now: datetime | None = None, count: int = 8) -> list[datetime]:
    """The next ``count`` slot starts whose gate is still open (for the order form)."""
    now = now or timezone.now()
    start = now.astimezone(UTC).replace(second=0, microsecond=0)
    start = start.replace(minute=start.minute - start.minute % 15) + SLOT
    starts = []
    while len(starts) < count:
        if now < start - timedelta(minutes=5):
            starts.append(start)
        start += SLOT
    return starts


def market_totals(*, community_ids, since: datetime) -> dict:
    """Energy traded and delivered since ``since`` in these communities (home page numbers)."""
    totals = Slot.objects.filter(
        community_id__in=community_ids, start__gte=since, status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED)
    ).aggregate(volume=Sum("volume_wh"))
    delivered = Trade.objects.filter(
        slot__community_id__in=community_ids, slot__start__gte=since, status=Trade.Status.SETTLED
    ).aggregate(wh=Sum("delivered_wh"))
    return {"traded_wh": totals["volume"] or 0, "delivered_wh": delivered["wh"] or 0}


# --- the front door: the blueprint's figure, the member's dashboard, the profile ------------
def traded_wh(*, community_ids, since: datetime, until: datetime) -> int:
    """Energy traded (Wh cleared into trades, cancelled slots' trades not counted) in
    slots starting in [since, until) of these communities (a subquery or ids). One query."""
    total = (
        Trade.objects.filter(slot__community_id__in=community_ids, slot__start__gte=since, slot__start__lt=until)
        .exclude(status=Trade.Status.VOID)
        .aggregate(wh=Sum("quantity_wh"))
    )
    return total["wh"] or 0


def orders_closing(*, user: User, now: datetime, within: timedelta, limit: int = 10) -> list[Order]:
    """The member's open orders placed by hand (not by a standing order) whose gate
    closes within ``within`` from ``now``, soonest first: the last chance to change
    them. One query."""
    return list(
        Order.objects.filter(
            member=user,
            status=Order.Status.OPEN,
            standing__isnull=True,
            slot__status=Slot.Status.OPEN,
            slot__start__gt=now + GATE_CLOSURE,
            slot__start__lte=now + within + GATE_CLOSURE,
        )
        .select_related("slot", "meter")
        .order_by("slot__start", "pk")[:limit]
    )


def readings_awaited(*, user: User, now: datetime, grace: timedelta, limit: int = 10) -> list[Order]:
    """The member's filled orders in cleared slots that wait for the reading of the
    member's own meter: the slot ended at least ``grace`` ago, its settlement deadline
    has not passed, and that meter has no reading for the quarter hour (without one the
    meter delivered, or took, nothing). One per meter and slot, soonest deadline first.
    One query."""
    reading = MeterReading.objects.filter(meter_id=OuterRef("meter_id"), interval_start=OuterRef("slot__start"))
    rows = (
        Order.objects.filter(
            member=user,
            status__in=(Order.Status.FILLED, Order.Status.PARTIAL),
            slot__status=Slot.Status.CLEARED,
            slot__start__lte=now - SLOT - grace,
            slot__start__gt=now - SLOT - SETTLE_DEADLINE,
        )
        .exclude(Exists(reading))
        .select_related("slot", "meter")
        .order_by("slot__start", "meter_id", "pk")[: limit * 2]
    )
    seen, awaited = set(), []
    for order in rows:
        if (order.meter_id, order.slot_id) not in seen:
            seen.add((order.meter_id, order.slot_id))
            awaited.append(order)
    return awaited[:limit]


def open_orders_ahead(*, user: User, now: datetime, limit: int = 30) -> list[Order]:
    """The member's open orders in slots still to come, soonest first (with the slot and
    its community). One query."""
    return list(
        Order.objects.filter(member=user, status=Order.Status.OPEN, slot__status=Slot.Status.OPEN, slot__start__gt=now)
        .select_related("slot", "slot__community")
        .order_by("slot__start", "side", "pk")[:limit]
    )


def cleared_slots(*, user: User, community_ids, limit: int) -> list[Slot]:
    """The latest cleared (or already settled) slots where energy traded, of those of
    ``community_ids`` the member may see, most recently cleared first. One query."""
    return list(
        slots_visible(user=user)
        .filter(
            community_id__in=community_ids,
            status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED),
            volume_wh__gt=0,
            cleared_at__isnull=False,
        )
        .order_by("-cleared_at", "-pk")[:limit]
    )


def energy_record(*, member: User, now: datetime | None = None) -> dict:
    """A member's record in the market: over all time, Wh sold that their meters
    delivered and Wh bought and received; over the last 30 days (the reliability window,
    as ``reliability``), Wh sold in settled trades (``promised_recent``) and delivered of
    it (``delivered_recent``). Settled means the readings were counted (paid or not).
    One query."""
    now = now or timezone.now()
    settled = (Trade.Status.SETTLED, Trade.Status.UNPAID)
    recent = Q(seller=member, slot__start__gte=now - RELIABILITY_WINDOW)
    totals = Trade.objects.filter(Q(seller=member) | Q(buyer=member), status__in=settled).aggregate(
        delivered=Sum("delivered_wh", filter=Q(seller=member)),
        bought=Sum("delivered_wh", filter=Q(buyer=member)),
        promised_recent=Sum("quantity_wh", filter=recent),
        delivered_recent=Sum("delivered_wh", filter=recent),
    )
    return {key: value or 0 for key, value in totals.items()}
