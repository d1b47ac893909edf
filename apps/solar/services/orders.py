"""Orders and standing orders: placed, changed and cancelled until gate closure.

Locks, always in this order: the slot row (so an order never slips into a slot that is
being cleared: the clearing claims the slot with an UPDATE, which waits for, or is
waited on by, these), then the meter row (capacity), then the buyer's CREDIT account
(what they can still pay for).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.ledger.models import Currency
from apps.ledger.services import account_for
from apps.peers.guards import require_active_member, require_exchange_in_use
from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when
from p2pcommons.i18n import zone

from ..models import (
    GATE_CLOSURE,
    MAX_ORDER_WH,
    MAX_PRICE,
    ORDER_HORIZON,
    SLOT,
    Meter,
    Order,
    Slot,
    StandingOrder,
    Trade,
    TradingSuspension,
    gate_closes_at,
)
from ..transitions import ORDER, STANDING

MAX_STANDING = 10  # live standing orders per member and meter
STANDING_HORIZON = timedelta(hours=6)  # how far ahead standing orders place their orders
WH_PER_KWH = Decimal(1000)


def cost(quantity_wh: int, price: Decimal) -> Decimal:
    """Credits for ``quantity_wh`` at ``price`` per kWh, to the cent (half-even)."""
    return (Decimal(quantity_wh) * price / WH_PER_KWH).quantize(Decimal("0.01"))


def _most(quantity_wh: int, price: Decimal) -> Decimal:
    """The most an open buy could cost: its whole quantity at its limit, rounded up."""
    return (Decimal(quantity_wh) * price / WH_PER_KWH).quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def _clean_price(value, errors: dict) -> Decimal | None:
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors["limit_price"] = _("Give a price in credits per kWh, e.g. 0.25.")
        return None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        errors["limit_price"] = _("A price is from 0 to %(most)s credits per kWh.") % {"most": MAX_PRICE}
    elif price != price.quantize(Decimal("0.0001")):
        errors["limit_price"] = _("A price has at most 4 decimal places.")
    return price


def _clean_quantity(value, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ORDER_WH:
        errors["quantity_wh"] = _("Give a whole number of Wh from 1 to %(most)s.") % {"most": f"{MAX_ORDER_WH:,}"}
        return None
    return value


def refuse_if_suspended_from_trading(*, member: User, community_id: int) -> None:
    suspension = TradingSuspension.objects.filter(
        member=member, community_id=community_id, lifted_at__isnull=True
    ).first()
    if suspension is not None:
        raise RuleViolation(
            _("The organizers stopped your energy trading here for now. Reason: %(reason)s")
            % {"reason": suspension.reason},
            code="suspended",
        )


def _check_meter(*, member: User, meter: Meter, side: str) -> None:
    if meter.owner_id != member.pk:
        raise RuleViolation(_("You can only trade with your own meter."), code="forbidden")
    if meter.status != Meter.Status.ACTIVE:
        raise RuleViolation(_("This meter is no longer used; choose another."), code="illegal_transition")
    if side == Order.Side.SELL and not meter.sells:
        raise ValidationError({"side": _("This meter only buys; register your panels' meter to sell.")})
    if side == Order.Side.BUY and not meter.buys:
        raise ValidationError({"side": _("This meter only sells; use your home's meter to buy.")})


def _check_slot_time(slot_start, now: datetime) -> datetime:
    if not isinstance(slot_start, datetime) or timezone.is_naive(slot_start):
        raise ValidationError({"slot_start": _("Give the slot's start with its time zone.")})
    start = slot_start.astimezone(UTC)
    if start.minute % 15 or start.second or start.microsecond:
        raise ValidationError({"slot_start": _("Slots start on the quarter hour (:00, :15, :30 or :45).")})
    if now >= gate_closes_at(start):
        raise RuleViolation(
            _("Orders for the slot at %(start)s closed at %(closed)s, 5 minutes before it starts.")
            % {"start": format_when(start), "closed": format_when(gate_closes_at(start))},
            code="gate_closed",
        )
    if start > now + ORDER_HORIZON:
        raise ValidationError({"slot_start": _("Orders are taken up to 7 days ahead.")})
    return start


def _check_capacity(*, meter: Meter, slot: Slot, quantity_wh: int, excluding: int | None = None) -> None:
    """A seller never offers more in a slot than the meter can pass in a quarter hour."""
    open_sells = Order.objects.filter(slot=slot, meter=meter, side=Order.Side.SELL, status=Order.Status.OPEN)
    if excluding is not None:
        open_sells = open_sells.exclude(pk=excluding)
    offered = sum(open_sells.values_list("quantity_wh", flat=True))
    if offered + quantity_wh > meter.slot_capacity_wh:
        left = max(0, meter.slot_capacity_wh - offered)
        raise RuleViolation(
            _(
                "%(meter)s passes at most %(capacity)s Wh in a quarter hour (%(peak)s W); "
                "you can offer %(left)s Wh more in this slot."
            )
            % {
                "meter": meter.name,
                "capacity": f"{meter.slot_capacity_wh:,}",
                "peak": f"{meter.peak_capacity_w:,}",
                "left": f"{left:,}",
            },
            code="over_capacity",
            data={"available_wh": left},
        )


def _committed(*, member: User, community_id: int, excluding: int | None = None) -> Decimal:
    """What the member may still have to pay: open buys at their limit, cleared trades
    not yet settled at their price."""
    orders = Order.objects.filter(
        member=member, slot__community_id=community_id, side=Order.Side.BUY, status=Order.Status.OPEN
    )
    if excluding is not None:
        orders = orders.exclude(pk=excluding)
    total = sum((_most(q, p) for q, p in orders.values_list("quantity_wh", "limit_price")), Decimal(0))
    trades = Trade.objects.filter(buyer=member, slot__community_id=community_id, status=Trade.Status.CLEARED)
    return total + sum((cost(q, p) for q, p in trades.values_list("quantity_wh", "price")), Decimal(0))


def _check_affordable(*, member: User, meter: Meter, quantity_wh: int, price: Decimal, excluding=None) -> None:
    """A buyer orders only what they could pay at their limit price with what their
    CREDIT account can still go down to, counting their other open commitments (so a
    seller is never left unpaid). Locks the account row."""
    account = account_for(user=member, community=meter.community, currency=Currency.CREDIT)
    account = type(account).objects.select_for_update().get(pk=account.pk)
    room = (
        account.balance
        - account.limit
        - _committed(member=member, community_id=meter.community_id, excluding=excluding)
    )
    needed = _most(quantity_wh, price)
    if needed > room:
        raise RuleViolation(
            _(
                "At your price this order could cost %(cost)s, and your account can cover "
                "%(room)s more with your other orders."
            )
            % {"cost": format_amount(needed, "CREDIT"), "room": format_amount(max(room, Decimal(0)), "CREDIT")},
            code="insufficient_credit",
        )


def _slot_for_update(*, community_id: int, start: datetime) -> Slot:
    try:
        with transaction.atomic():
            Slot.objects.get_or_create(community_id=community_id, start=start)
    except IntegrityError:  # created at the same moment by another order
        pass
    return Slot.objects.select_for_update().get(community_id=community_id, start=start)


def order_place(
    *,
    member: User,
    meter: Meter,
    slot_start: datetime,
    side: str,
    quantity_wh: int,
    limit_price: Decimal | str,
    standing: StandingOrder | None = None,
    now: datetime | None = None,
) -> Order:
    """Place a buy or sell order for the slot starting at ``slot_start``, until gate
    closure. Sellers stay within the meter's capacity; buyers within what they can pay.
    No new orders (``exchange_off``) where the community stopped using the exchange;
    orders already placed there can still be changed or cancelled, and clear and settle."""
    now = now or timezone.now()
    if side not in Order.Side.values:
        raise ValidationError({"side": _("Choose buy or sell.")})
    errors: dict = {}
    quantity = _clean_quantity(quantity_wh, errors)
    price = _clean_price(limit_price, errors)
    if errors:
        raise ValidationError(errors)
    start = _check_slot_time(slot_start, now)
    require_active_member(user=member, community_id=meter.community_id, doing="trade energy")
    require_exchange_in_use(community_id=meter.community_id, key="solar", doing="place orders")
    refuse_if_suspended_from_trading(member=member, community_id=meter.community_id)
    _check_meter(member=member, meter=meter, side=side)
    with transaction.atomic():
        slot = _slot_for_update(community_id=meter.community_id, start=start)
        if slot.status != Slot.Status.OPEN:
            raise RuleViolation(
                _("The slot at %(start)s takes no more orders.") % {"start": format_when(start)}, code="gate_closed"
            )
        other = Order.Side.BUY if side == Order.Side.SELL else Order.Side.SELL
        if Order.objects.filter(slot=slot, member=member, side=other, status=Order.Status.OPEN).exists():
            if other == Order.Side.BUY:
                text = _(
                    "You already have an order to buy in this quarter hour, and you can't trade with yourself: "
                    "change or cancel that one instead."
                )
            else:
                text = _(
                    "You already have an order to sell in this quarter hour, and you can't trade with yourself: "
                    "change or cancel that one instead."
                )
            raise RuleViolation(text, code="own_order")
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        if side == Order.Side.SELL:
            _check_capacity(meter=meter, slot=slot, quantity_wh=quantity)
        else:
            _check_affordable(member=member, meter=meter, quantity_wh=quantity, price=price)
        return Order.objects.create(
            slot=slot,
            member=member,
            meter=meter,
            side=side,
            quantity_wh=quantity,
            limit_price=price,
            standing=standing,
            created_at=now,
            priority_at=now,
        )


def _locked(order: Order) -> Order:
    """The order fresh, under the slot's lock (see the module docstring)."""
    Slot.objects.select_for_update().filter(pk=order.slot_id).first()
    return Order.objects.select_related("slot", "meter").get(pk=order.pk)


