"""The solar API's orders and standing orders: placed, changed and cancelled until gate
closure, each refusal a 409 naming its rule, ``actions`` what the services allow."""

from __future__ import annotations

from datetime import UTC, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.peers.models import Membership
from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Order, StandingOrder, TradingSuspension
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/solar/orders/"
STANDING = "/api/v1/solar/standing-orders/"


def sell(meter, start=None, quantity=600, price="0.21") -> dict:
    start = start or next_slot_start(timezone.now(), ahead=2)
    return {
        "meter": meter.pk,
        "slot_start": start.isoformat(),
        "side": "sell",
        "quantity_wh": quantity,
        "limit_price": price,
    }


def placed(client, body) -> Order:
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def test_a_member_places_a_sell_order(api_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)

    response = api_as(producer).post(ORDERS, sell(panels, start), format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert (order.member, order.meter, order.side, order.quantity_wh, order.limit_price, order.status) == (
        producer,
        panels,
        "sell",
        600,
        Decimal("0.2100"),
        "open",
    )
    assert order.slot.start == start
    body = response.json()
    assert body["slot_start"] == start.astimezone(timezone.get_current_timezone()).isoformat()
    assert body["limit_price"] == "0.2100" and body["meter_name"] == "Roof panels"
    assert body["actions"] == ["change", "cancel"]


def test_an_order_after_gate_closure_is_refused(api_as, producer, panels):
    now = timezone.now().astimezone(UTC)
    started = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)

    response = api_as(producer).post(ORDERS, sell(panels, started), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "gate_closed"
    assert "5 minutes before it starts" in response.json()["detail"]
    assert not Order.objects.exists()


def test_an_offer_over_the_meters_capacity_says_how_much_is_left(api_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    client = api_as(producer)
    placed(client, sell(panels, start, quantity=700))

    response = client.post(ORDERS, sell(panels, start, quantity=400), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "over_capacity"
    assert response.json()["available_wh"] == 300  # 4,000 W pass 1,000 Wh a quarter hour
    assert Order.objects.count() == 1


def test_a_buyer_orders_only_what_their_credit_covers(api_as, buyer, home):
    body = {**sell(home, quantity=1_000_000, price="1"), "side": "buy"}

    response = api_as(buyer).post(ORDERS, body, format="json")

    assert response.status_code == 409 and response.json()["code"] == "insufficient_credit"
    assert not Order.objects.exists()


def test_a_suspended_trader_places_no_order(api_as, producer, organizer, panels, community):
    services.trading_suspend(community=community, member=producer, actor=organizer, reason="Readings made up")

    response = api_as(producer).post(ORDERS, sell(panels), format="json")

    assert response.status_code == 409 and response.json()["code"] == "suspended"
    assert "Readings made up" in response.json()["detail"]
    assert not Order.objects.exists()


def test_a_member_who_left_places_no_order(api_as, producer, panels):
    Membership.objects.filter(user=producer).delete()

    response = api_as(producer).post(ORDERS, sell(panels), format="json")

    assert response.status_code == 409 and response.json()["code"] == "not_member"


def test_an_order_needs_one_of_my_meters_and_clean_numbers(api_as, producer, home, panels):
    client = api_as(producer)

    others = client.post(ORDERS, sell(home), format="json")
    numbers = client.post(ORDERS, sell(panels, quantity=0, price="0.12345"), format="json")
    side = client.post(ORDERS, {**sell(panels), "side": "buy"}, format="json")

    assert others.status_code == 400 and others.json() == {"meter": ["No such meter of yours."]}
    assert numbers.status_code == 400 and set(numbers.json()) == {"quantity_wh", "limit_price"}
    assert side.status_code == 400
    assert side.json() == {"side": ["This meter only sells; use your home's meter to buy."]}
    assert not Order.objects.exists()


def test_the_member_changes_an_order_until_the_gate(api_as, producer, panels):
    client = api_as(producer)
    order = placed(client, sell(panels))

    response = client.post(f"{ORDERS}{order.pk}/change/", {"quantity_wh": 900, "limit_price": "0.25"}, format="json")

    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert (order.quantity_wh, order.limit_price, order.status) == (900, Decimal("0.2500"), "open")
    assert response.json()["quantity_wh"] == 900 and response.json()["actions"] == ["change", "cancel"]


def test_a_change_over_capacity_is_refused_and_nothing_changes(api_as, producer, panels):
    client = api_as(producer)
    order = placed(client, sell(panels))

    response = client.post(f"{ORDERS}{order.pk}/change/", {"quantity_wh": 1200}, format="json")

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["available_wh"]) == ("over_capacity", 1000)
    order.refresh_from_db()
    assert order.quantity_wh == 600


def test_the_member_cancels_an_order_until_the_gate(api_as, producer, panels):
    client = api_as(producer)
    order = placed(client, sell(panels))

    response = client.post(f"{ORDERS}{order.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["actions"] == []
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancelled_at is not None


def test_actions_list_exactly_what_the_service_allows_before_and_after_the_gate(api_as, producer, panels):
    client = api_as(producer)
    start = next_slot_start(timezone.now(), ahead=2)
    order = placed(client, sell(panels, start))
    assert client.get(f"{ORDERS}{order.pk}/").json()["actions"] == ["change", "cancel"]

    with time_machine.travel(start - timedelta(minutes=4), tick=False):
        listed = client.get(f"{ORDERS}{order.pk}/").json()["actions"]
        change = client.post(f"{ORDERS}{order.pk}/change/", {"quantity_wh": 500}, format="json")
        cancel = client.post(f"{ORDERS}{order.pk}/cancel/")

    assert listed == []
    assert (change.status_code, change.json()["code"]) == (409, "gate_closed")
    assert (cancel.status_code, cancel.json()["code"]) == (409, "gate_closed")
    order.refresh_from_db()
    assert (order.status, order.quantity_wh) == ("open", 600)


def test_another_members_order_is_not_found(api_as, producer, buyer, panels):
    order = placed(api_as(producer), sell(panels))
    client = api_as(buyer)

    assert client.get(f"{ORDERS}{order.pk}/").status_code == 404
    assert client.post(f"{ORDERS}{order.pk}/change/", {"quantity_wh": 1}, format="json").status_code == 404
    assert client.post(f"{ORDERS}{order.pk}/cancel/").status_code == 404
    order.refresh_from_db()
    assert (order.status, order.quantity_wh) == ("open", 600)


def test_my_orders_filter_by_status_and_side(api_as, producer, community):
    both = MeterFactory(owner=producer, community=community, kind="both", peak_capacity_w=4000)
    client = api_as(producer)
    sold = placed(client, sell(both))
    later = next_slot_start(timezone.now(), ahead=3)
    bought = placed(client, {**sell(both, start=later, quantity=100, price="0.1"), "side": "buy"})
    client.post(f"{ORDERS}{sold.pk}/cancel/")

    assert [o["id"] for o in client.get(ORDERS, {"side": "buy"}).json()["results"]] == [bought.pk]
    assert [o["id"] for o in client.get(ORDERS, {"status": "cancelled"}).json()["results"]] == [sold.pk]
    assert client.get(ORDERS, {"status": "lost"}).status_code == 400


def test_the_order_list_costs_the_same_for_many_orders(api_as, producer, panels):
    client = api_as(producer)
    made = []

    def add(n):
        for _ in range(n):
            made.append(1)
            start = next_slot_start(timezone.now(), ahead=len(made) + 1)
            services.order_place(
                member=producer, meter=panels, slot_start=start, side="sell", quantity_wh=10, limit_price="0.2"
            )

    assert_queries_do_not_grow(lambda: client.get(ORDERS), add)


# --- standing orders -------------------------------------------------------------------
def standing(meter, **changes) -> dict:
    return {
        "meter": meter.pk,
        "side": "sell",
        "quantity_wh": 500,
        "limit_price": "0.18",
        "from_time": "10:00",
        "until_time": "16:00",
        **changes,
    }


def test_a_member_makes_a_standing_order_and_steps_it(api_as, producer, panels):
    client = api_as(producer)

    made = client.post(STANDING, standing(panels), format="json")

    assert made.status_code == 201, made.json()
    row = StandingOrder.objects.get()
    assert (row.member, row.meter, row.quantity_wh, row.from_time, row.until_time, row.status) == (
        producer,
        panels,
        500,
        time(10),
        time(16),
        "active",
    )
    assert made.json()["actions"] == ["pause", "end"]
    paused = client.post(f"{STANDING}{row.pk}/pause/").json()
    assert paused["status"] == "paused" and paused["actions"] == ["resume", "end"]
    resumed = client.post(f"{STANDING}{row.pk}/resume/").json()
    assert resumed["status"] == "active"
    ended = client.post(f"{STANDING}{row.pk}/end/").json()
    assert ended["status"] == "ended" and ended["actions"] == []
    row.refresh_from_db()
    assert row.status == StandingOrder.Status.ENDED
    again = client.post(f"{STANDING}{row.pk}/resume/")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")


def test_a_standing_order_is_checked_like_an_order(api_as, producer, panels):
    client = api_as(producer)

    hours = client.post(STANDING, standing(panels, from_time="16:00", until_time="10:00"), format="json")
    capacity = client.post(STANDING, standing(panels, quantity_wh=2000), format="json")

    assert hours.status_code == 400 and hours.json() == {
        "until_time": ["The end comes after the start, on the same day."]
    }
    assert capacity.status_code == 409
    assert (capacity.json()["code"], capacity.json()["available_wh"]) == ("over_capacity", 1000)
    assert not StandingOrder.objects.exists()


def test_another_members_standing_order_is_not_found(api_as, producer, buyer, panels):
    row = services.standing_create(
        member=producer,
        meter=panels,
        side="sell",
        quantity_wh=100,
        limit_price="0.2",
        from_time=time(10),
        until_time=time(12),
    )

    assert api_as(buyer).get(f"{STANDING}{row.pk}/").status_code == 404
    assert api_as(buyer).post(f"{STANDING}{row.pk}/end/").status_code == 404
    assert api_as(buyer).get(STANDING).json()["results"] == []
    row.refresh_from_db()
    assert row.status == "active"


def test_the_standing_order_list_costs_the_same_for_many(api_as, producer, panels):
    client = api_as(producer)

    def add(n):
        for _ in range(n):
            StandingOrder.objects.create(
                member=producer,
                meter=panels,
                side="sell",
                quantity_wh=10,
                limit_price="0.1",
                from_time=time(9),
                until_time=time(17),
            )

    assert_queries_do_not_grow(lambda: client.get(STANDING), add)


def test_a_suspension_is_told_on_the_standing_order_too(api_as, producer, organizer, panels, community):
    TradingSuspension.objects.create(community=community, member=producer, reason="Checking", created_by=organizer)

    response = api_as(producer).post(STANDING, standing(panels), format="json")

    assert response.status_code == 409 and response.json()["code"] == "suspended"
