"""Settlement, through the services, on fixed books and readings.

The meters' readings decide what each trade delivered: a seller's export is shared over
its trades in trade order, a buyer's import likewise, and a trade delivered the smaller
of its two shares. The buyer pays that at the clearing price, to the cent (half-even),
once per trade through the ledger. A slot settles when every trading meter has a reading,
or at its deadline (two hours after it ends) with what arrived.

The standard book of the 12:00 slot (Monday 22 June 2026, Amsterdam; 10:00 UTC):
Pia's panels sell 600 Wh at 0.20; Ben bids 400 Wh at 0.30, Cleo 300 Wh at 0.24. Ben's
bid fills first (trade 1: 400 Wh), then Cleo's takes the 200 Wh left (trade 2); the
price is (0.24 + 0.20) / 2 = 0.22 credits per kWh.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Currency, Transfer
from apps.ledger.services import account_for, transfer_create
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from apps.solar import selectors, services
from apps.solar.factories import MeterFactory
from apps.solar.models import Meter, MeterReading, Order, Slot, SlotEvent, Trade, TradingDay
from apps.solar.services import Row
from p2pcommons.errors import RuleViolation

from .conftest import balance

START = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # Monday 22 June 2026, 12:00 in Amsterdam
OVER = START + timedelta(minutes=20)  # the readings are in
WHEN = "Mon 22 Jun, 12:00"


def cleared(*book: tuple[Meter, str, int, str], start: datetime = START) -> Slot:
    """Place the book's orders in that order, an hour ahead, and clear the slot."""
    for i, (meter, side, wh, price) in enumerate(book):
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=start,
            side=side,
            quantity_wh=wh,
            limit_price=Decimal(price),
            now=start - timedelta(hours=1) + timedelta(seconds=i),
        )
    slot = Slot.objects.get(start=start)
    assert services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at) is True
    slot.refresh_from_db()
    return slot


def standard(panels, home, home2) -> Slot:
    slot = cleared((panels, "sell", 600, "0.20"), (home, "buy", 400, "0.30"), (home2, "buy", 300, "0.24"))
    assert slot.clearing_price == Decimal("0.2200")
    assert list(Trade.objects.order_by("seq").values_list("buyer", "quantity_wh")) == [
        (home.owner_id, 400),
        (home2.owner_id, 200),
    ]
    return slot


def read(meter: Meter, imported: int, exported: int, *, start: datetime = START, correct: bool = False) -> None:
    services.readings_record(
        meter=meter,
        rows=[Row(start, imported, exported)],
        source=MeterReading.Source.FORM,
        actor=meter.owner,
        correct=correct,
        now=start + timedelta(minutes=20),
    )


def settle(slot: Slot, now: datetime = OVER) -> bool:
    return services.slot_settle(slot_id=slot.pk, now=now)


def trades(slot: Slot) -> list[Trade]:
    return list(Trade.objects.filter(slot=slot).order_by("seq"))


def delivered(slot: Slot) -> list[int | None]:
    return [t.delivered_wh for t in trades(slot)]


def amounts(slot: Slot) -> list[Decimal | None]:
    return [t.amount for t in trades(slot)]


def credit_sum(community) -> Decimal:
    """Summed in Python: SQLite sums decimals as floats."""
    balances = Account.objects.filter(community=community, currency=Currency.CREDIT).values_list("balance", flat=True)
    return sum(balances, Decimal(0))


def told(user) -> str:
    return Notification.objects.get(recipient=user, kind="solar.settled").text


def producer_with_panels(community, name: str = "Paco Panels") -> Meter:
    user = MembershipFactory(community=community, user__profile__display_name=name).user
    return MeterFactory(
        owner=user, community=community, name="Shed roof", kind=Meter.Kind.PRODUCER, peak_capacity_w=4000
    )


