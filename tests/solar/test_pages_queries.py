"""The energy market's list pages cost a fixed number of queries, however many rows they
show (tests/querycount.py): the market, my orders, my trades, my meters and a meter's
page with its readings and tokens."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import SLOT, Meter, MeterReading, Order, Slot, StandingOrder, Trade
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def counted(client, url: str):
    """The page's request, after one visit that fills the process-wide caches (content
    types), so only the page's own queries are counted."""
    client.get(url)
    return lambda: client.get(url)


def _trade(slot: Slot, seller, buyer, sell_meter, buy_meter, *, seq: int = 1) -> Trade:
    sell = Order.objects.create(
        slot=slot, member=seller, meter=sell_meter, side="sell", quantity_wh=300, limit_price=Decimal("0.2"),
        status=Order.Status.FILLED, filled_wh=300,
    )  # fmt: skip
    buy = Order.objects.create(
        slot=slot, member=buyer, meter=buy_meter, side="buy", quantity_wh=300, limit_price=Decimal("0.3"),
        status=Order.Status.FILLED, filled_wh=300,
    )  # fmt: skip
    return Trade.objects.create(
        slot=slot, seq=seq, buy_order=buy, sell_order=sell, buyer=buyer, seller=seller, quantity_wh=300,
        price=Decimal("0.25"), status=Trade.Status.SETTLED, delivered_wh=300, amount=Decimal("0.08"),
        settled_at=slot.start + SLOT,
    )  # fmt: skip


@pytest.fixture
def past_slots(community):
    """Cleared quarter hours of the last 24 hours, a new one on each call."""
    base = next_slot_start(timezone.now()) - 2 * SLOT
    n = count(1)

    def make() -> Slot:
        start = base - SLOT * next(n)
        return Slot.objects.create(
            community=community, start=start, status=Slot.Status.SETTLED, clearing_price=Decimal("0.25"),
            volume_wh=300, buy_orders=1, sell_orders=1, cleared_at=start - timedelta(minutes=5),
        )  # fmt: skip

    return make


def test_the_market_page_costs_the_same_for_1_and_30_slots_and_trades(
    web_as, producer, buyer, panels, home, past_slots, community
):
    client = web_as(producer)
    ahead = count(2)

    def add(n: int) -> None:
        for _ in range(n):
            # An upcoming quarter hour with an order in it, and a past one with a trade.
            services.order_place(
                member=producer, meter=panels, slot_start=next_slot_start(timezone.now(), ahead=next(ahead)),
                side="sell", quantity_wh=100, limit_price=Decimal("0.2"),
            )  # fmt: skip
            _trade(past_slots(), producer, buyer, panels, home)

    # session, user, notification count, my communities, my meters, the open quarter hours
    # with their order counts, the next one's book, the last 24 hours, my energy per day.
    assert assert_queries_do_not_grow(counted(client, reverse("solar:market")), add, large=30) == 9


def test_my_orders_page_costs_the_same_for_1_and_30_orders(web_as, producer, panels):
    client = web_as(producer)
    ahead = count(2)

    def add(n: int) -> None:
        for _ in range(n):
            services.order_place(
                member=producer, meter=panels, slot_start=next_slot_start(timezone.now(), ahead=next(ahead)),
                side="sell", quantity_wh=100, limit_price=Decimal("0.2"),
            )  # fmt: skip
            StandingOrder.objects.create(
                member=producer, meter=panels, side="sell", quantity_wh=100, limit_price=Decimal("0.2"),
                from_time="10:00", until_time="12:00",
            )  # fmt: skip

    # session, user, notification count, count(*) and a page of orders with their quarter
    # hours and meters, the standing orders with their meters, whether I have a meter.
    assert assert_queries_do_not_grow(counted(client, reverse("solar:orders")), add, large=30) == 7


def test_my_trades_page_costs_the_same_for_1_and_30_trades(web_as, producer, buyer, panels, home, past_slots):
    client = web_as(producer)

    def add(n: int) -> None:
        for _ in range(n):
            _trade(past_slots(), producer, buyer, panels, home)

    # session, user, notification count, count(*), a page of trades with both parties' profiles.
    assert assert_queries_do_not_grow(counted(client, reverse("solar:trades")), add, large=30) == 5


def test_my_meters_page_costs_the_same_for_1_and_10_meters(web_as, producer, community):
    client = web_as(producer)

    def add(n: int) -> None:
        for _ in range(n):
            meter = MeterFactory(owner=producer, community=community, kind=Meter.Kind.PRODUCER)
            MeterReading.objects.create(
                meter=meter, interval_start=next_slot_start(timezone.now()) - 4 * SLOT, imported_wh=0,
                exported_wh=10, source="form",
            )  # fmt: skip

    # session, user, notification count, my meters with their communities and latest readings.
    assert assert_queries_do_not_grow(counted(client, reverse("solar:meters")), add, large=10) == 4


def test_a_meters_page_costs_the_same_for_1_and_30_readings_and_tokens(web_as, producer, panels):
    client = web_as(producer)
    back = count(3)

    def add(n: int) -> None:
        for _ in range(n):
            MeterReading.objects.create(
                meter=panels, interval_start=next_slot_start(timezone.now()) - SLOT * next(back), imported_wh=1,
                exported_wh=10, source="form",
            )  # fmt: skip
            services.device_token_create(meter=panels, actor=producer, label="Pi")
            panels.device_tokens.update(revoked_at=timezone.now())  # at most 5 live tokens per meter

    # session, user, notification count, the meter, its last 24 hours, count(*) and a page
    # of readings, its tokens.
    assert assert_queries_do_not_grow(counted(client, reverse("solar:meter", args=[panels.pk])), add) == 8
