"""Orders, through the services, and the clearing of a slot's book.

Placed only for a quarter-hour slot given with its time zone, up to 7 days ahead and
until gate closure (5 minutes before the slot starts); sellers within their meter's
capacity, buyers within their CREDIT room. Changed (to the back of its price level) or
cancelled until gate closure, by the member who placed it. Then ``slot_clear`` turns the
book into trades at one price, by the rule of docs/DESIGN.md, in a fixed number of
queries whatever the book's size.

Times are fixed: the slot of Monday 22 June 2026, 12:00 in Amsterdam (10:00 UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Meter, Order, Slot, Trade
from p2pcommons.errors import RuleViolation
from tests.querycount import count_queries

START = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # Monday 22 June 2026, 12:00 in Amsterdam
OPEN = START - timedelta(hours=1)  # when the orders are placed
GATE = START - timedelta(minutes=5)  # gate closure
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WHEN = "Mon 22 Jun, 12:00"  # the slot as people read it


def trader(community, name: str, kind: str = Meter.Kind.BOTH, peak_w: int = 4000) -> Meter:
    """A new member of ``community`` with one meter (4000 W: 1000 Wh a quarter hour)."""
    user = MembershipFactory(community=community, user__profile__display_name=name).user
    return MeterFactory(owner=user, community=community, name=f"{name}'s meter", kind=kind, peak_capacity_w=peak_w)


def place(meter: Meter, side: str, wh: int, price: str, *, at: datetime = OPEN, start: datetime = START) -> Order:
    return services.order_place(
        member=meter.owner,
        meter=meter,
        slot_start=start,
        side=side,
        quantity_wh=wh,
        limit_price=Decimal(price),
        now=at,
    )


def clear(start: datetime = START, community=None) -> Slot:
    slot = Slot.objects.get(start=start) if community is None else Slot.objects.get(start=start, community=community)
    assert services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at) is True
    services.slot_tell_traders(slot_id=slot.pk)  # the task the clearing queues on commit
    slot.refresh_from_db()
    return slot


def refused(call, code: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call()
    assert caught.value.code == code, (caught.value.code, str(caught.value))
    return caught.value


def field_errors(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def told(user) -> str:
    return Notification.objects.get(recipient=user, kind="solar.cleared").text


# --- the slot and its time ----------------------------------------------------------------
def test_an_order_for_a_quarter_hour_given_in_local_time_lands_in_that_slot(community, producer, panels):
    order = place(panels, "sell", 300, "0.21", start=START.astimezone(AMSTERDAM))

    order.refresh_from_db()
    assert order.slot.start == START
    assert order.slot.community == community
    assert (order.member, order.meter, order.side, order.status) == (producer, panels, "sell", Order.Status.OPEN)
    assert (order.quantity_wh, order.limit_price, order.filled_wh) == (300, Decimal("0.2100"), 0)
    assert order.created_at == order.priority_at == OPEN


@pytest.mark.parametrize(
    "start",
    [
        START + timedelta(minutes=7),
        START + timedelta(minutes=15, seconds=30),
        START + timedelta(microseconds=500),
    ],
    ids=["10:07", "10:15:30", "a half millisecond past"],
)
def test_a_slot_start_off_the_quarter_hour_is_refused(panels, start):
    errors = field_errors(lambda: place(panels, "sell", 300, "0.20", start=start))

    assert errors == {"slot_start": ["Slots start on the quarter hour (:00, :15, :30 or :45)."]}
    assert not Order.objects.exists()
    assert not Slot.objects.exists()


@pytest.mark.parametrize("start", [START.replace(tzinfo=None), date(2026, 6, 22)], ids=["naive", "a date"])
def test_a_slot_start_without_its_time_zone_is_refused(panels, start):
    errors = field_errors(lambda: place(panels, "sell", 300, "0.20", start=start))

    assert errors == {"slot_start": ["Give the slot's start with its time zone."]}
    assert not Order.objects.exists()


def test_orders_close_exactly_five_minutes_before_the_slot_starts(panels):
    refusal = refused(lambda: place(panels, "sell", 300, "0.20", at=GATE), "gate_closed")
    assert "closed at Monday 22 June 2026, 11:55" in str(refusal)
    refused(lambda: place(panels, "sell", 300, "0.20", at=START + timedelta(minutes=1)), "gate_closed")
    assert not Order.objects.exists()

    order = place(panels, "sell", 300, "0.20", at=GATE - timedelta(seconds=1))

    assert Order.objects.get().pk == order.pk


def test_an_order_more_than_seven_days_ahead_is_refused(panels):
    errors = field_errors(lambda: place(panels, "sell", 300, "0.20", at=START - timedelta(days=7, minutes=15)))
    assert errors == {"slot_start": ["Orders are taken up to 7 days ahead."]}
    assert not Order.objects.exists()

    place(panels, "sell", 300, "0.20", at=START - timedelta(days=7))  # exactly a week ahead is fine

    assert Order.objects.count() == 1


# --- quantity and price -------------------------------------------------------------------
@pytest.mark.parametrize("quantity", [0, -5, 1.5, "100", True, None, 1_000_001])
def test_a_quantity_that_is_not_a_whole_number_of_wh_above_zero_is_refused(panels, quantity):
    call = lambda: services.order_place(  # noqa: E731
        member=panels.owner,
        meter=panels,
        slot_start=START,
        side="sell",
        quantity_wh=quantity,
        limit_price="0.2",
        now=OPEN,
    )
    assert field_errors(call) == {"quantity_wh": ["Give a whole number of Wh from 1 to 1,000,000."]}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-0.01", "A price is from 0 to 1000 credits per kWh."),
        ("1000.0001", "A price is from 0 to 1000 credits per kWh."),
        ("0.12345", "A price has at most 4 decimal places."),
        ("NaN", "A price is from 0 to 1000 credits per kWh."),
        ("sNaN", "A price is from 0 to 1000 credits per kWh."),
        ("Infinity", "A price is from 0 to 1000 credits per kWh."),
        ("-Infinity", "A price is from 0 to 1000 credits per kWh."),
        (float("nan"), "A price is from 0 to 1000 credits per kWh."),
        ("twenty cents", "Give a price in credits per kWh, e.g. 0.25."),
        (None, "Give a price in credits per kWh, e.g. 0.25."),
    ],
)
def test_a_price_that_is_negative_too_precise_or_not_a_number_is_refused(home, price, message):
    call = lambda: services.order_place(  # noqa: E731
        member=home.owner, meter=home, slot_start=START, side="buy", quantity_wh=100, limit_price=price, now=OPEN
    )
    assert field_errors(call) == {"limit_price": [message]}
    assert not Order.objects.exists()


def test_a_bad_quantity_and_a_bad_price_are_both_named_at_once(home):
    call = lambda: services.order_place(  # noqa: E731
        member=home.owner, meter=home, slot_start=START, side="buy", quantity_wh=0, limit_price="-1", now=OPEN
    )
    assert set(field_errors(call)) == {"quantity_wh", "limit_price"}


def test_a_price_of_zero_and_one_of_four_decimals_are_kept_exactly(panels):
    free = place(panels, "sell", 100, "0")
    precise = place(panels, "sell", 100, "0.1234", at=OPEN + timedelta(seconds=1))

    free.refresh_from_db()
    precise.refresh_from_db()
    assert (free.limit_price, precise.limit_price) == (Decimal("0"), Decimal("0.1234"))


# --- the meter ------------------------------------------------------------------------------
def test_a_seller_offers_at_most_what_the_meter_passes_in_a_quarter_hour_over_all_its_open_sells(panels):
    # Roof panels of 4000 W pass at most 1000 Wh in a quarter hour.
    first = place(panels, "sell", 600, "0.20")
    place(panels, "sell", 300, "0.25", at=OPEN + timedelta(seconds=1))

    refusal = refused(lambda: place(panels, "sell", 101, "0.30", at=OPEN + timedelta(seconds=2)), "over_capacity")
    assert refusal.data == {"available_wh": 100}
    assert str(refusal) == (
        "Roof panels passes at most 1,000 Wh in a quarter hour (4,000 W); you can offer 100 Wh more in this slot."
    )
    place(panels, "sell", 100, "0.30", at=OPEN + timedelta(seconds=3))  # exactly up to capacity
    assert refused(lambda: place(panels, "sell", 1, "0.30"), "over_capacity").data == {"available_wh": 0}

    # A cancelled order no longer counts; another slot has its own capacity.
    services.order_cancel(order=first, actor=panels.owner, now=OPEN + timedelta(minutes=1))
    place(panels, "sell", 600, "0.20", at=OPEN + timedelta(minutes=2))
    place(panels, "sell", 1000, "0.20", start=START + timedelta(minutes=15))
    open_wh = Order.objects.filter(slot__start=START, status=Order.Status.OPEN).aggregate(wh=Sum("quantity_wh"))
    assert open_wh == {"wh": 1000}


def test_one_order_above_the_meters_capacity_is_refused(panels):
    refusal = refused(lambda: place(panels, "sell", 1001, "0.20"), "over_capacity")

    assert refusal.data == {"available_wh": 1000}
    assert not Order.objects.exists()


def test_a_consumer_only_meter_cannot_sell(home):
    errors = field_errors(lambda: place(home, "sell", 100, "0.20"))

    assert errors == {"side": ["This meter only buys; register your panels' meter to sell."]}
    assert not Order.objects.exists()


def test_a_producer_only_meter_cannot_buy(panels):
    errors = field_errors(lambda: place(panels, "buy", 100, "0.20"))

    assert errors == {"side": ["This meter only sells; use your home's meter to buy."]}
    assert not Order.objects.exists()


def test_nobody_trades_with_someone_elses_meter(buyer, panels):
    call = lambda: services.order_place(  # noqa: E731
        member=buyer, meter=panels, slot_start=START, side="sell", quantity_wh=100, limit_price="0.2", now=OPEN
    )
    assert str(refused(call, "forbidden")) == "You can only trade with your own meter."
    assert not Order.objects.exists()


def test_a_retired_meter_takes_no_orders(producer, panels):
    services.meter_retire(meter=panels, actor=producer)

    refused(lambda: place(panels, "sell", 100, "0.20"), "illegal_transition")


# --- who may trade --------------------------------------------------------------------------
def test_someone_who_is_not_a_member_cannot_order(community, stranger):
    meter = MeterFactory(owner=stranger, community=community, kind=Meter.Kind.PRODUCER)

    refusal = refused(lambda: place(meter, "sell", 100, "0.20"), "not_member")

    assert str(refusal) == "Join Sunnyside Commons to trade energy there."
    assert not Order.objects.exists()


def test_a_member_whose_membership_is_suspended_cannot_order(community, producer, panels):
    Membership.objects.filter(user=producer, community=community).update(
        status=Membership.Status.SUSPENDED, status_reason="Rude to neighbors."
    )

    refusal = refused(lambda: place(panels, "sell", 100, "0.20"), "suspended")

    assert "suspended" in str(refusal) and "Rude to neighbors." in str(refusal)
    assert not Order.objects.exists()


def test_a_member_whose_membership_is_suspended_cannot_change_an_order(community, producer, panels):
    order = place(panels, "sell", 100, "0.20")
    Membership.objects.filter(user=producer, community=community).update(
        status=Membership.Status.SUSPENDED, status_reason="Rude to neighbors."
    )

    refused(
        lambda: services.order_change(order=order, actor=producer, quantity_wh=900, now=OPEN + timedelta(minutes=1)),
        "suspended",
    )
    order.refresh_from_db()
    assert order.quantity_wh == 100


def test_a_member_whose_trading_the_organizers_stopped_cannot_order_until_they_lift_it(
    community, organizer, producer, panels
):
    now = timezone.now()
    start = next_slot_start(now, ahead=2)
    waiting = place(panels, "sell", 100, "0.20", at=now, start=start)

    suspension = services.trading_suspend(
        community=community, member=producer, actor=organizer, reason="Meter readings look wrong."
    )

    refusal = refused(lambda: place(panels, "sell", 100, "0.20", at=now, start=start), "suspended")
    assert str(refusal) == "The organizers stopped your energy trading here for now. Reason: Meter readings look wrong."
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.CANCELLED  # their open orders went with it
    assert "cancelled 1 open order" in Notification.objects.get(recipient=producer).text

    services.trading_lift(suspension=suspension, actor=organizer)
    place(panels, "sell", 100, "0.20", at=now, start=start)
    assert Order.objects.filter(status=Order.Status.OPEN).count() == 1


# --- what a buyer can pay -------------------------------------------------------------------
def test_a_buyer_orders_only_what_their_credit_room_covers_at_the_limit_price(community, buyer, home):
    # Sunnyside lets a CREDIT balance go down to -50: a room of 50 credits, all slots together.
    place(home, "buy", 1000, "30")  # could cost 30 credits
    later = START + timedelta(minutes=15)

    refusal = refused(lambda: place(home, "buy", 1000, "20.0001", start=later), "insufficient_credit")
    assert str(refusal) == (
        "At your price this order could cost 20.01 credits, and your account can cover 20 credits more "
        "with your other orders."
    )
    place(home, "buy", 1000, "20", start=later)  # exactly the room left

    refused(lambda: place(home, "buy", 1, "0.01", start=later + timedelta(minutes=15)), "insufficient_credit")
    assert Order.objects.count() == 2


def test_a_cancelled_buy_frees_its_credit_room(buyer, home):
    big = place(home, "buy", 1000, "50")
    refused(lambda: place(home, "buy", 100, "1"), "insufficient_credit")

    services.order_cancel(order=big, actor=buyer, now=OPEN + timedelta(minutes=1))

    place(home, "buy", 100, "1", at=OPEN + timedelta(minutes=2))
    assert Order.objects.filter(status=Order.Status.OPEN).count() == 1


# --- changing and cancelling ----------------------------------------------------------------
def test_a_changed_order_takes_its_new_quantity_and_price_and_goes_to_the_back(producer, panels):
    order = place(panels, "sell", 300, "0.20")
    changed_at = OPEN + timedelta(minutes=10)

    services.order_change(order=order, actor=producer, quantity_wh=400, limit_price="0.22", now=changed_at)

    order.refresh_from_db()
    assert (order.quantity_wh, order.limit_price, order.status) == (400, Decimal("0.2200"), Order.Status.OPEN)
    assert order.created_at == OPEN
    assert order.priority_at == changed_at


def test_a_changed_order_fills_after_an_order_placed_later_at_the_same_price(community, panels, home):
    other = trader(community, "Otto Other", Meter.Kind.PRODUCER)
    first = place(panels, "sell", 300, "0.20", at=OPEN)
    second = place(other, "sell", 300, "0.20", at=OPEN + timedelta(minutes=1))
    place(home, "buy", 300, "0.30", at=OPEN + timedelta(minutes=2))

    # Pia changes her quantity: her order goes behind Otto's at 0.20.
    services.order_change(order=first, actor=first.member, quantity_wh=350, now=OPEN + timedelta(minutes=3))
    clear()

    trade = Trade.objects.get()
    assert (trade.sell_order, trade.quantity_wh) == (second, 300)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.status, second.filled_wh) == (Order.Status.FILLED, 300)
    assert (first.status, first.filled_wh) == (Order.Status.UNFILLED, 0)


def test_without_a_change_the_earlier_order_at_a_price_fills_first(community, panels, home):
    other = trader(community, "Otto Other", Meter.Kind.PRODUCER)
    first = place(panels, "sell", 300, "0.20", at=OPEN)
    place(other, "sell", 300, "0.20", at=OPEN + timedelta(minutes=1))
    place(home, "buy", 300, "0.30", at=OPEN + timedelta(minutes=2))

    clear()

    assert Trade.objects.get().sell_order == first


def test_a_change_stays_within_the_meters_capacity_counting_its_other_orders_but_not_itself(producer, panels):
    order = place(panels, "sell", 600, "0.20")
    place(panels, "sell", 300, "0.25", at=OPEN + timedelta(seconds=1))
    changed_at = OPEN + timedelta(minutes=1)

    services.order_change(order=order, actor=producer, quantity_wh=700, now=changed_at)
    refusal = refused(
        lambda: services.order_change(order=order, actor=producer, quantity_wh=701, now=changed_at), "over_capacity"
    )

    assert refusal.data == {"available_wh": 700}
    order.refresh_from_db()
    assert order.quantity_wh == 700


def test_a_change_of_a_buy_stays_within_the_credit_room(buyer, home):
    order = place(home, "buy", 1000, "30")
    changed_at = OPEN + timedelta(minutes=1)

    services.order_change(order=order, actor=buyer, limit_price="50", now=changed_at)
    refused(
        lambda: services.order_change(order=order, actor=buyer, limit_price="50.01", now=changed_at),
        "insufficient_credit",
    )

    order.refresh_from_db()
    assert order.limit_price == Decimal("50")


def test_a_change_with_a_bad_quantity_or_price_is_refused_as_field_errors(producer, panels):
    order = place(panels, "sell", 300, "0.20")

    errors = field_errors(
        lambda: services.order_change(order=order, actor=producer, quantity_wh=0, limit_price="0.123456", now=OPEN)
    )

    assert set(errors) == {"quantity_wh", "limit_price"}


def test_an_order_cannot_change_at_or_after_gate_closure(producer, panels):
    order = place(panels, "sell", 300, "0.20")

    refusal = refused(
        lambda: services.order_change(order=order, actor=producer, quantity_wh=400, now=GATE), "gate_closed"
    )

    assert "it can no longer be changed" in str(refusal)
    order.refresh_from_db()
    assert (order.quantity_wh, order.priority_at) == (300, OPEN)


def test_only_the_member_who_placed_an_order_changes_or_cancels_it(buyer, panels):
    order = place(panels, "sell", 300, "0.20")

    refused(lambda: services.order_change(order=order, actor=buyer, quantity_wh=1, now=OPEN), "forbidden")
    refused(lambda: services.order_cancel(order=order, actor=buyer, now=OPEN), "forbidden")

    order.refresh_from_db()
    assert (order.quantity_wh, order.status) == (300, Order.Status.OPEN)


def test_an_order_can_be_cancelled_until_gate_closure_and_not_after(producer, panels):
    kept = place(panels, "sell", 300, "0.20")
    cancelled = place(panels, "sell", 300, "0.20", at=OPEN + timedelta(seconds=1))

    services.order_cancel(order=cancelled, actor=producer, now=GATE - timedelta(seconds=1))
    refused(lambda: services.order_cancel(order=kept, actor=producer, now=GATE), "gate_closed")

    kept.refresh_from_db()
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.cancelled_at) == (Order.Status.CANCELLED, GATE - timedelta(seconds=1))
    assert (kept.status, kept.cancelled_at) == (Order.Status.OPEN, None)
    refused(lambda: services.order_cancel(order=cancelled, actor=producer, now=OPEN), "illegal_transition")  # once


def test_a_cleared_order_can_no_longer_be_cancelled(producer, panels, home):
    order = place(panels, "sell", 300, "0.20")
    place(home, "buy", 300, "0.30")
    clear()

    refused(lambda: services.order_cancel(order=order, actor=producer, now=OPEN), "gate_closed")
    refused(lambda: services.order_change(order=order, actor=producer, quantity_wh=1, now=OPEN), "illegal_transition")


def test_a_cancelled_slot_takes_no_more_orders(community, organizer, producer, panels, home):
    order = place(panels, "sell", 300, "0.20")
    slot = order.slot
    services.slot_cancel(slot=slot, actor=organizer, reason="Grid maintenance in the street.", now=OPEN)

    refusal = refused(lambda: place(home, "buy", 300, "0.30", at=OPEN + timedelta(minutes=1)), "gate_closed")

    assert str(refusal) == "The slot at Monday 22 June 2026, 12:00 takes no more orders."
    order.refresh_from_db()
    assert order.status == Order.Status.VOID
    assert Order.objects.count() == 1
    assert services.slot_clear(slot_id=slot.pk, now=GATE) is False


def test_cancelled_orders_take_no_part_in_the_clearing(producer, buyer, panels, home):
    cheap = place(panels, "sell", 300, "0.10")
    kept = place(panels, "sell", 300, "0.20", at=OPEN + timedelta(seconds=1))
    place(home, "buy", 300, "0.30", at=OPEN + timedelta(seconds=2))
    services.order_cancel(order=cheap, actor=producer, now=OPEN + timedelta(minutes=1))

    slot = clear()

    assert list(Trade.objects.values_list("sell_order", "quantity_wh")) == [(kept.pk, 300)]
    assert slot.clearing_price == Decimal("0.2500")
    assert (slot.buy_orders, slot.sell_orders) == (1, 1)
    cheap.refresh_from_db()
    assert (cheap.status, cheap.filled_wh) == (Order.Status.CANCELLED, 0)


# --- the clearing ---------------------------------------------------------------------------
def test_a_book_clears_by_the_rule_with_partial_fills_at_the_midpoint_of_the_last_traded_limits(community):
    sam = trader(community, "Sam Seller")
    sue = trader(community, "Sue Seller", Meter.Kind.PRODUCER)
    sid = trader(community, "Sid Seller", Meter.Kind.PRODUCER)
    bea = trader(community, "Bea Buyer", Meter.Kind.CONSUMER)
    bob = trader(community, "Bob Buyer", Meter.Kind.CONSUMER)
    bru = trader(community, "Bru Buyer", Meter.Kind.CONSUMER)
    bel = trader(community, "Bel Buyer", Meter.Kind.CONSUMER)
    tick = iter(range(100))

    def at() -> datetime:
        return OPEN + timedelta(seconds=next(tick))

    s1 = place(sam, "sell", 200, "0.10", at=at())
    s2 = place(sue, "sell", 300, "0.20", at=at())
    s3 = place(sid, "sell", 500, "0.24", at=at())
    b1 = place(bea, "buy", 400, "0.30", at=at())
    b2 = place(bob, "buy", 300, "0.25", at=at())
    b3 = place(bru, "buy", 300, "0.18", at=at())
    b4 = place(bel, "buy", 100, "0.05", at=at())  # far too low

    slot = clear()

    # By hand: buys 0.30, 0.25, 0.18, 0.05 against sells 0.10, 0.20, 0.24.
    #   b1 400 @0.30 x s1 200 @0.10 -> 200      b1 200 left x s2 300 @0.20 -> 200
    #   b2 300 @0.25 x s2 100 left  -> 100      b2 200 left x s3 500 @0.24 -> 200
    #   b3 @0.18 < s3 @0.24: stop. Last traded: 0.25 and 0.24 -> 0.245.
    trades = list(Trade.objects.filter(slot=slot).order_by("seq"))
    assert [(t.seq, t.buy_order_id, t.sell_order_id, t.quantity_wh) for t in trades] == [
        (1, b1.pk, s1.pk, 200),
        (2, b1.pk, s2.pk, 200),
        (3, b2.pk, s2.pk, 100),
        (4, b2.pk, s3.pk, 200),
    ]
    assert {t.price for t in trades} == {Decimal("0.2450")}
    assert [(t.buyer, t.seller) for t in trades] == [
        (bea.owner, sam.owner),
        (bea.owner, sue.owner),
        (bob.owner, sue.owner),
        (bob.owner, sid.owner),
    ]
    assert {t.status for t in trades} == {Trade.Status.CLEARED}
    assert (slot.status, slot.clearing_price, slot.volume_wh) == (Slot.Status.CLEARED, Decimal("0.2450"), 700)
    assert (slot.buy_orders, slot.sell_orders, slot.cleared_at) == (4, 3, GATE)
    fills = {o.pk: (o.status, o.filled_wh) for o in Order.objects.all()}
    assert fills == {
        s1.pk: (Order.Status.FILLED, 200),
        s2.pk: (Order.Status.FILLED, 300),
        s3.pk: (Order.Status.PARTIAL, 200),
        b1.pk: (Order.Status.FILLED, 400),
        b2.pk: (Order.Status.FILLED, 300),
        b3.pk: (Order.Status.UNFILLED, 0),
        b4.pk: (Order.Status.UNFILLED, 0),
    }

    # One notification per trader, in words.
    at_price = "at 0.245 credits per kWh."
    assert told(sam.owner) == f"Energy market, {WHEN}: all 0.2 kWh sold {at_price}"
    assert told(bel.owner) == f"Energy market, {WHEN}: nothing bought of 0.1 kWh {at_price}"
    assert told(sue.owner) == f"Energy market, {WHEN}: all 0.3 kWh sold {at_price}"
    assert told(sid.owner) == f"Energy market, {WHEN}: 0.2 kWh of 0.5 kWh sold {at_price}"
    assert told(bea.owner) == f"Energy market, {WHEN}: all 0.4 kWh bought {at_price}"
    assert told(bob.owner) == f"Energy market, {WHEN}: all 0.3 kWh bought {at_price}"
    assert told(bru.owner) == f"Energy market, {WHEN}: nothing bought of 0.3 kWh {at_price}"
    assert Notification.objects.filter(kind="solar.cleared").count() == 7


@pytest.mark.parametrize(
    ("bid", "ask", "price"),
    [
        ("0.1002", "0.1001", "0.1002"),  # 0.10015: half to even, up to 2
        ("0.1003", "0.1000", "0.1002"),  # 0.10015 again
        ("0.1003", "0.1002", "0.1002"),  # 0.10025: half to even, stays at 2 (half-up would say 0.1003)
        ("0.1005", "0.1000", "0.1002"),  # 0.10025 again
        ("0.1007", "0.1000", "0.1004"),  # 0.10035: half to even, up to 4
        ("0.2500", "0.2500", "0.2500"),  # the same limit on both sides
        ("0.0001", "0", "0"),  # 0.00005: half to even, down to 0
    ],
)
def test_the_clearing_price_is_the_midpoint_rounded_half_even_to_four_places(panels, home, bid, ask, price):
    place(panels, "sell", 300, ask)
    place(home, "buy", 300, bid, at=OPEN + timedelta(seconds=1))

    slot = clear()

    assert slot.clearing_price == Decimal(price)
    assert Trade.objects.get().price == Decimal(price)


def test_nothing_trades_when_the_best_buy_is_below_the_best_sell(panels, home, producer, buyer):
    sell = place(panels, "sell", 300, "0.20")
    buy = place(home, "buy", 500, "0.1999", at=OPEN + timedelta(seconds=1))

    slot = clear()

    assert (slot.status, slot.clearing_price, slot.volume_wh) == (Slot.Status.CLEARED, None, 0)
    assert (slot.buy_orders, slot.sell_orders) == (1, 1)
    assert not Trade.objects.exists()
    for order in (sell, buy):
        order.refresh_from_db()
        assert (order.status, order.filled_wh) == (Order.Status.UNFILLED, 0)
    assert told(producer) == f"Energy market, {WHEN}: nothing sold of 0.3 kWh."
    assert told(buyer) == f"Energy market, {WHEN}: nothing bought of 0.5 kWh."


def test_a_slot_with_only_sellers_clears_with_nothing_traded(panels):
    place(panels, "sell", 300, "0.20")

    slot = clear()

    assert (slot.status, slot.clearing_price, slot.volume_wh) == (Slot.Status.CLEARED, None, 0)
    assert Order.objects.get().status == Order.Status.UNFILLED


def test_equal_prices_fill_in_the_order_they_were_placed(community, home):
    sellers = [trader(community, f"Seller {i}", Meter.Kind.PRODUCER) for i in range(3)]
    # Placed 10:00:02, 10:00:00, 10:00:01: the middle seller came first.
    late = place(sellers[0], "sell", 300, "0.20", at=OPEN + timedelta(seconds=2))
    early = place(sellers[1], "sell", 300, "0.20", at=OPEN)
    middle = place(sellers[2], "sell", 300, "0.20", at=OPEN + timedelta(seconds=1))
    place(home, "buy", 500, "0.30", at=OPEN + timedelta(seconds=3))

    clear()

    assert list(Trade.objects.order_by("seq").values_list("sell_order", "quantity_wh")) == [
        (early.pk, 300),
        (middle.pk, 200),
    ]
    late.refresh_from_db()
    assert late.status == Order.Status.UNFILLED


def test_orders_placed_at_the_same_moment_fill_in_the_order_they_were_recorded(community, home):
    sellers = [trader(community, f"Seller {i}", Meter.Kind.PRODUCER) for i in range(3)]
    orders = [place(meter, "sell", 200, "0.20", at=OPEN) for meter in sellers]
    place(home, "buy", 300, "0.30", at=OPEN)

    clear()

    assert list(Trade.objects.order_by("seq").values_list("sell_order", "quantity_wh")) == [
        (orders[0].pk, 200),
        (orders[1].pk, 100),
    ]


def test_a_member_with_an_order_on_one_side_of_a_slot_cannot_order_on_the_other(community, home):
    """Their own buy and sell would trade with each other (and the payment from their
    account to itself would be refused at settlement)."""
    both = trader(community, "Bo Both", Meter.Kind.BOTH)
    sell = place(both, "sell", 300, "0.10")

    refusal = refused(lambda: place(both, "buy", 300, "0.30", at=OPEN + timedelta(seconds=1)), "own_order")

    assert "you can't trade with yourself" in str(refusal)
    place(both, "sell", 200, "0.15", at=OPEN + timedelta(seconds=2))  # more on the same side is fine
    place(home, "buy", 300, "0.20", at=OPEN + timedelta(seconds=3))
    clear()
    assert list(Trade.objects.values_list("seller", "buyer", "sell_order")) == [(both.owner_id, home.owner_id, sell.pk)]
    assert not Trade.objects.filter(buyer=F("seller")).exists()


def test_once_the_other_side_is_cancelled_the_member_may_order_on_this_side(community):
    both = trader(community, "Bo Both", Meter.Kind.BOTH)
    sell = place(both, "sell", 300, "0.10")
    services.order_cancel(order=sell, actor=both.owner, now=OPEN + timedelta(minutes=1))

    place(both, "buy", 300, "0.30", at=OPEN + timedelta(minutes=2))

    assert Order.objects.filter(status=Order.Status.OPEN, side="buy").count() == 1


def test_a_slot_is_cleared_once_and_not_before_gate_closure(panels, home):
    place(panels, "sell", 300, "0.20")
    place(home, "buy", 300, "0.30")
    slot = Slot.objects.get()

    assert services.slot_clear(slot_id=slot.pk, now=GATE - timedelta(seconds=1)) is False
    assert Slot.objects.get().status == Slot.Status.OPEN
    assert services.slot_clear(slot_id=slot.pk, now=GATE) is True
    assert services.slot_clear(slot_id=slot.pk, now=GATE) is False

    assert Trade.objects.count() == 1
    assert list(slot.events.values_list("source", "target", "actor")) == [("open", "cleared", None)]


# --- the clearing's queries -------------------------------------------------------------------
def _book(community, start: datetime, size: int, traders: list[Meter]) -> Slot:
    """``size`` orders (half buys, half sells at prices that cross) from ``traders``,
    written straight into the book as placed orders."""
    slot = Slot.objects.create(community=community, start=start)
    Order.objects.bulk_create(
        Order(
            slot=slot,
            member=traders[i % len(traders)].owner,
            meter=traders[i % len(traders)],
            side="buy" if i % 2 else "sell",
            quantity_wh=10 + i % 7,
            limit_price=Decimal("0.20") + Decimal(i % 13) / 100,
            created_at=OPEN,
            priority_at=OPEN + timedelta(milliseconds=i),
        )
        for i in range(size)
    )
    return slot


def _kinds(statements: list[str]) -> list[str]:
    """Each statement as its kind and table ('INSERT solar_trade'), repeats in a row
    folded into one: what a batch of the same statement is."""
    kinds = []
    for sql in statements:
        verb = sql.split()[0].upper()
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
        kind = f"{verb} {table.group(1) if table else ''}".strip()
        if not kinds or kinds[-1] != kind:
            kinds.append(kind)
    return kinds


def _clearing_queries(community, sizes: tuple[int, ...]) -> list[tuple[int, list[str]]]:
    traders = [trader(community, f"Trader {i}") for i in range(20)]
    ContentType.objects.get_for_model(Slot)  # warm the content-type cache both runs use
    counted = []
    for n, size in enumerate(sizes):
        slot = _book(community, START + n * timedelta(minutes=15), size, traders)
        counted.append(count_queries(lambda slot=slot: services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)))
        slot.refresh_from_db()
        assert slot.status == Slot.Status.CLEARED and slot.volume_wh > 0
    return counted


def test_clearing_a_thousand_orders_runs_the_same_statements_as_clearing_ten(community):
    """No statement per order or per trader: only the batching of bulk writes may differ
    (SQLite takes at most 999 values in one statement)."""
    (_, few_sql), (_, many_sql) = _clearing_queries(community, (10, 1000))

    assert _kinds(few_sql) == _kinds(many_sql)
    assert Trade.objects.filter(slot__start=START + timedelta(minutes=15)).count() > 400


@pytest.mark.postgres
def test_clearing_a_thousand_orders_takes_as_many_queries_as_ten(community):
    (few, few_sql), (many, many_sql) = _clearing_queries(community, (10, 1000))

    assert few == many, "\n".join(few_sql) + "\n---\n" + "\n".join(many_sql)
    assert many <= 15


def test_the_books_time_rules_use_the_slots_own_gate(panels):
    """A slot at 00:00 local time closes at 23:55 the day before (local dates do not matter)."""
    midnight = datetime.combine(date(2026, 6, 23), time(0, 0), tzinfo=AMSTERDAM)
    refused(
        lambda: place(panels, "sell", 100, "0.2", start=midnight, at=midnight - timedelta(minutes=5)), "gate_closed"
    )
    place(panels, "sell", 100, "0.2", start=midnight, at=midnight - timedelta(minutes=5, seconds=1))

    assert Slot.objects.get().start == datetime(2026, 6, 22, 22, 0, tzinfo=UTC)