def order_change(
    *, order: Order, actor: User, quantity_wh: int | None = None, limit_price=None, now: datetime | None = None
) -> Order:
    """Change an open order's quantity or price until gate closure; it goes behind
    others at its price (``priority_at`` is now)."""
    now = now or timezone.now()
    errors: dict = {}
    quantity = order.quantity_wh if quantity_wh is None else _clean_quantity(quantity_wh, errors)
    price = order.limit_price if limit_price is None else _clean_price(limit_price, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = _locked(order)
        ORDER.check("change", order, actor, now=now)
        require_active_member(user=actor, community_id=order.slot.community_id, doing="trade energy")
        refuse_if_suspended_from_trading(member=actor, community_id=order.slot.community_id)
        if order.slot.status != Slot.Status.OPEN:
            raise RuleViolation(_("This slot is being cleared; the order can no longer change."), code="gate_closed")
        Meter.objects.select_for_update().filter(pk=order.meter_id).first()
        if order.side == Order.Side.SELL:
            _check_capacity(meter=order.meter, slot=order.slot, quantity_wh=quantity, excluding=order.pk)
        else:
            _check_affordable(member=actor, meter=order.meter, quantity_wh=quantity, price=price, excluding=order.pk)
        Order.objects.filter(pk=order.pk).update(quantity_wh=quantity, limit_price=price, priority_at=now)
        order.refresh_from_db()
        return order


def order_cancel(*, order: Order, actor: User, now: datetime | None = None) -> Order:
    """Cancel an open order until gate closure."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.slot.status != Slot.Status.OPEN:
            raise RuleViolation(
                _("This slot is being cleared; the order can no longer be cancelled."), code="gate_closed"
            )
        return ORDER.apply("cancel", order, actor, now=now, cancelled_at=now)


def order_cancel_all(
    *,
    reason: str,
    meter: Meter | None = None,
    member: User | None = None,
    community_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Cancel the open orders of a meter, or of a member in a community, in slots still
    taking orders (a retired meter, a suspended trader). Returns how many."""
    now = now or timezone.now()
    orders = Order.objects.filter(
        status=Order.Status.OPEN, slot__status=Slot.Status.OPEN, slot__start__gt=now + GATE_CLOSURE
    )
    if meter is not None:
        orders = orders.filter(meter=meter)
    if member is not None:
        orders = orders.filter(member=member, slot__community_id=community_id)
    with transaction.atomic():
        slot_ids = sorted(set(orders.values_list("slot_id", flat=True)))
        list(Slot.objects.select_for_update().filter(pk__in=slot_ids).order_by("pk"))
        return Order.objects.filter(pk__in=orders.values("pk"), status=Order.Status.OPEN).update(
            status=Order.Status.CANCELLED, cancelled_at=now
        )


# --- standing orders --------------------------------------------------------------------
def _quarter(value, name: str, errors: dict) -> time | None:
    if not isinstance(value, time):
        errors[name] = _("Give a time of day, e.g. 10:00.")
        return None
    if value.minute % 15 or value.second or value.microsecond:
        errors[name] = _("Use a quarter hour (:00, :15, :30 or :45).")
    return value


def standing_create(
    *, member: User, meter: Meter, side: str, quantity_wh: int, limit_price, from_time: time, until_time: time
) -> StandingOrder:
    """'Sell up to X Wh every slot between 10:00 and 16:00 at >= p': an order for each
    upcoming slot in those hours (local time), placed by the beat task. Refused
    (``exchange_off``) where the community stopped using the exchange; one made before
    places no more orders there (``order_place`` refuses them)."""
    if side not in Order.Side.values:
        raise ValidationError({"side": _("Choose buy or sell.")})
    errors: dict = {}
    quantity = _clean_quantity(quantity_wh, errors)
    price = _clean_price(limit_price, errors)
    start, end = _quarter(from_time, "from_time", errors), _quarter(until_time, "until_time", errors)
    if start is not None and end is not None and "from_time" not in errors and not start < end:
        errors["until_time"] = _("The end comes after the start, on the same day.")
    if errors:
        raise ValidationError(errors)
    require_active_member(user=member, community_id=meter.community_id, doing="trade energy")
    require_exchange_in_use(community_id=meter.community_id, key="solar", doing="set up standing orders")
    refuse_if_suspended_from_trading(member=member, community_id=meter.community_id)
    _check_meter(member=member, meter=meter, side=side)
    if side == Order.Side.SELL and quantity > meter.slot_capacity_wh:
        raise RuleViolation(
            _("%(meter)s passes at most %(capacity)s Wh in a quarter hour.")
            % {"meter": meter.name, "capacity": f"{meter.slot_capacity_wh:,}"},
            code="over_capacity",
            data={"available_wh": meter.slot_capacity_wh},
        )
    with transaction.atomic():
        Meter.objects.select_for_update().filter(pk=meter.pk).first()
        live = StandingOrder.objects.filter(
            meter=meter, status__in=(StandingOrder.Status.ACTIVE, StandingOrder.Status.PAUSED)
        ).count()
        if live >= MAX_STANDING:
            raise RuleViolation(
                _("A meter has at most %(most)s standing orders; end one first.") % {"most": MAX_STANDING}, code="limit"
            )
        return StandingOrder.objects.create(
            member=member,
            meter=meter,
            side=side,
            quantity_wh=quantity,
            limit_price=price,
            from_time=start,
            until_time=end,
        )


def standing_step(*, standing: StandingOrder, actor: User, action: str) -> StandingOrder:
    """Pause, resume or end a standing order (``STANDING`` says who and when)."""
    with transaction.atomic():
        return STANDING.apply(action, standing, actor)


def _upcoming_starts(now: datetime, horizon: timedelta) -> list[datetime]:
    first = (now + GATE_CLOSURE).astimezone(UTC)
    first = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0) + SLOT
    starts, start = [], first
    while start <= now + horizon:
        if now < gate_closes_at(start):
            starts.append(start)
        start += SLOT
    return starts


