"""One slot from orders to payment, through the services: the market's spine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.ledger.chain import verify_community
from apps.notifications.models import Notification
from apps.solar import services
from apps.solar.factories import next_slot_start
from apps.solar.models import MeterReading, Order, Slot, Trade, TradingDay
from apps.solar.services import Row
from p2pcommons.humanize import format_when_short

from .conftest import balance


def test_a_slot_clears_at_one_price_and_settles_what_the_meters_measured(
    community, producer, buyer, buyer2, panels, home, home2, django_capture_on_commit_callbacks
):
    now = timezone.now()
    start = next_slot_start(now)
    sell = services.order_place(
        member=producer,
        meter=panels,
        slot_start=start,
        side="sell",
        quantity_wh=800,
        limit_price=Decimal("0.20"),
        now=now,
    )
    services.order_place(
        member=buyer, meter=home, slot_start=start, side="buy", quantity_wh=500, limit_price=Decimal("0.30"), now=now
    )
    services.order_place(
        member=buyer2, meter=home2, slot_start=start, side="buy", quantity_wh=500, limit_price=Decimal("0.26"), now=now
    )
    slot = Slot.objects.get(community=community, start=start)

    assert services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=6)) is False  # gate still open
    after_gate = start - timedelta(minutes=4)
    with django_capture_on_commit_callbacks(execute=True):  # the traders are told after the commit
        assert services.slot_clear(slot_id=slot.pk, now=after_gate) is True
    assert services.slot_clear(slot_id=slot.pk, now=after_gate) is False  # once
    slot.refresh_from_db()
    assert slot.status == Slot.Status.CLEARED
    assert slot.clearing_price == Decimal("0.2300")  # (0.20 + 0.26) / 2
    assert slot.volume_wh == 800
    trades = list(Trade.objects.filter(slot=slot).order_by("seq"))
    assert [(t.buyer_id, t.quantity_wh) for t in trades] == [(buyer.pk, 500), (buyer2.pk, 300)]
    sell.refresh_from_db()
    assert (sell.status, sell.filled_wh) == (Order.Status.FILLED, 800)
    told = Notification.objects.get(kind="solar.cleared", recipient=buyer2).text
    assert "0.3 kWh of 0.5 kWh bought at 0.23 credits per kWh" in told

    # The panels exported 700 Wh (100 short); both homes imported enough.
    after = start + timedelta(minutes=20)
    services.readings_record(
        meter=panels, rows=[Row(start, 0, 700)], source=MeterReading.Source.FORM, actor=producer, now=after
    )
    services.readings_record(
        meter=home, rows=[Row(start, 600, 0)], source=MeterReading.Source.FORM, actor=buyer, now=after
    )
    assert services.slot_settle(slot_id=slot.pk, now=after) is False  # one reading still missing
    services.readings_record(
        meter=home2, rows=[Row(start, 400, 0)], source=MeterReading.Source.FORM, actor=buyer2, now=after
    )
    assert services.slot_settle(slot_id=slot.pk, now=after) is True
    assert services.slot_settle(slot_id=slot.pk, now=after) is False
    trades = list(Trade.objects.filter(slot=slot).order_by("seq"))
    assert [t.delivered_wh for t in trades] == [500, 200]
    assert [t.amount for t in trades] == [Decimal("0.12"), Decimal("0.05")]  # 0.115 -> 0.12 half-even; 0.046
    assert balance(producer, community) == Decimal("0.17")
    assert balance(buyer, community) == Decimal("-0.12")
    assert TradingDay.objects.filter(seller=producer).count() == 2
    assert verify_community(community=community).ok


def test_a_member_cannot_buy_and_sell_in_one_quarter_hour_so_never_trades_with_themselves(community, producer):
    from apps.solar.factories import MeterFactory
    from p2pcommons.errors import RuleViolation

    both = MeterFactory(owner=producer, community=community, kind="both")
    now = timezone.now()
    start = next_slot_start(now)
    services.order_place(member=producer, meter=both, slot_start=start, side="sell", quantity_wh=300,
                         limit_price="0.10", now=now)  # fmt: skip

    try:
        services.order_place(member=producer, meter=both, slot_start=start, side="buy", quantity_wh=300,
                             limit_price="0.30", now=now)  # fmt: skip
    except RuleViolation as refusal:
        assert refusal.code == "own_order"
        assert "you can't trade with yourself" in str(refusal)
    else:
        raise AssertionError("a member bought in a quarter hour they sell in")
    later = next_slot_start(now, ahead=3)
    services.order_place(member=producer, meter=both, slot_start=later, side="buy", quantity_wh=300,
                         limit_price="0.30", now=now)  # fmt: skip
    assert list(Order.objects.filter(member=producer).values_list("side", flat=True).order_by("pk")) == ["sell", "buy"]


def test_traders_are_told_once_and_the_sweep_tells_them_if_the_task_was_lost(community, producer, buyer, panels, home):
    from apps.solar import tasks

    now = timezone.now()
    start = next_slot_start(now)
    services.order_place(member=producer, meter=panels, slot_start=start, side="sell", quantity_wh=500,
                         limit_price="0.20", now=now)  # fmt: skip
    services.order_place(member=buyer, meter=home, slot_start=start, side="buy", quantity_wh=300,
                         limit_price="0.30", now=now)  # fmt: skip
    slot = Slot.objects.get(start=start)
    services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))  # its on-commit task never ran
    assert not Notification.objects.filter(kind="solar.cleared").exists()

    tasks.clear_due_slots()  # the one-minute sweep

    assert sorted(Notification.objects.filter(kind="solar.cleared").values_list("recipient__email", "text")) == [
        ("ben@example.org", f"Energy market, {format_when_short(start)}: all 0.3 kWh bought at 0.25 credits per kWh."),
        (
            "pia@example.org",
            f"Energy market, {format_when_short(start)}: 0.3 kWh of 0.5 kWh sold at 0.25 credits per kWh.",
        ),
    ]
    assert services.slot_tell_traders(slot_id=slot.pk) == 0
    assert Notification.objects.filter(kind="solar.cleared").count() == 2