# --- what was delivered -------------------------------------------------------------------------
def test_full_delivery_pays_each_trade_at_the_clearing_price_once(
    community, producer, buyer, buyer2, panels, home, home2
):
    slot = standard(panels, home, home2)
    read(panels, 0, 600)
    read(home, 450, 0)
    read(home2, 250, 0)

    assert settle(slot) is True

    slot.refresh_from_db()
    assert (slot.status, slot.settled_at) == (Slot.Status.SETTLED, OVER)
    assert delivered(slot) == [400, 200]
    # 400 Wh x 0.22 / 1000 = 0.088 -> 0.09; 200 Wh x 0.22 / 1000 = 0.044 -> 0.04
    assert amounts(slot) == [Decimal("0.09"), Decimal("0.04")]
    assert {(t.status, t.settled_at) for t in trades(slot)} == {(Trade.Status.SETTLED, OVER)}
    for trade in trades(slot):
        transfer = Transfer.objects.get(idempotency_key=f"solar-trade-{trade.pk}")
        assert trade.transfer == transfer
        assert (transfer.source.owner, transfer.target.owner, transfer.amount) == (trade.buyer, producer, trade.amount)
        assert transfer.kind == Transfer.Kind.EXCHANGE
    assert Transfer.objects.count() == 2
    assert (balance(producer, community), balance(buyer, community), balance(buyer2, community)) == (
        Decimal("0.13"),
        Decimal("-0.09"),
        Decimal("-0.04"),
    )
    assert credit_sum(community) == 0
    assert verify_community(community=community).ok
    assert told(producer) == (
        f"Energy settled, {WHEN}: delivered 0.4 kWh, earned 0.09 credits; delivered 0.2 kWh, earned 0.04 credits."
    )
    assert told(buyer) == f"Energy settled, {WHEN}: received 0.4 kWh, paid 0.09 credits."
    assert told(buyer2) == f"Energy settled, {WHEN}: received 0.2 kWh, paid 0.04 credits."

    assert settle(slot, now=OVER + timedelta(hours=3)) is False  # once
    assert Transfer.objects.count() == 2
    assert balance(producer, community) == Decimal("0.13")


def test_a_seller_short_of_what_it_sold_delivers_to_its_trades_in_trade_order(
    community, producer, buyer, buyer2, panels, home, home2
):
    slot = standard(panels, home, home2)
    read(panels, 0, 450)  # 150 Wh short of the 600 sold
    read(home, 450, 0)
    read(home2, 250, 0)

    settle(slot)

    assert delivered(slot) == [400, 50]  # trade 1 first, in full; trade 2 the 50 Wh left
    assert amounts(slot) == [Decimal("0.09"), Decimal("0.01")]  # 0.088; 0.011
    assert balance(producer, community) == Decimal("0.10")
    assert credit_sum(community) == 0


def test_a_buyer_short_of_what_it_bought_takes_from_its_trades_in_trade_order(community, buyer, panels, home):
    paco = producer_with_panels(community)
    slot = cleared((panels, "sell", 400, "0.18"), (paco, "sell", 300, "0.20"), (home, "buy", 700, "0.30"))
    assert slot.clearing_price == Decimal("0.2500")  # (0.30 + 0.20) / 2
    assert [(t.seller, t.quantity_wh) for t in trades(slot)] == [(panels.owner, 400), (paco.owner, 300)]
    read(panels, 0, 400)
    read(paco, 0, 300)
    read(home, 500, 0)  # 200 Wh short of the 700 bought

    settle(slot)

    assert delivered(slot) == [400, 100]
    assert amounts(slot) == [Decimal("0.10"), Decimal("0.02")]  # 0.100; 0.025 -> 0.02 (half-even)
    assert balance(buyer, community) == Decimal("-0.12")
    assert (balance(panels.owner, community), balance(paco.owner, community)) == (Decimal("0.10"), Decimal("0.02"))


def test_when_both_sides_are_short_a_trade_delivers_the_smaller_share(community, panels, home, home2):
    slot = standard(panels, home, home2)
    read(panels, 0, 500)  # shares: trade 1 400, trade 2 100
    read(home, 300, 0)  # trade 1: 300 of its 400
    read(home2, 250, 0)  # trade 2: 200 of its 200

    settle(slot)

    assert delivered(slot) == [300, 100]
    assert amounts(slot) == [Decimal("0.07"), Decimal("0.02")]  # 0.066; 0.022
    assert credit_sum(community) == 0


