"""Races in the solar market, run for real with threads on PostgreSQL (separate
connections, committed transactions): each is settled by a row lock or a conditional
update, never by luck.

The standard book of the 12:00 slot (Monday 22 June 2026, Amsterdam; 10:00 UTC): Pia's
panels sell 600 Wh at 0.20; Ben bids 400 Wh at 0.30, Cleo 300 Wh at 0.24: two trades,
400 Wh and 200 Wh at 0.22 credits per kWh.

Readings are recorded before the slot is cleared: in these committed tests a reading
that completes a cleared slot would settle it at once (its task runs eagerly on commit).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Currency, Transfer
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.solar import services
from apps.solar.factories import MeterFactory
from apps.solar.models import MeterReading, Order, Slot, SlotEvent, Trade
from apps.solar.services import Recorded, Row
from apps.solar.services import readings as readings_module
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

from .conftest import balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
OPEN = START - timedelta(hours=1)
GATE = START - timedelta(minutes=5)
OVER = START + timedelta(minutes=20)
QUARTER = timedelta(minutes=15)


def place(meter, side: str, wh: int, price: str, *, start: datetime = START, at: datetime = OPEN):
    return services.order_place(
        member=meter.owner,
        meter=meter,
        slot_start=start,
        side=side,
        quantity_wh=wh,
        limit_price=Decimal(price),
        now=at,
    )


def standard_book(panels, home, home2, *, start: datetime = START) -> Slot:
    place(panels, "sell", 600, "0.20", start=start)
    place(home, "buy", 400, "0.30", start=start, at=OPEN + timedelta(seconds=1))
    place(home2, "buy", 300, "0.24", start=start, at=OPEN + timedelta(seconds=2))
    return Slot.objects.get(start=start)


def read(meter, imported: int, exported: int, *, actor="owner", correct: bool = False, start: datetime = START):
    return services.readings_record(
        meter=meter,
        rows=[Row(start, imported, exported)],
        source=MeterReading.Source.FORM,
        actor=meter.owner if actor == "owner" else actor,
        correct=correct,
        now=start + timedelta(minutes=20),
    )


def credit_sum(community) -> Decimal:
    return sum(
        Account.objects.filter(community=community, currency=Currency.CREDIT).values_list("balance", flat=True),
        Decimal(0),
    )


def test_one_slot_cleared_by_six_workers_at_once_and_retried_has_one_set_of_trades(
    producer, buyer, buyer2, panels, home, home2
):
    slot = standard_book(panels, home, home2)

    results = run_together(*[lambda: services.slot_clear(slot_id=slot.pk, now=GATE)] * 6)

    assert sorted(results) == [False] * 5 + [True], results
    assert services.slot_clear(slot_id=slot.pk, now=GATE + timedelta(minutes=1)) is False  # a retried task
    slot.refresh_from_db()
    assert (slot.status, slot.clearing_price, slot.volume_wh) == (Slot.Status.CLEARED, Decimal("0.2200"), 600)
    assert list(Trade.objects.order_by("seq").values_list("seq", "buyer", "quantity_wh")) == [
        (1, buyer.pk, 400),
        (2, buyer2.pk, 200),
    ]
    assert sorted(Order.objects.values_list("filled_wh", flat=True)) == [200, 400, 600]
    assert SlotEvent.objects.filter(slot=slot).count() == 1
    assert sorted(Notification.objects.filter(kind="solar.cleared").values_list("recipient", flat=True)) == sorted(
        [producer.pk, buyer.pk, buyer2.pk]
    )


def test_one_slot_settled_by_six_workers_at_once_and_retried_pays_each_trade_once(
    community, producer, buyer, buyer2, panels, home, home2
):
    slot = standard_book(panels, home, home2)
    read(panels, 0, 600)
    read(home, 450, 0)
    read(home2, 250, 0)
    assert services.slot_clear(slot_id=slot.pk, now=GATE)

    results = run_together(*[lambda: services.slot_settle(slot_id=slot.pk, now=OVER)] * 6)

    assert sorted(results) == [False] * 5 + [True], results
    assert services.slot_settle(slot_id=slot.pk, now=OVER + timedelta(hours=3)) is False
    trades = list(Trade.objects.order_by("seq"))
    assert [(t.status, t.delivered_wh, t.amount) for t in trades] == [
        (Trade.Status.SETTLED, 400, Decimal("0.09")),
        (Trade.Status.SETTLED, 200, Decimal("0.04")),
    ]
    assert Transfer.objects.count() == 2
    for trade in trades:
        assert list(Transfer.objects.filter(idempotency_key=f"solar-trade-{trade.pk}")) == [trade.transfer]
    assert (balance(producer, community), balance(buyer, community), balance(buyer2, community)) == (
        Decimal("0.13"),
        Decimal("-0.09"),
        Decimal("-0.04"),
    )
    assert credit_sum(community) == 0
    assert verify_community(community=community).ok


def test_two_sells_at_once_that_together_exceed_the_meters_capacity_one_is_refused(panels):
    # The panels pass 1,000 Wh a quarter hour; the slot does not exist yet either.
    results = run_together(*[lambda: place(panels, "sell", 600, "0.20")] * 2)

    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(placed) == 1 and len(refused) == 1, results
    assert (refused[0].code, refused[0].data) == ("over_capacity", {"available_wh": 400})
    assert list(Order.objects.values_list("quantity_wh", flat=True)) == [600]
    assert Slot.objects.count() == 1


def test_six_sells_at_once_fill_the_meters_capacity_and_no_more(panels):
    results = run_together(*[lambda: place(panels, "sell", 300, "0.20")] * 6)

    assert sum(isinstance(r, Order) for r in results) == 3, results
    assert all(r.code == "over_capacity" for r in results if not isinstance(r, Order)), results
    assert sum(Order.objects.values_list("quantity_wh", flat=True)) == 900


def test_a_members_buy_and_sell_in_one_slot_at_once_one_is_refused(community):
    both = MeterFactory(owner=MembershipFactory(community=community).user, community=community, kind="both")

    results = run_together(lambda: place(both, "sell", 300, "0.10"), lambda: place(both, "buy", 300, "0.30"))

    assert sum(isinstance(r, Order) for r in results) == 1, results
    assert [r.code for r in results if isinstance(r, RuleViolation)] == ["own_order"], results
    assert Order.objects.count() == 1


def test_an_order_placed_as_its_slot_clears_is_in_the_clearing_or_refused_never_left_open(
    community, panels, home, home2
):
    outcomes = []
    for round_ in range(8):
        start = START + round_ * QUARTER
        place(panels, "sell", 600, "0.20", start=start)
        place(home, "buy", 300, "0.30", start=start)
        slot = Slot.objects.get(start=start)

        late, _ = run_together(
            lambda start=start: place(
                home2, "buy", 200, "0.25", start=start, at=start - timedelta(minutes=5, seconds=1)
            ),
            lambda slot=slot: services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at),
        )

        slot.refresh_from_db()
        assert slot.status == Slot.Status.CLEARED
        assert not Order.objects.filter(slot=slot, status=Order.Status.OPEN).exists()
        if isinstance(late, Order):
            late.refresh_from_db()
            assert (late.status, late.filled_wh) == (Order.Status.FILLED, 200)
            assert (slot.buy_orders, slot.volume_wh) == (2, 500)
            outcomes.append("cleared")
        else:
            assert isinstance(late, RuleViolation) and late.code == "gate_closed", late
            assert (slot.buy_orders, slot.volume_wh) == (1, 300)
            outcomes.append("refused")
    assert len(outcomes) == 8


def test_an_order_cancelled_as_its_slot_clears_is_either_cancelled_and_out_or_refused_and_in(buyer, panels, home):
    for round_ in range(8):
        start = START + round_ * QUARTER
        place(panels, "sell", 600, "0.20", start=start)
        order = place(home, "buy", 300, "0.30", start=start)
        slot = order.slot

        cancel, _ = run_together(
            lambda order=order, slot=slot: services.order_cancel(
                order=order, actor=buyer, now=slot.gate_closes_at - timedelta(seconds=1)
            ),
            lambda slot=slot: services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at),
        )

        order.refresh_from_db()
        traded = Trade.objects.filter(buy_order=order).exists()
        if isinstance(cancel, Order):
            assert (order.status, traded) == (Order.Status.CANCELLED, False)
        else:
            assert isinstance(cancel, RuleViolation) and cancel.code == "gate_closed", cancel
            assert (order.status, traded) == (Order.Status.FILLED, True)


def test_two_readings_of_one_quarter_hour_with_different_values_at_once_one_wins_the_other_is_refused(buyer, home):
    for round_ in range(6):
        start = START + round_ * QUARTER
        results = run_together(
            lambda start=start: read(home, 300, 0, start=start),  # the owner, by hand
            lambda start=start: read(home, 280, 0, actor=None, start=start),  # the device
        )

        won = [r for r in results if isinstance(r, Recorded)]
        lost = [r for r in results if isinstance(r, ValidationError)]
        assert won == [Recorded(created=1, corrected=0, unchanged=0)] and len(lost) == 1, results
        assert "already recorded as" in lost[0].message_dict["readings"][0]
        reading = MeterReading.objects.get(meter=home, interval_start=start)
        winner = 0 if isinstance(results[0], Recorded) else 1
        assert reading.imported_wh == (300, 280)[winner]


def test_the_same_reading_sent_four_times_at_once_is_recorded_once(home):
    results = run_together(*[lambda: read(home, 300, 0, actor=None)] * 4)

    assert sorted(results, key=lambda r: r.created) == [
        Recorded(created=0, corrected=0, unchanged=1),
        Recorded(created=0, corrected=0, unchanged=1),
        Recorded(created=0, corrected=0, unchanged=1),
        Recorded(created=1, corrected=0, unchanged=0),
    ], results
    assert MeterReading.objects.count() == 1


def test_a_correction_racing_the_settlement_is_either_settled_on_or_refused(monkeypatch, buyer2, panels, home, home2):
    """Cleo corrects her reading (300 Wh in -> 100) while the slot settles. Her
    correction is held just before it commits (as a slow request would be) while the
    settlement runs: the payment must be on the reading that stays, whichever wins."""
    slot = standard_book(panels, home, home2)
    read(panels, 0, 600)
    read(home, 400, 0)
    read(home2, 300, 0)
    assert services.slot_clear(slot_id=slot.pk, now=GATE)

    written, go_on = threading.Event(), threading.Event()
    original = readings_module._settle_when_complete

    def held(meter, starts):
        written.set()
        go_on.wait(10)
        return original(meter, starts)

    monkeypatch.setattr(readings_module, "_settle_when_complete", held)
    outcome: dict[str, object] = {}

    def run(name, call):
        try:
            outcome[name] = call()
        except Exception as exc:  # the outcome is asserted below
            outcome[name] = exc
        finally:
            connection.close()

    correcting = threading.Thread(target=run, args=("correct", lambda: read(home2, 100, 0, actor=buyer2, correct=True)))
    settling = threading.Thread(target=run, args=("settle", lambda: services.slot_settle(slot_id=slot.pk, now=OVER)))
    correcting.start()
    assert written.wait(10), "the correction never reached its write"
    settling.start()
    settling.join(3)  # it may finish, or wait for the correction's locks
    go_on.set()
    correcting.join(30)
    settling.join(30)

    # The settlement ran, or (when the correction's own on-commit settling got there
    # first) found the slot settled: either way it settled once, without an error.
    assert outcome["settle"] in (True, False), outcome
    assert Transfer.objects.count() == 2
    slot.refresh_from_db()
    assert slot.status == Slot.Status.SETTLED
    cleo = MeterReading.objects.get(meter=home2, interval_start=START).imported_wh
    second = Trade.objects.get(slot=slot, seq=2)
    # Pia's 600 Wh out cover trade 2's 200 Wh: it delivered what Cleo's reading says, up to 200.
    assert second.delivered_wh == min(200, cleo), (outcome, cleo, second.delivered_wh)