def standing_generate(*, now: datetime | None = None, horizon: timedelta = STANDING_HORIZON) -> int:
    """Place the orders of every active standing order for the upcoming slots in its
    hours (local time) whose gate is still open. Idempotent: a slot already ordered for
    by that standing order (even if the member cancelled it since) is skipped, and a
    unique constraint refuses a second one from a racing run. A slot the member can't
    take (capacity used, not enough credit, a suspension) is skipped too."""
    now = now or timezone.now()
    starts = _upcoming_starts(now, horizon)
    if not starts:
        return 0
    placed = 0
    standings = StandingOrder.objects.filter(
        status=StandingOrder.Status.ACTIVE, meter__status=Meter.Status.ACTIVE
    ).select_related("meter", "meter__community", "member")
    for standing in standings.iterator(chunk_size=500):
        done = set(
            Order.objects.filter(standing=standing, slot__start__in=starts).values_list("slot__start", flat=True)
        )
        local_zone = zone(standing.meter.community.time_zone)  # its hours are the community's
        for start in starts:
            local = start.astimezone(local_zone).time()
            if start in done or not (standing.from_time <= local < standing.until_time):
                continue
            try:
                with transaction.atomic():
                    order_place(
                        member=standing.member,
                        meter=standing.meter,
                        slot_start=start,
                        side=standing.side,
                        quantity_wh=standing.quantity_wh,
                        limit_price=standing.limit_price,
                        standing=standing,
                        now=now,
                    )
                placed += 1
            except (RuleViolation, ValidationError, IntegrityError):
                continue
    return placed