def test_a_payment_is_the_delivered_energy_at_the_clearing_price_rounded_half_even_to_the_cent(
    community, producer, panels, home, home2
):
    slot = cleared((panels, "sell", 1000, "0.25"), (home, "buy", 500, "0.25"), (home2, "buy", 300, "0.25"))
    read(panels, 0, 1000)
    read(home, 500, 0)
    read(home2, 300, 0)

    settle(slot)

    # 500 x 0.25 / 1000 = 0.125 -> 0.12 (half-up would say 0.13); 300 x 0.25 / 1000 = 0.075 -> 0.08
    assert amounts(slot) == [Decimal("0.12"), Decimal("0.08")]
    assert balance(producer, community) == Decimal("0.20")


def test_a_payment_that_rounds_to_nothing_moves_nothing(community, producer, buyer, panels, home):
    slot = cleared((panels, "sell", 25, "0.20"), (home, "buy", 25, "0.20"))
    read(panels, 0, 25)
    read(home, 25, 0)

    assert settle(slot) is True

    trade = Trade.objects.get()
    # 25 Wh x 0.20 / 1000 = 0.005 -> 0.00 (half-even)
    assert (trade.status, trade.delivered_wh, trade.amount, trade.transfer) == (
        Trade.Status.SETTLED,
        25,
        Decimal("0.00"),
        None,
    )
    assert not Transfer.objects.exists()
    assert (balance(producer, community), balance(buyer, community)) == (0, 0)


# --- when it settles ------------------------------------------------------------------------------
def test_a_slot_does_not_settle_before_it_ends(panels, home, home2):
    slot = standard(panels, home, home2)

    assert settle(slot, now=START + timedelta(minutes=14, seconds=59)) is False
    assert Slot.objects.get().status == Slot.Status.CLEARED


def test_with_a_reading_missing_nothing_settles_before_the_deadline_and_at_it_the_meter_counts_as_nothing(
    community, producer, buyer, buyer2, panels, home, home2
):
    slot = standard(panels, home, home2)
    read(panels, 0, 600)
    read(home, 450, 0)  # Cleo's reading never comes
    assert slot.settle_deadline == START + timedelta(minutes=15, hours=2)

    assert settle(slot, now=OVER) is False
    assert settle(slot, now=slot.settle_deadline - timedelta(seconds=1)) is False
    assert Slot.objects.get().status == Slot.Status.CLEARED
    assert not Transfer.objects.exists()

    assert settle(slot, now=slot.settle_deadline) is True

    assert delivered(slot) == [400, 0]
    assert amounts(slot) == [Decimal("0.09"), Decimal("0.00")]
    assert [t.status for t in trades(slot)] == [Trade.Status.SETTLED, Trade.Status.SETTLED]
    assert trades(slot)[1].transfer is None
    assert (balance(producer, community), balance(buyer, community), balance(buyer2, community)) == (
        Decimal("0.09"),
        Decimal("-0.09"),
        0,
    )
    assert told(buyer2) == f"Energy settled, {WHEN}: nothing measured, nothing paid."
    assert (
        told(producer)
        == f"Energy settled, {WHEN}: delivered 0.4 kWh, earned 0.09 credits; nothing measured, nothing paid."
    )


def test_a_reading_corrected_before_settlement_is_the_one_that_settles(panels, home, home2):
    slot = standard(panels, home, home2)
    read(panels, 0, 600)
    read(home, 450, 0)
    read(home2, 100, 0)
    read(home2, 300, 0, correct=True)  # Cleo typed 100 by mistake

    settle(slot)

    assert delivered(slot) == [400, 200]


def test_readings_of_a_settled_slot_no_longer_change(community, producer, panels, home, home2):
    slot = standard(panels, home, home2)
    read(panels, 0, 450)
    read(home, 450, 0)
    read(home2, 250, 0)
    settle(slot)

    with pytest.raises(ValidationError) as caught:
        read(panels, 0, 600, correct=True)

    assert caught.value.message_dict["readings"] == [
        f"Row 1 ({WHEN}): this quarter hour is settled; its reading can't change."
    ]
    assert MeterReading.objects.get(meter=panels).exported_wh == 450
    assert delivered(slot) == [400, 50]
    assert balance(producer, community) == Decimal("0.10")


