"""Demo data for the solar market: a street of neighbors with panels selling their
midday surplus to the neighbors without, over the last 24 hours and the next few slots.

In the first demo community, four neighbors have panels (3-6 kW; two meters show the
panels alone, two a house with panels, netted) and six only buy (one of them charges an
electric car at midday); in the second, one and two more if it has enough neighbors
who don't trade in the first. They are the demo's own people, no new accounts. Their meters
record yesterday and today up to now from ``profiles`` (the sun's real path over
Amsterdam for the date, passing clouds, a household's day), so the charts show a
winter day as short and a summer one as long.

Everything goes through the services as the neighbors' clicks and the beat tasks
would have, with the services' ``now=`` set to when that would have happened:

- standing orders (sell 10:00-16:00 at 0.18-0.24; buy 07:00-09:00 or 17:00-21:00 at
  0.26-0.32; some neighbors buy their base load in the daytime at 0.22-0.26, the car
  11:00-15:00), whose orders for each past slot are placed six hours ahead, as
  ``standing_generate`` does;
- one-off orders for each past slot, placed 6-90 minutes before it, sized from what the
  meter then did (a seller's guess at its surplus; a buyer's at their use);
- each past slot cleared just after gate closure (``slot_clear``) and settled a few
  minutes after it ended (``slot_settle``), paying buyer -> seller in CREDIT;
- the orders of the next slots (``standing_generate`` at the real now, and one-offs).

What the services stamp with the real clock is moved back afterwards with queryset
updates, like the other demos' backdating: when the meters and standing orders were
made, the slots' events (when cleared and settled), and the market notifications of
slots more than two hours old (marked read and delivered, so the first ``make run``
doesn't email a day of market results at once).

The neighbors spend a few credits a day at most, far within the default credit limit
(-50): an order the services refused (capacity, credit) would be counted in the log.
About 450 orders and 100 slots cleared and settled through the services: about 3 s of
seed_demo's time (most of it Django building some 10,000 queries).

Idempotent: a community that already has the demo meters is left as it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.models import Community, Membership, User
from p2pcommons.errors import RuleViolation

from . import profiles, services
from .models import GATE_CLOSURE, SLOT, Meter, MeterReading, Order, Slot, SlotEvent, StandingOrder, Trade
from .services import Row

DEMO_EMAIL_DOMAIN = "@example.org"
HISTORY = timedelta(hours=24)
STANDING_LEAD = timedelta(hours=6)  # the beat places a standing order's orders this far ahead
SETTLED_READ_AFTER = timedelta(hours=2)  # older market notifications count as read
UPCOMING_SLOTS = 4  # one-off orders for this many of the next slots


@dataclass(frozen=True)
class Producer:
    name: str
    kind: str
    peak_w: int
    household_w: int  # 0: the meter sees the panels alone


@dataclass(frozen=True)
class Consumer:
    """A household without panels and the hours it has standing orders for: "morning"
    (07:00-09:00) and "evening" (17:00-21:00) when it uses most, "daytime" (10:00-16:00)
    for its base load on the neighbors' sun; ``car_w``: it charges an electric car at
    that power from 11:00 to 15:00 and buys for it."""

    name: str
    base_w: int
    peak_w: int
    hours: tuple[str, ...]
    car_w: int = 0


PRODUCERS = [
    Producer("Roof panels", Meter.Kind.PRODUCER, 4200, 0),
    Producer("House with panels", Meter.Kind.BOTH, 5600, 320),
    Producer("Panels on the shed roof", Meter.Kind.PRODUCER, 3300, 0),
    Producer("Home and solar roof", Meter.Kind.BOTH, 6000, 280),
]
CONSUMERS = [
    Consumer("Flat 2", 250, 2500, ("evening", "daytime")),
    Consumer("Home", 300, 2800, ("morning", "evening")),
    Consumer("Upstairs flat", 200, 2200, ("evening",)),
    Consumer("Houseboat", 350, 3000, ("morning",)),
    Consumer("Corner house", 300, 3200, ("evening",), car_w=3700),
    Consumer("Studio", 180, 1800, ("daytime",)),
]
# Per community, in the order seed_demo passes them: (producers, consumers). Kept to a
# street's worth: every order goes through the services, about a dozen queries each.
CAST = [(PRODUCERS, CONSUMERS), (PRODUCERS[:1], CONSUMERS[:2])]
METER_NAMES = sorted({p.name for p in PRODUCERS} | {c.name for c in CONSUMERS})
HOME_CAPACITY_W = 8000  # a consumer meter's connection (35 A single phase)

SELL_HOURS = (time(10), time(16))
BUY_HOURS = {"morning": (time(7), time(9)), "evening": (time(17), time(21)), "daytime": (time(10), time(16))}
CAR_HOURS = (time(11), time(15))  # the car charges on the neighbors' midday sun


@dataclass
class _Counts:
    meters: int = 0
    readings: int = 0
    standing: int = 0
    orders: int = 0
    refused: int = 0
    cleared: int = 0
    settled: int = 0


@dataclass
class _Trader:
    meter: Meter
    readings: dict[datetime, tuple[int, int]]  # interval start -> (imported, exported), yesterday and today


def _price(rng: random.Random, low: str, high: str) -> Decimal:
    """A price on the cent between ``low`` and ``high`` credits per kWh."""
    cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
    return Decimal(cents) / 100


def _round_wh(wh: float, step: int = 10) -> int:
    return int(round(wh / step) * step)


def _credits(amount) -> Decimal:
    return Decimal(amount or 0).quantize(Decimal("0.01"))


def _quarter_floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return moment.replace(minute=moment.minute - moment.minute % 15)


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    """Meters, readings, standing orders and a day of cleared and settled slots in the
    first two communities (see the module docstring)."""
    now = timezone.now()
    counts = _Counts()
    slot_ids: list[int] = []
    used: set[int] = set()  # a neighbor trades in one community only: their panels are in one place
    for community, (producers, consumers) in zip(communities, CAST, strict=False):
        if Meter.objects.filter(
            community=community, owner__email__endswith=DEMO_EMAIL_DOMAIN, name__in=METER_NAMES
        ).exists():
            continue
        members = [
            user
            for user in User.objects.filter(
                memberships__community=community,
                memberships__status=Membership.Status.ACTIVE,
                email__endswith=DEMO_EMAIL_DOMAIN,
                is_staff=False,
            )
            .select_related("profile")
            .order_by("pk")
            if user.pk not in used
        ]
        if len(members) < len(producers) + len(consumers):
            continue
        cast = rng.sample(members, len(producers) + len(consumers))
        used.update(user.pk for user in cast)
        slot_ids += _seed_community(
            community=community,
            sellers=list(zip(cast[: len(producers)], producers, strict=True)),
            buyers=list(zip(cast[len(producers) :], consumers, strict=True)),
            now=now,
            rng=rng,
            counts=counts,
        )
    if not counts.meters:
        log("  nothing new (the demo meters are there)")
        return
    _backdate(slot_ids=slot_ids, now=now)
    trades = Trade.objects.filter(slot_id__in=slot_ids)
    paid = trades.filter(status=Trade.Status.SETTLED).aggregate(wh=Sum("delivered_wh"), credits=Sum("amount"))
    most = (
        trades.filter(status=Trade.Status.SETTLED)
        .values("buyer")
        .annotate(spent=Sum("amount"))
        .order_by("-spent")
        .values_list("spent", flat=True)
        .first()
    )
    log(
        f"  {counts.meters} meters with {counts.readings} readings, {counts.standing} standing orders, "
        f"{counts.orders} orders ({counts.refused} refused), {counts.cleared} slots cleared, "
        f"{counts.settled} settled: {trades.count()} trades, {(paid['wh'] or 0) / 1000:.1f} kWh delivered "
        f"for {_credits(paid['credits'])} credits (the most one neighbor paid: {_credits(most)})"
    )


def _seed_community(
    *,
    community: Community,
    sellers: list[tuple[User, Producer]],
    buyers: list[tuple[User, Consumer]],
    now: datetime,
    rng: random.Random,
    counts: _Counts,
) -> list[int]:
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    # Yesterday and today are recorded (up to now); the rest of today and tomorrow are
    # what the neighbors expect when they order for the next slots.
    days = [*demo_days(now), today + timedelta(days=1)]
    recorded_until = _quarter_floor(now)  # readings of every quarter hour that is over

    traders: list[_Trader] = []
    standing: list[StandingOrder] = []
    for user, plan in sellers:
        meter = _meter(community=community, user=user, name=plan.name, kind=plan.kind, peak_w=plan.peak_w)
        latitude, longitude = _place(meter, community)
        rows = [
            row
            for day in days
            for row in profiles.producer_day(
                latitude=latitude,
                longitude=longitude,
                day=day,
                tz=tz,
                peak_w=plan.peak_w,
                rng=rng,
                household_w=plan.household_w,
            )
        ]
        traders.append(_Trader(meter, {start: (imported, exported) for start, imported, exported in rows}))
        # A seller offers about what the panels give at the start of the window on a
        # clear day of this season; the rest of the surplus goes in one-off orders.
        morning = datetime.combine(today, time(10, 30), tzinfo=tz)
        expected = profiles.clear_sky_w(latitude=latitude, longitude=longitude, moment=morning, peak_w=plan.peak_w)
        quantity = max(50, min(meter.slot_capacity_wh, _round_wh((expected - plan.household_w) / 4 * 0.8, 50)))
        standing.append(
            _standing(meter=meter, side="sell", quantity=quantity, price=_price(rng, "0.18", "0.24"), hours=SELL_HOURS)
        )
    for user, plan in buyers:
        meter = _meter(community=community, user=user, name=plan.name, kind=Meter.Kind.CONSUMER, peak_w=HOME_CAPACITY_W)
        readings = {
            start: (imported + _charging_wh(start, plan, tz), exported)
            for day in days
            for start, imported, exported in profiles.consumer_day(
                day=day, tz=tz, rng=rng, base_w=plan.base_w, peak_w=plan.peak_w
            )
        }
        traders.append(_Trader(meter, readings))
        for window in plan.hours:
            if window == "daytime":
                # What the home uses anyway in the daytime, bought from the neighbors' panels.
                quantity = _round_wh(plan.base_w / 4 * rng.uniform(0.7, 0.9))
                price = _price(rng, "0.22", "0.26")
            else:
                quantity = _round_wh(plan.peak_w / 4 * rng.uniform(0.25, 0.45), 50)
                price = _price(rng, "0.26", "0.32")
            standing.append(_standing(meter=meter, side="buy", quantity=quantity, price=price, hours=BUY_HOURS[window]))
        if plan.car_w:
            quantity = _round_wh(plan.car_w / 4 * 0.9, 50)
            price = _price(rng, "0.24", "0.27")
            standing.append(_standing(meter=meter, side="buy", quantity=quantity, price=price, hours=CAR_HOURS))
    counts.meters += len(traders)
    counts.standing += len(standing)

    for trader in traders:
        rows = [Row(start, *values) for start, values in sorted(trader.readings.items()) if start < recorded_until]
        counts.readings += services.readings_record(
            meter=trader.meter, rows=rows, source=MeterReading.Source.DEMO, now=now
        ).created

    # The last 24 hours, slot by slot: orders, clearing at gate closure, settlement.
    slot_ids = []
    start = _quarter_floor(now - HISTORY) + SLOT
    while start - GATE_CLOSURE <= now:
        placed = _standing_orders_for(start=start, standing=standing, tz=tz, counts=counts)
        placed |= _one_offs(start=start, traders=traders, standing=standing, tz=tz, rng=rng, counts=counts)
        if placed:
            slot = Slot.objects.get(community=community, start=start)
            slot_ids.append(slot.pk)
            cleared_at = min(start - timedelta(minutes=4), now)
            counts.cleared += services.slot_clear(slot_id=slot.pk, now=cleared_at)
            services.slot_tell_traders(slot_id=slot.pk, now=cleared_at)  # what the task queued on commit does
            if start + SLOT <= now:
                settle_at = min(start + SLOT + timedelta(minutes=rng.randint(2, 12)), now)
                counts.settled += services.slot_settle(slot_id=slot.pk, now=settle_at)
        start += SLOT

    # What is on the market now: the beat's standing orders, and neighbors' one-off orders.
    counts.orders += services.standing_generate(now=now)
    first = _quarter_floor(now + GATE_CLOSURE) + SLOT
    for ahead in range(UPCOMING_SLOTS):
        start = first + ahead * SLOT
        _one_offs(start=start, traders=traders, standing=standing, tz=tz, rng=rng, counts=counts, placed_at=now)
    return slot_ids


def _charging_wh(start: datetime, plan: Consumer, tz) -> int:
    """The car's share of a quarter hour's import: charging at ``car_w`` in ``CAR_HOURS``."""
    return round(plan.car_w / 4) if plan.car_w and CAR_HOURS[0] <= start.astimezone(tz).time() < CAR_HOURS[1] else 0


def _meter(*, community: Community, user: User, name: str, kind: str, peak_w: int) -> Meter:
    profile = getattr(user, "profile", None)
    latitude = getattr(profile, "approx_latitude", None) or community.center_latitude
    longitude = getattr(profile, "approx_longitude", None) or community.center_longitude
    return services.meter_register(
        owner=user,
        community=community,
        name=name,
        kind=kind,
        peak_capacity_w=peak_w,
        latitude=latitude,
        longitude=longitude,
    )


def _place(meter: Meter, community: Community) -> tuple[float, float]:
    latitude = meter.approx_latitude or community.center_latitude or Decimal("52.36")
    longitude = meter.approx_longitude or community.center_longitude or Decimal("4.90")
    return float(latitude), float(longitude)


def _standing(*, meter: Meter, side: str, quantity: int, price: Decimal, hours: tuple[time, time]) -> StandingOrder:
    return services.standing_create(
        member=meter.owner,
        meter=meter,
        side=side,
        quantity_wh=quantity,
        limit_price=price,
        from_time=hours[0],
        until_time=hours[1],
    )


def _place_order(
    *, meter: Meter, start: datetime, side: str, quantity: int, price: Decimal, now, counts, standing=None
) -> bool:
    try:
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=start,
            side=side,
            quantity_wh=quantity,
            limit_price=price,
            standing=standing,
            now=now,
        )
    except (RuleViolation, ValidationError):
        counts.refused += 1  # a full meter or an account at its limit: skipped, as the beat would
        return False
    counts.orders += 1
    return True


def _in_hours(order: StandingOrder, start: datetime, tz) -> bool:
    return order.from_time <= start.astimezone(tz).time() < order.until_time


def _standing_orders_for(*, start: datetime, standing: list[StandingOrder], tz, counts: _Counts) -> bool:
    """A past slot's orders from standing orders, placed as the beat places them: six
    hours ahead. True if any was placed."""
    placed = False
    for order in standing:
        if _in_hours(order, start, tz):
            placed |= _place_order(
                meter=order.meter,
                start=start,
                side=order.side,
                quantity=order.quantity_wh,
                price=order.limit_price,
                standing=order,
                now=start - STANDING_LEAD,
                counts=counts,
            )
    return placed


def _one_offs(
    *,
    start: datetime,
    traders: list[_Trader],
    standing: list[StandingOrder],
    tz,
    rng: random.Random,
    counts: _Counts,
    placed_at: datetime | None = None,
) -> bool:
    """Neighbors who look at the market for a slot, 6 to 90 minutes before it: a seller
    offers part of the surplus they expect beyond their standing order (what the meter
    then exported, give or take a fifth); a buyer bids for part of what they expect to
    use, mostly in the daytime. For the next slots (``placed_at``: now) every neighbor
    with something to offer or to use orders, so the order book has both curves when
    the sun is up. True if any order was placed."""
    hour = start.astimezone(tz).hour
    upcoming = placed_at is not None
    placed = False
    for trader in traders:
        imported, exported = trader.readings.get(start, (0, 0))
        meter = trader.meter
        now = placed_at or start - timedelta(minutes=rng.randint(6, 90))
        if meter.sells:
            standing_wh = sum(o.quantity_wh for o in standing if o.meter_id == meter.pk and _in_hours(o, start, tz))
            surplus = exported * rng.uniform(0.8, 1.2) - standing_wh
            if surplus < 60 or not (upcoming or rng.random() < 0.4):
                continue
            quantity = min(meter.slot_capacity_wh - standing_wh, _round_wh(surplus * rng.uniform(0.4, 0.8)))
            side, price = "sell", _price(rng, "0.19", "0.27")
        else:
            chance = 1 if upcoming else 0.25 if 9 <= hour < 17 else 0  # when there may be sun to buy
            if imported < 40 or rng.random() >= chance:
                continue
            quantity = _round_wh(imported * rng.uniform(0.2, 0.6))
            side, price = "buy", _price(rng, "0.21", "0.31")
        if quantity >= 20:
            placed |= _place_order(
                meter=meter, start=start, side=side, quantity=quantity, price=price, now=now, counts=counts
            )
    return placed


def _backdate(*, slot_ids: list[int], now: datetime) -> None:
    """Move back what the services stamped with the real clock (see the module docstring)."""
    meters = Meter.objects.filter(pk__in=Order.objects.filter(slot_id__in=slot_ids).values("meter_id"))
    for meter in meters:
        days = 20 + meter.pk % 160
        Meter.objects.filter(pk=meter.pk).update(created_at=now - timedelta(days=days))
        StandingOrder.objects.filter(meter=meter).update(created_at=now - timedelta(days=days % 14 + 2))
    for target, field in ((Slot.Status.CLEARED, "cleared_at"), (Slot.Status.SETTLED, "settled_at")):
        moment = Subquery(Slot.objects.filter(pk=OuterRef("slot_id")).values(field)[:1])
        SlotEvent.objects.filter(slot_id__in=slot_ids, target=target).update(created_at=moment)
    slot_type = ContentType.objects.get_for_model(Slot)
    for kind, field in (("solar.cleared", "cleared_at"), ("solar.settled", "settled_at")):
        moment = Subquery(Slot.objects.filter(pk=OuterRef("target_id")).values(field)[:1])
        market = Notification.objects.filter(kind=kind, target_type=slot_type, target_id__in=slot_ids)
        market.update(created_at=moment)
        market.filter(created_at__lt=now - SETTLED_READ_AFTER).update(
            read_at=now, delivered_at=now, email=Notification.Email.SKIPPED
        )


def demo_days(now: datetime) -> list[date]:
    """The local days the demo's readings cover (yesterday and today)."""
    today = timezone.localdate(now)
    return [today - timedelta(days=1), today]