def test_a_slot_in_which_nothing_traded_settles_once_it_is_over(panels, home):
    slot = cleared((panels, "sell", 300, "0.30"), (home, "buy", 300, "0.20"))
    assert slot.volume_wh == 0

    assert settle(slot, now=START + timedelta(minutes=15)) is True

    assert Slot.objects.get().status == Slot.Status.SETTLED
    assert not Transfer.objects.exists()
    assert not Notification.objects.filter(kind="solar.settled").exists()


# --- who pays -------------------------------------------------------------------------------------
def test_a_buyer_who_can_no_longer_pay_leaves_the_trade_unpaid_with_why_and_the_rest_settles(
    community, producer, buyer, buyer2, member, panels, home, home2
):
    slot = standard(panels, home, home2)
    # Between the clearing and the settlement Cleo gives away all she can: -50 is her limit.
    transfer_create(
        source=account_for(user=buyer2, community=community, currency=Currency.CREDIT),
        target=account_for(user=member, community=community, currency=Currency.CREDIT),
        amount=Decimal("50"),
        idempotency_key="cleo-gives-max",
        kind=Transfer.Kind.GIFT,
    )
    read(panels, 0, 600)
    read(home, 450, 0)
    read(home2, 250, 0)

    assert settle(slot) is True

    first, second = trades(slot)
    assert (first.status, first.amount, first.transfer is not None) == (Trade.Status.SETTLED, Decimal("0.09"), True)
    assert (second.status, second.delivered_wh, second.amount, second.transfer) == (
        Trade.Status.UNPAID,
        200,
        Decimal("0.04"),
        None,
    )
    assert second.note == (
        "That would take the balance to -50.04 credits, below its limit of -50 credits. "
        "At most 0 credits can be sent now."
    )
    assert Slot.objects.get().status == Slot.Status.SETTLED
    assert (balance(producer, community), balance(buyer, community), balance(buyer2, community)) == (
        Decimal("0.09"),
        Decimal("-0.09"),
        Decimal("-50"),
    )
    assert list(TradingDay.objects.values_list("seller", "buyer")) == [(producer.pk, buyer.pk)]
    assert told(buyer2).startswith(f"Energy settled, {WHEN}: your payment for 0.2 kWh was refused (That would take")
    assert told(producer) == (
        f"Energy settled, {WHEN}: delivered 0.4 kWh, earned 0.09 credits; 0.2 kWh delivered but not paid."
    )
    assert credit_sum(community) == 0
    assert verify_community(community=community).ok


def test_a_buyer_suspended_since_the_clearing_still_pays_for_what_they_received(
    community, producer, buyer, panels, home
):
    slot = cleared((panels, "sell", 400, "0.20"), (home, "buy", 400, "0.30"))
    Membership.objects.filter(user=buyer, community=community).update(status=Membership.Status.SUSPENDED)
    read(panels, 0, 400)
    read(home, 400, 0)

    settle(slot)

    trade = Trade.objects.get()
    assert (trade.status, trade.amount) == (Trade.Status.SETTLED, Decimal("0.10"))
    assert balance(producer, community) == Decimal("0.10")


# --- what reputation and the seller's record count -------------------------------------------------
def test_a_pair_of_neighbors_has_one_trading_day_however_many_slots_they_trade_in(
    community, producer, buyer, panels, home
):
    # 12:00 and 12:15 on Monday, and 00:00 on Tuesday in Amsterdam (22:00 UTC on Monday).
    starts = [START, START + timedelta(minutes=15), datetime(2026, 6, 22, 22, 0, tzinfo=UTC)]
    for start, wh in zip(starts, (400, 300, 200), strict=True):
        slot = cleared((panels, "sell", wh, "0.20"), (home, "buy", wh, "0.30"), start=start)
        read(panels, 0, wh, start=start)
        read(home, wh, 0, start=start)
        assert settle(slot, now=start + timedelta(minutes=20))

    days = list(TradingDay.objects.order_by("day").values_list("seller", "buyer", "day", "delivered_wh", "amount"))
    assert days == [
        (producer.pk, buyer.pk, date(2026, 6, 22), 700, Decimal("0.18")),  # 0.10 + 0.08 (0.075 -> 0.08)
        (producer.pk, buyer.pk, date(2026, 6, 23), 200, Decimal("0.05")),
    ]
    first = TradingDay.objects.get(day=date(2026, 6, 22))
    assert first.completed_at == START + timedelta(minutes=20)
    assert first.community == community


def test_a_trade_that_delivered_nothing_makes_no_trading_day(panels, home):
    slot = cleared((panels, "sell", 400, "0.20"), (home, "buy", 400, "0.30"))
    read(panels, 0, 0)  # cloudy
    read(home, 400, 0)

    settle(slot)

    assert Trade.objects.get().delivered_wh == 0
    assert not TradingDay.objects.exists()


def test_a_sellers_reliability_is_what_they_delivered_of_what_they_sold_over_30_days(
    community, producer, buyer, panels, home
):
    now = START + timedelta(days=1)
    books = [
        (START - timedelta(days=31), 500, 0),  # too long ago to count
        (START, 600, 450),
        (START + timedelta(minutes=15), 400, 400),
    ]
    for start, sold, exported in books:
        slot = cleared((panels, "sell", sold, "0.20"), (home, "buy", sold, "0.30"), start=start)
        read(panels, 0, exported, start=start)
        read(home, sold, 0, start=start)
        settle(slot, now=start + timedelta(minutes=20))
    cleared(
        (panels, "sell", 300, "0.20"), (home, "buy", 300, "0.30"), start=START + timedelta(minutes=30)
    )  # not settled

    assert selectors.reliability(seller=producer, now=now) == Decimal("0.85")  # (450 + 400) / (600 + 400)
    assert selectors.reliability(seller=buyer, now=now) is None  # sold nothing


# --- a cancelled slot -----------------------------------------------------------------------------
def test_an_organizer_cancels_a_cleared_slot_and_nothing_of_it_settles_or_is_paid(
    community, organizer, producer, buyer, buyer2, panels, home, home2
):
    slot = standard(panels, home, home2)
    read(panels, 0, 600)
    read(home, 450, 0)

    services.slot_cancel(slot=slot, actor=organizer, reason="The street's feeder failed.", now=OVER)
    read(home2, 250, 0)

    assert settle(slot, now=slot.settle_deadline) is False
    slot.refresh_from_db()
    assert (slot.status, slot.cancelled_at) == (Slot.Status.CANCELLED, OVER)
    assert {(t.status, t.note, t.transfer) for t in trades(slot)} == {
        (Trade.Status.VOID, "The street's feeder failed.", None)
    }
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.VOID}
    assert not Transfer.objects.exists()
    assert not TradingDay.objects.exists()
    event = SlotEvent.objects.get(target=Slot.Status.CANCELLED)
    assert (event.actor, event.source, event.note) == (organizer, Slot.Status.CLEARED, "The street's feeder failed.")
    text = f"The organizers cancelled the energy market slot {WHEN}: The street's feeder failed."
    for person in (producer, buyer, buyer2):
        assert Notification.objects.filter(recipient=person, text=text).count() == 1


def test_a_member_who_does_not_organize_cannot_cancel_a_slot(producer, panels, home, home2):
    slot = standard(panels, home, home2)

    with pytest.raises(RuleViolation) as caught:
        services.slot_cancel(slot=slot, actor=producer, reason="I changed my mind.", now=OVER)

    assert caught.value.code == "forbidden"
    assert Slot.objects.get().status == Slot.Status.CLEARED
    assert set(Trade.objects.values_list("status", flat=True)) == {Trade.Status.CLEARED}


def test_cancelling_a_slot_needs_a_reason_and_a_settled_slot_stays_settled(organizer, panels, home, home2):
    slot = standard(panels, home, home2)
    with pytest.raises(ValidationError) as caught:
        services.slot_cancel(slot=slot, actor=organizer, reason="  ", now=OVER)
    assert caught.value.message_dict == {"note": ["Say why, for the neighbors who traded in it."]}

    read(panels, 0, 600)
    read(home, 400, 0)
    read(home2, 200, 0)
    settle(slot)
    slot.refresh_from_db()

    with pytest.raises(RuleViolation) as caught:
        services.slot_cancel(slot=slot, actor=organizer, reason="Too late.", now=OVER)
    assert caught.value.code == "illegal_transition"
    assert set(Trade.objects.values_list("status", flat=True)) == {Trade.Status.SETTLED}
